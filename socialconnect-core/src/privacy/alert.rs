//! Alerts: the events an operator must hear about, handed to an [`AlertSink`] the host chooses.
//!
//! [`TracingAlerts`] (the default) writes each alert as a `tracing` warning; a host that pages
//! someone implements [`AlertSink`] itself. Events that matter only when they repeat (failed
//! API-key verifications, reconnect-required on one connection) go through an [`AlertCounter`]
//! first, with limits from [`AlertThresholds`], so a sink hears about a burst once instead of
//! once per event.
//!
//! ```
//! use std::sync::Arc;
//! use socialconnect_core::alert::{Alert, AlertSink, RecordingAlerts};
//!
//! let sink = Arc::new(RecordingAlerts::new());
//! let dyn_sink: Arc<dyn AlertSink> = sink.clone();
//! dyn_sink.alert(&Alert::ConsentChainBroken { first_broken_seq: 7 });
//! assert_eq!(sink.take(), vec![Alert::ConsentChainBroken { first_broken_seq: 7 }]);
//! ```
//!
//! # Privacy decisions
//!
//! An alert carries identifiers an operator can act on (platform, connection id, API key id,
//! ledger position) and never personal data: no subject id, no account name, no IP address, no
//! token or key. The connection id is a random UUID that means something only inside the host's
//! own database.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::id::{ConnectionId, PlatformId};

/// Something an operator should look at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alert {
    /// A platform told us it revoked a connection's authorization (deauthorize callback, or an
    /// error saying the token was revoked).
    TokenRevokedByPlatform {
        /// The platform.
        platform: PlatformId,
        /// The connection.
        connection: ConnectionId,
    },
    /// One connection needed reconnecting again and again within the configured window.
    RepeatedReconnectRequired {
        /// The connection.
        connection: ConnectionId,
        /// How many times within the window (the threshold that was crossed).
        count: u32,
    },
    /// A connection's grant ends soon and cannot be extended by refreshing (LinkedIn's refresh
    /// token counts down from the original grant; a grant with no refresh token ends with its
    /// access token): ask the end user to reconnect before `ends_at`. Raised once per
    /// connection and end, by the first session opened inside
    /// [`AlertThresholds::reconnect_warning`].
    ReconnectSoon {
        /// The platform.
        platform: PlatformId,
        /// The connection.
        connection: ConnectionId,
        /// When the grant ends.
        ends_at: DateTime<Utc>,
    },
    /// A platform's rate limit is exhausted for the app.
    RateLimitExhausted {
        /// The platform.
        platform: PlatformId,
        /// When the platform said calls may resume.
        retry_after: Option<Duration>,
    },
    /// Verification of API keys with one key prefix (`sc_<key-id>`) failed again and again within
    /// the configured window: someone may hold a key id and be guessing, or a client is using a
    /// revoked or expired key.
    RepeatedApiKeyFailures {
        /// The key's public prefix, `sc_<key-id>`; never any part of the secret.
        key_prefix: String,
        /// How many failures within the window (the threshold that was crossed).
        count: u32,
    },
    /// The consent ledger's hash chain does not verify.
    ConsentChainBroken {
        /// Sequence number of the first record whose hash or link is wrong.
        first_broken_seq: u64,
    },
    /// An erasure went ahead but revoking the authorization at the platform failed: the
    /// platform may still hold a grant the end user asked to remove.
    ErasureUpstreamRevokeFailed {
        /// The platform.
        platform: PlatformId,
    },
}

impl Alert {
    /// A stable name for routing and dashboards, e.g. `"repeated_api_key_failures"`.
    pub fn name(&self) -> &'static str {
        match self {
            Alert::TokenRevokedByPlatform { .. } => "token_revoked_by_platform",
            Alert::RepeatedReconnectRequired { .. } => "repeated_reconnect_required",
            Alert::ReconnectSoon { .. } => "reconnect_soon",
            Alert::RateLimitExhausted { .. } => "rate_limit_exhausted",
            Alert::RepeatedApiKeyFailures { .. } => "repeated_api_key_failures",
            Alert::ConsentChainBroken { .. } => "consent_chain_broken",
            Alert::ErasureUpstreamRevokeFailed { .. } => "erasure_upstream_revoke_failed",
        }
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alert::TokenRevokedByPlatform {
                platform,
                connection,
            } => write!(f, "{platform} revoked connection {connection}"),
            Alert::RepeatedReconnectRequired { connection, count } => write!(
                f,
                "connection {connection} needed reconnecting {count} times"
            ),
            Alert::ReconnectSoon {
                platform,
                connection,
                ends_at,
            } => write!(
                f,
                "{platform} connection {connection} must be reconnected before {}",
                ends_at.to_rfc3339()
            ),
            Alert::RateLimitExhausted {
                platform,
                retry_after,
            } => match retry_after {
                Some(d) => write!(
                    f,
                    "{platform} rate limit exhausted (retry after {}s)",
                    d.as_secs()
                ),
                None => write!(f, "{platform} rate limit exhausted"),
            },
            Alert::RepeatedApiKeyFailures { key_prefix, count } => {
                write!(f, "{count} failed verifications of API key {key_prefix}")
            }
            Alert::ConsentChainBroken { first_broken_seq } => write!(
                f,
                "consent ledger chain broken at record {first_broken_seq}"
            ),
            Alert::ErasureUpstreamRevokeFailed { platform } => {
                write!(f, "erasure could not revoke the grant at {platform}")
            }
        }
    }
}

