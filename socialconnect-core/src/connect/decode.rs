//! Tolerant decoding helpers for platform wire types, used with `#[serde(deserialize_with)]`.
//!
//! Platforms are loose about JSON types: Meta sends ids as strings or numbers, TikTok sends
//! 64-bit ids as numbers, counts arrive as `"12"`, flags as `"true"` or `1`. Wire structs use
//! these helpers so that a harmless variation never fails a whole response, while a value that
//! cannot be what the field means still does (an id is never a fraction, a boolean or an
//! object).
//!
//! | helper | accepts | gives |
//! |---|---|---|
//! | [`id`] / [`opt_id`] / [`ids`] | a string or an integer | the id as text, digits exactly as sent |
//! | [`loose_i64`] / [`loose_u64`] | an integer or a numeric string | `Some(n)`; anything else `None` |
//! | [`lenient_bool`] | `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"1"`/`"0"` | `Some(b)`; anything else `None` |
//! | [`bounded_string`] / [`opt_bounded_string`] | a string | at most `N` bytes, cut at a character boundary |
//! | [`null_as_default`] | `null` or a value | the value, or `T::default()` for `null` |
//! | [`opt_unix_seconds`] / [`opt_unix_millis`] | an integer or a numeric string | a UTC time; anything else `None` |
//!
//! Integers are never read through `f64`: serde_json hands integers to these helpers as
//! `u64`/`i64`, so `17841400000000001234` stays exactly that. A number with a fraction or an
//! exponent (`1.5`, `1e3`) reaches serde as a float and is refused by [`id`] and read as absent
//! by the loose helpers. An integer beyond `u64` is also a float to serde_json and is refused.
//!
//! ```
//! use serde::Deserialize;
//! use socialconnect_core::connect::decode;
//!
//! #[derive(Deserialize)]
//! struct Video {
//!     #[serde(deserialize_with = "decode::id")]
//!     id: String,
//!     #[serde(default, deserialize_with = "decode::loose_u64")]
//!     view_count: Option<u64>,
//!     #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 8>")]
//!     title: Option<String>,
//! }
//!
//! let v: Video = serde_json::from_str(
//!     r#"{"id": 7311111111111111111, "view_count": "12", "title": "a long title"}"#,
//! )?;
//! assert_eq!(v.id, "7311111111111111111");
//! assert_eq!(v.view_count, Some(12));
//! assert_eq!(v.title.as_deref(), Some("a long t"));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Truncates `text` to at most `max` bytes, cutting at a character boundary (so the result may
/// be up to three bytes shorter than `max`). Nothing is appended.
pub fn truncate(text: &mut String, max: usize) {
    let cut = floor_char_boundary(text, max);
    text.truncate(cut);
}

/// `text` truncated as by [`truncate`].
pub fn bounded(mut text: String, max: usize) -> String {
    truncate(&mut text, max);
    text
}

/// The largest index `<= max` that is a character boundary of `text`.
fn floor_char_boundary(text: &str, max: usize) -> usize {
    if max >= text.len() {
        return text.len();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

// ---------------------------------------------------------------------------------------------
// Ids

/// An id that may arrive as a JSON string or integer, returned as text. Integers keep their
/// exact digits (never through `f64`); fractions, booleans, `null`, arrays and objects are an
/// error.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(IdVisitor)
}

/// Like [`id`] for an optional field: `null` (or, with `#[serde(default)]`, absence) is `None`.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// A list of ids, each as for [`id`]; `null` is an empty list.
pub fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Vec<Wrap>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|w| w.0)
        .collect())
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id as a string or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Loose numbers and booleans

