//! The TikTok simulator over real loopback HTTP: Login Kit, the Display API, Content Posting
//! with a chunked upload, error injection and webhook signatures. The conformance suite runs
//! against it from `socialconnect-tiktok`, with the real platform crate.

mod common;

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use common::{Answer, REDIRECT, http_client, send};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::tiktok::{SIGNATURE_HEADER, TikTokSimulator, WebhookEvent};
use url::Url;

const ALL_SCOPES: &str =
    "user.info.basic,user.info.profile,user.info.stats,video.list,video.publish,video.upload";

/// TikTok's authorize URL for `scopes` (comma-separated) and `state`.
fn authorize_url(sim: &TikTokSimulator, scopes: &str, state: &str) -> Url {
    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("client_key", sim.client_key())
        .append_pair("response_type", "code")
        .append_pair("scope", scopes)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", state);
    url
}

/// Posts `form` to the token endpoint with the credentials in the body, as TikTok wants.
async fn token(http: &reqwest::Client, sim: &TikTokSimulator, form: &[(&str, &str)]) -> Answer {
    let mut body = vec![
        ("client_key", sim.client_key()),
        ("client_secret", sim.client_secret()),
    ];
    body.extend_from_slice(form);
    send(http.post(sim.token_url()).form(&body)).await
}

