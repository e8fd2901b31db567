//! The Vault HTTP API, called directly: requests are plain values built by pure functions in
//! the resource modules; this file sends them, with the provider's address, token, namespace
//! and CA, and turns Vault's answers into provider errors.
//!
//! Only the PKI and mount API that HashiCorp Vault and OpenBao share is used.

use crate::modules::Ctx;
use crate::modules::ProviderConfig;
use crate::modules::backend::setting;
use crate::modules::backend::{
    Attempt, Backoff, Interrupted, RetryPolicy, Retrying, Stopped, retry,
};
use crate::typed::{ResourceError, Secret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::time::Duration;

/// Vault settings, under `zerotrust:vault` (pulumi-vault's provider settings, same names).
/// Unset values come from `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`, `VAULT_CACERT` and
/// `VAULT_SKIP_VERIFY`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultSettings {
    /// The server's URL, e.g. `https://vault.example.com:8200`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The token to authenticate with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret<String>>,
    /// The namespace requests go to, unless a resource sets its own (Vault Enterprise and
    /// OpenBao namespaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A PEM file with the CA certificate(s) to trust for the server's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_file: Option<String>,
    /// Skip verification of the server's TLS certificate (never in production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_tls_verify: Option<bool>,
}

/// What the client was built from, after environment fallbacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub address: String,
    pub namespace: Option<String>,
    pub ca_cert_file: Option<String>,
    pub skip_tls_verify: bool,
}

/// A request, as the resource modules build it.
#[derive(Clone, Debug, PartialEq)]
pub struct VaultRequest {
    pub method: Method,
    /// Path under `/v1/`, without a leading slash, e.g. `pki/roles/web`.
    pub path: String,
    pub body: Option<Json>,
    /// The resource's own namespace, overriding the provider's.
    pub namespace: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
    List,
}

impl VaultRequest {
    pub fn get(path: impl Into<String>) -> Self {
        VaultRequest {
            method: Method::Get,
            path: path.into(),
            body: None,
            namespace: None,
        }
    }

    pub fn post(path: impl Into<String>, body: Json) -> Self {
        VaultRequest {
            method: Method::Post,
            path: path.into(),
            body: Some(body),
            namespace: None,
        }
    }

    pub fn delete(path: impl Into<String>) -> Self {
        VaultRequest {
            method: Method::Delete,
            path: path.into(),
            body: None,
            namespace: None,
        }
    }

    pub fn in_namespace(mut self, namespace: Option<&str>) -> Self {
        self.namespace = namespace.filter(|n| !n.is_empty()).map(str::to_string);
        self
    }

    /// `POST` or `GET` and the path, for messages.
    pub fn describe(&self) -> String {
        let method = match self.method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::List => "LIST",
        };
        format!("{method} /v1/{}", self.path)
    }
}

/// A Vault answer that is not a success.
#[derive(Clone, Debug)]
pub struct VaultError {
    pub request: String,
    /// HTTP status, or `None` when Vault could not be reached.
    pub status: Option<u16>,
    pub message: String,
    /// Set when the request stopped at the engine's Cancel or the operation's deadline.
    pub interrupted: Option<Interrupted>,
}

impl VaultError {
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    /// Whether the path (or the mount under it) does not exist. Vault answers a path under no
    /// mount with 404 "no handler for route", a mount's own path with 400 "No secret engine
    /// mount at ...", and (some versions) a missing issuer with 400 or 500 "unable to find".
    pub fn is_gone(&self) -> bool {
        let message = self.message.to_ascii_lowercase();
        self.is_not_found()
            || ["no handler", "unable to find", "no secret engine mount"]
                .iter()
                .any(|m| message.contains(m))
    }

    /// The cause as users see it.
    pub fn cause(&self) -> String {
        match self.status {
            Some(403) => format!(
                "permission denied (HTTP 403): the Vault token is invalid, expired, or lacks a policy for this path ({}). Vault said: {}",
                self.request, self.message
            ),
            Some(status) => format!("{} (HTTP {status}): {}", self.request, self.message),
            None => format!("{}: {}", self.request, self.message),
        }
    }
}

