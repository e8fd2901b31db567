//! `zerotrust:tls:CertRequest`, as pulumi-tls `CertRequest`.

use super::common::{CertRequestSubject, check_private_key, check_sans, known_list, parse_ips};
use crate::modules::{Ctx, ProviderConfig};
use crate::pki;
use crate::typed::{CheckCtx, Created, Failures, Resource, ResourceError, Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct CertRequest;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertRequestInputs {
    /// Private key in PEM (RFC 1421) format, that the certificate will belong to. Any of the
    /// forms `PrivateKey` outputs is accepted.
    pub private_key_pem: Value<Secret<String>>,
    /// The subject for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Value<CertRequestSubject>>,
    /// List of DNS names for which a certificate is being requested (i.e. certificate subjects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Value<Vec<String>>>,
    /// List of IP addresses for which a certificate is being requested (i.e. certificate
    /// subjects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Value<Vec<String>>>,
    /// List of URIs for which a certificate is being requested (i.e. certificate subjects),
    /// such as SPIFFE IDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uris: Option<Value<Vec<String>>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertRequestOutputs {
    /// Private key in PEM (RFC 1421) format, that the certificate will belong to.
    pub private_key_pem: Value<Secret<String>>,
    /// The subject for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Value<CertRequestSubject>>,
    /// List of DNS names for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Value<Vec<String>>>,
    /// List of IP addresses for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Value<Vec<String>>>,
    /// List of URIs for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uris: Option<Value<Vec<String>>>,
    /// The certificate request data in PEM (RFC 1421) format.
    pub cert_request_pem: Value<String>,
    /// Name of the algorithm used when generating the private key provided in
    /// `privateKeyPem`.
    pub key_algorithm: Value<String>,
}

impl Resource<ProviderConfig> for CertRequest {
    type Inputs = CertRequestInputs;
    type Outputs = CertRequestOutputs;
    const TOKEN: &'static str = "zerotrust:tls:CertRequest";
    const DESCRIPTION: &'static str = include_str!("docs/cert_request.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, CertRequestInputs>,
        mut inputs: CertRequestInputs,
        failures: &mut Failures,
    ) -> CertRequestInputs {
        check_private_key(&mut inputs.private_key_pem, "privateKeyPem", failures);
        check_sans(
            inputs.dns_names.as_ref(),
            inputs.ip_addresses.as_ref(),
            inputs.uris.as_ref(),
            failures,
        );
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: CertRequestInputs,
    ) -> Result<Created<CertRequestOutputs>, ResourceError> {
        let (csr, key_algorithm, id) = if ctx.preview() {
            // The key algorithm is predictable in preview even though the CSR is not.
            let alg = super::issuing::predicted_key_algorithm(&inputs.private_key_pem);
            (Value::Unknown, alg, String::new())
        } else {
            let Value::Known(key) = &inputs.private_key_pem else {
                return Err(ResourceError::Internal(
                    "privateKeyPem unknown outside preview".into(),
                ));
            };
            let key = key.clone();
            let subject = match &inputs.subject {
                Some(Value::Known(s)) => s.to_pki(),
                _ => pki::Subject::default(),
            };
            let dns_names = known_list(&inputs.dns_names);
            let ips = parse_ips(&known_list(&inputs.ip_addresses));
            let uris = known_list(&inputs.uris);
            super::common::off_runtime(move || {
                let parsed = pki::parse_private_key(key.expose())
                    .map_err(|e| ResourceError::backend("parse private key", e))?;
                let csr = pki::create_csr(&parsed, &subject, &dns_names, &ips, &uris)
                    .map_err(|e| ResourceError::backend("create certificate request", e))?;
                Ok((
                    Value::Known(csr.csr_pem),
                    Value::Known(parsed.algorithm().name().to_string()),
                    csr.id,
                ))
            })
            .await?
        };
        Ok(Created {
            id,
            outputs: CertRequestOutputs {
                private_key_pem: inputs.private_key_pem,
                subject: inputs.subject,
                dns_names: inputs.dns_names,
                ip_addresses: inputs.ip_addresses,
                uris: inputs.uris,
                cert_request_pem: csr,
                key_algorithm,
            },
        })
    }
}
