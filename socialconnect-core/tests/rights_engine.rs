//! The data-subject rights engine on the memory backend: export (paged, with region, profile
//! and deletion requests, no token), rectification, erasure with receipts, and the alerts the
//! hub raises (reconnect-required, rate limits, platform revocation, consent chain, failed
//! upstream revocation during erasure).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::{PLATFORM, REGION, privacy_env, privacy_env_with};
use socialconnect_core::access_log::{AccessLog, ClientInfo, LogCursor, Outcome, UsageEntry};
use socialconnect_core::alert::{Alert, AlertSink, AlertThresholds, RecordingAlerts};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::{
    ChainReport, ConsentEvent, ConsentLedger, ConsentReceipt, ConsentRecord, ConsentState,
};
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::platform_deletion::{
    DeletionRequest, DeletionRequestStore, DeletionStatus,
};
use socialconnect_core::profile::{ProfileStore, SubjectProfile};
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::store::TokenStore;
use socialconnect_core::{EXPORT_VERSION, ErrorKind, Result, Revocation, SocialConnect};
use socialconnect_testkit::{OAuthSimulator, TokenFault};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn export_is_valid_json_with_region_profile_usage_and_deletion_requests_but_no_token() {
    let env = privacy_env().await;
    let connected = env.connected().await;
    env.hub
        .rectify(
            &env.subject,
            SubjectProfile::new(Some("alice@example.com".into()), Some("alice".into())),
            "ops-1",
        )
        .await
        .unwrap();
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap()
        .with_client_info(ClientInfo::new(
            Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4))),
            Some("Agent/2"),
        ));
    session
        .send(ApiRequest::get(env.sim.userinfo_url()).operation("profile.read"))
        .await
        .unwrap();
    env.deletions
        .record_request(DeletionRequest::new(
            "CODE123".into(),
            PlatformId::FACEBOOK,
            Some(env.subject.clone()),
            env.clock.now(),
        ))
        .await
        .unwrap();
    env.deletions
        .record_request(DeletionRequest::new(
            "SOMEONEELSE".into(),
            PlatformId::FACEBOOK,
            Some(SubjectId::new("someone-else").unwrap()),
            env.clock.now(),
        ))
        .await
        .unwrap();
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();

    let mut out = Vec::new();
    env.hub
        .export(&env.subject, "ops-1", &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(stored.tokens.access_token.expose_secret()));
    assert!(!text.contains(stored.tokens.refresh_token.unwrap().expose_secret()));
    for issued in env.sim.issued_access_tokens() {
        assert!(!text.contains(&issued));
    }
    // Operators are not named in the subject's copy.
    assert!(!text.contains("ops-1"));

    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], EXPORT_VERSION);
    assert_eq!(doc["region"], REGION);
    assert_eq!(doc["subject"], "user-42");
    assert_eq!(doc["profile"]["email"], "alice@example.com");
    assert_eq!(doc["profile"]["username"], "alice");
    assert_eq!(doc["profile"]["region"], REGION);
    assert_eq!(doc["connections"][0]["region"], REGION);
    assert_eq!(doc["connections"][0]["platform"], PLATFORM.as_str());
    let consent = doc["consent"].as_array().unwrap();
    assert_eq!(consent.len(), 2);
    assert!(consent.iter().all(|c| c["region"] == REGION));
    assert_eq!(consent[0]["hash"].as_str().unwrap().len(), 64);
    let usage = doc["usage_log"].as_array().unwrap();
    assert!(usage.iter().all(|u| u["region"] == REGION));
    let call = usage
        .iter()
        .find(|u| u["operation"] == "profile.read")
        .unwrap();
    assert_eq!(call["ip"], "198.51.100.4");
    assert_eq!(call["privileged"], false);
    let rectified = usage
        .iter()
        .find(|u| u["operation"] == "privileged.rectify")
        .unwrap();
    assert_eq!(rectified["privileged"], true);
    assert_eq!(rectified["platform"], "socialconnect");
    let requests = doc["deletion_requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["confirmation_code"], "CODE123");
    assert_eq!(requests[0]["status"], "pending");

    // The export itself is logged under the subject, with the actor.
    let entries = env.log.entries(&env.subject).await.unwrap();
    let export = entries
        .iter()
        .find(|e| e.operation == "privileged.export")
        .unwrap();
    assert_eq!(export.actor.as_deref(), Some("ops-1"));
    assert_eq!(export.outcome, Outcome::Success);
}

