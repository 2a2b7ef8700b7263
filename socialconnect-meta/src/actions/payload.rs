//! The payloads of Meta's scheduled actions, as hosts write them (JSON) and the executor reads
//! them back.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socialconnect_core::automation::ActionPayload;
use socialconnect_core::{Error, Result};
use url::Url;

use crate::pages::{FeedPost, Insight, InsightsQuery, MetricValue, Period};

/// `facebook.page_post`: a text and/or link post on a Page the user manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PagePost {
    /// The Page.
    pub page_id: String,
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A link to share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Url>,
}

impl ActionPayload for PagePost {
    const KIND: &'static str = "facebook.page_post";
}

impl PagePost {
    /// A text post on `page_id`.
    pub fn text(page_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            page_id: page_id.into(),
            message: Some(message.into()),
            link: None,
        }
    }

    pub(super) fn feed_post(&self) -> Result<FeedPost> {
        let post = match (&self.message, &self.link) {
            (Some(m), Some(l)) => FeedPost::link(l.clone()).with_message(m.clone()),
            (Some(m), None) => FeedPost::text(m.clone()),
            (None, Some(l)) => FeedPost::link(l.clone()),
            (None, None) => {
                return Err(Error::invalid_input(
                    "a Page post needs a message or a link",
                ));
            }
        };
        // The form check (lengths, URL schemes) runs now, not at the scheduled time.
        post.form()?;
        Ok(post)
    }
}

/// `facebook.comment_reply`: the Page comments on a post or replies to a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CommentReply {
    /// The Page that replies.
    pub page_id: String,
    /// The post or comment replied to.
    pub object_id: String,
    /// The reply's text.
    pub message: String,
}

impl ActionPayload for CommentReply {
    const KIND: &'static str = "facebook.comment_reply";
}

impl CommentReply {
    /// A reply as `page_id` on `object_id`.
    pub fn new(
        page_id: impl Into<String>,
        object_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            page_id: page_id.into(),
            object_id: object_id.into(),
            message: message.into(),
        }
    }

    pub(super) fn check(&self) -> Result<()> {
        if self.message.trim().is_empty() || self.message.chars().count() > 8_000 {
            return Err(Error::invalid_input("a reply is 1 to 8000 characters"));
        }
        if self.object_id.is_empty() || self.page_id.is_empty() {
            return Err(Error::invalid_input("a reply names its Page and object"));
        }
        Ok(())
    }
}

/// `facebook.page_insights`: a snapshot of Page metrics (the result holds the values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PageInsights {
    /// The Page.
    pub page_id: String,
    /// Metric names (`page_impressions_unique`).
    pub metrics: Vec<String>,
    /// `day`, `week`, `days_28` or `lifetime` (default `day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

impl ActionPayload for PageInsights {
    const KIND: &'static str = "facebook.page_insights";
}

impl PageInsights {
    /// Daily values of `metrics` on `page_id`.
    pub fn daily<I: IntoIterator<Item = S>, S: Into<String>>(
        page_id: impl Into<String>,
        metrics: I,
    ) -> Self {
        Self {
            page_id: page_id.into(),
            metrics: metrics.into_iter().map(Into::into).collect(),
            period: None,
        }
    }

    pub(super) fn query(&self) -> Result<InsightsQuery> {
        let period = match self.period.as_deref().unwrap_or("day") {
            "day" => Period::Day,
            "week" => Period::Week,
            "days_28" => Period::Days28,
            "lifetime" => Period::Lifetime,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown insights period `{other}`"
                )));
            }
        };
        Ok(InsightsQuery::new(self.metrics.clone()).period(period))
    }

    pub(super) fn check(&self) -> Result<()> {
        if self.metrics.is_empty() || self.metrics.len() > 50 {
            return Err(Error::invalid_input(
                "an insights snapshot names 1 to 50 metrics",
            ));
        }
        self.query().map(|_| ())
    }
}

/// `instagram.image`: a feed image from a public URL, with an optional caption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InstagramImage {
    /// The Instagram business account.
    pub ig_user_id: String,
    /// The image's public HTTPS URL (Meta fetches it).
    pub image_url: Url,
    /// The caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

impl ActionPayload for InstagramImage {
    const KIND: &'static str = "instagram.image";
}

impl InstagramImage {
    /// An image post on `ig_user_id`.
    pub fn new(ig_user_id: impl Into<String>, image_url: Url) -> Self {
        Self {
            ig_user_id: ig_user_id.into(),
            image_url,
            caption: None,
        }
    }

    /// With a caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    pub(super) fn check(&self) -> Result<()> {
        if !matches!(self.image_url.scheme(), "https" | "http") {
            return Err(Error::invalid_input("an image URL is http(s)"));
        }
        if self
            .caption
            .as_ref()
            .is_some_and(|c| c.chars().count() > 2_200)
        {
            return Err(Error::invalid_input(
                "an Instagram caption is at most 2200 characters",
            ));
        }
        if self.ig_user_id.is_empty() {
            return Err(Error::invalid_input("an image names its Instagram account"));
        }
        Ok(())
    }
}

fn metric_json(v: &MetricValue) -> Value {
    match v {
        MetricValue::Number(n) => Value::Number(n.clone()),
        MetricValue::Map(m) => Value::Object(m.clone().into_iter().collect()),
        MetricValue::Other(v) => v.clone(),
    }
}

/// Insights as the action's result.
pub(super) fn insights_json(insights: &[Insight]) -> Value {
    let metrics: Vec<Value> = insights
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "period": i.period.as_ref().map(|p| p.as_str().to_owned()),
                "values": i.values.iter().map(|p| json!({
                    "value": metric_json(&p.value),
                    "end_time": p.end_time.map(|t| t.to_rfc3339()),
                })).collect::<Vec<_>>(),
                "total": i.total.as_ref().map(metric_json),
            })
        })
        .collect();
    json!({ "metrics": metrics })
}
