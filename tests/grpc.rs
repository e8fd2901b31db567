//! gRPC tests: the real provider service on 127.0.0.1:0, driven through a tonic client, as the
//! engine drives it.

use prost::Message;
use prost_types::{Struct, Value as PbValue, value::Kind};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::transport::Channel;
use zerotrust::codec::{self, PropertyMap, PropertyValue, SIG_KEY, SIG_SECRET, UnknownKind};
use zerotrust::protocol::pulumirpc as pb;
use zerotrust::protocol::pulumirpc::resource_provider_client::ResourceProviderClient;

type Client = ResourceProviderClient<Channel>;

async fn start() -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let provider = Arc::new(zerotrust::modules::provider());
    tokio::spawn(zerotrust::server::service::serve(
        provider,
        listener,
        std::future::pending(),
    ));
    ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap()
}

fn s(v: &str) -> PropertyValue {
    PropertyValue::string(v)
}

fn n(v: f64) -> PropertyValue {
    PropertyValue::Number(v)
}

fn list(items: &[&str]) -> PropertyValue {
    PropertyValue::Array(items.iter().map(|i| s(i)).collect())
}

fn props(pairs: Vec<(&str, PropertyValue)>) -> Option<Struct> {
    let map: PropertyMap = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Some(codec::encode_map(&map))
}

fn decode(s: &Option<Struct>) -> PropertyMap {
    codec::decode_struct(s.as_ref()).unwrap()
}

fn urn(token: &str, name: &str) -> String {
    format!("urn:pulumi:test::proj::{token}::{name}")
}

const KEY: &str = "zerotrust:tls:PrivateKey";
const SELF_SIGNED: &str = "zerotrust:tls:SelfSignedCert";
const CSR: &str = "zerotrust:tls:CertRequest";
const SIGNED: &str = "zerotrust:tls:LocallySignedCert";

