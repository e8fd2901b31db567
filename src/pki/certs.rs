//! Certificate requests and certificates, built as terraform-provider-tls builds them with Go's
//! `crypto/x509`:
//!
//! - every certificate is X.509 v3 with a random positive serial below 2^128 and a critical
//!   BasicConstraints extension (`CA:FALSE` unless `is_ca`);
//! - extensions come in Go's order: KeyUsage (critical, only when some key usage is allowed),
//!   ExtendedKeyUsage, BasicConstraints, SubjectKeyIdentifier, AuthorityKeyIdentifier,
//!   SubjectAltName (critical only when the subject is empty);
//! - key identifiers are SHA-1 over the public key as Go computes them;
//! - signatures: RSA with SHA-256, P-256/P-384/P-521 with SHA-256/384/512, Ed25519.
//!
//! Locally signed certificates copy only the subject (byte for byte) and the DNS/IP/URI SANs
//! from the request; the issuer name is the CA certificate's subject, byte for byte.

use std::net::IpAddr;

use rcgen::SigningKey as _;
use sha1::{Digest as _, Sha1};
use time::OffsetDateTime;
use x509_parser::prelude::FromDer as _;

use super::constraints::{NameConstraints, NameViolation, RequestNames};
use super::der;
use super::error::{PkiError, Result};
use super::framing;
use super::keys::{KeyAlgorithm, ParsedKey};
use super::names::Subject;
use super::oids::{self, Oid};
use super::uses::AllowedUse;

use oids::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER as OID_AUTHORITY_KEY_ID,
    ID_CE_BASIC_CONSTRAINTS as OID_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE as OID_EXT_KEY_USAGE,
    ID_CE_KEY_USAGE as OID_KEY_USAGE, ID_CE_SUBJECT_ALT_NAME as OID_SUBJECT_ALT_NAME,
    ID_CE_SUBJECT_KEY_IDENTIFIER as OID_SUBJECT_KEY_ID,
};

/// Upstream's warning when `caCertPem` is not a CA certificate (it still signs).
pub const NOT_CA_WARNING_SUMMARY: &str = "Potentially Invalid Certificate Authority";
/// Detail text of [`NOT_CA_WARNING_SUMMARY`], as terraform-provider-tls words it.
pub const NOT_CA_WARNING_DETAIL: &str = "Certificate provided as Authority does not appear to be a valid Certificate Authority. The resulting certificate might fail certificate validation.";

/// The inputs shared by SelfSignedCert and LocallySignedCert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOptions {
    /// Key usages and extended key usages to include.
    pub allowed_uses: Vec<AllowedUse>,
    /// Make a CA: BasicConstraints `CA:TRUE`, a subject key id, and a non-empty subject required.
    pub is_ca: bool,
    /// Path length constraint for CAs; `None` or `-1` means unlimited, `0` means "may only sign
    /// leaves". Values above `-1` on a non-CA are an error, as in Go.
    pub max_path_length: Option<i64>,
    /// Add a SubjectKeyIdentifier even when not a CA.
    pub set_subject_key_id: bool,
    /// Lifetime in hours from `now` (must be `>= 0`).
    pub validity_hours: i64,
    /// NotBefore is `now` minus this many minutes (`>= 0`; 0 is upstream's behaviour). NotAfter
    /// stays `now + validity_hours`.
    pub backdate_minutes: i64,
    /// The issuing time; sub-second precision is dropped, as certificates store whole seconds.
    pub now: OffsetDateTime,
    /// Serial number bytes (big-endian, must not be all zero); `None` draws 16 random bytes.
    pub serial: Option<[u8; 16]>,
    /// CA certificates only: the subtrees written as a critical NameConstraints extension.
    pub name_constraints: Option<NameConstraints>,
    /// Where relying parties find revocation data and the issuer's certificate.
    pub pointers: Pointers,
}

/// Revocation and issuer pointers (the CRLDistributionPoints and AuthorityInfoAccess
/// extensions), as Vault's `config/urls` sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointers {
    pub crl_distribution_points: Vec<String>,
    pub ocsp_servers: Vec<String>,
    pub issuing_certificate_urls: Vec<String>,
}

impl Pointers {
    /// `AuthorityInfoAccessSyntax`: OCSP entries first, then CA issuers, as Go writes them.
    fn aia_der(&self) -> Option<Vec<u8>> {
        if self.ocsp_servers.is_empty() && self.issuing_certificate_urls.is_empty() {
            return None;
        }
        let mut body = Vec::new();
        for (method, urls) in [
            (oids::ID_AD_OCSP, &self.ocsp_servers),
            (oids::ID_AD_CA_ISSUERS, &self.issuing_certificate_urls),
        ] {
            for url in urls {
                body.extend(der::sequence(&[
                    &der::oid(&method),
                    &der::implicit_primitive(6, url.as_bytes()),
                ]));
            }
        }
        Some(der::tlv(der::TAG_SEQUENCE, &body))
    }

    /// `CRLDistributionPoints`: one DistributionPoint per URL, each a `fullName` of one URI.
    fn cdp_der(&self) -> Option<Vec<u8>> {
        if self.crl_distribution_points.is_empty() {
            return None;
        }
        let mut body = Vec::new();
        for url in &self.crl_distribution_points {
            let full_name = der::tlv(0xa0, &der::implicit_primitive(6, url.as_bytes()));
            body.extend(der::sequence(&[&der::tlv(0xa0, &full_name)]));
        }
        Some(der::tlv(der::TAG_SEQUENCE, &body))
    }
}

/// Checks a pointer URL: an absolute ASCII URL with a scheme and a host.
pub fn check_pointer_url(url: &str) -> std::result::Result<(), String> {
    let ok = url.is_ascii()
        && !url.bytes().any(|b| b.is_ascii_control() || b == b' ')
        && url.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !rest.starts_with('/')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{url:?} is not an absolute URL such as http://pki.ml.internal/ca.crl (ASCII, scheme://host/path, percent-encoded)"
        ))
    }
}

impl IssueOptions {
    /// Options with upstream defaults: no uses, not a CA, no key ids, no backdating, random serial.
    pub fn new(validity_hours: i64, now: OffsetDateTime) -> IssueOptions {
        IssueOptions {
            allowed_uses: Vec::new(),
            is_ca: false,
            max_path_length: None,
            set_subject_key_id: false,
            validity_hours,
            backdate_minutes: 0,
            now,
            serial: None,
            name_constraints: None,
            pointers: Pointers::default(),
        }
    }
}

/// The inputs of SelfSignedCert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    pub subject: Subject,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub uris: Vec<String>,
    /// Add an AuthorityKeyIdentifier equal to the certificate's own subject key id (requires
    /// `is_ca` or `set_subject_key_id`, as upstream).
    pub set_authority_key_id: bool,
    pub options: IssueOptions,
}

