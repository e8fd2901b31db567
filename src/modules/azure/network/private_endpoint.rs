//! `azure/network:PrivateEndpoint`, as azure-native `network.PrivateEndpoint`, with its private link connections.

use super::*;

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
    const DESCRIPTION: &'static str = include_str!("../docs/private_endpoint.md");
    const API_VERSION: &'static str = super::super::API_PRIVATE_ENDPOINTS;
    // The API has no PATCH for private endpoints.
    const TAGS: TagWrite = TagWrite::Put;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_group(&inputs.resource_group_name, failures);
        names::PRIVATE_ENDPOINT.own_name(
            &mut inputs.private_endpoint_name,
            ctx.olds.map(|o| &o.private_endpoint_name),
            "privateEndpointName",
            ctx,
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
