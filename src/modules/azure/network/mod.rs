//! `azure/network`: `VirtualNetwork`, `Subnet` and `PrivateEndpoint` (pulumi-azure-native
//! `azure-native:network:*`, ARM api-version 2026-03-01).

use super::arm::{
    ArmResource, Location, TagWrite, known, known_tags, live_location, live_tags, out, prune, text,
};
use super::names::{
    self, ArmId, check_choice, check_id_of_type, check_location, check_prefixes, check_tags,
    cidr_within,
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

mod private_endpoint;
mod subnet;
mod virtual_network;

pub use private_endpoint::*;
pub use subnet::*;
pub use virtual_network::*;

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