/// Where alerts go.
///
/// Synchronous on purpose: alerts are raised on hot paths (every API-key verification may raise
/// one) and must neither slow nor fail them. An implementation must return quickly and must not
/// block: one that pages over the network hands the alert to a channel and sends it from its
/// own task. It has no way to fail the operation that raised the alert, so it reports its own
/// delivery failures itself.
pub trait AlertSink: Send + Sync + fmt::Debug {
    /// Delivers one alert.
    fn alert(&self, alert: &Alert);
}

/// The default sink: each alert becomes a `tracing` event at `WARN` on target
/// `socialconnect::alert`, with the alert's [`name`](Alert::name) in the `alert` field and its
/// identifiers in structured fields (no personal data, see the [module docs](self)).
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingAlerts;

impl AlertSink for TracingAlerts {
    fn alert(&self, alert: &Alert) {
        const T: &str = "socialconnect::alert";
        let name = alert.name();
        match alert {
            Alert::TokenRevokedByPlatform {
                platform,
                connection,
            } => tracing::warn!(target: T, alert = name, %platform, %connection, "{alert}"),
            Alert::RepeatedReconnectRequired { connection, count } => {
                tracing::warn!(target: T, alert = name, %connection, count, "{alert}")
            }
            Alert::ReconnectSoon {
                platform,
                connection,
                ends_at,
            } => tracing::warn!(
                target: T,
                alert = name,
                %platform,
                %connection,
                ends_at = %ends_at.to_rfc3339(),
                "{alert}"
            ),
            Alert::RateLimitExhausted {
                platform,
                retry_after,
            } => tracing::warn!(
                target: T,
                alert = name,
                %platform,
                retry_after_secs = retry_after.map(|d| d.as_secs()),
                "{alert}"
            ),
            Alert::RepeatedApiKeyFailures { key_prefix, count } => {
                tracing::warn!(target: T, alert = name, key_prefix = %key_prefix, count, "{alert}")
            }
            Alert::ConsentChainBroken { first_broken_seq } => {
                tracing::warn!(target: T, alert = name, first_broken_seq, "{alert}")
            }
            Alert::ErasureUpstreamRevokeFailed { platform } => {
                tracing::warn!(target: T, alert = name, %platform, "{alert}")
            }
        }
    }
}

/// A sink that keeps alerts in memory, for tests and for hosts that poll.
#[derive(Debug, Default)]
pub struct RecordingAlerts {
    alerts: Mutex<Vec<Alert>>,
}

impl RecordingAlerts {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the alerts received so far, oldest first, leaving the recorder empty.
    pub fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.alerts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl AlertSink for RecordingAlerts {
    fn alert(&self, alert: &Alert) {
        // A panic elsewhere while the lock was held leaves a valid Vec behind; keep recording.
        self.alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(alert.clone());
    }
}

/// "This many events within this long."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// Events needed to fire (at least 1).
    pub count: u32,
    /// The sliding window they must fall within.
    pub window: TimeDelta,
}

impl Threshold {
    /// `count` events within `window`. A `count` of 0 is treated as 1.
    pub fn new(count: u32, window: TimeDelta) -> Self {
        Self {
            count: count.max(1),
            window,
        }
    }
}

/// Limits for the alerts that fire on repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AlertThresholds {
    /// Failed verifications of keys with one prefix before
    /// [`Alert::RepeatedApiKeyFailures`] (default: 5 within 10 minutes).
    pub api_key_failures: Threshold,
    /// Reconnect-required errors on one connection before
    /// [`Alert::RepeatedReconnectRequired`] (default: 3 within 24 hours).
    pub reconnect_required: Threshold,
    /// How far ahead of a grant's hard end (a refresh token that counts down from the original
    /// grant, like LinkedIn's; or an access token with no refresh token) a session raises
    /// [`Alert::ReconnectSoon`] (default: 30 days).
    pub reconnect_warning: TimeDelta,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            api_key_failures: Threshold::new(5, TimeDelta::minutes(10)),
            reconnect_required: Threshold::new(3, TimeDelta::hours(24)),
            reconnect_warning: TimeDelta::days(30),
        }
    }
}

impl AlertThresholds {
    /// Sets the API-key failure threshold.
    pub fn with_api_key_failures(mut self, count: u32, window: TimeDelta) -> Self {
        self.api_key_failures = Threshold::new(count, window);
        self
    }

