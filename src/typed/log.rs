//! Messages for the user go to the engine's Log RPC, attached to a resource URN; diagnostics go
//! to stderr through `tracing`. Nothing is ever written to stdout, which carries the port line.

use crate::protocol::pulumirpc::{LogRequest, LogSeverity, engine_client::EngineClient};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

const MAX_MESSAGE: usize = 400 << 20;

/// A cheap handle for sending user-visible log lines to the engine, in order.
#[derive(Clone, Default)]
pub struct EngineLog {
    sender: Arc<Mutex<Option<mpsc::UnboundedSender<LogRequest>>>>,
}

impl EngineLog {
    /// Connect to the engine at `address` (`host:port`, no scheme). Messages logged before this
    /// go to stderr only. Connecting twice keeps the first connection.
    pub fn connect(&self, address: &str) {
        let Ok(mut slot) = self.sender.lock() else {
            return;
        };
        if slot.is_some() || address.is_empty() {
            return;
        }
        let endpoint = if address.contains("://") {
            address.to_string()
        } else {
            format!("http://{address}")
        };
        let Ok(endpoint) = tonic::transport::Endpoint::from_shared(endpoint) else {
            tracing::warn!(
                address,
                "engine address is not a valid endpoint; logs stay on stderr"
            );
            return;
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<LogRequest>();
        *slot = Some(tx);
        tokio::spawn(async move {
            let channel = endpoint.connect_lazy();
            let mut client = EngineClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE);
            while let Some(req) = rx.recv().await {
                if let Err(e) = client.log(req).await {
                    tracing::debug!(error = %e, "engine log call failed");
                }
            }
        });
    }

    fn send(&self, severity: LogSeverity, urn: &str, message: String) {
        match severity {
            LogSeverity::Error => tracing::error!(urn, "{message}"),
            LogSeverity::Warning => tracing::warn!(urn, "{message}"),
            _ => tracing::info!(urn, "{message}"),
        }
        let Ok(slot) = self.sender.lock() else {
            return;
        };
        if let Some(tx) = slot.as_ref() {
            let _ = tx.send(LogRequest {
                severity: severity as i32,
                message,
                urn: urn.to_string(),
                stream_id: 0,
                ephemeral: false,
            });
        }
    }

    pub fn info(&self, urn: &str, message: impl Into<String>) {
        self.send(LogSeverity::Info, urn, message.into());
    }

    pub fn warn(&self, urn: &str, message: impl Into<String>) {
        self.send(LogSeverity::Warning, urn, message.into());
    }

    pub fn debug(&self, urn: &str, message: impl Into<String>) {
        self.send(LogSeverity::Debug, urn, message.into());
    }
}
