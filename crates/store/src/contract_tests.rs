//! One contract every backend passes: the same tests, instantiated per backend by `contract!`.
//! PostgreSQL runs when `SC_TEST_PG_URL` names a server (scripts/test starts one).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::ErrorKind;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::secret::{AccessToken, PkceVerifier, RefreshToken};
use socialconnect_core::store::{
    ConnectionStatus, PendingAuth, PendingAuthStore, PutOutcome, TokenStore,
};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_testkit::ManualClock;

use crate::backend::Backend;
use crate::backend::memory::MemoryBackend;
use crate::keys::LocalKeyring;
use crate::{EncryptedStore, StoreOptions};

pub(crate) enum Kind {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// A backend pair (records, key vault) that outlives the stores opened over it.
pub(crate) struct Fixture {
    pub data: Arc<dyn Backend>,
    pub vault: Arc<dyn Backend>,
    pub clock: Arc<ManualClock>,
    _dir: Option<tempfile::TempDir>,
}

pub(crate) async fn fixture(kind: Kind) -> Option<Fixture> {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let (data, vault, dir): (Arc<dyn Backend>, Arc<dyn Backend>, _) = match kind {
        Kind::Memory => (
            Arc::new(MemoryBackend::default()),
            Arc::new(MemoryBackend::default()),
            None,
        ),
        #[cfg(feature = "sqlite")]
        Kind::Sqlite => {
            use crate::backend::sql::SqlBackend;
            let dir = tempfile::tempdir().unwrap();
            let data = SqlBackend::open_sqlite(&dir.path().join("sc.db"))
                .await
                .unwrap();
            let vault = SqlBackend::open_sqlite(&dir.path().join("sc.db.keys"))
                .await
                .unwrap();
            (Arc::new(data), Arc::new(vault), Some(dir))
        }
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            use crate::backend::sql::SqlBackend;
            let url = std::env::var("SC_TEST_PG_URL").ok()?;
            let data = SqlBackend::open_postgres(&fresh_pg_database(&url).await)
                .await
                .unwrap();
            let vault = SqlBackend::open_postgres(&fresh_pg_database(&url).await)
                .await
                .unwrap();
            (Arc::new(data), Arc::new(vault), None)
        }
    };
    Some(Fixture {
        data,
        vault,
        clock,
        _dir: dir,
    })
}

/// Creates an empty database on the test server and returns its URL.
#[cfg(feature = "postgres")]
pub(crate) async fn fresh_pg_database(server_url: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("sc_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(server_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = server_url.rsplit_once('/').map(|(b, _)| b).unwrap();
    format!("{base}/{name}")
}

pub(crate) fn keyring(keys: &[(&str, u8)], primary: &str) -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(
            keys.iter()
                .map(|(id, b)| (KeyId((*id).to_owned()), [*b; 32]))
                .collect(),
            KeyId(primary.to_owned()),
        )
        .unwrap(),
    )
}

impl Fixture {
    pub(crate) async fn open(
        &self,
        keys: Arc<dyn KeyProvider>,
    ) -> socialconnect_core::Result<EncryptedStore> {
        EncryptedStore::with_backends(
            self.data.clone(),
            self.vault.clone(),
            keys,
            StoreOptions::default()
                .with_clock(self.clock.clone())
                .with_rotation_batch(7),
        )
        .await
    }

    pub(crate) async fn store(&self) -> EncryptedStore {
        self.open(keyring(&[("k1", 1)], "k1")).await.unwrap()
    }
}

pub(crate) fn subject(s: &str) -> SubjectId {
    SubjectId::new(s).unwrap()
}

pub(crate) fn key(s: &str, platform: PlatformId) -> ConnectionKey {
    ConnectionKey::new(subject(s), platform, ConnectionId::generate())
}

pub(crate) fn tokens(access: &str) -> TokenSet {
    let now = Utc::now();
    TokenSet::new(AccessToken::new(access), Expiry::after(now, 3600), now)
        .with_refresh(
            RefreshToken::new(format!("{access}-refresh")),
            Expiry::Never,
        )
        .with_scopes(Scope::parse_list("a b"))
        .with_account_id("1234567890123456789")
}

