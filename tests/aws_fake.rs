//! ACM Private CA behaviour that the moto end-to-end tests cannot show, against a scripted fake
//! of AWS's JSON API (tests/support/acmpca_fake.rs) and the real provider gRPC service.
//!
//! moto answers every call at once and correctly: it never says RequestInProgressException or
//! ThrottlingException, it ignores key and signing algorithms and validity (always RSA-2048 and
//! 365 days). So the waiters, the retry policy, the timeout and Cancel bounds, the request fields
//! moto ignores, `Permission`'s requests, and the order of calls on destroy and restore are
//! asserted here, where the answers are scripted.

#[path = "support/acmpca_fake.rs"]
mod acmpca_fake;

use acmpca_fake::{FakeAcmPca, Reply};
use base64::Engine as _;
use prost::Message;
use prost_types::Struct;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;
use zerotrust::codec::{self, typed_json};
use zerotrust::protocol::pulumirpc as pb;
use zerotrust::protocol::pulumirpc::resource_provider_client::ResourceProviderClient;

type Client = ResourceProviderClient<Channel>;

const CA: &str = "zerotrust:aws/acmpca:CertificateAuthority";
const CERT: &str = "zerotrust:aws/acmpca:Certificate";
const PERMISSION: &str = "zerotrust:aws/acmpca:Permission";
const CA_ARN: &str = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const TEMPLATE: &str = "arn:aws:acm-pca:::template/EndEntityCertificate/V1";
const IN_PROGRESS: &str = "RequestInProgressException";
/// A generous bound for "ended promptly": timings belong in benchmarks, hangs here.
const PROMPT: Duration = Duration::from_secs(30);

fn cert_arn() -> String {
    format!("{CA_ARN}/certificate/7d3c0e5b9a1f2e4d6c8b0a9f1e3d5c7b")
}

// ---- the provider, configured for the fake ----

async fn provider(fake: &FakeAcmPca, max_retries: Option<u32>) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(zerotrust::server::service::serve(
        Arc::new(zerotrust::modules::provider()),
        listener,
        std::future::pending(),
    ));
    let mut client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut aws = json!({
        "region": "us-east-1",
        "accessKey": "test",
        "secretKey": "test",
        "endpoints": {"acmpca": fake.url()},
    });
    // Stack config reaches the provider as JSON text; an explicit provider passes an object.
    // Both forms are accepted: use the text form when retries are configured, the object form
    // otherwise.
    let aws = match max_retries {
        Some(n) => {
            aws["maxRetries"] = json!(n);
            codec::PropertyValue::string(aws.to_string())
        }
        None => typed_json::json_to_value(&aws),
    };
    client
        .configure(pb::ConfigureRequest {
            args: Some(codec::encode_map(&[("aws".to_string(), aws)].into())),
            accept_secrets: true,
            accept_resources: true,
            ..Default::default()
        })
        .await
        .expect("Configure accepts the aws settings");
    client
}

fn to_struct(j: &Json) -> Option<Struct> {
    Some(codec::encode_map(
        &typed_json::json_to_map(j).expect("an object"),
    ))
}

/// Properties as plain JSON (secret wrappers dropped).
fn to_json(s: &Option<Struct>) -> Json {
    typed_json::map_to_json(&codec::decode_struct(s.as_ref()).unwrap()).0
}

fn urn(token: &str, name: &str) -> String {
    format!("urn:pulumi:test::proj::{token}::{name}")
}

