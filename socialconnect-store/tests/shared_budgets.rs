//! Shared rate budgets across separate OS processes on one PostgreSQL: 4 processes, each its
//! own HTTP client over the same store, call as fast as they can a simulator that allows 40
//! calls in any 2 seconds for the app and refuses the rest. With the store's shared budgets
//! it refuses none, and every call gets through; with budgets counted in each process alone
//! (each spends the whole 40), it refuses many — the simulator does catch an overrun.
//!
//! The processes are this test binary run again with an ignored entry point
//! (`budget_child`); the simulator runs in the parent. Needs `SC_TEST_PG_URL`
//! (`scripts/pg.sh`); skipped without it.
#![cfg(all(feature = "postgres", unix))]

#[path = "common/child.rs"]
mod child;
#[path = "common/pg.rs"]
mod pg;

use child::Worker;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use socialconnect_core::http::{
    ApiRequest, HttpClient, PlatformLimits, RateBudgets, RetryPolicy, Window,
};
use socialconnect_core::id::PlatformId;
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::secret::AccessToken;
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_testkit::OAuthSimulator;
use url::Url;

const CHILD: &str = "SC_BUDGET_CHILD";
const PLATFORM: &str = "simulated";
const PROCESSES: usize = 4;
/// The simulator's limit, and the window every client is configured with.
const LIMIT: usize = 40;
const PER: Duration = Duration::from_secs(2);
/// Calls each process makes: 80 in all, two windows' worth.
const CALLS: usize = 20;
/// Callers at once in each process.
const CALLERS: usize = 8;

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [9; 32])], KeyId("k1".into())).unwrap(),
    )
}

/// Child process entry point: builds its client (over the shared store when
/// `SC_CHILD_SHARED` is set), says `ready`, waits for `go`, makes `CALLS` calls with `CALLERS`
/// callers and prints each status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "entry point of the child processes spawned by the shared-budget test"]
async fn budget_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let var = |n: &str| std::env::var(n).unwrap();
    let me: Url = var("SC_CHILD_ME").parse().unwrap();
    let token = var("SC_CHILD_TOKEN");
    let platform = PlatformId::new(PLATFORM).unwrap();
    let limits = PlatformLimits::default().with_app_operation("me", Window::new(LIMIT as u32, PER));
    let mut builder = HttpClient::builder()
        .rate_limits(platform.clone(), limits)
        // One attempt: a refusal is seen as a refusal, not retried away.
        .retry(RetryPolicy::none());
    let store = match std::env::var_os("SC_CHILD_SHARED") {
        Some(_) => {
            let store = EncryptedStore::open_postgres(&var("SC_CHILD_DB"), keys())
                .await
                .unwrap();
            builder = builder.shared_budgets(Arc::new(store.clone()) as Arc<dyn RateBudgets>);
            Some(store)
        }
        None => None,
    };
    let http = builder.build().unwrap();
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "go");
    let left = Arc::new(AtomicUsize::new(CALLS));
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let (http, me, token, platform, left) = (
            http.clone(),
            me.clone(),
            token.clone(),
            platform.clone(),
            Arc::clone(&left),
        );
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let req = ApiRequest::get(me.clone())
                    .platform(platform.clone())
                    .app("sim-app")
                    .operation("me")
                    .bearer(AccessToken::new(&token));
                statuses.push(match http.send(req).await {
                    Ok(resp) => resp.status().to_string(),
                    Err(e) => format!("error:{:?}", e.kind()),
                });
            }
            statuses
        }));
    }
    let mut out = std::io::stdout().lock();
    for t in tasks {
        for status in t.await.unwrap() {
            writeln!(out, "status {status}").unwrap();
        }
    }
    writeln!(out, "done").unwrap();
    out.flush().unwrap();
    drop(out);
    if let Some(store) = store {
        store.close().await;
    }
}

/// A child process running `budget_child` against `me` with `token`.
fn spawn_worker(db: &str, me: &Url, token: &str, shared: bool) -> Worker {
    let mut envs = vec![
        (CHILD, "1".to_owned()),
        ("SC_CHILD_DB", db.to_owned()),
        ("SC_CHILD_ME", me.to_string()),
        ("SC_CHILD_TOKEN", token.to_owned()),
    ];
    if shared {
        envs.push(("SC_CHILD_SHARED", "1".to_owned()));
    }
    Worker::spawn("budget_child", &envs)
}

/// Runs the 4 processes against a fresh simulator; returns it and every status they saw.
async fn four_processes(db: &str, shared: bool) -> (OAuthSimulator, Vec<String>) {
    let sim = OAuthSimulator::builder()
        .limit_userinfo(LIMIT, PER)
        .start()
        .await;
    let token = sim.issue_tokens(["read"]).access_token;
    let mut workers: Vec<Worker> = (0..PROCESSES)
        .map(|_| spawn_worker(db, &sim.userinfo_url(), &token, shared))
        .collect();
    for w in &mut workers {
        w.ready();
    }
    for w in &mut workers {
        w.go();
    }
    // Reading the children's output blocks: off the runtime the simulator answers on.
    let statuses = tokio::task::spawn_blocking(move || {
        workers
            .iter_mut()
            .flat_map(|w| w.values("status"))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    (sim, statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_sharing_budgets_stay_under_the_limit() {
    let Some(db) = pg::fresh_database("budgets").await else {
        eprintln!("SC_TEST_PG_URL is unset: skipped (scripts/test starts a server)");
        return;
    };
    // The schema, once, before the children open the store.
    EncryptedStore::open_postgres(&db, keys())
        .await
        .unwrap()
        .close()
        .await;

    let (sim, statuses) = four_processes(&db, true).await;
    let total = PROCESSES * CALLS;
    eprintln!(
        "shared budgets: {} accepted, {} refused by the simulator",
        sim.userinfo_accepted(),
        sim.userinfo_refusals()
    );
    assert_eq!(sim.userinfo_refusals(), 0, "{statuses:?}");
    assert_eq!(sim.userinfo_accepted(), total);
    assert_eq!(statuses.len(), total);
    assert!(statuses.iter().all(|s| s == "200"), "{statuses:?}");

    // Each process counting alone: together they overrun the limit, and the simulator says so.
    let (sim, statuses) = four_processes(&db, false).await;
    eprintln!(
        "per-process limits: {} accepted, {} refused by the simulator",
        sim.userinfo_accepted(),
        sim.userinfo_refusals()
    );
    assert!(sim.userinfo_refusals() > 0, "{statuses:?}");
    assert_eq!(statuses.len(), total);
}
