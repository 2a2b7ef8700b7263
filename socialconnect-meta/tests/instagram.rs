//! Instagram content publishing and reading against a wiremock Graph server.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, ErrorKind};
use socialconnect_meta::MetaProduct;
use socialconnect_meta::instagram::{
    CONTAINER_ERROR, Carousel, CarouselItem, ContainerFailure, ContainerState, InsightsQuery,
    MediaContainer, Period, PollBudget,
};
use socialconnect_testkit::{JsonMock, fixture};
use url::Url;
use wiremock::matchers::{body_string_contains, header, query_param, query_param_is_missing};

const CONTAINER: &str = "17889455560051444";

fn fast() -> PollBudget {
    PollBudget::new(5, Duration::from_millis(10))
}

fn image() -> Url {
    Url::parse("https://cdn.example.com/latte.jpg").unwrap()
}

async fn mount_container(env: &Env) {
    JsonMock::new(
        "POST",
        graph(&format!("{IG_USER}/media")),
        fixture!("instagram/container_created"),
    )
    .and(body_string_contains(
        "image_url=https%3A%2F%2Fcdn.example.com%2Flatte.jpg",
    ))
    .and(body_string_contains("caption=Latte+art"))
    .and(header(
        "authorization",
        format!("Bearer {USER_TOKEN}").as_str(),
    ))
    .and(query_param("appsecret_proof", env.proof(USER_TOKEN)))
    .expect(1)
    .mount(&env.server)
    .await;
}

async fn mount_status(env: &Env, fixture: &str, times: Option<u64>) {
    let mock = JsonMock::new("GET", graph(CONTAINER), fixture!(fixture))
        .and(query_param("fields", "status_code,status"));
    let mock = match times {
        Some(n) => mock.up_to_n_times(n).expect(n),
        None => mock,
    };
    mock.mount(&env.server).await;
}

async fn mount_publish(env: &Env, expected: u64) {
    JsonMock::new(
        "POST",
        graph(&format!("{IG_USER}/media_publish")),
        fixture!("instagram/media_published"),
    )
    .and(query_param("creation_id", CONTAINER))
    .and(query_param("appsecret_proof", env.proof(USER_TOKEN)))
    .expect(expected)
    .mount(&env.server)
    .await;
}

#[tokio::test]
async fn publishes_an_image_after_the_container_finishes() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    mount_container(&env).await;
    mount_status(&env, "instagram/status_in_progress", Some(2)).await;
    mount_status(&env, "instagram/status_finished", None).await;
    mount_publish(&env, 1).await;
    let id = env
        .client
        .instagram(&s)
        .with_poll_budget(fast())
        .publish_image(IG_USER, image(), Some("Latte art"))
        .await
        .unwrap();
    // A numeric id far above 2^53 comes back digit for digit.
    assert_eq!(id.as_str(), "17920238422030506123");
    assert_eq!(
        env.hits(&format!("/{CONTAINER}")).await,
        3,
        "two IN_PROGRESS, one FINISHED"
    );
    assert_eq!(
        env.operations().await,
        [
            "instagram.container",
            "instagram.status",
            "instagram.status",
            "instagram.status",
            "instagram.publish"
        ]
    );
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn an_errored_container_is_never_published() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    mount_container(&env).await;
    mount_status(&env, "instagram/status_in_progress", Some(1)).await;
    mount_status(&env, "instagram/status_error", None).await;
    mount_publish(&env, 0).await;
    let err = env
        .client
        .instagram(&s)
        .with_poll_budget(fast())
        .publish_image(IG_USER, image(), Some("Latte art"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    let failure = ContainerFailure::from_error(&err).expect("a container failure");
    assert_eq!(failure.state, ContainerState::Error);
    assert_eq!(
        failure.status,
        "Error: Media upload has failed with error code 2207026."
    );
    assert_eq!(failure.subcode, Some(2_207_026));
    assert_eq!(
        err.platform_error().unwrap().error_type.as_deref(),
        Some(CONTAINER_ERROR)
    );
}

#[tokio::test]
async fn an_expired_container_is_never_published() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    mount_status(&env, "instagram/status_expired", None).await;
    mount_publish(&env, 0).await;
    let err = env
        .client
        .instagram(&s)
        .with_poll_budget(fast())
        .publish(IG_USER, CONTAINER)
        .await
        .unwrap_err();
    let failure = ContainerFailure::from_error(&err).unwrap();
    assert_eq!(failure.state, ContainerState::Expired);
    assert_eq!(
        failure.status, "EXPIRED",
        "no status text: the state stands in"
    );
}

