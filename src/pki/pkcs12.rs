//! PKCS#12 keystores (RFC 7292 `PFX`): one private key, its certificate and the chain above it,
//! password-protected, as JVM services (Kafka, Spark, Trino) load them with
//! `KeyStore.getInstance("PKCS12")`.
//!
//! The layout is the one `openssl pkcs12 -export` writes, so OpenSSL and the JDK read it the
//! same way:
//!
//! - the authenticated safe holds two `ContentInfo`s: first an `encryptedData` with one cert bag
//!   per certificate (leaf first, then the chain in the order given), then a plain `data` with
//!   one `pkcs8ShroudedKeyBag`;
//! - the key bag and the leaf's cert bag carry the same `localKeyId` (SHA-1 of the leaf DER) and
//!   a `friendlyName` (BMPString), which the JDK turns into one `PrivateKeyEntry` whose alias is
//!   the friendly name (lowercased by the JDK's PKCS#12 keystore) and whose chain it builds from
//!   the other cert bags by issuer name; chain certificates carry no attributes, so they do not
//!   become entries of their own;
//! - an HMAC over the authenticated safe (`MacData`), keyed through the PKCS#12 KDF.
//!
//! Two suites:
//!
//! - [`Pkcs12Suite::Modern`]: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key bag and the
//!   certificate safe, HMAC-SHA256 MAC with its key from the PKCS#12 KDF over SHA-256 (what
//!   OpenSSL 3 and JDK 12+ write and read);
//! - [`Pkcs12Suite::Legacy`]: `pbeWithSHAAnd3-KeyTripleDES-CBC` (PKCS#12 KDF, RFC 7292 appendix
//!   B) for both, HMAC-SHA1 MAC, for JVMs older than 8u301 that cannot read PBES2.
//!
//! AES-256-CBC, PBKDF2 and HMAC come from aws-lc (already the crate's crypto backend); aws-lc-rs
//! has no DES, so the legacy suite's Triple-DES comes from RustCrypto's `des` and `cbc`. Salts
//! and IVs are drawn from the operating system's generator; [`pkcs12`]'s tests inject their own.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use aws_lc_rs::cipher::{AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey};
use pkcs8::der::zeroize::Zeroizing;
use rand::RngCore;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use x509_parser::prelude::FromDer as _;

use super::der;
use super::error::{PkiError, Result};
use super::framing;
use super::keys::ParsedKey;
use super::oids;

/// PBKDF2, PKCS#12 KDF and MAC iterations, for both suites.
///
/// 10,000 is what the JDK itself writes into new PKCS#12 keystores since 8u301/11.0.12/17
/// (`keystore.pkcs12.*IterationCount`), so our keystores cost a JVM the same to open as one made
/// by `keytool`; it is five times OpenSSL 3's 2,048 and far below the JDK's reading limit
/// (5,000,000). Iterations only slow guessing of human passwords: the generated ones carry about
/// 190 bits and need none.
const ITERATIONS: u32 = 10_000;
/// Salt length for PBKDF2, the PKCS#12 KDF and the MAC (OpenSSL uses 8, the JDK 20).
const SALT_LEN: usize = 16;

/// How a keystore is encrypted and authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Pkcs12Suite {
    /// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC; HMAC-SHA256 MAC. Read by OpenSSL 3 and
    /// Java 8u301+, 11.0.12+ and 17+.
    #[default]
    Modern,
    /// `pbeWithSHAAnd3-KeyTripleDES-CBC`; HMAC-SHA1 MAC. For Java 8 before 8u301. Needs a
    /// non-empty password.
    Legacy,
}

impl Pkcs12Suite {
    /// Every suite, in the order the names are listed to users.
    pub const ALL: [Pkcs12Suite; 2] = [Pkcs12Suite::Modern, Pkcs12Suite::Legacy];

    /// The lowercase name used in resource inputs: `modern` or `legacy`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Pkcs12Suite::Modern => "modern",
            Pkcs12Suite::Legacy => "legacy",
        }
    }

    /// The accepted names, comma-separated, for error messages.
    pub fn names() -> String {
        Pkcs12Suite::ALL
            .iter()
            .map(Pkcs12Suite::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Pkcs12Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Pkcs12Suite {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        Pkcs12Suite::ALL
            .into_iter()
            .find(|suite| suite.as_str() == s)
            .ok_or_else(|| {
                PkiError::InvalidInput(format!(
                    "unknown PKCS#12 encryption {s:?}; expected one of: {}",
                    Pkcs12Suite::names()
                ))
            })
    }
}

/// Builds a PKCS#12 keystore (DER) holding `key`, its certificate `cert_pem` and the chain
/// `chain_pems` (issuer first; each entry may hold several `CERTIFICATE` blocks), protected by
/// `password` and listed under `friendly_name`.
///
/// Refused with [`PkiError::InvalidInput`]: a key that is not the certificate's, an empty
/// password with [`Pkcs12Suite::Legacy`], and a friendly name that is empty or not
/// representable as a BMPString. Errors never include the password or key material.
pub fn pkcs12(
    cert_pem: &str,
    chain_pems: &[String],
    key: &ParsedKey,
    password: &str,
    friendly_name: &str,
    suite: Pkcs12Suite,
) -> Result<Vec<u8>> {
    build(
        cert_pem,
        chain_pems,
        key,
        password,
        friendly_name,
        suite,
        &mut rand::rngs::OsRng,
    )
}

/// Checks that `key` is the private key of the (single) certificate in `cert_pem`.
pub fn check_key_matches_cert(cert_pem: &str, key: &ParsedKey) -> Result<()> {
    let leaf = leaf_der(cert_pem)?;
    key_matches(&leaf, key)
}

/// The friendly name a keystore gets when none is given: the certificate's subject common name,
/// else `identity`.
pub fn pkcs12_default_friendly_name(cert_pem: &str) -> Result<String> {
    let leaf = leaf_der(cert_pem)?;
    let cert = parse_cert(&leaf)?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::trim)
        .filter(|cn| !cn.is_empty() && validate_friendly_name(cn).is_ok());
    Ok(cn.unwrap_or("identity").to_string())
}

