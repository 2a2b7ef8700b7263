//! The data-subject API's scheduled actions over real HTTP on loopback, on the SQLite store:
//! schedule (201), list, read, reschedule, cancel (and 409 when it is final), retry refused
//! for a pending one, scopes enforced, another subject's action is 404, malformed bodies are
//! 400 and oversized ones 413, and store nothing; the privacy page lists the user's actions and cancels one through
//! a CSRF-checked form; a scheduled post runs through the runner and shows as done.

mod common;

use common::{Host, csrf, location};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialconnect_core::RunnerOptions;
use socialconnect_core::id::SubjectId;

async fn call(
    host: &Host,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = host.api().request(method, host.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// `user` connected to Facebook with publishing consent; returns the connection id.
async fn connected(host: &Host, user: &str) -> String {
    host.connect_through_routes(user, "facebook", &["publishing"])
        .await;
    let keys = host
        .hub
        .connections(&SubjectId::new(user).unwrap())
        .await
        .unwrap();
    keys[0].connection.to_string()
}

fn post_body(host: &Host, connection: &str, text: &str, at: &str) -> Value {
    json!({
        "platform": "facebook",
        "connection_id": connection,
        "kind": "facebook.page_post",
        "payload": { "page_id": host.meta.page_id(), "message": text },
        "at": at,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_are_scheduled_listed_moved_and_cancelled_over_the_api() {
    let host = Host::start().await;
    let connection = connected(&host, "ava").await;
    let key = host.key(&["read", "actions"]).await;
    let reader = host.key(&["read"]).await;
    let base = "/api/v1/subjects/ava/actions";

    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let refused = call(
        &host,
        Method::POST,
        base,
        &reader,
        Some(post_body(&host, &connection, "hi", &later)),
    )
    .await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "scheduling needs `actions`"
    );

    let made = call(
        &host,
        Method::POST,
        base,
        &key,
        Some(post_body(&host, &connection, "Open late", &later)),
    )
    .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["state"]["state"], "scheduled");
    assert_eq!(made["purpose"], "publishing");

    let list: Value = call(&host, Method::GET, base, &reader, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["actions"].as_array().unwrap().len(), 1);
    assert_eq!(list["actions"][0]["payload"]["message"], "Open late");

    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let moved = call(
        &host,
        Method::POST,
        &format!("{base}/{id}/reschedule"),
        &key,
        Some(json!({ "at": at })),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(moved["due_at"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&at).unwrap()
    );

    let retry = call(
        &host,
        Method::POST,
        &format!("{base}/{id}/retry"),
        &key,
        None,
    )
    .await;
    assert_eq!(
        retry.status(),
        StatusCode::CONFLICT,
        "a pending action has nothing to retry"
    );

    // Another subject cannot see or cancel it.
    let other = call(
        &host,
        Method::DELETE,
        &format!("/api/v1/subjects/bo/actions/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    let cancelled = call(&host, Method::DELETE, &format!("{base}/{id}"), &key, None).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["state"]["state"], "cancelled");
    assert_eq!(cancelled["state"]["reason"], "by_host");
    let again = call(&host, Method::DELETE, &format!("{base}/{id}"), &key, None).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let bad_id = call(
        &host,
        Method::GET,
        &format!("{base}/not-a-uuid"),
        &reader,
        None,
    )
    .await;
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_schedules_are_400_and_store_nothing() {
    let host = Host::start().await;
    let connection = connected(&host, "cy").await;
    let key = host.key(&["read", "actions"]).await;
    let base = "/api/v1/subjects/cy/actions";
    let now = chrono::Utc::now().to_rfc3339();
    let mut unknown_field = post_body(&host, &connection, "x", &now);
    unknown_field["colour"] = json!("red");
    let mut bad_payload = post_body(&host, &connection, "x", &now);
    bad_payload["payload"] = json!({ "page_id": "1", "mesage": "typo" });
    let mut bad_zone = post_body(&host, &connection, "x", &now);
    bad_zone["schedule"] =
        json!({ "recurrence": { "type": "daily", "at": "09:00" }, "zone": "Mars/Olympus" });
    let mut bad_time = post_body(&host, &connection, "x", &now);
    bad_time["at"] = json!("tomorrow-ish");
    for body in [unknown_field, bad_payload, bad_zone, bad_time] {
        let answer = call(&host, Method::POST, base, &key, Some(body.clone())).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let raw = host
        .api()
        .post(host.url(base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    // Over the body limit (64 KiB here), declared or found while reading: a JSON 413.
    let huge = post_body(&host, &connection, &"x".repeat(80 * 1024), &now).to_string();
    for chunked in [false, true] {
        let request = host
            .api()
            .post(host.url(base))
            .bearer_auth(&key)
            .header("content-type", "application/json");
        let request = if chunked {
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> = huge
                .as_bytes()
                .chunks(8 * 1024)
                .map(|c| Ok(c.to_vec()))
                .collect();
            request.body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
        } else {
            request.body(huge.clone())
        };
        let answer = request.send().await.unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunked {chunked}"
        );
        let problem: Value = answer.json().await.unwrap();
        assert_eq!(problem["error"], "payload_too_large", "chunked {chunked}");
    }
    let list: Value = call(&host, Method::GET, base, &key, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["actions"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_privacy_page_lists_scheduled_actions_and_cancels_one() {
    let host = Host::start().await;
    let connection = connected(&host, "dee").await;
    let key = host.key(&["read", "actions"]).await;
    let base = "/api/v1/subjects/dee/actions";
    let now = chrono::Utc::now().to_rfc3339();
    let later = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    for (text, at) in [("now please", &now), ("later please", &later)] {
        let made = call(
            &host,
            Method::POST,
            base,
            &key,
            Some(post_body(&host, &connection, text, at)),
        )
        .await;
        assert_eq!(made.status(), StatusCode::CREATED);
    }
    // The due one runs.
    let runner = host.hub.action_runner(RunnerOptions::default()).unwrap();
    assert_eq!(runner.run_once().await.unwrap().completed, 1);

    let browser = host.browser("dee");
    let page = browser
        .get(host.url("/privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Scheduled for you"), "{page}");
    assert_eq!(page.matches("class=\"action\"").count(), 2);
    assert!(page.contains("data-state=\"done\""));
    assert!(page.contains("data-state=\"scheduled\""));
    let list: Value = call(&host, Method::GET, base, &key, None)
        .await
        .json()
        .await
        .unwrap();
    let pending = list["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["state"]["state"] == "scheduled")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(page.contains(&format!("id=\"cancel-{pending}\"")));

    // Without a valid CSRF token nothing is cancelled.
    let forged = browser
        .post(host.url("/privacy/actions/cancel"))
        .form(&[("csrf", "forged"), ("action", pending.as_str())])
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_client_error());
    let token = csrf(&page);
    let done = browser
        .post(host.url("/privacy/actions/cancel"))
        .form(&[("csrf", token.as_str()), ("action", pending.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(location(&done).ends_with("/privacy?done=cancelled"));
    let after: Value = call(&host, Method::GET, &format!("{base}/{pending}"), &key, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["state"]["state"], "cancelled");
}
