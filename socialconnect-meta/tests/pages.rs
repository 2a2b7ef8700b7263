//! Pages API against a wiremock Graph server with documented response shapes.

mod common;

use std::time::Duration;

use chrono::DateTime;
use common::*;
use futures_util::StreamExt;
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, ErrorKind};
use socialconnect_meta::MetaProduct;
use socialconnect_meta::pages::{FeedPost, InsightsQuery, MetricValue, Period, PhotoPost};
use socialconnect_testkit::{JsonMock, fixture};
use url::Url;
use wiremock::matchers::{body_string_contains, header, query_param, query_param_is_missing};

#[tokio::test]
async fn publishes_a_post_with_the_page_token_and_proof() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let page = env.page(&s).await;
    JsonMock::new(
        "POST",
        graph(&format!("{PAGE_ID}/feed")),
        fixture!("pages/feed_created"),
    )
    .and(header(
        "authorization",
        format!("Bearer {PAGE_TOKEN}").as_str(),
    ))
    .and(query_param("appsecret_proof", env.proof(PAGE_TOKEN)))
    .and(body_string_contains("message=Open+late+on+Friday"))
    .and(body_string_contains(
        "link=https%3A%2F%2Fcafeluna.example%2Fmenu",
    ))
    .and(body_string_contains("published=true"))
    .expect(1)
    .mount(&env.server)
    .await;
    let post = FeedPost::text("Open late on Friday")
        .with_link(Url::parse("https://cafeluna.example/menu").unwrap());
    let id = env.client.pages(&s).publish(&page, &post).await.unwrap();
    // `{page-id}_{post-id}` with a post id above 2^53, kept exactly.
    assert_eq!(id.as_str(), "104857600000000001_9007199254740993");
    assert_eq!(env.operations().await, ["accounts.list", "pages.publish"]);
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn schedules_a_post_unpublished() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let page = env.page(&s).await;
    JsonMock::new(
        "POST",
        graph(&format!("{PAGE_ID}/feed")),
        fixture!("pages/feed_created"),
    )
    .and(body_string_contains("published=false"))
    .and(body_string_contains("scheduled_publish_time=1900000000"))
    .expect(1)
    .mount(&env.server)
    .await;
    let at = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
    let post = FeedPost::text("Soon").scheduled_at(at);
    env.client.pages(&s).publish(&page, &post).await.unwrap();
}

#[tokio::test]
async fn publishes_photos_with_and_without_a_post_id() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let page = env.page(&s).await;
    JsonMock::new(
        "POST",
        graph(&format!("{PAGE_ID}/photos")),
        fixture!("pages/photo_created"),
    )
    .and(body_string_contains("caption=Today"))
    .and(body_string_contains(
        "url=https%3A%2F%2Fcdn.example.com%2Fcake.jpg",
    ))
    .up_to_n_times(1)
    .mount(&env.server)
    .await;
    // A bare JSON number past 2^53: it must not go through `f64`.
    JsonMock::new(
        "POST",
        graph(&format!("{PAGE_ID}/photos")),
        serde_json::json!({"id": 9_007_199_254_740_995_u64}),
    )
    .mount(&env.server)
    .await;
    let photo = PhotoPost::from_url(Url::parse("https://cdn.example.com/cake.jpg").unwrap())
        .with_caption("Today");
    let pages = env.client.pages(&s);
    let first = pages.publish_photo(&page, &photo).await.unwrap();
    assert_eq!(first.photo_id.as_str(), "9007199254740995");
    assert_eq!(
        first.post_id.unwrap().as_str(),
        "104857600000000001_9007199254740997"
    );
    // The second answer has a numeric id above 2^53 and no `post_id` (shape UNCONFIRMED).
    let second = pages.publish_photo(&page, &photo).await.unwrap();
    assert_eq!(second.photo_id.as_str(), "9007199254740995");
    assert!(second.post_id.is_none());
}

