//! Scheduled actions: how fast due actions are claimed, and the due query at scale.
//!
//! 1. Claim throughput through the store (`claim_due_actions` of 100, then each released as
//!    done with `save_action(…, Release)`; real sealed rows, no HTTP): 1 worker on SQLite,
//!    and 4 workers (own store pool and claim owner each) on PostgreSQL, in actions/s.
//! 2. PostgreSQL with 1 000 000 queued actions, seeded with `INSERT … SELECT generate_series`
//!    (dummy sealed blobs: the claim reads only plain columns), 1 % already due and the rest
//!    due over the next 60 days: the time of one claim of a batch of 100 (the store's exact
//!    statement, `UPDATE … FOR UPDATE SKIP LOCKED … RETURNING`, released again between
//!    iterations), and the `EXPLAIN (ANALYZE, BUFFERS)` plans of the find alone and of the
//!    claim.
//!
//! The PostgreSQL parts need the `postgres` feature and `SC_TEST_PG_URL` (`scripts/pg.sh`);
//! without them they print a note and are skipped.

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use serde_json::json;
use socialconnect_core::automation::{
    ActionState, ActionStore, ActionWrite, Schedule, StoredAction,
};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_store::EncryptedStore;

mod common;

/// Actions drained per throughput run.
const DRAIN: usize = 2_000;
const BATCH: u32 = 100;
const TTL: Duration = Duration::from_secs(60);

