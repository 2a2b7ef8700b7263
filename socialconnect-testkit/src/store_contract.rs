//! The store contract: the cases every token, pending-authorization, consent and usage-log
//! backend passes, run against any implementation of core's storage traits.
//!
//! `socialconnect-store` runs it for its memory, SQLite and PostgreSQL backends; a host with a
//! backend of its own runs it the same way, from a test:
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//!
//! use chrono::Utc;
//! use socialconnect_core::memory::{
//!     MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
//! };
//! use socialconnect_testkit::ManualClock;
//! use socialconnect_testkit::store_contract::{self, Stores};
//!
//! let report = store_contract::run("memory", || async {
//!     let clock = Arc::new(ManualClock::new(Utc::now()));
//!     Stores {
//!         tokens: Arc::new(MemoryTokenStore::with_clock(clock.clone())),
//!         pending: Arc::new(MemoryPendingAuthStore::new()),
//!         ledger: Arc::new(MemoryConsentLedger::with_clock(clock.clone())),
//!         log: Arc::new(MemoryAccessLog::new()),
//!         clock,
//!         guard: None,
//!     }
//! })
//! .await;
//! report.assert_passed();
//! # }
//! ```
//!
//! Each case gets fresh stores from the factory and the clock they run on (the lease case moves
//! it). Cases check with assertions; a failed one becomes a failed case naming the assertion.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::ErrorKind;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::secret::{AccessToken, PkceVerifier, RefreshToken};
use socialconnect_core::store::{
    ConnectionStatus, PendingAuth, PendingAuthStore, PutOutcome, TokenStore,
};
use socialconnect_core::token::{Expiry, TokenSet};

mod claims;

use crate::ManualClock;
use crate::conformance::{CaseOutcome, Report};

