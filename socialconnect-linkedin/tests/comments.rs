//! Comments through `socialActions` against wiremock: the encoded post URN in the path, a
//! short page ending the listing, the create body, and a failed create never resent.

mod common;

use serde_json::json;
use socialconnect_core::ErrorKind;
use socialconnect_core::id::Purpose;
use socialconnect_linkedin::Urn;
use socialconnect_testkit::{JsonMock, fixture};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use common::env;

const PATH: &str = "/rest/socialActions/urn%3Ali%3Ashare%3A7130000000000000001/comments";

fn post() -> Urn {
    Urn::parse("urn:li:share:7130000000000000001").unwrap()
}

#[tokio::test]
async fn comments_are_listed_and_created() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("GET", PATH, fixture!("comments/page1"))
        .and(query_param("start", "0"))
        .expect(1)
        .mount(&env.server)
        .await;
    let page = env
        .client
        .comments_page(&session, &post(), None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].text.as_deref(), Some("Congrats!"));
    assert_eq!(page.items[0].created_at.unwrap().timestamp(), 1_701_000_000);
    assert!(page.next.is_none(), "a short page is the end");

    let org = Urn::organization("2414183").unwrap();
    JsonMock::new("POST", PATH, fixture!("comments/created"))
        .status(201)
        .and(body_json(json!({
            "actor": "urn:li:organization:2414183",
            "object": "urn:li:share:7130000000000000001",
            "message": { "text": "Thanks (all)!" }
        })))
        .expect(1)
        .mount(&env.server)
        .await;
    let c = env
        .client
        .create_comment(&session, &post(), &org, "Thanks (all)!")
        .await
        .unwrap();
    assert_eq!(
        c.id.as_deref(),
        Some("7130000000000000101"),
        "an id as a number, kept exact"
    );
}

#[tokio::test]
async fn a_failed_comment_is_maybe_sent_once_and_an_empty_one_is_refused_locally() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let member = Urn::person("A1b2C3d4E5").unwrap();
    let err = env
        .client
        .create_comment(&session, &post(), &member, "  ")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .create_comment(&session, &post(), &member, "hi")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn a_listing_answered_with_page_tokens_follows_them_to_the_end_through_the_kit_stream() {
    use futures_util::StreamExt;
    use socialconnect_core::connect::paging::Pages;
    use socialconnect_core::id::PlatformId;

    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("GET", PATH, fixture!("comments/token_page1"))
        .and(query_param("start", "0"))
        .expect(1)
        .mount(&env.server)
        .await;
    // The token goes back encoded, with the page size, in place of start/count.
    JsonMock::new("GET", PATH, fixture!("comments/token_page2"))
        .and(query_param("pageToken", "dXJuOmxpOmNvbW1lbnQ6MTAw+/="))
        .and(query_param("pageSize", "50"))
        .expect(1)
        .mount(&env.server)
        .await;
    let (client, post, session) = (&env.client, post(), &session);
    let pages = Pages::new(PlatformId::LINKEDIN, |cursor| {
        let post = post.clone();
        async move { client.comments_page(session, &post, cursor.as_ref()).await }
    });
    let texts: Vec<String> = pages
        .into_items()
        .map(|c| c.unwrap().text.unwrap())
        .collect()
        .await;
    assert_eq!(texts, ["First", "Second"]);
}

#[tokio::test]
async fn a_page_token_repeated_by_linkedin_ends_the_walk_with_an_error() {
    use socialconnect_core::connect::paging::Pages;
    use socialconnect_core::id::PlatformId;

    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("GET", PATH, fixture!("comments/token_page1"))
        .up_to_n_times(2)
        .mount(&env.server)
        .await;
    let (client, post, session) = (&env.client, post(), &session);
    let err = Pages::new(PlatformId::LINKEDIN, |cursor| {
        let post = post.clone();
        async move { client.comments_page(session, &post, cursor.as_ref()).await }
    })
    .collect()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform, "{err}");
}