/// A JSON value reduced to what the loose helpers care about, read without building a
/// `serde_json::Value` (arrays and objects are skipped, not stored).
enum Scalar {
    Int(i128),
    Text(String),
    Bool(bool),
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
        Ok(i128::try_from(v).map_or(Scalar::Other, Scalar::Int))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        // A numeric string is short; a long one is not a number, so it is not copied.
        Ok(if v.len() <= 64 {
            Scalar::Text(v.to_owned())
        } else {
            Scalar::Other
        })
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// An integer from a JSON integer or a string holding one (surrounding whitespace allowed,
/// an optional sign); anything else — a fraction, `null`, text, an object — or a value out of
/// `T`'s range is `None`. Never an error.
fn loose_int<T: TryFrom<i128>>(value: Scalar) -> Option<T> {
    let wide = match value {
        Scalar::Int(n) => n,
        Scalar::Text(s) => s.trim().parse::<i128>().ok()?,
        Scalar::Bool(_) | Scalar::Other => return None,
    };
    T::try_from(wide).ok()
}

/// A signed integer sent as a number or a numeric string; `None` for anything else (see the
/// [module docs](self)). Use with `#[serde(default)]` so an absent field is `None` too.
pub fn loose_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(loose_int(scalar(d)?))
}

/// An unsigned integer sent as a number or a numeric string; `None` for anything else,
/// negative numbers included.
pub fn loose_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(loose_int(scalar(d)?))
}

/// A boolean sent as `true`/`false`, as `1`/`0`, or as one of those in a string (`"true"`,
/// `"FALSE"`, `"1"`); `None` for anything else. Use with `#[serde(default)]`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Bool(b) => Some(b),
        Scalar::Int(1) => Some(true),
        Scalar::Int(0) => Some(false),
        Scalar::Text(s) => match s.trim() {
            t if t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
            t if t.eq_ignore_ascii_case("false") || t == "0" => Some(false),
            _ => None,
        },
        Scalar::Int(_) | Scalar::Other => None,
    })
}

/// A time sent as unix seconds (a number or a numeric string); `None` for anything else or a
/// time chrono cannot represent.
pub fn opt_unix_seconds<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(loose_int::<i64>(scalar(d)?).and_then(|s| DateTime::from_timestamp(s, 0)))
}

/// A time sent as unix milliseconds (LinkedIn's `created.time`, TikTok's list cursor); `None`
/// for anything else or a time chrono cannot represent.
pub fn opt_unix_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(loose_int::<i64>(scalar(d)?).and_then(DateTime::from_timestamp_millis))
}

// ---------------------------------------------------------------------------------------------
// Bounded strings and nulls

/// A string kept to at most `N` bytes, cut at a character boundary; only the kept prefix is
/// copied. Anything but a string is an error. Use as
/// `#[serde(deserialize_with = "decode::bounded_string::<_, 512>")]`.
pub fn bounded_string<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<String, D::Error> {
    d.deserialize_str(BoundedVisitor::<N>)
}

/// Like [`bounded_string`] for an optional field: `null` is `None`. Use with
/// `#[serde(default)]`.
pub fn opt_bounded_string<'de, D: Deserializer<'de>, const N: usize>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap<const M: usize>(#[serde(deserialize_with = "bounded_string::<_, M>")] String);
    Ok(Option::<Wrap<N>>::deserialize(d)?.map(|w| w.0))
}

/// A string of at most `N` bytes, kept whole: a longer one is an error rather than cut (for
/// cursors and tokens, which a cut would silently break). Use as
/// `#[serde(deserialize_with = "decode::exact_string::<_, 2048>")]`.
pub fn exact_string<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<String, D::Error> {
    d.deserialize_str(ExactVisitor::<N>)
}

/// Like [`exact_string`] for an optional field: `null` is `None`. Use with
/// `#[serde(default)]`.
pub fn opt_exact_string<'de, D: Deserializer<'de>, const N: usize>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap<const M: usize>(#[serde(deserialize_with = "exact_string::<_, M>")] String);
    Ok(Option::<Wrap<N>>::deserialize(d)?.map(|w| w.0))
}

struct ExactVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for ExactVisitor<N> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string of at most {N} bytes")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if v.len() > N {
            return Err(E::invalid_length(v.len(), &self));
        }
        Ok(v.to_owned())
    }
}

struct BoundedVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for BoundedVisitor<N> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v[..floor_char_boundary(v, N)].to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(bounded(v, N))
    }
}

