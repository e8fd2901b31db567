//! Provider core: the registry of resources and functions, the package schema, configuration
//! decoding, and the gRPC service in [`server`].

pub mod cancel;
pub mod config;
pub mod diff;
pub mod languages;
pub mod log;
pub mod schema;
pub mod server;
pub mod validate;

use crate::typed::erased::{DynFunction, DynResource, TypedFunction, TypedResource};
use crate::typed::{Function, Resource};
use schema::{ObjectSpec, PACKAGE, Types};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The version reported by GetPluginInfo, written into the schema and the SDK.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every resource and function this provider serves, by type token.
#[derive(Default, Clone)]
pub struct Registry {
    resources: BTreeMap<&'static str, Arc<dyn DynResource>>,
    functions: BTreeMap<&'static str, Arc<dyn DynFunction>>,
}

impl Registry {
    pub fn resource<R: Resource>(mut self, r: R) -> Self {
        self.resources
            .insert(R::TOKEN, Arc::new(TypedResource::new(r)));
        self
    }

    pub fn function<F: Function>(mut self, f: F) -> Self {
        self.functions
            .insert(F::TOKEN, Arc::new(TypedFunction::new(f)));
        self
    }

    pub fn get_resource(&self, token: &str) -> Option<&Arc<dyn DynResource>> {
        self.resources.get(token)
    }

    pub fn get_function(&self, token: &str) -> Option<&Arc<dyn DynFunction>> {
        self.functions.get(token)
    }

    pub fn resource_tokens(&self) -> impl Iterator<Item = &&'static str> {
        self.resources.keys()
    }

    pub fn function_tokens(&self) -> impl Iterator<Item = &&'static str> {
        self.functions.keys()
    }

    /// The package schema document, with provider configuration `config`.
    pub fn package_schema(&self, config: &ObjectSpec, config_types: &Types) -> Json {
        let mut types: Types = config_types.clone();
        let mut resources = serde_json::Map::new();
        for (token, r) in &self.resources {
            types.extend(r.specs().types.clone());
            resources.insert(token.to_string(), r.schema_json());
        }
        let mut functions = serde_json::Map::new();
        for (token, f) in &self.functions {
            types.extend(f.specs().types.clone());
            functions.insert(token.to_string(), f.schema_json());
        }
        let modules: std::collections::BTreeSet<&str> = resources
            .keys()
            .chain(functions.keys())
            .chain(types.keys())
            .map(|token| schema::module_of(token))
            .collect();
        json!({
            "name": PACKAGE,
            "displayName": "zerotrust",
            "version": VERSION,
            "description": "The trust layer between the services of distributed ML systems, as code: private keys, certificate authorities, mTLS identities and the policies that use them.",
            "keywords": ["pulumi", "zerotrust", "tls", "mtls", "pki", "category/utility"],
            "license": "Apache-2.0",
            "publisher": "zerotrust",
            // supportPack: SDKs are built as local packages (the Go one with its own go.mod).
            "meta": {"moduleFormat": "(.*)", "supportPack": true},
            "config": {"variables": config.properties},
            "provider": {
                "description": "The zerotrust provider. Every setting is optional; modules that need a backend read their settings only when first used.",
                "inputProperties": config.properties,
            },
            "types": types,
            "resources": resources,
            "functions": functions,
            "language": languages::language_section(&modules),
        })
    }
}
