//! Construct, as the core serves it: the toy provider's `Phrase` component driven through gRPC
//! with a stand-in for the engine's resource monitor. The stand-in steps each custom resource
//! the component registers the way the engine does, by calling the same provider's Check and
//! Create (a preview Create in a dry run), so the children are real toy resources; it records
//! every request for the assertions.

use prost::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use zerotrust::codec::{self, PropertyMap, PropertyValue, UnknownKind};
use zerotrust::protocol::google::rpc::Status as RpcStatus;
use zerotrust::protocol::pulumirpc as pb;
use zerotrust::protocol::pulumirpc::resource_monitor_server::{
    ResourceMonitor, ResourceMonitorServer,
};
use zerotrust::protocol::pulumirpc::resource_provider_client::ResourceProviderClient;
use zerotrust::server::service::serve;

mod toy;
use toy::{HALF_MADE_LABEL, HALF_MADE_REASON, make_word, toy_provider};

const STACK: &str = "urn:pulumi:dev::proj";
const PARENT: &str = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev";
const PROVIDER_REF: &str =
    "urn:pulumi:dev::proj::pulumi:providers:toy::explicit::0b6a4c3e-61c4-4f5b-a0a3-1d2c9f0e7a11";

/// What the stand-in monitor saw.
#[derive(Default)]
struct Seen {
    registrations: Vec<pb::RegisterResourceRequest>,
    outputs: Vec<pb::RegisterResourceOutputsRequest>,
}

/// The stand-in resource monitor.
struct Monitor {
    provider: ResourceProviderClient<Channel>,
    dry_run: bool,
    seen: Arc<Mutex<Seen>>,
}

/// The URN the engine gives a resource: the parent's type chain, then its own type and name.
fn urn_of(parent: &str, kind: &str, name: &str) -> String {
    let parent_types = parent.split("::").nth(2).unwrap_or_default();
    let chain = if parent_types.is_empty() || parent_types == "pulumi:pulumi:Stack" {
        kind.to_string()
    } else {
        format!("{parent_types}${kind}")
    };
    format!("{STACK}::{chain}::{name}")
}

