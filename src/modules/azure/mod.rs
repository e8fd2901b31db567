//! The `azure/*` modules: Azure Resource Manager resources in pulumi-azure-native v3 shapes and
//! Python paths (`pulumi_zerotrust.azure.resources.ResourceGroup`,
//! `pulumi_zerotrust.azure.network.PrivateEndpoint`,
//! `pulumi_zerotrust.azure.machinelearningservices.OnlineEndpoint`, ...), called over ARM's REST
//! API with pinned api-versions.

pub mod arm;
pub mod client;
pub mod errors;
pub mod lro;
pub mod machinelearningservices;
pub mod names;
pub mod network;
pub mod resources;
pub mod settings;

use crate::modules::Registry;

/// The api-version of each resource type, one stable version per type. They must equal
/// `tools/arm/api_versions.json`, which the ARM test server enforces (a unit test compares).
pub const API_RESOURCE_GROUPS: &str = "2025-04-01";
pub const API_VIRTUAL_NETWORKS: &str = "2026-03-01";
pub const API_SUBNETS: &str = "2026-03-01";
pub const API_PRIVATE_ENDPOINTS: &str = "2026-03-01";
pub const API_WORKSPACES: &str = "2025-12-01";
pub const API_ONLINE_ENDPOINTS: &str = "2025-12-01";

/// Resource type -> api-version, as the JSON file lists them.
pub const API_VERSIONS: [(&str, &str); 6] = [
    ("Microsoft.Resources/resourceGroups", API_RESOURCE_GROUPS),
    ("Microsoft.Network/virtualNetworks", API_VIRTUAL_NETWORKS),
    ("Microsoft.Network/virtualNetworks/subnets", API_SUBNETS),
    ("Microsoft.Network/privateEndpoints", API_PRIVATE_ENDPOINTS),
    (
        "Microsoft.MachineLearningServices/workspaces",
        API_WORKSPACES,
    ),
    (
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
        API_ONLINE_ENDPOINTS,
    ),
];

pub fn register(registry: Registry) -> Registry {
    registry
        .resource(arm::Arm(resources::ResourceGroup))
        .resource(arm::Arm(network::VirtualNetwork))
        .resource(arm::Arm(network::Subnet))
        .resource(arm::Arm(network::PrivateEndpoint))
        .resource(arm::Arm(machinelearningservices::Workspace))
        .resource(arm::Arm(machinelearningservices::OnlineEndpoint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    #[test]
    fn api_versions_match_the_test_servers_pins() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/arm/api_versions.json");
        let text = std::fs::read_to_string(path).expect("tools/arm/api_versions.json");
        let pinned: serde_json::Map<String, Json> = serde_json::from_str(&text).unwrap();
        let pinned: Vec<(String, String)> = pinned
            .into_iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
            .collect();
        let mut ours: Vec<(String, String)> = API_VERSIONS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut theirs = pinned;
        ours.sort();
        theirs.sort();
        assert_eq!(
            ours, theirs,
            "src/modules/azure/mod.rs and tools/arm/api_versions.json differ"
        );
    }
}
