//! The property-value codec: `google.protobuf.Struct` on the wire <-> [`PropertyValue`].
//!
//! This is the only module that touches protobuf values. Wire rules follow the engine's
//! `sdk/go/common/resource/sig/sig.go` and `pkg/resource/plugin/rpc.go`: special values are objects
//! carrying the signature key, unknowns are one of seven sentinel strings.

mod path;
pub mod typed_json;

pub use path::{PathElem, PropertyPath};

use prost_types::value::Kind;
use std::collections::BTreeMap;

/// The key whose presence marks an object as a special value rather than a plain map.
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
pub const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
pub const SIG_RESOURCE_REF: &str = "5cf8f73096256a8f31e491e813e4eb8e";
pub const SIG_OUTPUT: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
pub const SIG_ASSET: &str = "c44067f5952c0a294b673a41bacd8c17";
pub const SIG_ARCHIVE: &str = "0def7320c3a5731c473e5ecbe6d01bc7";
pub const SIG_BYTE_STRING: &str = "803fd3297a5875dc03ca845dda5d2a98";

/// Which sentinel an unknown came in as. All decode to unknown; we keep the kind so that an
/// unknown we pass through goes back out unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnknownKind {
    Bool,
    Number,
    String,
    Array,
    Asset,
    Archive,
    Object,
}

impl UnknownKind {
    pub const ALL: [UnknownKind; 7] = [
        UnknownKind::Bool,
        UnknownKind::Number,
        UnknownKind::String,
        UnknownKind::Array,
        UnknownKind::Asset,
        UnknownKind::Archive,
        UnknownKind::Object,
    ];

    pub fn sentinel(self) -> &'static str {
        match self {
            UnknownKind::Bool => "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
            UnknownKind::Number => "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
            UnknownKind::String => "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
            UnknownKind::Array => "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
            UnknownKind::Asset => "030794c1-ac77-496b-92df-f27374a8bd58",
            UnknownKind::Archive => "e48ece36-62e2-4504-bad9-02848725956a",
            UnknownKind::Object => "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
        }
    }

    pub fn from_sentinel(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.sentinel() == s)
    }
}

/// A reference to another resource, as sent when the provider accepts resources.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRef {
    pub urn: String,
    /// `None` when the reference is to a component (no id at all); `Some(Unknown)` in preview.
    pub id: Option<Box<PropertyValue>>,
    pub package_version: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AssetSource {
    Text(String),
    Path(String),
    Uri(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    pub hash: Option<String>,
    pub source: AssetSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArchiveSource {
    Assets(BTreeMap<String, PropertyValue>),
    Path(String),
    Uri(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Archive {
    pub hash: Option<String>,
    pub source: ArchiveSource,
}

/// A Pulumi property value with its wire markers made explicit.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<PropertyValue>),
    Object(PropertyMap),
    Secret(Box<PropertyValue>),
    Unknown(UnknownKind),
    ResourceRef(ResourceRef),
    Asset(Asset),
    Archive(Archive),
}

pub type PropertyMap = BTreeMap<String, PropertyValue>;

/// Why a wire value could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    /// A special object (signature key present) lacks a field it must have.
    #[error("property {path}: malformed {what} value: {reason}")]
    Malformed {
        path: String,
        what: &'static str,
        reason: String,
    },
    /// A signature we do not know or did not ask for (e.g. byte strings, which we do not accept).
    #[error("property {path}: unsupported special value with signature {sig}")]
    UnsupportedSignature { path: String, sig: String },
    /// A value with no kind set.
    #[error("property {path}: value has no kind")]
    Empty { path: String },
}

impl PropertyValue {
    pub fn string(s: impl Into<String>) -> Self {
        PropertyValue::String(s.into())
    }

    pub fn secret(v: PropertyValue) -> Self {
        match v {
            already @ PropertyValue::Secret(_) => already,
            other => PropertyValue::Secret(Box::new(other)),
        }
    }

    /// True if an unknown appears anywhere inside, including inside secrets and references.
    pub fn contains_unknowns(&self) -> bool {
        match self {
            PropertyValue::Unknown(_) => true,
            PropertyValue::Array(items) => items.iter().any(Self::contains_unknowns),
            PropertyValue::Object(map) => map.values().any(Self::contains_unknowns),
            PropertyValue::Secret(inner) => inner.contains_unknowns(),
            PropertyValue::ResourceRef(r) => r.id.as_deref().is_some_and(Self::contains_unknowns),
            PropertyValue::Archive(Archive {
                source: ArchiveSource::Assets(assets),
                ..
            }) => assets.values().any(Self::contains_unknowns),
            _ => false,
        }
    }

    /// True if a secret appears anywhere inside.
    pub fn contains_secrets(&self) -> bool {
        match self {
            PropertyValue::Secret(_) => true,
            PropertyValue::Array(items) => items.iter().any(Self::contains_secrets),
            PropertyValue::Object(map) => map.values().any(Self::contains_secrets),
            PropertyValue::ResourceRef(r) => r.id.as_deref().is_some_and(Self::contains_secrets),
            _ => false,
        }
    }

    /// The value with every secret wrapper removed (for comparisons, never for output).
    pub fn unsecret(&self) -> PropertyValue {
        match self {
            PropertyValue::Secret(inner) => inner.unsecret(),
            PropertyValue::Array(items) => {
                PropertyValue::Array(items.iter().map(Self::unsecret).collect())
            }
            PropertyValue::Object(map) => {
                PropertyValue::Object(map.iter().map(|(k, v)| (k.clone(), v.unsecret())).collect())
            }
            other => other.clone(),
        }
    }
}

pub fn contains_unknowns(map: &PropertyMap) -> bool {
    map.values().any(PropertyValue::contains_unknowns)
}

/// Decode a request Struct. An absent Struct is an empty map, as the engine may omit it.
pub fn decode_struct(s: Option<&prost_types::Struct>) -> Result<PropertyMap, CodecError> {
    let Some(s) = s else {
        return Ok(PropertyMap::new());
    };
    decode_fields(&s.fields, &PropertyPath::root())
}

fn decode_fields(
    fields: &BTreeMap<String, prost_types::Value>,
    at: &PropertyPath,
) -> Result<PropertyMap, CodecError> {
    fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), decode_value(v, &at.key(k.as_str()))?)))
        .collect()
}