/// `T::default()` when the value is `null`, else the value. For platforms that send
/// `"data": null` where a list is meant. Use with `#[serde(default)]` to cover absence too.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Ids {
        #[serde(deserialize_with = "id")]
        id: String,
        #[serde(default, deserialize_with = "opt_id")]
        parent: Option<String>,
        #[serde(default, deserialize_with = "ids")]
        children: Vec<String>,
    }

    fn ids_of(json: &str) -> Result<Ids, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn ids_keep_every_digit() {
        let t = ids_of(
            r#"{"id":17841400000000001234,"parent":-42,"children":[1,"b",18446744073709551615]}"#,
        )
        .unwrap();
        assert_eq!(t.id, "17841400000000001234");
        assert_eq!(t.parent.as_deref(), Some("-42"));
        assert_eq!(t.children, ["1", "b", "18446744073709551615"]);
        // 2^53 + 1 is where f64 would round.
        assert_eq!(
            ids_of(r#"{"id":9007199254740993}"#).unwrap().id,
            "9007199254740993"
        );
        let t = ids_of(r#"{"id":"123_456","parent":null,"children":null}"#).unwrap();
        assert_eq!(
            (t.id.as_str(), t.parent, t.children.len()),
            ("123_456", None, 0)
        );
        assert!(ids_of(r#"{"id":"x"}"#).unwrap().parent.is_none());
    }

    #[test]
    fn ids_refuse_what_is_not_an_id() {
        for bad in [
            r#"{"id":1.5}"#,
            r#"{"id":1e3}"#,
            r#"{"id":true}"#,
            r#"{"id":null}"#,
            r#"{"id":[1]}"#,
            r#"{"id":{"v":1}}"#,
            // Beyond u64: serde_json reads it as a float, which would lose digits.
            r#"{"id":18446744073709551616}"#,
            r#"{"id":"1","parent":2.5}"#,
            r#"{"id":"1","children":[1,2.5]}"#,
        ] {
            assert!(ids_of(bad).is_err(), "{bad}");
        }
    }

    #[derive(Debug, Deserialize)]
    struct Loose {
        #[serde(default, deserialize_with = "loose_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "loose_u64")]
        u: Option<u64>,
        #[serde(default, deserialize_with = "lenient_bool")]
        b: Option<bool>,
    }

    fn loose(json: &str) -> Loose {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn loose_integers() {
        let l = loose(r#"{"i":-7,"u":"  12 "}"#);
        assert_eq!((l.i, l.u), (Some(-7), Some(12)));
        let l = loose(r#"{"i":"9223372036854775807","u":18446744073709551615}"#);
        assert_eq!((l.i, l.u), (Some(i64::MAX), Some(u64::MAX)));
        // Out of range, negative for unsigned, fractions, text, containers, null: absent.
        for (json, i, u) in [
            (r#"{"i":9223372036854775808,"u":-1}"#, None, None),
            (r#"{"i":1.0,"u":"1.0"}"#, None, None),
            (r#"{"i":"twelve","u":"0x10"}"#, None, None),
            (r#"{"i":[1,[2]],"u":{"a":{"b":1}}}"#, None, None),
            (r#"{"i":null,"u":true}"#, None, None),
            (r#"{"i":"","u":"+5"}"#, None, Some(5)),
            (r#"{}"#, None, None),
        ] {
            let l = loose(json);
            assert_eq!((l.i, l.u), (i, u), "{json}");
        }
        let long = format!(r#"{{"i":"{}"}}"#, "1".repeat(100));
        assert_eq!(loose(&long).i, None);
    }

    #[test]
    fn lenient_booleans() {
        for (json, want) in [
            ("true", Some(true)),
            ("false", Some(false)),
            ("1", Some(true)),
            ("0", Some(false)),
            (r#""TRUE""#, Some(true)),
            (r#"" false ""#, Some(false)),
            (r#""1""#, Some(true)),
            (r#""0""#, Some(false)),
            ("2", None),
            (r#""yes""#, None),
            ("null", None),
            ("0.0", None),
            ("[]", None),
        ] {
            assert_eq!(loose(&format!(r#"{{"b":{json}}}"#)).b, want, "{json}");
        }
    }

    #[derive(Debug, Deserialize)]
    struct Texts {
        #[serde(deserialize_with = "bounded_string::<_, 5>")]
        s: String,
        #[serde(default, deserialize_with = "opt_bounded_string::<_, 4>")]
        o: Option<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        list: Vec<u8>,
    }

    #[test]
    fn bounded_strings_cut_at_char_boundaries() {
        // "é" is two bytes: five bytes of "aéé" would split the second one.
        let t: Texts = serde_json::from_str(r#"{"s":"aééé","o":"ab€"}"#).unwrap();
        assert_eq!(t.s, "aéé");
        assert_eq!(t.o.as_deref(), Some("ab"));
        // Escapes make serde_json hand over an owned string: same rule.
        let t: Texts = serde_json::from_str(r#"{"s":"\u00e9\u00e9\u00e9","o":null}"#).unwrap();
        assert_eq!((t.s.as_str(), t.o), ("éé", None));
        let t: Texts = serde_json::from_str(r#"{"s":"","list":null}"#).unwrap();
        assert_eq!((t.s.as_str(), t.list.len()), ("", 0));
        let t: Texts = serde_json::from_str(r#"{"s":"x","list":[1,2]}"#).unwrap();
        assert_eq!(t.list, [1, 2]);
        assert!(serde_json::from_str::<Texts>(r#"{"s":5}"#).is_err());
        assert!(serde_json::from_str::<Texts>(r#"{"s":"x","o":5}"#).is_err());
        let mut s = "日本語".to_owned();
        truncate(&mut s, 4);
        assert_eq!(s, "日");
        assert_eq!(bounded("short".into(), 100), "short");
        assert_eq!(bounded("€".into(), 2), "");
    }

    #[test]
    fn exact_strings_are_kept_whole_or_refused() {
        #[derive(Debug, Deserialize)]
        struct Cursor {
            #[serde(default, deserialize_with = "opt_exact_string::<_, 4>")]
            next: Option<String>,
        }
        let ok: Cursor = serde_json::from_str(r#"{"next":"abcd"}"#).unwrap();
        assert_eq!(ok.next.as_deref(), Some("abcd"));
        let none: Cursor = serde_json::from_str(r#"{"next":null}"#).unwrap();
        assert_eq!(none.next, None);
        assert!(serde_json::from_str::<Cursor>(r#"{"next":"abcde"}"#).is_err());
        assert!(serde_json::from_str::<Cursor>(r#"{"next":"\u00e9\u00e9\u00e9"}"#).is_err());
        assert!(serde_json::from_str::<Cursor>(r#"{"next":7}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Times {
        #[serde(default, deserialize_with = "opt_unix_seconds")]
        s: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "opt_unix_millis")]
        ms: Option<DateTime<Utc>>,
    }

    #[test]
    fn unix_times() {
        let t: Times = serde_json::from_str(r#"{"s":1700000000,"ms":"1700000000123"}"#).unwrap();
        assert_eq!(t.s.unwrap().timestamp(), 1_700_000_000);
        assert_eq!(t.ms.unwrap().timestamp_millis(), 1_700_000_000_123);
        let t: Times = serde_json::from_str(r#"{"s":9223372036854775807,"ms":"soon"}"#).unwrap();
        assert_eq!((t.s, t.ms), (None, None));
    }

    proptest! {
        #[test]
        fn integer_ids_round_trip(n in any::<u64>(), i in any::<i64>()) {
            prop_assert_eq!(ids_of(&format!(r#"{{"id":{n}}}"#)).unwrap().id, n.to_string());
            prop_assert_eq!(ids_of(&format!(r#"{{"id":{i}}}"#)).unwrap().id, i.to_string());
            let l = loose(&format!(r#"{{"i":"{i}","u":{n}}}"#));
            prop_assert_eq!((l.i, l.u), (Some(i), Some(n)));
        }

        #[test]
        fn bounded_is_a_prefix_within_the_limit(s in ".{0,40}", max in 0usize..50) {
            let b = bounded(s.clone(), max);
            prop_assert!(b.len() <= max);
            prop_assert!(s.starts_with(&b));
            prop_assert!(s.len() <= max || max - b.len() < 4);
        }

        #[test]
        fn arbitrary_json_never_panics(json in ".{0,64}") {
            let _ = serde_json::from_str::<Loose>(&json);
            let _ = serde_json::from_str::<Ids>(&json);
            let _ = serde_json::from_str::<Texts>(&json);
            let _ = serde_json::from_str::<Times>(&json);
        }
    }
}
