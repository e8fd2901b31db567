//! `kubernetes/core/v1`: Namespace, Secret, ConfigMap.

use super::meta::ObjectMeta;
use super::object::{HasMeta, KubeKind};
use crate::codec::PropertyPath;
use crate::typed::{Failures, Secret, Value};
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

macro_rules! has_meta {
    ($t:ty) => {
        impl HasMeta for $t {
            fn meta(&self) -> Option<&Value<ObjectMeta>> {
                self.metadata.as_ref()
            }
            fn meta_mut(&mut self) -> &mut Option<Value<ObjectMeta>> {
                &mut self.metadata
            }
        }
    };
}

/// A Namespace.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceObject {
    /// Standard object metadata; `namespace` does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value<ObjectMeta>>,
}
has_meta!(NamespaceObject);

pub struct Namespace;

impl KubeKind for Namespace {
    type Object = NamespaceObject;
    const TOKEN: &'static str = "zerotrust:kubernetes/core/v1:Namespace";
    const DESCRIPTION: &'static str = "A Kubernetes Namespace, as pulumi-kubernetes `core/v1.Namespace`. Deleting it waits until the namespace controller has removed its contents and the Namespace is gone.";
    const API_VERSION: &'static str = "v1";
    const KIND: &'static str = "Namespace";
    const PLURAL: &'static str = "namespaces";
    const NAMESPACED: bool = false;
}

/// A Secret. `data` and `stringData` are secret in state and in every output.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretObject {
    /// Standard object metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value<ObjectMeta>>,
    /// The type of the Secret, e.g. `Opaque` or `kubernetes.io/tls` (which needs `tls.crt` and
    /// `tls.key`). Changing it replaces the Secret.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<Value<String>>,
    /// Secret data, each value base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value<Secret<BTreeMap<String, String>>>>,
    /// Secret data as plain strings; the server merges it into `data`. Write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_data: Option<Value<Secret<BTreeMap<String, String>>>>,
    /// If true, the data cannot be changed after creation: a change replaces the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<Value<bool>>,
}
has_meta!(SecretObject);

pub struct SecretKind;

/// Keys a typed Secret must carry, by type (from the Kubernetes API's rules).
fn required_keys(secret_type: &str) -> &'static [&'static [&'static str]] {
    match secret_type {
        "kubernetes.io/tls" => &[&["tls.crt"], &["tls.key"]],
        "kubernetes.io/dockerconfigjson" => &[&[".dockerconfigjson"]],
        "kubernetes.io/dockercfg" => &[&[".dockercfg"]],
        "kubernetes.io/basic-auth" => &[&["username", "password"]],
        "kubernetes.io/ssh-auth" => &[&["ssh-privatekey"]],
        _ => &[],
    }
}

fn is_data_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn known_map(
    v: &Option<Value<Secret<BTreeMap<String, String>>>>,
) -> Option<&BTreeMap<String, String>> {
    match v {
        Some(Value::Known(s)) => Some(s.expose()),
        _ => None,
    }
}

