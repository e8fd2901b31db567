//! Long-running operations: where ARM says to poll (`Azure-AsyncOperation`, `Location`, or
//! the resource's own `provisioningState`) and the poller that follows one to its end, paced by
//! `Retry-After`, bounded by the deadline and the engine's Cancel.

use super::client::{ArmClient, ArmRequest, ArmResponse, provisioning_state};
use super::errors::{ArmError, Ended, retry_after};
use crate::modules::Ctx;
use crate::modules::backend::{self, Interrupted};
use azure_core::http::{Method, Url};
use serde_json::Value as Json;
use tokio::time::Instant;

impl ArmClient {
    /// Send a write (PUT, PATCH, DELETE, POST) and wait for its long-running operation, if
    /// any. Returns the first answer; for PUT and PATCH, read the resource afterwards for its
    /// final state. A DELETE of something already gone succeeds.
    pub async fn write_and_wait(
        &self,
        ctx: &Ctx,
        deadline: Instant,
        request: &ArmRequest,
    ) -> Result<ArmResponse, ArmError> {
        let first = match self.send(ctx, deadline, request).await {
            Err(e) if request.method == Method::Delete && e.is_not_found() => {
                return Ok(ArmResponse {
                    status: 404,
                    ..Default::default()
                });
            }
            other => other?,
        };
        self.wait(ctx, deadline, request, &first).await?;
        Ok(first)
    }

    /// Follow a long-running operation to its end: the `Azure-AsyncOperation` URL when given,
    /// else the `Location` URL, else (for PUT and PATCH) the resource's own
    /// `provisioningState`. `Retry-After` sets the pace, capped by the policy.
    pub async fn wait(
        &self,
        ctx: &Ctx,
        deadline: Instant,
        request: &ArmRequest,
        first: &ArmResponse,
    ) -> Result<(), ArmError> {
        let poll = poll_target(request, first);
        let Some(target) = poll else {
            return Ok(());
        };
        let mut last = first.clone();
        let mut url = match &target {
            PollTarget::AsyncOperation(u) | PollTarget::Location(u) => {
                let url = Url::parse(u).map_err(|e| {
                    ArmError::local(request, "InvalidPollUrl", format!("{u:?}: {e}"))
                })?;
                if !self.same_origin(&url) {
                    return Err(ArmError::local(
                        request,
                        "InvalidPollUrl",
                        format!(
                            "the operation URL {url} is not on the Resource Manager endpoint; refusing to send it a token"
                        ),
                    ));
                }
                Some(url)
            }
            PollTarget::ProvisioningState => None,
        };
        let poll_request = ArmRequest {
            method: Method::Get,
            body: None,
            ..request.clone()
        };
        loop {
            let delay = retry_after(&last)
                .unwrap_or(self.policy.default_poll_interval)
                .min(self.policy.max_poll_interval);
            match backend::pause(ctx, deadline, delay).await {
                Ok(()) => {}
                Err(Interrupted::Deadline) => {
                    return Err(ArmError {
                        ended: Some(Ended::Deadline(ctx.timeout())),
                        ..ArmError::local(
                            request,
                            "OperationTimedOut",
                            "the operation was still running",
                        )
                    });
                }
                Err(Interrupted::Cancelled) => {
                    return Err(ArmError {
                        ended: Some(Ended::Cancelled),
                        ..ArmError::local(
                            request,
                            "Cancelled",
                            "cancelled while the operation was running",
                        )
                    });
                }
            }
            let response = match &url {
                Some(u) => {
                    self.send_url(ctx, deadline, &poll_request, Method::Get, u.clone(), None)
                        .await
                }
                None => self.send(ctx, deadline, &poll_request).await,
            };
            let response = match (&target, response) {
                // A Location poll of a DELETE may end in 404 once the resource is gone.
                (PollTarget::Location(_), Err(e))
                    if e.is_not_found() && request.method == Method::Delete =>
                {
                    return Ok(());
                }
                (_, r) => r?,
            };
            match &target {
                PollTarget::AsyncOperation(_) => {
                    let body = response.body.clone().unwrap_or(Json::Null);
                    match body.get("status").and_then(Json::as_str).unwrap_or("") {
                        "Succeeded" => return Ok(()),
                        s @ ("Failed" | "Canceled" | "Cancelled") => {
                            return Err(operation_failed(request, s, &body));
                        }
                        _ => {}
                    }
                }
                PollTarget::Location(_) => {
                    if response.status != 202 {
                        return Ok(());
                    }
                    // A Location answer may move the poll elsewhere.
                    if let Some(next) = response.header("location")
                        && let Ok(next) = Url::parse(next)
                        && self.same_origin(&next)
                    {
                        url = Some(next);
                    }
                }
                PollTarget::ProvisioningState => {
                    let body = response.body.clone().unwrap_or(Json::Null);
                    match provisioning_state(&body).unwrap_or("Succeeded") {
                        "Succeeded" => return Ok(()),
                        s @ ("Failed" | "Canceled") => {
                            return Err(operation_failed(request, s, &body));
                        }
                        _ => {}
                    }
                }
            }
            last = response;
        }
    }
}

/// What a long-running operation is polled through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollTarget {
    AsyncOperation(String),
    Location(String),
    ProvisioningState,
}

/// Where to poll after `first`, or `None` when the operation is already complete.
pub fn poll_target(request: &ArmRequest, first: &ArmResponse) -> Option<PollTarget> {
    if let Some(u) = first
        .header("azure-asyncoperation")
        .filter(|u| !u.is_empty())
    {
        return Some(PollTarget::AsyncOperation(u.to_string()));
    }
    if first.status == 202
        && let Some(u) = first.header("location").filter(|u| !u.is_empty())
    {
        return Some(PollTarget::Location(u.to_string()));
    }
    // No operation URL: a PUT or PATCH whose resource is still provisioning is followed through
    // its own provisioningState (a terminal failure is reported by the first poll).
    if matches!(request.method, Method::Put | Method::Patch)
        && first
            .provisioning_state()
            .is_some_and(|state| state != "Succeeded")
    {
        return Some(PollTarget::ProvisioningState);
    }
    None
}

fn operation_failed(request: &ArmRequest, status: &str, body: &Json) -> ArmError {
    let error = body
        .get("error")
        .or_else(|| body.pointer("/properties/error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Json::as_str)
        .unwrap_or(if status == "Failed" {
            "OperationFailed"
        } else {
            "OperationCanceled"
        })
        .to_string();
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("the operation ended {status}"));
    ArmError {
        operation: request.operation.to_string(),
        resource: request.resource().to_string(),
        status: None,
        code,
        message,
        ended: None,
        maybe_applied: false,
    }
}
