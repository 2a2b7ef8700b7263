//! The Pinterest simulator over real loopback HTTP: sign-in in Pinterest's dialect (HTTP Basic,
//! comma scopes, continuous refresh), the bearer and scope checks, boards and their paging edge
//! cases, sections, every pin media kind, the S3-style video upload, analytics and faults.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{TimeDelta, Utc};
use common::{Answer, REDIRECT, http_client, send};
use serde_json::{Value, json};
use socialconnect_core::clock::Clock;
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::conformance::Simulator;
use socialconnect_testkit::pinterest::{PageFault, PinMedia, PinterestSimulator, VideoCover};

const ALL_SCOPES: [&str; 6] = [
    "user_accounts:read",
    "boards:read",
    "boards:write",
    "pins:read",
    "pins:write",
    "boards:read_secret",
];

fn token(sim: &PinterestSimulator) -> String {
    sim.oauth().issue_tokens(ALL_SCOPES).access_token
}

fn api(
    http: &reqwest::Client,
    sim: &PinterestSimulator,
    method: reqwest::Method,
    path_and_query: &str,
    bearer: &str,
) -> reqwest::RequestBuilder {
    http.request(method, format!("{}{path_and_query}", sim.base_url()))
        .bearer_auth(bearer)
}

async fn get(http: &reqwest::Client, sim: &PinterestSimulator, path: &str, t: &str) -> Answer {
    send(api(http, sim, reqwest::Method::GET, path, t)).await
}

async fn post(
    http: &reqwest::Client,
    sim: &PinterestSimulator,
    path: &str,
    t: &str,
    body: Value,
) -> Answer {
    send(api(http, sim, reqwest::Method::POST, path, t).json(&body)).await
}

/// Posts `form` to the token endpoint with HTTP Basic client auth.
async fn token_request(
    http: &reqwest::Client,
    sim: &PinterestSimulator,
    form: &[(&str, &str)],
) -> Answer {
    send(
        http.post(sim.token_url())
            .basic_auth(sim.client_id(), Some(sim.client_secret()))
            .form(form),
    )
    .await
}

fn authorize(sim: &PinterestSimulator, scope: &str) -> String {
    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("client_id", sim.client_id())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "st-1");
    let (code, state) = sim.authorize(&url);
    assert_eq!(state, "st-1");
    code
}

