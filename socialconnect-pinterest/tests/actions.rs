//! Scheduled Pins on the test kit's Pinterest simulator: pinned once when due; a Pin whose
//! answer was lost is found on the board and not pinned again; one that is not on the board
//! is pinned again once.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use socialconnect_core::automation::{ActionState, StoredAction};
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionKey, PlatformId, Purpose, Scope};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ActionRequest, ActionRunner, ErrorKind, RunnerOptions};
use socialconnect_pinterest::actions::PinterestPin;
use socialconnect_pinterest::pins::{MediaSource, NewPin};
use socialconnect_pinterest::{PinterestActions, PinterestClient, PinterestConfig};
use socialconnect_testkit::pinterest::PinterestSimulator;
use socialconnect_testkit::{Harness, ManualClock};

struct Env {
    sim: PinterestSimulator,
    h: Harness,
    client: PinterestClient,
    key: ConnectionKey,
    board: String,
}

async fn env() -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = PinterestSimulator::builder()
        .clock(clock.clone())
        .board("Recipes", "PUBLIC")
        .start()
        .await;
    let config = PinterestConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url());
    let http = socialconnect_testkit::test_http_client();
    let client = PinterestClient::new(config, http.clone());
    let h = Harness::builder()
        .clock(clock.clone())
        .http(http)
        .platform(Arc::new(client.login(clock).unwrap()))
        .executor(Arc::new(PinterestActions::new(client.clone())))
        .build();
    h.grant(Purpose::Publishing, None).await;
    let key = h
        .connect(
            &PlatformId::PINTEREST,
            &Scope::parse_list("user_accounts:read boards:read pins:read pins:write"),
            |url| sim.authorize(url),
        )
        .await
        .key;
    let board = sim.boards()[0].id.clone();
    Env {
        sim,
        h,
        client,
        key,
        board,
    }
}

impl Env {
    fn pin(&self) -> PinterestPin {
        PinterestPin::new(
            self.board.clone(),
            "https://cdn.example/tart.jpg".parse().unwrap(),
        )
        .with_title("Lemon tart")
        .with_description("Sunday bake")
    }
    async fn schedule(&self) -> StoredAction {
        let request = ActionRequest::of(self.key.clone(), &self.pin(), self.h.clock.now()).unwrap();
        self.h.hub.schedule_action(request).await.unwrap()
    }
    fn runner(&self) -> ActionRunner {
        self.h.hub.action_runner(RunnerOptions::default()).unwrap()
    }
    async fn stored(&self, a: &StoredAction) -> StoredAction {
        self.h.hub.action(&a.key.subject, a.id).await.unwrap()
    }
    fn tarts(&self) -> usize {
        self.sim
            .pins()
            .iter()
            .filter(|p| p.title.as_deref() == Some("Lemon tart"))
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_pin_is_pinned_once() {
    let env = env().await;
    let a = env.schedule().await;
    assert_eq!(env.runner().run_once().await.unwrap().completed, 1);
    assert_eq!(env.tarts(), 1);
    assert!(env.stored(&a).await.last_result.unwrap()["pin_id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_whose_answer_was_lost_is_found_on_the_board() {
    let env = env().await;
    let a = env.schedule().await;
    env.sim.fail_next_bad_gateway("/v5/pins");
    let runner = env.runner();
    runner.run_once().await.unwrap();
    assert_eq!(env.stored(&a).await.state, ActionState::MaybeSent);
    // Pinterest made it after all (the 502 came from a proxy in front of it).
    let session = env
        .h
        .hub
        .session(&env.key, Purpose::Publishing)
        .await
        .unwrap();
    let p = env.pin();
    let made = NewPin::new(
        p.board_id.clone(),
        MediaSource::ImageUrl(p.image_url.to_string()),
    )
    .title("Lemon tart")
    .description("Sunday bake");
    env.client.create_pin(&session, &made).await.unwrap();
    let creates = env.sim.requests_to("/v5/pins");

    env.h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(env.sim.requests_to("/v5/pins"), creates, "not pinned again");
    assert_eq!(env.tarts(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_not_on_the_board_is_pinned_again_once() {
    let env = env().await;
    let a = env.schedule().await;
    env.sim.fail_next_bad_gateway("/v5/pins");
    let runner = env.runner();
    runner.run_once().await.unwrap();
    env.h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(env.tarts(), 1);
    assert_eq!(env.stored(&a).await.state, ActionState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_pins_are_refused_when_scheduled() {
    let env = env().await;
    let now = env.h.clock.now();
    let long = "x".repeat(101);
    for payload in [
        json!({ "board_id": "1" }),
        json!({ "board_id": "1", "image_url": "https://a.example/x.jpg", "title": long }),
        json!({ "board_id": "1", "image_url": "https://a.example/x.jpg", "colour": "red" }),
    ] {
        let err = env
            .h
            .hub
            .schedule_action(ActionRequest::new(
                env.key.clone(),
                "pinterest.pin",
                payload.clone(),
                now,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{payload}");
    }
}
