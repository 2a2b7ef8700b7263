//! The Graph simulator over real loopback HTTP.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{Answer, http_client, send};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use socialconnect_testkit::meta::{
    ContainerFault, GraphFault, GraphSimulator, GraphSimulatorBuilder,
};
use socialconnect_testkit::{ManualClock, UNEXPECTED_STATUS};
use url::Url;

const REDIRECT: &str = "https://app.example/callback";

fn proof(secret: &str, token: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn get(
    http: &reqwest::Client,
    sim: &GraphSimulator,
    path: &str,
    token: &str,
    query: &[(&str, &str)],
) -> Answer {
    send(
        http.get(sim.graph_url(path))
            .bearer_auth(token)
            .query(query),
    )
    .await
}

async fn post_form(
    http: &reqwest::Client,
    sim: &GraphSimulator,
    path: &str,
    token: &str,
    form: &[(&str, &str)],
) -> Answer {
    send(http.post(sim.graph_url(path)).bearer_auth(token).form(form)).await
}

async fn post_json(
    http: &reqwest::Client,
    sim: &GraphSimulator,
    path: &str,
    token: &str,
    body: Value,
) -> Answer {
    send(
        http.post(sim.graph_url(path))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

#[track_caller]
fn assert_ok(a: &Answer) {
    assert_eq!(a.status, 200, "expected success, got {}", a.json);
}

#[track_caller]
fn assert_graph_error(a: &Answer, code: i64, subcode: Option<i64>) {
    assert_eq!(
        a.status, 400,
        "expected a Graph error, got {} {}",
        a.status, a.json
    );
    let e = &a.json["error"];
    assert_eq!(e["code"], code, "{}", a.json);
    assert_eq!(e["error_subcode"].as_i64(), subcode, "{}", a.json);
    assert!(
        e["message"].is_string() && e["type"].is_string(),
        "{}",
        a.json
    );
    assert!(e["fbtrace_id"].is_string(), "{}", a.json);
}

fn login_url(sim: &GraphSimulator, state: &str) -> Url {
    let mut url = sim.dialog_url();
    url.query_pairs_mut()
        .append_pair("client_id", sim.app_id())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", state)
        .append_pair("scope", "pages_show_list,pages_manage_posts");
    url
}

async fn exchange_code(http: &reqwest::Client, sim: &GraphSimulator, code: &str) -> Answer {
    send(http.post(sim.graph_url("oauth/access_token")).form(&[
        ("client_id", sim.app_id()),
        ("client_secret", sim.app_secret()),
        ("redirect_uri", REDIRECT),
        ("code", code),
    ]))
    .await
}

async fn exchange_long(http: &reqwest::Client, sim: &GraphSimulator, token: &str) -> Answer {
    send(http.post(sim.graph_url("oauth/access_token")).form(&[
        ("grant_type", "fb_exchange_token"),
        ("client_id", sim.app_id()),
        ("client_secret", sim.app_secret()),
        ("fb_exchange_token", token),
    ]))
    .await
}

fn token_of(a: &Answer) -> String {
    assert_ok(a);
    a.json["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn manual_sim(clock: &Arc<ManualClock>) -> GraphSimulatorBuilder {
    GraphSimulator::builder().clock(clock.clone())
}

// ---- Facebook Login -------------------------------------------------------------------------

#[tokio::test]
async fn login_code_exchange_long_lived_debug_token_and_me() {
    let sim = GraphSimulator::builder()
        .redirect_uri(REDIRECT)
        .start()
        .await;
    let http = http_client();

    // The dialog over HTTP.
    let answer = send(http.get(login_url(&sim, "st-1"))).await;
    assert_eq!(answer.status, 302);
    let location = Url::parse(answer.headers["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let q: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert!(q.contains(&("state".into(), "st-1".into())));
    let code = q
        .iter()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .clone();

    let short = exchange_code(&http, &sim, &code).await;
    assert_eq!(short.json["token_type"], "bearer");
    assert_eq!(short.json["expires_in"], 3600);
    let short = token_of(&short);
    assert!(short.starts_with("EAA"));
    assert!(
        answer.headers.get("x-app-usage").is_none(),
        "the dialog is no Graph call"
    );

    // A code is single-use.
    let again = exchange_code(&http, &sim, &code).await;
    assert_graph_error(&again, 100, Some(36009));

    let long = exchange_long(&http, &sim, &short).await;
    assert_eq!(long.json["expires_in"], 5_183_944);
    let long = token_of(&long);

    let debug = send(
        http.get(sim.graph_url("debug_token"))
            .bearer_auth(sim.app_token())
            .query(&[("input_token", long.as_str())]),
    )
    .await;
    assert_ok(&debug);
    let d = &debug.json["data"];
    assert_eq!(d["app_id"], sim.app_id());
    assert_eq!(d["type"], "USER");
    assert_eq!(d["is_valid"], true);
    assert_eq!(d["user_id"], sim.user_id());
    assert_eq!(
        d["scopes"],
        json!(["pages_show_list", "pages_manage_posts"])
    );
    assert!(d["expires_at"].as_i64().unwrap() > 0);
    assert!(d["data_access_expires_at"].as_i64().unwrap() > 0);
    assert!(d["application"].is_string());

    let me = get(&http, &sim, "me", &long, &[("fields", "id,name")]).await;
    assert_ok(&me);
    assert_eq!(
        me.json,
        json!({ "id": sim.user_id(), "name": sim.user_name() })
    );
    let usage: Value = serde_json::from_str(me.headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(
        usage,
        json!({ "call_count": 1, "total_time": 1, "total_cputime": 1 })
    );

    assert_eq!(sim.authorize_requests(), 1);
    assert_eq!(sim.code_exchanges(), 2);
    assert_eq!(sim.long_lived_exchanges(), 1);
    assert_eq!(sim.debug_token_requests(), 1);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn dialog_refusals_denial_and_code_rules() {
    let clock = Arc::new(ManualClock::default());
    let sim = manual_sim(&clock).redirect_uri(REDIRECT).start().await;
    let http = http_client();

    let mut unregistered = sim.dialog_url();
    unregistered
        .query_pairs_mut()
        .append_pair("client_id", sim.app_id())
        .append_pair("redirect_uri", "https://evil.example/cb")
        .append_pair("state", "s");
    let refused = sim.try_authorize(&unregistered).unwrap_err();
    assert_eq!(refused.error, "invalid_request");
    assert!(refused.description.starts_with("(191)"));
    assert_graph_error(&send(http.get(unregistered)).await, 191, None);

    let wrong =
        sim.try_authorize(&Url::parse("https://www.facebook.com/v26.0/dialog/oauth").unwrap());
    assert_eq!(wrong.unwrap_err().error, "wrong_endpoint");

    sim.deny_next_authorization();
    let denied = sim.try_authorize(&login_url(&sim, "s")).unwrap_err();
    assert_eq!(denied.error, "access_denied");

    // Redirect mismatch spends the code.
    let (code, _) = sim.authorize(&login_url(&sim, "s"));
    let mismatch = send(http.post(sim.graph_url("oauth/access_token")).form(&[
        ("client_id", sim.app_id()),
        ("client_secret", sim.app_secret()),
        ("redirect_uri", "https://app.example/other"),
        ("code", code.as_str()),
    ]))
    .await;
    assert_graph_error(&mismatch, 100, Some(36008));
    assert_graph_error(&exchange_code(&http, &sim, &code).await, 100, Some(36009));

    // Expired code (ten minutes), bad secret, and the GET form of the exchange.
    let (code, _) = sim.authorize(&login_url(&sim, "s"));
    clock.advance(TimeDelta::minutes(11));
    assert_graph_error(&exchange_code(&http, &sim, &code).await, 100, Some(36007));
    let (code, _) = sim.authorize(&login_url(&sim, "s"));
    let bad_secret = send(http.get(sim.graph_url("oauth/access_token")).query(&[
        ("client_id", sim.app_id()),
        ("client_secret", "nope"),
        ("redirect_uri", REDIRECT),
        ("code", code.as_str()),
    ]))
    .await;
    assert_graph_error(&bad_secret, 1, None);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn tokens_expire_on_the_simulator_clock() {
    let clock = Arc::new(ManualClock::default());
    let sim = manual_sim(&clock).start().await;
    let http = http_client();
    let short = sim.issue_short_lived_token();
    assert_ok(&get(&http, &sim, "me", &short, &[]).await);

    clock.advance(TimeDelta::hours(2));
    let expired = get(&http, &sim, "me", &short, &[]).await;
    assert_graph_error(&expired, 190, Some(463));
    assert!(
        expired.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // An expired token cannot be exchanged for a long-lived one.
    assert_graph_error(&exchange_long(&http, &sim, &short).await, 190, Some(463));
    assert!(!sim.is_valid(&short));

    let debug = send(http.get(sim.graph_url("debug_token")).query(&[
        ("input_token", short.as_str()),
        ("access_token", &sim.app_token()),
    ]))
    .await;
    assert_eq!(debug.json["data"]["is_valid"], false);
    assert_eq!(debug.json["data"]["error"]["code"], 190);

    let unknown = get(&http, &sim, "me", "EAA-forged", &[]).await;
    assert_graph_error(&unknown, 190, None);
    let missing = send(http.get(sim.graph_url("me"))).await;
    assert_graph_error(&missing, 104, None);

    let long = sim.issue_long_lived_token();
    sim.invalidate_token(&long);
    assert_graph_error(&get(&http, &sim, "me", &long, &[]).await, 190, Some(460));
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn concurrent_exchanges_are_counted_exactly_and_delayed() {
    let sim = Arc::new(
        GraphSimulator::builder()
            .token_latency(Duration::from_millis(200))
            .start()
            .await,
    );
    let http = http_client();
    let short = sim.issue_short_lived_token();
    let started = Instant::now();
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let (sim, http, short) = (sim.clone(), http.clone(), short.clone());
            tokio::spawn(async move { token_of(&exchange_long(&http, &sim, &short).await) })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for call in calls {
        tokens.insert(call.await.expect("an exchange"));
    }
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(tokens.len(), 100);
    assert_eq!(sim.long_lived_exchanges(), 100);
    assert_eq!(sim.code_exchanges(), 0);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn accounts_page_tokens_and_revocation() {
    let sim = GraphSimulator::start().await;
    let http = http_client();
    let user = sim.issue_long_lived_token();

    let accounts = get(&http, &sim, "me/accounts", &user, &[]).await;
    assert_ok(&accounts);
    let page = &accounts.json["data"][0];
    assert_eq!(page["id"], "112233445566778899");
    assert_eq!(page["name"], sim.page_name());
    assert_eq!(
        page["tasks"],
        json!([
            "ANALYZE",
            "ADVERTISE",
            "MODERATE",
            "CREATE_CONTENT",
            "MANAGE"
        ])
    );
    assert_eq!(page["category_list"][0]["name"], page["category"]);
    assert_eq!(
        page["instagram_business_account"]["id"],
        "17841400000000001234"
    );
    assert!(accounts.json["paging"]["cursors"]["after"].is_string());
    assert!(accounts.json["paging"].get("next").is_none());
    let page_token = page["access_token"].as_str().unwrap().to_owned();

    // A Page token from a long-lived user token never expires.
    let debug = send(
        http.get(sim.graph_url("debug_token"))
            .bearer_auth(sim.app_token())
            .query(&[("input_token", page_token.as_str())]),
    )
    .await;
    assert_eq!(debug.json["data"]["type"], "PAGE");
    assert_eq!(debug.json["data"]["expires_at"], 0);
    assert_eq!(debug.json["data"]["profile_id"], sim.page_id());

    // fields= narrows; a user token may read the Page's own token.
    let meta = get(
        &http,
        &sim,
        sim.page_id(),
        &user,
        &[("fields", "name,fan_count,access_token")],
    )
    .await;
    assert_ok(&meta);
    assert_eq!(meta.json["access_token"], page_token.as_str());
    assert!(meta.json.get("category").is_none());

    let revoke = send(
        http.delete(sim.graph_url("me/permissions"))
            .bearer_auth(&user),
    )
    .await;
    assert_ok(&revoke);
    assert_eq!(revoke.json, json!({ "success": true }));
    assert_graph_error(&get(&http, &sim, "me", &user, &[]).await, 190, Some(458));
    let feed = post_form(
        &http,
        &sim,
        &format!("{}/feed", sim.page_id()),
        &page_token,
        &[("message", "x")],
    )
    .await;
    assert_graph_error(&feed, 190, Some(458));
    assert!(sim.is_valid(&sim.whatsapp_token()));
    assert_eq!(sim.revocations(), 1);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn appsecret_proof_is_checked_and_can_be_required() {
    let sim = GraphSimulator::start().await;
    let http = http_client();
    let token = sim.issue_long_lived_token();
    let good = proof(sim.app_secret(), &token);
    assert_ok(
        &get(
            &http,
            &sim,
            "me",
            &token,
            &[("appsecret_proof", good.as_str())],
        )
        .await,
    );
    let wrong = get(&http, &sim, "me", &token, &[("appsecret_proof", "00ff")]).await;
    assert_graph_error(&wrong, 100, None);
    assert_eq!(
        wrong.json["error"]["message"],
        "Invalid appsecret_proof provided in the API argument"
    );

    sim.require_appsecret_proof(true);
    assert_graph_error(&get(&http, &sim, "me", &token, &[]).await, 100, None);
    assert_ok(
        &get(
            &http,
            &sim,
            "me",
            &token,
            &[("appsecret_proof", good.as_str())],
        )
        .await,
    );
    // The app token carries the secret itself.
    let debug = get(
        &http,
        &sim,
        "debug_token",
        &sim.app_token(),
        &[("input_token", token.as_str())],
    )
    .await;
    assert_ok(&debug);
    sim.assert_no_unexpected();
}

// ---- Pages ----------------------------------------------------------------------------------

#[tokio::test]
async fn page_posts_photos_comments_paging_and_insights() {
    let sim = GraphSimulator::builder().seed_posts(12).start().await;
    let http = http_client();
    let page_token = sim.issue_page_token();
    let user = sim.issue_long_lived_token();
    let page = sim.page_id().to_owned();

    // A user token cannot publish on the Page.
    let denied = post_form(
        &http,
        &sim,
        &format!("{page}/feed"),
        &user,
        &[("message", "hi")],
    )
    .await;
    assert_graph_error(&denied, 210, None);

    let post = post_json(
        &http,
        &sim,
        &format!("{page}/feed"),
        &page_token,
        json!({ "message": "Fresh bread", "link": "https://bakery.example/" }),
    )
    .await;
    assert_ok(&post);
    let post_id = post.json["id"].as_str().unwrap().to_owned();
    assert!(post_id.starts_with(&format!("{page}_")));
    assert!(post_id.split('_').nth(1).unwrap().parse::<u64>().unwrap() > 1 << 53);

    let photo = post_form(
        &http,
        &sim,
        &format!("{page}/photos"),
        &page_token,
        &[("url", "https://cdn.example/a.jpg"), ("caption", "A loaf")],
    )
    .await;
    assert_ok(&photo);
    assert!(photo.json["id"].is_string());
    assert!(
        photo.json["post_id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{page}_"))
    );

    let scheduled = post_form(
        &http,
        &sim,
        &format!("{page}/feed"),
        &page_token,
        &[
            ("message", "later"),
            ("published", "false"),
            ("scheduled_publish_time", "1"),
        ],
    )
    .await;
    assert_graph_error(&scheduled, 100, None);
    assert_graph_error(
        &post_form(&http, &sim, &format!("{page}/feed"), &page_token, &[]).await,
        100,
        None,
    );

    // 12 seeded + 2 new posts, newest first, in pages of 5: the last page has no `next`.
    let mut seen = Vec::new();
    let mut url = sim.graph_url(&format!("{page}/posts"));
    url.query_pairs_mut().append_pair("limit", "5");
    loop {
        let answer = send(http.get(url.clone()).bearer_auth(&page_token)).await;
        assert_ok(&answer);
        for item in answer.json["data"].as_array().unwrap() {
            assert!(item["created_time"].as_str().unwrap().ends_with("+0000"));
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match answer.json["paging"]["next"].as_str() {
            Some(next) => url = Url::parse(next).unwrap(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 14);
    assert_eq!(seen[1], post_id);
    assert_eq!(
        sim.last_request_to("/posts")
            .unwrap()
            .param("limit")
            .as_deref(),
        Some("5")
    );

    let comment = post_form(
        &http,
        &sim,
        &format!("{post_id}/comments"),
        &page_token,
        &[("message", "Thanks!")],
    )
    .await;
    assert_ok(&comment);
    let comment_id = comment.json["id"].as_str().unwrap();
    assert!(comment_id.starts_with(post_id.split('_').nth(1).unwrap()));
    let comments = get(
        &http,
        &sim,
        &format!("{post_id}/comments"),
        &page_token,
        &[("summary", "true")],
    )
    .await;
    assert_eq!(comments.json["data"][0]["message"], "Thanks!");
    assert_eq!(comments.json["data"][0]["from"]["id"], page.as_str());
    assert_eq!(comments.json["summary"]["total_count"], 1);

    let insights = get(
        &http,
        &sim,
        &format!("{page}/insights"),
        &page_token,
        &[
            ("metric", "page_impressions,page_post_engagements"),
            ("period", "day"),
        ],
    )
    .await;
    assert_ok(&insights);
    let first = &insights.json["data"][0];
    assert_eq!(first["name"], "page_impressions");
    assert_eq!(first["period"], "day");
    assert_eq!(first["id"], format!("{page}/insights/page_impressions/day"));
    assert_eq!(first["values"].as_array().unwrap().len(), 2);
    assert!(first["values"][0]["value"].is_u64());
    assert!(
        first["values"][1]["end_time"]
            .as_str()
            .unwrap()
            .ends_with("T07:00:00+0000")
    );
    assert_graph_error(
        &get(&http, &sim, &format!("{page}/insights"), &page_token, &[]).await,
        3001,
        Some(1_504_028),
    );

    assert_graph_error(
        &get(&http, &sim, "999", &page_token, &[]).await,
        100,
        Some(33),
    );
    assert_eq!(sim.posts(), 5);
    assert_eq!(sim.comments_created(), 1);
    sim.assert_no_unexpected();
}

// ---- Instagram ------------------------------------------------------------------------------

#[tokio::test]
async fn instagram_container_status_publish_and_limit() {
    let sim = GraphSimulator::start().await;
    let http = http_client();
    let user = sim.issue_long_lived_token();
    let ig = sim.instagram_user_id().to_owned();

    let container = post_form(
        &http,
        &sim,
        &format!("{ig}/media"),
        &user,
        &[
            ("image_url", "https://cdn.example/a.jpg"),
            ("caption", "Croissants"),
        ],
    )
    .await;
    assert_ok(&container);
    let container_id = container.json["id"].as_str().unwrap().to_owned();

    let publish = |creation: String| {
        let (http, sim, user, ig) = (http.clone(), &sim, user.clone(), ig.clone());
        async move {
            post_form(
                &http,
                sim,
                &format!("{ig}/media_publish"),
                &user,
                &[("creation_id", creation.as_str())],
            )
            .await
        }
    };
    // Not FINISHED yet: publishing fails with "Media ID is not available".
    assert_graph_error(&publish(container_id.clone()).await, 9007, Some(2_207_027));

    let poll = get(
        &http,
        &sim,
        &container_id,
        &user,
        &[("fields", "status_code,status")],
    )
    .await;
    assert_eq!(poll.json["status_code"], "IN_PROGRESS");
    let poll = get(
        &http,
        &sim,
        &container_id,
        &user,
        &[("fields", "status_code,status")],
    )
    .await;
    assert_eq!(poll.json["status_code"], "FINISHED");
    assert!(
        poll.json["status"]
            .as_str()
            .unwrap()
            .starts_with("Finished")
    );

    let published = publish(container_id.clone()).await;
    assert_ok(&published);
    let media_id = published.json["id"].as_str().unwrap().to_owned();
    let poll = get(
        &http,
        &sim,
        &container_id,
        &user,
        &[("fields", "status_code")],
    )
    .await;
    assert_eq!(poll.json["status_code"], "PUBLISHED");

    let limit = get(
        &http,
        &sim,
        &format!("{ig}/content_publishing_limit"),
        &user,
        &[("fields", "quota_usage,config")],
    )
    .await;
    assert_eq!(
        limit.json,
        json!({ "data": [{ "quota_usage": 1, "config": { "quota_total": 50, "quota_duration": 86400 } }] })
    );

    let list = get(
        &http,
        &sim,
        &format!("{ig}/media"),
        &user,
        &[("fields", "id,caption,media_type")],
    )
    .await;
    assert_eq!(
        list.json["data"],
        json!([{ "id": media_id, "caption": "Croissants", "media_type": "IMAGE" }])
    );

    let insights = get(
        &http,
        &sim,
        &format!("{media_id}/insights"),
        &user,
        &[("metric", "reach,saved")],
    )
    .await;
    assert_eq!(insights.json["data"][1]["name"], "saved");
    assert_eq!(insights.json["data"][1]["period"], "lifetime");
    assert!(insights.json["data"][1]["values"][0]["value"].is_u64());
    let account = get(
        &http,
        &sim,
        &format!("{ig}/insights"),
        &user,
        &[("metric", "reach"), ("period", "day")],
    )
    .await;
    assert_eq!(
        account.json["data"][0]["id"],
        format!("{ig}/insights/reach/day")
    );

    let comment = post_form(
        &http,
        &sim,
        &format!("{media_id}/comments"),
        &user,
        &[("message", "Yum")],
    )
    .await;
    assert_ok(&comment);
    let comments = get(&http, &sim, &format!("{media_id}/comments"), &user, &[]).await;
    assert_eq!(comments.json["data"][0]["text"], "Yum");

    assert_eq!(sim.containers_created(), 1);
    assert_eq!(sim.status_polls(), 3);
    assert_eq!(sim.published_media(), 2);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn instagram_reels_carousels_faults_expiry_and_quota() {
    let clock = Arc::new(ManualClock::default());
    let sim = manual_sim(&clock)
        .container_polls_in_progress(0)
        .publishing_quota(1)
        .start()
        .await;
    let http = http_client();
    let token = sim.issue_page_token();
    let ig = sim.instagram_user_id().to_owned();
    let media = format!("{ig}/media");
    let create = |form: Vec<(&'static str, String)>| {
        let (http, sim, token, media) = (http.clone(), &sim, token.clone(), media.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&http, sim, &media, &token, &form).await
        }
    };
    let s = |v: &str| v.to_owned();

    assert_graph_error(&create(vec![("media_type", s("REELS"))]).await, 100, None);
    assert_graph_error(
        &create(vec![
            ("media_type", s("VIDEO")),
            ("video_url", s("https://cdn.example/v.mp4")),
        ])
        .await,
        100,
        None,
    );
    assert_ok(
        &create(vec![
            ("media_type", s("REELS")),
            ("video_url", s("https://cdn.example/v.mp4")),
        ])
        .await,
    );
    assert_ok(
        &create(vec![
            ("media_type", s("STORIES")),
            ("image_url", s("https://cdn.example/s.jpg")),
        ])
        .await,
    );

    let a = create(vec![
        ("is_carousel_item", s("true")),
        ("image_url", s("https://cdn.example/1.jpg")),
    ])
    .await;
    let b = create(vec![
        ("is_carousel_item", s("true")),
        ("image_url", s("https://cdn.example/2.jpg")),
    ])
    .await;
    let children = format!(
        "{},{}",
        a.json["id"].as_str().unwrap(),
        b.json["id"].as_str().unwrap()
    );
    let carousel = create(vec![("media_type", s("CAROUSEL")), ("children", children)]).await;
    assert_ok(&carousel);
    let bad_children = create(vec![("media_type", s("CAROUSEL")), ("children", s("1,2"))]).await;
    assert_graph_error(&bad_children, 100, None);

    // Forced ERROR and EXPIRED containers, and the 24-hour expiry by the clock.
    sim.fail_next_container(ContainerFault::Error(
        "Error: Media download has failed.".into(),
    ));
    let failed = create(vec![("image_url", s("https://cdn.example/x.jpg"))]).await;
    let status = get(
        &http,
        &sim,
        failed.json["id"].as_str().unwrap(),
        &token,
        &[("fields", "status_code,status")],
    )
    .await;
    assert_eq!(status.json["status_code"], "ERROR");
    assert_eq!(status.json["status"], "Error: Media download has failed.");
    sim.fail_next_container(ContainerFault::Expired);
    let expired = create(vec![("image_url", s("https://cdn.example/y.jpg"))]).await;
    let status = get(
        &http,
        &sim,
        expired.json["id"].as_str().unwrap(),
        &token,
        &[],
    )
    .await;
    assert_eq!(status.json["status_code"], "EXPIRED");
    let publish_path = format!("{ig}/media_publish");
    let publish = |id: String| {
        let (http, sim, token, path) = (&http, &sim, &token, &publish_path);
        async move { post_form(http, sim, path, token, &[("creation_id", id.as_str())]).await }
    };
    assert_graph_error(
        &publish(failed.json["id"].as_str().unwrap().to_owned()).await,
        9007,
        Some(2_207_027),
    );

    let carousel_id = carousel.json["id"].as_str().unwrap().to_owned();
    assert_ok(&publish(carousel_id).await);
    // The quota of one is spent for 24 hours.
    let stories = create(vec![
        ("media_type", s("STORIES")),
        ("video_url", s("https://cdn.example/s.mp4")),
    ])
    .await;
    let over = publish(stories.json["id"].as_str().unwrap().to_owned()).await;
    assert_graph_error(&over, 9, Some(2_207_042));
    clock.advance(TimeDelta::hours(25));
    let late = publish(stories.json["id"].as_str().unwrap().to_owned()).await;
    assert_graph_error(&late, 9007, Some(2_207_027));
    let list = get(&http, &sim, &media, &token, &[]).await;
    assert_eq!(list.json["data"][0]["media_type"], "CAROUSEL_ALBUM");
    sim.assert_no_unexpected();
}

// ---- WhatsApp -------------------------------------------------------------------------------

#[tokio::test]
async fn whatsapp_send_template_mark_read_and_upload() {
    let sim = GraphSimulator::start().await;
    let http = http_client();
    let wa = sim.whatsapp_token();
    let messages = format!("{}/messages", sim.phone_number_id());

    let text = post_json(&http, &sim, &messages, &wa, json!({
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "+1 (650) 555-1234", "type": "text", "text": { "preview_url": false, "body": "Hello" }
    })).await;
    assert_ok(&text);
    assert_eq!(text.json["messaging_product"], "whatsapp");
    assert_eq!(
        text.json["contacts"][0],
        json!({ "input": "+1 (650) 555-1234", "wa_id": "16505551234" })
    );
    let wamid = text.json["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(wamid.starts_with("wamid.HBgL") && wamid.len() <= 128);

    let template = post_json(&http, &sim, &messages, &wa, json!({
        "messaging_product": "whatsapp", "to": "16505551234", "type": "template",
        "template": { "name": "order_ready", "language": { "code": "en_US" },
                      "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "42" }] }] }
    })).await;
    assert_ok(&template);
    let no_body = post_json(
        &http,
        &sim,
        &messages,
        &wa,
        json!({ "messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {} }),
    )
    .await;
    assert_graph_error(&no_body, 100, None);
    assert_eq!(
        no_body.json["error"]["error_data"]["messaging_product"],
        "whatsapp"
    );

    let read = post_json(
        &http,
        &sim,
        &messages,
        &wa,
        json!({ "messaging_product": "whatsapp", "status": "read", "message_id": wamid }),
    )
    .await;
    assert_eq!(read.json, json!({ "success": true }));

    let page_token = sim.issue_page_token();
    let wrong = post_json(
        &http,
        &sim,
        &messages,
        &page_token,
        json!({ "messaging_product": "whatsapp", "to": "16505551234", "text": { "body": "x" } }),
    )
    .await;
    assert_graph_error(&wrong, 200, None);

    let body = "--BOUNDARY\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n\
                --BOUNDARY\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimage/jpeg\r\n\
                --BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\
                Content-Type: image/jpeg\r\n\r\nJPEG-BYTES\r\n--BOUNDARY--\r\n";
    let upload = send(
        http.post(sim.graph_url(&format!("{}/media", sim.phone_number_id())))
            .bearer_auth(&wa)
            .header("content-type", "multipart/form-data; boundary=BOUNDARY")
            .body(body),
    )
    .await;
    assert_ok(&upload);
    assert!(
        upload.json["id"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit())
    );

    assert_eq!(sim.messages_sent(), 4);
    assert_eq!(sim.read_receipts(), 1);
    assert_eq!(sim.media_uploads(), 1);
    let last = sim.last_request_to("/messages").unwrap();
    assert_eq!(last.bearer.as_deref(), Some(page_token.as_str()));
    assert_eq!(last.json.unwrap()["to"], "16505551234");
    sim.assert_no_unexpected();
}

// ---- faults, usage headers, unexpected routes -------------------------------------------------

#[tokio::test]
async fn injected_faults_answer_once_and_change_nothing() {
    let sim = GraphSimulator::start().await;
    let http = http_client();
    let page_token = sim.issue_page_token();
    let feed = format!("{}/feed", sim.page_id());

    sim.fail_next(
        "/feed",
        GraphFault::Error {
            code: 368,
            subcode: Some(1_390_008),
            is_transient: false,
        },
    );
    sim.fail_next(
        "/feed",
        GraphFault::Throttle {
            code: 4,
            regain_minutes: 0,
        },
    );
    sim.fail_next(
        "/feed",
        GraphFault::Throttle {
            code: 80_001,
            regain_minutes: 7,
        },
    );
    sim.fail_next("/feed", GraphFault::ServerError);

    let e = post_form(&http, &sim, &feed, &page_token, &[("message", "a")]).await;
    assert_graph_error(&e, 368, Some(1_390_008));
    assert_eq!(e.json["error"]["is_transient"], false);

    let app = post_form(&http, &sim, &feed, &page_token, &[("message", "a")]).await;
    assert_graph_error(&app, 4, None);
    assert_eq!(app.json["error"]["is_transient"], true);
    let usage: Value = serde_json::from_str(app.headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage["call_count"], 100);

    let buc = post_form(&http, &sim, &feed, &page_token, &[("message", "a")]).await;
    assert_graph_error(&buc, 80_001, None);
    let header: Value =
        serde_json::from_str(buc.headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(
        header[sim.page_id()][0]["estimated_time_to_regain_access"],
        7
    );
    assert_eq!(header[sim.page_id()][0]["call_count"], 100);

    let down = post_form(&http, &sim, &feed, &page_token, &[("message", "a")]).await;
    assert_eq!(down.status, 500);
    assert_eq!(down.json["error"]["is_transient"], true);

    // Faults are spent; nothing was created by them.
    let list = get(
        &http,
        &sim,
        &format!("{}/posts", sim.page_id()),
        &page_token,
        &[],
    )
    .await;
    assert_eq!(list.json, json!({ "data": [] }));
    assert_ok(&post_form(&http, &sim, &feed, &page_token, &[("message", "a")]).await);
    assert_eq!(sim.posts(), 5);

    // A stall processes the request but answers late.
    sim.fail_next(
        "oauth/access_token",
        GraphFault::Stall(Duration::from_millis(150)),
    );
    let short = sim.issue_short_lived_token();
    let started = Instant::now();
    token_of(&exchange_long(&http, &sim, &short).await);
    assert!(started.elapsed() >= Duration::from_millis(150));
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn usage_knobs_set_the_headers() {
    let sim = GraphSimulator::start().await;
    let http = http_client();
    let token = sim.issue_long_lived_token();
    sim.set_app_usage(87);
    sim.set_business_usage(sim.instagram_user_id(), 95, 12);
    let answer = get(&http, &sim, "me", &token, &[]).await;
    let app: Value = serde_json::from_str(answer.headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(
        app,
        json!({ "call_count": 87, "total_time": 87, "total_cputime": 87 })
    );
    let buc: Value = serde_json::from_str(
        answer.headers["x-business-use-case-usage"]
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let entry = &buc[sim.instagram_user_id()][0];
    assert_eq!(entry["type"], "instagram");
    assert_eq!(entry["call_count"], 95);
    assert_eq!(entry["estimated_time_to_regain_access"], 12);
    sim.clear_business_usage();
    let answer = get(&http, &sim, "me", &token, &[]).await;
    assert!(answer.headers.get("x-business-use-case-usage").is_none());
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn other_versions_and_unknown_routes_hit_the_catch_all() {
    let sim = GraphSimulator::builder().version("v25.0").start().await;
    let http = http_client();
    let token = sim.issue_long_lived_token();
    assert_ok(&get(&http, &sim, "me", &token, &[]).await);
    assert!(sim.graph_url("me").path().starts_with("/v25.0/"));

    let base = sim.base_url();
    let other = send(http.get(base.join("v26.0/me").unwrap()).bearer_auth(&token)).await;
    assert_eq!(other.status, UNEXPECTED_STATUS);
    let edge = send(
        http.get(base.join("v25.0/me/friends").unwrap())
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(edge.status, UNEXPECTED_STATUS);
    let seen: Vec<String> = sim
        .take_unexpected_requests()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(seen, ["GET /v26.0/me", "GET /v25.0/me/friends"]);
    sim.assert_no_unexpected();
}

#[tokio::test]
#[should_panic(expected = "unexpected request: GET /v26.0/nope/nope")]
async fn dropping_the_simulator_fails_on_unexpected_requests() {
    let sim = GraphSimulator::start().await;
    send(http_client().get(sim.graph_url("nope/nope"))).await;
}
