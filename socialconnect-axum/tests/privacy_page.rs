//! The end user's privacy page over real HTTP: what it lists, its forms (each CSRF-checked),
//! and the re-consent banner after a significant notice change.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{Host, Options, csrf, location};
use reqwest::StatusCode;
use socialconnect_axum::notice::{ReconsentHook, notify_affected};
use socialconnect_core::consent::NoticeVersion;
use socialconnect_core::id::SubjectId;

/// Connects `user`'s Facebook account through the routes, granting publishing too.
async fn connect_facebook(host: &Host, user: &str) {
    host.connect_through_routes(user, "facebook", &["publishing"])
        .await;
}

async fn page(host: &Host, browser: &reqwest::Client) -> String {
    let response = browser.get(host.url("/privacy")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "no scripts: {csp}");
    response.text().await.unwrap()
}

async fn post(
    host: &Host,
    browser: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = csrf(&page(host, browser).await);
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    browser
        .post(host.url(path))
        .form(&all)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_lists_connections_consents_bases_region_and_the_authority() {
    let host = Host::start_with(Options {
        declare_fraud_detection: true,
        ..Options::default()
    })
    .await;
    let browser = host.browser("alice");
    let empty = page(&host, &browser).await;
    assert!(empty.contains("id=\"no-connections\""));
    assert!(empty.contains("id=\"no-consents\""));
    connect_facebook(&host, "alice").await;
    let html = page(&host, &browser).await;
    assert!(html.contains("data-platform=\"facebook\""));
    assert!(html.contains("Publish posts for you"));
    assert!(html.contains("consent (Art. 6(1)(a))"));
    assert!(html.contains("legitimate interest (Art. 6(1)(f))"));
    assert!(html.contains("id=\"object-fraud_detection\""));
    assert!(html.contains("<strong id=\"region\">eu-central-1</strong>"));
    assert!(html.contains("https://dpa.example.test/complaints"));
    assert!(html.contains("id=\"withdraw-publishing-facebook\""));
    // Never a token on the page.
    let subject = SubjectId::new("alice").unwrap();
    let key = host.hub.connections(&subject).await.unwrap().remove(0);
    let stored = host.hub.token_store().get(&key).await.unwrap().unwrap();
    assert!(!html.contains(stored.tokens.access_token.expose_secret()));
}

#[tokio::test(flavor = "multi_thread")]
async fn withdrawing_publishing_keeps_the_connection_and_withdrawing_the_connection_ends_it() {
    let host = Host::start().await;
    let browser = host.browser("bob");
    connect_facebook(&host, "bob").await;
    let subject = SubjectId::new("bob").unwrap();
    let done = post(
        &host,
        &browser,
        "/privacy/withdraw",
        &[("purpose", "publishing"), ("platform", "facebook")],
    )
    .await;
    assert_eq!(location(&done), "/privacy?done=withdrawn");
    let html = page(&host, &browser).await;
    assert!(!html.contains("id=\"withdraw-publishing-facebook\""));
    assert_eq!(host.hub.connections(&subject).await.unwrap().len(), 1);

    let done = post(
        &host,
        &browser,
        "/privacy/withdraw",
        &[("purpose", "account_connection"), ("platform", "facebook")],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(host.hub.connections(&subject).await.unwrap().is_empty());
    let unknown = post(
        &host,
        &browser,
        "/privacy/withdraw",
        &[("purpose", "telepathy")],
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_downloads_as_json_and_delete_needs_the_confirmation() {
    let host = Host::start().await;
    let browser = host.browser("carol");
    connect_facebook(&host, "carol").await;
    let export = post(&host, &browser, "/privacy/export", &[]).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(
        export.headers()["content-disposition"],
        "attachment; filename=\"my-data.json\""
    );
    let json: serde_json::Value = export.json().await.unwrap();
    assert!(json.to_string().contains("facebook"), "{json}");

    let unconfirmed = post(&host, &browser, "/privacy/delete", &[]).await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    let subject = SubjectId::new("carol").unwrap();
    assert_eq!(host.hub.connections(&subject).await.unwrap().len(), 1);
    let deleted = post(&host, &browser, "/privacy/delete", &[("confirm", "yes")]).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let html = deleted.text().await.unwrap();
    assert!(html.contains("id=\"erased\""), "{html}");
    assert!(html.contains("Receipt reference"), "{html}");
    assert!(host.hub.connections(&subject).await.unwrap().is_empty());
    assert!(
        host.hub
            .ledger()
            .history(&subject)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_privacy_form_refuses_a_missing_or_foreign_csrf_token() {
    let host = Host::start().await;
    let browser = host.browser("dave");
    connect_facebook(&host, "dave").await;
    let mallory = host.browser("mallory");
    let foreign = csrf(&page(&host, &mallory).await);
    for path in [
        "/privacy/withdraw",
        "/privacy/export",
        "/privacy/delete",
        "/privacy/reconsent",
    ] {
        for token in ["", "garbage", foreign.as_str()] {
            let response = browser
                .post(host.url(path))
                .form(&[
                    ("csrf", token),
                    ("purpose", "account_connection"),
                    ("confirm", "yes"),
                    ("age", "adult"),
                    ("country", "DE"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {token}");
        }
    }
    let subject = SubjectId::new("dave").unwrap();
    assert_eq!(host.hub.connections(&subject).await.unwrap().len(), 1);
    let oversized = browser
        .post(host.url("/privacy/withdraw"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("purpose={}", "x".repeat(100 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[derive(Default)]
struct Outbox(Mutex<Vec<(String, String)>>);

#[async_trait]
impl ReconsentHook for Outbox {
    async fn notify(
        &self,
        subject: &SubjectId,
        notice: &NoticeVersion,
    ) -> socialconnect_core::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push((subject.as_str().to_owned(), notice.version.clone()));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_significant_notice_change_asks_for_consent_again_before_anything_else() {
    let host = Host::start().await;
    let browser = host.browser("erin");
    connect_facebook(&host, "erin").await;
    assert!(!page(&host, &browser).await.contains("id=\"reconsent\""));

    let now = host.hub.clock().now();
    host.hub
        .publish_notice(
            NoticeVersion::new(
                "2026-12",
                "sha256:new-notice",
                true,
                now - chrono::TimeDelta::seconds(1),
            ),
            "dpo",
        )
        .await
        .unwrap();
    // The email hook beside the banner.
    let outbox = Arc::new(Outbox::default());
    assert_eq!(
        notify_affected(&host.hub, outbox.as_ref()).await.unwrap(),
        1
    );
    assert_eq!(
        outbox.0.lock().unwrap().as_slice(),
        &[("erin".to_owned(), "2026-12".to_owned())]
    );

    let html = page(&host, &browser).await;
    assert!(html.contains("id=\"reconsent\""), "{html}");
    assert!(html.contains("version 2026-12"));
    // Connecting waits for the re-consent; rights do not.
    let connect = browser
        .get(host.url("/connect/tiktok"))
        .send()
        .await
        .unwrap();
    assert_eq!(connect.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&connect), "/privacy");
    let export = post(&host, &browser, "/privacy/export", &[]).await;
    assert_eq!(export.status(), StatusCode::OK);

    // A child cannot re-consent either; an adult can, and the banner goes.
    let refused = post(
        &host,
        &browser,
        "/privacy/reconsent",
        &[("age", "under13"), ("country", "DE")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let agreed = post(
        &host,
        &browser,
        "/privacy/reconsent",
        &[("age", "adult"), ("country", "DE")],
    )
    .await;
    assert_eq!(location(&agreed), "/privacy?done=reconsented");
    let html = page(&host, &browser).await;
    assert!(!html.contains("id=\"reconsent\""), "{html}");
    let subject = SubjectId::new("erin").unwrap();
    let history = host.hub.ledger().history(&subject).await.unwrap();
    let renewed = history
        .iter()
        .filter(|r| r.event.notice_version.as_deref() == Some("2026-12"))
        .count();
    assert_eq!(renewed, 2, "account connection and publishing renewed");
    // Connecting proceeds again: to TikTok's consent form (no TikTok consent yet).
    let connect = browser
        .get(host.url("/connect/tiktok"))
        .send()
        .await
        .unwrap();
    assert_eq!(connect.status(), StatusCode::OK);
    assert!(connect.text().await.unwrap().contains("Agree and connect"));
}

#[tokio::test(flavor = "multi_thread")]
async fn objecting_to_a_legitimate_interest_is_recorded() {
    let host = Host::start_with(Options {
        declare_fraud_detection: true,
        ..Options::default()
    })
    .await;
    let browser = host.browser("frank");
    let done = post(
        &host,
        &browser,
        "/privacy/withdraw",
        &[("purpose", "fraud_detection")],
    )
    .await;
    assert_eq!(location(&done), "/privacy?done=withdrawn");
    let history = host
        .hub
        .ledger()
        .history(&SubjectId::new("frank").unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].event.basis,
        socialconnect_core::consent::LegalBasis::LegitimateInterest
    );
}