#[tokio::test]
async fn a_spent_poll_budget_is_transient_and_publishes_nothing() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    mount_status(&env, "instagram/status_in_progress", None).await;
    mount_publish(&env, 0).await;
    let err = env
        .client
        .instagram(&s)
        .with_poll_budget(PollBudget::new(3, Duration::from_millis(5)))
        .publish(IG_USER, CONTAINER)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(env.hits(&format!("/{CONTAINER}")).await, 3);
}

#[tokio::test]
async fn an_already_published_container_is_not_published_again() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    mount_status(&env, "instagram/status_published", None).await;
    mount_publish(&env, 0).await;
    let err = env
        .client
        .instagram(&s)
        .publish(IG_USER, CONTAINER)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_publish_answered_500_is_maybe_sent_once() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    mount_status(&env, "instagram/status_finished", None).await;
    JsonMock::empty("POST", graph(&format!("{IG_USER}/media_publish")))
        .status(502)
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .instagram(&s)
        .publish(IG_USER, CONTAINER)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn creates_reel_and_story_containers() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    let media = graph(&format!("{IG_USER}/media"));
    JsonMock::new(
        "POST",
        media.clone(),
        fixture!("instagram/container_created"),
    )
    .and(body_string_contains("media_type=REELS"))
    .and(body_string_contains(
        "video_url=https%3A%2F%2Fcdn.example.com%2Fclip.mp4",
    ))
    .and(body_string_contains("share_to_feed=true"))
    .and(body_string_contains(
        "cover_url=https%3A%2F%2Fcdn.example.com%2Fcover.jpg",
    ))
    .expect(1)
    .mount(&env.server)
    .await;
    JsonMock::new(
        "POST",
        media.clone(),
        fixture!("instagram/container_created"),
    )
    .and(body_string_contains("media_type=STORIES"))
    .and(body_string_contains("image_url="))
    .expect(1)
    .mount(&env.server)
    .await;
    let ig = env.client.instagram(&s);
    let reel = MediaContainer::reel(Url::parse("https://cdn.example.com/clip.mp4").unwrap())
        .with_caption("Behind the bar")
        .share_to_feed(true)
        .with_cover_url(Url::parse("https://cdn.example.com/cover.jpg").unwrap());
    assert_eq!(
        ig.create_container(IG_USER, &reel).await.unwrap().as_str(),
        CONTAINER
    );
    let story = MediaContainer::story_image(image());
    assert_eq!(
        ig.create_container(IG_USER, &story).await.unwrap().as_str(),
        CONTAINER
    );
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn creates_a_carousel_from_item_containers() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    let media = graph(&format!("{IG_USER}/media"));
    JsonMock::new("POST", media.clone(), fixture!("instagram/carousel_item_1"))
        .and(body_string_contains("is_carousel_item=true"))
        .and(body_string_contains(
            "image_url=https%3A%2F%2Fcdn.example.com%2F1.jpg",
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("POST", media.clone(), fixture!("instagram/carousel_item_2"))
        .and(body_string_contains("is_carousel_item=true"))
        .and(body_string_contains("media_type=VIDEO"))
        .and(body_string_contains(
            "video_url=https%3A%2F%2Fcdn.example.com%2F2.mp4",
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("POST", media.clone(), fixture!("instagram/carousel_parent"))
        .and(body_string_contains("media_type=CAROUSEL"))
        .and(body_string_contains(
            "children=17890000000000001%2C17890000000000002",
        ))
        .and(body_string_contains("caption=Menu"))
        .expect(1)
        .mount(&env.server)
        .await;
    let carousel = Carousel::new(vec![
        CarouselItem::Image(Url::parse("https://cdn.example.com/1.jpg").unwrap()),
        CarouselItem::Video(Url::parse("https://cdn.example.com/2.mp4").unwrap()),
    ])
    .with_caption("Menu");
    let parent = env
        .client
        .instagram(&s)
        .create_carousel(IG_USER, &carousel)
        .await
        .unwrap();
    assert_eq!(parent.as_str(), "17890000000000003");
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn carousels_outside_2_to_10_items_send_nothing() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    let ig = env.client.instagram(&s);
    for n in [0usize, 1, 11] {
        let items = vec![CarouselItem::Image(image()); n];
        let err = ig
            .create_carousel(IG_USER, &Carousel::new(items))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{n} items");
    }
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn reads_the_publishing_limit_from_the_response() {
    for (fixture, usage, total) in [
        ("instagram/publishing_limit", 2, Some(50)),
        ("instagram/publishing_limit_100", 7, Some(100)),
        ("instagram/publishing_limit_usage_only", 4, None),
    ] {
        let env = env().await;
        let s = env
            .session(MetaProduct::Instagram, Purpose::Publishing)
            .await;
        JsonMock::new(
            "GET",
            graph(&format!("{IG_USER}/content_publishing_limit")),
            fixture!(fixture),
        )
        .and(query_param("fields", "quota_usage,config"))
        .expect(1)
        .mount(&env.server)
        .await;
        let limit = env
            .client
            .instagram(&s)
            .publishing_limit(IG_USER)
            .await
            .unwrap();
        assert_eq!(limit.quota_usage, usage, "{fixture}");
        assert_eq!(limit.quota_total, total, "{fixture}");
        assert_eq!(limit.remaining(), total.map(|t| t - usage));
    }
}

#[tokio::test]
async fn streams_media_and_reads_a_single_page() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::ReadingContent)
        .await;
    let media = graph(&format!("{IG_USER}/media"));
    JsonMock::new("GET", media.clone(), fixture!("instagram/media_p1"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param_is_missing("after"))
        .expect(2)
        .mount(&env.server)
        .await;
    JsonMock::new("GET", media.clone(), fixture!("instagram/media_p2"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param("after", "QVFIU1"))
        .and(query_param_is_missing("access_token"))
        .expect(1)
        .mount(&env.server)
        .await;
    let ig = env.client.instagram(&s);
    let all: Vec<_> = ig.media(IG_USER).collect().await;
    let all: Vec<_> = all.into_iter().map(Result::unwrap).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].id.as_str(), "17920238422030506123");
    assert_eq!(all[0].like_count, Some(42));
    assert_eq!(all[1].media_product_type.as_deref(), Some("REELS"));
    let first = ig.media_page(IG_USER, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(!first.next.unwrap().as_str().contains("LEAKED"));
}

#[tokio::test]
async fn reads_comments_and_replies() {
    let env = env().await;
    let media_id = "17920238422030506123";
    JsonMock::new(
        "GET",
        graph(&format!("{media_id}/comments")),
        fixture!("instagram/comments"),
    )
    .expect(1)
    .mount(&env.server)
    .await;
    JsonMock::new(
        "POST",
        graph("17858893269000002/replies"),
        fixture!("instagram/reply_created"),
    )
    .and(body_string_contains("message=In+Lisbon%21"))
    .expect(1)
    .mount(&env.server)
    .await;
    let reader = env
        .session(MetaProduct::Instagram, Purpose::ReadingContent)
        .await;
    let comments: Vec<_> = env
        .client
        .instagram(&reader)
        .comments(media_id)
        .collect()
        .await;
    let comments: Vec<_> = comments.into_iter().map(Result::unwrap).collect();
    assert_eq!(comments.len(), 2, "`after` without `next` is the end");
    assert_eq!(comments[0].username.as_deref(), Some("ana.m"));
    assert!(comments[1].username.is_none() && comments[1].like_count.is_none());
    let publisher = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    let id = env
        .client
        .instagram(&publisher)
        .reply(comments[1].id.as_str(), "In Lisbon!")
        .await
        .unwrap();
    assert_eq!(id.as_str(), "17858893269000003");
}

#[tokio::test]
async fn reads_media_and_account_insights() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Analytics)
        .await;
    let media_id = "17920238422030506123";
    JsonMock::new(
        "GET",
        graph(&format!("{media_id}/insights")),
        fixture!("instagram/media_insights"),
    )
    .and(query_param("metric", "reach,saved"))
    .expect(1)
    .mount(&env.server)
    .await;
    JsonMock::new(
        "GET",
        graph(&format!("{IG_USER}/insights")),
        fixture!("instagram/account_insights"),
    )
    .and(query_param("metric", "reach"))
    .and(query_param("period", "day"))
    .and(query_param("metric_type", "total_value"))
    .expect(1)
    .mount(&env.server)
    .await;
    let ig = env.client.instagram(&s);
    let m = ig
        .media_insights(media_id, &InsightsQuery::new(["reach", "saved"]))
        .await
        .unwrap();
    assert_eq!(m[0].values[0].value.as_i64(), Some(1480));
    assert_eq!(m[1].period, Some(Period::Lifetime));
    let a = ig
        .account_insights(
            IG_USER,
            &InsightsQuery::new(["reach"])
                .period(Period::Day)
                .total_value(),
        )
        .await
        .unwrap();
    assert_eq!(a[0].total.as_ref().unwrap().as_i64(), Some(5231));
    assert_eq!(a[0].breakdowns.len(), 1);
    assert!(a[0].values.is_empty());
}

#[tokio::test]
async fn graph_errors_map_to_kinds() {
    for (fixture, want) in [
        (
            "instagram/error_buc_throttled",
            ErrorKind::Throttled { retry_after: None },
        ),
        (
            "instagram/error_publish_limit",
            ErrorKind::Throttled { retry_after: None },
        ),
        (
            "instagram/error_user_throttled",
            ErrorKind::Throttled { retry_after: None },
        ),
        ("instagram/error_media_download", ErrorKind::Transient),
        ("instagram/error_permission", ErrorKind::MissingScopes),
    ] {
        let env = env().await;
        let s = env
            .session(MetaProduct::Instagram, Purpose::Publishing)
            .await;
        JsonMock::new(
            "POST",
            graph(&format!("{IG_USER}/media")),
            fixture!(fixture),
        )
        .status(400)
        .expect(1)
        .mount(&env.server)
        .await;
        let err = env
            .client
            .instagram(&s)
            .create_container(IG_USER, &MediaContainer::image(image()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), want, "{fixture}");
        assert!(ContainerFailure::from_error(&err).is_none());
    }
}

#[tokio::test]
async fn throttling_with_a_regain_time_pauses_the_platform() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    JsonMock::new(
        "GET",
        graph(&format!("{IG_USER}/content_publishing_limit")),
        fixture!("instagram/error_buc_throttled"),
    )
    .status(400)
    .header(
        "x-business-use-case-usage",
        &format!(
            r#"{{"{IG_USER}":[{{"type":"instagram","call_count":100,"total_cputime":4,"total_time":9,"estimated_time_to_regain_access":5}}]}}"#
        ),
    )
    .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .instagram(&s)
        .publishing_limit(IG_USER)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(300))
        }
    );
    let paused = env
        .client
        .http()
        .platform_pause(&socialconnect_core::id::PlatformId::INSTAGRAM);
    assert!(paused > Duration::from_secs(200));
    assert!(matches!(err, Error::Throttled { .. }));
}
