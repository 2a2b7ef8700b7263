//! Videos against wiremock: initializeUpload with the size, one PUT per part of exactly its
//! bytes (streamed from a file, no bearer token on the presigned URLs), a transient part failure
//! resent, an interrupted upload resumed from its part, finalizeUpload with the etags in order,
//! the status polled to AVAILABLE and a post carrying the video; instructions that do not cover
//! the file or leave LinkedIn's hosts refused before any byte is sent.

mod common;

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use socialconnect_core::ErrorKind;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::id::Purpose;
use socialconnect_linkedin::Urn;
use socialconnect_linkedin::posts::Post;
use socialconnect_testkit::{JsonMock, fixture};
use wiremock::matchers::{body_bytes, body_json, method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

use common::env;

const VIDEO: &str = "urn:li:video:C5F10AQGKQg_6y2a4sQ";
const PART: usize = 4 * 1024 * 1024;
const SIZE: usize = 2 * PART + 10;

/// A file whose part `i` is filled with the byte `i + 1`, so each PUT's body shows its range.
fn clip() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for (i, len) in [PART, PART, 10].into_iter().enumerate() {
        file.write_all(&vec![i as u8 + 1; len]).unwrap();
    }
    file.flush().unwrap();
    file
}

fn part_bytes(i: usize) -> Vec<u8> {
    vec![i as u8 + 1; if i < 2 { PART } else { 10 }]
}

fn no_bearer(req: &Request) -> bool {
    !req.headers.contains_key("authorization")
}

async fn mount_init(env: &common::Env, fixture: serde_json::Value) {
    JsonMock::new("POST", "/rest/videos", fixture)
        .replace("{{BASE}}", &env.server.uri())
        .and(query_param("action", "initializeUpload"))
        .and(body_json(json!({ "initializeUploadRequest": {
            "owner": "urn:li:person:A1b2C3d4E5",
            "fileSizeBytes": SIZE,
            "uploadCaptions": false,
            "uploadThumbnail": false,
        }})))
        .expect(1)
        .mount(&env.server)
        .await;
}

async fn mount_part(env: &common::Env, i: usize, times: u64) {
    Mock::given(method("PUT"))
        .and(path(format!("/dms-uploads/video/part/{i}")))
        .and(no_bearer)
        .and(body_bytes(part_bytes(i)))
        .respond_with(ResponseTemplate::new(200).insert_header("etag", format!("\"etag-{i}\"")))
        .expect(times)
        .mount(&env.server)
        .await;
}

async fn mount_finalize(env: &common::Env) {
    Mock::given(method("POST"))
        .and(path("/rest/videos"))
        .and(query_param("action", "finalizeUpload"))
        .and(body_json(json!({ "finalizeUploadRequest": {
            "video": VIDEO,
            "uploadToken": "",
            "uploadedPartIds": ["\"etag-0\"", "\"etag-1\"", "\"etag-2\""],
        }})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&env.server)
        .await;
}

fn member() -> Urn {
    Urn::person("A1b2C3d4E5").unwrap()
}

#[tokio::test]
async fn a_video_is_uploaded_in_parts_finalized_polled_and_posted() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let file = clip();
    mount_init(&env, fixture!("videos/init")).await;
    for i in 0..3 {
        mount_part(&env, i, 1).await;
    }
    mount_finalize(&env).await;
    let status = "/rest/videos/urn%3Ali%3Avideo%3AC5F10AQGKQg_6y2a4sQ";
    JsonMock::new("GET", status, fixture!("videos/status_processing"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    JsonMock::new("GET", status, fixture!("videos/status_available"))
        .mount(&env.server)
        .await;

    let video = env
        .client
        .upload_video(&session, &member(), file.path())
        .await
        .unwrap();
    assert_eq!(video.as_str(), VIDEO);
    let budget = PollBudget::new(Duration::from_millis(5)).max_attempts(10);
    let outcome = env
        .client
        .wait_for_video(&session, &video, &budget)
        .await
        .unwrap();
    assert!(
        matches!(outcome, PollOutcome::Done { ref value, .. } if value == &video),
        "{outcome:?}"
    );

    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(|req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            body["content"] == json!({ "media": { "id": VIDEO } })
        })
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", "urn:li:share:9"))
        .expect(1)
        .mount(&env.server)
        .await;
    let post = Post::new(member(), "Our launch video").with_video(video);
    env.client.create_post(&session, &post).await.unwrap();
}

#[tokio::test]
async fn a_part_failing_transiently_is_resent_and_an_interrupted_upload_resumes_from_its_part() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let file = clip();
    mount_init(&env, fixture!("videos/init")).await;
    mount_part(&env, 0, 1).await;
    // Part 1: a 503 is resent (same bytes, same URL); then a 403 stops the upload.
    Mock::given(method("PUT"))
        .and(path("/dms-uploads/video/part/1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/dms-uploads/video/part/1"))
        .respond_with(ResponseTemplate::new(403))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(2)
        .mount(&env.server)
        .await;
    mount_part(&env, 1, 1).await;
    mount_part(&env, 2, 1).await;
    mount_finalize(&env).await;

    let upload = env
        .client
        .initialize_video_upload(&session, &member(), SIZE as u64)
        .await
        .unwrap();
    assert_eq!(upload.parts(), 3);
    let stopped = env
        .client
        .upload_video_parts(&session, &upload, file.path(), 0)
        .await
        .unwrap_err();
    assert_eq!(stopped.next_chunk, 1, "{stopped}");
    let mut etags = vec!["\"etag-0\"".to_owned()];
    etags.extend(
        env.client
            .upload_video_parts(&session, &upload, file.path(), stopped.next_chunk)
            .await
            .unwrap(),
    );
    env.client
        .finalize_video_upload(&session, &upload, &etags)
        .await
        .unwrap();
}

#[tokio::test]
async fn instructions_that_leave_a_gap_or_linkedins_hosts_are_refused_before_any_byte() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    mount_init(&env, fixture!("videos/init_gap")).await;
    let err = env
        .client
        .initialize_video_upload(&session, &member(), SIZE as u64)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform, "{err}");

    let env = common::env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("POST", "/rest/videos", fixture!("videos/init_elsewhere"))
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .initialize_video_upload(&session, &member(), 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // An empty file is refused locally.
    let err = env
        .client
        .initialize_video_upload(&session, &member(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_file_not_the_declared_size_and_a_wrong_etag_count_send_nothing() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    mount_init(&env, fixture!("videos/init")).await;
    let upload = env
        .client
        .initialize_video_upload(&session, &member(), SIZE as u64)
        .await
        .unwrap();
    let mut short = tempfile::NamedTempFile::new().unwrap();
    short.write_all(&[1; 100]).unwrap();
    let err = env
        .client
        .upload_video_parts(&session, &upload, short.path(), 0)
        .await
        .unwrap_err();
    assert_eq!(
        (err.next_chunk, err.error.kind()),
        (0, ErrorKind::InvalidInput)
    );
    let err = env
        .client
        .finalize_video_upload(&session, &upload, &["\"etag-0\"".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // The catch-all would have answered anything else sent (and failed the test on drop).
}

#[tokio::test]
async fn a_failed_initialize_is_maybe_sent_and_sent_once() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    Mock::given(method("POST"))
        .and(path("/rest/videos"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .initialize_video_upload(&session, &member(), 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
}