/// Authorizes `scopes` and exchanges the code: the token answer.
async fn connect(http: &reqwest::Client, sim: &TikTokSimulator, scopes: &str) -> Answer {
    let (code, state) = sim.authorize(&authorize_url(sim, scopes, "st-1"));
    assert_eq!(state, "st-1");
    token(
        http,
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

fn access_token(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{}", answer.json);
    answer.json["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// An access token granted every scope, without the browser step.
fn full_token(sim: &TikTokSimulator) -> String {
    sim.oauth().issue_tokens(ALL_SCOPES.split(',')).access_token
}

/// `path` on the simulator with `?fields=…`.
fn api_url(sim: &TikTokSimulator, path: &str, fields: &str) -> Url {
    let mut url = sim.base_url().join(path).expect("a path");
    url.query_pairs_mut().append_pair("fields", fields);
    url
}

async fn post(
    http: &reqwest::Client,
    sim: &TikTokSimulator,
    path: &str,
    bearer: &str,
    body: Value,
) -> Answer {
    let url = sim.base_url().join(path).expect("a path");
    send(http.post(url).bearer_auth(bearer).json(&body)).await
}

/// The TikTok error code of an answer (`ok` on success).
fn code(answer: &Answer) -> &str {
    answer.json["error"]["code"].as_str().unwrap_or("<none>")
}

// ---- Login Kit -----------------------------------------------------------------------------

#[tokio::test]
async fn login_kit_takes_client_key_and_comma_scopes_and_answers_tiktoks_token_fields() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();

    // Over HTTP, the authorize page redirects with a code and the state.
    let answer = send(http.get(authorize_url(&sim, "user.info.basic,video.list", "s-9"))).await;
    assert_eq!(answer.status, 302);
    let location = answer.headers["location"].to_str().expect("ascii");
    assert!(location.starts_with(REDIRECT) && location.contains("state=s-9"));

    let answer = connect(&http, &sim, "user.info.basic,video.list").await;
    let body = &answer.json;
    assert_eq!(answer.status, 200, "{body}");
    assert_eq!(body["open_id"], json!(sim.open_id()));
    assert_eq!(body["scope"], json!("user.info.basic,video.list"));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["expires_in"], json!(7200));
    assert_eq!(body["refresh_expires_in"], json!(180 * 86_400));
    assert!(body["refresh_token"].is_string());

    // TikTok takes no HTTP Basic: credentials there are refused, flat, with a log id.
    let basic = send(
        http.post(sim.token_url())
            .basic_auth(sim.client_key(), Some(sim.client_secret()))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")]),
    )
    .await;
    assert_eq!(
        basic.json["error"],
        json!("invalid_client"),
        "{}",
        basic.json
    );
    assert!(basic.json["log_id"].is_string());
    assert!(basic.json["error_description"].is_string());
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn refresh_tokens_rotate_and_the_old_one_answers_invalid_grant() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let first = connect(&http, &sim, "user.info.basic").await;
    let old = first.json["refresh_token"]
        .as_str()
        .expect("a refresh token");

    let refreshed = token(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", old)],
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    let new = refreshed.json["refresh_token"].as_str().expect("rotated");
    assert_ne!(new, old);
    assert_eq!(refreshed.json["open_id"], json!(sim.open_id()));

    let reused = token(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", old)],
    )
    .await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.json["error"], json!("invalid_grant"));
    assert!(reused.json["log_id"].is_string(), "{}", reused.json);
    assert!(sim.oauth().is_refresh_token_valid(new));
    assert_eq!(sim.oauth().refresh_requests(), 2);
}

#[tokio::test]
async fn a_partial_grant_leaves_out_the_withheld_scope_and_its_calls_are_refused() {
    let sim = TikTokSimulator::builder()
        .withhold_scopes(["video.list"])
        .start()
        .await;
    let http = http_client();
    let answer = connect(&http, &sim, "user.info.basic,video.list").await;
    assert_eq!(answer.json["scope"], json!("user.info.basic"));
    let access = access_token(&answer);

    let list = send(
        http.post(api_url(&sim, "/v2/video/list/", "id"))
            .bearer_auth(&access)
            .json(&json!({})),
    )
    .await;
    assert_eq!((list.status, code(&list)), (401, "scope_not_authorized"));
    let me = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id"))
            .bearer_auth(&access),
    )
    .await;
    assert_eq!((me.status, code(&me)), (200, "ok"));
}

#[tokio::test]
async fn revoke_answers_an_empty_object_and_ends_the_whole_grant() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let answer = connect(&http, &sim, "user.info.basic").await;
    let access = access_token(&answer);
    let refresh = answer.json["refresh_token"]
        .as_str()
        .expect("a refresh token");

    let revoked = send(http.post(sim.revoke_url()).form(&[
        ("client_key", sim.client_key()),
        ("client_secret", sim.client_secret()),
        ("token", access.as_str()),
    ]))
    .await;
    assert_eq!((revoked.status, &revoked.json), (200, &json!({})));

    let me = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id"))
            .bearer_auth(&access),
    )
    .await;
    assert_eq!((me.status, code(&me)), (401, "access_token_invalid"));
    let again = token(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(again.json["error"], json!("invalid_grant"));
    assert_eq!(sim.oauth().revocations(), 1);
}

// ---- Display API ---------------------------------------------------------------------------

#[tokio::test]
async fn user_info_returns_only_the_requested_fields_and_checks_token_and_scope() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = TikTokSimulator::builder()
        .clock(clock.clone())
        .start()
        .await;
    let http = http_client();
    let basic = sim.oauth().issue_tokens(["user.info.basic"]).access_token;

    let me = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id,display_name"))
            .bearer_auth(&basic),
    )
    .await;
    assert_eq!((me.status, code(&me)), (200, "ok"));
    assert!(me.json["error"]["log_id"].is_string());
    let user = me.json["data"]["user"].as_object().expect("a user");
    assert_eq!(user.len(), 2, "{user:?}");
    assert_eq!(user["open_id"], json!(sim.open_id()));

    let stats = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id,follower_count"))
            .bearer_auth(&basic),
    )
    .await;
    assert_eq!((stats.status, code(&stats)), (401, "scope_not_authorized"));
    let unknown = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id,nickname"))
            .bearer_auth(&basic),
    )
    .await;
    assert_eq!((unknown.status, code(&unknown)), (400, "invalid_params"));
    let wrong = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id"))
            .bearer_auth("not-a-token"),
    )
    .await;
    assert_eq!((wrong.status, code(&wrong)), (401, "access_token_invalid"));

    // Two hours later the token has expired.
    clock.advance(TimeDelta::hours(2));
    let expired = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id"))
            .bearer_auth(&basic),
    )
    .await;
    assert_eq!(
        (expired.status, code(&expired)),
        (401, "access_token_invalid")
    );
}

