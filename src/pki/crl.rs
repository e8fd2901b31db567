//! Certificate revocation lists (RFC 5280 section 5): v2 CRLs signed by a CA whose key and
//! certificate we hold, with a CRL number, the CA's key identifier, and a reason code on each
//! entry whose reason is not `unspecified` (RFC 5280 asks for the extension to be left out then).

use num_bigint::BigUint;
use time::OffsetDateTime;
use x509_parser::prelude::FromDer as _;

use super::certs::{ensure_key_of, extension, sign_structure, subject_key_id};
use super::der;
use super::error::{PkiError, Result};
use super::framing;
use super::keys::ParsedKey;
use super::oids;

/// CRLReason (RFC 5280 5.3.1), named as the ASN.1 module names them. `removeFromCRL` is left
/// out: it belongs in delta CRLs only, and in a full CRL verifiers read it as "not revoked".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 9] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::CertificateHold => "certificateHold",
            RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
            RevocationReason::AaCompromise => "aACompromise",
        }
    }

    /// The ENUMERATED value (7 is unused; 8, removeFromCRL, is for delta CRLs).
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
            RevocationReason::PrivilegeWithdrawn => 9,
            RevocationReason::AaCompromise => 10,
        }
    }

    /// By name, ignoring case (`keycompromise` and `KeyCompromise` both work).
    pub fn from_name(name: &str) -> Option<RevocationReason> {
        Self::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }

    pub fn names() -> String {
        Self::ALL.map(|r| r.name()).join(", ")
    }
}

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub serial: BigUint,
    pub revoked_at: OffsetDateTime,
    pub reason: RevocationReason,
}

/// What a CRL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSpec {
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    /// The CRL number; must grow with every CRL the CA issues.
    pub number: u64,
    pub revoked: Vec<Revoked>,
}

/// Parses a serial number: digits only are decimal (the certificate resources' id); hex needs
/// a `0x` prefix, colons between bytes, or a letter, since `openssl x509 -serial` prints hex
/// without either and `10` must not be read two ways.
pub fn parse_serial(text: &str) -> std::result::Result<BigUint, String> {
    let t = text.trim();
    let parsed = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        BigUint::parse_bytes(t.as_bytes(), 10)
    } else {
        let hex: String = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t)
            .chars()
            .filter(|c| *c != ':')
            .collect();
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            None
        } else {
            BigUint::parse_bytes(hex.as_bytes(), 16)
        }
    };
    let serial = parsed.ok_or_else(|| {
        format!(
            "{text:?} is not a serial number: give it in decimal (a certificate resource's id) \
             or in hex with a 0x prefix or colons (0x0a1b, 0a:1b)"
        )
    })?;
    if serial == BigUint::default() {
        return Err("a serial number must be positive".into());
    }
    if serial.to_bytes_be().len() > 20 {
        return Err(format!(
            "serial number {text:?} is longer than the 20 octets RFC 5280 allows"
        ));
    }
    Ok(serial)
}

/// Why a certificate cannot sign CRLs, if it cannot: not a CA, or a key usage without
/// `cRLSign` (verifiers then reject its CRLs).
pub fn crl_issuer_problem(ca_cert_pem: &str) -> Result<Option<String>> {
    use x509_parser::extensions::ParsedExtension;
    let ca_der = framing::single_block(ca_cert_pem, "CERTIFICATE", &[])?;
    let (_, ca) = x509_parser::certificate::X509Certificate::from_der(&ca_der)
        .map_err(|e| PkiError::InvalidCertificate(format!("CA certificate: {e}")))?;
    let mut is_ca = false;
    let mut crl_sign = true;
    for ext in ca.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => is_ca = bc.ca,
            ParsedExtension::KeyUsage(ku) => crl_sign = ku.crl_sign(),
            _ => {}
        }
    }
    Ok(if !is_ca {
        Some("the certificate is not a CA (no CA:TRUE basic constraint)".into())
    } else if !crl_sign {
        Some(
            "the CA certificate's key usage lacks crl_signing, so verifiers reject CRLs it signs"
                .into(),
        )
    } else {
        None
    })
}

/// A signed CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCrl {
    /// `X509 CRL` PEM, newline-terminated.
    pub pem: String,
    pub der: Vec<u8>,
}

