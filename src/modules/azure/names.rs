//! What Check knows about ARM without asking it: naming rules per resource type, resource ids,
//! tags, address prefixes, and names generated from the logical name.

use crate::codec::PropertyPath;
use crate::typed::{CheckCtx, Failures, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One resource type's naming rule (from Azure's "naming rules and restrictions" table).
#[derive(Clone, Copy, Debug)]
pub struct NameRule {
    pub what: &'static str,
    pub min: usize,
    pub max: usize,
    /// Characters allowed anywhere.
    pub allowed: fn(char) -> bool,
    /// Characters allowed first.
    pub first: fn(char) -> bool,
    /// Characters allowed last.
    pub last: fn(char) -> bool,
    /// The rule in words, for messages.
    pub text: &'static str,
}

fn word_or_dot_dash(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}
fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}
fn alnum_or_underscore(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
fn ascii_word_or_dot_dash(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

pub const RESOURCE_GROUP: NameRule = NameRule {
    what: "resource group name",
    min: 1,
    max: 90,
    allowed: |c| word_or_dot_dash(c) || matches!(c, '(' | ')'),
    first: |c| word_or_dot_dash(c) || matches!(c, '(' | ')'),
    last: |c| c != '.',
    text: "1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period",
};

pub const VIRTUAL_NETWORK: NameRule = NameRule {
    what: "virtual network name",
    min: 2,
    max: 64,
    allowed: ascii_word_or_dot_dash,
    first: alnum,
    last: alnum_or_underscore,
    text: "2-64 letters, digits, underscores, periods and hyphens, starting with a letter or digit and ending with a letter, digit or underscore",
};

pub const SUBNET: NameRule = NameRule {
    what: "subnet name",
    min: 1,
    max: 80,
    allowed: ascii_word_or_dot_dash,
    first: alnum,
    last: alnum_or_underscore,
    text: "1-80 letters, digits, underscores, periods and hyphens, starting with a letter or digit and ending with a letter, digit or underscore",
};

pub const PRIVATE_ENDPOINT: NameRule = NameRule {
    what: "private endpoint name",
    min: 2,
    max: 64,
    allowed: ascii_word_or_dot_dash,
    first: alnum,
    last: alnum_or_underscore,
    text: "2-64 letters, digits, underscores, periods and hyphens, starting with a letter or digit and ending with a letter, digit or underscore",
};

pub const CONNECTION: NameRule = NameRule {
    what: "connection name",
    min: 1,
    max: 80,
    allowed: ascii_word_or_dot_dash,
    first: alnum,
    last: alnum_or_underscore,
    text: "1-80 letters, digits, underscores, periods and hyphens, starting with a letter or digit and ending with a letter, digit or underscore",
};

pub const WORKSPACE: NameRule = NameRule {
    what: "workspace name",
    min: 3,
    max: 33,
    allowed: |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
    first: alnum,
    last: |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
    text: "3-33 letters, digits, hyphens and underscores, starting with a letter or digit",
};

pub const ONLINE_ENDPOINT: NameRule = NameRule {
    what: "online endpoint name",
    min: 3,
    max: 32,
    allowed: |c| c.is_ascii_alphanumeric() || c == '-',
    first: |c| c.is_ascii_alphabetic(),
    last: alnum,
    text: "3-32 letters, digits and hyphens, starting with a letter and ending with a letter or digit",
};

impl NameRule {
    /// Why `name` breaks the rule, if it does.
    pub fn violation(&self, name: &str) -> Option<String> {
        let n = name.chars().count();
        let ok = n >= self.min
            && n <= self.max
            && name.chars().all(self.allowed)
            && name.chars().next().is_some_and(self.first)
            && name.chars().last().is_some_and(self.last);
        (!ok).then(|| format!("{name:?} is not a valid {}: use {}", self.what, self.text))
    }

    /// Report a known name that breaks the rule at `path`.
    /// A resource's own name: the given one, else the one of the last run, else one generated
    /// from the logical name (as azure-native does); then checked against the rule at `key`.
    pub fn own_name<I>(
        &self,
        slot: &mut Option<Value<String>>,
        old: Option<&Option<Value<String>>>,
        key: &str,
        ctx: &CheckCtx<'_, I>,
        failures: &mut Failures,
    ) {
        name_or_generate(slot, old, self, ctx.name, ctx.random_seed);
        self.check(slot.as_ref(), PropertyPath::root().key(key), failures);
    }

    pub fn check(&self, name: Option<&Value<String>>, path: PropertyPath, failures: &mut Failures) {
        if let Some(Value::Known(name)) = name
            && let Some(reason) = self.violation(name)
        {
            failures.add(path, reason);
        }
    }

    /// A name for a resource the program left unnamed: the logical name made to fit the rule,
    /// plus 8 hex digits from the engine's seed (stable across updates), as pulumi-azure-native
    /// names resources.
    pub fn generate(&self, logical: &str, seed: &[u8]) -> String {
        let digest = Sha256::digest(seed);
        let suffix = hex::encode(&digest[..4]);
        let mut base: String = logical
            .chars()
            .map(|c| if (self.allowed)(c) { c } else { '-' })
            .collect();
        while base.chars().next().is_some_and(|c| !(self.first)(c)) {
            base.remove(0);
        }
        let room = self.max.saturating_sub(suffix.len());
        base = base.chars().take(room).collect();
        if base.is_empty() && !(self.first)('0') {
            base.push('r');
        }
        format!("{base}{suffix}")
    }
}

/// Fill `slot` with the previous name or a generated one when the program gave none.
pub fn name_or_generate(
    slot: &mut Option<Value<String>>,
    old: Option<&Option<Value<String>>>,
    rule: &NameRule,
    logical: &str,
    seed: &[u8],
) {
    if slot.is_some() {
        return;
    }
    *slot = match old.and_then(|o| o.clone()) {
        Some(Value::Known(previous)) => Some(Value::Known(previous)),
        _ => Some(Value::Known(rule.generate(logical, seed))),
    };
}

/// A parsed ARM resource id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmId {
    pub subscription: String,
    pub resource_group: Option<String>,
    /// `Microsoft.Network`, when the id names a provider resource.
    pub namespace: Option<String>,
    /// (type, name) pairs below the provider: `[("virtualNetworks", "v"), ("subnets", "s")]`.
    pub types: Vec<(String, String)>,
}

impl ArmId {
    /// Parse `/subscriptions/<s>[/resourceGroups/<rg>[/providers/<ns>/<type>/<name>...]]`.
    pub fn parse(id: &str) -> Option<ArmId> {
        let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        if parts.len() < 3
            || !parts[0].is_empty()
            || !parts[1].eq_ignore_ascii_case("subscriptions")
        {
            return None;
        }
        if parts.iter().skip(1).any(|p| p.is_empty()) {
            return None;
        }
        let mut out = ArmId {
            subscription: parts[2].to_string(),
            resource_group: None,
            namespace: None,
            types: Vec::new(),
        };
        let rest = &parts[3..];
        if rest.is_empty() {
            return Some(out);
        }
        if rest.len() < 2 || !rest[0].eq_ignore_ascii_case("resourcegroups") {
            return None;
        }
        out.resource_group = Some(rest[1].to_string());
        let rest = &rest[2..];
        if rest.is_empty() {
            return Some(out);
        }
        if rest.len() < 4
            || !rest[0].eq_ignore_ascii_case("providers")
            || !rest.len().is_multiple_of(2)
        {
            return None;
        }
        out.namespace = Some(rest[1].to_string());
        for pair in rest[2..].chunks(2) {
            out.types.push((pair[0].to_string(), pair[1].to_string()));
        }
        Some(out)
    }

    /// Whether the id names a resource of `namespace/type[/child...]` (case-insensitive).
    pub fn is_type(&self, full_type: &str) -> bool {
        let mut parts = full_type.split('/');
        let Some(ns) = parts.next() else {
            return false;
        };
        let wanted: Vec<&str> = parts.collect();
        self.namespace
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(ns))
            && self.types.len() == wanted.len()
            && self
                .types
                .iter()
                .zip(&wanted)
                .all(|((t, _), w)| t.eq_ignore_ascii_case(w))
    }

    /// The name at `level` (0: the top resource, 1: its child, ...).
    pub fn name(&self, level: usize) -> Option<&str> {
        self.types.get(level).map(|(_, n)| n.as_str())
    }
}

