//! Meta's webhooks over real HTTP: the `hub.challenge` handshake, signed deliveries verified
//! over the raw body and deduplicated, every way a delivery is refused, the body limit, and
//! the bounded queue's back-pressure. TikTok's and the routing's in `webhooks_tiktok.rs`.

mod common;

use common::{Host, Options, VERIFY_TOKEN};
use reqwest::StatusCode;
use socialconnect_axum::webhooks::WebhookEvent;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{ChallengeRefusal, SignatureFormat, sign_header};
use socialconnect_meta::model::webhook::MetaEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A Page feed delivery for page `page`, one change per post in `posts`, as Meta sends it.
fn feed_batch(page: &str, posts: &[&str]) -> Vec<u8> {
    let changes: Vec<serde_json::Value> = posts
        .iter()
        .map(|post| {
            serde_json::json!({
                "field": "feed",
                "value": {"item": "status", "verb": "add", "post_id": format!("{page}_{post}"), "message": "hello"}
            })
        })
        .collect();
    serde_json::json!({
        "object": "page",
        "entry": [{"id": page, "time": 1_700_000_000, "changes": changes}]
    })
    .to_string()
    .into_bytes()
}

fn signature(host: &Host, body: &[u8]) -> String {
    sign_header(
        &WebhookSecret::new(host.meta.app_secret()),
        body,
        SignatureFormat::META,
    )
}

