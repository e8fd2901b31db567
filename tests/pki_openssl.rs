//! Integration tests for `zerotrust::pki` that check outputs with the `openssl` and `ssh-keygen`
//! tools: key formats, fingerprints, certificate chains, extensions, requests.
//!
//! A missing tool fails the test that needs it (scripts/setup.sh --test installs both): a check
//! that passes because it never ran proves nothing.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use time::macros::datetime;
use zerotrust::pki::{
    AllowedUse, CertSpec, EcdsaCurve, IssueOptions, IssuedCert, KeyAlgorithm, KeyMaterial,
    ParsedKey, Subject, cert_info, create_csr, csr_info, generate_key, locally_signed,
    parse_private_key, self_signed, state_hash,
};

const ALGS: [KeyAlgorithm; 5] = [
    KeyAlgorithm::Rsa { bits: 2048 },
    KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
    KeyAlgorithm::Ecdsa(EcdsaCurve::P384),
    KeyAlgorithm::Ecdsa(EcdsaCurve::P521),
    KeyAlgorithm::Ed25519,
];

/// 2026-03-04T06:00:00Z, inside every validity window below (they start 2026-03-04T05:06:07Z).
const ATTIME: &str = "1772604000";

const SPIFFE: &str = "spiffe://cluster.local/ns/ml/sa/trainer";

fn require(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed; scripts/setup.sh --test installs it"
    );
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run(tool: &str, args: &[&str]) -> Out {
    let o = Command::new(tool).args(args).output().unwrap();
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn run_ok(tool: &str, args: &[&str]) -> String {
    let o = run(tool, args);
    assert!(o.ok, "{tool} {args:?} failed: {}{}", o.stdout, o.stderr);
    o.stdout
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
        country: Some("US".into()),
        ..Default::default()
    }
}

fn options(hours: i64) -> IssueOptions {
    IssueOptions::new(hours, datetime!(2026-03-04 05:06:07 UTC))
}

fn ca_options(path_len: Option<i64>) -> IssueOptions {
    let mut o = options(24 * 365);
    o.is_ca = true;
    o.max_path_length = path_len;
    o.allowed_uses = vec![
        AllowedUse::CertSigning,
        AllowedUse::CrlSigning,
        AllowedUse::DigitalSignature,
    ];
    o
}

fn key_of(m: &KeyMaterial) -> ParsedKey {
    parse_private_key(&m.private_key_pem).unwrap()
}

#[test]
fn key_formats_parse_with_openssl() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let m = generate_key(alg).unwrap();
        let trad = write(dir.path(), "trad.pem", &m.private_key_pem);
        let pkcs8 = write(dir.path(), "pkcs8.pem", &m.private_key_pem_pkcs8);
        for f in [&trad, &pkcs8] {
            // openssl derives the same PKIX public key, byte for byte.
            let public = run_ok("openssl", &["pkey", "-in", s(f), "-pubout"]);
            assert_eq!(public, m.public.public_key_pem, "{alg}");
            run_ok("openssl", &["pkey", "-in", s(f), "-noout", "-check"]);
        }
        match alg {
            KeyAlgorithm::Rsa { .. } => {
                let text = run_ok("openssl", &["rsa", "-in", s(&trad), "-check", "-noout"]);
                assert!(text.contains("RSA key ok"), "{text}");
            }
            KeyAlgorithm::Ecdsa(curve) => {
                let text = run_ok("openssl", &["ec", "-in", s(&trad), "-noout", "-text"]);
                let nist = match curve {
                    EcdsaCurve::P256 => "NIST CURVE: P-256",
                    EcdsaCurve::P384 => "NIST CURVE: P-384",
                    EcdsaCurve::P521 => "NIST CURVE: P-521",
                };
                assert!(text.contains(nist), "{text}");
            }
            KeyAlgorithm::Ed25519 => {
                let text = run_ok("openssl", &["pkey", "-in", s(&trad), "-noout", "-text"]);
                assert!(text.contains("ED25519 Private-Key"), "{text}");
            }
        }
        // The id is SHA-1 over the DER public key.
        let der_path = dir.path().join("pub.der");
        run_ok(
            "openssl",
            &[
                "pkey",
                "-in",
                s(&pkcs8),
                "-pubout",
                "-outform",
                "DER",
                "-out",
                s(&der_path),
            ],
        );
        assert_eq!(m.public.id, state_hash(&fs::read(&der_path).unwrap()));
    }
}

