//! Signature verification for requests and certificates, with RustCrypto.
//!
//! x509-parser's own verifier lacks P-521 and ECDSA-SHA512, which Go (and so pulumi-tls) uses for
//! P-521 keys, so requests are checked here instead. Supported: RSA PKCS#1 v1.5 with SHA-1/224/
//! 256/384/512, RSA-PSS with SHA-256/384/512, ECDSA on P-256/P-384/P-521 with SHA-1/224/256/384/
//! 512, and Ed25519.

use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use super::der;
use super::keys::EcdsaCurve;
use super::oids::{self, Oid};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(msg).to_vec(),
            Hash::Sha224 => Sha224::digest(msg).to_vec(),
            Hash::Sha256 => Sha256::digest(msg).to_vec(),
            Hash::Sha384 => Sha384::digest(msg).to_vec(),
            Hash::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }

    fn oid(self) -> Oid {
        match self {
            Hash::Sha1 => oids::ID_SHA_1,
            Hash::Sha224 => oids::ID_SHA_224,
            Hash::Sha256 => oids::ID_SHA_256,
            Hash::Sha384 => oids::ID_SHA_384,
            Hash::Sha512 => oids::ID_SHA_512,
        }
    }

    fn from_oid(oid: Oid) -> Option<Hash> {
        [
            Hash::Sha1,
            Hash::Sha224,
            Hash::Sha256,
            Hash::Sha384,
            Hash::Sha512,
        ]
        .into_iter()
        .find(|h| h.oid() == oid)
    }
}

/// A signature algorithm, as far as verification and naming are concerned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SigAlg {
    RsaPkcs1(Hash),
    RsaPss(Hash, usize),
    Ecdsa(Hash),
    Ed25519,
}

/// The signature algorithms Go reads, with their verification scheme where we verify them
/// (RSA-PSS takes its hash from its parameters) and the name Go's `SignatureAlgorithm.String()`
/// prints.
const SIGNATURE_ALGORITHMS: [(Oid, Option<SigAlg>, &str); 17] = [
    (oids::MD_2_WITH_RSA_ENCRYPTION, None, "MD2-RSA"),
    (oids::MD_5_WITH_RSA_ENCRYPTION, None, "MD5-RSA"),
    (
        oids::SHA_1_WITH_RSA_ENCRYPTION,
        Some(SigAlg::RsaPkcs1(Hash::Sha1)),
        "SHA1-RSA",
    ),
    (
        oids::OIW_SHA_1_WITH_RSA,
        Some(SigAlg::RsaPkcs1(Hash::Sha1)),
        "SHA1-RSA",
    ),
    // Go has no name for SHA-224 with RSA; it prints the enum value.
    (
        oids::SHA_224_WITH_RSA_ENCRYPTION,
        Some(SigAlg::RsaPkcs1(Hash::Sha224)),
        "0",
    ),
    (
        oids::SHA_256_WITH_RSA_ENCRYPTION,
        Some(SigAlg::RsaPkcs1(Hash::Sha256)),
        "SHA256-RSA",
    ),
    (
        oids::SHA_384_WITH_RSA_ENCRYPTION,
        Some(SigAlg::RsaPkcs1(Hash::Sha384)),
        "SHA384-RSA",
    ),
    (
        oids::SHA_512_WITH_RSA_ENCRYPTION,
        Some(SigAlg::RsaPkcs1(Hash::Sha512)),
        "SHA512-RSA",
    ),
    (oids::ID_RSASSA_PSS, None, "RSAPSS"),
    (oids::DSA_WITH_SHA_1, None, "DSA-SHA1"),
    (oids::DSA_WITH_SHA_256, None, "DSA-SHA256"),
    (
        oids::ECDSA_WITH_SHA_1,
        Some(SigAlg::Ecdsa(Hash::Sha1)),
        "ECDSA-SHA1",
    ),
    // Likewise unnamed in Go.
    (
        oids::ECDSA_WITH_SHA_224,
        Some(SigAlg::Ecdsa(Hash::Sha224)),
        "0",
    ),
    (
        oids::ECDSA_WITH_SHA_256,
        Some(SigAlg::Ecdsa(Hash::Sha256)),
        "ECDSA-SHA256",
    ),
    (
        oids::ECDSA_WITH_SHA_384,
        Some(SigAlg::Ecdsa(Hash::Sha384)),
        "ECDSA-SHA384",
    ),
    (
        oids::ECDSA_WITH_SHA_512,
        Some(SigAlg::Ecdsa(Hash::Sha512)),
        "ECDSA-SHA512",
    ),
    (oids::ID_ED_25519, Some(SigAlg::Ed25519), "Ed25519"),
];

