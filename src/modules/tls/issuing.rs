//! What both certificate resources share: validity outputs, option checks, renewal in Diff.

use super::common::{
    MAX_BACKDATE_MINUTES, MAX_VALIDITY_HOURS, allowed_uses, check_range, known_bool, known_i64,
    normalize_allowed_uses, ready_for_renewal,
};
use crate::codec::PropertyPath;
use crate::typed::replace_on_changes;
use crate::typed::{ExtraDiff, Failures, ReadOutcome, ResourceError, Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Validity outputs of an issued certificate.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertTimes {
    /// The time after which the certificate is valid, as an RFC3339 timestamp.
    pub validity_start_time: Value<String>,
    /// The time until which the certificate is invalid, as an RFC3339 timestamp.
    pub validity_end_time: Value<String>,
    /// Is the certificate either expired (i.e. beyond the `validityPeriodHours`) or ready for
    /// an early renewal (i.e. within the `earlyRenewalHours`)? Evaluated on every diff, so
    /// `pulumi up` renews without a refresh.
    pub ready_for_renewal: Value<bool>,
}

impl CertTimes {
    pub fn known(start: &str, end: &str, early_renewal_hours: i64, now: OffsetDateTime) -> Self {
        CertTimes {
            validity_start_time: Value::Known(start.to_string()),
            validity_end_time: Value::Known(end.to_string()),
            ready_for_renewal: Value::Known(ready_for_renewal(end, early_renewal_hours, now)),
        }
    }

    /// Recompute `readyForRenewal` for `now`.
    pub fn refresh(&mut self, early_renewal_hours: i64, now: OffsetDateTime) {
        if let Value::Known(end) = &self.validity_end_time {
            self.ready_for_renewal = Value::Known(ready_for_renewal(end, early_renewal_hours, now));
        }
    }
}

pub fn unknown_times() -> CertTimes {
    CertTimes {
        validity_start_time: Value::Unknown,
        validity_end_time: Value::Unknown,
        ready_for_renewal: Value::Unknown,
    }
}

/// Outputs of a certificate resource whose renewal state can be recomputed.
pub trait RenewableOutputs {
    /// The recorded `earlyRenewalHours` input and the validity outputs.
    fn renewal_parts(&mut self) -> (&mut Option<Value<i64>>, &mut CertTimes);
}

/// Read of a certificate that only exists in state: the recorded state, with `readyForRenewal`
/// recomputed for `now` (as upstream's refresh does). Import is impossible.
pub fn read_recorded<I, O: RenewableOutputs>(
    kind: &str,
    id: String,
    inputs: Option<I>,
    outputs: Option<O>,
    now: OffsetDateTime,
) -> Result<ReadOutcome<I, O>, ResourceError> {
    let (Some(inputs), Some(mut outputs)) = (inputs, outputs) else {
        return Err(ResourceError::Unsupported(format!(
            "a {kind} cannot be imported: it only exists in state"
        )));
    };
    let (early, times) = outputs.renewal_parts();
    let early = known_i64(early, 0);
    times.refresh(early, now);
    Ok(ReadOutcome::Found {
        id,
        inputs,
        outputs,
    })
}

/// The one in-place update: a new `earlyRenewalHours`, which may change `readyForRenewal`.
pub fn update_early_renewal<O: RenewableOutputs>(
    mut olds: O,
    early_renewal_hours: Option<Value<i64>>,
    now: OffsetDateTime,
) -> O {
    let hours = known_i64(&early_renewal_hours, 0);
    let (early, times) = olds.renewal_parts();
    *early = early_renewal_hours;
    times.refresh(hours, now);
    olds
}

/// The key algorithm, predictable in preview whenever the key is known.
pub fn predicted_key_algorithm(key: &Value<Secret<String>>) -> Value<String> {
    match key {
        Value::Known(k) => crate::pki::parse_private_key(k.expose())
            .map(|k| Value::Known(k.algorithm().name().to_string()))
            .unwrap_or(Value::Unknown),
        Value::Unknown => Value::Unknown,
    }
}

/// The issuance inputs both certificate resources take (flattened into their inputs).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueInputs {
    /// List of key usages allowed for the issued certificate, in snake_case (e.g.
    /// `digital_signature`, `key_encipherment`, `cert_signing`, `server_auth`, `client_auth`).
    /// camelCase spellings are accepted and stored as snake_case.
    #[schemars(transform = replace_on_changes)]
    pub allowed_uses: Value<Vec<String>>,
    /// Number of hours, after initial issuing, that the certificate will remain valid for.
    #[schemars(transform = replace_on_changes)]
    pub validity_period_hours: Value<i64>,
    /// Is the generated certificate representing a Certificate Authority (CA) (default: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub is_ca_certificate: Option<Value<bool>>,
    /// Maximum number of intermediate certificates that may follow this certificate in a valid
    /// certification path. If `isCaCertificate` is `false`, this value is ignored. -1 means no
    /// limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub max_path_length: Option<Value<i64>>,
    /// Should the generated certificate include a subject key identifier (default: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub set_subject_key_id: Option<Value<bool>>,
    /// The resource will consider the certificate to have expired the given number of hours
    /// before its actual expiry time. Unlike pulumi-tls, the next `pulumi up` inside that window
    /// replaces the certificate without needing a refresh. Changing it updates in place.
    /// (default: `0`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_renewal_hours: Option<Value<i64>>,
    /// Minutes by which the certificate's validity starts before its creation, to tolerate
    /// clock skew between machines (0 to 10080; default: the provider's
    /// `defaultBackdateMinutes`, else 0). Not in pulumi-tls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub backdate_minutes: Option<Value<i64>>,
}

