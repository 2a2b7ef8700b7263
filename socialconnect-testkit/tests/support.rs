//! The catch-all on a bare mock server, fixtures and the manual clock.

mod common;

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use common::{http_client, send};
use socialconnect_core::clock::Clock;
use socialconnect_testkit::{
    CatchAll, JsonMock, ManualClock, UNEXPECTED_STATUS, fixture, fixture_dir, load_fixture_bytes,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn catch_all_answers_and_records_only_unmatched_requests() {
    let server = MockServer::start().await;
    let catch_all = CatchAll::mount(&server).await;
    // Mounted after the catch-all, and still preferred to it.
    Mock::given(method("GET"))
        .and(path("/known"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let http = http_client();

    assert_eq!(
        send(http.get(format!("{}/known", server.uri())))
            .await
            .status,
        204
    );
    catch_all.assert_no_unexpected();

    let answer = send(http.post(format!("{}/unknown", server.uri()))).await;
    assert_eq!(answer.status, UNEXPECTED_STATUS);
    let seen = catch_all.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].to_string(), "POST /unknown");
    assert_eq!(catch_all.take(), seen);
    assert!(catch_all.requests().is_empty());
}

#[tokio::test]
#[should_panic(expected = "unexpected request: GET /foo")]
async fn dropping_the_catch_all_fails_on_unexpected_requests() {
    let server = MockServer::start().await;
    let _catch_all = CatchAll::mount(&server).await;
    send(http_client().get(format!("{}/foo", server.uri()))).await;
}

#[test]
fn fixtures_load_from_the_calling_crate() {
    let me = fixture!("meta/me");
    assert_eq!(me["id"], "17841405822304914");
    assert_eq!(
        load_fixture_bytes(&fixture_dir!(), "signed.txt"),
        b"raw-bytes\n"
    );
}

#[test]
#[should_panic(expected = "fixture `meta/absent`: cannot read")]
fn a_missing_fixture_names_the_file() {
    fixture!("meta/absent");
}

#[test]
#[should_panic(expected = "is not valid JSON")]
fn a_malformed_fixture_says_so() {
    // signed.txt is not JSON; name it with its extension to get past the implied `.json`.
    socialconnect_testkit::load_fixture(&fixture_dir!(), "signed.txt");
}

#[test]
fn manual_clock_is_shared_through_dyn_clock() {
    let start = Utc.with_ymd_and_hms(2030, 6, 1, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let seen_by_code_under_test: Arc<dyn Clock> = clock.clone();
    clock.advance(TimeDelta::minutes(5));
    assert_eq!(seen_by_code_under_test.now(), start + TimeDelta::minutes(5));
    clock.set(start);
    assert_eq!(seen_by_code_under_test.now(), start);
}

#[tokio::test]
async fn json_mock_answers_json_a_bare_status_or_late() {
    let server = MockServer::start().await;
    JsonMock::new(
        "GET",
        "/json",
        serde_json::json!({"id": 9007199254740995u64}),
    )
    .header("x-trace", "t1")
    .expect(1)
    .mount(&server)
    .await;
    JsonMock::empty("POST", "/bare")
        .status(502)
        .expect(1)
        .mount(&server)
        .await;
    JsonMock::new("GET", "/slow", serde_json::json!({}))
        .delay(std::time::Duration::from_millis(300))
        .mount(&server)
        .await;
    let http = http_client();

    let resp = http
        .get(format!("{}/json", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["x-trace"], "t1");
    // The id past 2^53 goes out exactly as given.
    assert_eq!(resp.text().await.unwrap(), r#"{"id":9007199254740995}"#);

    let resp = http
        .post(format!("{}/bare", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert!(resp.headers().get("content-type").is_none());
    assert!(resp.bytes().await.unwrap().is_empty());

    let started = std::time::Instant::now();
    let resp = http
        .get(format!("{}/slow", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}
