//! Scheduled actions through the hub's runner, on the memory stores: a post runs once at its
//! time; a recurring one steps on in its zone and runs once after an outage; an unknown
//! outcome is reconciled, never blindly resent; withdrawal, erasure and reconnect-required
//! between scheduling and running cancel, remove or pause; two runners share the work.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::{Env, PLATFORM};
use serde_json::{Value, json};
use socialconnect_core::automation::{
    ActionExecutor, ActionRun, ActionState, ActionStore, ActionWrite, CancelReason, LocalTime,
    Reconciliation, Recurrence, Schedule, TimeZoneName,
};
use socialconnect_core::clock::Clock;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{ConnectionKey, PlatformId, Purpose};
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::{
    ActionEvent, ActionRequest, ActionRunner, ErrorKind, Result, RunnerOptions,
};
use socialconnect_testkit::{ManualClock, OAuthSimulator};
use tokio::sync::broadcast;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the posting server does with the next POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Stores the post, then answers 503: the client cannot know it happened.
    StoreThenFail,
    /// Answers 503 without storing it.
    Fail,
    /// Answers 429 with Retry-After: 120.
    Throttle,
}

#[derive(Debug, Default)]
struct Board {
    posts: Vec<(u64, String)>,
    posts_received: usize,
    faults: Vec<Fault>,
    list_fails: bool,
}

/// A platform's "create a post" and "list recent posts" endpoints, counting every POST.
#[derive(Debug, Clone, Default)]
struct Posts(Arc<Mutex<Board>>);

impl Posts {
    fn fault_next(&self, fault: Fault) {
        self.0.lock().unwrap().faults.push(fault);
    }
    fn texts(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .posts
            .iter()
            .map(|p| p.1.clone())
            .collect()
    }
    fn received(&self) -> usize {
        self.0.lock().unwrap().posts_received
    }
}

impl Respond for Posts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut board = self.0.lock().unwrap();
        if request.method.as_str() == "GET" {
            if board.list_fails {
                return ResponseTemplate::new(503);
            }
            let data: Vec<Value> = board
                .posts
                .iter()
                .rev()
                .map(|(id, text)| json!({"id": id.to_string(), "text": text}))
                .collect();
            return ResponseTemplate::new(200).set_body_json(json!({ "data": data }));
        }
        board.posts_received += 1;
        let text = serde_json::from_slice::<Value>(&request.body).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let fault = if board.faults.is_empty() {
            Fault::None
        } else {
            board.faults.remove(0)
        };
        match fault {
            Fault::Throttle => ResponseTemplate::new(429).insert_header("retry-after", "120"),
            Fault::Fail => ResponseTemplate::new(503),
            Fault::None | Fault::StoreThenFail => {
                let id = board.posts.len() as u64 + 1;
                board.posts.push((id, text));
                if fault == Fault::StoreThenFail {
                    ResponseTemplate::new(503)
                } else {
                    ResponseTemplate::new(200).set_body_json(json!({ "id": id.to_string() }))
                }
            }
        }
    }
}

/// Runs `test.post` by POSTing `{text}`, and reconciles by looking for the text among the
/// recent posts (`unknown` when the text says so).
struct PostExecutor {
    base: Url,
}

