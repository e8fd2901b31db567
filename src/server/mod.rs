//! The provider server: the registry of resources and functions, the package description
//! they are served under, the package schema built from both, and the gRPC service in
//! [`service`]. Nothing here knows which package it serves; the top layer says so through
//! [`Package`] and its configuration type.

mod construct;
pub mod service;

use crate::model::schema::{self, ObjectSpec, Types};
use crate::typed::erased::{
    DynComponent, DynFunction, DynResource, Specs, TypedComponent, TypedFunction, TypedResource,
};
use crate::typed::{Component, Function, Resource};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Replace-on-change marks the diff would never see: on a nested type's field, on a property
/// that is only an output, or on a function's arguments.
fn misplaced_replace_marks(token: &str, specs: &Specs, is_resource: bool) -> Vec<String> {
    let marked = |p: &Json| p.get("replaceOnChanges").and_then(Json::as_bool) == Some(true);
    let mut found = Vec::new();
    for (name, p) in &specs.inputs.properties {
        if marked(p) && !is_resource {
            found.push(format!(
                "{token}: argument {name} is marked replace_on_changes"
            ));
        }
    }
    for (name, p) in &specs.outputs.properties {
        if marked(p) && !(is_resource && specs.inputs.properties.contains_key(name)) {
            found.push(format!(
                "{token}: output {name} is marked replace_on_changes but is not an input"
            ));
        }
    }
    for (type_token, t) in &specs.types {
        let properties = t.get("properties").and_then(Json::as_object);
        for (name, p) in properties.into_iter().flatten() {
            if marked(p) {
                found.push(format!(
                    "{token}: {type_token}.{name} is marked replace_on_changes, which only a top-level input can be"
                ));
            }
        }
    }
    found
}

/// Names a resource keeps empty values for that are not optional top-level inputs: the
/// exception would never apply.
fn misplaced_empty_exceptions(token: &str, specs: &Specs, kept: &[&str]) -> Vec<String> {
    kept.iter()
        .filter(|name| {
            !specs.inputs.properties.contains_key(**name)
                || specs.inputs.required.iter().any(|r| r == *name)
        })
        .map(|name| {
            format!("{token}: empty {name} is kept as a value, but {name} is not an optional input")
        })
        .collect()
}

/// What the schema and the engine are told about the package, beside its resources.
#[derive(Clone, Debug)]
pub struct Package {
    /// The package name, the first part of every token.
    pub name: &'static str,
    /// Reported by GetPluginInfo and written into the schema.
    pub version: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub keywords: &'static [&'static str],
    pub license: &'static str,
    pub publisher: &'static str,
    /// The description of the package's provider resource.
    pub provider_description: &'static str,
    /// The schema's `meta` section.
    pub meta: Json,
    /// Makes the schema's `language` section from the package's module names.
    pub languages: fn(&BTreeSet<&str>) -> Json,
}

/// Every resource and function this provider serves, by type token.
pub struct Registry<C> {
    resources: BTreeMap<&'static str, Arc<dyn DynResource<C>>>,
    components: BTreeMap<&'static str, Arc<dyn DynComponent<C>>>,
    functions: BTreeMap<&'static str, Arc<dyn DynFunction<C>>>,
    problems: Vec<String>,
}

// Manual, so `C` itself need not be Default or Clone.
impl<C> Default for Registry<C> {
    fn default() -> Self {
        Registry {
            resources: BTreeMap::new(),
            components: BTreeMap::new(),
            functions: BTreeMap::new(),
            problems: Vec::new(),
        }
    }
}

impl<C> Clone for Registry<C> {
    fn clone(&self) -> Self {
        Registry {
            resources: self.resources.clone(),
            components: self.components.clone(),
            functions: self.functions.clone(),
            problems: self.problems.clone(),
        }
    }
}

