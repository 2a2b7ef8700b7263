//! One contract every backend passes: the same tests, instantiated per backend by `contract!`.
//! PostgreSQL runs when `SC_TEST_PG_URL` names a server (scripts/test starts one).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::ErrorKind;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::apikey::{ApiKeyHash, ApiKeyId, ApiKeyRecord};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::{
    ConsentAction, ConsentEvent, ConsentLedger, ConsentSource, LegalBasis,
};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::profile::{ProfileStore, SubjectProfile};
use socialconnect_core::receipt::{ErasureReceipt, ReceiptStore};
use socialconnect_core::secret::{AccessToken, RefreshToken};
use socialconnect_core::store::{ConnectionStatus, PendingAuth, PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_testkit::ManualClock;

mod actions;
mod budgets;
mod claims;

use actions::{
    actions_are_sealed_and_erased, actions_claims_are_exclusive_earliest_first_and_lapse,
    actions_insert_get_and_save_under_each_condition, actions_page_by_subject_and_list_by_filter,
    actions_that_ended_are_purged_after_the_retention,
};

use budgets::{
    rate_budgets_purge_idle_rows, rate_days_count_to_the_limit, rate_pauses_keep_the_latest,
    rate_windows_admit_calls_per_window, rate_windows_are_exact_under_concurrency,
};
use claims::{
    claims_are_exclusive_under_concurrency, claims_learn_the_due_time_of_older_rows,
    claims_take_due_connections_once,
};

use crate::backend::Backend;
use crate::backend::memory::MemoryBackend;
use crate::keys::LocalKeyring;
use crate::{EncryptedStore, StoreOptions};

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Memory => "the memory backend",
            #[cfg(feature = "sqlite")]
            Kind::Sqlite => "the SQLite backend",
            #[cfg(feature = "postgres")]
            Kind::Postgres => "the PostgreSQL backend",
        }
    }
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
            use crate::backend::sqlite::SqliteBackend;
            let dir = tempfile::tempdir().unwrap();
            let data = SqliteBackend::open(&dir.path().join("sc.db"))
                .await
                .unwrap();
            let vault = SqliteBackend::open(&dir.path().join("sc.db.keys"))
                .await
                .unwrap();
            (Arc::new(data), Arc::new(vault), Some(dir))
        }
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            use crate::backend::postgres::PgBackend;
            let url = std::env::var("SC_TEST_PG_URL").ok()?;
            let data = PgBackend::open(&fresh_pg_database(&url).await)
                .await
                .unwrap();
            let vault = PgBackend::open(&fresh_pg_database(&url).await)
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
    /// The directory of a file-backed fixture.
    pub(crate) fn dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(tempfile::TempDir::path)
    }

    pub(crate) async fn open(
        &self,
        keys: Arc<dyn KeyProvider>,
    ) -> socialconnect_core::Result<EncryptedStore> {
        self.open_with(keys, self.options()).await
    }

    /// The options every contract store uses (the fixture's clock, a small rotation batch).
    pub(crate) fn options(&self) -> StoreOptions {
        StoreOptions::default()
            .with_clock(self.clock.clone())
            .with_rotation_batch(7)
    }

    pub(crate) async fn open_with(
        &self,
        keys: Arc<dyn KeyProvider>,
        options: StoreOptions,
    ) -> socialconnect_core::Result<EncryptedStore> {
        EncryptedStore::with_backends(self.data.clone(), self.vault.clone(), keys, options).await
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

/// The test kit's store contract (tokens, pending states, consent, usage log: the cases any
/// backend of core's traits passes), each case on a fresh fixture of `kind`.
async fn shared_contract(kind: Kind) {
    let label = kind.label();
    if fixture(kind).await.is_none() {
        return;
    }
    let report = socialconnect_testkit::store_contract::run(label, || async {
        let f = fixture(kind)
            .await
            .expect("the backend opened a moment ago");
        let s = f.store().await;
        socialconnect_testkit::store_contract::Stores {
            tokens: Arc::new(s.clone()),
            pending: Arc::new(s.clone()),
            ledger: Arc::new(s.clone()),
            log: Arc::new(s),
            clock: f.clock.clone(),
            guard: Some(Arc::new(f)),
        }
    })
    .await;
    report.assert_passed();
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
    s.put_profile(
        &alice.subject,
        &SubjectProfile::new(Some("a@example.com".into()), None),
    )
    .await
    .unwrap();

    let report = s.erase(&alice.subject).await.unwrap();
    for (kind, n) in [
        ("profiles", 1),
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
    assert!(s.profile(&alice.subject).await.unwrap().is_none());
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
    let report = both
        .rotate_keys("ops@example.com", |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(
        report.rewrapped, 21,
        "20 subject keys and the pseudonym key"
    );
    assert!(seen.len() >= 3, "batches of 7 report progress");
    assert_eq!(seen.last().unwrap().rewrapped, 21);
    // Resumable / idempotent: nothing left to do.
    assert_eq!(
        both.rotate_keys("ops@example.com", |_| {})
            .await
            .unwrap()
            .rewrapped,
        0
    );
    both.ensure_retirable(&KeyId("k1".into())).await.unwrap();
    // Each rotation is logged as a privileged operation under the system subject.
    let system = SubjectId::new(socialconnect_core::access_log::SYSTEM_SUBJECT).unwrap();
    let logged: Vec<_> = AccessLog::entries(&both, &system)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.operation == "privileged.key_rotation")
        .collect();
    assert_eq!(logged.len(), 2);
    assert!(
        logged
            .iter()
            .all(|e| e.actor.as_deref() == Some("ops@example.com"))
    );
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

/// The deletion-request side of a store, as the hub holds it.
fn deletions(
    s: &EncryptedStore,
) -> &dyn socialconnect_core::platform_deletion::DeletionRequestStore {
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
    use socialconnect_core::platform_deletion::{DeletionRequest, DeletionStatus};

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

// --- issue 5: the privacy engine ---

/// A time at the microsecond precision the store keeps.
fn micros(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

async fn consent_state_and_notice(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let fb = PlatformId::FACEBOOK;
    let grant = |who: &str, notice: Option<&str>| {
        let e = ConsentEvent::grant(subject(who), Purpose::Analytics, None, now);
        match notice {
            Some(v) => e.with_notice(v, format!("sha256:{v}")),
            None => e,
        }
    };
    assert_eq!(
        s.state(&subject("alice"), Purpose::Analytics, &fb)
            .await
            .unwrap(),
        None
    );
    let r = s
        .record(
            grant("alice", Some("v1"))
                .with_source(ConsentSource {
                    ip: Some("198.51.100.9".parse().unwrap()),
                    user_agent: Some("UA/2".into()),
                })
                .with_jurisdiction("DE"),
        )
        .await
        .unwrap();
    let state = s
        .state(&subject("alice"), Purpose::Analytics, &fb)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            state.action,
            state.basis,
            state.notice_version.as_deref(),
            state.expires_at,
            state.seq
        ),
        (
            ConsentAction::Grant,
            LegalBasis::Consent,
            Some("v1"),
            None,
            r.seq
        )
    );
    // Contract basis: never asked again.
    s.record(grant("bob", Some("v1")).with_basis(LegalBasis::Contract))
        .await
        .unwrap();
    s.record(grant("carol", None)).await.unwrap();
    s.record(grant("dave", Some("v2"))).await.unwrap();
    s.record(grant("erin", Some("v1")).with_expiry(now - chrono::Duration::hours(1)))
        .await
        .unwrap();
    s.record(grant("frank", Some("v1"))).await.unwrap();
    s.record(ConsentEvent::withdraw(
        subject("frank"),
        Purpose::Analytics,
        None,
        now,
    ))
    .await
    .unwrap();
    // A platform-specific withdrawal decides for that platform only, and is the later event.
    s.record(ConsentEvent::withdraw(
        subject("alice"),
        Purpose::Analytics,
        Some(fb.clone()),
        now,
    ))
    .await
    .unwrap();
    let on_fb = s
        .state(&subject("alice"), Purpose::Analytics, &fb)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_fb.action, ConsentAction::Withdraw);
    assert!(
        !s.permits(&subject("alice"), Purpose::Analytics, &fb, now)
            .await
            .unwrap()
    );
    assert!(
        s.permits(
            &subject("alice"),
            Purpose::Analytics,
            &PlatformId::TIKTOK,
            now
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.subjects_on_other_notice("v2").await.unwrap(),
        vec![subject("alice"), subject("carol")]
    );
    assert_eq!(
        s.subjects_on_other_notice("v1").await.unwrap(),
        vec![subject("carol"), subject("dave")]
    );
    // A subject whose key is gone (an erasure interrupted after the vault step) is skipped.
    let carol = s.subject_ref(&subject("carol"));
    f.vault.erase_subject(&carol).await.unwrap();
    let s = f.store().await;
    assert_eq!(
        s.subjects_on_other_notice("v2").await.unwrap(),
        vec![subject("alice")]
    );
    assert_eq!(s.verify_chain().await.unwrap().first_broken, None);
}

async fn consent_erasure_alone(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let (alice, bob) = (subject("alice"), subject("bob"));
    for who in [&alice, &alice, &bob] {
        s.record(ConsentEvent::grant(
            who.clone(),
            Purpose::Publishing,
            None,
            now,
        ))
        .await
        .unwrap();
    }
    let li = PlatformId::LINKEDIN;
    // Cached as permitted before the erasure: the erasure must still take effect at once.
    assert!(
        s.permits(&alice, Purpose::Publishing, &li, now)
            .await
            .unwrap()
    );
    assert_eq!(ConsentLedger::erase_subject(&s, &alice).await.unwrap(), 2);
    assert!(
        !s.permits(&alice, Purpose::Publishing, &li, now)
            .await
            .unwrap()
    );
    assert_eq!(
        s.state(&alice, Purpose::Publishing, &li).await.unwrap(),
        None
    );
    assert!(s.history(&alice).await.unwrap().is_empty());
    assert_eq!(s.history(&bob).await.unwrap().len(), 1);
    let report = s.verify_chain().await.unwrap();
    assert_eq!((report.checked, report.first_broken), (3, None));
    assert_eq!(ConsentLedger::erase_subject(&s, &alice).await.unwrap(), 0);
    // Tokens and keys are not the ledger's to erase.
    assert!(
        f.vault
            .get_subject_key(&s.subject_ref(&alice))
            .await
            .unwrap()
            .is_some()
    );
}

async fn consent_cache_local_and_remote(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let keys = keyring(&[("k1", 1)], "k1");
    let here = f.store().await;
    // Another process: its own cache, a long TTL so the test is not timing-sensitive.
    let there = f
        .open_with(
            keys.clone(),
            f.options().with_consent_cache_ttl(Duration::from_secs(600)),
        )
        .await
        .unwrap();
    let uncached = f
        .open_with(
            keys.clone(),
            f.options().with_consent_cache_ttl(Duration::ZERO),
        )
        .await
        .unwrap();
    let short = f
        .open_with(
            keys,
            f.options()
                .with_consent_cache_ttl(Duration::from_millis(100)),
        )
        .await
        .unwrap();
    let now = f.clock.now();
    let alice = subject("alice");
    let ig = PlatformId::INSTAGRAM;
    // A cached "nothing recorded" is dropped by a local record.
    assert!(
        !here
            .permits(&alice, Purpose::Messaging, &ig, now)
            .await
            .unwrap()
    );
    here.record(
        ConsentEvent::grant(alice.clone(), Purpose::Messaging, None, now)
            .with_expiry(now + chrono::Duration::days(1)),
    )
    .await
    .unwrap();
    for store in [&here, &there, &uncached, &short] {
        assert!(
            store
                .permits(&alice, Purpose::Messaging, &ig, now)
                .await
                .unwrap()
        );
    }
    // Expiry is checked against the caller's `now` even on a cached entry.
    assert!(
        !here
            .permits(
                &alice,
                Purpose::Messaging,
                &ig,
                now + chrono::Duration::days(2)
            )
            .await
            .unwrap()
    );
    here.record(ConsentEvent::withdraw(
        alice.clone(),
        Purpose::Messaging,
        None,
        now,
    ))
    .await
    .unwrap();
    assert!(
        !here
            .permits(&alice, Purpose::Messaging, &ig, now)
            .await
            .unwrap()
    );
    assert!(
        !uncached
            .permits(&alice, Purpose::Messaging, &ig, now)
            .await
            .unwrap()
    );
    // The other process still answers from its cache until the TTL runs out.
    assert!(
        there
            .permits(&alice, Purpose::Messaging, &ig, now)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        !short
            .permits(&alice, Purpose::Messaging, &ig, now)
            .await
            .unwrap()
    );
}

fn usage(at: chrono::DateTime<Utc>, who: &str, op: &str) -> UsageEntry {
    UsageEntry::new(
        at,
        subject(who),
        PlatformId::INSTAGRAM,
        None,
        op,
        Outcome::Success,
        Some(200),
        Duration::from_millis(3),
        ClientInfo::new(Some("192.0.2.1".parse().unwrap()), Some("UA/3")),
    )
}

async fn usage_log_pages_and_actors(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    for i in 0..5 {
        // Appended out of time order: pages follow append order.
        let at = now - chrono::Duration::seconds(i);
        let mut e = usage(at, "alice", &format!("op.{i}"));
        if i == 2 {
            e = e.with_actor("operator-7");
        }
        s.append(e).await.unwrap();
        s.append(usage(at, "bob", "other")).await.unwrap();
    }
    let mut ops = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (page, next) = s.entries_page(&subject("alice"), cursor, 2).await.unwrap();
        assert!(page.len() <= 2);
        pages += 1;
        ops.extend(page.iter().map(|e| (e.operation.clone(), e.actor.clone())));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        ops,
        (0..5)
            .map(|i| (format!("op.{i}"), (i == 2).then(|| "operator-7".to_owned())))
            .collect::<Vec<_>>()
    );
    // A page that ends exactly at the end says so.
    let (all, next) = s.entries_page(&subject("alice"), None, 5).await.unwrap();
    assert_eq!((all.len(), next), (5, None));
    assert_eq!(all[0].client.user_agent.as_deref(), Some("UA/3"));
    let (none, next) = s.entries_page(&subject("carol"), None, 5).await.unwrap();
    assert!(none.is_empty() && next.is_none());
    let entries = s.entries(&subject("alice")).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.actor.as_deref() == Some("operator-7"))
            .count(),
        1
    );
}

