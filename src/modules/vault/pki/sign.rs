//! `vault/pkiSecret:SecretBackendSign`: a certificate for a CSR, signed under a role; renewed at
//! diff time, revoked on destroy when asked.

use super::cert::{renewal_due, role_refusal};
use super::common::{
    IssueFields, ca_chain, certificate_known, check_issue_fields, issue, known_str, revoke_if_asked,
};
use super::{COMMA_JOINED, now_unix};
use crate::codec::PropertyPath;
use crate::codec::typed_json::plain_json;
use crate::modules::tls::common::check_pem;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{clean_path, text, vault_body};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub struct SecretBackendSign;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInputs {
    /// The PKI mount's path.
    #[schemars(transform = replace_on_changes)]
    pub backend: Value<String>,
    /// The role to sign under.
    #[schemars(transform = replace_on_changes)]
    pub name: Value<String>,
    /// The certificate signing request, PEM.
    #[schemars(transform = replace_on_changes)]
    pub csr: Value<String>,
    /// The certificate's common name (the role's `useCsrCommonName`, on by default, takes the
    /// CSR's instead).
    #[schemars(transform = replace_on_changes)]
    pub common_name: Value<String>,
    /// Subject alternative DNS names and emails (the role's `useCsrSans`, on by default, takes
    /// the CSR's instead).
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
pub struct SignOutputs {
    #[serde(flatten)]
    pub inputs: SignInputs,
    /// The certificate, in `format`.
    pub certificate: Value<String>,
    /// The issuing CA's certificate.
    pub issuing_ca: Value<String>,
    /// The chain from the issuing CA up, one certificate each.
    pub ca_chains: Value<Vec<String>>,
    /// Serial number, colon-separated hex.
    pub serial_number: Value<String>,
    /// Expiry, seconds since the Unix epoch.
    pub expiration: Value<i64>,
    /// Whether `autoRenew` will replace the certificate on the next `up`.
    pub renew_pending: Value<bool>,
}

const DEFAULT_MIN_SECONDS: i64 = 604_800;
/// Inputs that go in the path or only steer this provider.
const NOT_IN_BODY: [&str; 7] = [
    "backend",
    "name",
    "namespace",
    "issuerRef",
    "autoRenew",
    "minSecondsRemaining",
    "revoke",
];

fn min_seconds(inputs: &SignInputs) -> i64 {
    inputs
        .min_seconds_remaining
        .as_ref()
        .and_then(Value::known)
        .copied()
        .unwrap_or(DEFAULT_MIN_SECONDS)
}

fn auto_renew(inputs: &SignInputs) -> bool {
    inputs
        .auto_renew
        .as_ref()
        .and_then(Value::known)
        .copied()
        .unwrap_or(false)
}

/// The signing path: the role's issuer, or the named one.
pub fn sign_path(backend: &str, role: &str, issuer_ref: Option<&str>) -> String {
    match issuer_ref.filter(|r| !r.is_empty()) {
        Some(issuer) => format!("{}/issuer/{issuer}/sign/{role}", clean_path(backend)),
        None => format!("{}/sign/{role}", clean_path(backend)),
    }
}

/// The request that signs the CSR.
pub fn sign_request(inputs: &SignInputs) -> Result<VaultRequest, ResourceError> {
    let (Value::Known(backend), Value::Known(role)) = (&inputs.backend, &inputs.name) else {
        return Err(ResourceError::Internal(
            "backend or name unknown outside preview".into(),
        ));
    };
    let json = serde_json::to_value(inputs).map_err(|e| ResourceError::Internal(e.to_string()))?;
    let body = vault_body(&plain_json(json), &NOT_IN_BODY, &COMMA_JOINED);
    Ok(VaultRequest::post(
        sign_path(backend, role, known_str(&inputs.issuer_ref)),
        body,
    )
    .in_namespace(known_str(&inputs.namespace)))
}

/// The request that reads the role, for the name checks.
pub fn role_request(backend: &str, role: &str, namespace: Option<&str>) -> VaultRequest {
    VaultRequest::get(format!("{}/roles/{role}", clean_path(backend))).in_namespace(namespace)
}

/// The names the role will judge, with the property each comes from. For `sign`, Vault takes the
/// common name and the SANs from the CSR unless the role turns `use_csr_common_name` or
/// `use_csr_sans` off (both are on by default); the CSR's common name is not read here, so that
/// case is left to Vault.
pub fn names_to_check(role: &Json, inputs: &SignInputs) -> Vec<(PropertyPath, String)> {
    let on_by_default = |k: &str| role.get(k).and_then(Json::as_bool).unwrap_or(true);
    let mut names = Vec::new();
    if !on_by_default("use_csr_common_name")
        && let Value::Known(cn) = &inputs.common_name
    {
        names.push((PropertyPath::root().key("commonName"), cn.clone()));
    }
    if on_by_default("use_csr_sans") {
        if let Value::Known(csr) = &inputs.csr
            && let Ok(info) = crate::pki::csr_info(csr)
        {
            for name in info.dns_names {
                names.push((PropertyPath::root().key("csr"), name));
            }
        }
    } else if let Some(Value::Known(alt)) = &inputs.alt_names {
        for (i, name) in alt.iter().enumerate() {
            if !name.contains('@') {
                names.push((PropertyPath::root().key("altNames").index(i), name.clone()));
            }
        }
    }
    names
}

pub fn outputs_from(inputs: SignInputs, data: &Json, now: i64) -> SignOutputs {
    let expiration = data
        .get("expiration")
        .and_then(Json::as_i64)
        .unwrap_or_default();
    let renew_pending = renewal_due(auto_renew(&inputs), expiration, min_seconds(&inputs), now);
    SignOutputs {
        certificate: Value::Known(text(data, "certificate").unwrap_or_default()),
        issuing_ca: Value::Known(text(data, "issuing_ca").unwrap_or_default()),
        ca_chains: Value::Known(ca_chain(data)),
        serial_number: Value::Known(text(data, "serial_number").unwrap_or_default()),
        expiration: Value::Known(expiration),
        renew_pending: Value::Known(renew_pending),
        inputs,
    }
}

impl Resource<ProviderConfig> for SecretBackendSign {
    type Inputs = SignInputs;
    type Outputs = SignOutputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendSign";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/sign.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        if let Value::Known(n) = &inputs.name
            && (n.is_empty() || n.contains('/'))
        {
            failures.at("name", format!("{n:?} is not a role name"));
        }
        check_pem(
            &mut inputs.csr,
            "csr",
            crate::pki::validate_csr_pem,
            failures,
        );
        check_issue_fields(
            IssueFields {
                backend: &mut inputs.backend,
                common_name: &inputs.common_name,
                ttl: inputs.ttl.as_ref(),
                format: inputs.format.as_ref(),
                private_key_format: None,
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

    /// When the role can be read, refuse names it would refuse now, with the property path,
    /// rather than at sign time.
    async fn check_live(&self, ctx: &Ctx, inputs: &Self::Inputs, failures: &mut Failures) {
        let (Value::Known(backend), Value::Known(role)) = (&inputs.backend, &inputs.name) else {
            return;
        };
        let Ok(vault) = ctx.config().vault().await else {
            return;
        };
        let request = role_request(backend, role, known_str(&inputs.namespace));
        let Ok(Some(live)) = vault.read(ctx, &request).await else {
            return;
        };
        for (property, name) in names_to_check(&live, inputs) {
            if let Some(reason) = role_refusal(&live, &name) {
                failures.add(property, format!("{reason} (role {role})"));
            }
        }
    }

    fn diff_extra(&self, diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> Vec<ExtraDiff> {
        let Value::Known(expiration) = diff.olds.expiration else {
            return Vec::new();
        };
        if renewal_due(
            auto_renew(diff.news),
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
                outputs: SignOutputs {
                    inputs,
                    certificate: Value::Unknown,
                    issuing_ca: Value::Unknown,
                    ca_chains: Value::Unknown,
                    serial_number: Value::Unknown,
                    expiration: Value::Unknown,
                    renew_pending: Value::Known(false),
                },
            });
        }
        let request = sign_request(&inputs)?;
        let now = now_unix(ctx.now());
        let (outputs, serial) = issue(ctx, &request, "serial_number", |data| {
            outputs_from(inputs, data, now)
        })
        .await?;
        let backend = outputs.inputs.backend.known().cloned().unwrap_or_default();
        Ok(Created {
            id: format!("{}/cert/{serial}", clean_path(&backend)),
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
                "a signed certificate cannot be imported: Vault does not keep the parameters it was signed with".into(),
            ));
        };
        if !certificate_known(ctx, &id, known_str(&inputs.namespace)).await? {
            return Ok(ReadOutcome::Gone);
        }
        if let Value::Known(expiration) = outputs.expiration {
            outputs.renew_pending = Value::Known(renewal_due(
                auto_renew(&inputs),
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
        let renew_pending = match olds.expiration {
            Value::Known(exp) => Value::Known(renewal_due(
                auto_renew(&news),
                exp,
                min_seconds(&news),
                now_unix(ctx.now()),
            )),
            Value::Unknown => Value::Unknown,
        };
        Ok(SignOutputs {
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
        revoke_if_asked(
            ctx,
            &inputs.revoke,
            &inputs.backend,
            &outputs.serial_number,
            known_str(&inputs.namespace),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::vault::pki::common::tests::csr;
    use serde_json::json;

    fn inputs(extra: Json) -> SignInputs {
        let mut base = json!({"backend": "pki", "name": "ai-system", "csr": "CSR", "commonName": "node.ai-system.example.com"});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sign_request_leaves_provider_settings_out() {
        let i = inputs(json!({
            "ttl": "720h", "altNames": ["a.ai-system.example.com", "b.ai-system.example.com"],
            "autoRenew": true, "revoke": true, "minSecondsRemaining": 60, "namespace": "team",
        }));
        let r = sign_request(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/sign/ai-system");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(json!({
                "csr": "CSR", "common_name": "node.ai-system.example.com", "ttl": "720h",
                "alt_names": "a.ai-system.example.com,b.ai-system.example.com",
            }))
        );
        let named = sign_request(&inputs(json!({"issuerRef": "int-2026"})))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(named.path, "pki/issuer/int-2026/sign/ai-system");
        assert_eq!(
            named.body,
            Some(json!({"csr": "CSR", "common_name": "node.ai-system.example.com"}))
        );
        assert_eq!(
            role_request("pki", "ai-system", None).path,
            "pki/roles/ai-system"
        );
    }

    #[test]
    fn outputs_and_renewal() {
        let answer = json!({"certificate": "C", "issuing_ca": "I", "ca_chain": ["I", "R"], "serial_number": "0a", "expiration": 1_000_000});
        let o = outputs_from(
            inputs(json!({"autoRenew": true, "minSecondsRemaining": 100})),
            &answer,
            999_950,
        );
        assert_eq!(
            o.ca_chains,
            Value::Known(vec!["I".to_string(), "R".to_string()])
        );
        assert_eq!(o.expiration, Value::Known(1_000_000));
        assert_eq!(o.renew_pending, Value::Known(true));
        let o = outputs_from(inputs(json!({})), &answer, 999_950);
        assert_eq!(o.renew_pending, Value::Known(false));
    }

    #[test]
    fn names_come_from_the_csr_unless_the_role_says_otherwise() {
        let mut i = inputs(json!({"altNames": ["x.example.com", "ops@example.com"]}));
        i.csr = Value::Known(csr(&["node.ai-system.example.com", "evil.example.com"]));
        let paths = |role: Json| -> Vec<(String, String)> {
            names_to_check(&role, &i)
                .into_iter()
                .map(|(p, n)| (p.to_string(), n))
                .collect()
        };
        assert_eq!(
            paths(json!({})),
            vec![
                ("csr".to_string(), "node.ai-system.example.com".to_string()),
                ("csr".to_string(), "evil.example.com".to_string())
            ]
        );
        assert_eq!(
            paths(json!({"use_csr_common_name": false, "use_csr_sans": false})),
            vec![
                (
                    "commonName".to_string(),
                    "node.ai-system.example.com".to_string()
                ),
                ("altNames[0]".to_string(), "x.example.com".to_string()),
            ]
        );
        let role = json!({"allowed_domains": ["ai-system.example.com"], "allow_subdomains": true});
        let refused: Vec<String> = names_to_check(&role, &i)
            .into_iter()
            .filter(|(_, n)| role_refusal(&role, n).is_some())
            .map(|(_, n)| n)
            .collect();
        assert_eq!(refused, vec!["evil.example.com"]);
    }

    #[test]
    fn check_reports_csr_ttl_and_format() {
        let ctx = CheckCtx {
            name: "s",
            random_seed: &[],
            olds: None,
        };
        let mut f = Failures::default();
        let i = inputs(
            json!({"ttl": "1 month", "format": "jks", "minSecondsRemaining": -1, "name": "a/b"}),
        );
        SecretBackendSign.check(&ctx, i, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec!["name", "csr", "ttl", "format", "minSecondsRemaining"]
        );
        let mut good = inputs(json!({"backend": "/pki/"}));
        let pem = csr(&[]);
        good.csr = Value::Known(pem.replace('\n', "\r\n"));
        let mut f = Failures::default();
        let checked = SecretBackendSign.check(&ctx, good, &mut f);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(checked.csr, Value::Known(pem));
        assert_eq!(checked.backend, Value::Known("pki".into()));
    }
}
