//! The Kubernetes client, built once per provider process on first use, so programs that use no
//! Kubernetes resource need no cluster and no kubeconfig.

use crate::modules::ProviderConfig;
use crate::modules::backend::setting;
use crate::typed::ResourceError;
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

/// The settings the client is built from, refused when one is not known yet (computed from a
/// resource not created), as every module refuses them.
struct KubeSettings {
    kubeconfig: Option<String>,
    context: Option<String>,
    namespace: Option<String>,
}

impl KubeSettings {
    fn of(config: &ProviderConfig) -> Result<Self, ResourceError> {
        let text = |v: Option<&String>| v.filter(|s| !s.is_empty()).cloned();
        Ok(KubeSettings {
            kubeconfig: setting(&config.kubeconfig, "Kubernetes", "kubeconfig")?
                .map(|s| s.expose().clone()),
            context: text(setting(&config.context, "Kubernetes", "context")?),
            namespace: text(setting(&config.namespace, "Kubernetes", "namespace")?),
        })
    }
}

async fn build(settings: KubeSettings) -> Result<KubeClient, String> {
    // kube's rustls needs a process-wide provider when more than one is compiled in.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let kubeconfig = match kubeconfig_source(settings.kubeconfig.as_deref()) {
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
        context: settings.context,
        ..Default::default()
    };
    let mut kube_config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| format!("invalid kubeconfig: {e}"))?;
    if let Some(ns) = settings.namespace {
        kube_config.default_namespace = ns;
    }
    let default_namespace = kube_config.default_namespace.clone();
    let client =
        http_client(kube_config).map_err(|e| format!("cannot build a Kubernetes client: {e}"))?;
    Ok(KubeClient {
        client,
        default_namespace,
    })
}

/// kube's own client stack (timeouts, base URI, retries of 5xx, auth, extra headers) over a
/// connector with `TCP_NODELAY`: kube's default connector leaves Nagle's algorithm on, so a
/// request written in more than one piece can wait for the API server's delayed ACK.
/// A kubeconfig that names a proxy keeps kube's default stack, which is the one that speaks it.
fn http_client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    use hyper_util::client::legacy::{Client, connect::HttpConnector};
    use hyper_util::rt::TokioExecutor;
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;

    if config.proxy_url.is_some() {
        return kube::Client::try_from(config);
    }
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_nodelay(true);
    let connector = config.rustls_https_connector_with_connector(connector)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(connector);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http: Client<_, kube::client::Body> =
        Client::builder(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.default_retry.then(|| {
            tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry())
        }))
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace))
}

impl ProviderConfig {
    /// The Kubernetes client, built on first use.
    pub async fn kube(&self) -> Result<KubeClient, ResourceError> {
        let settings = KubeSettings::of(self)?;
        self.clients
            .kube
            .get_or_init(|| build(settings))
            .await
            .clone()
            .map_err(|cause| ResourceError::backend("configure Kubernetes client", cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_have_nodelay() {
        let port = crate::testing::keep_alive_http_server(
            "application/json",
            r#"{"major":"1","minor":"34","gitVersion":"v1.34.0","gitCommit":"","gitTreeState":"clean","buildDate":"1970-01-01T00:00:00Z","goVersion":"go1","compiler":"gc","platform":"linux/amd64"}"#,
        )
        .await;
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\nusers:\n- name: u\n  user:\n    token: test\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
        );
        let config = ProviderConfig {
            kubeconfig: Some(crate::typed::Value::Known(crate::typed::Secret::new(
                kubeconfig,
            ))),
            ..Default::default()
        };
        let kube = build(KubeSettings::of(&config).expect("settings"))
            .await
            .expect("client");
        let version = kube.client.apiserver_version().await.expect("version");
        assert_eq!(version.minor, "34");
        crate::testing::assert_nodelay_to(port);
    }

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
