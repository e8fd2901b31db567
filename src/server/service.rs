//! The tonic service speaking the engine's ResourceProvider protocol.
//!
//! Each RPC decodes with the codec, dispatches by type token to the registry, and encodes the
//! answer. Every handler runs inside a panic guard, so a bug becomes an Internal error instead of
//! a dead plugin; long operations race the resource timeout and the Cancel signal.

use super::{Package, Registry, construct};
use crate::codec::{self, CodecError, PropertyMap, PropertyValue};
use crate::model::config::normalize_config;
use crate::model::diff::{self, DiffResult};
use crate::model::schema::{self, ObjectSpec, Types};
use crate::model::validate::validate_object;
use crate::protocol::google::rpc::Status as RpcStatus;
use crate::protocol::pulumirpc::{self as pb, resource_provider_server::ResourceProvider};
use crate::typed::cancel::{self, CancelSource, Canceller};
use crate::typed::erased::{CheckArgs, DiffArgs, DynResource, decode};
use crate::typed::log::EngineLog;
use crate::typed::{CheckFailure, Ctx, DEFAULT_TIMEOUT, ResourceError};
use futures::FutureExt;
use prost::Message;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status};

/// How long a cancelled operation may take to report what it created before it is dropped.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// Budget of the backend lookups a Check may make: a Check must not hold up a preview.
const CHECK_LIVE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a component may take to build: its children's operations, which the engine runs
/// under their own timeouts, all happen inside it.
const COMPONENT_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// gRPC message limit, matching the engine's.
pub const MAX_MESSAGE: usize = 400 << 20;

/// Provider configuration as schema and typed value.
pub struct ConfigSchema {
    pub spec: ObjectSpec,
    pub types: Types,
}

/// What a provider's configuration type must be: decoded from Configure's arguments, with a
/// default for the time before Configure.
pub trait Config: DeserializeOwned + Default + Send + Sync + 'static {}
impl<C: DeserializeOwned + Default + Send + Sync + 'static> Config for C {}

/// The provider behind the gRPC service, configured with a `C`.
pub struct Provider<C> {
    package: Package,
    registry: Registry<C>,
    config_schema: ConfigSchema,
    config: RwLock<Arc<C>>,
    schema_text: String,
    log: EngineLog,
    canceller: Canceller,
    cancel: CancelSource,
}

impl<C: Config> Provider<C> {
    pub fn new(package: Package, registry: Registry<C>, config_schema: ConfigSchema) -> Self {
        let schema = registry.package_schema(&package, &config_schema.spec, &config_schema.types);
        let schema_text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        let (canceller, cancel) = cancel::channel();
        Provider {
            package,
            registry,
            config_schema,
            config: RwLock::new(Arc::new(C::default())),
            schema_text,
            log: EngineLog::default(),
            canceller,
            cancel,
        }
    }

    /// The package schema as served by GetSchema (and checked in as schema.json).
    pub fn schema_text(&self) -> &str {
        &self.schema_text
    }

    /// Connect user-visible logging to the engine at `address`.
    pub fn connect_engine(&self, address: &str) {
        self.log.connect(address);
    }

    fn config(&self) -> Arc<C> {
        self.config
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_default()
    }

    fn ctx(&self, urn: &str, name: &str, preview: bool, timeout_seconds: f64) -> Ctx<C> {
        let ctx = Ctx::new(urn, self.config())
            .with_name(name)
            .with_preview(preview)
            .with_log(self.log.clone())
            .with_cancel(self.cancel.signal());
        if timeout_seconds > 0.0 && timeout_seconds.is_finite() {
            ctx.with_custom_timeout(Duration::from_secs_f64(
                timeout_seconds.min(7.0 * 24.0 * 3600.0),
            ))
        } else {
            ctx.with_timeout(DEFAULT_TIMEOUT)
        }
    }

    fn resource(&self, token: &str) -> Result<&Arc<dyn DynResource<C>>, Status> {
        self.registry
            .get_resource(token)
            .ok_or_else(|| self.not_found("resource type", token, self.registry.resource_tokens()))
    }