/// `n` due actions over 20 subjects, through the store (sealed as in production).
async fn seed(store: &EncryptedStore, n: usize) {
    let now = Utc::now();
    let keys: Vec<ConnectionKey> = (0..20)
        .map(|i| {
            ConnectionKey::new(
                SubjectId::new(format!("user-{i}")).unwrap(),
                PlatformId::LINKEDIN,
                ConnectionId::generate(),
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (store, keys) = (store.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            for i in (t..n).step_by(8) {
                let action = StoredAction::new(
                    keys[i % keys.len()].clone(),
                    Purpose::Publishing,
                    "test.post",
                    json!({ "text": format!("post number {i}") }),
                    Schedule::once(),
                    now - chrono::Duration::seconds(1),
                    now,
                );
                store.insert_action(&action).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Claims and releases (as done) everything due with one worker per store; returns the time.
async fn drain(stores: Vec<EncryptedStore>) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for store in stores {
        tasks.push(tokio::spawn(async move {
            let owner = uuid::Uuid::new_v4();
            let mut done = 0;
            loop {
                let batch = store
                    .claim_due_actions(Utc::now(), BATCH, owner, TTL)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break done;
                }
                for mut a in batch {
                    a.state = ActionState::Done;
                    a.due_at = None;
                    let released = ActionWrite::Release { owner };
                    assert!(store.save_action(&a, released).await.unwrap());
                    done += 1;
                }
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, DRAIN);
    started.elapsed()
}

fn rate(t: Duration) -> f64 {
    DRAIN as f64 / t.as_secs_f64()
}

fn sqlite_throughput(rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(EncryptedStore::open_sqlite(
            dir.path().join("sc.db"),
            common::keyring(),
        ))
        .unwrap();
    rt.block_on(seed(&store, DRAIN));
    let t = rt.block_on(drain(vec![store.clone()]));
    eprintln!(
        "actions bench: SQLite, 1 worker claimed and released {DRAIN} actions in {t:?}: {:.0} actions/s",
        rate(t)
    );
    rt.block_on(store.close());
}

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use socialconnect_store::bench_sql::{CLAIM_DUE_ACTIONS, FIND_DUE_ACTIONS};
    use sqlx::{Connection, Executor, PgConnection, Row};

    const ROWS: i64 = 1_000_000;
    const WORKERS: usize = 4;

    pub(super) fn throughput(rt: &tokio::runtime::Runtime, db: &str) {
        let seeder = rt
            .block_on(EncryptedStore::open_postgres(db, common::keyring()))
            .unwrap();
        rt.block_on(seed(&seeder, DRAIN));
        rt.block_on(seeder.close());
        let stores: Vec<EncryptedStore> = (0..WORKERS)
            .map(|_| {
                rt.block_on(EncryptedStore::open_postgres(db, common::keyring()))
                    .unwrap()
            })
            .collect();
        let t = rt.block_on(drain(stores.clone()));
        eprintln!(
            "actions bench: PostgreSQL, {WORKERS} workers claimed and released {DRAIN} actions in {t:?}: {:.0} actions/s",
            rate(t)
        );
        for s in stores {
            rt.block_on(s.close());
        }
    }

    /// The statement with its parameters written in (for `EXPLAIN`, which takes no binds
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

    pub(super) fn claim_among_a_million(c: &mut Criterion, rt: &tokio::runtime::Runtime, db: &str) {
        let store = rt
            .block_on(EncryptedStore::open_postgres(db, common::keyring()))
            .unwrap();
        rt.block_on(store.close());
        let mut conn = rt.block_on(PgConnection::connect(db)).unwrap();
        let now = Utc::now().timestamp_micros();
        let day = 86_400_000_000i64;
        let started = Instant::now();
        rt.block_on(
            sqlx::query(
                "INSERT INTO sc_actions (action_id, subject_ref, platform, conn_id, kind, \
                     state, due_at, created_at, updated_at, dek_id, sealed) \
                 SELECT decode(lpad(to_hex(i), 32, '0'), 'hex'), \
                     decode(md5((i % 5000)::text) || md5((i % 5000)::text), 'hex'), \
                     'linkedin', 'conn-' || (i % 5000), 'test.post', 'scheduled', \
                     CASE WHEN i % 100 = 0 THEN $1 - (i % 3600) * 1000000 \
                          ELSE $1 + (i::bigint * $3 / $2) END, \
                     $1, $1, 'dek-bench', '\\x00'::bytea \
                 FROM generate_series(1, $2) AS s(i)",
            )
            .bind(now)
            .bind(ROWS)
            .bind(60 * day)
            .execute(&mut conn),
        )
        .unwrap();
        // Until every page is all-visible (what autovacuum reaches on a quiet table): a
        // VACUUM while another backend's snapshot predates the seed (an autovacuum worker
        // started during it) leaves the pages unmarked, and the index-only find then fetches
        // a heap page per row.
        rt.block_on(conn.execute("VACUUM ANALYZE sc_actions"))
            .unwrap();
        for _ in 0..60 {
            let row = rt
                .block_on(
                    sqlx::query(
                        "SELECT relallvisible::bigint >= relpages::bigint AS visible \
                         FROM pg_class WHERE relname = 'sc_actions'",
                    )
                    .fetch_one(&mut conn),
                )
                .unwrap();
            if row.get::<bool, _>("visible") {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
            rt.block_on(conn.execute("VACUUM sc_actions")).unwrap();
        }
        eprintln!(
            "actions bench: seeded {ROWS} queued actions ({} due now) in {:?}",
            ROWS / 100,
            started.elapsed()
        );

        let owner = uuid::Uuid::new_v4().to_string();
        let until = now + 300_000_000;
        let claim = |conn: &mut PgConnection| {
            let started = Instant::now();
            let rows = rt
                .block_on(
                    sqlx::query(CLAIM_DUE_ACTIONS)
                        .bind(&owner)
                        .bind(until)
                        .bind(now)
                        .bind(now)
                        .bind(i64::from(BATCH))
                        .fetch_all(&mut *conn),
                )
                .unwrap();
            let took = started.elapsed();
            assert_eq!(rows.len(), BATCH as usize);
            // Let them go again (untimed), so every iteration claims a full batch.
            let ids: Vec<Vec<u8>> = rows
                .iter()
                .map(|r| r.get::<Vec<u8>, _>("action_id"))
                .collect();
            rt.block_on(
                sqlx::query(
                    "UPDATE sc_actions SET claim_owner = NULL, claim_until = 0 \
                     WHERE action_id = ANY($1)",
                )
                .bind(&ids)
                .execute(&mut *conn),
            )
            .unwrap();
            took
        };
        let plans = |conn: &mut PgConnection, when: &str| {
            for (what, sql) in [
                ("the find alone", FIND_DUE_ACTIONS),
                ("the claim", CLAIM_DUE_ACTIONS),
            ] {
                let plan = rt.block_on(explain(conn, &with_values(sql, &owner, until, now, now)));
                eprintln!("actions bench: EXPLAIN (ANALYZE, BUFFERS) of {what}, {when}:\n{plan}");
            }
        };
        plans(&mut conn, "fresh");

        let mut g = c.benchmark_group("actions_claim_1m");
        g.bench_function("claim_batch_of_100", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| claim(&mut conn)).sum())
        });
        g.finish();
        let mut times: Vec<Duration> = (0..200).map(|_| claim(&mut conn)).collect();
        times.sort();
        eprintln!(
            "actions bench: claim of {BATCH} among {ROWS} queued actions: median {:?}, p90 {:?} (of 200)",
            times[100], times[180]
        );
        plans(&mut conn, "after the timed claims");
        rt.block_on(conn.close()).unwrap();
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    sqlite_throughput(&rt);
    #[cfg(feature = "postgres")]
    match rt.block_on(common::postgres_database()) {
        Some(db) => {
            pg::throughput(&rt, &db);
            let big = rt.block_on(common::postgres_database()).unwrap();
            pg::claim_among_a_million(&mut c, &rt, &big);
        }
        None => eprintln!(
            "actions bench: SC_TEST_PG_URL is not set (scripts/pg.sh); PostgreSQL parts skipped"
        ),
    }
    #[cfg(not(feature = "postgres"))]
    eprintln!("actions bench: built without the postgres feature; PostgreSQL parts skipped");
    c.final_summary();
}
