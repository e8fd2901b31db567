//! `azure/machinelearningservices:OnlineEndpoint`, as azure-native `machinelearningservices.OnlineEndpoint`.

use super::*;

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
    const DESCRIPTION: &'static str = include_str!("../docs/online_endpoint.md");
    const API_VERSION: &'static str = super::super::API_ONLINE_ENDPOINTS;
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
        names::ONLINE_ENDPOINT.own_name(
            &mut inputs.endpoint_name,
            ctx.olds.map(|o| &o.endpoint_name),
            "endpointName",
            ctx,
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
        super::super::API_ONLINE_ENDPOINTS,
    )
}
