//! Name constraints, path length, CRLs and revocation pointers, checked with `openssl`: what
//! we write is what openssl reads, what we refuse to sign is what openssl refuses to verify, and
//! a CRL we sign makes `openssl verify -crl_check` refuse exactly the revoked certificates.
//!
//! A missing `openssl` fails the tests (scripts/setup.sh --test installs it).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use num_bigint::BigUint;
use proptest::prelude::*;
use time::OffsetDateTime;
use zerotrust::pki::{
    AllowedUse, CertSpec, CrlSpec, EcdsaCurve, IssueOptions, IssuedCert, KeyAlgorithm,
    NameConstraints, ParsedKey, PkiError, Pointers, RevocationReason, Revoked, Subject, create_csr,
    generate_key, locally_signed, parse_ip_subtree, parse_private_key, self_signed, sign_crl,
    signing_refusals,
};

struct Out {
    ok: bool,
    text: String,
}

fn run(tool: &str, args: &[&str]) -> Out {
    let o = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} cannot run ({e}); scripts/setup.sh --test installs it"));
    Out {
        ok: o.status.success(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

fn run_ok(tool: &str, args: &[&str]) -> String {
    let o = run(tool, args);
    assert!(o.ok, "{tool} {args:?} failed: {}", o.text);
    o.text
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, content).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn subject(cn: &str) -> Subject {
    Subject {
        common_name: Some(cn.into()),
        organization: Some("Zerotrust".into()),
        ..Default::default()
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A key and its PEM (what openssl is given as `-CAkey`).
fn new_key(alg: KeyAlgorithm) -> (ParsedKey, String) {
    let m = generate_key(alg).unwrap();
    (
        parse_private_key(&m.private_key_pem).unwrap(),
        m.private_key_pem,
    )
}

fn ca_options(nc: Option<NameConstraints>, path_len: Option<i64>) -> IssueOptions {
    let mut o = IssueOptions::new(24, now());
    o.backdate_minutes = 5;
    o.is_ca = true;
    o.max_path_length = path_len;
    o.name_constraints = nc;
    o.allowed_uses = vec![
        AllowedUse::CertSigning,
        AllowedUse::CrlSigning,
        AllowedUse::DigitalSignature,
    ];
    o
}

fn leaf_options() -> IssueOptions {
    let mut o = IssueOptions::new(24, now());
    o.backdate_minutes = 5;
    o.allowed_uses = vec![
        AllowedUse::DigitalSignature,
        AllowedUse::ServerAuth,
        AllowedUse::ClientAuth,
    ];
    o
}

fn root_ca(alg: KeyAlgorithm, nc: Option<NameConstraints>) -> (IssuedCert, ParsedKey, String) {
    let (key, pem) = new_key(alg);
    let cert = self_signed(
        &key,
        &CertSpec {
            subject: subject("Constrained Root"),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: true,
            options: ca_options(nc, None),
        },
    )
    .unwrap();
    (cert, key, pem)
}

fn ml_constraints() -> NameConstraints {
    NameConstraints {
        permitted_dns: vec!["ml.internal".into()],
        excluded_dns: vec!["admin.ml.internal".into()],
        permitted_ip: vec![parse_ip_subtree("10.0.0.0/8").unwrap()],
        excluded_ip: vec![parse_ip_subtree("10.99.0.0/16").unwrap()],
        permitted_email: vec!["ml.internal".into()],
        excluded_email: vec![],
        permitted_uri: vec!["cluster.local".into()],
        excluded_uri: vec!["evil.cluster.local".into()],
    }
}

/// What openssl makes of a request signed without any checks of ours: `openssl x509 -req`
/// copies its extensions, then `openssl verify` judges the chain.
fn openssl_accepts(dir: &Path, csr_pem: &str, ca_pem: &str, ca_key_pem: &str) -> (bool, String) {
    let csr = write(dir, "any.csr", csr_pem);
    let ca = write(dir, "ca.pem", ca_pem);
    let key = write(dir, "ca.key", ca_key_pem);
    let cert = dir.join("any.pem");
    run_ok(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            s(&csr),
            "-CA",
            s(&ca),
            "-CAkey",
            s(&key),
            "-copy_extensions",
            "copy",
            "-days",
            "1",
            "-set_serial",
            "7",
            "-out",
            s(&cert),
        ],
    );
    let out = run("openssl", &["verify", "-CAfile", s(&ca), s(&cert)]);
    (out.ok, out.text)
}

#[test]
fn name_constraints_are_written_as_openssl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _, _) = root_ca(
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
        Some(ml_constraints()),
    );
    let p = write(dir.path(), "root.pem", &root.cert_pem);
    let text = run_ok("openssl", &["x509", "-in", s(&p), "-noout", "-text"]);
    let want = [
        "X509v3 Name Constraints: critical",
        "Permitted:",
        "DNS:ml.internal",
        "IP:10.0.0.0/255.0.0.0",
        "email:ml.internal",
        "URI:cluster.local",
        "Excluded:",
        "DNS:admin.ml.internal",
        "IP:10.99.0.0/255.255.0.0",
        "URI:evil.cluster.local",
    ];
    for w in want {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
    let permitted = text.find("Permitted:").unwrap();
    let excluded = text.find("Excluded:").unwrap();
    assert!(text.find("DNS:admin.ml.internal").unwrap() > excluded);
    assert!(text.find("DNS:ml.internal").unwrap() > permitted);

    // A leaf certificate may not carry name constraints.
    let (leaf_key, _) = new_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
    let mut o = leaf_options();
    o.name_constraints = Some(ml_constraints());
    let spec = CertSpec {
        subject: subject("leaf"),
        dns_names: vec![],
        ip_addresses: vec![],
        uris: vec![],
        set_authority_key_id: false,
        options: o,
    };
    assert!(self_signed(&leaf_key, &spec).is_err());
}

/// A request's DNS names, IPs, URIs and subject, the name refused and the constraint named.
type Violation = (
    Vec<String>,
    Vec<std::net::IpAddr>,
    Vec<String>,
    Subject,
    &'static str,
    &'static str,
);

#[test]
fn names_outside_the_constraints_are_never_signed_and_openssl_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for alg in [
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
        KeyAlgorithm::Rsa { bits: 2048 },
        KeyAlgorithm::Ed25519,
    ] {
        let (root, root_key, root_key_pem) = root_ca(alg, Some(ml_constraints()));
        let (leaf_key, _) = new_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
        let spiffe = "spiffe://cluster.local/ns/ml/sa/trainer".to_string();
        let ips = ["10.1.2.3".parse().unwrap()];

        // Inside: signed, and openssl verifies the chain.
        let good = create_csr(
            &leaf_key,
            &subject("trainer"),
            &["trainer.ml.internal".into()],
            &ips,
            std::slice::from_ref(&spiffe),
        )
        .unwrap();
        let leaf = locally_signed(&good.csr_pem, &root.cert_pem, &root_key, &leaf_options())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        let ca_p = write(d, "ca.pem", &root.cert_pem);
        let leaf_p = write(d, "leaf.pem", &leaf.cert_pem);
        run_ok("openssl", &["verify", "-CAfile", s(&ca_p), s(&leaf_p)]);

        // Each kind of violation: refused by us with the name and the constraint, and the same
        // request signed by openssl without checks fails openssl's verification.
        let cases: Vec<Violation> = vec![
            (
                vec!["x.admin.ml.internal".into()],
                vec![],
                vec![],
                subject("a"),
                "x.admin.ml.internal",
                "excluded DNS subtree \"admin.ml.internal\"",
            ),
            (
                vec!["trainer.example.com".into()],
                vec![],
                vec![],
                subject("a"),
                "trainer.example.com",
                "permitted DNS",
            ),
            (
                vec![],
                vec!["10.99.1.1".parse().unwrap()],
                vec![],
                subject("a"),
                "10.99.1.1",
                "excluded IP subtree 10.99.0.0/16",
            ),
            (
                vec![],
                vec!["192.168.0.1".parse().unwrap()],
                vec![],
                subject("a"),
                "192.168.0.1",
                "permitted IP",
            ),
            (
                vec![],
                vec![],
                vec!["spiffe://evil.cluster.local/x".into()],
                subject("a"),
                "spiffe://evil.cluster.local/x",
                "excluded URI subtree",
            ),
            (
                vec![],
                vec![],
                vec![],
                subject("host.example.com"),
                "host.example.com",
                "subject common name",
            ),
            (
                vec![],
                vec![],
                vec![],
                Subject {
                    email_address: Some("ops@example.com".into()),
                    ..subject("a")
                },
                "ops@example.com",
                "permitted email",
            ),
        ];
        for (dns, ip, uris, subj, name, constraint) in cases {
            let csr = create_csr(&leaf_key, &subj, &dns, &ip, &uris).unwrap();
            let err = locally_signed(&csr.csr_pem, &root.cert_pem, &root_key, &leaf_options())
                .unwrap_err();
            assert!(matches!(err, PkiError::Refused(_)), "{alg} {name}: {err}");
            let msg = err.to_string();
            assert!(
                msg.contains(name) && msg.contains(constraint),
                "{alg}: {msg}"
            );
            let refusals = signing_refusals(&csr.csr_pem, &root.cert_pem, false, None).unwrap();
            assert_eq!(refusals.names.len(), 1, "{alg} {name}: {refusals}");
            let (accepted, text) = openssl_accepts(d, &csr.csr_pem, &root.cert_pem, &root_key_pem);
            assert!(!accepted, "{alg}: openssl accepted {name}: {text}");
            assert!(
                text.contains("subtree violation") || text.contains("name constraints"),
                "{alg} {name}: {text}"
            );
        }
    }
}

/// An intermediate CA can carry constraints of its own (LocallySignedCert with
/// isCaCertificate): they are written into it and enforced when it signs.
#[test]
fn a_constrained_intermediate_enforces_its_own_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alg = KeyAlgorithm::Ecdsa(EcdsaCurve::P256);
    let (root, root_key, _) = root_ca(alg, None);
    let (inter_key, inter_key_pem) = new_key(alg);
    let csr = create_csr(&inter_key, &subject("Feature Store CA"), &[], &[], &[]).unwrap();
    let only_features = NameConstraints {
        permitted_dns: vec![".features.ml.internal".into()],
        permitted_uri: vec!["cluster.local".into()],
        ..Default::default()
    };
    let inter = locally_signed(
        &csr.csr_pem,
        &root.cert_pem,
        &root_key,
        &ca_options(Some(only_features), Some(0)),
    )
    .unwrap();
    let root_p = write(d, "root.pem", &root.cert_pem);
    let inter_p = write(d, "inter.pem", &inter.cert_pem);
    let text = run_ok("openssl", &["x509", "-in", s(&inter_p), "-noout", "-text"]);
    assert!(text.contains("X509v3 Name Constraints: critical"), "{text}");
    assert!(text.contains("DNS:.features.ml.internal"), "{text}");

    let (leaf_key, _) = new_key(alg);
    let inside = create_csr(
        &leaf_key,
        &subject("online"),
        &["online.features.ml.internal".into()],
        &[],
        &["spiffe://cluster.local/ns/ml/sa/online".into()],
    )
    .unwrap();
    let leaf = locally_signed(
        &inside.csr_pem,
        &inter.cert_pem,
        &inter_key,
        &leaf_options(),
    )
    .unwrap();
    let leaf_p = write(d, "leaf.pem", &leaf.cert_pem);
    run_ok(
        "openssl",
        &[
            "verify",
            "-CAfile",
            s(&root_p),
            "-untrusted",
            s(&inter_p),
            s(&leaf_p),
        ],
    );

    // The bare domain is outside `.features.ml.internal`: refused by us, and by openssl when
    // signed anyway.
    let outside = create_csr(
        &leaf_key,
        &subject("x"),
        &["features.ml.internal".into()],
        &[],
        &[],
    )
    .unwrap();
    let err = locally_signed(
        &outside.csr_pem,
        &inter.cert_pem,
        &inter_key,
        &leaf_options(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("features.ml.internal") && err.contains("permitted DNS"),
        "{err}"
    );
    let csr_p = write(d, "out.csr", &outside.csr_pem);
    let key_p = write(d, "inter.key", &inter_key_pem);
    let forced = d.join("forced.pem");
    run_ok(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            s(&csr_p),
            "-CA",
            s(&inter_p),
            "-CAkey",
            s(&key_p),
            "-copy_extensions",
            "copy",
            "-days",
            "1",
            "-set_serial",
            "11",
            "-out",
            s(&forced),
        ],
    );
    let out = run(
        "openssl",
        &[
            "verify",
            "-CAfile",
            s(&root_p),
            "-untrusted",
            s(&inter_p),
            s(&forced),
        ],
    );
    assert!(
        !out.ok && out.text.contains("subtree violation"),
        "{}",
        out.text
    );
}

