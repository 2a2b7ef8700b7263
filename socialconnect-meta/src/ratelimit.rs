//! Meta's usage headers: `X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage`.
//!
//! Their values are JSON strings of percentages (0–100). Meta blocks an app that reaches 100 %;
//! SocialConnect pauses the platform once any figure reaches the threshold (90 % by default),
//! for as long as the Business Use Case header's `estimated_time_to_regain_access` (minutes)
//! says, or a default pause when the header gives no time. Absent headers say nothing (Meta
//! sends them only "once enough calls have been made").
//!
//! Instagram traffic reports the same figures under other keys: `call_volume` for
//! `call_count` and `cpu_time` for `total_cputime` (`meta.md` §3). Both spellings are read;
//! when a header carries both, the higher figure counts, so the back-off triggers whichever
//! key Meta used.

use std::time::Duration;

use http::HeaderMap;
use serde::Deserialize;
use socialconnect_core::http::{Usage, UsageHeaders, UsagePolicy};

/// Largest header value parsed.
const MAX_HEADER: usize = 16 * 1024;

/// One usage figure set (percentages).
///
/// Deserializes from any documented spelling: `call_count` or `call_volume`, `total_time`,
/// `total_cputime` or `cpu_time`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(from = "FiguresWire")]
#[non_exhaustive]
pub struct UsageFigures {
    /// Share of calls used (`call_count`, or Instagram's `call_volume`).
    pub call_count: f64,
    /// Share of total time used.
    pub total_time: f64,
    /// Share of CPU time used (`total_cputime`, or Instagram's `cpu_time`).
    pub total_cputime: f64,
}

/// The figures under every key Meta uses for them. A key that is absent or not a finite
/// number counts as 0, so one odd value never hides the others.
#[derive(Deserialize)]
struct FiguresWire {
    #[serde(default, deserialize_with = "number")]
    call_count: f64,
    #[serde(default, deserialize_with = "number")]
    call_volume: f64,
    #[serde(default, deserialize_with = "number")]
    total_time: f64,
    #[serde(default, deserialize_with = "number")]
    total_cputime: f64,
    #[serde(default, deserialize_with = "number")]
    cpu_time: f64,
}

impl From<FiguresWire> for UsageFigures {
    fn from(w: FiguresWire) -> Self {
        Self {
            call_count: w.call_count.max(w.call_volume),
            total_time: w.total_time,
            total_cputime: w.total_cputime.max(w.cpu_time),
        }
    }
}

/// A figure sent as a JSON number or a numeric string; anything else (or a non-finite value)
/// is 0.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let n = match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(n.filter(|n| n.is_finite()).unwrap_or(0.0))
}

impl UsageFigures {
    /// The highest of the three.
    pub fn max(&self) -> f64 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

/// A Business Use Case usage entry for one business object (Page, IG user, ad account).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BusinessUsage {
    /// The object id the entry is keyed by.
    pub object_id: String,
    /// The use case type (`pages`, `instagram`, …).
    pub kind: Option<String>,
    /// The figures.
    pub figures: UsageFigures,
    /// `estimated_time_to_regain_access`, when non-zero.
    pub regain_after: Option<Duration>,
}

/// Everything the usage headers of one response said.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct UsageReport {
    /// `X-App-Usage`.
    pub app: Option<UsageFigures>,
    /// `X-Page-Usage` (assumed to share the app header's keys: UNCONFIRMED by Meta's docs).
    pub page: Option<UsageFigures>,
    /// `X-Business-Use-Case-Usage`, flattened.
    pub business: Vec<BusinessUsage>,
}

#[derive(Deserialize)]
struct BucWire {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(flatten)]
    figures: UsageFigures,
    #[serde(default, deserialize_with = "number")]
    estimated_time_to_regain_access: f64,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_HEADER)
}

impl UsageReport {
    /// Parses the headers; malformed values are skipped (they only ever slow us down).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let figures =
            |name| header(headers, name).and_then(|v| serde_json::from_str::<UsageFigures>(v).ok());
        let mut business = Vec::new();
        if let Some(v) = header(headers, "x-business-use-case-usage")
            && let Ok(map) =
                serde_json::from_str::<std::collections::BTreeMap<String, Vec<BucWire>>>(v)
        {
            for (object_id, entries) in map {
                for e in entries {
                    let minutes = e.estimated_time_to_regain_access;
                    business.push(BusinessUsage {
                        object_id: object_id.clone(),
                        kind: e.kind,
                        figures: e.figures,
                        regain_after: (minutes.is_finite() && minutes > 0.0)
                            .then(|| Duration::from_secs_f64(minutes.min(24.0 * 60.0) * 60.0)),
                    });
                }
            }
        }
        Self {
            app: figures("x-app-usage"),
            page: figures("x-page-usage"),
            business,
        }
    }

    /// The highest figure across all headers.
    pub fn max_percent(&self) -> f64 {
        let mut m: f64 = 0.0;
        for f in self.app.iter().chain(self.page.iter()) {
            m = m.max(f.max());
        }
        for b in &self.business {
            m = m.max(b.figures.max());
        }
        m
    }

    /// How long to pause, when any figure is at or above `threshold` percent: the longest
    /// `estimated_time_to_regain_access` Meta gave, else `default_pause` (the kit's
    /// [`UsagePolicy`] over [`UsageReport::usage`]).
    pub fn pause(&self, threshold: f64, default_pause: Duration) -> Option<Duration> {
        UsagePolicy {
            threshold,
            default_pause,
        }
        .pause_for(&self.usage())
    }

    /// The report as the kit's [`Usage`]: the highest figure and the longest regain time.
    pub fn usage(&self) -> Usage {
        Usage::new(self.max_percent(), self.regain_after())
    }

    /// Whether any usage header was present and readable.
    pub fn is_empty(&self) -> bool {
        self.app.is_none() && self.page.is_none() && self.business.is_empty()
    }

    /// The regain time Meta gave, for a throttling error's `retry_after`.
    pub fn regain_after(&self) -> Option<Duration> {
        self.business.iter().filter_map(|b| b.regain_after).max()
    }
}

