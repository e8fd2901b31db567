//! What every module that talks to a backend needs, written once: the operation's deadline,
//! waits that end at that deadline or at the engine's Cancel, and one retry loop with jittered
//! exponential backoff (in [`retry`]). A module decides what an answer means; how long to wait
//! and when to stop is decided here.

pub mod retry;

pub use retry::{Attempt, Backoff, RetryPolicy, Stopped, retry};

use crate::modules::Ctx;
use crate::typed::ResourceError;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Why a wait ended before its work did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupted {
    /// The operation's deadline ([`deadline`]) came.
    Deadline,
    /// The engine sent Cancel.
    Cancelled,
}

impl Interrupted {
    /// The resource error for an operation that stops here, naming what it was doing.
    pub fn into_error(self, ctx: &Ctx, doing: impl Into<String>) -> ResourceError {
        match self {
            Interrupted::Cancelled => ResourceError::Cancelled,
            Interrupted::Deadline => ResourceError::backend(
                doing,
                format!(
                    "not finished within the resource's timeout ({})",
                    human(ctx.timeout())
                ),
            ),
        }
    }
}

/// When backend work must stop: the operation's timeout less a small reserve, so a resource
/// that already created something can still report it before the server drops the operation.
pub fn deadline(ctx: &Ctx) -> Instant {
    ctx.deadline()
}

/// Runs `work` until it finishes, `deadline` passes or the engine cancels, whichever is first.
pub async fn within<T>(
    ctx: &Ctx,
    deadline: Instant,
    work: impl Future<Output = T>,
) -> Result<T, Interrupted> {
    tokio::select! {
        biased;
        () = ctx.cancelled() => Err(Interrupted::Cancelled),
        r = tokio::time::timeout_at(deadline, work) => r.map_err(|_| Interrupted::Deadline),
    }
}

/// Waits `delay`, unless the wait would pass `deadline` (then it does not start) or the engine
/// cancels first.
pub async fn pause(ctx: &Ctx, deadline: Instant, delay: Duration) -> Result<(), Interrupted> {
    if Instant::now() + delay >= deadline {
        return Err(Interrupted::Deadline);
    }
    within(ctx, deadline, tokio::time::sleep(delay)).await
}

/// A duration as people write it: `90s`, `5m`, `1h30m`.
pub fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::typed::cancel;
    use std::sync::Arc;

    pub(crate) fn ctx(timeout: Duration) -> (cancel::Canceller, Ctx) {
        let (canceller, source) = cancel::channel();
        let ctx = Ctx::new("urn:pulumi:dev::p::zerotrust:test:Thing::t", Arc::default())
            .with_timeout(timeout)
            .with_cancel(source.signal());
        (canceller, ctx)
    }

    #[tokio::test(start_paused = true)]
    async fn waits_end_at_the_deadline() {
        let (_c, ctx) = ctx(Duration::from_secs(100));
        let at = deadline(&ctx);
        assert!(
            at <= ctx.started() + Duration::from_secs(95),
            "a reserve is kept"
        );
        let slow = within(&ctx, at, tokio::time::sleep(Duration::from_secs(3600))).await;
        assert_eq!(slow, Err(Interrupted::Deadline));
        assert_eq!(Instant::now(), at);
        // A pause that cannot end before the deadline does not start.
        let (_c, ctx) = super::tests::ctx(Duration::from_secs(100));
        let before = Instant::now();
        let long = pause(&ctx, deadline(&ctx), Duration::from_secs(99)).await;
        assert_eq!(long, Err(Interrupted::Deadline));
        assert_eq!(Instant::now(), before);
        assert_eq!(
            pause(&ctx, deadline(&ctx), Duration::from_secs(1)).await,
            Ok(())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waits_end_at_cancel() {
        let (canceller, ctx) = ctx(Duration::from_secs(100));
        let start = Instant::now();
        let waiting = within(&ctx, deadline(&ctx), std::future::pending::<()>());
        let cancel = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            canceller.cancel();
        };
        let (result, ()) = tokio::join!(waiting, cancel);
        assert_eq!(result, Err(Interrupted::Cancelled));
        assert_eq!(Instant::now() - start, Duration::from_millis(200));
        assert!(matches!(
            Interrupted::Cancelled.into_error(&ctx, "x"),
            ResourceError::Cancelled
        ));
        let text = Interrupted::Deadline.into_error(&ctx, "wait").to_string();
        assert!(text.contains("timeout (1m40s)"), "{text}");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        let cases = [
            (5, "5s"),
            (60, "1m"),
            (90, "1m30s"),
            (3600, "1h"),
            (5400, "1h30m"),
        ];
        for (secs, text) in cases {
            assert_eq!(human(Duration::from_secs(secs)), text);
        }
    }
}