    /// NotFound for a token this provider does not serve, listing the ones it does.
    fn not_found<'a>(
        &self,
        what: &str,
        token: &str,
        known: impl Iterator<Item = &'a &'static str>,
    ) -> Status {
        let known: Vec<&str> = known.copied().collect();
        Status::not_found(format!(
            "unknown {what} '{token}': {} v{} provides {}",
            self.package.name,
            self.package.version,
            known.join(", ")
        ))
    }

    /// Unimplemented, naming the package.
    fn unimplemented(&self, what: &str) -> Status {
        Status::unimplemented(format!("{} {what}", self.package.name))
    }
}

impl<C: Config> Provider<C> {
    /// Construct: check the inputs, register the component and its children with the
    /// engine's resource monitor, record the component's outputs and answer with them.
    async fn construct_component(
        &self,
        req: pb::ConstructRequest,
    ) -> Result<pb::ConstructResponse, Status> {
        let token = req.r#type.clone();
        let name = req.name.clone();
        let component = self.registry.get_component(&token).ok_or_else(|| {
            self.not_found("component type", &token, self.registry.component_tokens())
        })?;
        let inputs = decode_props(req.inputs.as_ref(), "inputs")?;
        let mut failures = component.check(&inputs);
        if failures.is_empty() {
            let ctx = self
                .ctx("", &name, req.dry_run, 0.0)
                .with_timeout(CHECK_LIVE_TIMEOUT);
            failures =
                tokio::time::timeout(CHECK_LIVE_TIMEOUT, component.check_live(&ctx, &inputs))
                    .await
                    .unwrap_or_default();
        }
        if !failures.is_empty() {
            return Err(input_failures_status(&token, &name, failures, &inputs));
        }
        let monitor = construct::connect(&req.monitor_endpoint).await?;
        let urn = monitor
            .clone()
            .register_resource(construct::component_request(&req))
            .await
            .map_err(|s| {
                Status::new(
                    s.code(),
                    format!(
                        "{token} '{name}': registering the component: {}",
                        s.message()
                    ),
                )
            })?
            .into_inner()
            .urn;
        let registrar = construct::MonitorRegistrar::new(
            monitor.clone(),
            urn.clone(),
            self.package.version,
            &req,
        );
        let ctx = self
            .ctx(&urn, &name, req.dry_run, 0.0)
            .with_timeout(COMPONENT_TIMEOUT);
        let outputs = bounded(&ctx, component.construct(&ctx, &registrar, &inputs))
            .await
            .map_err(|e| error_status(&token, &name, "construct", e))?;
        let state = codec::encode_map(&outputs);
        monitor
            .clone()
            .register_resource_outputs(pb::RegisterResourceOutputsRequest {
                urn: urn.clone(),
                outputs: Some(state.clone()),
            })
            .await
            .map_err(|s| {
                Status::new(
                    s.code(),
                    format!("{token} '{name}': recording the outputs: {}", s.message()),
                )
            })?;
        Ok(pb::ConstructResponse {
            urn,
            state: Some(state),
            state_dependencies: construct::state_dependencies(&outputs, &registrar.children()),
        })
    }
}

/// Whether the engine can show the input at `path` next to its failure. The engine (v3.274)
/// prints the value it finds there and crashes on an unknown or a resource reference inside
/// it, so those failures are only in the message text.
fn printable_by_engine(inputs: &PropertyMap, path: &crate::codec::PropertyPath) -> bool {
    use crate::codec::PathElem;
    let mut elems = path.elems().iter();
    let Some(PathElem::Key(first)) = elems.next() else {
        return true;
    };
    let mut value = inputs.get(first);
    for elem in elems {
        value = match (value, elem) {
            (Some(PropertyValue::Secret(_)), _) => return true,
            (Some(PropertyValue::Object(map)), PathElem::Key(k)) => map.get(k),
            (Some(PropertyValue::Array(items)), PathElem::Index(i)) => items.get(*i),
            _ => None,
        };
    }
    fn plain(v: &PropertyValue) -> bool {
        match v {
            PropertyValue::Unknown(_) | PropertyValue::ResourceRef(_) => false,
            PropertyValue::Secret(_) => true,
            PropertyValue::Array(items) => items.iter().all(plain),
            PropertyValue::Object(map) => map.values().all(plain),
            _ => true,
        }
    }
    value.is_none_or(plain)
}

