//! Private keys: generation, parsing of every PEM/OpenSSH form pulumi-tls accepts, and the
//! encodings and fingerprints its `PrivateKey` resource and `getPublicKey` function output.
//!
//! Encodings follow Go's `crypto/x509` and `x/crypto/ssh`, which terraform-provider-tls uses:
//! PKCS#1 for RSA, SEC1 with named-curve parameters for ECDSA, PKCS#8 v1 (seed only) for Ed25519,
//! PKCS#8 for all, PKIX for public keys, OpenSSH `openssh-key-v1` unencrypted with an empty comment.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use md5::{Digest as _, Md5};
use pkcs8::der::zeroize::Zeroizing;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use sha2::Sha256;

use pkcs8::der::Encode as _;
use pkcs8::der::asn1::{AnyRef, BitStringRef, OctetStringRef};
use pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use rsa::pkcs1::EncodeRsaPublicKey as _;

use super::error::{PkiError, Result};
use super::framing;
use super::oids::{self, Oid};

/// The NIST curves supported for ECDSA keys. P-224 (pulumi-tls' default curve) is not available in
/// the crypto backend and is rejected with a clear message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdsaCurve {
    /// NIST P-256 (secp256r1), signs with ECDSA-SHA256.
    P256,
    /// NIST P-384 (secp384r1), signs with ECDSA-SHA384.
    P384,
    /// NIST P-521 (secp521r1), signs with ECDSA-SHA512.
    P521,
}

impl EcdsaCurve {
    /// The name pulumi-tls uses in `ecdsaCurve`: `P256`, `P384` or `P521`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EcdsaCurve::P256 => "P256",
            EcdsaCurve::P384 => "P384",
            EcdsaCurve::P521 => "P521",
        }
    }

    pub(crate) fn oid(&self) -> &'static Oid {
        match self {
            EcdsaCurve::P256 => &oids::SECP_256_R_1,
            EcdsaCurve::P384 => &oids::SECP_384_R_1,
            EcdsaCurve::P521 => &oids::SECP_521_R_1,
        }
    }

    /// Size of a private scalar in bytes.
    fn scalar_len(&self) -> usize {
        match self {
            EcdsaCurve::P256 => 32,
            EcdsaCurve::P384 => 48,
            EcdsaCurve::P521 => 66,
        }
    }

    pub(crate) fn from_oid(oid: &Oid) -> Result<EcdsaCurve> {
        match *oid {
            oids::SECP_256_R_1 => Ok(EcdsaCurve::P256),
            oids::SECP_384_R_1 => Ok(EcdsaCurve::P384),
            oids::SECP_521_R_1 => Ok(EcdsaCurve::P521),
            oids::SECP_224_R_1 => Err(p224_error()),
            _ => Err(PkiError::UnsupportedKey(format!(
                "elliptic curve {oid} is not supported (supported: P256, P384, P521)"
            ))),
        }
    }
}

fn p224_error() -> PkiError {
    PkiError::UnsupportedKey(
        "ECDSA curve P224 is not supported by this provider; use P256, P384 or P521".into(),
    )
}

impl fmt::Display for EcdsaCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EcdsaCurve {
    type Err = PkiError;

    /// Accepts `P256`, `P384`, `P521` (case-insensitive, `P-256` style too).
    fn from_str(s: &str) -> Result<Self> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        match norm.as_str() {
            "P256" => Ok(EcdsaCurve::P256),
            "P384" => Ok(EcdsaCurve::P384),
            "P521" => Ok(EcdsaCurve::P521),
            "P224" => Err(p224_error()),
            _ => Err(PkiError::InvalidInput(format!(
                "unknown ECDSA curve {s:?}; valid values are: P256, P384, P521"
            ))),
        }
    }
}

/// A key algorithm with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA with the given modulus size. Generation supports 2048, 3072 and 4096; parsing accepts
    /// any size.
    Rsa {
        /// Modulus length in bits.
        bits: u32,
    },
    /// ECDSA on a NIST curve.
    Ecdsa(EcdsaCurve),
    /// Ed25519.
    Ed25519,
}

/// RSA sizes the backend (aws-lc-rs) can generate.
pub const SUPPORTED_RSA_BITS: [u32; 3] = [2048, 3072, 4096];

impl KeyAlgorithm {
    /// The name pulumi-tls reports in `algorithm`, `keyAlgorithm` and `caKeyAlgorithm`.
    pub fn name(&self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa { .. } => "RSA",
            KeyAlgorithm::Ecdsa(_) => "ECDSA",
            KeyAlgorithm::Ed25519 => "ED25519",
        }
    }

    /// Builds the algorithm from the `PrivateKey` resource inputs, as Check would: `algorithm` is
    /// `RSA`, `ECDSA` or `ED25519`; `rsa_bits` defaults to 2048 and `ecdsa_curve` to P256 when
    /// absent (pulumi-tls defaults to P224, which is not supported here). Inputs that do not apply
    /// to the chosen algorithm are ignored, as upstream does.
    pub fn from_inputs(
        algorithm: &str,
        rsa_bits: Option<i64>,
        ecdsa_curve: Option<&str>,
    ) -> Result<KeyAlgorithm> {
        match algorithm {
            "RSA" => {
                let bits = rsa_bits.unwrap_or(2048);
                match u32::try_from(bits) {
                    Ok(b) if SUPPORTED_RSA_BITS.contains(&b) => Ok(KeyAlgorithm::Rsa { bits: b }),
                    _ => Err(PkiError::UnsupportedKey(format!(
                        "RSA key size {bits} is not supported; use 2048, 3072 or 4096"
                    ))),
                }
            }
            "ECDSA" => Ok(KeyAlgorithm::Ecdsa(
                ecdsa_curve.unwrap_or("P256").parse::<EcdsaCurve>()?,
            )),
            "ED25519" => Ok(KeyAlgorithm::Ed25519),
            other => Err(PkiError::InvalidInput(format!(
                "unknown key algorithm {other:?}; valid values are: RSA, ECDSA, ED25519"
            ))),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyAlgorithm::Ecdsa(c) => write!(f, "ECDSA-{c}"),
            KeyAlgorithm::Ed25519 => f.write_str("ED25519"),
        }
    }
}

