//! Uploads against wiremock on loopback: streamed bodies, single and chunked PUTs, multipart
//! forms.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use socialconnect_core::ErrorKind;
use socialconnect_core::connect::upload::{
    ChunkPlan, ChunkRules, ChunkedUpload, MultipartForm, file_body, reader_body,
};
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

// ---------------------------------------------------------------------------------------------
// Upload helpers

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

/// 55 bytes, each its own offset mod 256, so a misplaced range shows.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}

fn put(server: &MockServer) -> ApiRequest {
    ApiRequest::new(http::Method::PUT, url(server, "/upload")).operation("test.upload")
}

fn header_of(r: &wiremock::Request, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_single_put_streams_the_file() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let data = content(200_000);
    let file = temp_file(&data);
    let body = file_body(file.path(), "image/jpeg").await.unwrap();
    assert_eq!(body.length(), 200_000);
    let resp = client()
        .send(put(&server).streaming_body(body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, data);
    assert_eq!(header_of(&got[0], "content-length"), "200000");
    assert_eq!(header_of(&got[0], "content-type"), "image/jpeg");
}

#[tokio::test]
async fn a_missing_file_is_invalid_input() {
    let err = file_body("/nonexistent/socialconnect/video.mp4", "video/mp4")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!err.to_string().contains("/nonexistent"), "{err}");
}

#[tokio::test]
async fn a_reader_body_is_sent_once_and_never_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let body = reader_body(std::io::Cursor::new(content(10)), 10, "video/mp4");
    let err = client()
        .send(put(&server).streaming_body(body).idempotent(false))
        .await;
    // Not idempotent: one attempt, and its 503 comes back as is.
    assert_eq!(err.unwrap().status(), 503);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

fn small_rules() -> ChunkRules {
    ChunkRules::new(10, 20, 1000)
}

#[tokio::test]
async fn chunks_carry_their_content_range_in_order() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(206))
        .mount(&server)
        .await;
    let data = content(55);
    let file = temp_file(&data);
    let plan = ChunkPlan::new(55, 10, &small_rules()).unwrap();
    let http = client();
    let responses = ChunkedUpload::new(&http, put(&server), "video/mp4", plan)
        .upload_file(file.path(), 0)
        .await
        .unwrap();
    assert_eq!(responses.len(), 6);
    assert!(responses.iter().all(|r| r.status() == 206));
    let got = server.received_requests().await.unwrap();
    let ranges: Vec<String> = got.iter().map(|r| header_of(r, "content-range")).collect();
    assert_eq!(
        ranges,
        [
            "bytes 0-9/55",
            "bytes 10-19/55",
            "bytes 20-29/55",
            "bytes 30-39/55",
            "bytes 40-49/55",
            "bytes 50-54/55"
        ]
    );
    let sent: Vec<u8> = got.iter().flat_map(|r| r.body.clone()).collect();
    assert_eq!(sent, data);
    assert!(
        got.iter()
            .all(|r| header_of(r, "content-type") == "video/mp4")
    );
}

#[tokio::test]
async fn a_truncated_chunk_acknowledgement_resends_the_chunk() {
    let server = MockServer::start().await;
    // The first answer acknowledges only bytes 0-4 of the 0-9 chunk.
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(206).insert_header("range", "bytes=0-4"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(206).insert_header("range", "bytes=0-19"))
        .mount(&server)
        .await;
    let file = temp_file(&content(20));
    let plan = ChunkPlan::new(20, 10, &small_rules()).unwrap();
    let http = client();
    ChunkedUpload::new(&http, put(&server), "video/mp4", plan)
        .upload_file(file.path(), 0)
        .await
        .unwrap();
    let ranges: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| header_of(r, "content-range"))
        .collect();
    assert_eq!(ranges, ["bytes 0-9/20", "bytes 0-9/20", "bytes 10-19/20"]);
}

