//! The HTTP layer against wiremock on loopback: URL policy, redirects, body cap, timeouts,
//! Retry-After in both forms, and which failures are retried.

use std::time::{Duration, Instant, SystemTime};

use socialconnect_core::ErrorKind;
use socialconnect_core::http::{ApiRequest, HttpClient, RetryPolicy};
use socialconnect_core::id::PlatformId;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(policy: RetryPolicy) -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_millis(500))
        .retry(policy)
        .build()
        .unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(5), Duration::from_millis(20))
}

fn url(server: &MockServer, p: &str) -> Url {
    Url::parse(&format!("{}{p}", server.uri())).unwrap()
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_sending() {
    let http = client(fast_retries());
    let err = http
        .send(ApiRequest::get(Url::parse("http://example.com/x").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains("example.com") && text.contains("https"),
        "{text}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/target", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/target"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let resp = client(fast_retries())
        .send(ApiRequest::get(url(&server, "/start")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let err = resp.error_for_status().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(err.to_string().contains("redirect not followed"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 4096]))
        .mount(&server)
        .await;
    Mock::given(path("/small"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 1024]))
        .mount(&server)
        .await;
    let http = HttpClient::builder().body_limit(1024).build().unwrap();
    let err = http
        .send(ApiRequest::get(url(&server, "/big")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(err.to_string().contains("1024-byte limit"), "{err}");
    let ok = http
        .send(ApiRequest::get(url(&server, "/small")))
        .await
        .unwrap();
    assert_eq!(ok.body().len(), 1024);
}

#[tokio::test]
async fn timeouts_retry_reads_and_report_writes_as_maybe_sent() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let http = client(fast_retries().with_max_attempts(2));

    let err = http
        .send(ApiRequest::get(url(&server, "/slow")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    server.reset().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = http
        .send(ApiRequest::post(url(&server, "/slow")).operation("pages.publish"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_out_for_reads() {
    let server = MockServer::start().await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let resp = client(fast_retries())
        .send(ApiRequest::get(url(&server, "/limited")).platform(PlatformId::PINTEREST))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn retry_after_as_http_date_is_reported_for_writes() {
    let server = MockServer::start().await;
    let at = SystemTime::now() + Duration::from_secs(30);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429).insert_header("retry-after", httpdate::fmt_http_date(at)),
        )
        .mount(&server)
        .await;
    let resp = client(fast_retries())
        .send(ApiRequest::post(url(&server, "/publish")))
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let err = resp.error_for_status().unwrap_err();
    match err.kind() {
        ErrorKind::Throttled {
            retry_after: Some(wait),
        } => assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30)),
        other => panic!("expected Throttled with a wait, got {other:?}"),
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_not_waited_out() {
    let server = MockServer::start().await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let resp = client(fast_retries())
        .send(ApiRequest::get(url(&server, "/limited")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        resp.error_for_status().unwrap_err().kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_get_and_not_for_post() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let http = client(fast_retries());

    let resp = http
        .send(ApiRequest::get(url(&server, "/r")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gets = server.received_requests().await.unwrap().len();
    assert_eq!(gets, 3);

    let resp = http
        .send(ApiRequest::post(url(&server, "/w")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(server.received_requests().await.unwrap().len(), gets + 1);
    assert_eq!(
        resp.error_for_status().unwrap_err().kind(),
        ErrorKind::MaybeSent
    );
}

#[tokio::test]
async fn an_empty_retry_budget_stops_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    // Room for exactly one retry in the whole client.
    let http = client(fast_retries().with_budget(5));
    http.send(ApiRequest::get(url(&server, "/a")))
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    http.send(ApiRequest::get(url(&server, "/b")))
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn connection_failures_are_retried_even_for_posts() {
    // Bind then drop a listener: the port refuses connections, which is "before sending".
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = client(fast_retries());
    let err = http
        .send(ApiRequest::post(
            Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
}

#[tokio::test]
async fn requests_carry_user_agent_and_bearer() {
    let server = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    client(fast_retries())
        .send(
            ApiRequest::get(url(&server, "/me"))
                .bearer(socialconnect_core::secret::AccessToken::new("tok")),
        )
        .await
        .unwrap();
    let req = &server.received_requests().await.unwrap()[0];
    let ua = req.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("socialconnect/"), "{ua}");
    assert_eq!(req.headers.get("authorization").unwrap(), "Bearer tok");
}

#[tokio::test]
async fn a_long_platform_pause_fails_fast_for_every_later_call() {
    let server = MockServer::start().await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let http = client(fast_retries());
    let req = || ApiRequest::get(url(&server, "/limited")).platform(PlatformId::LINKEDIN);
    http.send(req()).await.unwrap();
    let err = http.send(req()).await.unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Throttled { retry_after: Some(w) } if w > Duration::from_secs(3500)
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(http.platform_pause(&PlatformId::LINKEDIN) > Duration::from_secs(3500));
    assert_eq!(http.platform_pause(&PlatformId::TIKTOK), Duration::ZERO);
}
