//! Meta's usage headers: `X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage`.
//!
//! Their values are JSON strings of percentages (0–100). Meta blocks an app that reaches 100 %;
//! SocialConnect pauses the platform once any figure reaches the threshold (90 % by default),
//! for as long as the Business Use Case header's `estimated_time_to_regain_access` (minutes)
//! says, or a default pause when the header gives no time. Absent headers say nothing (Meta
//! sends them only "once enough calls have been made").

use std::time::Duration;

use http::HeaderMap;
use serde::Deserialize;

/// Largest header value parsed.
const MAX_HEADER: usize = 16 * 1024;

/// One usage figure set (percentages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UsageFigures {
    /// Share of calls used.
    #[serde(default)]
    pub call_count: f64,
    /// Share of total time used.
    #[serde(default)]
    pub total_time: f64,
    /// Share of CPU time used.
    #[serde(default)]
    pub total_cputime: f64,
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
    #[serde(default)]
    call_count: f64,
    #[serde(default)]
    total_time: f64,
    #[serde(default)]
    total_cputime: f64,
    #[serde(default)]
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
                        figures: UsageFigures {
                            call_count: e.call_count,
                            total_time: e.total_time,
                            total_cputime: e.total_cputime,
                        },
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
    /// `estimated_time_to_regain_access` among the entries over it, else `default_pause`.
    pub fn pause(&self, threshold: f64, default_pause: Duration) -> Option<Duration> {
        let over = |f: &UsageFigures| f.max() >= threshold;
        let mut wait: Option<Duration> = None;
        let mut any = false;
        for b in &self.business {
            if over(&b.figures) || b.regain_after.is_some() {
                any = true;
                if let Some(r) = b.regain_after {
                    wait = Some(wait.map_or(r, |w| w.max(r)));
                }
            }
        }
        if self.app.iter().chain(self.page.iter()).any(over) {
            any = true;
        }
        any.then(|| wait.unwrap_or(default_pause).max(Duration::from_secs(1)))
    }

    /// The regain time Meta gave, for a throttling error's `retry_after`.
    pub fn regain_after(&self) -> Option<Duration> {
        self.business.iter().filter_map(|b| b.regain_after).max()
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
