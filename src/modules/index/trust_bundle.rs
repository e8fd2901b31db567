//! `zerotrust:index:TrustBundle`: the CA certificates workloads trust, from any mix of backends,
//! delivered into Kubernetes namespaces, as a component. Its children: a `CaBundle`, which keeps
//! the bundle and the overlap of retired CAs in state, and per namespace a ConfigMap (and, when
//! asked, a Secret) holding the bundle.

use super::ca_bundle::{CaBundle, CaBundleInputs};
use crate::codec::PropertyPath;
use crate::modules::ProviderConfig;
use crate::modules::backend::duration_seconds;
use crate::modules::kubernetes::core_v1::{ConfigMap, ConfigMapObject, SecretKind, SecretObject};
use crate::modules::kubernetes::meta::{ObjectMeta, is_dns_label, is_dns_subdomain};
use crate::modules::kubernetes::object::KubeResource;
use crate::typed::{ChildOptions, Component, Failures, ResourceError, Scope, Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct TrustBundle;

const DEFAULT_KEY: &str = "ca.crt";

/// Where the bundle goes.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "TrustBundleDelivery")]
pub struct BundleDelivery {
    /// The namespaces to deliver into, each a DNS label.
    pub namespaces: Value<Vec<String>>,
    /// The name of the ConfigMap (and Secret) in each namespace. Default: the bundle's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Value<String>>,
    /// The key the bundle is stored under. Default `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Value<String>>,
    /// Also deliver the bundle as an Opaque Secret of the same name, for workloads that mount
    /// only Secrets. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Value<bool>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustBundleInputs {
    /// The CA certificates to trust, PEM, from any backend: `tls` CAs, Vault issuing CAs, ACM
    /// PCA certificates, a ServiceIdentity's `caCertPem`. The same certificate given twice is
    /// trusted once.
    pub ca_certificates: Vec<Value<String>>,
    /// How long a CA taken out of `caCertificates` stays trusted, e.g. `24h`. Default `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Value<String>>,
    /// Deliver the bundle into Kubernetes namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<BundleDelivery>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustBundleOutputs {
    /// Every CA to trust, PEM, in a stable order (retired CAs in their overlap last).
    pub bundle_pem: Value<String>,
    /// SHA-256 fingerprints of the CAs in the bundle, in bundle order.
    pub fingerprints: Value<Vec<String>>,
    /// How many CAs are in the bundle only because their overlap has not ended.
    pub retired_count: Value<i64>,
    /// SHA-256 of `bundlePem`, for a pod template annotation.
    pub checksum: Value<String>,
    /// The ConfigMaps the bundle was delivered to, `<namespace>/<name>`.
    pub config_maps: Value<Vec<String>>,
}

fn known_text<'a>(v: &'a Option<Value<String>>, default: &'a str) -> Value<&'a str> {
    match v {
        None => Value::Known(default),
        Some(Value::Known(s)) => Value::Known(s.as_str()),
        Some(Value::Unknown) => Value::Unknown,
    }
}

impl Component<ProviderConfig> for TrustBundle {
    type Inputs = TrustBundleInputs;
    type Outputs = TrustBundleOutputs;
    const TOKEN: &'static str = "zerotrust:index:TrustBundle";
    const DESCRIPTION: &'static str = include_str!("docs/trust_bundle.md");

    fn check(&self, inputs: &TrustBundleInputs, failures: &mut Failures) {
        if inputs.ca_certificates.is_empty() {
            failures.at("caCertificates", "give at least one CA certificate");
        }
        for (i, pem) in inputs.ca_certificates.iter().enumerate() {
            if let Value::Known(pem) = pem
                && crate::pki::cert_info(pem).map_or(true, |c| c.is_empty())
            {
                failures.add(
                    PropertyPath::root().key("caCertificates").index(i),
                    "not a PEM certificate",
                );
            }
        }
        if let Some(Value::Known(text)) = &inputs.overlap
            && let Err(reason) = duration_seconds(text)
        {
            failures.at("overlap", reason);
        }
        let Some(delivery) = &inputs.delivery else {
            return;
        };
        let at = PropertyPath::root().key("delivery");
        if let Value::Known(namespaces) = &delivery.namespaces {
            if namespaces.is_empty() {
                failures.add(at.key("namespaces"), "give at least one namespace");
            }
            for (i, ns) in namespaces.iter().enumerate() {
                if !is_dns_label(ns) {
                    failures.add(
                        at.key("namespaces").index(i),
                        format!("'{ns}' is not a DNS label (lowercase letters, digits and '-', at most 63)"),
                    );
                } else if namespaces[..i].contains(ns) {
                    failures.add(
                        at.key("namespaces").index(i),
                        format!("'{ns}' is given twice"),
                    );
                }
            }
        }
        if let Some(Value::Known(name)) = &delivery.name
            && !is_dns_subdomain(name)
        {
            failures.add(
                at.key("name"),
                format!("'{name}' is not a valid ConfigMap name (a DNS subdomain)"),
            );
        }
        if let Some(Value::Known(key)) = &delivery.key {
            let ok = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                failures.add(
                    at.key("key"),
                    format!("'{key}' is not a valid key: letters, digits, '-', '_' or '.'"),
                );
            }
        }
    }

    async fn construct(
        &self,
        scope: &Scope<'_, ProviderConfig>,
        inputs: TrustBundleInputs,
    ) -> Result<TrustBundleOutputs, ResourceError> {
        let base = scope.name().to_string();
        let certificates = inputs
            .ca_certificates
            .iter()
            .cloned()
            .map(Value::into_known)
            .collect::<Option<Vec<String>>>()
            .map_or(Value::Unknown, Value::Known);
        let bundle = scope
            .register::<CaBundle>(
                format!("{base}-bundle"),
                &CaBundleInputs {
                    ca_certificates: certificates,
                    overlap: inputs.overlap.clone(),
                },
                ChildOptions::default(),
            )
            .await?;
        let out = bundle.outputs;
        let mut delivered = Vec::new();
        let mut all_known = true;
        if let Some(delivery) = &inputs.delivery {
            let Value::Known(namespaces) = &delivery.namespaces else {
                return Err(ResourceError::InvalidInput {
                    property: PropertyPath::root().key("delivery").key("namespaces"),
                    reason: "the namespaces must be known when the bundle is delivered".into(),
                });
            };
            let name = known_text(&delivery.name, &base);
            let key = known_text(&delivery.key, DEFAULT_KEY);
            let data = match (&key, &out.bundle_pem) {
                (Value::Known(key), Value::Known(pem)) => {
                    Value::Known(BTreeMap::from([(key.to_string(), pem.clone())]))
                }
                _ => Value::Unknown,
            };
            let as_secret = matches!(delivery.secret, Some(Value::Known(true)));
            for ns in namespaces {
                let metadata = match &name {
                    Value::Known(name) => Value::Known(ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: Some(ns.clone()),
                        labels: Some(BTreeMap::from([(
                            "app.kubernetes.io/managed-by".to_string(),
                            "zerotrust".to_string(),
                        )])),
                        ..ObjectMeta::default()
                    }),
                    Value::Unknown => Value::Unknown,
                };
                let after_bundle = ChildOptions::depends_on([bundle.urn.as_str()]);
                scope
                    .register::<KubeResource<ConfigMap>>(
                        format!("{base}-{ns}"),
                        &ConfigMapObject {
                            metadata: Some(metadata.clone()),
                            data: Some(data.clone()),
                            binary_data: None,
                            immutable: None,
                        },
                        after_bundle.clone(),
                    )
                    .await?;
                if as_secret {
                    scope
                        .register::<KubeResource<SecretKind>>(
                            format!("{base}-{ns}-secret"),
                            &SecretObject {
                                metadata: Some(metadata),
                                secret_type: Some(Value::Known("Opaque".into())),
                                data: None,
                                string_data: Some(data.clone().map(Secret::new)),
                                immutable: None,
                            },
                            after_bundle,
                        )
                        .await?;
                }
                match &name {
                    Value::Known(name) => delivered.push(format!("{ns}/{name}")),
                    Value::Unknown => all_known = false,
                }
            }
        }
        Ok(TrustBundleOutputs {
            retired_count: out.retired.as_ref().map(|retired| retired.len() as i64),
            bundle_pem: out.bundle_pem,
            fingerprints: out.fingerprints,
            checksum: out.checksum,
            config_maps: if all_known {
                Value::Known(delivered)
            } else {
                Value::Unknown
            },
        })
    }
}