impl IssueInputs {
    /// Check and normalise (allowed uses to snake_case), reporting every problem.
    pub fn check(&mut self, failures: &mut Failures) {
        check_cert_options(
            &mut self.allowed_uses,
            &self.validity_period_hours,
            self.early_renewal_hours.as_ref(),
            self.max_path_length.as_ref(),
            self.backdate_minutes.as_ref(),
            failures,
        );
    }

    pub fn is_ca(&self) -> bool {
        known_bool(&self.is_ca_certificate)
    }

    /// The options for the pki library; `default_backdate` comes from the provider config.
    pub fn options(&self, now: OffsetDateTime, default_backdate: i64) -> crate::pki::IssueOptions {
        crate::pki::IssueOptions {
            allowed_uses: allowed_uses(
                self.allowed_uses
                    .known()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            ),
            is_ca: self.is_ca(),
            max_path_length: self
                .max_path_length
                .as_ref()
                .and_then(Value::known)
                .copied(),
            set_subject_key_id: known_bool(&self.set_subject_key_id),
            validity_hours: self.validity_period_hours.known().copied().unwrap_or(0),
            backdate_minutes: known_i64(&self.backdate_minutes, default_backdate),
            now,
            serial: None,
        }
    }

    pub fn early_renewal(&self) -> i64 {
        known_i64(&self.early_renewal_hours, 0)
    }
}

/// Checks shared by both certificate resources.
pub fn check_cert_options(
    allowed_uses: &mut Value<Vec<String>>,
    validity_period_hours: &Value<i64>,
    early_renewal_hours: Option<&Value<i64>>,
    max_path_length: Option<&Value<i64>>,
    backdate_minutes: Option<&Value<i64>>,
    failures: &mut Failures,
) {
    normalize_allowed_uses(allowed_uses, failures);
    check_range(
        Some(validity_period_hours),
        "validityPeriodHours",
        0,
        MAX_VALIDITY_HOURS,
        failures,
    );
    check_range(
        early_renewal_hours,
        "earlyRenewalHours",
        0,
        MAX_VALIDITY_HOURS,
        failures,
    );
    check_range(max_path_length, "maxPathLength", -1, 255, failures);
    check_range(
        backdate_minutes,
        "backdateMinutes",
        0,
        MAX_BACKDATE_MINUTES,
        failures,
    );
}

/// A replacement if the recorded certificate is due for renewal under the new inputs.
pub fn renewal_diff(
    times: &CertTimes,
    early_renewal_hours: Option<&Value<i64>>,
    now: OffsetDateTime,
) -> Vec<ExtraDiff> {
    let early = match early_renewal_hours {
        Some(Value::Known(h)) => *h,
        None => 0,
        // Unknown in preview: we cannot tell yet.
        Some(Value::Unknown) => return Vec::new(),
    };
    match &times.validity_end_time {
        Value::Known(end) if ready_for_renewal(end, early, now) => vec![ExtraDiff {
            property: PropertyPath::root().key("readyForRenewal"),
            replace: true,
        }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;

    #[test]
    fn renewal_is_a_replacement_once_the_window_opens() {
        let now = OffsetDateTime::parse("2026-06-01T00:00:00Z", &Rfc3339).unwrap();
        let times = CertTimes::known("2026-01-01T00:00:00Z", "2026-06-02T00:00:00Z", 0, now);
        assert!(renewal_diff(&times, None, now).is_empty());
        let due = renewal_diff(&times, Some(&Value::Known(48)), now);
        assert_eq!(due.len(), 1);
        assert!(due[0].replace);
        assert!(renewal_diff(&times, Some(&Value::Unknown), now).is_empty());
    }

    #[test]
    fn option_checks_report_every_bad_value() {
        let mut f = Failures::default();
        let mut uses = Value::Known(vec![
            "server_auth".into(),
            "serverAuth".into(),
            "bogus".into(),
        ]);
        check_cert_options(
            &mut uses,
            &Value::Known(-1),
            Some(&Value::Known(-5)),
            Some(&Value::Known(-2)),
            Some(&Value::Known(99_999)),
            &mut f,
        );
        let paths: Vec<String> = f
            .into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "allowedUses[2]",
                "validityPeriodHours",
                "earlyRenewalHours",
                "maxPathLength",
                "backdateMinutes"
            ]
        );
        assert_eq!(uses.known().unwrap()[1], "server_auth");
    }
}
