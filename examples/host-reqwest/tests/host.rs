//! The host's own reqwest client keeps working when the SDK is linked, and the SDK can send
//! through it.

use host_reqwest::{host_client, sdk_over};
use socialconnect_core::ErrorKind;
use socialconnect_core::http::{ApiRequest, HttpClient};
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ping"))
        .respond_with(ResponseTemplate::new(200).set_body_string("pong"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_hosts_plain_client_builds_and_sends_beside_the_sdk() {
    let server = server().await;
    // The SDK's own client first, so anything it could set up globally is in place.
    let sdk = HttpClient::builder().build().unwrap();
    let url = Url::parse(&format!("{}/ping", server.uri())).unwrap();
    let resp = sdk.send(ApiRequest::get(url.clone())).await.unwrap();
    assert_eq!((resp.status(), resp.body().as_ref()), (200, &b"pong"[..]));

    // This `build()` panicked with "No rustls crypto provider is configured" while the SDK
    // enabled reqwest's `rustls-no-provider`.
    let host = host_client().expect("the host's client builds");
    let text = host
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "pong");

    // And the SDK installed no process-wide provider a host might later install its own over.
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
}

#[tokio::test]
async fn the_sdk_sends_through_the_hosts_client() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"id":"7"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sdk = sdk_over(client).unwrap();
    let url = Url::parse(&format!("{}/me", server.uri())).unwrap();
    let resp = sdk
        .send(ApiRequest::get(url).bearer(socialconnect_core::secret::AccessToken::new("tok")))
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().unwrap();
    assert_eq!(body["id"], "7");
}

#[tokio::test]
async fn a_host_client_that_follows_redirects_is_refused_not_trusted() {
    let server = MockServer::start().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/next", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/next"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // reqwest's default policy follows up to ten redirects.
    let sdk = sdk_over(host_client().unwrap()).unwrap();
    let url = Url::parse(&format!("{}/start", server.uri())).unwrap();
    let err = sdk.send(ApiRequest::post(url)).await.unwrap_err();
    // A POST that may have reached the platform: never reported as a plain failure.
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert!(err.to_string().contains("redirect"), "{err}");
}