/// InvalidArgument with every refused input as an `InputPropertiesError` detail, which the
/// engine shows one per line with its property path and value; every failure is also in the
/// message, for those the engine cannot show.
fn input_failures_status(
    token: &str,
    name: &str,
    failures: Vec<CheckFailure>,
    inputs: &PropertyMap,
) -> Status {
    let listed: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.property, f.reason))
        .collect();
    let message = format!("{token} '{name}': invalid inputs: {}", listed.join("; "));
    let detail = pb::InputPropertiesError {
        errors: failures
            .into_iter()
            .filter(|f| printable_by_engine(inputs, &f.property))
            .map(|f| pb::input_properties_error::PropertyError {
                property_path: f.property.to_string(),
                reason: f.reason,
            })
            .collect(),
    };
    let status = RpcStatus {
        code: Code::InvalidArgument as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: "type.googleapis.com/pulumirpc.InputPropertiesError".into(),
            value: detail.encode_to_vec(),
        }],
    };
    Status::with_details(
        Code::InvalidArgument,
        message,
        status.encode_to_vec().into(),
    )
}

/// The token of a resource from its URN's last type segment, for requests without `type`.
fn type_of(kind: &str, urn: &str) -> String {
    if !kind.is_empty() {
        return kind.to_string();
    }
    urn.split("::")
        .nth(2)
        .and_then(|t| t.rsplit('$').next())
        .unwrap_or_default()
        .to_string()
}

fn name_of(name: &str, urn: &str) -> String {
    if !name.is_empty() {
        return name.to_string();
    }
    urn.rsplit("::").next().unwrap_or_default().to_string()
}

fn decode_props(s: Option<&prost_types::Struct>, what: &str) -> Result<PropertyMap, Status> {
    codec::decode_struct(s)
        .map_err(|e: CodecError| Status::invalid_argument(format!("{what}: {e}")))
}

fn failures_to_proto(failures: Vec<CheckFailure>) -> Vec<pb::CheckFailure> {
    failures
        .into_iter()
        .map(|f| pb::CheckFailure {
            property: f.property.to_string(),
            reason: f.reason,
        })
        .collect()
}

/// Map a resource error to the status the engine expects, naming resource and operation.
pub fn error_status(token: &str, name: &str, operation: &str, err: ResourceError) -> Status {
    let subject = format!("{token} '{name}': {operation}");
    match err {
        ResourceError::InitFailed {
            id,
            outputs,
            reasons,
        } => {
            let properties = codec::typed_json::json_to_map(&outputs).unwrap_or_default();
            let detail = pb::ErrorResourceInitFailed {
                id,
                properties: Some(codec::encode_map(&properties)),
                reasons: reasons.clone(),
                inputs: None,
                refresh_before_update: false,
            };
            let message = format!("{subject}: resource init failed: {}", reasons.join("; "));
            let status = RpcStatus {
                code: Code::Unknown as i32,
                message: message.clone(),
                details: vec![prost_types::Any {
                    type_url: "type.googleapis.com/pulumirpc.ErrorResourceInitFailed".into(),
                    value: detail.encode_to_vec(),
                }],
            };
            Status::with_details(Code::Unknown, message, status.encode_to_vec().into())
        }
        ResourceError::Backend { .. } => Status::aborted(format!("{subject}: {err}")),
        ResourceError::InvalidInput { .. } => Status::invalid_argument(format!("{subject}: {err}")),
        ResourceError::Unsupported(_) => Status::failed_precondition(format!("{subject}: {err}")),
        ResourceError::Cancelled => Status::cancelled(format!("{subject}: {err}")),
        ResourceError::Timeout(_) => Status::deadline_exceeded(format!("{subject}: {err}")),
        ResourceError::Internal(_) => Status::internal(format!(
            "{subject}: {err} (a bug in the provider; please report it)"
        )),
    }
}

/// Run a handler, turning a panic into an Internal error.
async fn guarded<T>(
    rpc: &'static str,
    fut: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            // The payload may quote the input being handled: stderr only, never the engine.
            tracing::error!(rpc, "handler panicked: {what}");
            Err(Status::internal(format!(
                "{rpc}: the provider panicked (details in the provider's log); this is a bug in the provider, please report it"
            )))
        }
    }
}

