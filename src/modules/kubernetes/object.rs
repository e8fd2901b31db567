//! One generic resource for every Kubernetes kind: server-side apply under a stable field
//! manager, reads for refresh and import, deletes that wait until the object is gone.
//!
//! A kind supplies its typed object (metadata plus body, in pulumi-kubernetes shapes) and its
//! own checks; everything that talks to the API server lives here once.

use super::meta::{ObjectMeta, check_metadata};
use crate::codec::PropertyPath;
use crate::codec::typed_json::plain_json;
use crate::modules::backend::{self, Interrupted};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::wait::{await_condition, conditions};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use std::marker::PhantomData;
use std::time::Duration;

/// The field manager for every apply, so ownership of fields is stable across runs.
pub const FIELD_MANAGER: &str = "zerotrust";
/// Records which Pulumi resource created an object, so a create whose answer was lost (API
/// server stopped mid-`up`) adopts its own object on the rerun instead of failing.
pub const URN_ANNOTATION: &str = "zerotrust.dev/urn";
/// Metadata the server sets: never sent, never part of imported inputs.
const OUTPUT_ONLY_METADATA: [&str; 4] =
    ["uid", "resourceVersion", "creationTimestamp", "generation"];
/// Longest wait for a deleted object to disappear when the resource sets no timeout of its own.
const DELETE_WAIT: Duration = Duration::from_secs(5 * 60);

/// Access to the metadata of a kind's object type.
pub trait HasMeta {
    fn meta(&self) -> Option<&Value<ObjectMeta>>;
    fn meta_mut(&mut self) -> &mut Option<Value<ObjectMeta>>;
}

/// The shape most kinds share: metadata plus a `spec`.
#[derive(Debug, Default, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", bound(deserialize = "S: DeserializeOwned"))]
pub struct SpecObject<S> {
    /// Standard object metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value<ObjectMeta>>,
    /// The desired state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value<S>>,
}

impl<S> HasMeta for SpecObject<S> {
    fn meta(&self) -> Option<&Value<ObjectMeta>> {
        self.metadata.as_ref()
    }
    fn meta_mut(&mut self) -> &mut Option<Value<ObjectMeta>> {
        &mut self.metadata
    }
}

/// What a Kubernetes kind declares; `KubeResource<K>` does the rest.
pub trait KubeKind: Send + Sync + 'static {
    /// The object as programs write it and as it is read back.
    type Object: Serialize + DeserializeOwned + JsonSchema + HasMeta + Send + Sync;
    const TOKEN: &'static str;
    const DESCRIPTION: &'static str;
    const API_VERSION: &'static str;
    const KIND: &'static str;
    const PLURAL: &'static str;
    const NAMESPACED: bool;
    /// Top-level fields the server never returns (e.g. Secret `stringData`): refresh keeps
    /// their recorded value instead of reporting them gone.
    const WRITE_ONLY: &'static [&'static str] = &[];

    /// Checks of the body, beyond wire types.
    fn check_object(object: &mut Self::Object, failures: &mut Failures) {
        let _ = (object, failures);
    }

    /// Rewrites of the apply body (plain JSON, secrets exposed) before it is sent, for fields
    /// the server would otherwise own in a shape the program did not write.
    fn shape_apply_body(body: &mut serde_json::Map<String, Json>) {
        let _ = body;
    }

    /// Paths whose change replaces the object (immutable fields), besides name and namespace.
    fn replace_paths(old: &Self::Object, new: &Self::Object) -> Vec<PropertyPath> {
        let _ = (old, new);
        Vec::new()
    }
}

/// The Pulumi resource for kind `K`.
pub struct KubeResource<K>(PhantomData<K>);

impl<K> Default for KubeResource<K> {
    fn default() -> Self {
        KubeResource(PhantomData)
    }
}