/// The table row of a signature algorithm identifier.
fn signature_row(
    alg: &AlgorithmIdentifier<'_>,
) -> Option<&'static (Oid, Option<SigAlg>, &'static str)> {
    let oid = oids::from_parsed(&alg.algorithm)?;
    SIGNATURE_ALGORITHMS
        .iter()
        .find(|(known, _, _)| *known == oid)
}

/// RSA-PSS with the hash and salt length of its parameters.
fn rsa_pss(alg: &AlgorithmIdentifier<'_>) -> Option<SigAlg> {
    let params = alg.parameters.as_ref()?;
    let pss = x509_parser::signature_algorithm::RsaSsaPssParams::try_from(params).ok()?;
    let hash = Hash::from_oid(oids::from_parsed(pss.hash_algorithm_oid())?)?;
    Some(SigAlg::RsaPss(
        hash,
        usize::try_from(pss.salt_length()).ok()?,
    ))
}

/// Identifies a signature algorithm; `None` when unknown or unsupported.
pub(crate) fn classify(alg: &AlgorithmIdentifier<'_>) -> Option<SigAlg> {
    let (oid, scheme, _) = signature_row(alg)?;
    if *oid == oids::ID_RSASSA_PSS {
        return rsa_pss(alg);
    }
    *scheme
}

/// Left-pads a digest that is shorter than the curve's field so ECDSA uses its full value.
fn pad_prehash(digest: &[u8], field_len: usize) -> Vec<u8> {
    if digest.len() >= field_len {
        return digest.to_vec();
    }
    let mut out = vec![0u8; field_len - digest.len()];
    out.extend_from_slice(digest);
    out
}

