//! `azure/network`: `VirtualNetwork`, `Subnet` and `PrivateEndpoint` (pulumi-azure-native
//! `azure-native:network:*`, ARM api-version 2026-03-01).

use super::arm::{
    ArmResource, Location, TagWrite, known, known_tags, live_location, live_tags, out, prune, text,
};
use super::names::{
    self, ArmId, check_choice, check_id_of_type, check_location, check_prefixes, check_tags,
    cidr_within, name_or_generate,
};
use crate::codec::PropertyPath;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Failures, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

const VNET_TYPE: &str = "Microsoft.Network/virtualNetworks";
const SUBNET_TYPE: &str = "Microsoft.Network/virtualNetworks/subnets";
const ENDPOINT_POLICIES: [&str; 4] = [
    "Enabled",
    "Disabled",
    "NetworkSecurityGroupEnabled",
    "RouteTableEnabled",
];
const LINK_SERVICE_POLICIES: [&str; 2] = ["Enabled", "Disabled"];

fn rg_path(rg: &Option<Value<String>>) -> Option<String> {
    let rg = rg.as_ref()?.known()?;
    Some(format!("/resourceGroups/{rg}"))
}

fn check_group(rg: &Value<String>, failures: &mut Failures) {
    names::RESOURCE_GROUP.check(
        Some(rg),
        PropertyPath::root().key("resourceGroupName"),
        failures,
    );
}

/// The address space of a virtual network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "AddressSpace")]
pub struct AddressSpace {
    /// Address blocks reserved for the virtual network, in CIDR notation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefixes: Option<Vec<String>>,
}

/// A subnet: inline in a virtual network, or a reference (`id`) to one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Subnet")]
pub struct SubnetSpec {
    /// Resource ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name of the subnet, unique within its virtual network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address prefix of the subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefix: Option<String>,
    /// The address prefixes of the subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefixes: Option<Vec<String>>,
    /// Whether network policies apply to private endpoints in the subnet: `Enabled`,
    /// `Disabled`, `NetworkSecurityGroupEnabled` or `RouteTableEnabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint_network_policies: Option<String>,
    /// Whether network policies apply to private link services in the subnet: `Enabled` or
    /// `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_network_policies: Option<String>,
}

fn subnet_properties(
    prefix: Option<&str>,
    prefixes: Option<&Vec<String>>,
    endpoint_policies: Option<&str>,
    link_policies: Option<&str>,
) -> Json {
    prune(json!({
        "addressPrefix": prefix,
        "addressPrefixes": prefixes,
        "privateEndpointNetworkPolicies": endpoint_policies,
        "privateLinkServiceNetworkPolicies": link_policies,
    }))
}

fn inline_subnet_body(s: &SubnetSpec) -> Json {
    prune(json!({
        "id": s.id,
        "name": s.name,
        "properties": subnet_properties(
            s.address_prefix.as_deref(),
            s.address_prefixes.as_ref(),
            s.private_endpoint_network_policies.as_deref(),
            s.private_link_service_network_policies.as_deref(),
        ),
    }))
}

/// A live subnet reduced to what a PUT of its virtual network may carry (no read-only fields).
fn writable_subnet(live: &Json) -> Json {
    let p = live.get("properties").cloned().unwrap_or(Json::Null);
    let mut props = serde_json::Map::new();
    for key in [
        "addressPrefix",
        "addressPrefixes",
        "privateEndpointNetworkPolicies",
        "privateLinkServiceNetworkPolicies",
        "defaultOutboundAccess",
    ] {
        if let Some(v) = p.get(key).filter(|v| !v.is_null()) {
            props.insert(key.into(), v.clone());
        }
    }
    for key in ["networkSecurityGroup", "routeTable", "natGateway"] {
        if let Some(id) = p.pointer(&format!("/{key}/id")).and_then(Json::as_str) {
            props.insert(key.into(), json!({"id": id}));
        }
    }
    prune(json!({"id": live.get("id"), "name": live.get("name"), "properties": props}))
}

fn subnet_from_live(live: &Json) -> SubnetSpec {
    SubnetSpec {
        id: None,
        name: text(live, "/name"),
        address_prefix: text(live, "/properties/addressPrefix"),
        address_prefixes: live
            .pointer("/properties/addressPrefixes")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        private_endpoint_network_policies: text(live, "/properties/privateEndpointNetworkPolicies"),
        private_link_service_network_policies: text(
            live,
            "/properties/privateLinkServiceNetworkPolicies",
        ),
    }
}

