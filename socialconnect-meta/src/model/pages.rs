//! Wire types of the Pages API (`/{page-id}/feed`, `/photos`, `/posts`, `/comments`,
//! `/insights`), tolerant of missing fields and of ids sent as numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::model::de;

/// `{"id": "..."}`: what a publish, a comment or a container creation answers.
#[derive(Debug, Deserialize)]
pub(crate) struct IdWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
}

/// `POST /{page-id}/photos`. The shape `{"id", "post_id"}` is UNCONFIRMED (recollection only),
/// so `post_id` is optional.
#[derive(Debug, Deserialize)]
pub(crate) struct PhotoWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default, deserialize_with = "de::opt_id")]
    pub post_id: Option<String>,
}

/// One item of `GET /{page-id}/posts`. `message` is absent on photo-only posts.
#[derive(Debug, Deserialize)]
pub(crate) struct PostWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub story: Option<String>,
    #[serde(default, deserialize_with = "de::opt_graph_time")]
    pub created_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub permalink_url: Option<String>,
}

/// `from` of a comment; absent when permissions do not allow it (UNCONFIRMED, experience).
#[derive(Debug, Deserialize)]
pub(crate) struct FromWire {
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// One item of `GET /{object-id}/comments`.
#[derive(Debug, Deserialize)]
pub(crate) struct CommentWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "de::opt_graph_time")]
    pub created_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub from: Option<FromWire>,
    #[serde(default, deserialize_with = "count")]
    pub like_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub comment_count: Option<u64>,
    #[serde(default)]
    pub permalink_url: Option<String>,
}

/// `GET /{page-id}?fields=...`.
#[derive(Debug, Deserialize)]
pub(crate) struct PageInfoWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "count")]
    pub fan_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub followers_count: Option<u64>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
}

/// One metric of an `/insights` answer (Pages and Instagram share the shape).
#[derive(Debug, Deserialize)]
pub(crate) struct InsightWire {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub values: Vec<InsightValueWire>,
    /// Newer Instagram metrics (`metric_type=total_value`).
    #[serde(default)]
    pub total_value: Option<TotalValueWire>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
}

/// `{"value": <number or object>, "end_time": "..."}`.
#[derive(Debug, Deserialize)]
pub(crate) struct InsightValueWire {
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default, deserialize_with = "de::opt_graph_time")]
    pub end_time: Option<DateTime<Utc>>,
}

/// `{"value": ..., "breakdowns": [...]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct TotalValueWire {
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub breakdowns: Vec<serde_json::Value>,
}

/// `{"data": [...]}` without paging we follow (insights pages by time, not by cursor).
#[derive(Debug, Deserialize)]
pub(crate) struct DataWire<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

/// A count as a number or a numeric string; anything else (null, negative, text) is absent
/// rather than a failed decode: counts are informative, never worth losing the item over.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_shapes() {
        let c: CommentWire = serde_json::from_str(
            r#"{"id":"1_2","like_count":"3","comment_count":null,"created_time":"2021-07-04T19:50:58+0000"}"#,
        )
        .unwrap();
        assert_eq!((c.like_count, c.comment_count), (Some(3), None));
        assert!(c.from.is_none());
        let p: PhotoWire = serde_json::from_str(r#"{"id":18446744073709551615}"#).unwrap();
        assert_eq!(p.id, "18446744073709551615");
        assert!(p.post_id.is_none());
        let i: InsightWire =
            serde_json::from_str(r#"{"name":"x","values":[{"value":{"a":1}}]}"#).unwrap();
        assert!(i.values[0].value.is_object());
    }
}