#[tokio::test]
async fn refuses_bad_input_and_wrong_purpose_without_a_request() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let page = env.page(&s).await;
    let pages = env.client.pages(&s);
    let empty = FeedPost::text("   ");
    assert_eq!(
        pages.publish(&page, &empty).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        pages.reply(&page, "1/../2", "hi").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // A publishing session may not read analytics.
    let err = pages
        .insights(&page, &InsightsQuery::new(["page_impressions_unique"]))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::ConsentRequired {
            purpose: Purpose::Analytics,
            ..
        }
    ));
    let first = pages.posts(&page).next().await.unwrap().unwrap_err();
    assert_eq!(first.kind(), ErrorKind::ConsentRequired);
    assert_eq!(env.hits("/feed").await + env.hits("/insights").await, 0);
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn streams_posts_across_pages_to_the_end() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::ReadingContent)
        .await;
    let page = env.page(&s).await;
    let posts = graph(&format!("{PAGE_ID}/posts"));
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_p1"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param_is_missing("after"))
        .and(query_param_is_missing("__paging_token"))
        .and(query_param(
            "fields",
            "id,message,story,created_time,permalink_url",
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    // The `next` URL carried an access token; it is followed without it, the token going
    // as a header with a fresh proof.
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_p2_empty"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param("after", "QVFIUjFH"))
        .and(query_param_is_missing("access_token"))
        .and(query_param("appsecret_proof", env.proof(PAGE_TOKEN)))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_p3_last"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param("__paging_token", "enc_AdB"))
        .expect(1)
        .mount(&env.server)
        .await;
    let all: Vec<_> = env.client.pages(&s).posts(&page).collect().await;
    let all: Vec<_> = all.into_iter().map(Result::unwrap).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].message.as_deref(), Some("Open late on Friday"));
    assert_eq!(
        all[0].created_time.unwrap().to_rfc3339(),
        "2026-07-04T19:50:58+00:00"
    );
    assert!(all[1].message.is_none(), "photo-only posts have no message");
    assert_eq!(all[2].id.as_str(), "104857600000000001_1234");
    assert_eq!(
        env.operations().await,
        ["accounts.list", "pages.posts", "pages.posts", "pages.posts"]
    );
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn fetches_single_pages_and_hides_the_token_of_next() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::ReadingContent)
        .await;
    let page = env.page(&s).await;
    let posts = graph(&format!("{PAGE_ID}/posts"));
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_p1"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param_is_missing("after"))
        .mount(&env.server)
        .await;
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_p2_empty"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param("after", "QVFIUjFH"))
        .mount(&env.server)
        .await;
    let pages = env.client.pages(&s);
    let first = pages.posts_page(&page, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.after.as_deref(), Some("QVFIUjFH"));
    let next = first.next.clone().unwrap();
    assert!(!next.as_str().contains("LEAKED-TOKEN"));
    let second = pages.posts_page(&page, Some(&next)).await.unwrap();
    assert!(second.items.is_empty());
    assert!(second.next.is_some(), "an empty page may still have `next`");
    // A page URL off the Graph host is refused before the token goes anywhere.
    let elsewhere = Url::parse("https://evil.example.com/v26.0/1/posts").unwrap();
    assert_eq!(
        pages
            .posts_page(&page, Some(&elsewhere))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn a_repeated_next_url_ends_the_stream_with_an_error() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::ReadingContent)
        .await;
    let page = env.page(&s).await;
    let posts = graph(&format!("{PAGE_ID}/posts"));
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_loop"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param_is_missing("after"))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("GET", posts.clone(), fixture!("pages/posts_loop"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param("after", "LOOP"))
        .expect(1)
        .mount(&env.server)
        .await;
    let items: Vec<_> = env.client.pages(&s).posts(&page).collect().await;
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok());
    assert_eq!(items[2].as_ref().unwrap_err().kind(), ErrorKind::Platform);
}

