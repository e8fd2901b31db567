//! PKCS#12 keystores from `zerotrust::pki::pkcs12`, opened by the tools JVM operators use:
//! `openssl pkcs12` (OpenSSL 3), `keytool` (Java 17), and a Java TLS client
//! (examples/ml-mtls/TlsClient.java) authenticating with one against an mTLS server.
//!
//! A missing tool fails the test that needs it (scripts/setup.sh --test installs them): a check
//! that passes because it never ran proves nothing.
//!
//! Every key algorithm is tried with keytool too: Java 17 reads Ed25519 keys from PKCS#12
//! (EdDSA has been in the JDK since 15), so nothing is left to OpenSSL alone.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use zerotrust::pki::{
    AllowedUse, CertSpec, EcdsaCurve, IssueOptions, IssuedCert, KeyAlgorithm, ParsedKey,
    Pkcs12Suite, Subject, create_csr, framing, generate_key, locally_signed, parse_private_key,
    pkcs12, self_signed,
};

const ALGS: [KeyAlgorithm; 4] = [
    KeyAlgorithm::Rsa { bits: 2048 },
    KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
    KeyAlgorithm::Ecdsa(EcdsaCurve::P384),
    KeyAlgorithm::Ed25519,
];

/// The iteration count the library writes (see src/pki/pkcs12.rs).
const ITERATIONS: &str = "10000";

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
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    /// Both streams: `openssl pkcs12 -info` writes its description to stderr.
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn run(tool: &str, args: &[&str]) -> Out {
    let o = Command::new(tool).args(args).output().unwrap();
    Out {
        ok: o.status.success(),
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn run_ok(tool: &str, args: &[&str]) -> Out {
    let o = run(tool, args);
    assert!(o.ok, "{tool} {args:?} failed: {}", o.all());
    o
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
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

/// Options valid from now, so TLS stacks accept the certificates too.
fn options(hours: i64, uses: &[AllowedUse]) -> IssueOptions {
    let mut o = IssueOptions::new(hours, OffsetDateTime::now_utc());
    o.backdate_minutes = 5;
    o.allowed_uses = uses.to_vec();
    o
}

fn ca_options(path_len: Option<i64>) -> IssueOptions {
    let mut o = options(
        24 * 365,
        &[
            AllowedUse::CertSigning,
            AllowedUse::CrlSigning,
            AllowedUse::DigitalSignature,
        ],
    );
    o.is_ca = true;
    o.max_path_length = path_len;
    o
}

fn new_key(alg: KeyAlgorithm) -> ParsedKey {
    parse_private_key(&generate_key(alg).unwrap().private_key_pem).unwrap()
}

/// A root CA and an intermediate CA under it.
struct Ca {
    root: IssuedCert,
    inter: IssuedCert,
    inter_key: ParsedKey,
}

fn ca(alg: KeyAlgorithm, name: &str) -> Ca {
    let root_key = new_key(alg);
    let root = self_signed(
        &root_key,
        &CertSpec {
            subject: subject(&format!("{name} Root CA")),
            dns_names: vec![],
            ip_addresses: vec![],
            uris: vec![],
            set_authority_key_id: true,
            options: ca_options(None),
        },
    )
    .unwrap();
    let inter_key = new_key(alg);
    let csr = create_csr(
        &inter_key,
        &subject(&format!("{name} Intermediate CA")),
        &[],
        &[],
        &[],
    )
    .unwrap();
    let inter = locally_signed(
        &csr.csr_pem,
        &root.cert_pem,
        &root_key,
        &ca_options(Some(0)),
    )
    .unwrap();
    Ca {
        root,
        inter,
        inter_key,
    }
}

/// A leaf for both TLS directions, issued by `ca`'s intermediate.
struct Leaf {
    key: ParsedKey,
    public_key_pem: String,
    cert: IssuedCert,
}

fn leaf(ca: &Ca, alg: KeyAlgorithm, cn: &str, dns: &str) -> Leaf {
    let material = generate_key(alg).unwrap();
    let key = parse_private_key(&material.private_key_pem).unwrap();
    let csr = create_csr(&key, &subject(cn), &[dns.to_string()], &[], &[]).unwrap();
    let opts = options(
        48,
        &[
            AllowedUse::DigitalSignature,
            AllowedUse::KeyEncipherment,
            AllowedUse::ServerAuth,
            AllowedUse::ClientAuth,
        ],
    );
    let cert = locally_signed(&csr.csr_pem, &ca.inter.cert_pem, &ca.inter_key, &opts).unwrap();
    Leaf {
        key,
        public_key_pem: material.public.public_key_pem,
        cert,
    }
}

/// The chain of a keystore: intermediate, then root.
fn chain_of(ca: &Ca) -> Vec<String> {
    vec![ca.inter.cert_pem.clone(), ca.root.cert_pem.clone()]
}

/// The DER of every certificate in `text`, in order.
fn cert_ders(text: &str) -> Vec<Vec<u8>> {
    framing::blocks(text)
        .unwrap()
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.contents().to_vec())
        .collect()
}

#[test]
fn keystores_open_in_openssl_with_the_announced_algorithms() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for alg in ALGS {
        let ca = ca(alg, "OpenSSL");
        let leaf = leaf(&ca, alg, "trainer", "trainer.ml.svc");
        for suite in Pkcs12Suite::ALL {
            let what = format!("{alg} {suite}");
            let password = "Kafka-Keystore-7";
            let der = pkcs12(
                &leaf.cert.cert_pem,
                &chain_of(&ca),
                &leaf.key,
                password,
                "Trainer-Identity",
                suite,
            )
            .unwrap();
            let p12 = write(d, "ks.p12", &der);
            let pass = format!("pass:{password}");

            // Structure, as OpenSSL 3 describes it, without -legacy: 3DES is in its default
            // provider (only RC2, RC4 and single DES need the legacy one).
            let info = run_ok(
                "openssl",
                &[
                    "pkcs12",
                    "-info",
                    "-noout",
                    "-in",
                    s(&p12),
                    "-passin",
                    &pass,
                ],
            )
            .all();
            let expected: Vec<String> = match suite {
                Pkcs12Suite::Modern => vec![
                    format!("MAC: sha256, Iteration {ITERATIONS}"),
                    "MAC length: 32, salt length: 16".into(),
                    format!(
                        "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration {ITERATIONS}, PRF hmacWithSHA256"
                    ),
                    format!(
                        "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration {ITERATIONS}, PRF hmacWithSHA256"
                    ),
                ],
                Pkcs12Suite::Legacy => vec![
                    format!("MAC: sha1, Iteration {ITERATIONS}"),
                    "MAC length: 20, salt length: 16".into(),
                    format!(
                        "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration {ITERATIONS}"
                    ),
                    format!(
                        "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration {ITERATIONS}"
                    ),
                ],
            };
            for line in &expected {
                assert!(
                    info.contains(line.as_str()),
                    "{what}: no {line:?} in\n{info}"
                );
            }
            assert_eq!(info.matches("Certificate bag").count(), 3, "{what}\n{info}");
            assert_eq!(info.matches("Shrouded Keybag").count(), 1, "{what}\n{info}");

            // The key: the leaf's, with the friendly name and the leaf's local key id.
            let keys = run_ok(
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    s(&p12),
                    "-passin",
                    &pass,
                    "-nodes",
                    "-nocerts",
                ],
            )
            .stdout;
            assert!(
                keys.contains("friendlyName: Trainer-Identity"),
                "{what}\n{keys}"
            );
            assert!(keys.contains("localKeyID:"), "{what}\n{keys}");
            let key_pem = write(d, "key.pem", keys.as_bytes());
            let public = run_ok("openssl", &["pkey", "-in", s(&key_pem), "-pubout"]).stdout;
            assert_eq!(public, leaf.public_key_pem, "{what}");

            // The certificates: leaf, intermediate, root, byte for byte.
            let certs = run_ok(
                "openssl",
                &["pkcs12", "-in", s(&p12), "-passin", &pass, "-nokeys"],
            )
            .stdout;
            assert_eq!(
                cert_ders(&certs),
                vec![
                    leaf.cert.cert_der.clone(),
                    ca.inter.cert_der.clone(),
                    ca.root.cert_der.clone()
                ],
                "{what}"
            );
            // Only the leaf carries attributes.
            assert_eq!(certs.matches("friendlyName").count(), 1, "{what}\n{certs}");
        }
    }
}

