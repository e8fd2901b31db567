//! ARM's failures as users see them: what was done to which resource, ARM's code and message,
//! whether retrying stopped early, and which answers are worth another try.

use super::client::{ArmRequest, ArmResponse};
use crate::typed::ResourceError;
use serde_json::Value as Json;
use std::fmt;
use std::time::Duration;

/// Why retrying or polling stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Deadline(Duration),
    Cancelled,
}

/// A failed ARM request or operation: what was done to which resource, and ARM's code and
/// message.
#[derive(Clone, Debug)]
pub struct ArmError {
    pub operation: String,
    pub resource: String,
    /// HTTP status, or `None` when no answer came.
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
    pub ended: Option<Ended>,
    /// No definite answer came to a request that may have reached ARM (a connection lost after
    /// sending, a 5xx, the deadline mid-request): a write may have been applied.
    pub maybe_applied: bool,
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}: {}",
            self.operation, self.resource, self.code, self.message
        )?;
        if let Some(Ended::Deadline(after)) = self.ended {
            write!(f, " (gave up after {after:?}, the resource's timeout)")?;
        }
        Ok(())
    }
}

impl ArmError {
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    pub(super) fn local(request: &ArmRequest, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            operation: request.operation.to_string(),
            resource: request.resource().to_string(),
            status: None,
            code: code.to_string(),
            message: message.into(),
            ended: None,
            maybe_applied: false,
        }
    }
}

impl From<ArmError> for ResourceError {
    fn from(e: ArmError) -> Self {
        match e.ended {
            Some(Ended::Cancelled) => ResourceError::Cancelled,
            _ => ResourceError::backend("ARM request", e.to_string()),
        }
    }
}

/// ARM's error envelope `{"error": {"code", "message", "details"}}` (or a bare
/// `{"code", "message"}`) as code and message; the raw text when the body has neither.
pub fn error_parts(status: u16, body: &str) -> (String, String) {
    let fallback_code = format!("HTTP{status}");
    let Ok(json) = serde_json::from_str::<Json>(body) else {
        let text: String = body.trim().chars().take(500).collect();
        let text = if text.is_empty() {
            "no details".to_string()
        } else {
            text
        };
        return (fallback_code, text);
    };
    let inner = json.get("error").unwrap_or(&json);
    let code = inner
        .get("code")
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or(fallback_code);
    let mut message = inner
        .get("message")
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.trim().chars().take(500).collect());
    // Details often carry the actual reason (e.g. which property failed validation).
    if let Some(details) = inner.get("details").and_then(Json::as_array) {
        let extra: Vec<String> = details
            .iter()
            .filter_map(|d| {
                let c = d.get("code").and_then(Json::as_str)?;
                let m = d.get("message").and_then(Json::as_str).unwrap_or("");
                Some(format!("{c}: {m}"))
            })
            .collect();
        if !extra.is_empty() {
            message = format!("{message} ({})", extra.join("; "));
        }
    }
    (code, message)
}

/// The delay a `Retry-After` header asks for (seconds; HTTP dates are not used by ARM).
pub fn retry_after(response: &ArmResponse) -> Option<Duration> {
    let v = response.header("retry-after")?.trim();
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// Whether ARM asks for the same request again later.
pub(super) fn retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}
