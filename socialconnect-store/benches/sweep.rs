//! The refresh sweep on PostgreSQL, in two parts.
//!
//! 1. Finding and claiming due work among 1 000 000 connections: `sc_tokens` is seeded with
//!    `INSERT … SELECT generate_series` (dummy sealed blobs: the claim reads only plain
//!    columns), 1 % of them already due and the rest due over the next 60 days. Times one claim
//!    of a batch of 100 (the store's exact statement, `UPDATE … FOR UPDATE SKIP LOCKED …
//!    RETURNING`), released again between iterations, against a baseline measured in the same
//!    run: a bare `SELECT` of one row by primary key. Prints the ratio and the
//!    `EXPLAIN (ANALYZE, BUFFERS)` plans of the claim and of the find alone.
//! 2. Steady-state throughput against the OAuth simulator: N due connections (real sealed rows)
//!    refreshed by 4 sweepers (own store pool, hub and claim owner each), against 1 sweeper on
//!    the same N, with the ratio.
//!
//! Needs `SC_TEST_PG_URL` (`scripts/pg.sh`); prints a note and does nothing without it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::KeyProvider;
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret, RefreshToken};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{SocialConnect, SweepOptions};
use socialconnect_store::EncryptedStore;
use socialconnect_store::bench_sql::{CLAIM_DUE, FIND_DUE};
use socialconnect_testkit::OAuthSimulator;
use sqlx::{Connection, Executor, PgConnection, Row};

const ROWS: i64 = 1_000_000;
mod common;

const BATCH: i64 = 100;
const THROUGHPUT_N: usize = 1_000;

fn keys() -> Arc<dyn KeyProvider> {
    common::keyring()
}

/// A fresh database on the test server.
async fn fresh_database() -> String {
    common::postgres_database()
        .await
        .expect("SC_TEST_PG_URL names the server")
}

/// The claim statement with its parameters written in (for `EXPLAIN`, which takes no binds
/// here): owner, claim until, due before, now, limit.
fn with_values(sql: &str, owner: &str, until: i64, due_before: i64, now: i64) -> String {
    sql.replace("$1", &format!("'{owner}'"))
        .replace("$2", &until.to_string())
        .replace("$3", &due_before.to_string())
        .replace("$4", &now.to_string())
        .replace("$5", &BATCH.to_string())
}

async fn explain(conn: &mut PgConnection, statement: &str) -> String {
    let mut tx = conn.begin().await.unwrap();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "EXPLAIN (ANALYZE, BUFFERS) {statement}"
    )))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    // EXPLAIN ANALYZE runs the UPDATE: roll it back.
    tx.rollback().await.unwrap();
    rows.iter()
        .map(|r| r.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Part 1: the claim among a million rows.
fn claim_among_a_million(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let db = rt.block_on(fresh_database());
    // The store creates the schema (all migrations); the bench then talks SQL directly.
    let store = rt
        .block_on(EncryptedStore::open_postgres(&db, keys()))
        .unwrap();
    rt.block_on(store.close());
    let mut conn = rt.block_on(PgConnection::connect(&db)).unwrap();
    let now = Utc::now().timestamp();
    let started = Instant::now();
    rt.block_on(
        sqlx::query(
            "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, \
                 status_since, updated_at, dek_id, sealed, refresh_due_at) \
             SELECT 'bench-' || lpad(i::text, 7, '0'), \
                 decode(md5(i::text) || md5(i::text), 'hex'), 'linkedin', 1, 'active', NULL, \
                 $1, 'dek-bench', '\\x00'::bytea, \
                 CASE WHEN i % 100 = 0 THEN $1 - (i % 3600) \
                      ELSE $1 + (i::bigint * 5184000 / $2) END \
             FROM generate_series(1, $2) AS s(i)",
        )
        .bind(now)
        .bind(ROWS)
        .execute(&mut conn),
    )
    .unwrap();
    rt.block_on(conn.execute("VACUUM ANALYZE sc_tokens"))
        .unwrap();
    eprintln!(
        "sweep bench: seeded {ROWS} connections ({} due now) in {:?}",
        ROWS / 100,
        started.elapsed()
    );

    let owner = uuid::Uuid::new_v4().to_string();
    let due_before = now + 15 * 60;
    let claim = |conn: &mut PgConnection| {
        let started = Instant::now();
        let rows = rt
            .block_on(
                sqlx::query(CLAIM_DUE)
                    .bind(&owner)
                    .bind(now + 300)
                    .bind(due_before)
                    .bind(now)
                    .bind(BATCH)
                    .fetch_all(&mut *conn),
            )
            .unwrap();
        let took = started.elapsed();
        assert_eq!(rows.len() as i64, BATCH);
        // Let them go again (untimed), so every iteration claims a full batch.
        let ids: Vec<String> = rows.iter().map(|r| r.get::<String, _>("conn_id")).collect();
        rt.block_on(
            sqlx::query(
                "UPDATE sc_tokens SET claim_owner = NULL, claim_until = 0 \
                 WHERE conn_id = ANY($1)",
            )
            .bind(&ids)
            .execute(&mut *conn),
        )
        .unwrap();
        took
    };
    let by_key = |conn: &mut PgConnection, i: i64| {
        let id = format!("bench-{:07}", 1 + i % ROWS);
        let started = Instant::now();
        let row = rt
            .block_on(
                sqlx::query("SELECT conn_id, version FROM sc_tokens WHERE conn_id = $1")
                    .bind(&id)
                    .fetch_one(&mut *conn),
            )
            .unwrap();
        let took = started.elapsed();
        assert_eq!(row.get::<String, _>(0), id);
        took
    };

    // The plans on the freshly vacuumed table, then again after the timed runs, whose
    // thousands of claims and releases of the same rows leave dead index entries at the head
    // of the due order (what autovacuum then cleans up).
    let plans = |conn: &mut PgConnection, when: &str| {
        for (what, sql) in [("the claim", CLAIM_DUE), ("the find alone", FIND_DUE)] {
            let plan = rt.block_on(explain(
                conn,
                &with_values(sql, &owner, now + 300, due_before, now),
            ));
            eprintln!("sweep bench: EXPLAIN (ANALYZE, BUFFERS) of {what}, {when}:\n{plan}");
        }
    };
    plans(&mut conn, "fresh");

    let mut g = c.benchmark_group("sweep_claim_1m");
    g.bench_function("claim_batch_of_100", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| claim(&mut conn)).sum())
    });
    g.bench_function("baseline_select_by_primary_key", |b| {
        b.iter_custom(|iters| (0..iters as i64).map(|i| by_key(&mut conn, i * 7919)).sum())
    });
    g.finish();

    // Interleaved medians for the ratio (same load on both).
    let (mut claims, mut lookups) = (Vec::new(), Vec::new());
    for i in 0..500 {
        claims.push(claim(&mut conn));
        lookups.push(by_key(&mut conn, i * 7919));
    }
    let (mc, mk) = (median(claims), median(lookups));
    eprintln!(
        "sweep bench: claim of {BATCH} among {ROWS} (median of 500) {mc:?}; select by primary key {mk:?}; claim/select {:.1} ({:.2} per claimed row)",
        mc.as_secs_f64() / mk.as_secs_f64(),
        mc.as_secs_f64() / mk.as_secs_f64() / BATCH as f64
    );
    plans(&mut conn, "after the timed claims");
    rt.block_on(conn.close()).unwrap();
}

