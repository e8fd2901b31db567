//! Bounded fuzzing of the decoders that read what users and the engine send: PEM private keys
//! (PKCS#1, SEC1, PKCS#8), OpenSSH private keys, certificates, certificate requests, and the
//! protobuf Struct the engine sends properties in. Each target runs arbitrary bytes and
//! mutations of valid inputs (bit flips, truncations, insertions, splices, re-framed bodies)
//! for a time budget and asserts: no panic, and an error that does not echo the input.
//!
//! `ZT_FUZZ_SECONDS` is each target's budget (default 6: the suite's share stays near 30 s on
//! two cores); `scripts/fuzz.sh` runs the same targets for longer. A planted bug (a parser that
//! trusts a DER length, test-only) shows the harness finds what it is meant to find.

#[path = "support/report.rs"]
mod report;
use report::report;

use base64::Engine as _;
use prost::Message;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};
use time::macros::datetime;
use zerotrust::codec::decode_struct;
use zerotrust::pki::{
    CertSpec, EcdsaCurve, IssueOptions, KeyAlgorithm, Subject, cert_info, create_csr, csr_info,
    generate_key, parse_private_key, self_signed,
};

fn budget() -> Duration {
    let seconds = std::env::var("ZT_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(6.0);
    Duration::from_secs_f64(seconds)
}

/// xorshift64*: seeded, so a finding can be replayed from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What a run of a target found.
#[derive(Debug)]
enum Finding {
    Panic { input: Vec<u8>, message: String },
    Echo { input: Vec<u8>, error: String },
}

/// A target reads bytes and answers with an error text, or Ok.
type Parse = fn(&[u8]) -> Result<(), String>;
/// Whether an error text gives away what it must not (see [`echoes`], [`echoes_values`]).
type Echo = fn(&[u8], &str) -> bool;

/// A parser of text run on bytes, as a user's input arrives: its error as text.
fn text<T, E: std::fmt::Display>(
    bytes: &[u8],
    parse: fn(&str) -> Result<T, E>,
) -> Result<(), String> {
    parse(&String::from_utf8_lossy(bytes))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The PEM body of a block, or the bytes themselves.
fn der_of(input: &[u8]) -> Vec<u8> {
    pem::parse(input)
        .map(|p| p.contents().to_vec())
        .unwrap_or_else(|_| input.to_vec())
}

/// Re-frames `der` as a PEM block labelled like `like`'s first block.
fn reframe(like: &[u8], der: &[u8]) -> Vec<u8> {
    let tag = pem::parse(like)
        .map(|p| p.tag().to_string())
        .unwrap_or_else(|_| "CERTIFICATE".into());
    pem::encode(&pem::Pem::new(tag, der.to_vec())).into_bytes()
}

/// One input: a seed mutated at the DER level (most parsers' real input) or the text level,
/// a splice of two seeds, or random bytes.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], pem_seeds: bool) -> Vec<u8> {
    let seed = &seeds[rng.below(seeds.len())];
    let mut bytes = if pem_seeds && rng.below(4) != 0 {
        der_of(seed)
    } else {
        seed.clone()
    };
    match rng.below(6) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                if !bytes.is_empty() {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
            }
        }
        1 => {
            let cut = rng.below(bytes.len() + 1);
            bytes.truncate(cut);
        }
        2 => {
            let at = rng.below(bytes.len() + 1);
            let extra: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
            bytes.splice(at..at, extra);
        }
        3 => {
            if !bytes.is_empty() {
                let from = rng.below(bytes.len());
                let to = (from + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(from..to);
            }
        }
        4 => {
            let other = der_of(&seeds[rng.below(seeds.len())]);
            let cut = rng.below(bytes.len() + 1);
            let from = rng.below(other.len() + 1);
            bytes.truncate(cut);
            bytes.extend_from_slice(&other[from..]);
        }
        _ => {
            let len = rng.below(300);
            bytes = (0..len).map(|_| rng.next() as u8).collect();
        }
    }
    if pem_seeds && rng.below(4) != 0 {
        reframe(seed, &bytes)
    } else {
        bytes
    }
}

