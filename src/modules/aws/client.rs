//! AWS clients, built once per provider process on first use, and the one place that turns SDK
//! errors into provider errors and retries what AWS says to retry.
//!
//! The SDK's own retries are switched off: every retry happens in [`call`], so it is bounded by
//! the resource's custom timeout, stops when the engine cancels, and is logged to the engine.

use crate::modules::Ctx;
use crate::modules::ProviderConfig;
pub use crate::modules::backend::RetryPolicy;
use crate::modules::backend::setting;
use crate::modules::backend::{Attempt, Backoff, Retrying, Stopped, retry};
use crate::typed::{ResourceError, Secret};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// AWS settings, under `zerotrust:aws` (pulumi-aws's provider settings, same names). Unset
/// values come from the standard chain: `AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, shared
/// config files, SSO, web identity, container and instance metadata.
#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsSettings {
    /// The region, e.g. `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A named profile from the shared config and credentials files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A static access key id; used only together with `secretKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<Secret<String>>,
    /// The static secret access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret<String>>,
    /// A session token for temporary static credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret<String>>,
    /// Per-service endpoint overrides (otherwise `AWS_ENDPOINT_URL_<SERVICE>` and
    /// `AWS_ENDPOINT_URL` apply, as in every AWS SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<AwsEndpoints>,
    /// Retries of throttled calls before giving up (default 25, as pulumi-aws). Calls that AWS
    /// reports as still in progress are retried until the resource's timeout instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
}

/// Endpoint URLs for the services zerotrust calls.
#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsEndpoints {
    /// ACM Private CA, e.g. `http://127.0.0.1:5000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acmpca: Option<String>,
    /// Route 53.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route53: Option<String>,
}

/// How AWS calls are retried unless the settings say otherwise: throttling patiently,
/// transport failures twice.
pub const AWS_RETRY: RetryPolicy = RetryPolicy {
    max_retries: 25,
    max_transport_retries: 2,
    backoff: Backoff {
        base: Duration::from_millis(250),
        max: Duration::from_secs(10),
    },
    max_server_wait: Duration::from_secs(10),
};

/// The service clients and the retry policy they are called with.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub acmpca: aws_sdk_acmpca::Client,
    pub route53: aws_sdk_route53::Client,
    pub retry: RetryPolicy,
    /// The partition of ARNs built locally (e.g. `aws`, `aws-cn`), from the region.
    pub partition: String,
}

/// The ARN partition of a region.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn known(v: &Option<Secret<String>>) -> Option<String> {
    v.as_ref()
        .map(|s| s.expose().trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Build the clients from settings; `None` settings mean the standard chain alone.
pub async fn build(settings: &AwsSettings) -> Result<AwsClients, String> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts);
    if let Some(region) = settings.region.as_deref().filter(|r| !r.is_empty()) {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(profile) = settings.profile.as_deref().filter(|p| !p.is_empty()) {
        loader = loader.profile_name(profile);
    }
    match (known(&settings.access_key), known(&settings.secret_key)) {
        (Some(id), Some(secret)) => {
            let creds = Credentials::new(id, secret, known(&settings.token), None, "zerotrust");
            loader = loader.credentials_provider(creds);
        }
        (None, None) => {}
        _ => return Err("set both aws.accessKey and aws.secretKey, or neither".into()),
    }
    let shared = loader.load().await;
    let region = shared.region().map(|r| r.to_string()).ok_or_else(|| {
        "no AWS region: set zerotrust:aws.region, AWS_REGION or a profile's region".to_string()
    })?;
    let endpoints = settings.endpoints.clone().unwrap_or_default();
    let mut acmpca = aws_sdk_acmpca::config::Builder::from(&shared);
    if let Some(url) = endpoints.acmpca.filter(|u| !u.is_empty()) {
        acmpca = acmpca.endpoint_url(url);
    }
    let mut route53 = aws_sdk_route53::config::Builder::from(&shared);
    if let Some(url) = endpoints.route53.filter(|u| !u.is_empty()) {
        route53 = route53.endpoint_url(url);
    }
    let mut retry = AWS_RETRY;
    if let Some(n) = settings.max_retries {
        retry.max_retries = n;
    }
    Ok(AwsClients {
        acmpca: aws_sdk_acmpca::Client::from_conf(acmpca.build()),
        route53: aws_sdk_route53::Client::from_conf(route53.build()),
        retry,
        partition: partition_of(&region).to_string(),
    })
}

impl ProviderConfig {
    /// The AWS clients, built on first use.
    pub async fn aws(&self) -> Result<AwsClients, ResourceError> {
        let settings = setting(&self.aws, "AWS", "aws")?
            .cloned()
            .unwrap_or_default();
        self.clients
            .aws
            .get_or_init(|| async move { build(&settings).await })
            .await
            .clone()
            .map_err(|cause| ResourceError::backend("configure AWS clients", cause))
    }
}

/// Error codes AWS uses for throttling across services.
const THROTTLING_CODES: [&str; 8] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    // Route 53: a change to the same zone is still being applied.
    "PriorRequestNotComplete",
];
/// ACM PCA's "not ready yet" (CSR being generated, certificate being issued).
pub const IN_PROGRESS: &str = "RequestInProgressException";

/// What kind of failure a call ended in, and so whether it is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// AWS asked us to slow down.
    Throttled,
    /// The request is valid but its result is not ready yet.
    InProgress,
    /// The request may not have reached AWS, or AWS failed (5xx).
    Transient,
    /// AWS answered with a definite error.
    Refused,
}

