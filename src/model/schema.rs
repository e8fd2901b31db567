//! Pulumi package schema, generated from the resources' serde types through `schemars`.
//!
//! schemars gives JSON Schema; this module turns it into Pulumi's property specs: nullable
//! wrappers dropped, `$defs` turned into named object types, our marker keys turned into
//! `secret` and `replaceOnChanges`. The same specs drive wire-type validation in Check.

use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;

/// Schema extension key on a struct naming the module its type token lives in.
pub const SCHEMA_MODULE_KEY: &str = "x-pulumi-module";
/// Schema extension key that marks a property secret; it becomes Pulumi's `secret: true`.
pub const SCHEMA_SECRET_KEY: &str = "x-pulumi-secret";
/// Schema extension key for properties whose change forces replacement.
pub const SCHEMA_REPLACE_KEY: &str = "x-pulumi-replace-on-changes";

/// Named object types collected while converting, keyed by type token.
pub type Types = BTreeMap<String, Json>;

/// Properties and required names of one object.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ObjectSpec {
    pub properties: Map<String, Json>,
    pub required: Vec<String>,
    pub description: Option<String>,
}

/// The package part of a token: `pkg:tls:PrivateKey` -> `pkg`.
pub fn package_of(token: &str) -> &str {
    token.split(':').next().unwrap_or_default()
}

/// The module part of a token: `pkg:tls:PrivateKey` -> `tls`.
pub fn module_of(token: &str) -> &str {
    token.split(':').nth(1).unwrap_or("index")
}

/// The JSON Schema of `T` as a root schema (with `$defs`).
pub fn json_schema_of<T: JsonSchema>() -> Json {
    let settings = SchemaSettings::draft2020_12();
    let generator = SchemaGenerator::new(settings);
    generator.into_root_schema_for::<T>().to_value()
}

/// Convert the root schema of a struct into a Pulumi object spec, registering nested types
/// as `<package>:<module>:<Name>`.
pub fn object_spec(root: &Json, package: &str, module: &str, types: &mut Types) -> ObjectSpec {
    let empty = Map::new();
    let defs = root
        .get("$defs")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    object_spec_with_defs(root, defs, package, module, types)
}

fn object_spec_with_defs(
    schema: &Json,
    defs: &Map<String, Json>,
    package: &str,
    module: &str,
    types: &mut Types,
) -> ObjectSpec {
    let mut spec = ObjectSpec {
        description: schema
            .get("description")
            .and_then(Json::as_str)
            .map(str::to_string),
        ..Default::default()
    };
    if let Some(props) = schema.get("properties").and_then(Json::as_object) {
        for (name, prop) in props {
            spec.properties.insert(
                name.clone(),
                property_spec(prop, defs, package, module, types),
            );
        }
    }
    if let Some(req) = schema.get("required").and_then(Json::as_array) {
        spec.required = req
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect();
        spec.required.sort();
    }
    spec
}

