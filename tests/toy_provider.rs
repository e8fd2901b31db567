//! The provider core is a framework: a second, tiny package ("toy", one resource and one
//! function, its own configuration type) built on the same layers as zerotrust, served on port
//! 0 and driven through gRPC as the engine drives it. Nothing here comes from zerotrust's
//! modules.

use prost::Message;
use prost_types::Struct;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tonic::Code;
use tonic::transport::Channel;
use zerotrust::codec::{self, PropertyMap, PropertyValue};
use zerotrust::protocol::pulumirpc as pb;
use zerotrust::protocol::pulumirpc::resource_provider_client::ResourceProviderClient;
use zerotrust::server::Registry;
use zerotrust::server::service::serve;

use zerotrust::typed::{
    Created, Ctx, EmptyInputs, Resource, ResourceError, Value, replace_on_changes,
};

mod toy;
use toy::{HALF_MADE_REASON, ToyConfig, Word, make_word, toy_provider};

type Client = ResourceProviderClient<Channel>;

async fn start() -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve(
        Arc::new(toy_provider()),
        listener,
        std::future::pending(),
    ));
    ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap()
}

fn props(pairs: &[(&str, PropertyValue)]) -> Option<Struct> {
    let map: PropertyMap = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Some(codec::encode_map(&map))
}

fn decode(s: &Option<Struct>) -> PropertyMap {
    codec::decode_struct(s.as_ref()).unwrap()
}

const URN: &str = "urn:pulumi:dev::proj::toy:index:Word::greeting";

#[tokio::test]
async fn the_schema_and_plugin_info_are_the_toy_package() {
    let mut c = start().await;
    let info = c.get_plugin_info(()).await.unwrap().into_inner();
    assert_eq!(info.version, "0.0.7");
    let schema = c
        .get_schema(pb::GetSchemaRequest::default())
        .await
        .unwrap()
        .into_inner()
        .schema;
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    assert_eq!(schema["name"], "toy");
    assert_eq!(schema["version"], "0.0.7");
    assert_eq!(schema["language"]["python"]["packageName"], "pulumi_toy");
    let word = &schema["resources"]["toy:index:Word"];
    assert_eq!(word["inputProperties"]["length"]["replaceOnChanges"], true);
    assert!(word["inputProperties"]["label"]["replaceOnChanges"].is_null());
    assert_eq!(word["properties"]["password"]["secret"], true);
    assert_eq!(
        schema["functions"]["toy:index:shout"]["inputs"]["required"],
        serde_json::json!(["text"])
    );
    assert_eq!(schema["config"]["variables"]["prefix"]["type"], "string");
    assert_eq!(
        schema["config"]["variables"]["uppercase"]["type"],
        "boolean"
    );
    let text = schema.to_string().to_lowercase();
    assert!(!text.contains("zerotrust"), "{text}");
}

