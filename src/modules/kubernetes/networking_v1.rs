//! `kubernetes/networking/v1`: NetworkPolicy and Ingress, in pulumi-kubernetes shapes (the
//! fields that matter for isolating and exposing services).

use super::meta::{is_label_value, is_qualified_name};
use super::object::{KubeKind, SpecObject};
use crate::codec::PropertyPath;
use crate::typed::home_module;
use crate::typed::{Failures, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A label query over a set of resources.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = home_module("kubernetes/meta/v1"))]
pub struct LabelSelector {
    /// Requirements as key/value pairs, ANDed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Requirements as expressions, ANDed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// One selector expression: `key` `operator` `values`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = home_module("kubernetes/meta/v1"))]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values: non-empty for `In`/`NotIn`, empty for `Exists`/`DoesNotExist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// Check a selector, reporting at `at`.
pub fn check_selector(selector: &LabelSelector, at: &PropertyPath, failures: &mut Failures) {
    for (k, v) in selector.match_labels.iter().flatten() {
        let here = at.key("matchLabels").key(k.as_str());
        if !is_qualified_name(k) {
            failures.add(here.clone(), format!("'{k}' is not a valid label key"));
        }
        if !is_label_value(v) {
            failures.add(here, format!("'{v}' is not a valid label value"));
        }
    }
    for (i, req) in selector.match_expressions.iter().flatten().enumerate() {
        let here = at.key("matchExpressions").index(i);
        if !is_qualified_name(&req.key) {
            failures.add(
                here.key("key"),
                format!("'{}' is not a valid label key", req.key),
            );
        }
        let values = req.values.as_deref().unwrap_or_default();
        match req.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                failures.add(
                    here.key("values"),
                    format!("operator {} needs at least one value", req.operator),
                );
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                failures.add(
                    here.key("values"),
                    format!("operator {} takes no values", req.operator),
                );
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => failures.add(
                here.key("operator"),
                format!("unknown operator '{other}'; expected In, NotIn, Exists or DoesNotExist"),
            ),
        }
    }
}

/// A CIDR block, with exceptions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IPBlock {
    /// The allowed block, e.g. `10.0.0.0/16`.
    pub cidr: String,
    /// Blocks inside `cidr` that are not allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<Vec<String>>,
}

/// Who may connect (ingress) or be connected to (egress).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyPeer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IPBlock>,
}

/// A port (number or named port) and protocol.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyPort {
    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// A port number or a named port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<serde_json::Value>,
    /// The end of a port range starting at `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i64>,
}

/// Traffic allowed in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyIngressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<NetworkPolicyPeer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

/// Traffic allowed out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyEgressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<NetworkPolicyPeer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

/// What a NetworkPolicy selects and allows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// The pods the policy applies to; empty selects every pod in the namespace.
    #[serde(default)]
    pub pod_selector: LabelSelector,
    /// `Ingress`, `Egress` or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<NetworkPolicyIngressRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Vec<NetworkPolicyEgressRule>>,
}

pub struct NetworkPolicy;

fn check_peers(peers: &[NetworkPolicyPeer], at: &PropertyPath, failures: &mut Failures) {
    for (i, peer) in peers.iter().enumerate() {
        let here = at.index(i);
        if let Some(s) = &peer.pod_selector {
            check_selector(s, &here.key("podSelector"), failures);
        }
        if let Some(s) = &peer.namespace_selector {
            check_selector(s, &here.key("namespaceSelector"), failures);
        }
        if let Some(block) = &peer.ip_block {
            for (j, cidr) in std::iter::once(&block.cidr)
                .chain(block.except.iter().flatten())
                .enumerate()
            {
                if !is_cidr(cidr) {
                    let path = if j == 0 {
                        here.key("ipBlock").key("cidr")
                    } else {
                        here.key("ipBlock").key("except").index(j - 1)
                    };
                    failures.add(path, format!("'{cidr}' is not a CIDR block"));
                }
            }
        }
    }
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
        _ => false,
    }
}

fn check_ports(ports: &[NetworkPolicyPort], at: &PropertyPath, failures: &mut Failures) {
    for (i, port) in ports.iter().enumerate() {
        let here = at.index(i);
        if let Some(p) = &port.protocol
            && !["TCP", "UDP", "SCTP"].contains(&p.as_str())
        {
            failures.add(
                here.key("protocol"),
                format!("unknown protocol '{p}'; expected TCP, UDP or SCTP"),
            );
        }
        match &port.port {
            None => {}
            Some(serde_json::Value::Number(n))
                if n.as_u64().is_some_and(|n| (1..=65535).contains(&n)) => {}
            Some(serde_json::Value::String(name)) if !name.is_empty() && name.len() <= 15 => {}
            Some(other) => failures.add(
                here.key("port"),
                format!("{other} is neither a port number (1-65535) nor a port name"),
            ),
        }
    }
}

impl KubeKind for NetworkPolicy {
    type Object = SpecObject<NetworkPolicySpec>;
    const TOKEN: &'static str = "zerotrust:kubernetes/networking/v1:NetworkPolicy";
    const DESCRIPTION: &'static str = "A Kubernetes NetworkPolicy, as pulumi-kubernetes `networking/v1.NetworkPolicy`: which pods may talk to which, the network half of zero trust.";
    const API_VERSION: &'static str = "networking.k8s.io/v1";
    const KIND: &'static str = "NetworkPolicy";
    const PLURAL: &'static str = "networkpolicies";
    const NAMESPACED: bool = true;

