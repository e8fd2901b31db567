//! One retry loop for every backend: the module classifies each answer ([`Attempt`]); this loop
//! waits with jittered exponential backoff (or the server's own `Retry-After`), counts retries
//! against the policy, and stops at the operation's deadline or the engine's Cancel.

use super::{Interrupted, pause, within};
use crate::modules::Ctx;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Exponential backoff with full jitter: the n-th wait is uniform in (0, min(base * 2^n, max)].
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max);
        let millis = ceiling.as_millis().clamp(1, u128::from(u64::MAX)) as u64;
        Duration::from_millis(rand::random::<u64>() % millis + 1)
    }
}

/// How often and how patiently calls are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries of answers that say "try again" (throttling, 5xx).
    pub max_retries: u32,
    /// Retries of requests that may not have reached the server: a server that is down should
    /// fail the update quickly, not hold it until the timeout.
    pub max_transport_retries: u32,
    pub backoff: Backoff,
    /// The longest wait a server's `Retry-After` is granted.
    pub max_server_wait: Duration,
}

/// What one attempt came to, as the module reads the answer.
pub enum Attempt<T, E> {
    Done(T),
    /// The server asked for another try (throttling, a 5xx), maybe saying when.
    Retry(E, Option<Duration>),
    /// The request may not have reached the server (connection refused, reset).
    Transport(E),
    /// The server is still working on an earlier change: try again, without limit, until the
    /// deadline.
    Busy(E),
    /// A definite answer not worth repeating.
    Fail(E),
}

/// Why [`retry`] gave up.
#[derive(Debug)]
pub enum Stopped<E> {
    /// A definite failure, or retries used up: the last error.
    Failed(E),
    /// The deadline came; `in_flight` when a request was still unanswered (it may have been
    /// applied), with the last error seen before, if any.
    Deadline { last: Option<E>, in_flight: bool },
    /// The engine cancelled; as for `Deadline`.
    Cancelled { last: Option<E>, in_flight: bool },
}

impl<E> Stopped<E> {
    fn interrupted(why: Interrupted, last: Option<E>, in_flight: bool) -> Self {
        match why {
            Interrupted::Deadline => Stopped::Deadline { last, in_flight },
            Interrupted::Cancelled => Stopped::Cancelled { last, in_flight },
        }
    }
}

/// A retry about to happen: which one (from 1) and the wait before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retrying {
    pub number: u32,
    pub delay: Duration,
}

impl std::fmt::Display for Retrying {
    /// The words every module logs a retry with: `retry 2 in 400 ms`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "retry {} in {} ms", self.number, self.delay.as_millis())
    }
}