/// Report a known id that is not an ARM id of `full_type` at `path`.
pub fn check_id_of_type(
    id: Option<&Value<String>>,
    full_type: &str,
    path: PropertyPath,
    failures: &mut Failures,
) -> Option<ArmId> {
    let Some(Value::Known(id)) = id else {
        return None;
    };
    match ArmId::parse(id) {
        Some(parsed) if parsed.is_type(full_type) => Some(parsed),
        _ => {
            failures.add(
                path,
                format!(
                    "{id:?} is not the id of a {full_type} (/subscriptions/<id>/resourceGroups/<group>/providers/{full_type}/...)"
                ),
            );
            None
        }
    }
}

/// Check tags as ARM does: at most 50, names of 1-512 characters without `<>%&\?/`, values of
/// at most 256 characters.
pub fn check_tags(tags: Option<&Value<BTreeMap<String, String>>>, failures: &mut Failures) {
    let Some(Value::Known(tags)) = tags else {
        return;
    };
    let path = PropertyPath::root().key("tags");
    if tags.len() > 50 {
        failures.add(path.clone(), format!("at most 50 tags, got {}", tags.len()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 512 || k.chars().any(|c| "<>%&\\?/".contains(c)) {
            failures.add(
                path.key(k.as_str()),
                "tag names have 1-512 characters and none of < > % & \\ ? /",
            );
        }
        if v.chars().count() > 256 {
            failures.add(
                path.key(k.as_str()),
                "tag values have at most 256 characters",
            );
        }
    }
}

/// Report a known value outside `allowed` at `path` (ARM's enums, compared exactly).
pub fn check_choice(
    value: Option<&Value<String>>,
    path: PropertyPath,
    allowed: &[&str],
    failures: &mut Failures,
) {
    if let Some(Value::Known(v)) = value
        && !allowed.contains(&v.as_str())
    {
        failures.add(
            path,
            format!(
                "unknown value {v:?}; expected one of {}",
                allowed.join(", ")
            ),
        );
    }
}

/// Report a missing or empty location at `location`.
pub fn check_location(location: Option<&Value<String>>, required: bool, failures: &mut Failures) {
    match location {
        Some(Value::Known(l)) if l.trim().is_empty() => {
            failures.at("location", "must name an Azure region, e.g. westus2");
        }
        Some(Value::Known(l)) if !l.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') => {
            failures.at("location", format!("{l:?} is not an Azure region name"));
        }
        None if required => failures.at(
            "location",
            "required: the Azure region, e.g. westus2 (zerotrust has no provider-wide default)",
        ),
        _ => {}
    }
}

/// ARM's canonical form of a region name: `West US 2` and `westus2` are the same region.
pub fn normalize_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// An IPv4 or IPv6 prefix in CIDR form: (address bits as u128, prefix length, is_v6).
pub fn parse_cidr(text: &str) -> Option<(u128, u8, bool)> {
    let (addr, len) = text.split_once('/')?;
    let len: u8 = len.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) if len <= 32 => Some((u128::from(u32::from(a)), len, false)),
        std::net::IpAddr::V6(a) if len <= 128 => Some((u128::from(a), len, true)),
        _ => None,
    }
}