impl KubeKind for SecretKind {
    type Object = SecretObject;
    const TOKEN: &'static str = "zerotrust:kubernetes/core/v1:Secret";
    const DESCRIPTION: &'static str = "A Kubernetes Secret, as pulumi-kubernetes `core/v1.Secret`. `data` and `stringData` are always secret in Pulumi state and outputs. For a `kubernetes.io/tls` Secret, `tls.crt` and `tls.key` are required and must hold PEM.";
    const API_VERSION: &'static str = "v1";
    const KIND: &'static str = "Secret";
    const PLURAL: &'static str = "secrets";
    const NAMESPACED: bool = true;
    const WRITE_ONLY: &'static [&'static str] = &["stringData"];

    fn check_object(object: &mut SecretObject, failures: &mut Failures) {
        // Values are never quoted in failures: they are secret.
        let data = known_map(&object.data);
        for (k, v) in data.into_iter().flatten() {
            let at = PropertyPath::root().key("data").key(k.as_str());
            if !is_data_key(k) {
                failures.add(
                    at.clone(),
                    format!("'{k}' is not a valid key: letters, digits, '-', '_' or '.'"),
                );
            }
            if base64::engine::general_purpose::STANDARD.decode(v).is_err() {
                failures.add(
                    at,
                    "value is not valid base64 (use stringData for plain text)",
                );
            }
        }
        let string_data = known_map(&object.string_data);
        for k in string_data.into_iter().flatten().map(|(k, _)| k) {
            if !is_data_key(k) {
                failures.add(
                    PropertyPath::root().key("stringData").key(k.as_str()),
                    format!("'{k}' is not a valid key: letters, digits, '-', '_' or '.'"),
                );
            }
        }
        let Some(Value::Known(secret_type)) = &object.secret_type else {
            return;
        };
        // Only judge presence when both maps are known.
        let data_unknown = matches!(object.data, Some(Value::Unknown));
        let string_unknown = matches!(object.string_data, Some(Value::Unknown));
        if data_unknown || string_unknown {
            return;
        }
        let has = |key: &str| {
            data.is_some_and(|m| m.contains_key(key))
                || string_data.is_some_and(|m| m.contains_key(key))
        };
        for alternatives in required_keys(secret_type) {
            if !alternatives.iter().any(|k| has(k)) {
                failures.add(
                    PropertyPath::root().key("type"),
                    format!(
                        "a Secret of type {secret_type} needs the key {} in data or stringData",
                        alternatives.join(" or ")
                    ),
                );
            }
        }
        if secret_type == "kubernetes.io/tls" {
            for (key, expect) in [("tls.crt", "CERTIFICATE"), ("tls.key", "PRIVATE KEY")] {
                let text = string_data.and_then(|m| m.get(key)).cloned().or_else(|| {
                    data.and_then(|m| m.get(key))
                        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                        .and_then(|b| String::from_utf8(b).ok())
                });
                if let Some(text) = text
                    && (!text.contains("-----BEGIN") || !text.contains(expect))
                {
                    let field = if string_data.is_some_and(|m| m.contains_key(key)) {
                        "stringData"
                    } else {
                        "data"
                    };
                    failures.add(
                        PropertyPath::root().key(field).key(key),
                        format!("{key} must hold a PEM {expect}"),
                    );
                }
            }
        }
    }

    /// `stringData` is folded into `data` here, as pulumi-kubernetes does, rather than sent:
    /// the API server merges `stringData` into `data` itself, so our field manager would own
    /// `stringData` only, and a key the program drops would stay in `data` for good. Sent as
    /// `data`, every key is ours, and a dropped one is removed by the next apply. A key in both
    /// takes the `stringData` value, as the server would.
    fn shape_apply_body(body: &mut serde_json::Map<String, Json>) {
        let Some(Json::Object(strings)) = body.remove("stringData") else {
            return;
        };
        let data = body
            .entry("data")
            .or_insert_with(|| Json::Object(Default::default()));
        if !data.is_object() {
            *data = Json::Object(Default::default());
        }
        if let Json::Object(data) = data {
            for (key, value) in strings {
                if let Json::String(text) = value {
                    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                    data.insert(key, Json::String(encoded));
                }
            }
        }
    }

    fn replace_paths(old: &SecretObject, new: &SecretObject) -> Vec<PropertyPath> {
        let mut paths = Vec::new();
        if let (Some(Value::Known(a)), Some(Value::Known(b))) = (&old.secret_type, &new.secret_type)
            && a != b
        {
            paths.push(PropertyPath::root().key("type"));
        }
        if matches!(old.immutable, Some(Value::Known(true))) {
            if known_map(&old.data) != known_map(&new.data) {
                paths.push(PropertyPath::root().key("data"));
            }
            if known_map(&old.string_data) != known_map(&new.string_data)
                && new.string_data.is_some()
            {
                paths.push(PropertyPath::root().key("stringData"));
            }
        }
        paths
    }
}

/// A ConfigMap.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapObject {
    /// Standard object metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value<ObjectMeta>>,
    /// Configuration data as UTF-8 strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value<BTreeMap<String, String>>>,
    /// Binary configuration data, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_data: Option<Value<BTreeMap<String, String>>>,
    /// If true, the data cannot be changed after creation: a change replaces the ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<Value<bool>>,
}
has_meta!(ConfigMapObject);

pub struct ConfigMap;

impl KubeKind for ConfigMap {
    type Object = ConfigMapObject;
    const TOKEN: &'static str = "zerotrust:kubernetes/core/v1:ConfigMap";
    const DESCRIPTION: &'static str = "A Kubernetes ConfigMap, as pulumi-kubernetes `core/v1.ConfigMap`: for trust bundles and other non-secret configuration.";
    const API_VERSION: &'static str = "v1";
    const KIND: &'static str = "ConfigMap";
    const PLURAL: &'static str = "configmaps";
    const NAMESPACED: bool = true;