/// Check `inputs` as the engine would and return the checked inputs.
async fn checked(c: &mut Client, token: &str, name: &str, inputs: &Json) -> Option<Struct> {
    let resp = c
        .check(pb::CheckRequest {
            urn: urn(token, name),
            olds: Some(Struct::default()),
            news: to_struct(inputs),
            r#type: token.into(),
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.failures.is_empty(), "{:?}", resp.failures);
    resp.inputs
}

/// Check and create, with a custom create timeout in seconds; fails the test on a hang.
async fn create(
    c: &mut Client,
    token: &str,
    name: &str,
    inputs: &Json,
    timeout: f64,
) -> Result<pb::CreateResponse, tonic::Status> {
    let properties = checked(c, token, name, inputs).await;
    let request = pb::CreateRequest {
        urn: urn(token, name),
        properties,
        r#type: token.into(),
        name: name.into(),
        timeout,
        ..Default::default()
    };
    tokio::time::timeout(PROMPT, c.create(request))
        .await
        .expect("create ended")
        .map(|r| r.into_inner())
}

async fn delete(
    c: &mut Client,
    token: &str,
    id: &str,
    outputs: &Json,
) -> Result<(), tonic::Status> {
    let request = pb::DeleteRequest {
        id: id.into(),
        urn: urn(token, "r"),
        properties: to_struct(outputs),
        r#type: token.into(),
        name: "r".into(),
        timeout: 20.0,
        ..Default::default()
    };
    tokio::time::timeout(PROMPT, c.delete(request))
        .await
        .expect("delete ended")
        .map(|_| ())
}

async fn read(
    c: &mut Client,
    token: &str,
    id: &str,
    inputs: &Json,
    outputs: &Json,
) -> pb::ReadResponse {
    let request = pb::ReadRequest {
        id: id.into(),
        urn: urn(token, "r"),
        properties: to_struct(outputs),
        inputs: to_struct(inputs),
        r#type: token.into(),
        name: "r".into(),
        timeout: 20.0,
        ..Default::default()
    };
    tokio::time::timeout(PROMPT, c.read(request))
        .await
        .expect("read ended")
        .expect("read succeeds")
        .into_inner()
}

/// The ErrorResourceInitFailed detail of a failed create, as the engine decodes it.
struct InitFailed {
    id: String,
    reasons: Vec<String>,
    properties: Json,
}

fn init_failed(status: &tonic::Status) -> Option<InitFailed> {
    let details = zerotrust::protocol::google::rpc::Status::decode(status.details()).ok()?;
    let any = details
        .details
        .iter()
        .find(|a| a.type_url == "type.googleapis.com/pulumirpc.ErrorResourceInitFailed")?;
    let detail = pb::ErrorResourceInitFailed::decode(any.value.as_slice()).ok()?;
    Some(InitFailed {
        id: detail.id,
        reasons: detail.reasons,
        properties: to_json(&detail.properties),
    })
}

// ---- PEM material and scripted answers ----

/// A real certificate (self-signed, P-256) to hand out as AWS's answer.
fn certificate_pem(name: &str) -> String {
    rcgen::generate_simple_self_signed(vec![name.to_string()])
        .unwrap()
        .cert
        .pem()
}

fn csr_pem(name: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap()
}

fn certificate_inputs(csr: &str) -> Json {
    json!({
        "certificateAuthorityArn": CA_ARN,
        "certificateSigningRequest": csr,
        "signingAlgorithm": "SHA384WITHECDSA",
        "validity": {"type": "DAYS", "value": "30"},
        "templateArn": TEMPLATE,
    })
}

fn ca_inputs() -> Json {
    json!({
        "certificateAuthorityConfiguration": {
            "keyAlgorithm": "EC_prime256v1",
            "signingAlgorithm": "SHA256WITHECDSA",
            "subject": {"commonName": "ml root", "organization": "ml", "country": "NL"},
        },
        "type": "ROOT",
        "usageMode": "SHORT_LIVED_CERTIFICATE",
        "keyStorageSecurityStandard": "FIPS_140_2_LEVEL_3_OR_HIGHER",
        "permanentDeletionTimeInDays": 7,
        "revocationConfiguration": {
            "crlConfiguration": {
                "enabled": true,
                "expirationInDays": 7,
                "s3BucketName": "ml-crl",
                "s3ObjectAcl": "BUCKET_OWNER_FULL_CONTROL",
            },
            "ocspConfiguration": {"enabled": true, "ocspCustomCname": "ocsp.ml.example"},
        },
        "tags": {"team": "ml", "env": "test"},
    })
}

fn issued() -> Reply {
    Reply::ok(json!({"CertificateArn": cert_arn()}))
}

fn in_progress() -> Reply {
    Reply::error(IN_PROGRESS, "The request is still being processed")
}

/// DescribeCertificateAuthority's answer for the CA of `ca_inputs` in `status`.
fn described(status: &str) -> Json {
    json!({"CertificateAuthority": {
        "Arn": CA_ARN,
        "OwnerAccount": "123456789012",
        "CreatedAt": 1_767_225_600.0,
        "LastStateChangeAt": 1_767_225_600.0,
        "Type": "ROOT",
        "Status": status,
        "CertificateAuthorityConfiguration": {
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "ml root", "Organization": "ml", "Country": "NL"},
        },
        "KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_3_OR_HIGHER",
        "UsageMode": "SHORT_LIVED_CERTIFICATE",
    }})
}

