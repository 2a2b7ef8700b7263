//! `socialconnect actions list|cancel|retry` on a real SQLite store: listing (text and
//! `--json`, by state and platform) shows no payload or subject; cancel and retry go through
//! the hub's rules (a final action is a conflict, exit 2); bad and unknown ids exit 2.

mod common;

use chrono::Utc;
use common::{Sandbox, json, seed, text};
use serde_json::json;
use socialconnect_core::automation::{
    ActionState, ActionStore, ActionWrite, Schedule, StoredAction,
};
use socialconnect_core::id::Purpose;

const SECRET_TEXT: &str = "a-private-draft-nobody-should-see";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_list_cancel_and_retry_actions() {
    let sb = Sandbox::sqlite();
    let store = sb.store().await;
    let key = seed(&store, "alice").await;
    let now = Utc::now();
    let payload = json!({ "author": "urn:li:person:abc", "commentary": SECRET_TEXT });
    let pending = StoredAction::new(
        key.clone(),
        Purpose::Publishing,
        "linkedin.post",
        payload.clone(),
        Schedule::once(),
        now + chrono::Duration::hours(1),
        now,
    );
    let mut failed = StoredAction::new(
        key.clone(),
        Purpose::Publishing,
        "linkedin.post",
        payload,
        Schedule::once(),
        now,
        now,
    );
    store.insert_action(&pending).await.unwrap();
    store.insert_action(&failed).await.unwrap();
    failed.state = ActionState::Failed {
        kind: "throttled".into(),
    };
    failed.due_at = None;
    assert!(
        store
            .save_action(&failed, ActionWrite::Unclaimed)
            .await
            .unwrap()
    );
    store.close().await;

    let out = sb.cmd().args(["actions", "list"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&pending.id.to_string()) && t.contains("2 action(s)"),
        "{t}"
    );
    assert!(
        !t.contains(SECRET_TEXT) && !t.contains("alice"),
        "sealed data shown: {t}"
    );

    let out = sb
        .cmd()
        .args([
            "actions",
            "list",
            "--json",
            "--state",
            "failed",
            "--platform",
            "linkedin",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    let list = v["actions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], failed.id.to_string());
    assert_eq!(list[0]["state"], "failed");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET_TEXT));

    let out = sb
        .cmd()
        .args(["actions", "cancel", &pending.id.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["state"], "cancelled");
    let out = sb
        .cmd()
        .args(["actions", "cancel", &pending.id.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("conflict"), "{}", text(&out));

    let out = sb
        .cmd()
        .args(["actions", "retry", &failed.id.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["state"], "scheduled");

    for bad in ["not-a-uuid", "01900000-0000-7000-8000-000000000000"] {
        let out = sb.cmd().args(["actions", "retry", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
    }
    let out = sb
        .cmd()
        .args(["actions", "list", "--state", "exploded"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    sb.finish().await;
}
