//! Check failures: every reason the inputs are invalid, each tied to the property it concerns.

use crate::codec::PropertyPath;

/// One reason an input is invalid, tied to the property it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    pub property: PropertyPath,
    pub reason: String,
}

/// Collects every failure of a Check, so the user sees them all at once.
#[derive(Default, Debug)]
pub struct Failures(Vec<CheckFailure>);

impl Failures {
    pub fn add(&mut self, property: PropertyPath, reason: impl Into<String>) {
        self.0.push(CheckFailure {
            property,
            reason: reason.into(),
        });
    }

    /// Shorthand for a failure on a top-level property.
    pub fn at(&mut self, key: &str, reason: impl Into<String>) {
        self.add(PropertyPath::root().key(key), reason);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many failures so far: lets a check tell whether a part of the inputs added any.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn into_vec(self) -> Vec<CheckFailure> {
        self.0
    }

    pub fn extend(&mut self, more: Vec<CheckFailure>) {
        self.0.extend(more);
    }
}
