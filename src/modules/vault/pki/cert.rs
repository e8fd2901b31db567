//! `vault/pkiSecret:SecretBackendCert`: a certificate and key issued by a role; renewed at diff
//! time, revoked on destroy when asked.

use super::common::{IssueFields, certificate_known, check_issue_fields, issue};
use super::{COMMA_JOINED, now_unix};
use crate::codec::PropertyPath;
use crate::codec::typed_json::plain_json;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{clean_path, list, text, vault_body};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError,
    Secret, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

pub struct SecretBackendCert;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertInputs {
    /// The PKI mount's path.
    #[schemars(transform = replace_on_changes)]
    pub backend: Value<String>,
    /// The role to issue under.
    #[schemars(transform = replace_on_changes)]
    pub name: Value<String>,
    /// The certificate's common name.
    #[schemars(transform = replace_on_changes)]
    pub common_name: Value<String>,
    /// Subject alternative DNS names and emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub alt_names: Opt<Vec<String>>,
    /// Subject alternative IP addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ip_sans: Opt<Vec<String>>,
    /// Subject alternative URIs (e.g. SPIFFE ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub uri_sans: Opt<Vec<String>>,
    /// Other SANs, `<oid>;<type>:<value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub other_sans: Opt<Vec<String>>,
    /// Lifetime, a Vault duration (`720h`); capped by the role and the mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ttl: Opt<String>,
    /// `pem`, `der` or `pem_bundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub format: Opt<String>,
    /// `der` or `pkcs8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub private_key_format: Opt<String>,
    /// Leave the common name out of the SANs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub exclude_cn_from_sans: Opt<bool>,
    /// The issuer that signs, by name or id (default: the role's, else the mount's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub issuer_ref: Opt<String>,
    /// Replace the certificate on the first `up` within `minSecondsRemaining` of expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew: Opt<bool>,
    /// Seconds before expiry from which `autoRenew` replaces (default 604800, 7 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seconds_remaining: Opt<i64>,
    /// Revoke the certificate in Vault on destroy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Opt<bool>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub namespace: Opt<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertOutputs {
    #[serde(flatten)]
    pub inputs: CertInputs,
    /// The certificate, PEM.
    pub certificate: Value<String>,
    /// The issuing CA's certificate, PEM.
    pub issuing_ca: Value<String>,
    /// The chain from the issuing CA up, PEM each.
    pub ca_chain: Value<Vec<String>>,
    /// The private key, PEM.
    pub private_key: Value<Secret<String>>,
    /// `rsa`, `ec` or `ed25519`.
    pub private_key_type: Value<String>,
    /// Serial number, colon-separated hex.
    pub serial_number: Value<String>,
    /// Expiry, seconds since the Unix epoch.
    pub expiration: Value<i64>,
    /// Whether `autoRenew` will replace the certificate on the next `up`.
    pub renew_pending: Value<bool>,
}

const DEFAULT_MIN_SECONDS: i64 = 604_800;
/// Inputs that only steer this provider; Vault never sees them.
const PROVIDER_ONLY: [&str; 7] = [
    "backend",
    "name",
    "namespace",
    "autoRenew",
    "minSecondsRemaining",
    "revoke",
    // Chosen by path (`issuer/<ref>/issue/<role>`): the issue endpoint ignores it in the body.
    "issuerRef",
];

fn namespace_of(inputs: &CertInputs) -> Option<&str> {
    super::common::known_str(&inputs.namespace)
}

fn min_seconds(inputs: &CertInputs) -> i64 {
    inputs
        .min_seconds_remaining
        .as_ref()
        .and_then(Value::known)
        .copied()
        .unwrap_or(DEFAULT_MIN_SECONDS)
}

/// Whether a certificate expiring at `expiration` is due for renewal at `now`.
pub fn renewal_due(
    auto_renew: bool,
    expiration: i64,
    min_seconds_remaining: i64,
    now: i64,
) -> bool {
    auto_renew && expiration.saturating_sub(now) <= min_seconds_remaining
}

/// The request that issues the certificate.
pub fn issue_request(inputs: &CertInputs) -> Result<VaultRequest, ResourceError> {
    let (Value::Known(backend), Value::Known(role)) = (&inputs.backend, &inputs.name) else {
        return Err(ResourceError::Internal(
            "backend or name unknown outside preview".into(),
        ));
    };
    let json = serde_json::to_value(inputs).map_err(|e| ResourceError::Internal(e.to_string()))?;
    let body = vault_body(&plain_json(json), &PROVIDER_ONLY, &COMMA_JOINED);
    let path = match inputs
        .issuer_ref
        .as_ref()
        .and_then(Value::known)
        .filter(|r| !r.is_empty())
    {
        Some(issuer) => format!("{}/issuer/{issuer}/issue/{role}", clean_path(backend)),
        None => format!("{}/issue/{role}", clean_path(backend)),
    };
    Ok(VaultRequest::post(path, body).in_namespace(namespace_of(inputs)))
}

