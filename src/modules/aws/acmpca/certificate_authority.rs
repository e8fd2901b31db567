//! `aws/acmpca:CertificateAuthority`: a private CA in ACM PCA. Created in
//! `PENDING_CERTIFICATE` with its CSR; `CertificateAuthorityCertificate` activates it.

use super::{
    KEY_ALGORITHMS, SIGNING_ALGORITHMS, check_one_of, idempotency_token, signing_fits_key,
};
use crate::codec::PropertyPath;
use crate::modules::aws::client::{AwsClients, AwsError, call};
use crate::modules::aws::{check_tags, tag_diff};
use crate::modules::backend::known_or;
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use aws_sdk_acmpca::types as pca;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct CertificateAuthority;

/// The CA's key, signing algorithm and subject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CertificateAuthorityCertificateAuthorityConfiguration")]
pub struct CaConfiguration {
    /// Type of the public key algorithm and size, in bits, of the key pair that your CA creates
    /// when it issues a certificate: `RSA_2048`, `RSA_3072`, `RSA_4096`, `EC_prime256v1`,
    /// `EC_secp384r1` or `SM2`.
    pub key_algorithm: String,
    /// Name of the algorithm your private CA uses to sign certificate requests: one of
    /// `SHA256WITHRSA`, `SHA384WITHRSA`, `SHA512WITHRSA` (RSA keys), `SHA256WITHECDSA`,
    /// `SHA384WITHECDSA`, `SHA512WITHECDSA` (EC keys), `SM3WITHSM2` (SM2 keys).
    pub signing_algorithm: String,
    /// The CA's subject (X.500 distinguished name).
    pub subject: CaSubject,
}

/// X.500 distinguished name fields of the CA certificate's subject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CertificateAuthorityCertificateAuthorityConfigurationSubject")]
pub struct CaSubject {
    /// Fully qualified domain name (FQDN) associated with the certificate subject (at most 64
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    /// Two-digit ISO 3166 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Disambiguating information for the certificate subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinguished_name_qualifier: Option<String>,
    /// Typically a qualifier appended to the name of an individual, e.g. `Jr.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_qualifier: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Concatenation of the first letters of the given name, middle name and surname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initials: Option<String>,
    /// Locality (city or town).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Legal name of the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// A subdivision or unit of the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_unit: Option<String>,
    /// A shortened version of a longer given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonym: Option<String>,
    /// State in which the subject is located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    /// A title such as Mr. or Ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Certificate revocation: a CRL, OCSP, or both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CertificateAuthorityRevocationConfiguration")]
pub struct RevocationConfiguration {
    /// Certificate revocation list settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_configuration: Option<CrlConfiguration>,
    /// Online Certificate Status Protocol settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_configuration: Option<OcspConfiguration>,
}

/// Where and how often the CA publishes its CRL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CertificateAuthorityRevocationConfigurationCrlConfiguration")]
pub struct CrlConfiguration {
    /// Name inserted into the certificate CRL Distribution Points extension instead of the S3
    /// bucket's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_cname: Option<String>,
    /// Whether the CA publishes a CRL.
    #[serde(default)]
    pub enabled: bool,
    /// Days until a CRL expires, 1 to 5000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_in_days: Option<i64>,
    /// The S3 bucket that holds the CRL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    /// `PUBLIC_READ` or `BUCKET_OWNER_FULL_CONTROL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_object_acl: Option<String>,
    /// Whether issued certificates carry the CRL Distribution Points extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_distribution_point_extension_configuration: Option<CrlDistributionPoint>,
}

/// The CRL Distribution Points extension setting.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "CertificateAuthorityRevocationConfigurationCrlConfigurationCrlDistributionPointExtensionConfiguration"
)]
pub struct CrlDistributionPoint {
    /// Leave the extension out of issued certificates.
    pub omit_extension: bool,
}