#[test]
fn path_length_zero_signs_no_further_ca() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alg = KeyAlgorithm::Ecdsa(EcdsaCurve::P256);
    let (key, key_pem) = new_key(alg);
    let root = self_signed(
        &key,
        &CertSpec {
            subject: subject("Root pathlen 0"),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: true,
            options: ca_options(None, Some(0)),
        },
    )
    .unwrap();
    let (sub_key, _) = new_key(alg);
    let csr = create_csr(&sub_key, &subject("Sub CA"), &[], &[], &[]).unwrap();
    let err = locally_signed(&csr.csr_pem, &root.cert_pem, &key, &ca_options(None, None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("path length 0"), "{err}");
    // A leaf is still fine.
    locally_signed(&csr.csr_pem, &root.cert_pem, &key, &leaf_options()).unwrap();

    // A sub-CA openssl signs anyway cannot issue a leaf openssl accepts.
    let csr_p = write(d, "sub.csr", &csr.csr_pem);
    let ext = write(
        d,
        "ext.cnf",
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n",
    );
    let root_p = write(d, "root.pem", &root.cert_pem);
    let root_k = write(d, "root.key", &key_pem);
    let sub_p = d.join("sub.pem");
    run_ok(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            s(&csr_p),
            "-CA",
            s(&root_p),
            "-CAkey",
            s(&root_k),
            "-extfile",
            s(&ext),
            "-days",
            "1",
            "-set_serial",
            "9",
            "-out",
            s(&sub_p),
        ],
    );
    let sub_pem = fs::read_to_string(&sub_p).unwrap();
    let (leaf_key, _) = new_key(alg);
    let leaf_csr = create_csr(&leaf_key, &subject("leaf"), &[], &[], &[]).unwrap();
    let leaf = locally_signed(&leaf_csr.csr_pem, &sub_pem, &sub_key, &leaf_options()).unwrap();
    let leaf_p = write(d, "leaf.pem", &leaf.cert_pem);
    let out = run(
        "openssl",
        &[
            "verify",
            "-CAfile",
            s(&root_p),
            "-untrusted",
            s(&sub_p),
            s(&leaf_p),
        ],
    );
    assert!(
        !out.ok && out.text.contains("path length constraint exceeded"),
        "{}",
        out.text
    );

    // Under a path length of 2, a sub-CA may claim at most 1.
    let root2 = self_signed(
        &key,
        &CertSpec {
            subject: subject("Root pathlen 2"),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: true,
            options: ca_options(None, Some(2)),
        },
    )
    .unwrap();
    let err = locally_signed(
        &csr.csr_pem,
        &root2.cert_pem,
        &key,
        &ca_options(None, Some(2)),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("maxPathLength to at most 1, not 2"), "{err}");
    // Unlimited would let the sub-CA sign deeper than the root allows.
    let err = locally_signed(&csr.csr_pem, &root2.cert_pem, &key, &ca_options(None, None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not leave it unlimited"), "{err}");
    locally_signed(
        &csr.csr_pem,
        &root2.cert_pem,
        &key,
        &ca_options(None, Some(1)),
    )
    .unwrap();
}

#[test]
fn revocation_pointers_are_written_as_openssl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let (root, root_key, _) = root_ca(KeyAlgorithm::Ecdsa(EcdsaCurve::P256), None);
    let (leaf_key, _) = new_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
    let csr = create_csr(
        &leaf_key,
        &subject("svc"),
        &["svc.ml.internal".into()],
        &[],
        &[],
    )
    .unwrap();
    let mut o = leaf_options();
    o.pointers = Pointers {
        crl_distribution_points: vec![
            "http://pki.ml.internal/root.crl".into(),
            "ldap://ldap.ml.internal/cn=root".into(),
        ],
        ocsp_servers: vec!["http://ocsp.ml.internal".into()],
        issuing_certificate_urls: vec!["http://pki.ml.internal/root.crt".into()],
    };
    let leaf = locally_signed(&csr.csr_pem, &root.cert_pem, &root_key, &o).unwrap();
    let p = write(dir.path(), "leaf.pem", &leaf.cert_pem);
    let text = run_ok("openssl", &["x509", "-in", s(&p), "-noout", "-text"]);
    for w in [
        "X509v3 CRL Distribution Points:",
        "URI:http://pki.ml.internal/root.crl",
        "URI:ldap://ldap.ml.internal/cn=root",
        "Authority Information Access:",
        "OCSP - URI:http://ocsp.ml.internal",
        "CA Issuers - URI:http://pki.ml.internal/root.crt",
    ] {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
    // Neither extension is critical, and AIA comes before the SANs, as Go writes them.
    assert!(!text.contains("Distribution Points: critical"));
    assert!(
        text.find("Authority Information Access").unwrap()
            < text.find("Subject Alternative Name").unwrap()
    );
    let ocsp = run_ok("openssl", &["x509", "-in", s(&p), "-noout", "-ocsp_uri"]);
    assert_eq!(ocsp.trim(), "http://ocsp.ml.internal");
}

#[test]
fn crls_make_openssl_refuse_exactly_the_revoked_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for alg in [
        KeyAlgorithm::Ecdsa(EcdsaCurve::P384),
        KeyAlgorithm::Rsa { bits: 2048 },
        KeyAlgorithm::Ed25519,
    ] {
        let (root, root_key, _) = root_ca(alg, None);
        let mut leaves = Vec::new();
        for name in ["revoked", "kept"] {
            let (k, _) = new_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
            let csr = create_csr(
                &k,
                &subject(name),
                &[format!("{name}.ml.internal")],
                &[],
                &[],
            )
            .unwrap();
            leaves.push(
                locally_signed(&csr.csr_pem, &root.cert_pem, &root_key, &leaf_options()).unwrap(),
            );
        }
        let revoked_serial: BigUint = leaves[0].serial_decimal.parse().unwrap();
        let t = now().replace_nanosecond(0).unwrap();
        let crl = sign_crl(
            &root.cert_pem,
            &root_key,
            &CrlSpec {
                this_update: t - time::Duration::minutes(1),
                next_update: t + time::Duration::hours(24),
                number: 42,
                revoked: vec![
                    Revoked {
                        serial: revoked_serial.clone(),
                        revoked_at: t - time::Duration::minutes(2),
                        reason: RevocationReason::KeyCompromise,
                    },
                    Revoked {
                        serial: BigUint::from(1234u32),
                        revoked_at: t - time::Duration::minutes(2),
                        reason: RevocationReason::Unspecified,
                    },
                ],
            },
        )
        .unwrap();
        let ca_p = write(d, "ca.pem", &root.cert_pem);
        let crl_p = write(d, "crl.pem", &crl.pem);
        let text = run_ok(
            "openssl",
            &[
                "crl",
                "-in",
                s(&crl_p),
                "-noout",
                "-text",
                "-CAfile",
                s(&ca_p),
            ],
        );
        assert!(text.contains("verify OK"), "{alg}: {text}");
        assert!(
            text.contains("X509v3 CRL Number:") && text.contains("42"),
            "{text}"
        );
        assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
        assert!(text.contains("Key Compromise"), "{text}");
        let hex = format!("{:X}", revoked_serial);
        let hex = if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else {
            hex
        };
        assert!(text.to_uppercase().contains(&hex), "{hex} not in {text}");

        for (leaf, revoked) in [(&leaves[0], true), (&leaves[1], false)] {
            let p = write(d, "leaf.pem", &leaf.cert_pem);
            let out = run(
                "openssl",
                &[
                    "verify",
                    "-crl_check",
                    "-CAfile",
                    s(&ca_p),
                    "-CRLfile",
                    s(&crl_p),
                    s(&p),
                ],
            );
            assert_eq!(out.ok, !revoked, "{alg}: {}", out.text);
            if revoked {
                assert!(out.text.contains("certificate revoked"), "{}", out.text);
            }
        }
    }
}

