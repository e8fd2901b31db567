//! Object identifiers: const-oid's registry constants, and one comparison for OIDs that
//! x509-parser hands us (by their DER content bytes, never through dotted strings).

pub(crate) use const_oid::ObjectIdentifier as Oid;
pub(crate) use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE,
    ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_IDENTIFIER,
};
pub(crate) use const_oid::db::rfc5912::{
    DSA_WITH_SHA_1, DSA_WITH_SHA_256, ECDSA_WITH_SHA_224, ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384,
    ECDSA_WITH_SHA_512, ID_DSA, ID_EC_PUBLIC_KEY, ID_EXTENSION_REQ, ID_RSASSA_PSS, ID_SHA_1,
    ID_SHA_224, ID_SHA_256, ID_SHA_384, ID_SHA_512, MD_2_WITH_RSA_ENCRYPTION,
    MD_5_WITH_RSA_ENCRYPTION, RSA_ENCRYPTION, SECP_224_R_1, SECP_256_R_1, SECP_384_R_1,
    SECP_521_R_1, SHA_1_WITH_RSA_ENCRYPTION, SHA_224_WITH_RSA_ENCRYPTION,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
pub(crate) use const_oid::db::rfc8410::ID_ED_25519;

/// ANSI X9.62 `ecdsa-with-SHA1`, which const-oid's registry leaves out.
pub(crate) const ECDSA_WITH_SHA_1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
/// OIW `sha1WithRSASignature`, an old alias of PKCS#1's that Go still reads.
pub(crate) const OIW_SHA_1_WITH_RSA: Oid = Oid::new_unwrap("1.3.14.3.2.29");

/// Name constraints, CRL distribution points, authority information access and its two access
/// methods, CRL number and entry reason code.
pub(crate) const ID_CE_NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
pub(crate) const ID_CE_CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
pub(crate) const ID_PE_AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
pub(crate) const ID_AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
pub(crate) const ID_AD_CA_ISSUERS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.2");
pub(crate) const ID_CE_CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
pub(crate) const ID_CE_CRL_REASONS: Oid = Oid::new_unwrap("2.5.29.21");

/// Extended key usages Go knows that const-oid's registry leaves out.
pub(crate) const ID_KP_IPSEC_END_SYSTEM: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.5");
pub(crate) const ID_KP_IPSEC_TUNNEL: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.6");
pub(crate) const ID_KP_IPSEC_USER: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.7");
pub(crate) const MS_SERVER_GATED_CRYPTO: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.10.3.3");
pub(crate) const NETSCAPE_SERVER_GATED_CRYPTO: Oid = Oid::new_unwrap("2.16.840.1.113730.4.1");
pub(crate) const MS_COMMERCIAL_CODE_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.22");
pub(crate) const MS_KERNEL_CODE_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.61.1.1");

/// PKCS#12 keystores (RFC 7292, with PKCS#5 v2.1 and PKCS#9 parts): content types, PBKDF2,
/// AES-256-CBC and HMAC-SHA256 from the registry; bag types, bag attributes, the certificate type
/// and the password-based schemes it leaves out.
pub(crate) use const_oid::db::rfc5911::{
    ID_AES_256_CBC as AES_256_CBC, ID_DATA as PKCS_7_DATA,
    ID_ENCRYPTED_DATA as PKCS_7_ENCRYPTED_DATA, ID_PBKDF_2 as PKCS_5_PBKDF2,
};
pub(crate) use const_oid::db::rfc6268::ID_HMAC_WITH_SHA_256 as HMAC_WITH_SHA_256;
pub(crate) const PKCS_5_PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
pub(crate) const PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC: Oid =
    Oid::new_unwrap("1.2.840.113549.1.12.1.3");
pub(crate) const PKCS_12_PKCS_8_SHROUDED_KEY_BAG: Oid =
    Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
pub(crate) const PKCS_12_CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
pub(crate) const PKCS_9_FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
pub(crate) const PKCS_9_LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");
pub(crate) const PKCS_9_X509_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");

/// The OID x509-parser parsed, as a const-oid value; `None` for encodings const-oid refuses
/// (they then match no known OID).
pub(crate) fn from_parsed(parsed: &x509_parser::oid_registry::Oid<'_>) -> Option<Oid> {
    Oid::from_bytes(parsed.as_bytes()).ok()
}

/// Whether x509-parser's OID is `known`.
pub(crate) fn is(parsed: &x509_parser::oid_registry::Oid<'_>, known: &Oid) -> bool {
    parsed.as_bytes() == known.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_oids_compare_by_their_encoding() {
        let parsed = x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY;
        assert!(is(&parsed, &ID_EC_PUBLIC_KEY));
        assert!(!is(&parsed, &RSA_ENCRYPTION));
        assert_eq!(from_parsed(&parsed), Some(ID_EC_PUBLIC_KEY));
        // P-256 and id-ecPublicKey share their first arcs; only the whole encoding matches.
        let p256 = x509_parser::oid_registry::OID_EC_P256;
        assert!(is(&p256, &SECP_256_R_1));
        assert!(!is(&p256, &ID_EC_PUBLIC_KEY));
    }

    #[test]
    fn constants_outside_the_registry_have_their_dotted_values() {
        assert_eq!(ECDSA_WITH_SHA_1.to_string(), "1.2.840.10045.4.1");
        assert_eq!(OIW_SHA_1_WITH_RSA.to_string(), "1.3.14.3.2.29");
    }
}
