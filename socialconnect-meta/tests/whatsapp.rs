//! WhatsApp Cloud API against a wiremock Graph server.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json as j;
use socialconnect_core::ErrorKind;
use socialconnect_core::id::Purpose;
use socialconnect_meta::MetaProduct;
use socialconnect_meta::whatsapp::{
    MediaKind, MediaMessage, MediaSource, MediaUpload, MessageStatus, Template, WaMediaId,
};
use socialconnect_testkit::{JsonMock, fixture};
use url::Url;
use wiremock::matchers::{body_json, body_string_contains, header, query_param};

fn messages() -> String {
    graph(&format!("{PHONE_ID}/messages"))
}

async fn messaging(env: &Env) -> socialconnect_core::Session {
    env.session(MetaProduct::WhatsApp, Purpose::Messaging).await
}

#[tokio::test]
async fn sends_text_with_the_documented_body() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::new("POST", messages(), fixture!("whatsapp/sent_text"))
        .and(header(
            "authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .and(query_param("appsecret_proof", env.proof(USER_TOKEN)))
        .and(body_json(j!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+1 650-555-1234",
            "type": "text",
            "text": {"preview_url": true, "body": "Your table is ready: https://cafeluna.example"}
        })))
        .expect(1)
        .mount(&env.server)
        .await;
    let sent = env
        .client
        .whatsapp(&s)
        .send_text(
            PHONE_ID,
            "+1 650-555-1234",
            "Your table is ready: https://cafeluna.example",
            true,
        )
        .await
        .unwrap();
    let id = sent.message_id().unwrap();
    assert!(id.as_str().starts_with("wamid."));
    assert_eq!(id.as_str().len(), 128, "a full-length WAMID is kept whole");
    assert_eq!(sent.contacts[0].wa_id.as_deref(), Some("16505551234"));
    assert_eq!(sent.contacts[0].input.as_deref(), Some("+1 650-555-1234"));
    assert!(sent.messages[0].status.is_none());
    assert_eq!(env.operations().await, ["whatsapp.send"]);
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn sends_a_template_with_components() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::new("POST", messages(), fixture!("whatsapp/sent_template"))
        .and(body_json(j!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16505551234",
            "type": "template",
            "template": {
                "name": "order_shipped",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/box.jpg"}}]},
                    {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#1042"}]}
                ]
            }
        })))
        .expect(1)
        .mount(&env.server)
        .await;
    let template = Template::new("order_shipped", "en_US")
        .with_component(j!({"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/box.jpg"}}]}))
        .with_body_text(["Ana", "#1042"]);
    let sent = env
        .client
        .whatsapp(&s)
        .send_template(PHONE_ID, "16505551234", &template)
        .await
        .unwrap();
    assert_eq!(sent.messages[0].status, Some(MessageStatus::Accepted));
}

#[tokio::test]
async fn sends_media_by_link_and_by_uploaded_id() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::new("POST", messages(), fixture!("whatsapp/sent_media"))
        .and(body_json(j!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
            "type": "image", "image": {"link": "https://cdn.example.com/menu.jpg", "caption": "Today"}
        })))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new("POST", messages(), fixture!("whatsapp/sent_media"))
        .and(body_json(j!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
            "type": "document", "document": {"id": "1037543291543636", "filename": "invoice.pdf"}
        })))
        .expect(1)
        .mount(&env.server)
        .await;
    let wa = env.client.whatsapp(&s);
    let link = MediaMessage::new(
        MediaKind::Image,
        MediaSource::Link(Url::parse("https://cdn.example.com/menu.jpg").unwrap()),
    )
    .with_caption("Today");
    wa.send_media(PHONE_ID, "16505551234", &link).await.unwrap();
    let doc = MediaMessage::new(
        MediaKind::Document,
        MediaSource::Uploaded(WaMediaId::new("1037543291543636")),
    )
    .with_filename("invoice.pdf");
    wa.send_media(PHONE_ID, "16505551234", &doc).await.unwrap();
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn uploads_media_as_multipart() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::new(
        "POST",
        graph(&format!("{PHONE_ID}/media")),
        fixture!("whatsapp/media_uploaded"),
    )
    .and(header(
        "content-type",
        "multipart/form-data; boundary=sc-3f9a6c1e8b2d4f70a5e9c3b1d7f2a6e4",
    ))
    .and(body_string_contains(
        "name=\"messaging_product\"\r\n\r\nwhatsapp",
    ))
    .and(body_string_contains("name=\"type\"\r\n\r\napplication/pdf"))
    .and(body_string_contains("filename=\"invoice.pdf\""))
    .and(body_string_contains("%PDF-1.7"))
    .expect(1)
    .mount(&env.server)
    .await;
    let file = MediaUpload::new("application/pdf", "invoice.pdf", b"%PDF-1.7 ...".to_vec());
    let id = env
        .client
        .whatsapp(&s)
        .upload_media(PHONE_ID, &file)
        .await
        .unwrap();
    assert_eq!(id.as_str(), "1037543291543636");
}

