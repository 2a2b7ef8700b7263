//! LinkedIn URNs (`urn:li:person:…`, `urn:li:organization:…`) as a typed value, and their
//! encodings: in a URL path, and in Rest.li 2.0 query syntax (`List(...)`, `(key:value)`).
//!
//! Rest.li 2.0 reserves `(`, `)`, `,`, `:` and `'` as syntax inside query values, so a URN
//! placed in a `List(...)` or a record has them percent-encoded (`urn%3Ali%3Aperson%3A…`),
//! while the syntax around it is not. In a path segment the whole URN is percent-encoded.

use std::fmt;

use socialconnect_core::{Error, Result};

/// Longest URN accepted (LinkedIn's are well under 200 bytes).
const MAX_URN: usize = 512;

/// A LinkedIn URN: `urn:li:{entity}:{id}`. The id may itself be a URN tuple
/// (`urn:li:share:(urn:li:person:x,1)`), kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Urn(String);

impl Urn {
    /// Parses and checks `text`: the `urn:li:` prefix, an entity of ASCII letters, a
    /// non-empty id without control characters, at most 512 bytes.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::invalid_input("not a LinkedIn URN (urn:li:{entity}:{id})");
        if text.len() > MAX_URN {
            return Err(bad());
        }
        let rest = text.strip_prefix("urn:li:").ok_or_else(bad)?;
        let (entity, id) = rest.split_once(':').ok_or_else(bad)?;
        if entity.is_empty()
            || !entity.bytes().all(|b| b.is_ascii_alphabetic())
            || id.is_empty()
            || id.chars().any(char::is_control)
        {
            return Err(bad());
        }
        Ok(Self(text.to_owned()))
    }

    /// `urn:li:{entity}:{id}` from its parts (checked as [`Urn::parse`] does).
    pub fn new(entity: &str, id: &str) -> Result<Self> {
        Self::parse(&format!("urn:li:{entity}:{id}"))
    }

    /// `urn:li:person:{sub}`, the member behind an OIDC `sub`.
    pub fn person(sub: &str) -> Result<Self> {
        Self::new("person", sub)
    }

    /// `urn:li:organization:{id}`.
    pub fn organization(id: &str) -> Result<Self> {
        Self::new("organization", id)
    }

    /// The URN's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The entity type (`person`, `organization`, `image`, …).
    pub fn entity(&self) -> &str {
        self.0["urn:li:".len()..]
            .split_once(':')
            .map_or("", |(e, _)| e)
    }

    /// The id after the entity.
    pub fn id(&self) -> &str {
        self.0["urn:li:".len()..]
            .split_once(':')
            .map_or("", |(_, id)| id)
    }

    /// The URN as one URL path segment: every byte outside the unreserved set
    /// percent-encoded (`urn%3Ali%3Ashare%3A123`).
    pub fn path_segment(&self) -> String {
        encode(&self.0, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
        })
    }

    /// The URN as a Rest.li 2.0 query value: the reserved syntax characters and anything a
    /// query cannot carry percent-encoded.
    pub fn restli(&self) -> String {
        restli_value(&self.0)
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Urn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Urn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = socialconnect_core::connect::decode::bounded_string::<_, MAX_URN>(d)?;
        Urn::parse(&text).map_err(|_| serde::de::Error::custom("not a LinkedIn URN"))
    }
}

/// One Rest.li 2.0 query value (a URN, a name): `( ) , : '` and every byte a query cannot carry
/// verbatim are percent-encoded.
pub fn restli_value(text: &str) -> String {
    encode(text, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

/// Rest.li `List(a,b,…)` of encoded values.
pub fn restli_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(restli_value).collect();
    format!("List({})", items.join(","))
}

/// Rest.li `(timeRange:(start:{ms},end:{ms}))` for a time-bound statistics query.
pub fn restli_time_range(start_ms: i64, end_ms: i64) -> String {
    format!("(timeRange:(start:{start_ms},end:{end_ms}))")
}

/// Decodes a percent-encoded value (for tests and for ids LinkedIn hands back encoded).
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn urns_parse_and_encode() {
        let u = Urn::parse("urn:li:share:(urn:li:person:a b,1)").unwrap();
        assert_eq!((u.entity(), u.id()), ("share", "(urn:li:person:a b,1)"));
        assert_eq!(
            u.path_segment(),
            "urn%3Ali%3Ashare%3A%28urn%3Ali%3Aperson%3Aa%20b%2C1%29"
        );
        assert_eq!(
            restli_list(["urn:li:share:1", "urn:li:ugcPost:2"]),
            "List(urn%3Ali%3Ashare%3A1,urn%3Ali%3AugcPost%3A2)"
        );
        assert_eq!(restli_time_range(1, 2), "(timeRange:(start:1,end:2))");
        for bad in [
            "",
            "urn:li:",
            "urn:li:person",
            "urn:li::x",
            "urn:li:pe rson:x",
            "urn:x:person:1",
            "urn:li:person:\n",
        ] {
            assert!(Urn::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Urn::parse(&format!("urn:li:person:{}", "x".repeat(600))).is_err());
        assert_eq!(Urn::person("abc").unwrap().as_str(), "urn:li:person:abc");
    }

    proptest! {
        /// URNs with reserved characters survive both encodings: nothing reserved is left
        /// bare, and decoding gives the URN back.
        #[test]
        fn encodings_round_trip(entity in "[a-zA-Z]{1,12}", id in "[^\\p{Cc}]{1,40}") {
            let urn = Urn::new(&entity, &id).unwrap();
            for encoded in [urn.path_segment(), urn.restli()] {
                prop_assert!(!encoded.contains(['(', ')', ',', ':', '\'', ' ', '/', '?', '#', '&', '=']));
                prop_assert_eq!(percent_decode(&encoded).unwrap(), urn.as_str());
            }
            let list = restli_list([urn.as_str(), urn.as_str()]);
            let inner = list.strip_prefix("List(").unwrap().strip_suffix(')').unwrap();
            let parts: Vec<&str> = inner.split(',').collect();
            prop_assert_eq!(parts.len(), 2);
            prop_assert_eq!(percent_decode(parts[0]).unwrap(), urn.as_str());
        }
    }
}
