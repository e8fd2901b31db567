//! `vault/pkiSecret:SecretBackendRootSignIntermediate`: an intermediate CA's CSR signed by a CA
//! of a PKI mount; revoked on destroy when asked.

use super::COMMA_JOINED;
use super::common::{
    IssueFields, ca_chain, certificate_bundle, certificate_known, check_issue_fields, issue,
    known_str, revoke_if_asked,
};
use crate::codec::typed_json::plain_json;
use crate::modules::tls::common::check_pem;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{clean_path, text, vault_body};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub struct SecretBackendRootSignIntermediate;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RootSignIntermediateInputs {
    /// The path of the PKI mount holding the signing CA.
    #[schemars(transform = replace_on_changes)]
    pub backend: Value<String>,
    /// The intermediate's certificate signing request, PEM.
    #[schemars(transform = replace_on_changes)]
    pub csr: Value<String>,
    /// The intermediate's common name.
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
    /// Subject alternative URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub uri_sans: Opt<Vec<String>>,
    /// Other SANs, `<oid>;<type>:<value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub other_sans: Opt<Vec<String>>,
    /// Validity, a Vault duration (`43800h`); capped by the signing CA and the mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ttl: Opt<String>,
    /// `pem`, `der` or `pem_bundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub format: Opt<String>,
    /// Longest chain of CAs below the intermediate (-1: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub max_path_length: Opt<i64>,
    /// Leave the common name out of the SANs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub exclude_cn_from_sans: Opt<bool>,
    /// Take the subject, SANs and extensions from the CSR rather than from these inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub use_csr_values: Opt<bool>,
    /// DNS domains the intermediate may issue for (name constraints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub permitted_dns_domains: Opt<Vec<String>>,
    /// Subject organizational unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ou: Opt<String>,
    /// Subject organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub organization: Opt<String>,
    /// Subject country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub country: Opt<String>,
    /// Subject locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub locality: Opt<String>,
    /// Subject province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub province: Opt<String>,
    /// Subject street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub street_address: Opt<String>,
    /// Subject postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub postal_code: Opt<String>,
    /// The issuer that signs, by name or id (default: the mount's default issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub issuer_ref: Opt<String>,
    /// Revoke the intermediate's certificate in Vault on destroy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Opt<bool>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub namespace: Opt<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RootSignIntermediateOutputs {
    #[serde(flatten)]
    pub inputs: RootSignIntermediateInputs,
    /// The intermediate CA's certificate, in `format`.
    pub certificate: Value<String>,
    /// The signing CA's certificate, in `format`.
    pub issuing_ca: Value<String>,
    /// The chain from the signing CA up, one certificate each.
    pub ca_chains: Value<Vec<String>>,
    /// The intermediate's certificate followed by the signing CA's, PEM; empty for `der`.
    pub certificate_bundle: Value<String>,
    /// The certificate's serial number, colon-separated hex.
    pub serial_number: Value<String>,
}

/// Inputs that go in the path or only steer this provider.
const NOT_IN_BODY: [&str; 4] = ["backend", "namespace", "issuerRef", "revoke"];

/// The signing path: the mount's default issuer, or the named one.
pub fn sign_path(backend: &str, issuer_ref: Option<&str>) -> String {
    match issuer_ref.filter(|r| !r.is_empty()) {
        Some(issuer) => format!("{}/issuer/{issuer}/sign-intermediate", clean_path(backend)),
        None => format!("{}/root/sign-intermediate", clean_path(backend)),
    }
}

/// The request that signs the CSR.
pub fn sign_request(inputs: &RootSignIntermediateInputs) -> Result<VaultRequest, ResourceError> {
    let Value::Known(backend) = &inputs.backend else {
        return Err(ResourceError::Internal(
            "backend unknown outside preview".into(),
        ));
    };
    let json = serde_json::to_value(inputs).map_err(|e| ResourceError::Internal(e.to_string()))?;
    let body = vault_body(&plain_json(json), &NOT_IN_BODY, &COMMA_JOINED);
    Ok(
        VaultRequest::post(sign_path(backend, known_str(&inputs.issuer_ref)), body)
            .in_namespace(known_str(&inputs.namespace)),
    )
}

/// The outputs from Vault's answer.
pub fn outputs_from(
    inputs: RootSignIntermediateInputs,
    data: &Json,
) -> RootSignIntermediateOutputs {
    let certificate = text(data, "certificate").unwrap_or_default();
    let issuing_ca = text(data, "issuing_ca").unwrap_or_default();
    let format = known_str(&inputs.format);
    RootSignIntermediateOutputs {
        certificate_bundle: Value::Known(certificate_bundle(&certificate, &issuing_ca, format)),
        ca_chains: Value::Known(ca_chain(data)),
        serial_number: Value::Known(text(data, "serial_number").unwrap_or_default()),
        certificate: Value::Known(certificate),
        issuing_ca: Value::Known(issuing_ca),
        inputs,
    }
}