    /// Sets how far ahead of a grant's end [`Alert::ReconnectSoon`] is raised.
    pub fn with_reconnect_warning(mut self, ahead: TimeDelta) -> Self {
        self.reconnect_warning = ahead;
        self
    }

    /// Sets the reconnect-required threshold.
    pub fn with_reconnect_required(mut self, count: u32, window: TimeDelta) -> Self {
        self.reconnect_required = Threshold::new(count, window);
        self
    }
}

/// Counts events per key within a sliding window and says when a key crosses its threshold.
///
/// It fires once per crossing: when the count within the window reaches the threshold it
/// returns the count, then stays quiet for that key until the count has fallen back below the
/// threshold (old events left the window) and reaches it again. Memory is bounded: at most
/// `threshold.count` instants per key, and at most [`AlertCounter::MAX_KEYS`] keys (when full,
/// keys with nothing left in the window go first, then the least recently seen).
///
/// Process-local: each instance of a multi-instance deployment counts its own events.
#[derive(Debug)]
pub struct AlertCounter {
    threshold: Threshold,
    keys: Mutex<HashMap<String, KeyState>>,
}

#[derive(Debug, Default)]
struct KeyState {
    /// The most recent events, oldest first, at most `threshold.count` of them.
    events: VecDeque<DateTime<Utc>>,
    /// Whether the current run above the threshold has already fired.
    fired: bool,
}

impl AlertCounter {
    /// Most keys tracked at once.
    pub const MAX_KEYS: usize = 10_000;

    /// A counter for `threshold`.
    pub fn new(threshold: Threshold) -> Self {
        Self {
            threshold,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The threshold it counts against.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    /// Records an event for `key` at `now`. Returns `Some(count)` when this event makes the key
    /// cross its threshold (the caller raises the alert), `None` otherwise.
    pub fn record(&self, key: &str, now: DateTime<Utc>) -> Option<u32> {
        let limit = self.threshold.count as usize;
        let window = self.threshold.window;
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if !keys.contains_key(key) && keys.len() >= Self::MAX_KEYS {
            evict(&mut keys, now, window);
        }
        let state = keys.entry(key.to_owned()).or_default();
        while state.events.front().is_some_and(|t| *t <= now - window) {
            state.events.pop_front();
        }
        if state.events.len() < limit {
            // Fewer than the threshold left in the window: the next crossing fires again.
            state.fired = false;
        }
        state.events.push_back(now);
        while state.events.len() > limit {
            state.events.pop_front();
        }
        if state.events.len() == limit && !state.fired {
            state.fired = true;
            Some(self.threshold.count)
        } else {
            None
        }
    }
}

fn evict(keys: &mut HashMap<String, KeyState>, now: DateTime<Utc>, window: TimeDelta) {
    keys.retain(|_, s| s.events.back().is_some_and(|t| *t > now - window));
    if keys.len() >= AlertCounter::MAX_KEYS
        && let Some(oldest) = keys
            .iter()
            .min_by_key(|(_, s)| s.events.back().copied())
            .map(|(k, _)| k.clone())
    {
        keys.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn fires_once_per_crossing() {
        let c = AlertCounter::new(Threshold::new(3, TimeDelta::minutes(10)));
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(c.record("k", t0), None);
        assert_eq!(c.record("k", t0 + TimeDelta::minutes(1)), None);
        assert_eq!(c.record("k", t0 + TimeDelta::minutes(2)), Some(3));
        // Still above the threshold: quiet.
        assert_eq!(c.record("k", t0 + TimeDelta::minutes(3)), None);
        assert_eq!(c.record("k", t0 + TimeDelta::minutes(4)), None);
        // Other keys count separately.
        assert_eq!(c.record("other", t0 + TimeDelta::minutes(4)), None);
        // Everything leaves the window; a new burst fires again.
        let later = t0 + TimeDelta::hours(1);
        assert_eq!(c.record("k", later), None);
        assert_eq!(c.record("k", later), None);
        assert_eq!(c.record("k", later), Some(3));
    }

    #[test]
    fn events_spread_wider_than_the_window_never_fire() {
        let c = AlertCounter::new(Threshold::new(2, TimeDelta::minutes(10)));
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        for i in 0..10 {
            assert_eq!(c.record("k", t0 + TimeDelta::minutes(10 * i)), None);
        }
    }

    #[test]
    fn key_count_is_bounded() {
        let c = AlertCounter::new(Threshold::new(2, TimeDelta::minutes(10)));
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        for i in 0..(AlertCounter::MAX_KEYS + 50) {
            c.record(&format!("k{i}"), t0);
        }
        assert!(c.keys.lock().unwrap().len() <= AlertCounter::MAX_KEYS);
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(
            Alert::ConsentChainBroken {
                first_broken_seq: 1
            }
            .name(),
            "consent_chain_broken"
        );
        TracingAlerts.alert(&Alert::RateLimitExhausted {
            platform: PlatformId::TIKTOK,
            retry_after: Some(Duration::from_secs(30)),
        });
    }
}
