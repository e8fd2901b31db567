//! PEM framing, in one place: reading blocks without echoing their content, writing them as
//! Go's `pem.EncodeToMemory` does (what pulumi-tls outputs), the canonical form inputs are
//! compared in, and certificate bundles.

use super::error::{PkiError, Result};
use base64::Engine as _;

/// PEM framing as Go's `pem.EncodeToMemory` does it: 64-column base64 and a final newline.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + label.len() * 2 + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// All PEM blocks in `input`, in order. Text around and between blocks is ignored.
pub fn blocks(input: &str) -> Result<Vec<pem::Pem>> {
    if input.trim().is_empty() {
        return Err(PkiError::MalformedPem("the value is empty".into()));
    }
    let blocks = pem::parse_many(input.as_bytes())
        .map_err(|e| PkiError::MalformedPem(describe_pem_error(&e)))?;
    if blocks.is_empty() {
        return Err(PkiError::MalformedPem("no PEM block found".into()));
    }
    Ok(blocks)
}

/// The pem crate's errors are structural; reword them without echoing input.
fn describe_pem_error(e: &pem::PemError) -> String {
    match e {
        pem::PemError::MismatchedTags(a, b) => {
            format!("BEGIN label {a:?} does not match END label {b:?}")
        }
        pem::PemError::MalformedFraming => "broken BEGIN/END framing".into(),
        pem::PemError::MissingBeginTag => "missing BEGIN line".into(),
        pem::PemError::MissingEndTag => "missing END line".into(),
        pem::PemError::MissingData => "block has no data".into(),
        pem::PemError::InvalidData(_) => "block body is not valid base64".into(),
        pem::PemError::InvalidHeader(_) => "block has a malformed header line".into(),
        pem::PemError::NotUtf8(_) => "block is not valid UTF-8".into(),
    }
}

/// The first PEM block, which must carry `label` (or one of `aliases`).
pub fn single_block(pem_text: &str, label: &str, aliases: &[&str]) -> Result<Vec<u8>> {
    let blocks = blocks(pem_text)?;
    let first = blocks
        .first()
        .ok_or_else(|| PkiError::MalformedPem("no PEM block found".into()))?;
    if first.tag() == label || aliases.contains(&first.tag()) {
        Ok(first.contents().to_vec())
    } else {
        Err(PkiError::UnexpectedPemType {
            expected: label.to_string(),
            found: first.tag().to_string(),
        })
    }
}

/// Whether two PEM texts hold the same blocks (framing, line length and text around them aside).
/// Texts that do not parse are the same only when equal.
pub fn same_blocks(a: &str, b: &str) -> bool {
    match (normalize(a), normalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Re-encodes every PEM block in canonical form (64-column base64, LF line ends, one trailing
/// newline, no text between blocks, headers dropped) so two spellings of the same PEM compare
/// equal.
pub fn normalize(pem_text: &str) -> Result<String> {
    Ok(blocks(pem_text)?
        .iter()
        .map(|b| encode(b.tag(), b.contents()))
        .collect())
}

/// The blocks of `parts`, in order, each once, in canonical form. A part that does not parse
/// is left out: bundles are built from what a backend returned, which was already used.
pub fn bundle(parts: &[&str]) -> String {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut out = String::new();
    for part in parts {
        for block in blocks(part).unwrap_or_default() {
            if seen.iter().any(|s| s.as_slice() == block.contents()) {
                continue;
            }
            seen.push(block.contents().to_vec());
            out.push_str(&encode(block.tag(), block.contents()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_blocks_ignores_framing_but_not_content() {
        let one = encode("CERTIFICATE", &[1, 2, 3]);
        let crlf = one.replace('\n', "\r\n");
        assert!(same_blocks(&one, one.trim_end()));
        assert!(same_blocks(&one, &format!("text before\n{crlf}")));
        assert!(!same_blocks(&one, &encode("CERTIFICATE", &[1, 2, 4])));
        assert!(!same_blocks("not pem", "not pem either"));
        assert!(same_blocks("not pem", "not pem"));
    }

    use super::*;

    #[test]
    fn pem_framing_matches_go() {
        let der = vec![0xabu8; 100];
        let p = encode("TEST", &der);
        assert!(p.starts_with("-----BEGIN TEST-----\n"));
        assert!(p.ends_with("-----END TEST-----\n"));
        assert!(!p.ends_with("\n\n"));
        for line in p.lines() {
            assert!(line.len() <= 64);
        }
        let blocks = blocks(&p).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].tag(), "TEST");
        assert_eq!(blocks[0].contents(), der.as_slice());
    }

    #[test]
    fn pem_errors_are_clear() {
        assert!(matches!(blocks(""), Err(PkiError::MalformedPem(_))));
        assert!(matches!(
            blocks("not pem at all"),
            Err(PkiError::MalformedPem(_))
        ));
        let broken = "-----BEGIN X-----\n!!!!\n-----END X-----\n";
        assert!(matches!(blocks(broken), Err(PkiError::MalformedPem(_))));
    }

    #[test]
    fn bundles_keep_order_and_drop_repeats_and_junk() {
        let a = encode("CERTIFICATE", &[0x30, 0x00]);
        let b = encode("CERTIFICATE", &[0x30, 0x01, 0x05]);
        let both = bundle(&[&format!("{a}{b}"), "junk", &a.replace('\n', "\r\n")]);
        assert_eq!(both, format!("{a}{b}"));
        assert_eq!(normalize(&format!("x\r\n{a}")).unwrap(), a);
        let err = normalize("not pem").unwrap_err().to_string();
        assert!(err.contains("no PEM block found"), "{err}");
    }
}
