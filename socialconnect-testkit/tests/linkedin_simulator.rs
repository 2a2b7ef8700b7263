//! The LinkedIn simulator over real loopback HTTP: sign-in in LinkedIn's dialect, the version
//! and bearer checks every `/rest/*` call goes through, posts, image and video uploads,
//! organization roles and statistics, comments, faults and webhook signatures. The conformance
//! suite runs against it from `socialconnect-linkedin`, with the real platform crate.

mod common;

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use common::{Answer, REDIRECT, http_client, send};
use serde_json::{Value, json};
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::linkedin::{LinkedInSimulator, Notification};
use socialconnect_testkit::sim::hmac_sha256_hex;

const ORG: &str = "urn:li:organization:2414183";
const ALL_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
];

/// The `LinkedIn-Version` of the current month, always active.
fn version() -> String {
    Utc::now().format("%Y%m").to_string()
}

async fn sim() -> LinkedInSimulator {
    LinkedInSimulator::builder()
        .organization("2414183", "Sim Bakery", "ADMINISTRATOR", "APPROVED")
        .organization("100", "Other Co", "ANALYST", "APPROVED")
        .organization("999", "Pending Co", "ADMINISTRATOR", "REQUESTED")
        .start()
        .await
}

fn token(sim: &LinkedInSimulator) -> String {
    sim.oauth().issue_tokens(ALL_SCOPES).access_token
}

/// A `/rest/*` request with both version headers and the bearer token.
fn rest(
    http: &reqwest::Client,
    sim: &LinkedInSimulator,
    method: reqwest::Method,
    path_and_query: &str,
    bearer: &str,
) -> reqwest::RequestBuilder {
    http.request(method, format!("{}{path_and_query}", sim.base_url()))
        .bearer_auth(bearer)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
}

fn text_post(author: &str, commentary: &str) -> Value {
    json!({
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": { "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [] },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    })
}

async fn create_post(
    http: &reqwest::Client,
    sim: &LinkedInSimulator,
    t: &str,
    body: Value,
) -> Answer {
    send(rest(http, sim, reqwest::Method::POST, "rest/posts", t).json(&body)).await
}