/// Signs a v2 CRL for the CA whose certificate is `ca_cert_pem` and key `ca_key`.
pub fn sign_crl(ca_cert_pem: &str, ca_key: &ParsedKey, spec: &CrlSpec) -> Result<SignedCrl> {
    use x509_parser::extensions::ParsedExtension;
    if spec.next_update <= spec.this_update {
        return Err(PkiError::InvalidInput(
            "nextUpdate must be after thisUpdate".into(),
        ));
    }
    let ca_der = framing::single_block(ca_cert_pem, "CERTIFICATE", &[])?;
    let (_, ca) = x509_parser::certificate::X509Certificate::from_der(&ca_der)
        .map_err(|e| PkiError::InvalidCertificate(format!("CA certificate: {e}")))?;
    ensure_key_of(&ca, ca_key)?;
    let ski = ca
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) if !id.0.is_empty() => Some(id.0.to_vec()),
            _ => None,
        })
        .unwrap_or_else(|| {
            let spki = ca.public_key();
            subject_key_id(
                oids::from_parsed(&spki.algorithm.algorithm),
                spki.subject_public_key.data.as_ref(),
            )
        });

    let mut entries = Vec::new();
    for r in &spec.revoked {
        let mut entry = vec![
            der::unsigned_integer(&r.serial.to_bytes_be()),
            der::time(r.revoked_at)?,
        ];
        if r.reason != RevocationReason::Unspecified {
            let reason = der::tlv(der::TAG_ENUMERATED, &[r.reason.code()]);
            entry.push(der::sequence(&[&extension(
                oids::ID_CE_CRL_REASONS,
                false,
                &reason,
            )]));
        }
        entries.extend(der::tlv(der::TAG_SEQUENCE, &entry.concat()));
    }
    let aki = der::sequence(&[&der::implicit_primitive(0, &ski)]);
    let crl_extensions = der::sequence(&[
        &extension(oids::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &aki),
        &extension(
            oids::ID_CE_CRL_NUMBER,
            false,
            &der::small_integer(spec.number),
        ),
    ]);
    let mut tbs = vec![
        der::small_integer(1),
        super::certs::signature_algorithm_der(ca_key.algorithm()),
        ca.tbs_certificate.subject.as_raw().to_vec(),
        der::time(spec.this_update)?,
        der::time(spec.next_update)?,
    ];
    if !entries.is_empty() {
        tbs.push(der::tlv(der::TAG_SEQUENCE, &entries));
    }
    tbs.push(der::explicit(0, &crl_extensions));
    let crl = sign_structure(ca_key, &der::tlv(der::TAG_SEQUENCE, &tbs.concat()))?;
    Ok(SignedCrl {
        pem: framing::encode("X509 CRL", &crl),
        der: crl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::tests::material;
    use crate::pki::keys::{EcdsaCurve, KeyAlgorithm, parse_private_key};
    use crate::pki::{AllowedUse, CertSpec, IssueOptions, Subject, self_signed};
    use time::macros::datetime;
    use x509_parser::revocation_list::CertificateRevocationList;

    fn ca(uses: Vec<AllowedUse>) -> (String, ParsedKey) {
        let key =
            parse_private_key(&material(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).private_key_pem)
                .unwrap();
        let mut options = IssueOptions::new(24, datetime!(2026-03-04 05:00:00 UTC));
        options.is_ca = true;
        options.allowed_uses = uses;
        let spec = CertSpec {
            subject: Subject {
                common_name: Some("crl ca".into()),
                ..Default::default()
            },
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: false,
            options,
        };
        (self_signed(&key, &spec).unwrap().cert_pem, key)
    }

    #[test]
    fn serials_parse_in_decimal_and_hex() {
        assert_eq!(parse_serial("255").unwrap(), BigUint::from(255u32));
        assert_eq!(parse_serial("ff").unwrap(), BigUint::from(255u32));
        assert_eq!(parse_serial("00:ff").unwrap(), BigUint::from(255u32));
        assert_eq!(parse_serial("0x1F").unwrap(), BigUint::from(31u32));
        assert!(parse_serial("0").is_err());
        assert!(parse_serial("").is_err());
        assert!(parse_serial("xyz").is_err());
        assert!(parse_serial(&"ff".repeat(21)).is_err());
    }

    #[test]
    fn reasons_round_trip_by_name() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_name(r.name()), Some(r));
        }
        assert_eq!(
            RevocationReason::from_name("KEYCOMPROMISE"),
            Some(RevocationReason::KeyCompromise)
        );
        assert_eq!(RevocationReason::from_name("compromised"), None);
    }

    #[test]
    fn signed_crl_parses_with_entries_number_and_reasons() {
        let (ca_pem, key) = ca(vec![AllowedUse::CertSigning, AllowedUse::CrlSigning]);
        assert_eq!(crl_issuer_problem(&ca_pem).unwrap(), None);
        let spec = CrlSpec {
            this_update: datetime!(2026-03-04 06:00:00 UTC),
            next_update: datetime!(2026-03-11 06:00:00 UTC),
            number: 7,
            revoked: vec![
                Revoked {
                    serial: BigUint::from(0x1234u32),
                    revoked_at: datetime!(2026-03-04 05:30:00 UTC),
                    reason: RevocationReason::KeyCompromise,
                },
                Revoked {
                    serial: BigUint::from(99u32),
                    revoked_at: datetime!(2026-03-04 05:40:00 UTC),
                    reason: RevocationReason::Unspecified,
                },
            ],
        };
        let crl = sign_crl(&ca_pem, &key, &spec).unwrap();
        assert!(crl.pem.starts_with("-----BEGIN X509 CRL-----\n"));
        let (rest, parsed) = CertificateRevocationList::from_der(&crl.der).unwrap();
        assert!(rest.is_empty());
        assert_eq!(parsed.crl_number().map(|n| n.to_string()), Some("7".into()));
        let revoked: Vec<_> = parsed.iter_revoked_certificates().collect();
        assert_eq!(revoked.len(), 2);
        assert_eq!(revoked[0].raw_serial(), &[0x12, 0x34]);
        assert_eq!(
            revoked[0].reason_code().map(|(_, r)| r.0),
            Some(RevocationReason::KeyCompromise.code())
        );
        assert!(revoked[1].reason_code().is_none());
        assert_eq!(
            parsed.last_update().timestamp(),
            spec.this_update.unix_timestamp()
        );

        let mut backwards = spec.clone();
        backwards.next_update = backwards.this_update;
        assert!(sign_crl(&ca_pem, &key, &backwards).is_err());
    }

    #[test]
    fn issuers_without_crl_signing_are_named() {
        let (ca_pem, _) = ca(vec![AllowedUse::CertSigning]);
        let problem = crl_issuer_problem(&ca_pem).unwrap().unwrap();
        assert!(problem.contains("crl_signing"), "{problem}");
    }
}
