//! Mesh mTLS policy in Istio's shapes: `PeerAuthentication` (security.istio.io/v1) says what a
//! workload accepts, `DestinationRule` (networking.istio.io/v1) how clients connect to it. Only
//! the fields that matter for mTLS are modelled.

use super::meta::{is_label_value, is_qualified_name};
use super::object::{KubeKind, SpecObject};
use crate::codec::PropertyPath;
use crate::typed::{Failures, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Selects workloads by pod labels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}

fn check_workload_selector(sel: &WorkloadSelector, at: &PropertyPath, failures: &mut Failures) {
    for (k, v) in sel.match_labels.iter().flatten() {
        let here = at.key("matchLabels").key(k.as_str());
        if !is_qualified_name(k) {
            failures.add(here.clone(), format!("'{k}' is not a valid label key"));
        }
        if !is_label_value(v) || v.is_empty() {
            failures.add(here, format!("'{v}' is not a valid label value"));
        }
    }
}

/// The mTLS mode a workload accepts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerAuthenticationMutualTls {
    /// `UNSET` (inherit), `DISABLE`, `PERMISSIVE` (mTLS or plaintext) or `STRICT` (mTLS only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

const PEER_MODES: [&str; 4] = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerAuthenticationSpec {
    /// The workloads the policy applies to; none means the whole namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<WorkloadSelector>,
    /// The mode for all ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<PeerAuthenticationMutualTls>,
    /// Per-port modes, keyed by port number; needs a `selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_level_mtls: Option<BTreeMap<String, PeerAuthenticationMutualTls>>,
}

pub struct PeerAuthentication;

fn check_mode(mode: &Option<String>, allowed: &[&str], at: PropertyPath, failures: &mut Failures) {
    if let Some(m) = mode
        && !allowed.contains(&m.as_str())
    {
        failures.add(
            at,
            format!("unknown mode '{m}'; expected one of {}", allowed.join(", ")),
        );
    }
}

impl KubeKind for PeerAuthentication {
    type Object = SpecObject<PeerAuthenticationSpec>;
    const TOKEN: &'static str = "zerotrust:kubernetes/istio/security/v1:PeerAuthentication";
    const DESCRIPTION: &'static str = "Istio PeerAuthentication (security.istio.io/v1): the mTLS mode workloads accept. `STRICT` refuses plaintext, which is how a namespace of ML services is closed to anything without a mesh identity.";
    const API_VERSION: &'static str = "security.istio.io/v1";
    const KIND: &'static str = "PeerAuthentication";
    const PLURAL: &'static str = "peerauthentications";
    const NAMESPACED: bool = true;

    fn check_object(object: &mut SpecObject<PeerAuthenticationSpec>, failures: &mut Failures) {
        let Some(Value::Known(spec)) = &object.spec else {
            return;
        };
        let at = PropertyPath::root().key("spec");
        if let Some(sel) = &spec.selector {
            check_workload_selector(sel, &at.key("selector"), failures);
        }
        if let Some(mtls) = &spec.mtls {
            check_mode(
                &mtls.mode,
                &PEER_MODES,
                at.key("mtls").key("mode"),
                failures,
            );
        }
        if let Some(ports) = &spec.port_level_mtls {
            // An empty selector selects the whole namespace, just like no selector.
            let selects_workloads = spec
                .selector
                .as_ref()
                .and_then(|s| s.match_labels.as_ref())
                .is_some_and(|labels| !labels.is_empty());
            if !selects_workloads && !ports.is_empty() {
                failures.add(at.key("portLevelMtls"), "per-port modes need a selector with matchLabels (Istio ignores them on namespace-wide policies)");
            }
            for (port, mtls) in ports {
                let here = at.key("portLevelMtls").key(port.as_str());
                if !port.parse::<u16>().is_ok_and(|p| p > 0) {
                    failures.add(
                        here.clone(),
                        format!("'{port}' is not a port number (1-65535)"),
                    );
                }
                check_mode(&mtls.mode, &PEER_MODES, here.key("mode"), failures);
            }
        }
    }
}

/// How a client connects to the destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientTLSSettings {
    /// `DISABLE`, `SIMPLE`, `MUTUAL` (with the certificates below) or `ISTIO_MUTUAL` (mesh
    /// certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Path of the client certificate file, for `MUTUAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// Path of the client private key file, for `MUTUAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// Path of the CA bundle that verifies the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificates: Option<String>,
    /// A `kubernetes.io/tls` Secret (with `ca.crt`) holding the certificates instead of files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    /// Names the server certificate must carry, e.g. a SPIFFE URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_alt_names: Option<Vec<String>>,
    /// The SNI to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

const CLIENT_MODES: [&str; 4] = ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"];

