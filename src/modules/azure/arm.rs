//! One lifecycle for every ARM resource: create and update are a PUT (tags alone a PATCH where
//! the API has one) followed by the long-running operation and a read of the final state; read
//! is a GET by ARM id (refresh and import); delete is a DELETE followed by its operation.
//!
//! A resource module describes only what is its own: its paths, its bodies, how an answer maps
//! to outputs and back to inputs, and its Check.

use super::client::{ArmClient, ArmError, ArmRequest};
use super::names::{ArmId, normalize_location};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::{
    CheckCtx, Created, DiffInput, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::future::Future;
use tokio::time::Instant;

/// How a change of tags alone is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagWrite {
    /// `PATCH {"tags": {...}}`.
    Patch,
    /// The API has no PATCH: a full PUT.
    Put,
    /// The resource has no tags.
    None,
}

/// Whether the resource has a location, and where a missing one comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// The resource has no location (a subnet).
    NotApplicable,
    /// Given by the program.
    Given(String),
    /// Not given: the resource group's location is used, as pulumi-azure-native does.
    FromResourceGroup(String),
}

/// What a resource module provides.
pub trait ArmResource: Send + Sync + 'static {
    type Inputs: Clone + Serialize + DeserializeOwned + JsonSchema + Send + Sync;
    type Outputs: Clone + Serialize + DeserializeOwned + JsonSchema + Send + Sync;

    const TOKEN: &'static str;
    const DESCRIPTION: &'static str;
    const API_VERSION: &'static str;
    const TAGS: TagWrite;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs;

    /// The resource's path below the subscription (`/resourceGroups/...`), once every name in
    /// it is known.
    fn path(inputs: &Self::Inputs) -> Option<String>;

    /// The location to write, when the resource has one.
    fn location(inputs: &Self::Inputs) -> Location;

    /// The tags to write with a PATCH.
    fn tags(inputs: &Self::Inputs) -> Option<BTreeMap<String, String>>;

    /// The PUT body. `live` is the resource as it is now, for updates of resources whose PUT
    /// would drop children the program does not list (a virtual network's subnets).
    fn put_body(inputs: &Self::Inputs, location: Option<&str>, live: Option<&Json>) -> Json;

    /// Whether an update's PUT needs the live resource (see `put_body`).
    fn put_needs_live(_inputs: &Self::Inputs) -> bool {
        false
    }

    /// The inputs that produced `outputs` (without any output-only fields).
    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs;

    /// Outputs from the inputs and ARM's answer.
    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs;

    /// Outputs in preview: the inputs, and unknowns for what ARM decides.
    fn preview(inputs: &Self::Inputs) -> Self::Outputs;

    /// Inputs as ARM describes the resource (refresh and import), keeping what ARM does not
    /// report, or reports in another form, as the program wrote it.
    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs>;

    /// Calls after a write or read that complete the outputs (an online endpoint's keys).
    fn finish(
        &self,
        ctx: &Ctx,
        arm: &ArmClient,
        deadline: Instant,
        path: &str,
        outputs: Self::Outputs,
    ) -> impl Future<Output = Result<Self::Outputs, ArmError>> + Send {
        let _ = (ctx, arm, deadline, path);
        async move { Ok(outputs) }
    }
}

/// The adapter from [`ArmResource`] to [`Resource`].
pub struct Arm<K>(pub K);

fn full_path(arm: &ArmClient, inputs_path: &str) -> String {
    format!("{}{}", arm.subscription_path(), inputs_path)
}