/// Whether `error` quotes a long run of `input`: a key's body, a token. Short runs (a label,
/// a word) are fine to name.
fn echoes(input: &[u8], error: &str) -> bool {
    let text = String::from_utf8_lossy(input);
    let encoded = base64::engine::general_purpose::STANDARD.encode(der_of(input));
    text.lines()
        .map(str::trim)
        .chain(std::iter::once(encoded.as_str()))
        .filter(|l| !l.starts_with("-----"))
        .filter_map(|l| l.char_indices().nth(24).map(|(end, _)| &l[..end]))
        .any(|run| error.contains(run))
}

/// For the engine's Structs, whose errors name the property path and an unsupported signature
/// by design: whether the error quotes any other string value (a secret, say) of eight
/// characters or more.
fn echoes_values(input: &[u8], error: &str) -> bool {
    fn strings(v: &prost_types::Value, out: &mut Vec<String>) {
        use prost_types::value::Kind;
        match &v.kind {
            Some(Kind::StringValue(s)) => out.push(s.clone()),
            Some(Kind::ListValue(l)) => l.values.iter().for_each(|v| strings(v, out)),
            Some(Kind::StructValue(s)) => s.fields.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let Ok(s) = prost_types::Struct::decode(input) else {
        return false;
    };
    let mut values = Vec::new();
    s.fields.values().for_each(|v| strings(v, &mut values));
    let signature = |v: &str| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit());
    values
        .iter()
        .filter(|v| v.chars().count() >= 8 && !signature(v))
        .any(|v| error.contains(v.as_str()))
}

/// Runs `parse` on mutated seeds until `budget` is spent; returns the case count, or the first
/// finding.
fn fuzz(
    name: &str,
    parse: Parse,
    echo: Echo,
    seeds: &[Vec<u8>],
    pem_seeds: bool,
    budget: Duration,
    seed: u64,
) -> Result<u64, Finding> {
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut cases = 0u64;
    // The seeds themselves first, then mutations.
    let mut queue: Vec<Vec<u8>> = seeds.to_vec();
    while start.elapsed() < budget {
        let input = queue
            .pop()
            .unwrap_or_else(|| mutate(&mut rng, seeds, pem_seeds));
        cases += 1;
        match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                if echo(&input, &error) {
                    return Err(Finding::Echo { input, error });
                }
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(Finding::Panic { input, message });
            }
        }
    }
    report(&format!(
        "fuzz {name}: {cases} cases in {:.1}s, no panic, no echo",
        start.elapsed().as_secs_f64()
    ));
    Ok(cases)
}

fn run(name: &str, parse: Parse, echo: Echo, seeds: Vec<Vec<u8>>, pem_seeds: bool) {
    let seed = 0x5eed_0000 ^ name.len() as u64;
    match fuzz(name, parse, echo, &seeds, pem_seeds, budget(), seed) {
        Ok(cases) => assert!(cases > 0),
        Err(Finding::Panic { input, message }) => panic!(
            "fuzz {name} (seed {seed:#x}): panic {message:?} on input {:?}",
            String::from_utf8_lossy(&input)
        ),
        Err(Finding::Echo { input, error }) => panic!(
            "fuzz {name} (seed {seed:#x}): the error {error:?} quotes the input {:?}",
            String::from_utf8_lossy(&input)
        ),
    }
}

fn keys() -> Vec<zerotrust::pki::KeyMaterial> {
    [
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
        KeyAlgorithm::Ecdsa(EcdsaCurve::P384),
        KeyAlgorithm::Rsa { bits: 2048 },
    ]
    .into_iter()
    .map(|a| generate_key(a).expect("key"))
    .collect()
}

fn subject() -> Subject {
    Subject {
        common_name: Some("fuzz".into()),
        ..Default::default()
    }
}