#[tokio::test]
async fn acknowledgements_that_stay_short_give_up_with_a_resume_point() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(206).insert_header("range", "bytes 0-3"))
        .mount(&server)
        .await;
    let file = temp_file(&content(20));
    let plan = ChunkPlan::new(20, 10, &small_rules()).unwrap();
    let http = client();
    let err = ChunkedUpload::new(&http, put(&server), "video/mp4", plan)
        .chunk_attempts(2)
        .upload_file(file.path(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.next_chunk, 0);
    assert_eq!(err.error.kind(), ErrorKind::Transient);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_chunk_reports_where_to_resume_and_resuming_sends_only_the_rest() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(header("content-range", "bytes 20-29/55"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": {"code": "invalid_file_upload", "message": "bad chunk"}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(206))
        .mount(&server)
        .await;
    let data = content(55);
    let file = temp_file(&data);
    let plan = ChunkPlan::new(55, 10, &small_rules()).unwrap();
    let http = client();
    let upload = ChunkedUpload::new(&http, put(&server), "video/mp4", plan);
    let err = upload.upload_file(file.path(), 0).await.unwrap_err();
    assert_eq!(err.next_chunk, 2);
    assert_eq!(err.error.kind(), ErrorKind::InvalidInput);
    // 400 is not transient: no resend of the chunk.
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    upload.upload_file(file.path(), 2).await.unwrap();
    let got = server.received_requests().await.unwrap();
    let ranges: Vec<String> = got[3..]
        .iter()
        .map(|r| header_of(r, "content-range"))
        .collect();
    assert_eq!(
        ranges,
        [
            "bytes 20-29/55",
            "bytes 30-39/55",
            "bytes 40-49/55",
            "bytes 50-54/55"
        ]
    );
    assert_eq!(got[3].body, &data[20..30]);
}

#[tokio::test]
async fn a_file_that_is_not_the_planned_size_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(206))
        .mount(&server)
        .await;
    let file = temp_file(&content(54));
    let plan = ChunkPlan::new(55, 10, &small_rules()).unwrap();
    let http = client();
    let err = ChunkedUpload::new(&http, put(&server), "video/mp4", plan)
        .upload_file(file.path(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::InvalidInput);
    assert!(server.received_requests().await.unwrap().is_empty());
    // A reader that ends early stops at the chunk it could not fill.
    let mut short = std::io::Cursor::new(content(25));
    let err = ChunkedUpload::new(&http, put(&server), "video/mp4", plan)
        .upload_reader(&mut short, 0)
        .await
        .unwrap_err();
    assert_eq!(err.next_chunk, 2);
    assert_eq!(err.error.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_multipart_form_streams_fields_then_the_file() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bucket"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let data = content(3000);
    let file = temp_file(&data);
    let form = MultipartForm::new()
        .field("key", "uploads/abc")
        .field("x-amz-signature", "sig");
    let body = form
        .file_body("file", "video.mp4", "video/mp4", file.path())
        .await
        .unwrap();
    let length = body.length();
    let resp = client()
        .send(ApiRequest::post(url(&server, "/bucket")).streaming_body(body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let got = &server.received_requests().await.unwrap()[0];
    assert_eq!(got.body.len() as u64, length);
    assert_eq!(header_of(got, "content-length"), length.to_string());
    let ct = header_of(got, "content-type");
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
    let text = String::from_utf8_lossy(&got.body);
    let key = text.find("name=\"key\"\r\n\r\nuploads/abc\r\n").unwrap();
    let file_part = text.find("name=\"file\"; filename=\"video.mp4\"").unwrap();
    assert!(key < file_part, "the file is the last part");
    assert!(
        got.body
            .ends_with(format!("\r\n--{boundary}--\r\n").as_bytes())
    );
    let marker = b"Content-Type: video/mp4\r\n\r\n";
    let start = got
        .body
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap()
        + marker.len();
    assert_eq!(&got.body[start..start + data.len()], &data[..]);
}

#[tokio::test]
async fn per_part_urls_get_their_own_chunk_and_return_their_etags() {
    // LinkedIn style: one presigned URL per part, no Content-Range, ETags collected.
    let server = MockServer::start().await;
    for part in 0..3 {
        Mock::given(method("PUT"))
            .and(path(format!("/part/{part}")))
            .respond_with(
                ResponseTemplate::new(200).insert_header("etag", format!("\"etag-{part}\"")),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let data = content(25);
    let file = temp_file(&data);
    let plan = ChunkPlan::new(25, 10, &small_rules()).unwrap();
    let parts: Vec<ApiRequest> = (0..3)
        .map(|i| ApiRequest::new(http::Method::PUT, url(&server, &format!("/part/{i}"))))
        .collect();
    let http = client();
    assert!(ChunkedUpload::per_chunk(&http, parts[..2].to_vec(), "video/mp4", plan).is_err());
    let responses = ChunkedUpload::per_chunk(&http, parts, "video/mp4", plan)
        .unwrap()
        .without_content_range()
        .upload_file(file.path(), 0)
        .await
        .unwrap();
    let etags: Vec<&str> = responses
        .iter()
        .map(|r| r.header("etag").unwrap())
        .collect();
    assert_eq!(etags, ["\"etag-0\"", "\"etag-1\"", "\"etag-2\""]);
    let got = server.received_requests().await.unwrap();
    assert!(got.iter().all(|r| r.headers.get("content-range").is_none()));
    assert_eq!(got[2].url.path(), "/part/2");
    assert_eq!(got[2].body, &data[20..]);
}