fn message(a: &Answer) -> &str {
    a.json["message"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn sign_in_speaks_linkedins_dialect() {
    let sim = sim().await;
    let http = http_client();
    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", sim.client_id())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st")
        .append_pair("scope", "openid profile w_member_social");
    let (code, _) = sim.authorize(&url);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
    ];
    let answer = send(http.post(sim.token_url()).form(&form)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["expires_in"], json!(60 * 86_400));
    assert_eq!(
        answer.json["scope"],
        json!("openid,profile,w_member_social")
    );
    let access = answer.json["access_token"].as_str().unwrap().to_owned();
    let refresh = answer.json["refresh_token"].as_str().unwrap().to_owned();
    let me = send(http.get(sim.userinfo_url()).bearer_auth(&access)).await;
    assert_eq!(me.json["sub"], json!(sim.member_sub()));
    // A refresh hands the same refresh token back.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
    ];
    let again = send(http.post(sim.token_url()).form(&form)).await;
    assert_eq!(again.json["refresh_token"], json!(refresh));
    // HTTP Basic is not LinkedIn's way.
    let basic = send(
        http.post(sim.token_url())
            .basic_auth(sim.client_id(), Some(sim.client_secret()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ]),
    )
    .await;
    assert_eq!(basic.error(), Some("invalid_client"));
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn every_rest_call_needs_an_active_version_and_the_protocol_header() {
    let sim = LinkedInSimulator::builder()
        .sunset_versions([version()])
        .start()
        .await;
    let http = http_client();
    let t = token(&sim);
    let url = format!("{}rest/organizationAcls?q=roleAssignee", sim.base_url());
    let bare = send(http.get(&url).bearer_auth(&t)).await;
    assert_eq!(
        (bare.status, bare.json["code"].as_str()),
        (400, Some("VERSION_MISSING"))
    );
    let malformed = send(
        http.get(&url)
            .bearer_auth(&t)
            .header("LinkedIn-Version", "2026-11"),
    )
    .await;
    assert_eq!(malformed.status, 400);
    let old = send(
        http.get(&url)
            .bearer_auth(&t)
            .header("LinkedIn-Version", "202301")
            .header("X-Restli-Protocol-Version", "2.0.0"),
    )
    .await;
    assert_eq!(
        old.json,
        json!({"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 202301 is not active"})
    );
    // Marked sunset by the builder, though inside the window.
    let marked = send(rest(
        &http,
        &sim,
        reqwest::Method::GET,
        "rest/organizationAcls?q=roleAssignee",
        &t,
    ))
    .await;
    assert_eq!(marked.status, 426);
    let previous = (Utc::now() - TimeDelta::days(40))
        .format("%Y%m")
        .to_string();
    let no_protocol = send(
        http.get(&url)
            .bearer_auth(&t)
            .header("LinkedIn-Version", &previous),
    )
    .await;
    assert_eq!(no_protocol.status, 400, "{}", no_protocol.json);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn bearer_tokens_are_checked_for_life_and_scope() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = LinkedInSimulator::builder()
        .clock(clock.clone())
        .organization("2414183", "Sim Bakery", "ADMINISTRATOR", "APPROVED")
        .start()
        .await;
    let http = http_client();
    let acls = "rest/organizationAcls?q=roleAssignee";
    let unknown = send(rest(&http, &sim, reqwest::Method::GET, acls, "nope")).await;
    assert_eq!(
        unknown.json,
        json!({"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message": "Invalid access token"})
    );
    let member_only = sim.oauth().issue_tokens(["w_member_social"]).access_token;
    let denied = send(rest(&http, &sim, reqwest::Method::GET, acls, &member_only)).await;
    assert_eq!(
        (denied.status, denied.json["serviceErrorCode"].as_u64()),
        (403, Some(100))
    );
    assert_eq!(
        message(&denied),
        format!(
            "Not enough permissions to access: organizationAcls.FINDER-roleAssignee.{}01",
            version()
        )
    );
    let org = sim.oauth().issue_tokens(["w_organization_social"]);
    let form = [
        ("token", org.access_token.as_str()),
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
    ];
    send(http.post(sim.revoke_url()).form(&form)).await;
    let revoked = send(rest(
        &http,
        &sim,
        reqwest::Method::GET,
        acls,
        &org.access_token,
    ))
    .await;
    assert_eq!(revoked.json["code"], json!("REVOKED_ACCESS_TOKEN"));
    let t = token(&sim);
    clock.advance(TimeDelta::days(61));
    let expired = send(rest(&http, &sim, reqwest::Method::GET, acls, &t)).await;
    assert_eq!(
        (expired.status, expired.json["code"].as_str()),
        (401, Some("EXPIRED_ACCESS_TOKEN"))
    );
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn posts_are_validated_kept_and_deleted() {
    let sim = sim().await;
    let http = http_client();
    let t = token(&sim);
    let member = sim.member_urn();
    let created = create_post(&http, &sim, &t, text_post(&member, r"Hello \(world\)")).await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json, Value::Null, "an empty body");
    let urn = created.headers["x-restli-id"].to_str().unwrap().to_owned();
    assert!(urn.starts_with("urn:li:share:"), "{urn}");
    let as_org = create_post(&http, &sim, &t, text_post(ORG, "From the bakery")).await;
    assert_eq!(as_org.status, 201, "{}", as_org.json);
    let posts = sim.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        (posts[0].urn.as_str(), posts[0].author.as_str()),
        (urn.as_str(), member.as_str())
    );

    let malformed = create_post(&http, &sim, &t, text_post("urn:li:company", "x")).await;
    assert_eq!(malformed.status, 422);
    assert!(
        message(&malformed).starts_with("ERROR :: /author :: urn:li:company does not match"),
        "{}",
        malformed.json
    );
    assert!(message(&malformed).ends_with('\n'));
    for (author, why) in [
        ("urn:li:person:someone-else", "another member"),
        ("urn:li:organization:100", "an ANALYST role"),
        ("urn:li:organization:999", "a REQUESTED role"),
    ] {
        let refused = create_post(&http, &sim, &t, text_post(author, "x")).await;
        assert_eq!(
            (refused.status, refused.json["code"].as_str()),
            (403, Some("ACCESS_DENIED")),
            "{why}"
        );
    }
    let unescaped = create_post(&http, &sim, &t, text_post(&member, "raw (parens)")).await;
    assert!(
        message(&unescaped).starts_with("ERROR :: /commentary ::"),
        "{}",
        unescaped.json
    );
    let mut missing = text_post(&member, "x");
    missing.as_object_mut().unwrap().remove("lifecycleState");
    let missing = create_post(&http, &sim, &t, missing).await;
    assert_eq!(
        message(&missing),
        "ERROR :: /lifecycleState :: field is required but not found and has no default value\n"
    );
    assert_eq!(sim.posts().len(), 2, "refused posts are not kept");

    let encoded = urn.replace(':', "%3A");
    let deleted = send(rest(
        &http,
        &sim,
        reqwest::Method::DELETE,
        &format!("rest/posts/{encoded}"),
        &t,
    ))
    .await;
    assert_eq!(deleted.status, 204);
    let again = send(rest(
        &http,
        &sim,
        reqwest::Method::DELETE,
        &format!("rest/posts/{encoded}"),
        &t,
    ))
    .await;
    assert_eq!(
        (again.status, again.json["code"].as_str()),
        (404, Some("RESOURCE_NOT_FOUND"))
    );
    let raw = send(rest(
        &http,
        &sim,
        reqwest::Method::DELETE,
        &format!("rest/posts/{}", sim.posts()[0].urn),
        &t,
    ))
    .await;
    assert_eq!(raw.status, 400, "a URN in a path is percent-encoded");
    assert_eq!(sim.posts().len(), 1);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn an_image_walks_to_available_before_a_post_may_carry_it() {
    let sim = sim().await;
    let http = http_client();
    let t = token(&sim);
    let member = sim.member_urn();
    let init = send(
        rest(
            &http,
            &sim,
            reqwest::Method::POST,
            "rest/images?action=initializeUpload",
            &t,
        )
        .json(&json!({ "initializeUploadRequest": { "owner": member } })),
    )
    .await;
    assert_eq!(init.status, 200, "{}", init.json);
    let image = init.json["value"]["image"].as_str().unwrap().to_owned();
    let upload_url = init.json["value"]["uploadUrl"].as_str().unwrap().to_owned();
    assert!(
        upload_url.starts_with(sim.base_url().as_str()),
        "{upload_url}"
    );
    assert!(
        init.json["value"]["uploadUrlExpiresAt"].as_i64().unwrap() > Utc::now().timestamp_millis()
    );
    let status_path = format!("rest/images/{}", image.replace(':', "%3A"));
    let status =
        |http: &reqwest::Client| send(rest(http, &sim, reqwest::Method::GET, &status_path, &t));
    assert_eq!(status(&http).await.json["status"], json!("WAITING_UPLOAD"));
    let mut with_image = text_post(&member, "With a picture");
    with_image["content"] = json!({ "media": { "id": image } });
    let early = create_post(&http, &sim, &t, with_image.clone()).await;
    assert_eq!(early.status, 422, "{}", early.json);
    assert!(
        message(&early).contains("/content/media/id"),
        "{}",
        early.json
    );

    let put = send(
        http.put(&upload_url)
            .bearer_auth(&t)
            .body(vec![0xFF_u8; 2048]),
    )
    .await;
    assert_eq!(put.status, 201);
    let twice = send(http.put(&upload_url).bearer_auth(&t).body(vec![1_u8; 8])).await;
    assert_eq!(twice.status, 400, "one PUT per upload URL");
    assert_eq!(status(&http).await.json["status"], json!("PROCESSING"));
    let ready = status(&http).await;
    assert_eq!(
        (ready.json["id"].as_str(), ready.json["status"].as_str()),
        (Some(image.as_str()), Some("AVAILABLE"))
    );
    let posted = create_post(&http, &sim, &t, with_image).await;
    assert_eq!(posted.status, 201, "{}", posted.json);
    assert!(
        posted.headers["x-restli-id"]
            .to_str()
            .unwrap()
            .starts_with("urn:li:ugcPost:")
    );
    assert_eq!(sim.posts()[0].media, std::slice::from_ref(&image));
    assert!(sim.image_sha256(&image).is_some());

    // The organization may not post the member's image.
    let mut as_org = text_post(ORG, "Borrowed");
    as_org["content"] = json!({ "media": { "id": image } });
    assert_eq!(create_post(&http, &sim, &t, as_org).await.status, 422);

    // An empty upload fails processing.
    let init = send(
        rest(
            &http,
            &sim,
            reqwest::Method::POST,
            "rest/images?action=initializeUpload",
            &t,
        )
        .json(&json!({ "initializeUploadRequest": { "owner": member } })),
    )
    .await;
    let empty = init.json["value"]["image"].as_str().unwrap().to_owned();
    let url = init.json["value"]["uploadUrl"].as_str().unwrap().to_owned();
    send(http.put(&url).bearer_auth(&t)).await;
    let path = format!("rest/images/{}", empty.replace(':', "%3A"));
    send(rest(&http, &sim, reqwest::Method::GET, &path, &t)).await;
    let failed = send(rest(&http, &sim, reqwest::Method::GET, &path, &t)).await;
    assert_eq!(failed.json["status"], json!("PROCESSING_FAILED"));
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn a_video_goes_up_in_4_mib_parts_and_is_finalized_with_its_etags_in_order() {
    let sim = sim().await;
    let http = http_client();
    let t = token(&sim);
    let size = 2 * 4_194_304 + 10;
    let init = send(
        rest(&http, &sim, reqwest::Method::POST, "rest/videos?action=initializeUpload", &t).json(&json!({
            "initializeUploadRequest": { "owner": ORG, "fileSizeBytes": size, "uploadCaptions": false, "uploadThumbnail": false }
        })),
    )
    .await;
    assert_eq!(init.status, 200, "{}", init.json);
    let value = &init.json["value"];
    assert_eq!(value["uploadToken"], json!(""));
    let video = value["video"].as_str().unwrap().to_owned();
    let parts = value["uploadInstructions"].as_array().unwrap().clone();
    let ranges: Vec<(u64, u64)> = parts
        .iter()
        .map(|p| {
            (
                p["firstByte"].as_u64().unwrap(),
                p["lastByte"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranges,
        [
            (0, 4_194_303),
            (4_194_304, 8_388_607),
            (8_388_608, 8_388_617)
        ]
    );
    let finalize = |ids: Vec<String>| {
        rest(
            &http,
            &sim,
            reqwest::Method::POST,
            "rest/videos?action=finalizeUpload",
            &t,
        )
        .json(&json!({
            "finalizeUploadRequest": { "video": video, "uploadToken": "", "uploadedPartIds": ids }
        }))
    };
    let short = send(
        http.put(parts[0]["uploadUrl"].as_str().unwrap())
            .body(vec![0_u8; 10]),
    )
    .await;
    assert_eq!(short.status, 400, "a part is exactly its byte range");
    let mut etags = Vec::new();
    for (p, (first, last)) in parts.iter().zip(&ranges) {
        let put = http
            .put(p["uploadUrl"].as_str().unwrap())
            .body(vec![7_u8; usize::try_from(last - first + 1).unwrap()])
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200);
        etags.push(put.headers()["etag"].to_str().unwrap().to_owned());
        if etags.len() == 2 {
            let missing = send(finalize(etags.clone())).await;
            assert_eq!(missing.status, 400, "{}", missing.json);
        }
    }
    let mut swapped = etags.clone();
    swapped.swap(0, 1);
    assert_eq!(send(finalize(swapped)).await.status, 400);
    let status_path = format!("rest/videos/{}", video.replace(':', "%3A"));
    let status = || send(rest(&http, &sim, reqwest::Method::GET, &status_path, &t));
    assert_eq!(status().await.json["status"], json!("WAITING_UPLOAD"));
    let done = send(finalize(etags)).await;
    assert_eq!(done.status, 200, "{}", done.json);
    assert_eq!(status().await.json["status"], json!("PROCESSING"));
    assert_eq!(status().await.json["status"], json!("AVAILABLE"));
    let mut post = text_post(ORG, "Our video");
    post["content"] = json!({ "media": { "id": video } });
    assert_eq!(create_post(&http, &sim, &t, post).await.status, 201);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn organization_roles_page_and_statistics_read_restli() {
    let sim = sim().await;
    let http = http_client();
    let t = token(&sim);
    let get = |path: String| send(rest(&http, &sim, reqwest::Method::GET, &path, &t));
    let first = get("rest/organizationAcls?q=roleAssignee&start=0&count=2".into()).await;
    assert_eq!(
        first.json["paging"],
        json!({"start": 0, "count": 2, "total": 3, "links": []})
    );
    assert_eq!(first.json["elements"][0]["organization"], json!(ORG));
    assert_eq!(
        first.json["elements"][0]["roleAssignee"],
        json!(sim.member_urn())
    );
    let rest_page = get("rest/organizationAcls?q=roleAssignee&start=2&count=2".into()).await;
    assert_eq!(
        rest_page.json["elements"].as_array().unwrap().len(),
        1,
        "a short page is the end"
    );
    let approved_admins =
        get("rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED".into()).await;
    assert_eq!(approved_admins.json["paging"]["total"], json!(1));

    let org = "urn%3Ali%3Aorganization%3A2414183";
    let base = format!(
        "rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}"
    );
    let lifetime = get(base.clone()).await;
    assert_eq!(lifetime.status, 200, "{}", lifetime.json);
    assert_eq!(
        lifetime.json["elements"][0]["totalShareStatistics"]["impressionCount"],
        json!(3100)
    );
    let now = Utc::now().timestamp_millis();
    let day = 86_400_000;
    let daily = get(format!(
        "{base}&timeIntervals=(timeRange:(start:{},end:{now}),timeGranularityType:DAY)",
        now - 3 * day
    ))
    .await;
    assert_eq!(
        daily.json["elements"].as_array().unwrap().len(),
        3,
        "{}",
        daily.json
    );
    for bad in [
        format!("{base}&timeIntervals=(timeRange:(start:1,end:2)"),
        format!("{base}&timeIntervals=(timeRange:(start:1,end:2),timeGranularityType:WEEK)"),
        format!("{base}&shares=List(urn:li:share:1)"),
        format!("{base}&shares=urn%3Ali%3Ashare%3A1"),
        "rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=urn:li:organization:2414183".to_owned(),
    ] {
        let refused = get(bad.clone()).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.json);
    }
    let analyst = get("rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=urn%3Ali%3Aorganization%3A100".to_owned())
    .await;
    assert_eq!(
        analyst.status, 403,
        "statistics need the ADMINISTRATOR role"
    );

    let followers = get(format!(
        "rest/organizationalEntityFollowerStatistics?q=organizationalEntity&organizationalEntity={org}"
    ))
    .await;
    let element = &followers.json["elements"][0];
    assert_eq!(
        element["followerCountsBySeniority"][0]["followerCounts"]["organicFollowerCount"],
        json!(800)
    );
    assert!(element.get("totalFollowerCounts").is_none());
    let size = get(format!(
        "rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
    ))
    .await;
    assert_eq!(size.json, json!({ "firstDegreeSize": 18342 }));
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn comments_are_created_and_listed_in_pages() {
    let sim = sim().await;
    let http = http_client();
    let t = token(&sim);
    let created = create_post(&http, &sim, &t, text_post(ORG, "Open today")).await;
    let post = created.headers["x-restli-id"].to_str().unwrap().to_owned();
    let path = format!("rest/socialActions/{}/comments", post.replace(':', "%3A"));
    for text in ["one", "two", "three"] {
        let c = send(rest(&http, &sim, reqwest::Method::POST, &path, &t).json(
            &json!({ "actor": sim.member_urn(), "object": post, "message": { "text": text } }),
        ))
        .await;
        assert_eq!(c.status, 201, "{}", c.json);
        assert_eq!(c.json["message"]["text"], json!(text));
        assert_eq!(
            c.headers["x-restli-id"].to_str().unwrap(),
            c.json["commentUrn"].as_str().unwrap()
        );
    }
    let wrong_object = send(
        rest(&http, &sim, reqwest::Method::POST, &path, &t)
            .json(&json!({ "actor": sim.member_urn(), "object": "urn:li:share:1", "message": { "text": "x" } })),
    )
    .await;
    assert_eq!(wrong_object.status, 422);
    let page = send(rest(
        &http,
        &sim,
        reqwest::Method::GET,
        &format!("{path}?start=2&count=2"),
        &t,
    ))
    .await;
    assert_eq!(page.json["elements"].as_array().unwrap().len(), 1);
    assert_eq!(page.json["elements"][0]["message"]["text"], json!("three"));
    assert_eq!(sim.comments(&post).len(), 3);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn faults_webhooks_and_the_catch_all() {
    let sim = sim().await;
    let http = http_client();
    let t = token(&sim);
    sim.fail_next_day_limit("/rest/posts");
    let limited = create_post(&http, &sim, &t, text_post(&sim.member_urn(), "x")).await;
    assert_eq!(
        limited.json,
        json!({"status": 429, "serviceErrorCode": 101, "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."})
    );
    assert!(limited.headers.get("retry-after").is_none());
    sim.fail_next(
        "/rest/organizationAcls",
        503,
        json!({ "status": 503, "message": "down" }),
    );
    let down = send(rest(
        &http,
        &sim,
        reqwest::Method::GET,
        "rest/organizationAcls?q=roleAssignee",
        &t,
    ))
    .await;
    assert_eq!(down.status, 503);
    assert!(sim.posts().is_empty(), "a faulted request changes nothing");
    assert_eq!(sim.requests_to("/rest/posts"), 1);

    let delivery = sim.webhook(&[
        Notification::new(1_200_000_001, "COMMENT")
            .organization(ORG)
            .source_post("urn:li:share:1"),
        Notification::new(1_200_000_002, "LIKE").last_modified_at(1_701_000_000_000),
    ]);
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(
        body["type"],
        json!("ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS")
    );
    assert_eq!(body["notifications"][0]["organizationalEntity"], json!(ORG));
    assert_eq!(
        delivery.signature,
        hmac_sha256_hex(
            sim.client_secret().as_bytes(),
            &[b"hmacsha256=", &delivery.body]
        )
    );
    assert_eq!(
        sim.challenge("abc"),
        hmac_sha256_hex(sim.client_secret().as_bytes(), &[b"abc"])
    );

    let stray = send(rest(&http, &sim, reqwest::Method::GET, "rest/me", &t)).await;
    assert_eq!(stray.status, 599);
    let unexpected = sim.take_unexpected_requests();
    assert_eq!(unexpected.len(), 1);
    assert!(
        unexpected[0].to_string().contains("GET /rest/me"),
        "{}",
        unexpected[0]
    );
}
