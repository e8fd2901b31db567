//! `zerotrust:aws/route53:Record`, as pulumi-aws `aws.route53.Record`.

use super::names;
use super::rrset::{self, AliasSpec, GeoSpec, RecordSpec};
use super::{
    INVALID_CHANGE_BATCH, NO_SUCH_HOSTED_ZONE, change_records, find_set, wait_insync, zone_name,
};
use crate::codec::PropertyPath;
use crate::modules::aws::client::{AwsClients, AwsError};
use crate::modules::backend::require_known;
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{
    CheckCtx, Created, DiffInput, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use aws_sdk_route53::types::{ChangeAction, ChangeInfo, ResourceRecordSetRegion};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

pub struct Record;

/// An alias target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordAlias {
    /// Set to `true` if you want Route 53 to determine whether to respond to DNS queries using
    /// this resource record set by checking the health of the resource record set.
    pub evaluate_target_health: bool,
    /// DNS domain name for a CloudFront distribution, S3 bucket, ELB, or another resource
    /// record set in this hosted zone.
    pub name: String,
    /// Hosted zone ID for a CloudFront distribution, S3 bucket, ELB, or Route 53 hosted zone
    /// (for example `Z35SXDOTRQ7X7K` for load balancers in us-east-1).
    pub zone_id: String,
}

/// Weighted routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordWeightedRoutingPolicy {
    /// A numeric value (0 to 255) indicating the relative weight of the record.
    pub weight: i64,
}

/// Failover routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordFailoverRoutingPolicy {
    /// `PRIMARY` or `SECONDARY`.
    #[serde(rename = "type")]
    pub failover_type: String,
}

/// Latency-based routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordLatencyRoutingPolicy {
    /// An AWS region from which to measure latency, e.g. `us-east-1`.
    pub region: String,
}

/// Geolocation routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordGeolocationRoutingPolicy {
    /// A two-letter continent code (`AF`, `AN`, `AS`, `EU`, `NA`, `OC`, `SA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continent: Option<String>,
    /// A two-character country code or `*` for the default resource record set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A subdivision code for a country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
}

/// Declares the record's fields once for its inputs and, with `fqdn`, its outputs.
macro_rules! record_fields {
    ($(#[$attr:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$attr])*
        #[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The ID of the hosted zone to contain this record. Changing it replaces the record.
            #[schemars(transform = replace_on_changes)]
            pub zone_id: Value<String>,
            /// The name of the record: fully qualified, or relative to the zone. Changing it
            /// replaces the record.
            #[schemars(transform = replace_on_changes)]
            pub name: Value<String>,
            /// The record type: `A`, `AAAA`, `CAA`, `CNAME`, `DS`, `MX`, `NAPTR`, `NS`, `PTR`,
            /// `SOA`, `SPF`, `SRV` or `TXT`. Changing it replaces the record.
            #[serde(rename = "type")]
            #[schemars(transform = replace_on_changes)]
            pub record_type: Value<String>,
            /// The TTL of the record, in seconds. Required for non-alias records, not allowed
            /// for alias records.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ttl: Option<Value<i64>>,
            /// A string list of records (required for non-alias records). TXT values are
            /// written without quotes; values longer than 255 characters are split for you.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub records: Option<Value<Vec<String>>>,
            /// An alias block (at most one). Conflicts with `ttl` and `records`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub aliases: Option<Value<Vec<RecordAlias>>>,
            /// Unique identifier to differentiate records with routing policies from one
            /// another. Required if using a routing policy. Changing it replaces the record.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(transform = replace_on_changes)]
            pub set_identifier: Option<Value<String>>,
            /// A block indicating a weighted routing policy (at most one).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub weighted_routing_policies: Option<Value<Vec<RecordWeightedRoutingPolicy>>>,
            /// A block indicating the routing behavior when associated health check fails (at
            /// most one).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub failover_routing_policies: Option<Value<Vec<RecordFailoverRoutingPolicy>>>,
            /// A block indicating a routing policy based on the latency between the requestor
            /// and an AWS region (at most one).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub latency_routing_policies: Option<Value<Vec<RecordLatencyRoutingPolicy>>>,
            /// A block indicating a routing policy based on the geolocation of the requestor
            /// (at most one).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub geolocation_routing_policies: Option<Value<Vec<RecordGeolocationRoutingPolicy>>>,
            /// Set to `true` to indicate a multivalue answer routing policy.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub multivalue_answer_routing_policy: Option<Value<bool>>,
            /// The health check the record should be associated with.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub health_check_id: Option<Value<String>>,
            /// Allow creation of this record to overwrite an existing record, if any (UPSERT
            /// instead of CREATE). Only affects the create; defaults to false.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub allow_overwrite: Option<Value<bool>>,
            $($extra)*
        }
    };
}

record_fields! {
    pub struct RecordInputs {}
}

record_fields! {
    pub struct RecordOutputs {
        /// The fully qualified name of the record, without a trailing dot.
        pub fqdn: Value<String>,
    }
}

impl RecordOutputs {
    fn new(i: RecordInputs, fqdn: Value<String>) -> Self {
        RecordOutputs {
            zone_id: i.zone_id,
            name: i.name,
            record_type: i.record_type,
            ttl: i.ttl,
            records: i.records,
            aliases: i.aliases,
            set_identifier: i.set_identifier,
            weighted_routing_policies: i.weighted_routing_policies,
            failover_routing_policies: i.failover_routing_policies,
            latency_routing_policies: i.latency_routing_policies,
            geolocation_routing_policies: i.geolocation_routing_policies,
            multivalue_answer_routing_policy: i.multivalue_answer_routing_policy,
            health_check_id: i.health_check_id,
            allow_overwrite: i.allow_overwrite,
            fqdn,
        }
    }

