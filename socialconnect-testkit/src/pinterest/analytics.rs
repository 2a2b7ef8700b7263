//! `GET /v5/user_account/analytics` and `GET /v5/pins/{id}/analytics`: a map keyed by split
//! group, each with `daily_metrics` (and for a pin `lifetime_metrics`) and `summary_metrics`.
//! The numbers are a fixed function of the date, metric and group, so tests can compare runs.

use chrono::{Datelike, NaiveDate, TimeDelta};
use serde_json::{Map, Value, json};

use super::state::Cx;
use super::wire;
use crate::sim::Reply;

/// The most days back a start date may lie, and the longest range.
const MAX_DAYS: i64 = 90;

/// The count metrics the simulator serves, and the rates derived from them.
const COUNTS: [&str; 10] = [
    "IMPRESSION",
    "SAVE",
    "PIN_CLICK",
    "OUTBOUND_CLICK",
    "ENGAGEMENT",
    "VIDEO_MRC_VIEW",
    "VIDEO_START",
    "VIDEO_10S_VIEW",
    "QUARTILE_95_PERCENT_VIEW",
    "TOTAL_COMMENTS",
];
const RATES: [(&str, &str); 3] = [
    ("ENGAGEMENT_RATE", "ENGAGEMENT"),
    ("SAVE_RATE", "SAVE"),
    ("OUTBOUND_CLICK_RATE", "OUTBOUND_CLICK"),
];
const DEFAULT_METRICS: [&str; 6] = [
    "IMPRESSION",
    "SAVE",
    "PIN_CLICK",
    "OUTBOUND_CLICK",
    "ENGAGEMENT",
    "ENGAGEMENT_RATE",
];

/// The groups of a `split_field`. UNCONFIRMED upstream: `all` as the key of `NO_SPLIT`; the
/// other groups are the split's documented values, a few of each.
fn groups(split: &str) -> Option<&'static [&'static str]> {
    Some(match split {
        "NO_SPLIT" => &["all"],
        "APP_TYPE" => &["MOBILE", "TABLET", "WEB"],
        "OWNED_CONTENT" => &["OTHER", "OWNED"],
        "SOURCE" => &["ORGANIC", "PAID"],
        "PIN_FORMAT" => &["ORGANIC_IMAGE", "ORGANIC_VIDEO"],
        _ => return None,
    })
}

/// A checked query parameter from `allowed` values.
fn one_of(cx: &Cx<'_>, name: &str, allowed: &[&str]) -> Result<(), Reply> {
    match cx.call.query_param(name) {
        Some(v) if !allowed.contains(&v) => Err(wire::invalid(format!("Invalid {name} `{v}`."))),
        _ => Ok(()),
    }
}

/// What both analytics routes read: the dates, metrics and split, checked.
struct Query {
    start: NaiveDate,
    end: NaiveDate,
    metrics: Vec<String>,
    groups: &'static [&'static str],
}

fn query(cx: &Cx<'_>, metrics_required: bool) -> Result<Query, Reply> {
    let date = |name: &str| -> Result<NaiveDate, Reply> {
        let raw = cx
            .call
            .query_param(name)
            .ok_or_else(|| wire::invalid(format!("{name} is required.")))?;
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| wire::invalid(format!("Invalid {name} `{raw}`: expected YYYY-MM-DD.")))
    };
    let (start, end) = (date("start_date")?, date("end_date")?);
    let today = cx.now.date_naive();
    if start < today - TimeDelta::days(MAX_DAYS) {
        return Err(wire::invalid(format!(
            "start_date must be no more than {MAX_DAYS} days ago."
        )));
    }
    if end < start {
        return Err(wire::invalid("end_date must not be before start_date."));
    }
    if (end - start).num_days() > MAX_DAYS {
        return Err(wire::invalid(format!(
            "The date range must be at most {MAX_DAYS} days."
        )));
    }
    // Simulator choice (UNCONFIRMED upstream): a future end date is refused.
    if end > today {
        return Err(wire::invalid("end_date must not be in the future."));
    }
    let metrics: Vec<String> = match cx.call.query_param("metric_types") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        None if metrics_required => return Err(wire::invalid("metric_types is required.")),
        None => DEFAULT_METRICS.iter().map(|m| (*m).to_owned()).collect(),
    };
    if metrics.is_empty() {
        return Err(wire::invalid("metric_types must not be empty."));
    }
    for m in &metrics {
        if !COUNTS.contains(&m.as_str()) && !RATES.iter().any(|(r, _)| r == m) {
            return Err(wire::invalid(format!("Invalid metric_types `{m}`.")));
        }
    }
    let split = cx.call.query_param("split_field").unwrap_or("NO_SPLIT");
    let groups =
        groups(split).ok_or_else(|| wire::invalid(format!("Invalid split_field `{split}`.")))?;
    one_of(cx, "app_types", &["ALL", "MOBILE", "TABLET", "WEB"])?;
    one_of(cx, "from_claimed_content", &["OTHER", "CLAIMED", "BOTH"])?;
    one_of(
        cx,
        "pin_format",
        &[
            "ALL",
            "ORGANIC_IMAGE",
            "ORGANIC_PRODUCT",
            "ORGANIC_VIDEO",
            "ADS_STANDARD",
            "ADS_PRODUCT",
            "ADS_VIDEO",
            "ADS_IDEA",
        ],
    )?;
    Ok(Query {
        start,
        end,
        metrics,
        groups,
    })
}