#[tokio::test]
async fn unknown_tokens_name_the_toy_package() {
    let mut c = start().await;
    let err = c
        .check(pb::CheckRequest {
            urn: "urn:pulumi:dev::proj::toy:index:Nope::n".into(),
            r#type: "toy:index:Nope".into(),
            news: props(&[]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains("toy v0.0.7 provides toy:index:Word"),
        "{}",
        err.message()
    );
    let err = c
        .construct(pb::ConstructRequest {
            r#type: "toy:index:Nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains(
            "unknown component type 'toy:index:Nope': toy v0.0.7 provides toy:index:Phrase"
        ),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn check_reports_every_failure_with_its_path() {
    let mut c = start().await;
    let checked = c
        .check(pb::CheckRequest {
            urn: URN.into(),
            r#type: "toy:index:Word".into(),
            news: props(&[
                ("length", PropertyValue::Number(99.0)),
                ("label", PropertyValue::string("")),
            ]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let failures: Vec<(&str, &str)> = checked
        .failures
        .iter()
        .map(|f| (f.property.as_str(), f.reason.as_str()))
        .collect();
    assert_eq!(
        failures,
        vec![
            ("length", "length 99 is not between 1 and 32"),
            ("label", "an empty label; leave it out instead"),
        ]
    );
    // A wrong wire type is the model's failure, before the resource's own check runs.
    let checked = c
        .check(pb::CheckRequest {
            urn: URN.into(),
            r#type: "toy:index:Word".into(),
            news: props(&[("length", PropertyValue::string("five"))]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(checked.failures.len(), 1, "{:?}", checked.failures);
    assert_eq!(checked.failures[0].property, "length");
}

#[tokio::test]
async fn configure_create_diff_update_and_invoke() {
    let mut c = start().await;
    c.configure(pb::ConfigureRequest {
        args: props(&[("prefix", PropertyValue::string("x-"))]),
        ..Default::default()
    })
    .await
    .unwrap();

    let inputs = props(&[
        ("length", PropertyValue::Number(5.0)),
        ("label", PropertyValue::string("first")),
    ]);
    let preview = c
        .create(pb::CreateRequest {
            urn: URN.into(),
            r#type: "toy:index:Word".into(),
            properties: inputs.clone(),
            preview: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        decode(&preview.properties)["word"],
        PropertyValue::Unknown(_)
    ));

    let created = c
        .create(pb::CreateRequest {
            urn: URN.into(),
            r#type: "toy:index:Word".into(),
            properties: inputs.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.id, "word-greeting");
    let outputs = decode(&created.properties);
    // The configured prefix reached the operation, and the word is the resource's own.
    let word = PropertyValue::string(format!("x-{}", make_word(URN, 5)));
    assert_eq!(outputs["word"], word);
    assert!(matches!(outputs["password"], PropertyValue::Secret(_)));

    let diff = |news: Option<Struct>| pb::DiffRequest {
        urn: URN.into(),
        r#type: "toy:index:Word".into(),
        id: created.id.clone(),
        olds: created.properties.clone(),
        old_inputs: inputs.clone(),
        news,
        ..Default::default()
    };
    let same = c.diff(diff(inputs.clone())).await.unwrap().into_inner();
    assert_eq!(
        same.changes,
        pb::diff_response::DiffChanges::DiffNone as i32
    );
    let relabel = props(&[
        ("length", PropertyValue::Number(5.0)),
        ("label", PropertyValue::string("second")),
    ]);
    let in_place = c.diff(diff(relabel.clone())).await.unwrap().into_inner();
    assert_eq!(in_place.diffs, vec!["label".to_string()]);
    assert!(in_place.replaces.is_empty());
    let longer = props(&[
        ("length", PropertyValue::Number(6.0)),
        ("label", PropertyValue::string("first")),
    ]);
    let replace = c.diff(diff(longer)).await.unwrap().into_inner();
    assert_eq!(replace.replaces, vec!["length".to_string()]);

    let updated = c
        .update(pb::UpdateRequest {
            urn: URN.into(),
            r#type: "toy:index:Word".into(),
            id: created.id.clone(),
            olds: created.properties.clone(),
            news: relabel,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let updated = decode(&updated.properties);
    assert_eq!(updated["label"], PropertyValue::string("second"));
    assert_eq!(updated["word"], word);

    let shouted = c
        .invoke(pb::InvokeRequest {
            tok: "toy:index:shout".into(),
            args: props(&[("text", PropertyValue::string("hello"))]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        decode(&shouted.r#return)["text"],
        PropertyValue::string("HELLO")
    );
}

/// A replace mark the diff would never see, or an empty-value exception for a name that is not
/// an optional input, is a declaration error the registry reports.
#[test]
fn misplaced_replace_marks_are_reported_at_registration() {
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Inner {
        #[schemars(transform = replace_on_changes)]
        name: Value<String>,
    }
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct BadInputs {
        inner: Value<Inner>,
    }
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct BadOutputs {
        #[schemars(transform = replace_on_changes)]
        computed: Value<String>,
    }
    struct Bad;
    impl Resource<ToyConfig> for Bad {
        type Inputs = BadInputs;
        type Outputs = BadOutputs;
        const TOKEN: &'static str = "toy:index:Bad";
        const DESCRIPTION: &'static str = "Misdeclared.";
        // `inner` is required and `nothing` no input at all: neither exception can apply.
        const EMPTY_INPUTS: EmptyInputs = EmptyInputs::AbsentExcept(&["inner", "nothing"]);
        async fn create(
            &self,
            _ctx: &Ctx<ToyConfig>,
            _inputs: BadInputs,
        ) -> Result<Created<BadOutputs>, ResourceError> {
            Err(ResourceError::Unsupported("never created".into()))
        }
    }
    let registry: Registry<ToyConfig> = Registry::default().resource(Word).resource(Bad);
    let problems = registry.problems();
    assert_eq!(problems.len(), 4, "{problems:?}");
    for name in ["empty inner is kept", "empty nothing is kept"] {
        assert!(problems.iter().any(|p| p.contains(name)), "{problems:?}");
    }
    assert!(
        problems.iter().any(|p| p.contains("toy:index:Inner.name")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("output computed")),
        "{problems:?}"
    );
}

fn create_request(name: &str, inputs: Option<Struct>) -> pb::CreateRequest {
    pb::CreateRequest {
        urn: format!("urn:pulumi:dev::proj::toy:index:Word::{name}"),
        r#type: "toy:index:Word".into(),
        properties: inputs,
        ..Default::default()
    }
}

/// Stack config arrives as text: `"true"` for a boolean setting is the boolean, in CheckConfig
/// and in Configure alike.
#[tokio::test]
async fn boolean_config_given_as_text_is_accepted() {
    let mut c = start().await;
    let args = props(&[
        ("prefix", PropertyValue::string("x-")),
        ("uppercase", PropertyValue::string("true")),
    ]);
    let checked = c
        .check_config(pb::CheckRequest {
            urn: "urn:pulumi:dev::proj::pulumi:providers:toy::default".into(),
            news: args.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    assert_eq!(
        decode(&checked.inputs)["uppercase"],
        PropertyValue::Bool(true)
    );
    c.configure(pb::ConfigureRequest {
        args,
        ..Default::default()
    })
    .await
    .unwrap();
    let created = c
        .create(create_request(
            "greeting",
            props(&[("length", PropertyValue::Number(5.0))]),
        ))
        .await
        .unwrap()
        .into_inner();
    let word = format!("x-{}", make_word(URN, 5)).to_uppercase();
    assert_eq!(
        decode(&created.properties)["word"],
        PropertyValue::string(word)
    );
}

/// A panic in Check is an Internal error, and the provider goes on serving.
#[tokio::test]
async fn a_panicking_check_is_an_internal_error() {
    let mut c = start().await;
    let err = c
        .check(pb::CheckRequest {
            urn: URN.into(),
            r#type: "toy:index:Word".into(),
            news: props(&[
                ("length", PropertyValue::Number(5.0)),
                ("label", PropertyValue::string("panic")),
            ]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    c.get_plugin_info(()).await.unwrap();
}

/// A word made but not finished comes back as an init failure with its id and outputs; it can
/// be read and deleted as any other.
#[tokio::test]
async fn a_half_made_word_keeps_its_state() {
    let mut c = start().await;
    let inputs = props(&[
        ("length", PropertyValue::Number(4.0)),
        ("label", PropertyValue::string("half-made")),
    ]);
    let err = c
        .create(create_request("half", inputs.clone()))
        .await
        .unwrap_err();
    let details = zerotrust::protocol::google::rpc::Status::decode(err.details()).unwrap();
    let any = details
        .details
        .iter()
        .find(|a| a.type_url == "type.googleapis.com/pulumirpc.ErrorResourceInitFailed")
        .expect("an init-failed detail");
    let detail = pb::ErrorResourceInitFailed::decode(any.value.as_slice()).unwrap();
    assert_eq!(detail.id, "word-half");
    assert_eq!(detail.reasons, vec![HALF_MADE_REASON.to_string()]);
    let outputs = decode(&detail.properties);
    let urn = "urn:pulumi:dev::proj::toy:index:Word::half";
    assert_eq!(outputs["word"], PropertyValue::string(make_word(urn, 4)));
    assert!(matches!(outputs["password"], PropertyValue::Secret(_)));

    let read = c
        .read(pb::ReadRequest {
            id: detail.id.clone(),
            urn: urn.into(),
            r#type: "toy:index:Word".into(),
            properties: detail.properties.clone(),
            inputs: inputs.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.id, "word-half");
    assert_eq!(decode(&read.properties)["word"], outputs["word"]);
    c.delete(pb::DeleteRequest {
        id: detail.id.clone(),
        urn: urn.into(),
        r#type: "toy:index:Word".into(),
        properties: detail.properties.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
}

/// A slow Create ends with an error soon after the engine's Cancel.
#[tokio::test]
async fn cancel_ends_a_slow_create() {
    let mut c = start().await;
    let mut slow = c.clone();
    let create = tokio::spawn(async move {
        slow.create(create_request(
            "slow",
            props(&[
                ("length", PropertyValue::Number(3.0)),
                ("label", PropertyValue::string("slow")),
            ]),
        ))
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!create.is_finished(), "the slow create waits");
    c.cancel(()).await.unwrap();
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), create)
        .await
        .expect("Create ends promptly after Cancel")
        .unwrap();
    assert_eq!(result.unwrap_err().code(), Code::Cancelled);
}