#[test]
fn a_wrong_password_fails_the_mac() {
    require("openssl");
    require("keytool");
    let dir = tempfile::tempdir().unwrap();
    let ca = ca(KeyAlgorithm::Ecdsa(EcdsaCurve::P256), "Wrong");
    let leaf = leaf(
        &ca,
        KeyAlgorithm::Ecdsa(EcdsaCurve::P256),
        "svc",
        "svc.test",
    );
    for suite in Pkcs12Suite::ALL {
        let der = pkcs12(
            &leaf.cert.cert_pem,
            &chain_of(&ca),
            &leaf.key,
            "right-password",
            "svc",
            suite,
        )
        .unwrap();
        let p12 = write(dir.path(), "ks.p12", &der);
        let out = run(
            "openssl",
            &[
                "pkcs12",
                "-info",
                "-noout",
                "-in",
                s(&p12),
                "-passin",
                "pass:wrong-password",
            ],
        );
        assert!(!out.ok, "{suite}: {}", out.all());
        assert!(
            out.all().contains("Mac verify error"),
            "{suite}: {}",
            out.all()
        );
        let out = run(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                s(&p12),
                "-storepass",
                "wrong-password",
            ],
        );
        assert!(!out.ok, "{suite}: {}", out.all());
        assert!(
            out.all().contains("password was incorrect"),
            "{suite}: {}",
            out.all()
        );
    }
}