/// A signed certificate and the values the resources store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCert {
    /// `CERTIFICATE` PEM, newline-terminated.
    pub cert_pem: String,
    /// The DER certificate.
    pub cert_der: Vec<u8>,
    /// Serial number in base 10 (the resource id).
    pub serial_decimal: String,
    /// NotBefore as encoded (UTC, whole seconds).
    pub not_before: OffsetDateTime,
    /// NotAfter as encoded (UTC, whole seconds).
    pub not_after: OffsetDateTime,
    /// `validityStartTime`: RFC 3339, e.g. `2026-11-25T10:00:00Z`.
    pub not_before_rfc3339: String,
    /// `validityEndTime`: RFC 3339.
    pub not_after_rfc3339: String,
    /// The signing key's algorithm: `keyAlgorithm` for self-signed, `caKeyAlgorithm` for locally
    /// signed certificates.
    pub key_algorithm: KeyAlgorithm,
    /// Locally signed only: the CA certificate is not a CA (upstream warns with
    /// [`NOT_CA_WARNING_SUMMARY`] but signs).
    pub issuer_not_ca: bool,
}

/// A new certificate request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrOutput {
    /// `CERTIFICATE REQUEST` PEM, newline-terminated.
    pub csr_pem: String,
    /// Upstream's CertRequest id: [`super::state_hash`] of the DER request.
    pub id: String,
}

/// Subject alternative names, validated.
struct Sans<'a> {
    dns: Vec<&'a str>,
    ips: Vec<Vec<u8>>,
    uris: Vec<&'a str>,
}

impl<'a> Sans<'a> {
    fn new(dns_names: &'a [String], ip_addresses: &[IpAddr], uris: &'a [String]) -> Result<Self> {
        for d in dns_names {
            if d.is_empty() || !d.is_ascii() {
                return Err(PkiError::InvalidInput(format!(
                    "DNS name {d:?} must be a non-empty ASCII string (use punycode for IDNs)"
                )));
            }
        }
        for u in uris {
            if u.is_empty() || !u.is_ascii() || u.bytes().any(|b| b.is_ascii_control() || b == b' ')
            {
                return Err(PkiError::InvalidInput(format!(
                    "URI {u:?} must be a non-empty ASCII string without spaces (percent-encode)"
                )));
            }
        }
        let ips = ip_addresses
            .iter()
            .map(|ip| match ip {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                // Go writes IPv4-mapped IPv6 addresses in their 4-byte form.
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => v4.octets().to_vec(),
                    None => v6.octets().to_vec(),
                },
            })
            .collect();
        Ok(Sans {
            dns: dns_names.iter().map(|s| s.as_str()).collect(),
            ips,
            uris: uris.iter().map(|s| s.as_str()).collect(),
        })
    }

    fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ips.is_empty() && self.uris.is_empty()
    }

    /// `GeneralNames` in Go's order: DNS names, IP addresses, URIs.
    fn to_der(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for d in &self.dns {
            body.extend(der::implicit_primitive(2, d.as_bytes()));
        }
        for ip in &self.ips {
            body.extend(der::implicit_primitive(7, ip));
        }
        for u in &self.uris {
            body.extend(der::implicit_primitive(6, u.as_bytes()));
        }
        der::tlv(der::TAG_SEQUENCE, &body)
    }
}

pub(super) fn extension(oid: Oid, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        der::sequence(&[
            &der::oid(&oid),
            &der::boolean(true),
            &der::octet_string(value),
        ])
    } else {
        der::sequence(&[&der::oid(&oid), &der::octet_string(value)])
    }
}

/// KeyUsage BIT STRING with trailing zero bits trimmed, as Go encodes it.
fn key_usage_value(uses: &[AllowedUse]) -> Option<Vec<u8>> {
    let mut bits: u16 = 0;
    for u in uses {
        if let Some(b) = u.key_usage_bit() {
            bits |= 1 << b;
        }
    }
    if bits == 0 {
        return None;
    }
    // Bit n of the usage is bit (7 - n % 8) of byte n / 8.
    let mut bytes = [0u8; 2];
    for n in 0..9u16 {
        if bits & (1 << n) != 0 {
            bytes[(n / 8) as usize] |= 0x80 >> (n % 8);
        }
    }
    let len = if bytes[1] != 0 { 2 } else { 1 };
    let last = bytes[len - 1];
    let unused = last.trailing_zeros() as u8;
    Some(der::bit_string(unused, &bytes[..len]))
}

fn ext_key_usage_value(uses: &[AllowedUse]) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut body = Vec::new();
    for u in uses {
        if let Some(oid) = u.extended_key_usage_oid()
            && !seen.contains(u)
        {
            seen.push(*u);
            body.extend(der::oid(&oid));
        }
    }
    if body.is_empty() {
        None
    } else {
        Some(der::tlv(der::TAG_SEQUENCE, &body))
    }
}

/// Go's `generateSubjectKeyID`: SHA-1 of the PKCS#1 RSA key, of the uncompressed EC point, or of
/// the Ed25519 key marshalled as an ASN.1 OCTET STRING.
pub(super) fn subject_key_id(spki_alg: Option<Oid>, key_bits: &[u8]) -> Vec<u8> {
    if spki_alg == Some(oids::ID_ED_25519) {
        Sha1::digest(der::octet_string(key_bits)).to_vec()
    } else {
        Sha1::digest(key_bits).to_vec()
    }
}

/// The DER AlgorithmIdentifier of the signature a key makes (Go's choice of hash).
pub(super) fn signature_algorithm_der(alg: KeyAlgorithm) -> Vec<u8> {
    use super::keys::EcdsaCurve;
    match alg {
        KeyAlgorithm::Rsa { .. } => {
            der::sequence(&[&der::oid(&oids::SHA_256_WITH_RSA_ENCRYPTION), &der::null()])
        }
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256) => {
            der::sequence(&[&der::oid(&oids::ECDSA_WITH_SHA_256)])
        }
        KeyAlgorithm::Ecdsa(EcdsaCurve::P384) => {
            der::sequence(&[&der::oid(&oids::ECDSA_WITH_SHA_384)])
        }
        KeyAlgorithm::Ecdsa(EcdsaCurve::P521) => {
            der::sequence(&[&der::oid(&oids::ECDSA_WITH_SHA_512)])
        }
        KeyAlgorithm::Ed25519 => der::sequence(&[&der::oid(&oids::ID_ED_25519)]),
    }
}

/// Signs `tbs` and wraps it with the algorithm identifier and signature BIT STRING.
pub(super) fn sign_structure(signer: &ParsedKey, tbs: &[u8]) -> Result<Vec<u8>> {
    let pair = signer.rcgen_key_pair()?;
    let signature = pair
        .sign(tbs)
        .map_err(|e| PkiError::Signing(e.to_string()))?;
    Ok(der::sequence(&[
        tbs,
        &signature_algorithm_der(signer.algorithm()),
        &der::bit_string(0, &signature),
    ]))
}

/// Creates a certificate request as CertRequest does: the subject and the DNS/IP/URI SANs (in an
/// extensionRequest attribute, only when there are SANs); no key usages or other extensions.
pub fn create_csr(
    key: &ParsedKey,
    subject: &Subject,
    dns_names: &[String],
    ip_addresses: &[IpAddr],
    uris: &[String],
) -> Result<CsrOutput> {
    let sans = Sans::new(dns_names, ip_addresses, uris)?;
    let subject_der = subject.to_der()?;
    let attributes = if sans.is_empty() {
        Vec::new()
    } else {
        let extensions = der::sequence(&[&extension(OID_SUBJECT_ALT_NAME, false, &sans.to_der())]);
        der::sequence(&[
            &der::oid(&oids::ID_EXTENSION_REQ),
            &der::set_of(vec![extensions]),
        ])
    };
    let info = der::sequence(&[
        &der::small_integer(0),
        &subject_der,
        key.public_key_der(),
        &der::tlv(0xa0, &attributes),
    ]);
    let csr = sign_structure(key, &info)?;
    Ok(CsrOutput {
        csr_pem: framing::encode("CERTIFICATE REQUEST", &csr),
        id: super::state_hash(&csr),
    })
}

