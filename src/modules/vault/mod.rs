//! The `vault` and `vault/pkiSecret` modules, in pulumi-vault v7 shapes and Python paths
//! (`pulumi_zerotrust.vault.Mount`, `pulumi_zerotrust.vault.pkisecret.SecretBackendRole`), over
//! the HTTP API that Vault and OpenBao share.

pub mod client;
pub mod mount;
pub mod pki;

use crate::codec::PropertyPath;
use crate::modules::Registry;
use crate::typed::{Failures, Value};
use serde_json::{Map, Value as Json};

pub fn register(registry: Registry) -> Registry {
    pki::register(registry.resource(mount::Mount))
}

pub use super::backend::duration_seconds;

/// Report a bad duration at `key`.
pub fn check_duration(value: Option<&Value<String>>, key: &str, failures: &mut Failures) {
    if let Some(Value::Known(text)) = value
        && let Err(reason) = duration_seconds(text)
    {
        failures.at(key, reason);
    }
}

/// Report a known value outside `allowed` at `key`.
pub fn check_choice(
    value: Option<&Value<String>>,
    key: &str,
    allowed: &[&str],
    failures: &mut Failures,
) {
    if let Some(Value::Known(v)) = value
        && !allowed.contains(&v.as_str())
    {
        failures.add(
            PropertyPath::root().key(key),
            format!(
                "unknown value {v:?}; expected one of {}",
                allowed.join(", ")
            ),
        );
    }
}

/// Report a mount path Vault would refuse at `key`.
pub fn check_backend_path(value: &Value<String>, key: &str, failures: &mut Failures) {
    if let Value::Known(path) = value {
        let trimmed = path.trim_matches('/');
        if trimmed.is_empty() {
            failures.at(key, "must name a mount path, e.g. `pki`");
        } else if trimmed
            .split('/')
            .any(|seg| seg.is_empty() || seg == ".." || seg == ".")
        {
            failures.at(key, format!("{path:?} is not a valid mount path"));
        }
    }
}

/// A mount path without surrounding slashes, as Vault reports it.
pub fn clean_path(path: &str) -> String {
    path.trim_matches('/').to_string()
}

/// `camelCase` to Vault's `snake_case`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A Vault request body from a resource's inputs serialised as plain JSON: keys become
/// snake_case, keys in `skip` are left out, lists in `comma_joined` become the comma-separated
/// strings Vault expects for them (`alt_names`, `ip_sans`, ...), and nulls are dropped.
pub fn vault_body(inputs: &Json, skip: &[&str], comma_joined: &[&str]) -> Json {
    let mut body = Map::new();
    if let Some(map) = inputs.as_object() {
        for (key, value) in map {
            if skip.contains(&key.as_str()) || value.is_null() {
                continue;
            }
            let value = match value {
                Json::Array(items) if comma_joined.contains(&key.as_str()) => Json::String(
                    items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                other => other.clone(),
            };
            body.insert(snake_case(key), value);
        }
    }
    Json::Object(body)
}

/// A string field of Vault's answer.
pub fn text(data: &Json, key: &str) -> Option<String> {
    data.get(key).and_then(Json::as_str).map(str::to_string)
}

/// A list of strings from Vault's answer, which some fields give as a comma-separated string.
pub fn list(data: &Json, key: &str) -> Vec<String> {
    match data.get(key) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(Json::String(s)) if !s.is_empty() => {
            s.split(',').map(|p| p.trim().to_string()).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_snake_case_with_joined_lists() {
        let inputs = json!({
            "commonName": "a.example.com",
            "altNames": ["b.example.com", "c.example.com"],
            "allowedDomains": ["example.com"],
            "backend": "pki",
            "ttl": null,
        });
        let body = vault_body(&inputs, &["backend"], &["altNames"]);
        assert_eq!(
            body,
            json!({
                "common_name": "a.example.com",
                "alt_names": "b.example.com,c.example.com",
                "allowed_domains": ["example.com"],
            })
        );
    }

    #[test]
    fn mount_paths() {
        let mut f = Failures::default();
        check_backend_path(&Value::Known("pki".into()), "path", &mut f);
        check_backend_path(&Value::Known("team/pki".into()), "path", &mut f);
        assert!(f.is_empty());
        check_backend_path(&Value::Known("/".into()), "path", &mut f);
        check_backend_path(&Value::Known("a//b".into()), "path", &mut f);
        assert_eq!(f.into_vec().len(), 2);
        assert_eq!(clean_path("/pki/"), "pki");
    }

    #[test]
    fn lists_from_either_form() {
        let data = json!({"a": ["x", "y"], "b": "x,y", "c": ""});
        assert_eq!(list(&data, "a"), vec!["x", "y"]);
        assert_eq!(list(&data, "b"), vec!["x", "y"]);
        assert!(list(&data, "c").is_empty());
    }
}
