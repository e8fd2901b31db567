//! Pure key and certificate functions (no I/O, no protocol types).
//!
//! This is the library the `tls` module's resources (PrivateKey, CertRequest, SelfSignedCert,
//! LocallySignedCert) and functions (getPublicKey, getCertificate) are built on. Outputs match
//! pulumi-tls v5 / terraform-provider-tls v4 (which use Go's `crypto/x509` and `x/crypto/ssh`)
//! byte for byte where that is meaningful: PEM framing, key encodings, fingerprints, ids,
//! distinguished-name encoding, extension order and criticality, and the strings Go prints for
//! names and algorithms. Deliberate differences are listed in the item docs.
//!
//! Time and randomness are injectable where they shape outputs: certificate functions take `now`
//! and optional serial bytes.

mod certs;
mod constraints;
mod crl;
mod der;
mod error;
pub mod framing;
mod inspect;
mod keys;
mod names;
mod oids;
mod pkcs12;
mod uses;
mod verify;

pub use certs::{
    CertSpec, CsrOutput, IssueOptions, IssuedCert, NOT_CA_WARNING_DETAIL, NOT_CA_WARNING_SUMMARY,
    Pointers, Refusals, check_pointer_url, create_csr, locally_signed, self_signed,
    signing_refusals,
};
pub use constraints::{
    IpRange, NameConstraints, NameViolation, RequestNames, dns_matches, email_matches,
    parse_dns_subtree, parse_email_subtree, parse_ip_subtree, parse_uri_subtree, uri_matches,
};
pub use crl::{
    CrlSpec, RevocationReason, Revoked, SignedCrl, crl_issuer_problem, parse_serial, sign_crl,
};
pub use error::{PkiError, Result};
pub use framing::normalize as normalize_pem;
pub use inspect::{
    CertificateInfo, CsrInfo, cert_info, cert_info_der, csr_info, serial_colon_hex,
    validate_cert_pem, validate_csr_pem,
};
pub use keys::{
    EcdsaCurve, KeyAlgorithm, KeyMaterial, ParsedKey, PrivateKeyFormat, PublicKeyInfo,
    SUPPORTED_RSA_BITS, generate_key, parse_private_key, public_outputs, validate_private_key_pem,
};
pub use names::Subject;
pub use pkcs12::{
    Pkcs12Suite, check_key_matches_cert, pkcs12, pkcs12_default_friendly_name,
    validate_friendly_name, validate_pkcs12_password,
};
pub use uses::AllowedUse;

use sha1::{Digest as _, Sha1};

/// The id terraform-provider-tls stores for keys and requests (`hashForState`): lowercase hex
/// SHA-1 of the bytes after Go's `strings.TrimSpace`. The trim matters: DER that happens to end in
/// a byte Go counts as white space (`\t \n \v \f \r` or space, or a UTF-8 encoded Unicode space)
/// is hashed without it, so ids match upstream for every key.
pub fn state_hash(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(go_trim_space(bytes)))
}

/// Go's `unicode.IsSpace`.
fn go_is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Decodes the rune at the start of `b` the way Go's `utf8.DecodeRune` does: `None` stands for
/// `RuneError` (invalid), always consuming one byte then.
fn first_rune(b: &[u8]) -> (Option<char>, usize) {
    let want = match b.first() {
        None => return (None, 0),
        Some(x) if *x < 0x80 => 1,
        Some(x) if *x & 0xe0 == 0xc0 => 2,
        Some(x) if *x & 0xf0 == 0xe0 => 3,
        Some(x) if *x & 0xf8 == 0xf0 => 4,
        Some(_) => return (None, 1),
    };
    match b.get(..want).and_then(|s| std::str::from_utf8(s).ok()) {
        Some(s) => (s.chars().next(), want),
        None => (None, 1),
    }
}

/// Go's `utf8.DecodeLastRune`, with `None` for `RuneError`.
fn last_rune(b: &[u8]) -> (Option<char>, usize) {
    let end = b.len();
    let Some(last) = b.last() else {
        return (None, 0);
    };
    if *last < 0x80 {
        return (Some(*last as char), 1);
    }
    let lim = end.saturating_sub(4);
    let mut start = end - 1;
    while start > lim {
        start -= 1;
        if b[start] & 0xc0 != 0x80 {
            break;
        }
    }
    match first_rune(&b[start..]) {
        (Some(c), size) if start + size == end => (Some(c), size),
        _ => (None, 1),
    }
}

