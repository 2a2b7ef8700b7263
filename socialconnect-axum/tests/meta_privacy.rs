//! Meta's privacy callbacks over real HTTP: the data-deletion request and its status page,
//! the deauthorize callback, and the signed requests that must change nothing.

mod common;

use common::Host;
use reqwest::StatusCode;
use socialconnect_core::id::SubjectId;
use socialconnect_core::secret::ClientSecret;
use socialconnect_meta::signed_request::sign_signed_request;

/// Connects Facebook for `user` through the routes; returns the connection's Facebook account
/// id, the app-scoped user id Meta's callbacks name.
async fn facebook_account_of(host: &Host, user: &str) -> String {
    host.connect_through_routes(user, "facebook", &[]).await;
    let keys = host
        .hub
        .connections(&SubjectId::new(user).unwrap())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let stored = host
        .hub
        .token_store()
        .get(&keys[0])
        .await
        .unwrap()
        .expect("the connection's tokens");
    stored.tokens.account_id.expect("a Facebook account id")
}

/// A `signed_request` for `user_id` issued `age_secs` ago, signed with `secret`.
fn signed_request(host: &Host, user_id: &str, age_secs: i64, secret: &str) -> String {
    let payload = serde_json::json!({
        "algorithm": "HMAC-SHA256",
        "issued_at": host.hub.clock().now().timestamp() - age_secs,
        "user_id": user_id,
    })
    .to_string();
    sign_signed_request(&payload, &ClientSecret::new(secret))
}

async fn post_form(host: &Host, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    host.api()
        .post(host.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn connections_of(host: &Host, user: &str) -> usize {
    host.hub
        .connections(&SubjectId::new(user).unwrap())
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_deletion_request_erases_the_facebook_connection_and_links_a_status_page() {
    let host = Host::start().await;
    let account = facebook_account_of(&host, "henry").await;
    let request = signed_request(&host, &account, 0, host.meta.app_secret());
    let answer = post_form(
        &host,
        "/meta/data-deletion",
        &[("signed_request", &request)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let json: serde_json::Value = answer.json().await.unwrap();
    let code = json["confirmation_code"]
        .as_str()
        .expect("a code")
        .to_owned();
    assert!(!code.is_empty());
    let url = json["url"].as_str().expect("a url");
    assert_eq!(
        url,
        host.url(&format!("/meta/deletion-status?code={code}")),
        "the status page on this host"
    );
    assert_eq!(connections_of(&host, "henry").await, 0, "erased at once");

    let page = host.api().get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&code), "{page}");
    assert!(page.contains("Your data was deleted on"), "{page}");
    let recorded = host.deletions.recorded();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].confirmation_code, code);
}

#[tokio::test(flavor = "multi_thread")]
async fn deauthorize_removes_the_facebook_connection() {
    let host = Host::start().await;
    let account = facebook_account_of(&host, "iris").await;
    let request = signed_request(&host, &account, 0, host.meta.app_secret());
    let answer = post_form(&host, "/meta/deauthorize", &[("signed_request", &request)]).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(connections_of(&host, "iris").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_or_expired_signed_requests_are_401_and_change_nothing() {
    let host = Host::start().await;
    let account = facebook_account_of(&host, "jack").await;
    let forged = signed_request(&host, &account, 0, "not-the-app-secret");
    // Two hours old: past the one-hour freshness window.
    let expired = signed_request(&host, &account, 7200, host.meta.app_secret());
    let genuine = signed_request(&host, &account, 0, host.meta.app_secret());
    // A genuine signature over another payload.
    let (signature, _) = genuine.split_once('.').unwrap();
    let (_, other_payload) = signed_request(&host, "someone-else", 0, host.meta.app_secret())
        .split_once('.')
        .map(|(s, p)| (s.to_owned(), p.to_owned()))
        .unwrap();
    let spliced = format!("{signature}.{other_payload}");
    for path in ["/meta/data-deletion", "/meta/deauthorize"] {
        for request in [&forged, &expired, &spliced] {
            let answer = post_form(&host, path, &[("signed_request", request)]).await;
            assert_eq!(
                answer.status(),
                StatusCode::UNAUTHORIZED,
                "{path} {request}"
            );
        }
    }
    assert_eq!(connections_of(&host, "jack").await, 1);
    assert!(host.deletions.recorded().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_callback_forms_are_400_and_change_nothing() {
    let host = Host::start().await;
    let account = facebook_account_of(&host, "kate").await;
    let genuine = signed_request(&host, &account, 0, host.meta.app_secret());
    for path in ["/meta/data-deletion", "/meta/deauthorize"] {
        for form in [
            vec![("other", "field")],
            vec![("signed_request", "")],
            vec![("signed_request", "no-dot-at-all")],
            vec![
                ("signed_request", genuine.as_str()),
                ("signed_request", genuine.as_str()),
            ],
        ] {
            let answer = post_form(&host, path, &form).await;
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path} {form:?}");
        }
    }
    assert_eq!(connections_of(&host, "kate").await, 1);
    assert!(host.deletions.recorded().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_refuses_unknown_and_empty_codes() {
    let host = Host::start().await;
    let unknown = host
        .api()
        .get(host.url("/meta/deletion-status?code=NoSuchCode23456789ab"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(
        unknown.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No deletion request has this confirmation code")
    );
    for query in ["?code=", "", &format!("?code={}", "a".repeat(200))] {
        let refused = host
            .api()
            .get(host.url(&format!("/meta/deletion-status{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("no valid confirmation code")
        );
    }
}
