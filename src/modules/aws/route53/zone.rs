//! `zerotrust:aws/route53:Zone`, as pulumi-aws `aws.route53.Zone`.

use super::names;
use super::{NO_SUCH_HOSTED_ZONE, change_records, list_all_sets, rrset, wait_insync};
use crate::codec::PropertyPath;
use crate::modules::aws::client::{self, AwsClients, AwsError};
use crate::modules::aws::tag_diff;
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use aws_sdk_route53::types::{
    ChangeAction, ChangeInfo, HostedZoneConfig, Tag, TagResourceType, Vpc, VpcRegion,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct Zone;

/// The comment a zone gets when the program sets none, as in pulumi-aws.
pub const DEFAULT_COMMENT: &str = "Managed by Pulumi";
const MAX_COMMENT: usize = 256;
/// ChangeTagsForResource takes at most 10 tags to add and 10 keys to remove per call.
const TAGS_PER_CALL: usize = 10;

/// A VPC associated with a private hosted zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneVpc {
    /// ID of the VPC to associate.
    pub vpc_id: String,
    /// Region of the VPC to associate. Defaults to the provider's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_region: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneInputs {
    /// This is the name of the hosted zone. A trailing dot and upper case are ignored: the name
    /// is kept lower case, without the dot. Changing it replaces the zone.
    #[schemars(transform = replace_on_changes)]
    pub name: Value<String>,
    /// A comment for the hosted zone, at most 256 characters. Defaults to 'Managed by Pulumi'.
    /// Updated in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Value<String>>,
    /// The ID of the reusable delegation set whose NS records you want to assign to the hosted
    /// zone. Conflicts with `vpcs`, as delegation sets can only be used for public zones.
    /// Changing it replaces the zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub delegation_set_id: Option<Value<String>>,
    /// Whether to destroy all records (possibly managed outside of Pulumi) in the zone when
    /// destroying the zone. The apex NS and SOA records are deleted with the zone itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_destroy: Option<Value<bool>>,
    /// A map of tags to assign to the zone. Updated in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
    /// Configuration block(s) specifying VPC(s) to associate with a private hosted zone.
    /// Conflicts with `delegationSetId`. Changing them replaces the zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub vpcs: Option<Value<Vec<ZoneVpc>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneOutputs {
    /// The name of the hosted zone, lower case and without a trailing dot.
    pub name: Value<String>,
    /// The comment of the hosted zone.
    pub comment: Value<String>,
    /// The ID of the reusable delegation set the zone uses, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_set_id: Option<Value<String>>,
    /// Whether destroying the zone first deletes its records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_destroy: Option<Value<bool>>,
    /// The tags of the zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
    /// The VPCs associated with a private hosted zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpcs: Option<Value<Vec<ZoneVpc>>>,
    /// The hosted zone ID, without the `/hostedzone/` prefix (also the resource's id).
    pub zone_id: Value<String>,
    /// The Amazon Resource Name (ARN) of the hosted zone.
    pub arn: Value<String>,
    /// A list of name servers in the associated (or default) delegation set, sorted. Find more
    /// about delegation sets in the AWS docs.
    pub name_servers: Value<Vec<String>>,
    /// The Route 53 name server that created the SOA record.
    pub primary_name_server: Value<String>,
    /// All tags of the zone (the same as `tags`: this provider has no default tags).
    pub tags_all: Value<BTreeMap<String, String>>,
}

/// What Route 53 says about a zone.
#[derive(Debug, Clone, Default)]
pub struct LiveZone {
    pub id: String,
    pub name: String,
    pub comment: String,
    pub private: bool,
    pub delegation_set_id: Option<String>,
    /// In Route 53's order; the first one is the primary.
    pub name_servers: Vec<String>,
    pub vpcs: Vec<ZoneVpc>,
    pub tags: BTreeMap<String, String>,
}

fn known<T: Clone>(v: &Option<Value<T>>) -> Option<T> {
    v.as_ref().and_then(Value::known).cloned()
}

