//! `zerotrust:tls:LocallySignedCert`, as pulumi-tls `LocallySignedCert`: a certificate issued
//! from a CSR by a CA whose key and certificate the program holds.

use super::common::{check_pem, check_private_key};
use super::issuing::{
    CertTimes, IssueInputs, RenewableOutputs, read_recorded, renewal_diff, unknown_times,
    update_early_renewal,
};
use crate::modules::{Ctx, ProviderConfig};
use crate::pki;
use crate::typed::replace_on_changes;
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError,
    Secret, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct LocallySignedCert;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocallySignedCertInputs {
    /// Certificate request data in PEM (RFC 1421) format.
    #[schemars(transform = replace_on_changes)]
    pub cert_request_pem: Value<String>,
    /// Certificate data of the Certificate Authority (CA) in PEM (RFC 1421) format.
    #[schemars(transform = replace_on_changes)]
    pub ca_cert_pem: Value<String>,
    /// Private key of the Certificate Authority (CA) used to sign the certificate, in PEM
    /// (RFC 1421) format.
    #[schemars(transform = replace_on_changes)]
    pub ca_private_key_pem: Value<Secret<String>>,
    /// Issuance options.
    #[serde(flatten)]
    pub issue: IssueInputs,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocallySignedCertOutputs {
    #[serde(flatten)]
    pub inputs: LocallySignedCertInputs,
    /// Certificate data in PEM (RFC 1421) format, ending with a newline.
    pub cert_pem: Value<String>,
    /// Name of the algorithm used when generating the private key provided in
    /// `caPrivateKeyPem`.
    pub ca_key_algorithm: Value<String>,
    #[serde(flatten)]
    pub times: CertTimes,
}

impl Resource<ProviderConfig> for LocallySignedCert {
    type Inputs = LocallySignedCertInputs;
    type Outputs = LocallySignedCertOutputs;
    const TOKEN: &'static str = "zerotrust:tls:LocallySignedCert";
    const DESCRIPTION: &'static str = include_str!("docs/locally_signed_cert.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, LocallySignedCertInputs>,
        mut inputs: LocallySignedCertInputs,
        failures: &mut Failures,
    ) -> LocallySignedCertInputs {
        check_pem(
            &mut inputs.cert_request_pem,
            "certRequestPem",
            pki::csr_info,
            failures,
        );
        check_pem(
            &mut inputs.ca_cert_pem,
            "caCertPem",
            pki::cert_info,
            failures,
        );
        check_private_key(&mut inputs.ca_private_key_pem, "caPrivateKeyPem", failures);
        inputs.issue.check(failures);
        inputs
    }

    fn diff_extra(
        &self,
        diff: &DiffInput<'_, LocallySignedCertInputs, LocallySignedCertOutputs>,
    ) -> Vec<ExtraDiff> {
        renewal_diff(
            &diff.olds.times,
            diff.news.issue.early_renewal_hours.as_ref(),
            diff.now,
        )
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: LocallySignedCertInputs,
    ) -> Result<Created<LocallySignedCertOutputs>, ResourceError> {
        let ca_key = match &inputs.ca_private_key_pem {
            Value::Known(key) => Some(
                pki::parse_private_key(key.expose())
                    .map_err(|e| ResourceError::backend("parse CA private key", e))?,
            ),
            Value::Unknown => None,
        };
        let ca_key_algorithm = ca_key.as_ref().map_or(Value::Unknown, |k| {
            Value::Known(k.algorithm().name().to_string())
        });
        let (Some(ca_key), false) = (ca_key, ctx.preview()) else {
            return Ok(Created {
                id: String::new(),
                outputs: LocallySignedCertOutputs {
                    inputs,
                    cert_pem: Value::Unknown,
                    ca_key_algorithm,
                    times: unknown_times(),
                },
            });
        };
        let (Value::Known(csr), Value::Known(ca_cert)) =
            (&inputs.cert_request_pem, &inputs.ca_cert_pem)
        else {
            return Err(ResourceError::Internal(
                "inputs unknown outside preview".into(),
            ));
        };
        let options = inputs
            .issue
            .options(ctx.now(), ctx.config().backdate_minutes());
        let (csr, ca_cert) = (csr.clone(), ca_cert.clone());
        let issued = super::common::off_runtime(move || {
            pki::locally_signed(&csr, &ca_cert, &ca_key, &options)
                .map_err(|e| ResourceError::backend("sign certificate", e))
        })
        .await?;
        if issued.issuer_not_ca {
            ctx.warn("caCertPem is not a CA certificate (no CA:TRUE basic constraint); the certificate was signed anyway, as pulumi-tls does, but verifiers will reject its chain");
        }
        let early = inputs.issue.early_renewal();
        Ok(Created {
            id: issued.serial_decimal.clone(),
            outputs: LocallySignedCertOutputs {
                inputs,
                cert_pem: Value::Known(issued.cert_pem.clone()),
                ca_key_algorithm,
                times: CertTimes::known(
                    &issued.not_before_rfc3339,
                    &issued.not_after_rfc3339,
                    early,
                    ctx.now(),
                ),
            },
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<LocallySignedCertInputs>,
        outputs: Option<LocallySignedCertOutputs>,
    ) -> Result<ReadOutcome<LocallySignedCertInputs, LocallySignedCertOutputs>, ResourceError> {
        read_recorded("LocallySignedCert", id, inputs, outputs, ctx.now())
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: LocallySignedCertOutputs,
        news: LocallySignedCertInputs,
    ) -> Result<LocallySignedCertOutputs, ResourceError> {
        Ok(update_early_renewal(
            olds,
            news.issue.early_renewal_hours,
            ctx.now(),
        ))
    }
}

impl RenewableOutputs for LocallySignedCertOutputs {
    fn renewal_parts(&mut self) -> (&mut Option<Value<i64>>, &mut CertTimes) {
        (&mut self.inputs.issue.early_renewal_hours, &mut self.times)
    }
}
