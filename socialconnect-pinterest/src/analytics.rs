//! Analytics of the user account and of one Pin, parsed into a map keyed by split group, each
//! with its daily metrics, its summary and (for a Pin) its lifetime metrics.
//!
//! A day's figures are only final once Pinterest marks the day `READY` (or says there is
//! nothing to count: before the Pin, the business or the measurement existed); a
//! `PROCESSING` or `ESTIMATE` day, or a status this crate does not know, is read as
//! [`Reading::Provisional`], never as final.
//!
//! Dates are UTC; the range starts at most 90 days back and spans at most 90 days, checked
//! before anything is sent. The group key is `all` without a split (UNCONFIRMED: the map is
//! read whatever its keys).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::{Error, Result, Session};

use crate::client::{PinterestClient, path_id};

/// The furthest back a range may start, and the longest it may be, in days.
pub const MAX_DAYS: i64 = 90;

/// The most split groups read from one answer.
const MAX_GROUPS: usize = 64;

/// A day's data status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataStatus {
    /// Final.
    Ready,
    /// Still being computed.
    Processing,
    /// An estimate, to be replaced.
    Estimate,
    /// A day before the Pin was created: no data, and none will come.
    BeforePinCreated,
    /// Another status that says there is and will be no data for the day
    /// (`BEFORE_BUSINESS_CREATED`, `BEFORE_MEASUREMENT_START_DATE`,
    /// `BEFORE_DATA_RETENTION_PERIOD`…), kept by name.
    NoData(String),
    /// A status this crate does not know, kept by name; read as not final.
    Other(String),
}

impl DataStatus {
    fn from_name(name: &str) -> Self {
        match name {
            "READY" => Self::Ready,
            "PROCESSING" => Self::Processing,
            "ESTIMATE" => Self::Estimate,
            "BEFORE_PIN_CREATED" => Self::BeforePinCreated,
            n if n.starts_with("BEFORE_") => Self::NoData(n.to_owned()),
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether the day's figures will not change.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Ready | Self::BeforePinCreated | Self::NoData(_))
    }
}

/// One metric of one day, with how far to trust it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// The day is final.
    Final(f64),
    /// The day may still change (processing, an estimate, an unknown status).
    Provisional(f64),
}

impl Reading {
    /// The value, final or not.
    pub fn value(self) -> f64 {
        match self {
            Reading::Final(v) | Reading::Provisional(v) => v,
        }
    }
}

/// One day of one split group.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Day {
    /// The date (UTC).
    pub date: NaiveDate,
    /// Its status.
    pub status: DataStatus,
    metrics: BTreeMap<String, f64>,
}

impl Day {
    /// The metric named `name` (`IMPRESSION`, `SAVE`, …), marked final or provisional.
    pub fn get(&self, name: &str) -> Option<Reading> {
        let v = *self.metrics.get(name)?;
        Some(if self.status.is_final() {
            Reading::Final(v)
        } else {
            Reading::Provisional(v)
        })
    }

    /// The metric names present that day.
    pub fn metric_names(&self) -> impl Iterator<Item = &str> {
        self.metrics.keys().map(String::as_str)
    }
}

/// One split group's figures.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct GroupMetrics {
    /// Day by day, as sent.
    pub daily: Vec<Day>,
    /// Pinterest's totals over the range. They include any provisional day:
    /// [`GroupMetrics::is_final`] says whether they can still change.
    pub summary: BTreeMap<String, f64>,
    /// A Pin's lifetime metrics (Pin analytics only).
    pub lifetime: BTreeMap<String, f64>,
}

impl GroupMetrics {
    /// Whether every day is final, so the summary will not change.
    pub fn is_final(&self) -> bool {
        self.daily.iter().all(|d| d.status.is_final())
    }
}

/// Analytics keyed by split group (`all` without a split).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Analytics {
    /// The groups.
    pub groups: BTreeMap<String, GroupMetrics>,
}