/// OCSP settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CertificateAuthorityRevocationConfigurationOcspConfiguration")]
pub struct OcspConfiguration {
    /// Whether the CA answers OCSP queries.
    pub enabled: bool,
    /// A CNAME for the OCSP responder, instead of AWS's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_custom_cname: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthorityInputs {
    /// Key algorithm, signing algorithm and subject of the CA.
    #[schemars(transform = replace_on_changes)]
    pub certificate_authority_configuration: Value<CaConfiguration>,
    /// Whether the CA is enabled (default `true`). Takes effect once the CA is active: a CA
    /// still waiting for its certificate cannot be disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Value<bool>>,
    /// FIPS security level of the CA key's storage: `FIPS_140_2_LEVEL_2_OR_HIGHER`,
    /// `FIPS_140_2_LEVEL_3_OR_HIGHER` or `CCPC_LEVEL_1_OR_HIGHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub key_storage_security_standard: Option<Value<String>>,
    /// Days (7 to 30, default 30) the CA stays restorable after destroy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_deletion_time_in_days: Option<Value<i64>>,
    /// CRL and OCSP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_configuration: Option<Value<RevocationConfiguration>>,
    /// Tags of the CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
    /// `ROOT` or `SUBORDINATE` (default, as upstream).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    #[schemars(transform = replace_on_changes)]
    pub ca_type: Option<Value<String>>,
    /// `GENERAL_PURPOSE` (default) or `SHORT_LIVED_CERTIFICATE` (certificates of at most 7 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub usage_mode: Option<Value<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthorityOutputs {
    /// Key algorithm, signing algorithm and subject of the CA.
    pub certificate_authority_configuration: Value<CaConfiguration>,
    /// Whether the CA is enabled.
    pub enabled: Value<bool>,
    /// FIPS security level of the CA key's storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage_security_standard: Option<Value<String>>,
    /// Days the CA stays restorable after destroy.
    pub permanent_deletion_time_in_days: Value<i64>,
    /// CRL and OCSP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_configuration: Option<Value<RevocationConfiguration>>,
    /// Tags of the CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
    /// All tags of the CA, as AWS reports them.
    pub tags_all: Value<BTreeMap<String, String>>,
    /// `ROOT` or `SUBORDINATE`.
    #[serde(rename = "type")]
    pub ca_type: Value<String>,
    /// `GENERAL_PURPOSE` or `SHORT_LIVED_CERTIFICATE`.
    pub usage_mode: Value<String>,
    /// ARN of the CA (also its id).
    pub arn: Value<String>,
    /// The CA's certificate signing request, PEM; sign it and install the result with
    /// `CertificateAuthorityCertificate`.
    pub certificate_signing_request: Value<String>,
    /// The CA's certificate, PEM, once installed.
    pub certificate: Value<String>,
    /// The chain above the CA's certificate, PEM, once installed (empty for a root).
    pub certificate_chain: Value<String>,
    /// Start of the CA certificate's validity, RFC 3339, once installed.
    pub not_before: Value<String>,
    /// End of the CA certificate's validity, RFC 3339, once installed.
    pub not_after: Value<String>,
    /// Serial number of the CA certificate, once installed.
    pub serial: Value<String>,
    /// `CREATING`, `PENDING_CERTIFICATE`, `ACTIVE`, `DISABLED`, `EXPIRED` or `FAILED`.
    pub status: Value<String>,
}

const CA_TYPES: [&str; 2] = ["ROOT", "SUBORDINATE"];
const USAGE_MODES: [&str; 2] = ["GENERAL_PURPOSE", "SHORT_LIVED_CERTIFICATE"];
const KEY_STORAGE: [&str; 3] = [
    "FIPS_140_2_LEVEL_2_OR_HIGHER",
    "FIPS_140_2_LEVEL_3_OR_HIGHER",
    "CCPC_LEVEL_1_OR_HIGHER",
];
const S3_ACLS: [&str; 2] = ["PUBLIC_READ", "BUCKET_OWNER_FULL_CONTROL"];

fn check_configuration(config: &CaConfiguration, failures: &mut Failures) {
    let base = PropertyPath::root().key("certificateAuthorityConfiguration");
    check_one_of(
        Some(&Value::Known(config.key_algorithm.clone())),
        base.clone().key("keyAlgorithm"),
        &KEY_ALGORITHMS,
        failures,
    );
    check_one_of(
        Some(&Value::Known(config.signing_algorithm.clone())),
        base.clone().key("signingAlgorithm"),
        &SIGNING_ALGORITHMS,
        failures,
    );
    if KEY_ALGORITHMS.contains(&config.key_algorithm.as_str())
        && SIGNING_ALGORITHMS.contains(&config.signing_algorithm.as_str())
        && !signing_fits_key(&config.signing_algorithm, &config.key_algorithm)
    {
        failures.add(
            base.clone().key("signingAlgorithm"),
            format!(
                "{} cannot sign with a {} key",
                config.signing_algorithm, config.key_algorithm
            ),
        );
    }
    let subject = base.key("subject");
    if config.subject == CaSubject::default() {
        failures.add(subject.clone(), "a CA subject needs at least one field");
    }
    if let Some(cn) = &config.subject.common_name
        && cn.chars().count() > 64
    {
        failures.add(
            subject.clone().key("commonName"),
            "must be at most 64 characters",
        );
    }
    if let Some(c) = &config.subject.country
        && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        failures.add(
            subject.key("country"),
            format!("{c:?} is not a two-letter ISO 3166 country code"),
        );
    }
}

