//! ACM Private CA: certificate authorities, their activation, issued certificates, resource
//! policies and permissions, in pulumi-aws v7 shapes.

pub mod ca_certificate;
pub mod certificate;
pub mod certificate_authority;
pub mod permission;
pub mod policy;

use crate::codec::PropertyPath;
use crate::modules::Registry;
use crate::typed::{Failures, Value};
use sha2::{Digest, Sha256};

pub fn register(registry: Registry) -> Registry {
    registry
        .resource(certificate_authority::CertificateAuthority)
        .resource(ca_certificate::CertificateAuthorityCertificate)
        .resource(certificate::Certificate)
        .resource(policy::Policy)
        .resource(permission::Permission)
}

/// Key algorithms ACM PCA accepts for a CA key.
pub const KEY_ALGORITHMS: [&str; 6] = [
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "SM2",
];
/// Signing algorithms ACM PCA accepts.
pub const SIGNING_ALGORITHMS: [&str; 7] = [
    "SHA256WITHECDSA",
    "SHA384WITHECDSA",
    "SHA512WITHECDSA",
    "SHA256WITHRSA",
    "SHA384WITHRSA",
    "SHA512WITHRSA",
    "SM3WITHSM2",
];

/// Whether a signing algorithm can be used with a key algorithm.
pub fn signing_fits_key(signing: &str, key: &str) -> bool {
    if key.starts_with("RSA_") {
        signing.ends_with("WITHRSA")
    } else if key.starts_with("EC_") {
        signing.ends_with("WITHECDSA")
    } else {
        signing == "SM3WITHSM2"
    }
}

/// Check a known string against a closed set, reporting at `path`.
pub fn check_one_of(
    value: Option<&Value<String>>,
    path: PropertyPath,
    allowed: &[&str],
    failures: &mut Failures,
) {
    if let Some(Value::Known(v)) = value
        && !allowed.contains(&v.as_str())
    {
        failures.add(
            path,
            format!(
                "unknown value {v:?}; expected one of {}",
                allowed.join(", ")
            ),
        );
    }
}

/// Why `arn` is not the ARN of an ACM PCA certificate authority, if it is not one:
/// `arn:<partition>:acm-pca:<region>:<12-digit account>:certificate-authority/<id>`.
pub fn ca_arn_problem(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let expected = "arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>";
    if parts.len() != 6 || parts[0] != "arn" {
        return Some(format!("{arn:?} is not an ARN; expected {expected}"));
    }
    if parts[2] != "acm-pca" {
        return Some(format!(
            "{arn:?} is an ARN of service {:?}, not an ACM PCA certificate authority",
            parts[2]
        ));
    }
    if parts[1].is_empty() || parts[3].is_empty() {
        return Some(format!(
            "{arn:?} lacks a partition or region; expected {expected}"
        ));
    }
    if parts[4].len() != 12 || !parts[4].bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "{arn:?} has no 12-digit account id; expected {expected}"
        ));
    }
    match parts[5].strip_prefix("certificate-authority/") {
        Some(id)
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            None
        }
        _ => Some(format!(
            "{arn:?} does not name a certificate authority; expected {expected}"
        )),
    }
}

/// Report an invalid CA ARN at `key`.
pub fn check_ca_arn(value: &Value<String>, key: &str, failures: &mut Failures) {
    if let Value::Known(arn) = value
        && let Some(problem) = ca_arn_problem(arn)
    {
        failures.at(key, problem);
    }
}

/// An idempotency token for one create: every retry inside that create sends the same token,
/// so a request whose answer was lost cannot make a second CA or certificate; a later create
/// (a replacement, even with the same inputs, or a destroy followed by an up) draws a new
/// `nonce`, so AWS never hands back the CA or certificate it is about to replace. ACM PCA takes
/// up to 36 word characters.
pub fn idempotency_token(urn: &str, inputs: &impl serde::Serialize, nonce: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(urn.as_bytes());
    hasher.update([0]);
    hasher.update(nonce.to_be_bytes());
    hasher.update(serde_json::to_vec(inputs).unwrap_or_default());
    hex::encode(hasher.finalize())[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_arns_are_recognised() {
        let good = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012";
        assert_eq!(ca_arn_problem(good), None);
        for bad in [
            "",
            "not-an-arn",
            "arn:aws:s3:::bucket",
            "arn:aws:acm-pca:us-east-1:123:certificate-authority/x",
            "arn:aws:acm-pca:us-east-1:123456789012:certificate/x",
            "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/",
            "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/a/certificate/b",
        ] {
            assert!(ca_arn_problem(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn signing_algorithms_must_fit_the_key() {
        assert!(signing_fits_key("SHA256WITHRSA", "RSA_2048"));
        assert!(!signing_fits_key("SHA256WITHECDSA", "RSA_2048"));
        assert!(signing_fits_key("SHA384WITHECDSA", "EC_secp384r1"));
        assert!(!signing_fits_key("SHA512WITHRSA", "EC_prime256v1"));
        assert!(signing_fits_key("SM3WITHSM2", "SM2"));
    }

    #[test]
    fn idempotency_tokens_follow_urn_inputs_and_nonce() {
        let a = idempotency_token("urn:a", &serde_json::json!({"k": 1}), 7);
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            idempotency_token("urn:a", &serde_json::json!({"k": 1}), 7)
        );
        assert_ne!(
            a,
            idempotency_token("urn:a", &serde_json::json!({"k": 1}), 8)
        );
        assert_ne!(
            a,
            idempotency_token("urn:a", &serde_json::json!({"k": 2}), 7)
        );
        assert_ne!(
            a,
            idempotency_token("urn:b", &serde_json::json!({"k": 1}), 7)
        );
    }
}
