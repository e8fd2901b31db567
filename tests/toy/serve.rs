//! `toy-provider` (a Cargo example): the toy package served as a plugin binary, as the engine starts one (port
//! line on stdout, the engine's address as the last argument, SIGINT to stop). Defects named in
//! `TOY_DEFECTS` are switched on; those of the wire (schema text, gRPC errors, secret wrappers,
//! diff answers) are made here, around the core's own service, so the core itself stays correct.

#[path = "mod.rs"]
mod toy;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tonic::{Request, Response, Status};
use toy::defects::{Defect, on};
use toy::{PANIC_LABEL, SLOW_CREATE, SLOW_LABEL, ToyConfig};
use zerotrust::codec::{self, PropertyMap, PropertyValue};
use zerotrust::protocol::pulumirpc as pb;
use zerotrust::protocol::pulumirpc::resource_provider_server::{
    ResourceProvider, ResourceProviderServer,
};
use zerotrust::server::service::{Provider, engine_address, incoming};

type Core = Arc<Provider<ToyConfig>>;

/// The core's service with the switched-on wire defects.
struct Defective {
    core: Core,
    /// Set once a Cancel has arrived (shared with the SIGINT handling in `main`).
    cancelled: Arc<AtomicBool>,
    /// Set by the first Configure.
    configured: AtomicBool,
    /// The config variables the schema does not declare as strings.
    non_string_config: Vec<String>,
}

impl Defective {
    fn new(core: Core, cancelled: Arc<AtomicBool>) -> Self {
        let schema: serde_json::Value =
            serde_json::from_str(core.schema_text()).unwrap_or_default();
        let non_string_config = schema["config"]["variables"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, spec)| spec["type"].as_str() != Some("string"))
            .map(|(name, _)| name.clone())
            .collect();
        Defective {
            core,
            cancelled,
            configured: AtomicBool::new(false),
            non_string_config,
        }
    }
}