fn check_revocation(config: &RevocationConfiguration, failures: &mut Failures) {
    let base = PropertyPath::root().key("revocationConfiguration");
    if let Some(crl) = &config.crl_configuration {
        let crl_path = base.clone().key("crlConfiguration");
        if let Some(days) = crl.expiration_in_days
            && !(1..=5000).contains(&days)
        {
            failures.add(
                crl_path.clone().key("expirationInDays"),
                format!("must be between 1 and 5000, got {days}"),
            );
        }
        if crl.enabled && crl.s3_bucket_name.as_deref().is_none_or(str::is_empty) {
            failures.add(
                crl_path.clone().key("s3BucketName"),
                "an enabled CRL needs the S3 bucket it is published to",
            );
        }
        check_one_of(
            crl.s3_object_acl.clone().map(Value::Known).as_ref(),
            crl_path.key("s3ObjectAcl"),
            &S3_ACLS,
            failures,
        );
    }
}

fn sdk_subject(s: &CaSubject) -> pca::Asn1Subject {
    pca::Asn1Subject::builder()
        .set_common_name(s.common_name.clone())
        .set_country(s.country.clone())
        .set_distinguished_name_qualifier(s.distinguished_name_qualifier.clone())
        .set_generation_qualifier(s.generation_qualifier.clone())
        .set_given_name(s.given_name.clone())
        .set_initials(s.initials.clone())
        .set_locality(s.locality.clone())
        .set_organization(s.organization.clone())
        .set_organizational_unit(s.organizational_unit.clone())
        .set_pseudonym(s.pseudonym.clone())
        .set_state(s.state.clone())
        .set_surname(s.surname.clone())
        .set_title(s.title.clone())
        .build()
}