#[tokio::test]
async fn a_next_url_off_the_graph_host_is_an_error() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::ReadingContent)
        .await;
    let page = env.page(&s).await;
    JsonMock::new(
        "GET",
        graph(&format!("{PAGE_ID}/posts")),
        fixture!("pages/posts_offsite"),
    )
    .replace("{{BASE}}", &env.server.uri())
    .expect(1)
    .mount(&env.server)
    .await;
    let items: Vec<_> = env.client.pages(&s).posts(&page).collect().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().kind(), ErrorKind::Platform);
}

#[tokio::test]
async fn reads_comments_and_stops_on_a_repeated_cursor() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::ReadingContent)
        .await;
    let page = env.page(&s).await;
    let post = format!("{PAGE_ID}_9007199254740993");
    let comments = graph(&format!("{post}/comments"));
    JsonMock::new("GET", comments.clone(), fixture!("pages/comments_p1"))
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param_is_missing("after"))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new(
        "GET",
        comments.clone(),
        fixture!("pages/comments_p2_same_cursor"),
    )
    .replace("{{BASE}}", &env.server.uri())
    .and(query_param("page", "2"))
    .expect(1)
    .mount(&env.server)
    .await;
    JsonMock::empty("GET", comments.clone())
        .status(500)
        .and(query_param("page", "3"))
        .expect(0)
        .mount(&env.server)
        .await;
    let items: Vec<_> = env.client.pages(&s).comments(&page, &post).collect().await;
    assert_eq!(items.len(), 4);
    let first = items[0].as_ref().unwrap();
    assert_eq!(first.id.as_str(), "9007199254740993_9007199254740999");
    assert_eq!(first.from.as_ref().unwrap().name.as_deref(), Some("Ana"));
    assert_eq!((first.like_count, first.comment_count), (Some(3), Some(1)));
    assert!(
        items[1].as_ref().unwrap().from.is_none(),
        "`from` may be withheld"
    );
    assert!(items[2].is_ok());
    assert_eq!(items[3].as_ref().unwrap_err().kind(), ErrorKind::Platform);
}

#[tokio::test]
async fn replies_as_the_page() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let page = env.page(&s).await;
    let comment = "9007199254740993_9007199254740999";
    JsonMock::new(
        "POST",
        graph(&format!("{comment}/comments")),
        fixture!("pages/comment_created"),
    )
    .and(header(
        "authorization",
        format!("Bearer {PAGE_TOKEN}").as_str(),
    ))
    .and(query_param("appsecret_proof", env.proof(PAGE_TOKEN)))
    .and(body_string_contains("message=Thank+you%21"))
    .expect(1)
    .mount(&env.server)
    .await;
    let id = env
        .client
        .pages(&s)
        .reply(&page, comment, "Thank you!")
        .await
        .unwrap();
    assert_eq!(id.as_str(), "9007199254740993_9007199255000002");
}

#[tokio::test]
async fn reads_metadata_and_backs_off_on_high_usage() {
    let env = env().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::ReadingContent)
        .await;
    let page = env.page(&s).await;
    JsonMock::new("GET", graph(PAGE_ID), fixture!("pages/page_info"))
        .and(query_param(
            "fields",
            "id,name,username,category,fan_count,followers_count,link,about,website",
        ))
        .and(query_param("appsecret_proof", env.proof(PAGE_TOKEN)))
        .header(
            "x-app-usage",
            r#"{"call_count":95,"total_time":20,"total_cputime":12}"#,
        )
        .expect(1)
        .mount(&env.server)
        .await;
    assert_eq!(
        env.client.http().platform_pause(&PlatformId::FACEBOOK),
        Duration::ZERO
    );
    let info = env.client.pages(&s).metadata(&page).await.unwrap();
    assert_eq!(info.id, PAGE_ID);
    assert_eq!(info.name.as_deref(), Some("Cafe Luna"));
    assert_eq!(info.fan_count, Some(1523));
    assert!(env.client.http().platform_pause(&PlatformId::FACEBOOK) > Duration::ZERO);
}