async fn post_signed(host: &Host, body: &[u8], signature: Option<&str>) -> reqwest::Response {
    let mut request = host
        .api()
        .post(host.url("/webhooks/meta"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    request.send().await.unwrap()
}

async fn deliver(host: &Host, body: &[u8]) -> reqwest::Response {
    post_signed(host, body, Some(&signature(host, body))).await
}

/// The post ids of the queued Meta feed events, draining the queue.
fn drain_posts(host: &mut Host) -> Vec<String> {
    host.drain_events()
        .into_iter()
        .map(|event| match event {
            WebhookEvent::Meta(event) => match *event {
                MetaEvent::PageFeed(change) => change.post_id.unwrap_or_default(),
                other => panic!("unexpected Meta event {other:?}"),
            },
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

async fn handshake(host: &Host, query: &str) -> reqwest::Response {
    host.api()
        .get(host.url(&format!("/webhooks/meta?{query}")))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_handshake_echoes_the_challenge_for_the_right_token_only() {
    let host = Host::start().await;
    let ok = handshake(
        &host,
        &format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let content_type = ok.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(ok.text().await.unwrap(), "1158201444");

    for (query, refusal) in [
        (
            "hub.mode=subscribe&hub.verify_token=not-it&hub.challenge=1".to_owned(),
            ChallengeRefusal::TokenMismatch,
        ),
        (
            format!("hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"),
            ChallengeRefusal::WrongMode,
        ),
        (
            format!(
                "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1&hub.challenge=2"
            ),
            ChallengeRefusal::DuplicateParameter,
        ),
        (
            // The same parameter under both of its spellings is a duplicate too.
            format!(
                "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub_verify_token={VERIFY_TOKEN}&hub.challenge=1"
            ),
            ChallengeRefusal::DuplicateParameter,
        ),
    ] {
        let refused = handshake(&host, &query).await;
        assert_eq!(refused.status().as_u16(), refusal.status(), "{query}");
        assert!(refused.text().await.unwrap().is_empty(), "{query}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_delivery_is_queued_once_and_its_repeat_is_acknowledged_without_an_event() {
    let mut host = Host::start().await;
    let body = feed_batch("1001", &["1"]);
    let first = deliver(&host, &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    match host
        .events
        .try_recv()
        .expect("the event is queued before the answer")
    {
        WebhookEvent::Meta(event) => match *event {
            MetaEvent::PageFeed(change) => {
                assert_eq!(change.page_id, "1001");
                assert_eq!(change.post_id.as_deref(), Some("1001_1"));
                assert_eq!(change.message.as_deref(), Some("hello"));
            }
            other => panic!("unexpected Meta event {other:?}"),
        },
        other => panic!("unexpected event {other:?}"),
    }

    // Meta retries with the very same bytes: acknowledged, nothing new for the host.
    let again = deliver(&host, &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    host.assert_nothing_queued();
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_missing_or_reserialized_signatures_are_refused_and_queue_nothing() {
    let mut host = Host::start().await;
    let body = feed_batch("1002", &["1"]);
    let wrong_key = sign_header(
        &WebhookSecret::new("not-the-app-secret"),
        &body,
        SignatureFormat::META,
    );
    let mut flipped = signature(&host, &body);
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    // The same JSON, laid out differently: what a body-parsing framework would re-serialize.
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let over_reserialized = signature(&host, &pretty);
    for sig in [
        Some(wrong_key.as_str()),
        Some(flipped.as_str()),
        Some("sha256="),
        Some("sha1=0123"),
        None,
    ] {
        let refused = post_signed(&host, &body, sig).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{sig:?}");
    }
    let refused = post_signed(&host, &body, Some(&over_reserialized)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    host.assert_nothing_queued();

    // None of the refusals was recorded as seen: the genuine delivery is still first.
    assert_eq!(deliver(&host, &body).await.status(), StatusCode::OK);
    assert_eq!(drain_posts(&mut host), ["1002_1"]);
}

/// Sends `body` in a hand-written HTTP/1.1 request with the signature under exactly `name`
/// (reqwest would write the name in lower case); returns the status code.
async fn raw_post_with_header(host: &Host, name: &str, body: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(host.server.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST /webhooks/meta HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{name}: {}\r\nConnection: close\r\n\r\n",
        host.server.local_addr(),
        body.len(),
        signature(host, body),
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signature_header_name_is_matched_in_any_case() {
    let mut host = Host::start().await;
    for (n, name) in [
        "X-Hub-Signature-256",
        "x-hub-signature-256",
        "X-HUB-SIGNATURE-256",
    ]
    .into_iter()
    .enumerate()
    {
        let post = (n + 1).to_string();
        let body = feed_batch("1003", &[post.as_str()]);
        assert_eq!(
            raw_post_with_header(&host, name, &body).await,
            200,
            "{name}"
        );
    }
    assert_eq!(drain_posts(&mut host), ["1003_1", "1003_2", "1003_3"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_413_and_nothing_is_queued() {
    let mut host = Host::start().await;
    // The harness's body limit is 64 KiB; a correctly signed, well-formed batch just over it.
    let big = "x".repeat(64 * 1024);
    let body = serde_json::json!({
        "object": "page",
        "entry": [{"id": "1004", "changes": [{"field": "feed", "value": {"item": "status", "verb": "add", "message": big}}]}]
    })
    .to_string()
    .into_bytes();
    assert!(body.len() > 64 * 1024);
    let refused = deliver(&host, &body).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    host.assert_nothing_queued();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_body_that_is_not_a_meta_batch_is_refused_and_queues_nothing() {
    let mut host = Host::start().await;
    for body in [
        &b"<html><body>Bad gateway</body></html>"[..],
        br#"{"object":"page","entry":[{"id":"1005","changes":[{"field":"feed""#,
        b"",
        br#"["not", "an", "object"]"#,
    ] {
        let refused = deliver(&host, body).await;
        assert!(
            refused.status().is_client_error(),
            "{}: {}",
            String::from_utf8_lossy(body),
            refused.status()
        );
        assert_ne!(refused.status(), StatusCode::UNAUTHORIZED, "it is signed");
    }
    host.assert_nothing_queued();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_answers_503_with_retry_after_and_the_retry_is_accepted_after_draining() {
    let mut host = Host::start_with(Options {
        queue: 1,
        ..Options::default()
    })
    .await;
    let first = feed_batch("1006", &["1"]);
    let second = feed_batch("1006", &["2"]);
    assert_eq!(deliver(&host, &first).await.status(), StatusCode::OK);

    // Not drained: the second delivery finds the queue full.
    let full = deliver(&host, &second).await;
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after: u64 = full.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);

    // The host drains; Meta's retry of the same bytes is then a first delivery, not a repeat.
    assert_eq!(drain_posts(&mut host), ["1006_1"]);
    assert_eq!(deliver(&host, &second).await.status(), StatusCode::OK);
    assert_eq!(drain_posts(&mut host), ["1006_2"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_that_does_not_fit_the_queue_is_refused_whole_so_its_retry_duplicates_nothing() {
    let mut host = Host::start_with(Options {
        queue: 2,
        ..Options::default()
    })
    .await;
    let first = feed_batch("1007", &["1"]);
    let batch = feed_batch("1007", &["2", "3"]);
    assert_eq!(deliver(&host, &first).await.status(), StatusCode::OK);

    // One slot left for a batch of two events: none of it may reach the host, or Meta's retry
    // would hand the host its first event twice.
    let full = deliver(&host, &batch).await;
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(full.headers().contains_key("retry-after"));
    assert_eq!(drain_posts(&mut host), ["1007_1"]);

    assert_eq!(deliver(&host, &batch).await.status(), StatusCode::OK);
    assert_eq!(drain_posts(&mut host), ["1007_2", "1007_3"]);
}
