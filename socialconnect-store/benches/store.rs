//! Reading and writing one token three ways on the same machine in the same run:
//! (a) the encrypted SQLite store, (b) the same schema, driver and dispatch storing plaintext,
//! (c) the floor: a raw prepared rusqlite statement on the same kind of file, plaintext.
//! Also: a hot read of a cached token by a hub session, a rotation re-wrapping 100 000
//! subjects' keys, and erasing a subject with 10 000 usage-log rows. Prints each figure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use chrono::Utc;
use criterion::Criterion;
use socialconnect_core::SocialConnect;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::{DataKey, KeyId, KeyProvider};
use socialconnect_core::memory::{MemoryConsentLedger, MemoryPendingAuthStore};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret, RefreshToken};
use socialconnect_core::store::{ConnectionStatus, StoredTokens, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::keys::LocalKeyring;
use socialconnect_store::{EncryptedStore, StoreOptions};

fn keyring(keys: &[(&str, u8)], primary: &str) -> Arc<LocalKeyring> {
    Arc::new(
        LocalKeyring::from_keys(
            keys.iter()
                .map(|(id, b)| (KeyId((*id).into()), [*b; 32]))
                .collect(),
            KeyId(primary.into()),
        )
        .unwrap(),
    )
}

fn token_set() -> TokenSet {
    let now = Utc::now();
    TokenSet::new(
        AccessToken::new("EAAB".repeat(50)),
        Expiry::after(now, 86_400 * 30),
        now,
    )
    .with_refresh(RefreshToken::new("r".repeat(64)), Expiry::Never)
    .with_account_id("17841400000000000")
}

/// (b): the store's own schema, driver and dispatch with plaintext token bytes — what the
/// store's SQLite backend does, minus the sealing. Reads run on a reader connection in place
/// (`block_in_place`) and do what the store does to answer: find the row by connection id,
/// check it is the caller's (subject pseudonym and platform, as the schema stores them) and
/// return the tokens with version, status and last update. Writes run on the writer connection
/// through tokio's blocking pool, in a `BEGIN IMMEDIATE` transaction returning the new version,
/// with the same pseudonyms in the indexed columns.
#[derive(Clone)]
struct Plain {
    reader: Arc<Mutex<rusqlite::Connection>>,
    writer: Arc<Mutex<rusqlite::Connection>>,
    pseudonym_key: [u8; 32],
}

impl Plain {
    async fn open(path: &std::path::Path) -> Self {
        // Let the store create the schema, then talk to the table directly.
        EncryptedStore::open_sqlite(path, keyring(&[("k1", 1)], "k1"))
            .await
            .unwrap();
        let connect = || {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch(
                "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .unwrap();
            Arc::new(Mutex::new(conn))
        };
        Self {
            reader: connect(),
            writer: connect(),
            pseudonym_key: [5; 32],
        }
    }

    /// HMAC-SHA256 pseudonym, keyed per call as the store does.
    fn pseudonym(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.pseudonym_key).unwrap();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    async fn put(&self, key: &ConnectionKey, tokens: &TokenSet) {
        let bytes = tokens.to_secret_bytes().unwrap().to_vec();
        let conn_id = key.connection.to_string();
        let subject_ref = self.pseudonym(&[b"subject\0", key.subject.as_str().as_bytes()]);
        let platform = key.platform.as_str().to_owned();
        let account_ref = self.pseudonym(&[
            b"account\0",
            platform.as_bytes(),
            b"\0",
            tokens.account_id.as_deref().unwrap_or_default().as_bytes(),
        ]);
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().unwrap();
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            let version: i64 = tx
                .prepare_cached(
                    // The same statement the store writes: every column, indexed ones included.
                    "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, status_since, updated_at, dek_id, sealed, account_ref) \
                     VALUES (?1, ?2, ?3, 1, 'active', NULL, ?4, '', ?5, ?6) \
                     ON CONFLICT (conn_id) DO UPDATE SET subject_ref = excluded.subject_ref, platform = excluded.platform, \
                         version = sc_tokens.version + 1, status = excluded.status, status_since = excluded.status_since, \
                         updated_at = excluded.updated_at, dek_id = excluded.dek_id, sealed = excluded.sealed, \
                         account_ref = excluded.account_ref \
                     RETURNING version",
                )
                .unwrap()
                .query_row(
                    rusqlite::params![conn_id, subject_ref, platform, Utc::now().timestamp(), bytes, account_ref],
                    |r| r.get(0),
                )
                .unwrap();
            tx.commit().unwrap();
            version
        })
        .await
        .unwrap();
    }

    /// What the store's read returns, after the same ownership check.
    async fn get(&self, key: &ConnectionKey) -> Option<StoredTokens> {
        let subject_ref = self.pseudonym(&[b"subject\0", key.subject.as_str().as_bytes()]);
        let conn_id = key.connection.to_string();
        // A point lookup runs in place on a multi-threaded runtime, like the store's.
        let (row_subject, platform, version, status, updated_at, bytes) =
            tokio::task::block_in_place(|| {
                let conn = self.reader.lock().unwrap();
                conn.prepare_cached(
                    "SELECT subject_ref, platform, version, status, status_since, updated_at, sealed \
                     FROM sc_tokens WHERE conn_id = ?1",
                )
                .unwrap()
                .query_row([conn_id], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Vec<u8>>(6)?,
                    ))
                })
                .unwrap()
            });
        if row_subject != subject_ref || platform != key.platform.as_str() {
            return None;
        }
        assert_eq!(status, "active");
        Some(StoredTokens::new(
            TokenSet::from_secret_bytes(&bytes).unwrap(),
            version.unsigned_abs(),
            ConnectionStatus::Active,
            chrono::DateTime::from_timestamp(updated_at, 0).unwrap(),
        ))
    }

    /// (b′): the row by connection id alone, without the ownership check: a lower bound no
    /// store that serves several end users could stop at.
    async fn get_unchecked(&self, conn_id: &str) -> TokenSet {
        let bytes: Vec<u8> = tokio::task::block_in_place(|| {
            let conn = self.reader.lock().unwrap();
            conn.prepare_cached("SELECT sealed FROM sc_tokens WHERE conn_id = ?1")
                .unwrap()
                .query_row([conn_id], |r| r.get(0))
                .unwrap()
        });
        TokenSet::from_secret_bytes(&bytes).unwrap()
    }
}

