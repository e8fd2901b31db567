//! Provider configuration arrives native or as JSON text (stack config is always strings, and
//! SDKs JSON-encode non-string provider arguments). Normalise both to typed values by schema.

use super::CheckFailure;
use super::schema::ObjectSpec;
use crate::codec::{PropertyMap, PropertyPath, PropertyValue, decode_json_text};
use serde_json::Value as Json;

/// Turn JSON-text values of non-string properties into native values. `version`, which the
/// engine adds to provider inputs, is left alone.
pub fn normalize_config(map: &PropertyMap, spec: &ObjectSpec) -> (PropertyMap, Vec<CheckFailure>) {
    let mut out = PropertyMap::new();
    let mut failures = Vec::new();
    for (key, value) in map {
        let property = spec.properties.get(key);
        let declared = property.and_then(|p| p.get("type")).and_then(Json::as_str);
        // Object settings are declared by reference to a type, not by `type`.
        let is_object = property.is_some_and(|p| p.get("$ref").is_some());
        let wants_text = key == "version"
            || matches!(declared, Some("string"))
            || (declared.is_none() && !is_object);
        let (inner, secret) = match value {
            PropertyValue::Secret(inner) => (inner.as_ref(), true),
            other => (other, false),
        };
        let normalized = match inner {
            PropertyValue::String(text) if !wants_text => match decode_json_text(text) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(CheckFailure {
                        property: PropertyPath::root().key(key.as_str()),
                        reason: format!(
                            "expected {} (a value or its JSON text): {e}",
                            declared.unwrap_or("a value")
                        ),
                    });
                    continue;
                }
            },
            other => other.clone(),
        };
        out.insert(
            key.clone(),
            if secret {
                PropertyValue::secret(normalized)
            } else {
                normalized
            },
        );
    }
    (out, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> ObjectSpec {
        let mut properties = serde_json::Map::new();
        properties.insert("minutes".into(), json!({"type": "integer"}));
        properties.insert("name".into(), json!({"type": "string"}));
        properties.insert("flag".into(), json!({"type": "boolean"}));
        ObjectSpec {
            properties,
            ..Default::default()
        }
    }

    #[test]
    fn json_text_and_native_values_normalise_alike() {
        let text = PropertyMap::from([
            ("minutes".to_string(), PropertyValue::string("5")),
            (
                "flag".to_string(),
                PropertyValue::secret(PropertyValue::string("true")),
            ),
            ("name".to_string(), PropertyValue::string("42")),
            ("version".to_string(), PropertyValue::string("0.1.0")),
        ]);
        let (out, failures) = normalize_config(&text, &spec());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(out["minutes"], PropertyValue::Number(5.0));
        assert_eq!(
            out["flag"],
            PropertyValue::secret(PropertyValue::Bool(true))
        );
        // Plain strings are not JSON-quoted, so they stay as they are.
        assert_eq!(out["name"], PropertyValue::string("42"));
        assert_eq!(out["version"], PropertyValue::string("0.1.0"));
        let native = PropertyMap::from([("minutes".to_string(), PropertyValue::Number(5.0))]);
        assert_eq!(
            normalize_config(&native, &spec()).0["minutes"],
            PropertyValue::Number(5.0)
        );
    }

    #[test]
    fn bad_json_text_is_a_failure_with_the_key() {
        let bad = PropertyMap::from([("minutes".to_string(), PropertyValue::string("five"))]);
        let (_, failures) = normalize_config(&bad, &spec());
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].property.to_string(), "minutes");
    }
}
