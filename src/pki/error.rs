//! The one error type of the `pki` module.
//!
//! Messages name what was wrong and where, never the offending bytes: no variant carries key
//! material, and the texts built from underlying crates only describe structure (an ASN.1 tag,
//! a length), not content.

/// Everything that can go wrong while generating, parsing or issuing keys and certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    /// The text holds no PEM block, or a block whose framing or base64 is broken.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),

    /// A PEM block was found, but of the wrong kind.
    #[error("unexpected PEM block type {found:?}: expected {expected}")]
    UnexpectedPemType {
        /// What the caller asked for, e.g. `"CERTIFICATE"`.
        expected: String,
        /// The label actually found.
        found: String,
    },

    /// The private key could not be decoded.
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),

    /// The key decoded fine but its algorithm, curve or size is not supported.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),

    /// The private key is protected by a passphrase.
    #[error("encrypted private keys are not supported; supply the key unencrypted")]
    EncryptedKey,

    /// The certificate could not be decoded or is unusable for the operation.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),

    /// The certificate signing request could not be decoded or verified.
    #[error("invalid certificate request: {0}")]
    InvalidCsr(String),

    /// A caller-supplied value (a name, a URI, a duration) is not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// An `allowedUses` entry is not one of the known names.
    #[error("unknown allowed use {value:?}; valid values are: {valid}")]
    UnknownAllowedUse {
        /// The rejected string.
        value: String,
        /// Comma-separated list of accepted snake_case names.
        valid: String,
    },

    /// The CA may not sign the request: a name outside its name constraints, or a CA
    /// certificate deeper than its path length allows.
    #[error("the CA refuses to sign: {0}")]
    Refused(String),

    /// Key generation failed inside the crypto backend.
    #[error("key generation failed: {0}")]
    KeyGeneration(String),

    /// Signing a certificate or request failed inside the crypto backend.
    #[error("signing failed: {0}")]
    Signing(String),

    /// Serialising a structure failed (should not happen for valid inputs).
    #[error("encoding failed: {0}")]
    Encoding(String),
}

/// Short alias used across the module.
pub type Result<T> = std::result::Result<T, PkiError>;