async fn check(c: &mut Client, token: &str, news: Option<Struct>) -> pb::CheckResponse {
    c.check(pb::CheckRequest {
        urn: urn(token, "r"),
        olds: Some(Struct::default()),
        news,
        r#type: token.into(),
        name: "r".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

async fn create(
    c: &mut Client,
    token: &str,
    inputs: Option<Struct>,
    preview: bool,
) -> Result<pb::CreateResponse, tonic::Status> {
    let checked = check(c, token, inputs).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    c.create(pb::CreateRequest {
        urn: urn(token, "r"),
        properties: checked.inputs,
        preview,
        r#type: token.into(),
        name: "r".into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
}

fn secret_text(v: &PropertyValue) -> String {
    match v {
        PropertyValue::Secret(inner) => match inner.as_ref() {
            PropertyValue::String(t) => t.clone(),
            other => panic!("secret holds {other:?}"),
        },
        other => panic!("expected a secret, got {other:?}"),
    }
}

fn text(v: &PropertyValue) -> String {
    match v {
        PropertyValue::String(t) => t.clone(),
        other => panic!("expected a plain string, got {other:?}"),
    }
}

async fn new_key(c: &mut Client, alg: &str) -> PropertyMap {
    let created = create(c, KEY, props(vec![("algorithm", s(alg))]), false)
        .await
        .unwrap();
    decode(&created.properties)
}

fn ca_inputs(key_pem: &str) -> Option<Struct> {
    props(vec![
        ("privateKeyPem", PropertyValue::secret(s(key_pem))),
        ("allowedUses", list(&["cert_signing", "crl_signing"])),
        ("validityPeriodHours", n(48.0)),
        ("isCaCertificate", PropertyValue::Bool(true)),
        ("setSubjectKeyId", PropertyValue::Bool(true)),
        (
            "subject",
            PropertyValue::Object(PropertyMap::from([("commonName".into(), s("test root"))])),
        ),
    ])
}

#[tokio::test]
async fn plugin_info_handshake_and_schema() {
    let mut c = start().await;
    let info = c.get_plugin_info(()).await.unwrap().into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let hs = c
        .handshake(pb::ProviderHandshakeRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(hs.accept_secrets && hs.accept_resources);
    assert!(
        !hs.accepts_byte_string,
        "the codec does not decode byte strings"
    );
    let schema = c
        .get_schema(pb::GetSchemaRequest::default())
        .await
        .unwrap()
        .into_inner();
    let json: serde_json::Value = serde_json::from_str(&schema.schema).unwrap();
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    for token in [KEY, SELF_SIGNED, CSR, SIGNED] {
        assert!(json["resources"][token].is_object(), "{token} missing");
    }
    assert_eq!(
        json["resources"][KEY]["properties"]["privateKeyPem"]["secret"],
        true
    );
    assert_eq!(
        json["resources"][SELF_SIGNED]["inputProperties"]["subject"]["$ref"],
        "#/types/zerotrust:tls:SelfSignedCertSubject"
    );
    let unimplemented = c
        .parameterize(pb::ParameterizeRequest::default())
        .await
        .unwrap_err();
    assert_eq!(unimplemented.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn config_is_accepted_native_and_as_json_text() {
    let mut c = start().await;
    let as_text = c
        .check_config(pb::CheckRequest {
            news: props(vec![
                ("defaultBackdateMinutes", s("5")),
                ("version", s("0.1.0")),
            ]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(as_text.failures.is_empty(), "{:?}", as_text.failures);
    assert_eq!(decode(&as_text.inputs)["defaultBackdateMinutes"], n(5.0));

    let bad = c
        .check_config(pb::CheckRequest {
            news: props(vec![
                ("defaultBackdateMinutes", s("five")),
                ("bogus", s("x")),
            ]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let paths: Vec<&str> = bad.failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(paths, vec!["defaultBackdateMinutes", "bogus"]);

    for value in [s("5"), n(5.0), PropertyValue::secret(s("5"))] {
        let resp = c
            .configure(pb::ConfigureRequest {
                args: props(vec![("defaultBackdateMinutes", value)]),
                accept_secrets: true,
                accept_resources: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(resp.accept_secrets && resp.supports_preview);
    }
    let err = c
        .configure(pb::ConfigureRequest {
            args: props(vec![("defaultBackdateMinutes", s("soon"))]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.message().contains("defaultBackdateMinutes"), "{err}");
}

#[tokio::test]
async fn configured_backdating_applies_to_new_certificates() {
    let mut c = start().await;
    c.configure(pb::ConfigureRequest {
        args: props(vec![("defaultBackdateMinutes", s("90"))]),
        ..Default::default()
    })
    .await
    .unwrap();
    let key = new_key(&mut c, "ED25519").await;
    let cert = create(
        &mut c,
        SELF_SIGNED,
        ca_inputs(&secret_text(&key["privateKeyPem"])),
        false,
    )
    .await
    .unwrap();
    let out = decode(&cert.properties);
    let start = time::OffsetDateTime::parse(
        &text(&out["validityStartTime"]),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let age = time::OffsetDateTime::now_utc() - start;
    assert!(age >= time::Duration::minutes(89), "started {age} ago");
}

#[tokio::test]
async fn bad_input_is_rejected_with_paths_all_at_once() {
    let mut c = start().await;
    let key = check(
        &mut c,
        KEY,
        props(vec![
            ("algorithm", s("DSA")),
            ("ecdsaCurve", s("P224")),
            ("rsaBits", n(1024.0)),
        ]),
    )
    .await;
    let paths: Vec<&str> = key.failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(paths, vec!["algorithm", "ecdsaCurve", "rsaBits"]);
    assert!(key.failures[1].reason.contains("P224"));

    let wrong_types = check(
        &mut c,
        KEY,
        props(vec![("algorithm", n(5.0)), ("rsaBits", s("big"))]),
    )
    .await;
    let paths: Vec<&str> = wrong_types
        .failures
        .iter()
        .map(|f| f.property.as_str())
        .collect();
    assert_eq!(paths, vec!["algorithm", "rsaBits"]);

    let cert = check(
        &mut c,
        SELF_SIGNED,
        props(vec![
            (
                "privateKeyPem",
                PropertyValue::secret(s("-----BEGIN GARBAGE")),
            ),
            ("allowedUses", list(&["server_auth", "teleport"])),
            ("validityPeriodHours", n(-1.0)),
            ("earlyRenewalHours", n(1e12)),
            ("ipAddresses", list(&["10.0.0.300"])),
        ]),
    )
    .await;
    let paths: Vec<&str> = cert.failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "privateKeyPem",
            "allowedUses[1]",
            "validityPeriodHours",
            "earlyRenewalHours",
            "ipAddresses[0]"
        ]
    );
    for f in &cert.failures {
        assert!(!f.reason.contains("GARBAGE"), "input echoed: {}", f.reason);
    }

    let overflow = check(
        &mut c,
        SIGNED,
        props(vec![
            ("certRequestPem", s("nope")),
            ("caCertPem", s("nope")),
            ("caPrivateKeyPem", PropertyValue::secret(s("nope"))),
            ("allowedUses", list(&[])),
            ("validityPeriodHours", n(1e300)),
            ("isCaCertificate", s("yes")),
        ]),
    )
    .await;
    let paths: Vec<&str> = overflow
        .failures
        .iter()
        .map(|f| f.property.as_str())
        .collect();
    assert_eq!(paths, vec!["isCaCertificate", "validityPeriodHours"]);

    let csr = check(&mut c, CSR, props(vec![("uris", list(&["not a uri"]))])).await;
    let paths: Vec<&str> = csr.failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(paths, vec!["privateKeyPem"]);
}

#[tokio::test]
async fn unknowns_at_every_level_pass_check_and_preview_as_unknown() {
    let mut c = start().await;
    let unknown = PropertyValue::Unknown(UnknownKind::String);
    let news = props(vec![
        ("privateKeyPem", PropertyValue::secret(unknown.clone())),
        ("allowedUses", PropertyValue::Unknown(UnknownKind::Array)),
        (
            "validityPeriodHours",
            PropertyValue::Unknown(UnknownKind::Number),
        ),
        (
            "subject",
            PropertyValue::Object(PropertyMap::from([
                ("commonName".into(), unknown.clone()),
                ("organization".into(), s("ml")),
            ])),
        ),
        (
            "dnsNames",
            PropertyValue::Array(vec![s("a.example"), unknown.clone()]),
        ),
        ("isCaCertificate", PropertyValue::Unknown(UnknownKind::Bool)),
    ]);
    let checked = check(&mut c, SELF_SIGNED, news).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let inputs = decode(&checked.inputs);
    assert!(inputs["privateKeyPem"].contains_unknowns());
    assert!(matches!(inputs["privateKeyPem"], PropertyValue::Secret(_)));
    assert!(inputs["subject"].contains_unknowns());

    let preview = c
        .create(pb::CreateRequest {
            urn: urn(SELF_SIGNED, "r"),
            properties: checked.inputs.clone(),
            preview: true,
            r#type: SELF_SIGNED.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let out = decode(&preview.properties);
    assert!(matches!(out["certPem"], PropertyValue::Unknown(_)));
    assert!(matches!(out["readyForRenewal"], PropertyValue::Unknown(_)));
    // Known inputs are echoed as they are.
    assert_eq!(
        out["subject"], inputs["subject"],
        "known parts of inputs survive preview"
    );

    // All seven sentinels decode as unknown wherever they appear.
    for kind in UnknownKind::ALL {
        let r = check(
            &mut c,
            KEY,
            props(vec![("algorithm", PropertyValue::Unknown(kind))]),
        )
        .await;
        assert!(r.failures.is_empty(), "{kind:?}: {:?}", r.failures);
        // Sentinels of any kind are equivalent to the engine; we answer with the string one.
        assert!(matches!(
            decode(&r.inputs)["algorithm"],
            PropertyValue::Unknown(_)
        ));
    }

    // Outside preview, unknown inputs are an error, never unknown outputs.
    let err = c
        .create(pb::CreateRequest {
            urn: urn(SELF_SIGNED, "r"),
            properties: checked.inputs,
            preview: false,
            r#type: SELF_SIGNED.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal, "{err}");
    assert!(err.message().contains("unknown outside preview"), "{err}");
}

#[tokio::test]
async fn secrets_round_trip_and_private_keys_stay_secret() {
    let mut c = start().await;
    for alg in ["RSA", "ECDSA", "ED25519"] {
        let key = new_key(&mut c, alg).await;
        for field in ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"] {
            assert!(
                secret_text(&key[field]).contains("PRIVATE KEY"),
                "{alg} {field}"
            );
        }
        assert!(text(&key["publicKeyPem"]).starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(text(&key["publicKeyFingerprintSha256"]).starts_with("SHA256:"));
    }
    // A user-marked secret on a plain input stays secret in checked inputs and outputs.
    let key = new_key(&mut c, "ECDSA").await;
    let checked = check(
        &mut c,
        CSR,
        props(vec![
            ("privateKeyPem", key["privateKeyPem"].clone()),
            ("dnsNames", PropertyValue::secret(list(&["hidden.example"]))),
        ]),
    )
    .await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let inputs = decode(&checked.inputs);
    assert!(matches!(inputs["dnsNames"], PropertyValue::Secret(_)));
    let created = c
        .create(pb::CreateRequest {
            urn: urn(CSR, "r"),
            properties: checked.inputs,
            r#type: CSR.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let out = decode(&created.properties);
    assert!(matches!(out["dnsNames"], PropertyValue::Secret(_)));
    assert!(matches!(out["privateKeyPem"], PropertyValue::Secret(_)));
    assert!(text(&out["certRequestPem"]).contains("CERTIFICATE REQUEST"));
    // The wire form is the engine's secret envelope.
    let wire = created.properties.unwrap();
    let Some(Kind::StructValue(env)) = &wire.fields["privateKeyPem"].kind else {
        panic!("secret is an object on the wire")
    };
    assert_eq!(
        env.fields[SIG_KEY],
        PbValue {
            kind: Some(Kind::StringValue(SIG_SECRET.into()))
        }
    );
}

#[tokio::test]
async fn diff_update_replace_renewal_read_and_delete() {
    let mut c = start().await;
    let key = new_key(&mut c, "ECDSA").await;
    let key_pem = secret_text(&key["privateKeyPem"]);
    let inputs = ca_inputs(&key_pem);
    let checked = check(&mut c, SELF_SIGNED, inputs.clone()).await;
    let created = c
        .create(pb::CreateRequest {
            urn: urn(SELF_SIGNED, "ca"),
            properties: checked.inputs.clone(),
            r#type: SELF_SIGNED.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!created.id.is_empty());
    let olds = created.properties.clone();
    let old_inputs = checked.inputs.clone();

    let diff = |news: Option<Struct>| pb::DiffRequest {
        id: created.id.clone(),
        urn: urn(SELF_SIGNED, "ca"),
        olds: olds.clone(),
        news,
        old_inputs: old_inputs.clone(),
        r#type: SELF_SIGNED.into(),
        ..Default::default()
    };
    let same = c
        .diff(diff(checked.inputs.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        same.changes,
        pb::diff_response::DiffChanges::DiffNone as i32
    );

    let mut news = decode(&checked.inputs);
    news.insert("earlyRenewalHours".into(), n(1.0));
    let in_place = c
        .diff(diff(Some(codec::encode_map(&news))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        in_place.changes,
        pb::diff_response::DiffChanges::DiffSome as i32
    );
    assert!(in_place.replaces.is_empty(), "{:?}", in_place.replaces);
    assert_eq!(in_place.diffs, vec!["earlyRenewalHours"]);

    let updated = c
        .update(pb::UpdateRequest {
            id: created.id.clone(),
            urn: urn(SELF_SIGNED, "ca"),
            olds: olds.clone(),
            news: Some(codec::encode_map(&news)),
            r#type: SELF_SIGNED.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let updated = decode(&updated.properties);
    assert_eq!(updated["earlyRenewalHours"], n(1.0));
    assert_eq!(updated["certPem"], decode(&olds)["certPem"]);

    let mut news = decode(&checked.inputs);
    news.insert(
        "subject".into(),
        PropertyValue::Object(PropertyMap::from([("commonName".into(), s("other root"))])),
    );
    let replace = c
        .diff(diff(Some(codec::encode_map(&news))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replace.replaces, vec!["subject"]);
    assert_eq!(
        replace.detailed_diff["subject.commonName"].kind,
        pb::property_diff::Kind::UpdateReplace as i32
    );

    // Inside the renewal window (48h validity, 48h early renewal), Diff alone replaces.
    let mut news = decode(&checked.inputs);
    news.insert("earlyRenewalHours".into(), n(48.0));
    let renew = c
        .diff(diff(Some(codec::encode_map(&news))))
        .await
        .unwrap()
        .into_inner();
    assert!(
        renew.replaces.contains(&"readyForRenewal".to_string()),
        "{renew:?}"
    );

    let read = c
        .read(pb::ReadRequest {
            id: created.id.clone(),
            urn: urn(SELF_SIGNED, "ca"),
            properties: olds.clone(),
            inputs: old_inputs.clone(),
            r#type: SELF_SIGNED.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.id, created.id);
    assert_eq!(decode(&read.properties), decode(&olds));
    assert_eq!(decode(&read.inputs), decode(&old_inputs));

    let import = c
        .read(pb::ReadRequest {
            id: created.id.clone(),
            urn: urn(SELF_SIGNED, "ca"),
            r#type: SELF_SIGNED.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(import.message().contains("cannot be imported"), "{import}");

    c.delete(pb::DeleteRequest {
        id: created.id.clone(),
        urn: urn(SELF_SIGNED, "ca"),
        properties: olds,
        r#type: SELF_SIGNED.into(),
        ..Default::default()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn invoke_functions_and_their_failures() {
    let mut c = start().await;
    let key = new_key(&mut c, "ED25519").await;
    let resp = c
        .invoke(pb::InvokeRequest {
            tok: "zerotrust:tls:getPublicKey".into(),
            args: props(vec![("privateKeyPem", key["privateKeyPem"].unsecret())]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.failures.is_empty(), "{:?}", resp.failures);
    let ret = decode(&resp.r#return);
    assert_eq!(ret["algorithm"], s("ED25519"));
    assert_eq!(
        ret["publicKeyFingerprintSha256"],
        key["publicKeyFingerprintSha256"]
    );
    // The private key the function echoes stays secret (the engine and SDKs do not re-mark
    // function results from the schema); what is derived from its public half does not.
    assert_eq!(ret["privateKeyPem"], key["privateKeyPem"]);
    assert!(ret["privateKeyPem"].contains_secrets());
    let secret: Vec<&String> = ret
        .iter()
        .filter(|(_, v)| v.contains_secrets())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(secret, vec!["privateKeyPem"]);

    let bad = c
        .invoke(pb::InvokeRequest {
            tok: "zerotrust:tls:getCertificate".into(),
            args: props(vec![("content", s("x")), ("url", s("tls://127.0.0.1:1"))]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bad.failures.len(), 1);
    assert_eq!(bad.failures[0].property, "url");

    let missing = c
        .invoke(pb::InvokeRequest {
            tok: "zerotrust:tls:nothing".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn unknown_types_are_not_found_and_cancel_is_prompt() {
    let mut c = start().await;
    let err = c
        .check(pb::CheckRequest {
            urn: urn("zerotrust:tls:Nope", "x"),
            r#type: "zerotrust:tls:Nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains(KEY), "lists what exists: {err}");

    tokio::time::timeout(Duration::from_secs(2), c.cancel(()))
        .await
        .expect("Cancel answers promptly")
        .unwrap();
    // The engine sends Cancel at the end of every session; an attached provider serves the
    // next session too, whose operations must run normally.
    for _ in 0..5 {
        let created = create(&mut c, KEY, props(vec![("algorithm", s("ECDSA"))]), false).await;
        assert!(created.is_ok(), "{created:?}");
    }
}

/// A fake engine that records Log calls.
#[derive(Default, Clone)]
struct FakeEngine(Arc<Mutex<Vec<pb::LogRequest>>>);

#[tonic::async_trait]
impl pb::engine_server::Engine for FakeEngine {
    async fn log(
        &self,
        request: tonic::Request<pb::LogRequest>,
    ) -> Result<tonic::Response<()>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(()))
    }
    async fn get_root_resource(
        &self,
        _: tonic::Request<pb::GetRootResourceRequest>,
    ) -> Result<tonic::Response<pb::GetRootResourceResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented(""))
    }
    async fn set_root_resource(
        &self,
        _: tonic::Request<pb::SetRootResourceRequest>,
    ) -> Result<tonic::Response<pb::SetRootResourceResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented(""))
    }
    async fn start_debugging(
        &self,
        _: tonic::Request<pb::StartDebuggingRequest>,
    ) -> Result<tonic::Response<()>, tonic::Status> {
        Err(tonic::Status::unimplemented(""))
    }
    async fn require_pulumi_version(
        &self,
        _: tonic::Request<pb::RequirePulumiVersionRequest>,
    ) -> Result<tonic::Response<pb::RequirePulumiVersionResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented(""))
    }
}

#[tokio::test]
async fn warnings_reach_the_engine_log_with_the_urn_and_no_secrets() {
    let engine = FakeEngine::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(pb::engine_server::EngineServer::new(engine.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let mut c = start().await;
    c.handshake(pb::ProviderHandshakeRequest {
        engine_address: address,
        ..Default::default()
    })
    .await
    .unwrap();

    // Sign with a "CA" certificate that is not a CA: upstream signs and warns; so do we.
    let key = new_key(&mut c, "ECDSA").await;
    let key_pem = secret_text(&key["privateKeyPem"]);
    let mut not_ca = decode(&ca_inputs(&key_pem));
    not_ca.insert("isCaCertificate".into(), PropertyValue::Bool(false));
    let fake_ca = create(&mut c, SELF_SIGNED, Some(codec::encode_map(&not_ca)), false)
        .await
        .unwrap();
    let csr = create(
        &mut c,
        CSR,
        props(vec![("privateKeyPem", PropertyValue::secret(s(&key_pem)))]),
        false,
    )
    .await
    .unwrap();
    let leaf_urn = urn(SIGNED, "leaf");
    let checked = check(
        &mut c,
        SIGNED,
        props(vec![
            (
                "certRequestPem",
                decode(&csr.properties)["certRequestPem"].clone(),
            ),
            ("caCertPem", decode(&fake_ca.properties)["certPem"].clone()),
            ("caPrivateKeyPem", PropertyValue::secret(s(&key_pem))),
            ("allowedUses", list(&["client_auth"])),
            ("validityPeriodHours", n(1.0)),
        ]),
    )
    .await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    c.create(pb::CreateRequest {
        urn: leaf_urn.clone(),
        properties: checked.inputs,
        r#type: SIGNED.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut logs = Vec::new();
    for _ in 0..50 {
        logs = engine.0.lock().unwrap().clone();
        if !logs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let warning = logs
        .iter()
        .find(|l| l.message.contains("not a CA"))
        .expect("warning logged to the engine");
    assert_eq!(warning.urn, leaf_urn);
    assert_eq!(warning.severity, pb::LogSeverity::Warning as i32);
    assert!(logs.iter().all(|l| !l.message.contains("PRIVATE KEY")));
}

#[test]
fn init_failed_detail_decodes_as_the_engine_expects() {
    let status = zerotrust::server::service::error_status(
        SIGNED,
        "leaf",
        "create",
        zerotrust::typed::ResourceError::InitFailed {
            id: "partial-1".into(),
            outputs: serde_json::json!({"created": true}),
            reasons: vec!["step two failed".into()],
        },
    );
    assert!(status.message().contains("create"), "{}", status.message());
    let details = zerotrust::protocol::google::rpc::Status::decode(status.details()).unwrap();
    assert_eq!(details.code, tonic::Code::Unknown as i32);
    assert_eq!(status.code(), tonic::Code::Unknown);
    let any = &details.details[0];
    assert_eq!(
        any.type_url,
        "type.googleapis.com/pulumirpc.ErrorResourceInitFailed"
    );
    let detail = pb::ErrorResourceInitFailed::decode(any.value.as_slice()).unwrap();
    assert_eq!(detail.id, "partial-1");
    assert_eq!(detail.reasons, vec!["step two failed".to_string()]);
    let props = codec::decode_struct(detail.properties.as_ref()).unwrap();
    assert_eq!(props["created"], PropertyValue::Bool(true));
}

#[tokio::test]
async fn diff_config_never_replaces_the_provider() {
    let mut c = start().await;
    let resp = c
        .diff_config(pb::DiffRequest {
            olds: props(vec![("defaultBackdateMinutes", s("5"))]),
            news: props(vec![
                ("defaultBackdateMinutes", n(10.0)),
                ("version", s("0.1.0")),
            ]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.diffs, vec!["defaultBackdateMinutes"]);
    assert!(resp.replaces.is_empty());
    let same = c
        .diff_config(pb::DiffRequest {
            olds: props(vec![("defaultBackdateMinutes", s("5"))]),
            news: props(vec![("defaultBackdateMinutes", n(5.0))]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        same.changes,
        pb::diff_response::DiffChanges::DiffNone as i32
    );
}

/// getCertificate with a url: a real TLS server on loopback presents a chain from our own CA.
#[tokio::test]
async fn get_certificate_fetches_a_loopback_chain_with_verification() {
    use zerotrust::pki;
    let now = time::OffsetDateTime::now_utc();
    let ca_key = pki::generate_key(pki::KeyAlgorithm::Ecdsa(pki::EcdsaCurve::P256)).unwrap();
    let ca_parsed = pki::parse_private_key(&ca_key.private_key_pem).unwrap();
    let mut ca_options = pki::IssueOptions::new(24, now);
    ca_options.is_ca = true;
    ca_options.set_subject_key_id = true;
    ca_options.allowed_uses = vec!["cert_signing".parse().unwrap()];
    let ca = pki::self_signed(
        &ca_parsed,
        &pki::CertSpec {
            subject: pki::Subject {
                common_name: Some("loopback test CA".into()),
                ..Default::default()
            },
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: false,
            options: ca_options,
        },
    )
    .unwrap();
    let leaf_key = pki::generate_key(pki::KeyAlgorithm::Ed25519).unwrap();
    let leaf_parsed = pki::parse_private_key(&leaf_key.private_key_pem).unwrap();
    let csr = pki::create_csr(
        &leaf_parsed,
        &pki::Subject::default(),
        &["localhost".into()],
        &["127.0.0.1".parse().unwrap()],
        &[],
    )
    .unwrap();
    let mut leaf_options = pki::IssueOptions::new(24, now);
    leaf_options.allowed_uses = vec!["server_auth".parse().unwrap()];
    let leaf = pki::locally_signed(&csr.csr_pem, &ca.cert_pem, &ca_parsed, &leaf_options).unwrap();

    let der = |pem_text: &str| pem::parse(pem_text).unwrap().contents().to_vec();
    let chain = vec![
        rustls_pki_types::CertificateDer::from(der(&leaf.cert_pem)),
        rustls_pki_types::CertificateDer::from(der(&ca.cert_pem)),
    ];
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(der(&leaf_key.private_key_pem_pkcs8).into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });

    let mut c = start().await;
    let url = format!("tls://127.0.0.1:{port}");
    let invoke = |verify: bool| pb::InvokeRequest {
        tok: "zerotrust:tls:getCertificate".into(),
        args: props(vec![
            ("url", s(&url)),
            ("verifyChain", PropertyValue::Bool(verify)),
        ]),
        ..Default::default()
    };
    // Unverified: the chain comes back root first, as pulumi-tls reports it.
    let resp = c.invoke(invoke(false)).await.unwrap().into_inner();
    let ret = decode(&resp.r#return);
    let PropertyValue::Array(certs) = &ret["certificates"] else {
        panic!("certificates is a list: {ret:?}")
    };
    assert_eq!(certs.len(), 2);
    let PropertyValue::Object(first) = &certs[0] else {
        panic!("object")
    };
    assert_eq!(first["isCa"], PropertyValue::Bool(true));
    assert_eq!(first["subject"], s("CN=loopback test CA"));
    // Verified against the default roots: our private CA is not trusted, so the call fails.
    let err = c.invoke(invoke(true)).await.unwrap_err();
    assert!(err.message().contains("TLS handshake"), "{err}");
}

const K8S_SECRET: &str = "zerotrust:kubernetes/core/v1:Secret";
const K8S_NS: &str = "zerotrust:kubernetes/core/v1:Namespace";
const K8S_NETPOL: &str = "zerotrust:kubernetes/networking/v1:NetworkPolicy";
const K8S_PEER: &str = "zerotrust:kubernetes/istio/security/v1:PeerAuthentication";

fn obj(pairs: Vec<(&str, PropertyValue)>) -> PropertyValue {
    PropertyValue::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

#[tokio::test]
async fn kubernetes_bad_input_is_rejected_by_check_without_a_cluster() {
    let mut c = start().await;
    let bad_secret = check(
        &mut c,
        K8S_SECRET,
        props(vec![
            (
                "metadata",
                obj(vec![("name", s("Not_Valid")), ("namespace", s("ML"))]),
            ),
            ("type", s("kubernetes.io/tls")),
            (
                "stringData",
                PropertyValue::secret(obj(vec![("tls.crt", s("plain text"))])),
            ),
        ]),
    )
    .await;
    let paths: Vec<&str> = bad_secret
        .failures
        .iter()
        .map(|f| f.property.as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "metadata.name",
            "metadata.namespace",
            "type",
            "stringData[\"tls.crt\"]"
        ]
    );
    assert!(
        bad_secret
            .failures
            .iter()
            .all(|f| !f.reason.contains("plain text"))
    );

    let ns = check(
        &mut c,
        K8S_NS,
        props(vec![("metadata", obj(vec![("namespace", s("x"))]))]),
    )
    .await;
    assert_eq!(ns.failures.len(), 1, "{:?}", ns.failures);
    assert_eq!(ns.failures[0].property, "metadata.namespace");

    let netpol = check(
        &mut c,
        K8S_NETPOL,
        props(vec![(
            "spec",
            obj(vec![(
                "podSelector",
                obj(vec![(
                    "matchExpressions",
                    PropertyValue::Array(vec![obj(vec![
                        ("key", s("app")),
                        ("operator", s("Near")),
                    ])]),
                )]),
            )]),
        )]),
    )
    .await;
    assert_eq!(
        netpol
            .failures
            .iter()
            .map(|f| f.property.as_str())
            .collect::<Vec<_>>(),
        vec!["spec.podSelector.matchExpressions[0].operator"]
    );

    let peer = check(
        &mut c,
        K8S_PEER,
        props(vec![(
            "spec",
            obj(vec![("mtls", obj(vec![("mode", s("MOSTLY"))]))]),
        )]),
    )
    .await;
    assert_eq!(peer.failures[0].property, "spec.mtls.mode");
    assert!(peer.failures[0].reason.contains("STRICT"));
}

#[tokio::test]
async fn kubernetes_names_are_generated_from_the_seed_and_kept() {
    let mut c = start().await;
    let first = c
        .check(pb::CheckRequest {
            urn: urn(K8S_SECRET, "tls"),
            news: props(vec![("type", s("Opaque"))]),
            random_seed: vec![1, 2, 3],
            r#type: K8S_SECRET.into(),
            name: "tls".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    let PropertyValue::Object(meta) = &decode(&first.inputs)["metadata"] else {
        panic!("metadata filled in")
    };
    let PropertyValue::String(name) = &meta["name"] else {
        panic!("name generated")
    };
    assert!(name.starts_with("tls-") && name.len() == 12, "{name}");
    // On update the old name is kept even with another seed.
    let again = c
        .check(pb::CheckRequest {
            urn: urn(K8S_SECRET, "tls"),
            olds: first.inputs.clone(),
            news: props(vec![("type", s("Opaque"))]),
            random_seed: vec![9, 9, 9],
            r#type: K8S_SECRET.into(),
            name: "tls".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        decode(&again.inputs)["metadata"],
        decode(&first.inputs)["metadata"]
    );
}

#[tokio::test]
async fn kubernetes_secret_data_stays_secret_and_name_changes_replace() {
    let mut c = start().await;
    let checked = check(
        &mut c,
        K8S_SECRET,
        props(vec![
            (
                "metadata",
                obj(vec![
                    ("name", s("a")),
                    ("labels", obj(vec![("team", s("x"))])),
                ]),
            ),
            ("data", obj(vec![("k", s("dg=="))])),
        ]),
    )
    .await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let inputs = decode(&checked.inputs);
    assert!(
        matches!(inputs["data"], PropertyValue::Secret(_)),
        "schema-secret field wrapped"
    );

    let mut relabeled = inputs.clone();
    relabeled.insert(
        "metadata".into(),
        obj(vec![
            ("name", s("a")),
            ("labels", obj(vec![("team", s("y"))])),
        ]),
    );
    let mut renamed = inputs.clone();
    renamed.insert(
        "metadata".into(),
        obj(vec![
            ("name", s("b")),
            ("labels", obj(vec![("team", s("x"))])),
        ]),
    );
    let diff = |news: &PropertyMap| pb::DiffRequest {
        id: "default/a".into(),
        urn: urn(K8S_SECRET, "r"),
        olds: checked.inputs.clone(),
        old_inputs: checked.inputs.clone(),
        news: Some(codec::encode_map(news)),
        r#type: K8S_SECRET.into(),
        ..Default::default()
    };
    let update = c.diff(diff(&relabeled)).await.unwrap().into_inner();
    assert!(update.replaces.is_empty(), "{update:?}");
    assert!(update.detailed_diff.contains_key("metadata.labels.team"));
    let replace = c.diff(diff(&renamed)).await.unwrap().into_inner();
    assert_eq!(replace.replaces, vec!["metadata"]);
    assert_eq!(
        replace.detailed_diff["metadata.name"].kind,
        pb::property_diff::Kind::UpdateReplace as i32
    );
}

#[tokio::test]
async fn kubernetes_same_name_replacement_deletes_first_and_compares_inputs() {
    let mut c = start().await;
    let old_inputs = check(
        &mut c,
        K8S_SECRET,
        props(vec![
            (
                "metadata",
                obj(vec![("name", s("creds")), ("namespace", s("ml"))]),
            ),
            ("type", s("Opaque")),
            ("immutable", PropertyValue::Bool(true)),
            (
                "stringData",
                PropertyValue::secret(obj(vec![("token", s("t"))])),
            ),
        ]),
    )
    .await;
    assert!(old_inputs.failures.is_empty(), "{:?}", old_inputs.failures);
    // Outputs in the server's shape: base64 data, no stringData, server metadata.
    let live_outputs = props(vec![
        (
            "metadata",
            obj(vec![
                ("name", s("creds")),
                ("namespace", s("ml")),
                ("uid", s("u-1")),
            ]),
        ),
        ("type", s("Opaque")),
        ("immutable", PropertyValue::Bool(true)),
        (
            "data",
            PropertyValue::secret(obj(vec![("token", s("dA=="))])),
        ),
    ]);
    let diff = |news: Option<Struct>| pb::DiffRequest {
        id: "ml/creds".into(),
        urn: urn(K8S_SECRET, "creds"),
        olds: live_outputs.clone(),
        old_inputs: old_inputs.inputs.clone(),
        news,
        r#type: K8S_SECRET.into(),
        ..Default::default()
    };
    // Unchanged immutable stringData is not a change, although outputs only have `data`.
    let same = c
        .diff(diff(old_inputs.inputs.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        same.changes,
        pb::diff_response::DiffChanges::DiffNone as i32,
        "{same:?}"
    );

    // A type change keeps the name: the old Secret must go first.
    let mut retyped = decode(&old_inputs.inputs);
    retyped.insert("type".into(), s("kubernetes.io/basic-auth"));
    retyped.insert(
        "stringData".into(),
        PropertyValue::secret(obj(vec![("username", s("u"))])),
    );
    let replace = c
        .diff(diff(Some(codec::encode_map(&retyped))))
        .await
        .unwrap()
        .into_inner();
    assert!(
        replace.replaces.contains(&"type".to_string()),
        "{replace:?}"
    );
    assert!(replace.delete_before_replace);

    // A rename can create the new object before deleting the old one.
    let mut renamed = decode(&old_inputs.inputs);
    renamed.insert(
        "metadata".into(),
        obj(vec![("name", s("creds-2")), ("namespace", s("ml"))]),
    );
    let rename = c
        .diff(diff(Some(codec::encode_map(&renamed))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rename.replaces, vec!["metadata"]);
    assert!(!rename.delete_before_replace);
}

/// Where upstream reads an empty optional input as unset (aws and vault), Check drops it, and
/// an old state that still holds it diffs as no change; upstream's exceptions keep theirs; tls
/// keeps "" as the value it is.
#[tokio::test]
async fn empty_optional_inputs_read_as_upstream_reads_them() {
    let mut c = start().await;
    let empty_list = || PropertyValue::Array(vec![]);
    let secret_empty = || PropertyValue::Secret(Box::new(s("")));

    let mount = "zerotrust:vault:Mount";
    let checked = check(
        &mut c,
        mount,
        props(vec![
            ("path", s("pki")),
            ("type", s("pki")),
            ("description", s("")),
            ("namespace", secret_empty()),
            ("options", PropertyValue::Object(PropertyMap::new())),
        ]),
    )
    .await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let inputs = decode(&checked.inputs);
    let names: Vec<&str> = inputs.keys().map(String::as_str).collect();
    assert_eq!(names, ["path", "type"]);

    // State from before still holds description "": against the checked inputs, no change.
    let mut old = inputs.clone();
    old.insert("description".into(), s(""));
    let diff = c
        .diff(pb::DiffRequest {
            id: "pki".into(),
            urn: urn(mount, "r"),
            olds: Some(codec::encode_map(&old)),
            old_inputs: Some(codec::encode_map(&old)),
            news: checked.inputs.clone(),
            r#type: mount.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        diff.changes,
        pb::diff_response::DiffChanges::DiffNone as i32,
        "{diff:?}"
    );

    // Upstream's exceptions: an empty zone comment and an empty key usage list are values.
    let zone = check(
        &mut c,
        "zerotrust:aws/route53:Zone",
        props(vec![
            ("name", s("example.com")),
            ("comment", s("")),
            ("delegationSetId", s("")),
        ]),
    )
    .await;
    assert!(zone.failures.is_empty(), "{:?}", zone.failures);
    let zone = decode(&zone.inputs);
    assert_eq!(zone.get("comment"), Some(&s("")));
    assert!(!zone.contains_key("delegationSetId"));
    let role = check(
        &mut c,
        "zerotrust:vault/pkiSecret:SecretBackendRole",
        props(vec![
            ("backend", s("pki")),
            ("name", s("svc")),
            ("keyUsages", empty_list()),
            ("allowedDomains", empty_list()),
        ]),
    )
    .await;
    assert!(role.failures.is_empty(), "{:?}", role.failures);
    let role = decode(&role.inputs);
    assert_eq!(role.get("keyUsages"), Some(&empty_list()));
    assert!(!role.contains_key("allowedDomains"));

    // A required input is not dropped: its own checks judge it.
    let bad = check(
        &mut c,
        mount,
        props(vec![("path", s("")), ("type", s("pki"))]),
    )
    .await;
    assert!(
        bad.failures.iter().any(|f| f.property == "path"),
        "{:?}",
        bad.failures
    );

    // tls keeps "" as a value.
    let key = check(
        &mut c,
        KEY,
        props(vec![("algorithm", s("ECDSA")), ("ecdsaCurve", s(""))]),
    )
    .await;
    assert!(
        key.failures.iter().any(|f| f.property == "ecdsaCurve"),
        "{:?}",
        key.failures
    );
}
