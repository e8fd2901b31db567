//! The bridge between [`PropertyValue`]s and the JSON that serde decodes into typed resource structs.
//!
//! Secrets are handled look-aside: on the way in their wrappers are stripped and their paths
//! remembered, on the way out those paths are wrapped again (a typed field of type `Secret<T>` is
//! always wrapped, whatever came in). Unknowns become a marker object that only
//! `typed::Value<T>` accepts, so an unknown can never be read as a zero value or as a string.

use super::{
    Archive, ArchiveSource, Asset, AssetSource, PathElem, PropertyMap, PropertyPath, PropertyValue,
    SIG_ARCHIVE, SIG_ASSET, SIG_KEY, SIG_SECRET, UnknownKind,
};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;

/// Paths at which a secret wrapper was stripped.
pub type SecretPaths = BTreeSet<PropertyPath>;

/// The marker object standing for an unknown in typed JSON.
pub fn unknown_marker(kind: UnknownKind) -> Json {
    let mut m = Map::new();
    m.insert(
        SIG_KEY.to_string(),
        Json::String(kind.sentinel().to_string()),
    );
    Json::Object(m)
}

/// If `j` is an unknown marker, its kind.
pub fn as_unknown_marker(j: &Json) -> Option<UnknownKind> {
    let Json::Object(m) = j else { return None };
    if m.len() != 1 {
        return None;
    }
    m.get(SIG_KEY)
        .and_then(Json::as_str)
        .and_then(UnknownKind::from_sentinel)
}

/// True if an unknown marker appears anywhere in `j`.
pub fn json_contains_unknowns(j: &Json) -> bool {
    if as_unknown_marker(j).is_some() {
        return true;
    }
    match j {
        Json::Array(items) => items.iter().any(json_contains_unknowns),
        Json::Object(m) => m.values().any(json_contains_unknowns),
        _ => false,
    }
}

/// The secret envelope written by `typed::Secret<T>` when it serializes.
pub fn secret_envelope(inner: Json) -> Json {
    let mut m = Map::new();
    m.insert(SIG_KEY.to_string(), Json::String(SIG_SECRET.to_string()));
    m.insert("value".to_string(), inner);
    Json::Object(m)
}