/// What a certificate is made from, once sources are resolved.
struct Template<'a> {
    issuer_der: &'a [u8],
    subject_der: &'a [u8],
    spki_der: &'a [u8],
    spki_alg: Option<Oid>,
    key_bits: &'a [u8],
    sans: Sans<'a>,
    /// Upstream's SelfSignedCert `set_authority_key_id`.
    self_aki: bool,
    /// The issuer's subject key id, for locally signed certificates.
    issuer_ski: Option<Vec<u8>>,
}

fn serial_bytes(opts: &IssueOptions) -> Result<[u8; 16]> {
    match opts.serial {
        Some(s) if s.iter().all(|b| *b == 0) => Err(PkiError::InvalidInput(
            "the serial number must not be zero".into(),
        )),
        Some(s) => Ok(s),
        None => {
            use rand::RngCore as _;
            let mut s = [0u8; 16];
            loop {
                rand::rngs::OsRng.fill_bytes(&mut s);
                if s.iter().any(|b| *b != 0) {
                    return Ok(s);
                }
            }
        }
    }
}

fn validity(opts: &IssueOptions) -> Result<(OffsetDateTime, OffsetDateTime)> {
    if opts.validity_hours < 0 {
        return Err(PkiError::InvalidInput(
            "validity_period_hours must be at least 0".into(),
        ));
    }
    if opts.backdate_minutes < 0 {
        return Err(PkiError::InvalidInput(
            "backdate minutes must be at least 0".into(),
        ));
    }
    let out_of_range = || {
        PkiError::InvalidInput(
            "the validity period reaches beyond the dates a certificate can hold".into(),
        )
    };
    let now = opts
        .now
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(out_of_range)?
        .replace_nanosecond(0)
        .map_err(|_| out_of_range())?;
    let back = opts
        .backdate_minutes
        .checked_mul(60)
        .map(time::Duration::seconds)
        .ok_or_else(out_of_range)?;
    let life = opts
        .validity_hours
        .checked_mul(3600)
        .map(time::Duration::seconds)
        .ok_or_else(out_of_range)?;
    let not_before = now.checked_sub(back).ok_or_else(out_of_range)?;
    let not_after = now.checked_add(life).ok_or_else(out_of_range)?;
    for t in [not_before, not_after] {
        if !(0..=9999).contains(&t.year()) {
            return Err(out_of_range());
        }
    }
    Ok((not_before, not_after))
}

fn rfc3339(t: OffsetDateTime) -> Result<String> {
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| PkiError::Encoding(format!("time formatting failed: {e}")))
}

fn issue(signer: &ParsedKey, t: &Template<'_>, opts: &IssueOptions) -> Result<IssuedCert> {
    let subject_empty = t.subject_der == [0x30, 0x00];
    if opts.is_ca && subject_empty {
        return Err(PkiError::InvalidInput(
            "a CA certificate must have a non-empty subject (at least one distinguished name)"
                .into(),
        ));
    }
    let path_len = match opts.max_path_length {
        None | Some(-1) => None,
        Some(n) if n < -1 => {
            return Err(PkiError::InvalidInput(format!(
                "max_path_length must be at least -1, got {n}"
            )));
        }
        Some(n) if !opts.is_ca && n > 0 => {
            return Err(PkiError::InvalidInput(
                "max_path_length is only allowed on CA certificates".into(),
            ));
        }
        Some(n) => u64::try_from(n).ok(),
    };
    let serial = serial_bytes(opts)?;
    let (not_before, not_after) = validity(opts)?;

    let ski =
        (opts.is_ca || opts.set_subject_key_id).then(|| subject_key_id(t.spki_alg, t.key_bits));
    let aki = if t.self_aki {
        Some(ski.clone().ok_or_else(|| {
            PkiError::InvalidInput(
                "set_authority_key_id needs a subject key id: also set is_ca_certificate or \
                 set_subject_key_id (Could not determine Authority Key Identifier)"
                    .into(),
            )
        })?)
    } else if t.issuer_der != t.subject_der {
        // Go takes the AKI from the parent's SKI unless the certificate is self-issued.
        t.issuer_ski.clone()
    } else {
        None
    };

    let mut exts: Vec<Vec<u8>> = Vec::new();
    if let Some(ku) = key_usage_value(&opts.allowed_uses) {
        exts.push(extension(OID_KEY_USAGE, true, &ku));
    }
    if let Some(eku) = ext_key_usage_value(&opts.allowed_uses) {
        exts.push(extension(OID_EXT_KEY_USAGE, false, &eku));
    }
    let bc = if opts.is_ca {
        match path_len {
            Some(n) => der::sequence(&[&der::boolean(true), &der::small_integer(n)]),
            None => der::sequence(&[&der::boolean(true)]),
        }
    } else {
        der::sequence(&[])
    };
    exts.push(extension(OID_BASIC_CONSTRAINTS, true, &bc));
    if let Some(ski) = &ski {
        exts.push(extension(
            OID_SUBJECT_KEY_ID,
            false,
            &der::octet_string(ski),
        ));
    }
    if let Some(aki) = &aki {
        let value = der::sequence(&[&der::implicit_primitive(0, aki)]);
        exts.push(extension(OID_AUTHORITY_KEY_ID, false, &value));
    }
    if let Some(aia) = opts.pointers.aia_der() {
        exts.push(extension(oids::ID_PE_AUTHORITY_INFO_ACCESS, false, &aia));
    }
    if !t.sans.is_empty() {
        exts.push(extension(
            OID_SUBJECT_ALT_NAME,
            subject_empty,
            &t.sans.to_der(),
        ));
    }
    if let Some(nc) = opts.name_constraints.as_ref().filter(|nc| !nc.is_empty()) {
        if !opts.is_ca {
            return Err(PkiError::InvalidInput(
                "name constraints are only allowed on CA certificates".into(),
            ));
        }
        exts.push(extension(oids::ID_CE_NAME_CONSTRAINTS, true, &nc.to_der()));
    }
    if let Some(cdp) = opts.pointers.cdp_der() {
        exts.push(extension(oids::ID_CE_CRL_DISTRIBUTION_POINTS, false, &cdp));
    }

    let tbs = der::sequence(&[
        &der::explicit(0, &der::small_integer(2)),
        &der::unsigned_integer(&serial),
        &signature_algorithm_der(signer.algorithm()),
        t.issuer_der,
        &der::sequence(&[&der::time(not_before)?, &der::time(not_after)?]),
        t.subject_der,
        t.spki_der,
        &der::explicit(3, &der::tlv(der::TAG_SEQUENCE, &exts.concat())),
    ]);
    let cert = sign_structure(signer, &tbs)?;
    Ok(IssuedCert {
        cert_pem: framing::encode("CERTIFICATE", &cert),
        cert_der: cert,
        serial_decimal: num_bigint::BigUint::from_bytes_be(&serial).to_string(),
        not_before,
        not_after,
        not_before_rfc3339: rfc3339(not_before)?,
        not_after_rfc3339: rfc3339(not_after)?,
        key_algorithm: signer.algorithm(),
        issuer_not_ca: false,
    })
}