impl<C: Send + Sync + 'static> Registry<C> {
    pub fn resource<R: Resource<C>>(mut self, r: R) -> Self {
        let typed = TypedResource::new(r);
        self.problems
            .extend(misplaced_replace_marks(R::TOKEN, typed.specs(), true));
        let kept = R::EMPTY_INPUTS.kept().unwrap_or_default();
        self.problems
            .extend(misplaced_empty_exceptions(R::TOKEN, typed.specs(), kept));
        self.resources.insert(R::TOKEN, Arc::new(typed));
        self
    }

    /// A component resource, built by Construct from this provider's resources.
    pub fn component<K: Component<C>>(mut self, k: K) -> Self {
        let typed = TypedComponent::new(k);
        // A component is never diffed by the provider, so no mark on it would take effect.
        self.problems
            .extend(misplaced_replace_marks(K::TOKEN, typed.specs(), false));
        if self.resources.contains_key(K::TOKEN) {
            self.problems.push(format!(
                "{}: registered both as a resource and as a component",
                K::TOKEN
            ));
        }
        self.components.insert(K::TOKEN, Arc::new(typed));
        self
    }

    pub fn function<F: Function<C>>(mut self, f: F) -> Self {
        let typed = TypedFunction::new(f);
        self.problems
            .extend(misplaced_replace_marks(F::TOKEN, typed.specs(), false));
        self.functions.insert(F::TOKEN, Arc::new(typed));
        self
    }

    /// Declarations the schema shows to be wrong, found at registration: a replace-on-change
    /// mark anywhere but on a resource's top-level input, or an empty-value exception for a
    /// name that is not an optional input, would be silently ignored.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    pub fn get_resource(&self, token: &str) -> Option<&Arc<dyn DynResource<C>>> {
        self.resources.get(token)
    }

    pub fn get_component(&self, token: &str) -> Option<&Arc<dyn DynComponent<C>>> {
        self.components.get(token)
    }

    pub fn component_tokens(&self) -> impl Iterator<Item = &&'static str> {
        self.components.keys()
    }

    pub fn get_function(&self, token: &str) -> Option<&Arc<dyn DynFunction<C>>> {
        self.functions.get(token)
    }

    pub fn resource_tokens(&self) -> impl Iterator<Item = &&'static str> {
        self.resources.keys()
    }

    pub fn function_tokens(&self) -> impl Iterator<Item = &&'static str> {
        self.functions.keys()
    }

    /// The module names of every token served.
    fn modules<'a>(&'a self, types: &'a Types) -> BTreeSet<&'a str> {
        self.resources
            .keys()
            .chain(self.components.keys())
            .chain(self.functions.keys())
            .copied()
            .chain(types.keys().map(String::as_str))
            .map(schema::module_of)
            .collect()
    }

    /// The package schema document, with provider configuration `config`.
    pub fn package_schema(
        &self,
        package: &Package,
        config: &ObjectSpec,
        config_types: &Types,
    ) -> Json {
        let mut types: Types = config_types.clone();
        let mut resources = serde_json::Map::new();
        for (token, r) in &self.resources {
            types.extend(r.specs().types.clone());
            resources.insert(token.to_string(), r.schema_json());
        }
        for (token, k) in &self.components {
            types.extend(k.specs().types.clone());
            resources.insert(token.to_string(), k.schema_json());
        }
        let mut functions = serde_json::Map::new();
        for (token, f) in &self.functions {
            types.extend(f.specs().types.clone());
            functions.insert(token.to_string(), f.schema_json());
        }
        let language = (package.languages)(&self.modules(&types));
        json!({
            "name": package.name,
            "displayName": package.display_name,
            "version": package.version,
            "description": package.description,
            "keywords": package.keywords,
            "license": package.license,
            "publisher": package.publisher,
            "meta": package.meta,
            "config": {"variables": config.properties},
            "provider": {
                "description": package.provider_description,
                "inputProperties": config.properties,
            },
            "types": types,
            "resources": resources,
            "functions": functions,
            "language": language,
        })
    }
}
