//! `allowedUses`: the closed list of key usages and extended key usages pulumi-tls accepts.

use std::fmt;
use std::str::FromStr;

use super::error::PkiError;
use super::oids::{self, Oid};

/// One entry of `allowedUses`: 9 key usages (bits of the KeyUsage extension) and 14 extended key
/// usages (OIDs of the ExtendedKeyUsage extension), named as in terraform-provider-tls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllowedUse {
    // Key usages, in bit order.
    DigitalSignature,
    ContentCommitment,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    CertSigning,
    CrlSigning,
    EncipherOnly,
    DecipherOnly,
    // Extended key usages.
    AnyExtended,
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
    IpsecEndSystem,
    IpsecTunnel,
    IpsecUser,
    Timestamping,
    OcspSigning,
    MicrosoftServerGatedCrypto,
    NetscapeServerGatedCrypto,
    MicrosoftCommercialCodeSigning,
    MicrosoftKernelCodeSigning,
}

impl AllowedUse {
    /// Every value, key usages first.
    pub const ALL: [AllowedUse; 23] = [
        AllowedUse::DigitalSignature,
        AllowedUse::ContentCommitment,
        AllowedUse::KeyEncipherment,
        AllowedUse::DataEncipherment,
        AllowedUse::KeyAgreement,
        AllowedUse::CertSigning,
        AllowedUse::CrlSigning,
        AllowedUse::EncipherOnly,
        AllowedUse::DecipherOnly,
        AllowedUse::AnyExtended,
        AllowedUse::ServerAuth,
        AllowedUse::ClientAuth,
        AllowedUse::CodeSigning,
        AllowedUse::EmailProtection,
        AllowedUse::IpsecEndSystem,
        AllowedUse::IpsecTunnel,
        AllowedUse::IpsecUser,
        AllowedUse::Timestamping,
        AllowedUse::OcspSigning,
        AllowedUse::MicrosoftServerGatedCrypto,
        AllowedUse::NetscapeServerGatedCrypto,
        AllowedUse::MicrosoftCommercialCodeSigning,
        AllowedUse::MicrosoftKernelCodeSigning,
    ];

    /// The normalised snake_case name, as stored in state.
    pub fn as_str(&self) -> &'static str {
        match self {
            AllowedUse::DigitalSignature => "digital_signature",
            AllowedUse::ContentCommitment => "content_commitment",
            AllowedUse::KeyEncipherment => "key_encipherment",
            AllowedUse::DataEncipherment => "data_encipherment",
            AllowedUse::KeyAgreement => "key_agreement",
            AllowedUse::CertSigning => "cert_signing",
            AllowedUse::CrlSigning => "crl_signing",
            AllowedUse::EncipherOnly => "encipher_only",
            AllowedUse::DecipherOnly => "decipher_only",
            AllowedUse::AnyExtended => "any_extended",
            AllowedUse::ServerAuth => "server_auth",
            AllowedUse::ClientAuth => "client_auth",
            AllowedUse::CodeSigning => "code_signing",
            AllowedUse::EmailProtection => "email_protection",
            AllowedUse::IpsecEndSystem => "ipsec_end_system",
            AllowedUse::IpsecTunnel => "ipsec_tunnel",
            AllowedUse::IpsecUser => "ipsec_user",
            AllowedUse::Timestamping => "timestamping",
            AllowedUse::OcspSigning => "ocsp_signing",
            AllowedUse::MicrosoftServerGatedCrypto => "microsoft_server_gated_crypto",
            AllowedUse::NetscapeServerGatedCrypto => "netscape_server_gated_crypto",
            AllowedUse::MicrosoftCommercialCodeSigning => "microsoft_commercial_code_signing",
            AllowedUse::MicrosoftKernelCodeSigning => "microsoft_kernel_code_signing",
        }
    }

    /// For key usages, the bit number in the KeyUsage BIT STRING (RFC 5280 §4.2.1.3).
    pub fn key_usage_bit(&self) -> Option<u8> {
        match self {
            AllowedUse::DigitalSignature => Some(0),
            AllowedUse::ContentCommitment => Some(1),
            AllowedUse::KeyEncipherment => Some(2),
            AllowedUse::DataEncipherment => Some(3),
            AllowedUse::KeyAgreement => Some(4),
            AllowedUse::CertSigning => Some(5),
            AllowedUse::CrlSigning => Some(6),
            AllowedUse::EncipherOnly => Some(7),
            AllowedUse::DecipherOnly => Some(8),
            _ => None,
        }
    }

    /// For extended key usages, the purpose OID, as Go's `crypto/x509` maps them.
    pub(crate) fn extended_key_usage_oid(&self) -> Option<Oid> {
        use const_oid::db::rfc5280 as kp;
        let oid = match self {
            AllowedUse::AnyExtended => kp::ANY_EXTENDED_KEY_USAGE,
            AllowedUse::ServerAuth => kp::ID_KP_SERVER_AUTH,
            AllowedUse::ClientAuth => kp::ID_KP_CLIENT_AUTH,
            AllowedUse::CodeSigning => kp::ID_KP_CODE_SIGNING,
            AllowedUse::EmailProtection => kp::ID_KP_EMAIL_PROTECTION,
            AllowedUse::IpsecEndSystem => oids::ID_KP_IPSEC_END_SYSTEM,
            AllowedUse::IpsecTunnel => oids::ID_KP_IPSEC_TUNNEL,
            AllowedUse::IpsecUser => oids::ID_KP_IPSEC_USER,
            AllowedUse::Timestamping => kp::ID_KP_TIME_STAMPING,
            AllowedUse::OcspSigning => kp::ID_KP_OCSP_SIGNING,
            AllowedUse::MicrosoftServerGatedCrypto => oids::MS_SERVER_GATED_CRYPTO,
            AllowedUse::NetscapeServerGatedCrypto => oids::NETSCAPE_SERVER_GATED_CRYPTO,
            AllowedUse::MicrosoftCommercialCodeSigning => oids::MS_COMMERCIAL_CODE_SIGNING,
            AllowedUse::MicrosoftKernelCodeSigning => oids::MS_KERNEL_CODE_SIGNING,
            _ => return None,
        };
        Some(oid)
    }

    /// True for the 9 KeyUsage bits, false for extended key usages.
    pub fn is_key_usage(&self) -> bool {
        self.key_usage_bit().is_some()
    }

    /// The snake_case names sorted alphabetically, comma-separated (for error messages).
    pub fn valid_values() -> String {
        let mut names: Vec<&str> = Self::ALL.iter().map(|u| u.as_str()).collect();
        names.sort_unstable();
        names.join(", ")
    }

    /// Parses a list, normalising each entry; the first bad entry is reported.
    pub fn parse_list<S: AsRef<str>>(values: &[S]) -> Result<Vec<AllowedUse>, PkiError> {
        values.iter().map(|v| v.as_ref().parse()).collect()
    }
}

