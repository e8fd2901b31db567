//! The typed resource API that modules implement.
//!
//! A resource declares serde types for its inputs and outputs; the blanket adapter in
//! [`erased`] turns it into the dynamic form the gRPC core dispatches to. Schema, validation of
//! wire types, the structural diff and secret bookkeeping all come from those types, so a
//! resource module only writes what is specific to it.

pub mod erased;
mod value;

pub use value::{SCHEMA_SECRET_KEY, Secret, Value};

use crate::codec::PropertyPath;
use crate::core::log::EngineLog;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;
use time::OffsetDateTime;

/// The schema extension key for properties whose change forces replacement.
pub const SCHEMA_REPLACE_KEY: &str = "x-zerotrust-replace-on-changes";

/// One reason an input is invalid, tied to the property it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    pub property: PropertyPath,
    pub reason: String,
}

/// Collects every failure of a Check, so the user sees them all at once.
#[derive(Default, Debug)]
pub struct Failures(Vec<CheckFailure>);

impl Failures {
    pub fn add(&mut self, property: PropertyPath, reason: impl Into<String>) {
        self.0.push(CheckFailure {
            property,
            reason: reason.into(),
        });
    }

    /// Shorthand for a failure on a top-level property.
    pub fn at(&mut self, key: &str, reason: impl Into<String>) {
        self.add(PropertyPath::root().key(key), reason);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<CheckFailure> {
        self.0
    }

    pub fn extend(&mut self, more: Vec<CheckFailure>) {
        self.0.extend(more);
    }
}

/// What Check has to work with besides the new inputs.
pub struct CheckCtx<'a, I> {
    /// The resource's logical name, the base of generated names.
    pub name: &'a str,
    /// Engine-provided seed: names derived from it are stable across previews and updates.
    pub random_seed: &'a [u8],
    /// The previously checked inputs, when the resource exists and they still decode.
    pub olds: Option<&'a I>,
}

/// What an operation has to work with besides its inputs.
#[derive(Clone)]
pub struct Ctx {
    pub urn: String,
    /// The resource's logical name from its URN (empty for functions).
    pub name: String,
    pub preview: bool,
    /// The operation's budget: the resource's custom timeout, or the provider default.
    pub timeout: Duration,
    /// When the server started the operation: `timeout` counts from here.
    pub started: tokio::time::Instant,
    pub log: EngineLog,
    /// The clock, read once per request so a request sees one "now".
    pub now: OffsetDateTime,
    /// The provider configuration given to Configure.
    pub config: std::sync::Arc<crate::modules::ProviderConfig>,
    pub(crate) cancel: crate::core::cancel::CancelSignal,
}

impl Ctx {
    /// When backend waits must give up: the operation's timeout less a small reserve, so a
    /// resource that already created something can still report it (as an init failure)
    /// before the server drops the operation.
    pub fn deadline(&self) -> tokio::time::Instant {
        let reserve = (self.timeout / 10).min(Duration::from_secs(5));
        self.started + self.timeout.saturating_sub(reserve)
    }

    /// Resolves when the engine cancels in-flight work; select on it around slow backend calls.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    pub fn info(&self, message: impl Into<String>) {
        self.log.info(&self.urn, message);
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.log.warn(&self.urn, message);
    }
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// The backend refused or failed; the message names the operation and cause.
    #[error("{operation} failed: {cause}")]
    Backend { operation: String, cause: String },
    /// Something was created but could not be finished; its state must be kept.
    #[error("resource initialization failed: {}", reasons.join("; "))]
    InitFailed {
        id: String,
        outputs: serde_json::Value,
        reasons: Vec<String>,
    },
    /// The inputs turned out invalid at apply time (e.g. a value only known after preview).
    #[error("invalid input at {property}: {reason}")]
    InvalidInput {
        property: PropertyPath,
        reason: String,
    },
    /// The operation is not supported for this resource.
    #[error("{0}")]
    Unsupported(String),
    /// The engine cancelled the operation.
    #[error("operation cancelled")]
    Cancelled,
    /// The operation ran past its timeout.
    #[error("operation timed out after {0:?}")]
    Timeout(Duration),
    /// A bug in the provider.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ResourceError {
    pub fn backend(operation: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        ResourceError::Backend {
            operation: operation.into(),
            cause: cause.to_string(),
        }
    }
}

/// The result of a successful Create (or a preview of one).
pub struct Created<O> {
    /// Must be non-empty outside preview; ignored in preview.
    pub id: String,
    pub outputs: O,
}