    fn check_object(object: &mut ConfigMapObject, failures: &mut Failures) {
        for (field, map) in [("data", &object.data), ("binaryData", &object.binary_data)] {
            if let Some(Value::Known(m)) = map {
                for (k, v) in m {
                    let at = PropertyPath::root().key(field).key(k.as_str());
                    if !is_data_key(k) {
                        failures.add(
                            at.clone(),
                            format!("'{k}' is not a valid key: letters, digits, '-', '_' or '.'"),
                        );
                    }
                    if field == "binaryData"
                        && base64::engine::general_purpose::STANDARD.decode(v).is_err()
                    {
                        failures.add(at, "value is not valid base64");
                    }
                }
            }
        }
    }

    fn replace_paths(old: &ConfigMapObject, new: &ConfigMapObject) -> Vec<PropertyPath> {
        if matches!(old.immutable, Some(Value::Known(true)))
            && (old.data != new.data || old.binary_data != new.binary_data)
        {
            return vec![PropertyPath::root().key("data")];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_secret(data: &[(&str, &str)]) -> SecretObject {
        SecretObject {
            secret_type: Some(Value::Known("kubernetes.io/tls".into())),
            string_data: Some(Value::Known(Secret::new(
                data.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))),
            ..Default::default()
        }
    }

    #[test]
    fn tls_secrets_need_both_pem_keys() {
        let mut f = Failures::default();
        SecretKind::check_object(
            &mut tls_secret(&[("tls.crt", "-----BEGIN CERTIFICATE-----")]),
            &mut f,
        );
        let failures = f.into_vec();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].reason.contains("tls.key"));

        let mut f = Failures::default();
        SecretKind::check_object(
            &mut tls_secret(&[
                ("tls.crt", "not pem"),
                ("tls.key", "-----BEGIN PRIVATE KEY-----"),
            ]),
            &mut f,
        );
        let failures = f.into_vec();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].property.to_string(), "stringData[\"tls.crt\"]");
        assert!(!failures[0].reason.contains("not pem"));
    }

    #[test]
    fn data_must_be_base64_and_keys_valid() {
        let mut s = SecretObject {
            data: Some(Value::Known(Secret::new(BTreeMap::from([
                ("ok".into(), "aGk=".into()),
                ("bad key".into(), "%%%".into()),
            ])))),
            ..Default::default()
        };
        let mut f = Failures::default();
        SecretKind::check_object(&mut s, &mut f);
        assert_eq!(f.into_vec().len(), 2);
    }

    #[test]
    fn type_change_and_immutable_data_change_replace() {
        let old = SecretObject {
            secret_type: Some(Value::Known("Opaque".into())),
            immutable: Some(Value::Known(true)),
            data: Some(Value::Known(Secret::new(BTreeMap::from([(
                "a".into(),
                "YQ==".into(),
            )])))),
            ..Default::default()
        };
        let new = SecretObject {
            secret_type: Some(Value::Known("kubernetes.io/tls".into())),
            immutable: Some(Value::Known(true)),
            data: Some(Value::Known(Secret::new(BTreeMap::from([(
                "a".into(),
                "Yg==".into(),
            )])))),
            ..Default::default()
        };
        let paths: Vec<String> = SecretKind::replace_paths(&old, &new)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(paths, vec!["type", "data"]);
    }

    #[test]
    fn string_data_is_sent_as_data_and_wins_over_it() {
        let mut body = serde_json::json!({
            "metadata": {"name": "creds"},
            "data": {"kept": "a2VwdA==", "both": "b2xk"},
            "stringData": {"both": "new", "plain": "p@ss word"},
        });
        let Json::Object(map) = &mut body else {
            unreachable!("the literal above is an object")
        };
        SecretKind::shape_apply_body(map);
        assert_eq!(
            body,
            serde_json::json!({
                "metadata": {"name": "creds"},
                "data": {"kept": "a2VwdA==", "both": "bmV3", "plain": "cEBzcyB3b3Jk"},
            })
        );

        // stringData alone makes data; a body without either is left alone.
        let mut only_strings = serde_json::Map::new();
        only_strings.insert("stringData".into(), serde_json::json!({"k": "v"}));
        SecretKind::shape_apply_body(&mut only_strings);
        assert_eq!(
            Json::Object(only_strings),
            serde_json::json!({"data": {"k": "dg=="}})
        );
        let mut neither = serde_json::Map::new();
        neither.insert("type".into(), Json::String("Opaque".into()));
        SecretKind::shape_apply_body(&mut neither);
        assert_eq!(Json::Object(neither), serde_json::json!({"type": "Opaque"}));
    }
}
