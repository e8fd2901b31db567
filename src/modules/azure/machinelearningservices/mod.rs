//! `azure/machinelearningservices`: `Workspace` and `OnlineEndpoint` (pulumi-azure-native
//! `azure-native:machinelearningservices:*`, ARM api-version 2025-12-01).

use super::arm::{
    ArmResource, Location, TagWrite, known, known_tags, live_location, live_tags, out, prune, text,
};
use super::client::{ArmClient, ArmError, ArmRequest};
use super::names::{self, ArmId, check_choice, check_id_of_type, check_location, check_tags};
use crate::codec::PropertyPath;
use crate::modules::Ctx;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Failures, Secret, Value};
use azure_core::http::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use tokio::time::Instant;

const WORKSPACE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces";
const IDENTITY_TYPES: [&str; 4] = [
    "None",
    "SystemAssigned",
    "UserAssigned",
    "SystemAssigned,UserAssigned",
];
const PUBLIC_NETWORK_ACCESS: [&str; 2] = ["Enabled", "Disabled"];
const SKU_TIERS: [&str; 4] = ["Free", "Basic", "Standard", "Premium"];
const AUTH_MODES: [&str; 3] = ["AMLToken", "Key", "AADToken"];
const WORKSPACE_KINDS: [&str; 4] = ["Default", "Hub", "Project", "FeatureStore"];

/// Managed service identity (system-assigned and/or user-assigned identities).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ManagedServiceIdentity")]
pub struct ManagedServiceIdentity {
    /// `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned`.
    #[serde(rename = "type")]
    pub identity_type: String,
    /// The ids of the user-assigned identities (ARM resource ids) to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_assigned_identities: Option<Vec<String>>,
    /// Output: the service principal id of the system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// Output: the tenant of the system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// The resource model definition representing SKU.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Sku")]
pub struct Sku {
    /// The name of the SKU, e.g. `Basic`.
    pub name: String,
    /// `Free`, `Basic`, `Standard` or `Premium`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The SKU size, when the service has sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The SKU family, when the service has families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// The SKU capacity, when the service scales.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<i64>,
}

fn check_identity(identity: &Option<Value<ManagedServiceIdentity>>, failures: &mut Failures) {
    let Some(Value::Known(i)) = identity else {
        return;
    };
    let at = PropertyPath::root().key("identity");
    check_choice(
        Some(&Value::Known(i.identity_type.clone())),
        at.key("type"),
        &IDENTITY_TYPES,
        failures,
    );
    let user = i.identity_type.contains("UserAssigned");
    match &i.user_assigned_identities {
        Some(ids) if !user && !ids.is_empty() => failures.add(
            at.key("userAssignedIdentities"),
            "user-assigned identities need type UserAssigned or SystemAssigned,UserAssigned",
        ),
        None if user => failures.add(
            at.key("userAssignedIdentities"),
            "name the user-assigned identities to attach",
        ),
        Some(ids) => {
            for (n, id) in ids.iter().enumerate() {
                check_id_of_type(
                    Some(&Value::Known(id.clone())),
                    "Microsoft.ManagedIdentity/userAssignedIdentities",
                    at.key("userAssignedIdentities").index(n),
                    failures,
                );
            }
        }
        None => {}
    }
    for (key, v) in [("principalId", &i.principal_id), ("tenantId", &i.tenant_id)] {
        if v.is_some() {
            failures.add(at.key(key), "an output: Azure sets it, the program cannot");
        }
    }
}

fn check_sku(sku: &Option<Value<Sku>>, failures: &mut Failures) {
    let Some(Value::Known(s)) = sku else {
        return;
    };
    let at = PropertyPath::root().key("sku");
    if s.name.trim().is_empty() {
        failures.add(at.key("name"), "name the SKU, e.g. Basic");
    }
    check_choice(
        s.tier.clone().map(Value::Known).as_ref(),
        at.key("tier"),
        &SKU_TIERS,
        failures,
    );
}

fn identity_body(identity: &Option<Value<ManagedServiceIdentity>>) -> Json {
    match identity {
        Some(Value::Known(i)) => {
            let mut body = json!({"type": i.identity_type});
            if let Some(ids) = &i.user_assigned_identities {
                let map: serde_json::Map<String, Json> =
                    ids.iter().map(|id| (id.clone(), json!({}))).collect();
                body["userAssignedIdentities"] = Json::Object(map);
            }
            body
        }
        _ => Json::Null,
    }
}

fn sku_body(sku: &Option<Value<Sku>>) -> Json {
    prune(known(sku))
}

/// The identity as the program wrote it, or as ARM reports it on import.
fn identity_from_live(
    live: &Json,
    old: Option<&Option<Value<ManagedServiceIdentity>>>,
) -> Option<Value<ManagedServiceIdentity>> {
    let found = live
        .get("identity")
        .filter(|i| !i.is_null())
        .map(|i| ManagedServiceIdentity {
            identity_type: text(i, "/type").unwrap_or_default(),
            user_assigned_identities: i
                .get("userAssignedIdentities")
                .and_then(Json::as_object)
                .filter(|m| !m.is_empty())
                .map(|m| m.keys().cloned().collect()),
            principal_id: None,
            tenant_id: None,
        });
    match (found, old.cloned().flatten()) {
        (Some(f), _) if f.identity_type == "None" && old.is_some_and(Option::is_none) => None,
        (Some(f), _) => Some(Value::Known(f)),
        (None, o) => o,
    }
}

/// The identity with what ARM reports about it (outputs).
fn identity_output(
    inputs: &Option<Value<ManagedServiceIdentity>>,
    live: &Json,
) -> Option<Value<ManagedServiceIdentity>> {
    let principal = text(live, "/identity/principalId");
    let tenant = text(live, "/identity/tenantId");
    match inputs {
        Some(Value::Known(i)) => Some(Value::Known(ManagedServiceIdentity {
            principal_id: principal,
            tenant_id: tenant,
            ..i.clone()
        })),
        other => other.clone(),
    }
}

fn strip_identity_outputs(
    identity: &Option<Value<ManagedServiceIdentity>>,
) -> Option<Value<ManagedServiceIdentity>> {
    identity.clone().map(|v| {
        v.map(|i| ManagedServiceIdentity {
            principal_id: None,
            tenant_id: None,
            ..i
        })
    })
}

fn sku_from_live(live: &Json, old: Option<&Option<Value<Sku>>>) -> Option<Value<Sku>> {
    match (
        live.get("sku")
            .and_then(|s| serde_json::from_value::<Sku>(s.clone()).ok()),
        old.cloned().flatten(),
    ) {
        (Some(s), _) => Some(Value::Known(s)),
        (None, o) => o,
    }
}

/// A text field of the answer, kept unset when the program left it unset and ARM filled a
/// default in.
fn live_text(
    live: &Json,
    pointer: &str,
    old: Option<&Option<Value<String>>>,
) -> Option<Value<String>> {
    match (text(live, pointer).filter(|s| !s.is_empty()), old) {
        (_, Some(Some(Value::Unknown))) => Some(Value::Unknown),
        (Some(_), Some(None)) => None,
        (Some(v), _) => Some(Value::Known(v)),
        (None, Some(o)) => o.clone(),
        (None, None) => None,
    }
}

// ---- Workspace ------------------------------------------------------------------------------

mod online_endpoint;
mod workspace;

pub use online_endpoint::*;
pub use workspace::*;

#[cfg(test)]
mod tests {
    use super::*;