async fn put_get_delete(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let k = key("alice", PlatformId::LINKEDIN);
    assert!(s.get(&k).await.unwrap().is_none());
    assert_eq!(
        s.put(&k, &tokens("tok-1"), None).await.unwrap(),
        PutOutcome::Written(1)
    );
    let got = s.get(&k).await.unwrap().unwrap();
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
    assert_eq!(s.connections(&k.subject).await.unwrap(), vec![k.clone()]);

    // The same connection id under another subject or platform is not readable.
    let other = ConnectionKey::new(subject("mallory"), k.platform.clone(), k.connection);
    assert!(s.get(&other).await.unwrap().is_none());
    assert!(!s.delete(&other).await.unwrap());
    let other = ConnectionKey::new(k.subject.clone(), PlatformId::TIKTOK, k.connection);
    assert!(s.get(&other).await.unwrap().is_none());

    assert!(s.delete(&k).await.unwrap());
    assert!(!s.delete(&k).await.unwrap());
    assert!(s.get(&k).await.unwrap().is_none());
    assert!(s.connections(&k.subject).await.unwrap().is_empty());
}

async fn compare_and_swap(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let k = key("alice", PlatformId::PINTEREST);
    assert_eq!(
        s.put(&k, &tokens("a"), Some(1)).await.unwrap(),
        PutOutcome::Conflict(None)
    );
    s.put(&k, &tokens("a"), None).await.unwrap();
    assert_eq!(
        s.put(&k, &tokens("b"), Some(1)).await.unwrap(),
        PutOutcome::Written(2)
    );
    assert_eq!(
        s.put(&k, &tokens("c"), Some(1)).await.unwrap(),
        PutOutcome::Conflict(Some(2))
    );
    assert_eq!(
        s.get(&k)
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token
            .expose_secret(),
        "b"
    );
    let since = f.clock.now();
    assert!(
        s.set_status(&k, ConnectionStatus::ReconnectRequired { since })
            .await
            .unwrap()
    );
    let got = s.get(&k).await.unwrap().unwrap();
    assert_eq!(got.version, 3);
    assert!(matches!(
        got.status,
        ConnectionStatus::ReconnectRequired { .. }
    ));
    // A write clears the mark.
    s.put(&k, &tokens("d"), Some(3)).await.unwrap();
    assert_eq!(
        s.get(&k).await.unwrap().unwrap().status,
        ConnectionStatus::Active
    );
    assert!(
        !s.set_status(&key("x", PlatformId::TIKTOK), ConnectionStatus::Active)
            .await
            .unwrap()
    );
}

async fn lease_owner_and_expiry(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let k = key("alice", PlatformId::TIKTOK);
    s.put(&k, &tokens("a"), None).await.unwrap();
    let ttl = Duration::from_secs(30);
    let first = s.try_lease(&k, ttl).await.unwrap().expect("free lease");
    assert!(s.try_lease(&k, ttl).await.unwrap().is_none());
    // Only the owner releases.
    let mut impostor = first.clone();
    impostor.owner = uuid::Uuid::new_v4();
    assert!(!s.release(&impostor).await.unwrap());
    assert!(s.try_lease(&k, ttl).await.unwrap().is_none());
    assert!(s.release(&first).await.unwrap());
    let second = s.try_lease(&k, ttl).await.unwrap().expect("released");
    // A lapsed lease can be taken over; its old owner then cannot release the new one.
    f.clock.advance(chrono::Duration::seconds(31));
    let third = s.try_lease(&k, ttl).await.unwrap().expect("lapsed");
    assert!(!s.release(&second).await.unwrap());
    assert!(s.release(&third).await.unwrap());
    assert_eq!(
        s.try_lease(&k, Duration::ZERO).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

async fn pending_states_are_single_use(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let pending = PendingAuth::new(
        subject("alice"),
        PlatformId::LINKEDIN,
        "https://host.example/cb".parse().unwrap(),
        Scope::parse_list("w_member_social"),
        Some(PkceVerifier::new("verifier-123")),
        now,
        now + chrono::Duration::minutes(10),
    );
    s.insert([1; 32], pending.clone()).await.unwrap();
    assert_eq!(
        s.insert([1; 32], pending.clone()).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.take([1; 32]).await.unwrap() }));
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

    s.insert([2; 32], pending.clone()).await.unwrap();
    assert_eq!(
        s.purge_expired(now + chrono::Duration::minutes(11))
            .await
            .unwrap(),
        1
    );
    assert!(s.take([2; 32]).await.unwrap().is_none());
}