fn zone_arn(partition: &str, id: &str) -> String {
    format!("arn:{partition}:route53:::hostedzone/{id}")
}

/// A CallerReference that is the same for the same resource with the same inputs. A create
/// retried after its answer was lost (the connection dropped, or the provider was killed
/// mid-`up`) then gets HostedZoneAlreadyExists instead of a second zone, and the zone made by
/// the first attempt is adopted (see [`create_zone`]).
pub fn caller_reference(urn: &str, inputs: &ZoneInputs) -> String {
    let mut hasher = Sha256::new();
    hasher.update(urn.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(inputs).unwrap_or_default());
    format!("zerotrust-{}", &hex::encode(hasher.finalize())[..40])
}

/// Whether the program's VPC list says the same as Route 53's (order and an unset region,
/// which means the provider's region, aside).
fn same_vpcs(wanted: &[ZoneVpc], live: &[ZoneVpc], default_region: Option<&str>) -> bool {
    let norm = |v: &ZoneVpc| {
        (
            v.vpc_id.clone(),
            v.vpc_region.clone().or(default_region.map(str::to_string)),
        )
    };
    let mut a: Vec<_> = wanted.iter().map(norm).collect();
    let mut b: Vec<_> = live.iter().map(norm).collect();
    a.sort();
    b.sort();
    a == b
}

/// The inputs Route 53's state amounts to. On refresh (`recorded`), values that mean the same
/// as the recorded ones keep their recorded form, so a refresh without drift changes nothing.
fn inputs_from_live(
    live: &LiveZone,
    recorded: Option<&ZoneInputs>,
    default_region: Option<&str>,
) -> ZoneInputs {
    let name = match recorded.map(|r| &r.name) {
        Some(Value::Known(n)) if names::normalize(n) == live.name => n.clone(),
        _ => live.name.clone(),
    };
    let tags = match recorded.map(|r| &r.tags) {
        Some(Some(Value::Known(t))) if *t == live.tags => Some(Value::Known(t.clone())),
        Some(None) if live.tags.is_empty() => None,
        _ if live.tags.is_empty() && recorded.is_none() => None,
        _ => Some(Value::Known(live.tags.clone())),
    };
    let vpcs = match recorded.map(|r| &r.vpcs) {
        Some(Some(Value::Known(v))) if same_vpcs(v, &live.vpcs, default_region) => {
            Some(Value::Known(v.clone()))
        }
        Some(None) if live.vpcs.is_empty() => None,
        _ if live.vpcs.is_empty() && !live.private => None,
        _ => Some(Value::Known(live.vpcs.clone())),
    };
    let delegation_set_id = match recorded {
        Some(r) => r.delegation_set_id.clone(),
        None => live.delegation_set_id.clone().map(Value::Known),
    };
    ZoneInputs {
        name: Value::Known(name),
        comment: Some(Value::Known(live.comment.clone())),
        delegation_set_id,
        force_destroy: recorded.and_then(|r| r.force_destroy.clone()),
        tags,
        vpcs,
    }
}

fn outputs_from(inputs: &ZoneInputs, live: &LiveZone, partition: &str) -> ZoneOutputs {
    let mut sorted = live.name_servers.clone();
    sorted.sort();
    ZoneOutputs {
        name: inputs.name.clone(),
        comment: Value::Known(live.comment.clone()),
        delegation_set_id: live
            .delegation_set_id
            .clone()
            .map(Value::Known)
            .or_else(|| inputs.delegation_set_id.clone()),
        force_destroy: inputs.force_destroy.clone(),
        tags: inputs.tags.clone(),
        vpcs: if live.vpcs.is_empty() {
            inputs.vpcs.clone()
        } else {
            Some(Value::Known(live.vpcs.clone()))
        },
        zone_id: Value::Known(live.id.clone()),
        arn: Value::Known(zone_arn(partition, &live.id)),
        name_servers: Value::Known(sorted),
        primary_name_server: Value::Known(live.name_servers.first().cloned().unwrap_or_default()),
        tags_all: Value::Known(live.tags.clone()),
    }
}

