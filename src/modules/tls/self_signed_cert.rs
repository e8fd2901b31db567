//! `zerotrust:tls:SelfSignedCert`, as pulumi-tls `SelfSignedCert`, with renewal decided at
//! Diff time and optional backdating.

use super::common::{
    SelfSignedCertSubject, check_private_key, check_sans, known_bool, known_list, parse_ips,
};
use super::issuing::{
    CertTimes, IssueInputs, RenewableOutputs, predicted_key_algorithm, read_recorded, renewal_diff,
    unknown_times, update_early_renewal,
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

pub struct SelfSignedCert;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfSignedCertInputs {
    /// Private key in PEM (RFC 1421) format, that the certificate will belong to.
    #[schemars(transform = replace_on_changes)]
    pub private_key_pem: Value<Secret<String>>,
    /// The subject for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub subject: Option<Value<SelfSignedCertSubject>>,
    /// List of DNS names for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub dns_names: Option<Value<Vec<String>>>,
    /// List of IP addresses for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ip_addresses: Option<Value<Vec<String>>>,
    /// List of URIs (e.g. SPIFFE IDs) for which a certificate is being requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub uris: Option<Value<Vec<String>>>,
    /// Should the generated certificate include an authority key identifier: for self-signed
    /// certificates this is the same value as the subject key identifier (default: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub set_authority_key_id: Option<Value<bool>>,
    /// Issuance options.
    #[serde(flatten)]
    pub issue: IssueInputs,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfSignedCertOutputs {
    #[serde(flatten)]
    pub inputs: SelfSignedCertInputs,
    /// Certificate data in PEM (RFC 1421) format, ending with a newline.
    pub cert_pem: Value<String>,
    /// Name of the algorithm used when generating the private key provided in
    /// `privateKeyPem`.
    pub key_algorithm: Value<String>,
    #[serde(flatten)]
    pub times: CertTimes,
}

impl Resource<ProviderConfig> for SelfSignedCert {
    type Inputs = SelfSignedCertInputs;
    type Outputs = SelfSignedCertOutputs;
    const TOKEN: &'static str = "zerotrust:tls:SelfSignedCert";
    const DESCRIPTION: &'static str = include_str!("docs/self_signed_cert.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, SelfSignedCertInputs>,
        mut inputs: SelfSignedCertInputs,
        failures: &mut Failures,
    ) -> SelfSignedCertInputs {
        check_private_key(&mut inputs.private_key_pem, "privateKeyPem", failures);
        inputs.issue.check(failures);
        check_sans(
            inputs.dns_names.as_ref(),
            inputs.ip_addresses.as_ref(),
            inputs.uris.as_ref(),
            failures,
        );
        if inputs.issue.is_ca() {
            let empty = match &inputs.subject {
                None => true,
                Some(Value::Known(s)) => s.is_empty(),
                Some(Value::Unknown) => false,
            };
            if empty {
                failures.at(
                    "subject",
                    "a CA certificate needs a subject (e.g. commonName)",
                );
            }
        }
        inputs
    }

    fn diff_extra(
        &self,
        diff: &DiffInput<'_, SelfSignedCertInputs, SelfSignedCertOutputs>,
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
        inputs: SelfSignedCertInputs,
    ) -> Result<Created<SelfSignedCertOutputs>, ResourceError> {
        if ctx.preview() {
            let key_algorithm = predicted_key_algorithm(&inputs.private_key_pem);
            return Ok(Created {
                id: String::new(),
                outputs: SelfSignedCertOutputs {
                    inputs,
                    cert_pem: Value::Unknown,
                    key_algorithm,
                    times: unknown_times(),
                },
            });
        }
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
        let spec = pki::CertSpec {
            subject,
            dns_names: known_list(&inputs.dns_names),
            ip_addresses: parse_ips(&known_list(&inputs.ip_addresses)),
            uris: known_list(&inputs.uris),
            set_authority_key_id: known_bool(&inputs.set_authority_key_id),
            options: inputs
                .issue
                .options(ctx.now(), ctx.config().backdate_minutes()),
        };
        let (issued, key_algorithm) = super::common::off_runtime(move || {
            let key = pki::parse_private_key(key.expose())
                .map_err(|e| ResourceError::backend("parse private key", e))?;
            let issued = pki::self_signed(&key, &spec)
                .map_err(|e| ResourceError::backend("sign certificate", e))?;
            Ok((issued, key.algorithm().name().to_string()))
        })
        .await?;
        let early = inputs.issue.early_renewal();
        Ok(Created {
            id: issued.serial_decimal.clone(),
            outputs: SelfSignedCertOutputs {
                inputs,
                cert_pem: Value::Known(issued.cert_pem.clone()),
                key_algorithm: Value::Known(key_algorithm),
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
        inputs: Option<SelfSignedCertInputs>,
        outputs: Option<SelfSignedCertOutputs>,
    ) -> Result<ReadOutcome<SelfSignedCertInputs, SelfSignedCertOutputs>, ResourceError> {
        read_recorded("SelfSignedCert", id, inputs, outputs, ctx.now())
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: SelfSignedCertOutputs,
        news: SelfSignedCertInputs,
    ) -> Result<SelfSignedCertOutputs, ResourceError> {
        Ok(update_early_renewal(
            olds,
            news.issue.early_renewal_hours,
            ctx.now(),
        ))
    }
}

impl RenewableOutputs for SelfSignedCertOutputs {
    fn renewal_parts(&mut self) -> (&mut Option<Value<i64>>, &mut CertTimes) {
        (&mut self.inputs.issue.early_renewal_hours, &mut self.times)
    }
}
