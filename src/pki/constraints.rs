//! Name constraints (RFC 5280 4.2.1.10): parsing subtrees given as text, writing them as the
//! critical extension of a CA certificate, and deciding whether a request's names fall inside
//! the subtrees of the CA that is about to sign it.
//!
//! Matching follows OpenSSL's verifier (`crypto/x509/v3_ncons.c`) rather than the letter of the
//! RFC where the two differ, so that what we refuse to sign is exactly what `openssl verify`
//! would refuse to accept:
//! - DNS: `example.com` matches itself and every name below it; `.example.com` only names
//!   below it. Case-insensitive.
//! - email: `user@host` one mailbox (local part case-sensitive), `host` every mailbox at that
//!   host, `.host` every mailbox at hosts below it.
//! - URI: the constraint is a host; `host` matches URIs whose host is exactly it, `.host`
//!   hosts below it. A URI without `://` has no host and violates any URI constraint.
//! - IP: a CIDR range; addresses of the other family never match.
//!
//! A subject common name that looks like a host name is checked as a DNS name when the request
//! has no DNS names, and subject email addresses as email names, as OpenSSL does.

use std::fmt;
use std::net::IpAddr;

use super::der;
use super::error::{PkiError, Result};

/// An IP range: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpRange {
    fn bits(&self) -> u8 {
        match self.addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    fn octets(&self) -> Vec<u8> {
        octets(self.addr)
    }

    fn mask(&self) -> Vec<u8> {
        let len = self.octets().len();
        (0..len)
            .map(|i| {
                let start = i as u32 * 8;
                let ones = (u32::from(self.prefix).saturating_sub(start)).min(8);
                if ones == 0 { 0 } else { 0xffu8 << (8 - ones) }
            })
            .collect()
    }

    /// Whether `ip` lies in the range (never across families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b) = (self.octets(), octets(ip));
        a.len() == b.len()
            && self
                .mask()
                .iter()
                .zip(a.iter().zip(b.iter()))
                .all(|(m, (x, y))| x & m == y & m)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Addresses as certificates hold them: IPv4-mapped IPv6 in the 4-byte form, as Go writes.
fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    }
}

/// Permitted and excluded subtrees of the four name types we write and enforce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameConstraints {
    pub permitted_dns: Vec<String>,
    pub excluded_dns: Vec<String>,
    pub permitted_ip: Vec<IpRange>,
    pub excluded_ip: Vec<IpRange>,
    pub permitted_email: Vec<String>,
    pub excluded_email: Vec<String>,
    pub permitted_uri: Vec<String>,
    pub excluded_uri: Vec<String>,
}

/// A name outside the signing CA's constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameViolation {
    /// What the name is, e.g. `DNS name` or `subject common name`.
    pub kind: &'static str,
    pub name: String,
    /// The constraint it breaks, e.g. `excluded DNS subtree "admin.ml.internal"`.
    pub constraint: String,
}

impl fmt::Display for NameViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} is outside the CA's name constraints: {}",
            self.kind, self.name, self.constraint
        )
    }
}

fn host_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A host name as a constraint base: ASCII labels, an optional leading dot, no wildcard.
fn check_host(text: &str, what: &str) -> std::result::Result<(), String> {
    let body = text.strip_prefix('.').unwrap_or(text);
    if body.is_empty() {
        return Err(format!(
            "{what} must be a host name such as ml.internal or .ml.internal"
        ));
    }
    if body.contains('*') {
        return Err(format!(
            "{what} {text:?} holds a wildcard; write .{} to permit or exclude every name below it",
            body.trim_start_matches("*.")
        ));
    }
    if body.ends_with('.') {
        return Err(format!("{what} {text:?} must not end with a dot"));
    }
    for label in body.split('.') {
        if label.is_empty() || !label.chars().all(host_label_char) {
            return Err(format!(
                "{what} {text:?} is not a host name (letters, digits, '-' and '_' in dot-separated labels; punycode for IDNs)"
            ));
        }
    }
    Ok(())
}

/// Checks one DNS subtree as given by a user.
pub fn parse_dns_subtree(text: &str) -> std::result::Result<String, String> {
    check_host(text, "a DNS subtree").map(|()| text.to_string())
}