    fn inputs(&self) -> RecordInputs {
        RecordInputs {
            zone_id: self.zone_id.clone(),
            name: self.name.clone(),
            record_type: self.record_type.clone(),
            ttl: self.ttl.clone(),
            records: self.records.clone(),
            aliases: self.aliases.clone(),
            set_identifier: self.set_identifier.clone(),
            weighted_routing_policies: self.weighted_routing_policies.clone(),
            failover_routing_policies: self.failover_routing_policies.clone(),
            latency_routing_policies: self.latency_routing_policies.clone(),
            geolocation_routing_policies: self.geolocation_routing_policies.clone(),
            multivalue_answer_routing_policy: self.multivalue_answer_routing_policy.clone(),
            health_check_id: self.health_check_id.clone(),
            allow_overwrite: self.allow_overwrite.clone(),
        }
    }
}

const CONTINENTS: [&str; 7] = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"];
const FAILOVER_TYPES: [&str; 2] = ["PRIMARY", "SECONDARY"];
const ROUTING_KEYS: [&str; 5] = [
    "weightedRoutingPolicies",
    "failoverRoutingPolicies",
    "latencyRoutingPolicies",
    "geolocationRoutingPolicies",
    "multivalueAnswerRoutingPolicy",
];

fn path(key: &str) -> PropertyPath {
    PropertyPath::root().key(key)
}

/// Whether an optional list is present and non-empty: `None` while unknown.
fn list_present<T>(v: &Option<Value<Vec<T>>>) -> Option<bool> {
    match v {
        None => Some(false),
        Some(Value::Known(list)) => Some(!list.is_empty()),
        Some(Value::Unknown) => None,
    }
}

fn known_list<T>(v: &Option<Value<Vec<T>>>) -> &[T] {
    match v {
        Some(Value::Known(list)) => list,
        _ => &[],
    }
}

fn check_at_most_one<T>(key: &str, v: &Option<Value<Vec<T>>>, failures: &mut Failures) {
    if known_list(v).len() > 1 {
        failures.at(
            key,
            format!("at most one block is allowed, got {}", known_list(v).len()),
        );
    }
}

/// Routing policy kinds the record uses, each as present (`Some(true)`), absent, or unknown.
fn routing_kinds(i: &RecordInputs) -> [(&'static str, Option<bool>); 5] {
    let multivalue = match &i.multivalue_answer_routing_policy {
        None => Some(false),
        Some(Value::Known(b)) => Some(*b),
        Some(Value::Unknown) => None,
    };
    [
        (ROUTING_KEYS[0], list_present(&i.weighted_routing_policies)),
        (ROUTING_KEYS[1], list_present(&i.failover_routing_policies)),
        (ROUTING_KEYS[2], list_present(&i.latency_routing_policies)),
        (
            ROUTING_KEYS[3],
            list_present(&i.geolocation_routing_policies),
        ),
        (ROUTING_KEYS[4], multivalue),
    ]
}

fn check_values(i: &RecordInputs, failures: &mut Failures) {
    let (Value::Known(rtype), Some(Value::Known(records))) = (&i.record_type, &i.records) else {
        return;
    };
    for (n, value) in records.iter().enumerate() {
        let at = path("records").index(n);
        match rtype.as_str() {
            "A" if value.parse::<Ipv4Addr>().is_err() => {
                failures.add(
                    at,
                    format!("{value:?} is not an IPv4 address (an A record holds IPv4 addresses)"),
                );
            }
            "AAAA" if value.parse::<Ipv6Addr>().is_err() => {
                failures.add(
                    at,
                    format!(
                        "{value:?} is not an IPv6 address (an AAAA record holds IPv6 addresses)"
                    ),
                );
            }
            _ => {}
        }
    }
    if rtype == "CNAME" && records.len() > 1 {
        failures.at(
            "records",
            format!(
                "a CNAME record holds exactly one value, got {}",
                records.len()
            ),
        );
    }
}

fn check_alias_ttl_records(i: &mut RecordInputs, failures: &mut Failures) {
    let has_alias = list_present(&i.aliases);
    let has_records = list_present(&i.records);
    match has_alias {
        Some(true) => {
            if i.ttl.is_some() {
                failures.at(
                    "ttl",
                    "ttl cannot be set on an alias record: Route 53 uses the alias target's TTL",
                );
            }
            if has_records == Some(true) {
                failures.at("records", "records cannot be set together with aliases: a record is either an alias or holds values");
            }
            check_at_most_one("aliases", &i.aliases, failures);
            if let Some(Value::Known(aliases)) = &mut i.aliases {
                for (n, alias) in aliases.iter_mut().enumerate() {
                    alias.name = names::normalize(alias.name.trim());
                    alias.zone_id = names::clean_zone_id(&alias.zone_id).to_string();
                    let at = path("aliases").index(n);
                    if alias.name.is_empty() {
                        failures.add(
                            at.key("name"),
                            "the alias target's DNS name must not be empty",
                        );
                    }
                    if alias.zone_id.is_empty() {
                        failures.add(
                            at.key("zoneId"),
                            "the alias target's hosted zone id must not be empty",
                        );
                    }
                }
            }
        }
        Some(false) => {
            if has_records == Some(false) {
                failures.at("records", "one of records or aliases is required");
            }
            if i.ttl.is_none() && has_records != Some(false) {
                failures.at("ttl", "ttl is required for a record that is not an alias");
            }
        }
        None => {}
    }
    if let Some(Value::Known(ttl)) = &i.ttl
        && !(0..=i64::from(i32::MAX)).contains(ttl)
    {
        failures.at(
            "ttl",
            format!("{ttl} is out of range; expected 0 to {}", i32::MAX),
        );
    }
}

fn check_routing(i: &mut RecordInputs, failures: &mut Failures) {
    check_at_most_one(ROUTING_KEYS[0], &i.weighted_routing_policies, failures);
    check_at_most_one(ROUTING_KEYS[1], &i.failover_routing_policies, failures);
    check_at_most_one(ROUTING_KEYS[2], &i.latency_routing_policies, failures);
    check_at_most_one(ROUTING_KEYS[3], &i.geolocation_routing_policies, failures);
    let kinds = routing_kinds(i);
    let present: Vec<&str> = kinds
        .iter()
        .filter(|(_, p)| *p == Some(true))
        .map(|(k, _)| *k)
        .collect();
    for extra in present.iter().skip(1) {
        failures.at(
            extra,
            format!(
                "cannot be combined with {}: a record has at most one routing policy",
                present[0]
            ),
        );
    }
    let all_known = kinds.iter().all(|(_, p)| p.is_some());
    match &i.set_identifier {
        Some(Value::Known(s)) if s.is_empty() => failures.at("setIdentifier", "must not be empty"),
        Some(Value::Known(_)) if all_known && present.is_empty() => failures.at(
            "setIdentifier",
            "setIdentifier is only used with a routing policy (weighted, failover, latency, geolocation or multivalue answer)",
        ),
        None if !present.is_empty() => failures.at(
            "setIdentifier",
            format!("a record with a routing policy ({}) needs a setIdentifier", present.join(", ")),
        ),
        _ => {}
    }
    for (n, w) in known_list(&i.weighted_routing_policies).iter().enumerate() {
        if !(0..=255).contains(&w.weight) {
            failures.add(
                path(ROUTING_KEYS[0]).index(n).key("weight"),
                format!("{} is out of range; expected 0 to 255", w.weight),
            );
        }
    }
    for (n, f) in known_list(&i.failover_routing_policies).iter().enumerate() {
        if !FAILOVER_TYPES.contains(&f.failover_type.as_str()) {
            failures.add(
                path(ROUTING_KEYS[1]).index(n).key("type"),
                format!(
                    "unknown failover type {:?}; expected PRIMARY or SECONDARY",
                    f.failover_type
                ),
            );
        }
    }
    for (n, l) in known_list(&i.latency_routing_policies).iter().enumerate() {
        if !ResourceRecordSetRegion::values().contains(&l.region.as_str()) {
            failures.add(
                path(ROUTING_KEYS[2]).index(n).key("region"),
                format!(
                    "{:?} is not a region Route 53 measures latency from",
                    l.region
                ),
            );
        }
    }
    if let Some(Value::Known(geos)) = &mut i.geolocation_routing_policies {
        for (n, g) in geos.iter_mut().enumerate() {
            for field in [&mut g.continent, &mut g.country, &mut g.subdivision] {
                if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    *field = None;
                }
            }
            let at = path(ROUTING_KEYS[3]).index(n);
            match (&g.continent, &g.country) {
                (None, None) => failures.add(at.clone(), "set continent or country"),
                (Some(_), Some(_)) => {
                    failures.add(at.clone(), "set continent or country, not both")
                }
                (Some(c), None) if !CONTINENTS.contains(&c.as_str()) => failures.add(
                    at.key("continent"),
                    format!(
                        "unknown continent code {c:?}; expected one of {}",
                        CONTINENTS.join(", ")
                    ),
                ),
                _ => {}
            }
            if g.subdivision.is_some() && g.country.is_none() {
                failures.add(at.key("subdivision"), "a subdivision needs a country");
            }
        }
    }
}

