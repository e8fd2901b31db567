//! `vault:Mount`: a secrets engine mounted at a path (for zerotrust, the PKI engine).

use super::client::VaultRequest;
use super::{check_backend_path, clean_path};
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub struct Mount;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MountInputs {
    /// Where the engine is mounted, e.g. `pki`.
    #[schemars(transform = replace_on_changes)]
    pub path: Value<String>,
    /// The engine type, e.g. `pki`.
    #[serde(rename = "type")]
    #[schemars(transform = replace_on_changes)]
    pub engine_type: Value<String>,
    /// A human-friendly description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value<String>>,
    /// Default lease duration, in seconds (for PKI: the default certificate TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_lease_ttl_seconds: Option<Value<i64>>,
    /// Maximum lease duration, in seconds (for PKI: caps every certificate, CAs included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lease_ttl_seconds: Option<Value<i64>>,
    /// Engine-specific options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value<BTreeMap<String, String>>>,
    /// Whether the mount stays local to this cluster (not replicated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub local: Option<Value<bool>>,
    /// Whether to enable seal wrapping for the mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub seal_wrap: Option<Value<bool>>,
    /// The namespace to mount in, instead of the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub namespace: Option<Value<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MountOutputs {
    #[serde(flatten)]
    pub inputs: MountInputs,
    /// The mount's accessor.
    pub accessor: Value<String>,
}

fn namespace_of(inputs: &MountInputs) -> Option<&str> {
    super::pki::common::known_str(&inputs.namespace)
}

fn known_i64(v: &Option<Value<i64>>) -> Option<i64> {
    v.as_ref().and_then(Value::known).copied()
}

/// The request that mounts the engine.
pub fn mount_request(path: &str, inputs: &MountInputs) -> VaultRequest {
    let mut config = serde_json::Map::new();
    if let Some(ttl) = known_i64(&inputs.default_lease_ttl_seconds) {
        config.insert("default_lease_ttl".into(), json!(format!("{ttl}s")));
    }
    if let Some(ttl) = known_i64(&inputs.max_lease_ttl_seconds) {
        config.insert("max_lease_ttl".into(), json!(format!("{ttl}s")));
    }
    let mut body = json!({
        "type": inputs.engine_type.known().cloned().unwrap_or_default(),
        "config": Json::Object(config),
    });
    if let Some(d) = inputs.description.as_ref().and_then(Value::known) {
        body["description"] = json!(d);
    }
    if let Some(o) = inputs.options.as_ref().and_then(Value::known) {
        body["options"] = json!(o);
    }
    if let Some(l) = inputs.local.as_ref().and_then(Value::known) {
        body["local"] = json!(l);
    }
    if let Some(s) = inputs.seal_wrap.as_ref().and_then(Value::known) {
        body["seal_wrap"] = json!(s);
    }
    VaultRequest::post(format!("sys/mounts/{path}"), body).in_namespace(namespace_of(inputs))
}

/// The request that changes what can change in place.
pub fn tune_request(path: &str, inputs: &MountInputs) -> VaultRequest {
    let mut body = json!({
        "description": inputs.description.as_ref().and_then(Value::known).cloned().unwrap_or_default(),
    });
    if let Some(ttl) = known_i64(&inputs.default_lease_ttl_seconds) {
        body["default_lease_ttl"] = json!(format!("{ttl}s"));
    }
    if let Some(ttl) = known_i64(&inputs.max_lease_ttl_seconds) {
        body["max_lease_ttl"] = json!(format!("{ttl}s"));
    }
    if let Some(o) = inputs.options.as_ref().and_then(Value::known) {
        body["options"] = json!(o);
    }
    VaultRequest::post(format!("sys/mounts/{path}/tune"), body).in_namespace(namespace_of(inputs))
}