/// Typed JSON with every secret envelope replaced by its content: for sending values to a
/// backend, never for logs or state.
pub fn plain_json(j: Json) -> Json {
    match j {
        Json::Object(mut m) => {
            if m.get(SIG_KEY).and_then(Json::as_str) == Some(SIG_SECRET) {
                return plain_json(m.remove("value").unwrap_or(Json::Null));
            }
            Json::Object(m.into_iter().map(|(k, v)| (k, plain_json(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(plain_json).collect()),
        other => other,
    }
}

/// Convert a property map to typed JSON, remembering where secrets were.
pub fn map_to_json(map: &PropertyMap) -> (Json, SecretPaths) {
    let mut secrets = SecretPaths::new();
    let mut out = Map::new();
    for (k, v) in map {
        out.insert(
            k.clone(),
            value_to_json(v, &PropertyPath::root().key(k.as_str()), &mut secrets),
        );
    }
    (Json::Object(out), secrets)
}

fn number_to_json(n: f64) -> Json {
    // Integral values become JSON integers so that serde can read them into integer fields.
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Json::Number((n as i64).into())
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

fn value_to_json(v: &PropertyValue, at: &PropertyPath, secrets: &mut SecretPaths) -> Json {
    match v {
        PropertyValue::Null => Json::Null,
        PropertyValue::Bool(b) => Json::Bool(*b),
        PropertyValue::Number(n) => number_to_json(*n),
        PropertyValue::String(s) => Json::String(s.clone()),
        PropertyValue::Array(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| value_to_json(item, &at.index(i), secrets))
                .collect(),
        ),
        PropertyValue::Object(map) => Json::Object(
            map.iter()
                .map(|(k, item)| (k.clone(), value_to_json(item, &at.key(k.as_str()), secrets)))
                .collect(),
        ),
        PropertyValue::Secret(inner) => {
            secrets.insert(at.clone());
            value_to_json(inner, at, secrets)
        }
        PropertyValue::Unknown(kind) => unknown_marker(*kind),
        // Typed code wants the id; a component reference has none, so it gets the URN.
        PropertyValue::ResourceRef(r) => match r.id.as_deref() {
            Some(id) => value_to_json(id, at, secrets),
            None => Json::String(r.urn.clone()),
        },
        PropertyValue::Asset(a) => asset_to_json(a),
        PropertyValue::Archive(a) => archive_to_json(a, at, secrets),
    }
}

fn asset_to_json(a: &Asset) -> Json {
    let mut m = Map::new();
    m.insert(SIG_KEY.to_string(), Json::String(SIG_ASSET.to_string()));
    if let Some(h) = &a.hash {
        m.insert("hash".into(), Json::String(h.clone()));
    }
    let (k, v) = match &a.source {
        AssetSource::Text(t) => ("text", t),
        AssetSource::Path(p) => ("path", p),
        AssetSource::Uri(u) => ("uri", u),
    };
    m.insert(k.into(), Json::String(v.clone()));
    Json::Object(m)
}

fn archive_to_json(a: &Archive, at: &PropertyPath, secrets: &mut SecretPaths) -> Json {
    let mut m = Map::new();
    m.insert(SIG_KEY.to_string(), Json::String(SIG_ARCHIVE.to_string()));
    if let Some(h) = &a.hash {
        m.insert("hash".into(), Json::String(h.clone()));
    }
    match &a.source {
        ArchiveSource::Assets(assets) => {
            let members = assets
                .iter()
                .map(|(k, v)| (k.clone(), value_to_json(v, &at.key(k.as_str()), secrets)))
                .collect();
            m.insert("assets".into(), Json::Object(members));
        }
        ArchiveSource::Path(p) => {
            m.insert("path".into(), Json::String(p.clone()));
        }
        ArchiveSource::Uri(u) => {
            m.insert("uri".into(), Json::String(u.clone()));
        }
    }
    Json::Object(m)
}

/// Convert typed JSON (as serialized from a typed struct) back to a property map.
/// Returns `None` if `j` is not an object.
pub fn json_to_map(j: &Json) -> Option<PropertyMap> {
    let Json::Object(m) = j else { return None };
    Some(
        m.iter()
            .map(|(k, v)| (k.clone(), json_to_value(v)))
            .collect(),
    )
}

/// Convert one typed JSON value back to a property value, reading secret envelopes and markers.
pub fn json_to_value(j: &Json) -> PropertyValue {
    if let Some(kind) = as_unknown_marker(j) {
        return PropertyValue::Unknown(kind);
    }
    match j {
        Json::Null => PropertyValue::Null,
        Json::Bool(b) => PropertyValue::Bool(*b),
        Json::Number(n) => PropertyValue::Number(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => PropertyValue::String(s.clone()),
        Json::Array(items) => PropertyValue::Array(items.iter().map(json_to_value).collect()),
        Json::Object(m) => match m.get(SIG_KEY).and_then(Json::as_str) {
            Some(SIG_SECRET) => {
                PropertyValue::secret(m.get("value").map_or(PropertyValue::Null, json_to_value))
            }
            Some(SIG_ASSET) => {
                let hash = m.get("hash").and_then(Json::as_str).map(str::to_string);
                let text = |k: &str| m.get(k).and_then(Json::as_str).map(str::to_string);
                let source = if let Some(t) = text("text") {
                    AssetSource::Text(t)
                } else if let Some(p) = text("path") {
                    AssetSource::Path(p)
                } else {
                    AssetSource::Uri(text("uri").unwrap_or_default())
                };
                PropertyValue::Asset(Asset { hash, source })
            }
            Some(SIG_ARCHIVE) => {
                let hash = m.get("hash").and_then(Json::as_str).map(str::to_string);
                let text = |k: &str| m.get(k).and_then(Json::as_str).map(str::to_string);
                let source = if let Some(Json::Object(assets)) = m.get("assets") {
                    ArchiveSource::Assets(
                        assets
                            .iter()
                            .map(|(k, v)| (k.clone(), json_to_value(v)))
                            .collect(),
                    )
                } else if let Some(p) = text("path") {
                    ArchiveSource::Path(p)
                } else {
                    ArchiveSource::Uri(text("uri").unwrap_or_default())
                };
                PropertyValue::Archive(Archive { hash, source })
            }
            _ => PropertyValue::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), json_to_value(v)))
                    .collect(),
            ),
        },
    }
}

/// Wrap the value found at each path in a secret (paths that no longer exist are skipped).
pub fn mark_secret_paths(map: &mut PropertyMap, paths: &SecretPaths) {
    for path in paths {
        let Some((PathElem::Key(first), rest)) = path.elems().split_first() else {
            continue;
        };
        if let Some(v) = map.get_mut(first) {
            mark_at(v, rest);
        }
    }
}

fn mark_at(v: &mut PropertyValue, rest: &[PathElem]) {
    match (rest.split_first(), v) {
        (None, v) => {
            let taken = std::mem::replace(v, PropertyValue::Null);
            *v = PropertyValue::secret(taken);
        }
        (Some((_, _)), PropertyValue::Secret(inner)) => mark_at(inner, rest),
        (Some((PathElem::Key(k), tail)), PropertyValue::Object(m)) => {
            if let Some(child) = m.get_mut(k) {
                mark_at(child, tail);
            }
        }
        (Some((PathElem::Index(i), tail)), PropertyValue::Array(items)) => {
            if let Some(child) = items.get_mut(*i) {
                mark_at(child, tail);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ResourceRef;

    #[test]
    fn secrets_are_stripped_and_restored_at_the_same_paths() {
        let map = PropertyMap::from([
            (
                "dnsNames".to_string(),
                PropertyValue::Array(vec![
                    PropertyValue::string("a"),
                    PropertyValue::secret(PropertyValue::string("b")),
                ]),
            ),
            (
                "key".to_string(),
                PropertyValue::secret(PropertyValue::string("pem")),
            ),
        ]);
        let (json, secrets) = map_to_json(&map);
        assert_eq!(json["dnsNames"][1], Json::String("b".into()));
        assert_eq!(json["key"], Json::String("pem".into()));
        assert_eq!(secrets.len(), 2);
        let mut back = json_to_map(&json).unwrap();
        assert_ne!(back, map);
        mark_secret_paths(&mut back, &secrets);
        assert_eq!(back, map);
    }

    #[test]
    fn unknowns_become_markers_that_plain_types_refuse() {
        let map = PropertyMap::from([(
            "name".to_string(),
            PropertyValue::Unknown(UnknownKind::String),
        )]);
        let (json, _) = map_to_json(&map);
        assert!(json_contains_unknowns(&json));
        // A plain String field must not silently accept an unknown.
        #[derive(serde::Deserialize, Debug)]
        struct Plain {
            #[allow(dead_code)]
            name: String,
        }
        assert!(serde_json::from_value::<Plain>(json.clone()).is_err());
        assert_eq!(json_to_map(&json).unwrap(), map);
    }

    #[test]
    fn plain_json_exposes_nested_secrets() {
        let j =
            serde_json::json!({"a": [secret_envelope(Json::String("s".into()))], "b": {"c": 1}});
        assert_eq!(
            plain_json(j),
            serde_json::json!({"a": ["s"], "b": {"c": 1}})
        );
    }

    #[test]
    fn integral_numbers_read_as_integers() {
        let map = PropertyMap::from([
            ("hours".to_string(), PropertyValue::Number(24.0)),
            ("ratio".to_string(), PropertyValue::Number(0.5)),
        ]);
        let (json, _) = map_to_json(&map);
        assert_eq!(json["hours"].as_i64(), Some(24));
        assert_eq!(json["ratio"].as_f64(), Some(0.5));
    }

    #[test]
    fn resource_references_read_as_their_id() {
        let map = PropertyMap::from([(
            "ref".to_string(),
            PropertyValue::ResourceRef(ResourceRef {
                urn: "urn:x".into(),
                id: Some(Box::new(PropertyValue::string("id-1"))),
                package_version: String::new(),
            }),
        )]);
        let (json, _) = map_to_json(&map);
        assert_eq!(json["ref"], Json::String("id-1".into()));
    }

    #[test]
    fn secret_envelopes_written_by_types_become_secrets() {
        let j = serde_json::json!({"a": secret_envelope(Json::String("s".into())), "b": 1});
        let m = json_to_map(&j).unwrap();
        assert_eq!(m["a"], PropertyValue::secret(PropertyValue::string("s")));
        assert_eq!(m["b"], PropertyValue::Number(1.0));
    }
}