/// A failed AWS call: the operation, AWS's error code and message.
#[derive(Clone, Debug)]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: String,
    pub http_status: Option<u16>,
    pub kind: FailureKind,
    /// Set when retries stopped because the budget ran out or the engine cancelled.
    pub ended: Option<Ended>,
}

/// Why retrying stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Deadline(Duration),
    Cancelled,
}

impl AwsError {
    /// Whether AWS answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// Classify an SDK error.
    pub fn from_sdk<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let http_status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        let (kind, message) = match err {
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
                let message =
                    err.message()
                        .map(str::to_string)
                        .unwrap_or_else(|| match http_status {
                            Some(s) => format!(
                                "HTTP {s} with no modelled error (unsupported by this endpoint?)"
                            ),
                            None => DisplayErrorContext(err).to_string(),
                        });
                let kind = match code.as_deref() {
                    Some(c) if THROTTLING_CODES.contains(&c) => FailureKind::Throttled,
                    Some(IN_PROGRESS) => FailureKind::InProgress,
                    _ if http_status.is_some_and(|s| s == 429) => FailureKind::Throttled,
                    _ if http_status.is_some_and(|s| s >= 500) => FailureKind::Transient,
                    _ => FailureKind::Refused,
                };
                (kind, message)
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (
                FailureKind::Transient,
                format!("could not reach AWS: {}", DisplayErrorContext(err)),
            ),
            _ => (FailureKind::Refused, DisplayErrorContext(err).to_string()),
        };
        AwsError {
            operation,
            code,
            message,
            http_status,
            kind,
            ended: None,
        }
    }

    /// The cause as users see it: AWS's code, then its message.
    pub fn cause(&self) -> String {
        let base = match &self.code {
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        };
        match self.ended {
            Some(Ended::Deadline(after)) => {
                format!("{base} (still failing after {after:?}, the resource's timeout)")
            }
            _ => base,
        }
    }
}

impl From<AwsError> for ResourceError {
    fn from(e: AwsError) -> Self {
        match e.ended {
            Some(Ended::Cancelled) => ResourceError::Cancelled,
            _ => ResourceError::backend(e.operation, e.cause()),
        }
    }
}

/// Call an AWS operation, retrying throttling, in-progress answers and transport failures with
/// backoff until the policy's limits, the operation's deadline (an attempt still unanswered
/// then is abandoned) or cancellation.
pub async fn call<T, E, F, Fut>(
    ctx: &Ctx,
    policy: &RetryPolicy,
    operation: &'static str,
    mut send: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let attempt = || {
        let sent = send();
        async move {
            match sent.await {
                Ok(v) => Attempt::Done(v),
                Err(e) => {
                    let err = AwsError::from_sdk(operation, &e);
                    match err.kind {
                        FailureKind::Refused => Attempt::Fail(err),
                        FailureKind::InProgress => Attempt::Busy(err),
                        FailureKind::Throttled => Attempt::Retry(err, None),
                        FailureKind::Transient => Attempt::Transport(err),
                    }
                }
            }
        }
    };
    let log_retry = |err: &AwsError, next: Retrying| {
        tracing::debug!(operation, code = ?err.code, delay = ?next.delay, "retrying AWS call");
        // "Still in progress" is the normal course of a wait, not news.
        if err.kind != FailureKind::InProgress {
            ctx.info(format!("{operation}: {}; {next}", err.cause()));
        }
    };
    let local = |message: &str| AwsError {
        operation,
        code: None,
        message: message.to_string(),
        http_status: None,
        kind: FailureKind::Transient,
        ended: None,
    };
    match retry(ctx, ctx.deadline(), policy, log_retry, attempt).await {
        Ok(v) => Ok(v),
        Err(Stopped::Failed(err)) => Err(err),
        // Out of time: report what AWS said last, if anything.
        Err(Stopped::Deadline { last, .. }) => Err(AwsError {
            ended: Some(Ended::Deadline(ctx.timeout())),
            ..last.unwrap_or_else(|| local("the request was still unanswered"))
        }),
        Err(Stopped::Cancelled { last, .. }) => Err(AwsError {
            ended: Some(Ended::Cancelled),
            ..last.unwrap_or_else(|| local("cancelled while waiting for AWS"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sdk_connections_have_nodelay() {
        let port = crate::testing::keep_alive_http_server(
            "application/x-amz-json-1.1",
            r#"{"CertificateAuthorities":[]}"#,
        )
        .await;
        let settings = AwsSettings {
            region: Some("us-east-1".into()),
            access_key: Some(Secret::new("AKIDEXAMPLE".into())),
            secret_key: Some(Secret::new("example-secret".into())),
            endpoints: Some(AwsEndpoints {
                acmpca: Some(format!("http://127.0.0.1:{port}")),
                route53: None,
            }),
            ..Default::default()
        };
        let clients = build(&settings).await.expect("clients");
        clients
            .acmpca
            .list_certificate_authorities()
            .send()
            .await
            .expect("list");
        crate::testing::assert_nodelay_to(port);
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn cause_names_the_code_and_the_deadline() {
        let err = AwsError {
            operation: "GetCertificate",
            code: Some(IN_PROGRESS.into()),
            message: "not ready".into(),
            http_status: Some(400),
            kind: FailureKind::InProgress,
            ended: Some(Ended::Deadline(Duration::from_secs(3))),
        };
        let cause = err.cause();
        assert!(cause.starts_with("RequestInProgressException: not ready"));
        assert!(cause.contains("3s"));
        let resource_error: ResourceError = err.into();
        assert!(
            resource_error
                .to_string()
                .starts_with("GetCertificate failed: ")
        );
    }
}
