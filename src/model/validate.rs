//! Wire-type validation of inputs against the generated Pulumi property specs.
//!
//! Runs before serde so that every type error is reported at once, each with its full path,
//! instead of serde's first error only. Unknowns pass (they are checked again once known).

use super::CheckFailure;
use super::schema::{ObjectSpec, Types, referenced_type, type_fields};
use crate::codec::{PropertyMap, PropertyPath, PropertyValue};
use serde_json::{Map, Value as Json};

/// Validate a top-level property map against an object spec.
pub fn validate_object(map: &PropertyMap, spec: &ObjectSpec, types: &Types) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    check_object(
        map,
        &spec.properties,
        &spec.required,
        types,
        &PropertyPath::root(),
        &mut failures,
    );
    failures
}

fn fail(failures: &mut Vec<CheckFailure>, at: &PropertyPath, reason: String) {
    failures.push(CheckFailure {
        property: at.clone(),
        reason,
    });
}

fn check_object(
    map: &PropertyMap,
    properties: &Map<String, Json>,
    required: &[String],
    types: &Types,
    at: &PropertyPath,
    failures: &mut Vec<CheckFailure>,
) {
    for name in required {
        match map.get(name) {
            None | Some(PropertyValue::Null) => fail(
                failures,
                &at.key(name.as_str()),
                format!("missing required property '{name}'"),
            ),
            _ => {}
        }
    }
    for (name, value) in map {
        // Engine-internal keys (`__defaults`, ...) are not user input.
        if name.starts_with("__") {
            continue;
        }
        let here = at.key(name.as_str());
        match properties.get(name) {
            Some(spec) => check_value(value, spec, types, &here, failures),
            None => {
                let mut known: Vec<&str> = properties.keys().map(String::as_str).collect();
                known.sort_unstable();
                fail(
                    failures,
                    &here,
                    format!(
                        "unknown property '{name}'; expected one of: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

fn describe(v: &PropertyValue) -> &'static str {
    match v {
        PropertyValue::Null => "null",
        PropertyValue::Bool(_) => "a boolean",
        PropertyValue::Number(_) => "a number",
        PropertyValue::String(_) => "a string",
        PropertyValue::Array(_) => "a list",
        PropertyValue::Object(_) => "an object",
        PropertyValue::Secret(_) => "a secret",
        PropertyValue::Unknown(_) => "an unknown",
        PropertyValue::ResourceRef(_) => "a resource reference",
        PropertyValue::Asset(_) => "an asset",
        PropertyValue::Archive(_) => "an archive",
    }
}

/// Check one value against one property spec.
pub fn check_value(
    value: &PropertyValue,
    spec: &Json,
    types: &Types,
    at: &PropertyPath,
    failures: &mut Vec<CheckFailure>,
) {
    let value = match value {
        PropertyValue::Secret(inner) => inner.as_ref(),
        other => other,
    };
    if matches!(value, PropertyValue::Unknown(_) | PropertyValue::Null) {
        return;
    }
    if spec.get("$ref").is_some() {
        // pulumi.json#/Any and friends, or a type we do not have, accept anything.
        let Some(ty) = referenced_type(spec, types) else {
            return;
        };
        let PropertyValue::Object(map) = value else {
            fail(
                failures,
                at,
                format!("expected an object, got {}", describe(value)),
            );
            return;
        };
        let (props, required) = type_fields(ty);
        check_object(map, props, &required, types, at, failures);
        return;
    }
    match spec.get("type").and_then(Json::as_str) {
        Some("string")
            if !matches!(
                value,
                PropertyValue::String(_) | PropertyValue::ResourceRef(_)
            ) =>
        {
            fail(
                failures,
                at,
                format!("expected a string, got {}", describe(value)),
            );
        }
        Some("boolean") if !matches!(value, PropertyValue::Bool(_)) => {
            fail(
                failures,
                at,
                format!("expected a boolean, got {}", describe(value)),
            );
        }
        Some("number") if !matches!(value, PropertyValue::Number(n) if n.is_finite()) => {
            fail(
                failures,
                at,
                format!("expected a number, got {}", describe(value)),
            );
        }
        Some("integer") => match value {
            PropertyValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 => {}
            PropertyValue::Number(n) => fail(
                failures,
                at,
                format!("expected an integer, got {n} (not a whole number in range)"),
            ),
            other => fail(
                failures,
                at,
                format!("expected an integer, got {}", describe(other)),
            ),
        },
        Some("array") => {
            let PropertyValue::Array(items) = value else {
                fail(
                    failures,
                    at,
                    format!("expected a list, got {}", describe(value)),
                );
                return;
            };
            let item_spec = spec.get("items").cloned().unwrap_or(Json::Null);
            for (i, item) in items.iter().enumerate() {
                check_value(item, &item_spec, types, &at.index(i), failures);
            }
        }
        Some("object") => {
            let PropertyValue::Object(map) = value else {
                fail(
                    failures,
                    at,
                    format!("expected a map, got {}", describe(value)),
                );
                return;
            };
            let value_spec = spec
                .get("additionalProperties")
                .cloned()
                .unwrap_or(Json::Null);
            for (k, v) in map {
                check_value(v, &value_spec, types, &at.key(k.as_str()), failures);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::UnknownKind;
    use serde_json::json;

    fn spec() -> (ObjectSpec, Types) {
        let mut properties = Map::new();
        properties.insert("name".into(), json!({"type": "string"}));
        properties.insert("hours".into(), json!({"type": "integer"}));
        properties.insert(
            "names".into(),
            json!({"type": "array", "items": {"type": "string"}}),
        );
        properties.insert(
            "subject".into(),
            json!({"$ref": "#/types/example:tls:Subject"}),
        );
        let types = Types::from([(
            "example:tls:Subject".to_string(),
            json!({"type": "object", "properties": {"commonName": {"type": "string"}}}),
        )]);
        (
            ObjectSpec {
                properties,
                required: vec!["hours".into(), "name".into()],
                description: None,
            },
            types,
        )
    }

    #[test]
    fn reports_every_failure_with_its_path() {
        let (spec, types) = spec();
        let map = PropertyMap::from([
            ("hours".to_string(), PropertyValue::Number(1.5)),
            (
                "names".to_string(),
                PropertyValue::Array(vec![PropertyValue::string("ok"), PropertyValue::Bool(true)]),
            ),
            (
                "subject".to_string(),
                PropertyValue::Object(PropertyMap::from([
                    ("commonName".to_string(), PropertyValue::Number(3.0)),
                    ("bogus".to_string(), PropertyValue::string("x")),
                ])),
            ),
        ]);
        let failures = validate_object(&map, &spec, &types);
        let paths: Vec<String> = failures.iter().map(|f| f.property.to_string()).collect();
        assert_eq!(
            paths,
            vec![
                "name",
                "hours",
                "names[1]",
                "subject.bogus",
                "subject.commonName"
            ]
        );
        assert!(failures[1].reason.contains("integer"));
    }

    #[test]
    fn unknowns_and_secrets_pass_through() {
        let (spec, types) = spec();
        let map = PropertyMap::from([
            (
                "hours".to_string(),
                PropertyValue::Unknown(UnknownKind::Number),
            ),
            (
                "name".to_string(),
                PropertyValue::secret(PropertyValue::string("n")),
            ),
        ]);
        assert!(validate_object(&map, &spec, &types).is_empty());
    }
}