async fn new_board(http: &reqwest::Client, sim: &PinterestSimulator, t: &str) -> String {
    let a = post(http, sim, "v5/boards", t, json!({ "name": "Recipes" })).await;
    assert_eq!(a.status, 201, "{}", a.json);
    a.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_uses_basic_auth_comma_scopes_and_rotates_refresh_tokens() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = PinterestSimulator::builder()
        .clock(clock.clone())
        .start()
        .await;
    let http = http_client();
    let code = authorize(&sim, "boards:read,pins:read");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    // Credentials in the body are refused: Basic only.
    let mut body_auth = form.to_vec();
    body_auth.extend([
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
    ]);
    let refused = send(http.post(sim.token_url()).form(&body_auth)).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.json,
        json!({"code": 2, "message": "Authentication failed."})
    );
    assert!(refused.headers.contains_key("x-pinterest-rid"));
    // The refused attempt did not spend the code; a wrong secret is the same 401.
    let wrong = send(
        http.post(sim.token_url())
            .basic_auth(sim.client_id(), Some("nope"))
            .form(&form),
    )
    .await;
    assert_eq!((wrong.status, wrong.json["code"].clone()), (401, json!(2)));

    let a = token_request(&http, &sim, &form).await;
    assert_eq!(a.status, 200, "{}", a.json);
    let now = clock.now().timestamp();
    assert_eq!(a.json["token_type"], "bearer");
    assert_eq!(a.json["response_type"], "authorization_code");
    assert_eq!(a.json["scope"], "boards:read,pins:read");
    assert_eq!(a.json["expires_in"], json!(30 * 86_400));
    assert_eq!(a.json["refresh_token_expires_in"], json!(60 * 86_400));
    assert_eq!(a.json["refresh_token_expires_at"], json!(now + 60 * 86_400));
    let access = a.json["access_token"].as_str().unwrap().to_owned();
    let refresh = a.json["refresh_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("pina_") && refresh.starts_with("pinr_"));

    // The code is single-use: a dead grant is 400 code 1.
    let again = token_request(&http, &sim, &form).await;
    assert_eq!((again.status, again.json["code"].clone()), (400, json!(1)));

    // Continuous refresh: a new refresh token with a fresh 60 days; the old one is dead.
    clock.advance(TimeDelta::days(10));
    let r = token_request(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["response_type"], "refresh_token");
    let rotated = r.json["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    assert_eq!(
        r.json["refresh_token_expires_at"],
        json!(clock.now().timestamp() + 60 * 86_400)
    );
    assert_eq!(sim.last_refresh_had_continuous_flag(), Some(false));
    let old = token_request(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!((old.status, old.json["code"].clone()), (400, json!(1)));
    assert!(sim.oauth().is_refresh_token_valid(&rotated));

    // The conformance hook makes the next refresh a dead grant in Pinterest's shape.
    sim.reject_next_refresh();
    let dead = token_request(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rotated)],
    )
    .await;
    assert_eq!((dead.status, dead.json["code"].clone()), (400, json!(1)));
    assert_eq!((sim.code_exchanges(), sim.refreshes()), (4, 3));

    // A refresh token unused for 60 days is dead.
    clock.advance(TimeDelta::days(61));
    let expired = token_request(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rotated)],
    )
    .await;
    assert_eq!(expired.status, 400);

    // User tokens cannot be revoked by API.
    let revoke = send(
        http.post(sim.revoke_url())
            .basic_auth(sim.client_id(), Some(sim.client_secret()))
            .form(&[("token", access.as_str())]),
    )
    .await;
    assert_eq!(revoke.status, 403);
    assert_eq!(revoke.json, json!({"code": 29, "message": "Not permitted"}));
    assert_eq!(Simulator::revocations(&sim), 1);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn a_legacy_app_must_send_continuous_refresh() {
    let sim = PinterestSimulator::builder().legacy_app(true).start().await;
    let http = http_client();
    let refresh = sim
        .oauth()
        .issue_tokens(["boards:read"])
        .refresh_token
        .unwrap();
    let without = token_request(
        &http,
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (without.status, without.json["code"].clone()),
        (400, json!(1))
    );
    assert_eq!(sim.last_refresh_had_continuous_flag(), Some(false));
    // Refused without the flag, the refresh token still works with it.
    let with = token_request(
        &http,
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("continuous_refresh", "true"),
        ],
    )
    .await;
    assert_eq!(with.status, 200, "{}", with.json);
    assert_eq!(sim.last_refresh_had_continuous_flag(), Some(true));
}

#[tokio::test]
async fn tokens_and_scopes_are_checked_and_expire_by_the_clock() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = PinterestSimulator::builder()
        .clock(clock.clone())
        .access_token_lifetime(Duration::from_secs(2))
        .null_counts(true)
        .start()
        .await;
    let http = http_client();
    let t = sim
        .oauth()
        .issue_tokens(["user_accounts:read"])
        .access_token;
    let me = get(&http, &sim, "v5/user_account", &t).await;
    assert_eq!(me.status, 200, "{}", me.json);
    assert_eq!(me.json["id"], json!(sim.account_id()));
    assert_eq!(me.json["account_type"], "BUSINESS");
    assert_eq!(me.json["board_count"], Value::Null);
    assert_eq!(me.json["monthly_views"], Value::Null);
    let rid = me.headers["x-pinterest-rid"].to_str().unwrap().to_owned();
    assert!(rid.len() >= 16 && rid.bytes().all(|b| b.is_ascii_hexdigit()));

    let scope = get(&http, &sim, "v5/boards", &t).await;
    assert_eq!(scope.status, 401);
    assert_eq!(
        scope.json,
        json!({"code": 3, "message": "Insufficient scopes"})
    );
    let unknown = get(&http, &sim, "v5/user_account", "pina_nope").await;
    assert_eq!(
        (unknown.status, unknown.json["code"].clone()),
        (401, json!(2))
    );
    clock.advance(TimeDelta::seconds(3));
    let expired = get(&http, &sim, "v5/user_account", &t).await;
    assert_eq!(
        expired.json,
        json!({"code": 2, "message": "Authentication failed."})
    );
}

