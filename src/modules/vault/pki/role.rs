//! `vault/pkiSecret:SecretBackendRole`: the issuance policy certificates are issued under.

use super::check_key;
use crate::codec::typed_json::plain_json;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{
    check_backend_path, check_duration, clean_path, duration_seconds, snake_case, vault_body,
};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

pub struct SecretBackendRole;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleInputs {
    /// The PKI mount's path.
    #[schemars(transform = replace_on_changes)]
    pub backend: Value<String>,
    /// The role's name.
    #[schemars(transform = replace_on_changes)]
    pub name: Value<String>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub namespace: Opt<String>,
    /// The issuer that signs, by name or id (default: the mount's default issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_ref: Opt<String>,
    /// Default certificate lifetime, a Vault duration (`720h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Opt<String>,
    /// Longest certificate lifetime, a Vault duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Opt<String>,
    /// Allow `localhost` as a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_localhost: Opt<bool>,
    /// Domains certificates may be issued for (see `allowSubdomains`, `allowBareDomains`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Opt<Vec<String>>,
    /// Treat `allowedDomains` as identity templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains_template: Opt<bool>,
    /// Allow the domains in `allowedDomains` themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_bare_domains: Opt<bool>,
    /// Allow subdomains of `allowedDomains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_subdomains: Opt<bool>,
    /// Allow globs in `allowedDomains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_glob_domains: Opt<bool>,
    /// Allow any name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_any_name: Opt<bool>,
    /// Only allow valid host names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_hostnames: Opt<bool>,
    /// Allow IP SANs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_ip_sans: Opt<bool>,
    /// URI SANs allowed (globs allowed), e.g. `spiffe://cluster.local/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_uri_sans: Opt<Vec<String>>,
    /// Treat `allowedUriSans` as identity templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_uri_sans_template: Opt<bool>,
    /// Other SANs allowed, `<oid>;<type>:<value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_other_sans: Opt<Vec<String>>,
    /// Allow wildcard names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_wildcard_certificates: Opt<bool>,
    /// Certificates may be used for server authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_flag: Opt<bool>,
    /// Certificates may be used for client authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_flag: Opt<bool>,
    /// Certificates may be used for code signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_signing_flag: Opt<bool>,
    /// Certificates may be used for email protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_protection_flag: Opt<bool>,
    /// `rsa`, `ec`, `ed25519` or `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Opt<String>,
    /// Key size (0: the type's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bits: Opt<i64>,
    /// Bits of the signature hash (256, 384, 512; 0: default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_bits: Opt<i64>,
    /// Key usages, e.g. `DigitalSignature`, `KeyEncipherment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_usages: Opt<Vec<String>>,
    /// Extended key usages, e.g. `ServerAuth`, `ClientAuth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_key_usages: Opt<Vec<String>>,
    /// Extended key usage OIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_key_usage_oids: Opt<Vec<String>>,
    /// Take the common name from the CSR when signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_csr_common_name: Opt<bool>,
    /// Take the SANs from the CSR when signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_csr_sans: Opt<bool>,
    /// Subject organizational units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou: Opt<Vec<String>>,
    /// Subject organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Opt<Vec<String>>,
    /// Subject countries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Opt<Vec<String>>,
    /// Subject localities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Opt<Vec<String>>,
    /// Subject provinces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Opt<Vec<String>>,
    /// Subject street addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Opt<Vec<String>>,
    /// Subject postal codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Opt<Vec<String>>,
    /// Issue certificates with a Vault lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_lease: Opt<bool>,
    /// Do not store issued certificates (they then cannot be listed or revoked by serial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_store: Opt<bool>,
    /// Require a common name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_cn: Opt<bool>,
    /// Certificate policy OIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_identifiers: Opt<Vec<String>>,
    /// Mark non-CA certificates' basic constraints valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_constraints_valid_for_non_ca: Opt<bool>,
    /// Backdating of NotBefore, a Vault duration (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before_duration: Opt<String>,
    /// Subject serial numbers allowed (globs allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_serial_numbers: Opt<Vec<String>>,
    /// How common names are validated: `email`, `hostname`, `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cn_validations: Opt<Vec<String>>,
}

/// Pulumi names whose Vault field is not their snake_case.
const RENAMED: [(&str, &str); 2] = [
    ("keyUsages", "key_usage"),
    ("extKeyUsages", "ext_key_usage"),
];
/// Inputs that are durations: compared by value, not by spelling.
const DURATIONS: [&str; 3] = ["ttl", "maxTtl", "notBeforeDuration"];
/// Not sent in the body.
const PATH_PARTS: [&str; 3] = ["backend", "name", "namespace"];