#[async_trait]
impl ActionExecutor for PostExecutor {
    fn platform(&self) -> PlatformId {
        PLATFORM
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["test.post"]
    }
    fn purpose(&self, kind: &str) -> Option<Purpose> {
        (kind == "test.post").then_some(Purpose::Publishing)
    }
    fn check(&self, _kind: &str, payload: &Value) -> Result<()> {
        match payload["text"].as_str() {
            Some(_) => Ok(()),
            None => Err(socialconnect_core::Error::invalid_input(
                "a post needs a text",
            )),
        }
    }
    async fn run(&self, run: &mut ActionRun<'_>) -> Result<Value> {
        let url = self.base.join("posts").unwrap();
        let req = ApiRequest::post(url)
            .json(run.payload())?
            .operation("test.post");
        let created: Value = run.session().send_json(req).await?;
        Ok(json!({ "post_id": created["id"] }))
    }
    async fn reconcile(&self, run: &mut ActionRun<'_>) -> Result<Reconciliation> {
        let text = run.payload()["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if text.contains("unknowable") {
            return Ok(Reconciliation::Unknown {
                reason: "the platform lists no posts".into(),
            });
        }
        let url = self.base.join("posts").unwrap();
        let list: Value = run.session().send_json(ApiRequest::get(url)).await?;
        let found = list["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["text"] == text.as_str());
        Ok(match found {
            Some(p) => Reconciliation::Happened {
                result: json!({ "post_id": p["id"] }),
            },
            None => Reconciliation::NotHappened,
        })
    }
}

struct World {
    env: Env,
    posts: Posts,
    _server: MockServer,
    key: ConnectionKey,
}

async fn world() -> World {
    let server = MockServer::start().await;
    let posts = Posts::default();
    Mock::given(path("/posts"))
        .and(method("POST"))
        .respond_with(posts.clone())
        .mount(&server)
        .await;
    Mock::given(path("/posts"))
        .and(method("GET"))
        .respond_with(posts.clone())
        .mount(&server)
        .await;
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = OAuthSimulator::builder().clock(clock.clone()).start().await;
    let http = common::http();
    let h = common::harness(&sim, clock, &http)
        .executor(Arc::new(PostExecutor { base }))
        .build();
    let env: Env = (sim, h).into();
    let key = env.connected().await.key;
    World {
        env,
        posts,
        _server: server,
        key,
    }
}

fn options() -> RunnerOptions {
    RunnerOptions::default()
        .with_retries(3, Duration::from_secs(60), Duration::from_secs(600))
        .with_reconcile_delay(Duration::from_secs(30))
}

fn drain(events: &mut broadcast::Receiver<ActionEvent>) -> Vec<ActionEvent> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        out.push(e);
    }
    out
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }
    fn advance(&self, d: chrono::Duration) {
        self.env.clock.advance(d);
    }
    async fn post_at(
        &self,
        text: &str,
        at: DateTime<Utc>,
    ) -> socialconnect_core::automation::StoredAction {
        self.env
            .hub
            .schedule_action(ActionRequest::new(
                self.key.clone(),
                "test.post",
                json!({ "text": text }),
                at,
            ))
            .await
            .unwrap()
    }
    async fn state(&self, id: socialconnect_core::automation::ActionId) -> ActionState {
        self.env
            .hub
            .action(&self.key.subject, id)
            .await
            .unwrap()
            .state
    }
    fn runner(&self) -> ActionRunner {
        self.env.hub.action_runner(options()).unwrap()
    }
}

#[tokio::test]
async fn a_post_runs_once_at_its_time() {
    let w = world().await;
    let action = w
        .post_at("hello", w.now() + chrono::Duration::minutes(10))
        .await;
    let runner = w.runner();
    let mut events = runner.subscribe();
    assert_eq!(runner.run_once().await.unwrap().claimed, 0, "not due yet");
    assert_eq!(w.posts.received(), 0);

    w.advance(chrono::Duration::minutes(10));
    let report = runner.run_once().await.unwrap();
    assert_eq!((report.claimed, report.completed), (1, 1));
    assert_eq!(w.posts.texts(), ["hello"]);
    let done = w.env.hub.action(&w.key.subject, action.id).await.unwrap();
    assert_eq!(done.state, ActionState::Done);
    assert_eq!(done.last_result, Some(json!({"post_id": "1"})));
    assert_eq!(done.due_at, None);
    assert!(matches!(&drain(&mut events)[..],
        [ActionEvent::Completed { id, next: None, .. }] if *id == action.id));

    w.advance(chrono::Duration::days(1));
    assert_eq!(
        runner.run_once().await.unwrap().claimed,
        0,
        "done: never again"
    );
    assert_eq!(w.posts.received(), 1);
}