/// The request that revokes a certificate by serial.
pub fn revoke_request(backend: &str, serial: &str, namespace: Option<&str>) -> VaultRequest {
    VaultRequest::post(
        format!("{}/revoke", clean_path(backend)),
        json!({"serial_number": serial}),
    )
    .in_namespace(namespace)
}

/// Why a role would refuse `name`, when its domain policy can be evaluated here.
pub fn role_refusal(role: &Json, name: &str) -> Option<String> {
    let flag = |k: &str| role.get(k).and_then(Json::as_bool).unwrap_or(false);
    // Globs, templates and disabled name validation are Vault's to judge.
    if flag("allow_any_name")
        || flag("allow_glob_domains")
        || flag("allowed_domains_template")
        || list(role, "cn_validations").iter().any(|v| v == "disabled")
    {
        return None;
    }
    // An email address is judged by its domain.
    let name = name.rsplit('@').next().unwrap_or(name);
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" && flag("allow_localhost") {
        return None;
    }
    let domains = list(role, "allowed_domains");
    let allowed = domains.iter().any(|d| {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        (flag("allow_bare_domains") && name == d)
            || (flag("allow_subdomains") && name.ends_with(&format!(".{d}")))
    });
    (!allowed).then(|| {
        format!(
            "{name:?} is not allowed by the role: allowed domains {domains:?}, subdomains {}, bare domains {}",
            if flag("allow_subdomains") { "allowed" } else { "not allowed" },
            if flag("allow_bare_domains") { "allowed" } else { "not allowed" }
        )
    })
}

fn outputs_from(inputs: CertInputs, data: &Json, now: i64) -> CertOutputs {
    let expiration = data
        .get("expiration")
        .and_then(Json::as_i64)
        .unwrap_or_default();
    let auto_renew = inputs
        .auto_renew
        .as_ref()
        .and_then(Value::known)
        .copied()
        .unwrap_or(false);
    let min = min_seconds(&inputs);
    CertOutputs {
        certificate: Value::Known(text(data, "certificate").unwrap_or_default()),
        issuing_ca: Value::Known(text(data, "issuing_ca").unwrap_or_default()),
        ca_chain: Value::Known(list(data, "ca_chain")),
        private_key: Value::Known(Secret::new(text(data, "private_key").unwrap_or_default())),
        private_key_type: Value::Known(text(data, "private_key_type").unwrap_or_default()),
        serial_number: Value::Known(text(data, "serial_number").unwrap_or_default()),
        expiration: Value::Known(expiration),
        renew_pending: Value::Known(renewal_due(auto_renew, expiration, min, now)),
        inputs,
    }
}

