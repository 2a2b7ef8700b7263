//! The versioned REST API against wiremock: the version headers on every call, posts with the
//! id in `x-restli-id`, writes sent once, the organization role check, the two-page ACL
//! listing, and every error class.

mod common;

use serde_json::json;
use socialconnect_core::connect::paging::PageBudget;
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, ErrorKind};
use socialconnect_linkedin::little_text::LittleText;
use socialconnect_linkedin::posts::{Post, Visibility};
use socialconnect_linkedin::{LINKEDIN_VERSION, Urn};
use socialconnect_testkit::{JsonMock, fixture};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use common::{USER_TOKEN, env};

const POST_ID: &str = "urn:li:share:7130000000000000001";

fn member() -> Urn {
    Urn::person("A1b2C3d4E5").unwrap()
}

#[tokio::test]
async fn a_member_post_sends_the_version_headers_and_reads_the_id_from_the_header() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let org = Urn::organization("2414183").unwrap();
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(header("linkedin-version", LINKEDIN_VERSION))
        .and(header("x-restli-protocol-version", "2.0.0"))
        .and(header(
            "authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .and(body_json(json!({
            "author": "urn:li:person:A1b2C3d4E5",
            "commentary": "Launch day \\(finally\\) with @[Acme](urn:li:organization:2414183)",
            "visibility": "CONNECTIONS",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": []
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": true
        })))
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", POST_ID))
        .expect(1)
        .mount(&env.server)
        .await;
    let post = Post::new(
        member(),
        LittleText::new()
            .text("Launch day (finally) with ")
            .mention("Acme", &org),
    )
    .visibility(Visibility::Connections)
    .reshare_disabled(true);
    let id = env.client.create_post(&session, &post).await.unwrap();
    assert_eq!(id.as_str(), POST_ID);
}

#[tokio::test]
async fn a_post_answered_500_or_without_its_id_is_maybe_sent_and_sent_once() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&env.server)
        .await;
    let post = Post::new(member(), "hello");
    let err = env.client.create_post(&session, &post).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err:?}");
    env.server.verify().await;

    env.server.reset().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env.client.create_post(&session, &post).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn the_acl_listing_reads_both_pages_and_the_legacy_field() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("GET", "/rest/organizationAcls", fixture!("rest/acls_page1"))
        .and(query_param("q", "roleAssignee"))
        .and(query_param("start", "0"))
        .and(header("linkedin-version", LINKEDIN_VERSION))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("GET", "/rest/organizationAcls", fixture!("rest/acls_page2"))
        .and(query_param("start", "50"))
        .expect(1)
        .mount(&env.server)
        .await;
    let roles = env
        .client
        .organization_roles(&session, PageBudget::default())
        .await
        .unwrap();
    assert!(roles.is_complete());
    assert_eq!(roles.items.len(), 51);
    assert!(roles.items[0].can_post());
    assert!(!roles.items[1].can_post(), "an analyst cannot post");
    let last = roles.items.last().unwrap();
    assert_eq!(last.organization.as_str(), "urn:li:organization:999");
    assert!(!last.can_post(), "a requested role is not approved");
}

#[tokio::test]
async fn an_organization_post_needs_an_approved_posting_role() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    JsonMock::new("GET", "/rest/organizationAcls", fixture!("rest/acls_page1"))
        .and(query_param("start", "0"))
        .mount(&env.server)
        .await;
    JsonMock::new("GET", "/rest/organizationAcls", fixture!("rest/acls_page2"))
        .and(query_param("start", "50"))
        .mount(&env.server)
        .await;
    // Only an analyst on 100, and only a requested role on 999: refused before posting.
    for org in ["100", "999"] {
        let post = Post::new(Urn::organization(org).unwrap(), "from the company");
        let err = env.client.create_post(&session, &post).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingScopes, "{org}");
    }
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(body_json(json!({
            "author": "urn:li:organization:2414183",
            "commentary": "from the company",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false
        })))
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", POST_ID))
        .expect(1)
        .mount(&env.server)
        .await;
    let post = Post::new(Urn::organization("2414183").unwrap(), "from the company");
    env.client.create_post(&session, &post).await.unwrap();
}

#[tokio::test]
async fn a_post_deleted_by_its_encoded_urn() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    Mock::given(method("DELETE"))
        .and(path("/rest/posts/urn%3Ali%3Ashare%3A7130000000000000001"))
        .and(header("linkedin-version", LINKEDIN_VERSION))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&env.server)
        .await;
    env.client
        .delete_post(&session, &Urn::parse(POST_ID).unwrap())
        .await
        .unwrap();
}

/// What an error must be for the test to pass.
type Check = fn(&Error) -> bool;

#[tokio::test]
async fn every_error_class_has_its_kind() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let post = Post::new(member(), "hello");
    let cases: [(&str, u16, Check); 5] = [
        ("rest/error_token", 401, |e| {
            e.kind() == ErrorKind::ReconnectRequired
        }),
        ("rest/error_denied", 403, |e| {
            e.kind() == ErrorKind::MissingScopes
                && socialconnect_linkedin::error::denied_resource(e)
                    == Some(("posts".into(), "CREATE".into()))
        }),
        ("rest/error_validation", 422, |e| {
            e.kind() == ErrorKind::InvalidInput && e.to_string().contains("/commentary")
        }),
        ("rest/error_version", 426, |e| {
            e.kind() == ErrorKind::Config && e.to_string().contains(LINKEDIN_VERSION)
        }),
        (
            "rest/error_day_limit",
            429,
            |e| matches!(e.kind(), ErrorKind::Throttled { retry_after: Some(w) } if w.as_secs() <= 86_400),
        ),
    ];
    for (fixture_name, status, check) in cases {
        env.server.reset().await;
        JsonMock::new("POST", "/rest/posts", fixture!(fixture_name))
            .status(status)
            .expect(1)
            .mount(&env.server)
            .await;
        let err = env.client.create_post(&session, &post).await.unwrap_err();
        assert!(check(&err), "{fixture_name}: {err:?}");
        assert!(!err.to_string().contains(USER_TOKEN));
        env.server.verify().await;
    }
}