#[tokio::test]
async fn boards_page_across_three_pages_and_the_edge_cases() {
    let sim = PinterestSimulator::builder()
        .boards(5)
        .board("Hidden", "SECRET")
        .start()
        .await;
    let http = http_client();
    let t = token(&sim);
    let mut names = Vec::new();
    let mut bookmark: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &bookmark {
            Some(b) => format!("v5/boards?page_size=2&bookmark={b}"),
            None => "v5/boards?page_size=2".to_owned(),
        };
        let a = get(&http, &sim, &q, &t).await;
        assert_eq!(a.status, 200, "{}", a.json);
        pages += 1;
        for b in a.json["items"].as_array().unwrap() {
            assert_eq!(b["owner"]["username"], "simpinner");
            names.push(b["name"].as_str().unwrap().to_owned());
        }
        assert!(a.json.as_object().unwrap().contains_key("bookmark"));
        match a.json["bookmark"].as_str() {
            Some(b) => bookmark = Some(b.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 6);
    // Without boards:read_secret the secret board is not listed; privacy filters.
    let plain = sim.oauth().issue_tokens(["boards:read"]).access_token;
    let a = get(&http, &sim, "v5/boards?page_size=250", &plain).await;
    assert_eq!(a.json["items"].as_array().unwrap().len(), 5);
    assert_eq!(a.json["bookmark"], Value::Null);
    let secret = get(&http, &sim, "v5/boards?privacy=SECRET", &t).await;
    assert_eq!(secret.json["items"][0]["name"], "Hidden");
    let big = get(&http, &sim, "v5/boards?page_size=251", &t).await;
    assert_eq!((big.status, big.json["code"].clone()), (400, json!(1)));

    // An empty page that still carries a bookmark, then the real page.
    sim.fail_next_page("/v5/boards", PageFault::EmptyPage);
    let empty = get(&http, &sim, "v5/boards?page_size=2", &t).await;
    assert_eq!(empty.json["items"], json!([]));
    let b = empty.json["bookmark"].as_str().unwrap().to_owned();
    let real = get(
        &http,
        &sim,
        &format!("v5/boards?page_size=2&bookmark={b}"),
        &t,
    )
    .await;
    assert_eq!(real.json["items"][0]["name"], "Board 1");
    // A repeated bookmark: following it serves the same page again.
    let next = real.json["bookmark"].as_str().unwrap().to_owned();
    sim.fail_next_page("/v5/boards", PageFault::RepeatBookmark);
    let p2 = get(
        &http,
        &sim,
        &format!("v5/boards?page_size=2&bookmark={next}"),
        &t,
    )
    .await;
    assert_eq!(p2.json["bookmark"], json!(next));
    let bad = get(&http, &sim, "v5/boards?bookmark=garbage", &t).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn boards_and_sections_are_created_updated_and_deleted() {
    let sim = PinterestSimulator::start().await;
    let http = http_client();
    let t = token(&sim);
    let created = post(
        &http,
        &sim,
        "v5/boards",
        &t,
        json!({ "name": "Recipes", "description": "Food", "privacy": "PROTECTED" }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["privacy"], "PROTECTED");
    assert_eq!(created.json["pin_count"], 0);
    let id = created.json["id"].as_str().unwrap().to_owned();
    let missing = post(&http, &sim, "v5/boards", &t, json!({ "description": "x" })).await;
    assert_eq!(
        (missing.status, missing.json["code"].clone()),
        (400, json!(1))
    );
    let bad = post(
        &http,
        &sim,
        "v5/boards",
        &t,
        json!({ "name": "x", "privacy": "OPEN" }),
    )
    .await;
    assert_eq!(bad.status, 400);

    let patched = send(
        api(
            &http,
            &sim,
            reqwest::Method::PATCH,
            &format!("v5/boards/{id}"),
            &t,
        )
        .json(&json!({ "name": "Dinners", "privacy": "PUBLIC" })),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.json);
    assert_eq!(
        (
            patched.json["name"].clone(),
            patched.json["description"].clone()
        ),
        (json!("Dinners"), json!("Food"))
    );
    assert_eq!(sim.boards()[0].name, "Dinners");

    let s = post(
        &http,
        &sim,
        &format!("v5/boards/{id}/sections"),
        &t,
        json!({ "name": "Soups" }),
    )
    .await;
    assert_eq!(s.status, 201, "{}", s.json);
    let sections = get(&http, &sim, &format!("v5/boards/{id}/sections"), &t).await;
    assert_eq!(
        sections.json["items"],
        json!([{ "id": s.json["id"], "name": "Soups" }])
    );
    assert_eq!(sections.json["bookmark"], Value::Null);

    let gone = send(api(
        &http,
        &sim,
        reqwest::Method::DELETE,
        &format!("v5/boards/{id}"),
        &t,
    ))
    .await;
    assert_eq!(gone.status, 204);
    let again = send(api(
        &http,
        &sim,
        reqwest::Method::DELETE,
        &format!("v5/boards/{id}"),
        &t,
    ))
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(
        again.json,
        json!({"code": 404, "message": "Board not found."})
    );
    assert!(sim.boards().is_empty());
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn pins_of_every_image_kind_are_checked_and_recorded() {
    let sim = PinterestSimulator::start().await;
    let http = http_client();
    let t = token(&sim);
    let board = new_board(&http, &sim, &t).await;
    let png = STANDARD.encode(b"\x89PNG fake image bytes");
    let sources = [
        json!({ "source_type": "image_url", "url": "https://images.example/a.jpg" }),
        json!({ "source_type": "image_base64", "content_type": "image/png", "data": png }),
        json!({ "source_type": "multiple_image_urls", "index": 1, "items": [
            { "url": "https://images.example/1.jpg", "title": "one" },
            { "url": "https://images.example/2.jpg" },
        ]}),
        json!({ "source_type": "multiple_image_base64", "items": [
            { "content_type": "image/jpeg", "data": png },
            { "content_type": "image/png", "data": png },
            { "content_type": "image/png", "data": png },
        ]}),
    ];
    let mut ids = Vec::new();
    for source in sources {
        let a = post(
            &http,
            &sim,
            "v5/pins",
            &t,
            json!({ "board_id": board, "title": "Soup", "alt_text": "a bowl", "media_source": source }),
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.json);
        assert_eq!(a.json["board_owner"]["username"], "simpinner");
        ids.push((
            a.json["id"].as_str().unwrap().to_owned(),
            a.json["media"]["media_type"].clone(),
        ));
    }
    assert_eq!(
        ids.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
        [
            json!("image"),
            json!("image"),
            json!("multiple_images"),
            json!("multiple_images")
        ]
    );
    let pins = sim.pins();
    assert_eq!(
        pins.iter()
            .map(|p| p.media.source_type())
            .collect::<Vec<_>>(),
        [
            "image_url",
            "image_base64",
            "multiple_image_urls",
            "multiple_image_base64"
        ]
    );
    assert_eq!(
        pins[2].media,
        PinMedia::MultipleImageUrls {
            urls: vec![
                "https://images.example/1.jpg".into(),
                "https://images.example/2.jpg".into()
            ],
            index: Some(1),
        }
    );
    // Ids pass 2^53 and come back as strings.
    assert!(ids[0].0.parse::<u64>().unwrap() > 1 << 53);

    let invalid = [
        json!({ "board_id": board, "title": "é".repeat(101), "media_source": { "source_type": "image_url", "url": "https://x.example/a.jpg" } }),
        json!({ "board_id": board, "description": "d".repeat(801), "media_source": { "source_type": "image_url", "url": "https://x.example/a.jpg" } }),
        json!({ "board_id": board, "link": format!("https://x.example/{}", "l".repeat(2048)), "media_source": { "source_type": "image_url", "url": "https://x.example/a.jpg" } }),
        json!({ "board_id": board, "alt_text": "a".repeat(501), "media_source": { "source_type": "image_url", "url": "https://x.example/a.jpg" } }),
        json!({ "board_id": board, "media_source": { "source_type": "image_base64", "content_type": "image/gif", "data": png } }),
        json!({ "board_id": board, "media_source": { "source_type": "image_base64", "content_type": "image/png", "data": "not base64!" } }),
        json!({ "board_id": board, "media_source": { "source_type": "multiple_image_urls", "items": [{ "url": "https://x.example/1.jpg" }] } }),
        json!({ "board_id": board, "media_source": { "source_type": "pin_url", "url": "https://x.example" } }),
        json!({ "media_source": { "source_type": "image_url", "url": "https://x.example/a.jpg" } }),
    ];
    for body in invalid {
        let a = post(&http, &sim, "v5/pins", &t, body.clone()).await;
        assert_eq!(
            (a.status, a.json["code"].clone()),
            (400, json!(1)),
            "{body}"
        );
    }
    assert_eq!(sim.pins().len(), 4);

    let (first, _) = &ids[0];
    let read = get(
        &http,
        &sim,
        &format!("v5/pins/{first}?pin_metrics=true"),
        &t,
    )
    .await;
    assert_eq!(read.status, 200);
    assert!(read.json["pin_metrics"].is_object());
    let on_board = get(
        &http,
        &sim,
        &format!("v5/boards/{board}/pins?page_size=3"),
        &t,
    )
    .await;
    assert_eq!(on_board.json["items"].as_array().unwrap().len(), 3);
    assert!(on_board.json["bookmark"].is_string());
    let del = send(api(
        &http,
        &sim,
        reqwest::Method::DELETE,
        &format!("v5/pins/{first}"),
        &t,
    ))
    .await;
    assert_eq!(del.status, 204);
    let missing = get(&http, &sim, &format!("v5/pins/{first}"), &t).await;
    assert_eq!(
        missing.json,
        json!({"code": 50, "message": "Pin not found."})
    );
}

/// A multipart body of `fields` then a file part.
fn multipart(fields: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "simBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .into_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").into_bytes());
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_video_is_uploaded_by_s3_post_and_processed_before_pinning() {
    let sim = PinterestSimulator::builder()
        .media_processing_polls(2)
        .start()
        .await;
    let http = http_client();
    let t = token(&sim);
    let board = new_board(&http, &sim, &t).await;
    let reg = post(
        &http,
        &sim,
        "v5/media",
        &t,
        json!({ "media_type": "video" }),
    )
    .await;
    assert_eq!(reg.status, 201, "{}", reg.json);
    let id = reg.json["media_id"].as_str().unwrap().to_owned();
    let upload_url = reg.json["upload_url"].as_str().unwrap().to_owned();
    assert_eq!(upload_url, format!("{}upload/media/{id}", sim.base_url()));
    let params: Vec<(String, String)> = reg.json["upload_parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    for name in [
        "key",
        "policy",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-algorithm",
        "x-amz-date",
        "Content-Type",
    ] {
        assert!(params.iter().any(|(k, _)| k == name), "{name}");
    }
    let status = |sim: &PinterestSimulator| sim.media()[0].status.clone();
    assert_eq!(status(&sim), "registered");
    let video = vec![7u8; 4096];
    let pin_body = json!({ "board_id": board, "title": "Clip", "media_source": {
        "source_type": "video_id", "media_id": id, "cover_image_key_frame_time": 1.5 } });
    let early = post(&http, &sim, "v5/pins", &t, pin_body.clone()).await;
    assert_eq!((early.status, early.json["code"].clone()), (400, json!(1)));

    // A changed parameter is refused S3's way; so is a bearer token.
    let mut changed = params.clone();
    changed[0].1.push('x');
    let (ct, body) = multipart(&changed, &video);
    let denied = http
        .post(&upload_url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    assert!(
        denied
            .text()
            .await
            .unwrap()
            .contains("<Code>AccessDenied</Code>")
    );
    let (ct, body) = multipart(&params[1..], &video);
    let missing = http
        .post(&upload_url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    let (ct, body) = multipart(&params, &video);
    let bearer = http
        .post(&upload_url)
        .bearer_auth(&t)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 400);

    let (ct, body) = multipart(&params, &video);
    let ok = http
        .post(&upload_url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(sim.media()[0].uploaded_bytes, Some(4096));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let a = get(&http, &sim, &format!("v5/media/{id}"), &t).await;
        seen.push(a.json["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["processing", "processing", "succeeded"]);

    let pin = post(&http, &sim, "v5/pins", &t, pin_body).await;
    assert_eq!(pin.status, 201, "{}", pin.json);
    assert_eq!(pin.json["media"]["media_type"], "video");
    assert_eq!(pin.json["media"]["duration"], Value::Null);
    let pin_id = pin.json["id"].as_str().unwrap();
    let later = get(&http, &sim, &format!("v5/pins/{pin_id}"), &t).await;
    assert!(later.json["media"]["duration"].is_u64());
    assert_eq!(
        sim.pins()[0].media,
        PinMedia::Video {
            media_id: id.clone(),
            cover: VideoCover::KeyFrameTime(1.5)
        }
    );

    // An empty file fails processing.
    let reg = post(
        &http,
        &sim,
        "v5/media",
        &t,
        json!({ "media_type": "video" }),
    )
    .await;
    let id2 = reg.json["media_id"].as_str().unwrap().to_owned();
    let params: Vec<(String, String)> = reg.json["upload_parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let (ct, body) = multipart(&params, b"");
    let url2 = reg.json["upload_url"].as_str().unwrap();
    assert_eq!(
        http.post(url2)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    for _ in 0..2 {
        get(&http, &sim, &format!("v5/media/{id2}"), &t).await;
    }
    let failed = get(&http, &sim, &format!("v5/media/{id2}"), &t).await;
    assert_eq!(failed.json["status"], "failed");
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn analytics_mix_data_statuses_and_check_dates() {
    let sim = PinterestSimulator::builder()
        .boards(1)
        .pins_per_board(1)
        .analytics_status(3, "BEFORE_DATA_RETENTION_PERIOD")
        .start()
        .await;
    let http = http_client();
    let t = token(&sim);
    let today = Utc::now().date_naive();
    let day = |n: i64| (today - TimeDelta::days(n)).to_string();
    let a = get(
        &http,
        &sim,
        &format!(
            "v5/user_account/analytics?start_date={}&end_date={}",
            day(5),
            day(0)
        ),
        &t,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    let daily = a.json["all"]["daily_metrics"].as_array().unwrap();
    assert_eq!(daily.len(), 6);
    let statuses: Vec<&str> = daily
        .iter()
        .map(|d| d["data_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "READY",
            "READY",
            "BEFORE_DATA_RETENTION_PERIOD",
            "READY",
            "PROCESSING",
            "ESTIMATE"
        ]
    );
    assert!(daily[0]["metrics"]["IMPRESSION"].is_u64());
    let total: u64 = daily
        .iter()
        .map(|d| d["metrics"]["SAVE"].as_u64().unwrap())
        .sum();
    assert_eq!(a.json["all"]["summary_metrics"]["SAVE"], json!(total));

    let split = get(&http, &sim, &format!("v5/user_account/analytics?start_date={}&end_date={}&split_field=APP_TYPE&metric_types=IMPRESSION,SAVE", day(1), day(0)), &t).await;
    let groups: Vec<&String> = split.json.as_object().unwrap().keys().collect();
    assert_eq!(groups, ["MOBILE", "TABLET", "WEB"]);
    assert_eq!(
        split.json["WEB"]["daily_metrics"][0]["metrics"]
            .as_object()
            .unwrap()
            .len(),
        2
    );

    for q in [
        format!("start_date={}&end_date={}", day(91), day(0)),
        format!("start_date={}&end_date={}", day(1), day(2)),
        format!("start_date={}&end_date={}", day(0), day(-1)),
        format!("start_date=2026-13-01&end_date={}", day(0)),
        format!(
            "start_date={}&end_date={}&metric_types=NOPE",
            day(1),
            day(0)
        ),
        format!(
            "start_date={}&end_date={}&split_field=COUNTRY",
            day(1),
            day(0)
        ),
    ] {
        let bad = get(&http, &sim, &format!("v5/user_account/analytics?{q}"), &t).await;
        assert_eq!(
            (bad.status, bad.json["code"].clone()),
            (400, json!(1)),
            "{q}"
        );
    }

    // A pin seeded ten days ago: earlier days are BEFORE_PIN_CREATED; metric_types required.
    let pin = sim.pins()[0].id.clone();
    let path = format!(
        "v5/pins/{pin}/analytics?start_date={}&end_date={}",
        day(12),
        day(0)
    );
    let no_metrics = get(&http, &sim, &path, &t).await;
    assert_eq!(
        (no_metrics.status, no_metrics.json["code"].clone()),
        (400, json!(1))
    );
    let p = get(
        &http,
        &sim,
        &format!("{path}&metric_types=IMPRESSION,OUTBOUND_CLICK"),
        &t,
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.json);
    let daily = p.json["all"]["daily_metrics"].as_array().unwrap();
    assert_eq!(daily[0]["data_status"], "BEFORE_PIN_CREATED");
    assert_eq!(daily[0]["metrics"], json!({}));
    assert_eq!(daily[12]["data_status"], "ESTIMATE");
    assert!(p.json["all"]["lifetime_metrics"]["IMPRESSION"].is_u64());
}

#[tokio::test]
async fn faults_answer_pinterests_rate_limits_spam_blocks_and_gateway_errors() {
    let sim = PinterestSimulator::builder().boards(1).start().await;
    let http = http_client();
    let t = token(&sim);
    sim.fail_next_rate_limit("/v5/boards", Some(Duration::from_secs(7)));
    let limited = get(&http, &sim, "v5/boards", &t).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.json,
        json!({"code": 8, "message": "Rate limit exceeded."})
    );
    assert_eq!(limited.headers["retry-after"], "7");
    sim.fail_next_spam_block("/v5/pins");
    let spam = post(&http, &sim, "v5/pins", &t, json!({})).await;
    assert_eq!(spam.status, 429);
    assert_eq!(
        spam.json["message_detail"],
        "Your request was blocked by our spam filter"
    );
    sim.fail_next_bad_gateway("");
    let gateway = send(api(
        &http,
        &sim,
        reqwest::Method::GET,
        "v5/user_account",
        &t,
    ))
    .await;
    assert_eq!((gateway.status, gateway.json.clone()), (502, Value::Null));
    assert!(
        gateway.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Faults are used once.
    assert_eq!(get(&http, &sim, "v5/boards", &t).await.status, 200);
    assert_eq!(sim.requests_to("/v5/boards"), 2);
    assert!(sim.pins().is_empty());

    // Unknown routes hit the catch-all.
    let stray = get(&http, &sim, "v5/ad_accounts", &t).await;
    assert_eq!(stray.status, 599);
    let unexpected = sim.take_unexpected_requests();
    assert_eq!(unexpected.len(), 1);
    assert_eq!(unexpected[0].to_string(), "GET /v5/ad_accounts");
}

#[tokio::test]
async fn authorization_denial_redirects_with_access_denied() {
    let sim = PinterestSimulator::start().await;
    sim.deny_next_authorization();
    let mut url = sim.authorize_url();
    assert_eq!(url.path(), "/oauth/");
    url.query_pairs_mut()
        .append_pair("client_id", sim.client_id())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "boards:read")
        .append_pair("state", "s");
    assert_eq!(sim.try_authorize(&url).unwrap_err().error, "access_denied");
    assert_eq!(
        sim.oauth().last_authorize_request().unwrap().scopes,
        ["boards:read"]
    );
}
