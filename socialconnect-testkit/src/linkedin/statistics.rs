//! Organization statistics: share statistics (lifetime, per time bucket, per post) and
//! follower statistics (demographic facets, gains per bucket) through the `organizationalEntity`
//! finder, and the follower total from `networkSizes`. The query is read as Rest.li 2.0, so a
//! malformed `timeIntervals` or `List(...)` is a 400. Numbers are deterministic: a base per
//! organization, plus what the simulator's own posts and comments add.

use chrono::{DateTime, Months, TimeZone, Utc};
use serde_json::{Value, json};

use super::model::Post;
use super::restli::{self, RestLi};
use super::state::Cx;
use super::wire;
use crate::sim::Reply;

/// The follower total of an organization not given one by the builder.
pub(crate) const DEFAULT_FOLLOWERS: u64 = 18_342;
/// The most buckets a time-bound query may span.
const MAX_BUCKETS: usize = 400;
/// The most posts one query names.
const MAX_POSTS: usize = 20;

/// One time bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// The finder's parameters, parsed.
struct Query {
    organization: String,
    buckets: Option<Vec<Bucket>>,
    posts: Vec<String>,
}

/// Reads `q=organizationalEntity&organizationalEntity=…[&timeIntervals=…][&shares=…][&ugcPosts=…]`;
/// `posts_allowed` is false for follower statistics. `Err` the 400.
fn query(cx: &Cx<'_>, posts_allowed: bool) -> Result<Query, Reply> {
    let pairs = restli::raw_pairs(cx.call.raw_query.as_deref());
    let mut allowed = vec!["q", "organizationalEntity", "timeIntervals"];
    if posts_allowed {
        allowed.extend(["shares", "ugcPosts"]);
    }
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(wire::bad_request(format!("unknown query parameter `{k}`")));
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("q") != Some("organizationalEntity") {
        return Err(wire::bad_request("the finder is q=organizationalEntity"));
    }
    let organization = match get("organizationalEntity").map(restli::parse) {
        Some(Ok(RestLi::Leaf(urn))) if wire::urn_entity(&urn) == Some("organization") => urn,
        Some(Ok(_)) => {
            return Err(wire::bad_request(
                "organizationalEntity must be an organization URN",
            ));
        }
        Some(Err(e)) => return Err(wire::bad_request(format!("organizationalEntity: {e}"))),
        None => return Err(wire::bad_request("organizationalEntity is required")),
    };
    let buckets = match get("timeIntervals") {
        None => None,
        Some(raw) => {
            Some(buckets(raw).map_err(|e| wire::bad_request(format!("timeIntervals: {e}")))?)
        }
    };
    let mut posts = Vec::new();
    for (param, entity) in [("shares", "share"), ("ugcPosts", "ugcPost")] {
        let Some(raw) = get(param) else { continue };
        let list = match restli::parse(raw) {
            Ok(RestLi::List(items)) => items,
            Ok(_) => return Err(wire::bad_request(format!("{param} must be a List(...)"))),
            Err(e) => return Err(wire::bad_request(format!("{param}: {e}"))),
        };
        for item in &list {
            match item.leaf() {
                Some(urn) if wire::urn_entity(urn) == Some(entity) => posts.push(urn.to_owned()),
                _ => {
                    return Err(wire::bad_request(format!(
                        "{param} holds only urn:li:{entity}:… URNs"
                    )));
                }
            }
        }
    }
    if posts.len() > MAX_POSTS {
        return Err(wire::bad_request("at most 20 posts per query"));
    }
    Ok(Query {
        organization,
        buckets,
        posts,
    })
}

/// `(timeRange:(start:ms,end:ms),timeGranularityType:DAY|MONTH)` as buckets.
fn buckets(raw: &str) -> Result<Vec<Bucket>, String> {
    let value = restli::parse(raw)?;
    let range = value.field("timeRange").ok_or("timeRange is required")?;
    let millis = |name: &str| -> Result<DateTime<Utc>, String> {
        range
            .field(name)
            .and_then(RestLi::leaf)
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .ok_or_else(|| format!("timeRange.{name} must be epoch milliseconds"))
    };
    let (start, end) = (millis("start")?, millis("end")?);
    if start >= end {
        return Err("timeRange.start must be before timeRange.end".into());
    }
    let step: fn(DateTime<Utc>) -> Option<DateTime<Utc>> =
        match value.field("timeGranularityType").and_then(RestLi::leaf) {
            Some("DAY") => |t: DateTime<Utc>| t.checked_add_signed(chrono::TimeDelta::days(1)),
            Some("MONTH") => |t: DateTime<Utc>| t.checked_add_months(Months::new(1)),
            _ => return Err("timeGranularityType must be DAY or MONTH".into()),
        };
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let next = step(at).ok_or("the time range is out of bounds")?.min(end);
        out.push(Bucket {
            start: at,
            end: next,
        });
        if out.len() > MAX_BUCKETS {
            return Err(format!(
                "the time range spans more than {MAX_BUCKETS} buckets"
            ));
        }
        at = next;
    }
    Ok(out)
}

