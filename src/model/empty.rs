//! Empty inputs read as unset, for resources whose upstream reads them that way.
//!
//! Terraform's SDKv2, which most bridged upstream providers are built on, cannot tell an
//! optional input given as "", [] or an empty map from one left out: nothing is sent for it and a
//! change between the two is no change. Programs rely on that (an output that is "" in one case
//! and set in another is passed straight on). Dropping such inputs in Check gives the same
//! behaviour to Diff, Create and state alike, since they only ever see checked inputs.

use super::schema::{ObjectSpec, Types, referenced_type, type_fields};
use crate::codec::{PropertyMap, PropertyValue};
use serde_json::{Map, Value as Json};

/// "", [] or an empty map, secret or not. An object of a named type is never empty in this
/// sense: a block given with nothing in it is still a block upstream.
fn is_empty(value: &PropertyValue, spec: &Json) -> bool {
    match value {
        PropertyValue::String(s) => s.is_empty(),
        PropertyValue::Array(items) => items.is_empty(),
        PropertyValue::Object(map) => map.is_empty() && spec.get("$ref").is_none(),
        PropertyValue::Secret(inner) => is_empty(inner, spec),
        _ => false,
    }
}

/// Drop every optional property of `map` whose value is empty, at the top level (except the
/// names in `keep`) and inside values of named object types, in lists and maps too. Required
/// properties stay: an empty required value is for the resource's own checks to judge.
pub fn drop_empty_optionals(
    map: &mut PropertyMap,
    spec: &ObjectSpec,
    types: &Types,
    keep: &[&str],
) {
    drop_in_object(map, &spec.properties, &spec.required, types, keep, 0);
}

/// Nesting deeper than this is left as it is (schemas here are a few levels deep; the bound
/// only keeps a self-referencing type from recursing without end).
const MAX_DEPTH: usize = 16;

fn drop_in_object(
    map: &mut PropertyMap,
    properties: &Map<String, Json>,
    required: &[String],
    types: &Types,
    keep: &[&str],
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    map.retain(|name, value| {
        let Some(spec) = properties.get(name) else {
            return true; // unknown names are reported by validation
        };
        let droppable = !required.contains(name) && !keep.contains(&name.as_str());
        !(droppable && is_empty(value, spec))
    });
    for (name, value) in map.iter_mut() {
        if let Some(spec) = properties.get(name) {
            drop_in_value(value, spec, types, depth + 1);
        }
    }
}

fn drop_in_value(value: &mut PropertyValue, spec: &Json, types: &Types, depth: usize) {
    match value {
        PropertyValue::Secret(inner) => drop_in_value(inner, spec, types, depth),
        PropertyValue::Object(map) => {
            if let Some(ty) = referenced_type(spec, types) {
                let (properties, required) = type_fields(ty);
                drop_in_object(map, properties, &required, types, &[], depth);
            } else if let Some(values) = spec.get("additionalProperties") {
                for v in map.values_mut() {
                    drop_in_value(v, values, types, depth + 1);
                }
            }
        }
        PropertyValue::Array(items) => {
            if let Some(item_spec) = spec.get("items") {
                for item in items {
                    drop_in_value(item, item_spec, types, depth + 1);
                }
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
        let properties = json!({
            "name": {"type": "string"},
            "chain": {"type": "string"},
            "comment": {"type": "string"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "names": {"type": "array", "items": {"type": "string"}},
            "block": {"$ref": "#/types/p:m:Block"},
            "blocks": {"type": "array", "items": {"$ref": "#/types/p:m:Block"}},
        });
        let Json::Object(properties) = properties else {
            unreachable!("literal object")
        };
        let mut types = Types::new();
        types.insert(
            "p:m:Block".into(),
            json!({"type": "object", "required": ["kind"], "properties": {
                "kind": {"type": "string"}, "note": {"type": "string"}}}),
        );
        let spec = ObjectSpec {
            properties,
            required: vec!["name".into()],
            description: None,
        };
        (spec, types)
    }

    fn s(v: &str) -> PropertyValue {
        PropertyValue::String(v.into())
    }

    fn object(entries: &[(&str, PropertyValue)]) -> PropertyValue {
        PropertyValue::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn empty_optionals_go_and_everything_else_stays() {
        let (spec, types) = spec();
        let PropertyValue::Object(mut map) = object(&[
            ("name", s("")),
            ("chain", s("")),
            ("comment", s("")),
            ("tags", object(&[])),
            ("names", PropertyValue::Array(vec![])),
            ("block", object(&[("kind", s("")), ("note", s(""))])),
            (
                "blocks",
                PropertyValue::Array(vec![object(&[("kind", s("a")), ("note", s(""))])]),
            ),
        ]) else {
            unreachable!("built as an object")
        };
        drop_empty_optionals(&mut map, &spec, &types, &["comment"]);
        let PropertyValue::Object(want) = object(&[
            // required, and kept by name
            ("name", s("")),
            ("comment", s("")),
            // a block with nothing optional left in it is still a block
            ("block", object(&[("kind", s(""))])),
            (
                "blocks",
                PropertyValue::Array(vec![object(&[("kind", s("a"))])]),
            ),
        ]) else {
            unreachable!("built as an object")
        };
        assert_eq!(map, want);
    }

    #[test]
    fn secrets_unknowns_and_values_with_content() {
        let (spec, types) = spec();
        let PropertyValue::Object(mut map) = object(&[
            ("name", s("n")),
            ("chain", PropertyValue::Secret(Box::new(s("")))),
            ("comment", PropertyValue::Unknown(UnknownKind::String)),
            ("names", PropertyValue::Array(vec![s("")])),
            ("block", object(&[])),
        ]) else {
            unreachable!("built as an object")
        };
        drop_empty_optionals(&mut map, &spec, &types, &[]);
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        // a secret "" is still empty; an unknown may turn out to be anything; [""] has an item
        assert_eq!(keys, ["block", "comment", "name", "names"]);
    }
}