/// Whether prefix `inner` lies within prefix `outer`.
pub fn cidr_within(inner: &str, outer: &str) -> bool {
    let (Some((a, la, va)), Some((b, lb, vb))) = (parse_cidr(inner), parse_cidr(outer)) else {
        return false;
    };
    if va != vb || la < lb {
        return false;
    }
    let width = if va { 128 } else { 32 };
    let shift = width - u32::from(lb);
    if shift >= 128 {
        return true;
    }
    (a >> shift) == (b >> shift)
}

/// Report prefixes that are not CIDR blocks at `path[i]`.
pub fn check_prefixes(prefixes: &[String], path: PropertyPath, failures: &mut Failures) {
    for (i, p) in prefixes.iter().enumerate() {
        if parse_cidr(p).is_none() {
            failures.add(
                path.index(i),
                format!("{p:?} is not an address prefix in CIDR form, e.g. 10.0.0.0/16"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_rules() {
        assert!(RESOURCE_GROUP.violation("zero_trust-rg.(1)").is_none());
        assert!(RESOURCE_GROUP.violation("ends.").is_some());
        assert!(RESOURCE_GROUP.violation(&"a".repeat(91)).is_some());
        assert!(VIRTUAL_NETWORK.violation("v").is_some());
        assert!(VIRTUAL_NETWORK.violation("-vnet").is_some());
        assert!(VIRTUAL_NETWORK.violation("ml-vnet_").is_none());
        assert!(WORKSPACE.violation("ab").is_some());
        assert!(WORKSPACE.violation("aml_workspace-1").is_none());
        assert!(ONLINE_ENDPOINT.violation("1endpoint").is_some());
        assert!(ONLINE_ENDPOINT.violation("online_endpoint").is_some());
        assert!(ONLINE_ENDPOINT.violation("scoring-").is_some());
        assert!(ONLINE_ENDPOINT.violation("scoring-1").is_none());
    }

    #[test]
    fn generated_names_fit_their_rule_and_are_stable() {
        for rule in [
            RESOURCE_GROUP,
            VIRTUAL_NETWORK,
            SUBNET,
            PRIVATE_ENDPOINT,
            WORKSPACE,
            ONLINE_ENDPOINT,
        ] {
            for logical in [
                "online_endpoint",
                "_x",
                "a-very-long-logical-name-that-goes-on-and-on-and-on-for-ever-and-ever",
                "é",
            ] {
                let name = rule.generate(logical, b"seed");
                assert!(rule.violation(&name).is_none(), "{} {name}", rule.what);
                assert_eq!(name, rule.generate(logical, b"seed"));
            }
        }
        assert_eq!(ONLINE_ENDPOINT.generate("online_endpoint", b"s").len(), 23);
        assert!(
            ONLINE_ENDPOINT
                .generate("online_endpoint", b"s")
                .starts_with("online-endpoint")
        );
    }

    #[test]
    fn ids_parse() {
        let id = ArmId::parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s1").unwrap();
        assert!(id.is_type("Microsoft.Network/virtualNetworks/subnets"));
        assert!(!id.is_type("Microsoft.Network/virtualNetworks"));
        assert_eq!(id.resource_group.as_deref(), Some("rg"));
        assert_eq!((id.name(0), id.name(1)), (Some("v"), Some("s1")));
        let rg = ArmId::parse("/subscriptions/s/resourcegroups/rg").unwrap();
        assert!(rg.namespace.is_none());
        for bad in [
            "",
            "subscriptions/s",
            "/subscriptions/s/resourceGroups",
            "/subscriptions/s/resourceGroups/rg/providers/X/t",
            "/subscriptions//resourceGroups/rg",
        ] {
            assert!(ArmId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn prefixes() {
        assert!(cidr_within("10.0.1.0/24", "10.0.0.0/16"));
        assert!(!cidr_within("10.1.0.0/24", "10.0.0.0/16"));
        assert!(!cidr_within("10.0.0.0/8", "10.0.0.0/16"));
        assert!(cidr_within("fd00::/64", "fd00::/48"));
        assert!(parse_cidr("10.0.0.0").is_none());
        assert!(parse_cidr("10.0.0.0/33").is_none());
    }

    #[test]
    fn tags() {
        let mut f = Failures::default();
        let tags = BTreeMap::from([
            ("a/b".to_string(), "x".to_string()),
            ("ok".into(), "y".repeat(300)),
        ]);
        check_tags(Some(&Value::Known(tags)), &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["tags[\"a/b\"]", "tags.ok"]);
    }
}
