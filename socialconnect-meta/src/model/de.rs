//! Deserializers for Meta's loose typing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

// Ids as strings or numbers are the platform kit's; only Graph's datetime format is Meta's own.
pub(crate) use socialconnect_core::connect::decode::{id, opt_id};

/// Parses a Graph datetime: `2021-07-04T19:50:58+0000` (offset without a colon), also
/// accepting RFC 3339.
pub(crate) fn parse_graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An optional Graph datetime; unparsable text is an error.
pub(crate) fn opt_graph_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_graph_time(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("not a Graph datetime")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "id")]
        id: String,
        #[serde(default, deserialize_with = "opt_graph_time")]
        at: Option<DateTime<Utc>>,
    }

    #[test]
    fn ids_and_times() {
        let t: T =
            serde_json::from_str(r#"{"id":17841400000000001234,"at":"2021-07-04T19:50:58+0000"}"#)
                .unwrap();
        assert_eq!(t.id, "17841400000000001234");
        assert_eq!(t.at.unwrap().to_rfc3339(), "2021-07-04T19:50:58+00:00");
        let t: T = serde_json::from_str(r#"{"id":"123_456"}"#).unwrap();
        assert_eq!(t.id, "123_456");
        assert!(serde_json::from_str::<T>(r#"{"id":1.5}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"id":"1","at":"yesterday"}"#).is_err());
    }
}