#[test]
fn openssh_outputs_match_ssh_keygen() {
    require("ssh-keygen");
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let m = generate_key(alg).unwrap();
        let public = write(dir.path(), "key.pub", &m.public.public_key_openssh);
        let private = write(dir.path(), "key", &m.private_key_openssh);

        let sha = run_ok("ssh-keygen", &["-l", "-E", "sha256", "-f", s(&public)]);
        let field = sha.split_whitespace().nth(1).unwrap();
        assert_eq!(field, m.public.public_key_fingerprint_sha256, "{alg}");

        let md5 = run_ok("ssh-keygen", &["-l", "-E", "md5", "-f", s(&public)]);
        let field = md5.split_whitespace().nth(1).unwrap();
        assert_eq!(
            field,
            format!("MD5:{}", m.public.public_key_fingerprint_md5),
            "{alg}"
        );

        // The private key file reproduces the public key.
        let derived = run_ok("ssh-keygen", &["-y", "-f", s(&private)]);
        let first_two: Vec<&str> = derived.split_whitespace().take(2).collect();
        assert_eq!(
            first_two.join(" ") + "\n",
            m.public.public_key_openssh,
            "{alg}"
        );
        let from_private = run_ok("ssh-keygen", &["-l", "-E", "sha256", "-f", s(&private)]);
        assert!(from_private.contains(&m.public.public_key_fingerprint_sha256));
    }
}

#[test]
fn foreign_keys_parse() {
    require("openssl");
    require("ssh-keygen");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rsa = d.join("rsa.pem");
    run_ok(
        "openssl",
        &["genrsa", "-traditional", "-out", s(&rsa), "2048"],
    );
    let ec = d.join("ec.pem");
    // Writes an EC PARAMETERS block before the key.
    run_ok(
        "openssl",
        &["ecparam", "-name", "secp384r1", "-genkey", "-out", s(&ec)],
    );
    let ed = d.join("ed.pem");
    run_ok(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", s(&ed)],
    );
    let p521 = d.join("p521.pem");
    run_ok(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-out",
            s(&p521),
        ],
    );
    for (path, alg) in [
        (&rsa, KeyAlgorithm::Rsa { bits: 2048 }),
        (&ec, KeyAlgorithm::Ecdsa(EcdsaCurve::P384)),
        (&ed, KeyAlgorithm::Ed25519),
        (&p521, KeyAlgorithm::Ecdsa(EcdsaCurve::P521)),
    ] {
        let key = parse_private_key(&fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(key.algorithm(), alg);
        let public = run_ok("openssl", &["pkey", "-in", s(path), "-pubout"]);
        assert_eq!(key.public_info().unwrap().public_key_pem, public);
    }

    for (kind, bits, alg) in [
        ("rsa", "2048", KeyAlgorithm::Rsa { bits: 2048 }),
        ("ecdsa", "256", KeyAlgorithm::Ecdsa(EcdsaCurve::P256)),
        ("ecdsa", "521", KeyAlgorithm::Ecdsa(EcdsaCurve::P521)),
        ("ed25519", "256", KeyAlgorithm::Ed25519),
    ] {
        let path = d.join(format!("id_{kind}_{bits}"));
        run_ok(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                kind,
                "-b",
                bits,
                "-N",
                "",
                "-C",
                "c",
                "-f",
                s(&path),
            ],
        );
        let key = parse_private_key(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(key.algorithm(), alg);
        let pub_line = fs::read_to_string(path.with_extension("pub")).unwrap();
        let first_two: Vec<&str> = pub_line.split_whitespace().take(2).collect();
        let info = key.public_info().unwrap();
        assert_eq!(info.public_key_openssh, first_two.join(" ") + "\n");
        // Re-encoded as PEM, openssl reads it.
        let m = key.key_material().unwrap();
        let pem = write(d, "converted.pem", &m.private_key_pem);
        run_ok("openssl", &["pkey", "-in", s(&pem), "-noout", "-check"]);
    }

    // Encrypted keys are refused with a clear error.
    let enc = d.join("enc");
    run_ok(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "secret", "-f", s(&enc)],
    );
    let err = parse_private_key(&fs::read_to_string(&enc).unwrap()).unwrap_err();
    assert!(err.to_string().contains("encrypted"), "{err}");
    let enc_pem = d.join("enc.pem");
    run_ok(
        "openssl",
        &[
            "pkey",
            "-in",
            s(&ed),
            "-aes256",
            "-passout",
            "pass:x",
            "-out",
            s(&enc_pem),
        ],
    );
    let err = parse_private_key(&fs::read_to_string(&enc_pem).unwrap()).unwrap_err();
    assert!(err.to_string().contains("encrypted"), "{err}");
}

