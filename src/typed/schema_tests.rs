//! The schema the model derives from typed values: secrets, unknown-capable fields, nested
//! and shared types.

use super::{Secret, Value, home_module, replace_on_changes};
use crate::model::schema::{
    Types, json_schema_of, object_spec, replacing_properties, secret_properties,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// A type that lives in another module.
#[derive(Serialize, Deserialize, JsonSchema)]
#[schemars(transform = home_module("shared/v1"))]
struct Shared {
    id: String,
}

/// A nested object.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Nested {
    /// The name.
    common_name: Option<Value<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Example {
    /// Key material.
    #[schemars(transform = replace_on_changes)]
    private_key_pem: Value<Secret<String>>,
    #[serde(default)]
    subject: Option<Value<Nested>>,
    hours: Value<i64>,
    names: Option<Value<Vec<String>>>,
    labels: Option<Value<BTreeMap<String, String>>>,
    shared: Option<Shared>,
}

#[test]
fn converts_types_flags_and_nested_objects() {
    let mut types = Types::new();
    let spec = object_spec(&json_schema_of::<Example>(), "example", "tls", &mut types);
    let p = &spec.properties;
    assert_eq!(
        p["privateKeyPem"],
        json!({"type": "string", "description": "Key material.", "secret": true, "replaceOnChanges": true})
    );
    assert_eq!(p["hours"], json!({"type": "integer"}));
    assert_eq!(
        p["names"],
        json!({"type": "array", "items": {"type": "string"}})
    );
    assert_eq!(
        p["labels"],
        json!({"type": "object", "additionalProperties": {"type": "string"}})
    );
    assert_eq!(p["subject"], json!({"$ref": "#/types/example:tls:Nested"}));
    assert_eq!(
        types["example:tls:Nested"]["properties"]["commonName"],
        json!({"type": "string", "description": "The name."})
    );
    assert_eq!(
        spec.required,
        vec!["hours".to_string(), "privateKeyPem".to_string()]
    );
    assert_eq!(
        replacing_properties(&spec),
        vec!["privateKeyPem".to_string()]
    );
    assert_eq!(secret_properties(&spec), vec!["privateKeyPem".to_string()]);
}
