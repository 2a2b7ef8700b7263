//! The data-subject API over real HTTP: every route behind its key and scope, the happy path
//! of each right (export, access, rectify, withdraw, erase) with no token in any answer, the
//! per-key quota, oversized bodies (a JSON 413, nothing changed), and the internal-access log
//! of every call (a verified key's refusals under the system subject).

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use common::{Host, Options, tight_limits};
use reqwest::{Method, StatusCode};
use socialconnect_core::access_log::{Outcome, SYSTEM_SUBJECT};
use socialconnect_core::apikey::{ApiKeyStore, ApiKeys};
use socialconnect_core::consent::ConsentLedger;
use socialconnect_core::id::SubjectId;
use socialconnect_core::profile::ProfileStore;
use socialconnect_testkit::clock::ManualClock;

const ALL_SCOPES: [&str; 5] = ["export", "rectify", "erase", "consent", "read"];

/// Every route for `subject`: method, path, the scope it needs, a valid body.
fn routes(subject: &str) -> Vec<(Method, String, &'static str, Option<serde_json::Value>)> {
    let base = format!("/api/v1/subjects/{subject}");
    vec![
        (Method::GET, format!("{base}/export"), "export", None),
        (
            Method::PUT,
            format!("{base}/profile"),
            "rectify",
            Some(serde_json::json!({"email": "a@b.test"})),
        ),
        (Method::DELETE, base.clone(), "erase", None),
        (
            Method::POST,
            format!("{base}/withdraw"),
            "consent",
            Some(serde_json::json!({"purpose": "publishing", "platform": "facebook"})),
        ),
        (Method::GET, format!("{base}/consents"), "read", None),
        (Method::GET, format!("{base}/connections"), "read", None),
    ]
}

