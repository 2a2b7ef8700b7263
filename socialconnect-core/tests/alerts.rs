//! Alerts: the tracing sink's structured, personal-data-free output; counting per key within a
//! window, firing once per crossing; configurable thresholds; custom sinks behind `dyn`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use socialconnect_core::alert::{
    Alert, AlertCounter, AlertSink, AlertThresholds, RecordingAlerts, Threshold, TracingAlerts,
};
use socialconnect_core::apikey::{ApiKeys, IssuedApiKey};
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionId, PlatformId};
use socialconnect_core::memory::MemoryApiKeys;
use socialconnect_testkit::ManualClock;

/// One captured tracing event: level, target and `name=value` fields.
#[derive(Debug, Clone)]
struct Captured {
    level: tracing::Level,
    target: String,
    fields: String,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = String::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields,
        });
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn every_alert(connection: ConnectionId) -> Vec<Alert> {
    vec![
        Alert::TokenRevokedByPlatform {
            platform: PlatformId::FACEBOOK,
            connection,
        },
        Alert::RepeatedReconnectRequired {
            connection,
            count: 3,
        },
        Alert::RateLimitExhausted {
            platform: PlatformId::INSTAGRAM,
            retry_after: Some(Duration::from_secs(120)),
        },
        Alert::RateLimitExhausted {
            platform: PlatformId::LINKEDIN,
            retry_after: None,
        },
        Alert::RepeatedApiKeyFailures {
            key_prefix: "sc_0190f5a3c1d27b4e8f00112233445566".to_owned(),
            count: 5,
        },
        Alert::ConsentChainBroken {
            first_broken_seq: 42,
        },
        Alert::ErasureUpstreamRevokeFailed {
            platform: PlatformId::TIKTOK,
        },
    ]
}

#[test]
fn tracing_sink_warns_with_structured_fields() {
    let capture = Capture::default();
    let connection = ConnectionId::generate();
    let alerts = every_alert(connection);
    tracing::subscriber::with_default(capture.clone(), || {
        let sink: Arc<dyn AlertSink> = Arc::new(TracingAlerts);
        for alert in &alerts {
            sink.alert(alert);
        }
    });
    let events = capture.0.lock().unwrap().clone();
    assert_eq!(events.len(), alerts.len());
    for (event, alert) in events.iter().zip(&alerts) {
        assert_eq!(event.level, tracing::Level::WARN);
        assert_eq!(event.target, "socialconnect::alert");
        assert!(
            event.fields.contains(&format!("alert={:?}", alert.name())),
            "{event:?}"
        );
        assert!(
            event.fields.contains(&format!("message={alert}")),
            "{event:?}"
        );
    }
    let f = |i: usize| events[i].fields.as_str();
    assert!(
        f(0).contains("platform=facebook") && f(0).contains(&format!("connection={connection}"))
    );
    assert!(f(1).contains("count=3"));
    assert!(f(2).contains("platform=instagram") && f(2).contains("retry_after_secs=120"));
    // An unknown wait is left out rather than written as a placeholder.
    assert!(!f(3).contains("retry_after_secs"));
    assert!(
        f(4).contains("key_prefix=sc_0190f5a3c1d27b4e8f00112233445566") && f(4).contains("count=5")
    );
    assert!(f(5).contains("first_broken_seq=42"));
    assert!(f(6).contains("platform=tiktok"));
}

#[test]
fn names_are_stable_and_distinct() {
    let names: Vec<_> = every_alert(ConnectionId::generate())
        .iter()
        .map(Alert::name)
        .collect();
    assert_eq!(
        names,
        [
            "token_revoked_by_platform",
            "repeated_reconnect_required",
            "rate_limit_exhausted",
            "rate_limit_exhausted",
            "repeated_api_key_failures",
            "consent_chain_broken",
            "erasure_upstream_revoke_failed",
        ]
    );
}

#[test]
fn recording_sink_keeps_alerts_in_order() {
    let recorder = Arc::new(RecordingAlerts::new());
    let sink: Arc<dyn AlertSink> = recorder.clone();
    let alerts = every_alert(ConnectionId::generate());
    for a in &alerts {
        sink.alert(a);
    }
    assert_eq!(recorder.take(), alerts);
    assert!(recorder.take().is_empty());
}

#[test]
fn counter_fires_once_per_threshold_crossing() {
    let clock = ManualClock::default();
    let counter = AlertCounter::new(Threshold::new(3, TimeDelta::minutes(10)));
    let conn = ConnectionId::generate().to_string();
    assert_eq!(counter.record(&conn, clock.now()), None);
    clock.advance(TimeDelta::minutes(4));
    assert_eq!(counter.record(&conn, clock.now()), None);
    clock.advance(TimeDelta::minutes(4));
    assert_eq!(counter.record(&conn, clock.now()), Some(3));
    for _ in 0..10 {
        assert_eq!(counter.record(&conn, clock.now()), None);
    }
    // Exactly one window after the last events, they have left it: a new run of three fires.
    clock.advance(TimeDelta::minutes(10));
    assert_eq!(counter.record(&conn, clock.now()), None);
    assert_eq!(counter.record(&conn, clock.now()), None);
    assert_eq!(counter.record(&conn, clock.now()), Some(3));
}