/// `namespace/name` for namespaced objects, `name` otherwise (also what `pulumi import` takes).
pub fn object_id(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// Split an id into namespace and name.
pub fn parse_id(id: &str, namespaced: bool, default_namespace: &str) -> (Option<String>, String) {
    match (namespaced, id.split_once('/')) {
        (true, Some((ns, name))) => (Some(ns.to_string()), name.to_string()),
        (true, None) => (Some(default_namespace.to_string()), id.to_string()),
        (false, _) => (None, id.to_string()),
    }
}

fn api_resource<K: KubeKind>() -> ApiResource {
    let (group, version) = match K::API_VERSION.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", K::API_VERSION),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, K::KIND), K::PLURAL)
}

fn api<K: KubeKind>(client: &kube::Client, namespace: Option<&str>) -> Api<DynamicObject> {
    let ar = api_resource::<K>();
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// An API server error, naming the operation, the object and the server's reason.
fn api_error<K: KubeKind>(operation: &str, id: &str, err: kube::Error) -> ResourceError {
    let cause = match &err {
        kube::Error::Api(status) => format!(
            "{} ({}): {}",
            if status.reason.is_empty() {
                "Error"
            } else {
                &status.reason
            },
            status.code,
            status.message
        ),
        other => other.to_string(),
    };
    ResourceError::backend(format!("{operation} {} {id}", K::KIND), cause)
}

fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}

/// The object's name and namespace, with the namespace defaulted for namespaced kinds.
fn identity<K: KubeKind>(
    object: &K::Object,
    default_namespace: &str,
) -> Result<(Option<String>, String), ResourceError> {
    let Some(Value::Known(meta)) = object.meta() else {
        return Err(ResourceError::Internal(
            "metadata unknown outside preview".into(),
        ));
    };
    let name = meta
        .name
        .clone()
        .ok_or_else(|| ResourceError::Internal("metadata.name missing after check".into()))?;
    let namespace = K::NAMESPACED.then(|| {
        meta.namespace
            .clone()
            .unwrap_or_else(|| default_namespace.to_string())
    });
    Ok((namespace, name))
}

/// The apply body: the typed object as plain JSON, with apiVersion, kind, namespace and our
/// URN annotation. Secrets are exposed here, and only here, because the server needs them.
fn apply_body<K: KubeKind>(
    object: &K::Object,
    namespace: Option<&str>,
    urn: &str,
) -> Result<Json, ResourceError> {
    let json = serde_json::to_value(object)
        .map_err(|e| ResourceError::Internal(format!("encoding {}: {e}", K::KIND)))?;
    let mut body = plain_json(json);
    let obj = body
        .as_object_mut()
        .ok_or_else(|| ResourceError::Internal("object did not encode as a map".into()))?;
    K::shape_apply_body(obj);
    obj.insert("apiVersion".into(), Json::String(K::API_VERSION.into()));
    obj.insert("kind".into(), Json::String(K::KIND.into()));
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Json::Object(Default::default()));
    if let Some(meta) = meta.as_object_mut() {
        if let Some(ns) = namespace {
            meta.insert("namespace".into(), Json::String(ns.into()));
        }
        for output_only in OUTPUT_ONLY_METADATA {
            meta.remove(output_only);
        }
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Json::Object(Default::default()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(URN_ANNOTATION.into(), Json::String(urn.into()));
        }
    }
    Ok(body)
}

/// Server-side apply under our field manager; `force` takes over fields other managers own,
/// which is right for our own object (update, adoption) and wrong for a fresh create.
async fn apply(
    api: &Api<DynamicObject>,
    name: &str,
    body: &Json,
    force: bool,
) -> Result<DynamicObject, kube::Error> {
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    api.patch(name, &params, &Patch::Apply(body)).await
}

/// Decode a live object into the kind's type (unknown fields such as status are dropped).
fn from_live<K: KubeKind>(live: &DynamicObject) -> Result<K::Object, ResourceError> {
    let json = serde_json::to_value(live)
        .map_err(|e| ResourceError::Internal(format!("encoding live {}: {e}", K::KIND)))?;
    serde_json::from_value(without_our_annotation(json)).map_err(|e| {
        ResourceError::backend(
            format!("read {}", K::KIND),
            format!("unexpected shape: {e}"),
        )
    })
}

fn without_our_annotation(mut json: Json) -> Json {
    if let Some(a) = json
        .pointer_mut("/metadata/annotations")
        .and_then(Json::as_object_mut)
    {
        a.remove(URN_ANNOTATION);
        if a.is_empty()
            && let Some(meta) = json.pointer_mut("/metadata").and_then(Json::as_object_mut)
        {
            meta.remove("annotations");
        }
    }
    json
}

