//! The privacy engine's hot and bulk paths, each figure printed: the consent gate (`permits`)
//! on a cached entry (target <= 2 µs), right after an invalidation (one indexed read) and with
//! the cache off — on the SQLite store, and on PostgreSQL when `SC_TEST_PG_URL` names a server
//! (built with `--features postgres`); and the retention purge of 1 000 000 usage-log rows
//! older than the cutoff on SQLite (target <= 10 s). Erasure of a subject with 10 000 log rows
//! is in `benches/store.rs`.

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_store::{EncryptedStore, StoreOptions};

/// Calls per timed batch of the consent check (amortises the runtime's `block_on`).
const BATCH: u32 = 100;

mod common;
use common::keyring;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Median time of one `permits` call, measured in batches of [`BATCH`].
fn permits_median(
    rt: &tokio::runtime::Runtime,
    store: &EncryptedStore,
    subject: &SubjectId,
    batches: usize,
) -> Duration {
    let now = Utc::now();
    median(
        (0..batches)
            .map(|_| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..BATCH {
                        let ok = store
                            .permits(subject, Purpose::Publishing, &PlatformId::FACEBOOK, now)
                            .await
                            .unwrap();
                        assert!(ok);
                    }
                    started.elapsed() / BATCH
                })
            })
            .collect(),
    )
}

/// Median time of the first `permits` call after a consent write through the same store
/// dropped the subject's cached entry (the write itself untimed).
fn after_invalidation_median(
    rt: &tokio::runtime::Runtime,
    store: &EncryptedStore,
    subject: &SubjectId,
    rounds: usize,
) -> Duration {
    median(
        (0..rounds)
            .map(|_| {
                rt.block_on(async {
                    let now = Utc::now();
                    store
                        .record(ConsentEvent::grant(
                            subject.clone(),
                            Purpose::Publishing,
                            None,
                            now,
                        ))
                        .await
                        .unwrap();
                    let started = Instant::now();
                    let ok = store
                        .permits(subject, Purpose::Publishing, &PlatformId::FACEBOOK, now)
                        .await
                        .unwrap();
                    assert!(ok);
                    started.elapsed()
                })
            })
            .collect(),
    )
}

/// The gate on `cached` (default TTL) and `uncached` (TTL 0), two stores over one database:
/// seeds a grant for the bench subject and 1 000 other subjects' rows, prints the figures.
fn gate_figures(
    rt: &tokio::runtime::Runtime,
    engine: &str,
    cached: &EncryptedStore,
    uncached: &EncryptedStore,
) {
    let subject = SubjectId::new("bench-subject").unwrap();
    let now = Utc::now();
    rt.block_on(cached.record(ConsentEvent::grant(
        subject.clone(),
        Purpose::Publishing,
        None,
        now,
    )))
    .unwrap();
    // Other subjects' state rows, so the uncached lookup is not against an empty table.
    for i in 0..1_000 {
        rt.block_on(cached.record(ConsentEvent::grant(
            SubjectId::new(format!("other-{i}")).unwrap(),
            Purpose::Analytics,
            Some(PlatformId::TIKTOK),
            now,
        )))
        .unwrap();
    }

    let hot = permits_median(rt, cached, &subject, 2_000);
    let stale = after_invalidation_median(rt, cached, &subject, 200);
    let cold = permits_median(rt, uncached, &subject, 50);
    eprintln!(
        "privacy bench: consent gate on {engine}: cached median {hot:?} per check (target <= 2 µs); \
         first check after an invalidation {stale:?} (one indexed read); cache off (ttl 0) {cold:?}"
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("privacy.db");
    let keys = keyring();
    let cached = rt
        .block_on(EncryptedStore::open_sqlite(&path, keys.clone()))
        .unwrap();
    let uncached = rt
        .block_on(EncryptedStore::open_sqlite_with(
            &path,
            keys.clone(),
            StoreOptions::default().with_consent_cache_ttl(Duration::ZERO),
        ))
        .unwrap();
    gate_figures(&rt, "SQLite", &cached, &uncached);
    #[cfg(feature = "postgres")]
    match rt.block_on(common::postgres_database()) {
        Some(url) => {
            let open = |ttl| {
                rt.block_on(EncryptedStore::open_postgres_with(
                    &url,
                    keys.clone(),
                    StoreOptions::default().with_consent_cache_ttl(ttl),
                ))
                .unwrap()
            };
            let (pg_cached, pg_uncached) = (open(Duration::from_secs(1)), open(Duration::ZERO));
            gate_figures(&rt, "PostgreSQL", &pg_cached, &pg_uncached);
            rt.block_on(pg_cached.close());
            rt.block_on(pg_uncached.close());
        }
        None => eprintln!("privacy bench: SC_TEST_PG_URL is unset, no PostgreSQL run"),
    }
    let subject = SubjectId::new("bench-subject").unwrap();
    let now = Utc::now();

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    {
        let mut g = c.benchmark_group("consent_gate");
        g.bench_function("permits_cached", |b| {
            b.to_async(&rt).iter(|| async {
                cached
                    .permits(&subject, Purpose::Publishing, &PlatformId::FACEBOOK, now)
                    .await
                    .unwrap()
            })
        });
        g.bench_function("permits_uncached", |b| {
            b.to_async(&rt).iter(|| async {
                uncached
                    .permits(&subject, Purpose::Publishing, &PlatformId::FACEBOOK, now)
                    .await
                    .unwrap()
            })
        });
        g.finish();
    }

    // Retention purge of 1 000 000 usage-log rows older than the cutoff, beside 1 000 kept.
    let purge_path = dir.path().join("purge.db");
    let store = rt
        .block_on(EncryptedStore::open_sqlite(&purge_path, keys))
        .unwrap();
    let entry = |at, op: &str| {
        UsageEntry::new(
            at,
            SubjectId::new("purge-subject").unwrap(),
            PlatformId::FACEBOOK,
            None,
            op,
            Outcome::Success,
            Some(200),
            Duration::from_millis(3),
            ClientInfo::new(Some("192.0.2.1".parse().unwrap()), Some("Bench/1")),
        )
    };
    rt.block_on(store.append(entry(now - chrono::Duration::days(100), "old")))
        .unwrap();
    rt.block_on(store.append(entry(now, "recent"))).unwrap();
    // Clone each real row through SQL (one INSERT…SELECT each): the purge does not decrypt.
    let conn = rusqlite::Connection::open(&purge_path).unwrap();
    for (op, copies) in [("old", 999_999), ("recent", 999)] {
        conn.execute(
            "INSERT INTO sc_usage_log (subject_ref, at, platform, operation, outcome, http_status, latency_us, dek_id, sealed) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2) \
             SELECT u.subject_ref, u.at + n.i, u.platform, u.operation, u.outcome, u.http_status, u.latency_us, u.dek_id, u.sealed \
             FROM sc_usage_log u, n WHERE u.operation = ?1",
            rusqlite::params![op, copies],
        )
        .unwrap();
    }
    drop(conn);
    let started = Instant::now();
    let purged = rt
        .block_on(store.purge_before(now - chrono::Duration::days(90)))
        .unwrap();
    let took = started.elapsed();
    assert_eq!(purged, 1_000_000);
    eprintln!(
        "privacy bench: purge of {purged} usage-log rows took {:.2} s (target <= 10 s)",
        took.as_secs_f64()
    );
    c.final_summary();
}