/// Script one `describe` of the CA: DescribeCertificateAuthority, its CSR, its certificate
/// once installed, its tags.
fn script_describe(fake: &FakeAcmPca, status: &str, ca_certificate: &str) {
    fake.then("DescribeCertificateAuthority", Reply::ok(described(status)));
    fake.then(
        "GetCertificateAuthorityCsr",
        Reply::ok(json!({"Csr": csr_pem("ml root")})),
    );
    if matches!(status, "ACTIVE" | "DISABLED" | "EXPIRED") {
        fake.then(
            "GetCertificateAuthorityCertificate",
            Reply::ok(json!({"Certificate": ca_certificate})),
        );
    }
    fake.then(
        "ListTags",
        Reply::ok(
            json!({"Tags": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "ml"}]}),
        ),
    );
}

/// Create the CA of `ca_inputs` through the fake (answers scripted here) and forget the calls.
async fn created_ca(c: &mut Client, fake: &FakeAcmPca) -> Json {
    fake.then(
        "CreateCertificateAuthority",
        Reply::ok(json!({"CertificateAuthorityArn": CA_ARN})),
    );
    script_describe(fake, "PENDING_CERTIFICATE", "");
    let created = create(c, CA, "r", &ca_inputs(), 60.0).await.unwrap();
    assert_eq!(created.id, CA_ARN);
    fake.clear_calls();
    to_json(&created.properties)
}

