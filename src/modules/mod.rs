//! The zerotrust package: its resource modules, the provider configuration they share, and the
//! package description the server layer serves them under.

pub mod aws;
pub mod azure;
pub mod backend;
pub mod index;
pub mod kubernetes;
pub mod languages;
pub mod tls;
pub mod vault;

use crate::model::schema::{Types, json_schema_of, object_spec};
use crate::server::Package;
use crate::server::service::{ConfigSchema, Provider};
use crate::typed::{Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use tokio::sync::OnceCell;

/// Provider configuration (`zerotrust:<key>` in stack config, or arguments of an explicit
/// `zerotrust.Provider`). Every setting is optional.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Minutes by which certificates created through this provider start before their creation
    /// time, unless a resource sets `backdateMinutes` itself. Absorbs clock skew between the
    /// machines that will verify them. Defaults to 0, as pulumi-tls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_backdate_minutes: Option<Value<i64>>,
    /// The kubeconfig to use for Kubernetes resources: a file path, or the file's content. When
    /// unset, `KUBECONFIG` or `~/.kube/config` is read, only when a Kubernetes resource is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<Value<Secret<String>>>,
    /// The kubeconfig context to use (default: the current context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value<String>>,
    /// The namespace for namespaced Kubernetes resources that set none (default: the
    /// context's namespace, else `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Value<String>>,
    /// AWS settings for the `aws/*` modules, as pulumi-aws's provider settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Value<aws::client::AwsSettings>>,
    /// Vault (or OpenBao) settings for the `vault` modules, as pulumi-vault's provider settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<Value<vault::client::VaultSettings>>,
    /// Azure settings for the `azure/*` modules, as pulumi-azure-native's provider settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<Value<azure::client::AzureSettings>>,
    /// Backend clients, built on first use from the settings above.
    #[serde(skip)]
    #[schemars(skip)]
    pub clients: Clients,
}

/// Backend clients, each built on first use, so a program pays only for the backends it uses.
#[derive(Default)]
pub struct Clients {
    pub(crate) kube: OnceCell<Result<kubernetes::client::KubeClient, String>>,
    pub(crate) aws: OnceCell<Result<aws::client::AwsClients, String>>,
    pub(crate) vault: OnceCell<Result<vault::client::VaultClient, String>>,
    pub(crate) azure: OnceCell<Result<azure::client::ArmClient, String>>,
}

impl fmt::Debug for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clients")
    }
}

impl ProviderConfig {
    /// The configured default backdating, if known.
    pub fn backdate_minutes(&self) -> i64 {
        match self.default_backdate_minutes {
            Some(Value::Known(m)) => m,
            _ => 0,
        }
    }
}

/// The package name, the first part of every token.
pub const PACKAGE: &str = "zerotrust";
/// The version reported by GetPluginInfo, written into the schema and the SDK.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every zerotrust operation is given.
pub type Ctx = crate::typed::Ctx<ProviderConfig>;
/// The resources and functions zerotrust serves.
pub type Registry = crate::server::Registry<ProviderConfig>;

/// The package as the schema and the engine see it.
pub fn package() -> Package {
    Package {
        name: PACKAGE,
        version: VERSION,
        display_name: "zerotrust",
        description: "The trust layer between the services of distributed ML systems, as code: private keys, certificate authorities, mTLS identities and the policies that use them.",
        keywords: &[
            "pulumi",
            "zerotrust",
            "tls",
            "mtls",
            "pki",
            "category/utility",
        ],
        license: "Apache-2.0",
        publisher: "zerotrust",
        provider_description: "The zerotrust provider. Every setting is optional; modules that need a backend read their settings only when first used.",
        // supportPack: SDKs are built as local packages (the Go one with its own go.mod).
        meta: serde_json::json!({"moduleFormat": "(.*)", "supportPack": true}),
        languages: languages::language_section,
    }
}

/// Every resource and function of the package.
pub fn registry() -> Registry {
    let registry = tls::register(Registry::default());
    let registry = azure::register(vault::register(aws::register(kubernetes::register(
        registry,
    ))));
    index::register(registry)
}

/// The provider configuration's schema.
pub fn config_schema() -> ConfigSchema {
    let mut types = Types::new();
    // Settings objects are typed in the top-level module: the generated `config` module holds
    // only getters, so a Provider argument typed there has no Args class to import.
    let spec = object_spec(
        &json_schema_of::<ProviderConfig>(),
        PACKAGE,
        "index",
        &mut types,
    );
    ConfigSchema { spec, types }
}

/// The provider, ready to serve.
pub fn provider() -> Provider<ProviderConfig> {
    Provider::new(package(), registry(), config_schema())
}

#[cfg(test)]
mod tests {
    /// Every replace-on-change mark sits where the diff reads it.
    #[test]
    fn every_declaration_is_sound() {
        let registry = super::registry();
        assert!(registry.problems().is_empty(), "{:#?}", registry.problems());
    }
}
