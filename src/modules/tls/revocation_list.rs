//! `zerotrust:tls:CertificateRevocationList`: a CRL signed by a CA whose key and certificate the
//! program holds. Not in pulumi-tls.
//!
//! Every change updates in place and signs a new CRL with the next CRL number, so relying
//! parties that keep the highest number they saw never go back. The CRL is also re-signed, at
//! diff time, once its `nextUpdate` comes within `renewBeforeHours`.

use std::collections::BTreeMap;

use super::common::{check_pem, check_private_key, check_range, off_runtime};
use crate::codec::PropertyPath;
use crate::modules::{Ctx, ProviderConfig};
use crate::pki;
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, ReadOutcome, Resource, ResourceError,
    Secret, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub struct CertificateRevocationList;

/// Default time from one CRL to the next: a week, as many private CAs publish.
const DEFAULT_VALIDITY_HOURS: i64 = 168;
/// Longest CRL validity accepted: a year.
const MAX_VALIDITY_HOURS: i64 = 24 * 366;

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedCertificate {
    /// The certificate's serial number: in decimal (the id of a `SelfSignedCert` or
    /// `LocallySignedCert`), or in hex with a `0x` prefix or colons (`0x0a1b`, `0a:1b`; digits
    /// alone are decimal). Stored in decimal.
    pub serial_number: String,
    /// Why it is revoked: `unspecified` (default), `keyCompromise`, `cACompromise`,
    /// `affiliationChanged`, `superseded`, `cessationOfOperation`, `certificateHold`,
    /// `privilegeWithdrawn` or `aACompromise`. (`removeFromCRL` is for delta CRLs: to lift a
    /// revocation, remove the entry.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was revoked, RFC 3339 (default: when it first appears in this list; kept on
    /// later changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_time: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRevocationListInputs {
    /// Certificate of the CA that signs the list, in PEM format. Its key usage (if any) must
    /// include `crl_signing`.
    pub ca_cert_pem: Value<String>,
    /// Private key of that CA, in PEM format.
    pub ca_private_key_pem: Value<Secret<String>>,
    /// The revoked certificates; each serial number at most once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_certificates: Option<Value<Vec<RevokedCertificate>>>,
    /// Hours from each signing to the CRL's `nextUpdate` (default: 168, at most 8784).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_hours: Option<Value<i64>>,
    /// The next `pulumi up` re-signs the list (with the next CRL number) once `nextUpdate` is
    /// this close (default: a third of `validityHours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before_hours: Option<Value<i64>>,
    /// Pins the CRL's `thisUpdate` (RFC 3339) instead of the signing time, for reproducible
    /// lists. A list with a pinned time is never re-signed on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub this_update: Option<Value<String>>,
    /// Pins the CRL's `nextUpdate` (RFC 3339) instead of `validityHours` after `thisUpdate`.
    /// A pinned list is never re-signed on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_update: Option<Value<String>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRevocationListOutputs {
    #[serde(flatten)]
    pub inputs: CertificateRevocationListInputs,
    /// The signed CRL in PEM format (`X509 CRL`), ending with a newline.
    pub crl_pem: Value<String>,
    /// The CRL number: 1 for the first list, one more on every re-signing.
    pub crl_number: Value<i64>,
    /// The signed list's `thisUpdate`, RFC 3339.
    pub this_update_time: Value<String>,
    /// The signed list's `nextUpdate`, RFC 3339.
    pub next_update_time: Value<String>,
    /// When each listed serial (decimal) was revoked, RFC 3339, as signed.
    pub revocation_times: Value<BTreeMap<String, String>>,
    /// Is `nextUpdate` within `renewBeforeHours` (or past)? Evaluated on every diff; the next
    /// `pulumi up` then re-signs.
    pub ready_for_renewal: Value<bool>,
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

fn format_time(t: OffsetDateTime) -> Result<String, ResourceError> {
    t.format(&Rfc3339)
        .map_err(|e| ResourceError::Internal(format!("time formatting failed: {e}")))
}

fn known_or<T: Copy>(v: &Option<Value<T>>) -> Option<Option<T>> {
    match v {
        None => Some(None),
        Some(Value::Known(x)) => Some(Some(*x)),
        Some(Value::Unknown) => None,
    }
}

impl CertificateRevocationListInputs {
    fn validity_hours(&self) -> i64 {
        known_or(&self.validity_hours)
            .flatten()
            .unwrap_or(DEFAULT_VALIDITY_HOURS)
    }

    fn renew_before_hours(&self) -> i64 {
        known_or(&self.renew_before_hours)
            .flatten()
            .unwrap_or(self.validity_hours() / 3)
    }

    fn pinned(field: &Option<Value<String>>) -> Option<OffsetDateTime> {
        match field {
            Some(Value::Known(t)) => parse_time(t),
            _ => None,
        }
    }

    fn check_entries(&mut self, failures: &mut Failures) {
        let Some(Value::Known(entries)) = &mut self.revoked_certificates else {
            return;
        };
        let at = |i: usize, key: &str| {
            PropertyPath::root()
                .key("revokedCertificates")
                .index(i)
                .key(key)
        };
        let mut seen: BTreeMap<num_bigint::BigUint, usize> = BTreeMap::new();
        for (i, entry) in entries.iter_mut().enumerate() {
            match pki::parse_serial(&entry.serial_number) {
                Ok(serial) => {
                    if let Some(first) = seen.get(&serial) {
                        failures.add(
                            at(i, "serialNumber"),
                            format!(
                                "serial number {} is already listed at revokedCertificates[{first}]; list each certificate once",
                                entry.serial_number
                            ),
                        );
                    } else {
                        seen.insert(serial.clone(), i);
                    }
                    entry.serial_number = serial.to_string();
                }
                Err(reason) => failures.add(at(i, "serialNumber"), reason),
            }
            if let Some(reason) = &mut entry.reason {
                match pki::RevocationReason::from_name(reason) {
                    Some(r) => *reason = r.name().to_string(),
                    None if reason.eq_ignore_ascii_case("removeFromCRL") => failures.add(
                        at(i, "reason"),
                        "removeFromCRL is for delta CRLs, and verifiers read it as \"not revoked\" in a full list; to lift a revocation, remove the entry",
                    ),
                    None => failures.add(
                        at(i, "reason"),
                        format!(
                            "{reason:?} is not a revocation reason; use one of {}",
                            pki::RevocationReason::names()
                        ),
                    ),
                }
            }
            if let Some(t) = &entry.revocation_time
                && parse_time(t).is_none()
            {
                failures.add(
                    at(i, "revocationTime"),
                    format!("{t:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z"),
                );
            }
        }
    }

    fn check_times(&self, failures: &mut Failures) {
        check_range(
            self.validity_hours.as_ref(),
            "validityHours",
            1,
            MAX_VALIDITY_HOURS,
            failures,
        );
        check_range(
            self.renew_before_hours.as_ref(),
            "renewBeforeHours",
            0,
            MAX_VALIDITY_HOURS,
            failures,
        );
        if let (Some(_), Some(Some(before))) = (
            known_or(&self.validity_hours),
            known_or(&self.renew_before_hours),
        ) && self.next_update.is_none()
            && before >= self.validity_hours()
        {
            let validity = self.validity_hours();
            failures.at(
                "renewBeforeHours",
                format!("must be less than validityHours ({validity}), or every up would re-sign"),
            );
        }
        for (key, field) in [
            ("thisUpdate", &self.this_update),
            ("nextUpdate", &self.next_update),
        ] {
            if let Some(Value::Known(t)) = field
                && parse_time(t).is_none()
            {
                failures.at(
                    key,
                    format!("{t:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z"),
                );
            }
        }
        if let (Some(this), Some(next)) = (
            Self::pinned(&self.this_update),
            Self::pinned(&self.next_update),
        ) && next <= this
        {
            failures.at(
                "nextUpdate",
                "must be after thisUpdate: a CRL's next update cannot come before it was issued",
            );
        }
        if let Some(this) = Self::pinned(&self.this_update)
            && self.next_update.is_none()
            && this
                .checked_add(time::Duration::hours(self.validity_hours()))
                .is_none_or(|t| t.year() > 9999)
        {
            failures.at(
                "thisUpdate",
                "with validityHours added, the next update lies beyond the year 9999",
            );
        }
        if self.next_update.is_some() && self.validity_hours.is_some() {
            failures.at(
                "validityHours",
                "give either validityHours or a pinned nextUpdate, not both",
            );
        }
    }
}

/// The CRL's validity window for a signing at `now`.
fn window(
    inputs: &CertificateRevocationListInputs,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), ResourceError> {
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let this = CertificateRevocationListInputs::pinned(&inputs.this_update).unwrap_or(now);
    let next = match CertificateRevocationListInputs::pinned(&inputs.next_update) {
        Some(t) => t,
        None => this
            .checked_add(time::Duration::hours(inputs.validity_hours()))
            .ok_or_else(|| ResourceError::InvalidInput {
                property: PropertyPath::root().key("thisUpdate"),
                reason: "with validityHours added, the next update cannot be written".into(),
            })?,
    };
    if next <= now {
        return Err(ResourceError::InvalidInput {
            property: PropertyPath::root().key("nextUpdate"),
            reason: format!(
                "{} is already past: the CRL would be stale when signed",
                format_time(next)?
            ),
        });
    }
    Ok((this, next))
}

/// Signs the list at `now` with CRL number `number`, keeping the recorded revocation times.
async fn sign(
    inputs: &CertificateRevocationListInputs,
    number: i64,
    recorded_times: &BTreeMap<String, String>,
    now: OffsetDateTime,
) -> Result<(String, String, String, BTreeMap<String, String>), ResourceError> {
    let (Value::Known(ca_cert), Value::Known(ca_key)) =
        (&inputs.ca_cert_pem, &inputs.ca_private_key_pem)
    else {
        return Err(ResourceError::Internal(
            "CA certificate or key unknown outside preview".into(),
        ));
    };
    let (this_update, next_update) = window(inputs, now)?;
    let mut revoked = Vec::new();
    let mut times = BTreeMap::new();
    let entries = match &inputs.revoked_certificates {
        Some(Value::Known(list)) => list.clone(),
        Some(Value::Unknown) => {
            return Err(ResourceError::Internal(
                "revokedCertificates unknown outside preview".into(),
            ));
        }
        None => Vec::new(),
    };
    for entry in entries {
        let serial = pki::parse_serial(&entry.serial_number).map_err(|reason| {
            ResourceError::InvalidInput {
                property: PropertyPath::root().key("revokedCertificates"),
                reason,
            }
        })?;
        let key = serial.to_string();
        let revoked_at = entry
            .revocation_time
            .as_deref()
            .or(recorded_times.get(&key).map(String::as_str))
            .and_then(parse_time)
            .unwrap_or(this_update);
        let reason = entry
            .reason
            .as_deref()
            .and_then(pki::RevocationReason::from_name)
            .unwrap_or(pki::RevocationReason::Unspecified);
        times.insert(key, format_time(revoked_at)?);
        revoked.push(pki::Revoked {
            serial,
            revoked_at,
            reason,
        });
    }
    let spec = pki::CrlSpec {
        this_update,
        next_update,
        number: u64::try_from(number)
            .map_err(|_| ResourceError::Internal("negative CRL number in state".into()))?,
        revoked,
    };
    let (ca_cert, ca_key) = (ca_cert.clone(), ca_key.clone());
    let crl = off_runtime(move || {
        let key = pki::parse_private_key(ca_key.expose())
            .map_err(|e| ResourceError::backend("parse CA private key", e))?;
        pki::sign_crl(&ca_cert, &key, &spec).map_err(|e| ResourceError::backend("sign CRL", e))
    })
    .await?;
    Ok((
        crl.pem,
        format_time(this_update)?,
        format_time(next_update)?,
        times,
    ))
}

fn due(next_update: &str, renew_before_hours: i64, now: OffsetDateTime) -> bool {
    super::common::ready_for_renewal(next_update, renew_before_hours, now)
}

impl Resource<ProviderConfig> for CertificateRevocationList {
    type Inputs = CertificateRevocationListInputs;
    type Outputs = CertificateRevocationListOutputs;
    const TOKEN: &'static str = "zerotrust:tls:CertificateRevocationList";
    const DESCRIPTION: &'static str = include_str!("docs/certificate_revocation_list.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, CertificateRevocationListInputs>,
        mut inputs: CertificateRevocationListInputs,
        failures: &mut Failures,
    ) -> CertificateRevocationListInputs {
        check_pem(
            &mut inputs.ca_cert_pem,
            "caCertPem",
            pki::cert_info,
            failures,
        );
        if let Value::Known(ca) = &inputs.ca_cert_pem
            && let Ok(Some(problem)) = pki::crl_issuer_problem(ca)
        {
            failures.at("caCertPem", format!("cannot sign CRLs: {problem}"));
        }
        check_private_key(&mut inputs.ca_private_key_pem, "caPrivateKeyPem", failures);
        inputs.check_entries(failures);
        inputs.check_times(failures);
        inputs
    }

    fn diff_extra(
        &self,
        diff: &DiffInput<'_, CertificateRevocationListInputs, CertificateRevocationListOutputs>,
    ) -> Vec<ExtraDiff> {
        // Pinned times would only be signed again as they are.
        if diff.news.next_update.is_some()
            || diff.news.this_update.is_some()
            || known_or(&diff.news.renew_before_hours).is_none()
        {
            return Vec::new();
        }
        match &diff.olds.next_update_time {
            Value::Known(next) if due(next, diff.news.renew_before_hours(), diff.now) => {
                vec![ExtraDiff {
                    property: PropertyPath::root().key("readyForRenewal"),
                    replace: false,
                }]
            }
            _ => Vec::new(),
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: CertificateRevocationListInputs,
    ) -> Result<Created<CertificateRevocationListOutputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: unknown_outputs(inputs),
            });
        }
        let (crl_pem, this_update, next_update, times) =
            sign(&inputs, 1, &BTreeMap::new(), ctx.now()).await?;
        let ready = due(&next_update, inputs.renew_before_hours(), ctx.now());
        Ok(Created {
            id: crate::pki::state_hash(crl_pem.as_bytes()),
            outputs: CertificateRevocationListOutputs {
                inputs,
                crl_pem: Value::Known(crl_pem),
                crl_number: Value::Known(1),
                this_update_time: Value::Known(this_update),
                next_update_time: Value::Known(next_update),
                revocation_times: Value::Known(times),
                ready_for_renewal: Value::Known(ready),
            },
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<CertificateRevocationListInputs>,
        outputs: Option<CertificateRevocationListOutputs>,
    ) -> Result<
        ReadOutcome<CertificateRevocationListInputs, CertificateRevocationListOutputs>,
        ResourceError,
    > {
        let (Some(inputs), Some(mut outputs)) = (inputs, outputs) else {
            return Err(ResourceError::Unsupported(
                "a CertificateRevocationList cannot be imported: it only exists in state".into(),
            ));
        };
        if let Value::Known(next) = &outputs.next_update_time {
            outputs.ready_for_renewal =
                Value::Known(due(next, outputs.inputs.renew_before_hours(), ctx.now()));
        }
        Ok(ReadOutcome::Found {
            id,
            inputs,
            outputs,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: CertificateRevocationListOutputs,
        news: CertificateRevocationListInputs,
    ) -> Result<CertificateRevocationListOutputs, ResourceError> {
        if ctx.preview() {
            return Ok(unknown_outputs(news));
        }
        let number = match olds.crl_number {
            Value::Known(n) => n
                .checked_add(1)
                .ok_or_else(|| ResourceError::Internal("CRL number out of range".into()))?,
            Value::Unknown => 1,
        };
        let recorded = olds.revocation_times.known().cloned().unwrap_or_default();
        let (crl_pem, this_update, next_update, times) =
            sign(&news, number, &recorded, ctx.now()).await?;
        let ready = due(&next_update, news.renew_before_hours(), ctx.now());
        Ok(CertificateRevocationListOutputs {
            inputs: news,
            crl_pem: Value::Known(crl_pem),
            crl_number: Value::Known(number),
            this_update_time: Value::Known(this_update),
            next_update_time: Value::Known(next_update),
            revocation_times: Value::Known(times),
            ready_for_renewal: Value::Known(ready),
        })
    }
}

fn unknown_outputs(inputs: CertificateRevocationListInputs) -> CertificateRevocationListOutputs {
    CertificateRevocationListOutputs {
        inputs,
        crl_pem: Value::Unknown,
        crl_number: Value::Unknown,
        this_update_time: Value::Unknown,
        next_update_time: Value::Unknown,
        revocation_times: Value::Unknown,
        ready_for_renewal: Value::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(entries: Vec<RevokedCertificate>) -> CertificateRevocationListInputs {
        CertificateRevocationListInputs {
            ca_cert_pem: Value::Unknown,
            ca_private_key_pem: Value::Unknown,
            revoked_certificates: Some(Value::Known(entries)),
            validity_hours: None,
            renew_before_hours: None,
            this_update: None,
            next_update: None,
        }
    }

    fn entry(serial: &str) -> RevokedCertificate {
        RevokedCertificate {
            serial_number: serial.into(),
            reason: None,
            revocation_time: None,
        }
    }

    fn paths(f: Failures) -> Vec<String> {
        f.into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect()
    }

    #[test]
    fn duplicate_serials_in_any_spelling_are_refused_with_both_places() {
        let mut i = inputs(vec![entry("255"), entry("00:ff"), entry("12")]);
        let mut f = Failures::default();
        i.check_entries(&mut f);
        let failures = f.into_vec();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].property.to_string(),
            "revokedCertificates[1].serialNumber"
        );
        assert!(failures[0].reason.contains("revokedCertificates[0]"));
    }

    #[test]
    fn every_bad_entry_and_time_is_reported_at_once() {
        let mut bad = entry("zz");
        bad.reason = Some("stolen".into());
        bad.revocation_time = Some("yesterday".into());
        let mut ok = entry("0a:0b");
        ok.reason = Some("KEYCOMPROMISE".into());
        let mut i = inputs(vec![bad, ok]);
        i.this_update = Some(Value::Known("2026-12-02T00:00:00Z".into()));
        i.next_update = Some(Value::Known("2026-12-01T00:00:00Z".into()));
        i.validity_hours = Some(Value::Known(24));
        i.renew_before_hours = Some(Value::Known(24));
        let mut f = Failures::default();
        i.check_entries(&mut f);
        i.check_times(&mut f);
        assert_eq!(
            paths(f),
            vec![
                "revokedCertificates[0].serialNumber",
                "revokedCertificates[0].reason",
                "revokedCertificates[0].revocationTime",
                "nextUpdate",
                "validityHours",
            ]
        );
        let list = i.revoked_certificates.unwrap().known().cloned().unwrap();
        assert_eq!(list[1].serial_number, "2571");
        assert_eq!(list[1].reason.as_deref(), Some("keyCompromise"));
    }

    #[test]
    fn renewal_windows_and_reasons_that_would_mislead_are_refused() {
        let mut removal = entry("12");
        removal.reason = Some("removeFromCRL".into());
        let mut i = inputs(vec![removal]);
        // Not below the default validity of 168 hours.
        i.renew_before_hours = Some(Value::Known(200));
        i.this_update = Some(Value::Known("9999-12-31T00:00:00Z".into()));
        let mut f = Failures::default();
        i.check_entries(&mut f);
        i.check_times(&mut f);
        let failures = f.into_vec();
        let got: Vec<String> = failures.iter().map(|x| x.property.to_string()).collect();
        assert_eq!(
            got,
            vec![
                "revokedCertificates[0].reason",
                "renewBeforeHours",
                "thisUpdate"
            ]
        );
        assert!(failures[0].reason.contains("delta CRLs"));
        assert!(window(&i, parse_time("2026-12-07T00:00:00Z").unwrap()).is_err());
    }

    #[test]
    fn re_signs_in_place_once_next_update_is_near_unless_pinned() {
        let now = parse_time("2026-12-07T00:00:00Z").unwrap();
        let mut olds = unknown_outputs(inputs(vec![]));
        let news = inputs(vec![]);
        let extra = |olds: &CertificateRevocationListOutputs, news| {
            CertificateRevocationList.diff_extra(&DiffInput {
                olds,
                old_inputs: None,
                news,
                now,
            })
        };
        // A week's validity re-signs within its last third (56 hours).
        olds.next_update_time = Value::Known("2026-12-09T00:00:00Z".into());
        let due = extra(&olds, &news);
        assert_eq!(due.len(), 1);
        assert!(
            !due[0].replace,
            "re-signing is an update, not a replacement"
        );
        assert_eq!(due[0].property.to_string(), "readyForRenewal");
        olds.next_update_time = Value::Known("2026-12-12T00:00:00Z".into());
        assert!(extra(&olds, &news).is_empty());
        olds.next_update_time = Value::Known("2026-12-01T00:00:00Z".into());
        let mut pinned = inputs(vec![]);
        pinned.next_update = Some(Value::Known("2026-12-02T00:00:00Z".into()));
        assert!(extra(&olds, &pinned).is_empty());
        let mut pinned_start = inputs(vec![]);
        pinned_start.this_update = Some(Value::Known("2026-11-25T00:00:00Z".into()));
        assert!(extra(&olds, &pinned_start).is_empty());
    }
}
