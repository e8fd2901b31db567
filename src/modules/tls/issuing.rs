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
    /// CA certificates only: the names the CA may sign for, written as a critical
    /// nameConstraints extension. `LocallySignedCert` enforces them when this CA signs: a
    /// request with a name outside them is refused (at preview when the request is known). Not
    /// in pulumi-tls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub name_constraints: Option<Value<NameConstraints>>,
    /// URLs where the issuer's CRL is published (the CRLDistributionPoints extension), e.g.
    /// `http://pki.ml.internal/intermediate.crl`. Not in pulumi-tls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub crl_distribution_points: Option<Value<Vec<String>>>,
    /// URLs of the issuer's OCSP responders (the OCSP entries of the AuthorityInfoAccess
    /// extension). Not in pulumi-tls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub ocsp_servers: Option<Value<Vec<String>>>,
    /// URLs where the issuer's certificate can be fetched (the caIssuers entries of the
    /// AuthorityInfoAccess extension). Not in pulumi-tls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub issuing_certificate_urls: Option<Value<Vec<String>>>,
}

/// Permitted and excluded subtrees of a CA certificate's names (RFC 5280 4.2.1.10), named as
/// Vault's root and intermediate CA parameters name them. A name must fall inside some
/// permitted subtree of its type (when there are any of that type) and inside no excluded one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameConstraints {
    /// DNS domains the CA may sign for: `ml.internal` covers it and every name below it,
    /// `.ml.internal` only the names below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_dns_domains: Option<Vec<String>>,
    /// DNS domains the CA may never sign for, same forms as `permittedDnsDomains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_dns_domains: Option<Vec<String>>,
    /// IP ranges in CIDR form (`10.0.0.0/8`, `fd00::/8`) the CA may sign for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_ip_ranges: Option<Vec<String>>,
    /// IP ranges in CIDR form the CA may never sign for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_ip_ranges: Option<Vec<String>>,
    /// Email subtrees: a mailbox (`ops@ml.internal`), a host (`ml.internal`) or the hosts below
    /// a domain (`.ml.internal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_email_addresses: Option<Vec<String>>,
    /// Email subtrees the CA may never sign for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_email_addresses: Option<Vec<String>>,
    /// URI hosts (`cluster.local` for `spiffe://cluster.local/...`, `.ml.internal` for hosts
    /// below it) the CA may sign for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_uri_domains: Option<Vec<String>>,
    /// URI hosts the CA may never sign for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_uri_domains: Option<Vec<String>>,
}

impl NameConstraints {
    /// Every malformed subtree, at `nameConstraints.<list>[i]`; the parsed form if all are fine.
    pub fn check(&self, failures: &mut Failures) -> Option<crate::pki::NameConstraints> {
        use crate::pki::{parse_dns_subtree, parse_email_subtree, parse_uri_subtree};
        let at = |list: &str| PropertyPath::root().key("nameConstraints").key(list);
        let before = failures.len();
        let mut out = crate::pki::NameConstraints::default();
        let text_lists = [
            (
                "permittedDnsDomains",
                &self.permitted_dns_domains,
                &mut out.permitted_dns,
                parse_dns_subtree as fn(&str) -> Result<String, String>,
            ),
            (
                "excludedDnsDomains",
                &self.excluded_dns_domains,
                &mut out.excluded_dns,
                parse_dns_subtree,
            ),
            (
                "permittedEmailAddresses",
                &self.permitted_email_addresses,
                &mut out.permitted_email,
                parse_email_subtree,
            ),
            (
                "excludedEmailAddresses",
                &self.excluded_email_addresses,
                &mut out.excluded_email,
                parse_email_subtree,
            ),
            (
                "permittedUriDomains",
                &self.permitted_uri_domains,
                &mut out.permitted_uri,
                parse_uri_subtree,
            ),
            (
                "excludedUriDomains",
                &self.excluded_uri_domains,
                &mut out.excluded_uri,
                parse_uri_subtree,
            ),
        ];
        for (name, list, parsed, parse) in text_lists {
            for (i, text) in list.iter().flatten().enumerate() {
                match parse(text) {
                    Ok(v) => parsed.push(v),
                    Err(reason) => failures.add(at(name).index(i), reason),
                }
            }
        }
        for (name, list, parsed) in [
            (
                "permittedIpRanges",
                &self.permitted_ip_ranges,
                &mut out.permitted_ip,
            ),
            (
                "excludedIpRanges",
                &self.excluded_ip_ranges,
                &mut out.excluded_ip,
            ),
        ] {
            for (i, text) in list.iter().flatten().enumerate() {
                match crate::pki::parse_ip_subtree(text) {
                    Ok(v) => parsed.push(v),
                    Err(reason) => failures.add(at(name).index(i), reason),
                }
            }
        }
        if failures.len() != before {
            return None;
        }
        if out.is_empty() {
            failures.at(
                "nameConstraints",
                "give at least one permitted or excluded subtree, or leave nameConstraints out",
            );
            return None;
        }
        Some(out)
    }
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
        if let Some(Value::Known(nc)) = &self.name_constraints {
            nc.check(failures);
            if matches!(self.is_ca_certificate, None | Some(Value::Known(false))) {
                failures.at(
                    "nameConstraints",
                    "only CA certificates carry name constraints; set isCaCertificate to true",
                );
            }
        }
        for (name, list) in [
            ("crlDistributionPoints", &self.crl_distribution_points),
            ("ocspServers", &self.ocsp_servers),
            ("issuingCertificateUrls", &self.issuing_certificate_urls),
        ] {
            if let Some(Value::Known(urls)) = list {
                for (i, url) in urls.iter().enumerate() {
                    if let Err(reason) = crate::pki::check_pointer_url(url) {
                        failures.add(PropertyPath::root().key(name).index(i), reason);
                    }
                }
            }
        }
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
            name_constraints: match &self.name_constraints {
                Some(Value::Known(nc)) => nc.check(&mut Failures::default()),
                _ => None,
            },
            pointers: crate::pki::Pointers {
                crl_distribution_points: super::common::known_list(&self.crl_distribution_points),
                ocsp_servers: super::common::known_list(&self.ocsp_servers),
                issuing_certificate_urls: super::common::known_list(&self.issuing_certificate_urls),
            },
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