/// The location of the resource group at `path`'s head, for resources that leave theirs out.
async fn group_location(
    ctx: &Ctx,
    arm: &ArmClient,
    deadline: Instant,
    path: &str,
) -> Result<String, ResourceError> {
    let id = ArmId::parse(path)
        .and_then(|id| id.resource_group)
        .ok_or_else(|| ResourceError::Internal(format!("no resource group in {path}")))?;
    let request = ArmRequest::get(
        format!("{}/resourceGroups/{id}", arm.subscription_path()),
        super::API_RESOURCE_GROUPS,
    );
    let group = arm.send(ctx, deadline, &request).await?;
    group
        .body
        .as_ref()
        .and_then(|b| b.get("location"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| ResourceError::backend("read the resource group", "it has no location"))
}

/// The provisioning state recorded in outputs (top level or one object down), if any.
fn recorded_state<T: Serialize>(outputs: &T) -> Option<String> {
    let v = serde_json::to_value(outputs).ok()?;
    let direct = v.get("provisioningState").and_then(Json::as_str);
    let nested = || {
        v.as_object()?
            .values()
            .find_map(|x| x.get("provisioningState").and_then(Json::as_str))
    };
    direct.or_else(nested).map(str::to_string)
}

/// Everything in `inputs` but the tags, for telling a tags-only change apart.
fn without_tags<T: Serialize>(inputs: &T) -> Json {
    let mut v = serde_json::to_value(inputs).unwrap_or(Json::Null);
    if let Some(map) = v.as_object_mut() {
        map.remove("tags");
        map.retain(|_, v| !v.is_null());
    }
    v
}

impl<K: ArmResource> Arm<K> {
    /// PUT, wait, read back, finish. Errors after ARM accepted the PUT keep the id.
    async fn write(
        &self,
        ctx: &Ctx,
        arm: &ArmClient,
        path: &str,
        inputs: &K::Inputs,
        request: ArmRequest,
        created: bool,
    ) -> Result<(String, K::Outputs), ResourceError> {
        let deadline = ctx.deadline();
        let partial = |reason: String, live: Option<&Json>| {
            // Without a body, record the state as unknown, so the next update is a full PUT.
            let unsettled = json!({"properties": {"provisioningState": "Unknown"}});
            let outputs = K::outputs(inputs, live.unwrap_or(&unsettled));
            ResourceError::InitFailed {
                id: path.to_string(),
                outputs: serde_json::to_value(outputs).unwrap_or_default(),
                reasons: vec![reason],
            }
        };
        let accepted = match arm.send(ctx, deadline, &request).await {
            Ok(a) => a,
            // The answer was lost, not refused: the resource may exist. Keep it in state under
            // this name so the next update writes it again (a PUT, idempotent) and nothing is
            // left behind unmanaged.
            Err(e) if created && e.maybe_applied => {
                return Err(partial(
                    format!(
                        "{e} (the request may have been applied; the next update writes it again)"
                    ),
                    None,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let fail = |e: ArmError| -> ResourceError {
            if created && e.ended != Some(super::client::Ended::Cancelled) {
                partial(e.to_string(), accepted.body.as_ref())
            } else if created {
                partial(
                    "cancelled while ARM was still creating it".into(),
                    accepted.body.as_ref(),
                )
            } else {
                e.into()
            }
        };
        if let Err(e) = arm.wait(ctx, deadline, &request, &accepted).await {
            return Err(fail(e));
        }
        let live = match arm
            .send(ctx, deadline, &ArmRequest::get(path, K::API_VERSION))
            .await
        {
            Ok(r) => r.body.unwrap_or(Json::Null),
            Err(e) => return Err(fail(e)),
        };
        // ARM's own spelling of the id (e.g. `resourceGroups`), when it gives one.
        let id = live
            .get("id")
            .and_then(Json::as_str)
            .filter(|id| id.eq_ignore_ascii_case(path))
            .unwrap_or(path)
            .to_string();
        let outputs = K::outputs(inputs, &live);
        match self.0.finish(ctx, arm, deadline, path, outputs).await {
            Ok(o) => Ok((id, o)),
            Err(e) => Err(fail(e)),
        }
    }

    async fn location(
        ctx: &Ctx,
        arm: &ArmClient,
        path: &str,
        inputs: &K::Inputs,
    ) -> Result<Option<String>, ResourceError> {
        Ok(match K::location(inputs) {
            Location::NotApplicable => None,
            Location::Given(l) => Some(l),
            Location::FromResourceGroup(_) => {
                Some(group_location(ctx, arm, ctx.deadline(), path).await?)
            }
        })
    }
}

impl<K: ArmResource> Resource<ProviderConfig> for Arm<K> {
    type Inputs = K::Inputs;
    type Outputs = K::Outputs;
    const TOKEN: &'static str = K::TOKEN;
    const DESCRIPTION: &'static str = K::DESCRIPTION;
    const UPDATABLE: bool = true;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        self.0.check(ctx, inputs, failures)
    }

    /// Same name, same resource: ARM's PUT would update the old one in place, so a replacement
    /// that keeps the name must delete first.
    fn delete_before_replace(&self, diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> bool {
        let old = K::path(&K::inputs_of(diff.olds));
        old.is_some() && old == K::path(diff.news)
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: K::preview(&inputs),
            });
        }
        let arm = ctx.config().azure().await?;
        let Some(rel) = K::path(&inputs) else {
            return Err(ResourceError::Internal(
                "names unknown outside preview".into(),
            ));
        };
        let path = full_path(&arm, &rel);
        let location = Self::location(ctx, &arm, &path, &inputs).await?;
        let body = K::put_body(&inputs, location.as_deref(), None);
        let request = ArmRequest::put(path.clone(), K::API_VERSION, body);
        let (id, outputs) = self.write(ctx, &arm, &path, &inputs, request, true).await?;
        Ok(Created { id, outputs })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let arm = ctx.config().azure().await?;
        let Some(parsed) = ArmId::parse(&id) else {
            return Err(ResourceError::InvalidInput {
                property: crate::codec::PropertyPath::root(),
                reason: format!("{id:?} is not an ARM resource id"),
            });
        };
        let deadline = ctx.deadline();
        let live = match arm
            .get(ctx, deadline, &ArmRequest::get(id.clone(), K::API_VERSION))
            .await?
        {
            Some(l) => l,
            None => return Ok(ReadOutcome::Gone),
        };
        // A resource stuck deleting is as good as gone.
        if super::client::provisioning_state(&live) == Some("Deleting") {
            return Ok(ReadOutcome::Gone);
        }
        let Some(found) = K::inputs_from_live(&parsed, &live, inputs.as_ref()) else {
            return Err(ResourceError::InvalidInput {
                property: crate::codec::PropertyPath::root(),
                reason: format!("{id:?} is not the id of a {}", K::TOKEN),
            });
        };
        let outputs = K::outputs(&found, &live);
        let outputs = self.0.finish(ctx, &arm, deadline, &id, outputs).await?;
        Ok(ReadOutcome::Found {
            id,
            inputs: found,
            outputs,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: String,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        let arm = ctx.config().azure().await?;
        let old_inputs = K::inputs_of(&olds);
        // A resource whose last operation did not succeed (e.g. kept after a failed create) is
        // written whole again, which makes ARM provision it anew; a PATCH would not.
        let settled = recorded_state(&olds).is_none_or(|s| s == "Succeeded");
        let tags_only = settled && without_tags(&old_inputs) == without_tags(&news);
        let request = if tags_only && K::TAGS == TagWrite::Patch {
            ArmRequest::patch(
                id.clone(),
                K::API_VERSION,
                json!({"tags": K::tags(&news).unwrap_or_default()}),
            )
        } else {
            let location = match K::location(&news) {
                Location::NotApplicable => None,
                Location::Given(l) => Some(l),
                // Keep the location the resource was created in.
                Location::FromResourceGroup(_) => match serde_json::to_value(&olds)
                    .ok()
                    .and_then(|o| o.get("location").and_then(Json::as_str).map(str::to_string))
                {
                    Some(l) => Some(l),
                    None => Self::location(ctx, &arm, &id, &news).await?,
                },
            };
            let live = if K::put_needs_live(&news) {
                arm.get(
                    ctx,
                    ctx.deadline(),
                    &ArmRequest::get(id.clone(), K::API_VERSION),
                )
                .await?
            } else {
                None
            };
            ArmRequest::put(
                id.clone(),
                K::API_VERSION,
                K::put_body(&news, location.as_deref(), live.as_ref()),
            )
        };
        Ok(self.write(ctx, &arm, &id, &news, request, false).await?.1)
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        _outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let arm = ctx.config().azure().await?;
        let deadline = ctx.deadline();
        arm.write_and_wait(ctx, deadline, &ArmRequest::delete(id, K::API_VERSION))
            .await?;
        Ok(())
    }
}

/// A string field of an answer.
pub fn text(live: &Json, pointer: &str) -> Option<String> {
    live.pointer(pointer)
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// A known string output from an answer, empty when ARM left it out.
pub fn out(live: &Json, pointer: &str) -> Value<String> {
    Value::Known(text(live, pointer).unwrap_or_default())
}

/// Tags from an answer, as the inputs had them: absent stays absent while ARM has none.
pub fn live_tags(
    live: &Json,
    old: Option<&Option<Value<BTreeMap<String, String>>>>,
) -> Option<Value<BTreeMap<String, String>>> {
    let tags: BTreeMap<String, String> = live
        .get("tags")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    match old {
        Some(None) | None if tags.is_empty() => None,
        _ => Some(Value::Known(tags)),
    }
}

/// The location from an answer, keeping the program's spelling when it names the same region.
pub fn live_location(live: &Json, old: Option<&Option<Value<String>>>) -> Option<Value<String>> {
    let found = text(live, "/location");
    match (found, old.cloned().flatten()) {
        (Some(f), Some(Value::Known(o))) if normalize_location(&f) == normalize_location(&o) => {
            Some(Value::Known(o))
        }
        // The program left it to the resource group's: keep it unset.
        (Some(_), None) if old.is_some() => None,
        (Some(f), _) => Some(Value::Known(f)),
        (None, o) => o,
    }
}

/// The tags of inputs as a known map, if any.
pub fn known_tags(
    tags: &Option<Value<BTreeMap<String, String>>>,
) -> Option<BTreeMap<String, String>> {
    match tags {
        Some(Value::Known(t)) => Some(t.clone()),
        _ => None,
    }
}

/// Drop nulls and empty objects from a body, so optional inputs left out are not sent.
pub fn prune(v: Json) -> Json {
    match v {
        Json::Object(m) => {
            let m: serde_json::Map<String, Json> = m
                .into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !v.is_null() && v != &json!({}))
                .collect();
            Json::Object(m)
        }
        Json::Array(a) => Json::Array(a.into_iter().map(prune).collect()),
        other => other,
    }
}

/// A known value as JSON, or null.
pub fn known<T: Serialize>(v: &Option<Value<T>>) -> Json {
    match v {
        Some(Value::Known(x)) => serde_json::to_value(x).unwrap_or(Json::Null),
        _ => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::azure::client::tests::{Scripted, client, ctx, step};
    use crate::modules::azure::machinelearningservices::{
        OnlineEndpoint, OnlineEndpointInputs, OnlineEndpointProperties,
    };
    use crate::modules::{Clients, ProviderConfig};
    use std::sync::Arc;
    use std::time::Duration;

    const SUB: &str = crate::modules::azure::client::tests::SUB;

    fn with_client(script: &Arc<Scripted>) -> Ctx {
        let (_c, ctx) = ctx(Duration::from_secs(20));
        ctx.with_config(Arc::new(ProviderConfig {
            clients: Clients {
                azure: tokio::sync::OnceCell::new_with(Some(Ok(client(script)))),
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    fn inputs(auth: &str) -> OnlineEndpointInputs {
        OnlineEndpointInputs {
            resource_group_name: Value::Known("rg".into()),
            workspace_name: Value::Known("ws".into()),
            endpoint_name: Some(Value::Known("scoring".into())),
            location: None,
            online_endpoint_properties: Value::Known(OnlineEndpointProperties {
                auth_mode: auth.into(),
                ..Default::default()
            }),
            identity: None,
            kind: None,
            sku: None,
            tags: Some(Value::Known(BTreeMap::from([("a".into(), "1".into())]))),
        }
    }

    fn path() -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/scoring"
        )
    }

    #[tokio::test]
    async fn create_waits_for_the_operation_and_reads_the_keys_as_secrets() {
        let live = json!({"id": path(), "name": "scoring", "type": "t", "location": "westus2", "properties": {"authMode": "Key", "scoringUri": "https://s", "provisioningState": "Succeeded"}});
        let script = Scripted::new(vec![
            step(200, r#"{"location": "westus2"}"#),
            step(201, r#"{"properties": {"provisioningState": "Creating"}}"#)
                .header("azure-asyncoperation", "https://arm.test/ops/1")
                .header("retry-after", "0"),
            step(200, r#"{"status": "Succeeded"}"#),
            step(200, &live.to_string()),
            step(200, r#"{"primaryKey": "pk", "secondaryKey": "sk"}"#),
        ]);
        let ctx = with_client(&script);
        let created = Arm(OnlineEndpoint)
            .create(&ctx, inputs("Key"))
            .await
            .unwrap();
        assert_eq!(created.id, path());
        let o = created.outputs;
        assert_eq!(
            o.primary_key
                .as_ref()
                .and_then(|k| k.known())
                .map(|k| k.expose().as_str()),
            Some("pk")
        );
        let v = "?api-version=2025-12-01";
        assert_eq!(
            script.lines(),
            vec![
                format!("GET /subscriptions/{SUB}/resourceGroups/rg?api-version=2025-04-01"),
                format!("PUT {}{v}", path()),
                "GET /ops/1".to_string(),
                format!("GET {}{v}", path()),
                format!("POST {}/listKeys{v}", path()),
            ]
        );
        let bodies = script.bodies();
        let put: Json = serde_json::from_str(bodies[1].as_deref().unwrap()).unwrap();
        assert_eq!(
            put,
            json!({"location": "westus2", "tags": {"a": "1"}, "properties": {"authMode": "Key"}})
        );
        assert!(bodies[4].is_none(), "listKeys takes no body");

        // Tags alone: a PATCH; anything else: a PUT.
        let script = Scripted::new(vec![
            step(200, &live.to_string()),
            step(200, &live.to_string()),
            step(200, r#"{"primaryKey": "pk2"}"#),
        ]);
        let ctx = with_client(&script);
        let mut news = inputs("Key");
        news.tags = Some(Value::Known(BTreeMap::from([("a".into(), "2".into())])));
        let updated = Arm(OnlineEndpoint)
            .update(&ctx, path(), o.clone(), news)
            .await
            .unwrap();
        assert!(script.lines()[0].starts_with("PATCH "));
        assert_eq!(script.bodies()[0].as_deref(), Some(r#"{"tags":{"a":"2"}}"#));
        assert_eq!(
            updated
                .primary_key
                .and_then(|k| k.into_known())
                .map(|k| k.expose().clone()),
            Some("pk2".into())
        );
    }

    #[tokio::test]
    async fn a_create_whose_operation_fails_keeps_the_id() {
        let script = Scripted::new(vec![
            step(200, r#"{"location": "westus2"}"#),
            step(201, "").header("azure-asyncoperation", "https://arm.test/ops/2"),
            step(
                200,
                r#"{"status": "Failed", "error": {"code": "Conflict", "message": "no"}}"#,
            ),
        ]);
        let ctx = with_client(&script);
        match Arm(OnlineEndpoint).create(&ctx, inputs("AMLToken")).await {
            Err(ResourceError::InitFailed { id, reasons, .. }) => {
                assert_eq!(id, path());
                assert_eq!(
                    reasons,
                    vec![format!("create or update {}: Conflict: no", path())]
                );
            }
            other => panic!("{:?}", other.map(|c| c.id)),
        }
    }

    #[tokio::test]
    async fn a_create_whose_answer_was_lost_is_kept_and_rewritten_whole() {
        let script = Scripted::new(vec![step(200, r#"{"location": "westus2"}"#), step(0, "")]);
        let ctx = with_client(&script);
        let Err(ResourceError::InitFailed { id, outputs, .. }) =
            Arm(OnlineEndpoint).create(&ctx, inputs("AMLToken")).await
        else {
            panic!("expected an init failure");
        };
        assert_eq!(id, path());
        // The next update (tags unchanged) is a PUT, not a PATCH: the resource may not exist.
        let olds: crate::modules::azure::machinelearningservices::OnlineEndpointOutputs =
            serde_json::from_value(outputs).unwrap();
        let live = json!({"id": path(), "name": "scoring", "properties": {"authMode": "AMLToken", "provisioningState": "Succeeded"}});
        let script = Scripted::new(vec![
            step(200, r#"{"location": "westus2"}"#),
            step(201, &live.to_string()),
            step(200, &live.to_string()),
        ]);
        let ctx = with_client(&script);
        Arm(OnlineEndpoint)
            .update(&ctx, path(), olds, inputs("AMLToken"))
            .await
            .unwrap();
        assert!(
            script.lines()[1].starts_with("PUT "),
            "{:?}",
            script.lines()
        );
    }

    #[tokio::test]
    async fn a_refused_create_leaves_nothing_and_a_missing_resource_reads_as_gone() {
        let script = Scripted::new(vec![
            step(200, r#"{"location": "westus2"}"#),
            step(
                400,
                r#"{"error": {"code": "ValidationError", "message": "bad"}}"#,
            ),
            step(
                404,
                r#"{"error": {"code": "ResourceNotFound", "message": "gone"}}"#,
            ),
        ]);
        let ctx = with_client(&script);
        let err = Arm(OnlineEndpoint)
            .create(&ctx, inputs("AMLToken"))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ResourceError::Backend { .. }), "{err}");
        assert!(err.to_string().contains(&format!(
            "create or update {}: ValidationError: bad",
            path()
        )));
        let read = Arm(OnlineEndpoint)
            .read(&ctx, path(), None, None)
            .await
            .unwrap();
        assert!(matches!(read, ReadOutcome::Gone));
    }
}
