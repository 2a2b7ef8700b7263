//! The privacy engine's hot and bulk paths on the SQLite store, each figure printed:
//! the consent gate (`permits`) on a cached entry (target <= 2 µs) and, for comparison, with
//! the cache off (a database read per check); and the retention purge of 1 000 000 usage-log
//! rows older than the cutoff (target <= 10 s). Erasure of a subject with 10 000 log rows is in
//! `benches/store.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::KeyId;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_store::{EncryptedStore, StoreOptions};

/// Calls per timed batch of the consent check (amortises the runtime's `block_on`).
const BATCH: u32 = 100;

fn keyring() -> Arc<LocalKeyring> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [1; 32])], KeyId("k1".into())).unwrap(),
    )
}

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
    let hot = permits_median(&rt, &cached, &subject, 2_000);
    let cold = permits_median(&rt, &uncached, &subject, 50);
    eprintln!("privacy bench: consent gate, cached: median {hot:?} per check (target <= 2 µs)");
    eprintln!("privacy bench: consent gate, cache off (ttl 0): median {cold:?} per check");

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
