//! Azure Resource Manager over azure_core: the client and its request loop with retries.
//! Settings and credentials are in `settings`, errors in `errors`, the long-running-operation
//! poller in `lro`.
//!
//! Requests are plain values ([`ArmRequest`]) built by pure functions in the resource modules.
//! They go out through an `azure_core::http::HttpClient` — our own reqwest client in production,
//! a scripted one in the tests — with a bearer token from a static setting or one of
//! azure_identity's credentials. Every retry and every poll happens here, bounded by the
//! resource's custom timeout and the engine's Cancel, so nothing waits for ever.

use super::errors::retryable;
pub use super::errors::{ArmError, Ended, error_parts, retry_after};
pub use super::lro::{PollTarget, poll_target};
pub use super::settings::{
    AuthMethod, AzureSettings, DEFAULT_ENDPOINT, Resolved, is_guid, resolve,
};
use super::settings::{Tokens, credential, http_client};
use crate::modules::Ctx;
use crate::modules::ProviderConfig;
use crate::modules::backend::setting;
use crate::modules::backend::{Attempt, Backoff, RetryPolicy, Retrying, Stopped, retry};
use crate::typed::{ResourceError, Secret};
use azure_core::http::{HttpClient, Method, Request, Url};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// How throttled and failing requests are retried, and how operations are polled.
#[derive(Clone, Debug)]
pub struct ArmPolicy {
    /// 429 and 5xx answers (honouring `Retry-After`), and requests that got no answer at all:
    /// a Resource Manager that is down should fail the update quickly.
    pub retry: RetryPolicy,
    /// The longest wait between polls that a `Retry-After` can ask for.
    pub max_poll_interval: Duration,
    /// The wait between polls when the answer names none.
    pub default_poll_interval: Duration,
}

impl Default for ArmPolicy {
    fn default() -> Self {
        ArmPolicy {
            retry: RetryPolicy {
                max_retries: 8,
                max_transport_retries: 2,
                backoff: Backoff {
                    base: Duration::from_millis(500),
                    max: Duration::from_secs(30),
                },
                max_server_wait: Duration::from_secs(30),
            },
            max_poll_interval: Duration::from_secs(60),
            default_poll_interval: Duration::from_secs(5),
        }
    }
}

/// An ARM request as the resource modules build it.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmRequest {
    pub method: Method,
    /// The path from the endpoint's root, e.g. `/subscriptions/<s>/resourcegroups/<rg>`.
    pub path: String,
    pub api_version: &'static str,
    pub body: Option<Json>,
    /// What the request does, for messages: `create or update`, `delete`, `read`, ...
    pub operation: &'static str,
}

impl ArmRequest {
    pub fn new(
        method: Method,
        operation: &'static str,
        path: impl Into<String>,
        api_version: &'static str,
    ) -> Self {
        ArmRequest {
            method,
            path: path.into(),
            api_version,
            body: None,
            operation,
        }
    }

    pub fn get(path: impl Into<String>, api_version: &'static str) -> Self {
        Self::new(Method::Get, "read", path, api_version)
    }

    pub fn put(path: impl Into<String>, api_version: &'static str, body: Json) -> Self {
        Self::new(Method::Put, "create or update", path, api_version).with_body(body)
    }

    pub fn patch(path: impl Into<String>, api_version: &'static str, body: Json) -> Self {
        Self::new(Method::Patch, "update", path, api_version).with_body(body)
    }

    pub fn delete(path: impl Into<String>, api_version: &'static str) -> Self {
        Self::new(Method::Delete, "delete", path, api_version)
    }

    pub fn with_body(mut self, body: Json) -> Self {
        self.body = Some(body);
        self
    }

    /// The resource the request is about: its path without action suffixes such as `/listKeys`.
    pub fn resource(&self) -> &str {
        &self.path
    }
}

/// An answer, with lower-cased header names.
#[derive(Clone, Debug, Default)]
pub struct ArmResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Option<Json>,
}

impl ArmResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `properties.provisioningState` of a resource body.
    pub fn provisioning_state(&self) -> Option<&str> {
        provisioning_state(self.body.as_ref()?)
    }
}

/// `properties.provisioningState` of a resource body.
pub fn provisioning_state(body: &Json) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Json::as_str)
}

/// The client: transport, endpoint, subscription, tokens and policy.
#[derive(Clone)]
pub struct ArmClient {
    transport: Arc<dyn HttpClient>,
    endpoint: Url,
    pub subscription_id: String,
    tokens: Arc<Tokens>,
    pub policy: ArmPolicy,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("subscription_id", &self.subscription_id)
            .finish_non_exhaustive()
    }
}

