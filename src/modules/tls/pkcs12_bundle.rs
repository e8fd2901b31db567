//! `zerotrust:tls:Pkcs12Bundle`: a certificate, its chain and its private key as one
//! password-protected PKCS#12 keystore, the form JVM services (Kafka, Spark, Trino) load their
//! TLS identity from. Not in pulumi-tls; the keystore itself is built by [`pki::pkcs12`].

use super::common::{check_pem, check_private_key};
use crate::codec::PropertyPath;
use crate::modules::{Ctx, ProviderConfig};
use crate::pki::{self, Pkcs12Suite};
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, Resource, ResourceError, Secret, Value};
use base64::Engine as _;
use rand::Rng as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub struct Pkcs12Bundle;

/// Length of a generated password: 32 letters and digits, about 190 bits.
const GENERATED_PASSWORD_LEN: usize = 32;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pkcs12BundleInputs {
    /// The certificate of the keystore's entry, in PEM (RFC 1421) format: exactly one
    /// certificate, whose public key is that of `privateKeyPem`.
    #[schemars(transform = replace_on_changes)]
    pub cert_pem: Value<String>,
    /// The chain above `certPem`, in PEM format, issuer first (intermediate, then root). An
    /// element may hold several certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ca_cert_pems: Option<Value<Vec<String>>>,
    /// The private key of `certPem`, in PEM format (PKCS#1, SEC1 or PKCS#8, as
    /// `PrivateKey.privateKeyPem` gives it).
    #[schemars(transform = replace_on_changes)]
    pub private_key_pem: Value<Secret<String>>,
    /// The keystore password (also protecting the key inside it, as the JDK expects). When
    /// unset, a random 32-character alphanumeric password is generated once and kept in state;
    /// read it from the `password` output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub password: Option<Value<Secret<String>>>,
    /// The entry's friendly name, which Java's keystore shows (lowercased) as its alias.
    /// (default: the certificate's subject common name, else `identity`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub friendly_name: Option<Value<String>>,
    /// `modern` (default): PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, HMAC-SHA256 MAC, read
    /// by OpenSSL 3 and Java 8u301+, 11.0.12+ and 17+. `legacy`: pbeWithSHAAnd3-KeyTripleDES-CBC
    /// and an HMAC-SHA1 MAC, for older Java 8 runtimes; needs a non-empty password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub encryption: Option<Value<String>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pkcs12BundleOutputs {
    /// The certificate of the keystore's entry, in PEM format.
    pub cert_pem: Value<String>,
    /// The chain stored after the certificate, in PEM format, issuer first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_pems: Option<Value<Vec<String>>>,
    /// The private key stored in the keystore, in PEM format.
    pub private_key_pem: Value<Secret<String>>,
    /// The friendly name (alias) the entry was given.
    pub friendly_name: Value<String>,
    /// The encryption suite used: `modern` or `legacy`.
    pub encryption: Value<String>,
    /// The keystore password: the `password` input, or the one generated for it.
    pub password: Value<Secret<String>>,
    /// The PKCS#12 keystore (DER), base64-encoded (standard alphabet, padded). Decode it to a
    /// `.p12` file, or put it straight into a Kubernetes Secret's `data`.
    pub pkcs12_base64: Value<Secret<String>>,
}

/// The suite named by a checked `encryption` input (absent means the default).
fn suite(encryption: &Option<Value<String>>) -> Value<Pkcs12Suite> {
    match encryption {
        None => Value::Known(Pkcs12Suite::default()),
        Some(Value::Known(name)) => name.parse().map_or(Value::Unknown, Value::Known),
        Some(Value::Unknown) => Value::Unknown,
    }
}

/// The friendly name the keystore gets, when it can be told.
fn friendly_name(inputs: &Pkcs12BundleInputs) -> Value<String> {
    match (&inputs.friendly_name, &inputs.cert_pem) {
        (Some(given), _) => given.clone(),
        (None, Value::Known(cert)) => pki::pkcs12_default_friendly_name(cert)
            .map(Value::Known)
            .unwrap_or(Value::Unknown),
        (None, Value::Unknown) => Value::Unknown,
    }
}