/// Checks one URI subtree: a host (the URIs' authority), not a URI.
pub fn parse_uri_subtree(text: &str) -> std::result::Result<String, String> {
    if text.contains("://") || text.contains('/') {
        return Err(format!(
            "a URI subtree is a host, such as cluster.local for spiffe://cluster.local/...; got {text:?}"
        ));
    }
    check_host(text, "a URI subtree").map(|()| text.to_string())
}

/// Checks one email subtree: `user@host`, `host` or `.host`.
pub fn parse_email_subtree(text: &str) -> std::result::Result<String, String> {
    let host = match text.split_once('@') {
        Some((local, host)) => {
            if local.is_empty()
                || host.contains('@')
                || !local.is_ascii()
                || local.chars().any(|c| c.is_ascii_control() || c == ' ')
            {
                return Err(format!(
                    "an email subtree is user@host, host or .host; got {text:?}"
                ));
            }
            if host.starts_with('.') {
                return Err(format!(
                    "an email subtree with a mailbox names one host, without a leading dot; got {text:?}"
                ));
            }
            host
        }
        None => text,
    };
    check_host(host, "the host of an email subtree").map(|()| text.to_string())
}

/// Checks one IP subtree in CIDR form; host bits must be zero.
pub fn parse_ip_subtree(text: &str) -> std::result::Result<IpRange, String> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(format!(
            "an IP subtree is a CIDR range such as 10.0.0.0/8 or fd00::/8; got {text:?}"
        ));
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} in IP subtree {text:?} is not an IP address"))?;
    let range_bits = match addr {
        IpAddr::V4(_) => 32u8,
        IpAddr::V6(_) => 128,
    };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= range_bits)
        .ok_or_else(|| {
            format!("the prefix length of IP subtree {text:?} must be 0 to {range_bits}")
        })?;
    if let IpAddr::V6(v6) = addr
        && v6.to_ipv4_mapped().is_some()
    {
        return Err(format!(
            "IP subtree {text:?} is an IPv4-mapped IPv6 range; write the IPv4 range instead"
        ));
    }
    let range = IpRange { addr, prefix };
    let masked: Vec<u8> = range
        .octets()
        .iter()
        .zip(range.mask())
        .map(|(o, m)| o & m)
        .collect();
    if masked != range.octets() {
        let network = match addr {
            IpAddr::V4(_) => {
                let a: [u8; 4] = masked.clone().try_into().unwrap_or([0; 4]);
                IpAddr::from(a)
            }
            IpAddr::V6(_) => {
                let a: [u8; 16] = masked.clone().try_into().unwrap_or([0; 16]);
                IpAddr::from(a)
            }
        };
        return Err(format!(
            "IP subtree {text:?} has host bits set; did you mean {network}/{prefix}?"
        ));
    }
    debug_assert!(range.prefix <= range.bits());
    Ok(range)
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `name` ends with `base`, compared without case, on byte boundaries.
fn ends_with_ignore_case(name: &str, base: &str) -> bool {
    name.len() >= base.len()
        && name.is_char_boundary(name.len() - base.len())
        && eq_ignore_case(&name[name.len() - base.len()..], base)
}

/// OpenSSL's DNS rule: an empty base matches all; otherwise `name` ends with `base`, on a label
/// boundary unless `base` starts with a dot.
pub fn dns_matches(name: &str, base: &str) -> bool {
    if base.is_empty() {
        return true;
    }
    if !ends_with_ignore_case(name, base) {
        return false;
    }
    name.len() == base.len()
        || base.starts_with('.')
        || name.as_bytes()[name.len() - base.len() - 1] == b'.'
}

/// OpenSSL's email rule; `None` when `email` has no `@` (a syntax error, refused).
pub fn email_matches(email: &str, base: &str) -> Option<bool> {
    // OpenSSL splits both at their last `@`.
    let (local, host) = email.rsplit_once('@')?;
    if !base.contains('@') && base.starts_with('.') {
        return Some(email.len() > base.len() && ends_with_ignore_case(email, base));
    }
    let base_host = match base.rsplit_once('@') {
        Some((base_local, base_host)) => {
            if !base_local.is_empty() && base_local != local {
                return Some(false);
            }
            base_host
        }
        None => base,
    };
    Some(eq_ignore_case(base_host, host))
}

/// The host of a URI as OpenSSL finds it: after `://`, up to the first `:` or else `/`.
pub fn uri_host(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let end = rest
        .find(':')
        .or_else(|| rest.find('/'))
        .unwrap_or(rest.len());
    let host = &rest[..end];
    (!host.is_empty()).then_some(host)
}