/// Race an operation against its timeout and the engine's Cancel.
async fn bounded<C, T>(
    ctx: &Ctx<C>,
    fut: impl Future<Output = Result<T, ResourceError>>,
) -> Result<T, ResourceError> {
    let operation = tokio::time::timeout(ctx.timeout(), fut);
    tokio::pin!(operation);
    tokio::select! {
        biased;
        r = &mut operation => return r.unwrap_or(Err(ResourceError::Timeout(ctx.timeout()))),
        () = ctx.cancelled() => {}
    }
    // Operations that watch for cancellation stop promptly and report what they already
    // created (an init failure with its id); give them a moment before dropping them.
    match tokio::time::timeout(CANCEL_GRACE, &mut operation).await {
        Ok(r) => r.unwrap_or(Err(ResourceError::Timeout(ctx.timeout()))),
        Err(_) => Err(ResourceError::Cancelled),
    }
}

fn diff_response(result: DiffResult, input_keys: &ObjectSpec) -> pb::DiffResponse {
    let detailed_diff = result
        .detailed
        .iter()
        .map(|(path, change)| {
            use diff::ChangeKind;
            use pb::property_diff::Kind;
            let kind = match (change.kind, change.replace) {
                (ChangeKind::Add, false) => Kind::Add,
                (ChangeKind::Add, true) => Kind::AddReplace,
                (ChangeKind::Delete, false) => Kind::Delete,
                (ChangeKind::Delete, true) => Kind::DeleteReplace,
                (ChangeKind::Update, false) => Kind::Update,
                (ChangeKind::Update, true) => Kind::UpdateReplace,
            };
            let top = path.split(['.', '[']).next().unwrap_or_default();
            (
                path.clone(),
                pb::PropertyDiff {
                    kind: kind as i32,
                    input_diff: input_keys.properties.contains_key(top),
                },
            )
        })
        .collect();
    let changes = if result.has_changes() {
        pb::diff_response::DiffChanges::DiffSome
    } else {
        pb::diff_response::DiffChanges::DiffNone
    };
    pb::DiffResponse {
        delete_before_replace: result.delete_before_replace,
        replaces: result.replaces.into_iter().collect(),
        stables: Vec::new(),
        changes: changes as i32,
        diffs: result.diffs.into_iter().collect(),
        detailed_diff,
        has_detailed_diff: true,
    }
}

type ListStream = ReceiverStream<Result<pb::ListResponse, Status>>;

#[tonic::async_trait]
impl<C: Config> ResourceProvider for Arc<Provider<C>> {
    type ListStream = ListStream;