fn generate_password() -> String {
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(GENERATED_PASSWORD_LEN)
        .map(char::from)
        .collect()
}

/// A Check failure's reason: the library's words, without its `invalid input: ` prefix.
fn reason(e: pki::PkiError) -> String {
    match e {
        pki::PkiError::InvalidInput(message) => message,
        other => other.to_string(),
    }
}

/// Checks `certPem` holds exactly one certificate.
fn single_certificate(text: &str) -> Result<(), String> {
    match pki::cert_info(text).map_err(|e| e.to_string())?.len() {
        1 => Ok(()),
        n => Err(format!(
            "expected exactly one certificate, found {n}; give the chain in caCertPems"
        )),
    }
}

impl Resource<ProviderConfig> for Pkcs12Bundle {
    type Inputs = Pkcs12BundleInputs;
    type Outputs = Pkcs12BundleOutputs;
    const TOKEN: &'static str = "zerotrust:tls:Pkcs12Bundle";
    const DESCRIPTION: &'static str = include_str!("docs/pkcs12_bundle.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Pkcs12BundleInputs>,
        mut inputs: Pkcs12BundleInputs,
        failures: &mut Failures,
    ) -> Pkcs12BundleInputs {
        let before = failures.len();
        check_pem(
            &mut inputs.cert_pem,
            "certPem",
            single_certificate,
            failures,
        );
        let cert_ok = failures.len() == before;

        if let Some(Value::Known(chain)) = &mut inputs.ca_cert_pems {
            for (i, entry) in chain.iter_mut().enumerate() {
                let checked = pki::normalize_pem(entry)
                    .and_then(|canonical| pki::cert_info(&canonical).map(|_| canonical));
                match checked {
                    Ok(canonical) => *entry = canonical,
                    Err(e) => failures.add(
                        PropertyPath::root().key("caCertPems").index(i),
                        e.to_string(),
                    ),
                }
            }
        }

        let before = failures.len();
        check_private_key(&mut inputs.private_key_pem, "privateKeyPem", failures);
        if let (true, true, Value::Known(cert), Value::Known(key)) = (
            cert_ok,
            failures.len() == before,
            &inputs.cert_pem,
            &inputs.private_key_pem,
        ) {
            let matched = pki::parse_private_key(key.expose())
                .and_then(|key| pki::check_key_matches_cert(cert, &key));
            if let Err(e) = matched {
                failures.at(
                    "privateKeyPem",
                    format!("cannot be used with certPem: {}", reason(e)),
                );
            }
        }

        match &inputs.encryption {
            Some(Value::Known(name)) if name.parse::<Pkcs12Suite>().is_err() => failures.at(
                "encryption",
                format!(
                    "unknown encryption '{name}'; expected one of: {}",
                    Pkcs12Suite::names()
                ),
            ),
            None => {
                inputs.encryption = Some(Value::Known(Pkcs12Suite::default().to_string()));
            }
            _ => {}
        }
        if let (Value::Known(chosen), Some(Value::Known(password))) =
            (suite(&inputs.encryption), &inputs.password)
            && let Err(e) = pki::validate_pkcs12_password(password.expose(), chosen)
        {
            failures.at("password", reason(e));
        }
        if let Some(Value::Known(name)) = &inputs.friendly_name
            && let Err(e) = pki::validate_friendly_name(name)
        {
            failures.at("friendlyName", reason(e));
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Pkcs12BundleInputs,
    ) -> Result<Created<Pkcs12BundleOutputs>, ResourceError> {
        let suite = suite(&inputs.encryption);
        let friendly_name = friendly_name(&inputs);
        let mut outputs = Pkcs12BundleOutputs {
            friendly_name: friendly_name.clone(),
            encryption: suite.as_ref().map(|s| s.to_string()),
            password: match &inputs.password {
                Some(given) => given.clone(),
                None => Value::Unknown,
            },
            pkcs12_base64: Value::Unknown,
            cert_pem: inputs.cert_pem,
            ca_cert_pems: inputs.ca_cert_pems,
            private_key_pem: inputs.private_key_pem,
        };
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs,
            });
        }
        let chain = match &outputs.ca_cert_pems {
            None => Some(Vec::new()),
            Some(list) => list.known().cloned(),
        };
        let password = match &inputs.password {
            None => Some(Secret::new(generate_password())),
            Some(given) => given.known().cloned(),
        };
        let (
            Value::Known(cert),
            Some(chain),
            Value::Known(key),
            Some(password),
            Value::Known(friendly_name),
            Value::Known(suite),
        ) = (
            outputs.cert_pem.clone(),
            chain,
            outputs.private_key_pem.clone(),
            password,
            friendly_name,
            suite,
        )
        else {
            return Err(ResourceError::Internal(
                "inputs unknown outside preview".into(),
            ));
        };
        let password_for_build = password.clone();
        let der = super::common::off_runtime(move || {
            let key = pki::parse_private_key(key.expose())
                .map_err(|e| ResourceError::backend("parse private key", e))?;
            pki::pkcs12(
                &cert,
                &chain,
                &key,
                password_for_build.expose(),
                &friendly_name,
                suite,
            )
            .map_err(|e| ResourceError::backend("build PKCS#12 keystore", e))
        })
        .await?;
        outputs.password = Value::Known(password);
        outputs.pkcs12_base64 = Value::Known(Secret::new(
            base64::engine::general_purpose::STANDARD.encode(&der),
        ));
        Ok(Created {
            // The keystore's digest: salts make every keystore, and so every id, unique.
            id: hex::encode(Sha256::digest(&der)),
            outputs,
        })
    }

    // Read keeps the default: the recorded state is the keystore (it exists nowhere else), and
    // import is refused since there is nothing to read it from.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{CertSpec, EcdsaCurve, IssueOptions, KeyAlgorithm, Subject};
    use std::sync::Arc;

    struct Fixture {
        cert_pem: String,
        key_pem: String,
        other_key_pem: String,
    }

    fn fixture() -> Fixture {
        let material = pki::generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap();
        let key = pki::parse_private_key(&material.private_key_pem).unwrap();
        let cert = pki::self_signed(
            &key,
            &CertSpec {
                subject: Subject {
                    common_name: Some("Trainer".into()),
                    ..Default::default()
                },
                dns_names: vec![],
                ip_addresses: vec![],
                uris: vec![],
                set_authority_key_id: false,
                options: IssueOptions::new(24, time::OffsetDateTime::now_utc()),
            },
        )
        .unwrap();
        let other = pki::generate_key(KeyAlgorithm::Ed25519).unwrap();
        Fixture {
            cert_pem: cert.cert_pem,
            key_pem: material.private_key_pem,
            other_key_pem: other.private_key_pem,
        }
    }

    fn inputs(f: &Fixture) -> Pkcs12BundleInputs {
        Pkcs12BundleInputs {
            cert_pem: Value::Known(f.cert_pem.clone()),
            ca_cert_pems: None,
            private_key_pem: Value::Known(Secret::new(f.key_pem.clone())),
            password: None,
            friendly_name: None,
            encryption: None,
        }
    }

    fn run_check(i: Pkcs12BundleInputs) -> (Pkcs12BundleInputs, Vec<(String, String)>) {
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "b",
            random_seed: &[],
            olds: None,
        };
        let out = Pkcs12Bundle.check(&ctx, i, &mut f);
        let failures = f
            .into_vec()
            .into_iter()
            .map(|x| (x.property.to_string(), x.reason))
            .collect();
        (out, failures)
    }

    #[test]
    fn check_reports_every_problem_at_its_path() {
        let f = fixture();
        let mut i = inputs(&f);
        i.ca_cert_pems = Some(Value::Known(vec![
            f.cert_pem.clone(),
            "garbage".into(),
            f.key_pem.clone(),
        ]));
        i.private_key_pem = Value::Known(Secret::new(f.other_key_pem.clone()));
        i.encryption = Some(Value::Known("aes".into()));
        i.friendly_name = Some(Value::Known(String::new()));
        let (_, failures) = run_check(i);
        let paths: Vec<&str> = failures.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "caCertPems[1]",
                "caCertPems[2]",
                "privateKeyPem",
                "encryption",
                "friendlyName"
            ]
        );
        assert!(
            failures[2].1.contains("does not belong"),
            "{:?}",
            failures[2]
        );
        assert!(
            failures[3].1.contains("modern, legacy"),
            "{:?}",
            failures[3]
        );
        // Reasons name PEM labels at most, never key bytes.
        let key_line = f.other_key_pem.lines().nth(1).unwrap();
        let own_line = f.key_pem.lines().nth(1).unwrap();
        for (_, reason) in &failures {
            assert!(!reason.contains(key_line), "{reason}");
            assert!(!reason.contains(own_line), "{reason}");
        }

        let mut i = inputs(&f);
        i.cert_pem = Value::Known("not a certificate".into());
        i.encryption = Some(Value::Known("legacy".into()));
        i.password = Some(Value::Known(Secret::new(String::new())));
        let (_, failures) = run_check(i);
        let paths: Vec<&str> = failures.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, vec!["certPem", "password"]);
        assert!(failures[1].1.contains("use modern"), "{:?}", failures[1]);

        let mut i = inputs(&f);
        i.cert_pem = Value::Known(format!("{}{}", f.cert_pem, f.cert_pem));
        let (_, failures) = run_check(i);
        assert_eq!(failures.len(), 1);
        assert!(failures[0].1.contains("caCertPems"), "{:?}", failures[0]);
    }

    #[test]
    fn check_fills_the_default_suite_and_is_idempotent() {
        let f = fixture();
        let (once, failures) = run_check(inputs(&f));
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(once.encryption, Some(Value::Known("modern".into())));
        let first = serde_json::to_value(&once).unwrap();
        let (twice, _) = run_check(once);
        assert_eq!(serde_json::to_value(&twice).unwrap(), first);
        // An empty password is fine for modern keystores; unknowns are left alone.
        let mut i = inputs(&f);
        i.password = Some(Value::Known(Secret::new(String::new())));
        i.cert_pem = Value::Unknown;
        assert!(run_check(i).1.is_empty());
    }

    fn ctx(preview: bool) -> Ctx {
        Ctx::new(
            "urn:pulumi:s::p::zerotrust:tls:Pkcs12Bundle::b",
            Arc::new(ProviderConfig::default()),
        )
        .with_preview(preview)
    }

    #[tokio::test]
    async fn preview_leaves_the_keystore_unknown() {
        let f = fixture();
        let created = Pkcs12Bundle.create(&ctx(true), inputs(&f)).await.unwrap();
        let o = created.outputs;
        assert!(o.pkcs12_base64.is_unknown());
        assert!(o.password.is_unknown());
        assert_eq!(o.friendly_name, Value::Known("Trainer".into()));
        assert_eq!(o.encryption, Value::Known("modern".into()));
    }

    #[tokio::test]
    async fn create_generates_a_password_and_a_keystore() {
        let f = fixture();
        let created = Pkcs12Bundle.create(&ctx(false), inputs(&f)).await.unwrap();
        let o = created.outputs;
        let password = o.password.known().unwrap().expose().clone();
        assert_eq!(password.len(), GENERATED_PASSWORD_LEN);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        let der = base64::engine::general_purpose::STANDARD
            .decode(o.pkcs12_base64.known().unwrap().expose())
            .unwrap();
        assert_eq!(der[0], 0x30);
        assert_eq!(created.id, hex::encode(Sha256::digest(&der)));
        // Given passwords are used as they are.
        let mut i = inputs(&f);
        i.password = Some(Value::Known(Secret::new("given".into())));
        let created = Pkcs12Bundle.create(&ctx(false), i).await.unwrap();
        assert_eq!(created.outputs.password.known().unwrap().expose(), "given");
    }
}