/// One fresh set of stores under test, and the clock they run on.
#[derive(Clone)]
pub struct Stores {
    /// The token store.
    pub tokens: Arc<dyn TokenStore>,
    /// The pending-authorization store.
    pub pending: Arc<dyn PendingAuthStore>,
    /// The consent ledger.
    pub ledger: Arc<dyn ConsentLedger>,
    /// The usage log.
    pub log: Arc<dyn AccessLog>,
    /// The clock the stores were opened with.
    pub clock: Arc<ManualClock>,
    /// Anything that must live as long as the stores (a temporary directory, a database).
    pub guard: Option<Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

/// Runs every case, each on fresh stores from `open`, and reports them under `backend`.
pub async fn run<F, Fut>(backend: &str, open: F) -> Report
where
    F: Fn() -> Fut,
    Fut: Future<Output = Stores>,
{
    let mut report = Report::new(format!("store contract of {backend}"));
    macro_rules! case {
        ($name:literal, $case:ident) => {{
            let stores = open().await;
            crate::conformance::record(&mut report, $name.to_owned(), async move {
                $case(stores).await;
                Ok(CaseOutcome::Passed)
            })
            .await;
        }};
    }
    case!(
        "tokens::put_get_delete_is_scoped_to_subject_and_platform",
        put_get_delete
    );
    case!(
        "tokens::compare_and_swap_guards_every_write",
        compare_and_swap
    );
    case!(
        "tokens::a_lease_has_one_owner_and_lapses",
        lease_owner_and_expiry
    );
    case!(
        "tokens::concurrent_writers_lose_no_write",
        concurrent_writers
    );
    case!(
        "pending::a_state_is_taken_exactly_once",
        pending_states_are_single_use
    );
    case!(
        "consent::the_ledger_permits_by_latest_event_and_chains_records",
        consent_ledger
    );
    case!(
        "usage_log::entries_read_oldest_first_and_purge_by_age",
        usage_log
    );
    let stores = open().await;
    crate::conformance::record(
        &mut report,
        "tokens::due_connections_are_claimed_once".to_owned(),
        async move { Ok(claims::due_connections_are_claimed_once(stores).await) },
    )
    .await;
    report
}

fn subject(s: &str) -> SubjectId {
    SubjectId::new(s).unwrap()
}

fn key(s: &str, platform: PlatformId) -> ConnectionKey {
    ConnectionKey::new(subject(s), platform, ConnectionId::generate())
}

fn tokens(access: &str) -> TokenSet {
    let now = Utc::now();
    TokenSet::new(AccessToken::new(access), Expiry::after(now, 3600), now)
        .with_refresh(
            RefreshToken::new(format!("{access}-refresh")),
            Expiry::Never,
        )
        .with_scopes(Scope::parse_list("a b"))
        .with_account_id("1234567890123456789")
}

async fn put_get_delete(s: Stores) {
    let k = key("alice", PlatformId::LINKEDIN);
    assert!(s.tokens.get(&k).await.unwrap().is_none());
    assert_eq!(
        s.tokens.put(&k, &tokens("tok-1"), None).await.unwrap(),
        PutOutcome::Written(1)
    );
    let got = s.tokens.get(&k).await.unwrap().unwrap();
    assert_eq!(got.tokens.access_token.expose_secret(), "tok-1");
    assert_eq!(
        got.tokens.refresh_token.unwrap().expose_secret(),
        "tok-1-refresh"
    );
    assert_eq!(
        got.tokens.account_id.as_deref(),
        Some("1234567890123456789")
    );
    assert_eq!(got.version, 1);
    assert_eq!(got.status, ConnectionStatus::Active);
    assert_eq!(
        s.tokens.connections(&k.subject).await.unwrap(),
        vec![k.clone()]
    );

    // The same connection id under another subject or platform is not readable.
    let other = ConnectionKey::new(subject("mallory"), k.platform.clone(), k.connection);
    assert!(s.tokens.get(&other).await.unwrap().is_none());
    assert!(!s.tokens.delete(&other).await.unwrap());
    let other = ConnectionKey::new(k.subject.clone(), PlatformId::TIKTOK, k.connection);
    assert!(s.tokens.get(&other).await.unwrap().is_none());

    assert!(s.tokens.delete(&k).await.unwrap());
    assert!(!s.tokens.delete(&k).await.unwrap());
    assert!(s.tokens.get(&k).await.unwrap().is_none());
    assert!(s.tokens.connections(&k.subject).await.unwrap().is_empty());
}

async fn compare_and_swap(s: Stores) {
    let k = key("alice", PlatformId::PINTEREST);
    assert_eq!(
        s.tokens.put(&k, &tokens("a"), Some(1)).await.unwrap(),
        PutOutcome::Conflict(None)
    );
    s.tokens.put(&k, &tokens("a"), None).await.unwrap();
    assert_eq!(
        s.tokens.put(&k, &tokens("b"), Some(1)).await.unwrap(),
        PutOutcome::Written(2)
    );
    assert_eq!(
        s.tokens.put(&k, &tokens("c"), Some(1)).await.unwrap(),
        PutOutcome::Conflict(Some(2))
    );
    assert_eq!(
        s.tokens
            .get(&k)
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token
            .expose_secret(),
        "b"
    );
    let since = s.clock.now();
    assert!(
        s.tokens
            .set_status(&k, ConnectionStatus::ReconnectRequired { since })
            .await
            .unwrap()
    );
    let got = s.tokens.get(&k).await.unwrap().unwrap();
    assert_eq!(got.version, 3);
    assert!(matches!(
        got.status,
        ConnectionStatus::ReconnectRequired { .. }
    ));
    // A write clears the mark.
    s.tokens.put(&k, &tokens("d"), Some(3)).await.unwrap();
    assert_eq!(
        s.tokens.get(&k).await.unwrap().unwrap().status,
        ConnectionStatus::Active
    );
    assert!(
        !s.tokens
            .set_status(&key("x", PlatformId::TIKTOK), ConnectionStatus::Active)
            .await
            .unwrap()
    );
}

async fn lease_owner_and_expiry(s: Stores) {
    let k = key("alice", PlatformId::TIKTOK);
    s.tokens.put(&k, &tokens("a"), None).await.unwrap();
    let ttl = Duration::from_secs(30);
    let first = s
        .tokens
        .try_lease(&k, ttl)
        .await
        .unwrap()
        .expect("free lease");
    assert!(s.tokens.try_lease(&k, ttl).await.unwrap().is_none());
    // Only the owner releases.
    let mut impostor = first.clone();
    impostor.owner = uuid::Uuid::new_v4();
    assert!(!s.tokens.release(&impostor).await.unwrap());
    assert!(s.tokens.try_lease(&k, ttl).await.unwrap().is_none());
    assert!(s.tokens.release(&first).await.unwrap());
    let second = s
        .tokens
        .try_lease(&k, ttl)
        .await
        .unwrap()
        .expect("released");
    // A lapsed lease can be taken over; its old owner then cannot release the new one.
    s.clock.advance(chrono::Duration::seconds(31));
    let third = s.tokens.try_lease(&k, ttl).await.unwrap().expect("lapsed");
    assert!(!s.tokens.release(&second).await.unwrap());
    assert!(s.tokens.release(&third).await.unwrap());
    assert_eq!(
        s.tokens
            .try_lease(&k, Duration::ZERO)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

async fn pending_states_are_single_use(s: Stores) {
    let now = s.clock.now();
    let pending = PendingAuth::new(
        subject("alice"),
        PlatformId::LINKEDIN,
        "https://host.example/cb".parse().unwrap(),
        Scope::parse_list("w_member_social"),
        Some(PkceVerifier::new("verifier-123")),
        now,
        now + chrono::Duration::minutes(10),
    );
    s.pending.insert([1; 32], pending.clone()).await.unwrap();
    assert_eq!(
        s.pending
            .insert([1; 32], pending.clone())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.pending.take([1; 32]).await.unwrap()
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        if let Some(p) = t.await.unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got.len(), 1, "exactly one taker");
    let p = &got[0];
    assert_eq!(p.subject, pending.subject);
    assert_eq!(p.redirect_uri, pending.redirect_uri);
    assert_eq!(
        p.pkce_verifier.as_ref().unwrap().expose_secret(),
        "verifier-123"
    );

    s.pending.insert([2; 32], pending.clone()).await.unwrap();
    assert_eq!(
        s.pending
            .purge_expired(now + chrono::Duration::minutes(11))
            .await
            .unwrap(),
        1
    );
    assert!(s.pending.take([2; 32]).await.unwrap().is_none());
}

async fn consent_ledger(s: Stores) {
    let now = s.clock.now();
    let alice = subject("alice");
    let fb = PlatformId::FACEBOOK;
    assert!(
        !s.ledger
            .permits(&alice, Purpose::Publishing, &fb, now)
            .await
            .unwrap()
    );
    let r1 = s
        .ledger
        .record(ConsentEvent::grant(
            alice.clone(),
            Purpose::Publishing,
            None,
            now,
        ))
        .await
        .unwrap();
    assert!(
        s.ledger
            .permits(&alice, Purpose::Publishing, &fb, now)
            .await
            .unwrap()
    );
    s.ledger
        .record(ConsentEvent::withdraw(
            alice.clone(),
            Purpose::Publishing,
            Some(fb.clone()),
            now,
        ))
        .await
        .unwrap();
    assert!(
        !s.ledger
            .permits(&alice, Purpose::Publishing, &fb, now)
            .await
            .unwrap()
    );
    assert!(
        s.ledger
            .permits(&alice, Purpose::Publishing, &PlatformId::TIKTOK, now)
            .await
            .unwrap()
    );
    s.ledger
        .record(
            ConsentEvent::grant(alice.clone(), Purpose::Analytics, Some(fb.clone()), now)
                .with_expiry(now + chrono::Duration::days(1)),
        )
        .await
        .unwrap();
    assert!(
        s.ledger
            .permits(&alice, Purpose::Analytics, &fb, now)
            .await
            .unwrap()
    );
    assert!(
        !s.ledger
            .permits(
                &alice,
                Purpose::Analytics,
                &fb,
                now + chrono::Duration::days(2)
            )
            .await
            .unwrap()
    );
    s.ledger
        .record(ConsentEvent::grant(
            subject("bob"),
            Purpose::Messaging,
            None,
            now,
        ))
        .await
        .unwrap();

    let history = s.ledger.history(&alice).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].receipt_id, r1.receipt_id);
    assert_eq!(history[0].seq, 1);
    assert_eq!(history[1].prev_hash, history[0].hash);
    let report = s.ledger.verify_chain().await.unwrap();
    assert_eq!((report.checked, report.first_broken), (4, None));
}

async fn usage_log(s: Stores) {
    let alice = subject("alice");
    let base = s.clock.now();
    for day in [0i64, 50, 95] {
        s.log
            .append(UsageEntry::new(
                base - chrono::Duration::days(day),
                alice.clone(),
                PlatformId::INSTAGRAM,
                Some(ConnectionId::generate()),
                format!("op.{day}"),
                if day == 0 {
                    Outcome::Success
                } else {
                    Outcome::Failure("throttled")
                },
                Some(200),
                Duration::from_millis(12),
                ClientInfo::new(Some("198.51.100.7".parse().unwrap()), Some("UA/1.0")),
            ))
            .await
            .unwrap();
    }
    let entries = s.log.entries(&alice).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].operation, "op.95");
    assert_eq!(entries[1].outcome, Outcome::Failure("throttled"));
    assert_eq!(entries[2].client.user_agent.as_deref(), Some("UA/1.0"));
    assert_eq!(entries[2].latency, Duration::from_millis(12));
    assert_eq!(
        s.log
            .purge_before(base - chrono::Duration::days(90))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.log.entries(&alice).await.unwrap().len(), 2);
    assert!(s.log.entries(&subject("bob")).await.unwrap().is_empty());
}

async fn concurrent_writers(s: Stores) {
    // Many first writes for one new subject race to create its data key.
    let keys: Vec<_> = (0..16)
        .map(|_| key("carol", PlatformId::PINTEREST))
        .collect();
    let mut tasks = Vec::new();
    for k in keys.clone() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.tokens.put(&k, &tokens("t"), None).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for k in &keys {
        assert!(s.tokens.get(k).await.unwrap().is_some());
    }
    // Compare-and-swap increments on one row: none lost.
    let k = keys[0].clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, k) = (s.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let v = s.tokens.get(&k).await.unwrap().unwrap().version;
                if let PutOutcome::Written(_) = s
                    .tokens
                    .put(&k, &tokens(&format!("w{i}")), Some(v))
                    .await
                    .unwrap()
                {
                    return;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.tokens.get(&k).await.unwrap().unwrap().version, 1 + 8);
}