#[test]
fn an_empty_password_opens_a_modern_keystore_in_openssl() {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let ca = ca(KeyAlgorithm::Ed25519, "Empty");
    let leaf = leaf(&ca, KeyAlgorithm::Ed25519, "svc", "svc.test");
    let der = pkcs12(
        &leaf.cert.cert_pem,
        &chain_of(&ca),
        &leaf.key,
        "",
        "svc",
        Pkcs12Suite::Modern,
    )
    .unwrap();
    let p12 = write(dir.path(), "ks.p12", &der);
    let info = run_ok(
        "openssl",
        &[
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            s(&p12),
            "-passin",
            "pass:",
        ],
    )
    .all();
    assert!(info.contains("MAC: sha256"), "{info}");
}

#[test]
fn keytool_lists_one_private_key_entry_with_the_whole_chain() {
    require("keytool");
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let ca = ca(alg, "Keytool");
        let leaf = leaf(&ca, alg, "trainer", "trainer.ml.svc");
        for suite in Pkcs12Suite::ALL {
            let what = format!("{alg} {suite}");
            let der = pkcs12(
                &leaf.cert.cert_pem,
                &chain_of(&ca),
                &leaf.key,
                "Kafka-Keystore-7",
                "Trainer-Identity",
                suite,
            )
            .unwrap();
            let p12 = write(dir.path(), "ks.p12", &der);
            let out = run_ok(
                "keytool",
                &[
                    "-list",
                    "-v",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    s(&p12),
                    "-storepass",
                    "Kafka-Keystore-7",
                ],
            )
            .stdout;
            assert!(
                out.contains("Your keystore contains 1 entry"),
                "{what}\n{out}"
            );
            // Java's PKCS#12 keystore lowercases aliases.
            assert!(
                out.contains("Alias name: trainer-identity\n"),
                "{what}\n{out}"
            );
            assert_eq!(
                out.matches("Entry type: PrivateKeyEntry").count(),
                1,
                "{what}\n{out}"
            );
            assert!(!out.contains("trustedCertEntry"), "{what}\n{out}");
            assert!(out.contains("Certificate chain length: 3"), "{what}\n{out}");
            assert!(
                out.contains("Owner: CN=trainer, O=Zerotrust"),
                "{what}\n{out}"
            );
            assert!(
                out.contains("Owner: CN=Keytool Root CA, O=Zerotrust"),
                "{what}\n{out}"
            );
        }
    }
}

/// A one-connection mTLS server on 127.0.0.1 (rustls): it trusts `client_root`, presents
/// `chain` with `key`, and sends `line` once the handshake is done. The thread's result is the
/// client's certificate chain, or why the connection failed.
struct Server {
    port: u16,
    handle: std::thread::JoinHandle<Result<Vec<Vec<u8>>, String>>,
}

fn serve_once(chain: Vec<Vec<u8>>, key: &ParsedKey, client_root: Vec<u8>, line: &str) -> Server {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(client_root)).unwrap();
    // No CA hints in the CertificateRequest: Java's key manager then offers its certificate
    // whoever issued it, so a foreign client is refused by verification, not by staying silent.
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .clear_root_hint_subjects()
    .build()
    .unwrap();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().unwrap().to_vec()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                chain.into_iter().map(CertificateDer::from).collect(),
                key_der,
            )
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let line = format!("{line}\n");
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let sock: TcpStream = loop {
            match listener.accept() {
                Ok((sock, _)) => break sock,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err("no client connected".into());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        };
        sock.set_nonblocking(false).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let conn = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, sock);
        // Writing completes the handshake first, client certificate check included.
        if let Err(e) = tls.write_all(line.as_bytes()).and_then(|_| tls.flush()) {
            // rustls has sent its alert. Stop writing and drain what the client still sends,
            // so that closing does not reset the connection before the client reads the alert.
            let _ = tls.sock.shutdown(std::net::Shutdown::Write);
            let _ = tls.sock.read_to_end(&mut Vec::new());
            return Err(format!("handshake or write: {e}"));
        }
        let peer: Vec<Vec<u8>> = tls
            .conn
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|c| c.to_vec())
            .collect();
        tls.conn.send_close_notify();
        let _ = tls.flush();
        // Wait for the client to hang up, so it reads the line before the socket closes.
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest);
        Ok(peer)
    });
    Server { port, handle }
}