impl From<VaultError> for ResourceError {
    fn from(e: VaultError) -> Self {
        match e.interrupted {
            Some(Interrupted::Cancelled) => ResourceError::Cancelled,
            _ => ResourceError::backend("Vault request", e.cause()),
        }
    }
}

/// The text of Vault's error envelope `{"errors": [...]}`, or the raw body.
pub fn error_message(body: &str) -> String {
    match serde_json::from_str::<Json>(body) {
        Ok(json) => match json.get("errors").and_then(Json::as_array) {
            Some(errors) if !errors.is_empty() => errors
                .iter()
                .map(|e| {
                    e.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string())
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => body.trim().to_string(),
        },
        Err(_) if body.trim().is_empty() => "no details".into(),
        Err(_) => body.trim().chars().take(500).collect(),
    }
}

/// Settings after the `VAULT_*` fallbacks.
pub fn resolve(
    settings: &VaultSettings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Resolved, String> {
    let pick = |own: &Option<String>, var: &str| {
        own.clone()
            .filter(|v| !v.is_empty())
            .or_else(|| env(var).filter(|v| !v.is_empty()))
    };
    let address = pick(&settings.address, "VAULT_ADDR")
        .ok_or("no Vault address: set zerotrust:vault.address or VAULT_ADDR")?;
    let url = reqwest::Url::parse(&address)
        .map_err(|e| format!("invalid Vault address {address:?}: {e}"))?;
    // Credentials belong in the token; an address with them would end up in error messages.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the Vault address must not carry credentials (user:password@); use the token".into(),
        );
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "invalid Vault address {address:?}: use http:// or https://"
        ));
    }
    let skip_tls_verify = settings.skip_tls_verify.unwrap_or_else(|| {
        env("VAULT_SKIP_VERIFY")
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "True"))
    });
    Ok(Resolved {
        address: address.trim_end_matches('/').to_string(),
        namespace: pick(&settings.namespace, "VAULT_NAMESPACE"),
        ca_cert_file: pick(&settings.ca_cert_file, "VAULT_CACERT"),
        skip_tls_verify,
    })
}

/// The HTTP client and what it talks to.
#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    resolved: Resolved,
    token: Secret<String>,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient")
            .field("address", &self.resolved.address)
            .finish_non_exhaustive()
    }
}

/// Vault answers quickly or not at all: a few quick retries, then the error.
const RETRY: RetryPolicy = RetryPolicy {
    max_retries: 4,
    max_transport_retries: 2,
    backoff: Backoff {
        base: Duration::from_millis(200),
        max: Duration::from_secs(5),
    },
    max_server_wait: Duration::from_secs(10),
};

pub fn build(settings: &VaultSettings) -> Result<VaultClient, String> {
    let resolved = resolve(settings, |k| std::env::var(k).ok())?;
    let token = settings
        .token
        .as_ref()
        .map(|t| t.expose().clone())
        .filter(|t| !t.is_empty())
        .or_else(|| std::env::var("VAULT_TOKEN").ok().filter(|t| !t.is_empty()))
        .ok_or("no Vault token: set zerotrust:vault.token or VAULT_TOKEN")?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("zerotrust/", env!("CARGO_PKG_VERSION")));
    if let Some(file) = &resolved.ca_cert_file {
        let pem = std::fs::read(file)
            .map_err(|e| format!("cannot read the Vault CA file {file}: {e}"))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("the Vault CA file {file} holds no usable certificate: {e}"))?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if resolved.skip_tls_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    let http = builder
        .build()
        .map_err(|e| format!("cannot build the Vault client: {e}"))?;
    Ok(VaultClient {
        http,
        resolved,
        token: Secret::new(token),
    })
}

