//! The defects the toy provider can be built to have, one switch each, named in the
//! `TOY_DEFECTS` environment variable (comma-separated). Each one breaks exactly one promise the
//! engine relies on, so the conformance check that guards that promise must fail on it.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    /// Writes a banner to stdout before the port line.
    PortNoise,
    /// Keeps running after SIGINT.
    IgnoreSigint,
    /// GetPluginInfo reports a version other than the schema's.
    WrongVersion,
    /// Serves a schema with an undocumented property.
    Undocumented,
    /// Serves a schema with a reference to a type it does not define.
    Unbindable,
    /// Configure fails.
    ConfigFails,
    /// CheckConfig refuses unknown config values.
    ConfigRejectsUnknown,
    /// DiffConfig reports a change between identical configurations.
    DiffConfigNoise,
    /// Check refuses valid inputs.
    CheckRejectsValid,
    /// Check appends to the label every time it runs.
    CheckNotIdempotent,
    /// Check returns a secret input as plain text.
    CheckDropsSecret,
    /// Check replaces an unknown input with a guess.
    CheckDropsUnknown,
    /// Check answers bad input with a gRPC error instead of failures.
    CheckGrpcError,
    /// Check reports only the first failure.
    CheckFirstFailureOnly,
    /// A preview Create with unknown inputs fails.
    PreviewNeedsKnown,
    /// Create returns the password output in plain text.
    DropSecretOutput,
    /// Create returns `length` as a string.
    WrongOutputType,
    /// Diff reports a change between identical inputs.
    DiffNoise,
    /// Diff replaces on `label`, which the schema does not mark.
    ReplaceUnmarked,
    /// Read returns outputs other than the recorded ones.
    ReadChanges,
    /// Read after Delete answers with an error instead of an empty id.
    ReadAfterDeleteError,
    /// Writes the password into an Engine.Log message.
    LeakSecretLog,
    /// Invoke returns a secret argument's result in plain text.
    InvokeDropsSecret,
    /// Handshake fails.
    HandshakeFails,
    /// Create fails.
    CreateFails,
    /// Update fails.
    UpdateFails,
    /// Delete fails.
    DeleteFails,
    /// Invoke fails.
    InvokeFails,
    /// Keeps running after SIGINT once a Cancel has arrived.
    CancelBlocksExit,
    /// A second Configure in the same process fails.
    ConfigureOnce,
    /// CheckConfig refuses a non-string config value given as JSON text, as stack config is.
    ConfigRejectsJsonStrings,
    /// Configure answers that secrets are not accepted.
    NoAcceptSecrets,
    /// Configure answers that previews are not supported.
    NoSupportsPreview,
    /// Check panics outside the core's guard for the label `panic`.
    PanicUnguarded,
    /// Create's init failure reaches the engine as a plain error, its id and outputs lost.
    InitFailureLosesState,
    /// Create waits for the label `slow` without watching for Cancel.
    CancelIgnored,
    /// Once a Cancel has arrived, every later Create fails as cancelled, so an attached provider
    /// is useless in the session after the one whose end sent Cancel.
    CancelSticks,
    /// Serves a schema that does not mark the password output secret (it still comes back secret).
    SecretUnmarked,
}

impl Defect {
    pub const ALL: [(Defect, &'static str); 38] = [
        (Defect::PortNoise, "port_noise"),
        (Defect::IgnoreSigint, "ignore_sigint"),
        (Defect::WrongVersion, "wrong_version"),
        (Defect::Undocumented, "undocumented"),
        (Defect::Unbindable, "unbindable"),
        (Defect::ConfigFails, "config_fails"),
        (Defect::ConfigRejectsUnknown, "config_rejects_unknown"),
        (Defect::DiffConfigNoise, "diff_config_noise"),
        (Defect::CheckRejectsValid, "check_rejects_valid"),
        (Defect::CheckNotIdempotent, "check_not_idempotent"),
        (Defect::CheckDropsSecret, "check_drops_secret"),
        (Defect::CheckDropsUnknown, "check_drops_unknown"),
        (Defect::CheckGrpcError, "check_grpc_error"),
        (Defect::CheckFirstFailureOnly, "check_first_failure_only"),
        (Defect::PreviewNeedsKnown, "preview_needs_known"),
        (Defect::DropSecretOutput, "drop_secret_output"),
        (Defect::WrongOutputType, "wrong_output_type"),
        (Defect::DiffNoise, "diff_noise"),
        (Defect::ReplaceUnmarked, "replace_unmarked"),
        (Defect::ReadChanges, "read_changes"),
        (Defect::ReadAfterDeleteError, "read_after_delete_error"),
        (Defect::LeakSecretLog, "leak_secret_log"),
        (Defect::InvokeDropsSecret, "invoke_drops_secret"),
        (Defect::HandshakeFails, "handshake_fails"),
        (Defect::CreateFails, "create_fails"),
        (Defect::UpdateFails, "update_fails"),
        (Defect::DeleteFails, "delete_fails"),
        (Defect::InvokeFails, "invoke_fails"),
        (Defect::CancelBlocksExit, "cancel_blocks_exit"),
        (Defect::CancelSticks, "cancel_sticks"),
        (Defect::SecretUnmarked, "secret_unmarked"),
        (Defect::ConfigureOnce, "configure_once"),
        (
            Defect::ConfigRejectsJsonStrings,
            "config_rejects_json_strings",
        ),
        (Defect::NoAcceptSecrets, "no_accept_secrets"),
        (Defect::NoSupportsPreview, "no_supports_preview"),
        (Defect::PanicUnguarded, "panic_unguarded"),
        (Defect::InitFailureLosesState, "init_failure_loses_state"),
        (Defect::CancelIgnored, "cancel_ignored"),
    ];
}

/// The defects switched on for this process.
pub fn active() -> &'static [Defect] {
    static ACTIVE: OnceLock<Vec<Defect>> = OnceLock::new();
    ACTIVE.get_or_init(|| {
        let names = std::env::var("TOY_DEFECTS").unwrap_or_default();
        names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                Defect::ALL
                    .iter()
                    .find(|(_, name)| *name == n)
                    .map(|(d, _)| *d)
                    .unwrap_or_else(|| panic!("TOY_DEFECTS names an unknown defect {n:?}"))
            })
            .collect()
    })
}

/// Whether `defect` is switched on.
pub fn on(defect: Defect) -> bool {
    active().contains(&defect)
}
