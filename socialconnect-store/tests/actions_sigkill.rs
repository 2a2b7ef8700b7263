//! A runner killed with SIGKILL mid-attempt: a child process (this test binary run again with
//! an ignored entry point) runs a hub over one SQLite file, claims a due post and sends it; the
//! posting endpoint (in the parent) makes the post and holds its answer back, and the parent
//! kills the child the moment the post arrived. Once the dead claim's TTL has passed, a runner
//! of the parent claims the action, reconciles the attempt the child recorded before sending
//! (it finds the post) and marks it done: the post exists exactly once, never sent again.
#![cfg(all(feature = "sqlite", unix))]

#[path = "common/actions.rs"]
mod actions;
// The killed child is never asked for its values.
#[allow(dead_code)]
#[path = "common/child.rs"]
mod child;

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use socialconnect_core::automation::{ActionState, ActionStore};
use socialconnect_core::{ActionRequest, RunnerOptions};

use actions::{KIND, Posts, connect, hub};
use child::Worker;

const CHILD: &str = "SC_ACTIONS_SIGKILL_CHILD";
const TTL: Duration = Duration::from_millis(1500);

fn options() -> RunnerOptions {
    RunnerOptions::default()
        .with_claim_ttl(TTL)
        .with_reconcile_delay(Duration::ZERO)
}

/// Child entry point: a hub over `SC_CHILD_DB`, posting to `SC_CHILD_BASE`; says `ready`,
/// waits for `go`, runs one pass (which the parent kills mid-post).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "entry point of the child process spawned by the SIGKILL test"]
async fn sigkill_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let db = std::env::var("SC_CHILD_DB").unwrap();
    let base = std::env::var("SC_CHILD_BASE").unwrap().parse().unwrap();
    let (hub, _store) = hub(&db, &base).await;
    let runner = hub.action_runner(options()).unwrap();
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "go");
    let report = runner.run_once().await;
    // Only reached if the parent failed to kill this process.
    println!("report {report:?}");
    println!("done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_mid_post_is_reconciled_not_resent() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("sc.db").display());
    let posts = Posts::default();
    posts.delay_answers(Duration::from_secs(60));
    let (_server, base) = posts.serve().await;
    let (hub, store) = hub(&db, &base).await;
    let key = connect(&store, "alice").await;
    let action = hub
        .schedule_action(ActionRequest::new(
            key.clone(),
            KIND,
            json!({ "text": "hello" }),
            Utc::now(),
        ))
        .await
        .unwrap();

    let envs = [
        (CHILD, "1".to_owned()),
        ("SC_CHILD_DB", db.clone()),
        ("SC_CHILD_BASE", base.to_string()),
    ];
    let mut worker = Worker::spawn("sigkill_child", &envs);
    worker.ready();
    worker.go();
    let started = Instant::now();
    while posts.received() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the child never posted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL (`Child::kill` on Unix): no destructor, no release, no outcome written.
    worker.child.kill().unwrap();
    let status = worker.child.wait().unwrap();
    assert!(!status.success(), "killed: {status:?}");
    let killed_at = Instant::now();

    // What the child left: the attempt recorded before it sent, the claim still held.
    let left = store.action(&action.id).await.unwrap().unwrap();
    assert_eq!(left.state, ActionState::Scheduled);
    assert!(
        left.attempt_started.is_some(),
        "the attempt is recorded before the post"
    );
    assert_eq!(left.attempts, 1);
    let runner = hub.action_runner(options()).unwrap();
    assert_eq!(
        runner.run_once().await.unwrap().claimed,
        0,
        "the dead runner's claim holds until its TTL"
    );

    // After the TTL the action is claimed again and reconciled: the post is found.
    tokio::time::sleep(TTL.saturating_sub(killed_at.elapsed()) + Duration::from_millis(300)).await;
    let report = runner.run_once().await.unwrap();
    assert_eq!((report.claimed, report.completed), (1, 1), "{report:?}");
    let done = store.action(&action.id).await.unwrap().unwrap();
    assert_eq!(done.state, ActionState::Done);
    assert_eq!(done.last_result, Some(json!({ "post_id": "1" })));
    assert_eq!(done.due_at, None);
    assert_eq!(posts.received(), 1, "sent once, never again");
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);
    assert_eq!(posts.received_by_text().get("hello"), Some(&1));
    store.close().await;
}
