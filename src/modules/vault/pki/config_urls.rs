//! `vault/pkiSecret:SecretBackendConfigUrls`: the AIA URLs a PKI mount writes into the
//! certificates it issues (issuing CA, CRL distribution points, OCSP servers).

use super::common::{known_str, mount_exists};
use crate::codec::PropertyPath;
use crate::modules::vault::client::VaultRequest;
use crate::modules::vault::{check_backend_path, clean_path, list};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{
    CheckCtx, Created, DiffInput, Failures, ReadOutcome, Resource, ResourceError, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

pub struct SecretBackendConfigUrls;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigUrlsInputs {
    /// The PKI mount's path.
    #[schemars(transform = replace_on_changes)]
    pub backend: Value<String>,
    /// URLs of the issuing CA's certificate (Authority Information Access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_certificates: Opt<Vec<String>>,
    /// URLs of the CRL (CRL Distribution Points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_distribution_points: Opt<Vec<String>>,
    /// URLs of the OCSP responders (Authority Information Access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_servers: Opt<Vec<String>>,
    /// Expand `{{cluster_path}}`, `{{cluster_aia_path}}` and `{{issuer_id}}` in the URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_templating: Opt<bool>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub namespace: Opt<String>,
}

/// The list inputs: Pulumi name and Vault name.
const LISTS: [(&str, &str); 3] = [
    ("issuingCertificates", "issuing_certificates"),
    ("crlDistributionPoints", "crl_distribution_points"),
    ("ocspServers", "ocsp_servers"),
];

fn known_list(v: &Opt<Vec<String>>) -> Vec<String> {
    v.as_ref()
        .and_then(Value::known)
        .cloned()
        .unwrap_or_default()
}

fn config_path(backend: &str) -> String {
    format!("{}/config/urls", clean_path(backend))
}

/// The request that writes the whole configuration. Vault keeps fields a write leaves out, so
/// every field is sent, unset ones empty.
pub fn write_request(inputs: &ConfigUrlsInputs) -> Result<VaultRequest, ResourceError> {
    let Value::Known(backend) = &inputs.backend else {
        return Err(ResourceError::Internal(
            "backend unknown outside preview".into(),
        ));
    };
    let body = json!({
        "issuing_certificates": known_list(&inputs.issuing_certificates),
        "crl_distribution_points": known_list(&inputs.crl_distribution_points),
        "ocsp_servers": known_list(&inputs.ocsp_servers),
        "enable_templating": inputs.enable_templating.as_ref().and_then(Value::known).copied().unwrap_or(false),
    });
    Ok(VaultRequest::post(config_path(backend), body).in_namespace(known_str(&inputs.namespace)))
}

/// The request that empties the configuration, for destroy.
pub fn clear_request(backend: &str, namespace: Option<&str>) -> VaultRequest {
    let body = json!({"issuing_certificates": [], "crl_distribution_points": [], "ocsp_servers": [], "enable_templating": false});
    VaultRequest::post(config_path(backend), body).in_namespace(namespace)
}

/// The request that reads the configuration.
pub fn read_request(backend: &str, namespace: Option<&str>) -> VaultRequest {
    VaultRequest::get(config_path(backend)).in_namespace(namespace)
}

/// Inputs after a refresh: Vault's values, except that an input the program leaves unset stays
/// unset while Vault has nothing there.
pub fn refreshed(inputs: &ConfigUrlsInputs, live: &Json) -> ConfigUrlsInputs {
    let take = |old: &Opt<Vec<String>>, vault_key: &str| {
        let live = list(live, vault_key);
        match old {
            None if live.is_empty() => None,
            _ => Some(Value::Known(live)),
        }
    };
    let templating = live
        .get("enable_templating")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    ConfigUrlsInputs {
        backend: inputs.backend.clone(),
        issuing_certificates: take(&inputs.issuing_certificates, LISTS[0].1),
        crl_distribution_points: take(&inputs.crl_distribution_points, LISTS[1].1),
        ocsp_servers: take(&inputs.ocsp_servers, LISTS[2].1),
        enable_templating: match inputs.enable_templating {
            None if !templating => None,
            _ => Some(Value::Known(templating)),
        },
        namespace: inputs.namespace.clone(),
    }
}

impl Resource<ProviderConfig> for SecretBackendConfigUrls {
    type Inputs = ConfigUrlsInputs;
    type Outputs = ConfigUrlsInputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendConfigUrls";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/config_urls.md");
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
        // Templates such as `{{cluster_path}}/ca` are not URLs until Vault expands them.
        let templating = !matches!(inputs.enable_templating, None | Some(Value::Known(false)));
        if !templating {
            for ((key, _), value) in LISTS.iter().zip([
                &inputs.issuing_certificates,
                &inputs.crl_distribution_points,
                &inputs.ocsp_servers,
            ]) {
                let Some(Value::Known(urls)) = value else {
                    continue;
                };
                for (i, url) in urls.iter().enumerate() {
                    if let Err(e) = reqwest::Url::parse(url) {
                        failures.add(
                            PropertyPath::root().key(*key).index(i),
                            format!("{url:?} is not a URL: {e}"),
                        );
                    }
                }
            }
        }
        inputs
    }

    /// A replacement may target the same configuration (e.g. a namespace spelled out that was
    /// the provider's): clear the old one first so the new one is not emptied after it is written.
    fn delete_before_replace(&self, _diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> bool {
        true
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
            id: inputs.backend.known().cloned().unwrap_or_default(),
            outputs: inputs,
        })
    }

    /// The id is the mount's path, which import takes too.
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let backend = clean_path(&id);
        let inputs = match inputs {
            Some(i) => i,
            None => ConfigUrlsInputs {
                backend: Value::Known(backend.clone()),
                issuing_certificates: None,
                crl_distribution_points: None,
                ocsp_servers: None,
                enable_templating: None,
                namespace: None,
            },
        };
        let namespace = known_str(&inputs.namespace);
        let vault = ctx.config().vault().await?;
        let live = match vault.read(ctx, &read_request(&backend, namespace)).await? {
            Some(live) => live,
            // No mount, or (before Vault 1.11) a mount whose URLs were never set.
            None => {
                if !mount_exists(ctx, &vault, &backend, namespace).await? {
                    return Ok(ReadOutcome::Gone);
                }
                Json::Null
            }
        };
        let found = refreshed(&inputs, &live);
        Ok(ReadOutcome::Found {
            id: backend,
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

    /// Empty every list: certificates issued afterwards carry no AIA or CRL URLs.
    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let vault = ctx.config().vault().await?;
        vault
            .remove(ctx, &clear_request(&id, known_str(&outputs.namespace)))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(extra: Json) -> ConfigUrlsInputs {
        let mut base =
            json!({"backend": "pki", "issuingCertificates": ["http://vault:8200/v1/pki/ca"]});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn writes_send_every_field() {
        let r =
            write_request(&inputs(json!({"namespace": "team"}))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/config/urls");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(json!({
                "issuing_certificates": ["http://vault:8200/v1/pki/ca"], "crl_distribution_points": [],
                "ocsp_servers": [], "enable_templating": false,
            }))
        );
        let clear = clear_request("/pki/", None);
        assert_eq!(clear.path, "pki/config/urls");
        assert_eq!(
            clear.body,
            Some(
                json!({"issuing_certificates": [], "crl_distribution_points": [], "ocsp_servers": [], "enable_templating": false})
            )
        );
        assert_eq!(read_request("pki", None).path, "pki/config/urls");
    }

    #[test]
    fn refresh_takes_vault_values_but_keeps_unset_empties_unset() {
        let live = json!({"issuing_certificates": ["http://vault:8200/v1/pki/ca"], "crl_distribution_points": [], "ocsp_servers": [], "enable_templating": false});
        let i = inputs(json!({}));
        assert_eq!(refreshed(&i, &live), i);
        let drifted = json!({"issuing_certificates": [], "crl_distribution_points": ["http://crl"], "enable_templating": true});
        let found = refreshed(&i, &drifted);
        assert_eq!(found.issuing_certificates, Some(Value::Known(Vec::new())));
        assert_eq!(
            found.crl_distribution_points,
            Some(Value::Known(vec!["http://crl".to_string()]))
        );
        assert_eq!(found.ocsp_servers, None);
        assert_eq!(found.enable_templating, Some(Value::Known(true)));
    }

    #[test]
    fn check_wants_urls_unless_templating() {
        let ctx = CheckCtx {
            name: "u",
            random_seed: &[],
            olds: None,
        };
        let mut f = Failures::default();
        let i = inputs(
            json!({"ocspServers": ["http://ocsp", "ocsp.example.com"], "crlDistributionPoints": ["{{cluster_path}}/crl"]}),
        );
        SecretBackendConfigUrls.check(&ctx, i, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["crlDistributionPoints[0]", "ocspServers[1]"]);
        let mut f = Failures::default();
        let templated = inputs(
            json!({"crlDistributionPoints": ["{{cluster_path}}/crl"], "enableTemplating": true}),
        );
        SecretBackendConfigUrls.check(&ctx, templated, &mut f);
        assert!(f.is_empty());
    }
}
