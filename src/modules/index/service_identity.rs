//! `zerotrust:index:ServiceIdentity`: a service's mTLS identity from any of the package's CAs, as
//! a component. Its children are ordinary zerotrust resources: a private key and a certificate
//! request (`tls`), the certificate from the chosen issuer (`tls` LocallySignedCert, Vault
//! `SecretBackendSign` or ACM PCA `Certificate`) and, when asked, a `kubernetes.io/tls` Secret.
//! Renewal is the certificate child's: it is due at diff time, like every certificate of the
//! package, and the new certificate is made before the old one is deleted or revoked.

use crate::codec::PropertyPath;
use crate::modules::aws::acmpca::certificate::{Certificate, CertificateInputs, Validity};
use crate::modules::backend::known;
use crate::modules::kubernetes::core_v1::{SecretKind, SecretObject};
use crate::modules::kubernetes::meta::{ObjectMeta, is_dns_label, is_dns_subdomain};
use crate::modules::kubernetes::object::KubeResource;
use crate::modules::tls::cert_request::{CertRequest, CertRequestInputs};
use crate::modules::tls::common::{CertRequestSubject, check_sans};
use crate::modules::tls::issuing::IssueInputs;
use crate::modules::tls::locally_signed_cert::{LocallySignedCert, LocallySignedCertInputs};
use crate::modules::tls::private_key::{PrivateKey, PrivateKeyInputs};
use crate::modules::vault::pki::cert::role_refusal;
use crate::modules::vault::pki::sign::{SecretBackendSign, SignInputs, role_request};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::{ChildOptions, Component, Failures, ResourceError, Scope, Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct ServiceIdentity;

/// Key algorithms, with what the key child is given for each.
const KEY_ALGORITHMS: &[&str] = &["ECDSA", "RSA", "ED25519"];
const DEFAULT_VALIDITY_HOURS: i64 = 30 * 24;

/// The service an identity is for.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceIdentityService")]
pub struct ServiceSpec {
    /// The service's name, a DNS label: the last part of its SPIFFE ID
    /// (`spiffe://<trustDomain>/ns/<namespace>/sa/<name>`).
    pub name: Value<String>,
    /// The service's namespace, a DNS label. Default `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Value<String>>,
    /// The SPIFFE trust domain, e.g. `cluster.local` or `ml.example.com`.
    pub trust_domain: Value<String>,
    /// DNS names for the certificate; the first is also its common name (else the service
    /// name is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Value<Vec<String>>>,
    /// IP addresses for the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Value<Vec<String>>>,
}

/// A local CA from the `tls` module: its certificate and key.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceIdentityTlsIssuer")]
pub struct TlsIssuer {
    /// The CA certificate, PEM.
    pub ca_cert_pem: Value<String>,
    /// The CA's private key, PEM.
    pub ca_private_key_pem: Value<Secret<String>>,
}

/// A Vault or OpenBao PKI mount and the role that signs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceIdentityVaultIssuer")]
pub struct VaultIssuer {
    /// The PKI mount's path, e.g. `pki-int`.
    pub backend: Value<String>,
    /// The role that signs. Its domain policy is checked against the service's names at
    /// preview, when the role can be read.
    pub role: Value<String>,
}

/// An ACM Private CA.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceIdentityAcmPcaIssuer")]
pub struct AcmPcaIssuer {
    /// The ARN of the certificate authority.
    pub certificate_authority_arn: Value<String>,
    /// The signing algorithm, e.g. `SHA256WITHECDSA`. Default: SHA-256 with the CA key's kind
    /// as the key algorithm suggests (`SHA256WITHECDSA` for ECDSA keys, `SHA256WITHRSA` else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<Value<String>>,
}

/// Which CA issues the certificate: exactly one of them.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceIdentityIssuer")]
pub struct IssuerSpec {
    /// A local CA (`tls` module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsIssuer>,
    /// A Vault/OpenBao PKI role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultIssuer>,
    /// An ACM Private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acmpca: Option<AcmPcaIssuer>,
}

/// Where the identity is delivered in Kubernetes.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceIdentityDelivery")]
pub struct DeliverySpec {
    /// The namespace of the Secret, a DNS label. Default: the service's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Value<String>>,
    /// The Secret's name. Default `<service name>-tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<Value<String>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceIdentityInputs {
    /// The service the identity is for.
    pub service: ServiceSpec,
    /// The CA that issues the certificate.
    pub issuer: IssuerSpec,
    /// `ECDSA` (P-256, the default), `RSA` (2048 bits) or `ED25519`. ED25519 suits the `tls`
    /// issuer only: Vault and ACM PCA do not sign it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<Value<String>>,
    /// How long each certificate is valid, in hours. Default 720 (30 days); ACM PCA counts
    /// whole days, so it is rounded up there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_hours: Option<Value<i64>>,
    /// How many hours before it expires the certificate is renewed by `pulumi up`. Default a
    /// third of the validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before_hours: Option<Value<i64>>,
    /// Deliver the identity as a `kubernetes.io/tls` Secret (`tls.crt`: leaf and chain,
    /// `tls.key`, `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliverySpec>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceIdentityOutputs {
    /// The SPIFFE ID in the certificate's URI SAN.
    pub spiffe_id: Value<String>,
    /// The leaf certificate, PEM.
    pub certificate_pem: Value<String>,
    /// The leaf followed by the intermediate CA certificates that lead to the trust anchor:
    /// what a server or client presents (`tls.crt`).
    pub chain_pem: Value<String>,
    /// The certificate of the issuing CA (`ca.crt`).
    pub ca_cert_pem: Value<String>,
    /// The private key, PEM.
    pub private_key_pem: Value<Secret<String>>,
    /// The certificate's serial number, in colon-separated hex.
    pub serial_number: Value<String>,
    /// When the certificate expires, RFC 3339.
    pub not_after: Value<String>,
    /// SHA-256 of what is delivered (chain, key and CA certificate): it changes exactly when
    /// they do, so as a pod template annotation it rolls the workload on renewal.
    pub checksum: Value<String>,
    /// The delivered Secret's namespace and name, `<namespace>/<name>`, when delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Value<String>>,
}

/// The issuer the inputs name, when exactly one is given.
enum Issuer<'a> {
    Tls(&'a TlsIssuer),
    Vault(&'a VaultIssuer),
    AcmPca(&'a AcmPcaIssuer),
}

fn issuers(spec: &IssuerSpec) -> Vec<Issuer<'_>> {
    let mut found = Vec::new();
    if let Some(tls) = &spec.tls {
        found.push(Issuer::Tls(tls));
    }
    if let Some(vault) = &spec.vault {
        found.push(Issuer::Vault(vault));
    }
    if let Some(acm) = &spec.acmpca {
        found.push(Issuer::AcmPca(acm));
    }
    found
}

fn namespace_of(service: &ServiceSpec) -> Value<String> {
    match &service.namespace {
        None => Value::Known("default".into()),
        Some(ns) => ns.clone(),
    }
}

/// `spiffe://<trust domain>/ns/<namespace>/sa/<name>`, the shape Istio and SPIRE use.
pub fn spiffe_id(trust_domain: &str, namespace: &str, name: &str) -> String {
    format!("spiffe://{trust_domain}/ns/{namespace}/sa/{name}")
}

/// A SPIFFE trust domain: lowercase letters, digits, `.`, `-` and `_`, no scheme or path.
fn is_trust_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

fn renew_before(inputs: &ServiceIdentityInputs, validity: i64) -> i64 {
    known(&inputs.renew_before_hours)
        .copied()
        .unwrap_or(validity / 3)
}

/// What the delivered Secret holds, and its checksum.
fn delivered(chain: &str, key: &str, ca: &str) -> (BTreeMap<String, String>, String) {
    let files = BTreeMap::from([
        ("ca.crt".to_string(), ca.to_string()),
        ("tls.crt".to_string(), chain.to_string()),
        ("tls.key".to_string(), key.to_string()),
    ]);
    let mut hash = Sha256::new();
    for (name, content) in &files {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(content.as_bytes());
        hash.update([0]);
    }
    (files, hex::encode(hash.finalize()))
}

/// The signed certificate as the issuer returned it.
struct Issued {
    leaf: Value<String>,
    /// Intermediates between the leaf and the trust anchor, PEM, possibly empty.
    intermediates: Value<String>,
    ca: Value<String>,
    /// The child the Secret must wait for.
    urn: String,
}

fn join_known(parts: &[&Value<String>]) -> Value<String> {
    let mut out = String::new();
    for part in parts {
        let Value::Known(text) = part else {
            return Value::Unknown;
        };
        let text = text.trim();
        if !text.is_empty() {
            out.push_str(text);
            out.push('\n');
        }
    }
    Value::Known(out)
}

/// The CA certificates in `pems` that are not self-signed, as one PEM text.
fn intermediates_of(pems: &[String]) -> String {
    pems.iter()
        .filter_map(|pem| crate::pki::cert_info(pem).ok())
        .flatten()
        .filter(|info| info.subject != info.issuer)
        .map(|info| info.cert_pem)
        .collect()
}

impl ServiceIdentity {
    async fn issue(
        &self,
        scope: &Scope<'_, ProviderConfig>,
        inputs: &ServiceIdentityInputs,
        issuer: Issuer<'_>,
        csr: (&Value<String>, &str),
        names: &Names,
    ) -> Result<Issued, ResourceError> {
        let (csr_pem, csr_urn) = csr;
        let base = scope.name();
        let after_csr = ChildOptions::depends_on([csr_urn]);
        let validity = known(&inputs.validity_hours)
            .copied()
            .unwrap_or(DEFAULT_VALIDITY_HOURS);
        match issuer {
            Issuer::Tls(tls) => {
                let cert = scope
                    .register::<LocallySignedCert>(
                        format!("{base}-cert"),
                        &LocallySignedCertInputs {
                            cert_request_pem: csr_pem.clone(),
                            ca_cert_pem: tls.ca_cert_pem.clone(),
                            ca_private_key_pem: tls.ca_private_key_pem.clone(),
                            issue: IssueInputs {
                                allowed_uses: Value::Known(
                                    [
                                        "digital_signature",
                                        "key_encipherment",
                                        "server_auth",
                                        "client_auth",
                                    ]
                                    .map(String::from)
                                    .to_vec(),
                                ),
                                validity_period_hours: Value::Known(validity),
                                is_ca_certificate: None,
                                max_path_length: None,
                                set_subject_key_id: None,
                                early_renewal_hours: Some(Value::Known(renew_before(
                                    inputs, validity,
                                ))),
                                backdate_minutes: None,
                                name_constraints: None,
                                crl_distribution_points: None,
                                ocsp_servers: None,
                                issuing_certificate_urls: None,
                            },
                        },
                        after_csr,
                    )
                    .await?;
                let intermediates = match &tls.ca_cert_pem {
                    Value::Known(ca) => Value::Known(intermediates_of(std::slice::from_ref(ca))),
                    Value::Unknown => Value::Unknown,
                };
                Ok(Issued {
                    leaf: cert.outputs.cert_pem,
                    intermediates,
                    ca: tls.ca_cert_pem.clone(),
                    urn: cert.urn,
                })
            }
            Issuer::Vault(vault) => {
                let signed = scope
                    .register::<SecretBackendSign>(
                        format!("{base}-cert"),
                        &SignInputs {
                            backend: vault.backend.clone(),
                            name: vault.role.clone(),
                            csr: csr_pem.clone(),
                            common_name: names.common_name.clone(),
                            alt_names: Some(names.dns.clone()),
                            ip_sans: Some(names.ips.clone()),
                            uri_sans: Some(names.spiffe.clone().map(|id| vec![id])),
                            other_sans: None,
                            ttl: Some(Value::Known(format!("{validity}h"))),
                            format: None,
                            exclude_cn_from_sans: None,
                            issuer_ref: None,
                            auto_renew: Some(Value::Known(true)),
                            min_seconds_remaining: Some(Value::Known(
                                renew_before(inputs, validity) * 3600,
                            )),
                            revoke: Some(Value::Known(true)),
                            namespace: None,
                        },
                        after_csr,
                    )
                    .await?;
                let out = signed.outputs;
                let intermediates = out.ca_chains.as_ref().map(|chain| intermediates_of(chain));
                Ok(Issued {
                    leaf: out.certificate,
                    intermediates,
                    ca: out.issuing_ca,
                    urn: signed.urn,
                })
            }
            Issuer::AcmPca(acm) => {
                let rsa = known(&inputs.key_algorithm).is_some_and(|a| a == "RSA");
                let signing_algorithm = acm.signing_algorithm.clone().unwrap_or_else(|| {
                    Value::Known(
                        if rsa {
                            "SHA256WITHRSA"
                        } else {
                            "SHA256WITHECDSA"
                        }
                        .into(),
                    )
                });
                let days = (validity + 23) / 24;
                let cert = scope
                    .register::<Certificate>(
                        format!("{base}-cert"),
                        &CertificateInputs {
                            certificate_authority_arn: acm.certificate_authority_arn.clone(),
                            certificate_signing_request: csr_pem.clone(),
                            signing_algorithm,
                            validity: Value::Known(Validity {
                                period_type: "DAYS".into(),
                                value: days.to_string(),
                            }),
                            template_arn: None,
                            api_passthrough: None,
                            early_renewal_hours: Some(Value::Known(renew_before(inputs, validity))),
                        },
                        after_csr,
                    )
                    .await?;
                let out = cert.outputs;
                // The chain ACM PCA returns runs from the issuing CA to the root.
                let (intermediates, ca) = match &out.certificate_chain {
                    Value::Known(chain) => {
                        let infos = crate::pki::cert_info(chain).unwrap_or_default();
                        let first = infos.first().map(|i| i.cert_pem.clone());
                        (
                            Value::Known(intermediates_of(std::slice::from_ref(chain))),
                            Value::Known(first.unwrap_or_default()),
                        )
                    }
                    Value::Unknown => (Value::Unknown, Value::Unknown),
                };
                Ok(Issued {
                    leaf: out.certificate,
                    intermediates,
                    ca,
                    urn: cert.urn,
                })
            }
        }
    }
}

/// The names that go into the certificate.
struct Names {
    common_name: Value<String>,
    dns: Value<Vec<String>>,
    ips: Value<Vec<String>>,
    spiffe: Value<String>,
}

fn names_of(service: &ServiceSpec) -> Names {
    let dns = service
        .dns_names
        .clone()
        .unwrap_or(Value::Known(Vec::new()));
    let common_name = match (&dns, &service.name) {
        (Value::Known(dns), _) if !dns.is_empty() => Value::Known(dns[0].clone()),
        (Value::Known(_), name) => name.clone(),
        (Value::Unknown, _) => Value::Unknown,
    };
    let spiffe = match (&service.trust_domain, namespace_of(service), &service.name) {
        (Value::Known(td), Value::Known(ns), Value::Known(name)) => {
            Value::Known(spiffe_id(td, &ns, name))
        }
        _ => Value::Unknown,
    };
    Names {
        common_name,
        dns,
        ips: service
            .ip_addresses
            .clone()
            .unwrap_or(Value::Known(Vec::new())),
        spiffe,
    }
}

/// Whether a Vault role's `allowed_uri_sans` admits `uri` (`*` matches any run of characters).
fn uri_allowed(role: &Json, uri: &str) -> bool {
    if role.get("allow_any_name").and_then(Json::as_bool) == Some(true) {
        return true;
    }
    let patterns: Vec<String> = match role.get("allowed_uri_sans") {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect(),
        Some(Json::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
        _ => Vec::new(),
    };
    patterns.iter().any(|p| glob_match(p, uri))
}

fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

impl Component<ProviderConfig> for ServiceIdentity {
    type Inputs = ServiceIdentityInputs;
    type Outputs = ServiceIdentityOutputs;
    const TOKEN: &'static str = "zerotrust:index:ServiceIdentity";
    const DESCRIPTION: &'static str = include_str!("docs/service_identity.md");

    fn check(&self, inputs: &ServiceIdentityInputs, failures: &mut Failures) {
        let at = |parts: &[&str]| {
            parts
                .iter()
                .fold(PropertyPath::root(), |p, part| p.key(*part))
        };
        {
            let issuer = &inputs.issuer;
            let found = issuers(issuer);
            if found.len() != 1 {
                failures.add(
                    at(&["issuer"]),
                    format!(
                        "give exactly one issuer (tls, vault or acmpca); {} given",
                        found.len()
                    ),
                );
            }
            let ed25519 = known(&inputs.key_algorithm).is_some_and(|a| a == "ED25519");
            if ed25519 && issuer.tls.is_none() && found.len() == 1 {
                failures.add(
                    at(&["keyAlgorithm"]),
                    "ED25519 keys are signed by the tls issuer only; use ECDSA or RSA",
                );
            }
        }
        {
            let service = &inputs.service;
            if let Value::Known(name) = &service.name
                && !is_dns_label(name)
            {
                failures.add(
                    at(&["service", "name"]),
                    format!("'{name}' is not a DNS label (lowercase letters, digits and '-', at most 63)"),
                );
            }
            if let Some(Value::Known(ns)) = &service.namespace
                && !is_dns_label(ns)
            {
                failures.add(
                    at(&["service", "namespace"]),
                    format!(
                        "'{ns}' is not a DNS label (lowercase letters, digits and '-', at most 63)"
                    ),
                );
            }
            if let Value::Known(td) = &service.trust_domain
                && !is_trust_domain(td)
            {
                failures.add(
                    at(&["service", "trustDomain"]),
                    format!("'{td}' is not a SPIFFE trust domain (lowercase letters, digits, '.', '-', '_'; no scheme)"),
                );
            }
            let mut sans = Failures::default();
            check_sans(
                service.dns_names.as_ref(),
                service.ip_addresses.as_ref(),
                None,
                &mut sans,
            );
            for failure in sans.into_vec() {
                let mut path = PropertyPath::root().key("service");
                for elem in failure.property.elems() {
                    path = match elem {
                        crate::codec::PathElem::Key(k) => path.key(k.as_str()),
                        crate::codec::PathElem::Index(i) => path.index(*i),
                    };
                }
                failures.add(path, failure.reason);
            }
        }
        if let Some(Value::Known(algorithm)) = &inputs.key_algorithm
            && !KEY_ALGORITHMS.contains(&algorithm.as_str())
        {
            failures.add(
                at(&["keyAlgorithm"]),
                format!("'{algorithm}' is not one of {}", KEY_ALGORITHMS.join(", ")),
            );
        }
        let validity = known(&inputs.validity_hours).copied();
        if let Some(v) = validity
            && v < 1
        {
            failures.add(
                at(&["validityHours"]),
                format!("must be at least 1, got {v}"),
            );
        }
        if let Some(r) = known(&inputs.renew_before_hours).copied() {
            let v = validity.unwrap_or(DEFAULT_VALIDITY_HOURS);
            if r < 0 || r >= v {
                failures.add(
                    at(&["renewBeforeHours"]),
                    format!("must be from 0 to less than the validity ({v} hours), got {r}"),
                );
            }
        }
        if let Some(delivery) = &inputs.delivery {
            if let Some(Value::Known(ns)) = &delivery.namespace
                && !is_dns_label(ns)
            {
                failures.add(
                    at(&["delivery", "namespace"]),
                    format!(
                        "'{ns}' is not a DNS label (lowercase letters, digits and '-', at most 63)"
                    ),
                );
            }
            if let Some(Value::Known(name)) = &delivery.secret_name
                && !is_dns_subdomain(name)
            {
                failures.add(
                    at(&["delivery", "secretName"]),
                    format!("'{name}' is not a valid Secret name (a DNS subdomain)"),
                );
            }
        }
    }

    /// A Vault role that would refuse the service's names is reported now, at the name, rather
    /// than when the certificate child is signed.
    async fn check_live(&self, ctx: &Ctx, inputs: &ServiceIdentityInputs, failures: &mut Failures) {
        let service = &inputs.service;
        let Some(vault_issuer) = &inputs.issuer.vault else {
            return;
        };
        let (Value::Known(backend), Value::Known(role)) =
            (&vault_issuer.backend, &vault_issuer.role)
        else {
            return;
        };
        let Ok(vault) = ctx.config().vault().await else {
            return;
        };
        let Ok(Some(live)) = vault.read(ctx, &role_request(backend, role, None)).await else {
            return;
        };
        let names = names_of(service);
        let service_path = PropertyPath::root().key("service");
        match (&service.dns_names, &names.common_name) {
            (Some(Value::Known(dns)), _) if !dns.is_empty() => {
                for (i, name) in dns.iter().enumerate() {
                    if let Some(reason) = role_refusal(&live, name) {
                        failures.add(
                            service_path.key("dnsNames").index(i),
                            format!("{reason} (role {role} of {backend})"),
                        );
                    }
                }
            }
            (_, Value::Known(cn)) => {
                if let Some(reason) = role_refusal(&live, cn) {
                    failures.add(
                        service_path.key("name"),
                        format!("{reason} (role {role} of {backend}; the service name is the common name when dnsNames is empty)"),
                    );
                }
            }
            _ => {}
        }
        if let Value::Known(id) = &names.spiffe
            && !uri_allowed(&live, id)
        {
            failures.add(
                service_path.key("trustDomain"),
                format!(
                    "the role {role} of {backend} would refuse the SPIFFE ID {id}: its allowed_uri_sans {} do not match it",
                    live.get("allowed_uri_sans").unwrap_or(&Json::Null)
                ),
            );
        }
    }

    async fn construct(
        &self,
        scope: &Scope<'_, ProviderConfig>,
        inputs: ServiceIdentityInputs,
    ) -> Result<ServiceIdentityOutputs, ResourceError> {
        let service = &inputs.service;
        let Some(issuer) = issuers(&inputs.issuer).into_iter().next() else {
            return Err(ResourceError::InvalidInput {
                property: PropertyPath::root().key("issuer"),
                reason: "no issuer given".into(),
            });
        };
        let base = scope.name().to_string();
        let algorithm = inputs
            .key_algorithm
            .clone()
            .unwrap_or(Value::Known("ECDSA".into()));
        let key = scope
            .register::<PrivateKey>(
                format!("{base}-key"),
                &PrivateKeyInputs {
                    ecdsa_curve: match &algorithm {
                        Value::Known(a) if a == "ECDSA" => Some(Value::Known("P256".into())),
                        _ => None,
                    },
                    rsa_bits: match &algorithm {
                        Value::Known(a) if a == "RSA" => Some(Value::Known(2048)),
                        _ => None,
                    },
                    algorithm,
                },
                ChildOptions::default(),
            )
            .await?;
        let names = names_of(service);
        let csr = scope
            .register::<CertRequest>(
                format!("{base}-csr"),
                &CertRequestInputs {
                    private_key_pem: key.outputs.private_key_pem.clone(),
                    subject: Some(names.common_name.clone().map(|cn| CertRequestSubject {
                        common_name: Some(cn),
                        ..CertRequestSubject::default()
                    })),
                    dns_names: Some(names.dns.clone()),
                    ip_addresses: Some(names.ips.clone()),
                    uris: Some(names.spiffe.clone().map(|id| vec![id])),
                },
                ChildOptions::depends_on([key.urn.as_str()]),
            )
            .await?;
        let issued = self
            .issue(
                scope,
                &inputs,
                issuer,
                (&csr.outputs.cert_request_pem, csr.urn.as_str()),
                &names,
            )
            .await?;
        let chain = join_known(&[&issued.leaf, &issued.intermediates]);
        let ca = issued.ca.clone().map(|ca| {
            let ca = ca.trim().to_string();
            if ca.is_empty() { ca } else { ca + "\n" }
        });
        let key_pem = key.outputs.private_key_pem.clone();
        let material = match (&chain, &key_pem, &ca) {
            (Value::Known(chain), Value::Known(key), Value::Known(ca)) => {
                Value::Known(delivered(chain, key.expose(), ca))
            }
            _ => Value::Unknown,
        };
        let secret = match &inputs.delivery {
            None => None,
            Some(delivery) => {
                let namespace = delivery
                    .namespace
                    .clone()
                    .unwrap_or_else(|| namespace_of(service));
                let name = delivery
                    .secret_name
                    .clone()
                    .unwrap_or_else(|| service.name.clone().map(|n| format!("{n}-tls")));
                let metadata = match (&namespace, &name) {
                    (Value::Known(ns), Value::Known(n)) => Value::Known(ObjectMeta {
                        name: Some(n.clone()),
                        namespace: Some(ns.clone()),
                        labels: Some(BTreeMap::from([(
                            "app.kubernetes.io/managed-by".to_string(),
                            "zerotrust".to_string(),
                        )])),
                        ..ObjectMeta::default()
                    }),
                    _ => Value::Unknown,
                };
                scope
                    .register::<KubeResource<SecretKind>>(
                        format!("{base}-secret"),
                        &SecretObject {
                            metadata: Some(metadata),
                            secret_type: Some(Value::Known("kubernetes.io/tls".into())),
                            data: None,
                            string_data: Some(
                                material
                                    .as_ref()
                                    .map(|(files, _)| Secret::new(files.clone())),
                            ),
                            immutable: None,
                        },
                        ChildOptions::depends_on([issued.urn.as_str(), key.urn.as_str()]),
                    )
                    .await?;
                Some(match (namespace, name) {
                    (Value::Known(ns), Value::Known(n)) => Value::Known(format!("{ns}/{n}")),
                    _ => Value::Unknown,
                })
            }
        };
        let leaf = issued.leaf.known();
        let serial = leaf.and_then(|pem| crate::pki::serial_colon_hex(pem).ok());
        let not_after = leaf
            .and_then(|pem| crate::pki::cert_info(pem).ok())
            .and_then(|infos| infos.into_iter().next())
            .map(|info| info.not_after);
        Ok(ServiceIdentityOutputs {
            spiffe_id: names.spiffe,
            certificate_pem: issued.leaf,
            chain_pem: chain,
            ca_cert_pem: ca,
            private_key_pem: key_pem,
            serial_number: serial.map_or(Value::Unknown, Value::Known),
            not_after: not_after.map_or(Value::Unknown, Value::Known),
            checksum: material.map(|(_, sum)| sum),
            secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checksum_changes_exactly_when_a_delivered_file_does() {
        let (_, base) = delivered("chain", "key", "ca");
        assert_eq!(base, delivered("chain", "key", "ca").1);
        assert_ne!(base, delivered("chain2", "key", "ca").1);
        assert_ne!(base, delivered("chain", "key2", "ca").1);
        assert_ne!(base, delivered("chain", "key", "ca2").1);
        // Moving text from one file to the next is a change too.
        assert_ne!(delivered("ab", "c", "ca").1, delivered("a", "bc", "ca").1);
    }

    #[test]
    fn spiffe_ids_and_trust_domains() {
        assert_eq!(
            spiffe_id("cluster.local", "ml", "trainer"),
            "spiffe://cluster.local/ns/ml/sa/trainer"
        );
        assert!(is_trust_domain("ml.example.com"));
        assert!(!is_trust_domain("spiffe://ml.example.com"));
        assert!(!is_trust_domain("ML.example.com"));
        assert!(!is_trust_domain(""));
    }

    #[test]
    fn uri_sans_of_a_role_are_globs() {
        let role = json!({"allowed_uri_sans": ["spiffe://cluster.local/ns/ml/*"]});
        assert!(uri_allowed(
            &role,
            "spiffe://cluster.local/ns/ml/sa/trainer"
        ));
        assert!(!uri_allowed(
            &role,
            "spiffe://cluster.local/ns/web/sa/trainer"
        ));
        assert!(!uri_allowed(
            &json!({}),
            "spiffe://cluster.local/ns/ml/sa/x"
        ));
        assert!(uri_allowed(
            &json!({"allow_any_name": true}),
            "spiffe://x/y"
        ));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxcyyb"));
        assert!(glob_match("*", ""));
    }

    fn inputs(value: serde_json::Value) -> ServiceIdentityInputs {
        serde_json::from_value(value).unwrap()
    }

    fn failure_paths(inputs: &ServiceIdentityInputs) -> Vec<String> {
        let mut failures = Failures::default();
        ServiceIdentity.check(inputs, &mut failures);
        failures
            .into_vec()
            .into_iter()
            .map(|f| f.property.to_string())
            .collect()
    }

    #[test]
    fn check_reports_every_problem_at_its_path() {
        let tls = json!({"caCertPem": "x", "caPrivateKeyPem": "y"});
        let good = json!({
            "service": {"name": "trainer", "namespace": "ml", "trustDomain": "cluster.local"},
            "issuer": {"tls": tls},
        });
        assert!(failure_paths(&inputs(good)).is_empty());

        let none = json!({
            "service": {"name": "Trainer", "namespace": "ML_ns", "trustDomain": "cluster.local",
                        "dnsNames": ["ok.example", "bad name"]},
            "issuer": {},
            "delivery": {"namespace": "no.dots"},
            "validityHours": 10,
            "renewBeforeHours": 10,
        });
        assert_eq!(
            failure_paths(&inputs(none)),
            vec![
                "issuer",
                "service.name",
                "service.namespace",
                "service.dnsNames[1]",
                "renewBeforeHours",
                "delivery.namespace",
            ]
        );
        let two = json!({
            "service": {"name": "trainer", "trustDomain": "cluster.local"},
            "issuer": {"tls": tls, "vault": {"backend": "pki", "role": "r"}},
        });
        assert_eq!(failure_paths(&inputs(two)), vec!["issuer"]);
    }

    #[test]
    fn unknown_inputs_are_not_failures() {
        let unknown = crate::codec::typed_json::unknown_marker(crate::codec::UnknownKind::String);
        let value = json!({
            "service": {"name": unknown, "namespace": unknown, "trustDomain": unknown},
            "issuer": {"tls": {"caCertPem": unknown, "caPrivateKeyPem": unknown}},
            "delivery": {"namespace": unknown},
        });
        assert!(failure_paths(&inputs(value)).is_empty());
    }
}