#[tokio::test]
async fn the_video_list_pages_newest_first_by_a_millisecond_cursor() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let access = full_token(&sim);
    let list = |body: Value| {
        let http = http.clone();
        let url = api_url(&sim, "/v2/video/list/", "id,create_time,view_count");
        let access = access.clone();
        async move { send(http.post(url).bearer_auth(access).json(&body)).await }
    };

    let first = list(json!({ "max_count": 20 })).await;
    assert_eq!((first.status, code(&first)), (200, "ok"), "{}", first.json);
    let data = &first.json["data"];
    let videos = data["videos"].as_array().expect("videos");
    assert_eq!(videos.len(), 20);
    assert_eq!(data["has_more"], json!(true));
    let times: Vec<i64> = videos
        .iter()
        .map(|v| v["create_time"].as_i64().expect("seconds"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first");
    let cursor = data["cursor"].as_i64().expect("an int64 cursor");
    assert_eq!(cursor, times[19] * 1000, "the cursor is in milliseconds");
    // Only the fields asked for; ids are strings past f64's exact range.
    assert_eq!(videos[0].as_object().expect("object").len(), 3);
    assert!(videos[0]["title"].is_null());
    let id: u64 = videos[0]["id"]
        .as_str()
        .expect("a string id")
        .parse()
        .expect("digits");
    assert!(id > 1 << 53);
    assert!(videos[0]["view_count"].as_u64().expect("int64") > u64::from(u32::MAX));

    // The second page carries on where the first ended, and is the last.
    let second = list(json!({ "cursor": cursor, "max_count": 20 })).await;
    let data = &second.json["data"];
    let rest = data["videos"].as_array().expect("videos");
    assert_eq!(rest.len(), 5);
    assert_eq!(data["has_more"], json!(false));
    assert!(rest[0]["create_time"].as_i64().expect("seconds") < times[19]);
    let mut all: Vec<&Value> = videos.iter().chain(rest).map(|v| &v["id"]).collect();
    all.dedup();
    assert_eq!(all.len(), 25);
    assert_eq!(sim.video_ids().len(), 25);

    // The default page is 10; more than 20 is refused.
    let default = list(json!({})).await;
    assert_eq!(
        default.json["data"]["videos"].as_array().map(Vec::len),
        Some(10)
    );
    let over = list(json!({ "max_count": 21 })).await;
    assert_eq!((over.status, code(&over)), (400, "invalid_params"));
}

#[tokio::test]
async fn short_pages_keep_has_more_true_until_the_end() {
    let sim = TikTokSimulator::builder()
        .videos(12)
        .video_page_cap(5)
        .start()
        .await;
    let http = http_client();
    let access = full_token(&sim);
    let mut cursor: Option<i64> = None;
    let mut pages = Vec::new();
    loop {
        let mut body = json!({ "max_count": 20 });
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        let page = send(
            http.post(api_url(&sim, "/v2/video/list/", "id"))
                .bearer_auth(&access)
                .json(&body),
        )
        .await;
        let data = &page.json["data"];
        pages.push(data["videos"].as_array().map_or(0, Vec::len));
        cursor = data["cursor"].as_i64();
        if data["has_more"] != json!(true) {
            break;
        }
    }
    assert_eq!(
        pages,
        [5, 5, 2],
        "fewer than max_count while has_more is true"
    );
}

#[tokio::test]
async fn the_video_query_returns_own_videos_only_and_takes_at_most_20_ids() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let access = full_token(&sim);
    let ids = sim.video_ids();
    let url = api_url(&sim, "/v2/video/query/", "id,title,cover_image_url");

    let body = json!({ "filters": { "video_ids": [ids[3], "7000000000000000000", ids[0]] } });
    let found = send(http.post(url.clone()).bearer_auth(&access).json(&body)).await;
    assert_eq!((found.status, code(&found)), (200, "ok"), "{}", found.json);
    let videos = found.json["data"]["videos"].as_array().expect("videos");
    let got: Vec<&str> = videos.iter().filter_map(|v| v["id"].as_str()).collect();
    assert_eq!(got, [ids[3].as_str(), ids[0].as_str()]);
    assert!(videos[0]["cover_image_url"].is_string());

    let too_many = json!({ "filters": { "video_ids": ids[..21] } });
    let refused = send(http.post(url).bearer_auth(&access).json(&too_many)).await;
    assert_eq!((refused.status, code(&refused)), (400, "invalid_params"));
}