fn range_json(b: &Bucket) -> Value {
    json!({ "start": b.start.timestamp_millis(), "end": b.end.timestamp_millis() })
}

/// Share counts: impressions, unique impressions, clicks, likes, comments, shares.
#[derive(Debug, Default, Clone, Copy)]
struct Counts([u64; 6]);

impl Counts {
    fn add(self, other: Counts) -> Counts {
        let mut out = self.0;
        for (o, x) in out.iter_mut().zip(other.0) {
            *o += x;
        }
        Counts(out)
    }

    fn to_json(self) -> Value {
        let [impressions, unique, clicks, likes, comments, shares] = self.0;
        let engagement = if impressions == 0 {
            0.0
        } else {
            (clicks + likes + comments + shares) as f64 / impressions as f64
        };
        json!({
            "impressionCount": impressions,
            "uniqueImpressionsCount": unique,
            "clickCount": clicks,
            "likeCount": likes,
            "commentCount": comments,
            "shareCount": shares,
            "engagement": engagement,
        })
    }
}

/// What one of the simulator's posts adds: 100 impressions, 60 unique, 3 clicks, 2 likes, and
/// its comments.
fn post_counts(cx: &Cx<'_>, post: &Post) -> Counts {
    Counts([100, 60, 3, 2, cx.st.comments_on(&post.urn).len() as u64, 0])
}

fn org_posts<'a>(cx: &'a Cx<'_>, org: &str) -> Vec<&'a Post> {
    cx.st.posts.iter().filter(|p| p.author == org).collect()
}

fn stats_page(elements: Vec<Value>) -> Reply {
    Reply::ok(json!({ "paging": { "start": 0, "count": 10, "links": [] }, "elements": elements }))
}

/// `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&…`.
pub(crate) fn shares(cx: &mut Cx<'_>) -> Reply {
    let q = match query(cx, true) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    if let Err(reply) = cx.need_admin(&q.organization, "FINDER-organizationalEntity") {
        return reply;
    }
    let org = q.organization.as_str();
    let posts = org_posts(cx, org);
    let mut elements = Vec::new();
    if !q.posts.is_empty() {
        for urn in &q.posts {
            let Some(post) = posts.iter().find(|p| &p.urn == urn) else {
                return wire::bad_request(format!("{urn} is not a post of {org}"));
            };
            let key = if urn.starts_with("urn:li:share:") {
                "share"
            } else {
                "ugcPost"
            };
            let counts = post_counts(cx, post);
            match &q.buckets {
                None => elements.push(json!({
                    "organizationalEntity": org, key: urn, "totalShareStatistics": counts.to_json(),
                })),
                Some(buckets) => {
                    for b in buckets {
                        let inside = (b.start..b.end).contains(&post.created_at);
                        let c = if inside { counts } else { Counts::default() };
                        elements.push(json!({
                            "organizationalEntity": org, key: urn, "timeRange": range_json(b),
                            "totalShareStatistics": c.to_json(),
                        }));
                    }
                }
            }
        }
        return stats_page(elements);
    }
    match &q.buckets {
        None => {
            let total = posts
                .iter()
                .fold(Counts([3100, 1200, 87, 52, 9, 14]), |acc, p| {
                    acc.add(post_counts(cx, p))
                });
            elements.push(
                json!({ "organizationalEntity": org, "totalShareStatistics": total.to_json() }),
            );
        }
        Some(buckets) => {
            for (i, b) in buckets.iter().enumerate() {
                let i = i as u64;
                let base = Counts([
                    100 + 10 * (i % 7),
                    40 + 4 * (i % 7),
                    2 + i % 3,
                    1 + i % 4,
                    i % 2,
                    u64::from(i.is_multiple_of(3)),
                ]);
                let total = posts
                    .iter()
                    .filter(|p| (b.start..b.end).contains(&p.created_at))
                    .fold(base, |acc, p| acc.add(post_counts(cx, p)));
                elements.push(json!({
                    "organizationalEntity": org, "timeRange": range_json(b),
                    "totalShareStatistics": total.to_json(),
                }));
            }
        }
    }
    stats_page(elements)
}

