//! `vault/pkiSecret`: the PKI secrets engine's issuers, roles and certificates.

pub mod cert;
pub mod common;
pub mod config_urls;
pub mod crl_config;
pub mod intermediate_cert_request;
pub mod intermediate_set_signed;
pub mod role;
pub mod root_cert;
pub mod root_sign_intermediate;
pub mod sign;

use crate::modules::Registry;
use crate::typed::{Failures, Value};

pub fn register(registry: Registry) -> Registry {
    registry
        .resource(root_cert::SecretBackendRootCert)
        .resource(role::SecretBackendRole)
        .resource(cert::SecretBackendCert)
        .resource(intermediate_cert_request::SecretBackendIntermediateCertRequest)
        .resource(root_sign_intermediate::SecretBackendRootSignIntermediate)
        .resource(intermediate_set_signed::SecretBackendIntermediateSetSigned)
        .resource(sign::SecretBackendSign)
        .resource(config_urls::SecretBackendConfigUrls)
        .resource(crl_config::SecretBackendCrlConfig)
}

/// Key types Vault generates.
pub const KEY_TYPES: [&str; 3] = ["rsa", "ec", "ed25519"];

/// Check `keyType` and `keyBits` together (0 means the type's default).
pub fn check_key(
    key_type: Option<&Value<String>>,
    key_bits: Option<&Value<i64>>,
    allowed: &[&str],
    failures: &mut Failures,
) {
    super::check_choice(key_type, "keyType", allowed, failures);
    let (Some(Value::Known(t)), Some(Value::Known(bits))) = (key_type, key_bits) else {
        return;
    };
    let ok = match t.as_str() {
        "rsa" => [0, 2048, 3072, 4096, 8192].contains(bits),
        "ec" => [0, 224, 256, 384, 521].contains(bits),
        "ed25519" => *bits == 0,
        _ => true,
    };
    if !ok {
        failures.at(
            "keyBits",
            format!("{bits} bits is not a size Vault makes {t} keys in"),
        );
    }
}

/// The request body fields every issuing call shares are the inputs themselves; these list
/// inputs go to Vault as comma-separated strings.
pub const COMMA_JOINED: [&str; 4] = ["altNames", "ipSans", "uriSans", "otherSans"];

/// Seconds since the Unix epoch, as Vault reports `expiration`.
pub fn now_unix(now: time::OffsetDateTime) -> i64 {
    now.unix_timestamp()
}