/// Build the client from settings (with `ARM_*` fallbacks).
pub fn build(settings: &AzureSettings) -> Result<ArmClient, String> {
    let resolved = resolve(settings, |k| std::env::var(k).ok())?;
    let transport = http_client()?;
    let tokens = match resolved.auth {
        AuthMethod::StaticToken => Tokens::Static(Secret::new(
            settings
                .token
                .as_ref()
                .map(|t| t.expose().trim().to_string())
                .unwrap_or_default(),
        )),
        _ => {
            let url = Url::parse(&resolved.endpoint).map_err(|e| e.to_string())?;
            Tokens::Credential {
                credential: credential(&resolved, settings, &transport)?,
                scope: format!("{}/.default", url.origin().ascii_serialization()),
                cached: tokio::sync::Mutex::new(None),
            }
        }
    };
    ArmClient::new(
        transport,
        &resolved.endpoint,
        &resolved.subscription_id,
        tokens,
    )
}

impl ArmClient {
    fn new(
        transport: Arc<dyn HttpClient>,
        endpoint: &str,
        subscription_id: &str,
        tokens: Tokens,
    ) -> Result<Self, String> {
        Ok(ArmClient {
            transport,
            endpoint: Url::parse(endpoint).map_err(|e| format!("invalid endpoint: {e}"))?,
            subscription_id: subscription_id.to_string(),
            tokens: Arc::new(tokens),
            policy: ArmPolicy::default(),
        })
    }

    /// A client over any transport with a fixed token (tests, scripted servers).
    pub fn with_transport(
        transport: Arc<dyn HttpClient>,
        endpoint: &str,
        subscription_id: &str,
        token: &str,
    ) -> Result<Self, String> {
        Self::new(
            transport,
            endpoint,
            subscription_id,
            Tokens::Static(Secret::new(token.to_string())),
        )
    }

    /// `/subscriptions/<id>`.
    pub fn subscription_path(&self) -> String {
        format!("/subscriptions/{}", self.subscription_id)
    }