/// Checks that `name` can be a keystore entry's friendly name: not empty, and every character
/// in the Basic Multilingual Plane (a BMPString holds no others).
pub fn validate_friendly_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(PkiError::InvalidInput(
            "the friendly name (keystore alias) must not be empty".into(),
        ));
    }
    der::bmp_string(name).map(|_| ())
}

/// Checks that `password` can protect a keystore of `suite`.
pub fn validate_pkcs12_password(password: &str, suite: Pkcs12Suite) -> Result<()> {
    if password.is_empty() && suite == Pkcs12Suite::Legacy {
        return Err(PkiError::InvalidInput(
            "legacy JVM keystores cannot be opened without a password; give one or use modern \
             encryption"
                .into(),
        ));
    }
    Ok(())
}

/// [`pkcs12`] with the salts and IVs drawn from `rng`.
fn build(
    cert_pem: &str,
    chain_pems: &[String],
    key: &ParsedKey,
    password: &str,
    friendly_name: &str,
    suite: Pkcs12Suite,
    rng: &mut dyn RngCore,
) -> Result<Vec<u8>> {
    validate_pkcs12_password(password, suite)?;
    validate_friendly_name(friendly_name)?;
    let leaf = leaf_der(cert_pem)?;
    key_matches(&leaf, key)?;
    let chain = chain_ders(chain_pems)?;

    let local_key_id = der::octet_string(&Sha1::digest(&leaf));
    let attributes = der::set_of(vec![
        der::sequence(&[
            &der::oid(&oids::PKCS_9_FRIENDLY_NAME),
            &der::set_of(vec![der::bmp_string(friendly_name)?]),
        ]),
        der::sequence(&[
            &der::oid(&oids::PKCS_9_LOCAL_KEY_ID),
            &der::set_of(vec![local_key_id]),
        ]),
    ]);

    // Certificates: leaf (with the attributes) then the chain, in one encrypted safe.
    let mut cert_bags = vec![cert_bag(&leaf, Some(attributes.as_slice()))];
    cert_bags.extend(chain.iter().map(|c| cert_bag(c, None)));
    let cert_safe = der::tlv(der::TAG_SEQUENCE, &cert_bags.concat());
    let (cert_alg, cert_ciphertext) = encrypt(suite, password, &cert_safe, rng)?;
    let certs_info = der::sequence(&[
        &der::oid(&oids::PKCS_7_ENCRYPTED_DATA),
        &der::explicit(
            0,
            &der::sequence(&[
                &der::small_integer(0),
                &der::sequence(&[
                    &der::oid(&oids::PKCS_7_DATA),
                    &cert_alg,
                    &der::implicit_primitive(0, &cert_ciphertext),
                ]),
            ]),
        ),
    ]);

    // The key: a shrouded key bag in a plain data safe (its own encryption protects it).
    let pkcs8 = key.pkcs8_der()?;
    let (key_alg, key_ciphertext) = encrypt(suite, password, &pkcs8, rng)?;
    let key_bag = der::sequence(&[
        &der::oid(&oids::PKCS_12_PKCS_8_SHROUDED_KEY_BAG),
        &der::explicit(
            0,
            &der::sequence(&[&key_alg, &der::octet_string(&key_ciphertext)]),
        ),
        &attributes,
    ]);
    let key_info = data_content_info(&der::sequence(&[&key_bag]));

    let auth_safe = der::sequence(&[&certs_info, &key_info]);
    let mac_data = mac_data(suite, password, &auth_safe, rng)?;
    Ok(der::sequence(&[
        &der::small_integer(3),
        &data_content_info(&auth_safe),
        &mac_data,
    ]))
}

/// A `ContentInfo` of type `data` around `content`.
fn data_content_info(content: &[u8]) -> Vec<u8> {
    der::sequence(&[
        &der::oid(&oids::PKCS_7_DATA),
        &der::explicit(0, &der::octet_string(content)),
    ])
}

