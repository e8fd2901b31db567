//! `zerotrust:tls:LocallySignedCert`, as pulumi-tls `LocallySignedCert`: a certificate issued
//! from a CSR by a CA whose key and certificate the program holds.

use super::common::{allowed_uses, check_pem, check_private_key, known_bool, known_i64};
use super::issuing::{
    CertTimes, RenewableOutputs, check_cert_options, read_recorded, renewal_diff, unknown_times,
    update_early_renewal,
};
use crate::pki;
use crate::typed::{
    CheckCtx, Created, Ctx, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError,
    Secret, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct LocallySignedCert;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocallySignedCertInputs {
    /// Certificate request data in PEM (RFC 1421) format.
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub cert_request_pem: Value<String>,
    /// Certificate data of the Certificate Authority (CA) in PEM (RFC 1421) format.
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub ca_cert_pem: Value<String>,
    /// Private key of the Certificate Authority (CA) used to sign the certificate, in PEM
    /// (RFC 1421) format.
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub ca_private_key_pem: Value<Secret<String>>,
    /// List of key usages allowed for the issued certificate, in snake_case (e.g.
    /// `digital_signature`, `key_encipherment`, `server_auth`, `client_auth`).
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub allowed_uses: Value<Vec<String>>,
    /// Number of hours, after initial issuing, that the certificate will remain valid for.
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub validity_period_hours: Value<i64>,
    /// Is the generated certificate representing a Certificate Authority (CA) (default: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub is_ca_certificate: Option<Value<bool>>,
    /// Maximum number of intermediate certificates that may follow this certificate in a valid
    /// certification path. Ignored unless `isCaCertificate`. -1 means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub max_path_length: Option<Value<i64>>,
    /// Should the generated certificate include a subject key identifier (default: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub set_subject_key_id: Option<Value<bool>>,
    /// The resource will consider the certificate to have expired the given number of hours
    /// before its actual expiry time; the next `pulumi up` inside that window replaces it.
    /// Changing it updates in place. (default: `0`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_renewal_hours: Option<Value<i64>>,
    /// Minutes by which the certificate's validity starts before its creation, to tolerate
    /// clock skew (0 to 10080; default: the provider's `defaultBackdateMinutes`, else 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-zerotrust-replace-on-changes" = true))]
    pub backdate_minutes: Option<Value<i64>>,
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

impl Resource for LocallySignedCert {
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
        check_cert_options(
            &mut inputs.allowed_uses,
            &inputs.validity_period_hours,
            inputs.early_renewal_hours.as_ref(),
            inputs.max_path_length.as_ref(),
            inputs.backdate_minutes.as_ref(),
            failures,
        );
        inputs
    }

    fn diff_extra(
        &self,
        diff: &DiffInput<'_, LocallySignedCertInputs, LocallySignedCertOutputs>,
    ) -> Vec<ExtraDiff> {
        renewal_diff(
            &diff.olds.times,
            diff.news.early_renewal_hours.as_ref(),
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
        let (Some(ca_key), false) = (ca_key, ctx.preview) else {
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
        let options = pki::IssueOptions {
            allowed_uses: allowed_uses(
                inputs
                    .allowed_uses
                    .known()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            ),
            is_ca: known_bool(&inputs.is_ca_certificate),
            max_path_length: inputs
                .max_path_length
                .as_ref()
                .and_then(Value::known)
                .copied(),
            set_subject_key_id: known_bool(&inputs.set_subject_key_id),
            validity_hours: match inputs.validity_period_hours {
                Value::Known(h) => h,
                Value::Unknown => 0,
            },
            backdate_minutes: known_i64(&inputs.backdate_minutes, ctx.config.backdate_minutes()),
            now: ctx.now,
            serial: None,
        };
        let issued = pki::locally_signed(csr, ca_cert, &ca_key, &options)
            .map_err(|e| ResourceError::backend("sign certificate", e))?;
        if issued.issuer_not_ca {
            ctx.warn("caCertPem is not a CA certificate (no CA:TRUE basic constraint); the certificate was signed anyway, as pulumi-tls does, but verifiers will reject its chain");
        }
        let early = known_i64(&inputs.early_renewal_hours, 0);
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
                    ctx.now,
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
        read_recorded("LocallySignedCert", id, inputs, outputs, ctx.now)
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
            news.early_renewal_hours,
            ctx.now,
        ))
    }
}

impl RenewableOutputs for LocallySignedCertOutputs {
    fn renewal_parts(&mut self) -> (&mut Option<Value<i64>>, &mut CertTimes) {
        (&mut self.inputs.early_renewal_hours, &mut self.times)
    }
}