    fn check_object(object: &mut SpecObject<NetworkPolicySpec>, failures: &mut Failures) {
        let Some(Value::Known(spec)) = &object.spec else {
            return;
        };
        let at = PropertyPath::root().key("spec");
        check_selector(&spec.pod_selector, &at.key("podSelector"), failures);
        for (i, t) in spec.policy_types.iter().flatten().enumerate() {
            if t != "Ingress" && t != "Egress" {
                failures.add(
                    at.key("policyTypes").index(i),
                    format!("unknown policy type '{t}'; expected Ingress or Egress"),
                );
            }
        }
        for (i, rule) in spec.ingress.iter().flatten().enumerate() {
            let here = at.key("ingress").index(i);
            check_peers(
                rule.from.as_deref().unwrap_or_default(),
                &here.key("from"),
                failures,
            );
            check_ports(
                rule.ports.as_deref().unwrap_or_default(),
                &here.key("ports"),
                failures,
            );
        }
        for (i, rule) in spec.egress.iter().flatten().enumerate() {
            let here = at.key("egress").index(i);
            check_peers(
                rule.to.as_deref().unwrap_or_default(),
                &here.key("to"),
                failures,
            );
            check_ports(
                rule.ports.as_deref().unwrap_or_default(),
                &here.key("ports"),
                failures,
            );
        }
    }
}

/// A backend service port, by number or name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceBackendPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
}

/// The Service traffic goes to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressServiceBackend {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<ServiceBackendPort>,
}

/// Where matching traffic goes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressBackend {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<IngressServiceBackend>,
}

/// A path and its backend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPIngressPath {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `Exact`, `Prefix` or `ImplementationSpecific`.
    pub path_type: String,
    pub backend: IngressBackend,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPIngressRuleValue {
    pub paths: Vec<HTTPIngressPath>,
}

/// Routing for one host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HTTPIngressRuleValue>,
}

/// TLS for a set of hosts, from a `kubernetes.io/tls` Secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressTLS {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    /// The Secret holding `tls.crt` and `tls.key`, in the Ingress's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_backend: Option<IngressBackend>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Vec<IngressTLS>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<IngressRule>>,
}

pub struct Ingress;

impl KubeKind for Ingress {
    type Object = SpecObject<IngressSpec>;
    const TOKEN: &'static str = "zerotrust:kubernetes/networking/v1:Ingress";
    const DESCRIPTION: &'static str = "A Kubernetes Ingress, as pulumi-kubernetes `networking/v1.Ingress`, typically terminating TLS with a certificate kept in a `kubernetes.io/tls` Secret.";
    const API_VERSION: &'static str = "networking.k8s.io/v1";
    const KIND: &'static str = "Ingress";
    const PLURAL: &'static str = "ingresses";
    const NAMESPACED: bool = true;

    fn check_object(object: &mut SpecObject<IngressSpec>, failures: &mut Failures) {
        let Some(Value::Known(spec)) = &object.spec else {
            return;
        };
        let at = PropertyPath::root().key("spec");
        for (i, rule) in spec.rules.iter().flatten().enumerate() {
            for (j, path) in rule.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
                if !["Exact", "Prefix", "ImplementationSpecific"].contains(&path.path_type.as_str())
                {
                    failures.add(
                        at.key("rules").index(i).key("http").key("paths").index(j).key("pathType"),
                        format!("unknown pathType '{}'; expected Exact, Prefix or ImplementationSpecific", path.path_type),
                    );
                }
            }
        }
        for (i, tls) in spec.tls.iter().flatten().enumerate() {
            if let Some(name) = &tls.secret_name
                && !super::meta::is_dns_subdomain(name)
            {
                failures.add(
                    at.key("tls").index(i).key("secretName"),
                    format!("'{name}' is not a valid Secret name"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_selectors_are_reported_with_paths() {
        let sel = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".into(), "-bad".into())])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: None,
                },
                LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "Near".into(),
                    values: None,
                },
            ]),
        };
        let mut f = Failures::default();
        check_selector(
            &sel,
            &PropertyPath::root().key("spec").key("podSelector"),
            &mut f,
        );
        let paths: Vec<String> = f
            .into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "spec.podSelector.matchLabels.app",
                "spec.podSelector.matchExpressions[0].values",
                "spec.podSelector.matchExpressions[1].operator"
            ]
        );
    }

    #[test]
    fn cidrs_and_ports_are_checked() {
        assert!(is_cidr("10.0.0.0/16") && is_cidr("fd00::/8"));
        assert!(!is_cidr("10.0.0.0") && !is_cidr("10.0.0.0/33"));
        let mut f = Failures::default();
        check_ports(
            &[NetworkPolicyPort {
                protocol: Some("ICMP".into()),
                port: Some(serde_json::json!(70000)),
                end_port: None,
            }],
            &PropertyPath::root().key("ports"),
            &mut f,
        );
        assert_eq!(f.into_vec().len(), 2);
    }
}