/// snake_case to camelCase (`digital_signature` -> `digitalSignature`).
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl FromStr for AllowedUse {
    type Err = PkiError;

    /// Accepts the snake_case names (`server_auth`) and their camelCase aliases (`serverAuth`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AllowedUse::ALL
            .iter()
            .find(|u| u.as_str() == s || camel(u.as_str()) == s)
            .copied()
            .ok_or_else(|| PkiError::UnknownAllowedUse {
                value: s.to_string(),
                valid: AllowedUse::valid_values(),
            })
    }
}

impl fmt::Display for AllowedUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_key_usages_and_fourteen_extended() {
        let ku = AllowedUse::ALL.iter().filter(|u| u.is_key_usage()).count();
        let eku = AllowedUse::ALL
            .iter()
            .filter(|u| u.extended_key_usage_oid().is_some())
            .count();
        assert_eq!((ku, eku), (9, 14));
        for u in AllowedUse::ALL {
            assert!(u.is_key_usage() != u.extended_key_usage_oid().is_some());
        }
    }

    #[test]
    fn snake_and_camel_round_trip() {
        for u in AllowedUse::ALL {
            assert_eq!(u.as_str().parse::<AllowedUse>().unwrap(), u);
            assert_eq!(camel(u.as_str()).parse::<AllowedUse>().unwrap(), u);
            assert_eq!(u.to_string(), u.as_str());
        }
        assert_eq!(
            "serverAuth".parse::<AllowedUse>().unwrap(),
            AllowedUse::ServerAuth
        );
        assert_eq!(
            "ipsecEndSystem".parse::<AllowedUse>().unwrap(),
            AllowedUse::IpsecEndSystem
        );
        assert_eq!(
            "timestamping".parse::<AllowedUse>().unwrap(),
            AllowedUse::Timestamping
        );
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = "server-auth".parse::<AllowedUse>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"server-auth\""), "{msg}");
        assert!(msg.contains("server_auth"), "{msg}");
        assert!(msg.contains("microsoft_kernel_code_signing"), "{msg}");
        assert!("ServerAuth".parse::<AllowedUse>().is_err());
        assert!("".parse::<AllowedUse>().is_err());
        assert!("1.2.3.4".parse::<AllowedUse>().is_err());
    }

    #[test]
    fn parse_list_reports_first_bad_entry() {
        let ok = AllowedUse::parse_list(&["key_encipherment", "digitalSignature"]).unwrap();
        assert_eq!(
            ok,
            vec![AllowedUse::KeyEncipherment, AllowedUse::DigitalSignature]
        );
        let err = AllowedUse::parse_list(&["server_auth", "nope", "bad"]).unwrap_err();
        assert!(err.to_string().contains("\"nope\""));
    }

    #[test]
    fn oids_match_go() {
        let dotted = |u: AllowedUse| u.extended_key_usage_oid().map(|o| o.to_string());
        assert_eq!(
            dotted(AllowedUse::ServerAuth).as_deref(),
            Some("1.3.6.1.5.5.7.3.1")
        );
        assert_eq!(
            dotted(AllowedUse::AnyExtended).as_deref(),
            Some("2.5.29.37.0")
        );
        assert_eq!(
            dotted(AllowedUse::IpsecTunnel).as_deref(),
            Some("1.3.6.1.5.5.7.3.6")
        );
        assert_eq!(AllowedUse::CertSigning.key_usage_bit(), Some(5));
        assert_eq!(AllowedUse::DecipherOnly.key_usage_bit(), Some(8));
    }
}