/// A `certBag` `SafeBag` holding an X.509 certificate, with optional bag attributes.
fn cert_bag(cert_der: &[u8], attributes: Option<&[u8]>) -> Vec<u8> {
    let value = der::sequence(&[
        &der::oid(&oids::PKCS_9_X509_CERTIFICATE),
        &der::explicit(0, &der::octet_string(cert_der)),
    ]);
    der::sequence(&[
        &der::oid(&oids::PKCS_12_CERT_BAG),
        &der::explicit(0, &value),
        attributes.unwrap_or_default(),
    ])
}

/// The one certificate of `cert_pem`, as DER.
fn leaf_der(cert_pem: &str) -> Result<Vec<u8>> {
    let blocks = framing::blocks(cert_pem)?;
    let [block] = blocks.as_slice() else {
        return Err(PkiError::InvalidCertificate(format!(
            "expected exactly one certificate, found {} PEM blocks; give the chain separately",
            blocks.len()
        )));
    };
    if block.tag() != "CERTIFICATE" {
        return Err(PkiError::UnexpectedPemType {
            expected: "CERTIFICATE".into(),
            found: block.tag().to_string(),
        });
    }
    parse_cert(block.contents())?;
    Ok(block.contents().to_vec())
}

/// Every certificate of every chain entry, in order, as DER.
fn chain_ders(chain_pems: &[String]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for (i, pem_text) in chain_pems.iter().enumerate() {
        let blocks = framing::blocks(pem_text).map_err(|e| chain_error(i, e))?;
        for block in blocks {
            if block.tag() != "CERTIFICATE" {
                return Err(chain_error(
                    i,
                    PkiError::UnexpectedPemType {
                        expected: "CERTIFICATE".into(),
                        found: block.tag().to_string(),
                    },
                ));
            }
            parse_cert(block.contents()).map_err(|e| chain_error(i, e))?;
            out.push(block.contents().to_vec());
        }
    }
    Ok(out)
}

fn chain_error(index: usize, e: PkiError) -> PkiError {
    PkiError::InvalidCertificate(format!("chain entry {index}: {e}"))
}

fn parse_cert(der_bytes: &[u8]) -> Result<x509_parser::certificate::X509Certificate<'_>> {
    let (rest, cert) = x509_parser::certificate::X509Certificate::from_der(der_bytes)
        .map_err(|e| PkiError::InvalidCertificate(format!("cannot parse the certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(PkiError::InvalidCertificate(
            "trailing data after the certificate".into(),
        ));
    }
    Ok(cert)
}

/// Whether the certificate's public key is `key`'s: same algorithm and same key bits (compared
/// apart from the SPKI's outer encoding, which other tools may spell differently).
fn key_matches(cert_der: &[u8], key: &ParsedKey) -> Result<()> {
    if super::certs::key_belongs_to(&parse_cert(cert_der)?, key) {
        Ok(())
    } else {
        Err(PkiError::InvalidInput(
            "the private key does not belong to the certificate (their public keys differ)".into(),
        ))
    }
}

/// Encrypts `plaintext` for a shrouded key bag or an encrypted safe: the `AlgorithmIdentifier`
/// and the ciphertext.
fn encrypt(
    suite: Pkcs12Suite,
    password: &str,
    plaintext: &[u8],
    rng: &mut dyn RngCore,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    match suite {
        Pkcs12Suite::Modern => {
            let mut iv = [0u8; 16];
            rng.fill_bytes(&mut iv);
            let key = pbkdf2_sha256(password, &salt, ITERATIONS);
            let ciphertext = aes256_cbc_encrypt(&key, iv, plaintext)?;
            let kdf = der::sequence(&[
                &der::oid(&oids::PKCS_5_PBKDF2),
                &der::sequence(&[
                    &der::octet_string(&salt),
                    &der::small_integer(u64::from(ITERATIONS)),
                    &der::sequence(&[&der::oid(&oids::HMAC_WITH_SHA_256), &der::null()]),
                ]),
            ]);
            let scheme = der::sequence(&[&der::oid(&oids::AES_256_CBC), &der::octet_string(&iv)]);
            let alg = der::sequence(&[
                &der::oid(&oids::PKCS_5_PBES2),
                &der::sequence(&[&kdf, &scheme]),
            ]);
            Ok((alg, ciphertext))
        }
        Pkcs12Suite::Legacy => {
            let bmp = bmp_password(password);
            let key = Zeroizing::new(pkcs12_kdf(Hash::Sha1, &bmp, &salt, 1, ITERATIONS, 24));
            let iv = pkcs12_kdf(Hash::Sha1, &bmp, &salt, 2, ITERATIONS, 8);
            let ciphertext = tdes_cbc_encrypt(&key, &iv, plaintext)?;
            let alg = der::sequence(&[
                &der::oid(&oids::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC),
                &der::sequence(&[
                    &der::octet_string(&salt),
                    &der::small_integer(u64::from(ITERATIONS)),
                ]),
            ]);
            Ok((alg, ciphertext))
        }
    }
}

