//! The Display API against wiremock: user info by field, the video list page after page,
//! video queries split by 20, errors inside 200s, and scope checks made before any request.

mod common;

use serde_json::json;
use socialconnect_core::connect::paging::{End, PageBudget};
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, ErrorKind};
use socialconnect_testkit::{JsonMock, fixture};
use socialconnect_tiktok::display::{UserField, VideoField};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use common::{USER_TOKEN, env};

const READ: &str = "user.info.basic,user.info.stats,video.list";

#[tokio::test]
async fn user_info_asks_for_the_fields_it_wants_and_reads_loose_counts() {
    let env = env().await;
    let session = env.session(Purpose::Analytics, READ).await;
    JsonMock::new("GET", "/v2/user/info/", fixture!("display/user_info"))
        .and(query_param(
            "fields",
            "open_id,display_name,follower_count,following_count",
        ))
        .and(header(
            "authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    let user = env
        .client
        .display(&session)
        .user_info(&[
            UserField::OpenId,
            UserField::DisplayName,
            UserField::FollowerCount,
            UserField::FollowingCount,
        ])
        .await
        .unwrap();
    assert_eq!(
        user.open_id.as_deref(),
        Some("723f24d7-e717-40f8-a2b6-cb8464cd23b4")
    );
    assert_eq!(user.display_name.as_deref(), Some("Tik Toker"));
    assert_eq!(user.follower_count, Some(1024));
    assert_eq!(user.following_count, Some(37), "a count sent as a string");
    assert_eq!(user.bio_description, None, "not asked for, not sent");
}

#[tokio::test]
async fn a_field_whose_scope_was_not_granted_is_refused_before_any_request() {
    let env = env().await;
    // The user granted only the basic profile (a partial grant).
    let session = env.session(Purpose::Analytics, "user.info.basic").await;
    let err = env
        .client
        .display(&session)
        .user_info(&[UserField::DisplayName, UserField::FollowerCount])
        .await
        .unwrap_err();
    match &err {
        Error::MissingScopes { missing, .. } => {
            assert_eq!(missing.len(), 1);
            assert_eq!(missing[0].as_str(), "user.info.stats");
        }
        other => panic!("{other:?}"),
    }
    let err = env
        .client
        .display(&session)
        .videos_page(&VideoField::SUMMARY, None, 20)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingScopes);
    assert_eq!(env.server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn the_video_list_pages_by_its_millisecond_cursor_to_the_end() {
    let env = env().await;
    let session = env.session(Purpose::ReadingContent, READ).await;
    JsonMock::new("POST", "/v2/video/list/", fixture!("display/videos_page1"))
        .and(body_json(json!({ "max_count": 20 })))
        .and(query_param("fields", "id,create_time,title,view_count"))
        .expect(1)
        .mount(&env.server)
        .await;
    // A page that holds nothing but says there is more is not the end.
    JsonMock::new(
        "POST",
        "/v2/video/list/",
        fixture!("display/videos_empty_more"),
    )
    .and(body_json(
        json!({ "max_count": 20, "cursor": 1_700_456_221_000_i64 }),
    ))
    .expect(1)
    .mount(&env.server)
    .await;
    JsonMock::new("POST", "/v2/video/list/", fixture!("display/videos_page2"))
        .and(body_json(
            json!({ "max_count": 20, "cursor": 1_700_400_000_000_i64 }),
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    let fields = [
        VideoField::CreateTime,
        VideoField::Title,
        VideoField::ViewCount,
    ];
    let all = env
        .client
        .display(&session)
        .videos(&fields, PageBudget::default())
        .await
        .unwrap();
    assert!(all.is_complete());
    let ids: Vec<&str> = all.items.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "7302118297411831086",
            "7302118297411831085",
            "7302118297411831084"
        ],
        "ids as strings or numbers, newest first"
    );
    assert_eq!(all.items[2].create_time.unwrap().timestamp(), 1_700_369_821);
    let cover = &all.items[0];
    let expires = cover.cover_expires_at().unwrap();
    assert!(expires > chrono::Utc::now() + chrono::TimeDelta::hours(5));
    assert!(all.items[1].cover_expires_at().is_none());
}

#[tokio::test]
async fn a_repeating_cursor_is_an_error_and_a_budget_hands_back_the_cursor() {
    let env = env().await;
    let session = env.session(Purpose::ReadingContent, READ).await;
    // TikTok answering the second page with the first page's cursor again.
    JsonMock::new("POST", "/v2/video/list/", fixture!("display/videos_page1"))
        .mount(&env.server)
        .await;
    let err = env
        .client
        .display(&session)
        .videos(&[], PageBudget::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);

    let partial = env
        .client
        .display(&session)
        .videos(&[], PageBudget::pages(1))
        .await
        .unwrap();
    assert!(!partial.is_complete());
    assert_eq!(partial.items.len(), 2);
    let End::BudgetReached { resume: next } = &partial.end else {
        panic!("{:?}", partial.end);
    };
    assert_eq!(next.as_token(), Some("1700456221000"));
}

#[tokio::test]
async fn a_query_of_25_ids_is_two_requests_of_20_and_5() {
    let env = env().await;
    let session = env.session(Purpose::ReadingContent, READ).await;
    let ids: Vec<String> = (0..25)
        .map(|i| format!("73021182974118310{i:02}"))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    JsonMock::new("POST", "/v2/video/query/", fixture!("display/query"))
        .and(body_json(
            json!({ "filters": { "video_ids": &refs[..20] } }),
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("POST", "/v2/video/query/", fixture!("display/query"))
        .and(body_json(
            json!({ "filters": { "video_ids": &refs[20..] } }),
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    let videos = env
        .client
        .display(&session)
        .query_videos(&refs, &[VideoField::CoverImageUrl])
        .await
        .unwrap();
    assert_eq!(videos.len(), 2);
    assert!(videos[0].cover_expires_at().is_some());
}

#[tokio::test]
async fn an_invalid_token_inside_a_200_is_reconnect_required() {
    let env = env().await;
    let session = env.session(Purpose::ReadingContent, READ).await;
    JsonMock::new(
        "GET",
        "/v2/user/info/",
        fixture!("display/error_token_invalid"),
    )
    .mount(&env.server)
    .await;
    let err = env
        .client
        .display(&session)
        .user_info(&UserField::BASIC)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    let detail = err.platform_error().unwrap();
    assert_eq!(detail.error_type.as_deref(), Some("access_token_invalid"));
    assert_eq!(detail.trace_id.as_deref(), Some("20231121085521FAKE0001"));
    assert!(!err.to_string().contains(USER_TOKEN));
}

#[tokio::test]
async fn a_rate_limit_is_throttled_and_an_html_page_is_not_a_panic() {
    let env = env().await;
    let session = env.session(Purpose::ReadingContent, READ).await;
    JsonMock::new(
        "POST",
        "/v2/video/list/",
        fixture!("display/error_rate_limit"),
    )
    .status(429)
    .mount(&env.server)
    .await;
    let err = env
        .client
        .display(&session)
        .videos_page(&[], None, 10)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Throttled { .. }), "{err:?}");

    env.server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><body>maintenance</body></html>",
            "text/html",
        ))
        .mount(&env.server)
        .await;
    let err = env
        .client
        .display(&session)
        .user_info(&UserField::BASIC)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform, "{err:?}");
}

#[tokio::test]
async fn listing_needs_a_reading_or_analytics_session() {
    let env = env().await;
    let session = env.session(Purpose::Publishing, READ).await;
    let err = env
        .client
        .display(&session)
        .videos_page(&[], None, 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
}
