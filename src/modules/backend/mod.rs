//! What every module that talks to a backend needs, written once: waits that end at the
//! operation's deadline (`ctx.deadline()`) or at the engine's Cancel, and one retry loop with jittered
//! exponential backoff (in [`retry`]). A module decides what an answer means; how long to wait
//! and when to stop is decided here.

pub mod retry;

pub use retry::{Attempt, Backoff, RetryPolicy, Retrying, Stopped, retry};

use crate::modules::Ctx;
use crate::typed::{ResourceError, Value};
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

/// An optional input, when it is set and known.
pub fn known<T>(value: &Option<Value<T>>) -> Option<&T> {
    value.as_ref().and_then(Value::known)
}

/// An optional string input, when it is set and known (a namespace, a format, an issuer).
pub fn known_str(value: &Option<Value<String>>) -> Option<&str> {
    known(value).map(String::as_str)
}

/// An optional input when set and known, else `default`.
pub fn known_or<T: Clone>(value: &Option<Value<T>>, default: T) -> T {
    known(value).cloned().unwrap_or(default)
}

/// An input an operation needs known: outside preview the engine resolves every input first,
/// so an unknown here is a bug, reported as one.
pub fn require_known<'a, T>(value: &'a Value<T>, property: &str) -> Result<&'a T, ResourceError> {
    value
        .known()
        .ok_or_else(|| ResourceError::Internal(format!("{property} unknown outside preview")))
}

/// A provider setting of the module `module`: `None` when unset. An unknown setting (one
/// computed from a resource not created yet) is refused, the same way in every module,
/// rather than silently replaced by a default.
pub fn setting<'a, T>(
    value: &'a Option<Value<T>>,
    module: &str,
    name: &str,
) -> Result<Option<&'a T>, ResourceError> {
    match value {
        Some(Value::Known(v)) => Ok(Some(v)),
        Some(Value::Unknown) => Err(ResourceError::backend(
            format!("configure the {module} client"),
            format!("the {name} setting is not known yet"),
        )),
        None => Ok(None),
    }
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

/// Seconds in a duration as Vault and our own inputs write it: a whole number of seconds (`"3600"`), or numbers with units
/// `s`, `m`, `h`, `d` in sequence (`"720h"`, `"1h30m"`, `"7d"`).
pub fn duration_seconds(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(n) = text.parse::<i64>() {
        return if n >= 0 {
            Ok(n)
        } else {
            Err(format!("{text:?} is negative"))
        };
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => {
                return Err(format!(
                    "{text:?} is not a duration: use seconds (\"3600\") or units s, m, h, d (\"720h\", \"1h30m\")"
                ));
            }
        };
        let n: i64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration: a unit needs a number before it"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too long"))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "{text:?} is not a duration: the last number has no unit"
        ));
    }
    Ok(total)
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
        let at = ctx.deadline();
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
        let long = pause(&ctx, ctx.deadline(), Duration::from_secs(99)).await;
        assert_eq!(long, Err(Interrupted::Deadline));
        assert_eq!(Instant::now(), before);
        assert_eq!(
            pause(&ctx, ctx.deadline(), Duration::from_secs(1)).await,
            Ok(())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waits_end_at_cancel() {
        let (canceller, ctx) = ctx(Duration::from_secs(100));
        let start = Instant::now();
        let waiting = within(&ctx, ctx.deadline(), std::future::pending::<()>());
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
    fn unknown_settings_are_refused_and_unset_ones_are_none() {
        let unset: Option<Value<String>> = None;
        assert_eq!(setting(&unset, "Vault", "vault").ok(), Some(None));
        let set = Some(Value::Known("x".to_string()));
        assert_eq!(
            setting(&set, "Vault", "vault").ok(),
            Some(Some(&"x".to_string()))
        );
        let unknown: Option<Value<String>> = Some(Value::Unknown);
        let err = setting(&unknown, "Kubernetes", "context")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "configure the Kubernetes client failed: the context setting is not known yet"
        );
        assert_eq!(known_or(&unknown, "d".to_string()), "d");
        assert!(require_known(&Value::<i64>::Unknown, "zoneId").is_err());
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

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("3600"), Ok(3600));
        assert_eq!(duration_seconds("720h"), Ok(720 * 3600));
        assert_eq!(duration_seconds("1h30m"), Ok(5400));
        assert_eq!(duration_seconds("7d"), Ok(7 * 86400));
        assert_eq!(duration_seconds("90s"), Ok(90));
        for bad in ["", "h", "10x", "1h30", "-5", "ten", "99999999999999999999d"] {
            assert!(duration_seconds(bad).is_err(), "{bad:?} accepted");
        }
    }
}