/// The PFX's `MacData` over the authenticated safe's content octets.
fn mac_data(
    suite: Pkcs12Suite,
    password: &str,
    auth_safe: &[u8],
    rng: &mut dyn RngCore,
) -> Result<Vec<u8>> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let hash = mac_hash(suite);
    let mac = compute_mac(hash, password, &salt, ITERATIONS, auth_safe);
    let digest_oid = match hash {
        Hash::Sha1 => oids::ID_SHA_1,
        Hash::Sha256 => oids::ID_SHA_256,
    };
    Ok(der::sequence(&[
        &der::sequence(&[
            &der::sequence(&[&der::oid(&digest_oid), &der::null()]),
            &der::octet_string(&mac),
        ]),
        &der::octet_string(&salt),
        &der::small_integer(u64::from(ITERATIONS)),
    ]))
}

fn mac_hash(suite: Pkcs12Suite) -> Hash {
    match suite {
        Pkcs12Suite::Modern => Hash::Sha256,
        Pkcs12Suite::Legacy => Hash::Sha1,
    }
}

/// HMAC of `data` under a key from the PKCS#12 KDF (ID 3, the hash's output length), as
/// RFC 7292 appendix B.4 and OpenSSL 3 (also for SHA-256) do it.
fn compute_mac(hash: Hash, password: &str, salt: &[u8], iterations: u32, data: &[u8]) -> Vec<u8> {
    let key = Zeroizing::new(pkcs12_kdf(
        hash,
        &bmp_password(password),
        salt,
        3,
        iterations,
        hash.output_len(),
    ));
    let algorithm = match hash {
        Hash::Sha1 => aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        Hash::Sha256 => aws_lc_rs::hmac::HMAC_SHA256,
    };
    let key = aws_lc_rs::hmac::Key::new(algorithm, &key);
    aws_lc_rs::hmac::sign(&key, data).as_ref().to_vec()
}

/// The password as the PKCS#12 KDF takes it: UTF-16BE with a two-byte terminator (RFC 7292
/// B.1), so the empty password is `00 00`. Characters beyond the BMP become surrogate pairs, as
/// OpenSSL's UTF-8 conversion and Java's `char[]` give them.
fn bmp_password(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.len() * 2 + 2));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

fn pbkdf2_sha256(password: &str, salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    // ITERATIONS is a non-zero constant; 1 only guards the type.
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        key.as_mut_slice(),
    );
    key
}

fn aes256_cbc_encrypt(key: &[u8; 32], iv: [u8; 16], plaintext: &[u8]) -> Result<Vec<u8>> {
    let failed = |_| PkiError::Encoding("AES-256-CBC encryption failed".into());
    let key = UnboundCipherKey::new(&AES_256, key).map_err(failed)?;
    let key = PaddedBlockEncryptingKey::cbc_pkcs7(key).map_err(failed)?;
    let mut buffer = plaintext.to_vec();
    key.less_safe_encrypt(&mut buffer, EncryptionContext::Iv128(iv.into()))
        .map_err(failed)?;
    Ok(buffer)
}

fn tdes_cbc_encrypt(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    use cbc::cipher::{BlockEncryptMut as _, KeyIvInit as _, block_padding::Pkcs7};
    let encryptor = cbc::Encryptor::<des::TdesEde3>::new_from_slices(key, iv)
        .map_err(|_| PkiError::Encoding("Triple-DES key or IV has the wrong length".into()))?;
    Ok(encryptor.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

/// The hash behind the PKCS#12 KDF and the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
}

impl Hash {
    /// `u`: the output length in bytes.
    fn output_len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
        }
    }

    /// `v`: the input block length in bytes (64 for both).
    fn block_len(self) -> usize {
        64
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Hash::Sha1 => {
                let mut h = Sha1::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
            Hash::Sha256 => {
                let mut h = Sha256::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
        }
    }
}

