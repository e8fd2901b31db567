//! `vault/pkiSecret:SecretBackendIntermediateSetSigned`: a signed intermediate certificate (and
//! optionally its chain) imported into the mount that holds its key, making it an issuer there.

use super::common::{known_str, mount_exists};
use crate::modules::tls::common::check_pem;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{check_backend_path, clean_path, list};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

pub struct SecretBackendIntermediateSetSigned;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntermediateSetSignedInputs {
    /// The path of the PKI mount that generated the intermediate's CSR.
    pub backend: Value<String>,
    /// The signed intermediate certificate, PEM, optionally followed by the CAs above it.
    pub certificate: Value<String>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Value<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntermediateSetSignedOutputs {
    #[serde(flatten)]
    pub inputs: IntermediateSetSignedInputs,
    /// The ids of the issuers this import created (empty when the certificates were already
    /// issuers of the mount).
    pub imported_issuers: Value<Vec<String>>,
    /// The ids of the keys this import created.
    pub imported_keys: Value<Vec<String>>,
}

/// The request that imports the certificate.
pub fn set_signed_request(
    inputs: &IntermediateSetSignedInputs,
) -> Result<VaultRequest, ResourceError> {
    let (Value::Known(backend), Value::Known(certificate)) = (&inputs.backend, &inputs.certificate)
    else {
        return Err(ResourceError::Internal(
            "backend or certificate unknown outside preview".into(),
        ));
    };
    Ok(VaultRequest::post(
        format!("{}/intermediate/set-signed", clean_path(backend)),
        json!({"certificate": certificate}),
    )
    .in_namespace(known_str(&inputs.namespace)))
}

/// The request that reads one issuer.
pub fn issuer_request(backend: &str, issuer: &str, namespace: Option<&str>) -> VaultRequest {
    VaultRequest::get(format!("{}/issuer/{issuer}", clean_path(backend))).in_namespace(namespace)
}

/// `<backend>/issuer/<first imported issuer>`, or the mount alone when nothing new was imported.
pub fn set_signed_id(backend: &str, issuers: &[String]) -> String {
    match issuers.first() {
        Some(issuer) => format!("{}/issuer/{issuer}", clean_path(backend)),
        None => clean_path(backend),
    }
}

pub fn outputs_from(
    inputs: IntermediateSetSignedInputs,
    data: &Json,
) -> IntermediateSetSignedOutputs {
    IntermediateSetSignedOutputs {
        imported_issuers: Value::Known(list(data, "imported_issuers")),
        imported_keys: Value::Known(list(data, "imported_keys")),
        inputs,
    }
}

impl Resource<ProviderConfig> for SecretBackendIntermediateSetSigned {
    type Inputs = IntermediateSetSignedInputs;
    type Outputs = IntermediateSetSignedOutputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendIntermediateSetSigned";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/intermediate_set_signed.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_backend_path(&inputs.backend, "backend", failures);
        if let Value::Known(b) = &mut inputs.backend {
            *b = clean_path(b);
        }
        check_pem(
            &mut inputs.certificate,
            "certificate",
            crate::pki::cert_info,
            failures,
        );
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: IntermediateSetSignedOutputs {
                    inputs,
                    imported_issuers: Value::Unknown,
                    imported_keys: Value::Unknown,
                },
            });
        }
        let request = set_signed_request(&inputs)?;
        let vault = ctx.config().vault().await?;
        let data = vault.write(ctx, &request).await?;
        let outputs = outputs_from(inputs, &data);
        let backend = outputs.inputs.backend.known().cloned().unwrap_or_default();
        let issuers = outputs
            .imported_issuers
            .known()
            .cloned()
            .unwrap_or_default();
        Ok(Created {
            id: set_signed_id(&backend, &issuers),
            outputs,
        })
    }

    /// Gone when an imported issuer no longer exists (or, when nothing new was imported, when the
    /// mount is gone): the next `up` imports the certificate again.
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let (Some(inputs), Some(outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "an imported intermediate cannot be imported into Pulumi: create the resource with its certificate instead".into(),
            ));
        };
        let Value::Known(backend) = &inputs.backend else {
            return Ok(ReadOutcome::Found {
                id,
                inputs,
                outputs,
            });
        };
        let namespace = known_str(&inputs.namespace);
        let vault = ctx.config().vault().await?;
        let issuers = outputs
            .imported_issuers
            .known()
            .cloned()
            .unwrap_or_default();
        if issuers.is_empty() {
            if !mount_exists(ctx, &vault, backend, namespace).await? {
                return Ok(ReadOutcome::Gone);
            }
            return Ok(ReadOutcome::Found {
                id,
                inputs,
                outputs,
            });
        }
        for issuer in &issuers {
            let request = issuer_request(backend, issuer, namespace);
            if vault.read(ctx, &request).await?.is_none() {
                return Ok(ReadOutcome::Gone);
            }
        }
        Ok(ReadOutcome::Found {
            id,
            inputs,
            outputs,
        })
    }

    // Delete removes nothing from Vault: the imported issuer is the mount's CA. Deleting it
    // would stop the mount from issuing and leave the certificates it signed without their
    // issuer in Vault (no CRL, no revocation). A replacement imports its certificate next to
    // the old one; retire old issuers deliberately, or remove the mount.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{EcdsaCurve, KeyAlgorithm, generate_key};

    fn inputs(certificate: &str) -> IntermediateSetSignedInputs {
        serde_json::from_value(
            json!({"backend": "/pki-int/", "certificate": certificate, "namespace": "team"}),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn set_signed_request_path_and_body() {
        let mut i = inputs("PEM");
        i.backend = Value::Known("pki-int".into());
        let r = set_signed_request(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki-int/intermediate/set-signed");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(r.body, Some(json!({"certificate": "PEM"})));
        assert_eq!(
            issuer_request("pki-int", "i-1", None).path,
            "pki-int/issuer/i-1"
        );
    }

    #[test]
    fn outputs_and_id_from_the_answer() {
        let answer = json!({"imported_issuers": ["i-1", "i-2"], "imported_keys": null, "mapping": {"i-1": "k-1"}});
        let o = outputs_from(inputs("PEM"), &answer);
        assert_eq!(
            o.imported_issuers,
            Value::Known(vec!["i-1".to_string(), "i-2".to_string()])
        );
        assert_eq!(o.imported_keys, Value::Known(Vec::new()));
        assert_eq!(
            set_signed_id("pki-int", &["i-1".to_string()]),
            "pki-int/issuer/i-1"
        );
        assert_eq!(set_signed_id("pki-int", &[]), "pki-int");
    }

    #[test]
    fn check_wants_certificates_only() {
        let ctx = CheckCtx {
            name: "s",
            random_seed: &[],
            olds: None,
        };
        let mut f = Failures::default();
        let checked = SecretBackendIntermediateSetSigned.check(&ctx, inputs("not pem"), &mut f);
        assert_eq!(checked.backend, Value::Known("pki-int".into()));
        let key =
            generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap_or_else(|e| panic!("{e}"));
        // A key is PEM too, but not a certificate; the failure must not quote it.
        SecretBackendIntermediateSetSigned.check(&ctx, inputs(&key.private_key_pem), &mut f);
        let failures = f.into_vec();
        let paths: Vec<String> = failures.iter().map(|x| x.property.to_string()).collect();
        assert_eq!(paths, vec!["certificate", "certificate"]);
        assert!(failures.iter().all(|x| !x.reason.contains("BEGIN")));
    }
}