/// `<backend>/cert/<serial>`, where Vault keeps the signed certificate.
pub fn cert_id(backend: &str, serial: &str) -> String {
    format!("{}/cert/{serial}", clean_path(backend))
}

impl Resource<ProviderConfig> for SecretBackendRootSignIntermediate {
    type Inputs = RootSignIntermediateInputs;
    type Outputs = RootSignIntermediateOutputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendRootSignIntermediate";
    const DESCRIPTION: &'static str = include_str!("docs/root_sign_intermediate.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
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
        if let Some(Value::Known(n)) = inputs.max_path_length
            && n < -1
        {
            failures.at(
                "maxPathLength",
                format!("must be -1 (unlimited) or more, got {n}"),
            );
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: RootSignIntermediateOutputs {
                    inputs,
                    certificate: Value::Unknown,
                    issuing_ca: Value::Unknown,
                    ca_chains: Value::Unknown,
                    certificate_bundle: Value::Unknown,
                    serial_number: Value::Unknown,
                },
            });
        }
        let request = sign_request(&inputs)?;
        let (outputs, serial) = issue(ctx, &request, "serial_number", |data| {
            outputs_from(inputs, data)
        })
        .await?;
        let backend = outputs.inputs.backend.known().cloned().unwrap_or_default();
        Ok(Created {
            id: cert_id(&backend, &serial),
            outputs,
        })
    }

    /// Gone when the signing mount no longer knows the serial (mount deleted, or tidied).
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let (Some(inputs), Some(outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "a signed intermediate cannot be imported: Vault does not keep the parameters it was signed with".into(),
            ));
        };
        if !certificate_known(ctx, &id, known_str(&inputs.namespace)).await? {
            return Ok(ReadOutcome::Gone);
        }
        Ok(ReadOutcome::Found {
            id,
            inputs,
            outputs,
        })
    }

    /// Only `revoke` changes in place; it matters at destroy.
    async fn update(
        &self,
        _ctx: &Ctx,
        _id: String,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        Ok(RootSignIntermediateOutputs {
            inputs: news,
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
    use crate::modules::vault::pki::common::tests::{CA, LEAF};
    use serde_json::json;

    fn inputs(extra: Json) -> RootSignIntermediateInputs {
        let mut base =
            json!({"backend": "pki", "csr": "CSR", "commonName": "ai-system-intermediate"});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sign_request_path_and_body() {
        let i = inputs(json!({
            "ttl": "43800h", "maxPathLength": 0, "useCsrValues": true, "revoke": true,
            "permittedDnsDomains": ["ai-system.example.com"], "uriSans": ["spiffe://ai"], "namespace": "team",
        }));
        let r = sign_request(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/root/sign-intermediate");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(json!({
                "csr": "CSR", "common_name": "ai-system-intermediate", "ttl": "43800h", "max_path_length": 0,
                "use_csr_values": true, "permitted_dns_domains": ["ai-system.example.com"], "uri_sans": "spiffe://ai",
            }))
        );
        let named = sign_request(&inputs(json!({"issuerRef": "root-2026"})))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(named.path, "pki/issuer/root-2026/sign-intermediate");
        assert_eq!(
            named.body,
            Some(json!({"csr": "CSR", "common_name": "ai-system-intermediate"}))
        );
        assert_eq!(
            super::super::cert::revoke_request("pki", "1a:2b", None).path,
            "pki/revoke"
        );
    }

    #[test]
    fn outputs_join_the_bundle_and_chain() {
        let answer = json!({"certificate": LEAF, "issuing_ca": CA, "serial_number": "1a:2b"});
        let o = outputs_from(inputs(json!({})), &answer);
        assert_eq!(o.certificate_bundle, Value::Known(format!("{LEAF}{CA}")));
        assert_eq!(o.ca_chains, Value::Known(vec![CA.to_string()]));
        assert_eq!(o.serial_number, Value::Known("1a:2b".into()));
        let der = outputs_from(
            inputs(json!({"format": "der"})),
            &json!({"certificate": "MII", "issuing_ca": "MIJ"}),
        );
        assert_eq!(der.certificate_bundle, Value::Known(String::new()));
        assert_eq!(cert_id("pki", "1a:2b"), "pki/cert/1a:2b");
    }

    #[test]
    fn check_reports_csr_ttl_format_and_path_length() {
        let i = inputs(json!({"ttl": "ten years", "format": "p12", "maxPathLength": -2}));
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "r",
            random_seed: &[],
            olds: None,
        };
        SecretBackendRootSignIntermediate.check(&ctx, i, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["csr", "ttl", "format", "maxPathLength"]);
    }
}
