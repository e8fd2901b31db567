//! `vault/pkiSecret:SecretBackendCrlConfig`: how a PKI mount builds its CRLs and OCSP answers.

use super::common::known_str;
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
use serde_json::{Map, Value as Json, json};

pub struct SecretBackendCrlConfig;

type Opt<T> = Option<Value<T>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrlConfigInputs {
    /// The PKI mount's path.
    #[schemars(transform = replace_on_changes)]
    pub backend: Value<String>,
    /// How long a CRL stays valid, a Vault duration (Vault's default `72h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Opt<String>,
    /// Stop building CRLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Opt<bool>,
    /// Stop answering OCSP requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_disable: Opt<bool>,
    /// How long an OCSP answer stays valid, a Vault duration (default `12h`; `0`: no expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_expiry: Opt<String>,
    /// Rebuild CRLs before they expire instead of on every revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_rebuild: Opt<bool>,
    /// How long before expiry `autoRebuild` rebuilds, a Vault duration (default `12h`); shorter
    /// than `expiry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_rebuild_grace_period: Opt<String>,
    /// Also build delta CRLs between full rebuilds (needs `autoRebuild`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_delta: Opt<bool>,
    /// How often delta CRLs are rebuilt, a Vault duration (default `15m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_rebuild_interval: Opt<String>,
    /// The namespace of the mount, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub namespace: Opt<String>,
}

/// The settings, as Pulumi names them.
const FIELDS: [&str; 8] = [
    "expiry",
    "disable",
    "ocspDisable",
    "ocspExpiry",
    "autoRebuild",
    "autoRebuildGracePeriod",
    "enableDelta",
    "deltaRebuildInterval",
];
/// Settings that are durations: compared by value, not by spelling.
const DURATIONS: [&str; 4] = [
    "expiry",
    "ocspExpiry",
    "autoRebuildGracePeriod",
    "deltaRebuildInterval",
];
/// Not sent in the body.
const PATH_PARTS: [&str; 2] = ["backend", "namespace"];

/// Vault's default for a setting: what a setting the program stops setting goes back to.
fn vault_default(field: &str) -> Json {
    match field {
        "expiry" => json!("72h"),
        "ocspExpiry" | "autoRebuildGracePeriod" => json!("12h"),
        "deltaRebuildInterval" => json!("15m"),
        _ => json!(false),
    }
}

fn plain(inputs: &CrlConfigInputs) -> Result<Map<String, Json>, ResourceError> {
    match serde_json::to_value(inputs).map(plain_json) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(ResourceError::Internal(
            "CRL settings are not an object".into(),
        )),
        Err(e) => Err(ResourceError::Internal(e.to_string())),
    }
}

fn config_path(backend: &str) -> String {
    format!("{}/config/crl", clean_path(backend))
}

