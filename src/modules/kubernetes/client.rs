//! The Kubernetes client, built once per provider process on first use, so programs that use no
//! Kubernetes resource need no cluster and no kubeconfig.

use crate::modules::ProviderConfig;
use crate::typed::{ResourceError, Value};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A client and the namespace that namespaced resources default to.
#[derive(Clone)]
pub struct KubeClient {
    pub client: kube::Client,
    pub default_namespace: String,
}

/// Where the kubeconfig comes from.
#[derive(Debug, PartialEq)]
pub enum KubeconfigSource {
    /// `KUBECONFIG` or `~/.kube/config`.
    Default,
    Path(String),
    Content(String),
}

/// A value with a newline or a YAML key is content; anything else names a file.
pub fn kubeconfig_source(setting: Option<&str>) -> KubeconfigSource {
    match setting.map(str::trim) {
        None | Some("") => KubeconfigSource::Default,
        Some(s) if s.contains('\n') || s.starts_with("apiVersion") || s.starts_with('{') => {
            KubeconfigSource::Content(s.to_string())
        }
        Some(s) => KubeconfigSource::Path(s.to_string()),
    }
}

fn known_str(v: &Option<Value<String>>) -> Option<String> {
    match v {
        Some(Value::Known(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

async fn build(config: &ProviderConfig) -> Result<KubeClient, String> {
    // kube's rustls needs a process-wide provider when more than one is compiled in.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let setting = match &config.kubeconfig {
        Some(Value::Known(s)) => Some(s.expose().clone()),
        _ => None,
    };
    let kubeconfig = match kubeconfig_source(setting.as_deref()) {
        KubeconfigSource::Default => Kubeconfig::read()
            .map_err(|e| format!("no kubeconfig: set zerotrust:kubeconfig or KUBECONFIG ({e})"))?,
        KubeconfigSource::Path(p) => Kubeconfig::read_from(&p)
            .map_err(|e| format!("cannot read kubeconfig file {p}: {e}"))?,
        // Never echo the content: it may hold credentials.
        KubeconfigSource::Content(text) => Kubeconfig::from_yaml(&text).map_err(|_| {
            "the kubeconfig content does not parse (its text is not shown: it may hold credentials)"
                .to_string()
        })?,
    };
    let options = KubeConfigOptions {
        context: known_str(&config.context),
        ..Default::default()
    };
    let mut kube_config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| format!("invalid kubeconfig: {e}"))?;
    if let Some(ns) = known_str(&config.namespace) {
        kube_config.default_namespace = ns;
    }
    let default_namespace = kube_config.default_namespace.clone();
    let client = kube::Client::try_from(kube_config)
        .map_err(|e| format!("cannot build a Kubernetes client: {e}"))?;
    Ok(KubeClient {
        client,
        default_namespace,
    })
}

impl ProviderConfig {
    /// The Kubernetes client, built on first use.
    pub async fn kube(&self) -> Result<KubeClient, ResourceError> {
        self.clients
            .kube
            .get_or_init(|| build(self))
            .await
            .clone()
            .map_err(|cause| ResourceError::backend("configure Kubernetes client", cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_setting_is_a_path_or_content() {
        assert_eq!(kubeconfig_source(None), KubeconfigSource::Default);
        assert_eq!(kubeconfig_source(Some("  ")), KubeconfigSource::Default);
        assert_eq!(
            kubeconfig_source(Some("/tmp/kc")),
            KubeconfigSource::Path("/tmp/kc".into())
        );
        assert!(matches!(
            kubeconfig_source(Some("apiVersion: v1\nkind: Config\n")),
            KubeconfigSource::Content(_)
        ));
    }
}
