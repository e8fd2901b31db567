//! Cancellation: the engine's Cancel RPC cancels the operations in flight when it arrives.
//!
//! A counter rather than a flag: one provider process can outlive an engine session (attach mode
//! with `PULUMI_DEBUG_PROVIDERS`), and the engine sends Cancel at the end of every session, so a
//! Cancel must not poison the operations of the next one.

use tokio::sync::watch;

/// The sending half, owned by the provider.
#[derive(Debug)]
pub struct Canceller(watch::Sender<u64>);

/// Mints a signal for each new operation.
#[derive(Clone, Debug)]
pub struct CancelSource(watch::Receiver<u64>);

/// One operation's view: cancelled once a Cancel arrives after the operation began.
#[derive(Clone, Debug)]
pub struct CancelSignal {
    rx: watch::Receiver<u64>,
    started_in: u64,
}

pub fn channel() -> (Canceller, CancelSource) {
    let (tx, rx) = watch::channel(0);
    (Canceller(tx), CancelSource(rx))
}

impl Canceller {
    /// Cancel everything in flight. Never blocks, so the Cancel RPC answers at once.
    pub fn cancel(&self) {
        self.0.send_modify(|epoch| *epoch = epoch.wrapping_add(1));
    }
}

impl CancelSource {
    /// The signal for an operation starting now.
    pub fn signal(&self) -> CancelSignal {
        CancelSignal {
            started_in: *self.0.borrow(),
            rx: self.0.clone(),
        }
    }
}

impl CancelSignal {
    /// A signal no Cancel ever reaches, for work outside a provider session (and tests).
    pub fn never() -> Self {
        let (_, rx) = watch::channel(0);
        CancelSignal { rx, started_in: 0 }
    }

    pub fn is_cancelled(&self) -> bool {
        *self.rx.borrow() != self.started_in
    }

    /// Resolves once cancelled; never resolves otherwise (also if the provider is dropped).
    pub async fn cancelled(&self) {
        let mut rx = self.rx.clone();
        let started_in = self.started_in;
        if rx.wait_for(|epoch| *epoch != started_in).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn cancel_wakes_operations_in_flight() {
        let (c, source) = channel();
        let s = source.signal();
        assert!(!s.is_cancelled());
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.cancelled().await }
        });
        c.cancel();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        assert!(s.is_cancelled());
    }

    #[tokio::test]
    async fn operations_started_after_a_cancel_run_normally() {
        let (c, source) = channel();
        c.cancel();
        let later = source.signal();
        assert!(!later.is_cancelled());
        let waited = tokio::time::timeout(Duration::from_millis(50), later.cancelled()).await;
        assert!(
            waited.is_err(),
            "a later operation is not cancelled by an earlier Cancel"
        );
    }
}
