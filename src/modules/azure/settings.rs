//! Azure settings (`zerotrust:azure`, pulumi-azure-native's names, `ARM_*` fallbacks), how
//! they resolve, and where bearer tokens come from.

use crate::typed::Secret;
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, HttpClient, Transport, Url};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// The public cloud's Resource Manager.
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";

/// Azure settings, under `zerotrust:azure` (pulumi-azure-native's provider settings, same
/// names). Unset values come from `ARM_SUBSCRIPTION_ID`, `ARM_TENANT_ID`, `ARM_CLIENT_ID`,
/// `ARM_CLIENT_SECRET`, `ARM_USE_CLI`, `ARM_USE_MSI` and `ARM_USE_OIDC`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureSettings {
    /// The subscription every resource lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// The Microsoft Entra tenant to authenticate in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The client (application) id of a service principal, or of a user-assigned managed
    /// identity with `useMsi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The service principal's client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret<String>>,
    /// Authenticate as the user signed in to the Azure CLI (`az login`). The default when no
    /// other method is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_cli: Option<bool>,
    /// Authenticate with the managed identity of the Azure host running the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_msi: Option<bool>,
    /// Authenticate with workload identity federation: the OIDC token in
    /// `AZURE_FEDERATED_TOKEN_FILE` exchanged for the client's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_oidc: Option<bool>,
    /// A bearer token used as is (for tests and short-lived automation); it wins over every
    /// other method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret<String>>,
    /// The Resource Manager base URL (default `https://management.azure.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// How tokens are obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    StaticToken,
    ClientSecret,
    Oidc,
    ManagedIdentity,
    AzureCli,
}

/// The settings after environment fallbacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub subscription_id: String,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// Without a trailing slash.
    pub endpoint: String,
    pub auth: AuthMethod,
}

fn truthy(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "TRUE" | "True" | "yes")
}