/// The request that writes the settings. Vault keeps settings a write leaves out, so a setting
/// set in `olds` but no longer in `news` is sent with Vault's default.
pub fn write_request(
    news: &CrlConfigInputs,
    olds: Option<&CrlConfigInputs>,
) -> Result<VaultRequest, ResourceError> {
    let Value::Known(backend) = &news.backend else {
        return Err(ResourceError::Internal(
            "backend unknown outside preview".into(),
        ));
    };
    let new_fields = plain(news)?;
    let mut body = match vault_body(&Json::Object(new_fields.clone()), &PATH_PARTS, &[]) {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(olds) = olds {
        let old_fields = plain(olds)?;
        for field in FIELDS {
            if old_fields.get(field).is_some_and(|v| !v.is_null())
                && new_fields.get(field).is_none_or(Json::is_null)
            {
                body.insert(snake_case(field), vault_default(field));
            }
        }
    }
    Ok(VaultRequest::post(config_path(backend), Json::Object(body))
        .in_namespace(known_str(&news.namespace)))
}

/// The request that reads the settings.
pub fn read_request(backend: &str, namespace: Option<&str>) -> VaultRequest {
    VaultRequest::get(config_path(backend)).in_namespace(namespace)
}

fn seconds(v: &Json) -> Option<i64> {
    match v {
        Json::String(s) => duration_seconds(s).ok(),
        Json::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Whether a live value means what the program wrote.
fn same(field: &str, written: &Json, live: &Json) -> bool {
    if DURATIONS.contains(&field) {
        return seconds(written).is_some() && seconds(written) == seconds(live);
    }
    written == live
}

/// The live value in the input's type (durations are strings).
fn as_input(field: &str, live: &Json) -> Json {
    match live {
        Json::Number(n) if DURATIONS.contains(&field) => Json::String(n.to_string()),
        other => other.clone(),
    }
}

/// Inputs after a refresh: every setting the program set, as Vault now has it (durations kept
/// in the program's spelling while equal). With `all`, for import, every setting Vault reports.
pub fn refreshed(
    inputs: &CrlConfigInputs,
    live: &Json,
    all: bool,
) -> Result<CrlConfigInputs, ResourceError> {
    let mut fields = plain(inputs)?;
    for field in FIELDS {
        let Some(live_value) = live.get(snake_case(field)).filter(|v| !v.is_null()) else {
            continue;
        };
        match fields.get(field).filter(|v| !v.is_null()) {
            Some(written) if same(field, written, live_value) => {}
            Some(_) => {
                fields.insert(field.to_string(), as_input(field, live_value));
            }
            None if all => {
                fields.insert(field.to_string(), as_input(field, live_value));
            }
            None => {}
        }
    }
    fields.retain(|_, v| !v.is_null());
    serde_json::from_value(Json::Object(fields))
        .map_err(|e| ResourceError::Internal(format!("refreshed CRL settings: {e}")))
}

impl Resource<ProviderConfig> for SecretBackendCrlConfig {
    type Inputs = CrlConfigInputs;
    type Outputs = CrlConfigInputs;
    const TOKEN: &'static str = "zerotrust:vault/pkiSecret:SecretBackendCrlConfig";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/crl_config.md");
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
        check_duration(inputs.expiry.as_ref(), "expiry", failures);
        check_duration(inputs.ocsp_expiry.as_ref(), "ocspExpiry", failures);
        check_duration(
            inputs.auto_rebuild_grace_period.as_ref(),
            "autoRebuildGracePeriod",
            failures,
        );
        check_duration(
            inputs.delta_rebuild_interval.as_ref(),
            "deltaRebuildInterval",
            failures,
        );
        // Vault refuses delta CRLs without auto-rebuild, and a grace period that is not shorter
        // than the CRL's lifetime.
        let auto_rebuild = inputs.auto_rebuild.clone();
        if let Some(Value::Known(true)) = inputs.enable_delta
            && matches!(auto_rebuild, None | Some(Value::Known(false)))
        {
            failures.at("enableDelta", "delta CRLs need `autoRebuild = true`");
        }
        if let (Some(Value::Known(true)), Some(Value::Known(grace)), Some(Value::Known(expiry))) = (
            &auto_rebuild,
            &inputs.auto_rebuild_grace_period,
            &inputs.expiry,
        ) && let (Ok(g), Ok(e)) = (duration_seconds(grace), duration_seconds(expiry))
            && g >= e
        {
            failures.at(
                "autoRebuildGracePeriod",
                format!("{grace} must be shorter than expiry {expiry}"),
            );
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
                outputs: inputs,
            });
        }
        let request = write_request(&inputs, None)?;
        let vault = ctx.config().vault().await?;
        vault.send(ctx, &request).await?;
        Ok(Created {
            id: inputs.backend.known().cloned().unwrap_or_default(),
            outputs: inputs,
        })
    }

    /// The id is the mount's path, which import takes too (and then takes every setting).
    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let backend = clean_path(&id);
        let importing = inputs.is_none();
        let inputs = match inputs {
            Some(i) => i,
            None => serde_json::from_value(json!({"backend": backend}))
                .map_err(|e| ResourceError::Internal(e.to_string()))?,
        };
        let vault = ctx.config().vault().await?;
        let request = read_request(&backend, known_str(&inputs.namespace));
        let Some(live) = vault.read(ctx, &request).await? else {
            return Ok(ReadOutcome::Gone);
        };
        let found = refreshed(&inputs, &live, importing)?;
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
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        let vault = ctx.config().vault().await?;
        vault.send(ctx, &write_request(&news, Some(&olds))?).await?;
        Ok(news)
    }

    // Delete changes nothing in Vault: a PKI mount always has a CRL configuration, so there is
    // nothing to remove; the mount keeps the last settings until they are changed or the mount
    // is removed.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(extra: Json) -> CrlConfigInputs {
        let mut base =
            json!({"backend": "pki", "expiry": "48h", "autoRebuild": true, "enableDelta": true});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn writes_send_the_settings_and_defaults_for_dropped_ones() {
        let i = inputs(json!({"deltaRebuildInterval": "10m", "namespace": "team"}));
        let r = write_request(&i, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.path, "pki/config/crl");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(
                json!({"expiry": "48h", "auto_rebuild": true, "enable_delta": true, "delta_rebuild_interval": "10m"})
            )
        );
        let news: CrlConfigInputs =
            serde_json::from_value(json!({"backend": "pki", "expiry": "24h"}))
                .unwrap_or_else(|e| panic!("{e}"));
        let u = write_request(&news, Some(&i)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            u.body,
            Some(
                json!({"expiry": "24h", "auto_rebuild": false, "enable_delta": false, "delta_rebuild_interval": "15m"})
            )
        );
        assert_eq!(read_request("/pki/", None).path, "pki/config/crl");
    }

    #[test]
    fn refresh_compares_durations_by_value() {
        let live = json!({"expiry": "172800", "disable": false, "auto_rebuild": true, "enable_delta": true, "ocsp_expiry": "12h"});
        let i = inputs(json!({}));
        assert_eq!(
            refreshed(&i, &live, false).unwrap_or_else(|e| panic!("{e}")),
            i
        );
        let drifted = json!({"expiry": "72h", "auto_rebuild": false, "enable_delta": false, "ocsp_expiry": "12h"});
        let found = refreshed(&i, &drifted, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.expiry, Some(Value::Known("72h".into())));
        assert_eq!(found.auto_rebuild, Some(Value::Known(false)));
        assert_eq!(found.ocsp_expiry, None);
        let bare: CrlConfigInputs =
            serde_json::from_value(json!({"backend": "pki"})).unwrap_or_else(|e| panic!("{e}"));
        let imported = refreshed(&bare, &drifted, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(imported.ocsp_expiry, Some(Value::Known("12h".into())));
        assert_eq!(imported.enable_delta, Some(Value::Known(false)));
    }

    #[test]
    fn check_reports_durations_and_vault_rules() {
        let ctx = CheckCtx {
            name: "c",
            random_seed: &[],
            olds: None,
        };
        let mut f = Failures::default();
        let i = inputs(json!({"ocspExpiry": "half a day", "autoRebuild": false}));
        SecretBackendCrlConfig.check(&ctx, i, &mut f);
        let mut f2 = Failures::default();
        SecretBackendCrlConfig.check(
            &ctx,
            inputs(json!({"autoRebuildGracePeriod": "48h"})),
            &mut f2,
        );
        f.extend(f2.into_vec());
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec!["ocspExpiry", "enableDelta", "autoRebuildGracePeriod"]
        );
    }
}