#[derive(Deserialize)]
struct GroupWire {
    #[serde(default, deserialize_with = "decode::null_as_default")]
    daily_metrics: Vec<DayWire>,
    #[serde(default, deserialize_with = "metrics")]
    summary_metrics: BTreeMap<String, f64>,
    #[serde(default, deserialize_with = "metrics")]
    lifetime_metrics: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
struct DayWire {
    #[serde(deserialize_with = "decode::bounded_string::<_, 16>")]
    date: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    data_status: Option<String>,
    #[serde(default, deserialize_with = "metrics")]
    metrics: BTreeMap<String, f64>,
}

/// A metrics object: numbers kept, `null` values skipped, names bounded; anything else is an
/// error. `null` for the whole object is empty.
fn metrics<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    use serde::de::Error as _;
    let raw: Option<BTreeMap<String, Option<serde_json::Number>>> = Option::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (name, value) in raw.unwrap_or_default() {
        if name.len() > 128 {
            return Err(D::Error::custom("metric name over 128 bytes"));
        }
        if let Some(v) = value.and_then(|n| n.as_f64()) {
            out.insert(name, v);
        }
    }
    Ok(out)
}

/// Parses an analytics answer.
///
/// # Errors
///
/// `Decode` for a body that is not a map of groups, a day whose date is not `YYYY-MM-DD`, or
/// more than 64 groups.
pub fn parse(body: &[u8]) -> Result<Analytics> {
    let decode_error = |message: String| {
        Error::Decode(Box::new(socialconnect_core::error::DecodeError {
            path: "analytics".into(),
            message,
            excerpt: None,
        }))
    };
    let raw: BTreeMap<String, GroupWire> = serde_json::from_slice(body)
        .map_err(|e| decode_error(decode::bounded(e.to_string(), 256)))?;
    if raw.len() > MAX_GROUPS {
        return Err(decode_error(format!("more than {MAX_GROUPS} split groups")));
    }
    let mut groups = BTreeMap::new();
    for (key, g) in raw {
        let daily = g
            .daily_metrics
            .into_iter()
            .map(|d| {
                let date = NaiveDate::parse_from_str(&d.date, "%Y-%m-%d")
                    .map_err(|_| decode_error("a day's date is not YYYY-MM-DD".into()))?;
                Ok(Day {
                    date,
                    status: DataStatus::from_name(d.data_status.as_deref().unwrap_or("")),
                    metrics: d.metrics,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        groups.insert(
            decode::bounded(key, 128),
            GroupMetrics {
                daily,
                summary: g.summary_metrics,
                lifetime: g.lifetime_metrics,
            },
        );
    }
    Ok(Analytics { groups })
}

/// What to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnalyticsQuery {
    /// The first day (UTC).
    pub start: NaiveDate,
    /// The last day (UTC).
    pub end: NaiveDate,
    /// The metrics (`IMPRESSION`, `SAVE`, `PIN_CLICK`, `OUTBOUND_CLICK`, …); required for a
    /// Pin, all by default for the account.
    pub metric_types: Vec<String>,
    /// The split (`NO_SPLIT`, `APP_TYPE`, `OWNED_CONTENT`, `SOURCE`, `PIN_FORMAT`, …).
    pub split_field: Option<String>,
    /// The apps (`ALL`, `MOBILE`, `TABLET`, `WEB`).
    pub app_types: Option<String>,
}

impl AnalyticsQuery {
    /// The days from `start` to `end`, both included.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Self {
            start,
            end,
            metric_types: Vec::new(),
            split_field: None,
            app_types: None,
        }
    }

    /// Asks for these metrics.
    pub fn metrics(mut self, names: &[&str]) -> Self {
        self.metric_types = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// Splits by `field`.
    pub fn split(mut self, field: &str) -> Self {
        self.split_field = Some(field.to_owned());
        self
    }

    /// Only these apps.
    pub fn app_types(mut self, apps: &str) -> Self {
        self.app_types = Some(apps.to_owned());
        self
    }

    /// Refuses, as `today` (UTC) sees it, a range that starts more than 90 days back, ends
    /// before it starts, spans more than 90 days, or names a metric, split or app type that is
    /// not an upper-case identifier.
    ///
    /// # Errors
    ///
    /// `InvalidInput` saying which.
    pub fn check(&self, today: NaiveDate) -> Result<()> {
        let refuse = |why: &str| Err(Error::invalid_input(format!("Pinterest analytics: {why}")));
        if self.end < self.start {
            return refuse("the range ends before it starts");
        }
        if self.start < today - Duration::days(MAX_DAYS) {
            return refuse("the range starts more than 90 days back");
        }
        if self.end - self.start > Duration::days(MAX_DAYS) {
            return refuse("the range spans more than 90 days");
        }
        let identifier = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        };
        let names = self
            .metric_types
            .iter()
            .chain(&self.split_field)
            .chain(&self.app_types);
        if names.clone().any(|n| !identifier(n)) || self.metric_types.len() > 32 {
            return refuse(
                "metric, split and app names are upper-case identifiers (at most 32 metrics)",
            );
        }
        Ok(())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("start_date", self.start.format("%Y-%m-%d").to_string()),
            ("end_date", self.end.format("%Y-%m-%d").to_string()),
        ];
        if !self.metric_types.is_empty() {
            q.push(("metric_types", self.metric_types.join(",")));
        }
        if let Some(s) = &self.split_field {
            q.push(("split_field", s.clone()));
        }
        if let Some(a) = &self.app_types {
            q.push(("app_types", a.clone()));
        }
        q
    }
}