#[tokio::test]
async fn reads_insights_with_numbers_and_breakdowns() {
    let env = env().await;
    let s = env.session(MetaProduct::Facebook, Purpose::Analytics).await;
    let page = env.page(&s).await;
    let since = DateTime::from_timestamp(1_751_328_000, 0).unwrap();
    let until = DateTime::from_timestamp(1_751_500_800, 0).unwrap();
    JsonMock::new(
        "GET",
        graph(&format!("{PAGE_ID}/insights")),
        fixture!("pages/insights"),
    )
    .and(query_param(
        "metric",
        "page_impressions_unique,page_fans_country",
    ))
    .and(query_param("period", "day"))
    .and(query_param("since", "1751328000"))
    .and(query_param("until", "1751500800"))
    .expect(1)
    .mount(&env.server)
    .await;
    let q = InsightsQuery::new(["page_impressions_unique", "page_fans_country"])
        .period(Period::Day)
        .between(since, until);
    let metrics = env.client.pages(&s).insights(&page, &q).await.unwrap();
    assert_eq!(metrics.len(), 2);
    assert_eq!(metrics[0].period, Some(Period::Day));
    assert_eq!(metrics[0].values[1].value.as_i64(), Some(98));
    assert!(metrics[0].values[0].end_time.is_some());
    assert_eq!(metrics[1].period, Some(Period::Lifetime));
    let MetricValue::Map(by_country) = &metrics[1].values[0].value else {
        panic!("a breakdown is a map");
    };
    assert_eq!(by_country["US"], 812);
}

#[tokio::test]
async fn graph_errors_map_to_kinds() {
    let feed = graph(&format!("{PAGE_ID}/feed"));
    for (fixture, want) in [
        ("pages/error_token_expired", ErrorKind::ReconnectRequired),
        (
            "pages/error_page_throttled",
            ErrorKind::Throttled { retry_after: None },
        ),
        ("pages/error_permission", ErrorKind::MissingScopes),
        ("pages/error_invalid_parameter", ErrorKind::InvalidInput),
        ("pages/error_service", ErrorKind::Transient),
    ] {
        let env = env().await;
        let s = env
            .session(MetaProduct::Facebook, Purpose::Publishing)
            .await;
        let page = env.page(&s).await;
        JsonMock::new("POST", feed.clone(), fixture!(fixture))
            .status(400)
            .expect(1)
            .mount(&env.server)
            .await;
        let err = env
            .client
            .pages(&s)
            .publish(&page, &FeedPost::text("x"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), want, "{fixture}");
        let detail = err.platform_error().expect("the Graph details are kept");
        assert!(detail.trace_id.is_some(), "{fixture}");
        env.catch_all.assert_no_unexpected();
    }
}

#[tokio::test]
async fn a_publish_answered_500_is_maybe_sent_and_not_repeated() {
    let feed = graph(&format!("{PAGE_ID}/feed"));
    // A bare 500, then a 500 carrying a transient Graph error: both leave the outcome unknown.
    for answer in [
        JsonMock::empty("POST", feed.clone()),
        JsonMock::new("POST", feed.clone(), fixture!("pages/error_service")),
    ] {
        let env = env().await;
        let s = env
            .session(MetaProduct::Facebook, Purpose::Publishing)
            .await;
        let page = env.page(&s).await;
        answer.status(500).expect(1).mount(&env.server).await;
        let err = env
            .client
            .pages(&s)
            .publish(&page, &FeedPost::text("x"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert_eq!(env.hits("/feed").await, 1, "never repeated");
    }
}

#[tokio::test]
async fn a_publish_that_times_out_is_maybe_sent_and_sent_once() {
    let env = env_with(http(Duration::from_millis(300))).await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let page = env.page(&s).await;
    JsonMock::new(
        "POST",
        graph(&format!("{PAGE_ID}/photos")),
        fixture!("pages/photo_created"),
    )
    .delay(Duration::from_secs(3))
    .expect(1)
    .mount(&env.server)
    .await;
    let photo = PhotoPost::from_url(Url::parse("https://cdn.example.com/cake.jpg").unwrap());
    let err = env
        .client
        .pages(&s)
        .publish_photo(&page, &photo)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert_eq!(env.hits("/photos").await, 1);
}
