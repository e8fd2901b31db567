//! `vault/pkiSecret:SecretBackendRootCert`: a self-signed root CA generated in a PKI mount.

use super::common::{IssueFields, check_issue_fields, issue};
use super::{COMMA_JOINED, KEY_TYPES, check_key};
use crate::codec::typed_json::plain_json;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{check_choice, clean_path, text, vault_body};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::{
    CheckCtx, Created, DiffInput, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub struct SecretBackendRootCert;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RootCertInputs {
    /// The PKI mount's path.
    pub backend: Value<String>,
    /// `internal` (the key stays in Vault), `exported` or `existing` (an existing key, see
    /// `keyRef`).
    #[serde(rename = "type")]
    pub key_handling: Value<String>,
    /// The CA's common name.
    pub common_name: Value<String>,
    /// Subject alternative DNS names and emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_names: Option<Value<Vec<String>>>,
    /// Subject alternative IP addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_sans: Option<Value<Vec<String>>>,
    /// Subject alternative URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_sans: Option<Value<Vec<String>>>,
    /// Other SANs, `<oid>;<type>:<value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_sans: Option<Value<Vec<String>>>,
    /// Validity, a Vault duration (`87600h`); capped by the mount's max lease TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Value<String>>,
    /// `pem`, `der` or `pem_bundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value<String>>,
    /// `der` or `pkcs8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_format: Option<Value<String>>,
    /// `rsa`, `ec` or `ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<Value<String>>,
    /// Key size: RSA 2048/3072/4096/8192, EC 224/256/384/521.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<Value<i64>>,
    /// Longest chain of CAs below this one (-1: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_path_length: Option<Value<i64>>,
    /// Leave the common name out of the SANs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_cn_from_sans: Option<Value<bool>>,
    /// DNS domains the CA may issue for (name constraints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_dns_domains: Option<Value<Vec<String>>>,
    /// Subject organizational unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou: Option<Value<String>>,
    /// Subject organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Value<String>>,
    /// Subject country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Value<String>>,
    /// Subject locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<Value<String>>,
    /// Subject province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<Value<String>>,
    /// Subject street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<Value<String>>,
    /// Subject postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Value<String>>,
    /// A name for the new issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<Value<String>>,
    /// A name for the new key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<Value<String>>,
    /// The existing key to use when `type` is `existing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ref: Option<Value<String>>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Value<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RootCertOutputs {
    #[serde(flatten)]
    pub inputs: RootCertInputs,
    /// The CA certificate, PEM.
    pub certificate: Value<String>,
    /// The issuing CA (for a root, the certificate itself).
    pub issuing_ca: Value<String>,
    /// The certificate's serial number.
    pub serial_number: Value<String>,
    /// The issuer's id in the mount (also the resource's id, with the mount).
    pub issuer_id: Value<String>,
    /// The key's id in the mount.
    pub key_id: Value<String>,
}

const HANDLING: [&str; 3] = ["internal", "exported", "existing"];

fn namespace_of(inputs: &RootCertInputs) -> Option<&str> {
    super::common::known_str(&inputs.namespace)
}

/// `<backend>/issuer/<issuer id>`, what import takes too.
pub fn root_id(backend: &str, issuer_id: &str) -> String {
    format!("{}/issuer/{issuer_id}", clean_path(backend))
}

pub fn parse_root_id(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once("/issuer/")
        .filter(|(b, i)| !b.is_empty() && !i.is_empty())
}

/// The request that generates the root.
pub fn generate_request(inputs: &RootCertInputs) -> Result<VaultRequest, ResourceError> {
    let (Value::Known(backend), Value::Known(handling)) = (&inputs.backend, &inputs.key_handling)
    else {
        return Err(ResourceError::Internal(
            "backend or type unknown outside preview".into(),
        ));
    };
    let json = serde_json::to_value(inputs).map_err(|e| ResourceError::Internal(e.to_string()))?;
    let body = vault_body(
        &plain_json(json),
        &["backend", "type", "namespace"],
        &COMMA_JOINED,
    );
    Ok(VaultRequest::post(
        format!("{}/root/generate/{handling}", clean_path(backend)),
        body,
    )
    .in_namespace(namespace_of(inputs)))
}

fn outputs_from(inputs: RootCertInputs, data: &Json) -> RootCertOutputs {
    let field = |k: &str| Value::Known(text(data, k).unwrap_or_default());
    RootCertOutputs {
        certificate: field("certificate"),
        issuing_ca: Value::Known(
            text(data, "issuing_ca")
                .or_else(|| text(data, "certificate"))
                .unwrap_or_default(),
        ),
        serial_number: field("serial_number"),
        issuer_id: field("issuer_id"),
        key_id: field("key_id"),
        inputs,
    }
}

impl Resource<ProviderConfig> for SecretBackendRootCert {
    type Inputs = RootCertInputs;
    type Outputs = RootCertOutputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendRootCert";
    const DESCRIPTION: &'static str = include_str!("docs/root_cert.md");

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
                ttl: inputs.ttl.as_ref(),
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
        if let (Value::Known(h), None) = (&inputs.key_handling, &inputs.key_ref)
            && h == "existing"
        {
            failures.at("keyRef", "type `existing` needs the key to use");
        }
        inputs
    }

    /// Issuer and key names are unique in a mount: a replacement that keeps either name must
    /// delete the old root first, or Vault refuses the new one ("issuer name already in use").
    fn delete_before_replace(&self, diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> bool {
        let olds = diff.old_inputs.unwrap_or(&diff.olds.inputs);
        let named = |v: &Option<Value<String>>| {
            v.as_ref()
                .and_then(Value::known)
                .filter(|n| !n.is_empty())
                .cloned()
        };
        let keeps = |old: &Option<Value<String>>, new: &Option<Value<String>>| {
            named(new).is_some_and(|n| named(old).as_deref() == Some(n.as_str()))
                || new.as_ref().is_some_and(Value::is_unknown)
        };
        keeps(&olds.issuer_name, &diff.news.issuer_name)
            || keeps(&olds.key_name, &diff.news.key_name)
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: RootCertOutputs {
                    inputs,
                    certificate: Value::Unknown,
                    issuing_ca: Value::Unknown,
                    serial_number: Value::Unknown,
                    issuer_id: Value::Unknown,
                    key_id: Value::Unknown,
                },
            });
        }
        let request = generate_request(&inputs)?;
        let (outputs, issuer) = issue(ctx, &request, "issuer_id", |data| {
            outputs_from(inputs, data)
        })
        .await?;
        Ok(Created {
            id: root_id(
                outputs
                    .inputs
                    .backend
                    .known()
                    .map(String::as_str)
                    .unwrap_or_default(),
                &issuer,
            ),
            outputs,
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let (Some(inputs), Some(mut outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "a root certificate cannot be imported: Vault does not keep the parameters it was generated with".into(),
            ));
        };
        let Some((backend, issuer)) = parse_root_id(&id) else {
            return Err(ResourceError::Internal(format!("malformed id {id:?}")));
        };
        let vault = ctx.config().vault().await?;
        let request = VaultRequest::get(format!("{backend}/issuer/{issuer}"))
            .in_namespace(namespace_of(&inputs));
        let Some(live) = vault.read(ctx, &request).await? else {
            return Ok(ReadOutcome::Gone);
        };
        // Vault's issuer answer frames the same certificate its generate answer did, give or
        // take a newline: only a different certificate is news.
        if let Some(cert) = text(&live, "certificate")
            && !outputs
                .certificate
                .known()
                .is_some_and(|recorded| crate::pki::framing::same_blocks(recorded, &cert))
        {
            outputs.certificate = Value::Known(cert);
        }
        Ok(ReadOutcome::Found {
            id,
            inputs,
            outputs,
        })
    }

    /// Delete the issuer, then its key (which Vault refuses while an issuer uses it).
    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let Some((backend, issuer)) = parse_root_id(&id) else {
            return Ok(());
        };
        let vault = ctx.config().vault().await?;
        let namespace = namespace_of(&outputs.inputs);
        vault
            .remove(
                ctx,
                &VaultRequest::delete(format!("{backend}/issuer/{issuer}")).in_namespace(namespace),
            )
            .await?;
        if let Value::Known(key) = &outputs.key_id
            && !key.is_empty()
            && let Err(e) = vault
                .remove(
                    ctx,
                    &VaultRequest::delete(format!("{backend}/key/{key}")).in_namespace(namespace),
                )
                .await
        {
            ctx.warn(format!("the root's key was kept: {}", e.cause()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs() -> RootCertInputs {
        serde_json::from_value(json!({
            "backend": "/pki/",
            "type": "internal",
            "commonName": "ai-system-root",
            "ttl": "43800h",
            "keyType": "ec",
            "keyBits": 256,
            "altNames": ["root.example.com"],
            "namespace": "team",
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn generate_request_is_the_inputs_in_vault_form() {
        let mut i = inputs();
        i.backend = Value::Known("pki".into());
        let r = generate_request(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/root/generate/internal");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(
                json!({"common_name": "ai-system-root", "ttl": "43800h", "key_type": "ec", "key_bits": 256, "alt_names": "root.example.com"})
            )
        );
    }

    #[test]
    fn check_reports_each_bad_field() {
        let mut i = inputs();
        i.ttl = Some(Value::Known("5 years".into()));
        i.key_type = Some(Value::Known("dsa".into()));
        i.key_handling = Value::Known("kms".into());
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "r",
            random_seed: &[],
            olds: None,
        };
        let checked = SecretBackendRootCert.check(&ctx, i, &mut f);
        assert_eq!(checked.backend, Value::Known("pki".into()));
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["type", "ttl", "keyType"]);
    }

    #[test]
    fn ids_round_trip() {
        assert_eq!(root_id("/pki", "abc"), "pki/issuer/abc");
        assert_eq!(
            parse_root_id("team/pki/issuer/abc"),
            Some(("team/pki", "abc"))
        );
        assert_eq!(parse_root_id("pki"), None);
    }
}