    pub(super) fn url_for(&self, request: &ArmRequest) -> Result<Url, ArmError> {
        let mut url = self
            .endpoint
            .join(&request.path)
            .map_err(|e| ArmError::local(request, "InvalidRequest", e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("api-version", request.api_version);
        Ok(url)
    }

    /// Only the configured endpoint gets our token: a poll URL elsewhere is refused.
    pub(super) fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.endpoint.origin()
    }

    /// One exchange, no retries.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&Json>,
    ) -> Result<ArmResponse, (String, bool)> {
        let unsent = |e: String| (e, false);
        let sent = |e: String| (e, true);
        let token = self.tokens.bearer().await.map_err(unsent)?;
        let mut request = Request::new(url, method);
        request.insert_header("authorization", format!("Bearer {}", token.expose()));
        request.insert_header("accept", "application/json");
        request.insert_header(
            "x-ms-client-request-id",
            azure_core::Uuid::new_v4().to_string(),
        );
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            request.set_body(serde_json::to_vec(body).map_err(|e| unsent(e.to_string()))?);
        }
        let response = self
            .transport
            .execute_request(&request)
            .await
            .map_err(|e| {
                // A connection that never opened carried nothing; any other failure may have
                // come after the request was sent.
                let reached = *e.kind() != azure_core::error::ErrorKind::Connection;
                (describe_transport_error(&e), reached)
            })?;
        let status = u16::from(response.status());
        let headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.as_str().to_string()))
            .collect();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| sent(format!("reading the answer: {e}")))?;
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = if text.trim().is_empty() {
            None
        } else if (200..300).contains(&status) {
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| sent(format!("the answer is not JSON: {e}")))?,
            )
        } else {
            // Keep error text as is for error_parts.
            Some(Json::String(text))
        };
        Ok(ArmResponse {
            status,
            headers,
            body,
        })
    }

    /// Send a request, retrying 429 and 5xx answers (honouring `Retry-After`) and transport
    /// failures, until `deadline` or cancellation. Any other non-2xx answer is an [`ArmError`]
    /// with ARM's code and message.
    pub async fn send(
        &self,
        ctx: &Ctx,
        deadline: Instant,
        request: &ArmRequest,
    ) -> Result<ArmResponse, ArmError> {
        let url = self.url_for(request)?;
        self.send_url(
            ctx,
            deadline,
            request,
            request.method,
            url,
            request.body.as_ref(),
        )
        .await
    }

    pub(super) async fn send_url(
        &self,
        ctx: &Ctx,
        deadline: Instant,
        request: &ArmRequest,
        method: Method,
        url: Url,
        body: Option<&Json>,
    ) -> Result<ArmResponse, ArmError> {
        // Whether any attempt may have reached ARM: a write then may have been applied.
        let maybe_applied = AtomicBool::new(false);
        let attempt = || async {
            let err = match self.exchange(method, url.clone(), body).await {
                Ok(response) if (200..300).contains(&response.status) => {
                    return Attempt::Done(response);
                }
                Err((message, reached)) => {
                    maybe_applied.fetch_or(reached, Ordering::Relaxed);
                    return Attempt::Transport(ArmError::local(
                        request,
                        "ConnectionFailed",
                        message,
                    ));
                }
                Ok(response) => response,
            };
            let response = err;
            let text = match &response.body {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let (code, message) = error_parts(response.status, &text);
            let err = ArmError {
                operation: request.operation.to_string(),
                resource: request.resource().to_string(),
                status: Some(response.status),
                code,
                message,
                ended: None,
                maybe_applied: false,
            };
            maybe_applied.fetch_or(response.status >= 500, Ordering::Relaxed);
            if retryable(response.status) {
                Attempt::Retry(err, retry_after(&response))
            } else {
                Attempt::Fail(err)
            }
        };
        let log_retry = |err: &ArmError, next: Retrying| {
            ctx.info(format!("{err}; {next}"));
        };
        let result = match retry(ctx, deadline, &self.policy.retry, log_retry, attempt).await {
            Ok(response) => Ok(response),
            Err(Stopped::Failed(err)) => Err(err),
            Err(Stopped::Deadline { last, in_flight }) => {
                // The request may be on its way.
                maybe_applied.fetch_or(in_flight, Ordering::Relaxed);
                Err(ArmError {
                    ended: Some(Ended::Deadline(ctx.timeout())),
                    ..last.unwrap_or_else(|| {
                        ArmError::local(request, "Timeout", "the request was still unanswered")
                    })
                })
            }
            Err(Stopped::Cancelled { last, in_flight }) => {
                maybe_applied.fetch_or(in_flight, Ordering::Relaxed);
                Err(ArmError {
                    ended: Some(Ended::Cancelled),
                    ..last.unwrap_or_else(|| {
                        ArmError::local(
                            request,
                            "Cancelled",
                            "cancelled while waiting for Resource Manager",
                        )
                    })
                })
            }
        };
        result.map_err(|e| ArmError {
            maybe_applied: e.maybe_applied || maybe_applied.load(Ordering::Relaxed),
            ..e
        })
    }

    /// Read a resource; `None` when ARM answers 404.
    pub async fn get(
        &self,
        ctx: &Ctx,
        deadline: Instant,
        request: &ArmRequest,
    ) -> Result<Option<Json>, ArmError> {
        match self.send(ctx, deadline, request).await {
            Ok(r) => Ok(r.body),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn describe_transport_error(e: &azure_core::Error) -> String {
    let mut text = format!("could not reach Resource Manager: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

impl ProviderConfig {
    /// The ARM client, built on first use.
    pub async fn azure(&self) -> Result<ArmClient, ResourceError> {
        let settings = setting(&self.azure, "Azure", "azure")?
            .cloned()
            .unwrap_or_default();
        self.clients
            .azure
            .get_or_init(|| async move { build(&settings) })
            .await
            .clone()
            .map_err(|cause| ResourceError::backend("configure the Azure client", cause))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_have_nodelay() {
        let port = crate::testing::keep_alive_http_server("application/json", "{}").await;
        let client = http_client().expect("client");
        let url = Url::parse(&format!("http://127.0.0.1:{port}/subscriptions")).expect("url");
        let answer = client
            .execute_request(&Request::new(url, Method::Get))
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::Ok);
        crate::testing::assert_nodelay_to(port);
    }
    use crate::typed::cancel;
    use azure_core::http::headers::Headers;
    use azure_core::http::{AsyncRawResponse, StatusCode};
    use std::collections::VecDeque;
    use std::sync::Mutex;

    pub(crate) const SUB: &str = "00000000-0000-0000-0000-000000000001";

    pub(crate) fn ctx(timeout: Duration) -> (cancel::Canceller, Ctx) {
        let (canceller, source) = cancel::channel();
        let ctx = Ctx::new(
            "urn:pulumi:dev::p::zerotrust:azure/resources:ResourceGroup::rg",
            Arc::default(),
        )
        .with_timeout(timeout)
        .with_cancel(source.signal());
        (canceller, ctx)
    }

    /// One scripted answer.
    pub(crate) struct Step {
        pub status: u16,
        pub headers: Vec<(&'static str, String)>,
        pub body: String,
    }

    pub(crate) fn step(status: u16, body: &str) -> Step {
        Step {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    impl Step {
        pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
            self.headers.push((name, value.into()));
            self
        }
    }

    /// One request as the scripted transport saw it: method, path and query, body, and the
    /// Authorization header.
    pub(crate) type Seen = (String, String, Option<String>, Option<String>);

    /// A transport that answers from a script and records what it was sent.
    #[derive(Default)]
    pub(crate) struct Scripted {
        pub steps: Mutex<VecDeque<Step>>,
        pub seen: Mutex<Vec<Seen>>,
    }

    impl fmt::Debug for Scripted {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Scripted")
        }
    }

    impl Scripted {
        pub(crate) fn new(steps: Vec<Step>) -> Arc<Self> {
            Arc::new(Scripted {
                steps: Mutex::new(steps.into()),
                seen: Mutex::default(),
            })
        }

        /// `METHOD path?query` of every request.
        pub(crate) fn lines(&self) -> Vec<String> {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .map(|(m, u, _, _)| format!("{m} {u}"))
                .collect()
        }

        pub(crate) fn bodies(&self) -> Vec<Option<String>> {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .map(|(_, _, b, _)| b.clone())
                .collect()
        }
    }

    #[async_trait::async_trait]
    impl HttpClient for Scripted {
        async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
            let url = request.url();
            let line = format!(
                "{}{}",
                url.path(),
                url.query().map(|q| format!("?{q}")).unwrap_or_default()
            );
            let body = match request.body() {
                azure_core::http::Body::Bytes(b) if !b.is_empty() => {
                    Some(String::from_utf8_lossy(b).to_string())
                }
                _ => None,
            };
            let auth = request
                .headers()
                .iter()
                .find(|(k, _)| k.as_str() == "authorization")
                .map(|(_, v)| v.as_str().to_string());
            self.seen.lock().unwrap().push((
                format!("{:?}", request.method()).to_uppercase(),
                line,
                body,
                auth,
            ));
            let Some(step) = self.steps.lock().unwrap().pop_front() else {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Connection,
                    "connection refused (script exhausted)",
                ));
            };
            if step.status == 0 {
                // The request went out; the connection closed before an answer came.
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Io,
                    "connection closed before message completed",
                ));
            }
            let mut headers = Headers::new();
            for (k, v) in step.headers {
                headers.insert(k, v);
            }
            Ok(AsyncRawResponse::from_bytes(
                StatusCode::from(step.status),
                headers,
                step.body.into_bytes(),
            ))
        }
    }

    pub(crate) fn client(script: &Arc<Scripted>) -> ArmClient {
        let mut c =
            ArmClient::with_transport(script.clone(), "https://arm.test", SUB, "test-token")
                .unwrap();
        let defaults = ArmPolicy::default();
        c.policy = ArmPolicy {
            retry: RetryPolicy {
                backoff: Backoff {
                    base: Duration::from_millis(1),
                    max: Duration::from_millis(20),
                },
                max_server_wait: Duration::from_millis(20),
                ..defaults.retry
            },
            default_poll_interval: Duration::from_millis(1),
            max_poll_interval: Duration::from_millis(30),
        };
        c
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg1";

    #[test]
    fn settings_fall_back_to_the_environment_and_pick_a_method() {
        let env = |k: &str| match k {
            "ARM_SUBSCRIPTION_ID" => Some(SUB.to_string()),
            "ARM_TENANT_ID" => Some("tenant".to_string()),
            "ARM_CLIENT_ID" => Some("client".to_string()),
            "ARM_CLIENT_SECRET" => Some("s3cret".to_string()),
            _ => None,
        };
        let r = resolve(&AzureSettings::default(), env).unwrap();
        assert_eq!(r.subscription_id, SUB);
        assert_eq!(r.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(r.auth, AuthMethod::ClientSecret);
        let own = AzureSettings {
            token: Some(Secret::new("t".into())),
            endpoint: Some("http://127.0.0.1:9/".into()),
            ..Default::default()
        };
        let r = resolve(&own, env).unwrap();
        assert_eq!(r.auth, AuthMethod::StaticToken);
        assert_eq!(r.endpoint, "http://127.0.0.1:9");
        let msi = AzureSettings {
            use_msi: Some(true),
            ..Default::default()
        };
        assert_eq!(
            resolve(&msi, env).unwrap().auth,
            AuthMethod::ManagedIdentity
        );
        let only_sub = |k: &str| (k == "ARM_SUBSCRIPTION_ID").then(|| SUB.to_string());
        assert_eq!(
            resolve(&AzureSettings::default(), only_sub).unwrap().auth,
            AuthMethod::AzureCli
        );
        assert!(resolve(&AzureSettings::default(), |_| None).is_err());
        let bad = AzureSettings {
            subscription_id: Some("not-a-guid".into()),
            ..Default::default()
        };
        assert!(resolve(&bad, |_| None).unwrap_err().contains("not a GUID"));
        let half = |k: &str| match k {
            "ARM_SUBSCRIPTION_ID" => Some(SUB.to_string()),
            "ARM_CLIENT_SECRET" => Some("s".to_string()),
            _ => None,
        };
        assert!(resolve(&AzureSettings::default(), half).is_err());
    }

    #[test]
    fn error_envelopes_become_code_and_message() {
        let (c, m) = error_parts(
            400,
            r#"{"error":{"code":"InvalidResourceName","message":"bad name","details":[{"code":"Pattern","message":"must match"}]}}"#,
        );
        assert_eq!(c, "InvalidResourceName");
        assert_eq!(m, "bad name (Pattern: must match)");
        let (c, m) = error_parts(502, "<html>bad gateway</html>");
        assert_eq!(
            (c.as_str(), m.as_str()),
            ("HTTP502", "<html>bad gateway</html>")
        );
        let e = ArmError {
            operation: "create or update".into(),
            resource: RG.into(),
            status: Some(400),
            code: c,
            message: m,
            ended: None,
            maybe_applied: false,
        };
        assert_eq!(
            e.to_string(),
            format!("create or update {RG}: HTTP502: <html>bad gateway</html>")
        );
        let re: ResourceError = e.into();
        assert!(
            re.to_string()
                .contains(&format!("create or update {RG}: HTTP502"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn put_follows_azure_async_operation_before_location() {
        let script = Scripted::new(vec![
            step(201, r#"{"properties":{"provisioningState":"Creating"}}"#)
                .header(
                    "azure-asyncoperation",
                    "https://arm.test/ops/1?api-version=x",
                )
                .header("location", "https://arm.test/loc/1")
                .header("retry-after", "0"),
            step(200, r#"{"status":"InProgress"}"#).header("retry-after", "0"),
            step(200, r#"{"status":"Succeeded"}"#),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({"location": "westus"}));
        arm.write_and_wait(&ctx, far(), &req).await.unwrap();
        assert_eq!(
            script.lines(),
            vec![
                format!("PUT {RG}?api-version=2025-04-01"),
                "GET /ops/1?api-version=x".to_string(),
                "GET /ops/1?api-version=x".to_string(),
            ]
        );
        let seen = script.seen.lock().unwrap();
        assert_eq!(seen[0].3.as_deref(), Some("Bearer test-token"));
    }

    #[tokio::test(start_paused = true)]
    async fn delete_follows_location_until_it_stops_answering_202() {
        let script = Scripted::new(vec![
            step(202, "").header("location", "https://arm.test/loc/9"),
            step(202, "").header("retry-after", "0"),
            step(204, ""),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        arm.write_and_wait(&ctx, far(), &ArmRequest::delete(RG, "2025-04-01"))
            .await
            .unwrap();
        assert_eq!(script.lines().len(), 3);
        assert_eq!(script.lines()[1], "GET /loc/9");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_operation_reports_its_code_and_message() {
        let script = Scripted::new(vec![
            step(201, "").header("azure-asyncoperation", "https://arm.test/ops/2"),
            step(
                200,
                r#"{"status":"Failed","error":{"code":"QuotaExceeded","message":"no room"}}"#,
            ),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({}));
        let err = arm.write_and_wait(&ctx, far(), &req).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("create or update {RG}: QuotaExceeded: no room")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_and_server_errors_are_retried_with_retry_after() {
        let script = Scripted::new(vec![
            step(
                429,
                r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
            )
            .header("retry-after", "0"),
            step(503, "unavailable"),
            step(200, r#"{"name":"rg1"}"#),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let got = arm
            .get(&ctx, far(), &ArmRequest::get(RG, "2025-04-01"))
            .await
            .unwrap();
        assert_eq!(got.unwrap()["name"], "rg1");
        assert_eq!(script.lines().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_are_not_retried_and_404_reads_as_absent() {
        let script = Scripted::new(vec![
            step(
                404,
                r#"{"error":{"code":"ResourceGroupNotFound","message":"gone"}}"#,
            ),
            step(409, r#"{"error":{"code":"Conflict","message":"busy"}}"#),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let req = ArmRequest::get(RG, "2025-04-01");
        assert!(arm.get(&ctx, far(), &req).await.unwrap().is_none());
        let err = arm.get(&ctx, far(), &req).await.unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (Some(409), "Conflict"));
        assert_eq!(script.lines().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn polling_stops_at_the_deadline_and_keeps_the_reason() {
        let script = Scripted::new(vec![
            step(201, "")
                .header("azure-asyncoperation", "https://arm.test/ops/3")
                .header("retry-after", "10"),
        ]);
        let mut arm = client(&script);
        arm.policy.max_poll_interval = Duration::from_secs(10);
        let (_c, ctx) = ctx(Duration::from_secs(1));
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({}));
        let started = Instant::now();
        let err = arm
            .write_and_wait(&ctx, Instant::now() + Duration::from_millis(200), &req)
            .await
            .unwrap_err();
        assert!(matches!(err.ended, Some(Ended::Deadline(_))), "{err}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_capped() {
        let script = Scripted::new(vec![
            step(202, "")
                .header("location", "https://arm.test/loc/4")
                .header("retry-after", "3600"),
            step(200, ""),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let started = Instant::now();
        arm.write_and_wait(&ctx, far(), &ArmRequest::delete(RG, "2025-04-01"))
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_polling() {
        let script = Scripted::new(vec![
            step(201, "")
                .header("azure-asyncoperation", "https://arm.test/ops/5")
                .header("retry-after", "5"),
        ]);
        let mut arm = client(&script);
        arm.policy.max_poll_interval = Duration::from_secs(5);
        let (canceller, ctx) = ctx(Duration::from_secs(30));
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({}));
        let (result, after_cancel) = crate::testing::cancel_after(
            move || canceller.cancel(),
            Duration::from_millis(50),
            arm.write_and_wait(&ctx, far(), &req),
        )
        .await;
        // The poll would wait 5 s for the next answer; the Cancel ends it at once.
        assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
        let err = result.unwrap_err();
        assert_eq!(err.ended, Some(Ended::Cancelled));
        assert!(matches!(ResourceError::from(err), ResourceError::Cancelled));
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_url_on_another_host_gets_no_token() {
        let script = Scripted::new(vec![
            step(201, "").header("azure-asyncoperation", "https://evil.test/ops/1"),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({}));
        let err = arm.write_and_wait(&ctx, far(), &req).await.unwrap_err();
        assert_eq!(err.code, "InvalidPollUrl");
        assert_eq!(script.lines().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_server_fails_after_a_few_tries() {
        let script = Scripted::new(vec![]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let err = arm
            .send(&ctx, far(), &ArmRequest::get(RG, "2025-04-01"))
            .await
            .unwrap_err();
        assert_eq!(err.code, "ConnectionFailed");
        assert!(!err.maybe_applied, "nothing was sent");
        assert_eq!(script.lines().len(), 3);

        // An answer lost after sending: the write may have been applied.
        let script = Scripted::new(vec![step(0, "")]);
        let arm = client(&script);
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({}));
        let err = arm.send(&ctx, far(), &req).await.unwrap_err();
        assert!(err.maybe_applied, "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn provisioning_state_is_polled_when_no_header_says_where() {
        let script = Scripted::new(vec![
            step(201, r#"{"properties":{"provisioningState":"Updating"}}"#),
            step(200, r#"{"properties":{"provisioningState":"Updating"}}"#),
            step(200, r#"{"properties":{"provisioningState":"Succeeded"}}"#),
        ]);
        let arm = client(&script);
        let (_c, ctx) = ctx(Duration::from_secs(10));
        let req = ArmRequest::put(RG, "2025-04-01", serde_json::json!({}));
        arm.write_and_wait(&ctx, far(), &req).await.unwrap();
        assert_eq!(
            script.lines()[1..],
            [
                format!("GET {RG}?api-version=2025-04-01"),
                format!("GET {RG}?api-version=2025-04-01")
            ]
        );
    }
}