/// Apply the `ARM_*` fallbacks and pick the authentication method.
pub fn resolve(
    settings: &AzureSettings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Resolved, String> {
    let pick = |own: &Option<String>, var: &str| {
        own.clone()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .or_else(|| {
                env(var)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
    };
    let flag =
        |own: Option<bool>, var: &str| own.unwrap_or_else(|| env(var).is_some_and(|v| truthy(&v)));
    let subscription_id = pick(&settings.subscription_id, "ARM_SUBSCRIPTION_ID").ok_or(
        "no Azure subscription: set zerotrust:azure.subscriptionId or ARM_SUBSCRIPTION_ID",
    )?;
    if !is_guid(&subscription_id) {
        return Err(format!(
            "the subscription id {subscription_id:?} is not a GUID"
        ));
    }
    let endpoint = settings
        .endpoint
        .clone()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    let url =
        Url::parse(&endpoint).map_err(|e| format!("invalid Azure endpoint {endpoint:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "invalid Azure endpoint {endpoint:?}: use an http:// or https:// URL"
        ));
    }
    let secret_given = settings
        .client_secret
        .as_ref()
        .is_some_and(|s| !s.expose().is_empty())
        || env("ARM_CLIENT_SECRET").is_some_and(|s| !s.is_empty());
    let static_token = settings
        .token
        .as_ref()
        .is_some_and(|t| !t.expose().trim().is_empty());
    let auth = if static_token {
        AuthMethod::StaticToken
    } else if flag(settings.use_oidc, "ARM_USE_OIDC") {
        AuthMethod::Oidc
    } else if flag(settings.use_msi, "ARM_USE_MSI") {
        AuthMethod::ManagedIdentity
    } else if secret_given && !settings.use_cli.unwrap_or(false) {
        AuthMethod::ClientSecret
    } else {
        AuthMethod::AzureCli
    };
    let resolved = Resolved {
        subscription_id,
        tenant_id: pick(&settings.tenant_id, "ARM_TENANT_ID"),
        client_id: pick(&settings.client_id, "ARM_CLIENT_ID"),
        endpoint: endpoint.trim_end_matches('/').to_string(),
        auth,
    };
    if auth == AuthMethod::ClientSecret
        && (resolved.tenant_id.is_none() || resolved.client_id.is_none())
    {
        return Err(
            "a client secret needs tenantId and clientId (zerotrust:azure or ARM_TENANT_ID / ARM_CLIENT_ID)"
                .into(),
        );
    }
    Ok(resolved)
}

/// Whether `s` is a GUID (8-4-4-4-12 hex digits).
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Where bearer tokens come from.
pub(super) enum Tokens {
    Static(Secret<String>),
    Credential {
        credential: Arc<dyn TokenCredential>,
        scope: String,
        cached: tokio::sync::Mutex<Option<(Secret<String>, OffsetDateTime)>>,
    },
}

impl Tokens {
    pub(super) async fn bearer(&self) -> Result<Secret<String>, String> {
        match self {
            Tokens::Static(t) => Ok(t.clone()),
            Tokens::Credential {
                credential,
                scope,
                cached,
            } => {
                let mut slot = cached.lock().await;
                let now = OffsetDateTime::now_utc();
                if let Some((token, expires)) = slot.as_ref()
                    && expires
                        .checked_sub(time::Duration::minutes(5))
                        .is_some_and(|refresh_at| refresh_at > now)
                {
                    return Ok(token.clone());
                }
                let token = credential
                    .get_token(&[scope.as_str()], None)
                    .await
                    .map_err(|e| format!("could not get an Azure token: {e}"))?;
                let secret = Secret::new(token.token.secret().to_string());
                *slot = Some((secret.clone(), token.expires_on));
                Ok(secret)
            }
        }
    }
}

/// The reqwest client every ARM and token request goes through (rustls on aws-lc-rs, no
/// redirects: ARM does not use them and a bearer token must not follow one).
pub(super) fn http_client() -> Result<Arc<dyn HttpClient>, String> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("zerotrust/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(Arc::new(client))
}

pub(super) fn credential(
    resolved: &Resolved,
    settings: &AzureSettings,
    transport: &Arc<dyn HttpClient>,
) -> Result<Arc<dyn TokenCredential>, String> {
    use azure_identity::*;
    let client_options = ClientOptions {
        transport: Some(Transport::new(transport.clone())),
        ..Default::default()
    };
    let failed = |what: &str, e: azure_core::Error| format!("cannot set up {what}: {e}");
    Ok(match resolved.auth {
        AuthMethod::StaticToken => {
            return Err("a static token needs no credential (a zerotrust bug if seen)".into());
        }
        AuthMethod::ClientSecret => {
            let secret = settings
                .client_secret
                .as_ref()
                .map(|s| s.expose().clone())
                .filter(|s| !s.is_empty())
                .or_else(|| std::env::var("ARM_CLIENT_SECRET").ok())
                .unwrap_or_default();
            ClientSecretCredential::new(
                resolved.tenant_id.as_deref().unwrap_or_default(),
                resolved.client_id.clone().unwrap_or_default(),
                azure_core::credentials::Secret::new(secret),
                Some(ClientSecretCredentialOptions { client_options }),
            )
            .map_err(|e| failed("the client secret credential", e))?
        }
        AuthMethod::Oidc => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                client_id: resolved.client_id.clone(),
                tenant_id: resolved.tenant_id.clone(),
                ..Default::default()
            }))
            .map_err(|e| failed("workload identity (OIDC)", e))?
        }
        AuthMethod::ManagedIdentity => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: resolved.client_id.clone().map(UserAssignedId::ClientId),
                client_options,
            }))
            .map_err(|e| failed("the managed identity credential", e))?
        }
        AuthMethod::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id: resolved.tenant_id.clone(),
            ..Default::default()
        }))
        .map_err(|e| failed("the Azure CLI credential", e))?,
    })
}