#[test]
fn counter_sliding_window_drops_old_events() {
    let clock = ManualClock::default();
    let counter = AlertCounter::new(Threshold::new(3, TimeDelta::minutes(10)));
    counter.record("k", clock.now());
    clock.advance(TimeDelta::minutes(6));
    counter.record("k", clock.now());
    // The first event is now 10 minutes old: outside the window.
    clock.advance(TimeDelta::minutes(4));
    assert_eq!(counter.record("k", clock.now()), None);
    clock.advance(TimeDelta::minutes(1));
    assert_eq!(counter.record("k", clock.now()), Some(3));
    // Keys are independent.
    assert_eq!(counter.record("other", clock.now()), None);
}

#[test]
fn threshold_of_one_fires_on_every_separate_event_outside_the_window() {
    let clock = ManualClock::default();
    let counter = AlertCounter::new(Threshold::new(0, TimeDelta::minutes(1)));
    assert_eq!(counter.threshold().count, 1, "zero is treated as one");
    assert_eq!(counter.record("k", clock.now()), Some(1));
    assert_eq!(counter.record("k", clock.now()), None);
    clock.advance(TimeDelta::minutes(1));
    assert_eq!(counter.record("k", clock.now()), Some(1));
}

#[test]
fn thresholds_have_defaults_and_can_be_changed() {
    let t = AlertThresholds::default();
    assert_eq!(
        t.api_key_failures,
        Threshold::new(5, TimeDelta::minutes(10))
    );
    assert_eq!(
        t.reconnect_required,
        Threshold::new(3, TimeDelta::hours(24))
    );
    let t = t
        .with_api_key_failures(10, TimeDelta::minutes(1))
        .with_reconnect_required(2, TimeDelta::hours(1));
    assert_eq!(t.api_key_failures.count, 10);
    assert_eq!(t.api_key_failures.window, TimeDelta::minutes(1));
    assert_eq!(t.reconnect_required.count, 2);
}

#[test]
fn a_custom_sink_works_behind_dyn() {
    #[derive(Debug, Default)]
    struct Counting(Mutex<u32>);
    impl AlertSink for Counting {
        fn alert(&self, _: &Alert) {
            *self.0.lock().unwrap() += 1;
        }
    }
    let sink = Arc::new(Counting::default());
    let dyn_sink: Arc<dyn AlertSink> = sink.clone();
    dyn_sink.alert(&Alert::ConsentChainBroken {
        first_broken_seq: 1,
    });
    assert_eq!(*sink.0.lock().unwrap(), 1);
}

/// The secret part of a key: what must never appear anywhere.
fn secret_part(issued: &IssuedApiKey) -> String {
    issued.key.expose_secret()[36..].to_owned()
}

/// A key with the same id and a different, well-formed secret.
fn wrong_secret(issued: &IssuedApiKey) -> String {
    let key = issued.key.expose_secret();
    let last = if key.ends_with('A') { "Q" } else { "A" };
    format!("{}{last}", &key[..key.len() - 1])
}

// Lives here rather than in `api_keys.rs`: tracing caches per call site whether anyone listens,
// and a test binary where other threads run the same call sites with no subscriber can leave that
// cache stale for this test's scoped subscriber. No other test in this binary touches `ApiKeys`.
#[tokio::test(flavor = "current_thread")]
async fn api_key_logs_and_alerts_never_hold_the_key() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    // The default sink (tracing) this time.
    let clock = Arc::new(ManualClock::default());
    let keys = ApiKeys::new(Arc::new(MemoryApiKeys::new()), clock.clone());
    let issued = keys.issue(["a"], None, "admin").await.unwrap();
    keys.verify(issued.key.expose_secret()).await.unwrap();
    for _ in 0..5 {
        let _ = keys.verify(&wrong_secret(&issued)).await;
    }
    let _ = keys
        .verify(&format!("{}!", &issued.key.expose_secret()[..78]))
        .await;
    let rotated = keys
        .rotate(&issued.key_id, TimeDelta::zero(), "admin")
        .await
        .unwrap();
    keys.revoke(&rotated.key_id, "admin").await.unwrap();
    let _ = keys.verify(rotated.key.expose_secret()).await;

    let log: String = capture
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|e| format!("{}\n", e.fields))
        .collect();
    assert!(log.contains("API key issued"), "{log}");
    assert!(log.contains("repeated_api_key_failures"), "{log}");
    assert!(log.contains(&issued.key_id.to_string()), "{log}");
    for key in [&issued, &rotated] {
        let secret = secret_part(key);
        assert!(!log.contains(&secret[1..9]), "secret in log: {log}");
    }
}
