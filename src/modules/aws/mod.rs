//! The `aws/*` modules, in pulumi-aws v7 shapes and Python paths
//! (`pulumi_zerotrust.aws.acmpca.CertificateAuthority`, `pulumi_zerotrust.aws.route53.Record`).
//! Clients come from `client.rs`; every call goes through its retrying `call`.

pub mod acmpca;
pub mod client;
pub mod route53;

use crate::codec::PropertyPath;
use crate::modules::Registry;
use crate::typed::{Failures, Value};
use std::collections::BTreeMap;

pub fn register(registry: Registry) -> Registry {
    route53::register(acmpca::register(registry))
}

/// Tags to set (new or changed) and tag keys to remove, going from `old` to `new`.
pub fn tag_diff(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// Check a tag map against the rules every AWS service applies: AWS allows 50 tags, keys up to 128 and values up to 256 characters, and
/// reserves the `aws:` prefix.
pub fn check_tags(tags: Option<&Value<BTreeMap<String, String>>>, failures: &mut Failures) {
    let Some(Value::Known(tags)) = tags else {
        return;
    };
    let path = PropertyPath::root().key("tags");
    if tags.len() > 50 {
        failures.add(path.clone(), format!("at most 50 tags, got {}", tags.len()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") {
            failures.add(
                path.clone().key(k.as_str()),
                "tag keys have 1 to 128 characters and may not start with `aws:`",
            );
        }
        if v.chars().count() > 256 {
            failures.add(
                path.clone().key(k.as_str()),
                "tag values have at most 256 characters",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_diff_sets_changed_and_removes_dropped() {
        let old = BTreeMap::from([("a".to_string(), "1".to_string()), ("b".into(), "2".into())]);
        let new = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("c".into(), "3".into()),
            ("b".into(), "9".into()),
        ]);
        let (set, remove) = tag_diff(&old, &new);
        assert_eq!(
            set,
            BTreeMap::from([("b".to_string(), "9".to_string()), ("c".into(), "3".into())])
        );
        assert!(remove.is_empty());
        let (set, remove) = tag_diff(&new, &BTreeMap::new());
        assert!(set.is_empty());
        assert_eq!(remove, vec!["a".to_string(), "b".into(), "c".into()]);
    }
}