fn check_client_tls(tls: &ClientTLSSettings, at: &PropertyPath, failures: &mut Failures) {
    check_mode(&tls.mode, &CLIENT_MODES, at.key("mode"), failures);
    if tls.mode.as_deref() == Some("MUTUAL")
        && tls.credential_name.is_none()
        && (tls.client_certificate.is_none() || tls.private_key.is_none())
    {
        failures.add(
            at.clone(),
            "MUTUAL needs clientCertificate and privateKey, or credentialName",
        );
    }
    if tls.mode.as_deref() == Some("ISTIO_MUTUAL")
        && (tls.client_certificate.is_some()
            || tls.private_key.is_some()
            || tls.credential_name.is_some())
    {
        failures.add(at.clone(), "ISTIO_MUTUAL uses mesh certificates; remove clientCertificate, privateKey and credentialName");
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortSelector {
    pub number: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortTrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTLSSettings>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTLSSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_level_settings: Option<Vec<PortTrafficPolicy>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRuleSpec {
    /// The service the rule applies to, e.g. `inference.ml.svc.cluster.local`.
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_to: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
}

pub struct DestinationRule;

impl KubeKind for DestinationRule {
    type Object = SpecObject<DestinationRuleSpec>;
    const TOKEN: &'static str = "zerotrust:kubernetes/istio/networking/v1:DestinationRule";
    const DESCRIPTION: &'static str = "Istio DestinationRule (networking.istio.io/v1): how clients reach a service, here its TLS settings: `ISTIO_MUTUAL` for mesh identities or `MUTUAL` with certificates, verified against a CA and expected SANs.";
    const API_VERSION: &'static str = "networking.istio.io/v1";
    const KIND: &'static str = "DestinationRule";
    const PLURAL: &'static str = "destinationrules";
    const NAMESPACED: bool = true;

    fn check_object(object: &mut SpecObject<DestinationRuleSpec>, failures: &mut Failures) {
        let Some(Value::Known(spec)) = &object.spec else {
            return;
        };
        let at = PropertyPath::root().key("spec");
        if spec.host.is_empty() {
            failures.add(at.key("host"), "host is required");
        }
        if let Some(sel) = &spec.workload_selector {
            check_workload_selector(sel, &at.key("workloadSelector"), failures);
        }
        if let Some(policy) = &spec.traffic_policy {
            let at = at.key("trafficPolicy");
            if let Some(tls) = &policy.tls {
                check_client_tls(tls, &at.key("tls"), failures);
            }
            for (i, port) in policy.port_level_settings.iter().flatten().enumerate() {
                let here = at.key("portLevelSettings").index(i);
                if let Some(p) = &port.port
                    && !(1..=65535).contains(&p.number)
                {
                    failures.add(
                        here.key("port").key("number"),
                        format!("{} is not a port number", p.number),
                    );
                }
                if let Some(tls) = &port.tls {
                    check_client_tls(tls, &here.key("tls"), failures);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_modes_and_incomplete_mutual_tls_are_rejected() {
        let mut pa = SpecObject {
            spec: Some(Value::Known(PeerAuthenticationSpec {
                mtls: Some(PeerAuthenticationMutualTls {
                    mode: Some("STRICTEST".into()),
                }),
                port_level_mtls: Some(BTreeMap::from([(
                    "http".into(),
                    PeerAuthenticationMutualTls {
                        mode: Some("PERMISSIVE".into()),
                    },
                )])),
                ..Default::default()
            })),
            ..Default::default()
        };
        let mut f = Failures::default();
        PeerAuthentication::check_object(&mut pa, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "spec.mtls.mode",
                "spec.portLevelMtls",
                "spec.portLevelMtls.http"
            ]
        );

        // A selector without labels is namespace-wide too: per-port modes are still refused.
        for selector in [
            WorkloadSelector::default(),
            WorkloadSelector {
                match_labels: Some(BTreeMap::new()),
            },
        ] {
            let mut pa = SpecObject {
                spec: Some(Value::Known(PeerAuthenticationSpec {
                    selector: Some(selector),
                    port_level_mtls: Some(BTreeMap::from([(
                        "8080".into(),
                        PeerAuthenticationMutualTls {
                            mode: Some("DISABLE".into()),
                        },
                    )])),
                    ..Default::default()
                })),
                ..Default::default()
            };
            let mut f = Failures::default();
            PeerAuthentication::check_object(&mut pa, &mut f);
            let paths: Vec<String> = f
                .into_vec()
                .iter()
                .map(|x| x.property.to_string())
                .collect();
            assert_eq!(paths, vec!["spec.portLevelMtls"]);
        }

        let mut dr = SpecObject {
            spec: Some(Value::Known(DestinationRuleSpec {
                host: "inference.ml.svc.cluster.local".into(),
                traffic_policy: Some(TrafficPolicy {
                    tls: Some(ClientTLSSettings {
                        mode: Some("MUTUAL".into()),
                        ..Default::default()
                    }),
                    port_level_settings: None,
                }),
                ..Default::default()
            })),
            ..Default::default()
        };
        let mut f = Failures::default();
        DestinationRule::check_object(&mut dr, &mut f);
        let failures = f.into_vec();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].property.to_string(), "spec.trafficPolicy.tls");
    }
}