/// A usage log that counts pages and refuses the whole-history read an export must not use.
#[derive(Default)]
struct PagedOnly {
    inner: MemoryAccessLog,
    pages: AtomicU32,
}

#[async_trait]
impl AccessLog for PagedOnly {
    async fn append(&self, entry: UsageEntry) -> Result<()> {
        self.inner.append(entry).await
    }
    async fn entries(&self, _: &SubjectId) -> Result<Vec<UsageEntry>> {
        panic!("the export must read the usage log page by page")
    }
    async fn entries_page(
        &self,
        subject: &SubjectId,
        after: Option<LogCursor>,
        limit: u32,
    ) -> Result<(Vec<UsageEntry>, Option<LogCursor>)> {
        assert!(limit <= 1000, "page of {limit}");
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.inner.entries_page(subject, after, limit).await
    }
    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.inner.purge_before(cutoff).await
    }
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        self.inner.erase_subject(subject).await
    }
}

fn bare_hub(log: Arc<dyn AccessLog>, ledger: Arc<dyn ConsentLedger>) -> SocialConnect {
    SocialConnect::builder()
        .token_store(Arc::new(MemoryTokenStore::new()))
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(ledger)
        .access_log(log)
        .region(REGION)
        .build()
        .unwrap()
}

fn usage(subject: &SubjectId, i: usize) -> UsageEntry {
    UsageEntry::new(
        Utc::now(),
        subject.clone(),
        PlatformId::TIKTOK,
        None,
        format!("op.{i}"),
        Outcome::Success,
        Some(200),
        Duration::from_millis(3),
        ClientInfo::default(),
    )
}

#[tokio::test]
async fn export_of_20000_entries_is_read_in_pages_and_complete() {
    let log = Arc::new(PagedOnly::default());
    let hub = bare_hub(log.clone(), Arc::new(MemoryConsentLedger::new()));
    let me = SubjectId::new("me").unwrap();
    let other = SubjectId::new("other").unwrap();
    for i in 0..20_000 {
        log.append(usage(&me, i)).await.unwrap();
        if i % 10 == 0 {
            log.append(usage(&other, i)).await.unwrap();
        }
    }
    let mut out = Vec::new();
    hub.export(&me, "ops-1", &mut out).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let entries = doc["usage_log"].as_array().unwrap();
    assert_eq!(entries.len(), 20_000);
    assert_eq!(entries[0]["operation"], "op.0");
    assert_eq!(entries[19_999]["operation"], "op.19999");
    assert!(entries.iter().all(|e| e["region"] == REGION));
    assert!(doc["profile"].is_null());
    assert_eq!(doc["deletion_requests"], serde_json::json!([]));
    let pages = log.pages.load(Ordering::Relaxed);
    assert!((20..=21).contains(&pages), "{pages} pages");
}

