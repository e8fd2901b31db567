//! Property paths in Pulumi's grammar: `a.b`, `list[0]`, `m["key.with.dots"]`.
//!
//! Used by CheckFailure and DetailedDiff, which the engine and the CLI display verbatim.

use std::fmt;

/// One step of a property path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElem {
    Key(String),
    Index(usize),
}

/// A path from the root of a property map to a nested value.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PropertyPath(Vec<PathElem>);

impl PropertyPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut next = self.0.clone();
        next.push(PathElem::Key(key.into()));
        Self(next)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.0.clone();
        next.push(PathElem::Index(index));
        Self(next)
    }

    pub fn elems(&self) -> &[PathElem] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The top-level property name, which is what DiffResponse.diffs and replaces list.
    pub fn top_level_key(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathElem::Key(k)) => Some(k),
            _ => None,
        }
    }
}

/// A key can be written bare when it could not be mistaken for path syntax.
fn is_bare_key(key: &str) -> bool {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
}

impl fmt::Display for PropertyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, elem) in self.0.iter().enumerate() {
            match elem {
                PathElem::Index(n) => write!(f, "[{n}]")?,
                PathElem::Key(k) if is_bare_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathElem::Key(k) => {
                    let escaped = k.replace('\\', "\\\\").replace('"', "\\\"");
                    write!(f, "[\"{escaped}\"]")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_engine_grammar() {
        let p = PropertyPath::root().key("subject").key("commonName");
        assert_eq!(p.to_string(), "subject.commonName");
        let p = PropertyPath::root().key("dnsNames").index(2);
        assert_eq!(p.to_string(), "dnsNames[2]");
        let p = PropertyPath::root()
            .key("labels")
            .key("app.kubernetes.io/name");
        assert_eq!(p.to_string(), "labels[\"app.kubernetes.io/name\"]");
        let p = PropertyPath::root().key("a \"q\"");
        assert_eq!(p.to_string(), "[\"a \\\"q\\\"\"]");
        assert_eq!(p.top_level_key(), Some("a \"q\""));
        assert_eq!(PropertyPath::root().to_string(), "");
    }
}