async fn stale_connections(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let days = chrono::Duration::days;
    let k1 = key("alice", PlatformId::FACEBOOK);
    let k2 = key("bob", PlatformId::TIKTOK);
    let k3 = key("carol", PlatformId::PINTEREST);
    let k4 = key("dave", PlatformId::LINKEDIN);
    for k in [&k1, &k2, &k3, &k4] {
        s.put(k, &tokens(k.subject.as_str()), None).await.unwrap();
    }
    s.set_status(
        &k1,
        ConnectionStatus::ReconnectRequired {
            since: now - days(10),
        },
    )
    .await
    .unwrap();
    s.set_status(
        &k2,
        ConnectionStatus::Revoked {
            since: now - days(1),
        },
    )
    .await
    .unwrap();
    s.set_status(
        &k4,
        ConnectionStatus::Revoked {
            since: now - days(20),
        },
    )
    .await
    .unwrap();
    let sorted = |mut v: Vec<ConnectionKey>| {
        v.sort_by_key(|k| k.connection.to_string());
        v
    };
    assert_eq!(
        s.stale_connections(now - days(5), 10).await.unwrap(),
        sorted(vec![k1.clone(), k4.clone()])
    );
    assert_eq!(
        s.stale_connections(now, 10).await.unwrap(),
        sorted(vec![k1.clone(), k2.clone(), k4.clone()])
    );
    assert_eq!(s.stale_connections(now, 2).await.unwrap().len(), 2);
    assert!(
        s.stale_connections(now - days(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    s.erase(&k4.subject).await.unwrap();
    assert_eq!(
        s.stale_connections(now - days(5), 10).await.unwrap(),
        vec![k1.clone()]
    );
}

async fn profiles(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let alice = subject("alice");
    assert_eq!(s.profile(&alice).await.unwrap(), None);
    s.put_profile(
        &alice,
        &SubjectProfile::new(Some("alice@example.com".into()), Some("alice".into())),
    )
    .await
    .unwrap();
    let got = s.profile(&alice).await.unwrap().unwrap();
    assert_eq!(got.email.as_deref(), Some("alice@example.com"));
    assert_eq!(got.username.as_deref(), Some("alice"));
    assert_eq!(
        got.updated_at.map(|t| t.timestamp()),
        Some(f.clock.now().timestamp())
    );
    f.clock.advance(chrono::Duration::seconds(30));
    s.put_profile(&alice, &SubjectProfile::new(None, Some("alice2".into())))
        .await
        .unwrap();
    let got = s.profile(&alice).await.unwrap().unwrap();
    assert_eq!((got.email, got.username.as_deref()), (None, Some("alice2")));
    assert_eq!(
        got.updated_at.map(|t| t.timestamp()),
        Some(f.clock.now().timestamp())
    );
    assert_eq!(s.profile(&subject("bob")).await.unwrap(), None);
    assert!(s.erase_profile(&alice).await.unwrap());
    assert!(!s.erase_profile(&alice).await.unwrap());
    assert_eq!(s.profile(&alice).await.unwrap(), None);
}

fn receipt(pseudonym: &str, at: chrono::DateTime<Utc>) -> ErasureReceipt {
    serde_json::from_value(serde_json::json!({
        "subject_pseudonym": pseudonym,
        "erased_at": at,
        "counts": {"tokens": 2, "usage_entries": 10},
        "upstream": [["facebook", "completed"], ["tiktok", "failed: timeout"]],
    }))
    .unwrap()
}

async fn erasure_receipts_survive_erasure(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let alice = subject("alice");
    let p = s.pseudonym(&alice);
    assert_eq!(p.len(), 64);
    assert!(
        p.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // Stable across stores over the same keys, per subject, and not the rows' pseudonym.
    assert_eq!(f.store().await.pseudonym(&alice), p);
    assert_ne!(s.pseudonym(&subject("bob")), p);
    let sref: String = s
        .subject_ref(&alice)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_ne!(sref, p);

    s.put(&key("alice", PlatformId::FACEBOOK), &tokens("t"), None)
        .await
        .unwrap();
    let first = receipt(&p, micros(f.clock.now()));
    s.record_erasure(&first).await.unwrap();
    s.erase(&alice).await.unwrap();
    let second = receipt(&p, micros(f.clock.now() + chrono::Duration::seconds(1)));
    s.record_erasure(&second).await.unwrap();
    assert_eq!(s.erasure_receipts(&p).await.unwrap(), vec![first, second]);
    assert!(
        s.erasure_receipts(&s.pseudonym(&subject("bob")))
            .await
            .unwrap()
            .is_empty()
    );
}

fn api_key_record(created: chrono::DateTime<Utc>, byte: u8) -> ApiKeyRecord {
    ApiKeyRecord::new(
        ApiKeyId::generate(),
        ApiKeyHash::from_bytes([byte; 32]),
        vec!["posts:read".to_owned(), "posts:write".to_owned()],
        created,
        Some(created + chrono::Duration::days(30)),
    )
}

async fn api_keys(kind: Kind) {
    // Imported here only: its `get` and `insert` share names with TokenStore's and
    // PendingAuthStore's.
    use socialconnect_core::apikey::ApiKeyStore;
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let k: &dyn ApiKeyStore = &s;
    let t = micros(f.clock.now());
    let sec = chrono::Duration::seconds;
    let r1 = api_key_record(t, 1);
    k.insert(r1.clone()).await.unwrap();
    assert_eq!(k.get(&r1.key_id).await.unwrap(), Some(r1.clone()));
    let dup = k.insert(r1.clone()).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::InvalidInput);
    assert_eq!(k.get(&ApiKeyId::generate()).await.unwrap(), None);

    k.touch(&r1.key_id, t + sec(5)).await.unwrap();
    k.touch(&r1.key_id, t + sec(2)).await.unwrap();
    k.touch(&ApiKeyId::generate(), t).await.unwrap();
    let got = k.get(&r1.key_id).await.unwrap().unwrap();
    assert_eq!(got.last_used_at, Some(t + sec(5)));

    assert!(k.revoke(&r1.key_id, t + sec(10)).await.unwrap());
    assert!(!k.revoke(&r1.key_id, t + sec(20)).await.unwrap());
    assert_eq!(
        k.get(&r1.key_id).await.unwrap().unwrap().revoked_at,
        Some(t + sec(10))
    );

    // Rotation: a revoked key cannot be rotated; an unrotated one once.
    assert!(!k.rotate(&r1.key_id, api_key_record(t, 9), t).await.unwrap());
    let r2 = api_key_record(t + sec(1), 2);
    k.insert(r2.clone()).await.unwrap();
    let r3 = api_key_record(t + sec(2), 3);
    assert!(k.rotate(&r2.key_id, r3.clone(), t + sec(60)).await.unwrap());
    let old = k.get(&r2.key_id).await.unwrap().unwrap();
    assert_eq!(
        (old.replaced_by, old.grace_until),
        (Some(r3.key_id), Some(t + sec(60)))
    );
    assert_eq!(k.get(&r3.key_id).await.unwrap(), Some(r3.clone()));
    let r4 = api_key_record(t + sec(3), 4);
    assert!(!k.rotate(&r2.key_id, r4.clone(), t + sec(60)).await.unwrap());
    assert_eq!(k.get(&r4.key_id).await.unwrap(), None);
    assert!(
        !k.rotate(&ApiKeyId::generate(), r4.clone(), t)
            .await
            .unwrap()
    );
    // A replacement id already taken is an error and changes nothing.
    let err = k.rotate(&r3.key_id, r1.clone(), t).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(k.get(&r3.key_id).await.unwrap().unwrap().replaced_by, None);

    let listed: Vec<ApiKeyId> = k.list().await.unwrap().iter().map(|r| r.key_id).collect();
    assert_eq!(listed, vec![r1.key_id, r2.key_id, r3.key_id]);
    // Dead at or before the cutoff: r1 revoked at +10 s, r2 out of grace at +60 s.
    assert_eq!(k.purge(t + sec(10)).await.unwrap(), 1);
    assert_eq!(k.purge(t + sec(59)).await.unwrap(), 0);
    assert_eq!(k.purge(t + sec(60)).await.unwrap(), 1);
    let listed: Vec<ApiKeyId> = k.list().await.unwrap().iter().map(|r| r.key_id).collect();
    assert_eq!(listed, vec![r3.key_id]);
    // A record with sub-microsecond times reads back at microsecond precision.
    let fine = api_key_record(t + chrono::Duration::nanoseconds(1_500), 5);
    k.insert(fine.clone()).await.unwrap();
    assert_eq!(
        k.get(&fine.key_id).await.unwrap().unwrap().created_at,
        t + chrono::Duration::microseconds(1)
    );
}

async fn api_key_rotation_is_atomic(kind: Kind) {
    // Imported here only: its `get` and `insert` share names with TokenStore's and
    // PendingAuthStore's.
    use socialconnect_core::apikey::ApiKeyStore;
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let t = micros(f.clock.now());
    let old = api_key_record(t, 1);
    ApiKeyStore::insert(&s, old.clone()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let s = s.clone();
        let replacement = api_key_record(t, 10 + i);
        tasks.push(tokio::spawn(async move {
            ApiKeyStore::rotate(&s, &old.key_id, replacement, t).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    // The old key and exactly one replacement.
    assert_eq!(ApiKeyStore::list(&s).await.unwrap().len(), 2);
}

async fn api_keys_service_end_to_end(kind: Kind) {
    use socialconnect_core::apikey::{ApiKeyStore, ApiKeys};
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let keys =
        ApiKeys::new(Arc::new(s.clone()), f.clock.clone()).with_access_log(Arc::new(s.clone()));
    let issued = keys.issue(["posts:read"], None, "admin").await.unwrap();
    let verified = keys.verify(issued.key.expose_secret()).await.unwrap();
    assert_eq!(verified.key_id, issued.key_id);
    // Only the hash is stored.
    let stored = ApiKeyStore::get(&s, &issued.key_id).await.unwrap().unwrap();
    assert_eq!(stored.scopes, vec!["posts:read".to_owned()]);
    let rotated = keys
        .rotate(&issued.key_id, chrono::TimeDelta::hours(1), "admin")
        .await
        .unwrap();
    keys.verify(issued.key.expose_secret()).await.unwrap();
    keys.verify(rotated.key.expose_secret()).await.unwrap();
    f.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        keys.verify(issued.key.expose_secret())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unauthorized
    );
    assert!(keys.revoke(&rotated.key_id, "admin").await.unwrap());
    assert_eq!(
        keys.verify(rotated.key.expose_secret())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unauthorized
    );
    // Issue, rotate and revoke are logged as privileged operations with the key ids, never
    // a key.
    let system = SubjectId::new(socialconnect_core::access_log::SYSTEM_SUBJECT).unwrap();
    let ops: Vec<_> = AccessLog::entries(&s, &system)
        .await
        .unwrap()
        .into_iter()
        .inspect(|e| assert_eq!(e.actor.as_deref(), Some("admin")))
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        ops,
        vec![
            format!("privileged.api_key.issue:{}", issued.key_id),
            format!(
                "privileged.api_key.rotate:{}->{}",
                issued.key_id, rotated.key_id
            ),
            format!("privileged.api_key.revoke:{}", rotated.key_id),
        ]
    );
    for op in &ops {
        assert!(!op.contains(issued.key.expose_secret()));
        assert!(!op.contains(rotated.key.expose_secret()));
    }
}

async fn webhook_deliveries(kind: Kind) {
    use socialconnect_core::webhook::{Delivery, DeliveryLog};
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let log = s.delivery_log(chrono::Duration::hours(72));
    assert_eq!(log.record("tiktok", "ev-1").await.unwrap(), Delivery::First);
    assert_eq!(
        log.record("tiktok", "ev-1").await.unwrap(),
        Delivery::Repeat
    );
    // Another platform's event with the same id is another delivery.
    assert_eq!(
        log.record("linkedin", "ev-1").await.unwrap(),
        Delivery::First
    );
    // A second store handle (another process) on the same database sees the sighting.
    let other = f.store().await.delivery_log(chrono::Duration::hours(72));
    if !matches!(kind, Kind::Memory) {
        assert_eq!(
            other.record("tiktok", "ev-1").await.unwrap(),
            Delivery::Repeat
        );
    }
    // Forgotten after a failed handling: the retry is first again.
    log.forget("tiktok", "ev-1").await.unwrap();
    assert_eq!(log.record("tiktok", "ev-1").await.unwrap(), Delivery::First);
    // Concurrent deliveries of one event: exactly one is first.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            log.record("meta", "batch-7").await.unwrap()
        }));
    }
    let mut firsts = 0;
    for t in tasks {
        if t.await.unwrap() == Delivery::First {
            firsts += 1;
        }
    }
    assert_eq!(firsts, 1);
    // Outside the window a sighting no longer counts, and purge deletes it.
    f.clock.advance(chrono::Duration::hours(73));
    assert_eq!(
        log.record("linkedin", "ev-1").await.unwrap(),
        Delivery::First
    );
    assert_eq!(
        log.purge(f.clock.now()).await.unwrap(),
        2,
        "tiktok ev-1 and meta batch-7"
    );
    assert_eq!(
        log.record("linkedin", "ev-1").await.unwrap(),
        Delivery::Repeat
    );
    // Malformed input is refused before the database.
    for (platform, id) in [("", "x"), ("tiktok", "")] {
        let e = log.record(platform, id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    let long = "x".repeat(5000);
    assert_eq!(
        log.record("tiktok", &long).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
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
        contract!($kind, "": shared_contract, erasure_is_complete,
            rotation_rewraps_without_downtime, moved_ciphertext_does_not_open,
            flipped_bit_does_not_open, wrong_keyring_fails_clearly,
            find_by_account_across_subjects, token_payload_format_1_still_reads,
            deletion_request_lifecycle, consent_state_and_notice, consent_erasure_alone,
            consent_cache_local_and_remote, usage_log_pages_and_actors, stale_connections,
            profiles, erasure_receipts_survive_erasure, api_keys, api_key_rotation_is_atomic,
            api_keys_service_end_to_end, webhook_deliveries, claims_take_due_connections_once,
            claims_are_exclusive_under_concurrency, claims_learn_the_due_time_of_older_rows,
            rate_windows_admit_calls_per_window, rate_windows_are_exact_under_concurrency,
            rate_days_count_to_the_limit, rate_budgets_purge_idle_rows,
            rate_pauses_keep_the_latest, actions_insert_get_and_save_under_each_condition,
            actions_page_by_subject_and_list_by_filter,
            actions_claims_are_exclusive_earliest_first_and_lapse, actions_are_sealed_and_erased,
            actions_that_ended_are_purged_after_the_retention);
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