#[tokio::test]
async fn rectify_writes_the_profile_and_logs_the_actor_but_no_value() {
    let env = privacy_env().await;
    let first = SubjectProfile::new(Some("old@example.com".into()), Some("old".into()));
    env.hub.rectify(&env.subject, first, "ops-2").await.unwrap();
    env.hub
        .rectify(
            &env.subject,
            SubjectProfile::new(Some("new@example.com".into()), None),
            "ops-2",
        )
        .await
        .unwrap();
    let stored = env.profiles.profile(&env.subject).await.unwrap().unwrap();
    assert_eq!(stored.email.as_deref(), Some("new@example.com"));
    assert_eq!(stored.username, None);
    assert_eq!(stored.updated_at, Some(env.clock.now()));

    let entries = env.log.entries(&env.subject).await.unwrap();
    assert_eq!(entries.len(), 2);
    for e in &entries {
        assert_eq!(e.operation, "privileged.rectify");
        assert_eq!(e.actor.as_deref(), Some("ops-2"));
        assert_eq!(e.platform.as_str(), "socialconnect");
        let text = format!("{e:?}");
        assert!(
            !text.contains("example.com") && !text.contains("old"),
            "{text}"
        );
    }

    let bad = SubjectProfile::new(Some("a\nb@example.com".into()), None);
    let err = env
        .hub
        .rectify(&env.subject, bad, "ops-2")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // A hub without a profile store cannot rectify.
    let hub = bare_hub(
        Arc::new(MemoryAccessLog::new()),
        Arc::new(MemoryConsentLedger::new()),
    );
    let err = hub
        .rectify(&env.subject, SubjectProfile::default(), "ops-2")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn erase_twice_leaves_receipts_under_one_pseudonym_and_nothing_of_the_subject() {
    let env = privacy_env().await;
    env.connected().await;
    env.hub
        .rectify(
            &env.subject,
            SubjectProfile::new(Some("alice@example.com".into()), None),
            "ops-1",
        )
        .await
        .unwrap();
    env.deletions
        .record_request(DeletionRequest::new(
            "CODE123".into(),
            PlatformId::FACEBOOK,
            Some(env.subject.clone()),
            env.clock.now(),
        ))
        .await
        .unwrap();

    let outcome = env.hub.erase(&env.subject, "dpo-1").await.unwrap();
    assert_eq!(outcome.upstream, vec![(PLATFORM, Revocation::Revoked)]);
    assert_eq!(env.sim.revocations(), 1);
    let counts = &outcome.report.counts;
    assert_eq!(counts["tokens"], 1);
    assert_eq!(counts["consent_records"], 2);
    assert_eq!(counts["profiles"], 1);
    assert_eq!(counts["deletion_requests"], 1);
    assert!(counts["usage_entries"] >= 2);
    let receipt = outcome.receipt.unwrap();
    let pseudonym = env.receipts.pseudonym(&env.subject);
    assert_eq!(receipt.subject_pseudonym, pseudonym);
    assert!(!pseudonym.contains("user-42"));
    assert_eq!(receipt.counts, outcome.report.counts);
    assert_eq!(
        receipt.upstream,
        vec![(PLATFORM.to_string(), "completed".to_owned())]
    );

    // Nothing of the subject is left.
    assert!(env.hub.connections(&env.subject).await.unwrap().is_empty());
    assert!(env.log.entries(&env.subject).await.unwrap().is_empty());
    assert!(env.ledger.history(&env.subject).await.unwrap().is_empty());
    assert_eq!(env.profiles.profile(&env.subject).await.unwrap(), None);
    let request = env.deletions.request("CODE123").await.unwrap().unwrap();
    assert!(matches!(request.status, DeletionStatus::Completed { .. }));
    assert_eq!(request.subject, None);

    // The erasure is logged under the sentinel subject, linked to the receipt by pseudonym.
    let sentinel = SubjectId::new("erased-subject").unwrap();
    let logged = env.log.entries(&sentinel).await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].operation, format!("privileged.erase:{pseudonym}"));
    assert_eq!(logged[0].actor.as_deref(), Some("dpo-1"));
    assert!(!format!("{:?}", logged[0]).contains("user-42"));

    // Again: nothing left, nothing revoked, and a zero-count receipt under the same pseudonym.
    let again = env.hub.erase(&env.subject, "dpo-1").await.unwrap();
    assert!(again.upstream.is_empty());
    assert_eq!(again.report.total(), 0);
    assert_eq!(env.sim.revocations(), 1);
    let second = again.receipt.unwrap();
    assert_eq!(second.subject_pseudonym, pseudonym);
    assert!(second.counts.values().all(|n| *n == 0));
    assert_eq!(
        env.receipts.erasure_receipts(&pseudonym).await.unwrap(),
        vec![receipt, second]
    );
    assert_eq!(env.log.entries(&sentinel).await.unwrap().len(), 2);
    assert!(env.alerts.take().is_empty());
}