    const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg";

    fn ctx<'a, I>(olds: Option<&'a I>) -> CheckCtx<'a, I> {
        CheckCtx {
            name: "online_endpoint",
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

    fn workspace() -> WorkspaceInputs {
        WorkspaceInputs {
            resource_group_name: Value::Known("rg".into()),
            workspace_name: Some(Value::Known("aml-ws".into())),
            location: Some(Value::Known("westus2".into())),
            identity: Some(Value::Known(ManagedServiceIdentity {
                identity_type: "SystemAssigned".into(),
                ..Default::default()
            })),
            sku: Some(Value::Known(Sku {
                name: "Basic".into(),
                tier: Some("Basic".into()),
                ..Default::default()
            })),
            kind: None,
            description: None,
            friendly_name: None,
            storage_account: Some(Value::Known(format!(
                "{RG}/providers/Microsoft.Storage/storageAccounts/st"
            ))),
            key_vault: Some(Value::Known(format!(
                "{RG}/providers/Microsoft.KeyVault/vaults/kv"
            ))),
            application_insights: Some(Value::Known(format!(
                "{RG}/providers/Microsoft.Insights/components/ai"
            ))),
            container_registry: None,
            public_network_access: Some(Value::Known("Disabled".into())),
            hbi_workspace: None,
            tags: None,
        }
    }

    fn endpoint(auth: &str) -> OnlineEndpointInputs {
        OnlineEndpointInputs {
            resource_group_name: Value::Known("rg".into()),
            workspace_name: Value::Known("aml-ws".into()),
            endpoint_name: None,
            location: None,
            online_endpoint_properties: Value::Known(OnlineEndpointProperties {
                auth_mode: auth.into(),
                public_network_access: Some("Disabled".into()),
                ..Default::default()
            }),
            identity: None,
            kind: None,
            sku: None,
            tags: Some(Value::Known(BTreeMap::from([("team".into(), "ml".into())]))),
        }
    }

    #[test]
    fn workspace_body_carries_its_references() {
        let mut f = Failures::default();
        let w = Workspace.check(&ctx(None), workspace(), &mut f);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(
            Workspace::put_body(&w, Some("westus2"), None),
            json!({
                "location": "westus2",
                "sku": {"name": "Basic", "tier": "Basic"},
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "storageAccount": format!("{RG}/providers/Microsoft.Storage/storageAccounts/st"),
                    "keyVault": format!("{RG}/providers/Microsoft.KeyVault/vaults/kv"),
                    "applicationInsights": format!("{RG}/providers/Microsoft.Insights/components/ai"),
                    "publicNetworkAccess": "Disabled",
                },
            })
        );
    }

