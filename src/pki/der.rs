//! A small DER writer.
//!
//! Only what the certificate and request encoders need: definite-length TLVs, a handful of
//! universal types, context tags and times. Writing the structures here (rather than through
//! rcgen's certificate builder) lets issuer and subject names be copied byte for byte and keeps
//! extension order and criticality identical to Go's `crypto/x509`, which pulumi-tls uses.

use time::OffsetDateTime;

use super::error::{PkiError, Result};
use super::oids::Oid;

pub(crate) const TAG_BOOLEAN: u8 = 0x01;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_ENUMERATED: u8 = 0x0a;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0c;
pub(crate) const TAG_PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TAG_IA5_STRING: u8 = 0x16;
pub(crate) const TAG_UTC_TIME: u8 = 0x17;
pub(crate) const TAG_GENERALIZED_TIME: u8 = 0x18;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;

/// Appends a DER definite length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let significant = &bytes[first..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// One tag-length-value element.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements, in the given order.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &parts.concat())
}

/// A SET OF already-encoded elements, sorted as DER requires.
pub(crate) fn set_of(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
    parts.sort();
    tlv(TAG_SET, &parts.concat())
}

/// An OBJECT IDENTIFIER (const-oid holds its content octets already).
pub(crate) fn oid(oid: &Oid) -> Vec<u8> {
    tlv(TAG_OID, oid.as_bytes())
}

/// A non-negative INTEGER from big-endian magnitude bytes (leading zeros are trimmed).
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(magnitude.len());
    let trimmed = &magnitude[start..];
    let mut body = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(trimmed);
    tlv(TAG_INTEGER, &body)
}

/// A small non-negative INTEGER.
pub(crate) fn small_integer(value: u64) -> Vec<u8> {
    unsigned_integer(&value.to_be_bytes())
}

pub(crate) fn boolean(value: bool) -> Vec<u8> {
    tlv(TAG_BOOLEAN, &[if value { 0xff } else { 0x00 }])
}

pub(crate) fn null() -> Vec<u8> {
    tlv(TAG_NULL, &[])
}

pub(crate) fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(TAG_OCTET_STRING, content)
}

/// A BIT STRING with `unused` padding bits in its last byte.
pub(crate) fn bit_string(unused: u8, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 1);
    body.push(unused);
    body.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &body)
}

/// `[n] EXPLICIT` (constructed context tag) around an encoded element.
pub(crate) fn explicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

/// `[n] IMPLICIT` on a primitive type: the context tag replaces the universal one.
pub(crate) fn implicit_primitive(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0x80 | n, content)
}

/// RFC 5280 time: UTCTime for 1950..=2049, GeneralizedTime otherwise; always UTC, whole seconds.
pub(crate) fn time(t: OffsetDateTime) -> Result<Vec<u8>> {
    let t = t
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(|| PkiError::InvalidInput(format!("time {t} cannot be expressed in UTC")))?;
    let year = t.year();
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if (1950..=2049).contains(&year) {
        let text = format!("{:02}{rest}", year % 100);
        Ok(tlv(TAG_UTC_TIME, text.as_bytes()))
    } else if (0..=9999).contains(&year) {
        let text = format!("{year:04}{rest}");
        Ok(tlv(TAG_GENERALIZED_TIME, text.as_bytes()))
    } else {
        Err(PkiError::InvalidInput(format!(
            "time {t} is outside the range a certificate can encode (years 0 to 9999)"
        )))
    }
}

pub(crate) const TAG_BMP_STRING: u8 = 0x1e;

/// A BMPString (UCS-2, big-endian), as PKCS#9 `friendlyName` uses. Characters outside the Basic
/// Multilingual Plane have no UCS-2 form and are refused, rather than written as UTF-16
/// surrogates that readers would show as two broken characters.
pub(crate) fn bmp_string(text: &str) -> Result<Vec<u8>> {
    let mut body = Vec::with_capacity(text.len() * 2);
    for c in text.chars() {
        let unit = u16::try_from(u32::from(c)).map_err(|_| {
            PkiError::InvalidInput(format!(
                "character U+{:04X} is outside the Basic Multilingual Plane and cannot be \
                 written as a BMPString",
                u32::from(c)
            ))
        })?;
        body.extend_from_slice(&unit.to_be_bytes());
    }
    Ok(tlv(TAG_BMP_STRING, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_and_long() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = vec![0u8; 200];
        let enc = tlv(0x04, &long);
        assert_eq!(&enc[..3], &[0x04, 0x81, 200]);
        let longer = vec![0u8; 300];
        let enc = tlv(0x04, &longer);
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn oids_encode() {
        // sha256WithRSAEncryption
        assert_eq!(
            oid(&crate::pki::oids::SHA_256_WITH_RSA_ENCRYPTION),
            vec![
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
            ]
        );
        // Ed25519
        assert_eq!(
            oid(&crate::pki::oids::ID_ED_25519),
            vec![0x06, 0x03, 0x2b, 0x65, 0x70]
        );
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[0, 0, 5]), vec![0x02, 0x01, 0x05]);
        assert_eq!(unsigned_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        assert_eq!(small_integer(0), vec![0x02, 0x01, 0x00]);
        assert_eq!(small_integer(256), vec![0x02, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn set_of_sorts() {
        let s = set_of(vec![vec![0x02, 0x01, 0x09], vec![0x02, 0x01, 0x01]]);
        assert_eq!(s, vec![0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x09]);
    }

    #[test]
    fn times_pick_the_rfc5280_type() {
        let t = time::macros::datetime!(2030-01-02 03:04:05 UTC);
        assert_eq!(time(t).unwrap(), tlv(TAG_UTC_TIME, b"300102030405Z"));
        let t = time::macros::datetime!(2050-01-02 03:04:05 UTC);
        assert_eq!(
            time(t).unwrap(),
            tlv(TAG_GENERALIZED_TIME, b"20500102030405Z")
        );
        let t = time::macros::datetime!(1949-12-31 23:59:59 UTC);
        assert_eq!(
            time(t).unwrap(),
            tlv(TAG_GENERALIZED_TIME, b"19491231235959Z")
        );
        // Offsets are converted to UTC.
        let t = time::macros::datetime!(2030-01-02 03:04:05 +02:00);
        assert_eq!(time(t).unwrap(), tlv(TAG_UTC_TIME, b"300102010405Z"));
    }
}