async fn consent_ledger(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let alice = subject("alice");
    let fb = PlatformId::FACEBOOK;
    assert!(
        !s.permits(&alice, Purpose::Publishing, &fb, now)
            .await
            .unwrap()
    );
    let r1 = s
        .record(ConsentEvent::grant(
            alice.clone(),
            Purpose::Publishing,
            None,
            now,
        ))
        .await
        .unwrap();
    assert!(
        s.permits(&alice, Purpose::Publishing, &fb, now)
            .await
            .unwrap()
    );
    s.record(ConsentEvent::withdraw(
        alice.clone(),
        Purpose::Publishing,
        Some(fb.clone()),
        now,
    ))
    .await
    .unwrap();
    assert!(
        !s.permits(&alice, Purpose::Publishing, &fb, now)
            .await
            .unwrap()
    );
    assert!(
        s.permits(&alice, Purpose::Publishing, &PlatformId::TIKTOK, now)
            .await
            .unwrap()
    );
    s.record(
        ConsentEvent::grant(alice.clone(), Purpose::Analytics, Some(fb.clone()), now)
            .with_expiry(now + chrono::Duration::days(1)),
    )
    .await
    .unwrap();
    assert!(
        s.permits(&alice, Purpose::Analytics, &fb, now)
            .await
            .unwrap()
    );
    assert!(
        !s.permits(
            &alice,
            Purpose::Analytics,
            &fb,
            now + chrono::Duration::days(2)
        )
        .await
        .unwrap()
    );
    s.record(ConsentEvent::grant(
        subject("bob"),
        Purpose::Messaging,
        None,
        now,
    ))
    .await
    .unwrap();

    let history = s.history(&alice).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].receipt_id, r1.receipt_id);
    assert_eq!(history[0].seq, 1);
    assert_eq!(history[1].prev_hash, history[0].hash);
    let report = s.verify_chain().await.unwrap();
    assert_eq!((report.checked, report.first_broken), (4, None));
}

