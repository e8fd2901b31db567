//! `azure/machinelearningservices`: `Workspace` and `OnlineEndpoint` (pulumi-azure-native
//! `azure-native:machinelearningservices:*`, ARM api-version 2025-12-01).

use super::arm::{
    ArmResource, Location, TagWrite, known, known_tags, live_location, live_tags, out, prune, text,
};
use super::client::{ArmClient, ArmError, ArmRequest};
use super::names::{
    self, ArmId, check_choice, check_id_of_type, check_location, check_tags, name_or_generate,
};
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

pub struct Workspace;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInputs {
    /// The name of the resource group.
    #[schemars(transform = replace_on_changes)]
    pub resource_group_name: Value<String>,
    /// The name of the workspace (3-33 letters, digits, hyphens and underscores). Generated
    /// from the resource's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub workspace_name: Option<Value<String>>,
    /// Resource location (default: the resource group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub location: Option<Value<String>>,
    /// The workspace's managed identity, e.g. `{type: "SystemAssigned"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value<ManagedServiceIdentity>>,
    /// The workspace's SKU, e.g. `{name: "Basic", tier: "Basic"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Value<Sku>>,
    /// `Default`, `Hub`, `Project` or `FeatureStore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub kind: Option<Value<String>>,
    /// The description of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value<String>>,
    /// The friendly name of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<Value<String>>,
    /// The id of the storage account the workspace keeps its data in (fixed at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub storage_account: Option<Value<String>>,
    /// The id of the key vault the workspace keeps its secrets in (fixed at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub key_vault: Option<Value<String>>,
    /// The id of the Application Insights component the workspace logs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_insights: Option<Value<String>>,
    /// The id of the container registry the workspace builds images in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_registry: Option<Value<String>>,
    /// Whether the workspace can be reached from public networks: `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<Value<String>>,
    /// Whether the workspace holds high business impact data (less diagnostic data is
    /// collected; fixed at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub hbi_workspace: Option<Value<bool>>,
    /// Resource tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceOutputs {
    #[serde(flatten)]
    pub inputs: WorkspaceInputs,
    /// The name of the resource.
    pub name: Value<String>,
    /// The type of the resource.
    #[serde(rename = "type")]
    pub resource_type: Value<String>,
    /// The immutable id of the workspace.
    pub workspace_id: Value<String>,
    /// The MLflow tracking server URI of the workspace.
    pub ml_flow_tracking_uri: Value<String>,
    /// The URL of the workspace's discovery service.
    pub discovery_url: Value<String>,
    /// The tenant the workspace belongs to.
    pub tenant_id: Value<String>,
    /// The provisioning state of the workspace.
    pub provisioning_state: Value<String>,
    /// The Azure API version of the resource.
    pub azure_api_version: String,
}

fn check_reference(
    value: &Option<Value<String>>,
    key: &str,
    full_type: &str,
    required: bool,
    failures: &mut Failures,
) {
    match value {
        None if required => failures.at(
            key,
            format!(
                "a workspace needs the id of its {full_type} (create it first, then pass its id)"
            ),
        ),
        Some(v) => {
            check_id_of_type(Some(v), full_type, PropertyPath::root().key(key), failures);
        }
        None => {}
    }
}

