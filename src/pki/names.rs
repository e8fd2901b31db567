//! Distinguished names: the `subject` input, its DER encoding, and the string form Go's
//! `pkix.Name.String()` gives (what getCertificate reports as `subject` and `issuer`).
//!
//! Encoding follows terraform-provider-tls, which fills a Go `pkix.Name` and lets `crypto/x509`
//! marshal it: RDNs in the order C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER, then
//! emailAddress; multiple street addresses share one multi-valued RDN; values are PrintableString
//! when every character allows it, UTF8String otherwise; emailAddress is IA5String.

use x509_parser::prelude::FromDer as _;

use super::der;
use super::error::{PkiError, Result};
use super::oids::{self, Oid};
use const_oid::db::rfc2256::{
    STATE_OR_PROVINCE_NAME as OID_PROVINCE, STREET_ADDRESS as OID_STREET,
};
use const_oid::db::rfc3280::EMAIL_ADDRESS as OID_EMAIL;
use const_oid::db::rfc4519::{
    CN as OID_COMMON_NAME, COUNTRY_NAME as OID_COUNTRY, LOCALITY_NAME as OID_LOCALITY,
    ORGANIZATION_NAME as OID_ORGANIZATION, ORGANIZATIONAL_UNIT_NAME as OID_ORG_UNIT,
    POSTAL_CODE as OID_POSTAL_CODE, SERIAL_NUMBER as OID_SERIAL_NUMBER,
};

/// The certificate subject inputs of SelfSignedCert and CertRequest. Empty strings count as
/// absent (pulumi-tls' state upgrade drops them too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub common_name: Option<String>,
    pub country: Option<String>,
    pub email_address: Option<String>,
    pub locality: Option<String>,
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
    pub postal_code: Option<String>,
    pub province: Option<String>,
    pub serial_number: Option<String>,
    pub street_addresses: Vec<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Go's `isPrintable` as used when marshalling (no `*`, no `&`).
fn go_printable_for_marshal(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?')
}

/// The string type Go's `asn1.Marshal` picks for a plain Go string.
fn go_string_tag(s: &str) -> u8 {
    if s.bytes().all(go_printable_for_marshal) {
        der::TAG_PRINTABLE_STRING
    } else {
        der::TAG_UTF8_STRING
    }
}

fn atv(oid: &Oid, tag: u8, value: &str) -> Vec<u8> {
    der::sequence(&[&der::oid(oid), &der::tlv(tag, value.as_bytes())])
}

impl Subject {
    /// True when no attribute is set.
    pub fn is_empty(&self) -> bool {
        [
            &self.common_name,
            &self.country,
            &self.email_address,
            &self.locality,
            &self.organization,
            &self.organizational_unit,
            &self.postal_code,
            &self.province,
            &self.serial_number,
        ]
        .iter()
        .all(|v| present(v).is_none())
            && self.street_addresses.iter().all(|s| s.is_empty())
    }

    /// Checks the values can be encoded: the email address must be ASCII (IA5String).
    pub fn validate(&self) -> Result<()> {
        if let Some(email) = present(&self.email_address)
            && !email.is_ascii()
        {
            return Err(PkiError::InvalidInput(format!(
                "subject email_address {email:?} must be ASCII"
            )));
        }
        Ok(())
    }

    /// DER `Name`, encoded as Go's `crypto/x509` encodes the same `pkix.Name`.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut rdns: Vec<Vec<u8>> = Vec::new();
        let single = |oid: &Oid, v: &str| der::set_of(vec![atv(oid, go_string_tag(v), v)]);
        let fields: [(&Oid, Option<&str>); 3] = [
            (&OID_COUNTRY, present(&self.country)),
            (&OID_PROVINCE, present(&self.province)),
            (&OID_LOCALITY, present(&self.locality)),
        ];
        for (oid, v) in fields {
            if let Some(v) = v {
                rdns.push(single(oid, v));
            }
        }
        let streets: Vec<Vec<u8>> = self
            .street_addresses
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| atv(&OID_STREET, go_string_tag(s), s))
            .collect();
        if !streets.is_empty() {
            rdns.push(der::set_of(streets));
        }
        let fields: [(&Oid, Option<&str>); 5] = [
            (&OID_POSTAL_CODE, present(&self.postal_code)),
            (&OID_ORGANIZATION, present(&self.organization)),
            (&OID_ORG_UNIT, present(&self.organizational_unit)),
            (&OID_COMMON_NAME, present(&self.common_name)),
            (&OID_SERIAL_NUMBER, present(&self.serial_number)),
        ];
        for (oid, v) in fields {
            if let Some(v) = v {
                rdns.push(single(oid, v));
            }
        }
        if let Some(email) = present(&self.email_address) {
            rdns.push(der::set_of(vec![atv(
                &OID_EMAIL,
                der::TAG_IA5_STRING,
                email,
            )]));
        }
        Ok(der::tlv(der::TAG_SEQUENCE, &rdns.concat()))
    }

    /// The string Go prints for this subject (e.g. `CN=foo,O=bar,C=US`).
    pub fn to_go_string(&self) -> Result<String> {
        go_name_string(&self.to_der()?)
    }
}

