//! The structural diff of old and new inputs, with detailed paths, decided in one place.
//!
//! Pure: the engine may call Diff with inverted roles during refresh, so nothing here may
//! depend on anything but its arguments.

use crate::codec::{PropertyMap, PropertyPath, PropertyValue};
use std::collections::{BTreeMap, BTreeSet};

/// The kind of one detailed-diff entry (the engine's PropertyDiff.Kind without replace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub replace: bool,
}

/// The outcome of a diff.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffResult {
    /// Changed top-level keys.
    pub diffs: BTreeSet<String>,
    /// Top-level keys whose change forces replacement.
    pub replaces: BTreeSet<String>,
    /// Rendered path -> change.
    pub detailed: BTreeMap<String, Change>,
    /// The old resource must go before the new one is created (same name).
    pub delete_before_replace: bool,
}

impl DiffResult {
    pub fn has_changes(&self) -> bool {
        !self.diffs.is_empty()
    }

    /// Record a change at `path`, replacing if `replace`.
    pub fn record(&mut self, path: &PropertyPath, kind: ChangeKind, replace: bool) {
        let Some(top) = path.top_level_key() else {
            return;
        };
        self.diffs.insert(top.to_string());
        if replace {
            self.replaces.insert(top.to_string());
        }
        self.detailed
            .insert(path.to_string(), Change { kind, replace });
    }
}

/// Absent and null mean the same thing to a program.
fn present(v: Option<&PropertyValue>) -> Option<&PropertyValue> {
    match v {
        None | Some(PropertyValue::Null) => None,
        Some(PropertyValue::Secret(inner)) => present(Some(inner.as_ref())),
        other => other,
    }
}

/// Diff old inputs against new ones. `replace_keys` are the top-level properties that replace
/// on change; `ignore` holds top-level keys the user asked to ignore.
pub fn diff_inputs(
    olds: &PropertyMap,
    news: &PropertyMap,
    replace_keys: &BTreeSet<String>,
    ignore: &BTreeSet<String>,
) -> DiffResult {
    let mut result = DiffResult::default();
    let keys: BTreeSet<&String> = olds.keys().chain(news.keys()).collect();
    for key in keys {
        if key.starts_with("__") || ignore.contains(key.as_str()) {
            continue;
        }
        let replace = replace_keys.contains(key.as_str());
        diff_value(
            present(olds.get(key)),
            present(news.get(key)),
            &PropertyPath::root().key(key.as_str()),
            replace,
            &mut result,
        );
    }
    result
}

fn diff_value(
    old: Option<&PropertyValue>,
    new: Option<&PropertyValue>,
    at: &PropertyPath,
    replace: bool,
    out: &mut DiffResult,
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(_)) => out.record(at, ChangeKind::Add, replace),
        (Some(_), None) => out.record(at, ChangeKind::Delete, replace),
        // An unknown new value may change anything it covers.
        (Some(_), Some(PropertyValue::Unknown(_))) => out.record(at, ChangeKind::Update, replace),
        (Some(PropertyValue::Object(a)), Some(PropertyValue::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                diff_value(
                    present(a.get(k)),
                    present(b.get(k)),
                    &at.key(k.as_str()),
                    replace,
                    out,
                );
            }
        }
        (Some(PropertyValue::Array(a)), Some(PropertyValue::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                diff_value(
                    a.get(i).and_then(|v| present(Some(v))),
                    b.get(i).and_then(|v| present(Some(v))),
                    &at.index(i),
                    replace,
                    out,
                );
            }
        }
        (Some(a), Some(b)) => {
            if a.unsecret() != b.unsecret() {
                out.record(at, ChangeKind::Update, replace);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::UnknownKind;

    fn s(v: &str) -> PropertyValue {
        PropertyValue::string(v)
    }

    #[test]
    fn nested_changes_get_detailed_paths_and_top_level_keys() {
        let olds = PropertyMap::from([
            (
                "subject".to_string(),
                PropertyValue::Object(PropertyMap::from([("commonName".to_string(), s("a"))])),
            ),
            ("dnsNames".to_string(), PropertyValue::Array(vec![s("x")])),
            ("earlyRenewalHours".to_string(), PropertyValue::Number(1.0)),
        ]);
        let news = PropertyMap::from([
            (
                "subject".to_string(),
                PropertyValue::Object(PropertyMap::from([("commonName".to_string(), s("b"))])),
            ),
            (
                "dnsNames".to_string(),
                PropertyValue::Array(vec![s("x"), s("y")]),
            ),
            ("earlyRenewalHours".to_string(), PropertyValue::Number(2.0)),
        ]);
        let replace = BTreeSet::from(["subject".to_string(), "dnsNames".to_string()]);
        let d = diff_inputs(&olds, &news, &replace, &BTreeSet::new());
        assert_eq!(
            d.detailed.keys().cloned().collect::<Vec<_>>(),
            vec!["dnsNames[1]", "earlyRenewalHours", "subject.commonName"]
        );
        assert_eq!(d.detailed["dnsNames[1]"].kind, ChangeKind::Add);
        assert_eq!(
            d.replaces.iter().cloned().collect::<Vec<_>>(),
            vec!["dnsNames", "subject"]
        );
        assert!(!d.detailed["earlyRenewalHours"].replace);
    }

    #[test]
    fn secrets_null_and_absence_do_not_count_as_changes() {
        let olds = PropertyMap::from([
            ("key".to_string(), PropertyValue::secret(s("k"))),
            ("opt".to_string(), PropertyValue::Null),
        ]);
        let news = PropertyMap::from([("key".to_string(), s("k"))]);
        let d = diff_inputs(&olds, &news, &BTreeSet::new(), &BTreeSet::new());
        assert!(!d.has_changes(), "{d:?}");
    }

    #[test]
    fn unknown_new_values_are_changes_and_ignored_keys_are_skipped() {
        let olds = PropertyMap::from([("a".to_string(), s("1")), ("b".to_string(), s("1"))]);
        let news = PropertyMap::from([
            ("a".to_string(), PropertyValue::Unknown(UnknownKind::String)),
            ("b".to_string(), s("2")),
        ]);
        let d = diff_inputs(
            &olds,
            &news,
            &BTreeSet::from(["a".to_string()]),
            &BTreeSet::from(["b".to_string()]),
        );
        assert_eq!(d.diffs, BTreeSet::from(["a".to_string()]));
        assert!(d.detailed["a"].replace);
    }
}
