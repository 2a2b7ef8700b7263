//! Wire types of Instagram content publishing and reading (`/{ig-user-id}/media`,
//! `/{container-id}?fields=status_code,status`, `/content_publishing_limit`, `/comments`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::model::de;
use crate::model::pages::count;

/// `GET /{container-id}?fields=status_code,status`. The text of `status` for non-FINISHED
/// states is UNCONFIRMED, so it is kept verbatim.
#[derive(Debug, Deserialize)]
pub(crate) struct ContainerStatusWire {
    #[serde(default)]
    pub status_code: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// One entry of `content_publishing_limit`'s `data`.
#[derive(Debug, Deserialize)]
pub(crate) struct PublishingLimitWire {
    #[serde(default, deserialize_with = "count")]
    pub quota_usage: Option<u64>,
    /// Absent when `fields` did not ask for it.
    #[serde(default)]
    pub config: Option<PublishingConfigWire>,
}

/// `config{quota_total, quota_duration}`: the limit is read, never assumed (sources disagree:
/// 25, 50 or 100 posts per 24 h).
#[derive(Debug, Deserialize)]
pub(crate) struct PublishingConfigWire {
    #[serde(default, deserialize_with = "count")]
    pub quota_total: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub quota_duration: Option<u64>,
}

/// One item of `GET /{ig-user-id}/media`.
#[derive(Debug, Deserialize)]
pub(crate) struct MediaWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub media_product_type: Option<String>,
    #[serde(default)]
    pub media_url: Option<String>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default, deserialize_with = "de::opt_graph_time")]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "count")]
    pub like_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub comments_count: Option<u64>,
}

/// One item of `GET /{ig-media-id}/comments` (`username` and `like_count` are not always sent).
#[derive(Debug, Deserialize)]
pub(crate) struct IgCommentWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "de::opt_graph_time")]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "count")]
    pub like_count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_without_config_and_odd_statuses() {
        let l: PublishingLimitWire = serde_json::from_str(r#"{"quota_usage":2}"#).unwrap();
        assert_eq!(l.quota_usage, Some(2));
        assert!(l.config.is_none());
        let s: ContainerStatusWire =
            serde_json::from_str(r#"{"status_code":"SOMETHING_NEW"}"#).unwrap();
        assert_eq!(s.status_code.as_deref(), Some("SOMETHING_NEW"));
        assert!(s.status.is_none());
    }
}