async fn call(
    host: &Host,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<&serde_json::Value>,
) -> reqwest::Response {
    let mut request = host.api().request(method, host.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

async fn connections_of(host: &Host, user: &str) -> usize {
    host.hub
        .connections(&SubjectId::new(user).unwrap())
        .await
        .unwrap()
        .len()
}

/// A key that expired an hour ago: issued two hours ago with a one-hour lifetime, through a
/// key manager over the same store whose clock is two hours behind.
async fn expired_key(host: &Host) -> String {
    let clock = ManualClock::new(host.hub.clock().now() - TimeDelta::hours(2));
    let past = ApiKeys::new(
        Arc::new(host.store.clone()) as Arc<dyn ApiKeyStore>,
        Arc::new(clock),
    );
    let issued = past
        .issue(ALL_SCOPES, Some(TimeDelta::hours(1)), "test-operator")
        .await
        .unwrap();
    issued.key.expose_secret().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_refuses_missing_bad_revoked_and_expired_keys_and_wrong_scopes() {
    let host = Host::start().await;
    host.connect_through_routes("mia", "facebook", &["publishing"])
        .await;
    let revoked = host
        .api_keys
        .issue(ALL_SCOPES, None, "test-operator")
        .await
        .unwrap();
    assert!(
        host.api_keys
            .revoke(&revoked.key_id, "test-operator")
            .await
            .unwrap()
    );
    let revoked = revoked.key.expose_secret().to_owned();
    let expired = expired_key(&host).await;
    let genuine = host.key(&ALL_SCOPES).await;
    // A well-formed key nobody issued, and the genuine key's id with another secret.
    let unknown = format!("sc_{}_{}", "0".repeat(32), "A".repeat(43));
    let (genuine_id, _) = genuine.rsplit_once('_').unwrap();
    let wrong_secret = format!("{genuine_id}_{}", "B".repeat(43));

    for (method, path, scope, body) in routes("mia") {
        let missing = call(&host, method.clone(), &path, None, body.as_ref()).await;
        assert_eq!(
            missing.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(missing.headers()["www-authenticate"], "Bearer");
        for key in [
            "not-a-key",
            "",
            unknown.as_str(),
            wrong_secret.as_str(),
            revoked.as_str(),
            expired.as_str(),
        ] {
            let refused = call(&host, method.clone(), &path, Some(key), body.as_ref()).await;
            assert_eq!(
                refused.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {key:?}"
            );
            let text = refused.text().await.unwrap();
            assert!(!text.contains(key) || key.is_empty(), "{text}");
        }
        let basic = host
            .api()
            .request(method.clone(), host.url(&path))
            .basic_auth("user", Some(&genuine))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), StatusCode::UNAUTHORIZED, "{method} {path}");

        let others: Vec<&str> = ALL_SCOPES.into_iter().filter(|s| *s != scope).collect();
        let lacking = host.key(&others).await;
        let forbidden = call(&host, method.clone(), &path, Some(&lacking), body.as_ref()).await;
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    // Nothing any refused call asked for happened.
    assert_eq!(connections_of(&host, "mia").await, 1);
    let profile = host
        .store
        .profile(&SubjectId::new("mia").unwrap())
        .await
        .unwrap();
    assert!(
        profile.as_ref().is_none_or(|p| p.email.is_none()),
        "{profile:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rights_work_end_to_end_and_no_answer_carries_a_token() {
    let host = Host::start().await;
    host.connect_through_routes("noah", "facebook", &["publishing"])
        .await;
    let subject = SubjectId::new("noah").unwrap();
    let keys = host.hub.connections(&subject).await.unwrap();
    let stored = host.hub.token_store().get(&keys[0]).await.unwrap().unwrap();
    let mut secrets = vec![stored.tokens.access_token.expose_secret().to_owned()];
    if let Some(refresh) = &stored.tokens.refresh_token {
        secrets.push(refresh.expose_secret().to_owned());
    }
    let account = stored.tokens.account_id.clone().unwrap();
    let key = host.key(&ALL_SCOPES).await;
    let mut bodies = Vec::new();

    // Export: streamed, and a whole JSON document.
    let export = call(
        &host,
        Method::GET,
        "/api/v1/subjects/noah/export",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()["content-type"], "application/json");
    let text = export.text().await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the export is JSON");
    assert_eq!(doc["connections"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["connections"][0]["platform"], "facebook");
    assert_eq!(doc["connections"][0]["account_id"], account.as_str());
    assert!(!doc["consent"].as_array().unwrap().is_empty(), "{doc}");
    bodies.push(text);

    let consents = call(
        &host,
        Method::GET,
        "/api/v1/subjects/noah/consents",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(consents.status(), StatusCode::OK);
    let text = consents.text().await.unwrap();
    let receipts: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        !receipts["consents"].as_array().unwrap().is_empty(),
        "{receipts}"
    );
    bodies.push(text);

    let connections = call(
        &host,
        Method::GET,
        "/api/v1/subjects/noah/connections",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(connections.status(), StatusCode::OK);
    let text = connections.text().await.unwrap();
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = list["connections"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["platform"], "facebook");
    assert_eq!(list[0]["account_id"], account.as_str());
    assert_eq!(list[0]["status"], "active");
    bodies.push(text);

    // Rectify, then two bad bodies that must change nothing.
    let profile = "/api/v1/subjects/noah/profile";
    let ok = call(
        &host,
        Method::PUT,
        profile,
        Some(&key),
        Some(&serde_json::json!({"email": "a@b.test"})),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let email = || async {
        host.store
            .profile(&subject)
            .await
            .unwrap()
            .and_then(|p| p.email)
    };
    assert_eq!(email().await.as_deref(), Some("a@b.test"));
    let malformed = host
        .api()
        .put(host.url(profile))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"email": "c@d.test""#)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let unknown_field = call(
        &host,
        Method::PUT,
        profile,
        Some(&key),
        Some(&serde_json::json!({"email": "c@d.test", "nickname": "n"})),
    )
    .await;
    assert_eq!(unknown_field.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown_field.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_input"
    );
    assert_eq!(email().await.as_deref(), Some("a@b.test"), "unchanged");

    // Withdraw publishing on Facebook: a receipt.
    let withdrawn = call(
        &host,
        Method::POST,
        "/api/v1/subjects/noah/withdraw",
        Some(&key),
        Some(&serde_json::json!({"purpose": "publishing", "platform": "facebook"})),
    )
    .await;
    assert_eq!(withdrawn.status(), StatusCode::OK);
    let text = withdrawn.text().await.unwrap();
    let withdrawal: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(withdrawal["receipt_id"].is_string(), "{withdrawal}");
    bodies.push(text);

    // Erase: the report, with counts and a receipt; the connection is gone.
    let erased = call(
        &host,
        Method::DELETE,
        "/api/v1/subjects/noah",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(erased.status(), StatusCode::OK);
    let text = erased.text().await.unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(report["total_removed"].as_u64().unwrap() > 0, "{report}");
    assert!(report["removed"].is_object(), "{report}");
    assert!(
        report["receipt"]["subject_pseudonym"].is_string(),
        "{report}"
    );
    assert!(!text.contains("noah"), "the receipt names no one: {text}");
    bodies.push(text);
    assert_eq!(connections_of(&host, "noah").await, 0);

    for body in &bodies {
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "a token in {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_or_reserved_subject_ids_are_400() {
    let host = Host::start().await;
    let key = host.key(&ALL_SCOPES).await;
    let long = "s".repeat(300);
    for subject in ["bad%0Aid", long.as_str(), SYSTEM_SUBJECT] {
        for (method, path, _, body) in routes(subject) {
            let refused = call(&host, method.clone(), &path, Some(&key), body.as_ref()).await;
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{method} {path}");
            assert_eq!(
                refused.json::<serde_json::Value>().await.unwrap()["error"],
                "invalid_input"
            );
        }
    }
    // The system subject's log (erasure and key records) is still there.
    let system = host
        .hub
        .access_log()
        .entries(&SubjectId::new(SYSTEM_SUBJECT).unwrap())
        .await
        .unwrap();
    assert!(
        system
            .iter()
            .any(|e| e.operation.starts_with("privileged.api_key.issue")),
        "{system:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_used_up_daily_quota_is_429_with_a_long_retry_after_for_that_key_only() {
    let host = Host::start_with(Options {
        limits: tight_limits(3),
        ..Options::default()
    })
    .await;
    let key = host.key(&["read"]).await;
    let path = "/api/v1/subjects/olga/connections";
    for _ in 0..3 {
        assert_eq!(
            call(&host, Method::GET, path, Some(&key), None)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let limited = call(&host, Method::GET, path, Some(&key), None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Three calls a day: the next one is hours away.
    assert!(retry_after > 3600, "{retry_after}");
    assert_eq!(
        limited.json::<serde_json::Value>().await.unwrap()["error"],
        "rate_limited"
    );
    // The refusal is in the internal-access log, under the system subject with the key.
    let system = host
        .hub
        .access_log()
        .entries(&SubjectId::new(SYSTEM_SUBJECT).unwrap())
        .await
        .unwrap();
    let refused: Vec<_> = system
        .iter()
        .filter(|e| e.operation == "api.refused.read")
        .collect();
    assert_eq!(refused.len(), 1, "{system:?}");
    assert_eq!(refused[0].outcome, Outcome::Failure("throttled"));
    assert!(
        refused[0]
            .actor
            .as_deref()
            .is_some_and(|a| a.starts_with("api-key:")),
        "{:?}",
        refused[0].actor
    );

    let other = host.key(&["read"]).await;
    assert_eq!(
        call(&host, Method::GET, path, Some(&other), None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_admitted_call_is_in_the_internal_access_log_under_the_key() {
    let host = Host::start().await;
    host.connect_through_routes("pia", "facebook", &["publishing"])
        .await;
    let issued = host
        .api_keys
        .issue(ALL_SCOPES, None, "test-operator")
        .await
        .unwrap();
    let key = issued.key.expose_secret().to_owned();
    let actor = format!("api-key:{}", issued.key_id);
    let subject = SubjectId::new("pia").unwrap();
    // Erase last: it removes the subject's own log.
    let mut all = routes("pia");
    let erase = all.remove(2);
    for (method, path, _, body) in &all {
        let answer = call(&host, method.clone(), path, Some(&key), body.as_ref()).await;
        assert!(
            answer.status().is_success(),
            "{method} {path}: {}",
            answer.status()
        );
        // Read the export to its end, so it has been written and logged.
        answer.bytes().await.unwrap();
    }
    let logged = host.hub.access_log().entries(&subject).await.unwrap();
    for operation in [
        "api.export",
        "api.rectify",
        "api.withdraw",
        "api.consents",
        "api.connections",
    ] {
        assert!(
            logged
                .iter()
                .any(|e| e.operation == operation && e.actor.as_deref() == Some(actor.as_str())),
            "{operation} by {actor} in {logged:?}"
        );
    }
    // A refused call never reached the person's data: nothing is logged under them. A key
    // that does not verify leaves no entry at all (no caller without a key fills the log); a
    // verified key's wrong scope is logged under the system subject with the key as actor.
    let before = logged.len();
    let system_subject = SubjectId::new(SYSTEM_SUBJECT).unwrap();
    let system_before = host
        .hub
        .access_log()
        .entries(&system_subject)
        .await
        .unwrap()
        .len();
    let refused = call(
        &host,
        Method::GET,
        "/api/v1/subjects/pia/consents",
        Some("not-a-key"),
        None,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let narrow = host.key(&["export"]).await;
    let refused = call(
        &host,
        Method::GET,
        "/api/v1/subjects/pia/consents",
        Some(&narrow),
        None,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        host.hub.access_log().entries(&subject).await.unwrap().len(),
        before
    );
    let system = host
        .hub
        .access_log()
        .entries(&system_subject)
        .await
        .unwrap();
    let new: Vec<_> = system
        .iter()
        .skip(system_before)
        .filter(|e| !e.operation.starts_with("privileged.api_key"))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].operation, "api.refused.read");
    assert_eq!(new[0].outcome, Outcome::Failure("unauthorized"));

    let (method, path, _, _) = erase;
    assert_eq!(
        call(&host, method, &path, Some(&key), None).await.status(),
        StatusCode::OK
    );
    let system = host
        .hub
        .access_log()
        .entries(&SubjectId::new(SYSTEM_SUBJECT).unwrap())
        .await
        .unwrap();
    assert!(
        system
            .iter()
            .any(|e| e.operation == "api.erase" && e.actor.as_deref() == Some(actor.as_str())),
        "{system:?}"
    );
    let after = host.hub.access_log().entries(&subject).await.unwrap();
    assert!(
        after.iter().all(|e| e.operation != "api.erase"),
        "the erasure is not filed under the erased subject: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_is_a_json_413_and_changes_nothing() {
    let host = Host::start().await;
    host.connect_through_routes("ida", "facebook", &["publishing"])
        .await;
    let key = host.key(&["rectify", "consent"]).await;
    let subject = SubjectId::new("ida").unwrap();
    // Over the 64 KiB body limit of the test host.
    let huge = serde_json::json!({"email": format!("{}@example.test", "a".repeat(80 * 1024))});
    let answer = call(
        &host,
        Method::PUT,
        "/api/v1/subjects/ida/profile",
        Some(&key),
        Some(&huge),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let problem: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(problem["error"], "payload_too_large");
    assert!(
        host.store
            .profile(&subject)
            .await
            .unwrap()
            .is_none_or(|p| p.email.is_none()),
        "nothing rectified"
    );
    let history = host.store.history(&subject).await.unwrap().len();
    let padded = serde_json::json!({"purpose": "publishing", "pad": "x".repeat(80 * 1024)});
    let answer = call(
        &host,
        Method::POST,
        "/api/v1/subjects/ida/withdraw",
        Some(&key),
        Some(&padded),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(connections_of(&host, "ida").await, 1);
    assert_eq!(
        host.store.history(&subject).await.unwrap().len(),
        history,
        "nothing withdrawn"
    );
}