/// OpenSSL's URI rule; `None` when the URI has no host (a syntax error, refused).
pub fn uri_matches(uri: &str, base: &str) -> Option<bool> {
    let host = uri_host(uri)?;
    if base.starts_with('.') {
        return Some(host.len() > base.len() && ends_with_ignore_case(host, base));
    }
    Some(eq_ignore_case(host, base))
}

/// OpenSSL's test for a common name it also checks as a DNS name: letters, digits and `_`,
/// with `-` and `.` only inside, no `..`, no `.` next to `-`, and at least one dot.
pub fn common_name_as_dns(cn: &str) -> bool {
    let b = cn.as_bytes();
    let mut has_dot = false;
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_alphanumeric() || *c == b'_' {
            continue;
        }
        let inner = i > 0 && i + 1 < b.len();
        if inner && *c == b'-' {
            continue;
        }
        if inner && *c == b'.' && b[i + 1] != b'.' && b[i - 1] != b'-' && b[i + 1] != b'-' {
            has_dot = true;
            continue;
        }
        return false;
    }
    has_dot
}

/// The names of a request that name constraints apply to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestNames {
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub uris: Vec<String>,
    pub emails: Vec<String>,
    pub common_names: Vec<String>,
    pub subject_emails: Vec<String>,
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one name of one type against its permitted and excluded subtrees. `matches` gives
/// `None` for a name whose syntax cannot be checked.
fn check_one(
    kind: &'static str,
    type_label: &str,
    name: &str,
    permitted: &[String],
    excluded: &[String],
    matches: impl Fn(&str, &str) -> Option<bool>,
    out: &mut Vec<NameViolation>,
) {
    let violation = |constraint: String| NameViolation {
        kind,
        name: name.to_string(),
        constraint,
    };
    for base in excluded {
        match matches(name, base) {
            Some(true) => {
                out.push(violation(format!("excluded {type_label} subtree {base:?}")));
                return;
            }
            Some(false) => {}
            None => {
                out.push(violation(format!(
                    "it cannot be checked against the {type_label} subtrees (no host)"
                )));
                return;
            }
        }
    }
    if permitted.is_empty() {
        return;
    }
    let mut any = false;
    for base in permitted {
        match matches(name, base) {
            Some(true) => any = true,
            Some(false) => {}
            None => {
                out.push(violation(format!(
                    "it cannot be checked against the {type_label} subtrees (no host)"
                )));
                return;
            }
        }
    }
    if !any {
        out.push(violation(format!(
            "not in any permitted {type_label} subtree ({})",
            quoted(permitted)
        )));
    }
}

impl NameConstraints {
    pub fn is_empty(&self) -> bool {
        *self == NameConstraints::default()
    }

    /// Every name of `names` that a certificate signed under these constraints may not carry.
    pub fn violations(&self, names: &RequestNames) -> Vec<NameViolation> {
        let mut out = Vec::new();
        let dns = |n: &str, b: &str| Some(dns_matches(n, b));
        for n in &names.dns_names {
            check_one(
                "DNS name",
                "DNS",
                n,
                &self.permitted_dns,
                &self.excluded_dns,
                dns,
                &mut out,
            );
        }
        if names.dns_names.is_empty() {
            for cn in names.common_names.iter().filter(|c| common_name_as_dns(c)) {
                check_one(
                    "subject common name",
                    "DNS",
                    cn,
                    &self.permitted_dns,
                    &self.excluded_dns,
                    dns,
                    &mut out,
                );
            }
        }
        for ip in &names.ip_addresses {
            let name = ip.to_string();
            if let Some(r) = self.excluded_ip.iter().find(|r| r.contains(*ip)) {
                out.push(NameViolation {
                    kind: "IP address",
                    name,
                    constraint: format!("excluded IP subtree {r}"),
                });
            } else if !self.permitted_ip.is_empty()
                && !self.permitted_ip.iter().any(|r| r.contains(*ip))
            {
                let list: Vec<String> = self.permitted_ip.iter().map(|r| r.to_string()).collect();
                out.push(NameViolation {
                    kind: "IP address",
                    name,
                    constraint: format!("not in any permitted IP subtree ({})", list.join(", ")),
                });
            }
        }
        for (kind, list) in [
            ("email address", &names.emails),
            ("subject email address", &names.subject_emails),
        ] {
            for e in list {
                check_one(
                    kind,
                    "email",
                    e,
                    &self.permitted_email,
                    &self.excluded_email,
                    email_matches,
                    &mut out,
                );
            }
        }
        for u in &names.uris {
            check_one(
                "URI",
                "URI",
                u,
                &self.permitted_uri,
                &self.excluded_uri,
                uri_matches,
                &mut out,
            );
        }
        out
    }