fn malformed(at: &PropertyPath, what: &'static str, reason: impl Into<String>) -> CodecError {
    CodecError::Malformed {
        path: at.to_string(),
        what,
        reason: reason.into(),
    }
}

fn get_str<'a>(fields: &'a BTreeMap<String, prost_types::Value>, key: &str) -> Option<&'a String> {
    match fields.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// Decode one wire value at `at` (the path is only used in error messages).
pub fn decode_value(
    v: &prost_types::Value,
    at: &PropertyPath,
) -> Result<PropertyValue, CodecError> {
    let Some(kind) = &v.kind else {
        return Err(CodecError::Empty {
            path: at.to_string(),
        });
    };
    Ok(match kind {
        Kind::NullValue(_) => PropertyValue::Null,
        Kind::BoolValue(b) => PropertyValue::Bool(*b),
        Kind::NumberValue(n) => PropertyValue::Number(*n),
        Kind::StringValue(s) => match UnknownKind::from_sentinel(s) {
            Some(k) => PropertyValue::Unknown(k),
            None => PropertyValue::String(s.clone()),
        },
        Kind::ListValue(list) => PropertyValue::Array(
            list.values
                .iter()
                .enumerate()
                .map(|(i, item)| decode_value(item, &at.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        Kind::StructValue(s) => decode_object(&s.fields, at)?,
    })
}

fn decode_object(
    fields: &BTreeMap<String, prost_types::Value>,
    at: &PropertyPath,
) -> Result<PropertyValue, CodecError> {
    let Some(sig_value) = fields.get(SIG_KEY) else {
        return Ok(PropertyValue::Object(decode_fields(fields, at)?));
    };
    let Some(Kind::StringValue(sig)) = &sig_value.kind else {
        return Err(malformed(at, "special", "signature is not a string"));
    };
    match sig.as_str() {
        SIG_SECRET => {
            let inner = fields
                .get("value")
                .ok_or_else(|| malformed(at, "secret", "missing `value`"))?;
            Ok(PropertyValue::secret(decode_value(inner, at)?))
        }
        SIG_OUTPUT => {
            // Output values only come with Construct/Call; decode them to the nearest plain form.
            let is_secret = matches!(
                fields.get("secret").and_then(|v| v.kind.as_ref()),
                Some(Kind::BoolValue(true))
            );
            let value = match fields.get("value") {
                Some(v) => decode_value(v, at)?,
                None => PropertyValue::Unknown(UnknownKind::String),
            };
            Ok(if is_secret {
                PropertyValue::secret(value)
            } else {
                value
            })
        }
        SIG_RESOURCE_REF => {
            let urn = get_str(fields, "urn")
                .ok_or_else(|| malformed(at, "resource reference", "missing `urn`"))?
                .clone();
            let id = match fields.get("id") {
                None => None,
                Some(v) => match decode_value(v, at)? {
                    // An empty id means "unknown" for custom resources in preview.
                    PropertyValue::String(s) if s.is_empty() => {
                        Some(Box::new(PropertyValue::Unknown(UnknownKind::String)))
                    }
                    other => Some(Box::new(other)),
                },
            };
            let package_version = get_str(fields, "packageVersion")
                .cloned()
                .unwrap_or_default();
            Ok(PropertyValue::ResourceRef(ResourceRef {
                urn,
                id,
                package_version,
            }))
        }
        SIG_ASSET => {
            let hash = get_str(fields, "hash").filter(|h| !h.is_empty()).cloned();
            let source = if let Some(t) = get_str(fields, "text") {
                AssetSource::Text(t.clone())
            } else if let Some(p) = get_str(fields, "path") {
                AssetSource::Path(p.clone())
            } else if let Some(u) = get_str(fields, "uri") {
                AssetSource::Uri(u.clone())
            } else {
                return Err(malformed(at, "asset", "needs one of text, path or uri"));
            };
            Ok(PropertyValue::Asset(Asset { hash, source }))
        }
        SIG_ARCHIVE => {
            let hash = get_str(fields, "hash").filter(|h| !h.is_empty()).cloned();
            let source = if let Some(Kind::StructValue(assets)) =
                fields.get("assets").and_then(|v| v.kind.as_ref())
            {
                let mut out = BTreeMap::new();
                for (name, v) in &assets.fields {
                    let member = decode_value(v, &at.key(name.as_str()))?;
                    match member {
                        PropertyValue::Asset(_) | PropertyValue::Archive(_) => {
                            out.insert(name.clone(), member);
                        }
                        _ => {
                            return Err(malformed(
                                at,
                                "archive",
                                format!("member {name:?} is not an asset or archive"),
                            ));
                        }
                    }
                }
                ArchiveSource::Assets(out)
            } else if let Some(p) = get_str(fields, "path") {
                ArchiveSource::Path(p.clone())
            } else if let Some(u) = get_str(fields, "uri") {
                ArchiveSource::Uri(u.clone())
            } else {
                return Err(malformed(at, "archive", "needs one of assets, path or uri"));
            };
            Ok(PropertyValue::Archive(Archive { hash, source }))
        }
        other => Err(CodecError::UnsupportedSignature {
            path: at.to_string(),
            sig: shown_signature(other),
        }),
    }
}

/// A signature as an error may show it: real ones are 32 hex digits; anything else is input
/// that may be anything (a secret that landed in the wrong place), so it is described, not
/// quoted.
fn shown_signature(sig: &str) -> String {
    if sig.len() == 32 && sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        sig.to_string()
    } else {
        format!("<not a signature: {} characters>", sig.chars().count())
    }
}

/// Encode a property map as a Struct.
pub fn encode_map(map: &PropertyMap) -> prost_types::Struct {
    prost_types::Struct {
        fields: map
            .iter()
            .map(|(k, v)| (k.clone(), encode_value(v)))
            .collect(),
    }
}

fn kind(k: Kind) -> prost_types::Value {
    prost_types::Value { kind: Some(k) }
}

fn str_value(s: &str) -> prost_types::Value {
    kind(Kind::StringValue(s.to_string()))
}

fn special(sig: &str, mut fields: BTreeMap<String, prost_types::Value>) -> prost_types::Value {
    fields.insert(SIG_KEY.to_string(), str_value(sig));
    kind(Kind::StructValue(prost_types::Struct { fields }))
}

/// Encode one value for the wire.
pub fn encode_value(v: &PropertyValue) -> prost_types::Value {
    match v {
        PropertyValue::Null => kind(Kind::NullValue(0)),
        PropertyValue::Bool(b) => kind(Kind::BoolValue(*b)),
        PropertyValue::Number(n) => kind(Kind::NumberValue(*n)),
        PropertyValue::String(s) => str_value(s),
        PropertyValue::Array(items) => kind(Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(encode_value).collect(),
        })),
        PropertyValue::Object(map) => kind(Kind::StructValue(encode_map(map))),
        PropertyValue::Unknown(k) => str_value(k.sentinel()),
        PropertyValue::Secret(inner) => special(
            SIG_SECRET,
            BTreeMap::from([("value".to_string(), encode_value(inner))]),
        ),
        PropertyValue::ResourceRef(r) => {
            let mut fields = BTreeMap::from([
                ("urn".to_string(), str_value(&r.urn)),
                ("packageVersion".to_string(), str_value(&r.package_version)),
            ]);
            if let Some(id) = &r.id {
                let id = match id.as_ref() {
                    PropertyValue::Unknown(_) => str_value(""),
                    other => encode_value(other),
                };
                fields.insert("id".to_string(), id);
            }
            special(SIG_RESOURCE_REF, fields)
        }
        PropertyValue::Asset(a) => {
            let mut fields = BTreeMap::new();
            if let Some(h) = &a.hash {
                fields.insert("hash".to_string(), str_value(h));
            }
            let (key, value) = match &a.source {
                AssetSource::Text(t) => ("text", t),
                AssetSource::Path(p) => ("path", p),
                AssetSource::Uri(u) => ("uri", u),
            };
            fields.insert(key.to_string(), str_value(value));
            special(SIG_ASSET, fields)
        }
        PropertyValue::Archive(a) => {
            let mut fields = BTreeMap::new();
            if let Some(h) = &a.hash {
                fields.insert("hash".to_string(), str_value(h));
            }
            match &a.source {
                ArchiveSource::Assets(assets) => {
                    fields.insert(
                        "assets".to_string(),
                        kind(Kind::StructValue(encode_map(assets))),
                    );
                }
                ArchiveSource::Path(p) => {
                    fields.insert("path".to_string(), str_value(p));
                }
                ArchiveSource::Uri(u) => {
                    fields.insert("uri".to_string(), str_value(u));
                }
            }
            special(SIG_ARCHIVE, fields)
        }
    }
}

