//! Components: resources made of other resources of the same provider, built in Construct.
//!
//! A component declares typed inputs and outputs like a custom resource, but instead of CRUD it
//! has `construct`, which registers its children through a [`Scope`]. Each child is an ordinary
//! resource the engine steps itself (Check, Diff, Create, ... on this provider), so it has its
//! own state, diff and delete; `construct` sees the child's outputs once the engine has created
//! (or, in a preview, previewed) it. How a registration reaches the engine is the server's
//! business, behind [`Registrar`], so nothing here touches the wire.

use super::erased::{decode, encode};
use super::{Ctx, Failures, Resource, ResourceError, Value};
use crate::codec::typed_json::SecretPaths;
use crate::codec::{PropertyMap, PropertyValue};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;

/// A Pulumi component resource with typed inputs and outputs, served by a provider whose
/// configuration is `C`. Its schema entry is marked `isComponent`, so the generated SDKs
/// register it as a remote component and the engine calls Construct for it.
pub trait Component<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Inputs, with `Value<T>` for everything that may be unknown in preview.
    type Inputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync;
    /// Outputs, mostly taken from the children's outputs.
    type Outputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync;

    /// Type token, `<package>:<module>:<Name>`.
    const TOKEN: &'static str;
    /// Markdown description for the schema and SDK docs.
    const DESCRIPTION: &'static str;

    /// Validate the inputs (which may hold unknowns). Report every problem: Construct refuses
    /// the component with all of them, each with its property path, before anything is made.
    fn check(&self, inputs: &Self::Inputs, failures: &mut Failures) {
        let _ = (inputs, failures);
    }

    /// Checks that need a backend, run after `check` passed. Report only definite answers.
    fn check_live(
        &self,
        ctx: &Ctx<C>,
        inputs: &Self::Inputs,
        failures: &mut Failures,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, inputs, failures);
        async {}
    }

    /// Register the children and return the component's outputs. In a preview the children's
    /// outputs hold unknowns where the engine does not know them yet.
    fn construct(
        &self,
        scope: &Scope<'_, C>,
        inputs: Self::Inputs,
    ) -> impl Future<Output = Result<Self::Outputs, ResourceError>> + Send;
}

/// Options of one child registration.
#[derive(Clone, Debug, Default)]
pub struct ChildOptions {
    /// URNs of resources (usually earlier children) this child depends on: the engine creates
    /// them first and deletes them after it.
    pub depends_on: Vec<String>,
    /// Outputs the engine must keep secret in state.
    pub additional_secret_outputs: Vec<String>,
    /// Delete the old child before creating its replacement.
    pub delete_before_replace: bool,
}

impl ChildOptions {
    pub fn depends_on<'u>(urns: impl IntoIterator<Item = &'u str>) -> Self {
        ChildOptions {
            depends_on: urns.into_iter().map(str::to_string).collect(),
            ..ChildOptions::default()
        }
    }
}

/// A child registration as the server sends it on.
pub struct ChildRequest {
    pub token: &'static str,
    pub name: String,
    pub inputs: PropertyMap,
    pub options: ChildOptions,
}

/// The engine's answer to a child registration.
pub struct ChildRegistered {
    pub urn: String,
    /// Empty in a preview of a child not created yet.
    pub id: String,
    pub outputs: PropertyMap,
}

/// Sends child registrations to the engine, under the component being built.
pub trait Registrar: Send + Sync {
    fn register(
        &self,
        child: ChildRequest,
    ) -> BoxFuture<'_, Result<ChildRegistered, ResourceError>>;
}

/// A registered child: its URN, id and typed outputs.
pub struct Child<O> {
    pub urn: String,
    /// Unknown in a preview of a child not created yet.
    pub id: Value<String>,
    pub outputs: O,
}

/// What `construct` works with: the operation's context and the means to register children.
pub struct Scope<'a, C> {
    ctx: &'a Ctx<C>,
    registrar: &'a dyn Registrar,
    /// Whether an input arrived secret where the component's type does not hold a secret: its
    /// value may flow anywhere, so every child input and component output is kept secret.
    tainted: bool,
}

impl<'a, C: Send + Sync + 'static> Scope<'a, C> {
    pub fn new(ctx: &'a Ctx<C>, registrar: &'a dyn Registrar) -> Self {
        Scope {
            ctx,
            registrar,
            tainted: false,
        }
    }

    fn with_taint(mut self, tainted: bool) -> Self {
        self.tainted = tainted;
        self
    }

    pub fn ctx(&self) -> &Ctx<C> {
        self.ctx
    }

    /// The component's logical name: the base of its children's names, which must be unique
    /// among all resources of their type.
    pub fn name(&self) -> &str {
        self.ctx.name()
    }

    pub fn preview(&self) -> bool {
        self.ctx.preview()
    }

    /// Register a child of resource type `R` named `name` and wait for the engine to create
    /// (or preview) it.
    pub async fn register<R: Resource<C>>(
        &self,
        name: impl Into<String>,
        inputs: &R::Inputs,
        options: ChildOptions,
    ) -> Result<Child<R::Outputs>, ResourceError> {
        let name = name.into();
        let mut map = encode(inputs, &SecretPaths::new())?;
        if self.tainted {
            keep_secret(&mut map);
        }
        let registered = self
            .registrar
            .register(ChildRequest {
                token: R::TOKEN,
                name: name.clone(),
                inputs: map,
                options,
            })
            .await?;
        let (outputs, _) = decode::<R::Outputs>(&registered.outputs).map_err(|f| {
            ResourceError::Internal(format!(
                "the outputs of child {} '{name}' do not decode at '{}': {}",
                R::TOKEN,
                f.property,
                f.reason
            ))
        })?;
        let id = if registered.id.is_empty() {
            Value::Unknown
        } else {
            Value::Known(registered.id)
        };
        Ok(Child {
            urn: registered.urn,
            id,
            outputs,
        })
    }
}

/// Every top-level value wrapped as a secret (once).
fn keep_secret(map: &mut PropertyMap) {
    for value in map.values_mut() {
        if !matches!(value, PropertyValue::Secret(_)) {
            *value = PropertyValue::secret(std::mem::replace(value, PropertyValue::Null));
        }
    }
}

/// Paths that arrived secret but that the typed inputs do not hold as `Secret<T>`.
fn untyped_secrets<T: Serialize>(typed: &T, arrived: &SecretPaths) -> bool {
    let Ok(reencoded) = encode(typed, &SecretPaths::new()) else {
        return !arrived.is_empty();
    };
    let (_, typed_secrets) = crate::codec::typed_json::map_to_json(&reencoded);
    arrived.iter().any(|p| {
        !typed_secrets
            .iter()
            .any(|t| p.elems().starts_with(t.elems()))
    })
}

/// Run a component's `construct` on its decoded inputs (`secrets`: the paths that arrived
/// secret): build a scope, encode the outputs (secret where an input at the same path was, or
/// everywhere when an untyped secret came in).
pub(crate) async fn construct_typed<C: Send + Sync + 'static, K: Component<C>>(
    component: &K,
    ctx: &Ctx<C>,
    registrar: &dyn Registrar,
    typed: K::Inputs,
    secrets: SecretPaths,
) -> Result<PropertyMap, ResourceError> {
    let tainted = untyped_secrets(&typed, &secrets);
    let scope = Scope::new(ctx, registrar).with_taint(tainted);
    let outputs = component.construct(&scope, typed).await?;
    let mut map = encode(&outputs, &secrets)?;
    if tainted {
        keep_secret(&mut map);
    }
    Ok(map)
}