// ---- Content Posting -----------------------------------------------------------------------

#[tokio::test]
async fn creator_info_offers_the_account_privacy_levels_and_init_enforces_them() {
    let sim = TikTokSimulator::builder()
        .private_account(true)
        .start()
        .await;
    let http = http_client();
    let access = full_token(&sim);
    let info = post(
        &http,
        &sim,
        "/v2/post/publish/creator_info/query/",
        &access,
        json!({}),
    )
    .await;
    assert_eq!(code(&info), "ok");
    assert_eq!(
        info.json["data"]["privacy_level_options"],
        json!(["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    );
    assert!(info.json["data"]["max_video_post_duration_sec"].is_u64());

    let init = |privacy: &str| {
        json!({
            "post_info": { "title": "hi", "privacy_level": privacy },
            "source_info": { "source": "PULL_FROM_URL", "video_url": "https://cdn.example/v.mp4" },
        })
    };
    let path = "/v2/post/publish/video/init/";
    let mismatch = post(&http, &sim, path, &access, init("PUBLIC_TO_EVERYONE")).await;
    assert_eq!(code(&mismatch), "privacy_level_option_mismatch");
    let ok = post(&http, &sim, path, &access, init("SELF_ONLY")).await;
    assert_eq!(code(&ok), "ok", "{}", ok.json);
    assert!(ok.json["data"]["publish_id"].is_string());
    assert!(
        ok.json["data"]["upload_url"].is_null(),
        "a pulled URL has no upload"
    );
}

#[tokio::test]
async fn an_unaudited_client_may_post_self_only() {
    let sim = TikTokSimulator::builder()
        .unaudited_client(true)
        .start()
        .await;
    let http = http_client();
    let access = full_token(&sim);
    let body = json!({
        "post_info": { "privacy_level": "PUBLIC_TO_EVERYONE" },
        "source_info": { "source": "PULL_FROM_URL", "video_url": "https://cdn.example/v.mp4" },
    });
    let refused = post(&http, &sim, "/v2/post/publish/video/init/", &access, body).await;
    assert_eq!(
        code(&refused),
        "unaudited_client_can_only_post_to_private_accounts"
    );
}

/// Bytes of a recognisable pattern, so a chunk sent twice or out of place changes the digest.
fn video_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn put_chunk(
    http: &reqwest::Client,
    upload_url: &str,
    bytes: &[u8],
    first: usize,
    last: usize,
) -> Answer {
    send(
        http.put(upload_url)
            .header("content-type", "video/mp4")
            .header(
                "content-range",
                format!("bytes {first}-{last}/{}", bytes.len()),
            )
            .body(bytes[first..=last].to_vec()),
    )
    .await
}

/// Starts a direct FILE_UPLOAD post of `size` bytes in `chunk`-byte chunks: the publish id
/// and the upload URL.
async fn init_upload(
    http: &reqwest::Client,
    sim: &TikTokSimulator,
    access: &str,
    size: usize,
    chunk: usize,
) -> (String, String) {
    let body = json!({
        "post_info": { "title": "chunked", "privacy_level": "SELF_ONLY" },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": size / chunk,
        },
    });
    let init = post(http, sim, "/v2/post/publish/video/init/", access, body).await;
    assert_eq!(code(&init), "ok", "{}", init.json);
    let data = &init.json["data"];
    (
        data["publish_id"]
            .as_str()
            .expect("a publish id")
            .to_owned(),
        data["upload_url"]
            .as_str()
            .expect("an upload URL")
            .to_owned(),
    )
}

/// 16 MB in three chunks of 5 MiB, the last absorbing the remainder. (Twelve megabytes cannot
/// make three chunks: TikTok's smallest chunk is 5 MB and the count is floor(size / chunk).)
const SIZE: usize = 16_000_000;
const CHUNK: usize = 5 * 1024 * 1024;

#[tokio::test]
async fn a_16_mb_upload_in_3_chunks_assembles_to_its_sha256_and_publishes() {
    let sim = TikTokSimulator::builder().processing_polls(1).start().await;
    let http = http_client();
    let access = full_token(&sim);
    let bytes = video_bytes(SIZE);
    let (publish_id, upload_url) = init_upload(&http, &sim, &access, SIZE, CHUNK).await;
    assert!(upload_url.starts_with(sim.base_url().as_str()));
    assert!(upload_url.contains("upload_token="));

    let status = || {
        let (http, access) = (http.clone(), access.clone());
        let url = sim
            .base_url()
            .join("/v2/post/publish/status/fetch/")
            .expect("path");
        let body = json!({ "publish_id": publish_id });
        async move { send(http.post(url).bearer_auth(access).json(&body)).await }
    };

    let ranges = [
        (0, CHUNK - 1),
        (CHUNK, 2 * CHUNK - 1),
        (2 * CHUNK, SIZE - 1),
    ];
    for (i, (first, last)) in ranges.into_iter().enumerate() {
        let answer = put_chunk(&http, &upload_url, &bytes, first, last).await;
        let expected = if i == 2 { 201 } else { 206 };
        assert_eq!(answer.status, expected, "chunk {i}: {}", answer.json);
        if i == 0 {
            let s = status().await;
            assert_eq!(s.json["data"]["status"], json!("PROCESSING_UPLOAD"));
            assert_eq!(s.json["data"]["uploaded_bytes"], json!(CHUNK));
        }
    }
    assert_eq!(sim.chunks_received(&publish_id), 3);
    assert_eq!(sim.uploaded_bytes(&publish_id), SIZE as u64);
    assert_eq!(
        sim.upload_sha256(&publish_id),
        Some(hex::encode(Sha256::digest(&bytes)))
    );

    // One processing poll, then complete with the post id as a number.
    let processing = status().await;
    assert_eq!(
        processing.json["data"]["status"],
        json!("PROCESSING_UPLOAD")
    );
    let done = status().await;
    assert_eq!((done.status, code(&done)), (200, "ok"));
    assert_eq!(done.json["data"]["status"], json!("PUBLISH_COMPLETE"));
    let post_id = done.json["data"]["publicaly_available_post_id"][0]
        .as_u64()
        .expect("a numeric post id");
    assert_eq!(
        sim.video_ids()[0],
        post_id.to_string(),
        "the new video leads the list"
    );
    assert_eq!(sim.last_publish_id().as_deref(), Some(publish_id.as_str()));
}

#[tokio::test]
async fn chunks_out_of_order_or_off_the_plan_are_refused() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let access = full_token(&sim);
    let bytes = video_bytes(SIZE);
    let (publish_id, upload_url) = init_upload(&http, &sim, &access, SIZE, CHUNK).await;

    // The second chunk first.
    let early = put_chunk(&http, &upload_url, &bytes, CHUNK, 2 * CHUNK - 1).await;
    assert_eq!((early.status, code(&early)), (400, "invalid_file_upload"));
    // The first chunk cut short of the plan.
    let short = put_chunk(&http, &upload_url, &bytes, 0, CHUNK - 2).await;
    assert_eq!((short.status, code(&short)), (400, "invalid_file_upload"));
    assert_eq!(sim.chunks_received(&publish_id), 0);

    let ok = put_chunk(&http, &upload_url, &bytes, 0, CHUNK - 1).await;
    assert_eq!(ok.status, 206);
    // The same chunk again is out of order too.
    let again = put_chunk(&http, &upload_url, &bytes, 0, CHUNK - 1).await;
    assert_eq!((again.status, code(&again)), (400, "invalid_file_upload"));
    // A wrong upload token is refused.
    let forged = upload_url.replace("upload_token=", "upload_token=x");
    let wrong = put_chunk(&http, &forged, &bytes, CHUNK, 2 * CHUNK - 1).await;
    assert_eq!(wrong.status, 403);
    assert_eq!(sim.chunks_received(&publish_id), 1);
    assert_eq!(sim.uploaded_bytes(&publish_id), CHUNK as u64);
    assert_eq!(sim.upload_sha256(&publish_id), None, "incomplete");
}

#[tokio::test]
async fn a_failed_chunk_is_sent_again_and_the_upload_still_assembles() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let access = full_token(&sim);
    let bytes = video_bytes(SIZE);
    let (publish_id, upload_url) = init_upload(&http, &sim, &access, SIZE, CHUNK).await;
    sim.fail_upload_chunk(1, 503);

    assert_eq!(
        put_chunk(&http, &upload_url, &bytes, 0, CHUNK - 1)
            .await
            .status,
        206
    );
    let failed = put_chunk(&http, &upload_url, &bytes, CHUNK, 2 * CHUNK - 1).await;
    assert_eq!(failed.status, 503);
    assert_eq!(
        sim.chunks_received(&publish_id),
        1,
        "the failed chunk was not kept"
    );
    // The retry (or a resume from the last acknowledged chunk) goes through.
    assert_eq!(
        put_chunk(&http, &upload_url, &bytes, CHUNK, 2 * CHUNK - 1)
            .await
            .status,
        206
    );
    assert_eq!(
        put_chunk(&http, &upload_url, &bytes, 2 * CHUNK, SIZE - 1)
            .await
            .status,
        201
    );
    assert_eq!(
        sim.upload_sha256(&publish_id),
        Some(hex::encode(Sha256::digest(&bytes)))
    );
    assert_eq!(sim.requests_to("/upload/"), 4);
}

