//! Record sets as plain values, and their conversion to and from the SDK's types: TXT quoting,
//! change batches, and the batches a forced zone deletion sends. Pure functions only.

use super::names;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, GeoLocation, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};

/// The comment on every change batch this provider sends.
pub const CHANGE_COMMENT: &str = "Managed by Pulumi (zerotrust)";
/// Longest character-string in a TXT record (RFC 1035 §3.3).
pub const TXT_CHUNK: usize = 255;
/// Change batches of a forced zone deletion stay well below Route 53's limits (1,000 records
/// per request).
const MAX_SETS_PER_BATCH: usize = 100;
const MAX_RECORDS_PER_BATCH: usize = 900;

/// An alias target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AliasSpec {
    pub name: String,
    pub zone_id: String,
    pub evaluate_target_health: bool,
}

/// A geolocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeoSpec {
    pub continent: Option<String>,
    pub country: Option<String>,
    pub subdivision: Option<String>,
}

/// One record set, with values as programs write them (TXT without its quotes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordSpec {
    /// Fully qualified and normalised.
    pub name: String,
    pub rtype: String,
    pub set_identifier: Option<String>,
    pub ttl: Option<i64>,
    pub records: Vec<String>,
    pub alias: Option<AliasSpec>,
    pub weight: Option<i64>,
    pub failover: Option<String>,
    pub region: Option<String>,
    pub geo: Option<GeoSpec>,
    pub multivalue: Option<bool>,
    pub health_check_id: Option<String>,
}

impl RecordSpec {
    /// Whether two sets say the same thing: values compare as a set, as Route 53 keeps them.
    pub fn same_as(&self, other: &RecordSpec) -> bool {
        let sorted = |s: &RecordSpec| {
            let mut s = s.clone();
            s.records.sort();
            s.multivalue = s.multivalue.filter(|m| *m);
            s
        };
        sorted(self) == sorted(other)
    }
}

fn is_txt(rtype: &str) -> bool {
    rtype == "TXT" || rtype == "SPF"
}

/// Split at char boundaries into pieces of at most `max` bytes.
fn chunks(value: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    out
}

/// The Route 53 value of a TXT (or SPF) entry. As in pulumi-aws the entry is wrapped in quotes,
/// and an entry that already holds quotes or escapes is passed through as written (so
/// `"part1\" \"part2"` still means two strings). A plain entry longer than 255 characters, which
/// Route 53 would refuse, is split into 255-character strings (`"aaa…" "bbb…"`).
pub fn encode_txt(value: &str) -> String {
    if value.contains('"') || value.contains('\\') {
        return format!("\"{value}\"");
    }
    chunks(value, TXT_CHUNK)
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The quoted strings of a TXT value, if it is a plain sequence of them.
fn quoted_strings(raw: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = raw.trim();
    while !rest.is_empty() {
        let body = rest.strip_prefix('"')?;
        let end = body.find('"')?;
        out.push(&body[..end]);
        rest = body[end + 1..].trim_start();
    }
    Some(out)
}

/// The entry a program writes for a Route 53 TXT value: a value [`encode_txt`] split is joined
/// again; otherwise the outer quotes are removed, as pulumi-aws does.
pub fn decode_txt(raw: &str) -> String {
    if let Some(parts) = quoted_strings(raw).filter(|p| p.len() > 1) {
        let joined = parts.concat();
        if encode_txt(&joined) == raw {
            return joined;
        }
    }
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if raw.len() >= 2 => inner.to_string(),
        _ => raw.to_string(),
    }
}

fn build_err(what: &str, e: impl std::fmt::Display) -> String {
    format!("building the {what}: {e}")
}

/// The SDK record set for a spec.
pub fn to_sdk(spec: &RecordSpec) -> Result<ResourceRecordSet, String> {
    let mut b = ResourceRecordSet::builder()
        .name(&spec.name)
        .r#type(RrType::from(spec.rtype.as_str()));
    if let Some(set) = &spec.set_identifier {
        b = b.set_identifier(set);
    }
    if let Some(alias) = &spec.alias {
        let target = AliasTarget::builder()
            .dns_name(&alias.name)
            .hosted_zone_id(&alias.zone_id)
            .evaluate_target_health(alias.evaluate_target_health)
            .build()
            .map_err(|e| build_err("alias target", e))?;
        b = b.alias_target(target);
    } else {
        for value in &spec.records {
            let value = if is_txt(&spec.rtype) {
                encode_txt(value)
            } else {
                value.clone()
            };
            let record = ResourceRecord::builder()
                .value(value)
                .build()
                .map_err(|e| build_err("resource record", e))?;
            b = b.resource_records(record);
        }
        b = b.set_ttl(spec.ttl);
    }
    b = b
        .set_weight(spec.weight)
        .set_failover(
            spec.failover
                .as_deref()
                .map(ResourceRecordSetFailover::from),
        )
        .set_region(spec.region.as_deref().map(ResourceRecordSetRegion::from))
        .set_health_check_id(spec.health_check_id.clone());
    if let Some(geo) = &spec.geo {
        b = b.geo_location(
            GeoLocation::builder()
                .set_continent_code(geo.continent.clone())
                .set_country_code(geo.country.clone())
                .set_subdivision_code(geo.subdivision.clone())
                .build(),
        );
    }
    if spec.multivalue == Some(true) {
        b = b.multi_value_answer(true);
    }
    b.build().map_err(|e| build_err("record set", e))
}