#[tonic::async_trait]
impl ResourceMonitor for Monitor {
    async fn register_resource(
        &self,
        request: Request<pb::RegisterResourceRequest>,
    ) -> Result<Response<pb::RegisterResourceResponse>, Status> {
        let req = request.into_inner();
        self.seen.lock().unwrap().registrations.push(req.clone());
        let urn = urn_of(&req.parent, &req.r#type, &req.name);
        if !req.custom {
            return Ok(Response::new(pb::RegisterResourceResponse {
                urn,
                ..Default::default()
            }));
        }
        let mut provider = self.provider.clone();
        let checked = provider
            .check(pb::CheckRequest {
                urn: urn.clone(),
                r#type: req.r#type.clone(),
                name: req.name.clone(),
                news: req.object.clone(),
                olds: Some(prost_types::Struct::default()),
                ..Default::default()
            })
            .await?
            .into_inner();
        if !checked.failures.is_empty() {
            return Err(Status::invalid_argument(format!(
                "{urn}: {:?}",
                checked.failures
            )));
        }
        let created = provider
            .create(pb::CreateRequest {
                urn: urn.clone(),
                r#type: req.r#type.clone(),
                name: req.name.clone(),
                properties: checked.inputs,
                preview: self.dry_run,
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok(Response::new(pb::RegisterResourceResponse {
            urn,
            id: created.id,
            object: created.properties,
            ..Default::default()
        }))
    }

    async fn register_resource_outputs(
        &self,
        request: Request<pb::RegisterResourceOutputsRequest>,
    ) -> Result<Response<()>, Status> {
        self.seen.lock().unwrap().outputs.push(request.into_inner());
        Ok(Response::new(()))
    }

    async fn get_deployment_info(
        &self,
        _: Request<()>,
    ) -> Result<Response<pb::DeploymentInfo>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn supports_feature(
        &self,
        _: Request<pb::SupportsFeatureRequest>,
    ) -> Result<Response<pb::SupportsFeatureResponse>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn invoke(
        &self,
        _: Request<pb::ResourceInvokeRequest>,
    ) -> Result<Response<pb::ResourceInvokeResponse>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn call(
        &self,
        _: Request<pb::ResourceCallRequest>,
    ) -> Result<Response<pb::CallResponse>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn read_resource(
        &self,
        _: Request<pb::ReadResourceRequest>,
    ) -> Result<Response<pb::ReadResourceResponse>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn exists_resource(
        &self,
        _: Request<pb::ExistsResourceRequest>,
    ) -> Result<Response<pb::ExistsResourceResponse>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn register_stack_transform(
        &self,
        _: Request<pb::Callback>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn register_stack_invoke_transform(
        &self,
        _: Request<pb::Callback>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn register_resource_hook(
        &self,
        _: Request<pb::RegisterResourceHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn register_error_hook(
        &self,
        _: Request<pb::RegisterErrorHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn register_package(
        &self,
        _: Request<pb::RegisterPackageRequest>,
    ) -> Result<Response<pb::RegisterPackageResponse>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
    async fn signal_and_wait_for_shutdown(&self, _: Request<()>) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not in the stand-in"))
    }
}

/// The toy provider on port 0, a stand-in monitor in front of it, and what the monitor saw.
struct Deployment {
    provider: ResourceProviderClient<Channel>,
    monitor_endpoint: String,
    seen: Arc<Mutex<Seen>>,
}

async fn deployment(dry_run: bool) -> Deployment {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve(
        Arc::new(toy_provider()),
        listener,
        std::future::pending(),
    ));
    let provider = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let monitor = Monitor {
        provider: provider.clone(),
        dry_run,
        seen: Arc::clone(&seen),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let monitor_endpoint = listener.local_addr().unwrap().to_string();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ResourceMonitorServer::new(monitor))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Deployment {
        provider,
        monitor_endpoint,
        seen,
    }
}

fn phrase_request(d: &Deployment, inputs: PropertyMap, dry_run: bool) -> pb::ConstructRequest {
    pb::ConstructRequest {
        project: "proj".into(),
        stack: "dev".into(),
        dry_run,
        monitor_endpoint: d.monitor_endpoint.clone(),
        r#type: "toy:index:Phrase".into(),
        name: "motto".into(),
        parent: PARENT.into(),
        inputs: Some(codec::encode_map(&inputs)),
        providers: HashMap::from([("toy".to_string(), PROVIDER_REF.to_string())]),
        dependencies: vec![format!("{STACK}::toy:index:Word::earlier")],
        protect: Some(false),
        ..Default::default()
    }
}

fn lengths(values: Vec<PropertyValue>) -> PropertyMap {
    PropertyMap::from([("lengths".to_string(), PropertyValue::Array(values))])
}

fn number(n: f64) -> PropertyValue {
    PropertyValue::Number(n)
}

#[tokio::test]
async fn construct_registers_the_component_then_each_child_under_it() {
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let response = provider
        .construct(phrase_request(
            &d,
            lengths(vec![number(3.0), number(5.0)]),
            false,
        ))
        .await
        .unwrap()
        .into_inner();

    let component_urn = format!("{STACK}::toy:index:Phrase::motto");
    assert_eq!(response.urn, component_urn);
    let seen = d.seen.lock().unwrap();
    let kinds: Vec<(&str, &str, bool)> = seen
        .registrations
        .iter()
        .map(|r| (r.r#type.as_str(), r.name.as_str(), r.custom))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("toy:index:Phrase", "motto", false),
            ("toy:index:Word", "motto-0", true),
            ("toy:index:Word", "motto-1", true),
        ]
    );
    let own = &seen.registrations[0];
    assert_eq!(own.parent, PARENT);
    assert!(
        !own.remote,
        "the component registers itself as a plain component"
    );
    assert_eq!(
        own.providers.get("toy").map(String::as_str),
        Some(PROVIDER_REF)
    );

    let first_child = format!("{STACK}::toy:index:Phrase$toy:index:Word::motto-0");
    let second_child = format!("{STACK}::toy:index:Phrase$toy:index:Word::motto-1");
    for child in &seen.registrations[1..] {
        assert_eq!(child.parent, component_urn);
        assert_eq!(
            child.provider, PROVIDER_REF,
            "children use the component's provider"
        );
        assert!(child.accept_secrets && child.supports_partial_values);
        assert!(
            child
                .dependencies
                .contains(&format!("{STACK}::toy:index:Word::earlier")),
            "children wait for what the component waits for: {:?}",
            child.dependencies
        );
    }
    assert!(seen.registrations[2].dependencies.contains(&first_child));
    assert!(!seen.registrations[1].dependencies.contains(&second_child));

    let state = codec::decode_struct(response.state.as_ref()).unwrap();
    let expected = format!(
        "{} {}",
        make_word(&first_child, 3),
        make_word(&second_child, 5)
    );
    assert_eq!(state["text"], PropertyValue::String(expected));
    assert_eq!(state["count"], number(2.0));
    assert!(
        matches!(state["password"], PropertyValue::Secret(_)),
        "a secret child output stays secret in the component's state"
    );

    assert_eq!(seen.outputs.len(), 1, "outputs are recorded once");
    assert_eq!(seen.outputs[0].urn, component_urn);
    assert_eq!(seen.outputs[0].outputs, response.state);
    let deps = &response.state_dependencies["text"].urns;
    assert_eq!(deps, &vec![first_child, second_child]);
}

#[tokio::test]
async fn a_preview_with_unknown_inputs_registers_children_with_unknowns() {
    let d = deployment(true).await;
    let mut provider = d.provider.clone();
    let unknown = PropertyValue::Unknown(UnknownKind::String);
    let response = provider
        .construct(phrase_request(
            &d,
            lengths(vec![unknown.clone(), number(4.0)]),
            true,
        ))
        .await
        .unwrap()
        .into_inner();
    let seen = d.seen.lock().unwrap();
    assert_eq!(seen.registrations.len(), 3);
    let first = codec::decode_struct(seen.registrations[1].object.as_ref()).unwrap();
    assert!(
        matches!(first["length"], PropertyValue::Unknown(_)),
        "the unknown length reaches the child as an unknown, not a zero: {first:?}"
    );
    let second = codec::decode_struct(seen.registrations[2].object.as_ref()).unwrap();
    assert_eq!(second["length"], number(4.0));
    let state = codec::decode_struct(response.state.as_ref()).unwrap();
    assert!(
        matches!(state["text"], PropertyValue::Unknown(_)),
        "{state:?}"
    );
    assert_eq!(state["count"], number(2.0), "what is known stays known");
}

#[tokio::test]
async fn a_preview_with_a_whole_input_unknown_has_unknown_outputs_and_no_children() {
    let d = deployment(true).await;
    let mut provider = d.provider.clone();
    let inputs = PropertyMap::from([(
        "lengths".to_string(),
        PropertyValue::Unknown(UnknownKind::String),
    )]);
    let response = provider
        .construct(phrase_request(&d, inputs, true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        d.seen.lock().unwrap().registrations.len(),
        1,
        "only the component itself"
    );
    let state = codec::decode_struct(response.state.as_ref()).unwrap();
    assert_eq!(state.len(), 3, "{state:?}");
    assert!(
        state
            .values()
            .all(|v| matches!(v, PropertyValue::Unknown(_))),
        "{state:?}"
    );

    // Outside a preview the same inputs are a bug in the program's engine, not a plan.
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let inputs = PropertyMap::from([(
        "lengths".to_string(),
        PropertyValue::Unknown(UnknownKind::String),
    )]);
    let err = provider
        .construct(phrase_request(&d, inputs, false))
        .await
        .unwrap_err();
    assert!(err.message().contains("lengths"), "{}", err.message());
}

#[tokio::test]
async fn bad_inputs_are_refused_all_at_once_before_anything_is_registered() {
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let mut inputs = lengths(vec![number(0.0), number(4.0), number(40.0)]);
    inputs.insert("label".into(), number(7.0));
    let err = provider
        .construct(phrase_request(&d, inputs, false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("toy:index:Phrase 'motto'"),
        "{}",
        err.message()
    );
    let details = RpcStatus::decode(err.details()).unwrap();
    let any = &details.details[0];
    assert_eq!(
        any.type_url,
        "type.googleapis.com/pulumirpc.InputPropertiesError"
    );
    let errors = pb::InputPropertiesError::decode(any.value.as_slice()).unwrap();
    let paths: Vec<&str> = errors
        .errors
        .iter()
        .map(|e| e.property_path.as_str())
        .collect();
    assert_eq!(paths, vec!["label"], "wire types are checked first");

    let err = provider
        .construct(phrase_request(
            &d,
            lengths(vec![number(0.0), number(4.0), number(40.0)]),
            false,
        ))
        .await
        .unwrap_err();
    let details = RpcStatus::decode(err.details()).unwrap();
    let errors = pb::InputPropertiesError::decode(details.details[0].value.as_slice()).unwrap();
    let paths: Vec<&str> = errors
        .errors
        .iter()
        .map(|e| e.property_path.as_str())
        .collect();
    assert_eq!(paths, vec!["lengths[0]", "lengths[2]"]);
    assert!(
        errors.errors[1].reason.contains("40"),
        "{:?}",
        errors.errors
    );
    assert!(d.seen.lock().unwrap().registrations.is_empty());
}

#[tokio::test]
async fn a_failing_child_fails_the_construct_naming_component_and_child() {
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let mut inputs = lengths(vec![number(3.0)]);
    inputs.insert(
        "label".into(),
        PropertyValue::String(HALF_MADE_LABEL.into()),
    );
    let err = provider
        .construct(phrase_request(&d, inputs, false))
        .await
        .unwrap_err();
    let message = err.message();
    assert!(
        message.contains("toy:index:Phrase 'motto': construct"),
        "{message}"
    );
    assert!(message.contains("toy:index:Word 'motto-0'"), "{message}");
    assert!(message.contains(HALF_MADE_REASON), "{message}");
    assert!(
        d.seen.lock().unwrap().outputs.is_empty(),
        "no outputs are recorded for a component that failed"
    );
}

#[tokio::test]
async fn a_secret_input_keeps_everything_made_from_it_secret() {
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let mut inputs = lengths(vec![number(3.0)]);
    inputs.insert(
        "label".into(),
        PropertyValue::secret(PropertyValue::String("hush".into())),
    );
    let response = provider
        .construct(phrase_request(&d, inputs, false))
        .await
        .unwrap()
        .into_inner();
    let seen = d.seen.lock().unwrap();
    let child = codec::decode_struct(seen.registrations[1].object.as_ref()).unwrap();
    assert!(
        matches!(child["label"], PropertyValue::Secret(_)),
        "the child gets the label as a secret: {child:?}"
    );
    let state = codec::decode_struct(response.state.as_ref()).unwrap();
    assert!(
        state
            .values()
            .all(|v| matches!(v, PropertyValue::Secret(_))),
        "{state:?}"
    );
}

#[tokio::test]
async fn an_unknown_component_type_is_not_found() {
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let mut request = phrase_request(&d, lengths(vec![number(3.0)]), false);
    request.r#type = "toy:index:Sentence".into();
    let err = provider.construct(request).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains("toy:index:Phrase"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn the_schema_marks_the_component() {
    let d = deployment(false).await;
    let mut provider = d.provider.clone();
    let schema = provider
        .get_schema(pb::GetSchemaRequest::default())
        .await
        .unwrap()
        .into_inner()
        .schema;
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let phrase = &schema["resources"]["toy:index:Phrase"];
    assert_eq!(phrase["isComponent"], true);
    assert_eq!(phrase["requiredInputs"], serde_json::json!(["lengths"]));
    assert_eq!(phrase["properties"]["password"]["secret"], true);
    assert!(schema["resources"]["toy:index:Word"]["isComponent"].is_null());
}