/// Verifies `signature` over `message` with the key in `spki`. The error text says what failed.
pub(crate) fn verify(
    spki: &SubjectPublicKeyInfo<'_>,
    alg: &AlgorithmIdentifier<'_>,
    signature: &[u8],
    message: &[u8],
) -> Result<(), String> {
    let sig_alg = classify(alg).ok_or_else(|| {
        format!(
            "signature algorithm {} is not supported",
            alg.algorithm.to_id_string()
        )
    })?;
    let key_alg = oids::from_parsed(&spki.algorithm.algorithm);
    let key_bits: &[u8] = spki.subject_public_key.data.as_ref();
    let mismatch = || "the signature algorithm does not match the public key type".to_string();
    let bad = || "signature does not verify".to_string();
    match sig_alg {
        SigAlg::RsaPkcs1(hash) | SigAlg::RsaPss(hash, _) => {
            if key_alg != Some(oids::RSA_ENCRYPTION) {
                return Err(mismatch());
            }
            use rsa::pkcs1::DecodeRsaPublicKey as _;
            let key = rsa::RsaPublicKey::from_pkcs1_der(key_bits)
                .map_err(|e| format!("invalid RSA public key: {e}"))?;
            let digest = hash.digest(message);
            let result = if let SigAlg::RsaPss(_, salt) = sig_alg {
                let scheme = match hash {
                    Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
                    Hash::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
                    Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
                    _ => return Err("RSA-PSS with this hash is not supported".into()),
                };
                key.verify(scheme, &digest, signature)
            } else {
                // PKCS#1 v1.5: EM = 00 01 FF.. 00 || DigestInfo; the prefix is DigestInfo
                // without the digest bytes.
                let digest_info = der::sequence(&[
                    &der::sequence(&[&der::oid(&hash.oid()), &der::null()]),
                    &der::octet_string(&digest),
                ]);
                let prefix = &digest_info[..digest_info.len() - digest.len()];
                let scheme = rsa::Pkcs1v15Sign {
                    hash_len: Some(digest.len()),
                    prefix: prefix.to_vec().into_boxed_slice(),
                };
                key.verify(scheme, &digest, signature)
            };
            result.map_err(|_| bad())
        }
        SigAlg::Ecdsa(hash) => {
            if key_alg != Some(oids::ID_EC_PUBLIC_KEY) {
                return Err(mismatch());
            }
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .and_then(|o| oids::from_parsed(&o))
                .ok_or_else(|| "EC public key does not name its curve".to_string())?;
            let curve = EcdsaCurve::from_oid(&curve).map_err(|e| e.to_string())?;
            let digest = hash.digest(message);
            use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
            match curve {
                EcdsaCurve::P256 => {
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                        .map_err(|_| "invalid P-256 public key".to_string())?;
                    let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
                    key.verify_prehash(&pad_prehash(&digest, 32), &sig)
                        .map_err(|_| bad())
                }
                EcdsaCurve::P384 => {
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                        .map_err(|_| "invalid P-384 public key".to_string())?;
                    let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
                    key.verify_prehash(&pad_prehash(&digest, 48), &sig)
                        .map_err(|_| bad())
                }
                EcdsaCurve::P521 => {
                    let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                        .map_err(|_| "invalid P-521 public key".to_string())?;
                    let sig = p521::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
                    key.verify_prehash(&pad_prehash(&digest, 66), &sig)
                        .map_err(|_| bad())
                }
            }
        }
        SigAlg::Ed25519 => {
            if key_alg != Some(oids::ID_ED_25519) {
                return Err(mismatch());
            }
            use ed25519_dalek::Verifier as _;
            let bytes: [u8; 32] = key_bits
                .try_into()
                .map_err(|_| "invalid Ed25519 public key".to_string())?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| "invalid Ed25519 public key".to_string())?;
            let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
            key.verify(message, &sig).map_err(|_| bad())
        }
    }
}

/// Go's `x509.SignatureAlgorithm.String()` for a signature algorithm identifier.
pub(crate) fn go_signature_algorithm_name(alg: &AlgorithmIdentifier<'_>) -> String {
    let name = match signature_row(alg) {
        Some((oid, _, _)) if *oid == oids::ID_RSASSA_PSS => match rsa_pss(alg) {
            Some(SigAlg::RsaPss(Hash::Sha256, _)) => "SHA256-RSAPSS",
            Some(SigAlg::RsaPss(Hash::Sha384, _)) => "SHA384-RSAPSS",
            Some(SigAlg::RsaPss(Hash::Sha512, _)) => "SHA512-RSAPSS",
            _ => "0",
        },
        Some((_, _, name)) => name,
        // Go prints unknown algorithms as their enum value, 0.
        None => "0",
    };
    name.to_string()
}

/// Go's `x509.PublicKeyAlgorithm.String()` for a public key.
pub(crate) fn go_public_key_algorithm_name(spki: &SubjectPublicKeyInfo<'_>) -> String {
    let name = match oids::from_parsed(&spki.algorithm.algorithm) {
        Some(oids::RSA_ENCRYPTION) => "RSA",
        Some(oids::ID_DSA) => "DSA",
        Some(oids::ID_EC_PUBLIC_KEY) => "ECDSA",
        Some(oids::ID_ED_25519) => "Ed25519",
        _ => "0",
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prehash_padding() {
        assert_eq!(pad_prehash(&[1, 2], 4), vec![0, 0, 1, 2]);
        assert_eq!(pad_prehash(&[1, 2, 3, 4, 5], 4), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn digest_info_prefix_for_sha256_is_standard() {
        let digest = [0u8; 32];
        let di = der::sequence(&[
            &der::sequence(&[&der::oid(&Hash::Sha256.oid()), &der::null()]),
            &der::octet_string(&digest),
        ]);
        assert_eq!(
            hex::encode(&di[..di.len() - 32]),
            "3031300d060960864801650304020105000420"
        );
    }
}
