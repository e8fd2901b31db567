//! `zerotrust:tls:getPublicKey` and `zerotrust:tls:getCertificate`, as pulumi-tls.

use crate::modules::{Ctx, ProviderConfig};
use crate::pki;
use crate::typed::{Failures, Function, ResourceError, Secret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::sync::Arc;

pub struct GetPublicKey;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetPublicKeyArgs {
    /// The private key (in PEM (RFC 1421) format) to extract the public key from. Exactly one
    /// of `privateKeyPem` and `privateKeyOpenssh` must be given.
    #[serde(default)]
    pub private_key_pem: Option<Secret<String>>,
    /// The private key (in OpenSSH PEM (RFC 4716) format) to extract the public key from.
    #[serde(default)]
    pub private_key_openssh: Option<Secret<String>>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetPublicKeyResult {
    /// The name of the algorithm used by the given private key: `RSA`, `ECDSA` or `ED25519`.
    pub algorithm: String,
    /// Unique identifier for this data source: hexadecimal representation of the SHA1 checksum
    /// of the data source.
    pub id: String,
    /// The private key given, in PEM format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_pem: Option<Secret<String>>,
    /// The private key given, in OpenSSH format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_openssh: Option<Secret<String>>,
    /// The public key, in PEM (RFC 1421) format.
    pub public_key_pem: String,
    /// The public key, in "Authorized Keys" format.
    pub public_key_openssh: String,
    /// The fingerprint of the public key data in OpenSSH MD5 hash format.
    pub public_key_fingerprint_md5: String,
    /// The fingerprint of the public key data in OpenSSH SHA256 hash format.
    pub public_key_fingerprint_sha256: String,
}

impl Function<ProviderConfig> for GetPublicKey {
    type Args = GetPublicKeyArgs;
    type Result = GetPublicKeyResult;
    const TOKEN: &'static str = "zerotrust:tls:getPublicKey";
    const DESCRIPTION: &'static str = "Get a public key from a PEM-encoded or OpenSSH-encoded private key. The key is read locally; nothing is sent anywhere.";

    fn check(&self, args: &GetPublicKeyArgs, failures: &mut Failures) {
        match (&args.private_key_pem, &args.private_key_openssh) {
            (Some(_), Some(_)) => failures.at(
                "privateKeyOpenssh",
                "give either privateKeyPem or privateKeyOpenssh, not both",
            ),
            (None, None) => failures.at(
                "privateKeyPem",
                "one of privateKeyPem or privateKeyOpenssh is required",
            ),
            (Some(pem), None) => {
                if let Err(e) = pki::parse_private_key(pem.expose()) {
                    failures.at("privateKeyPem", e.to_string());
                }
            }
            (None, Some(ssh)) => {
                if let Err(e) = pki::parse_private_key(ssh.expose()) {
                    failures.at("privateKeyOpenssh", e.to_string());
                }
            }
        }
    }

    async fn invoke(
        &self,
        _ctx: &Ctx,
        args: GetPublicKeyArgs,
    ) -> Result<GetPublicKeyResult, ResourceError> {
        let text = args
            .private_key_pem
            .as_ref()
            .or(args.private_key_openssh.as_ref())
            .ok_or_else(|| ResourceError::Internal("no key given".into()))?;
        let key = pki::parse_private_key(text.expose())
            .map_err(|e| ResourceError::backend("parse private key", e))?;
        let public = pki::public_outputs(&key)
            .map_err(|e| ResourceError::backend("derive public key", e))?;
        Ok(GetPublicKeyResult {
            algorithm: key.algorithm().name().to_string(),
            id: public.id.clone(),
            private_key_pem: args.private_key_pem,
            private_key_openssh: args.private_key_openssh,
            public_key_pem: public.public_key_pem,
            public_key_openssh: public.public_key_openssh,
            public_key_fingerprint_md5: public.public_key_fingerprint_md5,
            public_key_fingerprint_sha256: public.public_key_fingerprint_sha256,
        })
    }
}

pub struct GetCertificate;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetCertificateArgs {
    /// The content of the certificate chain in PEM (RFC 1421) format. Cannot be used with `url`.
    #[serde(default)]
    pub content: Option<String>,
    /// URL of the endpoint to get the certificates from: `https://host[:port]` or
    /// `tls://host:port`. Cannot be used with `content`.
    #[serde(default)]
    pub url: Option<String>,
    /// Whether to verify the certificate chain while parsing it (default: `true`). Cannot be
    /// used with `content`. Roots are Mozilla's, plus the PEM file named by `SSL_CERT_FILE`.
    #[serde(default)]
    pub verify_chain: Option<bool>,
}

/// One certificate of a chain, as pulumi-tls reports it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetCertificateCertificate {
    /// Certificate data in PEM (RFC 1421) format.
    pub cert_pem: String,
    /// `true` if the certificate is of a CA (Certificate Authority).
    pub is_ca: bool,
    /// Who verified and signed the certificate, expressed as a RFC2253 Distinguished Name.
    pub issuer: String,
    /// Maximum number of intermediate certificates that may follow this one in a chain; -1 when
    /// not a CA or unlimited.
    pub max_path_length: i64,
    /// The time until which the certificate is invalid, as an RFC3339 timestamp.
    pub not_after: String,
    /// The time after which the certificate is valid, as an RFC3339 timestamp.
    pub not_before: String,
    /// The key algorithm used to create the certificate.
    pub public_key_algorithm: String,
    /// Number that uniquely identifies the certificate with the CA's system, in base 10.
    pub serial_number: String,
    /// The SHA1 fingerprint of the public key of the certificate.
    pub sha1_fingerprint: String,
    /// The algorithm used to sign the certificate.
    pub signature_algorithm: String,
    /// The entity the certificate belongs to, roughly following RFC2253.
    pub subject: String,
    /// The version the certificate is in.
    pub version: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetCertificateResult {
    /// The certificates: for `url`, the peer's chain root first (as pulumi-tls); for `content`,
    /// in the order given.
    pub certificates: Vec<GetCertificateCertificate>,
    /// Unique identifier: the SHA-1 of the chain's certificates.
    pub id: String,
    /// The `content` argument, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The `url` argument, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The `verifyChain` argument, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_chain: Option<bool>,
}

impl Function<ProviderConfig> for GetCertificate {
    type Args = GetCertificateArgs;
    type Result = GetCertificateResult;
    const TOKEN: &'static str = "zerotrust:tls:getCertificate";
    const DESCRIPTION: &'static str = "Get information about the TLS certificates of a PEM chain or of a TLS endpoint, such as their SHA1 fingerprints (e.g. for an OpenID Connect provider's thumbprint).";

    fn check(&self, args: &GetCertificateArgs, failures: &mut Failures) {
        match (&args.content, &args.url) {
            (Some(_), Some(_)) => failures.at("url", "give either content or url, not both"),
            (None, None) => failures.at("content", "one of content or url is required"),
            (Some(content), None) => {
                if args.verify_chain.is_some() {
                    failures.at("verifyChain", "verifyChain cannot be used with content");
                }
                if let Err(e) = pki::cert_info(content) {
                    failures.at("content", e.to_string());
                }
            }
            (None, Some(url)) => {
                if let Err(reason) = parse_endpoint(url) {
                    failures.at("url", reason);
                }
            }
        }
    }

    async fn invoke(
        &self,
        ctx: &Ctx,
        args: GetCertificateArgs,
    ) -> Result<GetCertificateResult, ResourceError> {
        let certs = match (&args.content, &args.url) {
            (Some(content), _) => {
                pki::cert_info(content).map_err(|e| ResourceError::backend("parse content", e))?
            }
            (None, Some(url)) => {
                let (host, port) =
                    parse_endpoint(url).map_err(|r| ResourceError::InvalidInput {
                        property: crate::codec::PropertyPath::root().key("url"),
                        reason: r,
                    })?;
                let verify = args.verify_chain.unwrap_or(true);
                let pems = tokio::time::timeout(ctx.timeout(), fetch_chain(&host, port, verify))
                    .await
                    .map_err(|_| ResourceError::Timeout(ctx.timeout()))??;
                let mut all = Vec::new();
                for pem in pems {
                    all.extend(
                        pki::cert_info(&pem)
                            .map_err(|e| ResourceError::backend("parse peer certificate", e))?,
                    );
                }
                // Servers send leaf first; pulumi-tls reports root first.
                all.reverse();
                all
            }
            (None, None) => Vec::new(),
        };
        let mut hasher = Sha1::new();
        for c in &certs {
            hasher.update(c.cert_pem.as_bytes());
        }
        Ok(GetCertificateResult {
            certificates: certs
                .into_iter()
                .map(|c| GetCertificateCertificate {
                    cert_pem: c.cert_pem,
                    is_ca: c.is_ca,
                    issuer: c.issuer,
                    max_path_length: c.max_path_length,
                    not_after: c.not_after,
                    not_before: c.not_before,
                    public_key_algorithm: c.public_key_algorithm,
                    serial_number: c.serial_number,
                    sha1_fingerprint: c.sha1_fingerprint,
                    signature_algorithm: c.signature_algorithm,
                    subject: c.subject,
                    version: c.version,
                })
                .collect(),
            id: hex::encode(hasher.finalize()),
            content: args.content,
            url: args.url,
            verify_chain: args.verify_chain,
        })
    }
}

/// Host and port of an `https://` or `tls://` URL.
fn parse_endpoint(url: &str) -> Result<(String, u16), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("'{url}' has no scheme; use https:// or tls://"))?;
    let default_port = match scheme {
        "https" => Some(443),
        "tls" => None,
        other => {
            return Err(format!(
                "unsupported scheme '{other}'; use https:// or tls://"
            ));
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // A bracketed IPv6 host carries colons of its own; the port follows the bracket.
    let port_sep = match authority.rfind(']') {
        Some(close) => authority[close..].rfind(':').map(|i| close + i),
        None => authority.rfind(':'),
    };
    let (host, port) = match port_sep.map(|i| (&authority[..i], &authority[i + 1..])) {
        Some((h, p)) => {
            let port = p
                .parse::<u16>()
                .map_err(|_| format!("'{p}' is not a valid port"))?;
            (h.trim_matches(['[', ']']).to_string(), port)
        }
        _ => match default_port {
            Some(p) => (authority.trim_matches(['[', ']']).to_string(), p),
            None => return Err("a tls:// URL needs a port".into()),
        },
    };
    if host.is_empty() {
        return Err(format!("'{url}' has no host"));
    }
    Ok((host, port))
}

/// Trust roots: Mozilla's, plus a PEM bundle named by `SSL_CERT_FILE` (how tests add theirs).
fn root_store() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = std::env::var_os("SSL_CERT_FILE")
        && let Ok(text) = std::fs::read_to_string(&path)
    {
        for block in crate::pki::framing::blocks(&text).unwrap_or_default() {
            if block.tag() == "CERTIFICATE" {
                let _ = roots.add(rustls_pki_types::CertificateDer::from(
                    block.contents().to_vec(),
                ));
            }
        }
    }
    roots
}

