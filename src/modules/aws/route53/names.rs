//! Domain names as Route 53 stores them and as programs write them: normalisation, syntax
//! checks, zone membership, and the record ids `pulumi import` takes. Pure functions only.

/// Route 53 writes `*` as the octal escape `\052` when it answers.
const ESCAPED_STAR: &str = "\\052";
/// Longest domain name Route 53 accepts, in characters of the presentation form.
pub const MAX_NAME: usize = 255;
/// Longest label.
pub const MAX_LABEL: usize = 63;

/// Record types Route 53 serves and this provider manages.
pub const RECORD_TYPES: [&str; 13] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "TXT",
];

/// The form names are kept in: lower case, no trailing dot, and a leftmost `\052` label written
/// as `*`, so a name typed either way, or read back from Route 53, compares equal.
pub fn normalize(name: &str) -> String {
    let trimmed = if name == "." {
        name
    } else {
        name.strip_suffix('.').unwrap_or(name)
    };
    let lower = trimmed.to_ascii_lowercase();
    match lower.strip_prefix(ESCAPED_STAR) {
        Some(rest) if rest.is_empty() || rest.starts_with('.') => format!("*{rest}"),
        _ => lower,
    }
}

/// Characters a label occupies once `\ooo` and `\c` escapes are decoded.
fn label_len(label: &str) -> usize {
    let bytes = label.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let octal = bytes
                .get(i + 1..i + 4)
                .filter(|d| d.iter().all(u8::is_ascii_digit));
            i += if octal.is_some() { 4 } else { 2 };
        } else {
            i += 1;
        }
        n += 1;
    }
    n
}

/// Why `name` (already normalised) is not a usable domain name, if it is not. An empty name is
/// allowed only when `allow_empty` (a record at the zone apex).
pub fn name_problem(name: &str, allow_empty: bool) -> Option<String> {
    if name.is_empty() {
        return (!allow_empty).then(|| "must not be empty".to_string());
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "contains the character {c:?}, which is not allowed"
        ));
    }
    let mut total = 0;
    for label in name.split('.') {
        if label.is_empty() {
            return Some(format!(
                "{name:?} has an empty label (two dots in a row, or a leading dot)"
            ));
        }
        let len = label_len(label);
        if len > MAX_LABEL {
            return Some(format!(
                "label {label:?} is {len} characters long; DNS allows at most {MAX_LABEL}"
            ));
        }
        total += len + 1;
    }
    // Escapes count as the one character they stand for.
    let total = total - 1;
    if total > MAX_NAME {
        return Some(format!(
            "is {total} characters long; Route 53 allows at most {MAX_NAME}"
        ));
    }
    None
}

/// Whether the (normalised) name is the zone itself or lies below it.
pub fn in_zone(name: &str, zone: &str) -> bool {
    name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|head| head.ends_with('.'))
}

/// The fully qualified name of a record named `name` in `zone` (both normalised).
///
/// As in pulumi-aws, a name that is not in the zone is relative and gets the zone's name
/// appended (`api` becomes `api.example.com`), and an empty name is the apex. Unlike upstream,
/// a name that ends in the zone's top-level label (`api.other.com` in `example.com`) is taken
/// as fully qualified and refused, instead of becoming `api.other.com.example.com`.
pub fn resolve(name: &str, zone: &str) -> Result<String, String> {
    if name.is_empty() {
        return Ok(zone.to_string());
    }
    if in_zone(name, zone) {
        return Ok(name.to_string());
    }
    let top = |n: &str| n.rsplit('.').next().unwrap_or_default().to_string();
    if name.contains('.') && top(name) == top(zone) {
        return Err(format!(
            "record name {name:?} lies outside the zone {zone:?}: use a name that ends in \
             \".{zone}\", or a name relative to the zone"
        ));
    }
    let fqdn = format!("{name}.{zone}");
    match name_problem(&fqdn, false) {
        Some(problem) => Err(format!(
            "the fully qualified name {fqdn:?} of record {name:?} {problem}"
        )),
        None => Ok(fqdn),
    }
}

/// The id of a record: `{zoneId}_{fqdn}_{type}`, plus `_{setIdentifier}` when set, as
/// pulumi-aws writes it.
pub fn record_id(zone_id: &str, fqdn: &str, rtype: &str, set_identifier: Option<&str>) -> String {
    match set_identifier.filter(|s| !s.is_empty()) {
        Some(set) => format!("{zone_id}_{fqdn}_{rtype}_{set}"),
        None => format!("{zone_id}_{fqdn}_{rtype}"),
    }
}

/// The parts of a record id.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordIdParts {
    pub zone_id: String,
    pub name: String,
    pub rtype: String,
    pub set_identifier: Option<String>,
}

