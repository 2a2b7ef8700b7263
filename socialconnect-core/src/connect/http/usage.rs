//! Usage headers: a platform says how much of its limit a response used, and the client pauses
//! the platform before it refuses calls.

use std::time::Duration;

use http::HeaderMap;

use super::HttpClient;
use crate::id::PlatformId;

/// What one response's usage headers said.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Usage {
    /// The highest share of any limit used, in percent (0–100; more means over).
    pub percent: f64,
    /// When the platform said access comes back, if it did.
    pub regain_after: Option<Duration>,
}

impl Usage {
    /// A usage figure (a non-finite or negative percent counts as zero).
    pub fn new(percent: f64, regain_after: Option<Duration>) -> Self {
        Self {
            percent: if percent.is_finite() {
                percent.max(0.0)
            } else {
                0.0
            },
            regain_after,
        }
    }
}

/// Reads a platform's usage headers (Meta's `X-App-Usage` and friends). Malformed or absent
/// headers give `None`: they can only ever slow calls down, never fail them.
pub trait UsageHeaders: Send + Sync {
    /// The usage the headers report.
    fn usage(&self, headers: &HeaderMap) -> Option<Usage>;
}

/// When to pause: at `threshold` percent, for the platform's regain time or `default_pause`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePolicy {
    /// Pause once usage reaches this percent (default 90).
    pub threshold: f64,
    /// The pause when the platform gives no regain time (default 60 s).
    pub default_pause: Duration,
}

impl Default for UsagePolicy {
    fn default() -> Self {
        Self {
            threshold: 90.0,
            default_pause: Duration::from_secs(60),
        }
    }
}

impl UsagePolicy {
    /// The pause `usage` calls for: its regain time when it gives one (whatever the figure),
    /// else `default_pause` at or above the threshold; at least one second.
    pub fn pause_for(&self, usage: &Usage) -> Option<Duration> {
        let pause = match usage.regain_after {
            Some(wait) if !wait.is_zero() => wait,
            _ if usage.percent >= self.threshold => self.default_pause,
            _ => return None,
        };
        Some(pause.max(Duration::from_secs(1)))
    }
}

impl HttpClient {
    /// Reads `headers` with the platform's `reader` and pauses every call for `platform` when
    /// `policy` says so. Returns the pause applied.
    pub fn observe_usage(
        &self,
        platform: &PlatformId,
        headers: &HeaderMap,
        reader: &dyn UsageHeaders,
        policy: &UsagePolicy,
    ) -> Option<Duration> {
        let usage = reader.usage(headers)?;
        let pause = policy.pause_for(&usage)?;
        tracing::warn!(
            platform = %platform,
            usage_percent = usage.percent,
            wait_s = pause.as_secs(),
            "platform usage near its limit; pausing calls"
        );
        self.pause_platform(platform, pause);
        Some(pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A platform whose `x-usage` header is a bare percent and `x-regain` seconds.
    struct Plain;

    impl UsageHeaders for Plain {
        fn usage(&self, headers: &HeaderMap) -> Option<Usage> {
            let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
            let percent = num("x-usage")?;
            Some(Usage::new(
                percent,
                num("x-regain").map(|s| Duration::from_secs_f64(s.clamp(0.0, 86_400.0))),
            ))
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[tokio::test]
    async fn usage_over_the_threshold_pauses_the_platform() {
        let http = HttpClient::builder().build().unwrap();
        let p = PlatformId::FACEBOOK;
        let policy = UsagePolicy::default();
        assert_eq!(
            http.observe_usage(&p, &headers(&[("x-usage", "89")]), &Plain, &policy),
            None
        );
        assert_eq!(
            http.observe_usage(&p, &headers(&[("x-usage", "nonsense")]), &Plain, &policy),
            None
        );
        assert_eq!(http.platform_pause(&p), Duration::ZERO);
        assert_eq!(
            http.observe_usage(&p, &headers(&[("x-usage", "95")]), &Plain, &policy),
            Some(Duration::from_secs(60))
        );
        assert!(http.platform_pause(&p) > Duration::from_secs(55));
        let regain = headers(&[("x-usage", "10"), ("x-regain", "420")]);
        assert_eq!(
            http.observe_usage(&PlatformId::TIKTOK, &regain, &Plain, &policy),
            Some(Duration::from_secs(420))
        );
    }

    #[test]
    fn odd_figures_are_tamed() {
        assert_eq!(Usage::new(f64::NAN, None).percent, 0.0);
        assert_eq!(Usage::new(-5.0, None).percent, 0.0);
        let policy = UsagePolicy {
            threshold: 50.0,
            default_pause: Duration::ZERO,
        };
        assert_eq!(
            policy.pause_for(&Usage::new(50.0, None)),
            Some(Duration::from_secs(1))
        );
    }
}