    /// The extension value: `NameConstraints ::= SEQUENCE { permittedSubtrees [0],
    /// excludedSubtrees [1] }`, each a SEQUENCE OF `GeneralSubtree { base GeneralName }`, in
    /// Go's order of types (DNS, IP, email, URI).
    pub fn to_der(&self) -> Vec<u8> {
        fn subtrees(dns: &[String], ip: &[IpRange], email: &[String], uri: &[String]) -> Vec<u8> {
            let mut body = Vec::new();
            for d in dns {
                body.extend(der::sequence(&[&der::implicit_primitive(2, d.as_bytes())]));
            }
            for r in ip {
                let mut value = r.octets();
                value.extend(r.mask());
                body.extend(der::sequence(&[&der::implicit_primitive(7, &value)]));
            }
            for e in email {
                body.extend(der::sequence(&[&der::implicit_primitive(1, e.as_bytes())]));
            }
            for u in uri {
                body.extend(der::sequence(&[&der::implicit_primitive(6, u.as_bytes())]));
            }
            body
        }
        let permitted = subtrees(
            &self.permitted_dns,
            &self.permitted_ip,
            &self.permitted_email,
            &self.permitted_uri,
        );
        let excluded = subtrees(
            &self.excluded_dns,
            &self.excluded_ip,
            &self.excluded_email,
            &self.excluded_uri,
        );
        let mut parts = Vec::new();
        if !permitted.is_empty() {
            parts.push(der::tlv(0xa0, &permitted));
        }
        if !excluded.is_empty() {
            parts.push(der::tlv(0xa1, &excluded));
        }
        der::tlv(der::TAG_SEQUENCE, &parts.concat())
    }