/// The spec of a record set Route 53 returned.
pub fn from_sdk(set: &ResourceRecordSet) -> RecordSpec {
    let rtype = set.r#type().as_str().to_string();
    let records = set
        .resource_records()
        .iter()
        .map(|r| {
            if is_txt(&rtype) {
                decode_txt(r.value())
            } else {
                r.value().to_string()
            }
        })
        .collect();
    RecordSpec {
        name: names::normalize(set.name()),
        set_identifier: set.set_identifier().map(str::to_string),
        ttl: set.ttl(),
        records,
        alias: set.alias_target().map(|a| AliasSpec {
            name: names::normalize(a.dns_name()),
            zone_id: a.hosted_zone_id().to_string(),
            evaluate_target_health: a.evaluate_target_health(),
        }),
        weight: set.weight(),
        failover: set.failover().map(|f| f.as_str().to_string()),
        region: set.region().map(|r| r.as_str().to_string()),
        geo: set.geo_location().map(|g| GeoSpec {
            continent: g.continent_code().map(str::to_string),
            country: g.country_code().map(str::to_string),
            subdivision: g.subdivision_code().map(str::to_string),
        }),
        multivalue: set.multi_value_answer().filter(|m| *m),
        health_check_id: set.health_check_id().map(str::to_string),
        rtype,
    }
}

/// Whether a listed set is the one identified by name, type and set identifier.
pub fn is_identified_by(
    set: &ResourceRecordSet,
    name: &str,
    rtype: &str,
    set_identifier: Option<&str>,
) -> bool {
    names::normalize(set.name()) == name
        && set.r#type().as_str() == rtype
        && set.set_identifier() == set_identifier
}

/// One change batch of the given changes.
pub fn change_batch(
    changes: Vec<(ChangeAction, ResourceRecordSet)>,
) -> Result<ChangeBatch, String> {
    let mut b = ChangeBatch::builder().comment(CHANGE_COMMENT);
    for (action, set) in changes {
        let change = Change::builder()
            .action(action)
            .resource_record_set(set)
            .build()
            .map_err(|e| build_err("change", e))?;
        b = b.changes(change);
    }
    b.build().map_err(|e| build_err("change batch", e))
}

/// What a forced zone deletion deletes, in batches: every set except the apex NS and SOA,
/// which Route 53 deletes with the zone.
pub fn deletion_batches(sets: &[ResourceRecordSet], zone: &str) -> Vec<Vec<ResourceRecordSet>> {
    let mut batches: Vec<Vec<ResourceRecordSet>> = Vec::new();
    let mut records_in_batch = 0;
    for set in sets {
        let apex = names::normalize(set.name()) == zone;
        if apex && matches!(set.r#type(), RrType::Ns | RrType::Soa) {
            continue;
        }
        let records = set.resource_records().len().max(1);
        let full = batches.last().is_none_or(|b| {
            b.len() >= MAX_SETS_PER_BATCH || records_in_batch + records > MAX_RECORDS_PER_BATCH
        });
        if full {
            batches.push(Vec::new());
            records_in_batch = 0;
        }
        records_in_batch += records;
        if let Some(batch) = batches.last_mut() {
            batch.push(set.clone());
        }
    }
    batches
}