struct Chain {
    root: IssuedCert,
    inter: IssuedCert,
    leaf: IssuedCert,
}

fn build_chain(root_alg: KeyAlgorithm, inter_alg: KeyAlgorithm, leaf_alg: KeyAlgorithm) -> Chain {
    let root_key = key_of(&generate_key(root_alg).unwrap());
    let root = self_signed(
        &root_key,
        &CertSpec {
            subject: subject("Zerotrust Root CA"),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: true,
            options: ca_options(None),
        },
    )
    .unwrap();

    let inter_key = key_of(&generate_key(inter_alg).unwrap());
    let inter_csr = create_csr(
        &inter_key,
        &subject("Zerotrust Intermediate CA"),
        &[],
        &[],
        &[],
    )
    .unwrap();
    let inter = locally_signed(
        &inter_csr.csr_pem,
        &root.cert_pem,
        &root_key,
        &ca_options(Some(0)),
    )
    .unwrap();

    let leaf_key = key_of(&generate_key(leaf_alg).unwrap());
    let ips: Vec<IpAddr> = vec!["10.0.0.7".parse().unwrap(), "fd00::7".parse().unwrap()];
    let leaf_csr = create_csr(
        &leaf_key,
        &subject("trainer"),
        &["trainer.ml.svc.cluster.local".to_string()],
        &ips,
        &[SPIFFE.to_string()],
    )
    .unwrap();
    let mut leaf_opts = options(48);
    leaf_opts.backdate_minutes = 5;
    leaf_opts.allowed_uses = vec![
        AllowedUse::DigitalSignature,
        AllowedUse::KeyEncipherment,
        AllowedUse::ServerAuth,
        AllowedUse::ClientAuth,
    ];
    let leaf = locally_signed(&leaf_csr.csr_pem, &inter.cert_pem, &inter_key, &leaf_opts).unwrap();
    Chain { root, inter, leaf }
}

