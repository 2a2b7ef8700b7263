//! Organization statistics: share statistics (lifetime or time-bound, optionally for given
//! posts) and follower statistics (demographic facets, gains per time bucket, the total from
//! `networkSizes`). Organic only, over a rolling 12 months; the member needs the ADMINISTRATOR
//! role and `rw_organization_admin`.
//!
//! LinkedIn no longer returns `totalFollowerCounts`: the facet counts sit in
//! `organicFollowerCount`/`paidFollowerCount`, and the total comes from `networkSizes`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use socialconnect_core::connect::decode;
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, Result, Session};

use crate::client::LinkedInClient;
use crate::urn::{Urn, restli_list};

/// The most posts one share-statistics query names.
pub const MAX_POSTS_PER_QUERY: usize = 20;

/// How a time-bound query buckets its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Granularity {
    /// One bucket per day.
    Day,
    /// One bucket per month.
    Month,
}

/// A time-bound query's window (milliseconds are what LinkedIn takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Start, inclusive.
    pub start: DateTime<Utc>,
    /// End, exclusive.
    pub end: DateTime<Utc>,
    /// Bucket size.
    pub granularity: Granularity,
}

impl TimeWindow {
    /// The Rest.li `timeIntervals` value.
    fn restli(&self) -> String {
        let g = match self.granularity {
            Granularity::Day => "DAY",
            Granularity::Month => "MONTH",
        };
        format!(
            "(timeRange:(start:{},end:{}),timeGranularityType:{g})",
            self.start.timestamp_millis(),
            self.end.timestamp_millis()
        )
    }
}

/// Share statistics for a time bucket, or lifetime (`time_range` `None`), possibly of one post.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ShareStatistics {
    /// The bucket, for a time-bound query.
    pub time_range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The post, for a per-post query.
    pub post: Option<String>,
    /// Impressions.
    pub impressions: u64,
    /// Unique impressions.
    pub unique_impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Likes.
    pub likes: u64,
    /// Comments.
    pub comments: u64,
    /// Shares.
    pub shares: u64,
    /// Engagement rate (a fraction).
    pub engagement: f64,
}

/// Followers in one demographic bucket (a seniority, an industry, a country…).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowerFacet {
    /// The facet, e.g. `followerCountsBySeniority`.
    pub facet: String,
    /// The bucket's key (a URN, or an association type such as `EMPLOYEE`).
    pub key: String,
    /// Organic followers.
    pub organic: u64,
    /// Paid followers.
    pub paid: u64,
}

/// Followers gained in one time bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowerGain {
    /// The bucket.
    pub time_range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Organic gain.
    pub organic: u64,
    /// Paid gain.
    pub paid: u64,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Elements<T> {
    #[serde(default, deserialize_with = "decode::null_as_default")]
    elements: Vec<T>,
}

#[derive(Deserialize)]
struct RangeWire {
    #[serde(default, deserialize_with = "decode::opt_unix_millis")]
    start: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "decode::opt_unix_millis")]
    end: Option<DateTime<Utc>>,
}