/// The label in a property struct, if it is known text (secret or not).
fn label_of(s: Option<&prost_types::Struct>) -> Option<String> {
    let map = codec::decode_struct(s).ok()?;
    match map.get("label")? {
        PropertyValue::String(label) => Some(label.clone()),
        PropertyValue::Secret(inner) => match inner.as_ref() {
            PropertyValue::String(label) => Some(label.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Decode, change and re-encode a property struct.
fn edit(s: &mut Option<prost_types::Struct>, change: impl FnOnce(&mut PropertyMap)) {
    if let Ok(mut map) = codec::decode_struct(s.as_ref()) {
        change(&mut map);
        *s = Some(codec::encode_map(&map));
    }
}

/// Replace every secret wrapper with its plain value.
fn unwrap_secrets(map: &mut PropertyMap) {
    for value in map.values_mut() {
        if let PropertyValue::Secret(inner) = value {
            *value = (**inner).clone();
        }
    }
}

#[tonic::async_trait]
impl ResourceProvider for Defective {
    type ListStream = <Core as ResourceProvider>::ListStream;

    async fn handshake(
        &self,
        r: Request<pb::ProviderHandshakeRequest>,
    ) -> Result<Response<pb::ProviderHandshakeResponse>, Status> {
        if on(Defect::HandshakeFails) {
            return Err(Status::internal("the toy provider refuses to shake hands"));
        }
        self.core.handshake(r).await
    }

    async fn parameterize(
        &self,
        r: Request<pb::ParameterizeRequest>,
    ) -> Result<Response<pb::ParameterizeResponse>, Status> {
        self.core.parameterize(r).await
    }

    async fn get_schema(
        &self,
        r: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        let mut answer = self.core.get_schema(r).await?;
        if on(Defect::Undocumented) || on(Defect::Unbindable) || on(Defect::SecretUnmarked) {
            let text = &mut answer.get_mut().schema;
            let mut schema: serde_json::Value =
                serde_json::from_str(text).map_err(|e| Status::internal(format!("schema: {e}")))?;
            let word = &mut schema["resources"]["toy:index:Word"];
            if on(Defect::Undocumented) {
                word["inputProperties"]["label"]["description"] = serde_json::json!("");
                word["properties"]["label"]["description"] = serde_json::json!("");
            }
            if on(Defect::SecretUnmarked)
                && let Some(password) = word["properties"]["password"].as_object_mut()
            {
                password.remove("secret");
            }
            if on(Defect::Unbindable) {
                word["properties"]["word"] = serde_json::json!({
                    "$ref": "#/types/toy:index:Missing",
                    "description": "The word."
                });
            }
            *text = schema.to_string();
        }
        Ok(answer)
    }

    async fn check_config(
        &self,
        r: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        if on(Defect::ConfigRejectsJsonStrings) {
            let news = codec::decode_struct(r.get_ref().news.as_ref()).unwrap_or_default();
            let failures: Vec<pb::CheckFailure> = news
                .iter()
                .filter(|(key, _)| self.non_string_config.contains(key))
                .filter(|(_, value)| match value {
                    PropertyValue::Secret(inner) => matches!(**inner, PropertyValue::String(_)),
                    other => matches!(other, PropertyValue::String(_)),
                })
                .map(|(key, _)| pb::CheckFailure {
                    property: key.clone(),
                    reason: "expected a value, not text".into(),
                })
                .collect();
            if !failures.is_empty() {
                return Ok(Response::new(pb::CheckResponse {
                    inputs: r.into_inner().news,
                    failures,
                }));
            }
        }
        if on(Defect::ConfigRejectsUnknown) {
            let news = codec::decode_struct(r.get_ref().news.as_ref()).unwrap_or_default();
            if let Some(key) = news
                .iter()
                .find_map(|(k, v)| matches!(v, PropertyValue::Unknown(_)).then(|| k.clone()))
            {
                return Ok(Response::new(pb::CheckResponse {
                    inputs: r.into_inner().news,
                    failures: vec![pb::CheckFailure {
                        property: key,
                        reason: "must be known".into(),
                    }],
                }));
            }
        }
        self.core.check_config(r).await
    }

    async fn diff_config(
        &self,
        r: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        let mut answer = self.core.diff_config(r).await?;
        if on(Defect::DiffConfigNoise) {
            let diff = answer.get_mut();
            diff.changes = pb::diff_response::DiffChanges::DiffSome as i32;
            diff.diffs = vec!["prefix".into()];
        }
        Ok(answer)
    }

    async fn configure(
        &self,
        r: Request<pb::ConfigureRequest>,
    ) -> Result<Response<pb::ConfigureResponse>, Status> {
        if on(Defect::ConfigFails) {
            return Err(Status::internal("the toy provider cannot be configured"));
        }
        if on(Defect::ConfigureOnce) && self.configured.swap(true, Ordering::SeqCst) {
            return Err(Status::failed_precondition(
                "the toy provider is already configured",
            ));
        }
        let mut answer = self.core.configure(r).await?;
        if on(Defect::NoAcceptSecrets) {
            answer.get_mut().accept_secrets = false;
        }
        if on(Defect::NoSupportsPreview) {
            answer.get_mut().supports_preview = false;
        }
        Ok(answer)
    }

    async fn invoke(
        &self,
        r: Request<pb::InvokeRequest>,
    ) -> Result<Response<pb::InvokeResponse>, Status> {
        if on(Defect::InvokeFails) {
            return Err(Status::internal("the toy provider cannot invoke"));
        }
        let mut answer = self.core.invoke(r).await?;
        if on(Defect::InvokeDropsSecret) {
            edit(&mut answer.get_mut().r#return, unwrap_secrets);
        }
        Ok(answer)
    }

    async fn call(
        &self,
        r: Request<pb::CallRequest>,
    ) -> Result<Response<pb::CallResponse>, Status> {
        self.core.call(r).await
    }

    async fn check(
        &self,
        r: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        if on(Defect::PanicUnguarded)
            && label_of(r.get_ref().news.as_ref()).as_deref() == Some(PANIC_LABEL)
        {
            panic!("the toy's wrapper was asked to panic");
        }
        let mut answer = self.core.check(r).await?;
        if on(Defect::CheckGrpcError) && !answer.get_ref().failures.is_empty() {
            return Err(Status::invalid_argument("the inputs are invalid"));
        }
        if on(Defect::CheckDropsSecret) {
            edit(&mut answer.get_mut().inputs, unwrap_secrets);
        }
        Ok(answer)
    }

    async fn diff(
        &self,
        r: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        let mut answer = self.core.diff(r).await?;
        let diff = answer.get_mut();
        if on(Defect::DiffNoise) && diff.diffs.is_empty() {
            diff.changes = pb::diff_response::DiffChanges::DiffSome as i32;
            diff.diffs.push("label".into());
        }
        if on(Defect::ReplaceUnmarked) && diff.diffs.iter().any(|d| d == "label") {
            diff.replaces.push("label".into());
        }
        Ok(answer)
    }

    async fn create(
        &self,
        r: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateResponse>, Status> {
        if on(Defect::CreateFails) {
            return Err(Status::internal("the toy provider cannot create"));
        }
        if on(Defect::CancelSticks) && self.cancelled.load(Ordering::SeqCst) {
            return Err(Status::cancelled("the toy provider was cancelled earlier"));
        }
        if on(Defect::CancelIgnored)
            && !r.get_ref().preview
            && label_of(r.get_ref().properties.as_ref()).as_deref() == Some(SLOW_LABEL)
        {
            // Waits here, out of the core's reach: a Cancel changes nothing.
            tokio::time::sleep(SLOW_CREATE).await;
        }
        let mut answer = match self.core.create(r).await {
            Err(status) if on(Defect::InitFailureLosesState) && !status.details().is_empty() => {
                return Err(Status::internal(status.message().to_string()));
            }
            other => other?,
        };
        if on(Defect::DropSecretOutput) {
            edit(&mut answer.get_mut().properties, unwrap_secrets);
        }
        if on(Defect::WrongOutputType) {
            edit(&mut answer.get_mut().properties, |map| {
                if let Some(PropertyValue::Number(n)) = map.get("length").cloned() {
                    map.insert("length".into(), PropertyValue::string(n.to_string()));
                }
            });
        }
        Ok(answer)
    }

    async fn read(
        &self,
        r: Request<pb::ReadRequest>,
    ) -> Result<Response<pb::ReadResponse>, Status> {
        self.core.read(r).await
    }

    async fn list(
        &self,
        r: Request<pb::ListRequest>,
    ) -> Result<Response<Self::ListStream>, Status> {
        self.core.list(r).await
    }

    async fn update(
        &self,
        r: Request<pb::UpdateRequest>,
    ) -> Result<Response<pb::UpdateResponse>, Status> {
        if on(Defect::UpdateFails) {
            return Err(Status::internal("the toy provider cannot update"));
        }
        self.core.update(r).await
    }

    async fn delete(&self, r: Request<pb::DeleteRequest>) -> Result<Response<()>, Status> {
        if on(Defect::DeleteFails) {
            return Err(Status::internal("the toy provider cannot delete"));
        }
        self.core.delete(r).await
    }

    async fn construct(
        &self,
        r: Request<pb::ConstructRequest>,
    ) -> Result<Response<pb::ConstructResponse>, Status> {
        self.core.construct(r).await
    }

    async fn cancel(&self, r: Request<()>) -> Result<Response<()>, Status> {
        self.cancelled.store(true, Ordering::SeqCst);
        self.core.cancel(r).await
    }

    async fn get_plugin_info(&self, r: Request<()>) -> Result<Response<pb::PluginInfo>, Status> {
        let mut answer = self.core.get_plugin_info(r).await?;
        if on(Defect::WrongVersion) {
            answer.get_mut().version = "9.9.9".into();
        }
        Ok(answer)
    }

    async fn attach(&self, r: Request<pb::PluginAttach>) -> Result<Response<()>, Status> {
        self.core.attach(r).await
    }

    async fn get_mapping(
        &self,
        r: Request<pb::GetMappingRequest>,
    ) -> Result<Response<pb::GetMappingResponse>, Status> {
        self.core.get_mapping(r).await
    }

    async fn get_mappings(
        &self,
        r: Request<pb::GetMappingsRequest>,
    ) -> Result<Response<pb::GetMappingsResponse>, Status> {
        self.core.get_mappings(r).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let core: Core = Arc::new(toy::toy_provider());
    // The engine's address comes with the plugin arguments; none in attach mode.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(address) = engine_address(&args) {
        core.connect_engine(&address);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut out = std::io::stdout().lock();
        if on(Defect::PortNoise) {
            writeln!(out, "toy provider starting")?;
        }
        writeln!(out, "{port}")?;
        out.flush()?;
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let shutdown = {
        let cancelled = Arc::clone(&cancelled);
        async move {
            if on(Defect::IgnoreSigint) {
                // Swallow SIGINT (the default would end the process) and keep serving.
                loop {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            loop {
                let _ = tokio::signal::ctrl_c().await;
                // Swallow SIGINT only once the engine has sent Cancel.
                if !(on(Defect::CancelBlocksExit) && cancelled.load(Ordering::SeqCst)) {
                    break;
                }
            }
        }
    };
    tonic::transport::Server::builder()
        .add_service(ResourceProviderServer::new(Defective::new(core, cancelled)))
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await?;
    Ok(())
}