/// One instance over `db`: its own store pool and hub.
async fn instance(db: &str, sim: &OAuthSimulator) -> (SocialConnect, EncryptedStore) {
    let store = EncryptedStore::open_postgres(db, keys()).await.unwrap();
    let http = socialconnect_testkit::test_http_client();
    let platform = PlatformId::new("simulated").unwrap();
    let spec = OAuthSpec::new(
        platform,
        sim.client_id(),
        sim.authorize_url(),
        sim.token_url(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(sim.client_secret()),
        http.clone(),
        Arc::new(SystemClock),
    );
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(StandardPlatform::new(oauth, sim.userinfo_url())))
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .build()
        .unwrap();
    (hub, store)
}

/// N due connections in a fresh database; returns it.
async fn seed_due(sim: &OAuthSimulator) -> String {
    let db = fresh_database().await;
    let (hub, store) = instance(&db, sim).await;
    let platform = PlatformId::new("simulated").unwrap();
    let subjects: Vec<SubjectId> = (0..50)
        .map(|i| SubjectId::new(format!("user-{i}")).unwrap())
        .collect();
    for s in &subjects {
        hub.record_consent(ConsentEvent::grant(
            s.clone(),
            Purpose::AccountConnection,
            Some(platform.clone()),
            Utc::now(),
        ))
        .await
        .unwrap();
    }
    for i in 0..THROUGHPUT_N {
        let issued = sim.issue_tokens(["publish"]);
        let now = Utc::now();
        let tokens = TokenSet::new(
            AccessToken::new(issued.access_token),
            Expiry::after(now, 600),
            now,
        )
        .with_refresh(
            RefreshToken::new(issued.refresh_token.unwrap()),
            Expiry::Never,
        );
        let key = ConnectionKey::new(
            subjects[i % subjects.len()].clone(),
            platform.clone(),
            ConnectionId::generate(),
        );
        store.put(&key, &tokens, None).await.unwrap();
    }
    store.close().await;
    db
}

/// Refreshes everything due in `db` with `sweepers` instances; returns the time taken.
async fn sweep_all(db: &str, sim: &OAuthSimulator, sweepers: usize) -> Duration {
    let mut instances = Vec::new();
    for _ in 0..sweepers {
        instances.push(instance(db, sim).await);
    }
    let before = sim.refresh_requests();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (hub, store) in instances {
        tasks.push(tokio::spawn(async move {
            let sweep = hub.refresh_sweep(
                SweepOptions::default()
                    .with_batch(100, 16)
                    .with_jitter(Duration::ZERO),
            );
            while sweep.run_once().await.unwrap().claimed > 0 {}
            store.close().await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = started.elapsed();
    assert_eq!(sim.refresh_requests() - before, THROUGHPUT_N);
    took
}

/// Part 2: steady-state refresh throughput, 4 sweepers against 1.
fn throughput(rt: &tokio::runtime::Runtime) {
    let sim = rt.block_on(
        OAuthSimulator::builder()
            .access_token_lifetime(Duration::from_secs(600))
            .rotate_refresh_tokens(true)
            .start(),
    );
    let one = rt.block_on(seed_due(&sim));
    let four = rt.block_on(seed_due(&sim));
    let t1 = rt.block_on(sweep_all(&one, &sim, 1));
    let t4 = rt.block_on(sweep_all(&four, &sim, 4));
    let rate = |t: Duration| THROUGHPUT_N as f64 / t.as_secs_f64();
    eprintln!(
        "sweep bench: {THROUGHPUT_N} due connections refreshed by 1 sweeper in {t1:?} ({:.0}/s), by 4 sweepers in {t4:?} ({:.0}/s); 4/1 throughput {:.2}",
        rate(t1),
        rate(t4),
        rate(t4) / rate(t1)
    );
}

fn main() {
    if std::env::var_os("SC_TEST_PG_URL").is_none() {
        eprintln!("sweep bench: SC_TEST_PG_URL is not set (scripts/pg.sh); skipped");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    claim_among_a_million(&mut c, &rt);
    throughput(&rt);
    c.final_summary();
}
