//! `azure/machinelearningservices:Workspace`, as azure-native `machinelearningservices.Workspace`.

use super::*;

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
    const DESCRIPTION: &'static str = include_str!("../docs/workspace.md");
    const API_VERSION: &'static str = super::super::API_WORKSPACES;
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
        names::WORKSPACE.own_name(
            &mut inputs.workspace_name,
            ctx.olds.map(|o| &o.workspace_name),
            "workspaceName",
            ctx,
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