/// Go's short names for the attributes it parses into `pkix.Name` fields.
fn go_short_name(oid: Option<Oid>) -> Option<&'static str> {
    match oid? {
        OID_COUNTRY => Some("C"),
        OID_ORGANIZATION => Some("O"),
        OID_ORG_UNIT => Some("OU"),
        OID_COMMON_NAME => Some("CN"),
        OID_SERIAL_NUMBER => Some("SERIALNUMBER"),
        OID_LOCALITY => Some("L"),
        OID_PROVINCE => Some("ST"),
        OID_STREET => Some("STREET"),
        OID_POSTAL_CODE => Some("POSTALCODE"),
        _ => None,
    }
}

/// Decodes an attribute value the way Go's certificate parser does (lossy where Go would
/// reject the certificate). `None` for types Go does not read as strings.
fn decode_value(tag: u32, data: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, PrintableString, T61String, IA5String, NumericString
        12 | 19 | 20 | 22 | 18 => Some(String::from_utf8_lossy(data).into_owned()),
        // BMPString: UTF-16BE, one trailing NUL dropped as Go does.
        30 => {
            let mut d = data;
            if d.len() >= 2 && d[d.len() - 1] == 0 && d[d.len() - 2] == 0 {
                d = &d[..d.len() - 2];
            }
            let units: Vec<u16> = d
                .chunks(2)
                .map(|c| match c {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => 0xfffd,
                })
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

/// Escapes a value as `pkix.RDNSequence.String()` does.
fn go_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.len().saturating_sub(1);
    for (k, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

struct Attr {
    /// `None` for an OID const-oid cannot hold; it matches no modelled field.
    oid: Option<Oid>,
    dotted: String,
    value: Option<String>,
    raw_tlv: Vec<u8>,
}

impl Attr {
    /// `oid=#hex` as Go renders attributes it has no short name for: the hex is the DER of the
    /// value re-marshalled as a Go string (PrintableString or UTF8String).
    fn render_unknown(&self) -> String {
        let der_value = match &self.value {
            Some(v) => der::tlv(go_string_tag(v), v.as_bytes()),
            None => self.raw_tlv.clone(),
        };
        format!("{}=#{}", self.dotted, hex::encode(der_value))
    }
}

/// Renders a DER `Name` as Go's `pkix.Name.String()` does for a parsed certificate: attributes
/// Go does not model come first in the sequence (so last in the string), then the modelled fields
/// in Go's fixed order; the sequence is printed in reverse, RDNs joined by `,`, values of one RDN
/// by `+`.
pub(crate) fn go_name_string(name_der: &[u8]) -> Result<String> {
    let (_, name) = x509_parser::x509::X509Name::from_der(name_der)
        .map_err(|e| PkiError::InvalidCertificate(format!("malformed distinguished name: {e}")))?;
    let mut attrs = Vec::new();
    for rdn in name.iter() {
        for a in rdn.iter() {
            let value = a.attr_value();
            let oid = oids::from_parsed(a.attr_type());
            let dotted = a.attr_type().to_id_string();
            let tag_byte = ((value.header.class() as u8) << 6)
                | if value.header.is_constructed() {
                    0x20
                } else {
                    0
                }
                | value.header.tag().0.min(30) as u8;
            let raw_tlv = der::tlv(tag_byte, value.data);
            attrs.push(Attr {
                oid,
                dotted,
                value: decode_value(value.header.tag().0, value.data),
                raw_tlv,
            });
        }
    }
    Ok(render_go_name(&attrs))
}

fn render_go_name(attrs: &[Attr]) -> String {
    // The modelled fields, filled as pkix.Name.FillFromRDNSequence does.
    let mut cn: Option<&str> = None;
    let mut serial: Option<&str> = None;
    let mut lists: [Vec<&str>; 7] = Default::default();
    // Order in ToRDNSequence: C, ST, L, STREET, POSTALCODE, O, OU.
    let list_oids: [Oid; 7] = [
        OID_COUNTRY,
        OID_PROVINCE,
        OID_LOCALITY,
        OID_STREET,
        OID_POSTAL_CODE,
        OID_ORGANIZATION,
        OID_ORG_UNIT,
    ];
    for a in attrs {
        let Some(v) = a.value.as_deref() else {
            continue;
        };
        if a.oid == Some(OID_COMMON_NAME) {
            cn = Some(v);
        } else if a.oid == Some(OID_SERIAL_NUMBER) {
            serial = Some(v);
        } else if let Some(i) = list_oids.iter().position(|o| a.oid == Some(*o)) {
            lists[i].push(v);
        }
    }

    // Each RDN is a list of rendered "type=value" strings.
    let mut rdns: Vec<Vec<String>> = Vec::new();
    for a in attrs {
        if go_short_name(a.oid).is_none() {
            rdns.push(vec![a.render_unknown()]);
        }
    }
    for (i, values) in lists.iter().enumerate() {
        if !values.is_empty() {
            let short = go_short_name(Some(list_oids[i])).unwrap_or("?");
            rdns.push(
                values
                    .iter()
                    .map(|v| format!("{short}={}", go_escape(v)))
                    .collect(),
            );
        }
    }
    if let Some(v) = cn.filter(|v| !v.is_empty()) {
        rdns.push(vec![format!("CN={}", go_escape(v))]);
    }
    if let Some(v) = serial.filter(|v| !v.is_empty()) {
        rdns.push(vec![format!("SERIALNUMBER={}", go_escape(v))]);
    }
    rdns.iter()
        .rev()
        .map(|rdn| rdn.join("+"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Subject {
        Subject {
            common_name: Some("example.com".into()),
            country: Some("US".into()),
            email_address: Some("ops@example.com".into()),
            locality: Some("Pirate Harbor".into()),
            organization: Some("Example, Inc".into()),
            organizational_unit: Some("ML Platform".into()),
            postal_code: Some("95559-1227".into()),
            province: Some("CA".into()),
            serial_number: Some("2".into()),
            street_addresses: vec!["5879 Cotton Link".into(), "Suite 1".into()],
        }
    }

    /// The street RDN is a DER SET, so its values come out sorted by encoding (shorter first),
    /// exactly as Go's marshaller sorts them.
    #[test]
    fn go_string_order_and_escaping() {
        let s = full().to_go_string().unwrap();
        assert_eq!(
            s,
            "SERIALNUMBER=2,CN=example.com,OU=ML Platform,O=Example\\, Inc,POSTALCODE=95559-1227,\
             STREET=Suite 1+STREET=5879 Cotton Link,L=Pirate Harbor,ST=CA,C=US,\
             1.2.840.113549.1.9.1=#0c0f6f7073406578616d706c652e636f6d"
        );
    }

    #[test]
    fn simple_subject() {
        let s = Subject {
            common_name: Some("R13".into()),
            organization: Some("Let's Encrypt".into()),
            country: Some("US".into()),
            ..Default::default()
        };
        assert_eq!(s.to_go_string().unwrap(), "CN=R13,O=Let's Encrypt,C=US");
    }

    #[test]
    fn empty_strings_are_absent() {
        let s = Subject {
            common_name: Some(String::new()),
            street_addresses: vec![String::new()],
            ..Default::default()
        };
        assert!(s.is_empty());
        assert_eq!(s.to_der().unwrap(), vec![0x30, 0x00]);
        assert_eq!(s.to_go_string().unwrap(), "");
        assert!(!full().is_empty());
    }

    #[test]
    fn string_types_follow_go() {
        assert_eq!(go_string_tag("Example Inc."), der::TAG_PRINTABLE_STRING);
        assert_eq!(go_string_tag("*.example.com"), der::TAG_UTF8_STRING);
        assert_eq!(go_string_tag("A&B"), der::TAG_UTF8_STRING);
        assert_eq!(go_string_tag("Zürich"), der::TAG_UTF8_STRING);
        assert_eq!(go_string_tag("a_b"), der::TAG_UTF8_STRING);
        let s = Subject {
            common_name: Some("*.svc".into()),
            ..Default::default()
        };
        let d = s.to_der().unwrap();
        // SEQ { SET { SEQ { OID 2.5.4.3, UTF8String "*.svc" } } }
        assert_eq!(
            d,
            vec![
                0x30, 0x10, 0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05, b'*',
                b'.', b's', b'v', b'c'
            ]
        );
    }

    #[test]
    fn escaping_rules() {
        assert_eq!(go_escape(" a b "), "\\ a b\\ ");
        assert_eq!(go_escape("#a#"), "\\#a#");
        assert_eq!(go_escape("a+b;c<d>\"e\\"), "a\\+b\\;c\\<d\\>\\\"e\\\\");
        assert_eq!(go_escape("é "), "é\\ ");
    }

    #[test]
    fn non_ascii_email_is_rejected() {
        let s = Subject {
            email_address: Some("jürgen@example.com".into()),
            ..Default::default()
        };
        assert!(matches!(s.to_der(), Err(PkiError::InvalidInput(_))));
    }

    #[test]
    fn malformed_name_is_an_error() {
        assert!(go_name_string(&[0x30, 0x05, 0x01]).is_err());
        assert!(go_name_string(&[]).is_err());
    }

    #[test]
    fn bmp_and_unknown_types_decode() {
        assert_eq!(
            decode_value(30, &[0, b'h', 0, b'i', 0, 0]).as_deref(),
            Some("hi")
        );
        assert_eq!(decode_value(4, b"x"), None);
    }
}