/// Inputs as Vault reports a mount (`GET sys/mounts/<path>`), keeping what Vault does not
/// report, or reports only as defaults, as it was written.
pub fn inputs_from_live(path: &str, live: &Json, old: Option<&MountInputs>) -> MountInputs {
    let config = live.get("config").cloned().unwrap_or(Json::Null);
    let seconds = |key: &str, old: Option<&Option<Value<i64>>>| {
        let live = config.get(key).and_then(Json::as_i64).filter(|v| *v > 0);
        match (live, old.and_then(|o| o.as_ref())) {
            (Some(v), _) => Some(Value::Known(v)),
            // Vault reports 0 for "system default": keep an unset input unset.
            (None, Some(o)) => Some(o.clone()),
            (None, None) => None,
        }
    };
    let description = live
        .get("description")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let options: BTreeMap<String, String> = live
        .get("options")
        .and_then(Json::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    MountInputs {
        path: old
            .map(|o| o.path.clone())
            .unwrap_or(Value::Known(path.to_string())),
        engine_type: Value::Known(
            live.get("type")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
        description: match old.and_then(|o| o.description.clone()) {
            None if description.is_empty() => None,
            _ => Some(Value::Known(description.to_string())),
        },
        default_lease_ttl_seconds: seconds(
            "default_lease_ttl",
            old.map(|o| &o.default_lease_ttl_seconds),
        ),
        max_lease_ttl_seconds: seconds("max_lease_ttl", old.map(|o| &o.max_lease_ttl_seconds)),
        options: match old.and_then(|o| o.options.clone()) {
            None if options.is_empty() => None,
            _ => Some(Value::Known(options)),
        },
        local: match (
            live.get("local").and_then(Json::as_bool),
            old.and_then(|o| o.local.clone()),
        ) {
            (Some(false), None) | (None, None) => None,
            (Some(l), _) => Some(Value::Known(l)),
            (None, o) => o,
        },
        seal_wrap: match (
            live.get("seal_wrap").and_then(Json::as_bool),
            old.and_then(|o| o.seal_wrap.clone()),
        ) {
            (Some(false), None) | (None, None) => None,
            (Some(s), _) => Some(Value::Known(s)),
            (None, o) => o,
        },
        namespace: old.and_then(|o| o.namespace.clone()),
    }
}

impl Resource<ProviderConfig> for Mount {
    type Inputs = MountInputs;
    type Outputs = MountOutputs;
    const TOKEN: &'static str = "zerotrust:vault:Mount";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/mount.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_backend_path(&inputs.path, "path", failures);
        if let Value::Known(p) = &mut inputs.path {
            *p = clean_path(p);
        }
        if let Value::Known(t) = &inputs.engine_type
            && t.trim().is_empty()
        {
            failures.at("type", "name the engine type, e.g. `pki`");
        }
        for (key, value) in [
            ("defaultLeaseTtlSeconds", &inputs.default_lease_ttl_seconds),
            ("maxLeaseTtlSeconds", &inputs.max_lease_ttl_seconds),
        ] {
            if let Some(Value::Known(v)) = value
                && *v < 0
            {
                failures.at(key, format!("must not be negative, got {v}"));
            }
        }
        if let (Some(d), Some(m)) = (
            known_i64(&inputs.default_lease_ttl_seconds),
            known_i64(&inputs.max_lease_ttl_seconds),
        ) && m > 0
            && d > m
        {
            failures.at(
                "defaultLeaseTtlSeconds",
                format!("{d} exceeds maxLeaseTtlSeconds {m}"),
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
                outputs: MountOutputs {
                    inputs,
                    accessor: Value::Unknown,
                },
            });
        }
        let Value::Known(path) = inputs.path.clone() else {
            return Err(ResourceError::Internal(
                "path unknown outside preview".into(),
            ));
        };
        let vault = ctx.config().vault().await?;
        vault.send(ctx, &mount_request(&path, &inputs)).await?;
        let live = vault
            .read(
                ctx,
                &VaultRequest::get(format!("sys/mounts/{path}"))
                    .in_namespace(namespace_of(&inputs)),
            )
            .await;
        let accessor = match live {
            Ok(Some(l)) => super::text(&l, "accessor").unwrap_or_default(),
            Ok(None) => String::new(),
            Err(e) => {
                return Err(ResourceError::InitFailed {
                    id: path.clone(),
                    outputs: serde_json::to_value(MountOutputs {
                        inputs: inputs.clone(),
                        accessor: Value::Known(String::new()),
                    })
                    .unwrap_or_default(),
                    reasons: vec![e.cause()],
                });
            }
        };
        Ok(Created {
            id: path,
            outputs: MountOutputs {
                inputs,
                accessor: Value::Known(accessor),
            },
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let vault = ctx.config().vault().await?;
        let namespace = inputs.as_ref().and_then(namespace_of).map(str::to_string);
        let path = clean_path(&id);
        let live = match vault
            .send(
                ctx,
                &VaultRequest::get(format!("sys/mounts/{path}")).in_namespace(namespace.as_deref()),
            )
            .await
        {
            Ok(Some(body)) => body.get("data").cloned().unwrap_or(body),
            Ok(None) => return Ok(ReadOutcome::Gone),
            Err(e) if e.is_gone() => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(e.into()),
        };
        let found = inputs_from_live(&path, &live, inputs.as_ref());
        let accessor = super::text(&live, "accessor").unwrap_or_default();
        Ok(ReadOutcome::Found {
            id: path,
            inputs: found.clone(),
            outputs: MountOutputs {
                inputs: found,
                accessor: Value::Known(accessor),
            },
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: String,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        let vault = ctx.config().vault().await?;
        vault
            .send(ctx, &tune_request(&clean_path(&id), &news))
            .await?;
        Ok(MountOutputs {
            inputs: news,
            accessor: olds.accessor,
        })
    }

    /// Unmounting deletes everything in the engine: issuers, keys, roles, certificates.
    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let vault = ctx.config().vault().await?;
        let request = VaultRequest::delete(format!("sys/mounts/{}", clean_path(&id)))
            .in_namespace(namespace_of(&outputs.inputs));
        vault.remove(ctx, &request).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> MountInputs {
        MountInputs {
            path: Value::Known("pki".into()),
            engine_type: Value::Known("pki".into()),
            description: Some(Value::Known("PKI".into())),
            default_lease_ttl_seconds: Some(Value::Known(3600)),
            max_lease_ttl_seconds: Some(Value::Known(315360000)),
            options: None,
            local: None,
            seal_wrap: None,
            namespace: Some(Value::Known("team".into())),
        }
    }

    #[test]
    fn mount_and_tune_requests() {
        let r = mount_request("pki", &inputs());
        assert_eq!(r.path, "sys/mounts/pki");
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert_eq!(
            r.body,
            Some(
                json!({"type": "pki", "description": "PKI", "config": {"default_lease_ttl": "3600s", "max_lease_ttl": "315360000s"}})
            )
        );
        let t = tune_request("pki", &inputs());
        assert_eq!(t.path, "sys/mounts/pki/tune");
        assert_eq!(
            t.body.as_ref().and_then(|b| b.get("max_lease_ttl")),
            Some(&json!("315360000s"))
        );
    }

    #[test]
    fn refresh_keeps_unset_defaults_unset() {
        let live = json!({"type": "pki", "description": "", "config": {"default_lease_ttl": 0, "max_lease_ttl": 0}, "local": false, "seal_wrap": false, "options": null});
        let mut old = inputs();
        old.description = None;
        old.default_lease_ttl_seconds = None;
        old.max_lease_ttl_seconds = None;
        old.namespace = None;
        assert_eq!(inputs_from_live("pki", &live, Some(&old)), old);
        let changed = json!({"type": "pki", "description": "edited", "config": {"default_lease_ttl": 60, "max_lease_ttl": 0}});
        let found = inputs_from_live("pki", &changed, Some(&old));
        assert_eq!(found.description, Some(Value::Known("edited".into())));
        assert_eq!(found.default_lease_ttl_seconds, Some(Value::Known(60)));
    }

    #[test]
    fn check_refuses_bad_ttls_and_paths() {
        let mut i = inputs();
        i.path = Value::Known("a//b".into());
        i.default_lease_ttl_seconds = Some(Value::Known(10_000));
        i.max_lease_ttl_seconds = Some(Value::Known(100));
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "m",
            random_seed: &[],
            olds: None,
        };
        Mount.check(&ctx, i, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["path", "defaultLeaseTtlSeconds"]);
    }
}
