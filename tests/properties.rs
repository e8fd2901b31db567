//! Property tests: the codec round-trips every value the engine can send (secrets, unknowns,
//! references, nesting, paths in errors), and for every resource zerotrust serves, Check of
//! Check's output changes nothing and Diff of identical inputs is empty, over inputs generated
//! from the resource's own schema.

#[path = "support/report.rs"]
mod report;
use report::report;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use prost::Message;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use zerotrust::codec::{
    self, PropertyMap, PropertyValue, ResourceRef, SIG_KEY, UnknownKind, decode_struct, encode_map,
};
use zerotrust::model::schema::Types;
use zerotrust::typed::erased::{CheckArgs, DiffArgs};

fn cases() -> u32 {
    std::env::var("ZT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn key() -> impl Strategy<Value = String> {
    // Any text but the signature key, which marks special objects on the wire.
    ".{0,12}".prop_filter("not the signature key", |k| k != SIG_KEY)
}

fn text() -> impl Strategy<Value = String> {
    // Any text but the sentinels that mean "unknown" on the wire.
    ".{0,24}".prop_filter("not an unknown sentinel", |s| {
        UnknownKind::from_sentinel(s).is_none()
    })
}

fn value() -> impl Strategy<Value = PropertyValue> {
    let leaf = prop_oneof![
        Just(PropertyValue::Null),
        any::<bool>().prop_map(PropertyValue::Bool),
        (-1e15f64..1e15).prop_map(PropertyValue::Number),
        text().prop_map(PropertyValue::String),
        prop::sample::select(UnknownKind::ALL.to_vec()).prop_map(PropertyValue::Unknown),
        (text(), prop::option::of(text()), text()).prop_map(|(urn, id, version)| {
            PropertyValue::ResourceRef(ResourceRef {
                urn,
                // An empty id means "unknown" on the wire, as in the engine.
                id: id
                    .filter(|i| !i.is_empty())
                    .map(|i| Box::new(PropertyValue::String(i))),
                package_version: version,
            })
        }),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(PropertyValue::Array),
            prop::collection::btree_map(key(), inner.clone(), 0..5).prop_map(PropertyValue::Object),
            // A secret holds a plain value; the engine never nests secrets.
            inner
                .prop_filter("no secret in a secret", |v| {
                    !matches!(v, PropertyValue::Secret(_))
                })
                .prop_map(|v| PropertyValue::Secret(Box::new(v))),
        ]
    })
}

fn property_map() -> impl Strategy<Value = PropertyMap> {
    prop::collection::btree_map(key(), value(), 0..6)
}

#[test]
fn the_codec_round_trips_every_value() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&property_map(), |map| {
            let wire = encode_map(&map);
            // Through bytes as well, as it travels.
            let bytes = wire.encode_to_vec();
            let received = prost_types::Struct::decode(bytes.as_slice())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let decoded =
                decode_struct(Some(&received)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decoded, map);
            Ok(())
        })
        .unwrap();
    report(&format!("codec round trip: {} cases", cases()));
}

#[test]
fn codec_errors_name_the_path_of_the_bad_value() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    let path = prop::collection::vec(key().prop_filter("plain", |k| !k.is_empty()), 1..4);
    runner
        .run(&path, |keys| {
            // A special object with an unknown signature, nested under `keys`.
            let mut bad = prost_types::Value {
                kind: Some(prost_types::value::Kind::StructValue(prost_types::Struct {
                    fields: [(
                        SIG_KEY.to_string(),
                        prost_types::Value {
                            kind: Some(prost_types::value::Kind::StringValue("nope".into())),
                        },
                    )]
                    .into(),
                })),
            };
            for k in keys.iter().skip(1).rev() {
                bad = prost_types::Value {
                    kind: Some(prost_types::value::Kind::StructValue(prost_types::Struct {
                        fields: [(k.clone(), bad)].into(),
                    })),
                };
            }
            let top = prost_types::Struct {
                fields: [(keys[0].clone(), bad)].into(),
            };
            let err = decode_struct(Some(&top)).expect_err("unknown signature");
            let expected = keys
                .iter()
                .fold(codec::PropertyPath::root(), |p, k| p.key(k.as_str()))
                .to_string();
            prop_assert!(
                err.to_string().contains(&format!("property {expected}:")),
                "{} does not name {}",
                err,
                expected
            );
            Ok(())
        })
        .unwrap();
}

/// A small seeded generator, so a failing case is reproduced by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn pick(rng: &mut Rng, n: usize) -> usize {
    (rng.next() % n.max(1) as u64) as usize
}

/// Inputs for one object spec, from the schema: plausible values (enum members, names the
/// resources know) mixed with arbitrary ones, some unknown, some secret.
struct Inputs<'a> {
    types: &'a Types,
    rng: Rng,
}

const WORDS: &[&str] = &[
    "",
    "a",
    "RSA",
    "ECDSA",
    "ED25519",
    "P256",
    "P384",
    "2048",
    "server_auth",
    "client_auth",
    "digital_signature",
    "key_encipherment",
    "cert_signing",
    "example.com",
    "*.example.com",
    "10.0.0.1",
    "spiffe://cluster.local/ns/ml/sa/trainer",
    "ml",
    "pki",
    "internal",
    "root",
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x",
    "Z123",
    "A",
    "CNAME",
    "not a PEM",
    "westus2",
];