fn vault_key(pulumi_key: &str) -> String {
    RENAMED
        .iter()
        .find(|(p, _)| *p == pulumi_key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| snake_case(pulumi_key))
}

fn namespace_of(inputs: &RoleInputs) -> Option<&str> {
    super::common::known_str(&inputs.namespace)
}

fn plain(inputs: &RoleInputs) -> Result<Json, ResourceError> {
    serde_json::to_value(inputs)
        .map(plain_json)
        .map_err(|e| ResourceError::Internal(e.to_string()))
}

/// `<backend>/roles/<name>`, which import takes too.
pub fn role_path(backend: &str, name: &str) -> String {
    format!("{}/roles/{name}", clean_path(backend))
}

/// The request that writes the whole role (create and update alike).
pub fn write_request(inputs: &RoleInputs) -> Result<VaultRequest, ResourceError> {
    let (Value::Known(backend), Value::Known(name)) = (&inputs.backend, &inputs.name) else {
        return Err(ResourceError::Internal(
            "backend or name unknown outside preview".into(),
        ));
    };
    let json = plain(inputs)?;
    let mut body = Map::new();
    if let Json::Object(fields) = vault_body(&json, &PATH_PARTS, &[]) {
        for (k, v) in fields {
            body.insert(k, v);
        }
    }
    for (pulumi, vault) in RENAMED {
        if let Some(v) = body.remove(&snake_case(pulumi)) {
            body.insert(vault.to_string(), v);
        }
    }
    Ok(
        VaultRequest::post(role_path(backend, name), Json::Object(body))
            .in_namespace(namespace_of(inputs)),
    )
}

/// Whether a live value means what the program wrote.
fn same(key: &str, written: &Json, live: &Json) -> bool {
    // 0 asks for the key type's default size; Vault records the size it chose.
    if matches!(key, "keyBits" | "signatureBits") && written.as_i64() == Some(0) {
        return true;
    }
    if DURATIONS.contains(&key) {
        let seconds = |v: &Json| match v {
            Json::String(s) => duration_seconds(s).ok(),
            Json::Number(n) => n.as_i64(),
            _ => None,
        };
        return seconds(written).is_some() && seconds(written) == seconds(live);
    }
    match (written, live) {
        // Vault may answer a single-item list as a string and vice versa.
        (Json::Array(w), Json::String(l)) => w.len() == 1 && w[0].as_str() == Some(l.as_str()),
        (Json::Array(w), Json::Null) => w.is_empty(),
        _ => written == live,
    }
}

/// The live value in the input's type.
fn as_input(key: &str, live: &Json) -> Json {
    match live {
        Json::Number(n) if DURATIONS.contains(&key) => Json::String(n.to_string()),
        Json::Null => Json::Null,
        other => other.clone(),
    }
}

/// Inputs after a refresh: every field the program set, as Vault now has it.
pub fn refreshed(inputs: &RoleInputs, live: &Json) -> Result<RoleInputs, ResourceError> {
    let Json::Object(mut written) = plain(inputs)? else {
        return Err(ResourceError::Internal(
            "role inputs are not an object".into(),
        ));
    };
    for (key, value) in written.iter_mut() {
        if PATH_PARTS.contains(&key.as_str()) {
            continue;
        }
        let Some(live_value) = live.get(vault_key(key)) else {
            continue;
        };
        if !same(key, value, live_value) {
            *value = as_input(key, live_value);
        }
    }
    written.retain(|_, v| !v.is_null());
    serde_json::from_value(Json::Object(written))
        .map_err(|e| ResourceError::Internal(format!("refreshed role: {e}")))
}