/// Outputs for a zone that exists but could not be read back or finished.
fn partial_outputs(inputs: &ZoneInputs, id: &str, partition: &str) -> ZoneOutputs {
    let live = LiveZone {
        id: id.to_string(),
        name: known(&Some(inputs.name.clone())).unwrap_or_default(),
        comment: known(&inputs.comment).unwrap_or_default(),
        ..Default::default()
    };
    let mut outputs = outputs_from(inputs, &live, partition);
    outputs.tags_all = Value::Known(BTreeMap::new());
    outputs
}

fn region_of(aws: &AwsClients) -> Option<String> {
    aws.route53.config().region().map(|r| r.to_string())
}

fn sdk_vpc(vpc: &ZoneVpc, default_region: Option<&str>) -> Vpc {
    Vpc::builder()
        .vpc_id(&vpc.vpc_id)
        .set_vpc_region(
            vpc.vpc_region
                .as_deref()
                .or(default_region)
                .map(VpcRegion::from),
        )
        .build()
}

/// Read a zone, its tags and its name servers; `None` when it does not exist.
async fn read_live(ctx: &Ctx, aws: &AwsClients, id: &str) -> Result<Option<LiveZone>, AwsError> {
    let out = match client::call(ctx, &aws.retry, "GetHostedZone", || {
        aws.route53.get_hosted_zone().id(id).send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(hz) = out.hosted_zone() else {
        return Ok(None);
    };
    let id = names::clean_zone_id(hz.id()).to_string();
    let private = hz.config().is_some_and(HostedZoneConfig::private_zone);
    let delegation = out.delegation_set();
    let mut live = LiveZone {
        name: names::normalize(hz.name()),
        comment: hz
            .config()
            .and_then(HostedZoneConfig::comment)
            .unwrap_or_default()
            .to_string(),
        private,
        delegation_set_id: delegation
            .and_then(|d| d.id())
            .filter(|d| !d.is_empty())
            .map(|d| d.trim_start_matches("/delegationset/").to_string()),
        name_servers: delegation
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default(),
        vpcs: out
            .vpcs()
            .iter()
            .filter_map(|v| {
                Some(ZoneVpc {
                    vpc_id: v.vpc_id()?.to_string(),
                    vpc_region: v.vpc_region().map(|r| r.as_str().to_string()),
                })
            })
            .collect(),
        id,
        ..Default::default()
    };
    let tags = match client::call(ctx, &aws.retry, "ListTagsForResource", || {
        aws.route53
            .list_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(&live.id)
            .send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => return Ok(None),
        Err(e) => return Err(e),
    };
    live.tags = tags
        .resource_tag_set()
        .map(|s| s.tags())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect();
    if live.private || live.name_servers.is_empty() {
        // Private zones have no delegation set: their name servers are the apex NS record's.
        let ns = super::find_set(ctx, aws, &live.id, &live.name, "NS", None).await?;
        live.name_servers = ns
            .map(|s| {
                s.resource_records()
                    .iter()
                    .map(|r| names::normalize(r.value()))
                    .collect()
            })
            .unwrap_or_default();
    }
    Ok(Some(live))
}

/// Create the zone, or find the one an earlier attempt with the same CallerReference made.
/// Returns its id and the change to wait for.
pub(super) async fn create_zone(
    ctx: &Ctx,
    aws: &AwsClients,
    inputs: &ZoneInputs,
    name: &str,
) -> Result<(String, Option<ChangeInfo>), ResourceError> {
    let reference = caller_reference(ctx.urn(), inputs);
    let region = region_of(aws);
    let vpcs = known(&inputs.vpcs).unwrap_or_default();
    let comment = known(&inputs.comment).unwrap_or_else(|| DEFAULT_COMMENT.to_string());
    let config = HostedZoneConfig::builder()
        .comment(&comment)
        .private_zone(!vpcs.is_empty())
        .build();
    let attempt = |reference: String| {
        let config = config.clone();
        let first_vpc = vpcs.first().map(|v| sdk_vpc(v, region.as_deref()));
        let delegation_set = known(&inputs.delegation_set_id);
        async move {
            client::call(ctx, &aws.retry, "CreateHostedZone", || {
                aws.route53
                    .create_hosted_zone()
                    .name(name)
                    .caller_reference(&reference)
                    .hosted_zone_config(config.clone())
                    .set_vpc(first_vpc.clone())
                    .set_delegation_set_id(delegation_set.clone())
                    .send()
            })
            .await
        }
    };
    let created = match attempt(reference.clone()).await {
        Ok(out) => out,
        Err(e) if e.is("HostedZoneAlreadyExists") => {
            if let Some(id) = find_by_reference(ctx, aws, name, &reference).await? {
                ctx.info(format!(
                    "adopting hosted zone {id}: an earlier attempt to create this zone \
                     (same CallerReference) succeeded but its answer was lost"
                ));
                return Ok((id, None));
            }
            // The reference belonged to a zone deleted since (a destroyed and re-created
            // stack, or a deletion outside Pulumi): Route 53 never accepts a reference twice.
            let fresh = format!("{reference}-{}", ctx.now().unix_timestamp_nanos());
            attempt(fresh).await?
        }
        Err(e) => return Err(e.into()),
    };
    let id = created
        .hosted_zone()
        .map(|z| names::clean_zone_id(z.id()).to_string())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ResourceError::backend("CreateHostedZone", "AWS returned no zone id"))?;
    Ok((id, created.change_info().cloned()))
}

/// The zone named `name` whose CallerReference is `reference`, if any.
async fn find_by_reference(
    ctx: &Ctx,
    aws: &AwsClients,
    name: &str,
    reference: &str,
) -> Result<Option<String>, AwsError> {
    let mut next: Option<(String, Option<String>)> = Some((name.to_string(), None));
    while let Some((dns_name, zone_id)) = next.take() {
        let page = client::call(ctx, &aws.retry, "ListHostedZonesByName", || {
            aws.route53
                .list_hosted_zones_by_name()
                .dns_name(&dns_name)
                .set_hosted_zone_id(zone_id.clone())
                .send()
        })
        .await?;
        let mut past_name = false;
        for zone in page.hosted_zones() {
            if names::normalize(zone.name()) != name {
                past_name = true;
                continue;
            }
            if zone.caller_reference() == reference {
                return Ok(Some(names::clean_zone_id(zone.id()).to_string()));
            }
        }
        if page.is_truncated() && !past_name {
            next = page.next_dns_name().map(|n| {
                (
                    n.to_string(),
                    page.next_hosted_zone_id().map(str::to_string),
                )
            });
        }
    }
    Ok(None)
}

/// Bring the zone's tags to `wanted`.
async fn apply_tags(
    ctx: &Ctx,
    aws: &AwsClients,
    id: &str,
    live: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let (add, remove) = tag_diff(live, wanted);
    let add: Vec<(String, String)> = add.into_iter().collect();
    let rounds = add.len().max(remove.len()).div_ceil(TAGS_PER_CALL);
    for round in 0..rounds {
        let range =
            |len: usize| (round * TAGS_PER_CALL).min(len)..((round + 1) * TAGS_PER_CALL).min(len);
        let add_now: Vec<Tag> = add[range(add.len())]
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let remove_now = remove[range(remove.len())].to_vec();
        client::call(ctx, &aws.retry, "ChangeTagsForResource", || {
            aws.route53
                .change_tags_for_resource()
                .resource_type(TagResourceType::Hostedzone)
                .resource_id(id)
                .set_add_tags((!add_now.is_empty()).then(|| add_now.clone()))
                .set_remove_tag_keys((!remove_now.is_empty()).then(|| remove_now.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

/// Associate the wanted VPCs that are not associated yet.
async fn associate_missing_vpcs(
    ctx: &Ctx,
    aws: &AwsClients,
    id: &str,
    wanted: &[ZoneVpc],
    live: &[ZoneVpc],
) -> Result<(), ResourceError> {
    let region = region_of(aws);
    for vpc in wanted {
        if live.iter().any(|l| l.vpc_id == vpc.vpc_id) {
            continue;
        }
        let sdk = sdk_vpc(vpc, region.as_deref());
        let out = client::call(ctx, &aws.retry, "AssociateVPCWithHostedZone", || {
            aws.route53
                .associate_vpc_with_hosted_zone()
                .hosted_zone_id(id)
                .vpc(sdk.clone())
                .send()
        })
        .await?;
        wait_insync(ctx, aws, out.change_info()).await?;
    }
    Ok(())
}

/// Comment, tags and VPCs to what `inputs` say; then the zone as it is now.
async fn converge(
    ctx: &Ctx,
    aws: &AwsClients,
    id: &str,
    inputs: &ZoneInputs,
    live: &LiveZone,
) -> Result<LiveZone, ResourceError> {
    if let Some(comment) = known(&inputs.comment)
        && comment != live.comment
    {
        client::call(ctx, &aws.retry, "UpdateHostedZoneComment", || {
            aws.route53
                .update_hosted_zone_comment()
                .id(id)
                .comment(&comment)
                .send()
        })
        .await?;
    }
    let wanted_tags = known(&inputs.tags).unwrap_or_default();
    apply_tags(ctx, aws, id, &live.tags, &wanted_tags).await?;
    let wanted_vpcs = known(&inputs.vpcs).unwrap_or_default();
    associate_missing_vpcs(ctx, aws, id, &wanted_vpcs, &live.vpcs).await?;
    read_live(ctx, aws, id).await?.ok_or_else(|| {
        ResourceError::backend(
            "GetHostedZone",
            format!(
                "{NO_SUCH_HOSTED_ZONE}: hosted zone {id} disappeared while it was being updated"
            ),
        )
    })
}

fn check_name(inputs: &mut ZoneInputs, failures: &mut Failures) {
    if let Value::Known(name) = &mut inputs.name {
        *name = names::normalize(name);
        if name.starts_with("*.") || name == "*" {
            failures.at("name", "a hosted zone name cannot be a wildcard");
        } else if let Some(problem) = names::name_problem(name, false) {
            failures.at("name", format!("zone name {problem}"));
        }
    }
}

impl Resource<ProviderConfig> for Zone {
    type Inputs = ZoneInputs;
    type Outputs = ZoneOutputs;
    const TOKEN: &'static str = "zerotrust:aws/route53:Zone";
    // An empty comment is a comment upstream: it stands instead of the default.
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::AbsentExcept(&["comment"]);
    const DESCRIPTION: &'static str = include_str!("docs/zone.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, ZoneInputs>,
        mut inputs: ZoneInputs,
        failures: &mut Failures,
    ) -> ZoneInputs {
        check_name(&mut inputs, failures);
        match &inputs.comment {
            None => inputs.comment = Some(Value::Known(DEFAULT_COMMENT.to_string())),
            Some(Value::Known(c)) if c.chars().count() > MAX_COMMENT => failures.at(
                "comment",
                format!(
                    "is {} characters long; Route 53 allows at most {MAX_COMMENT}",
                    c.chars().count()
                ),
            ),
            _ => {}
        }
        crate::modules::aws::check_tags(inputs.tags.as_ref(), failures);
        if let Some(Value::Known(vpcs)) = &inputs.vpcs {
            for (i, vpc) in vpcs.iter().enumerate() {
                if vpc.vpc_id.trim().is_empty() {
                    failures.add(
                        PropertyPath::root().key("vpcs").index(i).key("vpcId"),
                        "must not be empty",
                    );
                }
            }
            if !vpcs.is_empty()
                && matches!(&inputs.delegation_set_id, Some(Value::Known(d)) if !d.is_empty())
            {
                failures.at(
                    "delegationSetId",
                    "conflicts with vpcs: a private zone (one with vpcs) cannot use a reusable delegation set",
                );
            }
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: ZoneInputs,
    ) -> Result<Created<ZoneOutputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: ZoneOutputs {
                    name: inputs.name.clone(),
                    comment: inputs.comment.clone().unwrap_or(Value::Unknown),
                    delegation_set_id: inputs.delegation_set_id.clone(),
                    force_destroy: inputs.force_destroy.clone(),
                    tags: inputs.tags.clone(),
                    vpcs: inputs.vpcs.clone(),
                    zone_id: Value::Unknown,
                    arn: Value::Unknown,
                    name_servers: Value::Unknown,
                    primary_name_server: Value::Unknown,
                    tags_all: inputs.tags.clone().unwrap_or(Value::Known(BTreeMap::new())),
                },
            });
        }
        let Value::Known(name) = inputs.name.clone() else {
            return Err(ResourceError::Internal(
                "zone name unknown outside preview".into(),
            ));
        };
        let aws = ctx.config().aws().await?;
        let (id, change) = create_zone(ctx, &aws, &inputs, &name).await?;
        // From here on the zone exists: a failure must keep it in state (InitFailed), so the
        // next `up` finishes it instead of creating another.
        let init_failed = |reason: ResourceError| ResourceError::InitFailed {
            id: id.clone(),
            outputs: serde_json::to_value(partial_outputs(&inputs, &id, &aws.partition))
                .unwrap_or_default(),
            reasons: vec![reason.to_string()],
        };
        wait_insync(ctx, &aws, change.as_ref())
            .await
            .map_err(init_failed)?;
        let live = match read_live(ctx, &aws, &id).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                return Err(init_failed(ResourceError::backend(
                    "GetHostedZone",
                    format!("{NO_SUCH_HOSTED_ZONE}: the new zone {id} could not be read back"),
                )));
            }
            Err(e) => return Err(init_failed(e.into())),
        };
        let live = converge(ctx, &aws, &id, &inputs, &live)
            .await
            .map_err(init_failed)?;
        Ok(Created {
            outputs: outputs_from(&inputs, &live, &aws.partition),
            id,
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<ZoneInputs>,
        _outputs: Option<ZoneOutputs>,
    ) -> Result<ReadOutcome<ZoneInputs, ZoneOutputs>, ResourceError> {
        let aws = ctx.config().aws().await?;
        let id = names::clean_zone_id(&id).to_string();
        let Some(live) = read_live(ctx, &aws, &id).await? else {
            return Ok(ReadOutcome::Gone);
        };
        let inputs = inputs_from_live(&live, inputs.as_ref(), region_of(&aws).as_deref());
        Ok(ReadOutcome::Found {
            outputs: outputs_from(&inputs, &live, &aws.partition),
            id: live.id.clone(),
            inputs,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: String,
        olds: ZoneOutputs,
        news: ZoneInputs,
    ) -> Result<ZoneOutputs, ResourceError> {
        if ctx.preview() {
            return Ok(ZoneOutputs {
                name: news.name.clone(),
                comment: news.comment.clone().unwrap_or(Value::Unknown),
                delegation_set_id: news.delegation_set_id.clone().or(olds.delegation_set_id),
                force_destroy: news.force_destroy.clone(),
                tags_all: news.tags.clone().unwrap_or(Value::Known(BTreeMap::new())),
                tags: news.tags.clone(),
                vpcs: news.vpcs.clone().or(olds.vpcs),
                ..olds
            });
        }
        let aws = ctx.config().aws().await?;
        // Compare with Route 53, not with the recorded outputs: after a partial create (or a
        // change outside Pulumi) the recorded state may not be what is there.
        let live = read_live(ctx, &aws, &id).await?.ok_or_else(|| {
            ResourceError::backend(
                "GetHostedZone",
                format!(
                    "{NO_SUCH_HOSTED_ZONE}: hosted zone {id} no longer exists; run `pulumi refresh`"
                ),
            )
        })?;
        let live = converge(ctx, &aws, &id, &news, &live).await?;
        Ok(outputs_from(&news, &live, &aws.partition))
    }

    async fn delete(&self, ctx: &Ctx, id: String, olds: ZoneOutputs) -> Result<(), ResourceError> {
        let aws = ctx.config().aws().await?;
        let force = matches!(olds.force_destroy, Some(Value::Known(true)));
        if force {
            let sets = match list_all_sets(ctx, &aws, &id).await {
                Ok(sets) => sets,
                Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let zone = match &olds.name {
                Value::Known(n) => names::normalize(n),
                Value::Unknown => String::new(),
            };
            for batch in rrset::deletion_batches(&sets, &zone) {
                let count = batch.len();
                let changes = batch
                    .into_iter()
                    .map(|s| (ChangeAction::Delete, s))
                    .collect();
                let batch = rrset::change_batch(changes).map_err(ResourceError::Internal)?;
                let out = change_records(ctx, &aws, &id, &batch).await?;
                wait_insync(ctx, &aws, out.change_info()).await?;
                ctx.info(format!(
                    "forceDestroy: deleted {count} record sets from zone {id}"
                ));
            }
        }
        match client::call(ctx, &aws.retry, "DeleteHostedZone", || {
            aws.route53.delete_hosted_zone().id(&id).send()
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => Ok(()),
            Err(mut e) if e.is("HostedZoneNotEmpty") => {
                e.message = format!(
                    "{} (records other than the apex NS and SOA are left; delete them, or set \
                     forceDestroy: true and run `pulumi up` before destroying)",
                    e.message
                );
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> ZoneInputs {
        ZoneInputs {
            name: Value::Known("AI-Pipeline.Example.com.".into()),
            comment: None,
            delegation_set_id: None,
            force_destroy: None,
            tags: None,
            vpcs: None,
        }
    }

    fn check(inputs: ZoneInputs) -> (ZoneInputs, Vec<(String, String)>) {
        let ctx = CheckCtx {
            name: "zone",
            random_seed: &[],
            olds: None,
        };
        let mut failures = Failures::default();
        let out = Zone.check(&ctx, inputs, &mut failures);
        let failures = failures
            .into_vec()
            .into_iter()
            .map(|f| (f.property.to_string(), f.reason))
            .collect();
        (out, failures)
    }

    #[test]
    fn check_normalises_the_name_and_defaults_the_comment() {
        let (out, failures) = check(inputs());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(out.name, Value::Known("ai-pipeline.example.com".into()));
        assert_eq!(out.comment, Some(Value::Known(DEFAULT_COMMENT.into())));
        // Checking again is a fixed point (import and refresh depend on it).
        let (again, _) = check(out.clone());
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&out).unwrap()
        );
    }

    #[test]
    fn check_reports_every_problem_with_its_path() {
        let mut tags = BTreeMap::new();
        tags.insert(String::new(), "v".to_string());
        tags.insert("team".to_string(), "x".repeat(300));
        let bad = ZoneInputs {
            name: Value::Known("a..example.com".into()),
            comment: Some(Value::Known("c".repeat(257))),
            delegation_set_id: Some(Value::Known("N123".into())),
            tags: Some(Value::Known(tags)),
            vpcs: Some(Value::Known(vec![ZoneVpc {
                vpc_id: " ".into(),
                vpc_region: None,
            }])),
            ..inputs()
        };
        let (_, failures) = check(bad);
        let paths: Vec<&str> = failures.iter().map(|(p, _)| p.as_str()).collect();
        for expected in [
            "name",
            "comment",
            "tags.team",
            "vpcs[0].vpcId",
            "delegationSetId",
        ] {
            assert!(
                paths.contains(&expected),
                "{expected} missing from {failures:?}"
            );
        }
        assert_eq!(failures.len(), 6, "{failures:?}");
        let (_, failures) = check(ZoneInputs {
            name: Value::Known("*.example.com".into()),
            ..inputs()
        });
        assert_eq!(failures[0].0, "name");
    }

    #[test]
    fn unknown_values_are_left_alone() {
        let (out, failures) = check(ZoneInputs {
            name: Value::Unknown,
            comment: Some(Value::Unknown),
            tags: Some(Value::Unknown),
            ..inputs()
        });
        assert!(failures.is_empty());
        assert!(out.name.is_unknown());
        assert_eq!(out.comment, Some(Value::Unknown));
    }

    #[test]
    fn caller_references_follow_urn_and_inputs() {
        let a = caller_reference("urn:a", &inputs());
        assert!(a.len() <= 128);
        assert_eq!(a, caller_reference("urn:a", &inputs()));
        assert_ne!(a, caller_reference("urn:b", &inputs()));
        let other = ZoneInputs {
            comment: Some(Value::Known("x".into())),
            ..inputs()
        };
        assert_ne!(a, caller_reference("urn:a", &other));
    }

    fn live() -> LiveZone {
        LiveZone {
            id: "Z1".into(),
            name: "ai-pipeline.example.com".into(),
            comment: DEFAULT_COMMENT.into(),
            private: false,
            delegation_set_id: None,
            name_servers: vec!["ns-2.example.net".into(), "ns-1.example.org".into()],
            vpcs: vec![],
            tags: [("team".to_string(), "ml".to_string())]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn import_produces_inputs_that_check_leaves_unchanged() {
        let imported = inputs_from_live(&live(), None, Some("us-east-1"));
        let (checked, failures) = check(imported.clone());
        assert!(failures.is_empty());
        assert_eq!(
            serde_json::to_value(&checked).unwrap(),
            serde_json::to_value(&imported).unwrap()
        );
        assert_eq!(
            imported.name,
            Value::Known("ai-pipeline.example.com".into())
        );
        assert!(imported.vpcs.is_none() && imported.force_destroy.is_none());
        assert_eq!(imported.tags.unwrap().known().unwrap()["team"], "ml");
    }

    #[test]
    fn refresh_without_drift_keeps_the_recorded_inputs() {
        let recorded = ZoneInputs {
            name: Value::Known("ai-pipeline.example.com".into()),
            comment: Some(Value::Known(DEFAULT_COMMENT.into())),
            force_destroy: Some(Value::Known(true)),
            tags: Some(Value::Known(live().tags)),
            ..inputs()
        };
        let refreshed = inputs_from_live(&live(), Some(&recorded), None);
        assert_eq!(
            serde_json::to_value(&refreshed).unwrap(),
            serde_json::to_value(&recorded).unwrap()
        );
        // A tag changed outside Pulumi shows up.
        let mut drifted = live();
        drifted.tags.insert("team".into(), "intruder".into());
        let refreshed = inputs_from_live(&drifted, Some(&recorded), None);
        assert_eq!(refreshed.tags.unwrap().known().unwrap()["team"], "intruder");
    }

    #[test]
    fn private_zone_vpcs_compare_with_the_default_region() {
        let wanted = vec![ZoneVpc {
            vpc_id: "vpc-1".into(),
            vpc_region: None,
        }];
        let live_vpcs = vec![ZoneVpc {
            vpc_id: "vpc-1".into(),
            vpc_region: Some("us-east-1".into()),
        }];
        assert!(same_vpcs(&wanted, &live_vpcs, Some("us-east-1")));
        assert!(!same_vpcs(&wanted, &live_vpcs, Some("eu-west-1")));
    }

    #[test]
    fn outputs_sort_name_servers_and_keep_the_primary() {
        let out = outputs_from(&inputs_from_live(&live(), None, None), &live(), "aws");
        assert_eq!(
            out.name_servers,
            Value::Known(vec![
                "ns-1.example.org".to_string(),
                "ns-2.example.net".to_string()
            ])
        );
        assert_eq!(
            out.primary_name_server,
            Value::Known("ns-2.example.net".into())
        );
        assert_eq!(
            out.arn,
            Value::Known("arn:aws:route53:::hostedzone/Z1".into())
        );
        assert_eq!(out.zone_id, Value::Known("Z1".into()));
    }
}
