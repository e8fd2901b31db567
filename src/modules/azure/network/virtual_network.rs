//! `azure/network:VirtualNetwork`, as azure-native `network.VirtualNetwork`, with its inline subnets.

use super::*;

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
    const DESCRIPTION: &'static str = include_str!("../docs/virtual_network.md");
    const API_VERSION: &'static str = super::super::API_VIRTUAL_NETWORKS;
    const TAGS: TagWrite = TagWrite::Patch;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_group(&inputs.resource_group_name, failures);
        names::VIRTUAL_NETWORK.own_name(
            &mut inputs.virtual_network_name,
            ctx.olds.map(|o| &o.virtual_network_name),
            "virtualNetworkName",
            ctx,
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