/// Runs `attempt` until it is done or fails for good, waiting between tries, and stops at
/// `deadline` or Cancel. `on_retry` hears each error about to be retried, and the retry.
pub async fn retry<T, E, F, Fut>(
    ctx: &Ctx,
    deadline: Instant,
    policy: &RetryPolicy,
    mut on_retry: impl FnMut(&E, Retrying),
    mut attempt: F,
) -> Result<T, Stopped<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
{
    let mut retries = 0u32;
    let mut transport_retries = 0u32;
    let mut last: Option<E> = None;
    loop {
        let outcome = match within(ctx, deadline, attempt()).await {
            Ok(outcome) => outcome,
            Err(why) => return Err(Stopped::interrupted(why, last, true)),
        };
        let (err, server_wait) = match outcome {
            Attempt::Done(value) => return Ok(value),
            Attempt::Fail(err) => return Err(Stopped::Failed(err)),
            Attempt::Busy(err) => (err, None),
            Attempt::Retry(err, after) => {
                if retries >= policy.max_retries {
                    return Err(Stopped::Failed(err));
                }
                (err, after)
            }
            Attempt::Transport(err) => {
                if transport_retries >= policy.max_transport_retries {
                    return Err(Stopped::Failed(err));
                }
                transport_retries += 1;
                (err, None)
            }
        };
        let delay = match server_wait {
            Some(wait) => wait.min(policy.max_server_wait),
            None => policy.backoff.delay(retries),
        };
        retries = retries.saturating_add(1);
        if Instant::now() + delay >= deadline {
            return Err(Stopped::Deadline {
                last: Some(err),
                in_flight: false,
            });
        }
        on_retry(
            &err,
            Retrying {
                number: retries,
                delay,
            },
        );
        if let Err(why) = pause(ctx, deadline, delay).await {
            return Err(Stopped::interrupted(why, Some(err), false));
        }
        last = Some(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::backend::tests::ctx;
    use std::sync::atomic::{AtomicU32, Ordering};

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 3,
        max_transport_retries: 1,
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        },
        max_server_wait: Duration::from_secs(5),
    };

    /// Runs `retry` over scripted outcomes, returning the result and how many attempts ran.
    async fn run(
        ctx: &Ctx,
        script: Vec<Attempt<&'static str, &'static str>>,
    ) -> (Result<&'static str, Stopped<&'static str>>, u32) {
        let calls = AtomicU32::new(0);
        let script = std::sync::Mutex::new(script.into_iter());
        let result = retry(
            ctx,
            ctx.deadline(),
            &POLICY,
            |_, _| {},
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                let next = script.lock().ok().and_then(|mut s| s.next());
                async move { next.unwrap_or(Attempt::Fail("script ran out")) }
            },
        )
        .await;
        (result, calls.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn each_retry_is_announced_with_its_number_and_wait() {
        let (_c, ctx) = ctx(Duration::from_secs(600));
        let heard = std::sync::Mutex::new(Vec::new());
        let script = std::sync::Mutex::new(
            vec![
                Attempt::Retry("throttled", Some(Duration::from_secs(2))),
                Attempt::Busy("pending"),
                Attempt::Done("ok"),
            ]
            .into_iter(),
        );
        let result = retry(
            &ctx,
            ctx.deadline(),
            &POLICY,
            |err: &&str, next| {
                if let Ok(mut h) = heard.lock() {
                    h.push((err.to_string(), next));
                }
            },
            || {
                let next = script.lock().ok().and_then(|mut s| s.next());
                async move { next.unwrap_or(Attempt::Fail("script ran out")) }
            },
        )
        .await;
        assert_eq!(result.ok(), Some("ok"));
        let heard = heard.into_inner().unwrap_or_default();
        let numbers: Vec<u32> = heard.iter().map(|(_, r)| r.number).collect();
        assert_eq!(numbers, vec![1, 2]);
        assert_eq!(heard[0].0, "throttled");
        // The server's Retry-After is kept (within the policy's cap); backoff stays in its bounds.
        assert_eq!(heard[0].1.delay, Duration::from_secs(2));
        assert!(heard[1].1.delay <= POLICY.backoff.base * 2);
        assert_eq!(heard[0].1.to_string(), "retry 1 in 2000 ms");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_done_within_the_limits() {
        let (_c, ctx) = ctx(Duration::from_secs(600));
        let (r, calls) = run(
            &ctx,
            vec![
                Attempt::Retry("throttled", None),
                Attempt::Transport("refused"),
                Attempt::Busy("busy"),
                Attempt::Done("ok"),
            ],
        )
        .await;
        assert_eq!(r.ok(), Some("ok"));
        assert_eq!(calls, 4);

        let throttled = (0..10).map(|_| Attempt::Retry("throttled", None)).collect();
        let (r, calls) = run(&ctx, throttled).await;
        assert!(matches!(r, Err(Stopped::Failed("throttled"))));
        assert_eq!(calls, 1 + POLICY.max_retries);

        let down = (0..10).map(|_| Attempt::Transport("refused")).collect();
        let (r, calls) = run(&ctx, down).await;
        assert!(matches!(r, Err(Stopped::Failed("refused"))));
        assert_eq!(calls, 1 + POLICY.max_transport_retries);

        let (r, calls) = run(&ctx, vec![Attempt::Fail("no"), Attempt::Done("late")]).await;
        assert!(matches!(r, Err(Stopped::Failed("no"))));
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn busy_answers_retry_until_the_deadline() {
        let (_c, ctx) = ctx(Duration::from_secs(60));
        let busy = (0..10_000).map(|_| Attempt::Busy("busy")).collect();
        let start = Instant::now();
        let (r, calls) = run(&ctx, busy).await;
        assert!(
            matches!(
                r,
                Err(Stopped::Deadline {
                    last: Some("busy"),
                    in_flight: false
                })
            ),
            "{r:?}"
        );
        assert!(calls > POLICY.max_retries, "busy is not counted: {calls}");
        assert!(Instant::now() <= start + Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_wait_is_honoured_but_capped() {
        let (_c, ctx) = ctx(Duration::from_secs(600));
        let start = Instant::now();
        let (r, _) = run(
            &ctx,
            vec![
                Attempt::Retry("slow down", Some(Duration::from_secs(2))),
                Attempt::Retry("slow down", Some(Duration::from_secs(3600))),
                Attempt::Done("ok"),
            ],
        )
        .await;
        assert_eq!(r.ok(), Some("ok"));
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(2) + POLICY.max_server_wait
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_stops_an_attempt_in_flight() {
        let (canceller, ctx) = ctx(Duration::from_secs(600));
        let hanging = retry(
            &ctx,
            ctx.deadline(),
            &POLICY,
            |_: &&str, _| {},
            || async { std::future::pending::<Attempt<(), &str>>().await },
        );
        let cancel = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            canceller.cancel();
        };
        let (r, ()) = tokio::join!(hanging, cancel);
        assert!(
            matches!(
                r,
                Err(Stopped::Cancelled {
                    last: None,
                    in_flight: true
                })
            ),
            "{r:?}"
        );
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for retry in 0..40 {
            let d = b.delay(retry);
            assert!(d >= Duration::from_millis(1), "{d:?}");
            assert!(d <= Duration::from_millis(1001), "{d:?}");
        }
        let spread: std::collections::BTreeSet<_> = (0..50).map(|_| b.delay(5)).collect();
        assert!(spread.len() > 10, "waits are spread out: {spread:?}");
    }
}
