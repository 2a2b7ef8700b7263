//! The pagination walker over a real HTTP exchange (wiremock on loopback): a next-URL listing
//! read to its second page, and a next URL pointing at another host refused before any
//! request goes there.

use std::time::Duration;

use futures_util::TryStreamExt;
use serde::Deserialize;
use socialconnect_core::ErrorKind;
use socialconnect_core::connect::paging::{Cursor, Page, Pages};
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::id::PlatformId;
use url::Url;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Deserialize)]
struct Wire {
    data: Vec<Item>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
}

async fn walk(server: &MockServer) -> socialconnect_core::Result<Vec<String>> {
    let http = HttpClient::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let first = Url::parse(&format!("{}/items", server.uri())).unwrap();
    let platform = PlatformId::new("test").unwrap();
    let fetch = |cursor: Option<Cursor>| {
        let (http, first, platform) = (http.clone(), first.clone(), platform.clone());
        async move {
            let url = cursor
                .as_ref()
                .and_then(Cursor::as_url)
                .cloned()
                .unwrap_or_else(|| first.clone());
            let wire: Wire = http
                .send(ApiRequest::get(url))
                .await?
                .error_for_status()?
                .json()?;
            let next = Cursor::next_url(&platform, wire.next.as_deref(), &first)?;
            Ok(Page::new(
                wire.data.into_iter().map(|i| i.id).collect(),
                next,
            ))
        }
    };
    Pages::new(platform.clone(), fetch)
        .into_items()
        .try_collect()
        .await
}

#[tokio::test]
async fn a_next_url_listing_is_read_past_its_first_page() {
    let server = MockServer::start().await;
    let second = format!("{}/items?after=p2", server.uri());
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(query_param("after", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{"id": "3"}]
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{"id": "1"}, {"id": "2"}], "next": second
        })))
        .mount(&server)
        .await;
    assert_eq!(walk(&server).await.unwrap(), ["1", "2", "3"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_next_url_on_another_host_is_never_requested() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{"id": "1"}], "next": format!("{}/items?after=p2", elsewhere.uri())
        })))
        .mount(&server)
        .await;
    let err = walk(&server).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(err.to_string().contains("leaves the API host"), "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_html_error_page_ends_the_listing_with_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><body>Bad Gateway</body></html>"),
        )
        .mount(&server)
        .await;
    let err = walk(&server).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(matches!(err, socialconnect_core::Error::Decode(_)), "{err}");
}