/// Runs examples/ml-mtls/TlsClient.java against 127.0.0.1:`port`.
fn java_client(port: u16, server_name: &str, p12: &Path, password_file: &Path, ca: &Path) -> Out {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ml-mtls/TlsClient.java");
    let port = port.to_string();
    run(
        "java",
        &[
            s(&source),
            "127.0.0.1",
            &port,
            server_name,
            s(p12),
            s(password_file),
            s(ca),
        ],
    )
}

#[test]
fn java_client_authenticates_with_a_modern_keystore() {
    require("java");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alg = KeyAlgorithm::Ecdsa(EcdsaCurve::P256);
    let ca = ca(alg, "Mesh");
    let server = leaf(&ca, alg, "server.test", "server.test");
    let client = leaf(&ca, alg, "trainer", "trainer.ml.svc");

    let password = "Gen3rated-Passw0rd-Not-Printed";
    let der = pkcs12(
        &client.cert.cert_pem,
        &chain_of(&ca),
        &client.key,
        password,
        "trainer",
        Pkcs12Suite::Modern,
    )
    .unwrap();
    let p12 = write(d, "client.p12", &der);
    let password_file = write(d, "password", format!("{password}\n").as_bytes());
    let ca_pem = write(d, "ca.pem", ca.root.cert_pem.as_bytes());

    let srv = serve_once(
        vec![server.cert.cert_der.clone(), ca.inter.cert_der.clone()],
        &server.key,
        ca.root.cert_der.clone(),
        "hello from the mesh",
    );
    let out = java_client(srv.port, "server.test", &p12, &password_file, &ca_pem);
    let served = srv.handle.join().unwrap();
    assert!(out.ok, "java failed: {}\nserver: {served:?}", out.all());
    assert_eq!(out.stdout, "hello from the mesh\n");
    assert!(!out.all().contains(password));
    // The server saw the client's own certificate first.
    let peer = served.unwrap();
    assert_eq!(peer.first(), Some(&client.cert.cert_der));
}

#[test]
fn java_client_from_another_ca_is_refused() {
    require("java");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alg = KeyAlgorithm::Ecdsa(EcdsaCurve::P256);
    let ca = ca(alg, "Mesh");
    let rogue_ca = self::ca(alg, "Rogue");
    let server = leaf(&ca, alg, "server.test", "server.test");
    let rogue = leaf(&rogue_ca, alg, "trainer", "trainer.ml.svc");

    let password = "Rogue-Passw0rd-Not-Printed";
    let der = pkcs12(
        &rogue.cert.cert_pem,
        &chain_of(&rogue_ca),
        &rogue.key,
        password,
        "trainer",
        Pkcs12Suite::Modern,
    )
    .unwrap();
    let p12 = write(d, "rogue.p12", &der);
    let password_file = write(d, "password", password.as_bytes());
    // The client trusts the server's CA: only its own identity is wrong.
    let ca_pem = write(d, "ca.pem", ca.root.cert_pem.as_bytes());

    let srv = serve_once(
        vec![server.cert.cert_der.clone(), ca.inter.cert_der.clone()],
        &server.key,
        ca.root.cert_der.clone(),
        "must not arrive",
    );
    let out = java_client(srv.port, "server.test", &p12, &password_file, &ca_pem);
    let served = srv.handle.join().unwrap();
    assert_eq!(out.code, Some(1), "{}\nserver: {served:?}", out.all());
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr
            .starts_with("javax.net.ssl.SSLHandshakeException"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(password));
    // The client did present its certificate, and the server refused its issuer.
    let reason = served.expect_err("server accepted the rogue client");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
}

#[test]
fn java_client_checks_the_server_name() {
    require("java");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alg = KeyAlgorithm::Ecdsa(EcdsaCurve::P256);
    let ca = ca(alg, "Mesh");
    let server = leaf(&ca, alg, "server.test", "server.test");
    let client = leaf(&ca, alg, "trainer", "trainer.ml.svc");
    let der = pkcs12(
        &client.cert.cert_pem,
        &chain_of(&ca),
        &client.key,
        "pw",
        "trainer",
        Pkcs12Suite::Modern,
    )
    .unwrap();
    let p12 = write(d, "client.p12", &der);
    let password_file = write(d, "password", b"pw");
    let ca_pem = write(d, "ca.pem", ca.root.cert_pem.as_bytes());

    let srv = serve_once(
        vec![server.cert.cert_der.clone(), ca.inter.cert_der.clone()],
        &server.key,
        ca.root.cert_der.clone(),
        "must not arrive",
    );
    // A trusted server whose certificate does not name what the client asked for.
    let out = java_client(srv.port, "other.test", &p12, &password_file, &ca_pem);
    let served = srv.handle.join().unwrap();
    assert_eq!(out.code, Some(1), "{}\nserver: {served:?}", out.all());
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("other.test"), "{}", out.stderr);
    assert!(served.is_err(), "{served:?}");
}