/// Split a record id. Names may hold underscores (`_dmarc`), and so may set identifiers: the
/// type is the first `_`-separated part after the zone id that is a record type.
pub fn parse_record_id(id: &str) -> Option<RecordIdParts> {
    let parts: Vec<&str> = id.split('_').collect();
    let zone_id = parts.first().filter(|z| !z.is_empty())?;
    let at = (2..parts.len()).find(|&i| RECORD_TYPES.contains(&parts[i]))?;
    let set = parts[at + 1..].join("_");
    Some(RecordIdParts {
        zone_id: zone_id.to_string(),
        name: normalize(&parts[1..at].join("_")),
        rtype: parts[at].to_string(),
        set_identifier: (!set.is_empty()).then_some(set),
    })
}

/// A hosted zone id without the `/hostedzone/` prefix AWS sometimes puts on it.
pub fn clean_zone_id(id: &str) -> &str {
    id.trim().strip_prefix("/hostedzone/").unwrap_or(id.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalize("Example.COM."), "example.com");
        assert_eq!(normalize("api.example.com"), "api.example.com");
        assert_eq!(normalize("\\052.example.com."), "*.example.com");
        assert_eq!(normalize("*.Example.com"), "*.example.com");
        assert_eq!(normalize("a\\052b.example.com"), "a\\052b.example.com");
        assert_eq!(normalize("."), ".");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn name_syntax() {
        assert_eq!(name_problem("api.example.com", false), None);
        assert_eq!(name_problem("_dmarc.example.com", false), None);
        assert_eq!(name_problem("*.example.com", false), None);
        assert_eq!(name_problem("", true), None);
        assert!(name_problem("", false).is_some());
        assert!(name_problem("a..example.com", false).is_some());
        assert!(name_problem(".example.com", false).is_some());
        assert!(name_problem("has space.example.com", false).is_some());
        let long_label = "a".repeat(64);
        assert!(name_problem(&format!("{long_label}.com"), false).is_some());
        assert_eq!(
            name_problem(&format!("{}.com", "a".repeat(63)), false),
            None
        );
        // An escape counts as one character.
        let escaped = "\\052".repeat(63);
        assert_eq!(name_problem(&format!("{escaped}.com"), false), None);
        let long_name = vec!["a".repeat(60); 5].join(".");
        assert!(long_name.len() > MAX_NAME);
        assert!(name_problem(&long_name, false).unwrap().contains("255"));
    }

    #[test]
    fn zone_membership_respects_label_boundaries() {
        assert!(in_zone("example.com", "example.com"));
        assert!(in_zone("api.example.com", "example.com"));
        assert!(!in_zone("myexample.com", "example.com"));
        assert!(!in_zone("com", "example.com"));
    }

    #[test]
    fn relative_names_are_qualified_and_foreign_ones_refused() {
        let zone = "ai-pipeline.example.com";
        assert_eq!(resolve("", zone).unwrap(), zone);
        assert_eq!(resolve("api", zone).unwrap(), "api.ai-pipeline.example.com");
        assert_eq!(resolve("*", zone).unwrap(), "*.ai-pipeline.example.com");
        assert_eq!(
            resolve("www.staging", zone).unwrap(),
            "www.staging.ai-pipeline.example.com"
        );
        assert_eq!(
            resolve("api.ai-pipeline.example.com", zone).unwrap(),
            "api.ai-pipeline.example.com"
        );
        let err = resolve("api.other.com", zone).unwrap_err();
        assert!(err.contains("outside the zone"), "{err}");
        assert!(resolve("example.com", zone).is_err());
        assert!(resolve("xai-pipeline.example.com", zone).is_err());
        let err = resolve(&vec!["a".repeat(60); 4].join("."), zone).unwrap_err();
        assert!(err.contains("255"), "{err}");
    }

    #[test]
    fn record_ids_round_trip() {
        let id = record_id("Z123", "api.example.com", "A", None);
        assert_eq!(id, "Z123_api.example.com_A");
        assert_eq!(
            parse_record_id(&id),
            Some(RecordIdParts {
                zone_id: "Z123".into(),
                name: "api.example.com".into(),
                rtype: "A".into(),
                set_identifier: None,
            })
        );
        let id = record_id("Z123", "_acme_challenge.example.com", "TXT", Some("blue_1"));
        assert_eq!(id, "Z123__acme_challenge.example.com_TXT_blue_1");
        let parts = parse_record_id(&id).unwrap();
        assert_eq!(parts.name, "_acme_challenge.example.com");
        assert_eq!(parts.rtype, "TXT");
        assert_eq!(parts.set_identifier.as_deref(), Some("blue_1"));
        // Upstream's form with a trailing dot or upper case still parses to the same record.
        let parts = parse_record_id("Z123_API.example.com._CNAME").unwrap();
        assert_eq!(parts.name, "api.example.com");
        assert_eq!(parts.rtype, "CNAME");
        for bad in [
            "",
            "Z123",
            "Z123_api.example.com",
            "_api.example.com_A",
            "Z123_a_b",
        ] {
            assert_eq!(parse_record_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(clean_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(clean_zone_id("Z123"), "Z123");
    }
}
