//! Scheduled Meta actions on the test kit's Graph simulator: a Page post, a reply and an
//! Instagram image run when due; a publish whose answer is lost (the simulator processes it
//! and stalls past the client's timeout) is reconciled against the Page's posts or the
//! container's state and never sent twice; one refused before processing is sent again once;
//! an insights snapshot returns the values.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use socialconnect_core::automation::{ActionPayload, ActionState, StoredAction};
use socialconnect_core::clock::Clock;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{ConnectionKey, PlatformId, Purpose, Scope};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ActionRequest, ActionRunner, RunnerOptions};
use socialconnect_meta::actions::{CommentReply, InstagramImage, PageInsights, PagePost};
use socialconnect_meta::{FacebookLogin, MetaActions, MetaClient, MetaConfig, MetaProduct};
use socialconnect_testkit::meta::{GraphFault, GraphSimulator};
use socialconnect_testkit::{Harness, ManualClock};

struct Env {
    sim: GraphSimulator,
    h: Harness,
    meta: MetaClient,
    facebook: ConnectionKey,
    instagram: ConnectionKey,
}

async fn env() -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = GraphSimulator::builder()
        .clock(clock.clone())
        .container_polls_in_progress(0)
        .start()
        .await;
    let config = MetaConfig::new(sim.app_id(), ClientSecret::new(sim.app_secret()))
        .with_graph_base(sim.base_url())
        .with_dialog_base(sim.base_url());
    // A short timeout, so a stalled answer is lost quickly.
    let http = HttpClient::builder()
        .timeout(Duration::from_millis(800))
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    let meta = MetaClient::new(config, http.clone());
    let login = |p| Arc::new(FacebookLogin::new(meta.clone(), p).unwrap());
    let exec = |p| Arc::new(MetaActions::new(meta.clone(), p).unwrap());
    let h = Harness::builder()
        .clock(clock)
        .http(http)
        .platform(login(MetaProduct::Facebook))
        .platform(login(MetaProduct::Instagram))
        .executor(exec(MetaProduct::Facebook))
        .executor(exec(MetaProduct::Instagram))
        .build();
    for purpose in [
        Purpose::Publishing,
        Purpose::Analytics,
        Purpose::ReadingContent,
    ] {
        h.grant(purpose, None).await;
    }
    let scopes = Scope::parse_list(
        "pages_show_list pages_manage_posts pages_read_engagement instagram_basic instagram_content_publish",
    );
    let facebook = h
        .connect(&PlatformId::FACEBOOK, &scopes, |url| sim.authorize(url))
        .await
        .key;
    let instagram = h
        .connect(&PlatformId::INSTAGRAM, &scopes, |url| sim.authorize(url))
        .await
        .key;
    Env {
        sim,
        h,
        meta,
        facebook,
        instagram,
    }
}