impl PinterestClient {
    /// The account's analytics (`user_accounts:read`), the range checked against today (UTC)
    /// first.
    pub async fn account_analytics(
        &self,
        session: &Session,
        query: &AnalyticsQuery,
    ) -> Result<Analytics> {
        query.check(chrono::Utc::now().date_naive())?;
        self.analytics(
            session,
            "user_account/analytics",
            query,
            "user_account.analytics",
        )
        .await
    }

    /// A Pin's analytics with its lifetime metrics (`pins:read`); `metric_types` is required.
    pub async fn pin_analytics(
        &self,
        session: &Session,
        pin_id: &str,
        query: &AnalyticsQuery,
    ) -> Result<Analytics> {
        if query.metric_types.is_empty() {
            return Err(Error::invalid_input(
                "Pinterest Pin analytics need at least one metric type",
            ));
        }
        query.check(chrono::Utc::now().date_naive())?;
        let path = format!("pins/{}/analytics", path_id("pin", pin_id)?);
        self.analytics(session, &path, query, "pins.analytics")
            .await
    }

    async fn analytics(
        &self,
        session: &Session,
        path: &str,
        query: &AnalyticsQuery,
        operation: &'static str,
    ) -> Result<Analytics> {
        let mut url = self.url(path)?;
        url.query_pairs_mut().extend_pairs(query.pairs());
        let req = socialconnect_core::http::ApiRequest::get(url)
            .operation(operation)
            .not_retried_when(crate::error::is_anti_spam);
        let resp = self.caller().send(session, req).await?;
        parse(resp.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn ranges_are_checked_before_sending() {
        let today = day(2026, 12, 7);
        let ok = AnalyticsQuery::new(day(2026, 9, 8), today);
        assert!(ok.check(today).is_ok(), "exactly 90 days back");
        assert!(
            AnalyticsQuery::new(day(2026, 9, 7), today)
                .check(today)
                .is_err()
        );
        assert!(
            AnalyticsQuery::new(today, day(2026, 12, 6))
                .check(today)
                .is_err()
        );
        let bad_metric = AnalyticsQuery::new(day(2026, 12, 1), today).metrics(&["IMPRESSION&x=1"]);
        assert!(bad_metric.check(today).is_err());
    }

    #[test]
    fn provisional_days_are_never_final() {
        let a = parse(
            br#"{"all":{"daily_metrics":[
            {"date":"2026-12-01","data_status":"READY","metrics":{"IMPRESSION":10,"SAVE":null}},
            {"date":"2026-12-02","data_status":"ESTIMATE","metrics":{"IMPRESSION":4.5}},
            {"date":"2026-12-03","data_status":"SOMETHING_NEW","metrics":{"IMPRESSION":1}}],
            "summary_metrics":{"IMPRESSION":15.5}}}"#,
        )
        .unwrap();
        let g = &a.groups["all"];
        assert_eq!(g.daily[0].get("IMPRESSION"), Some(Reading::Final(10.0)));
        assert_eq!(g.daily[0].get("SAVE"), None);
        assert_eq!(
            g.daily[1].get("IMPRESSION"),
            Some(Reading::Provisional(4.5))
        );
        assert_eq!(
            g.daily[2].get("IMPRESSION"),
            Some(Reading::Provisional(1.0))
        );
        assert!(!g.is_final());
        assert!(parse(b"[]").is_err());
        assert!(parse(br#"{"all":{"daily_metrics":[{"date":"12/01/2026"}]}}"#).is_err());
    }
}
