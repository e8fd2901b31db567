//! `zerotrust:index:CaBundle`: the CA certificates a workload trusts, deduplicated and in a
//! stable order, with an overlap for CAs taken out. A CA removed from `caCertificates` stays in
//! the bundle for `overlap`, so workloads whose certificates it signed are still trusted while
//! they are reissued; the first `pulumi up` after the overlap ends drops it, and the diff names
//! it. The state of the overlap lives in this resource's outputs, which is why it is a resource
//! of its own and not part of the TrustBundle component.

use crate::codec::PropertyPath;
use crate::modules::backend::duration_seconds;
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::{
    CheckCtx, Created, DiffInput, ExtraDiff, Failures, Resource, ResourceError, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub struct CaBundle;

/// How long a removed CA stays trusted when `overlap` is not set.
pub const DEFAULT_OVERLAP: &str = "24h";

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaBundleInputs {
    /// The CA certificates to trust, PEM; an entry may hold several. The same certificate given
    /// twice (from two backends, say) is trusted once.
    pub ca_certificates: Value<Vec<String>>,
    /// How long a CA taken out of `caCertificates` stays in the bundle, e.g. `24h`, `90m`,
    /// `7d`. Default `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Value<String>>,
}

/// A CA taken out of `caCertificates` and still trusted until `dropAfter`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CaBundleRetiredCa")]
pub struct RetiredCa {
    /// The CA's subject.
    pub subject: String,
    /// SHA-256 of the certificate, hex.
    pub fingerprint: String,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// When it was taken out of `caCertificates`, RFC 3339.
    pub retired_at: String,
    /// When the overlap ends: the first `pulumi up` after it drops the CA, RFC 3339.
    pub drop_after: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaBundleOutputs {
    #[serde(flatten)]
    pub inputs: CaBundleInputs,
    /// Every CA to trust, PEM: those in `caCertificates`, by subject then fingerprint, then the
    /// retired ones still in their overlap.
    pub bundle_pem: Value<String>,
    /// SHA-256 fingerprints of the CAs in the bundle, in bundle order.
    pub fingerprints: Value<Vec<String>>,
    /// The CAs taken out and still trusted, with when they go.
    pub retired: Value<Vec<RetiredCa>>,
    /// SHA-256 of `bundlePem`: changes exactly when the bundle does.
    pub checksum: Value<String>,
}

/// One CA certificate, parsed.
#[derive(Clone, Debug, PartialEq)]
struct Ca {
    subject: String,
    fingerprint: String,
    pem: String,
}

fn parse(text: &str) -> Result<Vec<Ca>, String> {
    let infos = crate::pki::cert_info(text).map_err(|e| e.to_string())?;
    if infos.is_empty() {
        return Err("holds no certificate".into());
    }
    infos
        .into_iter()
        .map(|info| {
            let der = crate::pki::framing::single_block(&info.cert_pem, "CERTIFICATE", &[])
                .map_err(|e| e.to_string())?;
            if !info.is_ca {
                return Err(format!(
                    "{} is not a CA certificate (no basicConstraints cA)",
                    info.subject
                ));
            }
            Ok(Ca {
                subject: info.subject,
                fingerprint: hex::encode(Sha256::digest(&der)),
                pem: info.cert_pem,
            })
        })
        .collect()
}

/// The CAs of every entry, each once, by subject then fingerprint.
fn current(entries: &[String]) -> Result<Vec<Ca>, ResourceError> {
    let mut cas = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let parsed = parse(entry).map_err(|reason| ResourceError::InvalidInput {
            property: PropertyPath::root().key("caCertificates").index(i),
            reason,
        })?;
        cas.extend(parsed);
    }
    cas.sort_by(|a, b| (&a.subject, &a.fingerprint).cmp(&(&b.subject, &b.fingerprint)));
    cas.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    Ok(cas)
}

fn overlap_seconds(inputs: &CaBundleInputs) -> i64 {
    let text = match &inputs.overlap {
        Some(Value::Known(text)) => text.as_str(),
        _ => DEFAULT_OVERLAP,
    };
    duration_seconds(text).unwrap_or(24 * 3600)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Whether a retired CA's overlap has ended at `now` (an unreadable time counts as ended).
fn overlap_ended(retired: &RetiredCa, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(&retired.drop_after, &Rfc3339).map_or(true, |end| end <= now)
}

/// The bundle for `cas` in use and `retired` in their overlap.
fn outputs(inputs: CaBundleInputs, cas: &[Ca], retired: Vec<RetiredCa>) -> CaBundleOutputs {
    let mut pem = String::new();
    let mut fingerprints = Vec::new();
    for (fingerprint, text) in cas
        .iter()
        .map(|c| (&c.fingerprint, &c.pem))
        .chain(retired.iter().map(|r| (&r.fingerprint, &r.cert_pem)))
    {
        pem.push_str(text.trim_end());
        pem.push('\n');
        fingerprints.push(fingerprint.clone());
    }
    let checksum = hex::encode(Sha256::digest(pem.as_bytes()));
    CaBundleOutputs {
        inputs,
        bundle_pem: Value::Known(pem),
        fingerprints: Value::Known(fingerprints),
        retired: Value::Known(retired),
        checksum: Value::Known(checksum),
    }
}

/// What the bundle becomes when `news` replace the CAs of `olds` at `now`: CAs taken out start
/// their overlap, retired CAs given again are back in use, ended overlaps are dropped.
fn next_retired(
    olds: &CaBundleOutputs,
    cas: &[Ca],
    overlap: i64,
    now: OffsetDateTime,
) -> Vec<RetiredCa> {
    let in_use = |fingerprint: &str| cas.iter().any(|c| c.fingerprint == fingerprint);
    let mut retired: Vec<RetiredCa> = olds
        .retired
        .known()
        .into_iter()
        .flatten()
        .filter(|r| !in_use(&r.fingerprint) && !overlap_ended(r, now))
        .cloned()
        .collect();
    let old_cas = match &olds.inputs.ca_certificates {
        Value::Known(entries) => current(entries).unwrap_or_default(),
        Value::Unknown => Vec::new(),
    };
    for ca in old_cas {
        if in_use(&ca.fingerprint) || retired.iter().any(|r| r.fingerprint == ca.fingerprint) {
            continue;
        }
        retired.push(RetiredCa {
            subject: ca.subject,
            fingerprint: ca.fingerprint,
            cert_pem: ca.pem,
            retired_at: rfc3339(now),
            drop_after: rfc3339(now + time::Duration::seconds(overlap)),
        });
    }
    retired.sort_by(|a, b| (&a.drop_after, &a.fingerprint).cmp(&(&b.drop_after, &b.fingerprint)));
    retired
}

impl Resource<ProviderConfig> for CaBundle {
    type Inputs = CaBundleInputs;
    type Outputs = CaBundleOutputs;
    const TOKEN: &'static str = "zerotrust:index:CaBundle";
    const DESCRIPTION: &'static str = include_str!("docs/ca_bundle.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, CaBundleInputs>,
        inputs: CaBundleInputs,
        failures: &mut Failures,
    ) -> CaBundleInputs {
        if let Value::Known(entries) = &inputs.ca_certificates {
            if entries.is_empty() {
                failures.at("caCertificates", "give at least one CA certificate");
            }
            for (i, entry) in entries.iter().enumerate() {
                if let Err(reason) = parse(entry) {
                    failures.add(
                        PropertyPath::root().key("caCertificates").index(i),
                        format!("not a PEM CA certificate: {reason}"),
                    );
                }
            }
        }
        if let Some(Value::Known(text)) = &inputs.overlap
            && let Err(reason) = duration_seconds(text)
        {
            failures.at("overlap", reason);
        }
        inputs
    }

    /// A retired CA whose overlap has ended is a change: the diff shows it leaving the bundle.
    fn diff_extra(&self, diff: &DiffInput<'_, CaBundleInputs, CaBundleOutputs>) -> Vec<ExtraDiff> {
        diff.olds
            .retired
            .known()
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, r)| overlap_ended(r, diff.now))
            .map(|(i, _)| ExtraDiff {
                property: PropertyPath::root().key("retired").index(i),
                replace: false,
            })
            .collect()
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: CaBundleInputs,
    ) -> Result<Created<CaBundleOutputs>, ResourceError> {
        let Value::Known(entries) = &inputs.ca_certificates else {
            return Ok(Created {
                id: String::new(),
                outputs: unknown_outputs(inputs),
            });
        };
        let cas = current(entries)?;
        // The bundle exists only in state; its id just needs to be stable and non-empty.
        let id = format!("{}-bundle", ctx.name());
        Ok(Created {
            id,
            outputs: outputs(inputs, &cas, Vec::new()),
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        olds: CaBundleOutputs,
        news: CaBundleInputs,
    ) -> Result<CaBundleOutputs, ResourceError> {
        let Value::Known(entries) = &news.ca_certificates else {
            return Ok(unknown_outputs(news));
        };
        let cas = current(entries)?;
        let retired = next_retired(&olds, &cas, overlap_seconds(&news), ctx.now());
        for gone in olds
            .retired
            .known()
            .into_iter()
            .flatten()
            .filter(|r| !retired.iter().any(|k| k.fingerprint == r.fingerprint))
        {
            ctx.info(format!(
                "{} left the bundle: its overlap ended at {}",
                gone.subject, gone.drop_after
            ));
        }
        Ok(outputs(news, &cas, retired))
    }
}

fn unknown_outputs(inputs: CaBundleInputs) -> CaBundleOutputs {
    CaBundleOutputs {
        inputs,
        bundle_pem: Value::Unknown,
        fingerprints: Value::Unknown,
        retired: Value::Unknown,
        checksum: Value::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{CertSpec, EcdsaCurve, IssueOptions, KeyAlgorithm, Subject};

    fn certificate(name: &str, is_ca: bool) -> String {
        let key = crate::pki::generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap();
        let key = crate::pki::parse_private_key(&key.private_key_pem).unwrap();
        let mut options = IssueOptions::new(24, OffsetDateTime::now_utc());
        options.is_ca = is_ca;
        let spec = CertSpec {
            subject: Subject {
                common_name: Some(name.into()),
                ..Subject::default()
            },
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            uris: Vec::new(),
            set_authority_key_id: false,
            options,
        };
        crate::pki::self_signed(&key, &spec).unwrap().cert_pem
    }

    fn inputs(cas: &[&str]) -> CaBundleInputs {
        CaBundleInputs {
            ca_certificates: Value::Known(cas.iter().map(|c| c.to_string()).collect()),
            overlap: Some(Value::Known("1h".into())),
        }
    }

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    #[test]
    fn the_same_ca_from_two_entries_is_trusted_once_in_a_stable_order() {
        let (a, b) = (certificate("alpha", true), certificate("bravo", true));
        let both = format!("{b}{a}");
        let cas = current(&[both, a.clone()]).unwrap();
        assert_eq!(cas.len(), 2);
        assert_eq!(cas[0].subject, "CN=alpha");
        let reversed = current(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(cas, reversed, "order does not depend on the order given");
        let out = outputs(inputs(&[&a, &b]), &cas, Vec::new());
        assert_eq!(
            out.bundle_pem
                .known()
                .unwrap()
                .matches("BEGIN CERTIFICATE")
                .count(),
            2
        );
    }

    #[test]
    fn a_removed_ca_is_kept_for_the_overlap_then_dropped() {
        let (old, new) = (certificate("old-root", true), certificate("new-root", true));
        let t0 = at("2026-12-01T00:00:00Z");
        let before = outputs(
            inputs(&[&old]),
            &current(std::slice::from_ref(&old)).unwrap(),
            Vec::new(),
        );

        // Rotation: the old root starts its hour of overlap.
        let cas = current(std::slice::from_ref(&new)).unwrap();
        let retired = next_retired(&before, &cas, 3600, t0);
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].subject, "CN=old-root");
        assert_eq!(retired[0].drop_after, "2026-12-01T01:00:00Z");
        let during = outputs(inputs(&[&new]), &cas, retired);
        assert_eq!(during.fingerprints.known().unwrap().len(), 2);
        assert!(
            during
                .bundle_pem
                .known()
                .unwrap()
                .starts_with(new.trim_end())
        );

        // Within the overlap nothing is due; after it, the diff names the retired entry.
        let diff_at = |now| {
            CaBundle
                .diff_extra(&DiffInput {
                    olds: &during,
                    old_inputs: None,
                    news: &inputs(&[&new]),
                    now,
                })
                .into_iter()
                .map(|d| d.property.to_string())
                .collect::<Vec<_>>()
        };
        assert!(diff_at(at("2026-12-01T00:59:59Z")).is_empty());
        assert_eq!(diff_at(at("2026-12-01T01:00:00Z")), vec!["retired[0]"]);

        let after = next_retired(&during, &cas, 3600, at("2026-12-01T01:00:01Z"));
        assert!(after.is_empty());
        let dropped = outputs(inputs(&[&new]), &cas, after);
        assert_eq!(dropped.fingerprints.known().unwrap().len(), 1);
        assert_ne!(dropped.checksum, during.checksum);
    }

    #[test]
    fn a_retired_ca_given_again_is_back_in_use() {
        let (old, new) = (certificate("old-root", true), certificate("new-root", true));
        let t0 = at("2026-12-01T00:00:00Z");
        let before = outputs(
            inputs(&[&old]),
            &current(std::slice::from_ref(&old)).unwrap(),
            Vec::new(),
        );
        let cas = current(std::slice::from_ref(&new)).unwrap();
        let during = outputs(inputs(&[&new]), &cas, next_retired(&before, &cas, 3600, t0));
        let both = current(&[new.clone(), old.clone()]).unwrap();
        assert!(next_retired(&during, &both, 3600, t0).is_empty());
    }

    #[test]
    fn check_refuses_leaves_garbage_and_bad_overlaps_at_their_paths() {
        let mut failures = Failures::default();
        let ctx = CheckCtx {
            name: "b",
            random_seed: &[],
            olds: None,
        };
        let leaf = certificate("leaf", false);
        let ca = certificate("ca", true);
        let bad = CaBundleInputs {
            ca_certificates: Value::Known(vec![ca, leaf, "junk".into()]),
            overlap: Some(Value::Known("soon".into())),
        };
        CaBundle.check(&ctx, bad, &mut failures);
        let paths: Vec<String> = failures
            .into_vec()
            .into_iter()
            .map(|f| f.property.to_string())
            .collect();
        assert_eq!(
            paths,
            vec!["caCertificates[1]", "caCertificates[2]", "overlap"]
        );
    }
}
