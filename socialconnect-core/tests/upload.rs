//! Uploads against wiremock on loopback: streamed bodies, single and chunked PUTs, multipart
//! forms.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use socialconnect_core::ErrorKind;
use socialconnect_core::http::{ApiRequest, ByteStream, HttpClient, RetryPolicy, StreamingBody};
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_secs(5))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}

fn url(server: &MockServer, p: &str) -> Url {
    Url::parse(&format!("{}{p}", server.uri())).unwrap()
}

/// A body of `parts` chunks of `part_len` bytes each, counting how often it is opened.
fn counted_body(parts: usize, part_len: usize, opened: Arc<AtomicUsize>) -> StreamingBody {
    StreamingBody::new(
        "video/mp4",
        (parts * part_len) as u64,
        move || -> ByteStream {
            opened.fetch_add(1, Ordering::SeqCst);
            let chunks = (0..parts).map(move |i| Ok(Bytes::from(vec![b'a' + i as u8; part_len])));
            Box::pin(futures_util::stream::iter(chunks))
        },
    )
}

#[tokio::test]
async fn a_streamed_body_is_sent_with_its_length_and_reopened_on_retry() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/up"))
        .and(header("content-length", "3000"))
        .and(header("content-type", "video/mp4"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let opened = Arc::new(AtomicUsize::new(0));
    let req = ApiRequest::new(http::Method::PUT, url(&server, "/up"))
        .streaming_body(counted_body(3, 1000, opened.clone()))
        .timeout(Duration::from_secs(2));
    let resp = client().send(req).await.unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(opened.load(Ordering::SeqCst), 2, "one open per attempt");
    let received = server.received_requests().await.unwrap();
    let last = received.last().unwrap();
    let mut want = vec![b'a'; 1000];
    want.extend(vec![b'b'; 1000]);
    want.extend(vec![b'c'; 1000]);
    assert_eq!(last.body, want);
}

#[tokio::test]
async fn a_stream_that_fails_midway_is_an_error_not_a_short_upload() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let body = StreamingBody::new("application/octet-stream", 10, || -> ByteStream {
        Box::pin(futures_util::stream::iter([
            Ok(Bytes::from_static(b"12345")),
            Err(std::io::Error::other("disk gone")),
        ]))
    });
    let err = client()
        .send(ApiRequest::post(url(&server, "/up")).streaming_body(body))
        .await
        .unwrap_err();
    // A POST whose body broke after it started may have been seen upstream.
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert!(
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.body.len() == 10),
        "no truncated body is accepted as complete"
    );
}
