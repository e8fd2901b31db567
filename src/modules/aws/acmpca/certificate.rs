//! `aws/acmpca:Certificate`: a certificate issued by an ACM PCA CA from a CSR; revoked on
//! destroy.

use super::{SIGNING_ALGORITHMS, check_ca_arn, check_one_of, idempotency_token};
use crate::codec::PropertyPath;
use crate::modules::aws::client::{AwsClients, AwsError, call};
use crate::modules::tls::common::{check_pem, ready_for_renewal};
use crate::modules::{Ctx, ProviderConfig};
use crate::pki;
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use aws_sdk_acmpca::types as pca;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct Certificate;

/// How long the certificate is valid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CertificateValidity")]
pub struct Validity {
    /// `DAYS`, `MONTHS`, `YEARS` (a count in `value`), `ABSOLUTE` (a Unix time in seconds) or
    /// `END_DATE` (`YYYYMMDDHHMMSS`, UTC).
    #[serde(rename = "type")]
    pub period_type: String,
    /// The count, time or date, as text.
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInputs {
    /// ARN of the issuing certificate authority.
    #[schemars(transform = replace_on_changes)]
    pub certificate_authority_arn: Value<String>,
    /// The certificate signing request, PEM.
    #[schemars(transform = replace_on_changes)]
    pub certificate_signing_request: Value<String>,
    /// Algorithm the CA signs with; must fit the CA's key (e.g. `SHA256WITHRSA`).
    #[schemars(transform = replace_on_changes)]
    pub signing_algorithm: Value<String>,
    /// How long the certificate is valid.
    #[schemars(transform = replace_on_changes)]
    pub validity: Value<Validity>,
    /// The template, e.g. `arn:aws:acm-pca:::template/EndEntityCertificate/V1` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub template_arn: Option<Value<String>>,
    /// Extensions and subject overrides as the JSON of AWS's `ApiPassthrough`, for templates
    /// that accept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub api_passthrough: Option<Value<String>>,
    /// zerotrust's addition (upstream has no renewal): once the certificate is within this many
    /// hours of expiring, the next `pulumi up` issues a new one (before revoking the old one).
    /// Decided at diff time, without a refresh. Unset: never renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub early_renewal_hours: Option<Value<i64>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateOutputs {
    /// ARN of the issuing certificate authority.
    pub certificate_authority_arn: Value<String>,
    /// The certificate signing request, PEM.
    pub certificate_signing_request: Value<String>,
    /// Algorithm the CA signed with.
    pub signing_algorithm: Value<String>,
    /// How long the certificate is valid.
    pub validity: Value<Validity>,
    /// The template used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_arn: Option<Value<String>>,
    /// The `ApiPassthrough` JSON sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_passthrough: Option<Value<String>>,
    /// Hours before expiry at which `pulumi up` renews the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_renewal_hours: Option<Value<i64>>,
    /// ARN of the certificate (also its id).
    pub arn: Value<String>,
    /// The issued certificate, PEM.
    pub certificate: Value<String>,
    /// The chain from the issuing CA up, PEM (empty for a root CA's own certificate).
    pub certificate_chain: Value<String>,
}

const VALIDITY_TYPES: [&str; 5] = ["DAYS", "MONTHS", "YEARS", "ABSOLUTE", "END_DATE"];

/// Why a validity is not acceptable to ACM PCA, if it is not.
pub fn validity_problem(v: &Validity) -> Option<(&'static str, String)> {
    if !VALIDITY_TYPES.contains(&v.period_type.as_str()) {
        return Some((
            "type",
            format!(
                "unknown value {:?}; expected one of {}",
                v.period_type,
                VALIDITY_TYPES.join(", ")
            ),
        ));
    }
    let digits = !v.value.is_empty() && v.value.bytes().all(|b| b.is_ascii_digit());
    match v.period_type.as_str() {
        "END_DATE" if !(digits && v.value.len() == 14) => Some((
            "value",
            format!("{:?} is not a YYYYMMDDHHMMSS date", v.value),
        )),
        "DAYS" | "MONTHS" | "YEARS" | "ABSOLUTE" => match v.value.parse::<i64>() {
            Ok(n) if n > 0 && digits => None,
            _ => Some((
                "value",
                format!("{:?} is not a positive whole number", v.value),
            )),
        },
        _ => None,
    }
}

/// Why a template ARN is not an ACM PCA template, if it is not:
/// `arn:<partition>:acm-pca:::template/<name>/V<n>`.
pub fn template_problem(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "acm-pca"
        && parts[3].is_empty()
        && parts[4].is_empty()
        && parts[5]
            .strip_prefix("template/")
            .and_then(|t| t.rsplit_once("/V"))
            .is_some_and(|(name, version)| {
                !name.is_empty()
                    && !version.is_empty()
                    && version.bytes().all(|b| b.is_ascii_digit())
            });
    (!ok).then(|| {
        format!("{arn:?} is not an ACM PCA template ARN (arn:aws:acm-pca:::template/<name>/V<n>)")
    })
}

async fn fetch(
    ctx: &Ctx,
    aws: &AwsClients,
    ca_arn: &str,
    arn: &str,
) -> Result<Option<(String, String)>, AwsError> {
    // Issuance is asynchronous: RequestInProgressException until the certificate is ready,
    // which `call` waits through with backoff.
    match call(ctx, &aws.retry, "GetCertificate", || {
        aws.acmpca
            .get_certificate()
            .certificate_authority_arn(ca_arn)
            .certificate_arn(arn)
            .send()
    })
    .await
    {
        Ok(out) => Ok(Some((
            out.certificate().unwrap_or_default().to_string(),
            out.certificate_chain().unwrap_or_default().to_string(),
        ))),
        Err(e) if e.is("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The CA's ARN is the certificate ARN up to `/certificate/`.
pub fn ca_of_certificate(arn: &str) -> Option<&str> {
    arn.split_once("/certificate/").map(|(ca, _)| ca)
}

impl Resource<ProviderConfig> for Certificate {
    type Inputs = CertificateInputs;
    type Outputs = CertificateOutputs;
    const TOKEN: &'static str = "zerotrust:aws/acmpca:Certificate";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/certificate.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        if let Some(Value::Known(hours)) = inputs.early_renewal_hours
            && hours < 0
        {
            failures.at(
                "earlyRenewalHours",
                format!("must not be negative, got {hours}"),
            );
        }
        check_ca_arn(
            &inputs.certificate_authority_arn,
            "certificateAuthorityArn",
            failures,
        );
        check_pem(
            &mut inputs.certificate_signing_request,
            "certificateSigningRequest",
            pki::validate_csr_pem,
            failures,
        );
        check_one_of(
            Some(&inputs.signing_algorithm),
            PropertyPath::root().key("signingAlgorithm"),
            &SIGNING_ALGORITHMS,
            failures,
        );
        if let Value::Known(v) = &inputs.validity
            && let Some((field, reason)) = validity_problem(v)
        {
            failures.add(PropertyPath::root().key("validity").key(field), reason);
        }
        if let Some(Value::Known(t)) = &inputs.template_arn
            && let Some(problem) = template_problem(t)
        {
            failures.at("templateArn", problem);
        }
        if let Some(Value::Known(p)) = &inputs.api_passthrough
            && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(p).is_err()
        {
            failures.at("apiPassthrough", "must be a JSON object");
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        let mut outputs = CertificateOutputs {
            certificate_authority_arn: inputs.certificate_authority_arn.clone(),
            certificate_signing_request: inputs.certificate_signing_request.clone(),
            signing_algorithm: inputs.signing_algorithm.clone(),
            validity: inputs.validity.clone(),
            template_arn: inputs.template_arn.clone(),
            api_passthrough: inputs.api_passthrough.clone(),
            early_renewal_hours: inputs.early_renewal_hours.clone(),
            arn: Value::Unknown,
            certificate: Value::Unknown,
            certificate_chain: Value::Unknown,
        };
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs,
            });
        }
        let (
            Value::Known(ca_arn),
            Value::Known(csr),
            Value::Known(signing),
            Value::Known(validity),
        ) = (
            &inputs.certificate_authority_arn,
            &inputs.certificate_signing_request,
            &inputs.signing_algorithm,
            &inputs.validity,
        )
        else {
            return Err(ResourceError::Internal(
                "inputs unknown outside preview".into(),
            ));
        };
        let aws = ctx.config().aws().await?;
        let sdk_validity = pca::Validity::builder()
            .r#type(pca::ValidityPeriodType::from(validity.period_type.as_str()))
            .value(validity.value.parse::<i64>().unwrap_or_default())
            .build()
            .map_err(|e| ResourceError::Internal(format!("building validity: {e}")))?;
        let passthrough = match &inputs.api_passthrough {
            Some(Value::Known(json)) => Some(api_passthrough(json)?),
            _ => None,
        };
        let token = idempotency_token(ctx.urn(), &inputs, rand::random());
        let template = inputs.template_arn.as_ref().and_then(Value::known).cloned();
        let issued = call(ctx, &aws.retry, "IssueCertificate", || {
            aws.acmpca
                .issue_certificate()
                .certificate_authority_arn(ca_arn)
                .csr(aws_smithy_types::Blob::new(csr.as_bytes()))
                .signing_algorithm(pca::SigningAlgorithm::from(signing.as_str()))
                .validity(sdk_validity.clone())
                .set_template_arn(template.clone())
                .set_api_passthrough(passthrough.clone())
                .idempotency_token(&token)
                .send()
        })
        .await?;
        let arn = issued
            .certificate_arn()
            .ok_or_else(|| ResourceError::backend("IssueCertificate", "AWS returned no ARN"))?
            .to_string();
        outputs.arn = Value::Known(arn.clone());
        // Issued: from here on a failure must keep the certificate in state, so destroy can
        // revoke it.
        match fetch(ctx, &aws, ca_arn, &arn).await {
            Ok(Some((certificate, chain))) => {
                outputs.certificate = Value::Known(certificate);
                outputs.certificate_chain = Value::Known(chain);
                Ok(Created { id: arn, outputs })
            }
            failed => {
                let reason = match failed {
                    Err(e) => ResourceError::from(e).to_string(),
                    _ => "the issued certificate was not found".to_string(),
                };
                outputs.certificate = Value::Known(String::new());
                outputs.certificate_chain = Value::Known(String::new());
                Err(ResourceError::InitFailed {
                    id: arn,
                    outputs: serde_json::to_value(&outputs).unwrap_or_default(),
                    reasons: vec![reason],
                })
            }
        }
    }

    /// With `earlyRenewalHours`, a certificate that close to expiring is replaced by `up`.
    fn diff_extra(
        &self,
        diff: &DiffInput<'_, CertificateInputs, CertificateOutputs>,
    ) -> Vec<ExtraDiff> {
        let (Some(Value::Known(hours)), Value::Known(certificate)) =
            (&diff.news.early_renewal_hours, &diff.olds.certificate)
        else {
            return Vec::new();
        };
        let Some(info) = pki::cert_info(certificate)
            .ok()
            .and_then(|infos| infos.into_iter().next())
        else {
            return Vec::new();
        };
        if ready_for_renewal(&info.not_after, *hours, diff.now) {
            vec![ExtraDiff {
                property: PropertyPath::root().key("certificate"),
                replace: true,
            }]
        } else {
            Vec::new()
        }
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let (Some(inputs), Some(mut outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "an ACM PCA certificate cannot be imported: AWS does not keep the request and validity it was issued with".into(),
            ));
        };
        let Some(ca_arn) = ca_of_certificate(&id) else {
            return Err(ResourceError::InvalidInput {
                property: PropertyPath::root().key("id"),
                reason: format!("{id:?} is not an ACM PCA certificate ARN"),
            });
        };
        let aws = ctx.config().aws().await?;
        match fetch(ctx, &aws, ca_arn, &id).await? {
            None => Ok(ReadOutcome::Gone),
            Some((certificate, chain)) => {
                outputs.certificate = Value::Known(certificate);
                outputs.certificate_chain = Value::Known(chain);
                Ok(ReadOutcome::Found {
                    id,
                    inputs,
                    outputs,
                })
            }
        }
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let (Some(ca_arn), Value::Known(certificate)) =
            (ca_of_certificate(&id), &outputs.certificate)
        else {
            return Ok(());
        };
        if certificate.is_empty() {
            ctx.warn("the certificate was never retrieved, so it cannot be revoked");
            return Ok(());
        }
        // Lower-case colon hex is AWS's documented form (and the one moto matches).
        let serial = pki::serial_colon_hex(certificate)
            .map_err(|e| ResourceError::backend("read the certificate's serial", e))?;
        let aws = ctx.config().aws().await?;
        match call(ctx, &aws.retry, "RevokeCertificate", || {
            aws.acmpca
                .revoke_certificate()
                .certificate_authority_arn(ca_arn)
                .certificate_serial(&serial)
                .revocation_reason(pca::RevocationReason::Unspecified)
                .send()
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.is("ResourceNotFoundException")
                    || e.is("RequestAlreadyProcessedException") =>
            {
                Ok(())
            }
            // A disabled or deleted CA cannot revoke; its certificates die with it.
            Err(e) if e.is("InvalidStateException") => {
                ctx.warn(format!(
                    "not revoked, the CA cannot revoke in its current state: {}",
                    e.cause()
                ));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Parse the `ApiPassthrough` JSON (AWS's field names) into the SDK type: the subject and
/// extensions the SDK models, everything as AWS spells it.
fn api_passthrough(json: &str) -> Result<pca::ApiPassthrough, ResourceError> {
    let invalid = |reason: String| ResourceError::InvalidInput {
        property: PropertyPath::root().key("apiPassthrough"),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let mut builder = pca::ApiPassthrough::builder();
    if let Some(subject) = value.get("Subject") {
        let field = |k: &str| subject.get(k).and_then(|v| v.as_str()).map(str::to_string);
        builder = builder.subject(
            pca::Asn1Subject::builder()
                .set_common_name(field("CommonName"))
                .set_country(field("Country"))
                .set_organization(field("Organization"))
                .set_organizational_unit(field("OrganizationalUnit"))
                .set_locality(field("Locality"))
                .set_state(field("State"))
                .set_serial_number(field("SerialNumber"))
                .build(),
        );
    }
    if let Some(ext) = value.get("Extensions") {
        let mut extensions = pca::Extensions::builder();
        if let Some(sans) = ext
            .get("SubjectAlternativeNames")
            .and_then(|v| v.as_array())
        {
            for san in sans {
                let mut name = pca::GeneralName::builder();
                if let Some(dns) = san.get("DnsName").and_then(|v| v.as_str()) {
                    name = name.dns_name(dns);
                }
                if let Some(uri) = san
                    .get("UniformResourceIdentifier")
                    .and_then(|v| v.as_str())
                {
                    name = name.uniform_resource_identifier(uri);
                }
                if let Some(ip) = san.get("IpAddress").and_then(|v| v.as_str()) {
                    name = name.ip_address(ip);
                }
                extensions = extensions.subject_alternative_names(name.build());
            }
        }
        builder = builder.extensions(extensions.build());
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(t: &str, value: &str) -> Validity {
        Validity {
            period_type: t.into(),
            value: value.into(),
        }
    }

    #[test]
    fn validity_forms() {
        assert_eq!(validity_problem(&v("DAYS", "30")), None);
        assert_eq!(validity_problem(&v("END_DATE", "20301231235959")), None);
        assert_eq!(validity_problem(&v("ABSOLUTE", "1893456000")), None);
        assert_eq!(
            validity_problem(&v("WEEKS", "3")).map(|p| p.0),
            Some("type")
        );
        assert_eq!(
            validity_problem(&v("DAYS", "-1")).map(|p| p.0),
            Some("value")
        );
        assert_eq!(
            validity_problem(&v("DAYS", "ten")).map(|p| p.0),
            Some("value")
        );
        assert_eq!(
            validity_problem(&v("END_DATE", "2030-12-31")).map(|p| p.0),
            Some("value")
        );
    }

    #[test]
    fn template_arns() {
        assert_eq!(
            template_problem("arn:aws:acm-pca:::template/EndEntityCertificate/V1"),
            None
        );
        assert_eq!(
            template_problem("arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1"),
            None
        );
        assert!(template_problem("arn:aws:acm-pca:::template/EndEntityCertificate").is_some());
        assert!(template_problem("EndEntityCertificate/V1").is_some());
        assert!(template_problem("arn:aws:acm-pca:us-east-1::template/X/V1").is_some());
    }

    #[test]
    fn certificate_arns_name_their_ca() {
        let ca = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/abc";
        assert_eq!(
            ca_of_certificate(&format!("{ca}/certificate/0123")),
            Some(ca)
        );
        assert_eq!(ca_of_certificate(ca), None);
    }

    #[test]
    fn passthrough_reads_sans_and_subject() {
        let p = api_passthrough(
            r#"{"Subject":{"CommonName":"svc"},"Extensions":{"SubjectAlternativeNames":[{"DnsName":"svc.local"}]}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.subject().and_then(|s| s.common_name()), Some("svc"));
        let sans = p
            .extensions()
            .map(|e| e.subject_alternative_names())
            .unwrap_or_default();
        assert_eq!(sans[0].dns_name(), Some("svc.local"));
        assert!(api_passthrough("[1]").is_ok());
        assert!(api_passthrough("{").is_err());
    }

    #[test]
    fn a_certificate_near_its_end_is_renewed_at_diff_time_only_when_asked() {
        use crate::pki::{CertSpec, EcdsaCurve, IssueOptions, KeyAlgorithm, Subject};
        let key = pki::generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap();
        let key = pki::parse_private_key(&key.private_key_pem).unwrap();
        let issued_at = time::OffsetDateTime::now_utc();
        let spec = CertSpec {
            subject: Subject::default(),
            dns_names: vec!["svc.example".into()],
            ip_addresses: Vec::new(),
            uris: Vec::new(),
            set_authority_key_id: false,
            options: IssueOptions::new(48, issued_at),
        };
        let pem = pki::self_signed(&key, &spec).unwrap().cert_pem;
        let inputs = |hours: Option<i64>| CertificateInputs {
            certificate_authority_arn: Value::Known("arn".into()),
            certificate_signing_request: Value::Known("csr".into()),
            signing_algorithm: Value::Known("SHA256WITHECDSA".into()),
            validity: Value::Known(Validity {
                period_type: "DAYS".into(),
                value: "2".into(),
            }),
            template_arn: None,
            api_passthrough: None,
            early_renewal_hours: hours.map(Value::Known),
        };
        let olds = CertificateOutputs {
            certificate_authority_arn: Value::Known("arn".into()),
            certificate_signing_request: Value::Known("csr".into()),
            signing_algorithm: Value::Known("SHA256WITHECDSA".into()),
            validity: inputs(None).validity,
            template_arn: None,
            api_passthrough: None,
            early_renewal_hours: Some(Value::Known(12)),
            arn: Value::Known("arn:cert".into()),
            certificate: Value::Known(pem),
            certificate_chain: Value::Known(String::new()),
        };
        let due = |hours: Option<i64>, after_hours: i64| {
            let news = inputs(hours);
            !Certificate
                .diff_extra(&DiffInput {
                    olds: &olds,
                    old_inputs: None,
                    news: &news,
                    now: issued_at + time::Duration::hours(after_hours),
                })
                .is_empty()
        };
        assert!(!due(Some(12), 1), "36 hours left");
        assert!(due(Some(12), 37), "11 hours left");
        assert!(!due(None, 47), "no renewal unless asked, as upstream");
    }
}