/// What Read found.
pub enum ReadOutcome<I, O> {
    /// The resource no longer exists: refresh drops it from state.
    Gone,
    Found {
        id: String,
        inputs: I,
        outputs: O,
    },
}

/// What a typed diff compares.
pub struct DiffInput<'a, I, O> {
    /// The recorded outputs.
    pub olds: &'a O,
    /// The recorded inputs, when state has them and they still decode.
    pub old_inputs: Option<&'a I>,
    /// The new checked inputs.
    pub news: &'a I,
    pub now: OffsetDateTime,
}

/// An extra diff entry a resource reports beyond the structural input diff.
pub struct ExtraDiff {
    pub property: PropertyPath,
    pub replace: bool,
}

/// A Pulumi custom resource with typed inputs and outputs.
///
/// Only `create` is mandatory. Without `update`, every input change replaces. Properties
/// marked with `SCHEMA_REPLACE_KEY` in the inputs' schema replace; other changes update in place.
pub trait Resource: Send + Sync + 'static {
    /// Inputs, with `Value<T>` for everything that may be unknown in preview.
    type Inputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync;
    /// Outputs, including the inputs they echo.
    type Outputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync;

    /// Type token, e.g. `zerotrust:tls:PrivateKey`.
    const TOKEN: &'static str;
    /// Markdown description for the schema and SDK docs.
    const DESCRIPTION: &'static str;
    /// Whether `update` is implemented.
    const UPDATABLE: bool = false;

    /// Validate the inputs (which may hold unknowns) and return them normalised. Report every
    /// problem through `failures`; wire-type errors were already reported by the core.
    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        let _ = (ctx, failures);
        inputs
    }

    /// Checks that need the backend, such as a DNS record's name against its zone's name. Run
    /// after `check` passed, with inputs that may still hold unknowns. Report only definite
    /// answers: when the backend cannot be asked, stay silent and let the operation fail.
    fn check_live(
        &self,
        ctx: &Ctx,
        inputs: &Self::Inputs,
        failures: &mut Failures,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, inputs, failures);
        async {}
    }

    /// Changes the structural input diff cannot see, such as a certificate due for renewal.
    fn diff_extra(&self, diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> Vec<ExtraDiff> {
        let _ = diff;
        Vec::new()
    }

    /// Whether a replacement must delete the old resource first, e.g. because the new one
    /// would have the same name (asked only when the diff replaces).
    fn delete_before_replace(&self, diff: &DiffInput<'_, Self::Inputs, Self::Outputs>) -> bool {
        let _ = diff;
        false
    }

    /// Create the resource. In preview (`ctx.preview`), predict outputs without side effects and
    /// leave the rest `Value::Unknown`.
    fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> impl Future<Output = Result<Created<Self::Outputs>, ResourceError>> + Send;

    /// Read live state. The default trusts the recorded state, which suits local resources.
    fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> impl Future<Output = Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError>> + Send
    {
        let _ = ctx;
        async move {
            match (inputs, outputs) {
                (Some(inputs), Some(outputs)) => Ok(ReadOutcome::Found {
                    id,
                    inputs,
                    outputs,
                }),
                _ => Err(ResourceError::Unsupported(format!(
                    "{} cannot be imported: it is created locally and has no remote state to read",
                    Self::TOKEN
                ))),
            }
        }
    }

    /// Update in place. Only called for changes to properties that do not replace.
    fn update(
        &self,
        ctx: &Ctx,
        id: String,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> impl Future<Output = Result<Self::Outputs, ResourceError>> + Send {
        let _ = (ctx, id, olds, news);
        async move {
            Err(ResourceError::Unsupported(format!(
                "{} has no in-place update",
                Self::TOKEN
            )))
        }
    }

    /// Delete. The default does nothing, which suits resources that only exist in state.
    fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> impl Future<Output = Result<(), ResourceError>> + Send {
        let _ = (ctx, id, outputs);
        async { Ok(()) }
    }
}

/// A provider function (Invoke). Functions never see unknowns or secrets on the wire; inputs
/// that the schema marks secret are still typed `Secret<T>` so they never reach a log.
pub trait Function: Send + Sync + 'static {
    type Args: DeserializeOwned + JsonSchema + Send;
    type Result: Serialize + JsonSchema + Send;

    const TOKEN: &'static str;
    const DESCRIPTION: &'static str;

    fn check(&self, args: &Self::Args, failures: &mut Failures) {
        let _ = (args, failures);
    }

    fn invoke(
        &self,
        ctx: &Ctx,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Result, ResourceError>> + Send;
}