/// (c): rusqlite, a cached prepared statement, plaintext.
struct Raw {
    conn: rusqlite::Connection,
}

impl Raw {
    fn open(path: &std::path::Path) -> Self {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA synchronous=FULL;",
        )
        .unwrap();
        Self { conn }
    }

    fn put(&self, conn_id: &str, tokens: &TokenSet) {
        let bytes = tokens.to_secret_bytes().unwrap();
        self.conn
            .prepare_cached(
                "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, status_since, updated_at, dek_id, sealed, account_ref) \
                 VALUES (?1, ?2, 'linkedin', 1, 'active', NULL, ?3, '', ?4, ?5) \
                 ON CONFLICT (conn_id) DO UPDATE SET subject_ref = excluded.subject_ref, platform = excluded.platform, \
                     version = sc_tokens.version + 1, status = excluded.status, status_since = excluded.status_since, \
                     updated_at = excluded.updated_at, dek_id = excluded.dek_id, sealed = excluded.sealed, \
                     account_ref = excluded.account_ref",
            )
            .unwrap()
            .execute(rusqlite::params![conn_id, vec![7u8; 32], Utc::now().timestamp(), bytes.to_vec(), vec![9u8; 32]])
            .unwrap();
    }

    fn get(&self, conn_id: &str) -> TokenSet {
        let sealed: Vec<u8> = self
            .conn
            .prepare_cached("SELECT sealed FROM sc_tokens WHERE conn_id = ?1")
            .unwrap()
            .query_row([conn_id], |r| r.get(0))
            .unwrap();
        TokenSet::from_secret_bytes(&sealed).unwrap()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Times `rounds` interleaved runs of the three contenders; returns their medians.
fn interleaved<A, B, C>(
    rounds: usize,
    mut a: A,
    mut b: B,
    mut c: C,
) -> (Duration, Duration, Duration)
where
    A: FnMut(),
    B: FnMut(),
    C: FnMut(),
{
    let (mut ta, mut tb, mut tc) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        a();
        ta.push(t.elapsed());
        let t = Instant::now();
        b();
        tb.push(t.elapsed());
        let t = Instant::now();
        c();
        tc.push(t.elapsed());
    }
    (median(ta), median(tb), median(tc))
}