impl ArmResource for Workspace {
    type Inputs = WorkspaceInputs;
    type Outputs = WorkspaceOutputs;
    const TOKEN: &'static str = "zerotrust:azure/machinelearningservices:Workspace";
    const DESCRIPTION: &'static str = include_str!("docs/workspace.md");
    const API_VERSION: &'static str = super::API_WORKSPACES;
    const TAGS: TagWrite = TagWrite::Patch;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        names::RESOURCE_GROUP.check(
            Some(&inputs.resource_group_name),
            PropertyPath::root().key("resourceGroupName"),
            failures,
        );
        name_or_generate(
            &mut inputs.workspace_name,
            ctx.olds.map(|o| &o.workspace_name),
            &names::WORKSPACE,
            ctx.name,
            ctx.random_seed,
        );
        names::WORKSPACE.check(
            inputs.workspace_name.as_ref(),
            PropertyPath::root().key("workspaceName"),
            failures,
        );
        check_location(inputs.location.as_ref(), false, failures);
        check_tags(inputs.tags.as_ref(), failures);
        check_identity(&inputs.identity, failures);
        check_sku(&inputs.sku, failures);
        check_choice(
            inputs.kind.as_ref(),
            PropertyPath::root().key("kind"),
            &WORKSPACE_KINDS,
            failures,
        );
        check_choice(
            inputs.public_network_access.as_ref(),
            PropertyPath::root().key("publicNetworkAccess"),
            &PUBLIC_NETWORK_ACCESS,
            failures,
        );
        // Hubs and projects borrow their hub's resources; a plain workspace needs its own.
        let own = match inputs.kind.as_ref() {
            None => true,
            Some(Value::Known(k)) => k == "Default",
            Some(Value::Unknown) => false,
        };
        check_reference(
            &inputs.storage_account,
            "storageAccount",
            "Microsoft.Storage/storageAccounts",
            own,
            failures,
        );
        check_reference(
            &inputs.key_vault,
            "keyVault",
            "Microsoft.KeyVault/vaults",
            own,
            failures,
        );
        check_reference(
            &inputs.application_insights,
            "applicationInsights",
            "Microsoft.Insights/components",
            false,
            failures,
        );
        check_reference(
            &inputs.container_registry,
            "containerRegistry",
            "Microsoft.ContainerRegistry/registries",
            false,
            failures,
        );
        inputs
    }

    fn path(inputs: &Self::Inputs) -> Option<String> {
        let rg = inputs.resource_group_name.known()?;
        let name = inputs.workspace_name.as_ref()?.known()?;
        Some(format!(
            "/resourceGroups/{rg}/providers/{WORKSPACE_TYPE}/{name}"
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
        let mut body = prune(json!({
            "location": location,
            "tags": known_tags(&inputs.tags),
            "sku": sku_body(&inputs.sku),
            "kind": known(&inputs.kind),
        }));
        let properties = prune(json!({
            "description": known(&inputs.description),
            "friendlyName": known(&inputs.friendly_name),
            "storageAccount": known(&inputs.storage_account),
            "keyVault": known(&inputs.key_vault),
            "applicationInsights": known(&inputs.application_insights),
            "containerRegistry": known(&inputs.container_registry),
            "publicNetworkAccess": known(&inputs.public_network_access),
            "hbiWorkspace": known(&inputs.hbi_workspace),
        }));
        body["properties"] = properties;
        let identity = identity_body(&inputs.identity);
        if !identity.is_null() {
            body["identity"] = identity;
        }
        body
    }

    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs {
        WorkspaceInputs {
            identity: strip_identity_outputs(&outputs.inputs.identity),
            ..outputs.inputs.clone()
        }
    }

    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs {
        WorkspaceOutputs {
            inputs: WorkspaceInputs {
                identity: identity_output(&inputs.identity, live),
                ..inputs.clone()
            },
            name: out(live, "/name"),
            resource_type: out(live, "/type"),
            workspace_id: out(live, "/properties/workspaceId"),
            ml_flow_tracking_uri: out(live, "/properties/mlFlowTrackingUri"),
            discovery_url: out(live, "/properties/discoveryUrl"),
            tenant_id: out(live, "/properties/tenantId"),
            provisioning_state: out(live, "/properties/provisioningState"),
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn preview(inputs: &Self::Inputs) -> Self::Outputs {
        WorkspaceOutputs {
            inputs: inputs.clone(),
            name: inputs.workspace_name.clone().unwrap_or(Value::Unknown),
            resource_type: Value::Known(WORKSPACE_TYPE.into()),
            workspace_id: Value::Unknown,
            ml_flow_tracking_uri: Value::Unknown,
            discovery_url: Value::Unknown,
            tenant_id: Value::Unknown,
            provisioning_state: Value::Unknown,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs> {
        if !id.is_type(WORKSPACE_TYPE) {
            return None;
        }
        let p = |key: &str, old: Option<&Option<Value<String>>>| {
            live_text(live, &format!("/properties/{key}"), old)
        };
        Some(WorkspaceInputs {
            resource_group_name: Value::Known(id.resource_group.clone()?),
            workspace_name: Some(Value::Known(id.name(0)?.to_string())),
            location: live_location(live, old.map(|o| &o.location)),
            identity: identity_from_live(live, old.map(|o| &o.identity)),
            sku: sku_from_live(live, old.map(|o| &o.sku)),
            kind: live_text(live, "/kind", old.map(|o| &o.kind)),
            description: p("description", old.map(|o| &o.description)),
            friendly_name: p("friendlyName", old.map(|o| &o.friendly_name)),
            storage_account: text(live, "/properties/storageAccount")
                .map(Value::Known)
                .or_else(|| old.and_then(|o| o.storage_account.clone())),
            key_vault: text(live, "/properties/keyVault")
                .map(Value::Known)
                .or_else(|| old.and_then(|o| o.key_vault.clone())),
            application_insights: text(live, "/properties/applicationInsights")
                .map(Value::Known)
                .or_else(|| old.and_then(|o| o.application_insights.clone())),
            container_registry: text(live, "/properties/containerRegistry")
                .map(Value::Known)
                .or_else(|| old.and_then(|o| o.container_registry.clone())),
            public_network_access: match (
                text(live, "/properties/publicNetworkAccess"),
                old.map(|o| &o.public_network_access),
            ) {
                (Some(l), Some(None)) if l == "Enabled" => None,
                (Some(l), _) => Some(Value::Known(l)),
                (None, o) => o.cloned().flatten(),
            },
            hbi_workspace: match (
                live.pointer("/properties/hbiWorkspace")
                    .and_then(Json::as_bool),
                old.map(|o| &o.hbi_workspace),
            ) {
                (Some(false), Some(None)) | (Some(false), None) => None,
                (Some(b), _) => Some(Value::Known(b)),
                (None, o) => o.cloned().flatten(),
            },
            tags: live_tags(live, old.map(|o| &o.tags)),
        })
    }
}

// ---- OnlineEndpoint -------------------------------------------------------------------------

pub struct OnlineEndpoint;

/// Online endpoint configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "OnlineEndpointProperties")]
pub struct OnlineEndpointProperties {
    /// How callers authenticate to the endpoint: `AMLToken` (Azure Machine Learning tokens),
    /// `Key` (keys, exposed as the secret outputs `primaryKey` and `secondaryKey`) or `AADToken`
    /// (Microsoft Entra tokens).
    pub auth_mode: String,
    /// Description of the inference endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the endpoint can be reached from public networks: `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    /// The ARM id of the compute the endpoint runs on, for Kubernetes online endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<String>,
    /// Percentage of traffic per deployment; the values add up to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<BTreeMap<String, i64>>,
    /// Percentage of traffic mirrored to each deployment (at most 50 in total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_traffic: Option<BTreeMap<String, i64>>,
    /// Property dictionary. Properties can be added, but not removed or altered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
    /// Output: the endpoint's scoring URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring_uri: Option<String>,
    /// Output: the endpoint's Swagger URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swagger_uri: Option<String>,
    /// Output: the provisioning state of the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

impl OnlineEndpointProperties {
    fn without_outputs(&self) -> Self {
        OnlineEndpointProperties {
            scoring_uri: None,
            swagger_uri: None,
            provisioning_state: None,
            ..self.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlineEndpointInputs {
    /// The name of the resource group.
    #[schemars(transform = replace_on_changes)]
    pub resource_group_name: Value<String>,
    /// The name of the Azure Machine Learning workspace.
    #[schemars(transform = replace_on_changes)]
    pub workspace_name: Value<String>,
    /// The name of the online endpoint (3-32 letters, digits and hyphens, starting with a
    /// letter). Generated from the resource's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub endpoint_name: Option<Value<String>>,
    /// The geo-location where the resource lives (default: the resource group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub location: Option<Value<String>>,
    /// Online endpoint configuration.
    pub online_endpoint_properties: Value<OnlineEndpointProperties>,
    /// The endpoint's managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value<ManagedServiceIdentity>>,
    /// Metadata used by the portal, tooling and clients to render different UX experiences for
    /// resources of the same type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub kind: Option<Value<String>>,
    /// Sku details required for ARM contract for autoscaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Value<Sku>>,
    /// Resource tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlineEndpointOutputs {
    #[serde(flatten)]
    pub inputs: OnlineEndpointInputs,
    /// The name of the resource.
    pub name: Value<String>,
    /// The type of the resource.
    #[serde(rename = "type")]
    pub resource_type: Value<String>,
    /// The endpoint's primary key, when `authMode` is `Key`. Always a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Value<Secret<String>>>,
    /// The endpoint's secondary key, when `authMode` is `Key`. Always a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<Value<Secret<String>>>,
    /// The Azure API version of the resource.
    pub azure_api_version: String,
}

fn check_traffic(
    map: &Option<BTreeMap<String, i64>>,
    key: &str,
    cap: i64,
    failures: &mut Failures,
) {
    let Some(map) = map else {
        return;
    };
    let at = PropertyPath::root()
        .key("onlineEndpointProperties")
        .key(key);
    for (deployment, pct) in map {
        if !(0..=100).contains(pct) {
            failures.add(
                at.key(deployment.as_str()),
                format!("{pct} is not a percentage"),
            );
        }
    }
    let total: i64 = map.values().sum();
    if key == "traffic" && !map.is_empty() && total != 100 && total != 0 {
        failures.add(at, format!("the percentages add up to {total}, not 100"));
    } else if total > cap {
        failures.add(
            at,
            format!("the percentages add up to {total}, more than {cap}"),
        );
    }
}

fn is_key_auth(inputs: &OnlineEndpointInputs) -> Option<bool> {
    inputs
        .online_endpoint_properties
        .known()
        .map(|p| p.auth_mode == "Key")
}

impl ArmResource for OnlineEndpoint {
    type Inputs = OnlineEndpointInputs;
    type Outputs = OnlineEndpointOutputs;
    const TOKEN: &'static str = "zerotrust:azure/machinelearningservices:OnlineEndpoint";
    const DESCRIPTION: &'static str = include_str!("docs/online_endpoint.md");
    const API_VERSION: &'static str = super::API_ONLINE_ENDPOINTS;
    const TAGS: TagWrite = TagWrite::Patch;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        names::RESOURCE_GROUP.check(
            Some(&inputs.resource_group_name),
            PropertyPath::root().key("resourceGroupName"),
            failures,
        );
        names::WORKSPACE.check(
            Some(&inputs.workspace_name),
            PropertyPath::root().key("workspaceName"),
            failures,
        );
        name_or_generate(
            &mut inputs.endpoint_name,
            ctx.olds.map(|o| &o.endpoint_name),
            &names::ONLINE_ENDPOINT,
            ctx.name,
            ctx.random_seed,
        );
        names::ONLINE_ENDPOINT.check(
            inputs.endpoint_name.as_ref(),
            PropertyPath::root().key("endpointName"),
            failures,
        );
        check_location(inputs.location.as_ref(), false, failures);
        check_tags(inputs.tags.as_ref(), failures);
        check_identity(&inputs.identity, failures);
        check_sku(&inputs.sku, failures);
        if let Value::Known(p) = &inputs.online_endpoint_properties {
            let at = PropertyPath::root().key("onlineEndpointProperties");
            check_choice(
                Some(&Value::Known(p.auth_mode.clone())),
                at.key("authMode"),
                &AUTH_MODES,
                failures,
            );
            check_choice(
                p.public_network_access.clone().map(Value::Known).as_ref(),
                at.key("publicNetworkAccess"),
                &PUBLIC_NETWORK_ACCESS,
                failures,
            );
            check_traffic(&p.traffic, "traffic", 100, failures);
            check_traffic(&p.mirror_traffic, "mirrorTraffic", 50, failures);
            for (key, v) in [
                ("scoringUri", &p.scoring_uri),
                ("swaggerUri", &p.swagger_uri),
                ("provisioningState", &p.provisioning_state),
            ] {
                if v.is_some() {
                    failures.add(at.key(key), "an output: Azure sets it, the program cannot");
                }
            }
        }
        inputs
    }

    fn path(inputs: &Self::Inputs) -> Option<String> {
        let rg = inputs.resource_group_name.known()?;
        let ws = inputs.workspace_name.known()?;
        let name = inputs.endpoint_name.as_ref()?.known()?;
        Some(format!(
            "/resourceGroups/{rg}/providers/{WORKSPACE_TYPE}/{ws}/onlineEndpoints/{name}"
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
        let mut body = prune(json!({
            "location": location,
            "tags": known_tags(&inputs.tags),
            "sku": sku_body(&inputs.sku),
            "kind": known(&inputs.kind),
        }));
        let props = inputs
            .online_endpoint_properties
            .known()
            .map(OnlineEndpointProperties::without_outputs)
            .unwrap_or_default();
        body["properties"] = prune(serde_json::to_value(&props).unwrap_or(Json::Null));
        let identity = identity_body(&inputs.identity);
        if !identity.is_null() {
            body["identity"] = identity;
        }
        body
    }

    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs {
        OnlineEndpointInputs {
            identity: strip_identity_outputs(&outputs.inputs.identity),
            online_endpoint_properties: outputs
                .inputs
                .online_endpoint_properties
                .as_ref()
                .map(OnlineEndpointProperties::without_outputs),
            ..outputs.inputs.clone()
        }
    }

    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs {
        let properties =
            inputs
                .online_endpoint_properties
                .as_ref()
                .map(|p| OnlineEndpointProperties {
                    scoring_uri: text(live, "/properties/scoringUri"),
                    swagger_uri: text(live, "/properties/swaggerUri"),
                    provisioning_state: text(live, "/properties/provisioningState"),
                    ..p.clone()
                });
        OnlineEndpointOutputs {
            inputs: OnlineEndpointInputs {
                identity: identity_output(&inputs.identity, live),
                online_endpoint_properties: properties,
                ..inputs.clone()
            },
            name: out(live, "/name"),
            resource_type: out(live, "/type"),
            primary_key: None,
            secondary_key: None,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn preview(inputs: &Self::Inputs) -> Self::Outputs {
        let keys = match is_key_auth(inputs) {
            Some(false) => None,
            _ => Some(Value::Unknown),
        };
        OnlineEndpointOutputs {
            inputs: inputs.clone(),
            name: inputs.endpoint_name.clone().unwrap_or(Value::Unknown),
            resource_type: Value::Known(format!("{WORKSPACE_TYPE}/onlineEndpoints")),
            primary_key: keys.clone(),
            secondary_key: keys,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs> {
        if !id.is_type("Microsoft.MachineLearningServices/workspaces/onlineEndpoints") {
            return None;
        }
        let old_props = old.and_then(|o| o.online_endpoint_properties.known());
        let p = live.get("properties").cloned().unwrap_or(Json::Null);
        let live_map = |key: &str| -> Option<BTreeMap<String, i64>> {
            p.get(key)
                .and_then(|v| serde_json::from_value::<BTreeMap<String, i64>>(v.clone()).ok())
                .filter(|m| !m.is_empty())
        };
        let props = OnlineEndpointProperties {
            auth_mode: text(&p, "/authMode").unwrap_or_default(),
            description: text(&p, "/description"),
            public_network_access: match (
                text(&p, "/publicNetworkAccess"),
                old_props.map(|o| &o.public_network_access),
            ) {
                (Some(l), Some(None)) if l == "Enabled" => None,
                (l, _) => l,
            },
            compute: text(&p, "/compute"),
            traffic: live_map("traffic").or_else(|| {
                old_props
                    .and_then(|o| o.traffic.clone())
                    .filter(|m| m.is_empty())
            }),
            mirror_traffic: live_map("mirrorTraffic").or_else(|| {
                old_props
                    .and_then(|o| o.mirror_traffic.clone())
                    .filter(|m| m.is_empty())
            }),
            properties: match (
                p.get("properties").and_then(|v| {
                    serde_json::from_value::<BTreeMap<String, String>>(v.clone()).ok()
                }),
                old_props.and_then(|o| o.properties.clone()),
            ) {
                // The service adds its own properties; report only the program's.
                (Some(live), Some(old)) => Some(
                    old.keys()
                        .filter_map(|k| live.get(k).map(|v| (k.clone(), v.clone())))
                        .collect(),
                ),
                (_, None) => None,
                (None, Some(_)) => None,
            },
            scoring_uri: None,
            swagger_uri: None,
            provisioning_state: None,
        };
        Some(OnlineEndpointInputs {
            resource_group_name: Value::Known(id.resource_group.clone()?),
            workspace_name: Value::Known(id.name(0)?.to_string()),
            endpoint_name: Some(Value::Known(id.name(1)?.to_string())),
            location: live_location(live, old.map(|o| &o.location)),
            online_endpoint_properties: Value::Known(props),
            identity: identity_from_live(live, old.map(|o| &o.identity)),
            kind: live_text(live, "/kind", old.map(|o| &o.kind)),
            sku: sku_from_live(live, old.map(|o| &o.sku)),
            tags: live_tags(live, old.map(|o| &o.tags)),
        })
    }

    /// With key authentication, fetch the keys (`listKeys`); they are secrets from here on.
    async fn finish(
        &self,
        ctx: &Ctx,
        arm: &ArmClient,
        deadline: Instant,
        path: &str,
        mut outputs: Self::Outputs,
    ) -> Result<Self::Outputs, ArmError> {
        if is_key_auth(&outputs.inputs) != Some(true) {
            return Ok(outputs);
        }
        let answer = arm.send(ctx, deadline, &list_keys_request(path)).await?;
        let body = answer.body.unwrap_or(Json::Null);
        let key = |k: &str| {
            Some(Value::Known(Secret::new(
                text(&body, k).unwrap_or_default(),
            )))
        };
        outputs.primary_key = key("/primaryKey");
        outputs.secondary_key = key("/secondaryKey");
        Ok(outputs)
    }
}

/// `POST <endpoint>/listKeys` (no body).
pub fn list_keys_request(path: &str) -> ArmRequest {
    ArmRequest::new(
        Method::Post,
        "list keys of",
        format!("{path}/listKeys"),
        super::API_ONLINE_ENDPOINTS,
    )
}

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
