//! Reading certificates and requests: getCertificate's per-certificate fields, request contents,
//! and the PEM checks `check` uses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use num_bigint::BigInt;
use sha1::{Digest as _, Sha1};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer as _;

use super::error::{PkiError, Result};
use super::framing;
use super::keys::{EcdsaCurve, KeyAlgorithm};
use super::names::go_name_string;
use super::oids;
use super::verify;

/// One entry of getCertificate's `certificates`, with Go's renderings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The certificate re-encoded as PEM (64-column lines, newline-terminated).
    pub cert_pem: String,
    /// BasicConstraints `cA`.
    pub is_ca: bool,
    /// Issuer as Go's `pkix.Name.String()` prints it, e.g. `CN=R13,O=Let's Encrypt,C=US`.
    pub issuer: String,
    /// Go's `MaxPathLen`: the pathlen constraint; -1 when BasicConstraints has none; 0 when the
    /// certificate has no BasicConstraints extension at all.
    pub max_path_length: i64,
    /// RFC 3339, UTC (`2026-01-02T03:04:05Z`).
    pub not_before: String,
    /// RFC 3339, UTC.
    pub not_after: String,
    /// `RSA`, `ECDSA`, `Ed25519`, `DSA`, or `0` for others (Go's names).
    pub public_key_algorithm: String,
    /// Serial in base 10.
    pub serial_number: String,
    /// Lowercase hex SHA-1 of the DER certificate.
    pub sha1_fingerprint: String,
    /// Go's names: `SHA256-RSA`, `ECDSA-SHA384`, `Ed25519`, `SHA256-RSAPSS`, ..., `0` if unknown.
    pub signature_algorithm: String,
    /// Subject as Go prints it.
    pub subject: String,
    /// X.509 version number (3 for v3).
    pub version: i64,
}

/// What a certificate request contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrInfo {
    /// Subject as Go prints it.
    pub subject: String,
    /// The DER subject name, exactly as in the request.
    pub subject_der: Vec<u8>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub uris: Vec<String>,
    /// The request's key, when it is one this module supports.
    pub key_algorithm: Option<KeyAlgorithm>,
    /// The request's public key as PKIX `PUBLIC KEY` PEM.
    pub public_key_pem: String,
}

