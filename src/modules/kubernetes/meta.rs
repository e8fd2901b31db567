//! `ObjectMeta` as pulumi-kubernetes shapes it, with name checks and auto-naming.

use crate::codec::PropertyPath;
use crate::typed::home_module;
use crate::typed::{Failures, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Standard object metadata. `name` may be omitted: the provider then generates one from the
/// resource's logical name plus a random suffix, which stays stable across updates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = home_module("kubernetes/meta/v1"))]
pub struct ObjectMeta {
    /// Name, unique within a namespace. Changing it replaces the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of a namespaced object (default: the provider's namespace, else `default`).
    /// Changing it replaces the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Map of string keys and values for organizing and selecting objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Map of string keys and values for arbitrary non-identifying metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Set by the server: the object's unique id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Set by the server: the version of the object, for optimistic concurrency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Set by the server: when the object was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Set by the server: the generation of the desired state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

/// RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric, ≤ 63.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: dot-separated labels, ≤ 253.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A label or annotation key: optional DNS-subdomain prefix and '/', then a name of
/// alphanumerics, '-', '_' and '.', starting and ending alphanumeric, ≤ 63.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    prefix.is_none_or(is_dns_subdomain) && is_label_value(name) && !name.is_empty()
}

/// A label value: empty, or ≤ 63 of alphanumerics, '-', '_', '.', starting and ending
/// alphanumeric.
pub fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && v.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
            && v.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric))
}

/// The generated name for a resource without `metadata.name`: its logical name, made a valid
/// label, plus 8 hex characters derived from the engine's random seed.
pub fn auto_name(logical: &str, seed: &[u8]) -> String {
    let mut base: String = logical
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    base.truncate(63 - 9);
    let base = base.trim_matches('-');
    let base = if base.is_empty() { "object" } else { base };
    let digest = Sha256::digest(seed);
    format!("{base}-{}", hex::encode(&digest[..4]))
}

/// Check and complete metadata: names valid, the namespace only on namespaced kinds, labels and
/// annotations well-formed, and a name generated when none is given (kept from `old_name` so
/// an update never renames).
pub fn check_metadata(
    meta: &mut Option<Value<ObjectMeta>>,
    namespaced: bool,
    logical_name: &str,
    seed: &[u8],
    old_name: Option<String>,
    failures: &mut Failures,
) {
    let at = PropertyPath::root().key("metadata");
    let meta = meta.get_or_insert_with(|| Value::Known(ObjectMeta::default()));
    let Value::Known(m) = meta else { return };
    match &m.name {
        None => m.name = Some(old_name.unwrap_or_else(|| auto_name(logical_name, seed))),
        Some(name) => {
            let valid = if namespaced {
                is_dns_subdomain(name)
            } else {
                is_dns_label(name)
            };
            if !valid {
                failures.add(
                    at.key("name"),
                    format!(
                        "'{name}' is not a valid name: use lower-case letters, digits and '-'{}, starting and ending with a letter or digit",
                        if namespaced { " (and '.')" } else { ", at most 63 characters" }
                    ),
                );
            }
        }
    }
    match (&m.namespace, namespaced) {
        (Some(ns), true) if !is_dns_label(ns) => {
            failures.add(
                at.key("namespace"),
                format!("'{ns}' is not a valid namespace name"),
            );
        }
        (Some(_), false) => {
            failures.add(
                at.key("namespace"),
                "this kind is not namespaced; remove metadata.namespace",
            );
        }
        _ => {}
    }
    for (field, map) in [("labels", &m.labels), ("annotations", &m.annotations)] {
        for (k, v) in map.iter().flatten() {
            let here = at.key(field).key(k.as_str());
            if !is_qualified_name(k) {
                failures.add(here.clone(), format!("'{k}' is not a valid key: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'"));
            }
            if field == "labels" && !is_label_value(v) {
                failures.add(here, format!("'{v}' is not a valid label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(is_dns_label("ml-prod"));
        assert!(!is_dns_label("ML"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("tls.ml-prod"));
        assert!(is_qualified_name("app.kubernetes.io/name"));
        assert!(!is_qualified_name("bad key"));
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
    }

    #[test]
    fn generated_names_are_stable_and_valid() {
        let a = auto_name("Feature_Store", b"seed");
        assert_eq!(a, auto_name("Feature_Store", b"seed"));
        assert_ne!(a, auto_name("Feature_Store", b"other"));
        assert!(a.starts_with("feature-store-") && is_dns_label(&a), "{a}");
    }

    #[test]
    fn metadata_checks_report_every_problem_and_fill_the_name() {
        let mut f = Failures::default();
        let mut meta = Some(Value::Known(ObjectMeta {
            name: Some("Bad_Name".into()),
            namespace: Some("ml".into()),
            labels: Some(BTreeMap::from([("bad key".into(), "-v".into())])),
            ..Default::default()
        }));
        check_metadata(&mut meta, false, "x", b"s", None, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "metadata.name",
                "metadata.namespace",
                "metadata.labels[\"bad key\"]",
                "metadata.labels[\"bad key\"]"
            ]
        );
        let mut f = Failures::default();
        let mut none = None;
        check_metadata(
            &mut none,
            true,
            "web",
            b"s",
            Some("web-1234abcd".into()),
            &mut f,
        );
        assert!(f.is_empty());
        assert_eq!(
            none.and_then(|m| m.into_known()).and_then(|m| m.name),
            Some("web-1234abcd".into())
        );
    }
}