/// Decode JSON text written in the wire's own form (signature objects, sentinel strings), as
/// config values arrive when a program or the CLI JSON-encodes them.
pub fn decode_json_text(text: &str) -> Result<PropertyValue, CodecError> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| CodecError::Malformed {
            path: String::new(),
            what: "JSON",
            reason: e.to_string(),
        })?;
    decode_value(&json_to_wire(&json), &PropertyPath::root())
}

fn json_to_wire(j: &serde_json::Value) -> prost_types::Value {
    use serde_json::Value as J;
    match j {
        J::Null => kind(Kind::NullValue(0)),
        J::Bool(b) => kind(Kind::BoolValue(*b)),
        J::Number(n) => kind(Kind::NumberValue(n.as_f64().unwrap_or(0.0))),
        J::String(s) => str_value(s),
        J::Array(items) => kind(Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(json_to_wire).collect(),
        })),
        J::Object(m) => kind(Kind::StructValue(prost_types::Struct {
            fields: m
                .iter()
                .map(|(k, v)| (k.clone(), json_to_wire(v)))
                .collect(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, prost_types::Value)]) -> prost_types::Value {
        kind(Kind::StructValue(prost_types::Struct {
            fields: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }))
    }

    fn roundtrip(v: &PropertyValue) -> PropertyValue {
        decode_value(&encode_value(v), &PropertyPath::root()).expect("decodes")
    }

    #[test]
    fn all_seven_sentinels_decode_as_unknown_and_encode_back() {
        for k in UnknownKind::ALL {
            let decoded = decode_value(&str_value(k.sentinel()), &PropertyPath::root()).unwrap();
            assert_eq!(decoded, PropertyValue::Unknown(k));
            assert_eq!(encode_value(&decoded), str_value(k.sentinel()));
        }
        // A near miss stays a string.
        let near = "04da6b54-80e4-46f7-96ec-b56ff0331ba8";
        assert_eq!(
            decode_value(&str_value(near), &PropertyPath::root()).unwrap(),
            PropertyValue::string(near)
        );
    }

    #[test]
    fn unknowns_nested_at_every_level_are_found() {
        let deep = PropertyValue::Object(PropertyMap::from([(
            "a".to_string(),
            PropertyValue::Array(vec![
                PropertyValue::Number(1.0),
                PropertyValue::secret(PropertyValue::Object(PropertyMap::from([(
                    "b".to_string(),
                    PropertyValue::Unknown(UnknownKind::Bool),
                )]))),
            ]),
        )]));
        assert!(deep.contains_unknowns());
        assert_eq!(roundtrip(&deep), deep);
        let known = PropertyValue::Array(vec![PropertyValue::string("x")]);
        assert!(!known.contains_unknowns());
    }

    #[test]
    fn secrets_roundtrip_and_do_not_double_wrap() {
        let s = PropertyValue::secret(PropertyValue::secret(PropertyValue::string("k")));
        assert_eq!(
            s,
            PropertyValue::Secret(Box::new(PropertyValue::string("k")))
        );
        assert_eq!(roundtrip(&s), s);
        let wire = encode_value(&s);
        let Some(Kind::StructValue(st)) = &wire.kind else {
            panic!("secret is an object on the wire")
        };
        assert_eq!(st.fields.get(SIG_KEY), Some(&str_value(SIG_SECRET)));
        assert!(s.contains_secrets());
        assert_eq!(s.unsecret(), PropertyValue::string("k"));
    }

    #[test]
    fn resource_references_keep_urn_and_treat_empty_id_as_unknown() {
        let wire = obj(&[
            (SIG_KEY, str_value(SIG_RESOURCE_REF)),
            (
                "urn",
                str_value("urn:pulumi:dev::p::example:tls:PrivateKey::k"),
            ),
            ("id", str_value("")),
            ("packageVersion", str_value("0.1.0")),
        ]);
        let v = decode_value(&wire, &PropertyPath::root()).unwrap();
        let PropertyValue::ResourceRef(r) = &v else {
            panic!("expected a reference, got {v:?}")
        };
        assert_eq!(
            r.id.as_deref(),
            Some(&PropertyValue::Unknown(UnknownKind::String))
        );
        assert!(v.contains_unknowns());
        assert_eq!(roundtrip(&v), v);
    }

    #[test]
    fn assets_and_archives_roundtrip() {
        let asset = PropertyValue::Asset(Asset {
            hash: Some("abc".into()),
            source: AssetSource::Text("hello".into()),
        });
        let archive = PropertyValue::Archive(Archive {
            hash: None,
            source: ArchiveSource::Assets(BTreeMap::from([("f.txt".to_string(), asset.clone())])),
        });
        assert_eq!(roundtrip(&asset), asset);
        assert_eq!(roundtrip(&archive), archive);
        let path_archive = PropertyValue::Archive(Archive {
            hash: None,
            source: ArchiveSource::Path("./dir".into()),
        });
        assert_eq!(roundtrip(&path_archive), path_archive);
    }

    #[test]
    fn output_values_decode_to_plain_secret_or_unknown() {
        let known_secret = obj(&[
            (SIG_KEY, str_value(SIG_OUTPUT)),
            ("value", str_value("v")),
            ("secret", kind(Kind::BoolValue(true))),
        ]);
        assert_eq!(
            decode_value(&known_secret, &PropertyPath::root()).unwrap(),
            PropertyValue::secret(PropertyValue::string("v"))
        );
        let unknown = obj(&[(SIG_KEY, str_value(SIG_OUTPUT))]);
        assert_eq!(
            decode_value(&unknown, &PropertyPath::root()).unwrap(),
            PropertyValue::Unknown(UnknownKind::String)
        );
    }

    #[test]
    fn malformed_special_values_name_their_path() {
        let bad = obj(&[(SIG_KEY, str_value(SIG_SECRET))]);
        let wrapped = obj(&[(
            "outer",
            kind(Kind::ListValue(prost_types::ListValue {
                values: vec![bad],
            })),
        )]);
        let err = decode_value(&wrapped, &PropertyPath::root()).unwrap_err();
        assert!(err.to_string().contains("outer[0]"), "{err}");
        let bytes = obj(&[
            (SIG_KEY, str_value(SIG_BYTE_STRING)),
            ("value", str_value("AA==")),
        ]);
        assert!(matches!(
            decode_value(&bytes, &PropertyPath::root()),
            Err(CodecError::UnsupportedSignature { .. })
        ));
        let empty = prost_types::Value { kind: None };
        assert!(decode_value(&empty, &PropertyPath::root()).is_err());
    }

    #[test]
    fn json_text_in_wire_form_decodes() {
        let text = format!(
            r#"{{"a": 1, "s": {{"{SIG_KEY}": "{SIG_SECRET}", "value": "x"}}, "u": "{}"}}"#,
            UnknownKind::Bool.sentinel()
        );
        let PropertyValue::Object(m) = decode_json_text(&text).unwrap() else {
            panic!("object expected")
        };
        assert_eq!(m["a"], PropertyValue::Number(1.0));
        assert_eq!(m["s"], PropertyValue::secret(PropertyValue::string("x")));
        assert_eq!(m["u"], PropertyValue::Unknown(UnknownKind::Bool));
        assert!(decode_json_text("{not json").is_err());
    }

    #[test]
    fn absent_struct_is_empty_map() {
        assert!(decode_struct(None).unwrap().is_empty());
    }
}
