//! Scheduled LinkedIn posts on the test kit's LinkedIn simulator: posted once when due, with
//! the post's URN as the result; a lost answer goes to a person and is never posted again on
//! its own; malformed payloads are refused when scheduled.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use socialconnect_core::automation::{ActionState, StoredAction};
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionKey, PlatformId, Purpose, Scope};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ActionRequest, ErrorKind, RunnerOptions};
use socialconnect_linkedin::actions::LinkedInPost;
use socialconnect_linkedin::{LinkedInActions, LinkedInClient, LinkedInConfig, LinkedInLogin, Urn};
use socialconnect_testkit::linkedin::LinkedInSimulator;
use socialconnect_testkit::{Harness, ManualClock};

struct Env {
    sim: LinkedInSimulator,
    h: Harness,
    key: ConnectionKey,
}

async fn env() -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = LinkedInSimulator::builder()
        .clock(clock.clone())
        .start()
        .await;
    let config = LinkedInConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url());
    let http = socialconnect_testkit::test_http_client();
    let client = LinkedInClient::new(config, http.clone());
    let login = LinkedInLogin::new(&client, clock.clone()).unwrap();
    let h = Harness::builder()
        .clock(clock)
        .http(http)
        .platform(Arc::new(login))
        .executor(Arc::new(LinkedInActions::new(client)))
        .build();
    h.grant(Purpose::Publishing, None).await;
    let key = h
        .connect(
            &PlatformId::LINKEDIN,
            &Scope::parse_list("openid profile w_member_social"),
            |url| sim.authorize(url),
        )
        .await
        .key;
    Env { sim, h, key }
}

impl Env {
    async fn schedule(&self, text: &str) -> StoredAction {
        let author = Urn::person(self.sim.member_sub()).unwrap();
        let post = LinkedInPost::new(&author, text);
        let request = ActionRequest::of(self.key.clone(), &post, self.h.clock.now()).unwrap();
        self.h.hub.schedule_action(request).await.unwrap()
    }
    async fn stored(&self, a: &StoredAction) -> StoredAction {
        self.h.hub.action(&a.key.subject, a.id).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_post_is_posted_once_with_its_urn() {
    let env = env().await;
    let a = env.schedule("We are hiring bakers").await;
    let runner = env.h.hub.action_runner(RunnerOptions::default()).unwrap();
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    let posts = env.sim.posts();
    assert_eq!(posts.len(), 1);
    let done = env.stored(&a).await;
    assert_eq!(done.state, ActionState::Done);
    assert!(
        done.last_result.unwrap()["post_urn"]
            .as_str()
            .unwrap()
            .starts_with("urn:li:")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_goes_to_a_person_and_is_not_posted_again() {
    let env = env().await;
    let a = env.schedule("Lost in transit").await;
    env.sim.fail_next(
        "/rest/posts",
        500,
        json!({ "message": "Internal Server Error", "status": 500 }),
    );
    let runner = env.h.hub.action_runner(RunnerOptions::default()).unwrap();
    runner.run_once().await.unwrap();
    assert_eq!(env.stored(&a).await.state, ActionState::MaybeSent);
    env.h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(runner.run_once().await.unwrap().failed, 1);
    assert!(matches!(
        env.stored(&a).await.state,
        ActionState::NeedsPerson { .. }
    ));
    assert_eq!(env.sim.requests_to("/rest/posts"), 1);
    env.h.clock.advance(chrono::Duration::days(1));
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_posts_are_refused_when_scheduled() {
    let env = env().await;
    let now = env.h.clock.now();
    for payload in [
        json!({ "author": "urn:li:person:abc", "commentary": "" }),
        json!({ "author": "not-a-urn", "commentary": "hi" }),
        json!({ "author": "urn:li:share:1", "commentary": "hi" }),
        json!({ "author": "urn:li:person:abc", "commentary": "hi", "visibility": "SECRET" }),
        json!({ "author": "urn:li:person:abc", "commentary": "hi", "extra": 1 }),
    ] {
        let err = env
            .h
            .hub
            .schedule_action(ActionRequest::new(
                env.key.clone(),
                "linkedin.post",
                payload.clone(),
                now,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{payload}");
    }
}
