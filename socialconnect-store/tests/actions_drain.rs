//! Four OS processes, each with its own hub, store pool and runner, drain 10 000 due actions
//! from one PostgreSQL database against a posting endpoint (in the parent) that counts every
//! post by its action: no post is made twice and none is lost — every action ends done and
//! every post exists once. The processes are this test binary run again with an ignored
//! entry point (`drain_child`). Needs `SC_TEST_PG_URL` (`scripts/pg.sh`); skipped without it.
#![cfg(all(feature = "postgres", unix))]

// The posting endpoint's answer delay is for the SIGKILL test.
#[allow(dead_code)]
#[path = "common/actions.rs"]
mod actions;
#[path = "common/child.rs"]
mod child;
#[path = "common/pg.rs"]
mod pg;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use socialconnect_core::RunnerOptions;
use socialconnect_core::automation::{ActionFilter, ActionStore, Schedule, StoredAction};
use socialconnect_core::id::Purpose;

use actions::{KIND, Posts, connect, hub};
use child::Worker;

const CHILD: &str = "SC_ACTIONS_DRAIN_CHILD";
const ACTIONS: usize = 10_000;
const PROCESSES: usize = 4;
const SUBJECTS: usize = 50;

/// Child entry point: a hub over `SC_CHILD_DB`; after `go`, runs passes until two in a row
/// claim nothing, then prints how many actions it ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "entry point of the child processes spawned by the drain test"]
async fn drain_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let db = std::env::var("SC_CHILD_DB").unwrap();
    let base = std::env::var("SC_CHILD_BASE").unwrap().parse().unwrap();
    let (hub, store) = hub(&db, &base).await;
    let options = RunnerOptions::default()
        .with_batch(100, 32)
        .with_claim_ttl(Duration::from_secs(120));
    let runner = hub.action_runner(options).unwrap();
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "go");
    let (mut ran, mut idle) = (0, 0);
    while idle < 2 {
        let report = runner.run_once().await.unwrap();
        assert_eq!(report.completed, report.claimed, "{report:?}");
        ran += report.completed;
        idle = if report.claimed == 0 { idle + 1 } else { 0 };
        if report.claimed == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!("ran {ran}");
    println!("done");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_drain_ten_thousand_actions_without_duplicates_or_losses() {
    let Some(db) = pg::fresh_database("drain").await else {
        return;
    };
    let posts = Posts::default();
    let (_server, base) = posts.serve().await;
    let (_hub, store) = hub(&db, &base).await;
    let mut keys = Vec::new();
    for i in 0..SUBJECTS {
        keys.push(connect(&store, &format!("user-{i}")).await);
    }
    // Straight into the store: the hub's scheduling checks are covered elsewhere.
    let now = Utc::now();
    let seeding = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (store, keys) = (store.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            for i in (t..ACTIONS).step_by(8) {
                let action = StoredAction::new(
                    keys[i % SUBJECTS].clone(),
                    Purpose::Publishing,
                    KIND,
                    json!({ "text": format!("post-{i}") }),
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
    let seeded = seeding.elapsed();

    let envs = [
        (CHILD, "1".to_owned()),
        ("SC_CHILD_DB", db.clone()),
        ("SC_CHILD_BASE", base.to_string()),
    ];
    let mut workers: Vec<Worker> = (0..PROCESSES)
        .map(|_| Worker::spawn("drain_child", &envs))
        .collect();
    for w in &mut workers {
        w.ready();
    }
    let draining = Instant::now();
    for w in &mut workers {
        w.go();
    }
    let ran: Vec<usize> = tokio::task::spawn_blocking(move || {
        workers
            .iter_mut()
            .map(|w| {
                w.values("ran")
                    .iter()
                    .map(|v| v.parse::<usize>().unwrap())
                    .sum()
            })
            .collect()
    })
    .await
    .unwrap();
    let drained = draining.elapsed();
    eprintln!(
        "seeded {ACTIONS} actions in {seeded:?}; {PROCESSES} processes drained them in \
         {drained:?} ({:.0} actions/s), each ran {ran:?}",
        ACTIONS as f64 / drained.as_secs_f64()
    );

    // Every post once: no duplicate, no loss.
    let by_text = posts.received_by_text();
    assert_eq!(posts.received(), ACTIONS as u64, "POSTs received");
    assert_eq!(by_text.len(), ACTIONS, "distinct posts");
    let twice: Vec<_> = by_text.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "posted more than once: {twice:?}");
    assert_eq!(ran.iter().sum::<usize>(), ACTIONS, "runs reported");

    // Every action done, each with its own post's id.
    let mut after = None;
    let mut done = 0;
    let mut post_ids = HashSet::new();
    loop {
        let page = store
            .list_actions(&ActionFilter::default(), after, 1_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for summary in &page {
            assert_eq!(summary.state, "done", "{summary:?}");
            assert_eq!(summary.due_at, None);
            done += 1;
        }
    }
    assert_eq!(done, ACTIONS);
    for key in &keys {
        let mut after = None;
        loop {
            let page = store
                .subject_actions(&key.subject, after, 500)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for a in page {
                assert_eq!(a.runs, 1);
                let id = a.last_result.unwrap()["post_id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                assert!(post_ids.insert(id), "two actions share a post");
            }
        }
    }
    assert_eq!(post_ids.len(), ACTIONS);
    store.close().await;
}
