//! `aws/acmpca:CertificateAuthorityCertificate`: installs a CA's signed certificate, which
//! activates the CA.

use super::check_ca_arn;
use crate::modules::aws::client::call;
use crate::modules::tls::common::check_pem;
use crate::modules::{Ctx, ProviderConfig};
use crate::pki;
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct CertificateAuthorityCertificate;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaCertificateInputs {
    /// ARN of the certificate authority.
    #[schemars(transform = replace_on_changes)]
    pub certificate_authority_arn: Value<String>,
    /// The CA's signed certificate, PEM.
    #[schemars(transform = replace_on_changes)]
    pub certificate: Value<String>,
    /// The chain above the certificate, PEM: the parent CA first, up to the root. Required for
    /// a subordinate CA; leave it out for a root CA (an empty string, which is what a root
    /// certificate's `certificateChain` holds, reads as left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub certificate_chain: Option<Value<String>>,
}

impl Resource<ProviderConfig> for CertificateAuthorityCertificate {
    type Inputs = CaCertificateInputs;
    type Outputs = CaCertificateInputs;
    const TOKEN: &'static str = "zerotrust:aws/acmpca:CertificateAuthorityCertificate";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/ca_certificate.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_ca_arn(
            &inputs.certificate_authority_arn,
            "certificateAuthorityArn",
            failures,
        );
        check_pem(
            &mut inputs.certificate,
            "certificate",
            pki::validate_cert_pem,
            failures,
        );
        if let Some(chain) = inputs.certificate_chain.as_mut() {
            check_pem(chain, "certificateChain", pki::cert_info, failures);
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
                outputs: inputs,
            });
        }
        let (Value::Known(arn), Value::Known(certificate)) =
            (&inputs.certificate_authority_arn, &inputs.certificate)
        else {
            return Err(ResourceError::Internal(
                "inputs unknown outside preview".into(),
            ));
        };
        let chain = inputs
            .certificate_chain
            .as_ref()
            .and_then(Value::known)
            .cloned();
        let aws = ctx.config().aws().await?;
        call(
            ctx,
            &aws.retry,
            "ImportCertificateAuthorityCertificate",
            || {
                aws.acmpca
                    .import_certificate_authority_certificate()
                    .certificate_authority_arn(arn)
                    .certificate(aws_smithy_types::Blob::new(certificate.as_bytes()))
                    .set_certificate_chain(
                        chain
                            .as_ref()
                            .map(|c| aws_smithy_types::Blob::new(c.as_bytes())),
                    )
                    .send()
            },
        )
        .await?;
        Ok(Created {
            id: arn.clone(),
            outputs: inputs,
        })
    }

    /// Gone when the CA is gone or no longer holds this certificate.
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let aws = ctx.config().aws().await?;
        let live = match call(
            ctx,
            &aws.retry,
            "GetCertificateAuthorityCertificate",
            || {
                aws.acmpca
                    .get_certificate_authority_certificate()
                    .certificate_authority_arn(&id)
                    .send()
            },
        )
        .await
        {
            Ok(out) => out,
            Err(e) if e.is("ResourceNotFoundException") => return Ok(ReadOutcome::Gone),
            // Some backends only hand out the certificate of an ACTIVE CA; a disabled CA still
            // has it installed, so keep what was recorded.
            Err(e) if e.is("InvalidStateException") => {
                return Ok(match inputs {
                    Some(i) => ReadOutcome::Found {
                        id,
                        inputs: i.clone(),
                        outputs: i,
                    },
                    None => ReadOutcome::Gone,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let certificate = live
            .certificate()
            .and_then(|c| pki::normalize_pem(c).ok())
            .unwrap_or_default();
        let chain = live
            .certificate_chain()
            .filter(|c| !c.trim().is_empty())
            .and_then(|c| pki::normalize_pem(c).ok());
        let found = CaCertificateInputs {
            certificate_authority_arn: Value::Known(id.clone()),
            certificate: Value::Known(certificate),
            certificate_chain: match (&inputs, chain) {
                // Keep the recorded chain when AWS returns the same certificates.
                (Some(i), Some(c))
                    if i.certificate_chain
                        .as_ref()
                        .and_then(Value::known)
                        .and_then(|k| pki::normalize_pem(k).ok())
                        .as_deref()
                        == Some(c.as_str()) =>
                {
                    i.certificate_chain.clone()
                }
                (_, c) => c.map(Value::Known),
            },
        };
        if let Some(old) = &inputs
            && let Value::Known(old_cert) = &old.certificate
            && pki::normalize_pem(old_cert).ok().as_deref()
                == found.certificate.known().map(String::as_str)
        {
            // The recorded text stays, so an equivalent PEM spelling never shows as drift.
            let kept = CaCertificateInputs {
                certificate: old.certificate.clone(),
                ..found
            };
            return Ok(ReadOutcome::Found {
                id,
                inputs: kept.clone(),
                outputs: kept,
            });
        }
        Ok(ReadOutcome::Found {
            id,
            inputs: found.clone(),
            outputs: found,
        })
    }
}
