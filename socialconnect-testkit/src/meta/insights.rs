//! Insights entries as Pages and Instagram accounts answer them.

use chrono::{NaiveTime, TimeDelta};
use serde_json::{Value, json};

use super::state::Ctx;
use super::wire::{graph_time, metric_title, metric_value};

/// The periods insights accept.
pub(crate) const PERIODS: &[&str] = &[
    "day",
    "week",
    "days_28",
    "month",
    "lifetime",
    "total_over_range",
];

/// Insights entries as Pages and Instagram accounts answer them: per metric, `values` ending
/// at 07:00 UTC (Pacific midnight) yesterday and today, except `lifetime` (one value).
pub(crate) fn insight_entries(
    cx: &Ctx<'_>,
    object_id: &str,
    metrics: &str,
    period: &str,
) -> Vec<Value> {
    let today = cx
        .now
        .date_naive()
        .and_time(NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default())
        .and_utc();
    metrics
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|metric| {
            let value = |salt| metric_value(metric, salt);
            let values = if period == "lifetime" {
                json!([{ "value": value(0), "end_time": graph_time(today) }])
            } else {
                json!([
                    { "value": value(0), "end_time": graph_time(today - TimeDelta::days(1)) },
                    { "value": value(1), "end_time": graph_time(today) },
                ])
            };
            json!({
                "name": metric,
                "period": period,
                "values": values,
                "title": metric_title(metric),
                "description": format!("Simulated {metric}."),
                "id": format!("{object_id}/insights/{metric}/{period}"),
            })
        })
        .collect()
}
