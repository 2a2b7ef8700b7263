//! The connect flow over real HTTP: consent and age gate, the platform's authorize page, the
//! callback, and every way the callback can go wrong.

mod common;

use common::{Host, csrf, location};
use reqwest::StatusCode;
use socialconnect_core::id::SubjectId;

async fn consent_form(host: &Host, browser: &reqwest::Client, platform: &str) -> String {
    let response = browser
        .get(host.url(&format!("/connect/{platform}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Submits the consent form; returns the redirect to the platform.
async fn agree(
    host: &Host,
    browser: &reqwest::Client,
    platform: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let page = consent_form(host, browser, platform).await;
    let token = csrf(&page);
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &token)];
    fields.extend_from_slice(form);
    browser
        .post(host.url(&format!("/connect/{platform}")))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_who_is_not_signed_in_is_sent_to_the_hosts_sign_in() {
    let host = Host::start().await;
    let anonymous = host.api();
    let response = anonymous
        .get(host.url("/connect/facebook"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-in?next=/connect/facebook");
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_then_authorize_then_callback_connects_the_account() {
    let host = Host::start().await;
    let browser = host.browser("alice");
    let page = consent_form(&host, &browser, "facebook").await;
    assert!(page.contains("Agree and connect"));
    assert!(page.contains("name=\"purpose\" value=\"publishing\""));

    let to_platform = agree(
        &host,
        &browser,
        "facebook",
        &[
            ("age", "adult"),
            ("country", "de"),
            ("purpose", "publishing"),
        ],
    )
    .await;
    assert_eq!(to_platform.status(), StatusCode::SEE_OTHER);
    let dialog = location(&to_platform);
    assert!(
        dialog.starts_with(host.meta.base_url().as_str()),
        "{dialog}"
    );
    assert!(
        dialog.contains("pages_manage_posts"),
        "publishing scopes asked: {dialog}"
    );

    // The platform's dialog (the simulated user consents) redirects back.
    let back = browser.get(&dialog).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = location(&back);
    assert!(
        callback.starts_with(&host.url("/callback/facebook")),
        "{callback}"
    );
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/privacy?connected=facebook");

    let subject = SubjectId::new("alice").unwrap();
    assert_eq!(host.hub.connections(&subject).await.unwrap().len(), 1);
    let privacy = browser
        .get(host.url("/privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(privacy.contains("data-platform=\"facebook\""), "{privacy}");

    // The same callback again is a replay: a page, not a stack trace, and nothing changes.
    let replay = browser.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let text = replay.text().await.unwrap();
    assert!(text.contains("This link cannot be used"), "{text}");
    assert!(
        !text.contains("panicked") && !text.contains("src/"),
        "{text}"
    );
    assert_eq!(host.hub.connections(&subject).await.unwrap().len(), 1);

    // Connecting again goes straight to the platform: consent is on record.
    let again = browser
        .get(host.url("/connect/facebook"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert!(location(&again).starts_with(host.meta.base_url().as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denial_at_the_platform_is_shown_as_a_page() {
    let host = Host::start().await;
    let browser = host.browser("bob");
    let to_platform = agree(
        &host,
        &browser,
        "facebook",
        &[("age", "adult"), ("country", "FR")],
    )
    .await;
    let dialog: url::Url = location(&to_platform).parse().unwrap();
    let state = dialog
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let denied = browser
        .get(host.url(&format!(
            "/callback/facebook?error=access_denied&error_reason=user_denied&error_description=Permissions+error&state={state}#_=_"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert!(denied.text().await.unwrap().contains("You declined"));
    assert!(
        host.hub
            .connections(&SubjectId::new("bob").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_age_gate_refuses_a_child_and_stores_nothing() {
    let host = Host::start().await;
    let browser = host.browser("carol");
    // 15 is under Germany's age of digital consent (16).
    for age in ["under13", "15"] {
        let refused = agree(
            &host,
            &browser,
            "facebook",
            &[("age", age), ("country", "DE")],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{age}");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("not available to you")
        );
    }
    let history = host
        .hub
        .ledger()
        .history(&SubjectId::new("carol").unwrap())
        .await
        .unwrap();
    assert!(history.is_empty(), "{history:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_a_valid_csrf_token_or_with_bad_fields_change_nothing() {
    let host = Host::start().await;
    let browser = host.browser("dave");
    let other = host.browser("mallory");
    let mallorys_token = csrf(&consent_form(&host, &other, "facebook").await);
    for fields in [
        vec![("age", "adult"), ("country", "DE")],
        vec![("csrf", "1.2.3"), ("age", "adult"), ("country", "DE")],
        vec![
            ("csrf", mallorys_token.as_str()),
            ("age", "adult"),
            ("country", "DE"),
        ],
    ] {
        let response = browser
            .post(host.url("/connect/facebook"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    for bad in [
        vec![("age", "old"), ("country", "DE")],
        vec![("age", "adult"), ("country", "Germany")],
        vec![
            ("age", "adult"),
            ("country", "DE"),
            ("purpose", "mind_reading"),
        ],
    ] {
        let response = agree(&host, &browser, "facebook", &bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let not_a_form = browser
        .post(host.url("/connect/facebook"))
        .json(&serde_json::json!({"age": "adult"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let history = host
        .hub
        .ledger()
        .history(&SubjectId::new("dave").unwrap())
        .await
        .unwrap();
    assert!(history.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_platforms_and_malformed_callbacks_are_pages() {
    let host = Host::start().await;
    let browser = host.browser("erin");
    let unknown = browser
        .get(host.url("/connect/myspace"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    for query in [
        "",
        "?code=abc",
        "?state=",
        &format!("?state={}&code=x", "s".repeat(600)),
    ] {
        let response = browser
            .get(host.url(&format!("/callback/facebook{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/html"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tiktok_connects_through_the_same_routes() {
    let host = Host::start().await;
    let browser = host.browser("frank");
    let to_platform = agree(
        &host,
        &browser,
        "tiktok",
        &[("age", "adult"), ("country", "US")],
    )
    .await;
    assert_eq!(to_platform.status(), StatusCode::SEE_OTHER);
    let dialog = location(&to_platform);
    let back = browser.get(&dialog).send().await.unwrap();
    let callback = location(&back);
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(location(&done), "/privacy?connected=tiktok");
}

/// Connects `platform` for `user` through the routes, checking each hop: the consent form,
/// the redirect to the simulator at `simulator_base`, the simulator's redirect back to this
/// host's callback, and the callback's redirect to the privacy page. Then the connection is
/// stored, once, for `platform`, and the privacy page lists it.
async fn connects_through_the_routes(
    host: &Host,
    user: &str,
    platform: &str,
    simulator_base: &url::Url,
) {
    let browser = host.browser(user);
    let page = consent_form(host, &browser, platform).await;
    assert!(page.contains("Agree and connect"), "{page}");
    let to_platform = agree(
        host,
        &browser,
        platform,
        &[("age", "adult"), ("country", "US")],
    )
    .await;
    assert_eq!(to_platform.status(), StatusCode::SEE_OTHER);
    let dialog = location(&to_platform);
    assert!(dialog.starts_with(simulator_base.as_str()), "{dialog}");
    let back = browser.get(&dialog).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = location(&back);
    assert!(
        callback.starts_with(&host.url(&format!("/callback/{platform}"))),
        "{callback}"
    );
    assert!(callback.contains("code="), "{callback}");
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), format!("/privacy?connected={platform}"));

    let subject = SubjectId::new(user).unwrap();
    let connections = host.hub.connections(&subject).await.unwrap();
    assert_eq!(connections.len(), 1, "{connections:?}");
    assert_eq!(connections[0].platform.as_str(), platform);
    let privacy = browser
        .get(host.url("/privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        privacy.contains(&format!("data-platform=\"{platform}\"")),
        "{privacy}"
    );

    // The same callback again is a replay: a page, and nothing changes.
    let replay = browser.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(host.hub.connections(&subject).await.unwrap().len(), 1);
}

/// The user declines on the platform's own page (the simulator redirects back with
/// `error=access_denied`): the callback answers a page and nothing is stored.
async fn a_denial_stores_nothing(host: &Host, user: &str, platform: &str) {
    let browser = host.browser(user);
    let to_platform = agree(
        host,
        &browser,
        platform,
        &[("age", "adult"), ("country", "FR")],
    )
    .await;
    assert_eq!(to_platform.status(), StatusCode::SEE_OTHER);
    let back = browser.get(location(&to_platform)).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = location(&back);
    assert!(
        callback.starts_with(&host.url(&format!("/callback/{platform}"))),
        "{callback}"
    );
    assert!(callback.contains("error=access_denied"), "{callback}");
    assert!(!callback.contains("code="), "{callback}");
    let denied = browser.get(&callback).send().await.unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let content_type = denied.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let text = denied.text().await.unwrap();
    assert!(text.contains("You declined"), "{text}");
    assert!(
        host.hub
            .connections(&SubjectId::new(user).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_connects_through_the_same_routes() {
    let host = Host::start().await;
    connects_through_the_routes(&host, "grace", "linkedin", &host.linkedin.base_url()).await;
    host.linkedin.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread")]
async fn pinterest_connects_through_the_same_routes() {
    let host = Host::start().await;
    connects_through_the_routes(&host, "heidi", "pinterest", &host.pinterest.base_url()).await;
    host.pinterest.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denial_at_linkedin_is_shown_as_a_page_and_stores_nothing() {
    let host = Host::start().await;
    host.linkedin.deny_next_authorization();
    a_denial_stores_nothing(&host, "ivan", "linkedin").await;
    host.linkedin.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denial_at_pinterest_is_shown_as_a_page_and_stores_nothing() {
    let host = Host::start().await;
    host.pinterest.deny_next_authorization();
    a_denial_stores_nothing(&host, "judy", "pinterest").await;
    host.pinterest.assert_no_unexpected();
}