/// The encoding a private key was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyFormat {
    /// `RSA PRIVATE KEY` (PKCS#1).
    Pkcs1,
    /// `EC PRIVATE KEY` (SEC1).
    Sec1,
    /// `PRIVATE KEY` (PKCS#8, v1 or v2).
    Pkcs8,
    /// `OPENSSH PRIVATE KEY` (openssh-key-v1, unencrypted).
    OpenSsh,
}

/// The secret itself, as RustCrypto types (they zeroize on drop).
#[derive(Clone)]
enum Secret {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A parsed private key, from which every public output and encoding can be derived, and which
/// can sign certificates and requests.
#[derive(Clone)]
pub struct ParsedKey {
    secret: Secret,
    algorithm: KeyAlgorithm,
    format: PrivateKeyFormat,
    spki_der: Vec<u8>,
    /// The subjectPublicKey bits of `spki_der`: for EC keys the uncompressed point, computed
    /// once (a scalar multiplication in pure Rust costs more than everything else a P-256 key
    /// output needs).
    public_bits: Vec<u8>,
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKey")
            .field("algorithm", &self.algorithm)
            .field("format", &self.format)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The public outputs shared by `PrivateKey` and `getPublicKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// Key algorithm; `algorithm.name()` gives `RSA`, `ECDSA` or `ED25519`.
    pub algorithm: KeyAlgorithm,
    /// PKIX `PUBLIC KEY` PEM, newline-terminated.
    pub public_key_pem: String,
    /// authorized_keys line (`<type> <base64>`), newline-terminated, no comment.
    pub public_key_openssh: String,
    /// Colon-separated lowercase hex MD5 of the SSH wire encoding (`aa:bb:...`), as
    /// `ssh-keygen -l -E md5` prints it without its `MD5:` prefix.
    pub public_key_fingerprint_md5: String,
    /// `SHA256:` plus unpadded base64 of the SHA-256 of the SSH wire encoding, as `ssh-keygen -l`.
    pub public_key_fingerprint_sha256: String,
    /// Resource id: lowercase hex SHA-1 of the DER public key (see [`crate::pki::state_hash`]).
    pub id: String,
}

/// Everything the `PrivateKey` resource outputs. `Debug` redacts the private encodings.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    /// The algorithm the key was generated or parsed as.
    pub algorithm: KeyAlgorithm,
    /// PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or (Ed25519) PKCS#8 `PRIVATE KEY`.
    pub private_key_pem: String,
    /// PKCS#8 `PRIVATE KEY` for every algorithm.
    pub private_key_pem_pkcs8: String,
    /// Unencrypted `OPENSSH PRIVATE KEY` with an empty comment.
    pub private_key_openssh: String,
    /// The public encodings, fingerprints and id.
    pub public: PublicKeyInfo,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("algorithm", &self.algorithm)
            .field("private_key_pem", &"<redacted>")
            .field("private_key_pem_pkcs8", &"<redacted>")
            .field("private_key_openssh", &"<redacted>")
            .field("public", &self.public)
            .finish()
    }
}

/// Generates a fresh key. RSA generation takes from a fraction of a second (2048) to several
/// seconds (4096): call it from a blocking thread.
pub fn generate_key(alg: KeyAlgorithm) -> Result<KeyMaterial> {
    let mut rng = rand::rngs::OsRng;
    let secret = match alg {
        KeyAlgorithm::Rsa { bits } => {
            let size = match bits {
                2048 => rcgen::RsaKeySize::_2048,
                3072 => rcgen::RsaKeySize::_3072,
                4096 => rcgen::RsaKeySize::_4096,
                other => {
                    return Err(PkiError::UnsupportedKey(format!(
                        "RSA key size {other} is not supported; use 2048, 3072 or 4096"
                    )));
                }
            };
            let pair = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size)
                .map_err(|e| PkiError::KeyGeneration(e.to_string()))?;
            let der = pair.serialized_der();
            let key = rsa::RsaPrivateKey::from_pkcs1_der(der)
                .ok()
                .or_else(|| {
                    use rsa::pkcs8::DecodePrivateKey as _;
                    rsa::RsaPrivateKey::from_pkcs8_der(der).ok()
                })
                .ok_or_else(|| {
                    PkiError::KeyGeneration("the generated RSA key could not be decoded".into())
                })?;
            Secret::Rsa(Box::new(key))
        }
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256) => Secret::P256(p256::SecretKey::random(&mut rng)),
        KeyAlgorithm::Ecdsa(EcdsaCurve::P384) => Secret::P384(p384::SecretKey::random(&mut rng)),
        KeyAlgorithm::Ecdsa(EcdsaCurve::P521) => Secret::P521(p521::SecretKey::random(&mut rng)),
        KeyAlgorithm::Ed25519 => {
            use rand::RngCore as _;
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            seed.fill(0);
            Secret::Ed25519(Box::new(key))
        }
    };
    ParsedKey::from_secret(secret, PrivateKeyFormat::Pkcs8)?.key_material()
}

/// Parses a private key from PEM: PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), PKCS#8
/// (`PRIVATE KEY`) or OpenSSH (`OPENSSH PRIVATE KEY`). The first key block is used; an
/// `EC PARAMETERS` block before it (as `openssl ecparam -genkey` writes) is skipped.
/// Encrypted keys are rejected.
pub fn parse_private_key(pem_text: &str) -> Result<ParsedKey> {
    let blocks = framing::blocks(pem_text)?;
    let block = blocks
        .iter()
        .find(|b| b.tag() != "EC PARAMETERS")
        .ok_or_else(|| PkiError::MalformedPem("no private key block found".into()))?;
    if block
        .headers()
        .get("Proc-Type")
        .is_some_and(|v| v.contains("ENCRYPTED"))
    {
        return Err(PkiError::EncryptedKey);
    }
    let body = block.contents();
    match block.tag() {
        "RSA PRIVATE KEY" => ParsedKey::from_secret(
            Secret::Rsa(Box::new(parse_pkcs1(body)?)),
            PrivateKeyFormat::Pkcs1,
        ),
        "EC PRIVATE KEY" => ParsedKey::from_secret(parse_sec1(body, None)?, PrivateKeyFormat::Sec1),
        "PRIVATE KEY" => ParsedKey::from_secret(parse_pkcs8(body)?, PrivateKeyFormat::Pkcs8),
        "OPENSSH PRIVATE KEY" => {
            ParsedKey::from_secret(parse_openssh(body)?, PrivateKeyFormat::OpenSsh)
        }
        "ENCRYPTED PRIVATE KEY" => Err(PkiError::EncryptedKey),
        other => Err(PkiError::UnexpectedPemType {
            expected: "RSA PRIVATE KEY, EC PRIVATE KEY, PRIVATE KEY or OPENSSH PRIVATE KEY".into(),
            found: other.to_string(),
        }),
    }
}

/// Checks that `pem_text` holds a usable private key; the error says why not.
pub fn validate_private_key_pem(pem_text: &str) -> Result<()> {
    parse_private_key(pem_text).map(|_| ())
}

/// The public outputs of a parsed key (what `getPublicKey` returns).
pub fn public_outputs(key: &ParsedKey) -> Result<PublicKeyInfo> {
    key.public_info()
}

fn parse_pkcs1(body: &[u8]) -> Result<rsa::RsaPrivateKey> {
    rsa::RsaPrivateKey::from_pkcs1_der(body)
        .map_err(|e| PkiError::InvalidPrivateKey(format!("not a valid PKCS#1 RSA key: {e}")))
}

/// SEC1 `ECPrivateKey`; `curve` comes from the PKCS#8 wrapper when there is one.
fn parse_sec1(body: &[u8], curve: Option<EcdsaCurve>) -> Result<Secret> {
    let ec = sec1::EcPrivateKey::try_from(body)
        .map_err(|e| PkiError::InvalidPrivateKey(format!("not a valid SEC1 EC key: {e}")))?;
    let named = match ec.parameters.and_then(|p| p.named_curve()) {
        Some(oid) => Some(EcdsaCurve::from_oid(&oid)?),
        None => None,
    };
    let curve = match (curve, named) {
        (Some(a), Some(b)) if a != b => {
            return Err(PkiError::InvalidPrivateKey(
                "the curve in the key does not match the curve in its PKCS#8 wrapper".into(),
            ));
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => match ec.private_key.len() {
            32 => EcdsaCurve::P256,
            48 => EcdsaCurve::P384,
            66 => EcdsaCurve::P521,
            _ => {
                return Err(PkiError::InvalidPrivateKey(
                    "EC key names no curve and its length fits none".into(),
                ));
            }
        },
    };
    ec_secret(curve, ec.private_key)
}

/// Length-prefixed fields of the SSH wire format.
struct SshReader<'a>(&'a [u8]);

impl<'a> SshReader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        if len > self.0.len() {
            return None;
        }
        let (field, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(field)
    }
}

/// Read the scalar of an unencrypted openssh-key-v1 ECDSA key directly. `None` when the body is
/// anything else, so the caller reports its original error.
fn openssh_ecdsa_scalar(body: &[u8]) -> Option<Result<Secret>> {
    let mut r = SshReader(body.strip_prefix(b"openssh-key-v1\0")?);
    let (cipher, kdf, _kdf_options) = (r.string()?, r.string()?, r.string()?);
    if cipher != b"none" || kdf != b"none" || r.u32()? != 1 {
        return None;
    }
    let _public = r.string()?;
    let mut p = SshReader(r.string()?);
    if p.u32()? != p.u32()? {
        return None;
    }
    let curve = match (p.string()?, p.string()?) {
        (b"ecdsa-sha2-nistp256", b"nistp256") => EcdsaCurve::P256,
        (b"ecdsa-sha2-nistp384", b"nistp384") => EcdsaCurve::P384,
        (b"ecdsa-sha2-nistp521", b"nistp521") => EcdsaCurve::P521,
        _ => return None,
    };
    let _point = p.string()?;
    let mpint = p.string()?;
    let first_nonzero = mpint.iter().position(|b| *b != 0).unwrap_or(mpint.len());
    Some(ec_secret(curve, &mpint[first_nonzero..]))
}

fn ec_secret(curve: EcdsaCurve, scalar: &[u8]) -> Result<Secret> {
    let bad = |_| PkiError::InvalidPrivateKey(format!("invalid {curve} private scalar"));
    if scalar.len() > curve.scalar_len() {
        return Err(PkiError::InvalidPrivateKey(format!(
            "{curve} private scalar is too long"
        )));
    }
    // Left-pad short scalars (some encoders drop leading zero bytes).
    let mut padded = vec![0u8; curve.scalar_len() - scalar.len()];
    padded.extend_from_slice(scalar);
    let secret = match curve {
        EcdsaCurve::P256 => Secret::P256(p256::SecretKey::from_slice(&padded).map_err(bad)?),
        EcdsaCurve::P384 => Secret::P384(p384::SecretKey::from_slice(&padded).map_err(bad)?),
        EcdsaCurve::P521 => Secret::P521(p521::SecretKey::from_slice(&padded).map_err(bad)?),
    };
    Ok(secret)
}

fn parse_pkcs8(body: &[u8]) -> Result<Secret> {
    let info = pkcs8::PrivateKeyInfo::try_from(body)
        .map_err(|e| PkiError::InvalidPrivateKey(format!("not a valid PKCS#8 key: {e}")))?;
    let alg = info.algorithm.oid;
    if alg == oids::RSA_ENCRYPTION {
        Ok(Secret::Rsa(Box::new(parse_pkcs1(info.private_key)?)))
    } else if alg == oids::ID_EC_PUBLIC_KEY {
        let curve_oid = info.algorithm.parameters_oid().map_err(|_| {
            PkiError::InvalidPrivateKey("PKCS#8 EC key does not name its curve".into())
        })?;
        let curve = EcdsaCurve::from_oid(&curve_oid)?;
        parse_sec1(info.private_key, Some(curve))
    } else if alg == oids::ID_ED_25519 {
        // CurvePrivateKey ::= OCTET STRING (32 bytes)
        match info.private_key {
            [0x04, 0x20, seed @ ..] if seed.len() == 32 => {
                let mut bytes = [0u8; 32];
                bytes.copy_from_slice(seed);
                Ok(Secret::Ed25519(Box::new(
                    ed25519_dalek::SigningKey::from_bytes(&bytes),
                )))
            }
            _ => Err(PkiError::InvalidPrivateKey(
                "Ed25519 PKCS#8 key does not hold a 32-byte seed".into(),
            )),
        }
    } else {
        Err(PkiError::UnsupportedKey(format!(
            "key algorithm {alg} is not supported (supported: RSA, ECDSA, ED25519)"
        )))
    }
}

fn parse_openssh(body: &[u8]) -> Result<Secret> {
    let key = match ssh_key::PrivateKey::from_bytes(body) {
        Ok(key) => key,
        Err(ssh_key::Error::Encrypted) => return Err(PkiError::EncryptedKey),
        Err(other) => {
            // ssh-key 0.6 insists on a full-width ECDSA scalar, but OpenSSH writes it as an
            // mpint, which drops leading zero bytes: about one P-521 key in eight.
            return openssh_ecdsa_scalar(body).ok_or_else(|| {
                PkiError::InvalidPrivateKey(format!("not a valid OpenSSH private key: {other}"))
            })?;
        }
    };
    if key.is_encrypted() {
        return Err(PkiError::EncryptedKey);
    }
    use ssh_key::private::{EcdsaKeypair, KeypairData};
    match key.key_data() {
        KeypairData::Rsa(kp) => {
            let big = |m: &ssh_key::Mpint, what: &str| {
                m.as_positive_bytes()
                    .map(rsa::BigUint::from_bytes_be)
                    .ok_or_else(|| {
                        PkiError::InvalidPrivateKey(format!(
                            "OpenSSH RSA key has an invalid {what}"
                        ))
                    })
            };
            let key = rsa::RsaPrivateKey::from_components(
                big(&kp.public.n, "modulus")?,
                big(&kp.public.e, "public exponent")?,
                big(&kp.private.d, "private exponent")?,
                vec![big(&kp.private.p, "prime")?, big(&kp.private.q, "prime")?],
            )
            .map_err(|e| {
                PkiError::InvalidPrivateKey(format!("inconsistent OpenSSH RSA key: {e}"))
            })?;
            Ok(Secret::Rsa(Box::new(key)))
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => {
            ec_secret(EcdsaCurve::P256, private.as_slice())
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP384 { private, .. }) => {
            ec_secret(EcdsaCurve::P384, private.as_slice())
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP521 { private, .. }) => {
            ec_secret(EcdsaCurve::P521, private.as_slice())
        }
        KeypairData::Ed25519(kp) => Ok(Secret::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_bytes(&kp.private.to_bytes()),
        ))),
        other => Err(PkiError::UnsupportedKey(format!(
            "OpenSSH key type {} is not supported (supported: RSA, ECDSA, ED25519)",
            other
                .algorithm()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "unknown".into())
        ))),
    }
}

impl ParsedKey {
    fn from_secret(secret: Secret, format: PrivateKeyFormat) -> Result<ParsedKey> {
        let (algorithm, public_bits) = match &secret {
            Secret::Rsa(k) => {
                let bits = u32::try_from(k.n().bits())
                    .map_err(|_| PkiError::UnsupportedKey("RSA modulus is too large".into()))?;
                let pkcs1 = k
                    .to_public_key()
                    .to_pkcs1_der()
                    .map_err(encoding("PKCS#1 public key"))?;
                (KeyAlgorithm::Rsa { bits }, pkcs1.as_bytes().to_vec())
            }
            Secret::P256(_) | Secret::P384(_) | Secret::P521(_) => (
                KeyAlgorithm::Ecdsa(ec_curve_of(&secret)),
                ec_public_point(&secret)?,
            ),
            Secret::Ed25519(k) => (KeyAlgorithm::Ed25519, k.verifying_key().as_bytes().to_vec()),
        };
        let mut key = ParsedKey {
            secret,
            algorithm,
            format,
            spki_der: Vec::new(),
            public_bits,
        };
        key.spki_der = SubjectPublicKeyInfoRef {
            algorithm: key.algorithm_identifier(),
            subject_public_key: BitStringRef::from_bytes(&key.public_bits)
                .map_err(encoding("SPKI"))?,
        }
        .to_der()
        .map_err(encoding("SPKI"))?;
        Ok(key)
    }

    /// The AlgorithmIdentifier of the key, as Go writes it in SPKI and PKCS#8: RSA with NULL
    /// parameters, EC with its named curve, Ed25519 with none.
    fn algorithm_identifier(&self) -> AlgorithmIdentifierRef<'static> {
        match &self.secret {
            Secret::Rsa(_) => AlgorithmIdentifierRef {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL),
            },
            Secret::Ed25519(_) => AlgorithmIdentifierRef {
                oid: oids::ID_ED_25519,
                parameters: None,
            },
            _ => AlgorithmIdentifierRef {
                oid: oids::ID_EC_PUBLIC_KEY,
                parameters: Some(AnyRef::from(ec_curve_of(&self.secret).oid())),
            },
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The encoding the key was read from (generated keys report PKCS#8).
    pub fn source_format(&self) -> PrivateKeyFormat {
        self.format
    }

    /// DER `SubjectPublicKeyInfo` (PKIX), as Go's `x509.MarshalPKIXPublicKey` writes it.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The raw subjectPublicKey bits (inside the SPKI BIT STRING): PKCS#1 `RSAPublicKey`, the
    /// uncompressed EC point, or the Ed25519 key.
    pub(crate) fn public_key_bits(&self) -> &[u8] {
        &self.public_bits
    }

    /// The "traditional" PEM pulumi-tls puts in `privateKeyPem`: PKCS#1 for RSA, SEC1 for ECDSA,
    /// PKCS#8 for Ed25519.
    pub fn to_traditional_pem(&self) -> Result<String> {
        match &self.secret {
            Secret::Rsa(_) => Ok(framing::encode("RSA PRIVATE KEY", &self.inner_der()?)),
            Secret::Ed25519(_) => Ok(framing::encode("PRIVATE KEY", &self.pkcs8_der()?)),
            _ => Ok(framing::encode("EC PRIVATE KEY", &self.sec1_der(true)?)),
        }
    }

    /// PKCS#8 `PRIVATE KEY` PEM.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        Ok(framing::encode("PRIVATE KEY", &self.pkcs8_der()?))
    }

    /// PKCS#8 DER as Go writes it: v1 (no public key); the algorithm identifier as in SPKI;
    /// Ed25519 as the bare 32-byte seed.
    pub fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let inner = self.inner_der()?;
        pkcs8::PrivateKeyInfo {
            algorithm: self.algorithm_identifier(),
            private_key: &inner,
            public_key: None,
        }
        .to_der()
        .map(Zeroizing::new)
        .map_err(encoding("PKCS#8"))
    }

    /// The algorithm-specific private key structure carried inside PKCS#8.
    fn inner_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        match &self.secret {
            Secret::Rsa(k) => k
                .to_pkcs1_der()
                .map(|doc| Zeroizing::new(doc.as_bytes().to_vec()))
                .map_err(encoding("PKCS#1")),
            Secret::Ed25519(k) => {
                let seed = Zeroizing::new(k.to_bytes());
                OctetStringRef::new(seed.as_slice())
                    .and_then(|octets| octets.to_der())
                    .map(Zeroizing::new)
                    .map_err(encoding("Ed25519 seed"))
            }
            _ => self.sec1_der(false),
        }
    }

    /// SEC1 `ECPrivateKey` (version 1, scalar, the named curve when `with_curve`, public point).
    fn sec1_der(&self, with_curve: bool) -> Result<Zeroizing<Vec<u8>>> {
        let scalar =
            ec_scalar(&self.secret).ok_or_else(|| PkiError::Encoding("not an EC key".into()))?;
        let curve = ec_curve_of(&self.secret);
        sec1_private_key(
            &scalar,
            with_curve.then_some(curve),
            Some(&self.public_bits),
        )
    }

    fn ssh_keypair(&self) -> Result<ssh_key::private::KeypairData> {
        use ssh_key::private::{EcdsaKeypair, Ed25519Keypair, KeypairData, RsaKeypair};
        let fail = |e: ssh_key::Error| PkiError::Encoding(format!("OpenSSH encoding failed: {e}"));
        let bad_point =
            |e: sec1::Error| PkiError::Encoding(format!("EC public point does not encode: {e}"));
        Ok(match &self.secret {
            Secret::Rsa(k) => KeypairData::Rsa(RsaKeypair::try_from(k.as_ref()).map_err(fail)?),
            Secret::P256(k) => KeypairData::Ecdsa(EcdsaKeypair::NistP256 {
                public: p256::EncodedPoint::from_bytes(&self.public_bits).map_err(bad_point)?,
                private: k.clone().into(),
            }),
            Secret::P384(k) => KeypairData::Ecdsa(EcdsaKeypair::NistP384 {
                public: p384::EncodedPoint::from_bytes(&self.public_bits).map_err(bad_point)?,
                private: k.clone().into(),
            }),
            Secret::P521(k) => KeypairData::Ecdsa(EcdsaKeypair::NistP521 {
                public: p521::EncodedPoint::from_bytes(&self.public_bits).map_err(bad_point)?,
                private: k.clone().into(),
            }),
            Secret::Ed25519(k) => KeypairData::Ed25519(Ed25519Keypair::from(k.as_ref())),
        })
    }

    /// Unencrypted `OPENSSH PRIVATE KEY` PEM (64-column lines, as Go's encoder writes).
    pub fn to_openssh_pem(&self) -> Result<String> {
        let fail = |e: ssh_key::Error| PkiError::Encoding(format!("OpenSSH encoding failed: {e}"));
        let key = ssh_key::PrivateKey::new(self.ssh_keypair()?, "").map_err(fail)?;
        let bytes = key.to_bytes().map_err(fail)?;
        Ok(framing::encode("OPENSSH PRIVATE KEY", &bytes))
    }

    /// The SSH public key, wire encoding (the blob fingerprints are taken over).
    fn ssh_public_wire(&self) -> Result<(ssh_key::PublicKey, Vec<u8>)> {
        let fail = |e: ssh_key::Error| PkiError::Encoding(format!("OpenSSH encoding failed: {e}"));
        let data = ssh_key::public::KeyData::try_from(&self.ssh_keypair()?).map_err(fail)?;
        let public = ssh_key::PublicKey::new(data, "");
        let wire = public.to_bytes().map_err(fail)?;
        Ok((public, wire))
    }

    /// Public encodings, fingerprints and id.
    pub fn public_info(&self) -> Result<PublicKeyInfo> {
        let (public, wire) = self.ssh_public_wire()?;
        let mut openssh = public
            .to_openssh()
            .map_err(|e| PkiError::Encoding(format!("OpenSSH encoding failed: {e}")))?;
        openssh.truncate(openssh.trim_end().len());
        openssh.push('\n');
        let md5 = Md5::digest(&wire);
        let md5_hex: Vec<String> = md5.iter().map(|b| format!("{b:02x}")).collect();
        let sha = Sha256::digest(&wire);
        Ok(PublicKeyInfo {
            algorithm: self.algorithm,
            public_key_pem: framing::encode("PUBLIC KEY", &self.spki_der),
            public_key_openssh: openssh,
            public_key_fingerprint_md5: md5_hex.join(":"),
            public_key_fingerprint_sha256: format!(
                "SHA256:{}",
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha)
            ),
            id: super::state_hash(&self.spki_der),
        })
    }

    /// All `PrivateKey` outputs, re-encoded from this key.
    pub fn key_material(&self) -> Result<KeyMaterial> {
        Ok(KeyMaterial {
            algorithm: self.algorithm,
            private_key_pem: self.to_traditional_pem()?,
            private_key_pem_pkcs8: self.to_pkcs8_pem()?,
            private_key_openssh: self.to_openssh_pem()?,
            public: self.public_info()?,
        })
    }

    /// The signature algorithm Go's `crypto/x509` picks for this key.
    pub(crate) fn rcgen_algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.algorithm {
            KeyAlgorithm::Rsa { .. } => &rcgen::PKCS_RSA_SHA256,
            KeyAlgorithm::Ecdsa(EcdsaCurve::P256) => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::Ecdsa(EcdsaCurve::P384) => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlgorithm::Ecdsa(EcdsaCurve::P521) => &rcgen::PKCS_ECDSA_P521_SHA512,
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }

    /// An rcgen signing key for this key (RSA signs with SHA-256, P-256/P-384/P-521 with
    /// SHA-256/384/512, as Go does). RSA keys must be 2048 to 8192 bits for the backend.
    pub fn rcgen_key_pair(&self) -> Result<rcgen::KeyPair> {
        let der = self.pkcs8_der()?;
        let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_slice());
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, self.rcgen_algorithm()).map_err(|e| {
            PkiError::UnsupportedKey(format!(
                "the {} key cannot be used for signing: {e}",
                self.algorithm
            ))
        })
    }
}

fn ec_curve_of(secret: &Secret) -> EcdsaCurve {
    match secret {
        Secret::P384(_) => EcdsaCurve::P384,
        Secret::P521(_) => EcdsaCurve::P521,
        _ => EcdsaCurve::P256,
    }
}

/// The private scalar of an EC key; `None` for other keys.
fn ec_scalar(secret: &Secret) -> Option<Zeroizing<Vec<u8>>> {
    let bytes = match secret {
        Secret::P256(k) => k.to_bytes().to_vec(),
        Secret::P384(k) => k.to_bytes().to_vec(),
        Secret::P521(k) => k.to_bytes().to_vec(),
        _ => return None,
    };
    Some(Zeroizing::new(bytes))
}

/// RFC 5915 `ECPrivateKey`, with the named curve and the public point when given.
fn sec1_private_key(
    scalar: &[u8],
    curve: Option<EcdsaCurve>,
    point: Option<&[u8]>,
) -> Result<Zeroizing<Vec<u8>>> {
    sec1::EcPrivateKey {
        private_key: scalar,
        parameters: curve.map(|c| sec1::EcParameters::NamedCurve(*c.oid())),
        public_key: point,
    }
    .to_der()
    .map(Zeroizing::new)
    .map_err(encoding("SEC1"))
}

/// The error for an encoder that refused its input (which our own keys never are).
fn encoding<E: fmt::Display>(what: &'static str) -> impl Fn(E) -> PkiError {
    move |e| PkiError::Encoding(format!("{what} encoding failed: {e}"))
}

/// Uncompressed SEC1 point of an EC key (empty for non-EC keys), computed by aws-lc: its
/// assembly does the scalar multiplication an order of magnitude faster than the pure-Rust
/// curve crates, and this runs for every key generated or parsed.
fn ec_public_point(secret: &Secret) -> Result<Vec<u8>> {
    use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
    let Some(scalar) = ec_scalar(secret) else {
        return Ok(Vec::new());
    };
    let curve = ec_curve_of(secret);
    let algorithm = match curve {
        EcdsaCurve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        EcdsaCurve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        EcdsaCurve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
    };
    // Without the optional public key: aws-lc derives the point.
    let sec1 = sec1_private_key(&scalar, Some(curve), None)?;
    let pair = EcdsaKeyPair::from_private_key_der(algorithm, &sec1)
        .map_err(|_| PkiError::UnsupportedKey("the EC private key is not valid".into()))?;
    Ok(pair.public_key().as_ref().to_vec())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One RSA-2048 key shared by the tests (generation is the slow part).
    pub(crate) fn rsa_material() -> &'static KeyMaterial {
        static KEY: OnceLock<KeyMaterial> = OnceLock::new();
        KEY.get_or_init(|| generate_key(KeyAlgorithm::Rsa { bits: 2048 }).unwrap())
    }

    pub(crate) fn material(alg: KeyAlgorithm) -> KeyMaterial {
        match alg {
            KeyAlgorithm::Rsa { bits: 2048 } => rsa_material().clone(),
            other => generate_key(other).unwrap(),
        }
    }

    pub(crate) const ALL: [KeyAlgorithm; 5] = [
        KeyAlgorithm::Rsa { bits: 2048 },
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
        KeyAlgorithm::Ecdsa(EcdsaCurve::P384),
        KeyAlgorithm::Ecdsa(EcdsaCurve::P521),
        KeyAlgorithm::Ed25519,
    ];

    const P224_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MHgCAQAwEAYHKoZIzj0CAQYFK4EEACEEYTBfAgEBBBzrHt98opsa/vBixvSsw/AN
Ur0WiLvtt71mEwKToTwDOgAEzDQFptJGcqEZ/QWUXQPcYFZN5C5LknaPdQQHUs8h
jV2O28Q+aW4Z/me1jqQ6I2X2/e/emeqO6Wo=
-----END PRIVATE KEY-----
";

    const X25519_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIODc1EF3lhc/9D8PaRuEzNMfgF+mSvxcYzSFq2l7lwBd
-----END PRIVATE KEY-----
";

    fn label(pem: &str) -> &str {
        pem.lines()
            .next()
            .and_then(|l| l.strip_prefix("-----BEGIN "))
            .and_then(|l| l.strip_suffix("-----"))
            .unwrap()
    }

    fn ends_with_one_newline(s: &str) {
        assert!(s.ends_with('\n'), "{s:?}");
        assert!(!s.ends_with("\n\n"), "{s:?}");
        assert!(!s.contains('\r'));
    }

    #[test]
    fn generated_keys_have_upstream_encodings() {
        for alg in ALL {
            let m = material(alg);
            assert_eq!(m.algorithm, alg);
            let traditional = match alg {
                KeyAlgorithm::Rsa { .. } => "RSA PRIVATE KEY",
                KeyAlgorithm::Ecdsa(_) => "EC PRIVATE KEY",
                KeyAlgorithm::Ed25519 => "PRIVATE KEY",
            };
            assert_eq!(label(&m.private_key_pem), traditional, "{alg}");
            assert_eq!(label(&m.private_key_pem_pkcs8), "PRIVATE KEY");
            assert_eq!(label(&m.private_key_openssh), "OPENSSH PRIVATE KEY");
            assert_eq!(label(&m.public.public_key_pem), "PUBLIC KEY");
            for s in [
                &m.private_key_pem,
                &m.private_key_pem_pkcs8,
                &m.private_key_openssh,
                &m.public.public_key_pem,
                &m.public.public_key_openssh,
            ] {
                ends_with_one_newline(s);
            }
            for s in [
                &m.private_key_pem,
                &m.private_key_openssh,
                &m.public.public_key_pem,
            ] {
                assert!(s.lines().all(|l| l.len() <= 64));
            }
            let ssh_type = match alg {
                KeyAlgorithm::Rsa { .. } => "ssh-rsa ",
                KeyAlgorithm::Ecdsa(EcdsaCurve::P256) => "ecdsa-sha2-nistp256 ",
                KeyAlgorithm::Ecdsa(EcdsaCurve::P384) => "ecdsa-sha2-nistp384 ",
                KeyAlgorithm::Ecdsa(EcdsaCurve::P521) => "ecdsa-sha2-nistp521 ",
                KeyAlgorithm::Ed25519 => "ssh-ed25519 ",
            };
            assert!(m.public.public_key_openssh.starts_with(ssh_type));
            // "<type> <base64>\n": no comment.
            assert_eq!(m.public.public_key_openssh.trim_end().split(' ').count(), 2);
            assert_eq!(m.algorithm.name(), m.public.algorithm.name());
        }
    }

    #[test]
    fn fingerprints_and_id_formats() {
        for alg in ALL {
            let m = material(alg);
            let md5 = &m.public.public_key_fingerprint_md5;
            assert_eq!(md5.len(), 47, "{md5}");
            assert!(md5.split(':').all(|p| {
                p.len() == 2
                    && p.chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            }));
            let sha = &m.public.public_key_fingerprint_sha256;
            assert!(sha.starts_with("SHA256:"));
            assert_eq!(sha.len(), 7 + 43);
            assert!(!sha.contains('='));
            assert_eq!(m.public.id.len(), 40);

            // Fingerprints are over the SSH wire blob inside the authorized_keys line.
            let b64 = m
                .public
                .public_key_openssh
                .split(' ')
                .nth(1)
                .unwrap()
                .trim();
            let wire = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let expect = format!(
                "SHA256:{}",
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(&wire))
            );
            assert_eq!(sha, &expect);

            // The id is SHA-1 over the DER public key (modulo Go's TrimSpace quirk).
            let key = parse_private_key(&m.private_key_pem).unwrap();
            assert_eq!(m.public.id, crate::pki::state_hash(key.public_key_der()));
        }
    }

    #[test]
    fn every_private_form_parses_back_to_the_same_key() {
        for alg in ALL {
            let m = material(alg);
            for (pem, format) in [
                (&m.private_key_pem, None),
                (&m.private_key_pem_pkcs8, Some(PrivateKeyFormat::Pkcs8)),
                (&m.private_key_openssh, Some(PrivateKeyFormat::OpenSsh)),
            ] {
                let key = parse_private_key(pem).unwrap();
                assert_eq!(key.algorithm(), alg);
                if let Some(f) = format {
                    assert_eq!(key.source_format(), f);
                }
                let again = key.key_material().unwrap();
                assert_eq!(again.public, m.public, "{alg}");
                assert_eq!(again.private_key_pem, m.private_key_pem, "{alg}");
                assert_eq!(
                    again.private_key_pem_pkcs8, m.private_key_pem_pkcs8,
                    "{alg}"
                );
                assert_eq!(public_outputs(&key).unwrap(), m.public);
            }
        }
        let rsa = parse_private_key(&rsa_material().private_key_pem).unwrap();
        assert_eq!(rsa.source_format(), PrivateKeyFormat::Pkcs1);
        let ec = parse_private_key(&material(ALL[1]).private_key_pem).unwrap();
        assert_eq!(ec.source_format(), PrivateKeyFormat::Sec1);
    }

    #[test]
    fn rfc8032_vector_encodings() {
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let key = ParsedKey::from_secret(
            Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed))),
            PrivateKeyFormat::Pkcs8,
        )
        .unwrap();
        // Go's PKCS#8 for Ed25519: v1, no public key.
        assert_eq!(
            hex::encode(key.pkcs8_der().unwrap()),
            format!("302e020100300506032b657004220420{}", hex::encode(seed))
        );
        assert_eq!(
            hex::encode(key.public_key_der()),
            "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let info = key.public_info().unwrap();
        assert_eq!(
            info.public_key_openssh,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea\n"
        );
        assert_eq!(info.public_key_pem.lines().count(), 3);
        let round = parse_private_key(&key.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(round.public_key_der(), key.public_key_der());
    }

    #[test]
    fn sec1_output_names_its_curve_and_pkcs8_inner_does_not() {
        let m = material(KeyAlgorithm::Ecdsa(EcdsaCurve::P384));
        let sec1_der = framing::blocks(&m.private_key_pem).unwrap()[0]
            .contents()
            .to_vec();
        let ec = sec1::EcPrivateKey::try_from(sec1_der.as_slice()).unwrap();
        assert_eq!(
            ec.parameters
                .and_then(|p| p.named_curve())
                .map(|o| o.to_string()),
            Some("1.3.132.0.34".to_string())
        );
        assert!(ec.public_key.is_some());
        let p8 = framing::blocks(&m.private_key_pem_pkcs8).unwrap()[0]
            .contents()
            .to_vec();
        let info = pkcs8::PrivateKeyInfo::try_from(p8.as_slice()).unwrap();
        let inner = sec1::EcPrivateKey::try_from(info.private_key).unwrap();
        assert!(inner.parameters.is_none());
        assert!(inner.public_key.is_some());
    }

    #[test]
    fn debug_output_is_redacted() {
        let m = material(KeyAlgorithm::Ed25519);
        let printed = format!("{m:?}");
        assert!(printed.contains("<redacted>"));
        assert!(!printed.contains("PRIVATE KEY"));
        let body: String = m
            .private_key_openssh
            .lines()
            .nth(1)
            .unwrap()
            .chars()
            .take(20)
            .collect();
        assert!(!printed.contains(&body));
        let key = parse_private_key(&m.private_key_pem).unwrap();
        let printed = format!("{key:?}");
        assert!(printed.contains("<redacted>") && !printed.contains("SigningKey"));
    }

    #[test]
    fn signing_keys_for_rcgen() {
        for alg in ALL {
            let key = parse_private_key(&material(alg).private_key_pem).unwrap();
            let pair = key.rcgen_key_pair().unwrap();
            use rcgen::PublicKeyData as _;
            assert_eq!(
                pair.subject_public_key_info(),
                key.public_key_der(),
                "{alg}"
            );
        }
    }

    #[test]
    fn ec_parameters_block_is_skipped() {
        let m = material(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        let text = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            m.private_key_pem
        );
        let key = parse_private_key(&text).unwrap();
        assert_eq!(key.public_info().unwrap(), m.public);
        // Leading text and CRLF line ends are tolerated.
        let crlf = format!("comment\r\n{}", m.private_key_pem.replace('\n', "\r\n"));
        assert!(parse_private_key(&crlf).is_ok());
    }

    #[test]
    fn parse_errors_are_specific() {
        assert!(matches!(
            parse_private_key(""),
            Err(PkiError::MalformedPem(_))
        ));
        assert!(matches!(
            parse_private_key("hello"),
            Err(PkiError::MalformedPem(_))
        ));
        let cert_label = framing::encode("CERTIFICATE", &[0x30, 0x00]);
        assert!(matches!(
            parse_private_key(&cert_label),
            Err(PkiError::UnexpectedPemType { .. })
        ));
        for l in [
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ] {
            let junk = framing::encode(l, &[0x30, 0x03, 0x02, 0x01, 0x00]);
            assert!(
                matches!(
                    parse_private_key(&junk),
                    Err(PkiError::InvalidPrivateKey(_))
                ),
                "{l}"
            );
        }
        let enc = framing::encode("ENCRYPTED PRIVATE KEY", &[0x30, 0x00]);
        assert_eq!(parse_private_key(&enc).unwrap_err(), PkiError::EncryptedKey);
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            parse_private_key(legacy).unwrap_err(),
            PkiError::EncryptedKey
        );
        let p224 = parse_private_key(P224_PKCS8).unwrap_err();
        assert!(matches!(p224, PkiError::UnsupportedKey(_)));
        assert!(p224.to_string().contains("P224"));
        let x = parse_private_key(X25519_PKCS8).unwrap_err();
        assert!(matches!(x, PkiError::UnsupportedKey(_)));
        assert!(x.to_string().contains("1.3.101.110"));
        assert!(validate_private_key_pem(P224_PKCS8).is_err());
        assert!(validate_private_key_pem(&rsa_material().private_key_pem).is_ok());
    }

    #[test]
    fn errors_never_echo_key_bytes() {
        let m = material(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        // Damage the body: decode, flip a structural byte, re-encode.
        let mut d = framing::blocks(&m.private_key_pem).unwrap()[0]
            .contents()
            .to_vec();
        d[0] = 0x31;
        let broken = framing::encode("EC PRIVATE KEY", &d);
        let err = parse_private_key(&broken).unwrap_err().to_string();
        let body_line = broken.lines().nth(1).unwrap();
        assert!(!err.contains(&body_line[..16]), "{err}");
        assert!(!err.contains(&hex::encode(&d[7..20])), "{err}");
    }

    #[test]
    fn algorithm_inputs() {
        assert_eq!(
            KeyAlgorithm::from_inputs("RSA", None, None).unwrap(),
            KeyAlgorithm::Rsa { bits: 2048 }
        );
        assert_eq!(
            KeyAlgorithm::from_inputs("RSA", Some(4096), Some("P384")).unwrap(),
            KeyAlgorithm::Rsa { bits: 4096 }
        );
        assert!(KeyAlgorithm::from_inputs("RSA", Some(1024), None).is_err());
        assert!(KeyAlgorithm::from_inputs("RSA", Some(8192), None).is_err());
        assert_eq!(
            KeyAlgorithm::from_inputs("ECDSA", None, Some("P521")).unwrap(),
            KeyAlgorithm::Ecdsa(EcdsaCurve::P521)
        );
        assert_eq!(
            KeyAlgorithm::from_inputs("ECDSA", None, None).unwrap(),
            KeyAlgorithm::Ecdsa(EcdsaCurve::P256)
        );
        let e = KeyAlgorithm::from_inputs("ECDSA", None, Some("P224")).unwrap_err();
        assert!(e.to_string().contains("P224"));
        assert_eq!(
            KeyAlgorithm::from_inputs("ED25519", Some(1), Some("x")).unwrap(),
            KeyAlgorithm::Ed25519
        );
        assert!(KeyAlgorithm::from_inputs("DSA", None, None).is_err());
        assert_eq!("p-384".parse::<EcdsaCurve>().unwrap(), EcdsaCurve::P384);
        assert!(matches!(
            generate_key(KeyAlgorithm::Rsa { bits: 1024 }),
            Err(PkiError::UnsupportedKey(_))
        ));
        assert_eq!(KeyAlgorithm::Ecdsa(EcdsaCurve::P256).name(), "ECDSA");
        assert_eq!(KeyAlgorithm::Ed25519.name(), "ED25519");
        assert_eq!(KeyAlgorithm::Rsa { bits: 3072 }.name(), "RSA");
    }

    #[test]
    fn openssh_rsa_keys_keep_both_primes() {
        // ssh-key's own conversion to rsa::RsaPrivateKey repeats p; ours must not.
        let m = rsa_material();
        let key = parse_private_key(&m.private_key_openssh).unwrap();
        assert_eq!(key.to_traditional_pem().unwrap(), m.private_key_pem);
    }
}