/// The code and messages of a Route 53 `InvalidChangeBatch` answer. Route 53 sends it with its
/// own root element (`<InvalidChangeBatch><Messages><Message>…`) instead of the usual
/// `<ErrorResponse>`, which the SDK's generic error parser does not read.
pub fn invalid_change_batch_messages(body: &str) -> Option<Vec<String>> {
    if !body.contains("<InvalidChangeBatch") {
        return None;
    }
    let mut messages = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<Message>") {
        let after = &rest[start + "<Message>".len()..];
        let Some(end) = after.find("</Message>") else {
            break;
        };
        messages.push(unescape_xml(&after[..end]));
        rest = &after[end..];
    }
    Some(messages)
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a_record() -> RecordSpec {
        RecordSpec {
            name: "api.example.com".into(),
            rtype: "A".into(),
            ttl: Some(300),
            records: vec!["192.0.2.10".into(), "192.0.2.11".into()],
            ..Default::default()
        }
    }

    #[test]
    fn short_txt_values_are_quoted_as_upstream() {
        assert_eq!(encode_txt("v=spf1 -all"), "\"v=spf1 -all\"");
        assert_eq!(decode_txt("\"v=spf1 -all\""), "v=spf1 -all");
        assert_eq!(encode_txt(""), "\"\"");
        assert_eq!(decode_txt("\"\""), "");
        // Upstream's way of writing several strings by hand passes through.
        let manual = "part1\" \"part2";
        assert_eq!(encode_txt(manual), "\"part1\" \"part2\"");
        assert_eq!(decode_txt(&encode_txt(manual)), manual);
    }

    #[test]
    fn long_txt_values_are_split_into_255_character_strings_and_joined_on_read() {
        let dkim = format!("v=DKIM1; k=rsa; p={}", "A".repeat(600));
        let encoded = encode_txt(&dkim);
        let parts = quoted_strings(&encoded).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts[..2].iter().all(|p| p.len() == TXT_CHUNK));
        assert_eq!(parts.concat(), dkim);
        assert_eq!(decode_txt(&encoded), dkim);
        // Exactly 255 stays one string.
        let exact = "x".repeat(255);
        assert_eq!(encode_txt(&exact), format!("\"{exact}\""));
        // Multi-byte characters are never cut.
        let wide = "é".repeat(200);
        let encoded = encode_txt(&wide);
        assert!(
            quoted_strings(&encoded)
                .unwrap()
                .iter()
                .all(|p| p.len() <= TXT_CHUNK)
        );
        assert_eq!(decode_txt(&encoded), wide);
    }

    #[test]
    fn hand_split_txt_values_that_we_would_not_produce_stay_as_written() {
        let raw = "\"abc\" \"def\"";
        assert_eq!(decode_txt(raw), "abc\" \"def");
    }

    #[test]
    fn record_sets_round_trip_through_the_sdk() {
        let spec = RecordSpec {
            set_identifier: Some("blue".into()),
            weight: Some(10),
            health_check_id: Some("hc-1".into()),
            ..a_record()
        };
        let sdk = to_sdk(&spec).unwrap();
        assert_eq!(sdk.name(), "api.example.com");
        assert_eq!(sdk.r#type(), &RrType::A);
        assert_eq!(sdk.ttl(), Some(300));
        assert_eq!(sdk.weight(), Some(10));
        assert_eq!(sdk.resource_records().len(), 2);
        assert!(sdk.alias_target().is_none());
        assert_eq!(from_sdk(&sdk), spec);
    }

    #[test]
    fn aliases_carry_no_ttl_or_records() {
        let spec = RecordSpec {
            name: "ai-pipeline.example.com".into(),
            rtype: "A".into(),
            alias: Some(AliasSpec {
                name: "my-alb-123.us-east-1.elb.amazonaws.com".into(),
                zone_id: "Z35SXDOTRQ7X7K".into(),
                evaluate_target_health: true,
            }),
            ..Default::default()
        };
        let sdk = to_sdk(&spec).unwrap();
        assert_eq!(sdk.ttl(), None);
        assert!(sdk.resource_records().is_empty());
        let target = sdk.alias_target().unwrap();
        assert_eq!(target.hosted_zone_id(), "Z35SXDOTRQ7X7K");
        assert!(target.evaluate_target_health());
        assert_eq!(from_sdk(&sdk), spec);
    }

    #[test]
    fn routing_policies_map_to_their_fields() {
        let spec = RecordSpec {
            set_identifier: Some("eu".into()),
            geo: Some(GeoSpec {
                continent: Some("EU".into()),
                ..Default::default()
            }),
            ..a_record()
        };
        let sdk = to_sdk(&spec).unwrap();
        assert_eq!(sdk.geo_location().unwrap().continent_code(), Some("EU"));
        assert_eq!(from_sdk(&sdk), spec);
        let spec = RecordSpec {
            set_identifier: Some("primary".into()),
            failover: Some("PRIMARY".into()),
            ..a_record()
        };
        let sdk = to_sdk(&spec).unwrap();
        assert_eq!(sdk.failover(), Some(&ResourceRecordSetFailover::Primary));
        let spec = RecordSpec {
            set_identifier: Some("use1".into()),
            region: Some("us-east-1".into()),
            ..a_record()
        };
        assert_eq!(
            to_sdk(&spec).unwrap().region(),
            Some(&ResourceRecordSetRegion::UsEast1)
        );
        // multivalue false is the same as absent, and is not sent.
        let spec = RecordSpec {
            multivalue: Some(false),
            ..a_record()
        };
        assert_eq!(to_sdk(&spec).unwrap().multi_value_answer(), None);
        assert!(spec.same_as(&a_record()));
    }

    #[test]
    fn txt_records_are_quoted_on_the_wire() {
        let spec = RecordSpec {
            name: "example.com".into(),
            rtype: "TXT".into(),
            ttl: Some(60),
            records: vec!["hello world".into()],
            ..Default::default()
        };
        let sdk = to_sdk(&spec).unwrap();
        assert_eq!(sdk.resource_records()[0].value(), "\"hello world\"");
        assert_eq!(from_sdk(&sdk), spec);
    }

    #[test]
    fn sets_compare_values_as_sets() {
        let mut reordered = a_record();
        reordered.records.reverse();
        assert!(a_record().same_as(&reordered));
        let mut changed = a_record();
        changed.ttl = Some(60);
        assert!(!a_record().same_as(&changed));
    }

    #[test]
    fn change_batches_hold_the_actions_in_order() {
        let old = to_sdk(&a_record()).unwrap();
        let new = to_sdk(&RecordSpec {
            ttl: Some(60),
            ..a_record()
        })
        .unwrap();
        let batch = change_batch(vec![
            (ChangeAction::Delete, old.clone()),
            (ChangeAction::Create, new.clone()),
        ])
        .unwrap();
        assert_eq!(batch.comment(), Some(CHANGE_COMMENT));
        let changes = batch.changes();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].action(), &ChangeAction::Delete);
        assert_eq!(changes[0].resource_record_set(), Some(&old));
        assert_eq!(changes[1].action(), &ChangeAction::Create);
        assert_eq!(changes[1].resource_record_set(), Some(&new));
    }

    #[test]
    fn identification_uses_name_type_and_set_identifier() {
        let sdk = to_sdk(&RecordSpec {
            name: "\\052.Example.com.".into(),
            set_identifier: Some("a".into()),
            ..a_record()
        })
        .unwrap();
        assert!(is_identified_by(&sdk, "*.example.com", "A", Some("a")));
        assert!(!is_identified_by(&sdk, "*.example.com", "A", None));
        assert!(!is_identified_by(&sdk, "*.example.com", "AAAA", Some("a")));
    }

    #[test]
    fn forced_deletion_keeps_the_apex_ns_and_soa_and_batches_the_rest() {
        let set = |name: &str, rtype: &str, n: usize| {
            to_sdk(&RecordSpec {
                name: name.into(),
                rtype: rtype.into(),
                ttl: Some(60),
                records: (0..n).map(|i| format!("10.0.0.{i}")).collect(),
                ..Default::default()
            })
            .unwrap()
        };
        let mut sets = vec![
            set("example.com.", "NS", 4),
            set("example.com.", "SOA", 1),
            set("sub.example.com", "NS", 4),
        ];
        sets.extend((0..150).map(|i| set(&format!("h{i}.example.com"), "A", 1)));
        let batches = deletion_batches(&sets, "example.com");
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 151);
        assert_eq!(batches.len(), 2);
        assert!(batches.iter().all(|b| b.len() <= MAX_SETS_PER_BATCH));
        assert_eq!(batches[0][0].name(), "sub.example.com");
        let big: Vec<_> = (0..3)
            .map(|i| set(&format!("b{i}.example.com"), "A", 400))
            .collect();
        // 400 + 400 fit in one batch, a third 400 does not.
        let batches = deletion_batches(&big, "example.com");
        assert_eq!(batches.len(), 2);
        assert!(deletion_batches(&sets[..2], "example.com").is_empty());
    }

    #[test]
    fn invalid_change_batch_answers_are_read() {
        let body = r#"<?xml version="1.0"?>
<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Messages><Message>Tried to create resource record set [name=&apos;api.example.com.&apos;, type=&apos;A&apos;] but it already exists</Message></Messages><RequestId>r</RequestId></InvalidChangeBatch>"#;
        assert_eq!(
            invalid_change_batch_messages(body).unwrap(),
            vec!["Tried to create resource record set [name='api.example.com.', type='A'] but it already exists".to_string()]
        );
        assert_eq!(invalid_change_batch_messages("<ErrorResponse/>"), None);
    }
}
