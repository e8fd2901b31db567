//! The typed resource API that modules implement.
//!
//! A resource declares serde types for its inputs and outputs; the blanket adapter in
//! [`erased`] turns it into the dynamic form the server dispatches to. Schema, validation of
//! wire types, the structural diff and secret bookkeeping all come from those types, so a
//! resource module only writes what is specific to it. Every operation gets a [`Ctx`], generic
//! over the provider's configuration type.

pub mod cancel;
pub mod component;
pub mod erased;
pub mod log;
#[cfg(test)]
mod schema_tests;
mod value;

pub use crate::model::{CheckFailure, Failures};
pub use component::{Child, ChildOptions, Component, Scope};
pub use value::{Secret, Value};

use crate::codec::PropertyPath;
use crate::model::schema::{SCHEMA_MODULE_KEY, SCHEMA_REPLACE_KEY};
use cancel::CancelSignal;
use log::EngineLog;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Field attribute `#[schemars(transform = replace_on_changes)]` on an input: a change to it
/// replaces the resource instead of updating it in place.
pub fn replace_on_changes(schema: &mut schemars::Schema) {
    schema.insert(SCHEMA_REPLACE_KEY.to_owned(), true.into());
}

/// Container attribute `#[schemars(transform = home_module("kubernetes/meta/v1"))]` on a type
/// shared across modules: its type token lives in `module`, whichever resource uses it.
pub fn home_module(module: &'static str) -> impl FnMut(&mut schemars::Schema) {
    move |schema| {
        schema.insert(SCHEMA_MODULE_KEY.to_owned(), module.into());
    }
}

/// How a resource reads an optional input given as "", [] or an empty map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyInputs {
    /// As the value it is (upstream built on Terraform's plugin framework, or not bridged).
    Values,
    /// As unset, as upstreams built on Terraform's SDKv2 do: Check drops it, so it is never
    /// sent, never in state, and a change between it and unset is no change.
    Absent,
    /// As unset, except these top-level inputs, where upstream sends the empty value on.
    AbsentExcept(&'static [&'static str]),
}

impl EmptyInputs {
    /// The top-level inputs that keep an empty value, or None when every input does.
    pub fn kept(self) -> Option<&'static [&'static str]> {
        match self {
            EmptyInputs::Values => None,
            EmptyInputs::Absent => Some(&[]),
            EmptyInputs::AbsentExcept(names) => Some(names),
        }
    }
}

/// The budget for an operation whose resource sets no custom timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// What Check has to work with besides the new inputs.
pub struct CheckCtx<'a, I> {
    /// The resource's logical name, the base of generated names.
    pub name: &'a str,
    /// Engine-provided seed: names derived from it are stable across previews and updates.
    pub random_seed: &'a [u8],
    /// The previously checked inputs, when the resource exists and they still decode.
    pub olds: Option<&'a I>,
}

/// What an operation has to work with besides its inputs: who it is for, its budget, the
/// engine's log and Cancel, the clock, and the provider configuration `C` given to Configure.
/// Built with [`Ctx::new`] and the `with_*` methods; read through its accessors.
pub struct Ctx<C> {
    urn: String,
    name: String,
    preview: bool,
    timeout: Duration,
    custom_timeout: bool,
    started: tokio::time::Instant,
    log: EngineLog,
    now: OffsetDateTime,
    config: Arc<C>,
    cancel: CancelSignal,
}

// Manual, so `C` itself need not be Clone: the configuration is shared.
impl<C> Clone for Ctx<C> {
    fn clone(&self) -> Self {
        Ctx {
            urn: self.urn.clone(),
            name: self.name.clone(),
            preview: self.preview,
            timeout: self.timeout,
            custom_timeout: self.custom_timeout,
            started: self.started,
            log: self.log.clone(),
            now: self.now,
            config: Arc::clone(&self.config),
            cancel: self.cancel.clone(),
        }
    }
}

impl<C> Ctx<C> {
    /// An operation on `urn` starting now, with the default timeout, not a preview, logging to
    /// stderr only and never cancelled; the logical name is the URN's last part.
    pub fn new(urn: impl Into<String>, config: Arc<C>) -> Self {
        let urn = urn.into();
        let name = urn.rsplit("::").next().unwrap_or_default().to_string();
        Ctx {
            urn,
            name,
            preview: false,
            timeout: DEFAULT_TIMEOUT,
            custom_timeout: false,
            started: tokio::time::Instant::now(),
            log: EngineLog::default(),
            now: OffsetDateTime::now_utc(),
            config,
            cancel: CancelSignal::never(),
        }
    }