#[tokio::test]
async fn marks_a_message_read() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::new("POST", messages(), fixture!("whatsapp/read_ok"))
        .and(body_json(j!({
            "messaging_product": "whatsapp", "status": "read",
            "message_id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTg2"
        })))
        .expect(1)
        .mount(&env.server)
        .await;
    env.client
        .whatsapp(&s)
        .mark_read(PHONE_ID, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTg2")
        .await
        .unwrap();
}

#[tokio::test]
async fn refuses_bad_input_and_other_purposes_without_a_request() {
    let env = env().await;
    let s = messaging(&env).await;
    let wa = env.client.whatsapp(&s);
    for err in [
        wa.send_text(PHONE_ID, "16505551234", "", false)
            .await
            .unwrap_err(),
        wa.send_text(PHONE_ID, "not a number", "hi", false)
            .await
            .unwrap_err(),
        wa.send_text("1/messages?x=", "16505551234", "hi", false)
            .await
            .unwrap_err(),
        wa.send_text(PHONE_ID, "16505551234", &"x".repeat(4_097), false)
            .await
            .unwrap_err(),
        wa.send_template(PHONE_ID, "16505551234", &Template::new("bad name", "en_US"))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    let publishing = env
        .session(MetaProduct::WhatsApp, Purpose::Publishing)
        .await;
    let err = env
        .client
        .whatsapp(&publishing)
        .send_text(PHONE_ID, "16505551234", "hi", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_accepted_send_without_a_message_id_is_maybe_sent() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::new(
        "POST",
        messages(),
        fixture!("whatsapp/sent_without_message"),
    )
    .expect(1)
    .mount(&env.server)
    .await;
    let err = env
        .client
        .whatsapp(&s)
        .send_text(PHONE_ID, "16505551234", "hi", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn a_send_answered_500_is_maybe_sent_once() {
    let env = env().await;
    let s = messaging(&env).await;
    JsonMock::empty("POST", messages())
        .status(503)
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .whatsapp(&s)
        .send_text(PHONE_ID, "16505551234", "hi", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn a_send_that_times_out_is_maybe_sent_once() {
    let env = env_with(http(Duration::from_millis(300))).await;
    let s = messaging(&env).await;
    JsonMock::new("POST", messages(), fixture!("whatsapp/sent_text"))
        .delay(Duration::from_secs(3))
        .expect(1)
        .mount(&env.server)
        .await;
    let err = env
        .client
        .whatsapp(&s)
        .send_text(PHONE_ID, "16505551234", "hi", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert_eq!(env.hits("/messages").await, 1);
}

#[tokio::test]
async fn graph_errors_map_to_kinds() {
    for (fixture, want) in [
        ("whatsapp/error_token", ErrorKind::ReconnectRequired),
        (
            "whatsapp/error_app_throttled",
            ErrorKind::Throttled { retry_after: None },
        ),
        (
            "whatsapp/error_custom_throttled",
            ErrorKind::Throttled { retry_after: None },
        ),
        (
            "whatsapp/error_buc_throttled",
            ErrorKind::Throttled { retry_after: None },
        ),
        ("whatsapp/error_permission", ErrorKind::MissingScopes),
        ("whatsapp/error_invalid_parameter", ErrorKind::InvalidInput),
        ("whatsapp/error_unknown", ErrorKind::Transient),
    ] {
        let env = env().await;
        let s = messaging(&env).await;
        JsonMock::new("POST", messages(), fixture!(fixture))
            .status(400)
            .expect(1)
            .mount(&env.server)
            .await;
        let err = env
            .client
            .whatsapp(&s)
            .send_text(PHONE_ID, "16505551234", "hi", false)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), want, "{fixture}");
        let detail = err.platform_error().unwrap();
        assert!(
            detail.code.is_some() && detail.trace_id.is_some(),
            "{fixture}"
        );
    }
}