fn no_violations(fake: &FakeAcmPca) {
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

// ---- the tests ----

/// Issuance is asynchronous: GetCertificate says RequestInProgressException until the
/// certificate is ready, and create waits through it.
#[tokio::test]
async fn certificate_create_waits_through_request_in_progress() {
    let fake = FakeAcmPca::start().await;
    let pem = certificate_pem("svc.ml.internal");
    let chain = certificate_pem("ml root");
    fake.then("IssueCertificate", issued())
        .times("GetCertificate", 3, in_progress())
        .then(
            "GetCertificate",
            Reply::ok(json!({"Certificate": pem, "CertificateChain": chain})),
        );
    let mut c = provider(&fake, None).await;
    let created = create(
        &mut c,
        CERT,
        "r",
        &certificate_inputs(&csr_pem("svc")),
        60.0,
    )
    .await
    .expect("create succeeds once the certificate is ready");

    assert_eq!(created.id, cert_arn());
    let out = to_json(&created.properties);
    assert_eq!(out["certificate"], json!(pem));
    assert_eq!(out["certificateChain"], json!(chain));
    assert_eq!(out["arn"], json!(cert_arn()));
    let mut expected = vec!["IssueCertificate".to_string()];
    expected.extend(std::iter::repeat_n("GetCertificate".to_string(), 4));
    assert_eq!(fake.operations(), expected);
    for body in fake.bodies("GetCertificate") {
        assert_eq!(
            body,
            json!({"CertificateAuthorityArn": CA_ARN, "CertificateArn": cert_arn()})
        );
    }
    no_violations(&fake);
}

/// A certificate that never becomes ready fails the create at the resource's timeout, as an
/// init failure that keeps the issued certificate's ARN in state (so destroy can revoke it).
#[tokio::test]
async fn certificate_wait_is_bounded_by_the_create_timeout_and_keeps_the_arn() {
    let fake = FakeAcmPca::start().await;
    fake.then("IssueCertificate", issued())
        .always("GetCertificate", in_progress());
    let mut c = provider(&fake, None).await;
    // `create` guards against a hang; what matters is why it stopped: the resource's timeout.
    let err = create(&mut c, CERT, "r", &certificate_inputs(&csr_pem("svc")), 2.0)
        .await
        .expect_err("the certificate never became ready");

    let detail = init_failed(&err).unwrap_or_else(|| panic!("no init-failed detail: {err:?}"));
    assert_eq!(detail.id, cert_arn(), "the issued certificate is kept");
    assert_eq!(detail.properties["arn"], json!(cert_arn()));
    let reasons = detail.reasons.join("; ");
    assert!(reasons.contains("GetCertificate"), "{reasons}");
    assert!(reasons.contains(IN_PROGRESS), "{reasons}");
    assert!(reasons.contains("the resource's timeout"), "{reasons}");
    assert!(err.message().contains(IN_PROGRESS), "{}", err.message());
    assert!(
        fake.count("GetCertificate") >= 2,
        "waited with retries, not one attempt"
    );
    no_violations(&fake);
}

/// The same, when the last GetCertificate is still unanswered as the timeout arrives: the
/// provider must stop waiting for it in time to report the certificate it issued.
#[tokio::test]
async fn an_answer_still_in_flight_at_the_timeout_does_not_lose_the_arn() {
    let fake = FakeAcmPca::start().await;
    fake.then("IssueCertificate", issued()).always(
        "GetCertificate",
        in_progress().after(Duration::from_millis(1500)),
    );
    let mut c = provider(&fake, None).await;
    let err = create(&mut c, CERT, "r", &certificate_inputs(&csr_pem("svc")), 2.0)
        .await
        .expect_err("the certificate never became ready");
    let detail = init_failed(&err).unwrap_or_else(|| panic!("no init-failed detail: {err:?}"));
    assert_eq!(detail.id, cert_arn(), "the issued certificate is kept");
    let reasons = detail.reasons.join("; ");
    assert!(reasons.contains("GetCertificate"), "{reasons}");
    // What AWS said last is reported, not just that time ran out.
    assert!(reasons.contains(IN_PROGRESS), "{reasons}");
}

/// Throttling is retried with backoff; every retry is the same request (same idempotency token).
#[tokio::test]
async fn throttled_ca_create_is_retried_until_it_succeeds() {
    let fake = FakeAcmPca::start().await;
    fake.times(
        "CreateCertificateAuthority",
        2,
        Reply::error("ThrottlingException", "Rate exceeded"),
    );
    fake.then(
        "CreateCertificateAuthority",
        Reply::ok(json!({"CertificateAuthorityArn": CA_ARN})),
    );
    script_describe(&fake, "PENDING_CERTIFICATE", "");
    let mut c = provider(&fake, None).await;
    let created = create(&mut c, CA, "r", &ca_inputs(), 60.0)
        .await
        .expect("created after two throttled attempts");
    assert_eq!(created.id, CA_ARN);
    let out = to_json(&created.properties);
    assert_eq!(out["arn"], json!(CA_ARN));
    assert_eq!(out["status"], json!("PENDING_CERTIFICATE"));
    let attempts = fake.bodies("CreateCertificateAuthority");
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts.iter().all(|b| b == &attempts[0]),
        "retries resend the same request: {attempts:?}"
    );
    no_violations(&fake);
}