/// The inputs a refresh reports: the recorded inputs, with every value the server returns
/// replaced by the live one and every value the server no longer has dropped, so drift shows
/// in the refresh and the next `up` restores it. Write-only fields keep their recorded value.
pub fn project(recorded: &Json, live: &Json, write_only: &[&str]) -> Json {
    match (recorded, live) {
        (Json::Object(rec), Json::Object(lv)) => Json::Object(
            rec.iter()
                .filter_map(|(k, v)| match lv.get(k) {
                    Some(l) => Some((k.clone(), project(v, l, &[]))),
                    None if write_only.contains(&k.as_str()) => Some((k.clone(), v.clone())),
                    None => None,
                })
                .collect(),
        ),
        // Same length: element by element, so server defaults inside items are not drift.
        (Json::Array(rec), Json::Array(lv)) if rec.len() == lv.len() => Json::Array(
            rec.iter()
                .zip(lv)
                .map(|(r, l)| project(r, l, &[]))
                .collect(),
        ),
        (_, l) => l.clone(),
    }
}

impl<K: KubeKind> Resource<ProviderConfig> for KubeResource<K> {
    type Inputs = K::Object;
    type Outputs = K::Object;
    const TOKEN: &'static str = K::TOKEN;
    const DESCRIPTION: &'static str = K::DESCRIPTION;
    const UPDATABLE: bool = true;

    fn check(
        &self,
        ctx: &CheckCtx<'_, K::Object>,
        mut object: K::Object,
        failures: &mut Failures,
    ) -> K::Object {
        let old_name = ctx
            .olds
            .and_then(|o| o.meta())
            .and_then(Value::known)
            .and_then(|m| m.name.clone());
        check_metadata(
            object.meta_mut(),
            K::NAMESPACED,
            ctx.name,
            ctx.random_seed,
            old_name,
            failures,
        );
        K::check_object(&mut object, failures);
        object
    }

    fn diff_extra(&self, diff: &DiffInput<'_, K::Object, K::Object>) -> Vec<ExtraDiff> {
        // Compare inputs with inputs: outputs carry server-side shapes (base64 data, defaults).
        let olds = diff.old_inputs.unwrap_or(diff.olds);
        let mut extra = Vec::new();
        if let (Some(Value::Known(old)), Some(Value::Known(new))) = (olds.meta(), diff.news.meta())
        {
            let meta = PropertyPath::root().key("metadata");
            if new.name.is_some() && old.name != new.name {
                extra.push(ExtraDiff {
                    property: meta.key("name"),
                    replace: true,
                });
            }
            if K::NAMESPACED && new.namespace.is_some() && old.namespace != new.namespace {
                extra.push(ExtraDiff {
                    property: meta.key("namespace"),
                    replace: true,
                });
            }
        }
        extra.extend(
            K::replace_paths(olds, diff.news)
                .into_iter()
                .map(|property| ExtraDiff {
                    property,
                    replace: true,
                }),
        );
        extra
    }

    /// Kubernetes names are unique: a replacement that keeps the name must delete first.
    fn delete_before_replace(&self, diff: &DiffInput<'_, K::Object, K::Object>) -> bool {
        let name_of = |o: &K::Object| {
            o.meta()
                .and_then(Value::known)
                .map(|m| (m.name.clone(), m.namespace.clone()))
        };
        let old = name_of(diff.old_inputs.unwrap_or(diff.olds));
        let new = name_of(diff.news);
        // Unknown new metadata (preview) may keep the name: be safe.
        new.is_none() || old == new
    }