#[test]
fn chains_verify_with_openssl() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Every algorithm appears as root, intermediate and leaf key.
    for i in 0..ALGS.len() {
        let (ra, ia, la) = (ALGS[i], ALGS[(i + 1) % 5], ALGS[(i + 2) % 5]);
        let chain = build_chain(ra, ia, la);
        let root = write(d, "root.pem", &chain.root.cert_pem);
        let inter = write(d, "inter.pem", &chain.inter.cert_pem);
        let leaf = write(d, "leaf.pem", &chain.leaf.cert_pem);

        let out = run_ok(
            "openssl",
            &[
                "verify",
                "-attime",
                ATTIME,
                "-CAfile",
                s(&root),
                "-untrusted",
                s(&inter),
                s(&leaf),
            ],
        );
        assert!(out.contains(": OK"), "{ra} {ia} {la}: {out}");
        let out = run(
            "openssl",
            &["verify", "-attime", ATTIME, "-CAfile", s(&root), s(&inter)],
        );
        assert!(out.ok, "{}{}", out.stdout, out.stderr);

        let text = run_ok("openssl", &["x509", "-in", s(&leaf), "-noout", "-text"]);
        for needle in [
            "X509v3 Key Usage: critical",
            "Digital Signature, Key Encipherment",
            "TLS Web Server Authentication, TLS Web Client Authentication",
            "X509v3 Basic Constraints: critical",
            "CA:FALSE",
            "DNS:trainer.ml.svc.cluster.local",
            "IP Address:10.0.0.7",
            "IP Address:FD00:0:0:0:0:0:0:7",
            "URI:spiffe://cluster.local/ns/ml/sa/trainer",
            "X509v3 Authority Key Identifier",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(!text.contains("X509v3 Subject Key Identifier"), "{text}");
        let text = run_ok("openssl", &["x509", "-in", s(&inter), "-noout", "-text"]);
        assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
        assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
        assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
        let text = run_ok("openssl", &["x509", "-in", s(&root), "-noout", "-text"]);
        assert!(
            text.contains("CA:TRUE\n") || text.contains("CA:TRUE\r\n"),
            "{text}"
        );

        // Dates, serial and fingerprint as openssl reads them.
        let dates = run_ok(
            "openssl",
            &[
                "x509",
                "-in",
                s(&leaf),
                "-noout",
                "-startdate",
                "-enddate",
                "-dateopt",
                "iso_8601",
            ],
        );
        assert!(dates.contains("notBefore=2026-03-04 05:01:07Z"), "{dates}");
        assert!(dates.contains("notAfter=2026-03-06 05:06:07Z"), "{dates}");
        assert_eq!(chain.leaf.not_before_rfc3339, "2026-03-04T05:01:07Z");
        let serial = run_ok("openssl", &["x509", "-in", s(&leaf), "-noout", "-serial"]);
        let hex_serial = serial.trim().trim_start_matches("serial=");
        let ours =
            num_bigint::BigUint::parse_bytes(chain.leaf.serial_decimal.as_bytes(), 10).unwrap();
        assert_eq!(
            num_bigint::BigUint::parse_bytes(hex_serial.as_bytes(), 16).unwrap(),
            ours
        );
        let info = &cert_info(&chain.leaf.cert_pem).unwrap()[0];
        let fp = run_ok(
            "openssl",
            &["x509", "-in", s(&leaf), "-noout", "-fingerprint", "-sha1"],
        );
        let fp = fp
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase();
        assert_eq!(info.sha1_fingerprint, fp);
        let subj = run_ok(
            "openssl",
            &[
                "x509",
                "-in",
                s(&leaf),
                "-noout",
                "-subject",
                "-nameopt",
                "RFC2253",
            ],
        );
        assert_eq!(format!("subject={}\n", info.subject), subj);
        let issuer = run_ok(
            "openssl",
            &[
                "x509",
                "-in",
                s(&leaf),
                "-noout",
                "-issuer",
                "-nameopt",
                "RFC2253",
            ],
        );
        assert_eq!(format!("issuer={}\n", info.issuer), issuer);
    }
}

/// A CA with pathlen 0 cannot vouch for a further CA: openssl rejects root -> inter(0) -> sub
/// -> leaf, and accepts it when the intermediate is unconstrained.
#[test]
fn path_length_is_enforced_by_openssl() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (inter_path_len, should_pass) in [(Some(0), false), (None, true), (Some(1), true)] {
        let alg = KeyAlgorithm::Ecdsa(EcdsaCurve::P256);
        let root_key = key_of(&generate_key(alg).unwrap());
        let spec = |cn: &str, o: IssueOptions| CertSpec {
            subject: subject(cn),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: false,
            options: o,
        };
        let root = self_signed(&root_key, &spec("Root", ca_options(None))).unwrap();
        let inter_key = key_of(&generate_key(alg).unwrap());
        let csr = create_csr(&inter_key, &subject("Inter"), &[], &[], &[]).unwrap();
        let inter = locally_signed(
            &csr.csr_pem,
            &root.cert_pem,
            &root_key,
            &ca_options(inter_path_len),
        )
        .unwrap();
        let sub_key = key_of(&generate_key(alg).unwrap());
        let csr = create_csr(&sub_key, &subject("Sub"), &[], &[], &[]).unwrap();
        // Under a limited intermediate the sub-CA must limit itself too; 0 fits every case.
        let sub = locally_signed(
            &csr.csr_pem,
            &inter.cert_pem,
            &inter_key,
            &ca_options(Some(0)),
        );
        // Under a path length of 0 we refuse to sign the sub-CA at all; openssl's verdict on
        // one signed anyway is in tests/pki_constraints_crl.rs.
        let sub = match (sub, should_pass) {
            (Ok(sub), true) => sub,
            (Err(e), false) => {
                assert!(e.to_string().contains("path length 0"), "{e}");
                continue;
            }
            (other, _) => panic!(
                "{inter_path_len:?}: unexpected {:?}",
                other.map(|c| c.serial_decimal)
            ),
        };
        let leaf_key = key_of(&generate_key(alg).unwrap());
        let csr = create_csr(&leaf_key, &subject("leaf"), &[], &[], &[]).unwrap();
        let leaf = locally_signed(&csr.csr_pem, &sub.cert_pem, &sub_key, &options(2)).unwrap();
        let root_p = write(d, "root.pem", &root.cert_pem);
        let untrusted = write(
            d,
            "untrusted.pem",
            &format!("{}{}", inter.cert_pem, sub.cert_pem),
        );
        let leaf_p = write(d, "leaf.pem", &leaf.cert_pem);
        let out = run(
            "openssl",
            &[
                "verify",
                "-attime",
                ATTIME,
                "-CAfile",
                s(&root_p),
                "-untrusted",
                s(&untrusted),
                s(&leaf_p),
            ],
        );
        let all = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.ok, should_pass, "{inter_path_len:?}: {all}");
        if !should_pass {
            assert!(all.contains("path length constraint exceeded"), "{all}");
        }
    }
}

