//! Route 53 hosted zones and records, in pulumi-aws v7 shapes (`aws.route53.Zone`,
//! `aws.route53.Record`).
//!
//! Every AWS call goes through [`client::call`], which retries throttling and
//! `PriorRequestNotComplete` within the resource's timeout. Changes are awaited until Route 53
//! reports them `INSYNC`, polling `GetChange` with a growing delay, also within the timeout.

mod names;
mod record;
mod rrset;
#[cfg(test)]
mod scripted;
mod zone;

pub use record::Record;
pub use zone::Zone;

use super::client::{self, AwsClients, AwsError};
use crate::modules::Ctx;
use crate::modules::Registry;
use crate::modules::backend::{self, Interrupted};
use crate::typed::ResourceError;
use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsError, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::types::{ChangeBatch, ChangeInfo, ChangeStatus, ResourceRecordSet, RrType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn register(registry: Registry) -> Registry {
    registry.resource(Zone).resource(Record)
}

/// AWS's error code for a zone that does not exist.
pub(crate) const NO_SUCH_HOSTED_ZONE: &str = "NoSuchHostedZone";
/// AWS's error code for a change batch it refused.
pub(crate) const INVALID_CHANGE_BATCH: &str = "InvalidChangeBatch";

/// Delays between polls of a pending change: the first poll after `first`, then doubling up
/// to `max`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollDelays {
    pub first: Duration,
    pub max: Duration,
}

impl Default for PollDelays {
    fn default() -> Self {
        // Route 53 usually propagates within a minute; AWS suggests polling no faster than this.
        PollDelays {
            first: Duration::from_secs(2),
            max: Duration::from_secs(15),
        }
    }
}

/// Wait until `poll` reports the change in sync. `pending` is what the change request itself
/// said: a change that was already `INSYNC` (always, with moto) is not polled at all. Each
/// poll waits its delay first, and the wait stops with an error, not a spin, when the next
/// delay would pass the operation's deadline; a cancel from the engine stops it at once.
pub(crate) async fn wait_until_insync<F, Fut>(
    ctx: &Ctx,
    change_id: &str,
    pending: bool,
    delays: PollDelays,
    mut poll: F,
) -> Result<(), ResourceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, ResourceError>>,
{
    if !pending {
        return Ok(());
    }
    let deadline = ctx.deadline();
    let mut delay = delays.first;
    loop {
        match backend::pause(ctx, deadline, delay).await {
            Ok(()) => {}
            Err(Interrupted::Cancelled) => return Err(ResourceError::Cancelled),
            Err(Interrupted::Deadline) => {
                return Err(ResourceError::backend(
                    "GetChange",
                    format!(
                        "change {change_id} is still PENDING after {}, the resource's timeout; \
                         Route 53 will still apply it, so retry the update to continue",
                        backend::human(ctx.timeout())
                    ),
                ));
            }
        }
        if poll().await? {
            return Ok(());
        }
        delay = (delay * 2).min(delays.max);
    }
}

/// Wait for a change Route 53 reported in `info` (nothing to do without one).
pub(crate) async fn wait_insync(
    ctx: &Ctx,
    aws: &AwsClients,
    info: Option<&ChangeInfo>,
) -> Result<(), ResourceError> {
    wait_insync_with(ctx, aws, info, PollDelays::default()).await
}

/// [`wait_insync`] with the given delays between polls.
pub(crate) async fn wait_insync_with(
    ctx: &Ctx,
    aws: &AwsClients,
    info: Option<&ChangeInfo>,
    delays: PollDelays,
) -> Result<(), ResourceError> {
    let Some(info) = info else {
        return Ok(());
    };
    let id = info.id().to_string();
    let pending = info.status() != &ChangeStatus::Insync;
    wait_until_insync(ctx, &id, pending, delays, || async {
        let out = client::call(ctx, &aws.retry, "GetChange", || {
            aws.route53.get_change().id(&id).send()
        })
        .await?;
        Ok(out.change_info().map(ChangeInfo::status) == Some(&ChangeStatus::Insync))
    })
    .await
}

