//! Scheduled TikTok video posts on the test kit's TikTok simulator: the init goes out once,
//! the post is followed by its `publish_id` while TikTok processes it, a `FAILED` post fails
//! for good with TikTok's reason, and a lost init answer (no publish id to ask about) goes to
//! a person instead of being posted again.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::automation::{ActionState, StoredAction};
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionKey, PlatformId, Purpose, Scope};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ActionRequest, ActionRunner, RunnerOptions};
use socialconnect_testkit::tiktok::TikTokSimulator;
use socialconnect_testkit::{Harness, ManualClock};
use socialconnect_tiktok::actions::TikTokVideo;
use socialconnect_tiktok::model::PrivacyLevel;
use socialconnect_tiktok::{TikTokActions, TikTokClient, TikTokConfig, TikTokLogin};

const INIT: &str = "/v2/post/publish/video/init/";

struct Env {
    sim: TikTokSimulator,
    h: Harness,
    key: ConnectionKey,
}

async fn env(processing_polls: u32) -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = TikTokSimulator::builder()
        .clock(clock.clone())
        .processing_polls(processing_polls)
        .start()
        .await;
    let config = TikTokConfig::new(sim.client_key(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url());
    let http = socialconnect_testkit::test_http_client();
    let client = TikTokClient::new(config, http.clone());
    let login = TikTokLogin::new(client.clone(), http.clone(), clock.clone()).unwrap();
    let h = Harness::builder()
        .clock(clock)
        .http(http)
        .platform(Arc::new(login))
        .executor(Arc::new(TikTokActions::new(client)))
        .build();
    h.grant(Purpose::Publishing, None).await;
    let key = h
        .connect(
            &PlatformId::TIKTOK,
            &Scope::parse_list("user.info.basic,video.publish"),
            |url| sim.authorize(url),
        )
        .await
        .key;
    Env { sim, h, key }
}

impl Env {
    async fn schedule(&self) -> StoredAction {
        let video = TikTokVideo::new(
            "https://media.example/clip.mp4".parse().unwrap(),
            PrivacyLevel::SelfOnly,
        )
        .with_title("First clip");
        let request = ActionRequest::of(self.key.clone(), &video, self.h.clock.now()).unwrap();
        self.h.hub.schedule_action(request).await.unwrap()
    }
    fn runner(&self) -> ActionRunner {
        let options = RunnerOptions::default()
            .with_retries(8, Duration::from_secs(30), Duration::from_secs(60))
            .with_reconcile_delay(Duration::from_secs(30));
        self.h.hub.action_runner(options).unwrap()
    }
    async fn stored(&self, a: &StoredAction) -> StoredAction {
        self.h.hub.action(&a.key.subject, a.id).await.unwrap()
    }
    fn later(&self) {
        self.h.clock.advance(chrono::Duration::seconds(90));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_is_posted_once_and_followed_until_published() {
    let env = env(2).await;
    let a = env.schedule().await;
    let runner = env.runner();
    let first = runner.run_once().await.unwrap();
    assert_eq!(first.retrying, 1, "still processing: asked again later");
    let pending = env.stored(&a).await;
    let publish_id = pending.progress.as_ref().unwrap()["publish_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(Some(publish_id.clone()), env.sim.last_publish_id());
    for _ in 0..4 {
        env.later();
        runner.run_once().await.unwrap();
        if env.stored(&a).await.state == ActionState::Done {
            break;
        }
    }
    let done = env.stored(&a).await;
    assert_eq!(done.state, ActionState::Done);
    let result = done.last_result.unwrap();
    assert_eq!(result["publish_id"], publish_id.as_str());
    assert_eq!(result["state"], "PUBLISH_COMPLETE");
    assert_eq!(env.sim.requests_to(INIT), 1, "the init went out once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_fails_for_good_with_tiktoks_reason() {
    let env = env(0).await;
    env.sim.fail_next_publish("file_format_check_failed");
    let a = env.schedule().await;
    env.runner().run_once().await.unwrap();
    assert_eq!(
        env.stored(&a).await.state,
        ActionState::Failed {
            kind: "invalid_input".into()
        }
    );
    assert_eq!(env.sim.requests_to(INIT), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_init_answer_goes_to_a_person_not_posted_again() {
    let env = env(0).await;
    env.sim.fail_next_with_status(INIT, "internal_error", 500);
    let a = env.schedule().await;
    let runner = env.runner();
    runner.run_once().await.unwrap();
    assert_eq!(env.stored(&a).await.state, ActionState::MaybeSent);
    env.later();
    assert_eq!(runner.run_once().await.unwrap().failed, 1);
    assert!(matches!(
        env.stored(&a).await.state,
        ActionState::NeedsPerson { .. }
    ));
    assert_eq!(env.sim.requests_to(INIT), 1, "never posted blindly again");

    // The person found nothing on the profile and retries: posted once more.
    env.h.hub.retry_action(&a.key.subject, a.id).await.unwrap();
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(env.sim.requests_to(INIT), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_video_payload_is_refused_when_scheduled() {
    let env = env(0).await;
    let now = env.h.clock.now();
    for payload in [
        serde_json::json!({ "video_url": "https://m.example/a.mp4" }),
        serde_json::json!({ "video_url": "not a url", "privacy_level": "SELF_ONLY" }),
        serde_json::json!({ "video_url": "https://m.example/a.mp4", "privacy_level": "SELF_ONLY", "titel": "x" }),
    ] {
        let err = env
            .h
            .hub
            .schedule_action(ActionRequest::new(
                env.key.clone(),
                "tiktok.video",
                payload,
                now,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), socialconnect_core::ErrorKind::InvalidInput);
    }
}
