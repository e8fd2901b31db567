//! What the tls resources share: subject types, input validation, PEM normalisation, renewal.

use crate::codec::PropertyPath;
use crate::typed::{Failures, Secret, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest validity accepted, in hours (100 years). Go's duration overflow bit upstream at
/// about 292 years; we stop well before any arithmetic can.
pub const MAX_VALIDITY_HOURS: i64 = 100 * 365 * 24;
/// Longest backdating accepted, in minutes (7 days).
pub const MAX_BACKDATE_MINUTES: i64 = 7 * 24 * 60;

/// Subject fields shared by both subject types (pulumi-tls has two identical ones).
macro_rules! subject_type {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Distinguished name: `CN`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub common_name: Option<String>,
            /// Distinguished name: `C`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub country: Option<String>,
            /// ASN.1 Object Identifier (OID): `1.2.840.113549.1.9.1`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub email_address: Option<String>,
            /// Distinguished name: `L`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub locality: Option<String>,
            /// Distinguished name: `O`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub organization: Option<String>,
            /// Distinguished name: `OU`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub organizational_unit: Option<String>,
            /// Distinguished name: `PC`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub postal_code: Option<String>,
            /// Distinguished name: `ST`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub province: Option<String>,
            /// Distinguished name: `SERIALNUMBER`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub serial_number: Option<String>,
            /// Distinguished name: `STREET`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub street_addresses: Option<Vec<String>>,
        }

        impl $name {
            pub fn to_pki(&self) -> crate::pki::Subject {
                crate::pki::Subject {
                    common_name: self.common_name.clone(),
                    country: self.country.clone(),
                    email_address: self.email_address.clone(),
                    locality: self.locality.clone(),
                    organization: self.organization.clone(),
                    organizational_unit: self.organizational_unit.clone(),
                    postal_code: self.postal_code.clone(),
                    province: self.province.clone(),
                    serial_number: self.serial_number.clone(),
                    street_addresses: self.street_addresses.clone().unwrap_or_default(),
                }
            }

            /// True if no field is set: a CA certificate needs at least one.
            pub fn is_empty(&self) -> bool {
                self.to_pki() == crate::pki::Subject::default()
            }
        }
    };
}

subject_type!(CertRequestSubject, "The subject of a certificate request.");
subject_type!(
    SelfSignedCertSubject,
    "The subject of a self-signed certificate."
);

/// Canonical PEM of `text`, if it also passes `parse`; the error never quotes the input.
fn canonical_checked<T, E: std::fmt::Display>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<String, String> {
    let canonical = crate::pki::normalize_pem(text).map_err(|e| e.to_string())?;
    parse(&canonical).map_err(|e| e.to_string())?;
    Ok(canonical)
}

/// Normalise a secret private-key PEM input and check that it holds a usable key, reporting at
/// most one failure at `key`.
pub fn check_private_key(value: &mut Value<Secret<String>>, key: &str, failures: &mut Failures) {
    let Value::Known(secret) = value else { return };
    match canonical_checked(secret.expose(), crate::pki::parse_private_key) {
        Ok(canonical) => *secret = Secret::new(canonical),
        Err(reason) => failures.at(key, reason),
    }
}

/// Normalise a PEM input and check it with `parse`, reporting at most one failure at `key`.
pub fn check_pem<T, E: std::fmt::Display>(
    value: &mut Value<String>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    failures: &mut Failures,
) {
    let Value::Known(text) = value else { return };
    match canonical_checked(text, parse) {
        Ok(canonical) => *text = canonical,
        Err(reason) => failures.at(key, reason),
    }
}

/// Check a known integer against an inclusive range.
pub fn check_range(
    value: Option<&Value<i64>>,
    key: &str,
    min: i64,
    max: i64,
    failures: &mut Failures,
) {
    if let Some(Value::Known(v)) = value
        && (*v < min || *v > max)
    {
        failures.at(key, format!("must be between {min} and {max}, got {v}"));
    }
}

/// Validate and normalise `allowedUses` to snake_case.
pub fn normalize_allowed_uses(value: &mut Value<Vec<String>>, failures: &mut Failures) {
    let Value::Known(uses) = value else { return };
    for (i, u) in uses.iter_mut().enumerate() {
        match u.parse::<crate::pki::AllowedUse>() {
            Ok(parsed) => *u = parsed.as_str().to_string(),
            Err(e) => failures.add(
                PropertyPath::root().key("allowedUses").index(i),
                e.to_string(),
            ),
        }
    }
}

/// Parse the known allowed uses (already validated in Check).
pub fn allowed_uses(uses: &[String]) -> Vec<crate::pki::AllowedUse> {
    uses.iter().filter_map(|u| u.parse().ok()).collect()
}