impl Env {
    async fn schedule_of<P: ActionPayload>(
        &self,
        key: &ConnectionKey,
        payload: &P,
    ) -> StoredAction {
        let request = ActionRequest::of(key.clone(), payload, self.h.clock.now()).unwrap();
        self.h.hub.schedule_action(request).await.unwrap()
    }
    fn runner(&self) -> ActionRunner {
        self.h
            .hub
            .action_runner(RunnerOptions::default().with_reconcile_delay(Duration::from_secs(30)))
            .unwrap()
    }
    async fn stored(&self, a: &StoredAction) -> StoredAction {
        self.h.hub.action(&a.key.subject, a.id).await.unwrap()
    }
    /// Posts on the Page whose text is `text`, as a reader sees them.
    async fn posts_saying(&self, text: &str) -> usize {
        let s = self
            .h
            .hub
            .session(&self.facebook, Purpose::ReadingContent)
            .await
            .unwrap();
        let page = self
            .meta
            .page_account(&s, self.sim.page_id())
            .await
            .unwrap();
        let listed = self.meta.pages(&s).posts_page(&page, None).await.unwrap();
        listed
            .items
            .iter()
            .filter(|p| p.message.as_deref() == Some(text))
            .count()
    }
    fn later(&self, secs: i64) {
        self.h.clock.advance(chrono::Duration::seconds(secs));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_page_post_is_published_once() {
    let env = env().await;
    let a = env
        .schedule_of(
            &env.facebook,
            &PagePost::text(env.sim.page_id(), "Open late on Friday"),
        )
        .await;
    assert_eq!(a.purpose, Purpose::Publishing);
    assert_eq!(env.runner().run_once().await.unwrap().completed, 1);
    let done = env.stored(&a).await;
    assert_eq!(done.state, ActionState::Done);
    assert!(
        done.last_result.unwrap()["post_id"]
            .as_str()
            .unwrap()
            .starts_with(env.sim.page_id())
    );
    assert_eq!(env.posts_saying("Open late on Friday").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_post_whose_answer_was_lost_is_found_not_resent() {
    let env = env().await;
    let a = env
        .schedule_of(
            &env.facebook,
            &PagePost::text(env.sim.page_id(), "lost answer"),
        )
        .await;
    env.sim
        .fail_next("/feed", GraphFault::Stall(Duration::from_secs(3)));
    let runner = env.runner();
    runner.run_once().await.unwrap();
    assert_eq!(env.stored(&a).await.state, ActionState::MaybeSent);
    assert_eq!(env.sim.posts(), 1);
    env.later(30);
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(
        env.sim.posts(),
        1,
        "reconciled from the Page's posts, not sent again"
    );
    assert_eq!(env.posts_saying("lost answer").await, 1);
    let done = env.stored(&a).await;
    assert!(done.last_result.unwrap()["post_id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_post_refused_before_processing_is_sent_again_once() {
    let env = env().await;
    let a = env
        .schedule_of(
            &env.facebook,
            &PagePost::text(env.sim.page_id(), "second try"),
        )
        .await;
    env.sim.fail_next("/feed", GraphFault::ServerError);
    let runner = env.runner();
    runner.run_once().await.unwrap();
    assert_eq!(
        env.stored(&a).await.state,
        ActionState::MaybeSent,
        "a 500 on a write: unknown"
    );
    env.later(30);
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(env.sim.posts(), 2);
    assert_eq!(
        env.posts_saying("second try").await,
        1,
        "published exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_whose_answer_was_lost_is_found_among_the_comments() {
    let env = env().await;
    let post = env
        .schedule_of(
            &env.facebook,
            &PagePost::text(env.sim.page_id(), "to reply to"),
        )
        .await;
    let runner = env.runner();
    runner.run_once().await.unwrap();
    let post_id = env.stored(&post).await.last_result.unwrap()["post_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = env
        .schedule_of(
            &env.facebook,
            &CommentReply::new(env.sim.page_id(), &post_id, "Thanks!"),
        )
        .await;
    env.sim
        .fail_next("/comments", GraphFault::Stall(Duration::from_secs(3)));
    runner.run_once().await.unwrap();
    assert_eq!(env.stored(&reply).await.state, ActionState::MaybeSent);
    env.later(30);
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(env.sim.comments_created(), 1, "not replied twice");
    assert!(env.stored(&reply).await.last_result.unwrap()["comment_id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instagram_publish_whose_answer_was_lost_is_read_from_the_container() {
    let env = env().await;
    let image = InstagramImage::new(
        env.sim.instagram_user_id(),
        "https://cdn.example/croissant.jpg".parse().unwrap(),
    )
    .with_caption("Fresh this morning");
    let a = env.schedule_of(&env.instagram, &image).await;
    env.sim
        .fail_next("/media_publish", GraphFault::Stall(Duration::from_secs(3)));
    let runner = env.runner();
    runner.run_once().await.unwrap();
    let pending = env.stored(&a).await;
    assert_eq!(pending.state, ActionState::MaybeSent);
    assert!(
        pending.progress.unwrap()["container_id"].is_string(),
        "the container was recorded first"
    );
    env.later(30);
    assert_eq!(runner.run_once().await.unwrap().completed, 1);
    assert_eq!(env.sim.containers_created(), 1);
    assert_eq!(env.sim.published_media(), 1, "published once");
    assert_eq!(env.stored(&a).await.state, ActionState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instagram_image_runs_container_then_publish() {
    let env = env().await;
    let image = InstagramImage::new(
        env.sim.instagram_user_id(),
        "https://cdn.example/a.jpg".parse().unwrap(),
    );
    let a = env.schedule_of(&env.instagram, &image).await;
    assert_eq!(env.runner().run_once().await.unwrap().completed, 1);
    let done = env.stored(&a).await;
    assert!(done.last_result.as_ref().unwrap()["media_id"].is_string());
    assert_eq!(
        (env.sim.containers_created(), env.sim.published_media()),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insights_snapshot_keeps_the_values_as_its_result() {
    let env = env().await;
    let a = env
        .schedule_of(
            &env.facebook,
            &PageInsights::daily(env.sim.page_id(), ["page_impressions_unique"]),
        )
        .await;
    assert_eq!(a.purpose, Purpose::Analytics);
    assert_eq!(env.runner().run_once().await.unwrap().completed, 1);
    let result = env.stored(&a).await.last_result.unwrap();
    assert_eq!(result["metrics"][0]["name"], "page_impressions_unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_payloads_are_refused_when_scheduled() {
    let env = env().await;
    let hub = &env.h.hub;
    let now = env.h.clock.now();
    for (key, kind, payload) in [
        (
            &env.facebook,
            "facebook.page_post",
            json!({ "page_id": "1" }),
        ),
        (
            &env.facebook,
            "facebook.page_post",
            json!({ "page_id": "1", "mesage": "typo" }),
        ),
        (
            &env.facebook,
            "facebook.comment_reply",
            json!({ "page_id": "1", "object_id": "2", "message": "" }),
        ),
        (
            &env.facebook,
            "facebook.page_insights",
            json!({ "page_id": "1", "metrics": [], }),
        ),
        (
            &env.instagram,
            "instagram.image",
            json!({ "ig_user_id": "1", "image_url": "ftp://x/y.jpg" }),
        ),
        (
            &env.instagram,
            "facebook.page_post",
            json!({ "page_id": "1", "message": "wrong product" }),
        ),
    ] {
        let err = hub
            .schedule_action(ActionRequest::new(key.clone(), kind, payload.clone(), now))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            socialconnect_core::ErrorKind::InvalidInput,
            "{kind} {payload}"
        );
    }
    assert!(MetaActions::new(env.meta.clone(), MetaProduct::WhatsApp).is_err());
}
