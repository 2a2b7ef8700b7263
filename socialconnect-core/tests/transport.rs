//! The transport seam with closure transports: the exact request on the wire, and how each
//! failure stage is retried or reported, without a server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use socialconnect_core::ErrorKind;
use socialconnect_core::http::{
    ApiRequest, FailureStage, HttpClient, ResponseBody, RetryPolicy, TransportError,
    TransportRequest, TransportResponse,
};
use socialconnect_core::secret::{AccessToken, ClientSecret};
use url::Url;

fn url(p: &str) -> Url {
    Url::parse(&format!("https://api.example.com{p}")).unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
}

/// A client whose transport fails every attempt at `stage`, counting the attempts.
fn failing(stage: FailureStage) -> (HttpClient, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let http = HttpClient::builder()
        .retry(fast_retries())
        .transport(move |_req: TransportRequest| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { Err(TransportError::new(stage, "simulated failure")) }
        })
        .build()
        .unwrap();
    (http, calls)
}

#[tokio::test]
async fn the_transport_sees_the_exact_request() {
    let seen = Arc::new(std::sync::Mutex::new(None::<TransportRequest>));
    let slot = seen.clone();
    let http = HttpClient::builder()
        .user_agent_suffix("host/2")
        .transport(move |req: TransportRequest| {
            *slot.lock().unwrap() = Some(req);
            async { Ok(TransportResponse::new(201, "{}").with_header("x-trace", "t1")) }
        })
        .build()
        .unwrap();
    let resp = http
        .send(
            ApiRequest::post(url("/v1/posts"))
                .query(&[("fields", "id,name")])
                .json(&serde_json::json!({"text": "hi"}))
                .unwrap()
                .header("x-custom", "1")
                .unwrap()
                .bearer(AccessToken::new("tok-1")),
        )
        .await
        .unwrap();
    assert_eq!((resp.status(), resp.header("x-trace")), (201, Some("t1")));
    let req = seen.lock().unwrap().take().unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(
        req.uri(),
        "https://api.example.com/v1/posts?fields=id%2Cname"
    );
    let h = req.headers();
    assert_eq!(h["authorization"], "Bearer tok-1");
    assert!(h["authorization"].is_sensitive());
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["x-custom"], "1");
    let ua = h["user-agent"].to_str().unwrap();
    assert!(
        ua.starts_with("socialconnect/") && ua.ends_with(" host/2"),
        "{ua}"
    );
    assert_eq!(req.body().as_bytes().unwrap().as_ref(), br#"{"text":"hi"}"#);
}

#[tokio::test]
async fn basic_auth_and_form_bodies_are_encoded() {
    let seen = Arc::new(std::sync::Mutex::new(None::<TransportRequest>));
    let slot = seen.clone();
    let http = HttpClient::builder()
        .transport(move |req: TransportRequest| {
            *slot.lock().unwrap() = Some(req);
            async { Ok(TransportResponse::new(200, "")) }
        })
        .build()
        .unwrap();
    http.send(
        ApiRequest::post(url("/oauth/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "r t")])
            .basic_auth("client", ClientSecret::new("s3cret")),
    )
    .await
    .unwrap();
    let req = seen.lock().unwrap().take().unwrap();
    // base64("client:s3cret")
    assert_eq!(req.headers()["authorization"], "Basic Y2xpZW50OnMzY3JldA==");
    assert_eq!(
        req.headers()["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        req.body().as_bytes().unwrap().as_ref(),
        b"grant_type=refresh_token&refresh_token=r+t"
    );
}

#[tokio::test]
async fn before_send_failures_are_retried_even_for_writes() {
    let (http, calls) = failing(FailureStage::BeforeSend);
    let err = http.send(ApiRequest::post(url("/w"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn after_send_failures_make_a_write_maybe_sent_and_are_not_retried() {
    let (http, calls) = failing(FailureStage::AfterSend);
    let err = http.send(ApiRequest::post(url("/w"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (http, calls) = failing(FailureStage::AfterSend);
    let err = http.send(ApiRequest::get(url("/r"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn transport_timeouts_follow_the_same_rule() {
    let (http, calls) = failing(FailureStage::Timeout);
    let err = http.send(ApiRequest::post(url("/w"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let (http, calls) = failing(FailureStage::Timeout);
    let err = http.send(ApiRequest::get(url("/r"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_total_timeout_bounds_a_slow_transport() {
    let http = HttpClient::builder()
        .timeout(Duration::from_millis(50))
        .retry(RetryPolicy::none())
        .transport(|_req: TransportRequest| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(TransportResponse::new(200, ""))
        })
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = http.send(ApiRequest::post(url("/w"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_streamed_body_past_the_cap_is_refused_without_reading_it_all() {
    let pulled = Arc::new(AtomicU32::new(0));
    let counter = pulled.clone();
    let http = HttpClient::builder()
        .body_limit(1024)
        .transport(move |_req: TransportRequest| {
            let counter = counter.clone();
            async move {
                // An endless body of 512-byte chunks.
                let chunks = futures_util::stream::repeat_with(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(Bytes::from(vec![b'x'; 512]))
                });
                Ok(TransportResponse {
                    status: http::StatusCode::OK,
                    headers: http::HeaderMap::new(),
                    body: ResponseBody::stream(chunks),
                })
            }
        })
        .build()
        .unwrap();
    let err = http.send(ApiRequest::get(url("/big"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(err.to_string().contains("1024-byte limit"), "{err}");
    assert!(pulled.load(Ordering::SeqCst) <= 3);
}

#[tokio::test]
async fn a_body_that_breaks_off_makes_a_write_maybe_sent() {
    let http = HttpClient::builder()
        .retry(fast_retries())
        .transport(|_req: TransportRequest| async {
            let chunks = futures_util::stream::iter(vec![
                Ok(Bytes::from_static(b"{\"id\":")),
                // A transport that (wrongly) calls a mid-body failure "before send".
                Err(TransportError::before_send("connection reset")),
            ]);
            Ok(TransportResponse {
                status: http::StatusCode::OK,
                headers: http::HeaderMap::new(),
                body: ResponseBody::stream(chunks),
            })
        })
        .build()
        .unwrap();
    let err = http.send(ApiRequest::post(url("/w"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert!(err.to_string().contains("connection reset"), "{err}");
}

#[tokio::test]
async fn the_https_rule_holds_above_any_transport() {
    let (http, calls) = failing(FailureStage::BeforeSend);
    let err = http
        .send(ApiRequest::get(Url::parse("http://example.com/x").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn documented_operation_windows_space_calls_before_the_platform_refuses_them() {
    use socialconnect_core::http::{PlatformLimits, Window};
    use socialconnect_core::id::PlatformId;
    let http = HttpClient::builder()
        .rate_limits(
            PlatformId::TIKTOK,
            PlatformLimits::default()
                .with_operation("post.init", Window::new(2, Duration::from_millis(300))),
        )
        .transport(|_req: TransportRequest| async { Ok(TransportResponse::new(200, "{}")) })
        .build()
        .unwrap();
    let send = |op: &'static str| {
        http.send(
            ApiRequest::post(url("/v2/post/publish/video/init/"))
                .platform(PlatformId::TIKTOK)
                .operation(op),
        )
    };
    let start = std::time::Instant::now();
    send("post.init").await.unwrap();
    send("post.init").await.unwrap();
    send("creator.info").await.unwrap();
    assert!(start.elapsed() < Duration::from_millis(100));
    send("post.init").await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(120));
}