#[test]
fn pem_private_keys() {
    let seeds = keys()
        .iter()
        .flat_map(|k| [k.private_key_pem.clone(), k.private_key_pem_pkcs8.clone()])
        .map(String::into_bytes)
        .collect();
    run(
        "PEM private keys",
        |b| text(b, parse_private_key),
        echoes,
        seeds,
        true,
    );
}

#[test]
fn openssh_private_keys() {
    let seeds = keys()
        .iter()
        .map(|k| k.private_key_openssh.clone().into_bytes())
        .collect();
    run(
        "OpenSSH private keys",
        |b| text(b, parse_private_key),
        echoes,
        seeds,
        true,
    );
}

#[test]
fn certificates() {
    let mut options = IssueOptions::new(24, datetime!(2026-01-02 03:04:05 UTC));
    options.is_ca = true;
    let seeds = keys()
        .iter()
        .map(|k| {
            let key = parse_private_key(&k.private_key_pem).expect("own key");
            let spec = CertSpec {
                subject: subject(),
                dns_names: vec!["a.example".into(), "*.b.example".into()],
                ip_addresses: vec!["10.0.0.1".parse().expect("ip")],
                uris: vec!["spiffe://cluster.local/ns/ml/sa/x".into()],
                set_authority_key_id: true,
                options: options.clone(),
            };
            self_signed(&key, &spec)
                .expect("cert")
                .cert_pem
                .into_bytes()
        })
        .collect();
    run("certificates", |b| text(b, cert_info), echoes, seeds, true);
}

#[test]
fn certificate_requests() {
    let seeds = keys()
        .iter()
        .map(|k| {
            let key = parse_private_key(&k.private_key_pem).expect("own key");
            create_csr(&key, &subject(), &["a.example".into()], &[], &[])
                .expect("csr")
                .csr_pem
                .into_bytes()
        })
        .collect();
    run(
        "certificate requests",
        |b| text(b, csr_info),
        echoes,
        seeds,
        true,
    );
}

/// A request every constrained CA below is asked to sign.
fn request_pem() -> &'static str {
    static CSR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSR.get_or_init(|| {
        let k = generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).expect("key");
        let key = parse_private_key(&k.private_key_pem).expect("own key");
        let ips = ["10.1.2.3".parse().expect("ip")];
        let uris = ["spiffe://cluster.local/x".to_string()];
        create_csr(&key, &subject(), &["a.ml.internal".into()], &ips, &uris)
            .expect("csr")
            .csr_pem
    })
}