/// The messages of an `InvalidChangeBatch` answer, whichever way the SDK parsed it.
fn change_error_messages(
    err: &SdkError<ChangeResourceRecordSetsError, HttpResponse>,
) -> Option<Vec<String>> {
    if let SdkError::ServiceError(service) = err
        && let ChangeResourceRecordSetsError::InvalidChangeBatch(icb) = service.err()
        && !icb.messages().is_empty()
    {
        return Some(icb.messages().to_vec());
    }
    let body = err.raw_response()?.body().bytes()?;
    rrset::invalid_change_batch_messages(&String::from_utf8_lossy(body))
}

/// ChangeResourceRecordSets through [`client::call`]. Route 53's `InvalidChangeBatch` answers
/// carry their reasons in a list the generic error parser does not read, so they are picked up
/// here and put into the error's message.
pub(crate) async fn change_records(
    ctx: &Ctx,
    aws: &AwsClients,
    zone_id: &str,
    batch: &ChangeBatch,
) -> Result<ChangeResourceRecordSetsOutput, AwsError> {
    let messages: Arc<Mutex<Option<Vec<String>>>> = Arc::default();
    let result = client::call(ctx, &aws.retry, "ChangeResourceRecordSets", || {
        let messages = messages.clone();
        let sent = aws
            .route53
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch.clone())
            .send();
        async move {
            let result = sent.await;
            if let Err(e) = &result
                && let Ok(mut slot) = messages.lock()
            {
                *slot = change_error_messages(e);
            }
            result
        }
    })
    .await;
    result.map_err(|mut e| {
        let found = messages.lock().ok().and_then(|mut m| m.take());
        if let Some(found) = found.filter(|m| !m.is_empty()) {
            e.code
                .get_or_insert_with(|| INVALID_CHANGE_BATCH.to_string());
            e.message = found.join("; ");
        }
        e
    })
}