/// A parsed request whose signature has been verified, with its SANs.
pub(crate) struct ParsedCsr<'a> {
    pub(crate) req: X509CertificationRequest<'a>,
    pub(crate) dns_names: Vec<String>,
    pub(crate) ip_addresses: Vec<IpAddr>,
    pub(crate) uris: Vec<String>,
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => {
            let a: [u8; 4] = b.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(a)))
        }
        16 => {
            let a: [u8; 16] = b.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// Parses a DER request, verifies its self-signature and collects its DNS/IP/URI SANs. Other
/// extensions (key usages, custom OIDs) are ignored rather than rejected.
pub(crate) fn parse_csr(der_bytes: &[u8]) -> Result<ParsedCsr<'_>> {
    let (rest, req) = X509CertificationRequest::from_der(der_bytes)
        .map_err(|e| PkiError::InvalidCsr(format!("cannot parse the request: {e}")))?;
    if !rest.is_empty() {
        return Err(PkiError::InvalidCsr(
            "trailing data after the request".into(),
        ));
    }
    let info = &req.certification_request_info;
    verify::verify(
        &info.subject_pki,
        &req.signature_algorithm,
        req.signature_value.data.as_ref(),
        info.raw,
    )
    .map_err(|e| PkiError::InvalidCsr(format!("request signature check failed: {e}")))?;

    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    let mut uris = Vec::new();
    if let Some(exts) = req.requested_extensions() {
        for ext in exts {
            if let ParsedExtension::SubjectAlternativeName(san) = ext {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                        GeneralName::URI(u) => uris.push(u.to_string()),
                        GeneralName::IPAddress(b) => {
                            ip_addresses.push(ip_from_bytes(b).ok_or_else(|| {
                                PkiError::InvalidCsr(format!(
                                    "cannot parse an IP address of length {}",
                                    b.len()
                                ))
                            })?);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(ParsedCsr {
        req,
        dns_names,
        ip_addresses,
        uris,
    })
}

/// The supported key algorithm of a public key, if any.
fn spki_key_algorithm(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Option<KeyAlgorithm> {
    match oids::from_parsed(&spki.algorithm.algorithm)? {
        oids::RSA_ENCRYPTION => {
            use rsa::pkcs1::DecodeRsaPublicKey as _;
            use rsa::traits::PublicKeyParts as _;
            let key =
                rsa::RsaPublicKey::from_pkcs1_der(spki.subject_public_key.data.as_ref()).ok()?;
            Some(KeyAlgorithm::Rsa {
                bits: u32::try_from(key.n().bits()).ok()?,
            })
        }
        oids::ID_EC_PUBLIC_KEY => {
            let curve = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
            let curve = EcdsaCurve::from_oid(&oids::from_parsed(&curve)?).ok()?;
            Some(KeyAlgorithm::Ecdsa(curve))
        }
        oids::ID_ED_25519 => Some(KeyAlgorithm::Ed25519),
        _ => None,
    }
}

/// Reads a request (first PEM block, `CERTIFICATE REQUEST`), verifying its signature.
pub fn csr_info(csr_pem: &str) -> Result<CsrInfo> {
    let der_bytes =
        framing::single_block(csr_pem, "CERTIFICATE REQUEST", &["NEW CERTIFICATE REQUEST"])?;
    let csr = parse_csr(&der_bytes)?;
    let info = &csr.req.certification_request_info;
    Ok(CsrInfo {
        subject: go_name_string(info.subject.as_raw())?,
        subject_der: info.subject.as_raw().to_vec(),
        dns_names: csr.dns_names.clone(),
        ip_addresses: csr.ip_addresses.clone(),
        uris: csr.uris.clone(),
        key_algorithm: spki_key_algorithm(&info.subject_pki),
        public_key_pem: framing::encode("PUBLIC KEY", info.subject_pki.raw),
    })
}

/// Checks that the first PEM block is a well-formed, correctly self-signed request.
pub fn validate_csr_pem(csr_pem: &str) -> Result<()> {
    csr_info(csr_pem).map(|_| ())
}

fn rfc3339(t: time::OffsetDateTime) -> Result<String> {
    t.checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(|| PkiError::InvalidCertificate("validity time out of range".into()))?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| PkiError::Encoding(format!("time formatting failed: {e}")))
}

/// getCertificate's fields for one DER certificate.
pub fn cert_info_der(der_bytes: &[u8]) -> Result<CertificateInfo> {
    let (rest, cert) = x509_parser::certificate::X509Certificate::from_der(der_bytes)
        .map_err(|e| PkiError::InvalidCertificate(format!("cannot parse the certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(PkiError::InvalidCertificate(
            "trailing data after the certificate".into(),
        ));
    }
    let mut is_ca = false;
    let mut max_path_length = 0i64;
    for ext in cert.extensions() {
        if let ParsedExtension::BasicConstraints(bc) = ext.parsed_extension() {
            is_ca = bc.ca;
            max_path_length = bc.path_len_constraint.map(i64::from).unwrap_or(-1);
        }
    }
    let tbs = &cert.tbs_certificate;
    Ok(CertificateInfo {
        cert_pem: framing::encode("CERTIFICATE", der_bytes),
        is_ca,
        issuer: go_name_string(tbs.issuer.as_raw())?,
        max_path_length,
        not_before: rfc3339(tbs.validity.not_before.to_datetime())?,
        not_after: rfc3339(tbs.validity.not_after.to_datetime())?,
        public_key_algorithm: verify::go_public_key_algorithm_name(tbs.public_key()),
        serial_number: BigInt::from_signed_bytes_be(tbs.raw_serial()).to_string(),
        sha1_fingerprint: hex::encode(Sha1::digest(der_bytes)),
        signature_algorithm: verify::go_signature_algorithm_name(&cert.signature_algorithm),
        subject: go_name_string(tbs.subject.as_raw())?,
        version: i64::from(tbs.version.0) + 1,
    })
}

/// getCertificate's fields for every `CERTIFICATE` block in `pem_text`, in file order. Any other
/// block type is an error. (Upstream's `content` input reads only the first block; callers that
/// want that take element 0.)
pub fn cert_info(pem_text: &str) -> Result<Vec<CertificateInfo>> {
    let blocks = framing::blocks(pem_text)?;
    blocks
        .iter()
        .map(|b| {
            if b.tag() != "CERTIFICATE" {
                return Err(PkiError::UnexpectedPemType {
                    expected: "CERTIFICATE".into(),
                    found: b.tag().to_string(),
                });
            }
            cert_info_der(b.contents())
        })
        .collect()
}

/// The serial of the first certificate in `cert_pem` as lower-case, colon-separated hex bytes
/// (`0a:1b:...`), the form ACM PCA's RevokeCertificate documents. The sign byte DER adds to
/// serials with the top bit set is dropped.
pub fn serial_colon_hex(cert_pem: &str) -> Result<String> {
    let der_bytes = framing::single_block(cert_pem, "CERTIFICATE", &[])?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&der_bytes)
        .map_err(|e| PkiError::InvalidCertificate(format!("cannot parse the certificate: {e}")))?;
    let mut raw = cert.tbs_certificate.raw_serial();
    while raw.len() > 1 && raw[0] == 0 {
        raw = &raw[1..];
    }
    Ok(raw
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// Checks that the first PEM block is a parsable certificate.
pub fn validate_cert_pem(cert_pem: &str) -> Result<()> {
    let der_bytes = framing::single_block(cert_pem, "CERTIFICATE", &[])?;
    cert_info_der(&der_bytes).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certs::{CertSpec, IssueOptions, create_csr, self_signed};
    use crate::pki::keys::parse_private_key;
    use crate::pki::keys::tests::{ALL, material};
    use crate::pki::names::Subject;
    use crate::pki::uses::AllowedUse;
    use time::macros::datetime;

    fn spec(is_ca: bool, path: Option<i64>) -> CertSpec {
        let mut options = IssueOptions::new(10, datetime!(2026-01-02 03:04:05 UTC));
        options.is_ca = is_ca;
        options.max_path_length = path;
        options.allowed_uses = vec![AllowedUse::ServerAuth];
        options.serial = Some([0x80; 16]);
        CertSpec {
            subject: Subject {
                common_name: Some("svc, one".into()),
                organization: Some("Org".into()),
                country: Some("DE".into()),
                ..Default::default()
            },
            dns_names: vec!["svc.example".into()],
            ip_addresses: vec!["192.0.2.9".parse().unwrap()],
            uris: vec!["spiffe://cluster.local/ns/ml/sa/trainer".into()],
            set_authority_key_id: false,
            options,
        }
    }

    #[test]
    fn certificate_fields_match_go_renderings() {
        for alg in ALL {
            let key = parse_private_key(&material(alg).private_key_pem).unwrap();
            let issued = self_signed(&key, &spec(false, None)).unwrap();
            let infos = cert_info(&issued.cert_pem).unwrap();
            assert_eq!(infos.len(), 1);
            let info = &infos[0];
            assert_eq!(info.cert_pem, issued.cert_pem);
            assert!(!info.is_ca);
            assert_eq!(info.max_path_length, -1);
            assert_eq!(info.version, 3);
            assert_eq!(info.subject, "CN=svc\\, one,O=Org,C=DE");
            assert_eq!(info.issuer, info.subject);
            assert_eq!(info.not_before, "2026-01-02T03:04:05Z");
            assert_eq!(info.not_after, "2026-01-02T13:04:05Z");
            assert_eq!(info.serial_number, issued.serial_decimal);
            assert_eq!(
                info.serial_number,
                "170808403787765189503184116671632670848"
            );
            assert_eq!(
                info.sha1_fingerprint,
                hex::encode(Sha1::digest(&issued.cert_der))
            );
            let (sig, pk) = match alg {
                KeyAlgorithm::Rsa { .. } => ("SHA256-RSA", "RSA"),
                KeyAlgorithm::Ecdsa(EcdsaCurve::P256) => ("ECDSA-SHA256", "ECDSA"),
                KeyAlgorithm::Ecdsa(EcdsaCurve::P384) => ("ECDSA-SHA384", "ECDSA"),
                KeyAlgorithm::Ecdsa(EcdsaCurve::P521) => ("ECDSA-SHA512", "ECDSA"),
                KeyAlgorithm::Ed25519 => ("Ed25519", "Ed25519"),
            };
            assert_eq!(info.signature_algorithm, sig);
            assert_eq!(info.public_key_algorithm, pk);
        }
    }

    #[test]
    fn ca_path_lengths_and_missing_basic_constraints() {
        let key = parse_private_key(&material(KeyAlgorithm::Ed25519).private_key_pem).unwrap();
        for (path, expect) in [(None, -1), (Some(0), 0), (Some(3), 3)] {
            let issued = self_signed(&key, &spec(true, path)).unwrap();
            let info = &cert_info(&issued.cert_pem).unwrap()[0];
            assert!(info.is_ca);
            assert_eq!(info.max_path_length, expect);
        }
        // A certificate without BasicConstraints (rcgen's NoCa) reports 0, as Go does.
        let mut params = rcgen::CertificateParams::new(vec!["x.example".to_string()]).unwrap();
        params.is_ca = rcgen::IsCa::NoCa;
        let pair = key.rcgen_key_pair().unwrap();
        let cert = params.self_signed(&pair).unwrap();
        let info = cert_info_der(cert.der()).unwrap();
        assert!(!info.is_ca);
        assert_eq!(info.max_path_length, 0);
        assert_eq!(info.subject, "CN=rcgen self signed cert");
    }

    #[test]
    fn several_blocks_in_order_and_errors() {
        let key = parse_private_key(&material(KeyAlgorithm::Ed25519).private_key_pem).unwrap();
        let a = self_signed(&key, &spec(true, None)).unwrap();
        let b = self_signed(&key, &spec(false, None)).unwrap();
        let both = format!("{}\n# comment\n{}", a.cert_pem, b.cert_pem);
        let infos = cert_info(&both).unwrap();
        assert_eq!(infos.len(), 2);
        assert!(infos[0].is_ca && !infos[1].is_ca);
        assert_eq!(
            framing::normalize(&both).unwrap(),
            format!("{}{}", a.cert_pem, b.cert_pem)
        );
        let crlf = a.cert_pem.replace('\n', "\r\n");
        assert_eq!(framing::normalize(&crlf).unwrap(), a.cert_pem);
        assert!(validate_cert_pem(&crlf).is_ok());

        let with_key = format!(
            "{}{}",
            a.cert_pem,
            material(KeyAlgorithm::Ed25519).private_key_pem
        );
        assert!(matches!(
            cert_info(&with_key),
            Err(PkiError::UnexpectedPemType { .. })
        ));
        assert!(matches!(cert_info(""), Err(PkiError::MalformedPem(_))));
        let mut der_bytes = a.cert_der.clone();
        der_bytes.push(0);
        assert!(matches!(
            cert_info_der(&der_bytes),
            Err(PkiError::InvalidCertificate(_))
        ));
        assert!(matches!(
            validate_cert_pem(&framing::encode("CERTIFICATE", &[1, 2, 3])),
            Err(PkiError::InvalidCertificate(_))
        ));
        assert!(matches!(
            validate_cert_pem(&material(KeyAlgorithm::Ed25519).public.public_key_pem),
            Err(PkiError::UnexpectedPemType { .. })
        ));
    }

    #[test]
    fn request_info() {
        for alg in ALL {
            let m = material(alg);
            let key = parse_private_key(&m.private_key_pem).unwrap();
            let s = spec(false, None);
            let out = create_csr(&key, &s.subject, &s.dns_names, &s.ip_addresses, &s.uris).unwrap();
            let info = csr_info(&out.csr_pem).unwrap();
            assert_eq!(info.subject, "CN=svc\\, one,O=Org,C=DE");
            assert_eq!(info.subject_der, s.subject.to_der().unwrap());
            assert_eq!(info.dns_names, s.dns_names);
            assert_eq!(info.ip_addresses, s.ip_addresses);
            assert_eq!(info.uris, s.uris);
            assert_eq!(info.key_algorithm, Some(alg));
            assert_eq!(info.public_key_pem, m.public.public_key_pem);
            assert!(validate_csr_pem(&out.csr_pem).is_ok());
        }
        assert!(matches!(
            validate_csr_pem("x"),
            Err(PkiError::MalformedPem(_))
        ));
        assert!(matches!(
            validate_csr_pem(&framing::encode("CERTIFICATE REQUEST", &[0x30, 0x00])),
            Err(PkiError::InvalidCsr(_))
        ));
    }

    #[test]
    fn tampered_request_subject_fails_verification() {
        let key =
            parse_private_key(&material(KeyAlgorithm::Ecdsa(EcdsaCurve::P521)).private_key_pem)
                .unwrap();
        let s = spec(false, None);
        let out = create_csr(&key, &s.subject, &[], &[], &[]).unwrap();
        let mut der_bytes = framing::blocks(&out.csr_pem).unwrap()[0]
            .contents()
            .to_vec();
        // "DE" -> "DF" inside the subject.
        let pos = der_bytes.windows(2).position(|w| w == b"DE").unwrap();
        der_bytes[pos + 1] = b'F';
        let err = csr_info(&framing::encode("CERTIFICATE REQUEST", &der_bytes)).unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
    }
}
