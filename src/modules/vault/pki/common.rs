//! The skeleton the PKI resources share: the checks of what they ask Vault to make, the create
//! that posts one request and keeps the answer, the reads that ask whether it still exists, the
//! mount probe, and the certificate chain outputs.

use crate::modules::Ctx;
use crate::modules::vault::client::{VaultClient, VaultError, VaultRequest};
use crate::modules::vault::{
    check_backend_path, check_choice, check_duration, clean_path, list, text,
};
use crate::typed::{Failures, ResourceError, Value};
use serde_json::Value as Json;

pub use crate::modules::backend::known_str;

/// The encodings Vault issues certificates and keys in.
pub const FORMATS: [&str; 3] = ["pem", "der", "pem_bundle"];
pub const KEY_FORMATS: [&str; 2] = ["der", "pkcs8"];

/// The inputs every resource that asks Vault for a certificate, key or request checks alike.
/// Fields a resource does not have are `None`.
pub struct IssueFields<'a> {
    pub backend: &'a mut Value<String>,
    pub common_name: &'a Value<String>,
    pub ttl: Option<&'a Value<String>>,
    pub format: Option<&'a Value<String>>,
    pub private_key_format: Option<&'a Value<String>>,
}

/// Check the mount path (and clean it), the common name, the lifetime and the formats.
pub fn check_issue_fields(fields: IssueFields<'_>, failures: &mut Failures) {
    check_backend_path(fields.backend, "backend", failures);
    if let Value::Known(b) = fields.backend {
        *b = clean_path(b);
    }
    if let Value::Known(cn) = fields.common_name
        && cn.trim().is_empty()
    {
        failures.at("commonName", "must not be empty");
    }
    check_duration(fields.ttl, "ttl", failures);
    check_choice(fields.format, "format", &FORMATS, failures);
    check_choice(
        fields.private_key_format,
        "privateKeyFormat",
        &KEY_FORMATS,
        failures,
    );
}

/// Post the request that has Vault make something and keep the answer: the outputs built from
/// its `data`, and the value of `key` there, which names what was made. An answer without it
/// is an error naming the request.
pub async fn issue<O>(
    ctx: &Ctx,
    request: &VaultRequest,
    key: &str,
    outputs: impl FnOnce(&Json) -> O,
) -> Result<(O, String), ResourceError> {
    let vault = ctx.config().vault().await?;
    let data = vault.write(ctx, request).await?;
    let Some(made) = text(&data, key).filter(|v| !v.is_empty()) else {
        return Err(ResourceError::backend(
            request.describe(),
            format!("Vault returned no {key}"),
        ));
    };
    Ok((outputs(&data), made))
}

/// Whether the certificate at `path` (a `<mount>/cert/<serial>` id) is still valid in Vault: it
/// goes with its mount, when tidied after expiry, or when revoked (as `revoke` does on destroy).
pub async fn certificate_known(
    ctx: &Ctx,
    path: &str,
    namespace: Option<&str>,
) -> Result<bool, ResourceError> {
    let vault = ctx.config().vault().await?;
    let live = vault
        .read(ctx, &VaultRequest::get(path).in_namespace(namespace))
        .await?;
    Ok(live.is_some_and(|l| {
        text(&l, "certificate").is_some_and(|c| !c.is_empty())
            && l.get("revocation_time").and_then(Json::as_i64).unwrap_or(0) == 0
    }))
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
    vault
        .remove(
            ctx,
            &super::cert::revoke_request(backend, serial, namespace),
        )
        .await
        .map_err(Into::into)
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
        assert!(err(404, "").is_gone());
        assert!(err(400, "no handler for route \"pki/config/urls\"").is_gone());
        assert!(err(500, "unable to find issuer").is_gone());
        assert!(!err(403, "permission denied").is_gone());
        assert!(mount_missing(&err(400, "no secret engine mount at pki/")));
        assert!(!mount_missing(&err(403, "permission denied")));
        let r = mount_request("/pki/", Some("team"));
        assert_eq!(r.path, "sys/mounts/pki");
        assert_eq!(r.namespace.as_deref(), Some("team"));
    }
}