/// The SPKI algorithm OID of a key type.
fn key_algorithm_oid(alg: KeyAlgorithm) -> Oid {
    match alg {
        KeyAlgorithm::Rsa { .. } => oids::RSA_ENCRYPTION,
        KeyAlgorithm::Ecdsa(_) => oids::ID_EC_PUBLIC_KEY,
        KeyAlgorithm::Ed25519 => oids::ID_ED_25519,
    }
}

/// Creates a self-signed certificate (SelfSignedCert).
pub fn self_signed(key: &ParsedKey, spec: &CertSpec) -> Result<IssuedCert> {
    let subject_der = spec.subject.to_der()?;
    let key_bits = key.public_key_bits();
    let template = Template {
        issuer_der: &subject_der,
        subject_der: &subject_der,
        spki_der: key.public_key_der(),
        spki_alg: Some(key_algorithm_oid(key.algorithm())),
        key_bits,
        sans: Sans::new(&spec.dns_names, &spec.ip_addresses, &spec.uris)?,
        self_aki: spec.set_authority_key_id,
        issuer_ski: None,
    };
    issue(key, &template, &spec.options)
}

/// Signs a request with a CA (LocallySignedCert). The request's signature is verified; only its
/// subject and DNS/IP/URI SANs are used. The CA key must match the CA certificate. When the CA
/// certificate has a subject key id it becomes the new certificate's authority key id.
pub fn locally_signed(
    csr_pem: &str,
    ca_cert_pem: &str,
    ca_key: &ParsedKey,
    options: &IssueOptions,
) -> Result<IssuedCert> {
    let csr_der =
        framing::single_block(csr_pem, "CERTIFICATE REQUEST", &["NEW CERTIFICATE REQUEST"])?;
    let csr = super::inspect::parse_csr(&csr_der)?;
    let ca_der = framing::single_block(ca_cert_pem, "CERTIFICATE", &[])?;
    let (_, ca) = x509_parser::certificate::X509Certificate::from_der(&ca_der)
        .map_err(|e| PkiError::InvalidCertificate(format!("CA certificate: {e}")))?;

    ensure_key_of(&ca, ca_key)?;

    let issuer = issuer_facts(&ca)?;
    let refusals = refusals(&csr, &issuer, options.is_ca, options.max_path_length);
    if !refusals.is_empty() {
        return Err(PkiError::Refused(refusals.to_string()));
    }

    let info = &csr.req.certification_request_info;
    let csr_spki = &info.subject_pki;
    let template = Template {
        issuer_der: ca.tbs_certificate.subject.as_raw(),
        subject_der: info.subject.as_raw(),
        spki_der: csr_spki.raw,
        spki_alg: oids::from_parsed(&csr_spki.algorithm.algorithm),
        key_bits: csr_spki.subject_public_key.data.as_ref(),
        sans: Sans::new(&csr.dns_names, &csr.ip_addresses, &csr.uris)?,
        self_aki: false,
        issuer_ski: issuer.ski.filter(|s| !s.is_empty()),
    };
    let mut issued = issue(ca_key, &template, options)?;
    issued.issuer_not_ca = !issuer.is_ca;
    Ok(issued)
}

/// The CA key must be the key of the CA certificate (Go refuses otherwise).
pub(super) fn ensure_key_of(
    ca: &x509_parser::certificate::X509Certificate<'_>,
    ca_key: &ParsedKey,
) -> Result<()> {
    if !key_belongs_to(ca, ca_key) {
        return Err(PkiError::InvalidInput(
            "the CA private key does not match the public key of the CA certificate".into(),
        ));
    }
    Ok(())
}

/// Whether `key` is the private half of the certificate's public key: same algorithm, same
/// key bits.
pub(super) fn key_belongs_to(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    key: &ParsedKey,
) -> bool {
    let spki = cert.public_key();
    oids::is(
        &spki.algorithm.algorithm,
        &key_algorithm_oid(key.algorithm()),
    ) && spki.subject_public_key.data.as_ref() == key.public_key_bits()
}

/// What signing needs to know of a CA certificate.
struct IssuerFacts {
    ski: Option<Vec<u8>>,
    is_ca: bool,
    path_len: Option<u32>,
    name_constraints: Option<NameConstraints>,
}

fn issuer_facts(ca: &x509_parser::certificate::X509Certificate<'_>) -> Result<IssuerFacts> {
    use x509_parser::extensions::ParsedExtension;
    let mut facts = IssuerFacts {
        ski: None,
        is_ca: false,
        path_len: None,
        name_constraints: None,
    };
    for ext in ca.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => facts.ski = Some(id.0.to_vec()),
            ParsedExtension::BasicConstraints(bc) => {
                facts.is_ca = bc.ca;
                facts.path_len = bc.path_len_constraint;
            }
            ParsedExtension::NameConstraints(nc) => {
                facts.name_constraints = Some(NameConstraints::from_parsed(nc)?);
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// Why a CA refuses to sign a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusals {
    /// Names of the request outside the CA's name constraints.
    pub names: Vec<NameViolation>,
    /// The CA's path length forbids the CA certificate asked for.
    pub path_length: Option<String>,
}

impl Refusals {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.path_length.is_none()
    }
}

impl std::fmt::Display for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = self.names.iter().map(|n| n.to_string()).collect();
        parts.extend(self.path_length.clone());
        f.write_str(&parts.join("; "))
    }
}

fn refusals(
    csr: &super::inspect::ParsedCsr<'_>,
    issuer: &IssuerFacts,
    is_ca: bool,
    max_path_length: Option<i64>,
) -> Refusals {
    let subject = &csr.req.certification_request_info.subject;
    let strings = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.map(attribute_text).collect::<Vec<_>>()
    };
    let names = RequestNames {
        dns_names: csr.dns_names.clone(),
        ip_addresses: csr.ip_addresses.clone(),
        uris: csr.uris.clone(),
        // Only DNS, IP and URI SANs are copied into the certificate.
        emails: Vec::new(),
        // OpenSSL reads the common name as a host name on the end-entity certificate only.
        common_names: if is_ca {
            Vec::new()
        } else {
            strings(&mut subject.iter_common_name())
        },
        subject_emails: strings(&mut subject.iter_email()),
    };
    let path_length = match (is_ca, issuer.path_len) {
        (true, Some(0)) => Some(
            "the CA certificate has path length 0: it may sign only end-entity certificates, \
             not another CA (isCaCertificate)"
                .to_string(),
        ),
        (true, Some(n)) => match max_path_length {
            Some(m) if (0..i64::from(n)).contains(&m) => None,
            // Unlimited would let the new CA sign deeper than this one allows, and later
            // signings only see the new CA.
            Some(m) => Some(format!(
                "the CA certificate allows {n} more CA level(s) below it, so a CA it signs must \
                 set maxPathLength to at most {}, not {}",
                n - 1,
                if m < 0 {
                    "unlimited".to_string()
                } else {
                    m.to_string()
                }
            )),
            None => Some(format!(
                "the CA certificate allows {n} more CA level(s) below it, so a CA it signs must \
                 set maxPathLength to at most {}, not leave it unlimited",
                n - 1
            )),
        },
        _ => None,
    };
    Refusals {
        names: issuer
            .name_constraints
            .as_ref()
            .map(|nc| nc.violations(&names))
            .unwrap_or_default(),
        path_length,
    }
}