/// The record as plain values, once its inputs are known.
fn spec_of(i: &RecordInputs, fqdn: &str) -> Result<RecordSpec, ResourceError> {
    let unknown = |what: &str| ResourceError::Internal(format!("{what} unknown outside preview"));
    let known_opt = |v: &Option<Value<String>>, what: &str| match v {
        None => Ok(None),
        Some(Value::Known(s)) => Ok(Some(s.clone())),
        Some(Value::Unknown) => Err(unknown(what)),
    };
    let list = |present: bool, what: &str| if present { Ok(()) } else { Err(unknown(what)) };
    list(list_present(&i.records).is_some(), "records")?;
    list(list_present(&i.aliases).is_some(), "aliases")?;
    list(
        routing_kinds(i).iter().all(|(_, p)| p.is_some()),
        "routing policies",
    )?;
    Ok(RecordSpec {
        name: fqdn.to_string(),
        rtype: i
            .record_type
            .known()
            .cloned()
            .ok_or_else(|| unknown("type"))?,
        set_identifier: known_opt(&i.set_identifier, "setIdentifier")?,
        ttl: match &i.ttl {
            None => None,
            Some(Value::Known(t)) => Some(*t),
            Some(Value::Unknown) => return Err(unknown("ttl")),
        },
        records: known_list(&i.records).to_vec(),
        alias: known_list(&i.aliases).first().map(|a| AliasSpec {
            name: a.name.clone(),
            zone_id: a.zone_id.clone(),
            evaluate_target_health: a.evaluate_target_health,
        }),
        weight: known_list(&i.weighted_routing_policies)
            .first()
            .map(|w| w.weight),
        failover: known_list(&i.failover_routing_policies)
            .first()
            .map(|f| f.failover_type.clone()),
        region: known_list(&i.latency_routing_policies)
            .first()
            .map(|l| l.region.clone()),
        geo: known_list(&i.geolocation_routing_policies)
            .first()
            .map(|g| GeoSpec {
                continent: g.continent.clone(),
                country: g.country.clone(),
                subdivision: g.subdivision.clone(),
            }),
        multivalue: i
            .multivalue_answer_routing_policy
            .as_ref()
            .and_then(Value::known)
            .copied(),
        health_check_id: known_opt(&i.health_check_id, "healthCheckId")?,
    })
}