async fn hub_over(store: EncryptedStore) -> (SocialConnect, ConnectionKey) {
    let http = HttpClient::builder().build().unwrap();
    let spec = OAuthSpec::new(
        PlatformId::LINKEDIN,
        "bench",
        "https://127.0.0.1/authorize".parse().unwrap(),
        "https://127.0.0.1/token".parse().unwrap(),
    );
    let clock: Arc<dyn socialconnect_core::clock::Clock> =
        Arc::new(socialconnect_core::clock::SystemClock);
    let oauth = OAuthClient::new(spec, ClientSecret::new("s"), http.clone(), clock);
    let platform = StandardPlatform::new(oauth, "https://127.0.0.1/me".parse().unwrap());
    let ledger = Arc::new(MemoryConsentLedger::new());
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(platform))
        .token_store(Arc::new(store.clone()))
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(ledger)
        .access_log(Arc::new(store.clone()))
        .build()
        .unwrap();
    let subject = SubjectId::new("hot-reader").unwrap();
    for purpose in [Purpose::AccountConnection, Purpose::ReadingContent] {
        hub.record_consent(ConsentEvent::grant(
            subject.clone(),
            purpose,
            None,
            Utc::now(),
        ))
        .await
        .unwrap();
    }
    let key = ConnectionKey::new(subject, PlatformId::LINKEDIN, ConnectionId::generate());
    store.put(&key, &token_set(), None).await.unwrap();
    (hub, key)
}