async fn usage_log(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let alice = subject("alice");
    let base = f.clock.now();
    for day in [0i64, 50, 95] {
        s.append(UsageEntry::new(
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
    let entries = s.entries(&alice).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].operation, "op.95");
    assert_eq!(entries[1].outcome, Outcome::Failure("throttled"));
    assert_eq!(entries[2].client.user_agent.as_deref(), Some("UA/1.0"));
    assert_eq!(entries[2].latency, Duration::from_millis(12));
    assert_eq!(
        s.purge_before(base - chrono::Duration::days(90))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.entries(&alice).await.unwrap().len(), 2);
    assert!(s.entries(&subject("bob")).await.unwrap().is_empty());
}

async fn erasure_is_complete(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let (alice, bob) = (
        key("alice", PlatformId::LINKEDIN),
        key("bob", PlatformId::LINKEDIN),
    );
    for k in [&alice, &bob] {
        s.put(k, &tokens(k.subject.as_str()), None).await.unwrap();
        s.try_lease(k, Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        s.record(ConsentEvent::grant(
            k.subject.clone(),
            Purpose::AccountConnection,
            None,
            now,
        ))
        .await
        .unwrap();
        s.append(UsageEntry::new(
            now,
            k.subject.clone(),
            k.platform.clone(),
            None,
            "x",
            Outcome::Success,
            None,
            Duration::ZERO,
            ClientInfo::default(),
        ))
        .await
        .unwrap();
    }
    let pending = PendingAuth::new(
        alice.subject.clone(),
        PlatformId::LINKEDIN,
        "https://host.example/cb".parse().unwrap(),
        vec![],
        None,
        now,
        now + chrono::Duration::minutes(5),
    );
    s.insert([9; 32], pending).await.unwrap();

    let report = s.erase(&alice.subject).await.unwrap();
    for (kind, n) in [
        ("tokens", 1),
        ("refresh_leases", 1),
        ("pending_states", 1),
        ("consent_records", 1),
        ("usage_entries", 1),
        ("data_keys", 1),
    ] {
        assert_eq!(
            report.counts.get(kind).copied(),
            Some(n),
            "{kind}: {report:?}"
        );
    }
    assert!(s.get(&alice).await.unwrap().is_none());
    assert!(s.connections(&alice.subject).await.unwrap().is_empty());
    assert!(s.history(&alice.subject).await.unwrap().is_empty());
    assert!(s.entries(&alice.subject).await.unwrap().is_empty());
    assert!(
        !s.permits(
            &alice.subject,
            Purpose::AccountConnection,
            &PlatformId::LINKEDIN,
            now
        )
        .await
        .unwrap()
    );
    assert!(s.take([9; 32]).await.unwrap().is_none());
    // Bob is untouched and the chain still verifies across Alice's tombstone.
    assert!(s.get(&bob).await.unwrap().is_some());
    assert_eq!(s.history(&bob.subject).await.unwrap().len(), 1);
    assert_eq!(s.verify_chain().await.unwrap().first_broken, None);
    // Idempotent.
    assert_eq!(s.erase(&alice.subject).await.unwrap().total(), 0);
}

async fn rotation_rewraps_without_downtime(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let old = f.open(keyring(&[("k1", 1)], "k1")).await.unwrap();
    let keys: Vec<_> = (0..20)
        .map(|i| key(&format!("s{i}"), PlatformId::TIKTOK))
        .collect();
    for k in &keys {
        old.put(k, &tokens(k.subject.as_str()), None).await.unwrap();
    }
    // Both keys present, k2 primary: old data reads before, during and after.
    let both = f
        .open(keyring(&[("k1", 1), ("k2", 2)], "k2"))
        .await
        .unwrap();
    assert!(both.get(&keys[0]).await.unwrap().is_some());
    assert_eq!(
        both.ensure_retirable(&KeyId("k1".into()))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
    let mut seen = Vec::new();
    let report = both.rotate_keys(|p| seen.push(p)).await.unwrap();
    assert_eq!(
        report.rewrapped, 21,
        "20 subject keys and the pseudonym key"
    );
    assert!(seen.len() >= 3, "batches of 7 report progress");
    assert_eq!(seen.last().unwrap().rewrapped, 21);
    // Resumable / idempotent: nothing left to do.
    assert_eq!(both.rotate_keys(|_| {}).await.unwrap().rewrapped, 0);
    both.ensure_retirable(&KeyId("k1".into())).await.unwrap();
    assert_eq!(
        both.ensure_retirable(&KeyId("k2".into()))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
    // k1 retired: everything still opens with k2 alone.
    let new = f.open(keyring(&[("k2", 2)], "k2")).await.unwrap();
    for k in &keys {
        let got = new.get(k).await.unwrap().unwrap();
        assert_eq!(got.tokens.access_token.expose_secret(), k.subject.as_str());
    }
}

async fn moved_ciphertext_does_not_open(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let (a, b) = (
        key("alice", PlatformId::LINKEDIN),
        key("bob", PlatformId::LINKEDIN),
    );
    let a2 = key("alice", PlatformId::LINKEDIN);
    for k in [&a, &b, &a2] {
        s.put(k, &tokens(k.subject.as_str()), None).await.unwrap();
    }
    let row_a = f
        .data
        .get_token(&a.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    let row_b = f
        .data
        .get_token(&b.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    let row_a2 = f
        .data
        .get_token(&a2.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    // Bob's sealed tokens (with or without his key id) into Alice's row.
    for dek in [row_b.dek_id.clone(), row_a.dek_id.clone()] {
        let mut moved = row_a.clone();
        moved.sealed = row_b.sealed.clone();
        moved.dek_id = dek;
        f.data.put_token(moved, None).await.unwrap();
        assert_eq!(s.get(&a).await.unwrap_err().kind(), ErrorKind::Crypto);
    }
    // Alice's other connection's tokens into this row: same key, other record id.
    let mut moved = row_a.clone();
    moved.sealed = row_a2.sealed.clone();
    f.data.put_token(moved, None).await.unwrap();
    let err = s.get(&a).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(!err.to_string().contains("alice"));
}

async fn flipped_bit_does_not_open(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let k = key("alice", PlatformId::LINKEDIN);
    s.put(&k, &tokens("secret-token"), None).await.unwrap();
    let row = f
        .data
        .get_token(&k.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    for i in [0, 1, 13, row.sealed.len() / 2, row.sealed.len() - 1] {
        let mut bad = row.clone();
        bad.sealed[i] ^= 0x04;
        f.data.put_token(bad, None).await.unwrap();
        let err = s.get(&k).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto, "byte {i}");
        assert!(!err.to_string().contains("secret-token"));
    }
}

async fn wrong_keyring_fails_clearly(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    s.put(&key("alice", PlatformId::LINKEDIN), &tokens("t"), None)
        .await
        .unwrap();
    // Same key id, other key material.
    let err = f.open(keyring(&[("k1", 99)], "k1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(err.to_string().contains("k1"), "{err}");
    // A keyring without the key the data is wrapped by.
    let err = f.open(keyring(&[("k9", 1)], "k9")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(err.to_string().contains("k1"), "{err}");
}

async fn concurrent_writers(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    // Many first writes for one new subject race to create its data key.
    let keys: Vec<_> = (0..16)
        .map(|_| key("carol", PlatformId::PINTEREST))
        .collect();
    let mut tasks = Vec::new();
    for k in keys.clone() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.put(&k, &tokens("t"), None).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for k in &keys {
        assert!(s.get(k).await.unwrap().is_some());
    }
    // Compare-and-swap increments on one row: none lost.
    let k = keys[0].clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, k) = (s.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let v = s.get(&k).await.unwrap().unwrap().version;
                if let PutOutcome::Written(_) =
                    s.put(&k, &tokens(&format!("w{i}")), Some(v)).await.unwrap()
                {
                    return;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.get(&k).await.unwrap().unwrap().version, 1 + 8);
}

/// The deletion-request side of a store, as the hub holds it.
fn deletions(s: &EncryptedStore) -> &dyn socialconnect_core::deletion::DeletionRequestStore {
    s
}

async fn find_by_account_across_subjects(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let fb = PlatformId::FACEBOOK;
    let with_account = |access: &str, account: &str| tokens(access).with_account_id(account);
    let alice_fb = key("alice", fb.clone());
    let alice_ig = key("alice", PlatformId::INSTAGRAM);
    // Two host users connected the same Facebook account.
    let bob_fb = key("bob", fb.clone());
    let carol_fb = key("carol", fb.clone());
    for (k, account) in [
        (&alice_fb, "A-1"),
        (&alice_ig, "A-1"),
        (&bob_fb, "A-1"),
        (&carol_fb, "B-2"),
    ] {
        s.put(k, &with_account("t", account), None).await.unwrap();
    }
    let mut no_account = tokens("t");
    no_account.account_id = None;
    let dave_fb = key("dave", fb.clone());
    s.put(&dave_fb, &no_account, None).await.unwrap();

    let mut both = vec![alice_fb.clone(), bob_fb.clone()];
    both.sort();
    assert_eq!(s.find_by_account(&fb, "A-1").await.unwrap(), both);
    assert_eq!(
        s.find_by_account(&PlatformId::INSTAGRAM, "A-1")
            .await
            .unwrap(),
        vec![alice_ig.clone()]
    );
    assert_eq!(
        s.find_by_account(&fb, "B-2").await.unwrap(),
        vec![carol_fb.clone()]
    );
    assert!(s.find_by_account(&fb, "a-1").await.unwrap().is_empty());
    assert!(
        s.find_by_account(&PlatformId::TIKTOK, "A-1")
            .await
            .unwrap()
            .is_empty()
    );
    // The pseudonym, not the account id, is what the row holds.
    let row = f
        .data
        .get_token(&alice_fb.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    let pseudonym = row.account_ref.unwrap();
    assert_eq!(
        pseudonym,
        s.inner.subjects.account_ref(&fb, "A-1"),
        "keyed by platform and account"
    );
    assert_ne!(
        pseudonym,
        s.inner.subjects.account_ref(&PlatformId::INSTAGRAM, "A-1")
    );

    // A write with another account moves the connection; a status change does not.
    s.put(&alice_fb, &with_account("t2", "C-3"), Some(1))
        .await
        .unwrap();
    assert_eq!(
        s.find_by_account(&fb, "A-1").await.unwrap(),
        vec![bob_fb.clone()]
    );
    assert!(
        s.set_status(
            &alice_fb,
            ConnectionStatus::Revoked {
                since: f.clock.now()
            }
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.find_by_account(&fb, "C-3").await.unwrap(),
        vec![alice_fb.clone()]
    );

    // A pseudonym copied onto another row does not make it match: the sealed account id must.
    let mut forged = f
        .data
        .get_token(&carol_fb.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    forged.account_ref = Some(pseudonym);
    f.data.put_token(forged, None).await.unwrap();
    assert_eq!(
        s.find_by_account(&fb, "A-1").await.unwrap(),
        vec![bob_fb.clone()]
    );

    // Erased subjects are not found.
    s.erase(&bob_fb.subject).await.unwrap();
    assert!(s.find_by_account(&fb, "A-1").await.unwrap().is_empty());
    s.erase(&alice_fb.subject).await.unwrap();
    assert!(
        s.find_by_account(&PlatformId::INSTAGRAM, "A-1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.find_by_account(&fb, "C-3").await.unwrap().is_empty());

    // An erasure interrupted after the key was destroyed leaves rows that cannot be opened:
    // skipped, not an error.
    f.vault
        .erase_subject(&s.subject_ref(&carol_fb.subject))
        .await
        .unwrap();
    let fresh = f.store().await;
    assert!(fresh.find_by_account(&fb, "B-2").await.unwrap().is_empty());
}

async fn token_payload_format_1_still_reads(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let k = key("alice", PlatformId::LINKEDIN);
    s.put(&k, &tokens("new"), None).await.unwrap();
    // A row as written before the subject id went into the payload.
    let conn_id = k.connection.to_string();
    let sref = s.subject_ref(&k.subject);
    let legacy = tokens("legacy").to_secret_bytes().unwrap();
    let (dek_id, sealed) = s
        .seal(
            &sref,
            crate::envelope::RecordKind::Token,
            conn_id.as_bytes(),
            &legacy,
        )
        .await
        .unwrap();
    let mut row = f.data.get_token(&conn_id).await.unwrap().unwrap();
    row.dek_id = dek_id;
    row.sealed = sealed;
    row.account_ref = None;
    f.data.put_token(row, None).await.unwrap();
    let got = s.get(&k).await.unwrap().unwrap();
    assert_eq!(got.tokens.access_token.expose_secret(), "legacy");
    assert_eq!(
        got.tokens.account_id.as_deref(),
        Some("1234567890123456789")
    );
    // Not findable by account until rewritten; then it is.
    let linkedin = PlatformId::LINKEDIN;
    assert!(
        s.find_by_account(&linkedin, "1234567890123456789")
            .await
            .unwrap()
            .is_empty()
    );
    s.put(&k, &got.tokens, Some(got.version)).await.unwrap();
    assert_eq!(
        s.find_by_account(&linkedin, "1234567890123456789")
            .await
            .unwrap(),
        vec![k]
    );
}

async fn deletion_request_lifecycle(kind: Kind) {
    use socialconnect_core::deletion::{DeletionRequest, DeletionStatus};

    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let d = deletions(&s);
    // Stored to the microsecond.
    let t0 = chrono::DateTime::from_timestamp_micros(f.clock.now().timestamp_micros()).unwrap();
    let at = |secs: i64| t0 + chrono::Duration::seconds(secs);
    let (alice, bob) = (subject("alice"), subject("bob"));
    s.put(&key("alice", PlatformId::FACEBOOK), &tokens("t"), None)
        .await
        .unwrap();
    let req = |code: &str, who: Option<&SubjectId>, secs: i64| {
        DeletionRequest::new(
            code.to_owned(),
            PlatformId::FACEBOOK,
            who.cloned(),
            at(secs),
        )
    };
    let (code_a, code_b, code_anon) = (
        DeletionRequest::new_code(),
        DeletionRequest::new_code(),
        DeletionRequest::new_code(),
    );
    d.record_request(req(&code_a, Some(&alice), 10))
        .await
        .unwrap();
    d.record_request(req(&code_b, Some(&bob), 5)).await.unwrap();
    d.record_request(req(&code_anon, None, 7)).await.unwrap();
    let dup = d.record_request(req(&code_a, None, 99)).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::InvalidInput);

    assert_eq!(
        d.request(&code_a).await.unwrap(),
        Some(req(&code_a, Some(&alice), 10))
    );
    assert_eq!(
        d.request(&code_anon).await.unwrap(),
        Some(req(&code_anon, None, 7))
    );
    assert_eq!(d.request("unknown-code").await.unwrap(), None);
    // Oldest first.
    let pending = d.pending_requests().await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|r| r.confirmation_code.as_str())
            .collect::<Vec<_>>(),
        [code_b.as_str(), code_anon.as_str(), code_a.as_str()]
    );
    assert_eq!(pending[0].subject, Some(bob.clone()));
    // The subject is stored sealed, under a pseudonym.
    let row = f.data.get_deletion_request(&code_a).await.unwrap().unwrap();
    assert_eq!(row.subject_ref, Some(s.subject_ref(&alice)));
    assert!(
        !row.sealed.unwrap().windows(5).any(|w| w == b"alice"),
        "subject sealed"
    );

    // The sealed subject is bound to its request: copied to another code, it does not open.
    let copied = crate::backend::DeletionRow {
        code: "copied".to_owned(),
        ..f.data.get_deletion_request(&code_a).await.unwrap().unwrap()
    };
    f.data.insert_deletion_request(copied).await.unwrap();
    assert_eq!(
        d.request("copied").await.unwrap_err().kind(),
        ErrorKind::Crypto
    );
    assert!(
        d.set_request_status("copied", DeletionStatus::Completed { at: at(1) })
            .await
            .unwrap()
    );

    // Rejected keeps the subject; completed clears it for good.
    let reason = "the account is under a legal hold".to_owned();
    assert!(
        d.set_request_status(
            &code_b,
            DeletionStatus::Rejected {
                reason: reason.clone()
            }
        )
        .await
        .unwrap()
    );
    let rejected = d.request(&code_b).await.unwrap().unwrap();
    assert_eq!(rejected.status, DeletionStatus::Rejected { reason });
    assert_eq!(rejected.subject, Some(bob.clone()));
    assert!(
        d.set_request_status(&code_b, DeletionStatus::Completed { at: at(20) })
            .await
            .unwrap()
    );
    let completed = d.request(&code_b).await.unwrap().unwrap();
    assert_eq!(completed.status, DeletionStatus::Completed { at: at(20) });
    assert_eq!(completed.subject, None);
    assert_eq!(completed.received_at, at(5));
    let row = f.data.get_deletion_request(&code_b).await.unwrap().unwrap();
    assert_eq!(
        (row.subject_ref, row.dek_id, row.sealed),
        (None, None, None)
    );
    assert!(
        !d.set_request_status("unknown-code", DeletionStatus::Pending)
            .await
            .unwrap()
    );
    assert_eq!(d.pending_requests().await.unwrap().len(), 2);

    // Erasing the subject leaves the request (code, platform, status, times) without them.
    let report = s.erase(&alice).await.unwrap();
    assert_eq!(report.counts.get("deletion_requests"), Some(&1));
    let after = d.request(&code_a).await.unwrap().unwrap();
    assert_eq!(after.subject, None);
    assert_eq!(after.status, DeletionStatus::Pending);
    assert_eq!(after.received_at, at(10));
    let row = f.data.get_deletion_request(&code_a).await.unwrap().unwrap();
    assert_eq!(
        (row.subject_ref, row.dek_id, row.sealed),
        (None, None, None)
    );
    assert_eq!(
        d.pending_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| (r.confirmation_code.as_str(), r.subject.is_some()))
            .collect::<Vec<_>>(),
        [(code_anon.as_str(), false), (code_a.as_str(), false)]
    );
    assert_eq!(
        s.erase(&alice)
            .await
            .unwrap()
            .counts
            .get("deletion_requests"),
        Some(&0)
    );
    assert!(
        d.set_request_status(&code_a, DeletionStatus::Completed { at: at(30) })
            .await
            .unwrap()
    );
    assert!(
        d.pending_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.confirmation_code != code_a)
    );
}

macro_rules! contract {
    ($kind:ident, $flavor:literal: $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test(super::Kind::$kind).await
            }
        )*
    };
}

macro_rules! contract_suite {
    ($kind:ident) => {
        contract!($kind, "": put_get_delete, compare_and_swap, lease_owner_and_expiry,
            pending_states_are_single_use, consent_ledger, usage_log, erasure_is_complete,
            rotation_rewraps_without_downtime, moved_ciphertext_does_not_open,
            flipped_bit_does_not_open, wrong_keyring_fails_clearly, concurrent_writers,
            find_by_account_across_subjects, token_payload_format_1_still_reads,
            deletion_request_lifecycle);
    };
}

mod memory {
    contract_suite!(Memory);
}

#[cfg(feature = "sqlite")]
mod sqlite {
    contract_suite!(Sqlite);
}

#[cfg(feature = "postgres")]
mod postgres {
    contract_suite!(Postgres);
}