/// `GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity&…`: lifetime
/// facets (counts in `organicFollowerCount`/`paidFollowerCount`, no `totalFollowerCounts`), or
/// `followerGains` per bucket.
pub(crate) fn followers(cx: &mut Cx<'_>) -> Reply {
    let q = match query(cx, false) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    if let Err(reply) = cx.need_admin(&q.organization, "FINDER-organizationalEntity") {
        return reply;
    }
    let org = q.organization.as_str();
    let counts = |organic: u64, paid: u64| json!({ "organicFollowerCount": organic, "paidFollowerCount": paid });
    let elements = match &q.buckets {
        None => vec![json!({
            "organizationalEntity": org,
            "followerCountsByAssociationType": [
                { "associationType": "EMPLOYEE", "followerCounts": counts(120, 0) },
            ],
            "followerCountsBySeniority": [
                { "seniority": "urn:li:seniority:3", "followerCounts": counts(800, 12) },
                { "seniority": "urn:li:seniority:4", "followerCounts": counts(450, 3) },
            ],
            "followerCountsByIndustry": [
                { "industry": "urn:li:industry:4", "followerCounts": counts(610, 7) },
            ],
            "followerCountsByFunction": [
                { "function": "urn:li:function:8", "followerCounts": counts(530, 2) },
            ],
            "followerCountsByStaffCountRange": [
                { "staffCountRange": "SIZE_11_TO_50", "followerCounts": counts(300, 1) },
            ],
            "followerCountsByGeoCountry": [
                { "geo": "urn:li:geo:103644278", "followerCounts": counts(950, 4) },
                { "geo": "urn:li:geo:101282230", "followerCounts": counts(410, 11) },
            ],
            "followerCountsByGeo": [
                { "geo": "urn:li:geo:90000084", "followerCounts": counts(220, 0) },
            ],
        })],
        Some(buckets) => buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let i = i as u64;
                json!({
                    "organizationalEntity": org,
                    "timeRange": range_json(b),
                    "followerGains": {
                        "organicFollowerGain": 3 + i % 5,
                        "paidFollowerGain": u64::from(i.is_multiple_of(4)),
                    },
                })
            })
            .collect(),
    };
    stats_page(elements)
}

/// `GET /rest/networkSizes/{org urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`: `{firstDegreeSize}`.
pub(crate) fn network_size(cx: &mut Cx<'_>, segment: &str) -> Reply {
    let urn = match wire::path_urn(segment) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if wire::urn_entity(&urn) != Some("organization") {
        return wire::bad_request(format!("{urn} is not an organization URN"));
    }
    if cx.call.query_param("edgeType") != Some("COMPANY_FOLLOWED_BY_MEMBER") {
        return wire::bad_request("edgeType must be COMPANY_FOLLOWED_BY_MEMBER");
    }
    if let Err(reply) = cx.need_admin(&urn, "GET") {
        return reply;
    }
    let id = urn.rsplit(':').next().unwrap_or_default();
    let total = cx
        .cfg
        .follower_totals
        .get(id)
        .copied()
        .unwrap_or(DEFAULT_FOLLOWERS);
    Reply::ok(json!({ "firstDegreeSize": total }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_day_and_month() {
        let day = buckets("(timeRange:(start:0,end:172800000),timeGranularityType:DAY)").unwrap();
        assert_eq!(day.len(), 2);
        assert_eq!(day[1].end.timestamp_millis(), 172_800_000);
        let month =
            buckets("(timeRange:(start:0,end:5270400000),timeGranularityType:MONTH)").unwrap();
        assert_eq!(month.len(), 3, "Jan, Feb and the start of March 1970");
        for bad in [
            "(timeRange:(start:5,end:5),timeGranularityType:DAY)",
            "(timeRange:(start:0,end:1))",
            "(timeRange:(start:x,end:1),timeGranularityType:DAY)",
            "(timeRange:(start:0,end:86400000000),timeGranularityType:DAY)",
        ] {
            assert!(buckets(bad).is_err(), "{bad}");
        }
    }
}
