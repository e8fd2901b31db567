//! Cancellation: the engine's Cancel RPC flips one signal that every in-flight operation watches.

use tokio::sync::watch;

/// The sending half, owned by the provider.
#[derive(Debug)]
pub struct Canceller(watch::Sender<bool>);

/// The receiving half, handed to each operation through its `Ctx`.
#[derive(Clone, Debug)]
pub struct CancelSignal(watch::Receiver<bool>);

pub fn channel() -> (Canceller, CancelSignal) {
    let (tx, rx) = watch::channel(false);
    (Canceller(tx), CancelSignal(rx))
}

impl Canceller {
    /// Mark everything cancelled. Never blocks, so the Cancel RPC answers at once.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

impl CancelSignal {
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled; never resolves otherwise (also if the provider is dropped).
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn cancel_wakes_waiters() {
        let (c, s) = channel();
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
}