/// CA certificates with name constraints and revocation pointers, as signing reads them: their
/// constraints decide what may be signed, so damaged ones must fail cleanly.
#[test]
fn constrained_ca_certificates() {
    use zerotrust::pki::{NameConstraints, Pointers, parse_ip_subtree};
    let mut options = IssueOptions::new(24, datetime!(2026-01-02 03:04:05 UTC));
    options.is_ca = true;
    options.max_path_length = Some(1);
    options.name_constraints = Some(NameConstraints {
        permitted_dns: vec!["ml.internal".into()],
        excluded_dns: vec!["admin.ml.internal".into()],
        permitted_ip: vec![parse_ip_subtree("10.0.0.0/8").expect("range")],
        excluded_ip: vec![parse_ip_subtree("fd00::/8").expect("range")],
        permitted_email: vec![".ml.internal".into()],
        excluded_email: vec!["root@ml.internal".into()],
        permitted_uri: vec!["cluster.local".into()],
        excluded_uri: vec![".evil.local".into()],
    });
    options.pointers = Pointers {
        crl_distribution_points: vec!["http://pki.ml.internal/ca.crl".into()],
        ocsp_servers: vec!["http://ocsp.ml.internal".into()],
        issuing_certificate_urls: vec!["http://pki.ml.internal/ca.crt".into()],
    };
    let seeds = keys()
        .iter()
        .map(|k| {
            let key = parse_private_key(&k.private_key_pem).expect("own key");
            let spec = CertSpec {
                subject: subject(),
                dns_names: vec![],
                ip_addresses: vec![],
                uris: vec![],
                set_authority_key_id: true,
                options: options.clone(),
            };
            self_signed(&key, &spec)
                .expect("cert")
                .cert_pem
                .into_bytes()
        })
        .collect();
    run(
        "constrained CA certificates",
        |b| {
            let pem = String::from_utf8_lossy(b);
            zerotrust::pki::signing_refusals(request_pem(), &pem, true, Some(0))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        echoes,
        seeds,
        true,
    );
}

/// Name-constraint subtrees and revoked serial numbers are what users type, not secrets:
/// their errors quote them on purpose, so only panics count here.
#[test]
fn subtrees_and_serials() {
    use zerotrust::pki::{
        parse_dns_subtree, parse_email_subtree, parse_ip_subtree, parse_serial, parse_uri_subtree,
    };
    let seeds = [
        "ml.internal",
        ".ml.internal",
        "10.0.0.0/8",
        "fd00::/8",
        "ops@ml.internal",
        "cluster.local",
        "0a:1b:2c",
        "0x00ff",
        "123456789012345678901234567890",
    ]
    .map(|s| s.as_bytes().to_vec())
    .to_vec();
    run(
        "subtrees and serials",
        |b| {
            let t = String::from_utf8_lossy(b);
            let _ = parse_dns_subtree(&t);
            let _ = parse_email_subtree(&t);
            let _ = parse_uri_subtree(&t);
            let _ = parse_serial(&t);
            parse_ip_subtree(&t).map(|_| ())
        },
        |_, _| false,
        seeds,
        false,
    );
}

#[test]
fn protobuf_structs() {
    use zerotrust::codec::{PropertyValue, UnknownKind, encode_map};
    let map = [
        ("name".to_string(), PropertyValue::string("x")),
        (
            "secret".to_string(),
            PropertyValue::secret(PropertyValue::string("s3cr3t-value-never-shown")),
        ),
        (
            "later".to_string(),
            PropertyValue::Unknown(UnknownKind::ALL[0]),
        ),
        (
            "list".to_string(),
            PropertyValue::Array(vec![PropertyValue::Number(1.0), PropertyValue::Bool(true)]),
        ),
    ]
    .into_iter()
    .collect();
    let seeds = vec![encode_map(&map).encode_to_vec()];
    run(
        "protobuf Structs",
        |b| match prost_types::Struct::decode(b) {
            Ok(s) => decode_struct(Some(&s))
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        echoes_values,
        seeds,
        false,
    );
}

/// A parser with the classic bug: it trusts the length in a DER header.
fn planted_parser(input: &[u8]) -> Result<(), String> {
    let der = der_of(input);
    if der.len() < 4 || der[0] != 0x30 || der[1] != 0x82 {
        return Err("not a long-form DER sequence".into());
    }
    let declared = usize::from(der[2]) << 8 | usize::from(der[3]);
    let body = &der[4..4 + declared];
    if body.is_empty() {
        return Err("empty".into());
    }
    Ok(())
}

#[test]
fn a_planted_panic_is_found() {
    let key = parse_private_key(&keys()[1].private_key_pem).expect("own key");
    let mut options = IssueOptions::new(24, datetime!(2026-01-02 03:04:05 UTC));
    options.is_ca = true;
    let spec = CertSpec {
        subject: subject(),
        dns_names: vec![],
        ip_addresses: vec![],
        uris: vec![],
        set_authority_key_id: false,
        options,
    };
    let cert = self_signed(&key, &spec)
        .expect("cert")
        .cert_pem
        .into_bytes();
    let found = fuzz(
        "planted",
        planted_parser,
        echoes,
        &[cert],
        true,
        Duration::from_secs(5),
        7,
    );
    match found {
        Err(Finding::Panic { message, .. }) => {
            assert!(message.contains("out of range"), "{message}");
        }
        other => panic!("the planted out-of-range slice was not found: {other:?}"),
    }
}