fn from_sdk_subject(s: &pca::Asn1Subject) -> CaSubject {
    let own = |v: Option<&str>| v.map(str::to_string);
    CaSubject {
        common_name: own(s.common_name()),
        country: own(s.country()),
        distinguished_name_qualifier: own(s.distinguished_name_qualifier()),
        generation_qualifier: own(s.generation_qualifier()),
        given_name: own(s.given_name()),
        initials: own(s.initials()),
        locality: own(s.locality()),
        organization: own(s.organization()),
        organizational_unit: own(s.organizational_unit()),
        pseudonym: own(s.pseudonym()),
        state: own(s.state()),
        surname: own(s.surname()),
        title: own(s.title()),
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> ResourceError {
    ResourceError::Internal(format!("building {what}: {e}"))
}

fn sdk_configuration(
    c: &CaConfiguration,
) -> Result<pca::CertificateAuthorityConfiguration, ResourceError> {
    pca::CertificateAuthorityConfiguration::builder()
        .key_algorithm(pca::KeyAlgorithm::from(c.key_algorithm.as_str()))
        .signing_algorithm(pca::SigningAlgorithm::from(c.signing_algorithm.as_str()))
        .subject(sdk_subject(&c.subject))
        .build()
        .map_err(|e| internal("CA configuration", e))
}

fn sdk_revocation(
    r: &RevocationConfiguration,
) -> Result<pca::RevocationConfiguration, ResourceError> {
    let crl = match &r.crl_configuration {
        Some(c) => Some(
            pca::CrlConfiguration::builder()
                .enabled(c.enabled)
                .set_custom_cname(c.custom_cname.clone())
                .set_expiration_in_days(c.expiration_in_days.and_then(|d| i32::try_from(d).ok()))
                .set_s3_bucket_name(c.s3_bucket_name.clone())
                .set_s3_object_acl(c.s3_object_acl.as_deref().map(pca::S3ObjectAcl::from))
                .set_crl_distribution_point_extension_configuration(
                    match &c.crl_distribution_point_extension_configuration {
                        Some(p) => Some(
                            pca::CrlDistributionPointExtensionConfiguration::builder()
                                .omit_extension(p.omit_extension)
                                .build()
                                .map_err(|e| internal("CRL distribution point", e))?,
                        ),
                        None => None,
                    },
                )
                .build()
                .map_err(|e| internal("CRL configuration", e))?,
        ),
        None => None,
    };
    let ocsp = match &r.ocsp_configuration {
        Some(o) => Some(
            pca::OcspConfiguration::builder()
                .enabled(o.enabled)
                .set_ocsp_custom_cname(o.ocsp_custom_cname.clone())
                .build()
                .map_err(|e| internal("OCSP configuration", e))?,
        ),
        None => None,
    };
    Ok(pca::RevocationConfiguration::builder()
        .set_crl_configuration(crl)
        .set_ocsp_configuration(ocsp)
        .build())
}

fn from_sdk_revocation(r: &pca::RevocationConfiguration) -> RevocationConfiguration {
    RevocationConfiguration {
        crl_configuration: r.crl_configuration().map(|c| CrlConfiguration {
            custom_cname: c.custom_cname().map(str::to_string),
            enabled: c.enabled(),
            expiration_in_days: c.expiration_in_days().map(i64::from),
            s3_bucket_name: c.s3_bucket_name().map(str::to_string),
            s3_object_acl: c.s3_object_acl().map(|a| a.as_str().to_string()),
            crl_distribution_point_extension_configuration: c
                .crl_distribution_point_extension_configuration()
                .map(|p| CrlDistributionPoint {
                    omit_extension: p.omit_extension(),
                }),
        }),
        ocsp_configuration: r.ocsp_configuration().map(|o| OcspConfiguration {
            enabled: o.enabled(),
            ocsp_custom_cname: o.ocsp_custom_cname().map(str::to_string),
        }),
    }
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Result<Vec<pca::Tag>, ResourceError> {
    tags.iter()
        .map(|(k, v)| {
            pca::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| internal("tag", e))
        })
        .collect()
}

/// What AWS says about a CA, gathered from the calls that describe it.
struct LiveCa {
    ca: pca::CertificateAuthority,
    csr: Option<String>,
    certificate: Option<String>,
    chain: Option<String>,
    tags: BTreeMap<String, String>,
}

fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .unwrap_or_default()
}

/// The CA as DescribeCertificateAuthority reports it; `None` when it is gone or DELETED.
async fn describe_ca(
    ctx: &Ctx,
    aws: &AwsClients,
    arn: &str,
) -> Result<Option<pca::CertificateAuthority>, AwsError> {
    let described = match call(ctx, &aws.retry, "DescribeCertificateAuthority", || {
        aws.acmpca
            .describe_certificate_authority()
            .certificate_authority_arn(arn)
            .send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(described
        .certificate_authority()
        .filter(|ca| ca.status() != Some(&pca::CertificateAuthorityStatus::Deleted))
        .cloned())
}

/// Everything refresh and the outputs need: the CA, its CSR, certificate and tags.
async fn describe(ctx: &Ctx, aws: &AwsClients, arn: &str) -> Result<Option<LiveCa>, AwsError> {
    let Some(ca) = describe_ca(ctx, aws, arn).await? else {
        return Ok(None);
    };
    // The CSR exists from PENDING_CERTIFICATE on; the certificate once installed. Their absence
    // in other states is normal, not an error.
    let csr = match call(ctx, &aws.retry, "GetCertificateAuthorityCsr", || {
        aws.acmpca
            .get_certificate_authority_csr()
            .certificate_authority_arn(arn)
            .send()
    })
    .await
    {
        Ok(out) => out.csr().map(str::to_string),
        Err(e) if e.is("InvalidStateException") => None,
        Err(e) => return Err(e),
    };
    let installed = matches!(
        ca.status(),
        Some(
            pca::CertificateAuthorityStatus::Active
                | pca::CertificateAuthorityStatus::Disabled
                | pca::CertificateAuthorityStatus::Expired
        )
    );
    let (certificate, chain) = if installed {
        match call(
            ctx,
            &aws.retry,
            "GetCertificateAuthorityCertificate",
            || {
                aws.acmpca
                    .get_certificate_authority_certificate()
                    .certificate_authority_arn(arn)
                    .send()
            },
        )
        .await
        {
            Ok(out) => (
                out.certificate().map(str::to_string),
                out.certificate_chain().map(str::to_string),
            ),
            Err(e) if e.is("InvalidStateException") => (None, None),
            Err(e) => return Err(e),
        }
    } else {
        (None, None)
    };
    let listed = call(ctx, &aws.retry, "ListTags", || {
        aws.acmpca.list_tags().certificate_authority_arn(arn).send()
    })
    .await?;
    let tags = listed
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Ok(Some(LiveCa {
        ca,
        csr,
        certificate,
        chain,
        tags,
    }))
}

/// Inputs as AWS describes the CA (import, or refresh of drifted fields).
fn live_inputs(
    live: &LiveCa,
    old: Option<&CertificateAuthorityInputs>,
) -> CertificateAuthorityInputs {
    let ca = &live.ca;
    let enabled = ca.status() != Some(&pca::CertificateAuthorityStatus::Disabled);
    let configuration = ca
        .certificate_authority_configuration()
        .map(|c| CaConfiguration {
            key_algorithm: c.key_algorithm().as_str().to_string(),
            signing_algorithm: c.signing_algorithm().as_str().to_string(),
            subject: c.subject().map(from_sdk_subject).unwrap_or_default(),
        });
    match old {
        // Refresh: keep what the program wrote where AWS agrees or cannot tell; take the live
        // enabled flag and tags, the fields that drift out of band.
        Some(old) => CertificateAuthorityInputs {
            // Unset means enabled: leave it unset while AWS agrees, or every refresh would
            // show a diff against a program that never mentions it.
            enabled: if old.enabled.is_none() && enabled {
                None
            } else {
                Some(Value::Known(enabled))
            },
            tags: if live.tags.is_empty() && old.tags.is_none() {
                None
            } else {
                Some(Value::Known(live.tags.clone()))
            },
            ..old.clone()
        },
        None => CertificateAuthorityInputs {
            certificate_authority_configuration: configuration
                .map(Value::Known)
                .unwrap_or(Value::Unknown),
            enabled: (!enabled).then_some(Value::Known(false)),
            key_storage_security_standard: ca
                .key_storage_security_standard()
                .map(|k| Value::Known(k.as_str().to_string())),
            permanent_deletion_time_in_days: None,
            revocation_configuration: ca
                .revocation_configuration()
                .map(|r| Value::Known(from_sdk_revocation(r)))
                .filter(|r| r != &Value::Known(RevocationConfiguration::default())),
            tags: (!live.tags.is_empty()).then(|| Value::Known(live.tags.clone())),
            ca_type: ca.r#type().map(|t| Value::Known(t.as_str().to_string())),
            usage_mode: ca
                .usage_mode()
                .map(|u| Value::Known(u.as_str().to_string())),
        },
    }
}

fn outputs_from(
    inputs: &CertificateAuthorityInputs,
    arn: &str,
    live: Option<&LiveCa>,
) -> CertificateAuthorityOutputs {
    let text = |v: Option<String>| Value::Known(v.unwrap_or_default());
    let ca = live.map(|l| &l.ca);
    CertificateAuthorityOutputs {
        certificate_authority_configuration: inputs.certificate_authority_configuration.clone(),
        enabled: Value::Known(known_or(&inputs.enabled, true)),
        key_storage_security_standard: inputs.key_storage_security_standard.clone(),
        permanent_deletion_time_in_days: Value::Known(known_or(
            &inputs.permanent_deletion_time_in_days,
            30,
        )),
        revocation_configuration: inputs.revocation_configuration.clone(),
        tags: inputs.tags.clone(),
        tags_all: Value::Known(live.map(|l| l.tags.clone()).unwrap_or_default()),
        ca_type: Value::Known(known_or(&inputs.ca_type, "SUBORDINATE".to_string())),
        usage_mode: Value::Known(
            ca.and_then(|c| c.usage_mode())
                .map(|u| u.as_str().to_string())
                .unwrap_or_else(|| known_or(&inputs.usage_mode, "GENERAL_PURPOSE".to_string())),
        ),
        arn: Value::Known(arn.to_string()),
        certificate_signing_request: text(live.and_then(|l| l.csr.clone())),
        certificate: text(live.and_then(|l| l.certificate.clone())),
        certificate_chain: text(live.and_then(|l| l.chain.clone())),
        not_before: Value::Known(rfc3339(ca.and_then(|c| c.not_before()))),
        not_after: Value::Known(rfc3339(ca.and_then(|c| c.not_after()))),
        serial: text(ca.and_then(|c| c.serial().map(str::to_string))),
        status: text(ca.and_then(|c| c.status().map(|s| s.as_str().to_string()))),
    }
}

fn preview_outputs(inputs: &CertificateAuthorityInputs) -> CertificateAuthorityOutputs {
    let mut out = outputs_from(inputs, "", None);
    out.arn = Value::Unknown;
    out.certificate_signing_request = Value::Unknown;
    out.certificate = Value::Unknown;
    out.certificate_chain = Value::Unknown;
    out.not_before = Value::Unknown;
    out.not_after = Value::Unknown;
    out.serial = Value::Unknown;
    out.status = Value::Unknown;
    out.tags_all = match &inputs.tags {
        Some(Value::Known(t)) => Value::Known(t.clone()),
        Some(Value::Unknown) => Value::Unknown,
        None => Value::Known(BTreeMap::new()),
    };
    out
}

/// Set the CA's status to match `enabled`, when AWS allows a change (only between ACTIVE and
/// DISABLED).
async fn apply_enabled(
    ctx: &Ctx,
    aws: &AwsClients,
    arn: &str,
    status: Option<&pca::CertificateAuthorityStatus>,
    enabled: bool,
) -> Result<bool, AwsError> {
    use pca::CertificateAuthorityStatus as S;
    let wanted = match (status, enabled) {
        (Some(S::Active), false) => S::Disabled,
        (Some(S::Disabled), true) => S::Active,
        _ => return Ok(false),
    };
    call(ctx, &aws.retry, "UpdateCertificateAuthority", || {
        aws.acmpca
            .update_certificate_authority()
            .certificate_authority_arn(arn)
            .status(wanted.clone())
            .send()
    })
    .await?;
    Ok(true)
}

impl Resource<ProviderConfig> for CertificateAuthority {
    type Inputs = CertificateAuthorityInputs;
    type Outputs = CertificateAuthorityOutputs;
    const TOKEN: &'static str = "zerotrust:aws/acmpca:CertificateAuthority";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/certificate_authority.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        if let Value::Known(config) = &inputs.certificate_authority_configuration {
            check_configuration(config, failures);
        }
        check_one_of(
            inputs.ca_type.as_ref(),
            PropertyPath::root().key("type"),
            &CA_TYPES,
            failures,
        );
        check_one_of(
            inputs.usage_mode.as_ref(),
            PropertyPath::root().key("usageMode"),
            &USAGE_MODES,
            failures,
        );
        check_one_of(
            inputs.key_storage_security_standard.as_ref(),
            PropertyPath::root().key("keyStorageSecurityStandard"),
            &KEY_STORAGE,
            failures,
        );
        if let Some(Value::Known(days)) = inputs.permanent_deletion_time_in_days
            && !(7..=30).contains(&days)
        {
            failures.at(
                "permanentDeletionTimeInDays",
                format!("must be between 7 and 30, got {days}"),
            );
        }
        if let Some(Value::Known(r)) = &inputs.revocation_configuration {
            check_revocation(r, failures);
        }
        check_tags(inputs.tags.as_ref(), failures);
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
                outputs: preview_outputs(&inputs),
            });
        }
        let aws = ctx.config().aws().await?;
        let Value::Known(config) = &inputs.certificate_authority_configuration else {
            return Err(ResourceError::Internal(
                "certificateAuthorityConfiguration unknown outside preview".into(),
            ));
        };
        let revocation = match &inputs.revocation_configuration {
            Some(Value::Known(r)) => Some(sdk_revocation(r)?),
            _ => None,
        };
        let tags = match &inputs.tags {
            Some(Value::Known(t)) if !t.is_empty() => Some(sdk_tags(t)?),
            _ => None,
        };
        let ca_type = known_or(&inputs.ca_type, "SUBORDINATE".to_string());
        let token = idempotency_token(ctx.urn(), &inputs, rand::random());
        let sdk_config = sdk_configuration(config)?;
        let created = call(ctx, &aws.retry, "CreateCertificateAuthority", || {
            aws.acmpca
                .create_certificate_authority()
                .certificate_authority_configuration(sdk_config.clone())
                .certificate_authority_type(pca::CertificateAuthorityType::from(ca_type.as_str()))
                .set_revocation_configuration(revocation.clone())
                .set_usage_mode(
                    inputs
                        .usage_mode
                        .as_ref()
                        .and_then(Value::known)
                        .map(|u| pca::CertificateAuthorityUsageMode::from(u.as_str())),
                )
                .set_key_storage_security_standard(
                    inputs
                        .key_storage_security_standard
                        .as_ref()
                        .and_then(Value::known)
                        .map(|k| pca::KeyStorageSecurityStandard::from(k.as_str())),
                )
                .set_tags(tags.clone())
                .idempotency_token(&token)
                .send()
        })
        .await?;
        let arn = created
            .certificate_authority_arn()
            .ok_or_else(|| {
                ResourceError::backend("CreateCertificateAuthority", "AWS returned no ARN")
            })?
            .to_string();
        // From here on the CA exists: any failure must keep it in state.
        let init_failed =
            |outputs: &CertificateAuthorityOutputs, reason: String| ResourceError::InitFailed {
                id: arn.clone(),
                outputs: serde_json::to_value(outputs).unwrap_or_default(),
                reasons: vec![reason],
            };
        let mut partial = outputs_from(&inputs, &arn, None);
        partial.status = Value::Known("CREATING".into());
        // AWS generates the key and CSR asynchronously; `describe` waits through
        // RequestInProgressException for the CSR.
        let live = match describe(ctx, &aws, &arn).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                return Err(init_failed(
                    &partial,
                    "the new CA disappeared before it could be described".into(),
                ));
            }
            Err(e) => return Err(init_failed(&partial, ResourceError::from(e).to_string())),
        };
        let enabled = known_or(&inputs.enabled, true);
        if !enabled
            && live.ca.status() == Some(&pca::CertificateAuthorityStatus::PendingCertificate)
        {
            ctx.warn(
                "enabled = false takes effect once the CA has its certificate (the next update)",
            );
        }
        let outputs = outputs_from(&inputs, &arn, Some(&live));
        Ok(Created { id: arn, outputs })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        if let Some(problem) = super::ca_arn_problem(&id) {
            return Err(ResourceError::InvalidInput {
                property: PropertyPath::root().key("id"),
                reason: problem,
            });
        }
        let aws = ctx.config().aws().await?;
        let Some(live) = describe(ctx, &aws, &id).await? else {
            return Ok(ReadOutcome::Gone);
        };
        let new_inputs = live_inputs(&live, inputs.as_ref());
        let new_outputs = outputs_from(&new_inputs, &id, Some(&live));
        Ok(ReadOutcome::Found {
            id,
            inputs: new_inputs,
            outputs: new_outputs,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: String,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        let aws = ctx.config().aws().await?;
        let old_tags = olds.tags_all.known().cloned().unwrap_or_default();
        let new_tags = known_or(&news.tags, BTreeMap::new());
        let (set, remove) = tag_diff(&old_tags, &new_tags);
        if !set.is_empty() {
            let tags = sdk_tags(&set)?;
            call(ctx, &aws.retry, "TagCertificateAuthority", || {
                aws.acmpca
                    .tag_certificate_authority()
                    .certificate_authority_arn(&id)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await?;
        }
        if !remove.is_empty() {
            let keys = remove
                .iter()
                .map(|k| pca::Tag::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| internal("tag", e))?;
            call(ctx, &aws.retry, "UntagCertificateAuthority", || {
                aws.acmpca
                    .untag_certificate_authority()
                    .certificate_authority_arn(&id)
                    .set_tags(Some(keys.clone()))
                    .send()
            })
            .await?;
        }
        let old_revocation = olds.revocation_configuration.and_then(Value::into_known);
        let new_revocation = news
            .revocation_configuration
            .clone()
            .and_then(Value::into_known);
        if old_revocation != new_revocation {
            let revocation = sdk_revocation(&new_revocation.unwrap_or_default())?;
            call(ctx, &aws.retry, "UpdateCertificateAuthority", || {
                aws.acmpca
                    .update_certificate_authority()
                    .certificate_authority_arn(&id)
                    .revocation_configuration(revocation.clone())
                    .send()
            })
            .await?;
        }
        let live = describe(ctx, &aws, &id).await?.ok_or_else(|| {
            ResourceError::backend("DescribeCertificateAuthority", "the CA no longer exists")
        })?;
        let enabled = known_or(&news.enabled, true);
        let live = if apply_enabled(ctx, &aws, &id, live.ca.status(), enabled).await? {
            describe(ctx, &aws, &id).await?.unwrap_or(live)
        } else {
            live
        };
        Ok(outputs_from(&news, &id, Some(&live)))
    }

    /// AWS deletes only disabled (or never activated) CAs, after the restore window.
    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let aws = ctx.config().aws().await?;
        // Only the status matters here: no CSR, certificate or tag reads.
        let Some(ca) = describe_ca(ctx, &aws, &id).await? else {
            return Ok(());
        };
        apply_enabled(ctx, &aws, &id, ca.status(), false).await?;
        let days = outputs
            .permanent_deletion_time_in_days
            .known()
            .copied()
            .and_then(|d| i32::try_from(d).ok())
            .unwrap_or(30);
        match call(ctx, &aws.retry, "DeleteCertificateAuthority", || {
            aws.acmpca
                .delete_certificate_authority()
                .certificate_authority_arn(&id)
                .permanent_deletion_time_in_days(days)
                .send()
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(key: &str, signing: &str) -> CertificateAuthorityInputs {
        CertificateAuthorityInputs {
            certificate_authority_configuration: Value::Known(CaConfiguration {
                key_algorithm: key.into(),
                signing_algorithm: signing.into(),
                subject: CaSubject {
                    common_name: Some("example.com".into()),
                    ..Default::default()
                },
            }),
            enabled: None,
            key_storage_security_standard: None,
            permanent_deletion_time_in_days: None,
            revocation_configuration: None,
            tags: None,
            ca_type: Some(Value::Known("ROOT".into())),
            usage_mode: None,
        }
    }

    fn failures_of(i: CertificateAuthorityInputs) -> Vec<String> {
        let mut failures = Failures::default();
        let ctx = CheckCtx {
            name: "ca",
            random_seed: &[],
            olds: None,
        };
        CertificateAuthority.check(&ctx, i, &mut failures);
        failures
            .into_vec()
            .into_iter()
            .map(|f| format!("{}: {}", f.property, f.reason))
            .collect()
    }

    #[test]
    fn valid_configuration_passes() {
        assert!(failures_of(inputs("RSA_4096", "SHA512WITHRSA")).is_empty());
        assert!(failures_of(inputs("EC_prime256v1", "SHA256WITHECDSA")).is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut i = inputs("RSA_1024", "SHA512WITHRSA");
        i.ca_type = Some(Value::Known("INTERMEDIATE".into()));
        i.permanent_deletion_time_in_days = Some(Value::Known(3));
        i.tags = Some(Value::Known(BTreeMap::from([("aws:x".into(), "y".into())])));
        let f = failures_of(i);
        assert_eq!(f.len(), 4, "{f:?}");
        assert!(
            f[0].starts_with(
                "certificateAuthorityConfiguration.keyAlgorithm: unknown value \"RSA_1024\""
            ),
            "{f:?}"
        );
        assert!(f.iter().any(|x| x.starts_with("type: ")));
        assert!(
            f.iter()
                .any(|x| x.starts_with("permanentDeletionTimeInDays: "))
        );
        assert!(f.iter().any(|x| x.starts_with("tags")));
    }

    #[test]
    fn mismatched_signing_algorithm_is_refused() {
        let f = failures_of(inputs("EC_secp384r1", "SHA256WITHRSA"));
        assert_eq!(f.len(), 1);
        assert!(
            f[0].contains("signingAlgorithm: SHA256WITHRSA cannot sign with a EC_secp384r1 key")
        );
    }

    #[test]
    fn enabled_crl_needs_a_bucket() {
        let mut i = inputs("RSA_2048", "SHA256WITHRSA");
        i.revocation_configuration = Some(Value::Known(RevocationConfiguration {
            crl_configuration: Some(CrlConfiguration {
                enabled: true,
                expiration_in_days: Some(0),
                ..Default::default()
            }),
            ocsp_configuration: None,
        }));
        let f = failures_of(i);
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn preview_leaves_aws_values_unknown() {
        let out = preview_outputs(&inputs("RSA_2048", "SHA256WITHRSA"));
        assert!(out.arn.is_unknown());
        assert!(out.certificate_signing_request.is_unknown());
        assert_eq!(out.ca_type, Value::Known("ROOT".into()));
        assert_eq!(out.enabled, Value::Known(true));
        assert_eq!(out.permanent_deletion_time_in_days, Value::Known(30));
    }
}