/// Names built from a few labels, so that samples land inside, outside, on and around the
/// subtrees' edges.
fn dns_name() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "ml", "internal", "admin", "xml", "evil", "svc"]),
        1..=4,
    )
    .prop_map(|labels| labels.join("."))
}

fn ip_name() -> impl Strategy<Value = std::net::IpAddr> {
    (
        prop::sample::select(vec![10u8, 11, 192]),
        prop::sample::select(vec![0u8, 99, 100]),
        any::<u8>(),
    )
        .prop_map(|(a, b, c)| std::net::IpAddr::from([a, b, c, 1]))
}

fn uri_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "cluster.local",
        "evil.cluster.local",
        "a.cluster.local",
        "cluster.localhost",
        "other",
    ])
    .prop_map(|h| format!("spiffe://{h}/ns/ml/sa/x"))
}

fn dns_subtree() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "ml.internal",
        ".ml.internal",
        "internal",
        "admin.ml.internal",
        "a.ml.internal",
    ])
    .prop_map(str::to_string)
}

/// Our decision to sign equals openssl's verdict on the same request signed without checks;
/// when we sign, openssl verifies what we issued. Samples must land on both sides.
#[test]
fn our_signing_decision_matches_openssl_verification() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;
    // Every case runs openssl three times; a few dozen samples cover the edges above.
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let (signed, refused) = (Cell::new(0), Cell::new(0));
    let inputs = (
        prop::collection::vec(dns_subtree(), 0..=2),
        prop::collection::vec(dns_subtree(), 0..=1),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(dns_name(), 0..=2),
        prop::collection::vec(ip_name(), 0..=1),
        prop::collection::vec(uri_name(), 0..=1),
        // A host-like common name is checked as a DNS name when there are no DNS names.
        prop::sample::select(vec![
            "leaf",
            "db.ml.internal",
            "db.admin.ml.internal",
            "db.example",
        ]),
    );
    runner
        .run(
            &inputs,
            |(permitted_dns, excluded_dns, permit_ip, permit_uri, dns, ips, uris, cn)| {
                let nc = NameConstraints {
                    permitted_dns,
                    excluded_dns,
                    permitted_ip: if permit_ip {
                        vec![parse_ip_subtree("10.0.0.0/8").unwrap()]
                    } else {
                        vec![]
                    },
                    excluded_ip: vec![parse_ip_subtree("10.99.0.0/16").unwrap()],
                    permitted_uri: if permit_uri {
                        vec!["cluster.local".into()]
                    } else {
                        vec![]
                    },
                    excluded_uri: vec!["evil.cluster.local".into()],
                    ..Default::default()
                };
                let dir = tempfile::tempdir().unwrap();
                let (root, root_key, root_key_pem) =
                    root_ca(KeyAlgorithm::Ecdsa(EcdsaCurve::P256), Some(nc));
                let (leaf_key, _) = new_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256));
                let csr = create_csr(&leaf_key, &subject(cn), &dns, &ips, &uris).unwrap();
                let ours = locally_signed(&csr.csr_pem, &root.cert_pem, &root_key, &leaf_options());
                let (theirs, text) =
                    openssl_accepts(dir.path(), &csr.csr_pem, &root.cert_pem, &root_key_pem);
                prop_assert_eq!(
                    ours.is_ok(),
                    theirs,
                    "ours: {:?}; openssl: {}",
                    ours.as_ref().err(),
                    text
                );
                match ours {
                    Ok(leaf) => {
                        signed.set(signed.get() + 1);
                        let ca_p = write(dir.path(), "ca.pem", &root.cert_pem);
                        let leaf_p = write(dir.path(), "ours.pem", &leaf.cert_pem);
                        run_ok("openssl", &["verify", "-CAfile", s(&ca_p), s(&leaf_p)]);
                    }
                    Err(_) => refused.set(refused.get() + 1),
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(
        signed.get() >= 5 && refused.get() >= 5,
        "samples did not cover both sides: {} signed, {} refused",
        signed.get(),
        refused.get()
    );
}