impl Resource<ProviderConfig> for SecretBackendCert {
    type Inputs = CertInputs;
    type Outputs = CertOutputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendCert";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/cert.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_issue_fields(
            IssueFields {
                backend: &mut inputs.backend,
                common_name: &inputs.common_name,
                ttl: inputs.ttl.as_ref(),
                format: inputs.format.as_ref(),
                private_key_format: inputs.private_key_format.as_ref(),
            },
            failures,
        );
        if let Some(Value::Known(m)) = inputs.min_seconds_remaining
            && m < 0
        {
            failures.at(
                "minSecondsRemaining",
                format!("must not be negative, got {m}"),
            );
        }
        inputs
    }

    /// The role decides which names are allowed; when it can be read, refuse names it would
    /// refuse now, with the property path, rather than at issue time.
    async fn check_live(&self, ctx: &Ctx, inputs: &Self::Inputs, failures: &mut Failures) {
        let (Value::Known(backend), Value::Known(role), Value::Known(cn)) =
            (&inputs.backend, &inputs.name, &inputs.common_name)
        else {
            return;
        };
        let Ok(vault) = ctx.config().vault().await else {
            return;
        };
        let request = VaultRequest::get(format!("{}/roles/{role}", clean_path(backend)))
            .in_namespace(namespace_of(inputs));
        let Ok(Some(live)) = vault.read(ctx, &request).await else {
            return;
        };
        if let Some(reason) = role_refusal(&live, cn) {
            failures.at("commonName", format!("{reason} (role {role})"));
        }
        if let Some(Value::Known(alt)) = &inputs.alt_names {
            for (i, name) in alt.iter().enumerate() {
                if name.contains('@') {
                    continue;
                }
                if let Some(reason) = role_refusal(&live, name) {
                    failures.add(
                        PropertyPath::root().key("altNames").index(i),
                        format!("{reason} (role {role})"),
                    );
                }
            }
        }
    }

    fn diff_extra(&self, diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> Vec<ExtraDiff> {
        let auto_renew = diff
            .news
            .auto_renew
            .as_ref()
            .and_then(Value::known)
            .copied()
            .unwrap_or(false);
        let Value::Known(expiration) = diff.olds.expiration else {
            return Vec::new();
        };
        if renewal_due(
            auto_renew,
            expiration,
            min_seconds(diff.news),
            now_unix(diff.now),
        ) {
            vec![ExtraDiff {
                property: PropertyPath::root().key("renewPending"),
                replace: true,
            }]
        } else {
            Vec::new()
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: CertOutputs {
                    inputs,
                    certificate: Value::Unknown,
                    issuing_ca: Value::Unknown,
                    ca_chain: Value::Unknown,
                    private_key: Value::Unknown,
                    private_key_type: Value::Unknown,
                    serial_number: Value::Unknown,
                    expiration: Value::Unknown,
                    renew_pending: Value::Known(false),
                },
            });
        }
        let request = issue_request(&inputs)?;
        let now = now_unix(ctx.now());
        let (outputs, serial) = issue(ctx, &request, "serial_number", |data| {
            outputs_from(inputs, data, now)
        })
        .await?;
        Ok(Created {
            id: format!(
                "{}/cert/{serial}",
                outputs.inputs.backend.known().cloned().unwrap_or_default()
            ),
            outputs,
        })
    }

    /// Gone when Vault no longer knows the serial (mount deleted, or tidied after expiry).
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let (Some(inputs), Some(mut outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "an issued certificate cannot be imported: Vault does not keep its private key"
                    .into(),
            ));
        };
        if !certificate_known(ctx, &id, namespace_of(&inputs)).await? {
            return Ok(ReadOutcome::Gone);
        }
        let auto_renew = inputs
            .auto_renew
            .as_ref()
            .and_then(Value::known)
            .copied()
            .unwrap_or(false);
        if let Value::Known(expiration) = outputs.expiration {
            outputs.renew_pending = Value::Known(renewal_due(
                auto_renew,
                expiration,
                min_seconds(&inputs),
                now_unix(ctx.now()),
            ));
        }
        Ok(ReadOutcome::Found {
            id,
            inputs,
            outputs,
        })
    }

    /// Only provider-side settings change in place (`autoRenew`, `minSecondsRemaining`,
    /// `revoke`); everything else replaces.
    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        let auto_renew = news
            .auto_renew
            .as_ref()
            .and_then(Value::known)
            .copied()
            .unwrap_or(false);
        let renew_pending = match olds.expiration {
            Value::Known(exp) => Value::Known(renewal_due(
                auto_renew,
                exp,
                min_seconds(&news),
                now_unix(ctx.now()),
            )),
            _ => Value::Unknown,
        };
        Ok(CertOutputs {
            inputs: news,
            renew_pending,
            ..olds
        })
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        _id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let inputs = &outputs.inputs;
        super::common::revoke_if_asked(
            ctx,
            &inputs.revoke,
            &inputs.backend,
            &outputs.serial_number,
            namespace_of(inputs),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_inside_the_window() {
        assert!(!renewal_due(false, 100, 50, 90));
        assert!(!renewal_due(true, 1000, 50, 900));
        assert!(renewal_due(true, 1000, 100, 900));
        assert!(renewal_due(true, 1000, 0, 1001));
    }

    #[test]
    fn issue_request_leaves_provider_settings_out() {
        let inputs: CertInputs = serde_json::from_value(json!({
            "backend": "pki", "name": "ai-system", "commonName": "node.ai-system.example.com",
            "ttl": "720h", "altNames": ["a.ai-system.example.com"], "uriSans": ["spiffe://ai/node"],
            "autoRenew": true, "revoke": true, "minSecondsRemaining": 60,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let r = issue_request(&inputs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/issue/ai-system");
        assert_eq!(
            r.body,
            Some(
                json!({"common_name": "node.ai-system.example.com", "ttl": "720h", "alt_names": "a.ai-system.example.com", "uri_sans": "spiffe://ai/node"})
            )
        );
        assert_eq!(
            revoke_request("/pki/", "0a:0b", None).body,
            Some(json!({"serial_number": "0a:0b"}))
        );
    }

    #[test]
    fn role_policy_is_evaluated_like_vault() {
        let role = json!({"allowed_domains": ["ai-system.example.com"], "allow_subdomains": true});
        assert_eq!(role_refusal(&role, "node.ai-system.example.com"), None);
        assert!(role_refusal(&role, "ai-system.example.com").is_some());
        assert!(role_refusal(&role, "node.evil.example.com").is_some());
        let bare = json!({"allowed_domains": "ai-system.example.com", "allow_bare_domains": true});
        assert_eq!(role_refusal(&bare, "ai-system.example.com"), None);
        assert_eq!(
            role_refusal(&json!({"allow_any_name": true}), "anything"),
            None
        );
        assert_eq!(role_refusal(&role, "ops@node.ai-system.example.com"), None);
        let unchecked = json!({"allowed_domains": ["x.com"], "cn_validations": ["disabled"]});
        assert_eq!(role_refusal(&unchecked, "anything at all"), None);
        assert_eq!(
            role_refusal(
                &json!({"allow_glob_domains": true, "allowed_domains": ["*.x"]}),
                "y"
            ),
            None
        );
    }
}