impl Inputs<'_> {
    fn chance(&mut self, one_in: usize) -> bool {
        pick(&mut self.rng, one_in) == 0
    }

    fn object(
        &mut self,
        properties: &serde_json::Map<String, Json>,
        required: &[String],
    ) -> PropertyMap {
        let mut map = PropertyMap::new();
        for (name, spec) in properties {
            if required.contains(name) || self.chance(2) {
                map.insert(name.clone(), self.value(spec, 0));
            }
        }
        map
    }

    fn value(&mut self, spec: &Json, depth: usize) -> PropertyValue {
        if self.chance(12) {
            return PropertyValue::Unknown(UnknownKind::ALL[0]);
        }
        let plain = self.plain(spec, depth);
        if spec.get("secret") == Some(&Json::Bool(true)) && self.chance(2) {
            return PropertyValue::secret(plain);
        }
        plain
    }

    fn plain(&mut self, spec: &Json, depth: usize) -> PropertyValue {
        if let Some(reference) = spec.get("$ref").and_then(Json::as_str) {
            let token = reference.trim_start_matches("#/types/");
            let Some(t) = self.types.get(token) else {
                return PropertyValue::Object(PropertyMap::new());
            };
            if depth > 3 {
                return PropertyValue::Object(PropertyMap::new());
            }
            let empty = serde_json::Map::new();
            let properties = t
                .get("properties")
                .and_then(Json::as_object)
                .unwrap_or(&empty);
            let required: Vec<String> = t
                .get("required")
                .and_then(Json::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let mut map = PropertyMap::new();
            for (name, p) in properties {
                if required.contains(name) || self.chance(2) {
                    map.insert(name.clone(), self.value(p, depth + 1));
                }
            }
            return PropertyValue::Object(map);
        }
        match spec.get("type").and_then(Json::as_str) {
            Some("string") => {
                let choices = spec.get("enum").and_then(Json::as_array);
                let chosen = choices.and_then(|c| {
                    c.get(pick(&mut self.rng, c.len()))
                        .and_then(|c| c.get("value").or(Some(c)))
                        .and_then(Json::as_str)
                });
                if let Some(v) = chosen {
                    return PropertyValue::string(v);
                }
                PropertyValue::string(WORDS[pick(&mut self.rng, WORDS.len())])
            }
            Some("integer") => {
                let choices = [-1.0, 0.0, 1.0, 24.0, 90.0, 2048.0, 3072.0, 1e6];
                PropertyValue::Number(choices[pick(&mut self.rng, choices.len())])
            }
            Some("number") => PropertyValue::Number(pick(&mut self.rng, 1000) as f64 / 7.0),
            Some("boolean") => PropertyValue::Bool(self.chance(2)),
            Some("array") => {
                let items = spec.get("items").cloned().unwrap_or(Json::Null);
                let n = pick(&mut self.rng, 4);
                PropertyValue::Array((0..n).map(|_| self.value(&items, depth + 1)).collect())
            }
            Some("object") => {
                let values = spec
                    .get("additionalProperties")
                    .cloned()
                    .unwrap_or(Json::Null);
                let n = pick(&mut self.rng, 3);
                PropertyValue::Object(
                    (0..n)
                        .map(|i| (format!("k{i}"), self.value(&values, depth + 1)))
                        .collect(),
                )
            }
            _ => PropertyValue::string(WORDS[pick(&mut self.rng, WORDS.len())]),
        }
    }
}

#[test]
fn check_is_idempotent_and_diff_of_identical_inputs_is_empty() {
    let registry = zerotrust::modules::registry();
    let per_resource = cases();
    let mut accepted = 0usize;
    let mut total = 0usize;
    let tokens: Vec<&str> = registry.resource_tokens().copied().collect();
    for (n, token) in tokens.iter().enumerate() {
        let resource = registry.get_resource(token).expect("registered");
        let specs = resource.specs();
        let mut generator = Inputs {
            types: &specs.types,
            rng: Rng(0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1)),
        };
        for case in 0..per_resource {
            total += 1;
            let news = generator.object(&specs.inputs.properties, &specs.inputs.required);
            let check = |olds: &PropertyMap, news: &PropertyMap| {
                resource.check(CheckArgs {
                    name: "r",
                    random_seed: b"seed",
                    olds,
                    news,
                })
            };
            let (checked, failures) = check(&PropertyMap::new(), &news);
            if !failures.is_empty() {
                for f in &failures {
                    assert!(!f.reason.is_empty(), "{token} case {case}: an empty reason");
                }
                continue;
            }
            accepted += 1;
            let (again, failures) = check(&checked, &checked);
            assert!(
                failures.is_empty(),
                "{token} case {case}: Check refuses its own output {checked:?}: {failures:?}"
            );
            assert_eq!(
                again, checked,
                "{token} case {case}: Check of Check's output changed it (inputs {news:?})"
            );
            // Recorded inputs are always known (state is written after apply), so the
            // statement is about known inputs: unknown news may always differ.
            if codec::contains_unknowns(&checked) {
                continue;
            }
            let diff = resource.diff(DiffArgs {
                olds: &PropertyMap::new(),
                news: &checked,
                old_inputs: Some(&checked),
                ignore: &BTreeSet::new(),
                now: time::OffsetDateTime::now_utc(),
            });
            assert!(
                !diff.has_changes(),
                "{token} case {case}: identical inputs differ: {:?} (inputs {checked:?})",
                diff.diffs
            );
        }
    }
    report(&format!(
        "check/diff invariants: {total} cases over {} resources, {accepted} accepted by Check",
        tokens.len()
    ));
    assert!(
        accepted > total / 20,
        "too few generated inputs pass Check to prove much"
    );
}
