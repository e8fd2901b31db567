//! `zerotrust:tls:PrivateKey`, as pulumi-tls `PrivateKey`.

use crate::modules::{Ctx, ProviderConfig};
use crate::pki::{self, EcdsaCurve, KeyAlgorithm};
use crate::typed::{CheckCtx, Created, Failures, Resource, ResourceError, Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct PrivateKey;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKeyInputs {
    /// Name of the algorithm to use when generating the private key. Currently-supported values
    /// are: `RSA`, `ECDSA`, `ED25519`.
    pub algorithm: Value<String>,
    /// When `algorithm` is `ECDSA`, the name of the elliptic curve to use. Currently-supported
    /// values are: `P256`, `P384`, `P521`. (default: `P256`.) Unlike pulumi-tls, `P224` is
    /// rejected and the default is `P256`, the curve every TLS stack supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdsa_curve: Option<Value<String>>,
    /// When `algorithm` is `RSA`, the size of the generated RSA key, in bits: 2048, 3072 or
    /// 4096. (default: `2048`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_bits: Option<Value<i64>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKeyOutputs {
    /// Name of the algorithm used when generating the private key.
    pub algorithm: Value<String>,
    /// The elliptic curve used, when `algorithm` is `ECDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdsa_curve: Option<Value<String>>,
    /// The RSA key size, when `algorithm` is `RSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_bits: Option<Value<i64>>,
    /// Private key data in PEM (RFC 1421) format: PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 for
    /// ED25519. Ends with a newline.
    pub private_key_pem: Value<Secret<String>>,
    /// Private key data in PKCS#8 PEM (RFC 5208) format.
    pub private_key_pem_pkcs8: Value<Secret<String>>,
    /// Private key data in OpenSSH PEM (RFC 4716) format.
    pub private_key_openssh: Value<Secret<String>>,
    /// Public key data in PEM (RFC 1421) format.
    pub public_key_pem: Value<String>,
    /// The public key data in "Authorized Keys" format, ending with a newline.
    pub public_key_openssh: Value<String>,
    /// The fingerprint of the public key data in OpenSSH MD5 hash format, e.g. `aa:bb:cc:...`.
    pub public_key_fingerprint_md5: Value<String>,
    /// The fingerprint of the public key data in OpenSSH SHA256 hash format, e.g. `SHA256:...`.
    pub public_key_fingerprint_sha256: Value<String>,
}

const ALGORITHMS: [&str; 3] = ["RSA", "ECDSA", "ED25519"];

fn curve(name: &str) -> Option<EcdsaCurve> {
    match name {
        "P256" => Some(EcdsaCurve::P256),
        "P384" => Some(EcdsaCurve::P384),
        "P521" => Some(EcdsaCurve::P521),
        _ => None,
    }
}

impl Resource<ProviderConfig> for PrivateKey {
    type Inputs = PrivateKeyInputs;
    type Outputs = PrivateKeyOutputs;
    const TOKEN: &'static str = "zerotrust:tls:PrivateKey";
    const DESCRIPTION: &'static str = include_str!("docs/private_key.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, PrivateKeyInputs>,
        mut inputs: PrivateKeyInputs,
        failures: &mut Failures,
    ) -> PrivateKeyInputs {
        if let Value::Known(alg) = &inputs.algorithm
            && !ALGORITHMS.contains(&alg.as_str())
        {
            failures.at(
                "algorithm",
                format!("unknown algorithm '{alg}'; expected one of RSA, ECDSA, ED25519"),
            );
        }
        if let Some(Value::Known(c)) = &inputs.ecdsa_curve {
            if c == "P224" {
                failures.at(
                    "ecdsaCurve",
                    "P224 is not supported (the crypto library has no P-224, and few TLS stacks accept it); use P256, P384 or P521",
                );
            } else if curve(c).is_none() {
                failures.at(
                    "ecdsaCurve",
                    format!("unknown curve '{c}'; expected one of P256, P384, P521"),
                );
            }
        }
        if let Some(Value::Known(bits)) = &inputs.rsa_bits
            && ![2048, 3072, 4096].contains(bits)
        {
            failures.at(
                "rsaBits",
                format!("unsupported RSA key size {bits}; expected 2048, 3072 or 4096"),
            );
        }
        // Defaults only where they mean something, so an Ed25519 key shows no RSA size.
        match inputs.algorithm.known().map(String::as_str) {
            Some("ECDSA") if inputs.ecdsa_curve.is_none() => {
                inputs.ecdsa_curve = Some(Value::Known("P256".into()));
            }
            Some("RSA") if inputs.rsa_bits.is_none() => {
                inputs.rsa_bits = Some(Value::Known(2048));
            }
            _ => {}
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: PrivateKeyInputs,
    ) -> Result<Created<PrivateKeyOutputs>, ResourceError> {
        let unknown_outputs = |inputs: PrivateKeyInputs| PrivateKeyOutputs {
            algorithm: inputs.algorithm,
            ecdsa_curve: inputs.ecdsa_curve,
            rsa_bits: inputs.rsa_bits,
            private_key_pem: Value::Unknown,
            private_key_pem_pkcs8: Value::Unknown,
            private_key_openssh: Value::Unknown,
            public_key_pem: Value::Unknown,
            public_key_openssh: Value::Unknown,
            public_key_fingerprint_md5: Value::Unknown,
            public_key_fingerprint_sha256: Value::Unknown,
        };
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: unknown_outputs(inputs),
            });
        }
        let algorithm = match (
            inputs.algorithm.known().map(String::as_str),
            inputs.ecdsa_curve.as_ref().and_then(Value::known),
            inputs.rsa_bits.as_ref().and_then(Value::known),
        ) {
            (Some("RSA"), _, bits) => KeyAlgorithm::Rsa {
                bits: u32::try_from(bits.copied().unwrap_or(2048)).map_err(|_| {
                    ResourceError::InvalidInput {
                        property: crate::codec::PropertyPath::root().key("rsaBits"),
                        reason: "must be 2048, 3072 or 4096".into(),
                    }
                })?,
            },
            (Some("ECDSA"), c, _) => {
                KeyAlgorithm::Ecdsa(c.and_then(|c| curve(c)).unwrap_or(EcdsaCurve::P256))
            }
            (Some("ED25519"), _, _) => KeyAlgorithm::Ed25519,
            _ => {
                return Err(ResourceError::InvalidInput {
                    property: crate::codec::PropertyPath::root().key("algorithm"),
                    reason: "algorithm must be RSA, ECDSA or ED25519".into(),
                });
            }
        };
        let material = super::common::off_runtime(move || {
            pki::generate_key(algorithm).map_err(|e| ResourceError::backend("generate key", e))
        })
        .await?;
        let id = material.public.id.clone();
        Ok(Created {
            id,
            outputs: PrivateKeyOutputs {
                algorithm: inputs.algorithm,
                ecdsa_curve: inputs.ecdsa_curve,
                rsa_bits: inputs.rsa_bits,
                private_key_pem: Value::Known(Secret::new(material.private_key_pem.clone())),
                private_key_pem_pkcs8: Value::Known(Secret::new(
                    material.private_key_pem_pkcs8.clone(),
                )),
                private_key_openssh: Value::Known(Secret::new(
                    material.private_key_openssh.clone(),
                )),
                public_key_pem: Value::Known(material.public.public_key_pem.clone()),
                public_key_openssh: Value::Known(material.public.public_key_openssh.clone()),
                public_key_fingerprint_md5: Value::Known(
                    material.public.public_key_fingerprint_md5.clone(),
                ),
                public_key_fingerprint_sha256: Value::Known(
                    material.public.public_key_fingerprint_sha256.clone(),
                ),
            },
        })
    }
}