#[tokio::test]
async fn chunk_plans_outside_tiktoks_rules_are_invalid_params() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let access = full_token(&sim);
    let init = |size: u64, chunk: u64, count: u64| {
        json!({
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": count,
            },
        })
    };
    let path = "/v2/post/publish/inbox/video/init/";
    for (size, chunk, count) in [
        (16_000_000, 5_242_880, 4),    // not floor(size / chunk)
        (12_000_000, 4_000_000, 3),    // chunks under 5 MB
        (4_000_000, 2_000_000, 2),     // a small file is one chunk
        (100_000_000, 100_000_000, 1), // over 64 MB in one chunk
    ] {
        let answer = post(&http, &sim, path, &access, init(size, chunk, count)).await;
        assert_eq!(
            (answer.status, code(&answer)),
            (400, "invalid_params"),
            "{size}/{chunk}/{count}"
        );
    }
    let small = post(&http, &sim, path, &access, init(1_000, 1_000, 1)).await;
    assert_eq!(code(&small), "ok");
}

#[tokio::test]
async fn inbox_posts_end_in_the_inbox_and_a_failed_post_is_200_ok_with_its_reason() {
    let sim = TikTokSimulator::builder().processing_polls(0).start().await;
    let http = http_client();
    let access = full_token(&sim);
    let pulled = json!({
        "source_info": { "source": "PULL_FROM_URL", "video_url": "https://cdn.example/v.mp4" },
    });
    let status = |id: String| {
        let (http, access) = (http.clone(), access.clone());
        let url = sim
            .base_url()
            .join("/v2/post/publish/status/fetch/")
            .expect("path");
        async move {
            send(
                http.post(url)
                    .bearer_auth(access)
                    .json(&json!({ "publish_id": id })),
            )
            .await
        }
    };
    let path = "/v2/post/publish/inbox/video/init/";

    let inbox = post(&http, &sim, path, &access, pulled.clone()).await;
    let id = inbox.json["data"]["publish_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let s = status(id).await;
    assert_eq!(s.json["data"]["status"], json!("SEND_TO_USER_INBOX"));

    sim.fail_next_publish("file_format_check_failed");
    let failing = post(&http, &sim, path, &access, pulled).await;
    let id = failing.json["data"]["publish_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let s = status(id).await;
    assert_eq!((s.status, code(&s)), (200, "ok"));
    assert_eq!(s.json["data"]["status"], json!("FAILED"));
    assert_eq!(
        s.json["data"]["fail_reason"],
        json!("file_format_check_failed")
    );
}

#[tokio::test]
async fn the_post_id_is_withheld_while_moderation_runs() {
    let sim = TikTokSimulator::builder()
        .processing_polls(0)
        .moderation_polls(1)
        .start()
        .await;
    let http = http_client();
    let access = full_token(&sim);
    let body = json!({
        "post_info": { "privacy_level": "PUBLIC_TO_EVERYONE" },
        "source_info": { "source": "PULL_FROM_URL", "video_url": "https://cdn.example/v.mp4" },
    });
    let init = post(&http, &sim, "/v2/post/publish/video/init/", &access, body).await;
    let id = init.json["data"]["publish_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let fetch = json!({ "publish_id": id });
    let path = "/v2/post/publish/status/fetch/";
    let first = post(&http, &sim, path, &access, fetch.clone()).await;
    assert_eq!(first.json["data"]["status"], json!("PUBLISH_COMPLETE"));
    assert_eq!(first.json["data"]["publicaly_available_post_id"], json!([]));
    let second = post(&http, &sim, path, &access, fetch).await;
    assert!(second.json["data"]["publicaly_available_post_id"][0].is_u64());
}

#[tokio::test]
async fn photo_posts_take_up_to_35_images_and_a_90_unit_title() {
    let sim = TikTokSimulator::builder().processing_polls(0).start().await;
    let http = http_client();
    let access = full_token(&sim);
    let photo = |images: usize, title: &str| {
        let urls: Vec<String> = (0..images)
            .map(|i| format!("https://cdn.example/p{i}.jpg"))
            .collect();
        json!({
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": { "title": title, "privacy_level": "SELF_ONLY" },
            "source_info": { "source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": 0 },
        })
    };
    let path = "/v2/post/publish/content/init/";
    let too_many = post(&http, &sim, path, &access, photo(36, "hi")).await;
    assert_eq!(code(&too_many), "invalid_params");
    // 45 emoji are 90 UTF-16 units; 46 are 92.
    let long = post(&http, &sim, path, &access, photo(2, &"😀".repeat(46))).await;
    assert_eq!(code(&long), "invalid_params");
    let ok = post(&http, &sim, path, &access, photo(35, &"😀".repeat(45))).await;
    assert_eq!(code(&ok), "ok", "{}", ok.json);
    let id = ok.json["data"]["publish_id"].as_str().expect("an id");
    let fetch = json!({ "publish_id": id });
    let done = post(
        &http,
        &sim,
        "/v2/post/publish/status/fetch/",
        &access,
        fetch,
    )
    .await;
    assert_eq!(done.json["data"]["status"], json!("PUBLISH_COMPLETE"));
    assert_eq!(sim.video_ids().len(), 25, "a photo post is not a video");
}

// ---- error injection -----------------------------------------------------------------------

#[tokio::test]
async fn injected_errors_answer_tiktok_codes_at_their_statuses_once() {
    let sim = TikTokSimulator::start().await;
    let http = http_client();
    let access = full_token(&sim);
    let init_path = "/v2/post/publish/video/init/";
    let body = json!({
        "post_info": { "privacy_level": "SELF_ONLY" },
        "source_info": { "source": "PULL_FROM_URL", "video_url": "https://cdn.example/v.mp4" },
    });
    sim.fail_next(init_path, "spam_risk_too_many_posts");
    sim.fail_next("/v2/video/list/", "rate_limit_exceeded");
    sim.fail_next("/v2/user/info/", "internal_error");

    let spam = post(&http, &sim, init_path, &access, body.clone()).await;
    assert_eq!(
        (spam.status, code(&spam)),
        (403, "spam_risk_too_many_posts")
    );
    assert!(spam.json["error"]["log_id"].is_string());
    let limited = post(&http, &sim, "/v2/video/list/?fields=id", &access, json!({})).await;
    assert_eq!(
        (limited.status, code(&limited)),
        (429, "rate_limit_exceeded")
    );
    let down = send(
        http.get(api_url(&sim, "/v2/user/info/", "open_id"))
            .bearer_auth(&access),
    )
    .await;
    assert_eq!((down.status, code(&down)), (500, "internal_error"));

    // Each fault is used once.
    let again = post(&http, &sim, init_path, &access, body).await;
    assert_eq!(code(&again), "ok");
    assert_eq!(sim.requests_to(init_path), 2);
    assert_eq!(
        sim.last_body_to(init_path).expect("recorded")["post_info"]["privacy_level"],
        json!("SELF_ONLY")
    );
}

// ---- webhooks ------------------------------------------------------------------------------

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn webhook_deliveries_are_signed_over_t_dot_body_with_the_client_secret() {
    let sim = TikTokSimulator::start().await;
    let delivery = sim.webhook(&WebhookEvent::authorization_removed(2));
    assert_eq!(SIGNATURE_HEADER, "TikTok-Signature");

    let body: Value = serde_json::from_slice(&delivery.body).expect("JSON");
    assert_eq!(body["client_key"], json!(sim.client_key()));
    assert_eq!(body["event"], json!("authorization.removed"));
    assert_eq!(body["user_openid"], json!(sim.open_id()));
    let content: Value =
        serde_json::from_str(body["content"].as_str().expect("content is a JSON string"))
            .expect("parsed a second time");
    assert_eq!(content, json!({ "reason": 2 }));
    let now = Utc::now().timestamp();
    assert!((delivery.timestamp - now).abs() < 60);
    assert_eq!(body["create_time"], json!(delivery.timestamp));

    // Recompute: s = hex(HMAC-SHA256(client_secret, t + "." + body)).
    let (t, s) = delivery.signature.split_once(',').expect("t=…,s=…");
    let t = t.strip_prefix("t=").expect("t=");
    let s = s.strip_prefix("s=").expect("s=");
    assert_eq!(t, delivery.timestamp.to_string());
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(&delivery.body);
    assert_eq!(s, hmac_hex(sim.client_secret(), &message));
    assert_ne!(s, hmac_hex("another-secret", &message));

    // A chosen timestamp, for stale-delivery tests.
    let stale = sim.webhook_at(&WebhookEvent::video_publish_completed("v.1"), now - 3600);
    assert!(stale.signature.starts_with(&format!("t={},", now - 3600)));
    let body: Value = serde_json::from_slice(&stale.body).expect("JSON");
    assert_eq!(body["event"], json!("video.publish.completed"));
}
