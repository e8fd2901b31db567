//! What the CA-chain resources (intermediate request, signing, import, mount configuration)
//! share: the namespace of a resource, "is it gone" answers, the mount probe, and the
//! certificate chain outputs.

use crate::modules::Ctx;
use crate::modules::vault::client::{VaultClient, VaultError, VaultRequest};
use crate::modules::vault::{clean_path, list, text};
use crate::typed::{ResourceError, Value};
use serde_json::Value as Json;

pub use crate::modules::backend::known_str;

/// Whether Vault's error says the path (or the mount under it) does not exist. Vault answers a
/// path under no mount with 404 "no handler for route"; some versions answer a missing issuer
/// with 400 or 500 "unable to find".
pub fn gone(e: &VaultError) -> bool {
    e.is_not_found() || e.message.contains("no handler") || e.message.contains("unable to find")
}

/// The request that reads a mount's configuration.
pub fn mount_request(backend: &str, namespace: Option<&str>) -> VaultRequest {
    VaultRequest::get(format!("sys/mounts/{}", clean_path(backend))).in_namespace(namespace)
}

/// Whether a mount's configuration answer means there is no such mount: Vault answers 400
/// ("no secret engine mount at ...") rather than 404 for a path with nothing mounted.
pub fn mount_missing(e: &VaultError) -> bool {
    matches!(e.status, Some(400) | Some(404))
}

/// Whether the mount at `backend` still exists.
pub async fn mount_exists(
    ctx: &Ctx,
    vault: &VaultClient,
    backend: &str,
    namespace: Option<&str>,
) -> Result<bool, ResourceError> {
    match vault.send(ctx, &mount_request(backend, namespace)).await {
        Ok(_) => Ok(true),
        Err(e) if mount_missing(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The chain above a signed certificate: Vault's `ca_chain` when it gives one, else the issuing
/// CA alone (older versions leave `ca_chain` out).
pub fn ca_chain(data: &Json) -> Vec<String> {
    let chain = list(data, "ca_chain");
    if !chain.is_empty() {
        return chain;
    }
    text(data, "issuing_ca")
        .filter(|ca| !ca.trim().is_empty())
        .map(|ca| vec![ca])
        .unwrap_or_default()
}

/// Whether `format` (unset: Vault's default, `pem`) gives PEM text.
pub fn is_pem_format(format: Option<&str>) -> bool {
    matches!(format, None | Some("pem") | Some("pem_bundle"))
}

/// The certificate followed by its issuing CA, each PEM block once, for PEM formats; empty for
/// `der`, whose base64 blobs cannot be concatenated into anything a TLS stack reads.
pub fn certificate_bundle(certificate: &str, issuing_ca: &str, format: Option<&str>) -> String {
    if !is_pem_format(format) {
        return String::new();
    }
    // Vault produced this text; a part that does not parse is left out rather than failing a
    // certificate that was already issued.
    crate::pki::framing::bundle(&[certificate, issuing_ca])
}

/// Revoke an issued certificate on destroy when the resource asks for it (`revoke`). A mount
/// that is already gone took the certificate with it.
pub async fn revoke_if_asked(
    ctx: &Ctx,
    revoke: &Option<Value<bool>>,
    backend: &Value<String>,
    serial: &Value<String>,
    namespace: Option<&str>,
) -> Result<(), ResourceError> {
    let asked = revoke
        .as_ref()
        .and_then(Value::known)
        .copied()
        .unwrap_or(false);
    let (Value::Known(backend), Value::Known(serial)) = (backend, serial) else {
        return Ok(());
    };
    if !asked || serial.is_empty() {
        return Ok(());
    }
    let vault = ctx.config().vault().await?;
    match vault
        .send(
            ctx,
            &super::cert::revoke_request(backend, serial, namespace),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// Two distinct, syntactically valid PEM blocks (the contents need not be certificates).
    pub(crate) const LEAF: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
    pub(crate) const CA: &str = "-----BEGIN CERTIFICATE-----\nBAUG\n-----END CERTIFICATE-----\n";

    /// A real CSR with `dns` as its DNS SANs, for checks that parse it.
    pub(crate) fn csr(dns: &[&str]) -> String {
        use crate::pki::{
            EcdsaCurve, KeyAlgorithm, Subject, create_csr, generate_key, parse_private_key,
        };
        let material =
            generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap_or_else(|e| panic!("{e}"));
        let key = parse_private_key(&material.private_key_pem).unwrap_or_else(|e| panic!("{e}"));
        let subject = Subject {
            common_name: Some("csr.example.com".into()),
            ..Default::default()
        };
        let names: Vec<String> = dns.iter().map(|d| d.to_string()).collect();
        create_csr(&key, &subject, &names, &[], &[])
            .unwrap_or_else(|e| panic!("{e}"))
            .csr_pem
    }

    #[test]
    fn bundle_is_certificate_then_ca_without_repeats() {
        assert_eq!(certificate_bundle(LEAF, CA, None), format!("{LEAF}{CA}"));
        // `pem_bundle` already appends the CA to the certificate.
        let bundled = format!("{LEAF}{CA}");
        assert_eq!(
            certificate_bundle(&bundled, CA, Some("pem_bundle")),
            bundled
        );
        assert_eq!(certificate_bundle("MIIB", "MIIC", Some("der")), "");
        assert_eq!(certificate_bundle(LEAF, "", Some("pem")), LEAF);
    }

    #[test]
    fn chain_falls_back_to_the_issuing_ca() {
        assert_eq!(
            ca_chain(&json!({"ca_chain": ["a", "b"], "issuing_ca": "a"})),
            vec!["a", "b"]
        );
        assert_eq!(ca_chain(&json!({"issuing_ca": "a"})), vec!["a"]);
        assert!(ca_chain(&json!({"issuing_ca": ""})).is_empty());
    }

    #[test]
    fn gone_and_missing_mounts() {
        let err = |status, message: &str| VaultError {
            request: "GET /v1/x".into(),
            status: Some(status),
            message: message.into(),
            interrupted: None,
        };
        assert!(gone(&err(404, "")));
        assert!(gone(&err(400, "no handler for route \"pki/config/urls\"")));
        assert!(!gone(&err(403, "permission denied")));
        assert!(mount_missing(&err(400, "no secret engine mount at pki/")));
        assert!(!mount_missing(&err(403, "permission denied")));
        let r = mount_request("/pki/", Some("team"));
        assert_eq!(r.path, "sys/mounts/pki");
        assert_eq!(r.namespace.as_deref(), Some("team"));
    }
}