/// Throttling that never stops gives up after `maxRetries` retries, naming operation and code.
#[tokio::test]
async fn endless_throttling_stops_after_max_retries() {
    let fake = FakeAcmPca::start().await;
    fake.always(
        "CreateCertificateAuthority",
        Reply::error("ThrottlingException", "Rate exceeded"),
    );
    let mut c = provider(&fake, Some(2)).await;
    let err = create(&mut c, CA, "r", &ca_inputs(), 600.0)
        .await
        .expect_err("throttled every time");
    assert_eq!(
        fake.count("CreateCertificateAuthority"),
        3,
        "1 attempt + 2 retries"
    );
    assert_eq!(fake.operations().len(), 3, "{:?}", fake.operations());
    let message = err.message();
    assert!(message.contains("CreateCertificateAuthority"), "{message}");
    assert!(message.contains("ThrottlingException"), "{message}");
    assert!(message.contains(CA), "{message}");
    assert!(init_failed(&err).is_none(), "nothing was created");
    no_violations(&fake);
}

/// A definite refusal is reported at once, naming resource type, operation and AWS's code.
#[tokio::test]
async fn refused_calls_are_not_retried() {
    let fake = FakeAcmPca::start().await;
    fake.then(
        "IssueCertificate",
        Reply::error("ResourceNotFoundException", "Could not find CA"),
    );
    let mut c = provider(&fake, None).await;
    let err = create(
        &mut c,
        CERT,
        "r",
        &certificate_inputs(&csr_pem("svc")),
        600.0,
    )
    .await
    .expect_err("refused");
    assert_eq!(fake.operations(), vec!["IssueCertificate"]);
    let message = err.message();
    for part in [
        CERT,
        "IssueCertificate",
        "ResourceNotFoundException",
        "Could not find CA",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }

    fake.clear_calls();
    fake.then(
        "CreateCertificateAuthority",
        Reply::error("InvalidArgsException", "Subject is invalid"),
    );
    let err = create(&mut c, CA, "r", &ca_inputs(), 600.0)
        .await
        .expect_err("refused");
    assert_eq!(fake.operations(), vec!["CreateCertificateAuthority"]);
    let message = err.message();
    for part in [CA, "CreateCertificateAuthority", "InvalidArgsException"] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
    no_violations(&fake);
}

/// What moto ignores reaches AWS exactly as given: the CA's algorithms, subject, type, usage
/// mode, key storage, revocation and tags; a certificate's signing algorithm, validity and
/// template; an idempotency token per create.
#[tokio::test]
async fn requests_carry_the_fields_moto_ignores() {
    let fake = FakeAcmPca::start().await;
    let mut c = provider(&fake, None).await;
    fake.then(
        "CreateCertificateAuthority",
        Reply::ok(json!({"CertificateAuthorityArn": CA_ARN})),
    );
    script_describe(&fake, "PENDING_CERTIFICATE", "");
    create(&mut c, CA, "r", &ca_inputs(), 60.0).await.unwrap();
    let mut body = fake.bodies("CreateCertificateAuthority").remove(0);
    let token = body
        .as_object_mut()
        .and_then(|b| b.remove("IdempotencyToken"))
        .expect("an idempotency token");
    assert!(
        token.as_str().is_some_and(
            |t| (1..=36).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric())
        ),
        "{token}"
    );
    assert_eq!(
        body,
        json!({
            "CertificateAuthorityConfiguration": {
                "KeyAlgorithm": "EC_prime256v1",
                "SigningAlgorithm": "SHA256WITHECDSA",
                "Subject": {"CommonName": "ml root", "Organization": "ml", "Country": "NL"},
            },
            "CertificateAuthorityType": "ROOT",
            "UsageMode": "SHORT_LIVED_CERTIFICATE",
            "KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_3_OR_HIGHER",
            "RevocationConfiguration": {
                "CrlConfiguration": {
                    "Enabled": true,
                    "ExpirationInDays": 7,
                    "S3BucketName": "ml-crl",
                    "S3ObjectAcl": "BUCKET_OWNER_FULL_CONTROL",
                },
                "OcspConfiguration": {"Enabled": true, "OcspCustomCname": "ocsp.ml.example"},
            },
            "Tags": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "ml"}],
        })
    );

    let csr = csr_pem("svc");
    let inputs = certificate_inputs(&csr);
    let ready = Reply::ok(json!({"Certificate": certificate_pem("svc"), "CertificateChain": ""}));
    for name in ["a", "a", "b"] {
        fake.then("IssueCertificate", issued());
        fake.then("GetCertificate", ready.clone());
        create(&mut c, CERT, name, &inputs, 60.0).await.unwrap();
    }
    let mut longer = inputs.clone();
    longer["validity"]["value"] = json!("31");
    fake.then("IssueCertificate", issued());
    fake.then("GetCertificate", ready);
    create(&mut c, CERT, "a", &longer, 60.0).await.unwrap();

    let issues = fake.bodies("IssueCertificate");
    assert_eq!(issues.len(), 4);
    let sent_csr = base64::engine::general_purpose::STANDARD
        .decode(issues[0]["Csr"].as_str().expect("the CSR, base64"))
        .unwrap();
    assert_eq!(String::from_utf8(sent_csr).unwrap().trim(), csr.trim());
    assert_eq!(issues[0]["CertificateAuthorityArn"], json!(CA_ARN));
    assert_eq!(issues[0]["SigningAlgorithm"], json!("SHA384WITHECDSA"));
    assert_eq!(issues[0]["Validity"], json!({"Type": "DAYS", "Value": 30}));
    assert_eq!(issues[0]["TemplateArn"], json!(TEMPLATE));
    assert_eq!(issues[3]["Validity"], json!({"Type": "DAYS", "Value": 31}));
    let tokens: Vec<&Json> = issues.iter().map(|b| &b["IdempotencyToken"]).collect();
    assert!(tokens[0].is_string());
    // Each create draws its own token (retries inside one create repeat it, see the throttling
    // test): a replacement with the same inputs must not get the old certificate back.
    assert_ne!(
        tokens[0], tokens[1],
        "a second create of the same resource: another token"
    );
    assert_ne!(tokens[0], tokens[2], "another resource: another token");
    assert_ne!(tokens[0], tokens[3], "changed inputs: another token");
    no_violations(&fake);
}