impl Resource<ProviderConfig> for SecretBackendRole {
    type Inputs = RoleInputs;
    type Outputs = RoleInputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendRole";
    // Upstream sends an empty key usage list on: "no key usage constraints", not the default.
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::AbsentExcept(&["keyUsages"]);
    const DESCRIPTION: &'static str = include_str!("docs/role.md");
    const UPDATABLE: bool = true;

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
        if let Value::Known(n) = &inputs.name
            && (n.is_empty() || n.contains('/'))
        {
            failures.at("name", format!("{n:?} is not a role name"));
        }
        check_duration(inputs.ttl.as_ref(), "ttl", failures);
        check_duration(inputs.max_ttl.as_ref(), "maxTtl", failures);
        check_duration(
            inputs.not_before_duration.as_ref(),
            "notBeforeDuration",
            failures,
        );
        if let (Some(Value::Known(ttl)), Some(Value::Known(max))) = (&inputs.ttl, &inputs.max_ttl)
            && let (Ok(t), Ok(m)) = (duration_seconds(ttl), duration_seconds(max))
            && m > 0
            && t > m
        {
            failures.at("ttl", format!("{ttl} is longer than maxTtl {max}"));
        }
        check_key(
            inputs.key_type.as_ref(),
            inputs.key_bits.as_ref(),
            &["rsa", "ec", "ed25519", "any"],
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
                outputs: inputs,
            });
        }
        let request = write_request(&inputs)?;
        let vault = ctx.config().vault().await?;
        vault.send(ctx, &request).await?;
        Ok(Created {
            id: request.path,
            outputs: inputs,
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let Some((backend, name)) = id.rsplit_once("/roles/") else {
            return Err(ResourceError::InvalidInput {
                property: crate::codec::PropertyPath::root().key("id"),
                reason: format!("{id:?} is not `<mount>/roles/<name>`"),
            });
        };
        // Import knows only the path; the program's other settings come with the next up.
        let inputs = match inputs {
            Some(i) => i,
            None => serde_json::from_value(serde_json::json!({"backend": backend, "name": name}))
                .map_err(|e| ResourceError::Internal(e.to_string()))?,
        };
        let vault = ctx.config().vault().await?;
        let Some(live) = vault
            .read(
                ctx,
                &VaultRequest::get(id.clone()).in_namespace(namespace_of(&inputs)),
            )
            .await?
        else {
            return Ok(ReadOutcome::Gone);
        };
        let found = refreshed(&inputs, &live)?;
        Ok(ReadOutcome::Found {
            id,
            inputs: found.clone(),
            outputs: found,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        _olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        let vault = ctx.config().vault().await?;
        vault.send(ctx, &write_request(&news)?).await?;
        Ok(news)
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let vault = ctx.config().vault().await?;
        vault
            .remove(
                ctx,
                &VaultRequest::delete(id).in_namespace(namespace_of(&outputs)),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(extra: Json) -> RoleInputs {
        let mut base = json!({"backend": "pki", "name": "ai-system", "allowedDomains": ["ai-system.example.com"], "allowSubdomains": true, "maxTtl": "720h", "keyUsages": ["DigitalSignature"]});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn write_request_uses_vault_names() {
        let r = write_request(&role(json!({}))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/roles/ai-system");
        assert_eq!(
            r.body,
            Some(
                json!({"allowed_domains": ["ai-system.example.com"], "allow_subdomains": true, "max_ttl": "720h", "key_usage": ["DigitalSignature"]})
            )
        );
    }

    #[test]
    fn refresh_keeps_equal_values_and_takes_drift() {
        let live = json!({"allowed_domains": ["ai-system.example.com"], "allow_subdomains": true, "max_ttl": 2592000, "key_usage": ["DigitalSignature"], "ttl": 0});
        let same = refreshed(&role(json!({})), &live).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(same.max_ttl, Some(Value::Known("720h".into())));
        let drifted = json!({"allowed_domains": ["other.example.com"], "allow_subdomains": false, "max_ttl": 3600, "key_usage": ["DigitalSignature"]});
        let found = refreshed(&role(json!({})), &drifted).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.max_ttl, Some(Value::Known("3600".into())));
        assert_eq!(found.allow_subdomains, Some(Value::Known(false)));
        assert_eq!(
            found.allowed_domains,
            Some(Value::Known(vec!["other.example.com".to_string()]))
        );
    }

    #[test]
    fn zero_sizes_mean_the_default_and_do_not_drift() {
        let live = json!({"allowed_domains": ["ai-system.example.com"], "allow_subdomains": true, "max_ttl": 2592000, "key_usage": ["DigitalSignature"], "key_bits": 2048, "signature_bits": 256});
        let found = refreshed(&role(json!({"keyBits": 0, "signatureBits": 0})), &live)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.key_bits, Some(Value::Known(0)));
        assert_eq!(found.signature_bits, Some(Value::Known(0)));
        let found =
            refreshed(&role(json!({"keyBits": 4096})), &live).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.key_bits, Some(Value::Known(2048)));
    }

    #[test]
    fn check_reports_ttl_syntax_and_key_type() {
        let i = role(json!({"ttl": "30 days", "keyType": "dsa", "maxTtl": "1h"}));
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "r",
            random_seed: &[],
            olds: None,
        };
        SecretBackendRole.check(&ctx, i, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["ttl", "keyType"]);
    }
}