    async fn handshake(
        &self,
        request: Request<pb::ProviderHandshakeRequest>,
    ) -> Result<Response<pb::ProviderHandshakeResponse>, Status> {
        let req = request.into_inner();
        self.connect_engine(&req.engine_address);
        Ok(Response::new(pb::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: false,
            accepts_byte_string: false,
            accepts_outputs_in_invoke: false,
            accepts_outputs_in_call: false,
            accepts_outputs_in_check: false,
        }))
    }

    async fn parameterize(
        &self,
        _: Request<pb::ParameterizeRequest>,
    ) -> Result<Response<pb::ParameterizeResponse>, Status> {
        Err(self.unimplemented("is not a parameterized provider"))
    }

    async fn get_schema(
        &self,
        request: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        let req = request.into_inner();
        if !req.subpackage_name.is_empty() {
            return Err(Status::not_found(format!(
                "{} has no subpackage '{}'",
                self.package.name, req.subpackage_name
            )));
        }
        Ok(Response::new(pb::GetSchemaResponse {
            schema: self.schema_text.clone(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        guarded("CheckConfig", async {
            let req = request.into_inner();
            let news = decode_props(req.news.as_ref(), "news")?;
            let (mut normalized, mut failures) = normalize_config(&news, &self.config_schema.spec);
            // Settings objects arrive as JSON text from the SDKs, so the secret marks of their
            // fields (a token, a secret key) are lost on the way: the whole object is recorded
            // as a secret instead, or it would sit in state as plain text.
            for (key, value) in normalized.iter_mut() {
                let holds_secrets = self
                    .config_schema
                    .spec
                    .properties
                    .get(key)
                    .is_some_and(|p| schema::holds_secrets(p, &self.config_schema.types));
                if holds_secrets && !matches!(value, PropertyValue::Secret(_)) {
                    *value = PropertyValue::secret(value.clone());
                }
            }
            let mut checked = normalized.clone();
            checked.remove("version");
            failures.extend(validate_object(
                &checked,
                &self.config_schema.spec,
                &self.config_schema.types,
            ));
            Ok(Response::new(pb::CheckResponse {
                inputs: Some(codec::encode_map(&normalized)),
                failures: failures_to_proto(failures),
            }))
        })
        .await
    }

    async fn diff_config(
        &self,
        request: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        guarded("DiffConfig", async {
            let req = request.into_inner();
            let olds = decode_props(req.old_inputs.as_ref().or(req.olds.as_ref()), "olds")?;
            let news = decode_props(req.news.as_ref(), "news")?;
            let spec = &self.config_schema.spec;
            let (olds, _) = normalize_config(&olds, spec);
            let (news, _) = normalize_config(&news, spec);
            // Settings only steer how resources are reached, so no change replaces the provider.
            let ignore = BTreeSet::from(["version".to_string()]);
            let result = diff::diff_inputs(&olds, &news, &BTreeSet::new(), &ignore);
            Ok(Response::new(diff_response(result, spec)))
        })
        .await
    }

    async fn configure(
        &self,
        request: Request<pb::ConfigureRequest>,
    ) -> Result<Response<pb::ConfigureResponse>, Status> {
        guarded("Configure", async {
            let req = request.into_inner();
            let args = decode_props(req.args.as_ref(), "args")?;
            let (mut normalized, failures) = normalize_config(&args, &self.config_schema.spec);
            normalized.remove("version");
            let decoded = if failures.is_empty() {
                decode::<C>(&normalized).map(|(c, _)| c)
            } else {
                Err(failures[0].clone())
            };
            let config = decoded.map_err(|f| {
                Status::invalid_argument(format!(
                    "invalid provider configuration at '{}': {}",
                    f.property, f.reason
                ))
            })?;
            if let Ok(mut slot) = self.config.write() {
                *slot = Arc::new(config);
            }
            Ok(Response::new(pb::ConfigureResponse {
                accept_secrets: true,
                supports_preview: true,
                accept_resources: true,
                accept_outputs: false,
                supports_autonaming_configuration: false,
            }))
        })
        .await
    }

    async fn invoke(
        &self,
        request: Request<pb::InvokeRequest>,
    ) -> Result<Response<pb::InvokeResponse>, Status> {
        guarded("Invoke", async {
            let req = request.into_inner();
            let function = self.registry.get_function(&req.tok).ok_or_else(|| {
                self.not_found("function", &req.tok, self.registry.function_tokens())
            })?;
            let args = decode_props(req.args.as_ref(), "args")?;
            let ctx = self.ctx("", "", req.preview, 0.0);
            let result = bounded(&ctx, function.invoke(&ctx, &args))
                .await
                .map_err(|e| error_status(&req.tok, "", "invoke", e))?;
            Ok(Response::new(match result {
                Ok(ret) => pb::InvokeResponse {
                    r#return: Some(codec::encode_map(&ret)),
                    failures: Vec::new(),
                },
                Err(failures) => pb::InvokeResponse {
                    r#return: None,
                    failures: failures_to_proto(failures),
                },
            }))
        })
        .await
    }

    async fn call(
        &self,
        _: Request<pb::CallRequest>,
    ) -> Result<Response<pb::CallResponse>, Status> {
        Err(self.unimplemented("has no resource methods"))
    }

    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        guarded("Check", async {
            let req = request.into_inner();
            let token = type_of(&req.r#type, &req.urn);
            let resource = self.resource(&token)?;
            let news = decode_props(req.news.as_ref(), "news")?;
            let olds = decode_props(req.olds.as_ref(), "olds")?;
            let name = name_of(&req.name, &req.urn);
            let (inputs, mut failures) = resource.check(CheckArgs {
                name: &name,
                random_seed: &req.random_seed,
                olds: &olds,
                news: &news,
            });
            if failures.is_empty() {
                // The Check budget is the server's, not a timeout the resource set.
                let ctx = self
                    .ctx(&req.urn, &name, false, 0.0)
                    .with_timeout(CHECK_LIVE_TIMEOUT);
                // A backend that does not answer in time has nothing definite to say.
                failures =
                    tokio::time::timeout(CHECK_LIVE_TIMEOUT, resource.check_live(&ctx, &inputs))
                        .await
                        .unwrap_or_default();
            }
            Ok(Response::new(pb::CheckResponse {
                inputs: Some(codec::encode_map(&inputs)),
                failures: failures_to_proto(failures),
            }))
        })
        .await
    }

    async fn diff(
        &self,
        request: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        guarded("Diff", async {
            let req = request.into_inner();
            let token = type_of(&req.r#type, &req.urn);
            let resource = self.resource(&token)?;
            let olds = decode_props(req.olds.as_ref(), "olds")?;
            let news = decode_props(req.news.as_ref(), "news")?;
            let old_inputs = match req.old_inputs.as_ref() {
                Some(s) => Some(decode_props(Some(s), "old_inputs")?),
                None => None,
            };
            let ignore: BTreeSet<String> = req.ignore_changes.iter().cloned().collect();
            let result = resource.diff(DiffArgs {
                olds: &olds,
                news: &news,
                old_inputs: old_inputs.as_ref(),
                ignore: &ignore,
                now: OffsetDateTime::now_utc(),
            });
            Ok(Response::new(diff_response(
                result,
                &resource.specs().inputs,
            )))
        })
        .await
    }

    async fn create(
        &self,
        request: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateResponse>, Status> {
        guarded("Create", async {
            let req = request.into_inner();
            let token = type_of(&req.r#type, &req.urn);
            let name = name_of(&req.name, &req.urn);
            let resource = self.resource(&token)?;
            let inputs = decode_props(req.properties.as_ref(), "properties")?;
            let ctx = self.ctx(&req.urn, &name, req.preview, req.timeout);
            let (id, outputs) = bounded(&ctx, resource.create(&ctx, &inputs))
                .await
                .map_err(|e| error_status(&token, &name, "create", e))?;
            Ok(Response::new(pb::CreateResponse {
                id,
                properties: Some(codec::encode_map(&outputs)),
                refresh_before_update: false,
            }))
        })
        .await
    }

    async fn read(
        &self,
        request: Request<pb::ReadRequest>,
    ) -> Result<Response<pb::ReadResponse>, Status> {
        guarded("Read", async {
            let req = request.into_inner();
            let token = type_of(&req.r#type, &req.urn);
            let name = name_of(&req.name, &req.urn);
            let resource = self.resource(&token)?;
            let outputs = decode_props(req.properties.as_ref(), "properties")?;
            let inputs = decode_props(req.inputs.as_ref(), "inputs")?;
            let ctx = self.ctx(&req.urn, &name, false, req.timeout);
            let found = bounded(
                &ctx,
                resource.read(&ctx, req.id.clone(), Some(&inputs), Some(&outputs)),
            )
            .await
            .map_err(|e| error_status(&token, &name, "read", e))?;
            Ok(Response::new(match found {
                Some(r) => pb::ReadResponse {
                    id: r.id,
                    properties: Some(codec::encode_map(&r.outputs)),
                    inputs: Some(codec::encode_map(&r.inputs)),
                    refresh_before_update: false,
                },
                // An empty id tells the engine the resource is gone.
                None => pb::ReadResponse::default(),
            }))
        })
        .await
    }

    async fn list(
        &self,
        _: Request<pb::ListRequest>,
    ) -> Result<Response<Self::ListStream>, Status> {
        Err(self.unimplemented("does not list resources"))
    }

    async fn update(
        &self,
        request: Request<pb::UpdateRequest>,
    ) -> Result<Response<pb::UpdateResponse>, Status> {
        guarded("Update", async {
            let req = request.into_inner();
            let token = type_of(&req.r#type, &req.urn);
            let name = name_of(&req.name, &req.urn);
            let resource = self.resource(&token)?;
            let olds = decode_props(req.olds.as_ref(), "olds")?;
            let news = decode_props(req.news.as_ref(), "news")?;
            let ctx = self.ctx(&req.urn, &name, req.preview, req.timeout);
            let outputs = bounded(&ctx, resource.update(&ctx, req.id.clone(), &olds, &news))
                .await
                .map_err(|e| error_status(&token, &name, "update", e))?;
            Ok(Response::new(pb::UpdateResponse {
                properties: Some(codec::encode_map(&outputs)),
                refresh_before_update: false,
            }))
        })
        .await
    }

    async fn delete(&self, request: Request<pb::DeleteRequest>) -> Result<Response<()>, Status> {
        guarded("Delete", async {
            let req = request.into_inner();
            let token = type_of(&req.r#type, &req.urn);
            let name = name_of(&req.name, &req.urn);
            let resource = self.resource(&token)?;
            let olds = decode_props(req.properties.as_ref(), "properties")?;
            let ctx = self.ctx(&req.urn, &name, false, req.timeout);
            bounded(&ctx, resource.delete(&ctx, req.id.clone(), &olds))
                .await
                .map_err(|e| error_status(&token, &name, "delete", e))?;
            Ok(Response::new(()))
        })
        .await
    }

    async fn construct(
        &self,
        request: Request<pb::ConstructRequest>,
    ) -> Result<Response<pb::ConstructResponse>, Status> {
        guarded("Construct", self.construct_component(request.into_inner()))
            .await
            .map(Response::new)
    }

    async fn cancel(&self, _: Request<()>) -> Result<Response<()>, Status> {
        // Answer at once; in-flight operations notice through their Ctx.
        self.canceller.cancel();
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _: Request<()>) -> Result<Response<pb::PluginInfo>, Status> {
        Ok(Response::new(pb::PluginInfo {
            version: self.package.version.to_string(),
        }))
    }

    async fn attach(&self, request: Request<pb::PluginAttach>) -> Result<Response<()>, Status> {
        self.connect_engine(&request.into_inner().address);
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _: Request<pb::GetMappingRequest>,
    ) -> Result<Response<pb::GetMappingResponse>, Status> {
        Err(self.unimplemented("has no mappings"))
    }

    async fn get_mappings(
        &self,
        _: Request<pb::GetMappingsRequest>,
    ) -> Result<Response<pb::GetMappingsResponse>, Status> {
        Err(self.unimplemented("has no mappings"))
    }
}

/// The engine passes `[--logtostderr] [-v=N] [--tracing X] [--logflow] <engine-address>`.
/// Zero positionals means attach mode: the engine connects to us later and sends Attach.
pub fn engine_address(args: &[String]) -> Option<String> {
    let mut positionals = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--tracing" {
            iter.next();
        } else if arg.starts_with('-') {
            continue;
        } else {
            positionals.push(arg.clone());
        }
    }
    positionals.pop()
}

/// Serve the provider on an already bound listener until `shutdown` resolves.
pub async fn serve<C: Config>(
    provider: Arc<Provider<C>>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    use crate::protocol::pulumirpc::resource_provider_server::ResourceProviderServer;
    let service = ResourceProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await
}

/// The connections the engine opens, with `TCP_NODELAY` set on each. tonic applies its own
/// `tcp_nodelay` setting only to listeners it binds itself, and without it every small answer
/// waits for the engine's delayed ACK (tens of milliseconds per RPC).
pub fn incoming(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_engine_address_among_flags() {
        assert_eq!(
            engine_address(&plugin_args(&[
                "--logtostderr",
                "-v=9",
                "--tracing",
                "x:1",
                "127.0.0.1:5"
            ])),
            Some("127.0.0.1:5".into())
        );
        assert_eq!(engine_address(&plugin_args(&["--logflow"])), None);
        assert_eq!(engine_address(&[]), None);
    }

    #[derive(Default, serde::Deserialize)]
    struct NoSettings {}

    /// A provider serving nothing: enough for what the server does on its own.
    fn bare_provider() -> Arc<Provider<NoSettings>> {
        let package = Package {
            name: "bare",
            version: "0.0.1",
            display_name: "bare",
            description: "serves nothing",
            keywords: &[],
            license: "Apache-2.0",
            publisher: "tests",
            provider_description: "the bare provider",
            meta: serde_json::json!({}),
            languages: |_| serde_json::json!({}),
        };
        let config = ConfigSchema {
            spec: ObjectSpec::default(),
            types: Types::new(),
        };
        Arc::new(Provider::new(package, Registry::default(), config))
    }

    /// The provider's side of each engine connection has Nagle's algorithm off. The same check
    /// on a plain accept shows it is off only because `incoming` turns it off.
    #[tokio::test]
    async fn accepted_connections_have_nodelay() {
        use crate::protocol::pulumirpc::resource_provider_client::ResourceProviderClient;
        use futures::StreamExt;

        let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let plain_port = plain.local_addr().unwrap().port();
        let _client = tokio::net::TcpStream::connect(("127.0.0.1", plain_port))
            .await
            .unwrap();
        let (accepted, _) = plain.accept().await.unwrap();
        assert!(!accepted.nodelay().unwrap(), "sockets start with Nagle on");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut direct = incoming(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        let direct_port = direct.local_addr().unwrap().port();
        let _peer = tokio::net::TcpStream::connect(("127.0.0.1", direct_port))
            .await
            .unwrap();
        let stream = direct.next().await.unwrap().unwrap();
        assert!(stream.nodelay().unwrap());

        tokio::spawn(serve(bare_provider(), listener, std::future::pending()));
        let mut client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        client.get_plugin_info(()).await.unwrap();
        let served: Vec<_> = crate::testing::connected_tcp_sockets()
            .into_iter()
            .filter(|s| s.local.port() == port)
            .collect();
        assert!(!served.is_empty(), "the engine's connection was accepted");
        assert!(served.iter().all(|s| s.nodelay), "{served:?}");
    }

    #[test]
    fn failures_at_values_holding_unknowns_are_left_to_the_message() {
        use crate::codec::{PropertyPath, UnknownKind};
        let unknown = PropertyValue::Unknown(UnknownKind::String);
        let inputs = PropertyMap::from([
            (
                "issuer".to_string(),
                PropertyValue::Object(PropertyMap::from([
                    (
                        "tls".to_string(),
                        PropertyValue::Object(PropertyMap::from([(
                            "caCertPem".to_string(),
                            unknown.clone(),
                        )])),
                    ),
                    ("vault".to_string(), PropertyValue::string("pki")),
                ])),
            ),
            (
                "names".to_string(),
                PropertyValue::Array(vec![PropertyValue::string("a"), unknown.clone()]),
            ),
            ("key".to_string(), PropertyValue::secret(unknown)),
        ]);
        let at = |keys: &[&str]| keys.iter().fold(PropertyPath::root(), |p, k| p.key(*k));
        assert!(!printable_by_engine(&inputs, &at(&["issuer"])));
        assert!(!printable_by_engine(&inputs, &at(&["issuer", "tls"])));
        assert!(printable_by_engine(&inputs, &at(&["issuer", "vault"])));
        assert!(printable_by_engine(&inputs, &at(&["names"]).index(0)));
        assert!(!printable_by_engine(&inputs, &at(&["names"]).index(1)));
        assert!(
            printable_by_engine(&inputs, &at(&["key"])),
            "a secret prints as <secret>"
        );
        assert!(printable_by_engine(&inputs, &at(&["absent", "deeper"])));

        let failure = |path: PropertyPath| CheckFailure {
            property: path,
            reason: "no".into(),
        };
        let status = input_failures_status(
            "p:index:C",
            "c",
            vec![failure(at(&["issuer"])), failure(at(&["issuer", "vault"]))],
            &inputs,
        );
        assert!(
            status.message().contains("issuer: no; issuer.vault: no"),
            "{}",
            status.message()
        );
        let details = RpcStatus::decode(status.details()).unwrap();
        let errors = pb::InputPropertiesError::decode(details.details[0].value.as_slice()).unwrap();
        let paths: Vec<&str> = errors
            .errors
            .iter()
            .map(|e| e.property_path.as_str())
            .collect();
        assert_eq!(paths, vec!["issuer.vault"]);
    }

    #[test]
    fn token_and_name_fall_back_to_the_urn() {
        let urn = "urn:pulumi:dev::proj::example:tls:PrivateKey::root-key";
        assert_eq!(type_of("", urn), "example:tls:PrivateKey");
        assert_eq!(name_of("", urn), "root-key");
        let nested = "urn:pulumi:dev::proj::my:comp$example:tls:PrivateKey::k";
        assert_eq!(type_of("", nested), "example:tls:PrivateKey");
    }

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_internal_error() {
        let result: Result<(), Status> = guarded("Test", async { panic!("boom") }).await;
        let err = result.unwrap_err();
        assert_eq!(err.code(), Code::Internal);
        assert!(err.message().contains("Test"), "{}", err.message());
        assert!(
            !err.message().contains("boom"),
            "panic text stays out of the engine's view"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn operations_stop_at_their_timeout() {
        let ctx = Ctx::new("", Arc::new(())).with_timeout(Duration::from_secs(10));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<(), ResourceError>(())
        };
        assert!(matches!(
            bounded(&ctx, slow).await,
            Err(ResourceError::Timeout(_))
        ));
    }
}