/// `Permission`'s calls (Create/List/DeletePermission) and their fields, against the scripted
/// fake; moto runs upstream's Permission example in the compatibility corpus.
#[tokio::test]
async fn permission_lifecycle_against_the_fake() {
    let fake = FakeAcmPca::start().await;
    let mut c = provider(&fake, None).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let live = json!({
        "CertificateAuthorityArn": CA_ARN,
        "Principal": "acm.amazonaws.com",
        "Actions": ["IssueCertificate", "GetCertificate", "ListPermissions"],
        "SourceAccount": "123456789012",
        "Policy": policy,
        "CreatedAt": 1_767_225_600.0,
    });
    fake.then("CreatePermission", Reply::ok(json!({})))
        // The permission is on the second page.
        .then(
            "ListPermissions",
            Reply::ok(json!({"Permissions": [], "NextToken": "page-2"})),
        )
        .then("ListPermissions", Reply::ok(json!({"Permissions": [live]})));
    let inputs = json!({
        "certificateAuthorityArn": CA_ARN,
        "actions": ["IssueCertificate", "GetCertificate", "ListPermissions"],
        "principal": "acm.amazonaws.com",
        "sourceAccount": "123456789012",
    });
    let created = create(&mut c, PERMISSION, "r", &inputs, 60.0)
        .await
        .unwrap();
    let id = format!("{CA_ARN},acm.amazonaws.com");
    assert_eq!(created.id, id);
    let outputs = to_json(&created.properties);
    assert_eq!(outputs["policy"], json!(policy));
    assert_eq!(
        fake.operations(),
        vec!["CreatePermission", "ListPermissions", "ListPermissions"]
    );
    assert_eq!(
        fake.bodies("CreatePermission")[0],
        json!({
            "CertificateAuthorityArn": CA_ARN,
            "Principal": "acm.amazonaws.com",
            "Actions": ["GetCertificate", "IssueCertificate", "ListPermissions"],
            "SourceAccount": "123456789012",
        })
    );
    assert_eq!(
        fake.bodies("ListPermissions"),
        vec![
            json!({"CertificateAuthorityArn": CA_ARN}),
            json!({"CertificateAuthorityArn": CA_ARN, "NextToken": "page-2"}),
        ]
    );

    // Refresh: no permission for the principal any more, so the resource is gone.
    fake.clear_calls();
    fake.then("ListPermissions", Reply::ok(json!({"Permissions": []})));
    let gone = read(&mut c, PERMISSION, &id, &inputs, &outputs).await;
    assert_eq!(
        gone.id, "",
        "an empty id tells the engine the permission is gone"
    );
    assert_eq!(fake.operations(), vec!["ListPermissions"]);

    // Destroy: DeletePermission for the same principal (and account).
    fake.clear_calls();
    fake.then("DeletePermission", Reply::ok(json!({})));
    delete(&mut c, PERMISSION, &id, &outputs).await.unwrap();
    assert_eq!(
        fake.bodies("DeletePermission"),
        vec![json!({
            "CertificateAuthorityArn": CA_ARN,
            "Principal": "acm.amazonaws.com",
            "SourceAccount": "123456789012",
        })]
    );

    // Destroy of a permission already removed out of band succeeds, without retrying.
    fake.clear_calls();
    fake.then(
        "DeletePermission",
        Reply::error("ResourceNotFoundException", "No such permission"),
    );
    delete(&mut c, PERMISSION, &id, &outputs)
        .await
        .expect("already gone counts as deleted");
    assert_eq!(fake.operations(), vec!["DeletePermission"]);
    no_violations(&fake);
}