    async fn create(
        &self,
        ctx: &Ctx,
        object: K::Object,
    ) -> Result<Created<K::Object>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: object,
            });
        }
        let kube = ctx.config().kube().await?;
        let (namespace, name) = identity::<K>(&object, &kube.default_namespace)?;
        let id = object_id(namespace.as_deref(), &name);
        let api = api::<K>(&kube.client, namespace.as_deref());
        let existing = api
            .get_opt(&name)
            .await
            .map_err(|e| api_error::<K>("get", &id, e))?;
        let adopting = existing.is_some();
        if let Some(existing) = existing {
            let ours = existing
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(URN_ANNOTATION))
                .is_some_and(|u| u == ctx.urn());
            if !ours {
                return Err(ResourceError::backend(
                    format!("create {} {id}", K::KIND),
                    "AlreadyExists: an object with this name exists and was not created by this resource; pick another name or `pulumi import` it",
                ));
            }
            ctx.info(format!(
                "adopting {id}, created by this resource in an earlier interrupted run"
            ));
        }
        // Only an adoption takes fields over; a fresh create must not silently win a race with
        // someone creating the same object in between.
        let body = apply_body::<K>(&object, namespace.as_deref(), ctx.urn())?;
        let live = apply(&api, &name, &body, adopting)
            .await
            .map_err(|e| api_error::<K>("create", &id, e))?;
        Ok(Created {
            id,
            outputs: from_live::<K>(&live)?,
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<K::Object>,
        _outputs: Option<K::Object>,
    ) -> Result<ReadOutcome<K::Object, K::Object>, ResourceError> {
        let kube = ctx.config().kube().await?;
        let (namespace, name) = parse_id(&id, K::NAMESPACED, &kube.default_namespace);
        let api = api::<K>(&kube.client, namespace.as_deref());
        let Some(live) = api
            .get_opt(&name)
            .await
            .map_err(|e| api_error::<K>("read", &id, e))?
        else {
            return Ok(ReadOutcome::Gone);
        };
        let outputs = from_live::<K>(&live)?;
        let live_json = plain_json(
            serde_json::to_value(&outputs)
                .map_err(|e| ResourceError::Internal(format!("encoding {}: {e}", K::KIND)))?,
        );
        let inputs_json = match inputs {
            // Refresh: the recorded inputs, brought up to date with the server.
            Some(recorded) => {
                let recorded =
                    plain_json(serde_json::to_value(&recorded).map_err(|e| {
                        ResourceError::Internal(format!("encoding {}: {e}", K::KIND))
                    })?);
                project(&recorded, &live_json, K::WRITE_ONLY)
            }
            // Import: everything the object says, less what only the server sets.
            None => {
                let mut json = live_json;
                if let Some(meta) = json.pointer_mut("/metadata").and_then(Json::as_object_mut) {
                    for output_only in OUTPUT_ONLY_METADATA {
                        meta.remove(output_only);
                    }
                }
                json
            }
        };
        let inputs = serde_json::from_value(inputs_json)
            .map_err(|e| ResourceError::Internal(format!("decoding {} inputs: {e}", K::KIND)))?;
        Ok(ReadOutcome::Found {
            id: object_id(namespace.as_deref(), &name),
            inputs,
            outputs,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: String,
        _olds: K::Object,
        news: K::Object,
    ) -> Result<K::Object, ResourceError> {
        if ctx.preview() {
            return Ok(news);
        }
        let kube = ctx.config().kube().await?;
        // The object is where its id says, even if the provider's default namespace changed.
        let (namespace, name) = parse_id(&id, K::NAMESPACED, &kube.default_namespace);
        let (wanted_ns, wanted_name) = identity::<K>(&news, namespace.as_deref().unwrap_or(""))?;
        if wanted_name != name || (K::NAMESPACED && wanted_ns != namespace) {
            return Err(ResourceError::Internal(format!(
                "an update of {id} would move it to {}, which needs a replacement",
                object_id(wanted_ns.as_deref(), &wanted_name)
            )));
        }
        let api = api::<K>(&kube.client, namespace.as_deref());
        let body = apply_body::<K>(&news, namespace.as_deref(), ctx.urn())?;
        let live = apply(&api, &name, &body, true)
            .await
            .map_err(|e| api_error::<K>("update", &id, e))?;
        from_live::<K>(&live)
    }

    async fn delete(&self, ctx: &Ctx, id: String, olds: K::Object) -> Result<(), ResourceError> {
        let kube = ctx.config().kube().await?;
        let (namespace, name) = parse_id(&id, K::NAMESPACED, &kube.default_namespace);
        let api = api::<K>(&kube.client, namespace.as_deref());
        // Only delete the object we made: one re-created under the same name since is not ours.
        let uid = olds
            .meta()
            .and_then(Value::known)
            .and_then(|m| m.uid.clone());
        let params = DeleteParams {
            preconditions: uid.clone().map(|uid| Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                ctx.warn(format!(
                    "{id} was re-created outside Pulumi (its uid changed); the new object is left alone"
                ));
                return Ok(());
            }
            Err(e) => return Err(api_error::<K>("delete", &id, e)),
        }
        // Wait for the object to go (finalizers may hold it) with a watch, for as long as the
        // resource's delete timeout allows (DELETE_WAIT when it sets none), and not past
        // Cancel. The deadline keeps a reserve, so the user gets our explanation (which
        // finalizers hold it) instead of a bare "timed out".
        let uid = match uid {
            Some(uid) => uid,
            None => match api.get_opt(&name).await {
                Ok(Some(live)) => live.metadata.uid.unwrap_or_default(),
                Ok(None) => return Ok(()),
                Err(e) => return Err(api_error::<K>("wait for deletion of", &id, e)),
            },
        };
        let deadline = match ctx.custom_timeout() {
            Some(_) => ctx.deadline(),
            None => ctx
                .deadline()
                .min(tokio::time::Instant::now() + DELETE_WAIT),
        };
        let waited = backend::within(
            ctx,
            deadline,
            await_condition(api.clone(), &name, conditions::is_deleted(&uid)),
        )
        .await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(ResourceError::backend(
                format!("wait for deletion of {} {id}", K::KIND),
                e,
            )),
            Err(Interrupted::Cancelled) => Err(ResourceError::Cancelled),
            Err(Interrupted::Deadline) => {
                let holding = match api.get_opt(&name).await {
                    Ok(Some(obj)) => finalizers_of(&obj),
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(api_error::<K>("wait for deletion of", &id, e)),
                };
                Err(ResourceError::backend(
                    format!("delete {} {id}", K::KIND),
                    format!(
                        "still present {} after deletion was requested; {holding}",
                        backend::human(ctx.started().elapsed())
                    ),
                ))
            }
        }
    }
}

/// What keeps an object from going: its finalizers (and a Namespace's spec.finalizers).
fn finalizers_of(obj: &DynamicObject) -> String {
    let finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
    let spec_finalizers: Vec<&str> = obj
        .data
        .pointer("/spec/finalizers")
        .and_then(Json::as_array)
        .map(|f| f.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let mut text = format!("finalizers holding it: {finalizers:?}");
    if !spec_finalizers.is_empty() {
        text.push_str(&format!(", spec.finalizers: {spec_finalizers:?}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_round_trip() {
        assert_eq!(object_id(Some("ml"), "tls"), "ml/tls");
        assert_eq!(
            parse_id("ml/tls", true, "default"),
            (Some("ml".into()), "tls".into())
        );
        assert_eq!(
            parse_id("tls", true, "default"),
            (Some("default".into()), "tls".into())
        );
        assert_eq!(parse_id("ml", false, "default"), (None, "ml".into()));
    }

    #[test]
    fn projection_shows_drift_and_keeps_write_only_fields() {
        let recorded = json!({
            "metadata": {"name": "s", "labels": {"app": "a", "team": "ml"}},
            "stringData": {"k": "v"},
            "type": "Opaque",
        });
        let live = json!({
            "metadata": {"name": "s", "labels": {"app": "b", "extra": "x"}, "uid": "u"},
            "data": {"k": "dg=="},
            "type": "Opaque",
        });
        assert_eq!(
            project(&recorded, &live, &["stringData"]),
            json!({
                "metadata": {"name": "s", "labels": {"app": "b"}},
                "stringData": {"k": "v"},
                "type": "Opaque",
            })
        );
    }

    #[test]
    fn our_annotation_is_hidden_from_outputs() {
        let live = json!({"metadata": {"name": "n", "annotations": {URN_ANNOTATION: "urn:x"}}});
        assert_eq!(
            without_our_annotation(live),
            json!({"metadata": {"name": "n"}})
        );
    }
}