/// Accepts any server certificate: used only when `verifyChain` is false.
#[derive(Debug)]
struct AcceptAnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Connect, complete a TLS handshake, and return the peer's chain as PEM, leaf first.
async fn fetch_chain(host: &str, port: u16, verify: bool) -> Result<Vec<String>, ResourceError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ResourceError::Internal(format!("TLS setup: {e}")))?;
    let config = if verify {
        builder
            .with_root_certificates(root_store())
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)))
            .with_no_client_auth()
    };
    let server_name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| ResourceError::backend(format!("resolve {host}"), e))?;
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| ResourceError::backend(format!("connect to {host}:{port}"), e))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = connector
        .connect(server_name, tcp)
        .await
        .map_err(|e| ResourceError::backend(format!("TLS handshake with {host}:{port}"), e))?;
    let (_, session) = tls.get_ref();
    let chain = session.peer_certificates().unwrap_or_default();
    Ok(chain
        .iter()
        .map(|c| crate::pki::framing::encode("CERTIFICATE", c.as_ref()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::parse_endpoint;

    #[test]
    fn endpoints_parse_with_default_ports() {
        assert_eq!(
            parse_endpoint("https://example.com/path").unwrap(),
            ("example.com".into(), 443)
        );
        assert_eq!(
            parse_endpoint("tls://127.0.0.1:8443").unwrap(),
            ("127.0.0.1".into(), 8443)
        );
        assert_eq!(
            parse_endpoint("https://[::1]:9443").unwrap(),
            ("::1".into(), 9443)
        );
        assert_eq!(
            parse_endpoint("https://[::1]").unwrap(),
            ("::1".into(), 443)
        );
        assert!(parse_endpoint("tls://127.0.0.1").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
        assert!(parse_endpoint("example.com").is_err());
    }
}