/// Go's `strings.TrimSpace` on raw bytes.
fn go_trim_space(mut b: &[u8]) -> &[u8] {
    loop {
        match first_rune(b) {
            (Some(c), n) if go_is_space(c) => b = &b[n..],
            _ => break,
        }
    }
    loop {
        match last_rune(b) {
            (Some(c), n) if go_is_space(c) => b = &b[..b.len() - n],
            _ => break,
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_space_matches_go_semantics() {
        assert_eq!(go_trim_space(b"  abc \n"), b"abc");
        assert_eq!(go_trim_space(b"\x30\x01\x0a"), b"\x30\x01");
        // U+00A0 (NBSP, C2 A0) and U+0085 (C2 85) are spaces; a lone A0 byte is not.
        assert_eq!(go_trim_space(b"\x30\xc2\xa0"), b"\x30");
        assert_eq!(go_trim_space(b"\x30\xc2\x85\x20"), b"\x30");
        assert_eq!(go_trim_space(b"\x30\xa0"), b"\x30\xa0");
        // U+3000 ideographic space (E3 80 80).
        assert_eq!(go_trim_space(b"\x30\xe3\x80\x80"), b"\x30");
        // Invalid sequences stop trimming.
        assert_eq!(go_trim_space(b"\x30\xff\x20"), b"\x30\xff");
        assert_eq!(go_trim_space(b""), b"");
        assert_eq!(go_trim_space(b"   "), b"");
    }

    /// Tiny deterministic generator for the robustness test.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Garbage, truncated and bit-flipped inputs give errors, never panics.
    #[test]
    fn no_panics_on_damaged_input() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let ed = generate_key(KeyAlgorithm::Ed25519).unwrap();
        let ec = generate_key(KeyAlgorithm::Ecdsa(EcdsaCurve::P521)).unwrap();
        let rsa = keys::tests::rsa_material();
        let key = parse_private_key(&ec.private_key_pem).unwrap();
        let mut ca_opts = IssueOptions::new(1, time::OffsetDateTime::UNIX_EPOCH);
        ca_opts.is_ca = true;
        let subject = Subject {
            common_name: Some("ca".into()),
            ..Default::default()
        };
        let ca = self_signed(
            &key,
            &CertSpec {
                subject: subject.clone(),
                dns_names: vec!["a.example".into()],
                ip_addresses: vec![],
                uris: vec!["spiffe://x/y".into()],
                set_authority_key_id: true,
                options: ca_opts.clone(),
            },
        )
        .unwrap();
        let csr = create_csr(&key, &subject, &["b.example".into()], &[], &[]).unwrap();

        let samples: Vec<(String, Vec<u8>)> = [
            &ed.private_key_pem,
            &ed.private_key_openssh,
            &ec.private_key_pem,
            &ec.private_key_pem_pkcs8,
            &ec.private_key_openssh,
            &rsa.private_key_pem,
            &ca.cert_pem,
            &csr.csr_pem,
        ]
        .iter()
        .map(|p| {
            let b = &framing::blocks(p).unwrap()[0];
            (b.tag().to_string(), b.contents().to_vec())
        })
        .collect();

        let exercise = |label: &str, body: &[u8]| {
            let text = framing::encode(label, body);
            let _ = parse_private_key(&text).map(|k| k.key_material());
            let _ = cert_info(&text);
            let _ = csr_info(&text);
            let _ = validate_cert_pem(&text);
            if label == "CERTIFICATE REQUEST" {
                let _ = locally_signed(&text, &ca.cert_pem, &key, &ca_opts);
            }
            if label == "CERTIFICATE" {
                let _ = locally_signed(&csr.csr_pem, &text, &key, &ca_opts);
            }
        };

        for (label, body) in &samples {
            let rounds = if label == "RSA PRIVATE KEY" { 60 } else { 400 };
            // Every truncation point of short bodies, sampled ones of long bodies.
            let step = (body.len() / 60).max(1);
            for cut in (0..body.len()).step_by(step) {
                exercise(label, &body[..cut]);
            }
            for _ in 0..rounds {
                let mut m = body.clone();
                let flips = 1 + (rng.next() % 3) as usize;
                for _ in 0..flips {
                    let i = (rng.next() as usize) % m.len();
                    m[i] ^= 1 << (rng.next() % 8);
                }
                exercise(label, &m);
            }
            for _ in 0..50 {
                let len = (rng.next() % 200) as usize;
                let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                exercise(label, &junk);
            }
        }
    }

    #[test]
    fn state_hash_is_sha1_hex() {
        // sha1("abc")
        assert_eq!(
            state_hash(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(state_hash(b"abc\n"), state_hash(b"abc"));
    }
}