/// Validate the SAN lists: IPs must parse, URIs need a scheme, DNS names must be plausible.
pub fn check_sans(
    dns_names: Option<&Value<Vec<String>>>,
    ip_addresses: Option<&Value<Vec<String>>>,
    uris: Option<&Value<Vec<String>>>,
    failures: &mut Failures,
) {
    if let Some(Value::Known(names)) = dns_names {
        for (i, n) in names.iter().enumerate() {
            let ok = !n.is_empty()
                && n.len() <= 253
                && n.trim_start_matches("*.").split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !ok {
                failures.add(
                    PropertyPath::root().key("dnsNames").index(i),
                    format!("'{n}' is not a valid DNS name"),
                );
            }
        }
    }
    if let Some(Value::Known(ips)) = ip_addresses {
        for (i, ip) in ips.iter().enumerate() {
            if ip.parse::<IpAddr>().is_err() {
                failures.add(
                    PropertyPath::root().key("ipAddresses").index(i),
                    format!("'{ip}' is not an IPv4 or IPv6 address"),
                );
            }
        }
    }
    if let Some(Value::Known(list)) = uris {
        for (i, u) in list.iter().enumerate() {
            let scheme_ok = u.split_once(':').is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && !rest.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            });
            if !scheme_ok || u.chars().any(char::is_whitespace) {
                failures.add(
                    PropertyPath::root().key("uris").index(i),
                    format!("'{u}' is not an absolute URI (e.g. spiffe://cluster.local/ns/ml/sa/trainer)"),
                );
            }
        }
    }
}

/// Key generation, parsing and signing on tokio's blocking pool: RSA work then spreads over every
/// core when the engine runs operations in parallel, and never holds up the RPCs that share the
/// async threads.
/// At most one job per core at a time: more would not finish sooner, and each new blocking
/// thread costs aws-lc a fresh seeding of its per-thread random generator.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::typed::ResourceError> + Send + 'static,
) -> Result<T, crate::typed::ResourceError> {
    use crate::typed::ResourceError;
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| ResourceError::Internal(format!("crypto slots closed: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ResourceError::Internal(format!("crypto task failed: {e}")))?
}

/// Known list or empty.
pub fn known_list(v: &Option<Value<Vec<String>>>) -> Vec<String> {
    match v {
        Some(Value::Known(list)) => list.clone(),
        _ => Vec::new(),
    }
}

pub fn parse_ips(list: &[String]) -> Vec<IpAddr> {
    list.iter().filter_map(|s| s.parse().ok()).collect()
}

pub fn known_bool(v: &Option<Value<bool>>) -> bool {
    matches!(v, Some(Value::Known(true)))
}

pub fn known_i64(v: &Option<Value<i64>>, default: i64) -> i64 {
    match v {
        Some(Value::Known(n)) => *n,
        _ => default,
    }
}

/// Whether a certificate ending at `end` (RFC 3339) is due for renewal at `now`.
/// Unparsable times count as due: better a new certificate than a silently expired one.
pub fn ready_for_renewal(end: &str, early_renewal_hours: i64, now: OffsetDateTime) -> bool {
    match OffsetDateTime::parse(end, &Rfc3339) {
        Ok(end) => end
            .checked_sub(time::Duration::hours(early_renewal_hours.max(0)))
            .is_none_or(|window| now >= window),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::normalize_pem;

    #[test]
    fn equivalent_pem_normalises_to_the_same_text() {
        let a = "-----BEGIN CERTIFICATE-----\r\nAAEC\r\nAwQ=\r\n-----END CERTIFICATE-----\r\n\r\n";
        let b = "-----BEGIN CERTIFICATE-----\nAAECAwQ=\n-----END CERTIFICATE-----";
        assert_eq!(normalize_pem(a).unwrap(), normalize_pem(b).unwrap());
        assert!(normalize_pem(b).unwrap().ends_with("-----\n"));
        assert!(normalize_pem("not pem").is_err());
    }

    #[test]
    fn malformed_pem_failure_does_not_echo_the_input() {
        // Both a non-PEM text and a PEM frame around a body that is not a key: the parser sees
        // the bytes in the second case, and its error must still not quote them.
        for text in [
            "SECRETKEYMATERIAL",
            "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZTUFURVJJQUw=\n-----END PRIVATE KEY-----\n",
        ] {
            let mut f = Failures::default();
            let mut v = Value::Known(Secret::new(text.to_string()));
            check_private_key(&mut v, "privateKeyPem", &mut f);
            let failures = f.into_vec();
            assert_eq!(failures.len(), 1, "{text}");
            assert!(
                !failures[0].reason.contains("SECRETKEYMATERIAL"),
                "{}",
                failures[0].reason
            );
            assert!(
                !failures[0].reason.contains("U0VDUkVU"),
                "{}",
                failures[0].reason
            );
        }
    }

    #[test]
    fn san_checks_name_each_bad_entry() {
        let mut f = Failures::default();
        check_sans(
            Some(&Value::Known(vec!["ok.example".into(), "bad name".into()])),
            Some(&Value::Known(vec!["10.0.0.1".into(), "999.1.1.1".into()])),
            Some(&Value::Known(vec![
                "spiffe://td/ns/x".into(),
                "no-scheme".into(),
            ])),
            &mut f,
        );
        let paths: Vec<String> = f
            .into_vec()
            .iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["dnsNames[1]", "ipAddresses[1]", "uris[1]"]);
    }

    #[test]
    fn renewal_window_opens_early_renewal_hours_before_the_end() {
        let now = OffsetDateTime::parse("2026-01-01T00:00:00Z", &Rfc3339).unwrap();
        assert!(!ready_for_renewal("2026-01-02T00:00:00Z", 23, now));
        assert!(ready_for_renewal("2026-01-02T00:00:00Z", 24, now));
        assert!(ready_for_renewal("2025-12-31T00:00:00Z", 0, now));
        assert!(ready_for_renewal("garbage", 0, now));
    }
}