#[test]
fn requests_verify_with_openssl() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let key = key_of(&generate_key(alg).unwrap());
        let out = create_csr(
            &key,
            &subject("worker-0"),
            &["worker-0.ml.svc".to_string()],
            &["192.0.2.10".parse().unwrap()],
            &[SPIFFE.to_string()],
        )
        .unwrap();
        let p = write(dir.path(), "req.pem", &out.csr_pem);
        let o = run("openssl", &["req", "-in", s(&p), "-verify", "-noout"]);
        assert!(o.ok, "{alg}: {}{}", o.stdout, o.stderr);
        assert!(format!("{}{}", o.stdout, o.stderr).contains("verify OK"));
        let text = run_ok("openssl", &["req", "-in", s(&p), "-noout", "-text"]);
        assert!(text.contains("DNS:worker-0.ml.svc"), "{text}");
        assert!(text.contains("IP Address:192.0.2.10"), "{text}");
        assert!(text.contains(SPIFFE), "{text}");
        assert!(!text.contains("Key Usage"), "{text}");
    }
}

/// Requests made by openssl (with key usages and SHA-256 on P-521, which x509-parser's own
/// verifier cannot check) are signed; only subject and SANs are kept.
#[test]
fn openssl_requests_are_signed_locally() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca_key = key_of(&generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P256)).unwrap());
    let ca = self_signed(
        &ca_key,
        &CertSpec {
            subject: subject("Openssl Test CA"),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: false,
            options: ca_options(None),
        },
    )
    .unwrap();
    let ca_path = write(d, "ca.pem", &ca.cert_pem);
    for (genargs, digest) in [
        (
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
            "-sha256",
        ),
        (
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "-sha512",
        ),
        (
            vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "-sha384",
        ),
        (vec!["-algorithm", "ED25519"], ""),
    ] {
        let key_path = d.join("k.pem");
        let mut args = vec!["genpkey"];
        args.extend(genargs.iter());
        args.extend(["-out", s(&key_path)]);
        run_ok("openssl", &args);
        let req_path = d.join("r.pem");
        let mut args = vec![
            "req",
            "-new",
            "-key",
            s(&key_path),
            "-subj",
            "/C=DE/O=Example/OU=ML/CN=from-openssl",
            "-addext",
            "subjectAltName=DNS:a.example,URI:spiffe://cluster.local/ns/x/sa/y,email:x@example.com",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-addext",
            "1.2.3.4.5=ASN1:UTF8String:custom",
            "-out",
            s(&req_path),
        ];
        if !digest.is_empty() {
            args.push(digest);
        }
        run_ok("openssl", &args);
        let req = fs::read_to_string(&req_path).unwrap();
        let info = csr_info(&req).unwrap();
        assert_eq!(info.subject, "CN=from-openssl,OU=ML,O=Example,C=DE");
        let mut opts = options(24);
        opts.allowed_uses = vec![AllowedUse::ClientAuth];
        let issued = locally_signed(&req, &ca.cert_pem, &ca_key, &opts).unwrap();
        let leaf = write(d, "leaf.pem", &issued.cert_pem);
        let out = run_ok(
            "openssl",
            &[
                "verify",
                "-attime",
                ATTIME,
                "-CAfile",
                s(&ca_path),
                s(&leaf),
            ],
        );
        assert!(out.contains(": OK"), "{out}");
        let text = run_ok("openssl", &["x509", "-in", s(&leaf), "-noout", "-text"]);
        assert!(
            text.contains("DNS:a.example, URI:spiffe://cluster.local/ns/x/sa/y"),
            "{text}"
        );
        assert!(!text.contains("email:"), "{text}");
        assert!(!text.contains("Certificate Sign"), "{text}");
        assert!(!text.contains("1.2.3.4.5"), "{text}");
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        let subj = run_ok(
            "openssl",
            &[
                "x509",
                "-in",
                s(&leaf),
                "-noout",
                "-subject",
                "-nameopt",
                "RFC2253",
            ],
        );
        assert_eq!(subj, "subject=CN=from-openssl,OU=ML,O=Example,C=DE\n");
    }
}