fn check_subnet_fields(
    s: &SubnetSpec,
    at: &PropertyPath,
    space: &[String],
    failures: &mut Failures,
) {
    check_choice(
        s.private_endpoint_network_policies
            .clone()
            .map(Value::Known)
            .as_ref(),
        at.key("privateEndpointNetworkPolicies"),
        &ENDPOINT_POLICIES,
        failures,
    );
    check_choice(
        s.private_link_service_network_policies
            .clone()
            .map(Value::Known)
            .as_ref(),
        at.key("privateLinkServiceNetworkPolicies"),
        &LINK_SERVICE_POLICIES,
        failures,
    );
    let mut prefixes: Vec<(PropertyPath, String)> = Vec::new();
    if let Some(p) = &s.address_prefix {
        if names::parse_cidr(p).is_none() {
            failures.add(
                at.key("addressPrefix"),
                format!("{p:?} is not an address prefix in CIDR form, e.g. 10.0.1.0/24"),
            );
        }
        prefixes.push((at.key("addressPrefix"), p.clone()));
    }
    if let Some(ps) = &s.address_prefixes {
        check_prefixes(ps, at.key("addressPrefixes"), failures);
        prefixes.extend(
            ps.iter()
                .enumerate()
                .map(|(i, p)| (at.key("addressPrefixes").index(i), p.clone())),
        );
    }
    if s.address_prefix.is_some() && s.address_prefixes.is_some() {
        failures.add(
            at.key("addressPrefixes"),
            "give addressPrefix or addressPrefixes, not both",
        );
    }
    if !space.is_empty() {
        for (path, p) in prefixes {
            if names::parse_cidr(&p).is_some() && !space.iter().any(|outer| cidr_within(&p, outer))
            {
                failures.add(
                    path,
                    format!(
                        "{p} is outside the virtual network's address space ({})",
                        space.join(", ")
                    ),
                );
            }
        }
    }
}

// ---- VirtualNetwork -------------------------------------------------------------------------

pub struct VirtualNetwork;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkInputs {
    /// The name of the resource group.
    #[schemars(transform = replace_on_changes)]
    pub resource_group_name: Value<String>,
    /// The name of the virtual network. Generated from the resource's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub virtual_network_name: Option<Value<String>>,
    /// Resource location (default: the resource group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub location: Option<Value<String>>,
    /// The address blocks of the virtual network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_space: Option<Value<AddressSpace>>,
    /// Subnets defined inline. Leave out when subnets are `Subnet` resources: updates then keep
    /// the subnets the network has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Value<Vec<SubnetSpec>>>,
    /// Resource tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkOutputs {
    #[serde(flatten)]
    pub inputs: VirtualNetworkInputs,
    /// Resource name.
    pub name: Value<String>,
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: Value<String>,
    /// A unique read-only string that changes whenever the resource is updated.
    pub etag: Value<String>,
    /// The resourceGuid property of the virtual network.
    pub resource_guid: Value<String>,
    /// The provisioning state of the virtual network.
    pub provisioning_state: Value<String>,
    /// The Azure API version of the resource.
    pub azure_api_version: String,
}