/// The inputs a live record set amounts to. On refresh (`recorded`), a set that says the same
/// as the recorded inputs keeps them as they are, so a refresh without drift changes nothing;
/// otherwise the live values are shown, in the recorded order where only the order differs.
fn inputs_from_live(
    live: &RecordSpec,
    zone_id: &str,
    name: &str,
    recorded: Option<&RecordInputs>,
) -> RecordInputs {
    if let Some(r) = recorded
        && spec_of(r, &live.name).is_ok_and(|s| s.same_as(live))
    {
        return r.clone();
    }
    let mut records = live.records.clone();
    if let Some(Some(Value::Known(old))) = recorded.map(|r| &r.records) {
        let (mut a, mut b) = (old.clone(), records.clone());
        a.sort();
        b.sort();
        if a == b {
            records = old.clone();
        }
    }
    RecordInputs {
        zone_id: Value::Known(zone_id.to_string()),
        name: Value::Known(name.to_string()),
        record_type: Value::Known(live.rtype.clone()),
        ttl: live.ttl.map(Value::Known),
        records: (live.alias.is_none() || !records.is_empty()).then_some(Value::Known(records)),
        aliases: live.alias.as_ref().map(|a| {
            Value::Known(vec![RecordAlias {
                evaluate_target_health: a.evaluate_target_health,
                name: a.name.clone(),
                zone_id: a.zone_id.clone(),
            }])
        }),
        set_identifier: live.set_identifier.clone().map(Value::Known),
        weighted_routing_policies: live
            .weight
            .map(|weight| Value::Known(vec![RecordWeightedRoutingPolicy { weight }])),
        failover_routing_policies: live
            .failover
            .clone()
            .map(|failover_type| Value::Known(vec![RecordFailoverRoutingPolicy { failover_type }])),
        latency_routing_policies: live
            .region
            .clone()
            .map(|region| Value::Known(vec![RecordLatencyRoutingPolicy { region }])),
        geolocation_routing_policies: live.geo.as_ref().map(|g| {
            Value::Known(vec![RecordGeolocationRoutingPolicy {
                continent: g.continent.clone(),
                country: g.country.clone(),
                subdivision: g.subdivision.clone(),
            }])
        }),
        multivalue_answer_routing_policy: live.multivalue.filter(|m| *m).map(Value::Known),
        health_check_id: live.health_check_id.clone().map(Value::Known),
        allow_overwrite: recorded.and_then(|r| r.allow_overwrite.clone()),
    }
}

/// The zone's name, or an error naming the zone when it does not exist.
async fn require_zone(ctx: &Ctx, aws: &AwsClients, zone_id: &str) -> Result<String, ResourceError> {
    zone_name(ctx, aws, zone_id).await?.ok_or_else(|| {
        ResourceError::backend(
            "GetHostedZone",
            format!("{NO_SUCH_HOSTED_ZONE}: no hosted zone found with id {zone_id}"),
        )
    })
}

fn resolve_name(name: &str, zone: &str) -> Result<String, ResourceError> {
    names::resolve(name, zone).map_err(|reason| ResourceError::InvalidInput {
        property: path("name"),
        reason,
    })
}

/// Whether a CREATE failed because the record set exists.
fn already_exists(e: &AwsError) -> bool {
    e.is(INVALID_CHANGE_BATCH) && e.message.contains("already exists")
}

/// Whether a DELETE failed because the record set is gone.
fn not_found(e: &AwsError) -> bool {
    e.is(INVALID_CHANGE_BATCH) && e.message.contains("not found")
}

/// Send one change for `spec`; the answer says whether it is still pending.
async fn send(
    ctx: &Ctx,
    aws: &AwsClients,
    zone_id: &str,
    action: ChangeAction,
    spec: &RecordSpec,
) -> Result<Option<ChangeInfo>, AwsError> {
    let set = rrset::to_sdk(spec).map_err(|m| internal_aws("ChangeResourceRecordSets", m))?;
    let batch = rrset::change_batch(vec![(action, set)])
        .map_err(|m| internal_aws("ChangeResourceRecordSets", m))?;
    let out = change_records(ctx, aws, zone_id, &batch).await?;
    Ok(out.change_info().cloned())
}

/// Send one change for `spec` and wait until it is in sync.
async fn write(
    ctx: &Ctx,
    aws: &AwsClients,
    zone_id: &str,
    action: ChangeAction,
    spec: &RecordSpec,
) -> Result<(), ResourceError> {
    let info = send(ctx, aws, zone_id, action, spec).await?;
    wait_insync(ctx, aws, info.as_ref()).await
}

fn internal_aws(operation: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        operation,
        code: None,
        message: message.into(),
        http_status: None,
        kind: crate::modules::aws::client::FailureKind::Refused,
        ended: None,
    }
}