/// The name of a hosted zone (normalised), or `None` when it does not exist.
pub(crate) async fn zone_name(
    ctx: &Ctx,
    aws: &AwsClients,
    zone_id: &str,
) -> Result<Option<String>, AwsError> {
    match client::call(ctx, &aws.retry, "GetHostedZone", || {
        aws.route53.get_hosted_zone().id(zone_id).send()
    })
    .await
    {
        Ok(out) => Ok(out.hosted_zone().map(|z| names::normalize(z.name()))),
        Err(e) if e.is(NO_SUCH_HOSTED_ZONE) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The record set with exactly this name, type and set identifier, if it exists. The listing
/// starts at the set and follows pages only while they stay on its name and type.
pub(crate) async fn find_set(
    ctx: &Ctx,
    aws: &AwsClients,
    zone_id: &str,
    fqdn: &str,
    rtype: &str,
    set_identifier: Option<&str>,
) -> Result<Option<ResourceRecordSet>, AwsError> {
    let mut start = (
        fqdn.to_string(),
        RrType::from(rtype),
        set_identifier.map(str::to_string),
    );
    let mut seen = HashSet::new();
    loop {
        let page = client::call(ctx, &aws.retry, "ListResourceRecordSets", || {
            aws.route53
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .start_record_name(&start.0)
                .start_record_type(start.1.clone())
                .set_start_record_identifier(start.2.clone())
                .max_items(100)
                .send()
        })
        .await?;
        let sets = page.resource_record_sets();
        if let Some(found) = sets
            .iter()
            .find(|s| rrset::is_identified_by(s, fqdn, rtype, set_identifier))
        {
            return Ok(Some(found.clone()));
        }
        let next = (
            page.next_record_name().map(names::normalize),
            page.next_record_type().cloned(),
        );
        let still_ours = page.is_truncated()
            && next.0.as_deref() == Some(fqdn)
            && next.1.as_ref().map(RrType::as_str) == Some(rtype);
        // A backend that ignores StartRecordIdentifier (moto) would repeat the same page.
        let progressed = sets.iter().any(|s| seen.insert(set_key(s)));
        if !still_ours || !progressed {
            return Ok(None);
        }
        start = (
            fqdn.to_string(),
            RrType::from(rtype),
            page.next_record_identifier().map(str::to_string),
        );
    }
}

fn set_key(set: &ResourceRecordSet) -> (String, String, Option<String>) {
    (
        names::normalize(set.name()),
        set.r#type().as_str().to_string(),
        set.set_identifier().map(str::to_string),
    )
}

/// Every record set of a zone.
pub(crate) async fn list_all_sets(
    ctx: &Ctx,
    aws: &AwsClients,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>, AwsError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    loop {
        let page = client::call(ctx, &aws.retry, "ListResourceRecordSets", || {
            let mut req = aws
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .max_items(300);
            if let Some((name, rtype, ident)) = &start {
                req = req
                    .start_record_name(name)
                    .start_record_type(rtype.clone())
                    .set_start_record_identifier(ident.clone());
            }
            req.send()
        })
        .await?;
        let mut progressed = false;
        for set in page.resource_record_sets() {
            if seen.insert(set_key(set)) {
                out.push(set.clone());
                progressed = true;
            }
        }
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(name), Some(rtype)) if progressed => {
                start = Some((
                    name.to_string(),
                    rtype.clone(),
                    page.next_record_identifier().map(str::to_string),
                ));
            }
            _ => return Ok(out),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::typed::cancel;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::time::Instant;

    pub(crate) fn ctx(timeout: Duration) -> (cancel::Canceller, Ctx) {
        let (canceller, source) = cancel::channel();
        let ctx = Ctx::new(
            "urn:pulumi:dev::p::zerotrust:aws/route53:Record::r",
            Arc::default(),
        )
        .with_timeout(timeout)
        .with_cancel(source.signal());
        (canceller, ctx)
    }

    const FAST: PollDelays = PollDelays {
        first: Duration::from_millis(1),
        max: Duration::from_millis(4),
    };

    #[tokio::test(start_paused = true)]
    async fn an_insync_change_is_not_polled() {
        let (_c, ctx) = ctx(Duration::from_secs(5));
        let polls = AtomicUsize::new(0);
        let result = wait_until_insync(&ctx, "C1", false, FAST, || async {
            polls.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(polls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_change_is_polled_until_insync() {
        let (_c, ctx) = ctx(Duration::from_secs(5));
        let polls = AtomicUsize::new(0);
        let result = wait_until_insync(&ctx, "C1", true, FAST, || async {
            Ok(polls.fetch_add(1, Ordering::SeqCst) >= 2)
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(polls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_that_never_syncs_stops_at_the_timeout_without_spinning() {
        let (_c, ctx) = ctx(Duration::from_millis(200));
        let started = Instant::now();
        let polls = AtomicUsize::new(0);
        let delays = PollDelays {
            first: Duration::from_millis(20),
            max: Duration::from_millis(40),
        };
        let err = wait_until_insync(&ctx, "C9", true, delays, || async {
            polls.fetch_add(1, Ordering::SeqCst);
            Ok(false)
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("C9 is still PENDING"), "{err}");
        assert!(started.elapsed() < Duration::from_millis(200));
        // 20 + 40 + 40 + 40 ms fit in the budget; no busy loop.
        assert!(polls.load(Ordering::SeqCst) <= 5, "{polls:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancel_stops_the_wait() {
        let (canceller, ctx) = ctx(Duration::from_secs(60));
        canceller.cancel();
        let result = wait_until_insync(&ctx, "C1", true, PollDelays::default(), || async {
            Ok(false)
        })
        .await;
        assert!(matches!(result, Err(ResourceError::Cancelled)));
    }

    #[tokio::test(start_paused = true)]
    async fn poll_errors_end_the_wait() {
        let (_c, ctx) = ctx(Duration::from_secs(5));
        let result = wait_until_insync(&ctx, "C1", true, FAST, || async {
            Err(ResourceError::backend("GetChange", "NoSuchChange: gone"))
        })
        .await;
        assert!(result.unwrap_err().to_string().contains("NoSuchChange"));
    }
}