/// The PKCS#12 key derivation function (RFC 7292 appendix B.2): `n` bytes of key (`id` 1), IV
/// (`id` 2) or MAC key (`id` 3) material from the BMP-encoded `password` and `salt`.
fn pkcs12_kdf(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    id: u8,
    iterations: u32,
    n: usize,
) -> Vec<u8> {
    let v = hash.block_len();
    let u = hash.output_len();
    // Each of salt and password repeated to fill a whole number of v-byte blocks.
    let fill = |src: &[u8]| -> Zeroizing<Vec<u8>> {
        let len = src.len().div_ceil(v) * v;
        Zeroizing::new(src.iter().copied().cycle().take(len).collect())
    };
    let diversifier = vec![id; v];
    let mut i_blocks = fill(salt);
    i_blocks.extend_from_slice(&fill(password));

    let mut out = Vec::with_capacity(n.div_ceil(u) * u);
    while out.len() < n {
        let mut a = Zeroizing::new(hash.digest(&[diversifier.as_slice(), i_blocks.as_slice()]));
        for _ in 1..iterations {
            *a = hash.digest(&[a.as_slice()]);
        }
        out.extend_from_slice(&a);
        if out.len() >= n {
            break;
        }
        // B is A repeated to v bytes; every v-byte block of I becomes (I_j + B + 1) mod 2^(8v).
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for block in i_blocks.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(&b).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certs::{CertSpec, IssueOptions, self_signed};
    use crate::pki::keys::tests::{ALL, material};
    use crate::pki::keys::{KeyAlgorithm, parse_private_key};
    use crate::pki::names::Subject;
    use rand::SeedableRng as _;

    /// A DER element: its tag and content.
    #[derive(Debug, Clone, Copy)]
    struct Tlv<'a> {
        tag: u8,
        content: &'a [u8],
    }

    /// Splits `input` into its top-level DER elements (definite lengths only, as DER has).
    fn elements(mut input: &[u8]) -> Vec<Tlv<'_>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let tag = input[0];
            let (len, header) = match input[1] {
                n if n < 0x80 => (usize::from(n), 2),
                n => {
                    let count = usize::from(n & 0x7f);
                    let len = input[2..2 + count]
                        .iter()
                        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                    (len, 2 + count)
                }
            };
            out.push(Tlv {
                tag,
                content: &input[header..header + len],
            });
            input = &input[header + len..];
        }
        out
    }

    /// The elements inside a constructed element.
    fn inside(t: Tlv<'_>) -> Vec<Tlv<'_>> {
        elements(t.content)
    }

    fn one(input: &[u8]) -> Tlv<'_> {
        let all = elements(input);
        assert_eq!(all.len(), 1, "expected one element");
        all[0]
    }

    fn int(t: Tlv<'_>) -> u64 {
        assert_eq!(t.tag, der::TAG_INTEGER);
        t.content
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }

    fn oid_of(t: Tlv<'_>) -> oids::Oid {
        assert_eq!(t.tag, der::TAG_OID);
        oids::Oid::from_bytes(t.content).unwrap()
    }

    struct Identity {
        key: ParsedKey,
        cert_pem: String,
        cert_der: Vec<u8>,
    }

    fn identity(alg: KeyAlgorithm, cn: Option<&str>) -> Identity {
        let key = parse_private_key(&material(alg).private_key_pem).unwrap();
        let mut options = IssueOptions::new(24, time::macros::datetime!(2026-03-04 05:06:07 UTC));
        options.is_ca = cn.is_some();
        let cert = self_signed(
            &key,
            &CertSpec {
                subject: Subject {
                    common_name: cn.map(str::to_string),
                    organization: Some("Zerotrust".into()),
                    ..Default::default()
                },
                dns_names: vec!["trainer.example".into()],
                ip_addresses: vec![],
                uris: vec![],
                set_authority_key_id: false,
                options,
            },
        )
        .unwrap();
        Identity {
            key,
            cert_pem: cert.cert_pem,
            cert_der: cert.cert_der,
        }
    }

    fn seeded() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    /// Recomputes the MAC of a PFX with `password`: whether it matches the stored one.
    fn mac_verifies(pfx: &[u8], password: &str) -> bool {
        let top = inside(one(pfx));
        let auth_safe = one(inside(top[1])[1].content).content;
        let mac_data = inside(top[2]);
        let digest_info = inside(mac_data[0]);
        let hash = match oid_of(inside(digest_info[0])[0]) {
            oids::ID_SHA_1 => Hash::Sha1,
            oids::ID_SHA_256 => Hash::Sha256,
            other => panic!("unexpected MAC digest {other}"),
        };
        let iterations = u32::try_from(int(mac_data[2])).unwrap();
        let mac = compute_mac(hash, password, mac_data[1].content, iterations, auth_safe);
        mac == digest_info[1].content
    }

    /// Decrypts an encrypted blob given its `AlgorithmIdentifier`, checking the parameters.
    fn decrypt(alg: Tlv<'_>, password: &str, ciphertext: &[u8]) -> Vec<u8> {
        use cbc::cipher::{BlockDecryptMut as _, KeyIvInit as _, block_padding::Pkcs7};
        let parts = inside(alg);
        match oid_of(parts[0]) {
            oids::PKCS_5_PBES2 => {
                let params = inside(parts[1]);
                let kdf = inside(params[0]);
                assert_eq!(oid_of(kdf[0]), oids::PKCS_5_PBKDF2);
                let kdf_params = inside(kdf[1]);
                assert_eq!(kdf_params[0].content.len(), SALT_LEN);
                assert_eq!(int(kdf_params[1]), u64::from(ITERATIONS));
                assert_eq!(oid_of(inside(kdf_params[2])[0]), oids::HMAC_WITH_SHA_256);
                let scheme = inside(params[1]);
                assert_eq!(oid_of(scheme[0]), oids::AES_256_CBC);
                let iv = scheme[1].content;
                let key = pbkdf2_sha256(password, kdf_params[0].content, ITERATIONS);
                let decrypting = aws_lc_rs::cipher::PaddedBlockDecryptingKey::cbc_pkcs7(
                    UnboundCipherKey::new(&AES_256, key.as_slice()).unwrap(),
                )
                .unwrap();
                let mut buffer = ciphertext.to_vec();
                let iv: [u8; 16] = iv.try_into().unwrap();
                decrypting
                    .decrypt(
                        &mut buffer,
                        aws_lc_rs::cipher::DecryptionContext::Iv128(iv.into()),
                    )
                    .unwrap()
                    .to_vec()
            }
            oids::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC => {
                let params = inside(parts[1]);
                let salt = params[0].content;
                let iterations = u32::try_from(int(params[1])).unwrap();
                let bmp = bmp_password(password);
                let key = pkcs12_kdf(Hash::Sha1, &bmp, salt, 1, iterations, 24);
                let iv = pkcs12_kdf(Hash::Sha1, &bmp, salt, 2, iterations, 8);
                cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                    .unwrap()
                    .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
                    .unwrap()
            }
            other => panic!("unexpected encryption {other}"),
        }
    }

    fn bmp_text(t: Tlv<'_>) -> String {
        assert_eq!(t.tag, der::TAG_BMP_STRING);
        let units: Vec<u16> = t
            .content
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    /// (friendlyName, localKeyId) of a bag's attribute set.
    fn bag_attributes(set: Tlv<'_>) -> (String, Vec<u8>) {
        assert_eq!(set.tag, der::TAG_SET);
        let mut name = None;
        let mut id = None;
        for attr in inside(set) {
            let parts = inside(attr);
            let value = one(parts[1].content);
            match oid_of(parts[0]) {
                oids::PKCS_9_FRIENDLY_NAME => name = Some(bmp_text(value)),
                oids::PKCS_9_LOCAL_KEY_ID => id = Some(value.content.to_vec()),
                other => panic!("unexpected attribute {other}"),
            }
        }
        (name.unwrap(), id.unwrap())
    }

    #[test]
    fn kdf_matches_known_answers() {
        // Published PKCS#12 KDF vectors (password "smeg", salt 0A58CF64530D823F, one
        // iteration; also in OpenSSL's and Bouncy Castle's tests), and further ones computed
        // with `openssl kdf ... PKCS12KDF` from the BMP-encoded passwords.
        let smeg = bmp_password("smeg");
        let salt = hex::decode("0a58cf64530d823f").unwrap();
        assert_eq!(
            hex::encode(pkcs12_kdf(Hash::Sha1, &smeg, &salt, 1, 1, 24)),
            "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
        );
        assert_eq!(
            hex::encode(pkcs12_kdf(Hash::Sha1, &smeg, &salt, 2, 1, 8)),
            "79993dfe048d3b76"
        );
        let queeg = bmp_password("queeg");
        assert_eq!(
            hex::encode(pkcs12_kdf(
                Hash::Sha1,
                &queeg,
                &hex::decode("16828e6c9fc3c6c5").unwrap(),
                3,
                1000,
                20
            )),
            "92f9beb2d2c6460f17e505f7a16ce308db4b0da0"
        );
        assert_eq!(
            hex::encode(pkcs12_kdf(
                Hash::Sha256,
                &queeg,
                &hex::decode("05dec959acff72f7").unwrap(),
                3,
                1000,
                32
            )),
            "64bd552bb4ecec8224b888d4fa1dc49c6ff894bfc59b10402d83ad46c0d8da4b"
        );
        // A password longer than one 64-byte block, with non-ASCII characters, and two output
        // blocks (so I is updated between them).
        let long = bmp_password("correct horse battery staple, Grüße ü 日本");
        assert_eq!(long.len(), 2 * 40 + 2);
        assert_eq!(
            hex::encode(pkcs12_kdf(
                Hash::Sha256,
                &long,
                &(0u8..16).collect::<Vec<_>>(),
                1,
                3,
                48
            )),
            "7b4a6d8697b930c3a437e27a082da63c80482bf02d4381ac35615d58cd83af66\
             528b71a20e5c516c36c931bb74f1c732"
        );
    }

    #[test]
    fn bmp_password_is_utf16_with_a_terminator() {
        assert_eq!(*bmp_password(""), vec![0, 0]);
        assert_eq!(*bmp_password("aü"), vec![0, 0x61, 0, 0xfc, 0, 0]);
    }

    #[test]
    fn structure_of_both_suites() {
        let leaf = identity(
            KeyAlgorithm::Ecdsa(crate::pki::EcdsaCurve::P256),
            Some("leaf"),
        );
        let ca = identity(KeyAlgorithm::Ed25519, Some("Some CA"));
        for suite in Pkcs12Suite::ALL {
            let pfx = build(
                &leaf.cert_pem,
                std::slice::from_ref(&ca.cert_pem),
                &leaf.key,
                "s3cret",
                "Trainer",
                suite,
                &mut seeded(),
            )
            .unwrap();
            let top = inside(one(&pfx));
            assert_eq!(top.len(), 3);
            assert_eq!(int(top[0]), 3);
            let auth_info = inside(top[1]);
            assert_eq!(oid_of(auth_info[0]), oids::PKCS_7_DATA);
            let safes = inside(one(one(auth_info[1].content).content));
            assert_eq!(safes.len(), 2, "{suite}");

            // The certificates: encrypted, leaf first with the attributes, then the CA bare.
            let certs_info = inside(safes[0]);
            assert_eq!(oid_of(certs_info[0]), oids::PKCS_7_ENCRYPTED_DATA);
            let encrypted_data = inside(one(certs_info[1].content));
            assert_eq!(int(encrypted_data[0]), 0);
            let eci = inside(encrypted_data[1]);
            assert_eq!(oid_of(eci[0]), oids::PKCS_7_DATA);
            assert_eq!(eci[2].tag, 0x80);
            let cert_safe = decrypt(eci[1], "s3cret", eci[2].content);
            let bags = inside(one(&cert_safe));
            assert_eq!(bags.len(), 2);
            let mut cert_ders = Vec::new();
            for bag in &bags {
                let parts = inside(*bag);
                assert_eq!(oid_of(parts[0]), oids::PKCS_12_CERT_BAG);
                let cert_bag = inside(one(parts[1].content));
                assert_eq!(oid_of(cert_bag[0]), oids::PKCS_9_X509_CERTIFICATE);
                cert_ders.push(one(cert_bag[1].content).content.to_vec());
            }
            assert_eq!(cert_ders, vec![leaf.cert_der.clone(), ca.cert_der.clone()]);
            let local_key_id = Sha1::digest(&leaf.cert_der).to_vec();
            assert_eq!(
                bag_attributes(inside(bags[0])[2]),
                ("Trainer".to_string(), local_key_id.clone())
            );
            assert_eq!(
                inside(bags[1]).len(),
                2,
                "chain certificates have no attributes"
            );

            // The key: a plain data safe with one shrouded key bag, same attributes.
            let key_info = inside(safes[1]);
            assert_eq!(oid_of(key_info[0]), oids::PKCS_7_DATA);
            let key_bags = inside(one(one(key_info[1].content).content));
            assert_eq!(key_bags.len(), 1);
            let parts = inside(key_bags[0]);
            assert_eq!(oid_of(parts[0]), oids::PKCS_12_PKCS_8_SHROUDED_KEY_BAG);
            let epki = inside(one(parts[1].content));
            let expected_alg = match suite {
                Pkcs12Suite::Modern => oids::PKCS_5_PBES2,
                Pkcs12Suite::Legacy => oids::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC,
            };
            assert_eq!(oid_of(inside(epki[0])[0]), expected_alg);
            assert_eq!(oid_of(inside(eci[1])[0]), expected_alg);
            let pkcs8 = decrypt(epki[0], "s3cret", epki[1].content);
            assert_eq!(pkcs8, *leaf.key.pkcs8_der().unwrap());
            assert_eq!(
                bag_attributes(parts[2]),
                ("Trainer".to_string(), local_key_id)
            );

            // The MAC: right digest, iterations, salt length; verifies with the password only.
            let mac_data = inside(top[2]);
            let digest_info = inside(mac_data[0]);
            let (digest, len) = match suite {
                Pkcs12Suite::Modern => (oids::ID_SHA_256, 32),
                Pkcs12Suite::Legacy => (oids::ID_SHA_1, 20),
            };
            assert_eq!(oid_of(inside(digest_info[0])[0]), digest);
            assert_eq!(digest_info[1].content.len(), len);
            assert_eq!(mac_data[1].content.len(), SALT_LEN);
            assert_eq!(int(mac_data[2]), u64::from(ITERATIONS));
            assert!(mac_verifies(&pfx, "s3cret"), "{suite}");
            assert!(!mac_verifies(&pfx, "s3cret "), "{suite}");
            assert!(!mac_verifies(&pfx, "S3cret"), "{suite}");
            assert!(!mac_verifies(&pfx, ""), "{suite}");
        }
    }

    #[test]
    fn every_key_algorithm_round_trips() {
        for alg in ALL {
            let id = identity(alg, None);
            let pfx = pkcs12(&id.cert_pem, &[], &id.key, "pw", "x", Pkcs12Suite::Modern).unwrap();
            assert!(mac_verifies(&pfx, "pw"), "{alg}");
        }
    }

    #[test]
    fn salts_are_fresh_for_each_keystore() {
        let id = identity(KeyAlgorithm::Ed25519, None);
        let a = pkcs12(&id.cert_pem, &[], &id.key, "pw", "x", Pkcs12Suite::Modern).unwrap();
        let b = pkcs12(&id.cert_pem, &[], &id.key, "pw", "x", Pkcs12Suite::Modern).unwrap();
        assert_ne!(a, b);
        // And the seeded builder is deterministic, so nothing else varies.
        let run = || {
            build(
                &id.cert_pem,
                &[],
                &id.key,
                "pw",
                "x",
                Pkcs12Suite::Legacy,
                &mut seeded(),
            )
            .unwrap()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn empty_password_is_refused_for_legacy_only() {
        let id = identity(KeyAlgorithm::Ed25519, None);
        let err = pkcs12(&id.cert_pem, &[], &id.key, "", "x", Pkcs12Suite::Legacy).unwrap_err();
        assert!(matches!(err, PkiError::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("legacy"), "{err}");
        let pfx = pkcs12(&id.cert_pem, &[], &id.key, "", "x", Pkcs12Suite::Modern).unwrap();
        assert!(mac_verifies(&pfx, ""));
        assert!(!mac_verifies(&pfx, "x"));
    }

    #[test]
    fn bad_inputs_are_refused_without_echoing_secrets() {
        let id = identity(KeyAlgorithm::Ecdsa(crate::pki::EcdsaCurve::P256), Some("a"));
        let other = identity(KeyAlgorithm::Ecdsa(crate::pki::EcdsaCurve::P256), Some("b"));
        let password = "hunter2-very-secret";
        let key_line = id
            .key
            .to_pkcs8_pem()
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .to_string();
        let cases: Vec<(Result<Vec<u8>>, &str)> = vec![
            (
                pkcs12(
                    &id.cert_pem,
                    &[],
                    &other.key,
                    password,
                    "x",
                    Pkcs12Suite::Modern,
                ),
                "does not belong",
            ),
            (
                pkcs12(
                    &id.cert_pem,
                    &[],
                    &id.key,
                    password,
                    "",
                    Pkcs12Suite::Modern,
                ),
                "must not be empty",
            ),
            (
                pkcs12(
                    &id.cert_pem,
                    &[],
                    &id.key,
                    password,
                    "key 🔑",
                    Pkcs12Suite::Modern,
                ),
                "Basic Multilingual Plane",
            ),
            (
                pkcs12(
                    &id.cert_pem,
                    &["not a pem".to_string()],
                    &id.key,
                    password,
                    "x",
                    Pkcs12Suite::Modern,
                ),
                "chain entry 0",
            ),
            (
                pkcs12(
                    &id.cert_pem,
                    &[other.cert_pem.clone(), id.key.to_pkcs8_pem().unwrap()],
                    &id.key,
                    password,
                    "x",
                    Pkcs12Suite::Modern,
                ),
                "chain entry 1",
            ),
            (
                pkcs12(
                    &format!("{}{}", id.cert_pem, other.cert_pem),
                    &[],
                    &id.key,
                    password,
                    "x",
                    Pkcs12Suite::Modern,
                ),
                "exactly one certificate",
            ),
        ];
        for (result, needle) in cases {
            let message = result.unwrap_err().to_string();
            assert!(message.contains(needle), "{message}");
            assert!(!message.contains(password), "{message}");
            assert!(!message.contains(&key_line), "{message}");
        }
        // A different key of another algorithm is refused too.
        let ed = identity(KeyAlgorithm::Ed25519, None);
        assert!(check_key_matches_cert(&id.cert_pem, &ed.key).is_err());
        assert!(check_key_matches_cert(&id.cert_pem, &id.key).is_ok());
    }

    #[test]
    fn chain_entries_may_hold_several_certificates() {
        let id = identity(KeyAlgorithm::Ed25519, None);
        let a = identity(KeyAlgorithm::Ed25519, Some("a"));
        let b = identity(KeyAlgorithm::Ed25519, Some("b"));
        let bundle = format!("{}{}", a.cert_pem, b.cert_pem);
        let pfx = pkcs12(
            &id.cert_pem,
            &[bundle],
            &id.key,
            "pw",
            "x",
            Pkcs12Suite::Modern,
        );
        assert!(pfx.is_ok());
    }

    #[test]
    fn default_friendly_name_is_the_common_name() {
        let named = identity(KeyAlgorithm::Ed25519, Some("trainer.ml"));
        assert_eq!(
            pkcs12_default_friendly_name(&named.cert_pem).unwrap(),
            "trainer.ml"
        );
        let unnamed = identity(KeyAlgorithm::Ed25519, None);
        assert_eq!(
            pkcs12_default_friendly_name(&unnamed.cert_pem).unwrap(),
            "identity"
        );
    }

    #[test]
    fn oids_outside_the_registry_have_their_dotted_values() {
        assert_eq!(oids::PKCS_5_PBES2.to_string(), "1.2.840.113549.1.5.13");
        assert_eq!(
            oids::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC.to_string(),
            "1.2.840.113549.1.12.1.3"
        );
        assert_eq!(
            oids::PKCS_12_CERT_BAG.to_string(),
            "1.2.840.113549.1.12.10.1.3"
        );
        assert_eq!(
            oids::PKCS_9_LOCAL_KEY_ID.to_string(),
            "1.2.840.113549.1.9.21"
        );
    }

    #[test]
    fn suite_names_parse() {
        assert_eq!(
            "modern".parse::<Pkcs12Suite>().unwrap(),
            Pkcs12Suite::Modern
        );
        assert_eq!(
            "legacy".parse::<Pkcs12Suite>().unwrap(),
            Pkcs12Suite::Legacy
        );
        let err = "Modern".parse::<Pkcs12Suite>().unwrap_err().to_string();
        assert!(err.contains("modern, legacy"), "{err}");
        assert_eq!(Pkcs12Suite::default(), Pkcs12Suite::Modern);
    }
}