impl ArmResource for VirtualNetwork {
    type Inputs = VirtualNetworkInputs;
    type Outputs = VirtualNetworkOutputs;
    const TOKEN: &'static str = "zerotrust:azure/network:VirtualNetwork";
    const DESCRIPTION: &'static str = include_str!("docs/virtual_network.md");
    const API_VERSION: &'static str = super::API_VIRTUAL_NETWORKS;
    const TAGS: TagWrite = TagWrite::Patch;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_group(&inputs.resource_group_name, failures);
        name_or_generate(
            &mut inputs.virtual_network_name,
            ctx.olds.map(|o| &o.virtual_network_name),
            &names::VIRTUAL_NETWORK,
            ctx.name,
            ctx.random_seed,
        );
        names::VIRTUAL_NETWORK.check(
            inputs.virtual_network_name.as_ref(),
            PropertyPath::root().key("virtualNetworkName"),
            failures,
        );
        check_location(inputs.location.as_ref(), false, failures);
        check_tags(inputs.tags.as_ref(), failures);
        let mut space = Vec::new();
        if let Some(Value::Known(a)) = &inputs.address_space {
            let prefixes = a.address_prefixes.clone().unwrap_or_default();
            let at = PropertyPath::root()
                .key("addressSpace")
                .key("addressPrefixes");
            if prefixes.is_empty() {
                failures.add(
                    at.clone(),
                    "a virtual network needs at least one address prefix",
                );
            }
            check_prefixes(&prefixes, at, failures);
            space = prefixes;
        }
        if let Some(Value::Known(subnets)) = &inputs.subnets {
            let mut seen = BTreeSet::new();
            for (i, s) in subnets.iter().enumerate() {
                let at = PropertyPath::root().key("subnets").index(i);
                match &s.name {
                    None => failures.add(at.key("name"), "inline subnets need a name"),
                    Some(n) => {
                        names::SUBNET.check(
                            Some(&Value::Known(n.clone())),
                            at.key("name"),
                            failures,
                        );
                        if !seen.insert(n.to_ascii_lowercase()) {
                            failures.add(at.key("name"), format!("a second subnet named {n:?}"));
                        }
                    }
                }
                check_subnet_fields(s, &at, &space, failures);
            }
        }
        inputs
    }

    fn path(inputs: &Self::Inputs) -> Option<String> {
        let rg = rg_path(&Some(inputs.resource_group_name.clone()))?;
        let name = inputs.virtual_network_name.as_ref()?.known()?;
        Some(format!("{rg}/providers/{VNET_TYPE}/{name}"))
    }

    fn location(inputs: &Self::Inputs) -> Location {
        match &inputs.location {
            Some(Value::Known(l)) => Location::Given(l.clone()),
            _ => Location::FromResourceGroup(String::new()),
        }
    }

    fn tags(inputs: &Self::Inputs) -> Option<BTreeMap<String, String>> {
        known_tags(&inputs.tags)
    }

    fn put_needs_live(inputs: &Self::Inputs) -> bool {
        inputs.subnets.is_none()
    }

    fn put_body(inputs: &Self::Inputs, location: Option<&str>, live: Option<&Json>) -> Json {
        let subnets: Option<Vec<Json>> = match &inputs.subnets {
            Some(Value::Known(s)) => Some(s.iter().map(inline_subnet_body).collect()),
            _ => live
                .and_then(|l| l.pointer("/properties/subnets"))
                .and_then(Json::as_array)
                .map(|a| a.iter().map(writable_subnet).collect()),
        };
        prune(json!({
            "location": location,
            "tags": known_tags(&inputs.tags),
            "properties": {
                "addressSpace": known(&inputs.address_space),
                "subnets": subnets,
            },
        }))
    }

    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs {
        outputs.inputs.clone()
    }

    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs {
        VirtualNetworkOutputs {
            inputs: inputs.clone(),
            name: out(live, "/name"),
            resource_type: out(live, "/type"),
            etag: out(live, "/etag"),
            resource_guid: out(live, "/properties/resourceGuid"),
            provisioning_state: out(live, "/properties/provisioningState"),
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn preview(inputs: &Self::Inputs) -> Self::Outputs {
        VirtualNetworkOutputs {
            inputs: inputs.clone(),
            name: inputs
                .virtual_network_name
                .clone()
                .unwrap_or(Value::Unknown),
            resource_type: Value::Known(VNET_TYPE.into()),
            etag: Value::Unknown,
            resource_guid: Value::Unknown,
            provisioning_state: Value::Unknown,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs> {
        if !id.is_type(VNET_TYPE) {
            return None;
        }
        let address_space = live
            .pointer("/properties/addressSpace/addressPrefixes")
            .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
            .map(|p| {
                Value::Known(AddressSpace {
                    address_prefixes: Some(p),
                })
            });
        let subnets = match old.map(|o| &o.subnets) {
            // Subnets managed as Subnet resources are not this resource's business.
            Some(None) => None,
            _ => live
                .pointer("/properties/subnets")
                .and_then(Json::as_array)
                .map(|a| Value::Known(a.iter().map(subnet_from_live).collect())),
        };
        Some(VirtualNetworkInputs {
            resource_group_name: Value::Known(id.resource_group.clone()?),
            virtual_network_name: Some(Value::Known(id.name(0)?.to_string())),
            location: live_location(live, old.map(|o| &o.location)),
            address_space,
            subnets,
            tags: live_tags(live, old.map(|o| &o.tags)),
        })
    }
}

// ---- Subnet ---------------------------------------------------------------------------------

pub struct Subnet;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubnetInputs {
    /// The name of the resource group.
    #[schemars(transform = replace_on_changes)]
    pub resource_group_name: Value<String>,
    /// The name of the virtual network.
    #[schemars(transform = replace_on_changes)]
    pub virtual_network_name: Value<String>,
    /// The name of the subnet. Generated from the resource's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub subnet_name: Option<Value<String>>,
    /// The address prefix of the subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefix: Option<Value<String>>,
    /// The address prefixes of the subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefixes: Option<Value<Vec<String>>>,
    /// Whether network policies apply to private endpoints in the subnet: `Enabled`,
    /// `Disabled`, `NetworkSecurityGroupEnabled` or `RouteTableEnabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint_network_policies: Option<Value<String>>,
    /// Whether network policies apply to private link services in the subnet: `Enabled` or
    /// `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_network_policies: Option<Value<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubnetOutputs {
    #[serde(flatten)]
    pub inputs: SubnetInputs,
    /// The name of the subnet.
    pub name: Value<String>,
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: Value<String>,
    /// A unique read-only string that changes whenever the resource is updated.
    pub etag: Value<String>,
    /// The provisioning state of the subnet.
    pub provisioning_state: Value<String>,
    /// The Azure API version of the resource.
    pub azure_api_version: String,
}

impl SubnetInputs {
    fn as_spec(&self) -> SubnetSpec {
        SubnetSpec {
            id: None,
            name: self.subnet_name.as_ref().and_then(|v| v.known().cloned()),
            address_prefix: self
                .address_prefix
                .as_ref()
                .and_then(|v| v.known().cloned()),
            address_prefixes: self
                .address_prefixes
                .as_ref()
                .and_then(|v| v.known().cloned()),
            private_endpoint_network_policies: self
                .private_endpoint_network_policies
                .as_ref()
                .and_then(|v| v.known().cloned()),
            private_link_service_network_policies: self
                .private_link_service_network_policies
                .as_ref()
                .and_then(|v| v.known().cloned()),
        }
    }
}

impl ArmResource for Subnet {
    type Inputs = SubnetInputs;
    type Outputs = SubnetOutputs;
    const TOKEN: &'static str = "zerotrust:azure/network:Subnet";
    const DESCRIPTION: &'static str = include_str!("docs/subnet.md");
    const API_VERSION: &'static str = super::API_SUBNETS;
    const TAGS: TagWrite = TagWrite::None;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_group(&inputs.resource_group_name, failures);
        names::VIRTUAL_NETWORK.check(
            Some(&inputs.virtual_network_name),
            PropertyPath::root().key("virtualNetworkName"),
            failures,
        );
        name_or_generate(
            &mut inputs.subnet_name,
            ctx.olds.map(|o| &o.subnet_name),
            &names::SUBNET,
            ctx.name,
            ctx.random_seed,
        );
        names::SUBNET.check(
            inputs.subnet_name.as_ref(),
            PropertyPath::root().key("subnetName"),
            failures,
        );
        if inputs.address_prefix.is_none() && inputs.address_prefixes.is_none() {
            failures.at(
                "addressPrefix",
                "a subnet needs addressPrefix or addressPrefixes",
            );
        }
        check_subnet_fields(&inputs.as_spec(), &PropertyPath::root(), &[], failures);
        inputs
    }

    fn path(inputs: &Self::Inputs) -> Option<String> {
        let rg = rg_path(&Some(inputs.resource_group_name.clone()))?;
        let vnet = inputs.virtual_network_name.known()?;
        let name = inputs.subnet_name.as_ref()?.known()?;
        Some(format!("{rg}/providers/{VNET_TYPE}/{vnet}/subnets/{name}"))
    }

    fn location(_inputs: &Self::Inputs) -> Location {
        Location::NotApplicable
    }

    fn tags(_inputs: &Self::Inputs) -> Option<BTreeMap<String, String>> {
        None
    }

    fn put_body(inputs: &Self::Inputs, _location: Option<&str>, _live: Option<&Json>) -> Json {
        let s = inputs.as_spec();
        json!({
            "properties": subnet_properties(
                s.address_prefix.as_deref(),
                s.address_prefixes.as_ref(),
                s.private_endpoint_network_policies.as_deref(),
                s.private_link_service_network_policies.as_deref(),
            ),
        })
    }

    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs {
        outputs.inputs.clone()
    }

    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs {
        SubnetOutputs {
            inputs: inputs.clone(),
            name: out(live, "/name"),
            resource_type: out(live, "/type"),
            etag: out(live, "/etag"),
            provisioning_state: out(live, "/properties/provisioningState"),
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn preview(inputs: &Self::Inputs) -> Self::Outputs {
        SubnetOutputs {
            inputs: inputs.clone(),
            name: inputs.subnet_name.clone().unwrap_or(Value::Unknown),
            resource_type: Value::Known(SUBNET_TYPE.into()),
            etag: Value::Unknown,
            provisioning_state: Value::Unknown,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs> {
        if !id.is_type(SUBNET_TYPE) {
            return None;
        }
        let s = subnet_from_live(live);
        // ARM reports the policies even when the program left them to the defaults.
        let keep = |live: Option<String>, old: Option<&Option<Value<String>>>| match (live, old) {
            (_, Some(Some(Value::Unknown))) => Some(Value::Unknown),
            (Some(l), Some(None)) if l == "Disabled" || l == "Enabled" => None,
            (l, _) => l.map(Value::Known),
        };
        Some(SubnetInputs {
            resource_group_name: Value::Known(id.resource_group.clone()?),
            virtual_network_name: Value::Known(id.name(0)?.to_string()),
            subnet_name: Some(Value::Known(id.name(1)?.to_string())),
            address_prefix: s.address_prefix.map(Value::Known),
            address_prefixes: s.address_prefixes.map(Value::Known),
            private_endpoint_network_policies: keep(
                s.private_endpoint_network_policies,
                old.map(|o| &o.private_endpoint_network_policies),
            ),
            private_link_service_network_policies: keep(
                s.private_link_service_network_policies,
                old.map(|o| &o.private_link_service_network_policies),
            ),
        })
    }
}

// ---- PrivateEndpoint ------------------------------------------------------------------------

pub struct PrivateEndpoint;

/// A connection of a private endpoint to a private link service (such as an Azure Machine
/// Learning workspace).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "PrivateLinkServiceConnection")]
pub struct PrivateLinkServiceConnection {
    /// The name of the connection, unique within the private endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The resource id of the private link service, e.g. a workspace's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_id: Option<String>,
    /// The ids of the groups (sub-resources) to connect to, e.g. `amlworkspace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<String>>,
    /// A message passed to the owner of the service with the connection request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_message: Option<String>,
}

/// A network interface created for a private endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "NetworkInterfaceResponse")]
pub struct NetworkInterfaceRef {
    /// Resource ID.
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointInputs {
    /// The name of the resource group.
    #[schemars(transform = replace_on_changes)]
    pub resource_group_name: Value<String>,
    /// The name of the private endpoint. Generated from the resource's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub private_endpoint_name: Option<Value<String>>,
    /// Resource location (default: the resource group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub location: Option<Value<String>>,
    /// The subnet the private endpoint's address is allocated from: `{id: <subnet id>}`.
    #[schemars(transform = replace_on_changes)]
    pub subnet: Value<SubnetSpec>,
    /// zerotrust only, not sent to Azure: the id of the virtual network the subnet must belong
    /// to. Check refuses a subnet of any other network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_network_id: Option<Value<String>>,
    /// Connections to private link services that are approved automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_connections: Option<Value<Vec<PrivateLinkServiceConnection>>>,
    /// Connections that the service's owner approves by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_private_link_service_connections: Option<Value<Vec<PrivateLinkServiceConnection>>>,
    /// The name of the network interface created for the private endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub custom_network_interface_name: Option<Value<String>>,
    /// Resource tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointOutputs {
    #[serde(flatten)]
    pub inputs: PrivateEndpointInputs,
    /// Resource name.
    pub name: Value<String>,
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: Value<String>,
    /// A unique read-only string that changes whenever the resource is updated.
    pub etag: Value<String>,
    /// The network interfaces created for the private endpoint.
    pub network_interfaces: Value<Vec<NetworkInterfaceRef>>,
    /// The provisioning state of the private endpoint.
    pub provisioning_state: Value<String>,
    /// The Azure API version of the resource.
    pub azure_api_version: String,
}

fn connection_body(c: &PrivateLinkServiceConnection) -> Json {
    prune(json!({
        "name": c.name,
        "properties": {
            "privateLinkServiceId": c.private_link_service_id,
            "groupIds": c.group_ids,
            "requestMessage": c.request_message,
        },
    }))
}

fn connections_from_live(live: &Json, key: &str) -> Option<Vec<PrivateLinkServiceConnection>> {
    let list = live.pointer(&format!("/properties/{key}"))?.as_array()?;
    if list.is_empty() {
        return None;
    }
    Some(
        list.iter()
            .map(|c| PrivateLinkServiceConnection {
                name: text(c, "/name"),
                private_link_service_id: text(c, "/properties/privateLinkServiceId"),
                group_ids: c
                    .pointer("/properties/groupIds")
                    .and_then(|v| serde_json::from_value(v.clone()).ok()),
                request_message: text(c, "/properties/requestMessage"),
            })
            .collect(),
    )
}

fn check_connections(
    list: &Option<Value<Vec<PrivateLinkServiceConnection>>>,
    key: &str,
    failures: &mut Failures,
) {
    let Some(Value::Known(list)) = list else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, c) in list.iter().enumerate() {
        let at = PropertyPath::root().key(key).index(i);
        match &c.name {
            None => failures.add(at.key("name"), "each connection needs a name"),
            Some(n) => {
                names::CONNECTION.check(Some(&Value::Known(n.clone())), at.key("name"), failures);
                if !seen.insert(n.to_ascii_lowercase()) {
                    failures.add(at.key("name"), format!("a second connection named {n:?}"));
                }
            }
        }
        match &c.private_link_service_id {
            None => failures.add(
                at.key("privateLinkServiceId"),
                "each connection needs the id of the service it connects to",
            ),
            Some(id) => {
                if ArmId::parse(id).is_none_or(|p| p.namespace.is_none()) {
                    failures.add(
                        at.key("privateLinkServiceId"),
                        format!("{id:?} is not an ARM resource id"),
                    );
                }
            }
        }
        if c.group_ids
            .as_ref()
            .is_none_or(|g| g.is_empty() || g.iter().any(String::is_empty))
        {
            failures.add(
                at.key("groupIds"),
                "name the sub-resource to connect to, e.g. [\"amlworkspace\"] for a Machine Learning workspace",
            );
        }
    }
}

impl ArmResource for PrivateEndpoint {
    type Inputs = PrivateEndpointInputs;
    type Outputs = PrivateEndpointOutputs;
    const TOKEN: &'static str = "zerotrust:azure/network:PrivateEndpoint";
    const DESCRIPTION: &'static str = include_str!("docs/private_endpoint.md");
    const API_VERSION: &'static str = super::API_PRIVATE_ENDPOINTS;
    // The API has no PATCH for private endpoints.
    const TAGS: TagWrite = TagWrite::Put;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_group(&inputs.resource_group_name, failures);
        name_or_generate(
            &mut inputs.private_endpoint_name,
            ctx.olds.map(|o| &o.private_endpoint_name),
            &names::PRIVATE_ENDPOINT,
            ctx.name,
            ctx.random_seed,
        );
        names::PRIVATE_ENDPOINT.check(
            inputs.private_endpoint_name.as_ref(),
            PropertyPath::root().key("privateEndpointName"),
            failures,
        );
        check_location(inputs.location.as_ref(), false, failures);
        check_tags(inputs.tags.as_ref(), failures);
        let subnet_at = PropertyPath::root().key("subnet");
        if let Value::Known(subnet) = &inputs.subnet {
            match &subnet.id {
                None => failures.add(
                    subnet_at.key("id"),
                    "give the id of the subnet, e.g. subnet.id",
                ),
                Some(id) => {
                    let parsed = check_id_of_type(
                        Some(&Value::Known(id.clone())),
                        SUBNET_TYPE,
                        subnet_at.key("id"),
                        failures,
                    );
                    let network = check_id_of_type(
                        inputs.virtual_network_id.as_ref(),
                        VNET_TYPE,
                        PropertyPath::root().key("virtualNetworkId"),
                        failures,
                    );
                    if let (Some(s), Some(n)) = (parsed, network) {
                        let same = s.subscription.eq_ignore_ascii_case(&n.subscription)
                            && s.resource_group.as_deref().map(str::to_ascii_lowercase)
                                == n.resource_group.as_deref().map(str::to_ascii_lowercase)
                            && s.name(0).map(str::to_ascii_lowercase)
                                == n.name(0).map(str::to_ascii_lowercase);
                        if !same {
                            failures.add(
                                subnet_at.key("id"),
                                format!(
                                    "the subnet belongs to virtual network {:?} (resource group {:?}), not to the network given in virtualNetworkId ({:?})",
                                    s.name(0).unwrap_or_default(),
                                    s.resource_group.as_deref().unwrap_or_default(),
                                    n.name(0).unwrap_or_default(),
                                ),
                            );
                        }
                    }
                }
            }
            if subnet.name.is_some()
                || subnet.address_prefix.is_some()
                || subnet.address_prefixes.is_some()
                || subnet.private_endpoint_network_policies.is_some()
                || subnet.private_link_service_network_policies.is_some()
            {
                failures.add(
                    subnet_at,
                    "a private endpoint takes only the subnet's id; configure the subnet itself with the Subnet resource",
                );
            }
        }
        check_connections(
            &inputs.private_link_service_connections,
            "privateLinkServiceConnections",
            failures,
        );
        check_connections(
            &inputs.manual_private_link_service_connections,
            "manualPrivateLinkServiceConnections",
            failures,
        );
        // Known and empty (or absent) on both lists: nothing to connect to.
        let empty = |l: &Option<Value<Vec<PrivateLinkServiceConnection>>>| match l {
            None => true,
            Some(Value::Known(v)) => v.is_empty(),
            Some(Value::Unknown) => false,
        };
        if empty(&inputs.private_link_service_connections)
            && empty(&inputs.manual_private_link_service_connections)
        {
            failures.at(
                "privateLinkServiceConnections",
                "a private endpoint needs a connection to the service it exposes",
            );
        }
        inputs
    }

    fn path(inputs: &Self::Inputs) -> Option<String> {
        let rg = rg_path(&Some(inputs.resource_group_name.clone()))?;
        let name = inputs.private_endpoint_name.as_ref()?.known()?;
        Some(format!(
            "{rg}/providers/Microsoft.Network/privateEndpoints/{name}"
        ))
    }

    fn location(inputs: &Self::Inputs) -> Location {
        match &inputs.location {
            Some(Value::Known(l)) => Location::Given(l.clone()),
            _ => Location::FromResourceGroup(String::new()),
        }
    }

    fn tags(inputs: &Self::Inputs) -> Option<BTreeMap<String, String>> {
        known_tags(&inputs.tags)
    }

    fn put_body(inputs: &Self::Inputs, location: Option<&str>, _live: Option<&Json>) -> Json {
        let list = |l: &Option<Value<Vec<PrivateLinkServiceConnection>>>| {
            l.as_ref()
                .and_then(|v| v.known())
                .map(|v| v.iter().map(connection_body).collect::<Vec<_>>())
        };
        prune(json!({
            "location": location,
            "tags": known_tags(&inputs.tags),
            "properties": {
                "subnet": {"id": inputs.subnet.known().and_then(|s| s.id.clone())},
                "privateLinkServiceConnections": list(&inputs.private_link_service_connections),
                "manualPrivateLinkServiceConnections": list(&inputs.manual_private_link_service_connections),
                "customNetworkInterfaceName": known(&inputs.custom_network_interface_name),
            },
        }))
    }

    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs {
        outputs.inputs.clone()
    }

    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs {
        let nics = live
            .pointer("/properties/networkInterfaces")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|n| text(n, "/id").map(|id| NetworkInterfaceRef { id }))
                    .collect()
            })
            .unwrap_or_default();
        PrivateEndpointOutputs {
            inputs: inputs.clone(),
            name: out(live, "/name"),
            resource_type: out(live, "/type"),
            etag: out(live, "/etag"),
            network_interfaces: Value::Known(nics),
            provisioning_state: out(live, "/properties/provisioningState"),
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn preview(inputs: &Self::Inputs) -> Self::Outputs {
        PrivateEndpointOutputs {
            inputs: inputs.clone(),
            name: inputs
                .private_endpoint_name
                .clone()
                .unwrap_or(Value::Unknown),
            resource_type: Value::Known("Microsoft.Network/privateEndpoints".into()),
            etag: Value::Unknown,
            network_interfaces: Value::Unknown,
            provisioning_state: Value::Unknown,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs> {
        if !id.is_type("Microsoft.Network/privateEndpoints") {
            return None;
        }
        let subnet_id = text(live, "/properties/subnet/id");
        let subnet = match (subnet_id, old.map(|o| &o.subnet)) {
            // Keep the program's spelling of the same id.
            (Some(l), Some(Value::Known(o)))
                if o.id
                    .as_deref()
                    .is_some_and(|oid| oid.eq_ignore_ascii_case(&l)) =>
            {
                Value::Known(o.clone())
            }
            (Some(l), _) => Value::Known(SubnetSpec {
                id: Some(l),
                ..Default::default()
            }),
            (None, Some(o)) => o.clone(),
            (None, None) => Value::Known(SubnetSpec::default()),
        };
        let custom_nic = match (
            text(live, "/properties/customNetworkInterfaceName").filter(|n| !n.is_empty()),
            old.and_then(|o| o.custom_network_interface_name.clone()),
        ) {
            (Some(n), _) => Some(Value::Known(n)),
            (None, o) => o,
        };
        Some(PrivateEndpointInputs {
            resource_group_name: Value::Known(id.resource_group.clone()?),
            private_endpoint_name: Some(Value::Known(id.name(0)?.to_string())),
            location: live_location(live, old.map(|o| &o.location)),
            subnet,
            virtual_network_id: old.and_then(|o| o.virtual_network_id.clone()),
            private_link_service_connections: connections_from_live(
                live,
                "privateLinkServiceConnections",
            )
            .map(Value::Known),
            manual_private_link_service_connections: connections_from_live(
                live,
                "manualPrivateLinkServiceConnections",
            )
            .map(Value::Known),
            custom_network_interface_name: custom_nic,
            tags: live_tags(live, old.map(|o| &o.tags)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBNET_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints";
    const VNET_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet";
    const WS_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

    fn ctx<'a, I>(olds: Option<&'a I>) -> CheckCtx<'a, I> {
        CheckCtx {
            name: "private_endpoint",
            random_seed: b"seed",
            olds,
        }
    }

    fn paths(f: Failures) -> Vec<String> {
        f.into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect()
    }

    fn endpoint() -> PrivateEndpointInputs {
        PrivateEndpointInputs {
            resource_group_name: Value::Known("rg".into()),
            private_endpoint_name: None,
            location: Some(Value::Known("westus2".into())),
            subnet: Value::Known(SubnetSpec {
                id: Some(SUBNET_ID.into()),
                ..Default::default()
            }),
            virtual_network_id: Some(Value::Known(VNET_ID.into())),
            private_link_service_connections: Some(Value::Known(vec![
                PrivateLinkServiceConnection {
                    name: Some("aml".into()),
                    private_link_service_id: Some(WS_ID.into()),
                    group_ids: Some(vec!["amlworkspace".into()]),
                    request_message: None,
                },
            ])),
            manual_private_link_service_connections: None,
            custom_network_interface_name: None,
            tags: None,
        }
    }

    #[test]
    fn private_endpoint_body_and_path() {
        let mut f = Failures::default();
        let checked = PrivateEndpoint.check(&ctx(None), endpoint(), &mut f);
        assert!(f.is_empty(), "{:?}", f);
        let name = checked
            .private_endpoint_name
            .clone()
            .unwrap()
            .into_known()
            .unwrap();
        assert_eq!(
            PrivateEndpoint::path(&checked),
            Some(format!(
                "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/{name}"
            ))
        );
        assert_eq!(
            PrivateEndpoint::put_body(&checked, Some("westus2"), None),
            json!({
                "location": "westus2",
                "properties": {
                    "subnet": {"id": SUBNET_ID},
                    "privateLinkServiceConnections": [
                        {"name": "aml", "properties": {"privateLinkServiceId": WS_ID, "groupIds": ["amlworkspace"]}}
                    ],
                },
            })
        );
    }

    #[test]
    fn private_endpoint_refuses_a_subnet_of_another_network() {
        let mut f = Failures::default();
        let mut i = endpoint();
        i.virtual_network_id = Some(Value::Known(VNET_ID.replace("/vnet", "/other")));
        PrivateEndpoint.check(&ctx(None), i, &mut f);
        assert_eq!(paths(f), vec!["subnet.id"]);

        let mut f = Failures::default();
        let mut i = endpoint();
        i.subnet = Value::Known(SubnetSpec {
            id: Some(VNET_ID.into()),
            ..Default::default()
        });
        i.private_link_service_connections =
            Some(Value::Known(vec![PrivateLinkServiceConnection {
                name: None,
                private_link_service_id: Some("not-an-id".into()),
                group_ids: Some(vec![]),
                request_message: None,
            }]));
        i.private_endpoint_name = Some(Value::Known("-bad".into()));
        PrivateEndpoint.check(&ctx(None), i, &mut f);
        assert_eq!(
            paths(f),
            vec![
                "privateEndpointName",
                "subnet.id",
                "privateLinkServiceConnections[0].name",
                "privateLinkServiceConnections[0].privateLinkServiceId",
                "privateLinkServiceConnections[0].groupIds",
            ]
        );
    }

    #[test]
    fn subnets_are_checked_against_the_address_space() {
        let mut f = Failures::default();
        let vnet = VirtualNetworkInputs {
            resource_group_name: Value::Known("rg".into()),
            virtual_network_name: Some(Value::Known("vnet".into())),
            location: None,
            address_space: Some(Value::Known(AddressSpace {
                address_prefixes: Some(vec!["10.0.0.0/16".into()]),
            })),
            subnets: Some(Value::Known(vec![
                SubnetSpec {
                    name: Some("a".into()),
                    address_prefix: Some("10.0.1.0/24".into()),
                    ..Default::default()
                },
                SubnetSpec {
                    name: Some("b".into()),
                    address_prefix: Some("10.9.0.0/24".into()),
                    private_endpoint_network_policies: Some("Sometimes".into()),
                    ..Default::default()
                },
            ])),
            tags: None,
        };
        let checked = VirtualNetwork.check(&ctx(None), vnet, &mut f);
        assert_eq!(
            paths(f),
            vec![
                "subnets[1].privateEndpointNetworkPolicies",
                "subnets[1].addressPrefix"
            ]
        );
        assert_eq!(
            VirtualNetwork::put_body(&checked, Some("westus2"), None),
            json!({"location": "westus2", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [
                {"name": "a", "properties": {"addressPrefix": "10.0.1.0/24"}},
                {"name": "b", "properties": {"addressPrefix": "10.9.0.0/24", "privateEndpointNetworkPolicies": "Sometimes"}},
            ]}})
        );
    }

    #[test]
    fn a_network_without_inline_subnets_keeps_the_live_ones_on_update() {
        let vnet = VirtualNetworkInputs {
            resource_group_name: Value::Known("rg".into()),
            virtual_network_name: Some(Value::Known("vnet".into())),
            location: None,
            address_space: Some(Value::Known(AddressSpace {
                address_prefixes: Some(vec!["10.0.0.0/16".into()]),
            })),
            subnets: None,
            tags: None,
        };
        assert!(VirtualNetwork::put_needs_live(&vnet));
        let live = json!({"properties": {"subnets": [{"id": SUBNET_ID, "name": "endpoints", "etag": "x", "properties": {"addressPrefix": "10.0.1.0/24", "provisioningState": "Succeeded", "privateEndpoints": [], "networkSecurityGroup": {"id": "/nsg", "etag": "y"}}}]}});
        let body = VirtualNetwork::put_body(&vnet, Some("westus2"), Some(&live));
        assert_eq!(
            body["properties"]["subnets"],
            json!([{"id": SUBNET_ID, "name": "endpoints", "properties": {"addressPrefix": "10.0.1.0/24", "networkSecurityGroup": {"id": "/nsg"}}}])
        );
    }

    #[test]
    fn subnet_resource() {
        let mut f = Failures::default();
        let s = SubnetInputs {
            resource_group_name: Value::Known("rg".into()),
            virtual_network_name: Value::Known("vnet".into()),
            subnet_name: Some(Value::Known("endpoints".into())),
            address_prefix: Some(Value::Known("10.0.1.0/24".into())),
            address_prefixes: None,
            private_endpoint_network_policies: Some(Value::Known("Disabled".into())),
            private_link_service_network_policies: None,
        };
        let checked = Subnet.check(&ctx(None), s.clone(), &mut f);
        assert!(f.is_empty());
        assert_eq!(
            Subnet::path(&checked).unwrap(),
            "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints"
        );
        assert_eq!(
            Subnet::put_body(&checked, None, None),
            json!({"properties": {"addressPrefix": "10.0.1.0/24", "privateEndpointNetworkPolicies": "Disabled"}})
        );
        let live = json!({"name": "endpoints", "properties": {"addressPrefix": "10.0.1.0/24", "privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled"}});
        let id = ArmId::parse(&format!(
            "/subscriptions/x{}",
            Subnet::path(&checked).unwrap()
        ))
        .unwrap();
        assert_eq!(
            Subnet::inputs_from_live(&id, &live, Some(&checked)),
            Some(checked)
        );
        let mut bad = s;
        bad.address_prefix = Some(Value::Known("10.0.1.0".into()));
        let mut f = Failures::default();
        Subnet.check(&ctx(None), bad, &mut f);
        assert_eq!(paths(f), vec!["addressPrefix"]);
    }
}