/// A subject attribute as text: the string types x509-parser decodes, plus BMPString (UTF-16)
/// and UniversalString (UTF-32), which OpenSSL also converts before checking constraints.
/// Undecodable values come back as a marker that matches no host name.
fn attribute_text(a: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    use x509_parser::asn1_rs::Tag;
    if let Ok(text) = a.as_str() {
        return text.to_string();
    }
    let data = a.attr_value().data;
    let decoded = match a.attr_value().tag() {
        Tag::BmpString if data.len() % 2 == 0 => char::decode_utf16(
            data.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )
        .collect::<std::result::Result<String, _>>()
        .ok(),
        Tag::UniversalString if data.len() % 4 == 0 => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect::<Option<String>>(),
        _ => None,
    };
    decoded.unwrap_or_else(|| "<undecodable attribute>".to_string())
}

/// What signing `csr_pem` with `ca_cert_pem` would refuse (see [`locally_signed`]), for
/// checking inputs before anything is signed.
pub fn signing_refusals(
    csr_pem: &str,
    ca_cert_pem: &str,
    is_ca: bool,
    max_path_length: Option<i64>,
) -> Result<Refusals> {
    let csr_der =
        framing::single_block(csr_pem, "CERTIFICATE REQUEST", &["NEW CERTIFICATE REQUEST"])?;
    let csr = super::inspect::parse_csr(&csr_der)?;
    let ca_der = framing::single_block(ca_cert_pem, "CERTIFICATE", &[])?;
    let (_, ca) = x509_parser::certificate::X509Certificate::from_der(&ca_der)
        .map_err(|e| PkiError::InvalidCertificate(format!("CA certificate: {e}")))?;
    Ok(refusals(&csr, &issuer_facts(&ca)?, is_ca, max_path_length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::tests::{ALL, material};
    use crate::pki::keys::{EcdsaCurve, parse_private_key};
    use std::net::{Ipv4Addr, Ipv6Addr};
    use time::macros::datetime;
    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::{GeneralName, ParsedExtension};

    const NOW: OffsetDateTime = datetime!(2026-03-04 05:06:07.891 UTC);

    fn key(alg: KeyAlgorithm) -> ParsedKey {
        parse_private_key(&material(alg).private_key_pem).unwrap()
    }

    fn subject(cn: &str) -> Subject {
        Subject {
            common_name: Some(cn.into()),
            organization: Some("Zerotrust Test".into()),
            ..Default::default()
        }
    }

    fn ca_spec(cn: &str) -> CertSpec {
        let mut options = IssueOptions::new(24 * 365, NOW);
        options.is_ca = true;
        options.allowed_uses = vec![
            AllowedUse::CertSigning,
            AllowedUse::CrlSigning,
            AllowedUse::DigitalSignature,
        ];
        CertSpec {
            subject: subject(cn),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: true,
            options,
        }
    }

    fn leaf_spec() -> CertSpec {
        let mut options = IssueOptions::new(48, NOW);
        options.allowed_uses = vec![
            AllowedUse::DigitalSignature,
            AllowedUse::KeyEncipherment,
            AllowedUse::ServerAuth,
            AllowedUse::ClientAuth,
        ];
        CertSpec {
            subject: subject("trainer"),
            dns_names: vec!["trainer.ml.svc".into(), "*.ml.svc".into()],
            ip_addresses: vec![
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            uris: vec!["spiffe://cluster.local/ns/ml/sa/trainer".into()],
            set_authority_key_id: false,
            options,
        }
    }

    fn parsed(der: &[u8]) -> X509Certificate<'_> {
        let (rest, c) = X509Certificate::from_der(der).unwrap();
        assert!(rest.is_empty());
        c
    }

    fn ext<'a>(
        c: &'a X509Certificate<'_>,
        oid: Oid,
    ) -> Option<&'a x509_parser::extensions::X509Extension<'a>> {
        c.extensions().iter().find(|e| oids::is(&e.oid, &oid))
    }

    fn assert_signed_by(
        c: &X509Certificate<'_>,
        issuer_spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
    ) {
        crate::pki::verify::verify(
            issuer_spki,
            &c.signature_algorithm,
            c.signature_value.data.as_ref(),
            c.tbs_certificate.as_ref(),
        )
        .unwrap();
    }

    #[test]
    fn self_signed_leaf_for_every_algorithm() {
        for alg in ALL {
            let k = key(alg);
            let issued = self_signed(&k, &leaf_spec()).unwrap();
            assert!(issued.cert_pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
            assert!(issued.cert_pem.ends_with("-----END CERTIFICATE-----\n"));
            assert_eq!(issued.key_algorithm, alg);
            assert!(!issued.issuer_not_ca);
            let c = parsed(&issued.cert_der);
            assert_eq!(c.version().0, 2);
            assert_signed_by(&c, c.public_key());
            assert_eq!(c.public_key().raw, k.public_key_der());
            assert_eq!(
                c.tbs_certificate.issuer.as_raw(),
                c.tbs_certificate.subject.as_raw()
            );
            assert_eq!(
                issued.serial_decimal,
                num_bigint::BigUint::from_bytes_be(c.raw_serial()).to_string()
            );

            // Extension order and criticality as Go writes them.
            let order: Vec<(String, bool)> = c
                .extensions()
                .iter()
                .map(|e| (e.oid.to_id_string(), e.critical))
                .collect();
            assert_eq!(
                order,
                vec![
                    ("2.5.29.15".to_string(), true),
                    ("2.5.29.37".to_string(), false),
                    ("2.5.29.19".to_string(), true),
                    ("2.5.29.17".to_string(), false),
                ],
                "{alg}"
            );
            let Some(ParsedExtension::BasicConstraints(bc)) =
                ext(&c, OID_BASIC_CONSTRAINTS).map(|e| e.parsed_extension())
            else {
                panic!("no basic constraints");
            };
            assert!(!bc.ca && bc.path_len_constraint.is_none());
            let Some(ParsedExtension::KeyUsage(ku)) =
                ext(&c, OID_KEY_USAGE).map(|e| e.parsed_extension())
            else {
                panic!("no key usage");
            };
            assert!(ku.digital_signature() && ku.key_encipherment() && !ku.key_cert_sign());
            let Some(ParsedExtension::ExtendedKeyUsage(eku)) =
                ext(&c, OID_EXT_KEY_USAGE).map(|e| e.parsed_extension())
            else {
                panic!("no eku");
            };
            assert!(eku.server_auth && eku.client_auth && !eku.code_signing);
            let Some(ParsedExtension::SubjectAlternativeName(san)) =
                ext(&c, OID_SUBJECT_ALT_NAME).map(|e| e.parsed_extension())
            else {
                panic!("no san");
            };
            let names: Vec<String> = san
                .general_names
                .iter()
                .map(|n| match n {
                    GeneralName::DNSName(d) => format!("dns:{d}"),
                    GeneralName::IPAddress(b) => format!("ip:{}", hex::encode(b)),
                    GeneralName::URI(u) => format!("uri:{u}"),
                    other => format!("{other:?}"),
                })
                .collect();
            assert_eq!(
                names,
                vec![
                    "dns:trainer.ml.svc",
                    "dns:*.ml.svc",
                    "ip:0a000007",
                    "ip:00000000000000000000000000000001",
                    "uri:spiffe://cluster.local/ns/ml/sa/trainer"
                ]
            );
        }
    }

    #[test]
    fn validity_uses_now_truncated_and_backdating() {
        let k = key(KeyAlgorithm::Ed25519);
        let mut spec = leaf_spec();
        let issued = self_signed(&k, &spec).unwrap();
        assert_eq!(issued.not_before, datetime!(2026-03-04 05:06:07 UTC));
        assert_eq!(issued.not_after, datetime!(2026-03-06 05:06:07 UTC));
        assert_eq!(issued.not_before_rfc3339, "2026-03-04T05:06:07Z");
        assert_eq!(issued.not_after_rfc3339, "2026-03-06T05:06:07Z");
        let c = parsed(&issued.cert_der);
        assert_eq!(
            c.validity().not_before.to_datetime(),
            datetime!(2026-03-04 05:06:07 UTC)
        );

        spec.options.backdate_minutes = 90;
        let issued = self_signed(&k, &spec).unwrap();
        assert_eq!(issued.not_before_rfc3339, "2026-03-04T03:36:07Z");
        assert_eq!(issued.not_after_rfc3339, "2026-03-06T05:06:07Z");

        // Offsets are normalised to UTC.
        spec.options.backdate_minutes = 0;
        spec.options.now = datetime!(2026-03-04 07:06:07 +02:00);
        let issued = self_signed(&k, &spec).unwrap();
        assert_eq!(issued.not_before_rfc3339, "2026-03-04T05:06:07Z");

        // Zero hours is allowed (NotBefore == NotAfter), negatives and overflow are not.
        spec.options.validity_hours = 0;
        let issued = self_signed(&k, &spec).unwrap();
        assert_eq!(issued.not_before, issued.not_after);
        for (hours, back) in [
            (-1, 0),
            (0, -5),
            (i64::MAX, 0),
            (24 * 366 * 8000, 0),
            (0, i64::MAX),
        ] {
            spec.options.validity_hours = hours;
            spec.options.backdate_minutes = back;
            assert!(
                matches!(self_signed(&k, &spec), Err(PkiError::InvalidInput(_))),
                "{hours} {back}"
            );
        }
        // Beyond 2049 the time is a GeneralizedTime and still parses.
        spec.options.validity_hours = 24 * 365 * 40;
        spec.options.backdate_minutes = 0;
        let issued = self_signed(&k, &spec).unwrap();
        assert_eq!(issued.not_after.year(), 2066);
        let c = parsed(&issued.cert_der);
        assert_eq!(c.validity().not_after.to_datetime().year(), 2066);
    }

    #[test]
    fn serials_are_random_positive_and_injectable() {
        let k = key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        let limit = num_bigint::BigUint::from(1u8) << 128usize;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let issued = self_signed(&k, &leaf_spec()).unwrap();
            let n: num_bigint::BigUint = issued.serial_decimal.parse().unwrap();
            assert!(n > num_bigint::BigUint::from(0u8) && n < limit);
            let c = parsed(&issued.cert_der);
            // Positive INTEGER: at most 17 bytes with the sign pad.
            assert!(c.raw_serial().len() <= 17);
            seen.insert(issued.serial_decimal);
        }
        assert_eq!(seen.len(), 20);

        let mut spec = leaf_spec();
        let mut bytes = [0u8; 16];
        bytes[15] = 42;
        spec.options.serial = Some(bytes);
        assert_eq!(self_signed(&k, &spec).unwrap().serial_decimal, "42");
        spec.options.serial = Some([0xff; 16]);
        assert_eq!(
            self_signed(&k, &spec).unwrap().serial_decimal,
            "340282366920938463463374607431768211455"
        );
        spec.options.serial = Some([0; 16]);
        assert!(matches!(
            self_signed(&k, &spec),
            Err(PkiError::InvalidInput(_))
        ));
    }

    #[test]
    fn ca_certificates_carry_ski_aki_and_path_length() {
        for alg in ALL {
            let k = key(alg);
            let mut spec = ca_spec("Root");
            spec.options.max_path_length = Some(2);
            let issued = self_signed(&k, &spec).unwrap();
            let c = parsed(&issued.cert_der);
            let Some(ParsedExtension::BasicConstraints(bc)) =
                ext(&c, OID_BASIC_CONSTRAINTS).map(|e| e.parsed_extension())
            else {
                panic!()
            };
            assert!(bc.ca);
            assert_eq!(bc.path_len_constraint, Some(2));
            let Some(ParsedExtension::SubjectKeyIdentifier(ski)) =
                ext(&c, OID_SUBJECT_KEY_ID).map(|e| e.parsed_extension())
            else {
                panic!()
            };
            let expected = match alg {
                KeyAlgorithm::Ed25519 => {
                    Sha1::digest(der::octet_string(k.public_key_bits())).to_vec()
                }
                _ => Sha1::digest(k.public_key_bits()).to_vec(),
            };
            assert_eq!(ski.0, expected.as_slice(), "{alg}");
            let Some(ParsedExtension::AuthorityKeyIdentifier(aki)) =
                ext(&c, OID_AUTHORITY_KEY_ID).map(|e| e.parsed_extension())
            else {
                panic!()
            };
            assert_eq!(aki.key_identifier.as_ref().unwrap().0, expected.as_slice());
            let Some(ParsedExtension::KeyUsage(ku)) =
                ext(&c, OID_KEY_USAGE).map(|e| e.parsed_extension())
            else {
                panic!()
            };
            assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
        }
    }

    #[test]
    fn path_length_variants() {
        let k = key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        let pathlen = |v: Option<i64>, ca: bool| {
            let mut spec = ca_spec("Root");
            spec.options.is_ca = ca;
            spec.set_authority_key_id = false;
            spec.options.max_path_length = v;
            self_signed(&k, &spec).map(|i| {
                let c = parsed(&i.cert_der);
                match ext(&c, OID_BASIC_CONSTRAINTS).map(|e| e.parsed_extension()) {
                    Some(ParsedExtension::BasicConstraints(bc)) => (bc.ca, bc.path_len_constraint),
                    _ => panic!(),
                }
            })
        };
        assert_eq!(pathlen(None, true).unwrap(), (true, None));
        assert_eq!(pathlen(Some(-1), true).unwrap(), (true, None));
        assert_eq!(pathlen(Some(0), true).unwrap(), (true, Some(0)));
        assert_eq!(pathlen(Some(0), false).unwrap(), (false, None));
        assert_eq!(pathlen(Some(-1), false).unwrap(), (false, None));
        assert!(matches!(
            pathlen(Some(1), false),
            Err(PkiError::InvalidInput(_))
        ));
        assert!(matches!(
            pathlen(Some(-2), true),
            Err(PkiError::InvalidInput(_))
        ));
    }

    #[test]
    fn key_id_rules_follow_upstream() {
        let k = key(KeyAlgorithm::Ed25519);
        // AKI without an SKI is refused.
        let mut spec = leaf_spec();
        spec.set_authority_key_id = true;
        let err = self_signed(&k, &spec).unwrap_err();
        assert!(err.to_string().contains("Authority Key Identifier"));
        // set_subject_key_id alone gives SKI, no AKI.
        spec.set_authority_key_id = false;
        spec.options.set_subject_key_id = true;
        let c_der = self_signed(&k, &spec).unwrap().cert_der;
        let c = parsed(&c_der);
        assert!(ext(&c, OID_SUBJECT_KEY_ID).is_some());
        assert!(ext(&c, OID_AUTHORITY_KEY_ID).is_none());
        // A CA needs a subject.
        let mut ca = ca_spec("x");
        ca.subject = Subject::default();
        assert!(matches!(
            self_signed(&k, &ca),
            Err(PkiError::InvalidInput(_))
        ));
    }

    #[test]
    fn empty_subject_makes_san_critical_and_no_uses_means_no_ku() {
        let k = key(KeyAlgorithm::Ecdsa(EcdsaCurve::P384));
        let mut spec = leaf_spec();
        spec.subject = Subject::default();
        spec.options.allowed_uses = vec![AllowedUse::ServerAuth];
        let c_der = self_signed(&k, &spec).unwrap().cert_der;
        let c = parsed(&c_der);
        assert!(ext(&c, OID_SUBJECT_ALT_NAME).unwrap().critical);
        assert!(ext(&c, OID_KEY_USAGE).is_none());
        assert!(ext(&c, OID_EXT_KEY_USAGE).is_some());
        spec.options.allowed_uses.clear();
        let c_der = self_signed(&k, &spec).unwrap().cert_der;
        let c = parsed(&c_der);
        assert!(ext(&c, OID_EXT_KEY_USAGE).is_none());
        assert!(ext(&c, OID_BASIC_CONSTRAINTS).is_some());
    }

    #[test]
    fn key_usage_bits_encode_like_go() {
        assert_eq!(
            key_usage_value(&[AllowedUse::DigitalSignature]).unwrap(),
            vec![0x03, 0x02, 0x07, 0x80]
        );
        // digitalSignature + keyEncipherment = 1010 0000, 5 unused bits.
        assert_eq!(
            key_usage_value(&[AllowedUse::DigitalSignature, AllowedUse::KeyEncipherment]).unwrap(),
            vec![0x03, 0x02, 0x05, 0xa0]
        );
        // certSign + cRLSign = 0000 0110, 1 unused bit.
        assert_eq!(
            key_usage_value(&[AllowedUse::CertSigning, AllowedUse::CrlSigning]).unwrap(),
            vec![0x03, 0x02, 0x01, 0x06]
        );
        // decipherOnly is bit 8: two bytes, 7 unused bits.
        assert_eq!(
            key_usage_value(&[AllowedUse::DecipherOnly]).unwrap(),
            vec![0x03, 0x03, 0x07, 0x00, 0x80]
        );
        assert!(key_usage_value(&[AllowedUse::ServerAuth]).is_none());
        let eku = ext_key_usage_value(&[
            AllowedUse::ServerAuth,
            AllowedUse::ServerAuth,
            AllowedUse::MicrosoftKernelCodeSigning,
        ])
        .unwrap();
        assert_eq!(
            hex::encode(eku),
            "301606082b06010505070301060a2b0601040182373d0101"
        );
    }

    #[test]
    fn bad_sans_are_rejected() {
        let k = key(KeyAlgorithm::Ed25519);
        for (dns, uri) in [
            (vec!["".to_string()], vec![]),
            (vec!["bücher.example".to_string()], vec![]),
            (vec![], vec!["spiffe://a b".to_string()]),
            (vec![], vec!["".to_string()]),
        ] {
            let mut spec = leaf_spec();
            spec.dns_names = dns;
            spec.uris = uri;
            assert!(matches!(
                self_signed(&k, &spec),
                Err(PkiError::InvalidInput(_))
            ));
        }
        // IPv4-mapped IPv6 is written in 4-byte form, as Go does.
        let mut spec = leaf_spec();
        spec.ip_addresses = vec!["::ffff:192.0.2.1".parse().unwrap()];
        let c_der = self_signed(&k, &spec).unwrap().cert_der;
        let c = parsed(&c_der);
        let Some(ParsedExtension::SubjectAlternativeName(san)) =
            ext(&c, OID_SUBJECT_ALT_NAME).map(|e| e.parsed_extension())
        else {
            panic!()
        };
        assert!(
            san.general_names
                .contains(&GeneralName::IPAddress(&[192, 0, 2, 1]))
        );
    }

    #[test]
    fn csr_contents() {
        for alg in ALL {
            let k = key(alg);
            let spec = leaf_spec();
            let out = create_csr(
                &k,
                &spec.subject,
                &spec.dns_names,
                &spec.ip_addresses,
                &spec.uris,
            )
            .unwrap();
            assert!(
                out.csr_pem
                    .starts_with("-----BEGIN CERTIFICATE REQUEST-----\n")
            );
            assert!(out.csr_pem.ends_with("-----END CERTIFICATE REQUEST-----\n"));
            let der_bytes =
                framing::single_block(&out.csr_pem, "CERTIFICATE REQUEST", &[]).unwrap();
            assert_eq!(out.id, crate::pki::state_hash(&der_bytes));
            let csr = crate::pki::inspect::parse_csr(&der_bytes).unwrap();
            assert_eq!(csr.dns_names, spec.dns_names);
            assert_eq!(csr.ip_addresses, spec.ip_addresses);
            assert_eq!(csr.uris, spec.uris);
            assert_eq!(
                csr.req.certification_request_info.subject.as_raw(),
                spec.subject.to_der().unwrap()
            );
            // Only the SAN extension is requested.
            let exts: Vec<_> = csr.req.requested_extensions().unwrap().collect();
            assert_eq!(exts.len(), 1);
        }
        // Without SANs the attribute set is empty.
        let k = key(KeyAlgorithm::Ed25519);
        let out = create_csr(&k, &subject("x"), &[], &[], &[]).unwrap();
        let der_bytes = framing::single_block(&out.csr_pem, "CERTIFICATE REQUEST", &[]).unwrap();
        let csr = crate::pki::inspect::parse_csr(&der_bytes).unwrap();
        assert!(csr.req.requested_extensions().is_none());
        assert!(csr.req.certification_request_info.attributes().is_empty());
    }

    /// root -> intermediate -> leaf, all locally signed from requests.
    #[test]
    fn chain_of_locally_signed_certificates() {
        for alg in ALL {
            let root_key = key(alg);
            let root = self_signed(&root_key, &ca_spec("Root CA")).unwrap();

            let inter_key = key(KeyAlgorithm::Ecdsa(EcdsaCurve::P384));
            let inter_csr =
                create_csr(&inter_key, &subject("Intermediate CA"), &[], &[], &[]).unwrap();
            let mut inter_opts = ca_spec("ignored").options;
            inter_opts.max_path_length = Some(0);
            let inter =
                locally_signed(&inter_csr.csr_pem, &root.cert_pem, &root_key, &inter_opts).unwrap();
            assert_eq!(inter.key_algorithm, alg);
            assert!(!inter.issuer_not_ca);

            let leaf_key = key(KeyAlgorithm::Ed25519);
            let spec = leaf_spec();
            let leaf_csr = create_csr(
                &leaf_key,
                &spec.subject,
                &spec.dns_names,
                &spec.ip_addresses,
                &spec.uris,
            )
            .unwrap();
            let leaf = locally_signed(
                &leaf_csr.csr_pem,
                &inter.cert_pem,
                &inter_key,
                &spec.options,
            )
            .unwrap();

            let r = parsed(&root.cert_der);
            let i = parsed(&inter.cert_der);
            let l = parsed(&leaf.cert_der);
            assert_signed_by(&i, r.public_key());
            assert_signed_by(&l, i.public_key());
            assert_eq!(
                i.tbs_certificate.issuer.as_raw(),
                r.tbs_certificate.subject.as_raw()
            );
            assert_eq!(
                l.tbs_certificate.issuer.as_raw(),
                i.tbs_certificate.subject.as_raw()
            );
            assert_eq!(
                l.tbs_certificate.subject.as_raw(),
                spec.subject.to_der().unwrap().as_slice()
            );
            assert_eq!(l.public_key().raw, leaf_key.public_key_der());

            let ski_of = |c: &X509Certificate<'_>| match ext(c, OID_SUBJECT_KEY_ID)
                .map(|e| e.parsed_extension())
            {
                Some(ParsedExtension::SubjectKeyIdentifier(k)) => k.0.to_vec(),
                _ => panic!("no ski"),
            };
            let aki_of = |c: &X509Certificate<'_>| match ext(c, OID_AUTHORITY_KEY_ID)
                .map(|e| e.parsed_extension())
            {
                Some(ParsedExtension::AuthorityKeyIdentifier(a)) => {
                    a.key_identifier.as_ref().unwrap().0.to_vec()
                }
                _ => panic!("no aki"),
            };
            assert_eq!(aki_of(&i), ski_of(&r));
            assert_eq!(aki_of(&l), ski_of(&i));
            assert!(ext(&l, OID_SUBJECT_KEY_ID).is_none());
            match ext(&i, OID_BASIC_CONSTRAINTS).map(|e| e.parsed_extension()) {
                Some(ParsedExtension::BasicConstraints(bc)) => {
                    assert!(bc.ca);
                    assert_eq!(bc.path_len_constraint, Some(0));
                }
                _ => panic!(),
            }
        }
    }

    #[test]
    fn locally_signed_copies_only_subject_and_sans() {
        let ca_key = key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        let ca = self_signed(&ca_key, &ca_spec("CA")).unwrap();
        // A request with key usages, a custom extension and an email SAN, made by rcgen.
        let req_key = key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        let mut params = rcgen::CertificateParams::new(vec!["svc.example".to_string()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "from-rcgen");
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
        params.subject_alt_names.push(rcgen::SanType::Rfc822Name(
            "a@example.com".try_into().unwrap(),
        ));
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 2, 3, 4],
                vec![0x05, 0x00],
            ));
        let csr = params
            .serialize_request(&req_key.rcgen_key_pair().unwrap())
            .unwrap()
            .pem()
            .unwrap();
        let mut opts = IssueOptions::new(1, NOW);
        opts.allowed_uses = vec![AllowedUse::ClientAuth];
        let leaf = locally_signed(&csr, &ca.cert_pem, &ca_key, &opts).unwrap();
        let c = parsed(&leaf.cert_der);
        let oids: Vec<String> = c
            .extensions()
            .iter()
            .map(|e| e.oid.to_id_string())
            .collect();
        assert_eq!(
            oids,
            vec!["2.5.29.37", "2.5.29.19", "2.5.29.35", "2.5.29.17"]
        );
        match ext(&c, OID_SUBJECT_ALT_NAME).map(|e| e.parsed_extension()) {
            Some(ParsedExtension::SubjectAlternativeName(san)) => {
                assert_eq!(san.general_names, vec![GeneralName::DNSName("svc.example")]);
            }
            _ => panic!(),
        }
    }

    #[test]
    fn locally_signed_errors_and_warning() {
        let ca_key = key(KeyAlgorithm::Ed25519);
        let ca = self_signed(&ca_key, &ca_spec("CA")).unwrap();
        let other_key = key(KeyAlgorithm::Ed25519);
        let csr = create_csr(&other_key, &subject("leaf"), &[], &[], &[]).unwrap();
        let opts = IssueOptions::new(1, NOW);

        // Wrong CA key.
        let err = locally_signed(&csr.csr_pem, &ca.cert_pem, &other_key, &opts).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");

        // Not a CA: still signs, flags a warning.
        let not_ca = self_signed(&ca_key, &leaf_spec()).unwrap();
        let issued = locally_signed(&csr.csr_pem, &not_ca.cert_pem, &ca_key, &opts).unwrap();
        assert!(issued.issuer_not_ca);

        // Tampered request: flip one byte of the signature.
        let mut der_bytes =
            framing::single_block(&csr.csr_pem, "CERTIFICATE REQUEST", &[]).unwrap();
        let last = der_bytes.len() - 1;
        der_bytes[last] ^= 1;
        let tampered = framing::encode("CERTIFICATE REQUEST", &der_bytes);
        assert!(matches!(
            locally_signed(&tampered, &ca.cert_pem, &ca_key, &opts),
            Err(PkiError::InvalidCsr(_))
        ));

        // Swapped inputs and garbage.
        assert!(matches!(
            locally_signed(&ca.cert_pem, &ca.cert_pem, &ca_key, &opts),
            Err(PkiError::UnexpectedPemType { .. })
        ));
        assert!(matches!(
            locally_signed(&csr.csr_pem, &csr.csr_pem, &ca_key, &opts),
            Err(PkiError::UnexpectedPemType { .. })
        ));
        assert!(matches!(
            locally_signed("nope", &ca.cert_pem, &ca_key, &opts),
            Err(PkiError::MalformedPem(_))
        ));
        let junk = framing::encode("CERTIFICATE", &[0x30, 0x01, 0x00]);
        assert!(matches!(
            locally_signed(&csr.csr_pem, &junk, &ca_key, &opts),
            Err(PkiError::InvalidCertificate(_))
        ));

        // A CA certificate whose request had an empty subject cannot become a CA.
        let empty = create_csr(
            &other_key,
            &Subject::default(),
            &["x.example".into()],
            &[],
            &[],
        )
        .unwrap();
        let mut ca_opts = opts.clone();
        ca_opts.is_ca = true;
        assert!(matches!(
            locally_signed(&empty.csr_pem, &ca.cert_pem, &ca_key, &ca_opts),
            Err(PkiError::InvalidInput(_))
        ));
    }
}