/// AWS deletes only CAs that are not ACTIVE: destroy disables an active CA first, then deletes
/// it with the configured restore window.
#[tokio::test]
async fn destroying_an_active_ca_disables_then_deletes_it() {
    let fake = FakeAcmPca::start().await;
    let mut c = provider(&fake, None).await;
    let outputs = created_ca(&mut c, &fake).await;
    assert_eq!(outputs["permanentDeletionTimeInDays"], json!(7));

    // Delete reads only the status: no CSR, certificate or tag calls.
    fake.then(
        "DescribeCertificateAuthority",
        Reply::ok(described("ACTIVE")),
    );
    fake.then("UpdateCertificateAuthority", Reply::ok(json!({})))
        .then("DeleteCertificateAuthority", Reply::ok(json!({})));
    delete(&mut c, CA, CA_ARN, &outputs).await.unwrap();
    assert_eq!(
        fake.operations(),
        vec![
            "DescribeCertificateAuthority",
            "UpdateCertificateAuthority",
            "DeleteCertificateAuthority",
        ]
    );
    assert_eq!(
        fake.bodies("UpdateCertificateAuthority"),
        vec![json!({"CertificateAuthorityArn": CA_ARN, "Status": "DISABLED"})]
    );
    assert_eq!(
        fake.bodies("DeleteCertificateAuthority"),
        vec![json!({"CertificateAuthorityArn": CA_ARN, "PermanentDeletionTimeInDays": 7})]
    );

    // A CA that never got its certificate cannot be disabled, and need not be.
    fake.clear_calls();
    fake.then(
        "DescribeCertificateAuthority",
        Reply::ok(described("PENDING_CERTIFICATE")),
    );
    fake.then("DeleteCertificateAuthority", Reply::ok(json!({})));
    delete(&mut c, CA, CA_ARN, &outputs).await.unwrap();
    assert_eq!(fake.count("UpdateCertificateAuthority"), 0);
    assert_eq!(fake.count("DeleteCertificateAuthority"), 1);
    no_violations(&fake);
}

