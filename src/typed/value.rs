//! `Value<T>` (known or unknown) and `Secret<T>` (redacted, always secret on the wire).

use crate::codec::typed_json::{
    as_unknown_marker, json_contains_unknowns, secret_envelope, unknown_marker,
};
use crate::codec::{SIG_KEY, SIG_SECRET, UnknownKind};
use crate::model::schema::SCHEMA_SECRET_KEY;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;

/// A property value that may not be known yet (during preview).
///
/// Unknown is a real variant: code that needs the value must match on it, so an unknown can
/// never be mistaken for an empty string or a zero.
#[derive(Clone, PartialEq, Eq)]
pub enum Value<T> {
    Known(T),
    Unknown,
}

impl<T> Value<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Value::Known(v) => Some(v),
            Value::Unknown => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Value::Known(v) => Some(v),
            Value::Unknown => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Value<U> {
        match self {
            Value::Known(v) => Value::Known(f(v)),
            Value::Unknown => Value::Unknown,
        }
    }

    pub fn as_ref(&self) -> Value<&T> {
        match self {
            Value::Known(v) => Value::Known(v),
            Value::Unknown => Value::Unknown,
        }
    }
}

impl<T> From<T> for Value<T> {
    fn from(v: T) -> Self {
        Value::Known(v)
    }
}

impl<T: fmt::Debug> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Known(v) => v.fmt(f),
            Value::Unknown => f.write_str("<unknown>"),
        }
    }
}

impl<T: Serialize> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Known(v) => v.serialize(s),
            Value::Unknown => unknown_marker(UnknownKind::String).serialize(s),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(d)?;
        // A value with an unknown anywhere inside cannot be used as a whole.
        if as_unknown_marker(&json).is_some() || json_contains_unknowns(&json) {
            return Ok(Value::Unknown);
        }
        serde_json::from_value(json)
            .map(Value::Known)
            .map_err(D::Error::custom)
    }
}

impl<T: JsonSchema> JsonSchema for Value<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// Sensitive data. Its `Debug` and `Display` never show the content, and it always goes to the
/// engine wrapped as a secret, so it is encrypted in state.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(v: T) -> Self {
        Secret(v)
    }

    /// Read the content. Named so that every use stands out in review.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let inner = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        secret_envelope(inner).serialize(s)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(d)?;
        // Accept the envelope too, so values written by our own Serialize read back.
        let inner = match json {
            Json::Object(mut m) if m.get(SIG_KEY).and_then(Json::as_str) == Some(SIG_SECRET) => {
                m.remove("value").unwrap_or(Json::Null)
            }
            other => other,
        };
        serde_json::from_value(inner)
            .map(Secret)
            .map_err(D::Error::custom)
    }
}

impl<T: JsonSchema> JsonSchema for Secret<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Secret_{}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<T>();
        schema.insert(SCHEMA_SECRET_KEY.to_string(), Json::Bool(true));
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Serialize, Debug)]
    #[serde(rename_all = "camelCase")]
    struct Inputs {
        name: Value<String>,
        #[serde(default)]
        hours: Option<Value<i64>>,
        key: Value<Secret<String>>,
    }

    #[test]
    fn unknown_is_a_variant_not_a_zero_value() {
        let j = serde_json::json!({
            "name": unknown_marker(UnknownKind::String),
            "hours": unknown_marker(UnknownKind::Number),
            "key": "pem",
        });
        let i: Inputs = serde_json::from_value(j).unwrap();
        assert!(i.name.is_unknown());
        assert_eq!(i.hours, Some(Value::Unknown));
        assert_eq!(i.key.known().map(|s| s.expose().as_str()), Some("pem"));
    }

    #[test]
    fn a_list_with_an_unknown_element_is_unknown_as_a_whole() {
        let j = serde_json::json!(["a", unknown_marker(UnknownKind::String)]);
        let v: Value<Vec<String>> = serde_json::from_value(j).unwrap();
        assert!(v.is_unknown());
    }

    #[test]
    fn secret_debug_and_display_redact() {
        let s = Secret::new("-----BEGIN PRIVATE KEY-----".to_string());
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        let v = Value::Known(s);
        assert!(!format!("{v:?}").contains("BEGIN"));
    }

    #[test]
    fn secret_serializes_as_an_envelope_and_reads_back() {
        let s = Secret::new("x".to_string());
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j[SIG_KEY], Json::String(SIG_SECRET.into()));
        let back: Secret<String> = serde_json::from_value(j).unwrap();
        assert_eq!(back.expose(), "x");
    }

    #[test]
    fn unknown_serializes_as_a_marker() {
        let v: Value<i64> = Value::Unknown;
        let j = serde_json::to_value(&v).unwrap();
        assert!(as_unknown_marker(&j).is_some());
    }
}
