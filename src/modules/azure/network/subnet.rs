//! `azure/network:Subnet`, as azure-native `network.Subnet`: one subnet of a virtual network.

use super::*;

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
    const DESCRIPTION: &'static str = include_str!("../docs/subnet.md");
    const API_VERSION: &'static str = super::super::API_SUBNETS;
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
        names::SUBNET.own_name(
            &mut inputs.subnet_name,
            ctx.olds.map(|o| &o.subnet_name),
            "subnetName",
            ctx,
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