/// Fills the vault with `n` subject keys wrapped by `k1`, through SQL for speed.
async fn seed_subject_keys(vault: &std::path::Path, keys: &LocalKeyring, n: usize) {
    let conn = rusqlite::Connection::open(vault).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut stmt = conn
            .prepare("INSERT INTO sc_subject_keys (subject_ref, dek_id, kek_id, wrapped, created_at) VALUES (?1, ?2, 'k1', ?3, 0)")
            .unwrap();
        for i in 0..n as u64 {
            let mut sref = [0u8; 32];
            sref[..8].copy_from_slice(&i.to_be_bytes());
            sref[8] = 0xAB;
            let mut ctx = b"subject-key\0".to_vec();
            ctx.extend_from_slice(&sref);
            let wrapped = keys
                .wrap(&KeyId("k1".into()), &DataKey::generate(), &ctx)
                .await
                .unwrap();
            stmt.execute(rusqlite::params![
                sref.to_vec(),
                format!("dek-{i}"),
                wrapped.ciphertext
            ])
            .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring(&[("k1", 1)], "k1");
    let enc = rt
        .block_on(EncryptedStore::open_sqlite(
            dir.path().join("a.db"),
            keys.clone(),
        ))
        .unwrap();
    let plain = rt.block_on(Plain::open(&dir.path().join("b.db")));
    let raw = Raw::open(&dir.path().join("b.db"));
    let key = ConnectionKey::new(
        SubjectId::new("bench").unwrap(),
        PlatformId::LINKEDIN,
        ConnectionId::generate(),
    );
    let raw_id = "raw-conn";
    let plain_id = key.connection.to_string();
    let t = token_set();
    rt.block_on(enc.put(&key, &t, None)).unwrap();
    rt.block_on(plain.put(&key, &t));
    raw.put(raw_id, &t);

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    {
        let mut g = c.benchmark_group("token_read");
        g.bench_function("a_encrypted_store", |b| {
            b.to_async(&rt)
                .iter(|| async { enc.get(&key).await.unwrap() })
        });
        g.bench_function("b_plain_same_driver", |b| {
            b.to_async(&rt)
                .iter(|| async { plain.get(&key).await.unwrap() })
        });
        g.bench_function("c_raw_rusqlite", |b| b.iter(|| raw.get(raw_id)));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("token_write");
        g.bench_function("a_encrypted_store", |b| {
            b.to_async(&rt)
                .iter(|| async { enc.put(&key, &t, None).await.unwrap() })
        });
        g.bench_function("b_plain_same_driver", |b| {
            b.to_async(&rt).iter(|| plain.put(&key, &t))
        });
        g.bench_function("c_raw_rusqlite", |b| b.iter(|| raw.put(raw_id, &t)));
        g.finish();
    }
    let (hub, hot_key) = rt.block_on(hub_over(enc.clone()));
    rt.block_on(hub.session(&hot_key, Purpose::ReadingContent))
        .unwrap();
    c.bench_function("hot_session_token_read", |b| {
        b.to_async(&rt).iter(|| async {
            hub.session(&hot_key, Purpose::ReadingContent)
                .await
                .unwrap()
        })
    });

    // Ratios from interleaved medians (same load on all three).
    let (ra, rb, rc) = interleaved(
        3_000,
        || drop(rt.block_on(enc.get(&key)).unwrap()),
        || drop(rt.block_on(plain.get(&key)).unwrap()),
        || drop(raw.get(raw_id)),
    );
    // (b′): plaintext by connection id alone, no ownership check (a lower bound, for scale).
    let (ua, ub, uc) = interleaved(
        3_000,
        || drop(rt.block_on(enc.get(&key)).unwrap()),
        || drop(rt.block_on(plain.get_unchecked(&plain_id))),
        || drop(raw.get(raw_id)),
    );
    // The same reads from inside a task on a runtime worker thread, where `block_in_place`
    // hands the worker's core to another thread first: what a host's request handler sees.
    let (ta, tb, tc) = {
        let (enc, plain, raw_path) = (enc.clone(), plain.clone(), dir.path().join("b.db"));
        let key = key.clone();
        rt.block_on(rt.spawn(async move {
            let raw = Raw::open(&raw_path);
            let (mut ta, mut tb, mut tc) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..3_000 {
                let t = Instant::now();
                drop(enc.get(&key).await.unwrap());
                ta.push(t.elapsed());
                let t = Instant::now();
                drop(plain.get(&key).await.unwrap());
                tb.push(t.elapsed());
                let t = Instant::now();
                drop(raw.get(raw_id));
                tc.push(t.elapsed());
            }
            (median(ta), median(tb), median(tc))
        }))
        .unwrap()
    };
    let (wa, wb, wc) = interleaved(
        1_000,
        || {
            rt.block_on(enc.put(&key, &t, None)).unwrap();
        },
        || rt.block_on(plain.put(&key, &t)),
        || raw.put(raw_id, &t),
    );
    let hot = median(
        (0..20_000)
            .map(|_| {
                let t = Instant::now();
                drop(
                    rt.block_on(hub.session(&hot_key, Purpose::ReadingContent))
                        .unwrap(),
                );
                t.elapsed()
            })
            .collect(),
    );
    eprintln!(
        "store bench: read  (a) {ra:?} (b) {rb:?} (c) {rc:?}; a/b {:.2} (target <= 1.2), a/c {:.2} (target <= 3)",
        ra.as_secs_f64() / rb.as_secs_f64(),
        ra.as_secs_f64() / rc.as_secs_f64()
    );
    eprintln!(
        "store bench: read  (a) {ua:?} (b′, no ownership check) {ub:?} (c) {uc:?}; a/b′ {:.2}",
        ua.as_secs_f64() / ub.as_secs_f64()
    );
    eprintln!(
        "store bench: read from a worker task (a) {ta:?} (b) {tb:?} (c) {tc:?}; a/b {:.2}, a/c {:.2}",
        ta.as_secs_f64() / tb.as_secs_f64(),
        ta.as_secs_f64() / tc.as_secs_f64()
    );
    eprintln!(
        "store bench: write (a) {wa:?} (b) {wb:?} (c) {wc:?}; a/b {:.2} (target <= 1.2), a/c {:.2}",
        wa.as_secs_f64() / wb.as_secs_f64(),
        wa.as_secs_f64() / wc.as_secs_f64()
    );
    eprintln!(
        "store bench: hot session token read (cached, decrypted) median {hot:?} (target <= 5 µs)"
    );

    // Rotation of 100 000 subjects' keys.
    let rot_dir = tempfile::tempdir().unwrap();
    let rot_path = rot_dir.path().join("rot.db");
    let k1 = keyring(&[("k1", 1)], "k1");
    rt.block_on(EncryptedStore::open_sqlite(&rot_path, k1.clone()))
        .unwrap();
    let mut vault = rot_path.as_os_str().to_owned();
    vault.push(".keys");
    rt.block_on(seed_subject_keys(
        std::path::Path::new(&vault),
        &k1,
        100_000,
    ));
    let both = keyring(&[("k1", 1), ("k2", 2)], "k2");
    let store = rt
        .block_on(EncryptedStore::open_sqlite_with(
            &rot_path,
            both,
            StoreOptions::default(),
        ))
        .unwrap();
    let started = Instant::now();
    let report = rt.block_on(store.rotate_keys("bench", |_| {})).unwrap();
    let rotation = started.elapsed();
    eprintln!(
        "store bench: rotation re-wrapped {} keys in {rotation:?} (target <= 10 s for 100 000)",
        report.rewrapped
    );

    // Erasure of a subject with 10 000 usage-log rows.
    let mut erasures = Vec::new();
    for round in 0..5 {
        let subject = SubjectId::new(format!("erase-me-{round}")).unwrap();
        let entry = UsageEntry::new(
            Utc::now(),
            subject.clone(),
            PlatformId::FACEBOOK,
            None,
            "pages.read",
            Outcome::Success,
            Some(200),
            Duration::from_millis(3),
            ClientInfo::new(Some("192.0.2.1".parse().unwrap()), Some("Bench/1")),
        );
        rt.block_on(enc.append(entry)).unwrap();
        // Clone that row to 10 000 through SQL: erasure does not decrypt, it deletes.
        let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
        conn.execute(
            "INSERT INTO sc_usage_log (subject_ref, at, platform, operation, outcome, http_status, latency_us, dek_id, sealed) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999) \
             SELECT u.subject_ref, u.at + n.i, u.platform, u.operation, u.outcome, u.http_status, u.latency_us, u.dek_id, u.sealed \
             FROM sc_usage_log u, n WHERE u.id = (SELECT max(id) FROM sc_usage_log)",
            [],
        )
        .unwrap();
        drop(conn);
        let started = Instant::now();
        let report = rt.block_on(enc.erase(&subject)).unwrap();
        erasures.push(started.elapsed());
        assert_eq!(report.counts["usage_entries"], 10_000);
    }
    eprintln!(
        "store bench: erasure of a subject with 10 000 log rows, median of 5: {:?} (target <= 100 ms)",
        median(erasures)
    );
    c.final_summary();
}