impl VaultClient {
    /// Send a request; `Ok(None)` for an answer without a body (204).
    pub async fn send(
        &self,
        ctx: &Ctx,
        request: &VaultRequest,
    ) -> Result<Option<Json>, VaultError> {
        let url = format!("{}/v1/{}", self.resolved.address, request.path);
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
            Method::List => reqwest::Method::from_bytes(b"LIST").unwrap_or(reqwest::Method::GET),
        };
        let namespace = request
            .namespace
            .clone()
            .or_else(|| self.resolved.namespace.clone());
        // Reads can be sent again whatever happened; a write only when it cannot have been
        // applied (never connected, or refused as sealed, standby or rate-limited), since a
        // second root or key is not the same as the first.
        let idempotent = matches!(request.method, Method::Get | Method::List);
        let describe = || request.describe();
        let attempt = || async {
            // A request may take as long as the operation may (generating an RSA-4096 root
            // can take a while).
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("X-Vault-Token", self.token.expose())
                .header("X-Vault-Request", "true");
            if let Some(ns) = &namespace {
                req = req.header("X-Vault-Namespace", ns);
            }
            if let Some(body) = &request.body {
                req = req.json(body);
            }
            let error = |status, message| VaultError {
                request: describe(),
                status,
                message,
                interrupted: None,
            };
            let response = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let err = error(
                        None,
                        format!(
                            "could not reach Vault at {}: {}",
                            self.resolved.address,
                            without_url(&e)
                        ),
                    );
                    return if e.is_connect() || idempotent {
                        Attempt::Transport(err)
                    } else {
                        Attempt::Fail(err)
                    };
                }
            };
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                if text.trim().is_empty() {
                    return Attempt::Done(None);
                }
                return match serde_json::from_str(&text) {
                    Ok(json) => Attempt::Done(Some(json)),
                    Err(e) => {
                        Attempt::Fail(error(Some(status), format!("the answer is not JSON: {e}")))
                    }
                };
            }
            let err = error(Some(status), error_message(&text));
            match status {
                429 | 503 => Attempt::Retry(err, None),
                502 | 504 if idempotent => Attempt::Retry(err, None),
                _ => Attempt::Fail(err),
            }
        };
        let log_retry = |e: &VaultError, next: Retrying| {
            ctx.info(format!("{}; {next}", e.cause()));
        };
        match retry(ctx, ctx.deadline(), &RETRY, log_retry, attempt).await {
            Ok(body) => Ok(body),
            Err(Stopped::Failed(e)) => Err(e),
            Err(Stopped::Deadline { last, .. }) => Err(stopped(
                last,
                describe(),
                Interrupted::Deadline,
                "no answer before the resource's timeout",
            )),
            Err(Stopped::Cancelled { last, .. }) => Err(stopped(
                last,
                describe(),
                Interrupted::Cancelled,
                "cancelled",
            )),
        }
    }

    /// `data` of a read, or `None` when the path (or its mount) does not exist.
    pub async fn read(
        &self,
        ctx: &Ctx,
        request: &VaultRequest,
    ) -> Result<Option<Json>, VaultError> {
        match self.send(ctx, request).await {
            Ok(body) => Ok(body.and_then(|b| b.get("data").cloned())),
            Err(e) if e.is_gone() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `data` of a write's answer (`Null` when Vault answers 204 or leaves it out).
    pub async fn write(&self, ctx: &Ctx, request: &VaultRequest) -> Result<Json, VaultError> {
        let answer = self.send(ctx, request).await?;
        Ok(answer
            .and_then(|b| b.get("data").cloned())
            .unwrap_or_default())
    }

    /// A delete, or a write that clears: a path already gone counts as done.
    pub async fn remove(&self, ctx: &Ctx, request: &VaultRequest) -> Result<(), VaultError> {
        match self.send(ctx, request).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_gone() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The error of a request that stopped early: what Vault said last, if anything.
fn stopped(
    last: Option<VaultError>,
    request: String,
    why: Interrupted,
    message: &str,
) -> VaultError {
    let base = last.unwrap_or(VaultError {
        request,
        status: None,
        message: message.to_string(),
        interrupted: None,
    });
    VaultError {
        interrupted: Some(why),
        ..base
    }
}

/// reqwest's error text without the URL (which is already in the message).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

impl ProviderConfig {
    /// The Vault client, built on first use.
    pub async fn vault(&self) -> Result<VaultClient, ResourceError> {
        let settings = setting(&self.vault, "Vault", "vault")?
            .cloned()
            .unwrap_or_default();
        self.clients
            .vault
            .get_or_init(|| async move { build(&settings) })
            .await
            .clone()
            .map_err(|cause| ResourceError::backend("configure the Vault client", cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_have_nodelay() {
        let port =
            crate::testing::keep_alive_http_server("application/json", r#"{"data":{}}"#).await;
        let client = build(&VaultSettings {
            address: Some(format!("http://127.0.0.1:{port}")),
            token: Some(Secret::new("s.test".into())),
            ..Default::default()
        })
        .expect("client");
        let answer = client
            .http
            .get(format!("http://127.0.0.1:{port}/v1/sys/health"))
            .send()
            .await
            .expect("answer");
        assert!(answer.status().is_success());
        crate::testing::assert_nodelay_to(port);
    }

    /// A Vault that never answers: the engine's Cancel ends the call at once, and the resource
    /// reports it as cancelled, not as a Vault failure.
    #[tokio::test]
    async fn a_cancelled_call_ends_within_a_second() {
        let port = crate::testing::silent_server().await;
        let client = build(&VaultSettings {
            address: Some(format!("http://127.0.0.1:{port}")),
            token: Some(Secret::new("s.test".into())),
            ..Default::default()
        })
        .expect("client");
        let (canceller, ctx) = crate::modules::backend::tests::ctx(Duration::from_secs(600));
        let request = VaultRequest::post("pki/root/generate/internal", serde_json::json!({}));
        let (result, after_cancel) = crate::testing::cancel_after(
            move || canceller.cancel(),
            Duration::from_millis(200),
            client.send(&ctx, &request),
        )
        .await;
        assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
        let err = result.expect_err("no answer");
        assert_eq!(err.interrupted, Some(Interrupted::Cancelled));
        assert!(matches!(ResourceError::from(err), ResourceError::Cancelled));
    }

    #[test]
    fn vault_error_envelopes_become_text() {
        assert_eq!(
            error_message(r#"{"errors":["common name x not allowed by this role"]}"#),
            "common name x not allowed by this role"
        );
        assert_eq!(error_message(r#"{"errors":["a","b"]}"#), "a; b");
        assert_eq!(error_message(""), "no details");
        assert_eq!(
            error_message("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn forbidden_reads_as_an_authentication_problem() {
        let e = VaultError {
            request: "POST /v1/pki/issue/web".into(),
            status: Some(403),
            message: "permission denied".into(),
            interrupted: None,
        };
        assert!(
            e.cause()
                .starts_with("permission denied (HTTP 403): the Vault token is invalid")
        );
    }

    #[test]
    fn settings_fall_back_to_the_environment() {
        let env = |k: &str| match k {
            "VAULT_ADDR" => Some("http://127.0.0.1:8200/".to_string()),
            "VAULT_NAMESPACE" => Some("team".to_string()),
            "VAULT_SKIP_VERIFY" => Some("true".to_string()),
            _ => None,
        };
        let r = resolve(&VaultSettings::default(), env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.address, "http://127.0.0.1:8200");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert!(r.skip_tls_verify);
        let own = VaultSettings {
            address: Some("https://vault:8200".into()),
            namespace: Some("other".into()),
            skip_tls_verify: Some(false),
            ..Default::default()
        };
        let r = resolve(&own, env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.address, "https://vault:8200");
        assert_eq!(r.namespace.as_deref(), Some("other"));
        assert!(!r.skip_tls_verify);
        assert!(resolve(&VaultSettings::default(), |_| None).is_err());
        let with_password = VaultSettings {
            address: Some("https://admin:hunter2@vault:8200".into()),
            ..Default::default()
        };
        let refused = resolve(&with_password, |_| None).err().unwrap_or_default();
        assert!(refused.contains("must not carry credentials") && !refused.contains("hunter2"));
        let bad = VaultSettings {
            address: Some("vault:8200".into()),
            ..Default::default()
        };
        assert!(resolve(&bad, |_| None).is_err());
    }
}
