//! `vault/pkiSecret:SecretBackendIntermediateCertRequest`: a key and a CSR for an intermediate
//! CA, generated in a PKI mount, to be signed by a parent CA.

use super::common::{IssueFields, check_issue_fields, issue, known_str, mount_exists};
use super::{COMMA_JOINED, KEY_TYPES, check_key};
use crate::codec::typed_json::plain_json;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{check_choice, clean_path, text, vault_body};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::{
    CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Secret, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub struct SecretBackendIntermediateCertRequest;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntermediateCertRequestInputs {
    /// The PKI mount's path.
    pub backend: Value<String>,
    /// `internal` (the key stays in Vault), `exported` (the key is returned once, in
    /// `privateKey`) or `existing` (a key already in the mount, see `keyRef`).
    #[serde(rename = "type")]
    pub key_handling: Value<String>,
    /// The intermediate CA's common name.
    pub common_name: Value<String>,
    /// Subject alternative DNS names and emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_names: Opt<Vec<String>>,
    /// Subject alternative IP addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_sans: Opt<Vec<String>>,
    /// Subject alternative URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_sans: Opt<Vec<String>>,
    /// Other SANs, `<oid>;<type>:<value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_sans: Opt<Vec<String>>,
    /// `pem`, `der` or `pem_bundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Opt<String>,
    /// `der` or `pkcs8`, for an exported key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_format: Opt<String>,
    /// `rsa`, `ec` or `ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Opt<String>,
    /// Key size: RSA 2048/3072/4096/8192, EC 224/256/384/521.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bits: Opt<i64>,
    /// Leave the common name out of the SANs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_cn_from_sans: Opt<bool>,
    /// Subject organizational unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou: Opt<String>,
    /// Subject organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Opt<String>,
    /// Subject country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Opt<String>,
    /// Subject locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Opt<String>,
    /// Subject province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Opt<String>,
    /// Subject street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Opt<String>,
    /// Subject postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Opt<String>,
    /// Put a CA basic constraints extension in the CSR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_basic_constraints: Opt<bool>,
    /// A name for the new key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Opt<String>,
    /// The existing key to use when `type` is `existing`, by name or id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ref: Opt<String>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Opt<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntermediateCertRequestOutputs {
    #[serde(flatten)]
    pub inputs: IntermediateCertRequestInputs,
    /// The certificate signing request, in `format`.
    pub csr: Value<String>,
    /// The id of the key in the mount.
    pub key_id: Value<String>,
    /// The private key; only with `type = "exported"`, else empty.
    pub private_key: Value<Secret<String>>,
    /// The private key's type; only with `type = "exported"`, else empty.
    pub private_key_type: Value<String>,
}

const HANDLING: [&str; 3] = ["internal", "exported", "existing"];
/// Parts of the request path, not of its body.
const PATH_PARTS: [&str; 3] = ["backend", "type", "namespace"];

fn exported(inputs: &IntermediateCertRequestInputs) -> bool {
    matches!(&inputs.key_handling, Value::Known(h) if h == "exported")
}

/// The request that generates the key (or picks the existing one) and the CSR.
pub fn generate_request(
    inputs: &IntermediateCertRequestInputs,
) -> Result<VaultRequest, ResourceError> {
    let (Value::Known(backend), Value::Known(handling)) = (&inputs.backend, &inputs.key_handling)
    else {
        return Err(ResourceError::Internal(
            "backend or type unknown outside preview".into(),
        ));
    };
    let json = serde_json::to_value(inputs).map_err(|e| ResourceError::Internal(e.to_string()))?;
    let body = vault_body(&plain_json(json), &PATH_PARTS, &COMMA_JOINED);
    Ok(VaultRequest::post(
        format!("{}/intermediate/generate/{handling}", clean_path(backend)),
        body,
    )
    .in_namespace(known_str(&inputs.namespace)))
}

/// `<backend>/key/<key id>`, or the mount alone when Vault reports no key id (before 1.11).
pub fn request_id(backend: &str, key_id: &str) -> String {
    if key_id.is_empty() {
        clean_path(backend)
    } else {
        format!("{}/key/{key_id}", clean_path(backend))
    }
}

/// The outputs from Vault's answer. The key is kept only when it was asked to be exported.
pub fn outputs_from(
    inputs: IntermediateCertRequestInputs,
    data: &Json,
) -> IntermediateCertRequestOutputs {
    let exported = exported(&inputs);
    let only_exported = |k: &str| {
        if exported {
            text(data, k).unwrap_or_default()
        } else {
            String::new()
        }
    };
    IntermediateCertRequestOutputs {
        csr: Value::Known(text(data, "csr").unwrap_or_default()),
        key_id: Value::Known(text(data, "key_id").unwrap_or_default()),
        private_key: Value::Known(Secret::new(only_exported("private_key"))),
        private_key_type: Value::Known(only_exported("private_key_type")),
        inputs,
    }
}

/// The outputs a preview can promise: no key unless it is exported.
pub fn preview_outputs(inputs: IntermediateCertRequestInputs) -> IntermediateCertRequestOutputs {
    let kept_in_vault = matches!(&inputs.key_handling, Value::Known(h) if h != "exported");
    IntermediateCertRequestOutputs {
        csr: Value::Unknown,
        key_id: Value::Unknown,
        private_key: if kept_in_vault {
            Value::Known(Secret::new(String::new()))
        } else {
            Value::Unknown
        },
        private_key_type: if kept_in_vault {
            Value::Known(String::new())
        } else {
            Value::Unknown
        },
        inputs,
    }
}

impl Resource<ProviderConfig> for SecretBackendIntermediateCertRequest {
    type Inputs = IntermediateCertRequestInputs;
    type Outputs = IntermediateCertRequestOutputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendIntermediateCertRequest";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/intermediate_cert_request.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_choice(Some(&inputs.key_handling), "type", &HANDLING, failures);
        check_issue_fields(
            IssueFields {
                backend: &mut inputs.backend,
                common_name: &inputs.common_name,
                ttl: None,
                format: inputs.format.as_ref(),
                private_key_format: inputs.private_key_format.as_ref(),
            },
            failures,
        );
        check_key(
            inputs.key_type.as_ref(),
            inputs.key_bits.as_ref(),
            &KEY_TYPES,
            failures,
        );
        match (&inputs.key_handling, &inputs.key_ref) {
            (Value::Known(h), None) if h == "existing" => {
                failures.at("keyRef", "type `existing` needs the key to use");
            }
            (Value::Known(h), Some(Value::Known(r))) if h == "existing" && r.trim().is_empty() => {
                failures.at("keyRef", "must name a key of the mount");
            }
            _ => {}
        }
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
                outputs: preview_outputs(inputs),
            });
        }
        let request = generate_request(&inputs)?;
        let (outputs, _csr) =
            issue(ctx, &request, "csr", |data| outputs_from(inputs, data)).await?;
        let backend = outputs.inputs.backend.known().cloned().unwrap_or_default();
        let key_id = outputs.key_id.known().cloned().unwrap_or_default();
        Ok(Created {
            id: request_id(&backend, &key_id),
            outputs,
        })
    }

    /// Vault keeps no CSR, so the recorded one stands; the resource is gone with its mount.
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let (Some(inputs), Some(outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "an intermediate certificate request cannot be imported: Vault does not keep the CSR".into(),
            ));
        };
        let Value::Known(backend) = &inputs.backend else {
            return Ok(ReadOutcome::Found {
                id,
                inputs,
                outputs,
            });
        };
        let vault = ctx.config().vault().await?;
        if !mount_exists(ctx, &vault, backend, known_str(&inputs.namespace)).await? {
            return Ok(ReadOutcome::Gone);
        }
        Ok(ReadOutcome::Found {
            id,
            inputs,
            outputs,
        })
    }

    // Delete removes nothing from Vault: once the CSR is signed and imported, the key backs the
    // intermediate's issuer, and deleting it would leave the mount unable to issue. The key
    // goes with the mount, or can be deleted deliberately once no issuer uses it.
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs(extra: Json) -> IntermediateCertRequestInputs {
        let mut base = json!({"backend": "pki-int", "type": "internal", "commonName": "ai-system-intermediate"});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn generate_request_path_and_body() {
        let i = inputs(json!({
            "type": "existing", "keyRef": "k1", "keyType": "ec", "keyBits": 384,
            "altNames": ["int.example.com", "ca.example.com"], "ipSans": ["10.0.0.1"],
            "addBasicConstraints": true, "organization": "AI", "namespace": "team",
        }));
        let r = generate_request(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki-int/intermediate/generate/existing");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(json!({
                "common_name": "ai-system-intermediate", "key_ref": "k1", "key_type": "ec", "key_bits": 384,
                "alt_names": "int.example.com,ca.example.com", "ip_sans": "10.0.0.1",
                "add_basic_constraints": true, "organization": "AI",
            }))
        );
    }

    #[test]
    fn the_key_is_an_output_only_when_exported() {
        let answer =
            json!({"csr": "CSR", "key_id": "k-1", "private_key": "KEY", "private_key_type": "ec"});
        let internal = outputs_from(inputs(json!({})), &answer);
        assert_eq!(
            internal.private_key.known().map(|k| k.expose().as_str()),
            Some("")
        );
        assert_eq!(internal.private_key_type, Value::Known(String::new()));
        assert_eq!(internal.csr, Value::Known("CSR".into()));
        let exported = outputs_from(inputs(json!({"type": "exported"})), &answer);
        assert_eq!(
            exported.private_key.known().map(|k| k.expose().as_str()),
            Some("KEY")
        );
        assert_eq!(exported.private_key_type, Value::Known("ec".into()));
        assert_eq!(request_id("/pki-int/", "k-1"), "pki-int/key/k-1");
        assert_eq!(request_id("pki-int", ""), "pki-int");
    }

    #[test]
    fn preview_leaves_vault_outputs_unknown() {
        let p = preview_outputs(inputs(json!({})));
        assert!(p.csr.is_unknown() && p.key_id.is_unknown());
        assert_eq!(p.private_key_type, Value::Known(String::new()));
        let p = preview_outputs(inputs(json!({"type": "exported"})));
        assert!(p.private_key.is_unknown() && p.private_key_type.is_unknown());
    }

    #[test]
    fn check_reports_every_bad_field() {
        let i = inputs(json!({
            "backend": "a//b", "type": "existing", "commonName": " ", "format": "pkcs12",
            "privateKeyFormat": "pem", "keyType": "rsa", "keyBits": 1024,
        }));
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "r",
            random_seed: &[],
            olds: None,
        };
        SecretBackendIntermediateCertRequest.check(&ctx, i, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "backend",
                "commonName",
                "format",
                "privateKeyFormat",
                "keyBits",
                "keyRef"
            ]
        );
    }
}
