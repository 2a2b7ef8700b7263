//! Images against wiremock: initializeUpload's body, one streamed PUT with the member's token
//! to the upload URL, the status polled to AVAILABLE, a post carrying the image (and a
//! multi-image post), and an upload URL off LinkedIn's hosts refused.

mod common;

use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use socialconnect_core::ErrorKind;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::http::{ByteStream, StreamingBody};
use socialconnect_core::id::Purpose;
use socialconnect_linkedin::Urn;
use socialconnect_linkedin::media::MediaStatus;
use socialconnect_linkedin::posts::Post;
use socialconnect_testkit::{JsonMock, fixture};
use wiremock::matchers::{body_json, header, method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use common::{USER_TOKEN, env};

const IMAGE: &str = "urn:li:image:C4E10AQFoyyAjHPMQuQ";

fn jpeg(len: usize) -> StreamingBody {
    StreamingBody::new("image/jpeg", len as u64, move || -> ByteStream {
        Box::pin(futures_util::stream::iter([Ok(Bytes::from(vec![
            0xFF;
            len
        ]))]))
    })
}

#[tokio::test]
async fn an_image_is_initialized_uploaded_polled_and_posted() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let member = Urn::person("A1b2C3d4E5").unwrap();
    JsonMock::new("POST", "/rest/images", fixture!("images/init"))
        .replace("{{BASE}}", &env.server.uri())
        .and(body_json(
            json!({ "initializeUploadRequest": { "owner": "urn:li:person:A1b2C3d4E5" } }),
        ))
        .and(wiremock::matchers::query_param(
            "action",
            "initializeUpload",
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/dms-uploads/sp/v2/D4E10AQ"))
        .and(header(
            "authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .and(header("content-length", "2048"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new(
        "GET",
        "/rest/images/urn%3Ali%3Aimage%3AC4E10AQFoyyAjHPMQuQ",
        fixture!("images/processing"),
    )
    .up_to_n_times(2)
    .priority(1)
    .mount(&env.server)
    .await;
    JsonMock::new(
        "GET",
        "/rest/images/urn%3Ali%3Aimage%3AC4E10AQFoyyAjHPMQuQ",
        fixture!("images/available"),
    )
    .mount(&env.server)
    .await;

    let upload = env
        .client
        .initialize_image_upload(&session, &member)
        .await
        .unwrap();
    assert_eq!(upload.image.as_str(), IMAGE);
    assert!(
        !format!("{upload:?}").contains("ca=vector"),
        "the capability URL stays out of Debug"
    );
    env.client
        .upload_image(&session, &upload, jpeg(2048))
        .await
        .unwrap();
    let budget = PollBudget::new(Duration::from_millis(5)).max_attempts(10);
    let outcome = env
        .client
        .wait_for_image(&session, &upload.image, &budget)
        .await
        .unwrap();
    let PollOutcome::Done { value, attempts } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((value.as_str(), attempts), (IMAGE, 3));

    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(body_json(json!({
            "author": "urn:li:person:A1b2C3d4E5",
            "commentary": "With a picture",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
            "content": { "media": { "id": IMAGE } }
        })))
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", "urn:li:share:9"))
        .expect(1)
        .mount(&env.server)
        .await;
    let post = Post::new(member, "With a picture").with_image(upload.image.clone());
    env.client.create_post(&session, &post).await.unwrap();
}

#[tokio::test]
async fn a_multi_image_post_lists_its_images() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let images: Vec<Urn> = ["urn:li:image:A", "urn:li:image:B"]
        .iter()
        .map(|u| Urn::parse(u).unwrap())
        .collect();
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(|r: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            body["content"] == json!({ "multiImage": { "images": [{ "id": "urn:li:image:A" }, { "id": "urn:li:image:B" }] } })
        })
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", "urn:li:share:10"))
        .expect(1)
        .mount(&env.server)
        .await;
    let post = Post::new(Urn::person("A1b2C3d4E5").unwrap(), "two").with_images(images);
    env.client.create_post(&session, &post).await.unwrap();
}

#[tokio::test]
async fn an_upload_url_off_linkedin_is_refused_and_a_failed_image_is_an_outcome() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("POST", "/rest/images", fixture!("images/init_foreign"))
        .mount(&env.server)
        .await;
    let err = env
        .client
        .initialize_image_upload(&session, &Urn::person("A1b2C3d4E5").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");

    Mock::given(method("GET"))
        .and(path_regex("^/rest/images/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "status": "PROCESSING_FAILED" })),
        )
        .mount(&env.server)
        .await;
    let budget = PollBudget::new(Duration::from_millis(5)).max_attempts(3);
    let outcome = env
        .client
        .wait_for_image(&session, &Urn::parse(IMAGE).unwrap(), &budget)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            PollOutcome::Failed {
                status: MediaStatus::ProcessingFailed,
                ..
            }
        ),
        "{outcome:?}"
    );
}