impl Resource<ProviderConfig> for Record {
    type Inputs = RecordInputs;
    type Outputs = RecordOutputs;
    const TOKEN: &'static str = "zerotrust:aws/route53:Record";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/record.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, RecordInputs>,
        mut inputs: RecordInputs,
        failures: &mut Failures,
    ) -> RecordInputs {
        if let Value::Known(zone) = &mut inputs.zone_id {
            *zone = names::clean_zone_id(zone).to_string();
            if zone.is_empty() {
                failures.at("zoneId", "must not be empty");
            }
        }
        if let Value::Known(name) = &mut inputs.name {
            *name = names::normalize(name.trim());
            if let Some(problem) = names::name_problem(name, true) {
                failures.at("name", format!("record name {problem}"));
            }
        }
        if let Value::Known(t) = &inputs.record_type
            && !names::RECORD_TYPES.contains(&t.as_str())
        {
            failures.at(
                "type",
                format!(
                    "unknown record type {t:?}; expected one of {}",
                    names::RECORD_TYPES.join(", ")
                ),
            );
        }
        check_alias_ttl_records(&mut inputs, failures);
        check_values(&inputs, failures);
        check_routing(&mut inputs, failures);
        inputs
    }

    /// With the zone known, Route 53 tells the zone's name: a fully qualified record name must
    /// lie in it, and a CNAME cannot sit at its apex.
    async fn check_live(&self, ctx: &Ctx, inputs: &RecordInputs, failures: &mut Failures) {
        let (Value::Known(zone_id), Value::Known(name)) = (&inputs.zone_id, &inputs.name) else {
            return;
        };
        let Ok(aws) = ctx.config().aws().await else {
            return;
        };
        let zone = match zone_name(ctx, &aws, zone_id).await {
            Ok(Some(zone)) => zone,
            Ok(None) => {
                failures.at("zoneId", format!("no hosted zone found with id {zone_id}"));
                return;
            }
            // The backend cannot be asked now: the operation will report it.
            Err(_) => return,
        };
        match names::resolve(name, &zone) {
            Err(problem) => failures.at("name", problem),
            Ok(fqdn)
                if fqdn == zone && inputs.record_type.known().is_some_and(|t| t == "CNAME") =>
            {
                failures.at(
                    "name",
                    format!(
                        "a CNAME record cannot be at the zone apex ({zone}); use an alias record"
                    ),
                );
            }
            Ok(_) => {}
        }
    }

    /// Route 53 keeps one set per name, type and set identifier, and a CNAME excludes every
    /// other type: a replacement that may land on the same name deletes the old set first.
    fn delete_before_replace(&self, diff: &DiffInput<'_, RecordInputs, RecordOutputs>) -> bool {
        let old_zone = diff.olds.zone_id.known();
        let same_zone = match diff.news.zone_id.known() {
            Some(z) => old_zone == Some(z),
            None => true,
        };
        let Some(new_name) = diff.news.name.known() else {
            return same_zone;
        };
        let old_fqdn = diff.olds.fqdn.known().cloned().unwrap_or_default();
        let old_name = diff.olds.name.known().cloned().unwrap_or_default();
        let may_coincide = new_name.is_empty()
            || *new_name == old_name
            || *new_name == old_fqdn
            || old_fqdn.starts_with(&format!("{new_name}."));
        same_zone && may_coincide
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: RecordInputs,
    ) -> Result<Created<RecordOutputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: RecordOutputs::new(inputs, Value::Unknown),
            });
        }
        let aws = ctx.config().aws().await?;
        let zone_id = require_known(&inputs.zone_id, "zoneId")?.to_string();
        let zone = require_zone(ctx, &aws, &zone_id).await?;
        let fqdn = resolve_name(require_known(&inputs.name, "name")?, &zone)?;
        let spec = spec_of(&inputs, &fqdn)?;
        let overwrite = matches!(inputs.allow_overwrite, Some(Value::Known(true)));
        let action = if overwrite {
            ChangeAction::Upsert
        } else {
            ChangeAction::Create
        };
        match send(ctx, &aws, &zone_id, action, &spec).await {
            // The record exists from here on: a failed wait must keep it in state.
            Ok(info) => {
                if let Err(e) = wait_insync(ctx, &aws, info.as_ref()).await {
                    let id = names::record_id(
                        &zone_id,
                        &fqdn,
                        &spec.rtype,
                        spec.set_identifier.as_deref(),
                    );
                    let outputs = RecordOutputs::new(inputs, Value::Known(fqdn));
                    return Err(ResourceError::InitFailed {
                        id,
                        outputs: serde_json::to_value(&outputs).unwrap_or_default(),
                        reasons: vec![e.to_string()],
                    });
                }
            }
            Err(e) if !overwrite && already_exists(&e) => {
                let id = spec.set_identifier.as_deref();
                match find_set(ctx, &aws, &zone_id, &fqdn, &spec.rtype, id).await? {
                    // Ours from an earlier attempt whose answer was lost, or identical anyway.
                    Some(live) if rrset::from_sdk(&live).same_as(&spec) => {
                        ctx.info(format!(
                            "{fqdn} {} already exists with these values; adopting it",
                            spec.rtype
                        ));
                    }
                    Some(_) => {
                        let mut e = e;
                        e.message = format!(
                            "{} (a record set {fqdn} {} with other values exists; import it, or set allowOverwrite: true to take it over)",
                            e.message, spec.rtype
                        );
                        return Err(e.into());
                    }
                    // Route 53 says it exists, yet it is not listed (moto answers this way
                    // when the same CREATE was sent before, even after the set was deleted):
                    // the set is absent, so an UPSERT creates exactly what CREATE would have.
                    None => {
                        ctx.info(format!(
                            "CREATE of {fqdn} {} was refused as existing, but no such set is listed; writing it with UPSERT",
                            spec.rtype
                        ));
                        write(ctx, &aws, &zone_id, ChangeAction::Upsert, &spec).await?;
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        let id = names::record_id(&zone_id, &fqdn, &spec.rtype, spec.set_identifier.as_deref());
        Ok(Created {
            id,
            outputs: RecordOutputs::new(inputs, Value::Known(fqdn)),
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<RecordInputs>,
        _outputs: Option<RecordOutputs>,
    ) -> Result<ReadOutcome<RecordInputs, RecordOutputs>, ResourceError> {
        let parsed = names::parse_record_id(&id);
        let (zone_id, name, rtype, set_id) = match &inputs {
            Some(i) => (
                require_known(&i.zone_id, "zoneId")?.to_string(),
                require_known(&i.name, "name")?.to_string(),
                require_known(&i.record_type, "type")?.to_string(),
                i.set_identifier.as_ref().and_then(Value::known).cloned(),
            ),
            None => match parsed {
                Some(p) => (p.zone_id, p.name, p.rtype, p.set_identifier),
                None => {
                    return Err(ResourceError::InvalidInput {
                        property: PropertyPath::root(),
                        reason: format!(
                            "unexpected record id {id:?}; expected ZONEID_NAME_TYPE or ZONEID_NAME_TYPE_SETIDENTIFIER \
                             (e.g. Z123456ABCDEFG_api.example.com_A)"
                        ),
                    });
                }
            },
        };
        let aws = ctx.config().aws().await?;
        let Some(zone) = zone_name(ctx, &aws, &zone_id).await? else {
            return Ok(ReadOutcome::Gone);
        };
        let fqdn = resolve_name(&name, &zone)?;
        let live = match find_set(ctx, &aws, &zone_id, &fqdn, &rtype, set_id.as_deref()).await {
            Ok(Some(live)) => rrset::from_sdk(&live),
            Ok(None) => return Ok(ReadOutcome::Gone),
            Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(e.into()),
        };
        let inputs = inputs_from_live(&live, &zone_id, &name, inputs.as_ref());
        Ok(ReadOutcome::Found {
            id: names::record_id(&zone_id, &fqdn, &rtype, set_id.as_deref()),
            outputs: RecordOutputs::new(inputs.clone(), Value::Known(fqdn)),
            inputs,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: RecordOutputs,
        news: RecordInputs,
    ) -> Result<RecordOutputs, ResourceError> {
        if ctx.preview() {
            return Ok(RecordOutputs::new(news, olds.fqdn));
        }
        let aws = ctx.config().aws().await?;
        let zone_id = require_known(&news.zone_id, "zoneId")?.to_string();
        let fqdn = match olds.fqdn.known() {
            Some(fqdn) => fqdn.clone(),
            None => {
                let zone = require_zone(ctx, &aws, &zone_id).await?;
                resolve_name(require_known(&news.name, "name")?, &zone)?
            }
        };
        let spec = spec_of(&news, &fqdn)?;
        // Only allowOverwrite (which matters at create) changed: nothing to send.
        let unchanged = spec_of(&olds.inputs(), &fqdn).is_ok_and(|old| old.same_as(&spec));
        if !unchanged {
            write(ctx, &aws, &zone_id, ChangeAction::Upsert, &spec).await?;
        }
        Ok(RecordOutputs::new(news, Value::Known(fqdn)))
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: RecordOutputs,
    ) -> Result<(), ResourceError> {
        let aws = ctx.config().aws().await?;
        let zone_id = require_known(&olds.zone_id, "zoneId")?.to_string();
        let rtype = require_known(&olds.record_type, "type")?.to_string();
        let set_id = olds.set_identifier.as_ref().and_then(Value::known).cloned();
        let fqdn = match olds.fqdn.known() {
            Some(fqdn) => fqdn.clone(),
            None => match zone_name(ctx, &aws, &zone_id).await? {
                Some(zone) => resolve_name(require_known(&olds.name, "name")?, &zone)?,
                None => return Ok(()),
            },
        };
        // Route 53 deletes only an exact copy of the set: send the one it has now.
        let live = match find_set(ctx, &aws, &zone_id, &fqdn, &rtype, set_id.as_deref()).await {
            Ok(Some(live)) => live,
            Ok(None) => return Ok(()),
            Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let batch = rrset::change_batch(vec![(ChangeAction::Delete, live)])
            .map_err(ResourceError::Internal)?;
        match change_records(ctx, &aws, &zone_id, &batch).await {
            Ok(out) => wait_insync(ctx, &aws, out.change_info()).await,
            Err(e) if not_found(&e) || e.is(NO_SUCH_HOSTED_ZONE) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RecordInputs {
        RecordInputs {
            zone_id: Value::Known("Z1".into()),
            name: Value::Known("api".into()),
            record_type: Value::Known("A".into()),
            ttl: Some(Value::Known(300)),
            records: Some(Value::Known(vec!["192.0.2.1".into()])),
            aliases: None,
            set_identifier: None,
            weighted_routing_policies: None,
            failover_routing_policies: None,
            latency_routing_policies: None,
            geolocation_routing_policies: None,
            multivalue_answer_routing_policy: None,
            health_check_id: None,
            allow_overwrite: None,
        }
    }

    fn alias() -> RecordAlias {
        RecordAlias {
            evaluate_target_health: true,
            name: "My-ALB-1.us-east-1.elb.amazonaws.com.".into(),
            zone_id: "Z35SXDOTRQ7X7K".into(),
        }
    }

    fn check(inputs: RecordInputs) -> (RecordInputs, Vec<(String, String)>) {
        let ctx = CheckCtx {
            name: "record",
            random_seed: &[],
            olds: None,
        };
        let mut failures = Failures::default();
        let out = Record.check(&ctx, inputs, &mut failures);
        let failures = failures
            .into_vec()
            .into_iter()
            .map(|f| (f.property.to_string(), f.reason))
            .collect();
        (out, failures)
    }

    fn paths(failures: &[(String, String)]) -> Vec<&str> {
        failures.iter().map(|(p, _)| p.as_str()).collect()
    }

    #[test]
    fn a_plain_record_passes_and_is_normalised() {
        let (out, failures) = check(RecordInputs {
            zone_id: Value::Known("/hostedzone/Z1".into()),
            name: Value::Known("API.Example.com.".into()),
            ..base()
        });
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(out.zone_id, Value::Known("Z1".into()));
        assert_eq!(out.name, Value::Known("api.example.com".into()));
    }

    #[test]
    fn alias_records_are_checked_and_normalised() {
        let (out, failures) = check(RecordInputs {
            ttl: None,
            records: None,
            aliases: Some(Value::Known(vec![alias()])),
            ..base()
        });
        assert!(failures.is_empty(), "{failures:?}");
        let aliases = out.aliases.unwrap().into_known().unwrap();
        assert_eq!(aliases[0].name, "my-alb-1.us-east-1.elb.amazonaws.com");
        let empty = RecordAlias {
            name: " ".into(),
            zone_id: String::new(),
            ..alias()
        };
        let (_, failures) = check(RecordInputs {
            aliases: Some(Value::Known(vec![alias(), empty])),
            ..base()
        });
        let p = paths(&failures);
        for expected in [
            "ttl",
            "records",
            "aliases",
            "aliases[1].name",
            "aliases[1].zoneId",
        ] {
            assert!(
                p.contains(&expected),
                "{expected} missing from {failures:?}"
            );
        }
    }

    #[test]
    fn ttl_and_records_are_required_without_an_alias() {
        let (_, failures) = check(RecordInputs {
            ttl: None,
            ..base()
        });
        assert_eq!(paths(&failures), vec!["ttl"]);
        let (_, failures) = check(RecordInputs {
            ttl: None,
            records: None,
            ..base()
        });
        assert_eq!(paths(&failures), vec!["records"]);
        let (_, failures) = check(RecordInputs {
            ttl: Some(Value::Known(-1)),
            ..base()
        });
        assert_eq!(paths(&failures), vec!["ttl"]);
    }

    #[test]
    fn every_failure_is_reported_at_once_with_its_path() {
        let (_, failures) = check(RecordInputs {
            name: Value::Known("a..example.com".into()),
            record_type: Value::Known("AA".into()),
            records: Some(Value::Known(vec!["not-an-ip".into()])),
            weighted_routing_policies: Some(Value::Known(vec![RecordWeightedRoutingPolicy {
                weight: 300,
            }])),
            failover_routing_policies: Some(Value::Known(vec![RecordFailoverRoutingPolicy {
                failover_type: "TERTIARY".into(),
            }])),
            ..base()
        });
        let p = paths(&failures);
        for expected in [
            "name",
            "type",
            "failoverRoutingPolicies",
            "setIdentifier",
            "weightedRoutingPolicies[0].weight",
            "failoverRoutingPolicies[0].type",
        ] {
            assert!(
                p.contains(&expected),
                "{expected} missing from {failures:?}"
            );
        }
    }

    #[test]
    fn addresses_must_fit_the_type() {
        let (_, failures) = check(RecordInputs {
            records: Some(Value::Known(vec![
                "192.0.2.1".into(),
                "2001:db8::1".into(),
                "10.0.0.300".into(),
            ])),
            ..base()
        });
        assert_eq!(paths(&failures), vec!["records[1]", "records[2]"]);
        let (_, failures) = check(RecordInputs {
            record_type: Value::Known("AAAA".into()),
            records: Some(Value::Known(vec!["2001:db8::1".into(), "192.0.2.1".into()])),
            ..base()
        });
        assert_eq!(paths(&failures), vec!["records[1]"]);
        let (_, failures) = check(RecordInputs {
            record_type: Value::Known("CNAME".into()),
            records: Some(Value::Known(vec![
                "a.example.com".into(),
                "b.example.com".into(),
            ])),
            ..base()
        });
        assert_eq!(paths(&failures), vec!["records"]);
    }

    #[test]
    fn routing_policies_need_a_set_identifier_and_the_reverse() {
        let weighted = Some(Value::Known(vec![RecordWeightedRoutingPolicy {
            weight: 10,
        }]));
        let (_, failures) = check(RecordInputs {
            weighted_routing_policies: weighted.clone(),
            ..base()
        });
        assert_eq!(paths(&failures), vec!["setIdentifier"]);
        let (_, failures) = check(RecordInputs {
            set_identifier: Some(Value::Known("blue".into())),
            ..base()
        });
        assert_eq!(paths(&failures), vec!["setIdentifier"]);
        let (_, failures) = check(RecordInputs {
            set_identifier: Some(Value::Known("blue".into())),
            weighted_routing_policies: weighted.clone(),
            ..base()
        });
        assert!(failures.is_empty(), "{failures:?}");
        // Unknown policies in preview: no claim either way.
        let (_, failures) = check(RecordInputs {
            set_identifier: Some(Value::Known("blue".into())),
            weighted_routing_policies: Some(Value::Unknown),
            ..base()
        });
        assert!(failures.is_empty(), "{failures:?}");
        let (_, failures) = check(RecordInputs {
            set_identifier: Some(Value::Known("blue".into())),
            multivalue_answer_routing_policy: Some(Value::Known(true)),
            latency_routing_policies: Some(Value::Known(vec![RecordLatencyRoutingPolicy {
                region: "mars-north-1".into(),
            }])),
            ..base()
        });
        assert_eq!(
            paths(&failures),
            vec![
                "multivalueAnswerRoutingPolicy",
                "latencyRoutingPolicies[0].region"
            ]
        );
    }

    #[test]
    fn geolocation_needs_exactly_one_of_continent_or_country() {
        let geo = |continent: Option<&str>, country: Option<&str>, subdivision: Option<&str>| {
            RecordInputs {
                set_identifier: Some(Value::Known("geo".into())),
                geolocation_routing_policies: Some(Value::Known(vec![
                    RecordGeolocationRoutingPolicy {
                        continent: continent.map(str::to_string),
                        country: country.map(str::to_string),
                        subdivision: subdivision.map(str::to_string),
                    },
                ])),
                ..base()
            }
        };
        assert!(check(geo(Some("EU"), None, None)).1.is_empty());
        assert!(check(geo(None, Some("US"), Some("CA"))).1.is_empty());
        assert_eq!(
            paths(&check(geo(None, None, None)).1),
            vec!["geolocationRoutingPolicies[0]"]
        );
        assert_eq!(
            paths(&check(geo(Some("EU"), Some("DE"), None)).1),
            vec!["geolocationRoutingPolicies[0]"]
        );
        assert_eq!(
            paths(&check(geo(Some("XX"), None, Some("CA"))).1),
            vec![
                "geolocationRoutingPolicies[0].continent",
                "geolocationRoutingPolicies[0].subdivision"
            ]
        );
    }

    #[test]
    fn unknowns_pass_check() {
        let (_, failures) = check(RecordInputs {
            zone_id: Value::Unknown,
            name: Value::Unknown,
            record_type: Value::Unknown,
            ttl: Some(Value::Unknown),
            records: Some(Value::Unknown),
            ..base()
        });
        assert!(failures.is_empty(), "{failures:?}");
    }

    #[test]
    fn specs_come_from_inputs() {
        let spec = spec_of(&base(), "api.example.com").unwrap();
        assert_eq!(spec.name, "api.example.com");
        assert_eq!(spec.ttl, Some(300));
        assert_eq!(spec.records, vec!["192.0.2.1".to_string()]);
        let spec = spec_of(
            &RecordInputs {
                ttl: None,
                records: None,
                aliases: Some(Value::Known(vec![alias()])),
                set_identifier: Some(Value::Known("blue".into())),
                weighted_routing_policies: Some(Value::Known(vec![RecordWeightedRoutingPolicy {
                    weight: 5,
                }])),
                ..base()
            },
            "api.example.com",
        )
        .unwrap();
        assert_eq!(spec.weight, Some(5));
        assert_eq!(spec.alias.unwrap().zone_id, "Z35SXDOTRQ7X7K");
        assert!(
            spec_of(
                &RecordInputs {
                    records: Some(Value::Unknown),
                    ..base()
                },
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn refresh_keeps_recorded_inputs_without_drift_and_shows_drift() {
        let (recorded, _) = check(base());
        let live = spec_of(&recorded, "api.example.com").unwrap();
        let same = inputs_from_live(&live, "Z1", "api", Some(&recorded));
        assert_eq!(
            serde_json::to_value(&same).unwrap(),
            serde_json::to_value(&recorded).unwrap()
        );
        let drifted = RecordSpec {
            ttl: Some(60),
            ..live.clone()
        };
        let shown = inputs_from_live(&drifted, "Z1", "api", Some(&recorded));
        assert_eq!(shown.ttl, Some(Value::Known(60)));
        assert_eq!(shown.name, Value::Known("api".into()));
    }

    #[test]
    fn import_inputs_are_a_fixed_point_of_check() {
        let live = RecordSpec {
            name: "www.example.com".into(),
            rtype: "A".into(),
            set_identifier: Some("blue".into()),
            alias: Some(AliasSpec {
                name: "my-alb-1.us-east-1.elb.amazonaws.com".into(),
                zone_id: "Z35SXDOTRQ7X7K".into(),
                evaluate_target_health: false,
            }),
            weight: Some(90),
            ..Default::default()
        };
        let imported = inputs_from_live(&live, "Z1", "www.example.com", None);
        let (checked, failures) = check(imported.clone());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(
            serde_json::to_value(&checked).unwrap(),
            serde_json::to_value(&imported).unwrap()
        );
        assert!(imported.records.is_none() && imported.ttl.is_none());
        let plain = inputs_from_live(
            &spec_of(&base(), "api.example.com").unwrap(),
            "Z1",
            "api.example.com",
            None,
        );
        let (checked, failures) = check(plain.clone());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(
            serde_json::to_value(&checked).unwrap(),
            serde_json::to_value(&plain).unwrap()
        );
    }

    fn outputs(name: &str, fqdn: &str) -> RecordOutputs {
        RecordOutputs::new(
            RecordInputs {
                name: Value::Known(name.into()),
                ..base()
            },
            Value::Known(fqdn.into()),
        )
    }

    #[test]
    fn replacements_on_the_same_name_delete_first() {
        let olds = outputs("api", "api.example.com");
        let dbr = |news: RecordInputs| {
            Record.delete_before_replace(&DiffInput {
                olds: &olds,
                old_inputs: None,
                news: &news,
                now: time::OffsetDateTime::now_utc(),
            })
        };
        // Type change, same name: the old set must go first (a CNAME excludes other types).
        assert!(dbr(RecordInputs {
            record_type: Value::Known("CNAME".into()),
            ..base()
        }));
        // The same record written fully qualified.
        assert!(dbr(RecordInputs {
            name: Value::Known("api.example.com".into()),
            set_identifier: Some(Value::Known("x".into())),
            ..base()
        }));
        // Another name, or another zone: create first.
        assert!(!dbr(RecordInputs {
            name: Value::Known("web".into()),
            ..base()
        }));
        assert!(!dbr(RecordInputs {
            zone_id: Value::Known("Z2".into()),
            ..base()
        }));
        assert!(dbr(RecordInputs {
            zone_id: Value::Unknown,
            ..base()
        }));
    }

    #[test]
    fn failure_classification() {
        let e = |code: &str, message: &str| AwsError {
            code: Some(code.into()),
            message: message.into(),
            ..internal_aws("ChangeResourceRecordSets", "")
        };
        assert!(already_exists(&e(
            INVALID_CHANGE_BATCH,
            "Tried to create resource record set [name='a.', type='A'] but it already exists"
        )));
        assert!(not_found(&e(
            INVALID_CHANGE_BATCH,
            "Tried to delete resource record set [name='a.', type='A'] but it was not found"
        )));
        assert!(!already_exists(&e("InvalidInput", "already exists")));
    }
}