impl RangeWire {
    fn pair(self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.start?, self.end?))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShareWire {
    #[serde(default)]
    time_range: Option<RangeWire>,
    #[serde(
        default,
        alias = "ugcPost",
        deserialize_with = "decode::opt_bounded_string::<_, 512>"
    )]
    share: Option<String>,
    #[serde(default)]
    total_share_statistics: TotalsWire,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TotalsWire {
    #[serde(default, deserialize_with = "decode::loose_u64")]
    impression_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    unique_impressions_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    click_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    like_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    comment_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    share_count: Option<u64>,
    #[serde(default)]
    engagement: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GainWire {
    #[serde(default)]
    time_range: Option<RangeWire>,
    #[serde(default)]
    follower_gains: Option<GainCounts>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GainCounts {
    #[serde(default, deserialize_with = "decode::loose_u64")]
    organic_follower_gain: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    paid_follower_gain: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkSizeWire {
    #[serde(deserialize_with = "decode::loose_u64")]
    first_degree_size: Option<u64>,
}

impl LinkedInClient {
    /// Share statistics of `organization`: lifetime, or per bucket of `window`; for the whole
    /// organization, or for `posts` (at most 20 URNs, `share` or `ugcPost`).
    pub async fn share_statistics(
        &self,
        session: &Session,
        organization: &Urn,
        window: Option<TimeWindow>,
        posts: &[Urn],
    ) -> Result<Vec<ShareStatistics>> {
        require_analytics(session)?;
        if posts.len() > MAX_POSTS_PER_QUERY {
            return Err(Error::invalid_input(
                "at most 20 posts per share-statistics query",
            ));
        }
        let mut query = format!(
            "organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={}",
            organization.restli()
        );
        if let Some(w) = window {
            query.push_str(&format!("&timeIntervals={}", w.restli()));
        }
        let shares: Vec<&str> = posts
            .iter()
            .filter(|p| p.entity() == "share")
            .map(Urn::as_str)
            .collect();
        let ugc: Vec<&str> = posts
            .iter()
            .filter(|p| p.entity() != "share")
            .map(Urn::as_str)
            .collect();
        if !shares.is_empty() {
            query.push_str(&format!("&shares={}", restli_list(shares)));
        }
        if !ugc.is_empty() {
            query.push_str(&format!("&ugcPosts={}", restli_list(ugc)));
        }
        let req = self
            .rest(http::Method::GET, &query)?
            .operation("statistics.shares");
        let page: Elements<ShareWire> = self.caller().send_json(session, req).await?;
        Ok(page
            .elements
            .into_iter()
            .map(|w| {
                let t = w.total_share_statistics;
                ShareStatistics {
                    time_range: w.time_range.and_then(RangeWire::pair),
                    post: w.share,
                    impressions: t.impression_count.unwrap_or(0),
                    unique_impressions: t.unique_impressions_count.unwrap_or(0),
                    clicks: t.click_count.unwrap_or(0),
                    likes: t.like_count.unwrap_or(0),
                    comments: t.comment_count.unwrap_or(0),
                    shares: t.share_count.unwrap_or(0),
                    engagement: t.engagement.filter(|e| e.is_finite()).unwrap_or(0.0),
                }
            })
            .collect())
    }

    /// Lifetime follower counts of `organization` by demographic facet (every
    /// `followerCountsBy*` array of the answer, read generically so a new facet is kept).
    pub async fn follower_facets(
        &self,
        session: &Session,
        organization: &Urn,
    ) -> Result<Vec<FollowerFacet>> {
        require_analytics(session)?;
        let page: Elements<serde_json::Map<String, Value>> =
            self.follower_query(session, organization, None).await?;
        let mut out = Vec::new();
        for element in page.elements {
            for (facet, rows) in element {
                let (Some(_), Some(rows)) =
                    (facet.strip_prefix("followerCountsBy"), rows.as_array())
                else {
                    continue;
                };
                for row in rows {
                    let counts = &row["followerCounts"];
                    let count = |k: &str| counts[k].as_u64().unwrap_or(0);
                    // The bucket's key is the one field beside `followerCounts`.
                    let key = row
                        .as_object()
                        .and_then(|o| o.iter().find(|(k, _)| *k != "followerCounts"))
                        .and_then(|(_, v)| v.as_str())
                        .unwrap_or_default();
                    out.push(FollowerFacet {
                        facet: facet.clone(),
                        key: decode::bounded(key.to_owned(), 512),
                        organic: count("organicFollowerCount"),
                        paid: count("paidFollowerCount"),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Followers gained per bucket of `window`.
    pub async fn follower_gains(
        &self,
        session: &Session,
        organization: &Urn,
        window: TimeWindow,
    ) -> Result<Vec<FollowerGain>> {
        require_analytics(session)?;
        let page: Elements<GainWire> = self
            .follower_query(session, organization, Some(window))
            .await?;
        Ok(page
            .elements
            .into_iter()
            .map(|w| {
                let g = w.follower_gains;
                FollowerGain {
                    time_range: w.time_range.and_then(RangeWire::pair),
                    organic: g
                        .as_ref()
                        .and_then(|g| g.organic_follower_gain)
                        .unwrap_or(0),
                    paid: g.as_ref().and_then(|g| g.paid_follower_gain).unwrap_or(0),
                }
            })
            .collect())
    }

    /// The organization's follower total, from `networkSizes` (`firstDegreeSize`).
    ///
    /// The `edgeType` value `COMPANY_FOLLOWED_BY_MEMBER` is UNCONFIRMED by the fact sheet.
    pub async fn follower_total(&self, session: &Session, organization: &Urn) -> Result<u64> {
        require_analytics(session)?;
        let req = self
            .rest(
                http::Method::GET,
                &format!(
                    "networkSizes/{}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
                    organization.path_segment()
                ),
            )?
            .operation("statistics.network_size");
        let size: NetworkSizeWire = self.caller().send_json(session, req).await?;
        size.first_degree_size.ok_or_else(|| {
            Error::invalid_input("LinkedIn's network size carries no firstDegreeSize")
        })
    }

    async fn follower_query<T: serde::de::DeserializeOwned>(
        &self,
        session: &Session,
        organization: &Urn,
        window: Option<TimeWindow>,
    ) -> Result<T> {
        let mut query = format!(
            "organizationalEntityFollowerStatistics?q=organizationalEntity&organizationalEntity={}",
            organization.restli()
        );
        if let Some(w) = window {
            query.push_str(&format!("&timeIntervals={}", w.restli()));
        }
        let req = self
            .rest(http::Method::GET, &query)?
            .operation("statistics.followers");
        self.caller().send_json(session, req).await
    }
}

fn require_analytics(session: &Session) -> Result<()> {
    if session.purpose() == Purpose::Analytics {
        Ok(())
    } else {
        Err(Error::ConsentRequired {
            purpose: Purpose::Analytics,
            platform: session.key().platform.clone(),
        })
    }
}