/// The count of `metric` on `day` for group `g` (and pin `salt`).
fn count(day: NaiveDate, metric: &str, g: usize, salt: u64) -> u64 {
    let m = COUNTS.iter().position(|c| *c == metric).unwrap_or(0) as u64;
    let ordinal = u64::try_from(day.num_days_from_ce()).unwrap_or_default();
    let base = if metric == "IMPRESSION" { 200 } else { 3 };
    base + (ordinal * 31 + m * 17 + g as u64 * 7 + salt) % 97
}

/// The metrics object for the asked `metrics` from per-count sums.
fn metrics_object(metrics: &[String], counts: impl Fn(&str) -> u64) -> Value {
    let mut out = Map::new();
    for m in metrics {
        let value = match RATES.iter().find(|(r, _)| r == m) {
            Some((_, numerator)) => {
                let impressions = counts("IMPRESSION").max(1) as f64;
                json!(((counts(numerator) as f64 / impressions) * 10_000.0).round() / 10_000.0)
            }
            None => json!(counts(m)),
        };
        out.insert(m.clone(), value);
    }
    Value::Object(out)
}

/// The `data_status` of `day`: the configured one, else `ESTIMATE` today, `PROCESSING`
/// yesterday, `READY` before.
fn status(cx: &Cx<'_>, day: NaiveDate) -> String {
    let days_ago = (cx.now.date_naive() - day).num_days();
    let configured = u32::try_from(days_ago)
        .ok()
        .and_then(|d| cx.cfg.day_statuses.get(&d));
    match (configured, days_ago) {
        (Some(s), _) => s.clone(),
        (None, 0) => "ESTIMATE".to_owned(),
        (None, 1) => "PROCESSING".to_owned(),
        (None, _) => "READY".to_owned(),
    }
}

/// The map keyed by group; `created` (a pin's creation day) marks earlier days
/// `BEFORE_PIN_CREATED` without metrics and adds `lifetime_metrics`.
fn report(cx: &Cx<'_>, q: &Query, salt: u64, created: Option<NaiveDate>) -> Value {
    let mut out = Map::new();
    for (g, group) in q.groups.iter().enumerate() {
        let mut daily = Vec::new();
        let mut live_days = Vec::new();
        let mut day = q.start;
        while day <= q.end {
            if created.is_some_and(|c| day < c) {
                daily.push(json!({ "date": day.to_string(), "data_status": "BEFORE_PIN_CREATED", "metrics": {} }));
            } else {
                live_days.push(day);
                daily.push(json!({
                    "date": day.to_string(),
                    "data_status": status(cx, day),
                    "metrics": metrics_object(&q.metrics, |m| count(day, m, g, salt)),
                }));
            }
            day += TimeDelta::days(1);
        }
        let sum = |days: &[NaiveDate], m: &str| days.iter().map(|d| count(*d, m, g, salt)).sum();
        let mut entry = json!({
            "daily_metrics": daily,
            "summary_metrics": metrics_object(&q.metrics, |m| sum(&live_days, m)),
        });
        if let Some(created) = created {
            let today = cx.now.date_naive();
            let lifetime: Vec<NaiveDate> =
                created.iter_days().take_while(|d| *d <= today).collect();
            entry["lifetime_metrics"] = metrics_object(&q.metrics, |m| sum(&lifetime, m));
        }
        out.insert((*group).to_owned(), entry);
    }
    Value::Object(out)
}

/// `GET /v5/user_account/analytics` (`user_accounts:read`).
pub(crate) fn account(cx: &Cx<'_>) -> Result<Reply, Reply> {
    cx.need(&["user_accounts:read"])?;
    let q = query(cx, false)?;
    Ok(Reply::ok(report(cx, &q, 0, None)))
}

/// `GET /v5/pins/{id}/analytics` (`pins:read`); `metric_types` required.
pub(crate) fn pin(cx: &Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["pins:read"])?;
    let pin = cx.st.pin(id).ok_or_else(wire::pin_not_found)?;
    let created = pin.created_at.date_naive();
    let salt = id.bytes().map(u64::from).sum::<u64>();
    let q = query(cx, true)?;
    Ok(Reply::ok(report(cx, &q, salt, Some(created))))
}