#[tokio::test]
async fn scheduling_checks_kind_payload_consent_and_connection() {
    let w = world().await;
    let at = w.now();
    let hub = &w.env.hub;
    let bad_kind = hub
        .schedule_action(ActionRequest::new(
            w.key.clone(),
            "test.nope",
            json!({}),
            at,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_kind.kind(), ErrorKind::InvalidInput);
    let bad_payload = hub
        .schedule_action(ActionRequest::new(
            w.key.clone(),
            "test.post",
            json!({"t": 1}),
            at,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_payload.kind(), ErrorKind::InvalidInput);
    let mut gone = w.key.clone();
    gone.connection = socialconnect_core::id::ConnectionId::generate();
    let no_connection = hub
        .schedule_action(ActionRequest::new(
            gone,
            "test.post",
            json!({"text": "x"}),
            at,
        ))
        .await
        .unwrap_err();
    assert_eq!(no_connection.kind(), ErrorKind::NotFound);
    hub.withdraw(&w.key.subject, Purpose::Publishing, Some(&PLATFORM), "test")
        .await
        .unwrap();
    let refused = hub
        .schedule_action(ActionRequest::new(
            w.key.clone(),
            "test.post",
            json!({"text": "x"}),
            at,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConsentRequired);
    assert!(
        hub.subject_actions(&w.key.subject)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_daily_action_steps_on_in_its_zone_and_runs_once_after_an_outage() {
    let w = world().await;
    let zone = TimeZoneName::new("Europe/Berlin").unwrap();
    let schedule = Schedule::new(
        Recurrence::Daily {
            at: LocalTime::new(9, 0).unwrap(),
        },
        zone,
    )
    .unwrap();
    let action = w
        .env
        .hub
        .schedule_action(
            ActionRequest::new(
                w.key.clone(),
                "test.post",
                json!({"text": "daily"}),
                w.now(),
            )
            .recurring(schedule.clone()),
        )
        .await
        .unwrap();
    let first = action.due_at.unwrap();
    assert_eq!(first, schedule.first_at_or_after(w.now()).unwrap());
    let runner = w.runner();
    w.env.clock.set(first);
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    let stored = w.env.hub.action(&w.key.subject, action.id).await.unwrap();
    assert_eq!(stored.state, ActionState::Scheduled);
    let second = stored.due_at.unwrap();
    assert_eq!(Some(second), schedule.next_after(first, first).unwrap());
    assert!(second > first && second - first <= chrono::Duration::hours(25));

    // Three days down: one run now, not three, and the next is after now.
    w.env.clock.set(second + chrono::Duration::days(3));
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);
    assert_eq!(w.posts.received(), 2);
    let stored = w.env.hub.action(&w.key.subject, action.id).await.unwrap();
    assert!(stored.due_at.unwrap() > w.now());
    assert_eq!(stored.runs, 2);
}

#[tokio::test]
async fn an_unknown_outcome_that_happened_is_reconciled_not_resent() {
    let w = world().await;
    let action = w.post_at("maybe", w.now()).await;
    let runner = w.runner();
    let mut events = runner.subscribe();
    w.posts.fault_next(Fault::StoreThenFail);
    let report = runner.run_once().await.unwrap();
    assert_eq!(report.retrying, 1);
    assert_eq!(w.state(action.id).await, ActionState::MaybeSent);
    assert!(matches!(
        &drain(&mut events)[..],
        [ActionEvent::Reconciling { .. }]
    ));
    assert_eq!(
        runner.run_once().await.unwrap().claimed,
        0,
        "not before the delay"
    );

    w.advance(chrono::Duration::seconds(30));
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(w.posts.received(), 1, "never sent twice");
    assert_eq!(w.posts.texts(), ["maybe"]);
    let done = w.env.hub.action(&w.key.subject, action.id).await.unwrap();
    assert_eq!(done.state, ActionState::Done);
    assert_eq!(done.last_result, Some(json!({"post_id": "1"})));
}

#[tokio::test]
async fn an_unknown_outcome_that_did_not_happen_is_sent_again_once() {
    let w = world().await;
    let action = w.post_at("again", w.now()).await;
    let runner = w.runner();
    w.posts.fault_next(Fault::Fail);
    runner.run_once().await.unwrap();
    assert_eq!(w.state(action.id).await, ActionState::MaybeSent);
    w.advance(chrono::Duration::seconds(30));
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(w.posts.received(), 2);
    assert_eq!(w.posts.texts(), ["again"], "published exactly once");
}

#[tokio::test]
async fn an_unknowable_outcome_goes_to_a_person_and_retry_sends_it() {
    let w = world().await;
    let action = w.post_at("unknowable", w.now()).await;
    let runner = w.runner();
    let mut events = runner.subscribe();
    w.posts.fault_next(Fault::Fail);
    runner.run_once().await.unwrap();
    w.advance(chrono::Duration::seconds(30));
    assert_eq!(runner.run_once().await.unwrap().failed, 1);
    assert!(matches!(
        w.state(action.id).await,
        ActionState::NeedsPerson { .. }
    ));
    assert!(
        drain(&mut events)
            .iter()
            .any(|e| matches!(e, ActionEvent::NeedsPerson { id, .. } if *id == action.id))
    );
    w.advance(chrono::Duration::days(1));
    assert_eq!(
        runner.run_once().await.unwrap().claimed,
        0,
        "waits for the person"
    );

    w.env
        .hub
        .retry_action(&w.key.subject, action.id)
        .await
        .unwrap();
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(w.posts.texts(), ["unknowable"]);
}

#[tokio::test]
async fn a_failed_reconciliation_keeps_reconciling_and_never_resends() {
    let w = world().await;
    let action = w.post_at("listing down", w.now()).await;
    let runner = w.runner();
    w.posts.fault_next(Fault::StoreThenFail);
    runner.run_once().await.unwrap();
    w.posts.0.lock().unwrap().list_fails = true;
    // Reconciliation tries count as attempts (3 at most here): the first fails and waits.
    w.advance(chrono::Duration::hours(2));
    runner.run_once().await.unwrap();
    assert_eq!(w.state(action.id).await, ActionState::MaybeSent);
    w.advance(chrono::Duration::hours(2));
    runner.run_once().await.unwrap();
    assert!(
        matches!(w.state(action.id).await, ActionState::NeedsPerson { .. }),
        "retries ran out: a person decides"
    );
    assert_eq!(w.posts.received(), 1);
}

#[tokio::test]
async fn a_throttled_post_backs_off_past_retry_after_then_fails_for_good() {
    let w = world().await;
    let action = w.post_at("slow down", w.now()).await;
    let runner = w.runner();
    let mut events = runner.subscribe();
    w.posts.fault_next(Fault::Throttle);
    let start = w.now();
    runner.run_once().await.unwrap();
    let stored = w.env.hub.action(&w.key.subject, action.id).await.unwrap();
    assert_eq!(stored.state, ActionState::Scheduled);
    assert!(stored.due_at.unwrap() >= start + chrono::Duration::seconds(120));
    assert!(matches!(
        &drain(&mut events)[..],
        [ActionEvent::Retrying {
            kind: ErrorKind::Throttled { .. },
            ..
        }]
    ));
    for _ in 0..2 {
        w.advance(chrono::Duration::hours(1));
        runner.run_once().await.unwrap();
    }
    assert_eq!(
        w.state(action.id).await,
        ActionState::Failed {
            kind: "throttled".into()
        }
    );
    // The HTTP client holds the platform's calls for the Retry-After (in real time), so the
    // later attempts fail locally without reaching the platform.
    assert_eq!(w.posts.received(), 1);
    assert!(w.posts.texts().is_empty());
}

#[tokio::test]
async fn a_withdrawal_before_the_run_cancels_it_with_the_reason() {
    let w = world().await;
    let action = w
        .post_at("no longer", w.now() + chrono::Duration::hours(1))
        .await;
    w.env
        .hub
        .withdraw(&w.key.subject, Purpose::Publishing, Some(&PLATFORM), "user")
        .await
        .unwrap();
    w.advance(chrono::Duration::hours(1));
    let runner = w.runner();
    let mut events = runner.subscribe();
    assert_eq!(runner.run_once().await.unwrap().cancelled, 1);
    let reason = CancelReason::ConsentWithdrawn {
        purpose: Purpose::Publishing,
    };
    assert_eq!(
        w.state(action.id).await,
        ActionState::Cancelled {
            reason: reason.clone()
        }
    );
    assert_eq!(
        drain(&mut events),
        [ActionEvent::Cancelled {
            id: action.id,
            key: w.key.clone(),
            reason
        }]
    );
    assert_eq!(w.posts.received(), 0);
}

#[tokio::test]
async fn erasure_removes_pending_actions_and_export_lists_them() {
    let w = world().await;
    let action = w
        .post_at("secret plans", w.now() + chrono::Duration::hours(1))
        .await;
    let mut out = Vec::new();
    w.env
        .hub
        .export(&w.key.subject, "test", &mut out)
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["version"], 3);
    let listed = &doc["actions"][0];
    assert_eq!(listed["id"], action.id.to_string());
    assert_eq!(listed["payload"]["text"], "secret plans");
    assert_eq!(listed["state"]["state"], "scheduled");

    let erased = w.env.hub.erase(&w.key.subject, "test").await.unwrap();
    assert_eq!(erased.report.counts.get("actions"), Some(&1));
    assert!(w.env.actions.action(&action.id).await.unwrap().is_none());
    w.advance(chrono::Duration::hours(2));
    assert_eq!(w.runner().run_once().await.unwrap().claimed, 0);
    assert_eq!(w.posts.received(), 0);
}

#[tokio::test]
async fn reconnect_required_pauses_the_connections_actions_until_reconnected() {
    let w = world().await;
    let first = w.post_at("one", w.now()).await;
    let second = w.post_at("two", w.now() + chrono::Duration::hours(3)).await;
    w.env
        .tokens
        .set_status(
            &w.key,
            ConnectionStatus::ReconnectRequired { since: w.now() },
        )
        .await
        .unwrap();
    let runner = w.runner();
    let mut events = runner.subscribe();
    assert_eq!(runner.run_once().await.unwrap().paused, 1);
    assert_eq!(w.state(first.id).await, ActionState::Paused);
    assert_eq!(
        w.state(second.id).await,
        ActionState::Paused,
        "the connection's others too"
    );
    let paused: Vec<_> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e {
            ActionEvent::Paused { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert!(paused.contains(&first.id) && paused.contains(&second.id));
    w.advance(chrono::Duration::hours(4));
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);

    // The end user connects the same account again: both run.
    let again = w.env.connect_only().await;
    assert!(again.reconnected);
    assert_eq!(again.key, w.key);
    assert_eq!(runner.run_once().await.unwrap().completed, 2);
    let mut texts = w.posts.texts();
    texts.sort();
    assert_eq!(texts, ["one", "two"]);
}

#[tokio::test]
async fn an_attempt_whose_runner_died_is_reconciled_by_the_next_claimant() {
    let w = world().await;
    let action = w.post_at("crash", w.now()).await;
    // A runner claims it, records the attempt's start and posts, then dies without storing
    // the outcome (nothing releases its claim).
    let dead = uuid::Uuid::new_v4();
    let ttl = Duration::from_secs(300);
    let mut claimed = w
        .env
        .actions
        .claim_due_actions(w.now(), 10, dead, ttl)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let mut a = claimed.remove(0);
    a.attempts = 1;
    a.attempt_started = Some(w.now());
    assert!(
        w.env
            .actions
            .save_action(&a, ActionWrite::Keep { owner: dead, ttl })
            .await
            .unwrap()
    );
    w.posts.0.lock().unwrap().posts.push((1, "crash".into()));

    let runner = w.runner();
    assert_eq!(runner.run_once().await.unwrap().claimed, 0, "still claimed");
    let cancel = w
        .env
        .hub
        .cancel_action(&w.key.subject, action.id)
        .await
        .unwrap_err();
    assert_eq!(
        cancel.kind(),
        ErrorKind::Conflict,
        "running: not edited under it"
    );
    w.advance(chrono::Duration::seconds(301));
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(w.posts.received(), 0, "reconciled, not sent again");
    assert_eq!(w.state(action.id).await, ActionState::Done);
}

#[tokio::test]
async fn host_edits_cancel_reschedule_and_refuse_other_subjects() {
    let w = world().await;
    let hub = &w.env.hub;
    let a = w
        .post_at("later", w.now() + chrono::Duration::hours(1))
        .await;
    let moved = hub
        .reschedule_action(&w.key.subject, a.id, w.now() + chrono::Duration::hours(5))
        .await
        .unwrap();
    assert_eq!(moved.due_at, Some(w.now() + chrono::Duration::hours(5)));
    let stranger = socialconnect_core::id::SubjectId::new("someone-else").unwrap();
    assert_eq!(
        hub.cancel_action(&stranger, a.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let cancelled = hub.cancel_action(&w.key.subject, a.id).await.unwrap();
    assert_eq!(
        cancelled.state,
        ActionState::Cancelled {
            reason: CancelReason::ByHost
        }
    );
    assert_eq!(
        hub.cancel_action(&w.key.subject, a.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    w.advance(chrono::Duration::hours(6));
    assert_eq!(w.runner().run_once().await.unwrap().claimed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_store_run_each_action_once() {
    let w = world().await;
    for i in 0..120 {
        w.post_at(&format!("post {i}"), w.now()).await;
    }
    let one = w.env.hub.action_runner(options().with_batch(7, 4)).unwrap();
    let two = w.env.hub.action_runner(options().with_batch(5, 3)).unwrap();
    let drain = |r: ActionRunner| async move {
        let mut done = 0;
        loop {
            let report = r.run_once().await.unwrap();
            if report.claimed == 0 {
                return done;
            }
            done += report.completed;
        }
    };
    let (a, b) = tokio::join!(drain(one), drain(two));
    assert_eq!(a + b, 120);
    let mut texts = w.posts.texts();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 120);
    assert_eq!(w.posts.received(), 120, "no duplicates");
}

#[tokio::test]
async fn a_scheduled_refresh_refreshes_the_connection() {
    let w = world().await;
    let action = w
        .env
        .hub
        .schedule_action(ActionRequest::new(
            w.key.clone(),
            socialconnect_core::automation::REFRESH_KIND,
            json!({}),
            w.now(),
        ))
        .await
        .unwrap();
    assert_eq!(action.purpose, Purpose::AccountConnection);
    assert_eq!(w.runner().run_once().await.unwrap().completed, 1);
    assert_eq!(w.env.sim.refresh_requests(), 1);
}

#[tokio::test]
async fn the_retention_purge_removes_actions_ended_long_ago() {
    let w = world().await;
    let done = w.post_at("ran long ago", w.now()).await;
    let pending = w
        .post_at("next year", w.now() + chrono::Duration::days(365))
        .await;
    assert_eq!(w.runner().run_once().await.unwrap().completed, 1);
    w.advance(chrono::Duration::days(89));
    assert_eq!(
        w.env.hub.purge(w.now()).await.unwrap().finished_actions,
        0,
        "kept 90 days"
    );
    w.advance(chrono::Duration::days(2));
    let report = w.env.hub.purge(w.now()).await.unwrap();
    assert_eq!(report.finished_actions, 1);
    assert!(w.env.actions.action(&done.id).await.unwrap().is_none());
    assert!(
        w.env.actions.action(&pending.id).await.unwrap().is_some(),
        "pending stays"
    );
}