/// A CA disabled out of band shows up as `enabled = false` on refresh, and the next update
/// restores it (UpdateCertificateAuthority to ACTIVE).
#[tokio::test]
async fn refresh_reports_a_disabled_ca_and_update_restores_it() {
    let fake = FakeAcmPca::start().await;
    let mut c = provider(&fake, None).await;
    let outputs = created_ca(&mut c, &fake).await;
    let ca_pem = certificate_pem("ml root");
    let program = checked(&mut c, CA, "r", &ca_inputs()).await;

    script_describe(&fake, "DISABLED", &ca_pem);
    let refreshed = read(&mut c, CA, CA_ARN, &to_json(&program), &outputs).await;
    assert_eq!(refreshed.id, CA_ARN);
    assert_eq!(to_json(&refreshed.inputs)["enabled"], json!(false));
    let refreshed_outputs = to_json(&refreshed.properties);
    assert_eq!(refreshed_outputs["status"], json!("DISABLED"));
    assert_eq!(refreshed_outputs["enabled"], json!(false));

    fake.clear_calls();
    script_describe(&fake, "DISABLED", &ca_pem);
    fake.then("UpdateCertificateAuthority", Reply::ok(json!({})));
    script_describe(&fake, "ACTIVE", &ca_pem);
    let updated = tokio::time::timeout(
        PROMPT,
        c.update(pb::UpdateRequest {
            id: CA_ARN.into(),
            urn: urn(CA, "r"),
            olds: Some(codec::encode_map(
                &codec::decode_struct(refreshed.properties.as_ref()).unwrap(),
            )),
            news: program,
            old_inputs: refreshed.inputs,
            r#type: CA.into(),
            name: "r".into(),
            timeout: 20.0,
            ..Default::default()
        }),
    )
    .await
    .expect("update ended")
    .expect("update succeeds")
    .into_inner();
    assert_eq!(
        fake.bodies("UpdateCertificateAuthority"),
        vec![json!({"CertificateAuthorityArn": CA_ARN, "Status": "ACTIVE"})]
    );
    assert_eq!(
        fake.count("TagCertificateAuthority"),
        0,
        "tags did not drift"
    );
    let out = to_json(&updated.properties);
    assert_eq!(out["status"], json!("ACTIVE"));
    assert_eq!(out["enabled"], json!(true));
    assert_eq!(out["certificate"], json!(ca_pem));
    no_violations(&fake);
}

/// Cancel ends a wait at once: the create stops polling and keeps the issued certificate.
#[tokio::test]
async fn cancel_ends_a_certificate_wait_promptly() {
    let fake = FakeAcmPca::start().await;
    fake.then("IssueCertificate", issued())
        .always("GetCertificate", in_progress());
    let mut c = provider(&fake, None).await;
    let properties = checked(&mut c, CERT, "r", &certificate_inputs(&csr_pem("svc"))).await;
    let mut creator = c.clone();
    let creating = tokio::spawn(async move {
        creator
            .create(pb::CreateRequest {
                urn: urn(CERT, "r"),
                properties,
                r#type: CERT.into(),
                name: "r".into(),
                timeout: 3600.0,
                ..Default::default()
            })
            .await
    });
    assert!(
        fake.wait_for("GetCertificate", 2, PROMPT).await,
        "the provider is waiting for the certificate"
    );
    let polls_before_cancel = fake.count("GetCertificate");
    c.cancel(()).await.unwrap();
    let err = tokio::time::timeout(PROMPT, creating)
        .await
        .expect("create ended promptly after Cancel")
        .unwrap()
        .expect_err("cancelled");
    // The retry loop sees the cancellation and the certificate resource reports what it had
    // already created, so the issued certificate stays in state (and destroy can revoke it).
    let detail = init_failed(&err).unwrap_or_else(|| panic!("no init-failed detail: {err:?}"));
    assert_eq!(detail.id, cert_arn());
    assert!(
        detail.reasons.join("; ").contains("cancelled"),
        "{:?}",
        detail.reasons
    );
    // Polling stopped at the Cancel: at most the one poll already on its way went out after it.
    // (The operation has returned and spawns nothing, so nothing can poll later.)
    assert!(
        fake.count("GetCertificate") <= polls_before_cancel + 1,
        "still polling after Cancel: {} polls before it, {} after",
        polls_before_cancel,
        fake.count("GetCertificate")
    );
    no_violations(&fake);
}