/// Drop the `null` alternative that schemars adds for `Option<T>`.
fn strip_nullable(schema: &Json) -> Json {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    let mut obj = obj.clone();
    if let Some(Json::Array(types)) = obj.get("type").cloned() {
        let rest: Vec<Json> = types.into_iter().filter(|t| t != "null").collect();
        if rest.len() == 1 {
            obj.insert("type".into(), rest[0].clone());
        } else {
            obj.insert("type".into(), Json::Array(rest));
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Json::Array(alts)) = obj.get(key).cloned() {
            let rest: Vec<Json> = alts
                .into_iter()
                .filter(|a| a.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            if rest.len() == 1 {
                obj.remove(key);
                if let Some(single) = rest[0].as_object() {
                    for (k, v) in single {
                        obj.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }
    Json::Object(obj)
}

fn property_spec(
    raw: &Json,
    defs: &Map<String, Json>,
    package: &str,
    module: &str,
    types: &mut Types,
) -> Json {
    let schema = strip_nullable(raw);
    let mut out = Map::new();
    if let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        let def = defs.get(name).cloned().unwrap_or(Json::Null);
        // A type shared across modules (e.g. Kubernetes ObjectMeta) names its own home module.
        let home = def
            .get(SCHEMA_MODULE_KEY)
            .and_then(Json::as_str)
            .unwrap_or(module)
            .to_string();
        let token = format!("{package}:{home}:{name}");
        if !types.contains_key(&token) {
            // Reserve the name first so recursive types terminate.
            types.insert(token.clone(), Json::Null);
            let nested = object_spec_with_defs(&def, defs, package, &home, types);
            types.insert(token.clone(), object_type_json(&nested));
        }
        out.insert("$ref".into(), Json::String(format!("#/types/{token}")));
    } else {
        match schema.get("type").and_then(Json::as_str) {
            Some("array") => {
                out.insert("type".into(), json!("array"));
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                out.insert(
                    "items".into(),
                    property_spec(&items, defs, package, module, types),
                );
            }
            Some("object") => {
                out.insert("type".into(), json!("object"));
                let values = schema
                    .get("additionalProperties")
                    .cloned()
                    .unwrap_or(json!({"type": "string"}));
                out.insert(
                    "additionalProperties".into(),
                    property_spec(&values, defs, package, module, types),
                );
            }
            Some(t @ ("string" | "integer" | "number" | "boolean")) => {
                out.insert("type".into(), json!(t));
            }
            _ => {
                out.insert("$ref".into(), json!("pulumi.json#/Any"));
            }
        }
    }
    let described = raw.get("description").or_else(|| schema.get("description"));
    if let Some(d) = described {
        out.insert("description".into(), d.clone());
    }
    if has_flag(raw, &schema, SCHEMA_SECRET_KEY) {
        out.insert("secret".into(), json!(true));
    }
    if has_flag(raw, &schema, SCHEMA_REPLACE_KEY) {
        out.insert("replaceOnChanges".into(), json!(true));
    }
    Json::Object(out)
}

fn has_flag(raw: &Json, stripped: &Json, key: &str) -> bool {
    let flagged = |s: &Json| s.get(key).and_then(Json::as_bool) == Some(true);
    flagged(raw)
        || flagged(stripped)
        || raw
            .get("anyOf")
            .and_then(Json::as_array)
            .is_some_and(|alts| alts.iter().any(flagged))
}

fn object_type_json(spec: &ObjectSpec) -> Json {
    let mut t = Map::new();
    t.insert("type".into(), json!("object"));
    if let Some(d) = &spec.description {
        t.insert("description".into(), json!(d));
    }
    t.insert("properties".into(), Json::Object(spec.properties.clone()));
    if !spec.required.is_empty() {
        t.insert("required".into(), json!(spec.required));
    }
    Json::Object(t)
}

/// The named object type a property refers to (`$ref: "#/types/<token>"`), when `types` has it.
/// Other references (`pulumi.json#/Any` and friends) are not named types.
pub fn referenced_type<'a>(property: &Json, types: &'a Types) -> Option<&'a Json> {
    let token = property.get("$ref")?.as_str()?.strip_prefix("#/types/")?;
    types.get(token)
}

/// A named object type's properties and required names.
pub fn type_fields(ty: &Json) -> (&Map<String, Json>, Vec<String>) {
    static NONE: std::sync::LazyLock<Map<String, Json>> = std::sync::LazyLock::new(Map::new);
    let properties = ty
        .get("properties")
        .and_then(Json::as_object)
        .unwrap_or(&NONE);
    let required = ty
        .get("required")
        .and_then(Json::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    (properties, required)
}

/// Names of the top-level properties that replace on change.
pub fn replacing_properties(spec: &ObjectSpec) -> Vec<String> {
    spec.properties
        .iter()
        .filter(|(_, p)| p.get("replaceOnChanges").and_then(Json::as_bool) == Some(true))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Names of the top-level properties marked secret.
/// Whether a property is secret or holds a secret somewhere inside its object type (followed
/// through `$ref`s into `types`, a few levels deep).
pub fn holds_secrets(property: &Json, types: &Types) -> bool {
    fn walk(property: &Json, types: &Types, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        if property.get("secret").and_then(Json::as_bool) == Some(true) {
            return true;
        }
        let referenced = referenced_type(property, types);
        let nested = [
            referenced,
            property.get("items"),
            property.get("additionalProperties"),
        ];
        nested.into_iter().flatten().any(|inner| {
            walk(inner, types, depth + 1)
                || inner
                    .get("properties")
                    .and_then(Json::as_object)
                    .is_some_and(|props| props.values().any(|p| walk(p, types, depth + 1)))
        })
    }
    walk(property, types, 0)
}

pub fn secret_properties(spec: &ObjectSpec) -> Vec<String> {
    spec.properties
        .iter()
        .filter(|(_, p)| p.get("secret").and_then(Json::as_bool) == Some(true))
        .map(|(k, _)| k.clone())
        .collect()
}

/// The Pulumi resource spec from its input and output object specs.
pub fn resource_json(description: &str, inputs: &ObjectSpec, outputs: &ObjectSpec) -> Json {
    let mut outputs_props = outputs.properties.clone();
    // Mirror replaceOnChanges onto outputs so SDK docs say which outputs force replacement.
    for (k, v) in outputs_props.iter_mut() {
        if let Some(obj) = v.as_object_mut() {
            if obj.remove("replaceOnChanges").is_some() {
                obj.insert("willReplaceOnChanges".into(), json!(true));
            }
            if inputs.properties.get(k).and_then(|p| p.get("secret")) == Some(&json!(true)) {
                obj.insert("secret".into(), json!(true));
            }
        }
    }
    json!({
        "description": description,
        "inputProperties": inputs.properties,
        "requiredInputs": inputs.required,
        "properties": outputs_props,
        "required": outputs.required,
    })
}

#[cfg(test)]
mod holds_secrets_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_found_through_references() {
        let mut types = Types::new();
        types.insert(
            "p:index:Inner".into(),
            json!({"properties": {"token": {"type": "string", "secret": true}}}),
        );
        types.insert(
            "p:index:Outer".into(),
            json!({"properties": {"inner": {"$ref": "#/types/p:index:Inner"}}}),
        );
        types.insert(
            "p:index:Plain".into(),
            json!({"properties": {"region": {"type": "string"}}}),
        );
        assert!(holds_secrets(
            &json!({"$ref": "#/types/p:index:Outer"}),
            &types
        ));
        assert!(holds_secrets(
            &json!({"type": "string", "secret": true}),
            &types
        ));
        assert!(!holds_secrets(
            &json!({"$ref": "#/types/p:index:Plain"}),
            &types
        ));
        assert!(!holds_secrets(&json!({"type": "string"}), &types));
    }
}