    pub fn with_config(mut self, config: Arc<C>) -> Self {
        self.config = config;
        self
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn with_preview(mut self, preview: bool) -> Self {
        self.preview = preview;
        self
    }

    /// The operation's budget, counted from when the context was made.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A budget the resource set itself (`customTimeouts`), which backend waits honour in
    /// full rather than capping at their own defaults.
    pub fn with_custom_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.custom_timeout = true;
        self
    }

    pub fn with_log(mut self, log: EngineLog) -> Self {
        self.log = log;
        self
    }

    pub fn with_cancel(mut self, cancel: CancelSignal) -> Self {
        self.cancel = cancel;
        self
    }

    /// The clock the operation sees (tests pin it).
    pub fn with_now(mut self, now: OffsetDateTime) -> Self {
        self.now = now;
        self
    }

    pub fn urn(&self) -> &str {
        &self.urn
    }

    /// The resource's logical name (empty for functions).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is a preview: predict, change nothing.
    pub fn preview(&self) -> bool {
        self.preview
    }

    /// The operation's budget: the resource's custom timeout, or the provider default.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The resource's own timeout for this operation, when it set one.
    pub fn custom_timeout(&self) -> Option<Duration> {
        self.custom_timeout.then_some(self.timeout)
    }

    /// When the operation started: the timeout counts from here.
    pub fn started(&self) -> tokio::time::Instant {
        self.started
    }

    /// The clock, read once per request so a request sees one "now".
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The provider configuration given to Configure.
    pub fn config(&self) -> &C {
        &self.config
    }

    pub fn log(&self) -> &EngineLog {
        &self.log
    }

    /// When backend waits must give up: the operation's timeout less a small reserve, so a
    /// resource that already created something can still report it (as an init failure)
    /// before the server drops the operation.
    pub fn deadline(&self) -> tokio::time::Instant {
        let reserve = (self.timeout / 10).min(Duration::from_secs(5));
        self.started + self.timeout.saturating_sub(reserve)
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
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

/// A Pulumi custom resource with typed inputs and outputs, served by a provider whose
/// configuration is `C`.
///
/// Only `create` is mandatory. Without `update`, every input change replaces. Properties
/// marked with [`replace_on_changes`] in the inputs' schema replace; other changes update in place.
pub trait Resource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Inputs, with `Value<T>` for everything that may be unknown in preview.
    type Inputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync;
    /// Outputs, including the inputs they echo.
    type Outputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync;

    /// Type token, `<package>:<module>:<Name>`.
    const TOKEN: &'static str;
    /// Markdown description for the schema and SDK docs.
    const DESCRIPTION: &'static str;
    /// Whether `update` is implemented.
    const UPDATABLE: bool = false;
    /// How an optional input given as "", [] or an empty map reads: follow upstream.
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Values;

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
        ctx: &Ctx<C>,
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

    /// Create the resource. In preview (`ctx.preview()`), predict outputs without side effects and
    /// leave the rest `Value::Unknown`.
    fn create(
        &self,
        ctx: &Ctx<C>,
        inputs: Self::Inputs,
    ) -> impl Future<Output = Result<Created<Self::Outputs>, ResourceError>> + Send;

    /// Read live state. The default trusts the recorded state, which suits local resources.
    fn read(
        &self,
        ctx: &Ctx<C>,
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
        ctx: &Ctx<C>,
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
        ctx: &Ctx<C>,
        id: String,
        outputs: Self::Outputs,
    ) -> impl Future<Output = Result<(), ResourceError>> + Send {
        let _ = (ctx, id, outputs);
        async { Ok(()) }
    }
}

/// A provider function (Invoke). Functions never see unknowns or secrets on the wire; inputs
/// that the schema marks secret are still typed `Secret<T>` so they never reach a log.
pub trait Function<C: Send + Sync + 'static>: Send + Sync + 'static {
    type Args: DeserializeOwned + JsonSchema + Send;
    type Result: Serialize + JsonSchema + Send;

    const TOKEN: &'static str;
    const DESCRIPTION: &'static str;

    fn check(&self, args: &Self::Args, failures: &mut Failures) {
        let _ = (args, failures);
    }

    fn invoke(
        &self,
        ctx: &Ctx<C>,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Result, ResourceError>> + Send;
}