/// Meta's usage headers as the kit's [`UsageHeaders`] reader, for the call path.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetaUsage;

impl UsageHeaders for MetaUsage {
    fn usage(&self, headers: &HeaderMap) -> Option<Usage> {
        let report = UsageReport::from_headers(headers);
        (!report.is_empty()).then(|| report.usage())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn parses_all_three_headers() {
        let h = headers(&[
            (
                "x-app-usage",
                r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
            ),
            (
                "x-page-usage",
                r#"{"call_count":91,"total_time":5,"total_cputime":5}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"112233445566778899":[{"type":"pages","call_count":95,"total_cputime":10,"total_time":20,"estimated_time_to_regain_access":7}]}"#,
            ),
        ]);
        let r = UsageReport::from_headers(&h);
        assert_eq!(r.app.unwrap().call_count, 28.0);
        assert_eq!(r.business[0].object_id, "112233445566778899");
        assert_eq!(r.business[0].regain_after, Some(Duration::from_secs(420)));
        assert_eq!(r.max_percent(), 95.0);
        assert_eq!(
            r.pause(90.0, Duration::from_secs(60)),
            Some(Duration::from_secs(420))
        );
    }

    #[test]
    fn every_documented_spelling_counts() {
        // (header value, the figure it must yield as call_count / total_time / total_cputime)
        let cases = [
            (r#"{"call_count":95}"#, (95.0, 0.0, 0.0)),
            (r#"{"call_volume":95}"#, (95.0, 0.0, 0.0)),
            (r#"{"total_time":95}"#, (0.0, 95.0, 0.0)),
            (r#"{"total_cputime":95}"#, (0.0, 0.0, 95.0)),
            (r#"{"cpu_time":95}"#, (0.0, 0.0, 95.0)),
            // Both spellings at once: the higher one counts, whichever it is.
            (r#"{"call_count":10,"call_volume":95}"#, (95.0, 0.0, 0.0)),
            (r#"{"call_volume":10,"call_count":95}"#, (95.0, 0.0, 0.0)),
            (r#"{"cpu_time":95,"total_cputime":3}"#, (0.0, 0.0, 95.0)),
            // Numbers as strings, and one odd value that does not hide the others.
            (r#"{"call_volume":"95","cpu_time":null}"#, (95.0, 0.0, 0.0)),
            (r#"{"call_volume":95,"cpu_time":"lots"}"#, (95.0, 0.0, 0.0)),
        ];
        for (value, (calls, time, cpu)) in cases {
            for name in ["x-app-usage", "x-page-usage"] {
                let r = UsageReport::from_headers(&headers(&[(name, value)]));
                let f = if name == "x-app-usage" { r.app } else { r.page }
                    .unwrap_or_else(|| panic!("{name}: {value} not read"));
                assert_eq!(
                    (f.call_count, f.total_time, f.total_cputime),
                    (calls, time, cpu),
                    "{value}"
                );
                assert_eq!(
                    r.pause(90.0, Duration::from_secs(60)),
                    Some(Duration::from_secs(60)),
                    "{name}: {value}"
                );
            }
            let buc = format!(
                r#"{{"17841400000000001234":[{{"type":"instagram",{},"estimated_time_to_regain_access":3}}]}}"#,
                &value[1..value.len() - 1]
            );
            let r = UsageReport::from_headers(&headers(&[("x-business-use-case-usage", &buc)]));
            let b = &r.business[0];
            assert_eq!(b.kind.as_deref(), Some("instagram"));
            assert_eq!(
                (
                    b.figures.call_count,
                    b.figures.total_time,
                    b.figures.total_cputime
                ),
                (calls, time, cpu),
                "{buc}"
            );
            assert_eq!(
                r.pause(90.0, Duration::from_secs(60)),
                Some(Duration::from_secs(180)),
                "{buc}"
            );
        }
        // Instagram's keys below the threshold: no pause.
        let h = headers(&[("x-app-usage", r#"{"call_volume":40,"cpu_time":12}"#)]);
        assert_eq!(
            UsageReport::from_headers(&h).pause(90.0, Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn below_threshold_or_malformed_means_no_pause() {
        let h = headers(&[
            ("x-app-usage", r#"{"call_count":89}"#),
            ("x-page-usage", "nonsense"),
        ]);
        let r = UsageReport::from_headers(&h);
        assert_eq!(r.pause(90.0, Duration::from_secs(60)), None);
        let h = headers(&[("x-app-usage", r#"{"call_count":90}"#)]);
        assert_eq!(
            UsageReport::from_headers(&h).pause(90.0, Duration::from_secs(60)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            UsageReport::from_headers(&HeaderMap::new()),
            UsageReport::default()
        );
    }
}