#[test]
fn openssl_certificates_are_described_like_go() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("k.pem");
    let cert = d.join("c.pem");
    run_ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            s(&key),
            "-out",
            s(&cert),
            "-days",
            "2",
            "-subj",
            "/C=US/ST=CA/L=San Francisco/O=Example, Inc/OU=Unit/CN=example.com/emailAddress=a@b.c",
            "-addext",
            "basicConstraints=critical,CA:TRUE,pathlen:1",
        ],
    );
    let pem = fs::read_to_string(&cert).unwrap();
    let info = &cert_info(&pem).unwrap()[0];
    assert_eq!(
        info.subject,
        "CN=example.com,OU=Unit,O=Example\\, Inc,L=San Francisco,ST=CA,C=US,\
         1.2.840.113549.1.9.1=#0c056140622e63"
    );
    assert_eq!(info.issuer, info.subject);
    assert_eq!(info.signature_algorithm, "SHA256-RSA");
    assert_eq!(info.public_key_algorithm, "RSA");
    assert!(info.is_ca);
    assert_eq!(info.max_path_length, 1);
    assert_eq!(info.version, 3);
    let serial = run_ok("openssl", &["x509", "-in", s(&cert), "-noout", "-serial"]);
    let hex_serial = serial.trim().trim_start_matches("serial=");
    assert_eq!(
        num_bigint::BigUint::parse_bytes(hex_serial.as_bytes(), 16)
            .unwrap()
            .to_string(),
        info.serial_number
    );
    let dates = run_ok(
        "openssl",
        &[
            "x509",
            "-in",
            s(&cert),
            "-noout",
            "-enddate",
            "-dateopt",
            "iso_8601",
        ],
    );
    let end = dates
        .trim()
        .trim_start_matches("notAfter=")
        .replace(' ', "T");
    assert_eq!(info.not_after, end);

    // The openssl key works as a CA key for our signer too (PKCS#8 from openssl).
    let ca_key = parse_private_key(&fs::read_to_string(&key).unwrap()).unwrap();
    let leaf_key = key_of(&generate_key(KeyAlgorithm::Ed25519).unwrap());
    let csr = create_csr(&leaf_key, &subject("leaf"), &[], &[], &[]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let issued = locally_signed(&csr.csr_pem, &pem, &ca_key, &IssueOptions::new(1, now)).unwrap();
    assert!(!issued.issuer_not_ca);
    let leaf = write(d, "leaf.pem", &issued.cert_pem);
    let out = run_ok("openssl", &["verify", "-CAfile", s(&cert), s(&leaf)]);
    assert!(out.contains(": OK"), "{out}");
}

/// OpenSSH writes the ECDSA scalar as an mpint, dropping leading zero bytes; for P-521 that
/// happens to about one key in eight, which a single generated key rarely shows.
#[test]
fn openssh_p521_keys_with_short_scalars_parse() {
    require("ssh-keygen");
    let dir = tempfile::tempdir().unwrap();
    for i in 0..32 {
        let path = dir.path().join(format!("id_{i}"));
        run_ok(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ecdsa",
                "-b",
                "521",
                "-N",
                "",
                "-C",
                "c",
                "-f",
                s(&path),
            ],
        );
        let key = parse_private_key(&fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("key {i}: {e}"));
        assert_eq!(key.algorithm(), KeyAlgorithm::Ecdsa(EcdsaCurve::P521));
        let pub_line = fs::read_to_string(path.with_extension("pub")).unwrap();
        let first_two: Vec<&str> = pub_line.split_whitespace().take(2).collect();
        assert_eq!(
            key.public_info().unwrap().public_key_openssh,
            first_two.join(" ") + "\n"
        );
    }
}