    /// The constraints of a parsed CA certificate's extension. Subtrees of other name types
    /// (directory names, ...) are not ours to enforce and are left out; `openssl verify` still
    /// applies them.
    pub(crate) fn from_parsed(nc: &x509_parser::extensions::NameConstraints<'_>) -> Result<Self> {
        use x509_parser::extensions::GeneralName;
        let mut out = NameConstraints::default();
        let lists = [
            (nc.permitted_subtrees.as_ref(), true),
            (nc.excluded_subtrees.as_ref(), false),
        ];
        for (subtrees, permitted) in lists {
            for s in subtrees.into_iter().flatten() {
                match &s.base {
                    GeneralName::DNSName(d) => {
                        let list = if permitted {
                            &mut out.permitted_dns
                        } else {
                            &mut out.excluded_dns
                        };
                        list.push(d.to_string());
                    }
                    GeneralName::RFC822Name(e) => {
                        let list = if permitted {
                            &mut out.permitted_email
                        } else {
                            &mut out.excluded_email
                        };
                        list.push(e.to_string());
                    }
                    GeneralName::URI(u) => {
                        let list = if permitted {
                            &mut out.permitted_uri
                        } else {
                            &mut out.excluded_uri
                        };
                        list.push(u.to_string());
                    }
                    GeneralName::IPAddress(bytes) => {
                        let range = ip_range_from_der(bytes).ok_or_else(|| {
                            PkiError::InvalidCertificate(
                                "the CA certificate holds an IP name constraint that is not an \
                                 address and a contiguous mask"
                                    .into(),
                            )
                        })?;
                        let list = if permitted {
                            &mut out.permitted_ip
                        } else {
                            &mut out.excluded_ip
                        };
                        list.push(range);
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }
}

/// An address followed by its mask (8 or 32 bytes); the prefix counts the mask's leading ones.
fn ip_range_from_der(bytes: &[u8]) -> Option<IpRange> {
    if bytes.len() != 8 && bytes.len() != 32 {
        return None;
    }
    let half = bytes.len() / 2;
    let (addr, mask) = bytes.split_at(half);
    let addr = match half {
        4 => IpAddr::from(<[u8; 4]>::try_from(addr).ok()?),
        16 => IpAddr::from(<[u8; 16]>::try_from(addr).ok()?),
        _ => return None,
    };
    let prefix: u32 = mask.iter().map(|b| b.count_ones()).sum();
    let range = IpRange {
        addr,
        prefix: u8::try_from(prefix).ok()?,
    };
    // Only contiguous masks are ranges we can reason about; others are refused, not widened.
    (range.mask() == mask).then_some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_rules_follow_openssl() {
        assert!(dns_matches("ml.internal", "ml.internal"));
        assert!(dns_matches("a.b.ML.internal", "ml.internal"));
        assert!(!dns_matches("xml.internal", "ml.internal"));
        assert!(!dns_matches("ml.internal", ".ml.internal"));
        assert!(dns_matches("a.ml.internal", ".ml.internal"));
        assert!(dns_matches("*.ml.internal", "ml.internal"));
        assert!(!dns_matches("internal", "ml.internal"));
        assert!(dns_matches("anything", ""));
    }

    #[test]
    fn email_and_uri_rules_follow_openssl() {
        assert_eq!(email_matches("ops@ml.internal", "ml.internal"), Some(true));
        assert_eq!(
            email_matches("ops@a.ml.internal", "ml.internal"),
            Some(false)
        );
        assert_eq!(
            email_matches("ops@a.ml.internal", ".ml.internal"),
            Some(true)
        );
        assert_eq!(
            email_matches("ops@ml.internal", "ops@ML.internal"),
            Some(true)
        );
        assert_eq!(
            email_matches("Ops@ml.internal", "ops@ml.internal"),
            Some(false)
        );
        assert_eq!(email_matches("no-at-sign", "ml.internal"), None);
        // The last `@` separates the host, as in OpenSSL.
        assert_eq!(
            email_matches("a@evil.com@ml.internal", "ml.internal"),
            Some(true)
        );
        let spiffe = "spiffe://cluster.local/ns/ml/sa/trainer";
        assert_eq!(uri_host(spiffe), Some("cluster.local"));
        assert_eq!(uri_host("https://h.example:8443/x"), Some("h.example"));
        assert_eq!(uri_matches(spiffe, "cluster.local"), Some(true));
        assert_eq!(uri_matches(spiffe, ".local"), Some(true));
        assert_eq!(uri_matches(spiffe, "other.local"), Some(false));
        assert_eq!(uri_matches("urn:x", "cluster.local"), None);
    }

    #[test]
    fn ip_ranges() {
        let r = parse_ip_subtree("10.1.0.0/16").unwrap();
        assert!(r.contains("10.1.200.3".parse().unwrap()));
        assert!(!r.contains("10.2.0.1".parse().unwrap()));
        assert!(!r.contains("::1".parse().unwrap()));
        let v6 = parse_ip_subtree("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(
            parse_ip_subtree("10.1.2.3/16")
                .unwrap_err()
                .contains("10.1.0.0/16")
        );
        assert!(parse_ip_subtree("10.0.0.0").is_err());
        assert!(parse_ip_subtree("10.0.0.0/33").is_err());
        let der = {
            let mut v = r.octets();
            v.extend(r.mask());
            v
        };
        assert_eq!(der, [10, 1, 0, 0, 255, 255, 0, 0]);
        assert_eq!(ip_range_from_der(&der), Some(r));
        assert_eq!(ip_range_from_der(&der[..7]), None);
        assert_eq!(ip_range_from_der(&[10, 0, 0, 0, 255, 0, 255, 0]), None);
        assert_eq!(
            ip_range_from_der(&[10, 0, 0, 0, 255, 255, 255, 255, 0]),
            None
        );
    }

    #[test]
    fn malformed_subtrees_are_refused_with_reasons() {
        assert!(
            parse_dns_subtree("*.ml.internal")
                .unwrap_err()
                .contains(".ml.internal")
        );
        assert!(parse_dns_subtree("").is_err());
        assert!(parse_dns_subtree("a..b").is_err());
        assert!(parse_dns_subtree("bad name").is_err());
        assert!(parse_dns_subtree(".ml.internal").is_ok());
        assert!(parse_uri_subtree("spiffe://cluster.local").is_err());
        assert!(parse_uri_subtree("cluster.local").is_ok());
        assert!(parse_email_subtree("a@b@c").is_err());
        assert!(parse_email_subtree("ops@.ml").is_err());
        assert!(parse_email_subtree(".ml.internal").is_ok());
    }

    #[test]
    fn common_names_checked_as_dns_only_when_host_like() {
        assert!(common_name_as_dns("trainer.ml.internal"));
        assert!(!common_name_as_dns("trainer"));
        assert!(!common_name_as_dns("ML Root CA"));
        assert!(!common_name_as_dns("a..b"));
        assert!(!common_name_as_dns(".a.b"));
        let nc = NameConstraints {
            permitted_dns: vec!["ml.internal".into()],
            ..Default::default()
        };
        let mut names = RequestNames {
            common_names: vec!["evil.example".into()],
            ..Default::default()
        };
        assert_eq!(nc.violations(&names).len(), 1);
        // With DNS names present, the common name is not checked.
        names.dns_names = vec!["a.ml.internal".into()];
        assert!(nc.violations(&names).is_empty());
    }

    #[test]
    fn violations_name_the_name_and_the_constraint() {
        let nc = NameConstraints {
            permitted_dns: vec!["ml.internal".into()],
            excluded_dns: vec!["admin.ml.internal".into()],
            permitted_ip: vec![parse_ip_subtree("10.0.0.0/8").unwrap()],
            permitted_uri: vec!["cluster.local".into()],
            ..Default::default()
        };
        let names = RequestNames {
            dns_names: vec![
                "ok.ml.internal".into(),
                "x.admin.ml.internal".into(),
                "evil.example".into(),
            ],
            ip_addresses: vec!["10.2.3.4".parse().unwrap(), "192.168.1.1".parse().unwrap()],
            uris: vec!["spiffe://other.domain/x".into()],
            ..Default::default()
        };
        let v: Vec<String> = nc
            .violations(&names)
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(v.len(), 4, "{v:?}");
        assert!(
            v[0].contains("x.admin.ml.internal")
                && v[0].contains("excluded DNS subtree \"admin.ml.internal\"")
        );
        assert!(v[1].contains("evil.example") && v[1].contains("permitted DNS"));
        assert!(v[2].contains("192.168.1.1") && v[2].contains("10.0.0.0/8"));
        assert!(v[3].contains("spiffe://other.domain/x"));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn label() -> impl Strategy<Value = String> {
            "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?"
        }

        fn host() -> impl Strategy<Value = String> {
            prop::collection::vec(label(), 1..4).prop_map(|l| l.join("."))
        }

        proptest! {
            #[test]
            fn names_below_a_domain_match_it_and_only_it(sub in label(), base in host(), other in host()) {
                let name = format!("{sub}.{base}");
                let below = format!(".{base}");
                let glued = format!("{sub}{base}");
                let uri = format!("spiffe://{name}/a");
                prop_assert!(dns_matches(&name, &base));
                prop_assert!(dns_matches(&name, &below));
                prop_assert!(dns_matches(&base.to_uppercase(), &base));
                prop_assert!(!dns_matches(&base, &below));
                // Gluing labels together is not being below.
                prop_assert!(!dns_matches(&glued, &base));
                if !other.ends_with(&base) {
                    prop_assert!(!dns_matches(&other, &base));
                }
                prop_assert!(parse_dns_subtree(&base).is_ok());
                prop_assert!(parse_uri_subtree(&below).is_ok());
                prop_assert_eq!(uri_matches(&uri, &below), Some(true));
            }

            #[test]
            fn cidr_ranges_hold_exactly_their_addresses(addr in any::<[u8; 4]>(), probe in any::<[u8; 4]>(), prefix in 0u8..=32) {
                let ip = std::net::Ipv4Addr::from(addr);
                let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
                let network = std::net::Ipv4Addr::from(u32::from(ip) & mask);
                let cidr = format!("{network}/{prefix}");
                let unmasked = format!("{ip}/{prefix}");
                let range = parse_ip_subtree(&cidr).unwrap();
                prop_assert!(range.contains(IpAddr::V4(ip)));
                let probe = std::net::Ipv4Addr::from(probe);
                prop_assert_eq!(range.contains(IpAddr::V4(probe)), u32::from(probe) & mask == u32::from(network));
                prop_assert!(!range.contains("::1".parse().unwrap()));
                let mut der = range.octets();
                der.extend(range.mask());
                prop_assert_eq!(ip_range_from_der(&der), Some(range));
                if u32::from(ip) != u32::from(network) {
                    prop_assert!(parse_ip_subtree(&unmasked).is_err());
                }
            }
        }
    }
}