#[tokio::test]
async fn a_failed_upstream_revocation_alerts_and_the_receipt_keeps_only_the_error_kind() {
    let env = privacy_env().await;
    env.connected().await;
    Mock::given(method("POST"))
        .and(path(env.sim.revoke_url().path()))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string("{\"error\":\"nope for alice@example.com\"}"),
        )
        .with_priority(1)
        .mount(env.sim.server())
        .await;

    let outcome = env.hub.erase(&env.subject, "dpo-1").await.unwrap();
    assert!(matches!(outcome.upstream[0].1, Revocation::Failed { .. }));
    assert_eq!(outcome.report.counts["tokens"], 1);
    let receipt = outcome.receipt.unwrap();
    assert_eq!(receipt.upstream[0].0, PLATFORM.as_str());
    assert!(receipt.upstream[0].1.starts_with("failed: "));
    assert!(!receipt.upstream[0].1.contains("alice"));
    assert_eq!(
        env.alerts.take(),
        vec![Alert::ErasureUpstreamRevokeFailed { platform: PLATFORM }]
    );
}

#[tokio::test]
async fn repeated_reconnect_required_on_one_connection_alerts_once() {
    let env = privacy_env_with(
        OAuthSimulator::builder(),
        AlertThresholds::default().with_reconnect_required(3, chrono::TimeDelta::hours(1)),
        Default::default(),
    )
    .await;
    let connected = env.connected().await;
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    env.sim.expire_all_access_tokens();
    for _ in 0..4 {
        let resp = session
            .send(ApiRequest::get(env.sim.userinfo_url()).operation("profile.read"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    assert_eq!(
        env.alerts.take(),
        vec![Alert::RepeatedReconnectRequired {
            connection: connected.key.connection,
            count: 3
        }]
    );
}

#[tokio::test]
async fn refreshes_refused_again_after_each_reconnect_alert_but_echoes_do_not_count() {
    let env = privacy_env_with(
        OAuthSimulator::builder(),
        AlertThresholds::default().with_reconnect_required(2, chrono::TimeDelta::hours(24)),
        Default::default(),
    )
    .await;
    let mut key = None;
    for round in 0..2 {
        let connected = env.connected().await;
        assert_eq!(connected.reconnected, round > 0);
        key = Some(connected.key.clone());
        env.clock.advance(chrono::TimeDelta::hours(3));
        env.sim.fail_token_requests(TokenFault::InvalidGrant, 1);
        let err = env
            .hub
            .session(&connected.key, Purpose::Publishing)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
        // The hub repeating the stored status is not a new failure.
        for _ in 0..3 {
            env.hub
                .session(&connected.key, Purpose::Publishing)
                .await
                .unwrap_err();
        }
        if round == 0 {
            assert!(env.alerts.take().is_empty());
        }
    }
    assert_eq!(
        env.alerts.take(),
        vec![Alert::RepeatedReconnectRequired {
            connection: key.unwrap().connection,
            count: 2
        }]
    );
}

#[tokio::test]
async fn a_throttled_call_raises_rate_limit_exhausted_once_per_window() {
    let env = privacy_env().await;
    let connected = env.connected().await;
    Mock::given(method("GET"))
        .and(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .with_priority(1)
        .mount(env.sim.server())
        .await;
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    let url = env.sim.base_url().join("/limited").unwrap();
    for _ in 0..3 {
        let result = session
            .send(ApiRequest::get(url.clone()).operation("feed.read"))
            .await;
        let throttled = match result {
            Ok(resp) => resp.status() == 429,
            Err(e) => matches!(e.kind(), ErrorKind::Throttled { .. }),
        };
        assert!(throttled);
    }
    let alerts = env.alerts.take();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(matches!(
        &alerts[0],
        Alert::RateLimitExhausted { platform, retry_after: Some(d) }
            if *platform == PLATFORM && *d == Duration::from_secs(120)
    ));
    // After the window, a new exhaustion is reported again.
    env.clock.advance(chrono::TimeDelta::minutes(2));
    let _ = session
        .send(ApiRequest::get(url).operation("feed.read"))
        .await;
    assert_eq!(env.alerts.take().len(), 1);
}

#[tokio::test]
async fn mark_revoked_alerts_and_forget_connections_logs_the_actor() {
    let env = privacy_env().await;
    let connected = env.connected().await;
    env.hub
        .mark_revoked(std::slice::from_ref(&connected.key))
        .await
        .unwrap();
    assert_eq!(
        env.alerts.take(),
        vec![Alert::TokenRevokedByPlatform {
            platform: PLATFORM,
            connection: connected.key.connection
        }]
    );
    // A revoked connection refused by `session` is not the platform failing again.
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    assert!(env.alerts.take().is_empty());

    let removed = env
        .hub
        .forget_connections(std::slice::from_ref(&connected.key), "meta.deauthorize")
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let entries = env.log.entries(&env.subject).await.unwrap();
    let forgot = entries
        .iter()
        .find(|e| e.operation == "privileged.forget_connection")
        .unwrap();
    assert_eq!(forgot.actor.as_deref(), Some("meta.deauthorize"));
    // Nothing left to mark: no alert.
    env.hub
        .mark_revoked(std::slice::from_ref(&connected.key))
        .await
        .unwrap();
    assert!(env.alerts.take().is_empty());
}

/// A ledger whose chain reports a break at record 7.
struct BrokenLedger(MemoryConsentLedger);

#[async_trait]
impl ConsentLedger for BrokenLedger {
    async fn record(&self, event: ConsentEvent) -> Result<ConsentReceipt> {
        self.0.record(event).await
    }
    async fn permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.0.permits(subject, purpose, platform, now).await
    }
    async fn state(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<Option<ConsentState>> {
        self.0.state(subject, purpose, platform).await
    }
    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
        self.0.history(subject).await
    }
    async fn verify_chain(&self) -> Result<ChainReport> {
        let mut report = self.0.verify_chain().await?;
        report.first_broken = Some(7);
        Ok(report)
    }
    async fn subjects_on_other_notice(&self, current: &str) -> Result<Vec<SubjectId>> {
        self.0.subjects_on_other_notice(current).await
    }
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        self.0.erase_subject(subject).await
    }
}

#[tokio::test]
async fn verify_consent_chain_alerts_on_a_break_only() {
    let alerts = Arc::new(RecordingAlerts::new());
    let sink: Arc<dyn AlertSink> = alerts.clone();
    let good = SocialConnect::builder()
        .token_store(Arc::new(MemoryTokenStore::new()))
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(Arc::new(MemoryConsentLedger::new()))
        .access_log(Arc::new(MemoryAccessLog::new()))
        .alerts(sink.clone(), AlertThresholds::default())
        .build()
        .unwrap();
    assert_eq!(
        good.verify_consent_chain().await.unwrap().first_broken,
        None
    );
    assert!(alerts.take().is_empty());

    let broken = SocialConnect::builder()
        .token_store(Arc::new(MemoryTokenStore::new()))
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(Arc::new(BrokenLedger(MemoryConsentLedger::new())))
        .access_log(Arc::new(MemoryAccessLog::new()))
        .alerts(sink, AlertThresholds::default())
        .build()
        .unwrap();
    assert_eq!(
        broken.verify_consent_chain().await.unwrap().first_broken,
        Some(7)
    );
    assert_eq!(
        alerts.take(),
        vec![Alert::ConsentChainBroken {
            first_broken_seq: 7
        }]
    );
}

#[test]
fn a_bad_region_is_a_config_error() {
    let err = SocialConnect::builder()
        .token_store(Arc::new(MemoryTokenStore::new()))
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(Arc::new(MemoryConsentLedger::new()))
        .access_log(Arc::new(MemoryAccessLog::new()))
        .region("")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}
