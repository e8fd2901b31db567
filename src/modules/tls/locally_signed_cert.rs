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
        check_signing(&inputs, failures);
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
            // The request may have been unknown at Check: refuse it as Check would have, at
            // the same property.
            if let Ok(refusals) =
                pki::signing_refusals(&csr, &ca_cert, options.is_ca, options.max_path_length)
                && !refusals.is_empty()
            {
                let key = if !refusals.names.is_empty() {
                    "certRequestPem"
                } else if options.max_path_length.is_some() {
                    "maxPathLength"
                } else {
                    "isCaCertificate"
                };
                return Err(ResourceError::InvalidInput {
                    property: crate::codec::PropertyPath::root().key(key),
                    reason: format!("the CA refuses to sign: {refusals}"),
                });
            }
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

/// The CA's name constraints and path length, checked as soon as the request and the CA
/// certificate are known (otherwise Create refuses the same things).
fn check_signing(inputs: &LocallySignedCertInputs, failures: &mut Failures) {
    let (Value::Known(csr), Value::Known(ca)) = (&inputs.cert_request_pem, &inputs.ca_cert_pem)
    else {
        return;
    };
    let is_ca = match &inputs.issue.is_ca_certificate {
        None => Some(false),
        Some(Value::Known(b)) => Some(*b),
        Some(Value::Unknown) => None,
    };
    let max_path_length = match &inputs.issue.max_path_length {
        None => Some(None),
        Some(Value::Known(n)) => Some(Some(*n)),
        Some(Value::Unknown) => None,
    };
    // Unparseable PEM is reported by the PEM checks already.
    let Ok(refusals) =
        pki::signing_refusals(csr, ca, is_ca.unwrap_or(false), max_path_length.flatten())
    else {
        return;
    };
    for violation in &refusals.names {
        failures.at("certRequestPem", violation.to_string());
    }
    if let (Some(reason), Some(true), Some(max)) = (refusals.path_length, is_ca, max_path_length) {
        let at = if max.is_some() {
            "maxPathLength"
        } else {
            "isCaCertificate"
        };
        failures.at(at, reason);
    }
}

impl RenewableOutputs for LocallySignedCertOutputs {
    fn renewal_parts(&mut self) -> (&mut Option<Value<i64>>, &mut CertTimes) {
        (&mut self.inputs.issue.early_renewal_hours, &mut self.times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::tls::issuing::NameConstraints;
    use crate::pki::{CertSpec, EcdsaCurve, IssueOptions, KeyAlgorithm, Subject};

    fn key() -> (pki::ParsedKey, String) {
        let m = pki::generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap();
        (
            pki::parse_private_key(&m.private_key_pem).unwrap(),
            m.private_key_pem,
        )
    }

    fn subject(cn: &str) -> Subject {
        Subject {
            common_name: Some(cn.into()),
            ..Default::default()
        }
    }

    /// A CA constrained by `nc` with path length `path_len`, as the resources would write it.
    fn ca(nc: NameConstraints, path_len: i64) -> (String, String) {
        let (k, pem) = key();
        let mut f = Failures::default();
        let mut options = IssueOptions::new(24, time::OffsetDateTime::now_utc());
        options.is_ca = true;
        options.max_path_length = Some(path_len);
        options.name_constraints = nc.check(&mut f);
        assert!(f.is_empty());
        let spec = CertSpec {
            subject: subject("CA"),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: false,
            options,
        };
        (pki::self_signed(&k, &spec).unwrap().cert_pem, pem)
    }

    fn inputs(csr: String, ca: String, ca_key: String) -> LocallySignedCertInputs {
        serde_json::from_value(serde_json::json!({
            "certRequestPem": csr,
            "caCertPem": ca,
            "caPrivateKeyPem": ca_key,
            "allowedUses": ["server_auth"],
            "validityPeriodHours": 1,
        }))
        .unwrap()
    }

    #[test]
    fn check_refuses_known_requests_outside_the_ca_with_name_and_constraint() {
        let (ca_pem, ca_key) = ca(
            NameConstraints {
                permitted_dns_domains: Some(vec!["ml.internal".into()]),
                excluded_dns_domains: Some(vec!["admin.ml.internal".into()]),
                ..Default::default()
            },
            0,
        );
        let (k, _) = key();
        let csr = pki::create_csr(
            &k,
            &subject("x"),
            &[
                "a.ml.internal".into(),
                "db.admin.ml.internal".into(),
                "evil.example".into(),
            ],
            &[],
            &[],
        )
        .unwrap();
        let mut i = inputs(csr.csr_pem, ca_pem, ca_key);
        i.issue.is_ca_certificate = Some(Value::Known(true));
        let mut f = Failures::default();
        check_signing(&i, &mut f);
        let got: Vec<(String, String)> = f
            .into_vec()
            .into_iter()
            .map(|x| (x.property.to_string(), x.reason))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "certRequestPem");
        assert!(
            got[0].1.contains("db.admin.ml.internal")
                && got[0]
                    .1
                    .contains("excluded DNS subtree \"admin.ml.internal\""),
            "{got:?}"
        );
        assert!(
            got[1].1.contains("evil.example") && got[1].1.contains("\"ml.internal\""),
            "{got:?}"
        );
        assert_eq!(got[2].0, "isCaCertificate");
        assert!(got[2].1.contains("path length 0"), "{got:?}");
    }

    #[test]
    fn check_reports_malformed_subtrees_at_their_paths() {
        let nc = NameConstraints {
            permitted_dns_domains: Some(vec!["ok.internal".into(), "*.ml.internal".into()]),
            excluded_ip_ranges: Some(vec!["10.1.2.3/8".into(), "nonsense".into()]),
            permitted_uri_domains: Some(vec!["spiffe://cluster.local".into()]),
            permitted_email_addresses: Some(vec!["a@b@c".into()]),
            ..Default::default()
        };
        let mut f = Failures::default();
        assert!(nc.check(&mut f).is_none());
        let paths: Vec<String> = f
            .into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "nameConstraints.permittedDnsDomains[1]",
                "nameConstraints.permittedEmailAddresses[0]",
                "nameConstraints.permittedUriDomains[0]",
                "nameConstraints.excludedIpRanges[0]",
                "nameConstraints.excludedIpRanges[1]",
            ]
        );
        let mut f = Failures::default();
        assert!(NameConstraints::default().check(&mut f).is_none());
        assert_eq!(f.into_vec()[0].property.to_string(), "nameConstraints");
    }
}