    #[test]
    fn workspace_check_refuses_wrong_references() {
        let mut w = workspace();
        w.storage_account = None;
        w.key_vault = Some(Value::Known(format!(
            "{RG}/providers/Microsoft.Storage/storageAccounts/st"
        )));
        w.identity = Some(Value::Known(ManagedServiceIdentity {
            identity_type: "Sometimes".into(),
            ..Default::default()
        }));
        w.workspace_name = Some(Value::Known("w".into()));
        let mut f = Failures::default();
        Workspace.check(&ctx(None), w, &mut f);
        assert_eq!(
            paths(f),
            vec![
                "workspaceName",
                "identity.type",
                "storageAccount",
                "keyVault"
            ]
        );
    }

    #[test]
    fn endpoint_check_and_body() {
        let mut f = Failures::default();
        let e = OnlineEndpoint.check(&ctx(None), endpoint("AMLToken"), &mut f);
        assert!(f.is_empty(), "{f:?}");
        let name = e.endpoint_name.clone().unwrap().into_known().unwrap();
        assert!(name.starts_with("online-endpoint"), "{name}");
        assert_eq!(
            OnlineEndpoint::path(&e).unwrap(),
            format!(
                "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/aml-ws/onlineEndpoints/{name}"
            )
        );
        assert_eq!(
            OnlineEndpoint::put_body(&e, Some("westus2"), None),
            json!({"location": "westus2", "tags": {"team": "ml"}, "properties": {"authMode": "AMLToken", "publicNetworkAccess": "Disabled"}})
        );
        let mut f = Failures::default();
        let mut bad = endpoint("Password");
        bad.endpoint_name = Some(Value::Known("online_endpoint".into()));
        if let Value::Known(p) = &mut bad.online_endpoint_properties {
            p.traffic = Some(BTreeMap::from([("blue".into(), 60), ("green".into(), 30)]));
            p.scoring_uri = Some("https://x".into());
        }
        OnlineEndpoint.check(&ctx(None), bad, &mut f);
        assert_eq!(
            paths(f),
            vec![
                "endpointName",
                "onlineEndpointProperties.authMode",
                "onlineEndpointProperties.traffic",
                "onlineEndpointProperties.scoringUri"
            ]
        );
    }

    #[test]
    fn endpoint_outputs_round_trip_to_inputs() {
        let mut f = Failures::default();
        let e = OnlineEndpoint.check(&ctx(None), endpoint("Key"), &mut f);
        let live = json!({"name": "x", "type": "t", "location": "westus2", "tags": {"team": "ml"}, "properties": {"authMode": "Key", "publicNetworkAccess": "Disabled", "scoringUri": "https://s", "provisioningState": "Succeeded", "traffic": {}}});
        let outputs = OnlineEndpoint::outputs(&e, &live);
        assert_eq!(
            outputs
                .inputs
                .online_endpoint_properties
                .known()
                .unwrap()
                .scoring_uri
                .as_deref(),
            Some("https://s")
        );
        assert_eq!(OnlineEndpoint::inputs_of(&outputs), e);
        let id = ArmId::parse(&format!(
            "/subscriptions/s{}",
            OnlineEndpoint::path(&e).unwrap()
        ))
        .unwrap();
        let mut refreshed = OnlineEndpoint::inputs_from_live(&id, &live, Some(&e)).unwrap();
        // The program left the location to the resource group.
        assert_eq!(refreshed.location, None);
        refreshed.location = e.location.clone();
        assert_eq!(refreshed, e);
        assert_eq!(list_keys_request("/p").path, "/p/listKeys");
        assert!(list_keys_request("/p").body.is_none());
        let preview = OnlineEndpoint::preview(&e);
        assert_eq!(preview.primary_key, Some(Value::Unknown));
        assert_eq!(
            OnlineEndpoint::preview(&endpoint("AMLToken")).primary_key,
            None
        );
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let mut f = Failures::default();
        let e = OnlineEndpoint.check(&ctx(None), endpoint("Key"), &mut f);
        let mut o = OnlineEndpoint::outputs(&e, &json!({}));
        o.primary_key = Some(Value::Known(Secret::new("pk-123".into())));
        assert!(!format!("{o:?}").contains("pk-123"));
        let wire = serde_json::to_string(&o).unwrap();
        assert!(
            wire.contains("4dabf18193072939515e22adb298388d"),
            "keys go out as secrets"
        );
    }
}
