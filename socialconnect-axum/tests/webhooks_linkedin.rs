//! LinkedIn's webhooks over real HTTP: the `challengeCode` validation, `X-LI-Signature`
//! deliveries (the hex HMAC-SHA256 of `"hmacsha256=" + raw body` under the client secret)
//! queued as events and deduplicated on `notificationId`, every way a delivery is refused,
//! the body limit, and the bounded queue's back-pressure.

mod common;

use common::{Host, Options};
use reqwest::StatusCode;
use socialconnect_axum::webhooks::WebhookEvent;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{ChallengeRefusal, SignatureFormat, SignatureScheme};
use socialconnect_linkedin::webhook::SocialAction;
use socialconnect_testkit::linkedin::{Notification, SIGNATURE_HEADER, SignedNotifications};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ORGANIZATION: &str = "urn:li:organization:2414183";

fn sign(host: &Host, body: &[u8]) -> String {
    SignatureScheme::LINKEDIN.sign(&WebhookSecret::new(host.linkedin.client_secret()), body)
}

async fn post_signed(host: &Host, body: &[u8], signature: Option<&str>) -> reqwest::Response {
    let mut request = host
        .api()
        .post(host.url("/webhooks/linkedin"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    request.send().await.unwrap()
}

async fn deliver(host: &Host, delivery: &SignedNotifications) -> reqwest::Response {
    post_signed(host, &delivery.body, Some(&delivery.signature)).await
}

/// The queued LinkedIn notifications as (notificationId, action), draining the queue.
fn drain(host: &mut Host) -> Vec<(String, SocialAction)> {
    host.drain_events()
        .into_iter()
        .map(|event| match event {
            WebhookEvent::LinkedIn(n) => (n.notification_id, n.action),
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

async fn validate(host: &Host, query: &str) -> reqwest::Response {
    host.api()
        .get(host.url(&format!("/webhooks/linkedin?{query}")))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_challenge_code_is_answered_with_its_hmac_under_the_client_secret() {
    let host = Host::start().await;
    let code = "890e4665-4dfe-4ab1-b689-ed553bceeed1";
    let ok = validate(&host, &format!("challengeCode={code}")).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let content_type = ok.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let answer: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(
        answer,
        serde_json::json!({
            "challengeCode": code,
            "challengeResponse": host.linkedin.challenge(code),
        })
    );
    // The simulator's expectation is the documented HMAC, not a shared mistake.
    assert_eq!(
        answer["challengeResponse"],
        socialconnect_core::webhook::sign_header(
            &WebhookSecret::new(host.linkedin.client_secret()),
            code.as_bytes(),
            SignatureFormat::Hex,
        )
    );

    for (query, refusal) in [
        ("", ChallengeRefusal::MissingChallenge),
        ("challengeCode=", ChallengeRefusal::MissingChallenge),
        (
            "challengeCode=a&challengeCode=b",
            ChallengeRefusal::DuplicateParameter,
        ),
        (
            "challengeCode=%3Cscript%3E",
            ChallengeRefusal::InvalidChallenge,
        ),
    ] {
        let refused = validate(&host, query).await;
        assert_eq!(refused.status().as_u16(), refusal.status(), "{query:?}");
        assert_ne!(refused.status(), StatusCode::OK, "{query:?}");
        assert!(refused.text().await.unwrap().is_empty(), "{query:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_delivery_is_queued_and_redelivered_notifications_are_not_queued_again() {
    let mut host = Host::start().await;
    let delivery = host.linkedin.webhook(&[
        Notification::new(101, "COMMENT")
            .organization(ORGANIZATION)
            .source_post("urn:li:share:7001")
            .actor("urn:li:person:X9y8Z7")
            .last_modified_at(1_701_000_000_000),
        Notification::new(102, "LIKE").organization(ORGANIZATION),
    ]);
    let first = deliver(&host, &delivery).await;
    assert_eq!(first.status(), StatusCode::OK);
    match host.events.try_recv().expect("queued before the answer") {
        WebhookEvent::LinkedIn(n) => {
            assert_eq!(n.notification_id, "101");
            assert_eq!(n.action, SocialAction::Comment);
            assert_eq!(
                n.organization.as_ref().map(ToString::to_string).as_deref(),
                Some(ORGANIZATION)
            );
            assert_eq!(n.source_post.as_deref(), Some("urn:li:share:7001"));
            assert_eq!(n.actor.as_deref(), Some("urn:li:person:X9y8Z7"));
            assert_eq!(
                n.last_modified_at.map(|t| t.timestamp_millis()),
                Some(1_701_000_000_000)
            );
        }
        other => panic!("unexpected event {other:?}"),
    }
    assert_eq!(drain(&mut host), [("102".to_owned(), SocialAction::Like)]);

    // LinkedIn retries every 5 minutes until answered 2xx: the same bytes are acknowledged
    // and hand the host nothing new.
    let again = deliver(&host, &delivery).await;
    assert_eq!(again.status(), StatusCode::OK);
    host.assert_nothing_queued();

    // The dedupe key is notificationId, not the body: a new batch carrying one notification
    // already seen hands over only the new one.
    let overlapping = host.linkedin.webhook(&[
        Notification::new(102, "LIKE").organization(ORGANIZATION),
        Notification::new(103, "SHARE").organization(ORGANIZATION),
    ]);
    assert_ne!(overlapping.body, delivery.body);
    assert_eq!(deliver(&host, &overlapping).await.status(), StatusCode::OK);
    assert_eq!(drain(&mut host), [("103".to_owned(), SocialAction::Share)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_missing_or_misplaced_signatures_are_refused_and_queue_nothing() {
    let mut host = Host::start().await;
    let delivery = host
        .linkedin
        .webhook(&[Notification::new(201, "COMMENT").organization(ORGANIZATION)]);
    let wrong_key = SignatureScheme::LINKEDIN
        .sign(&WebhookSecret::new("not-the-client-secret"), &delivery.body);
    let mut flipped = delivery.signature.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    // The body alone, without LinkedIn's `hmacsha256=` prefix, is not what LinkedIn signs.
    let body_only = SignatureScheme::new(SIGNATURE_HEADER, SignatureFormat::Hex).sign(
        &WebhookSecret::new(host.linkedin.client_secret()),
        &delivery.body,
    );
    let meta_style = format!("sha256={}", delivery.signature);
    let prefixed = format!("hmacsha256={}", delivery.signature);
    for signature in [
        Some(wrong_key.as_str()),
        Some(flipped.as_str()),
        Some(body_only.as_str()),
        Some(meta_style.as_str()),
        Some(prefixed.as_str()),
        Some(""),
        Some("zz"),
        None,
    ] {
        let refused = post_signed(&host, &delivery.body, signature).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{signature:?}");
    }
    host.assert_nothing_queued();

    // None of the refusals was recorded as seen: the genuine delivery is still first.
    assert_eq!(deliver(&host, &delivery).await.status(), StatusCode::OK);
    assert_eq!(
        drain(&mut host),
        [("201".to_owned(), SocialAction::Comment)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_over_a_reserialized_body_is_refused() {
    let mut host = Host::start().await;
    let delivery = host
        .linkedin
        .webhook(&[Notification::new(301, "SHARE_MENTION").organization(ORGANIZATION)]);
    // The same JSON laid out differently: what a body-parsing framework would re-serialize.
    let value: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    assert_ne!(pretty, delivery.body);

    // The raw bytes with a signature over the re-serialized ones...
    let over_pretty = sign(&host, &pretty);
    let refused = post_signed(&host, &delivery.body, Some(&over_pretty)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // ...and the re-serialized bytes with LinkedIn's signature over the raw ones.
    let refused = post_signed(&host, &pretty, Some(&delivery.signature)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    host.assert_nothing_queued();

    assert_eq!(deliver(&host, &delivery).await.status(), StatusCode::OK);
    assert_eq!(
        drain(&mut host),
        [("301".to_owned(), SocialAction::ShareMention)]
    );
}

/// Sends `delivery` in a hand-written HTTP/1.1 request with the signature under exactly
/// `name` (reqwest would write the name in lower case); returns the status code.
async fn raw_post_with_header(host: &Host, name: &str, delivery: &SignedNotifications) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(host.server.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST /webhooks/linkedin HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{name}: {}\r\nConnection: close\r\n\r\n",
        host.server.local_addr(),
        delivery.body.len(),
        delivery.signature,
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&delivery.body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signature_header_name_is_matched_in_any_case() {
    let mut host = Host::start().await;
    let names = [
        "X-LI-Signature",
        "x-li-signature",
        "X-LI-SIGNATURE",
        "x-Li-sIgnAtUrE",
    ];
    for (n, name) in names.into_iter().enumerate() {
        let delivery = host
            .linkedin
            .webhook(&[Notification::new(401 + n as u64, "LIKE").organization(ORGANIZATION)]);
        assert_eq!(
            raw_post_with_header(&host, name, &delivery).await,
            200,
            "{name}"
        );
    }
    let ids: Vec<String> = drain(&mut host).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["401", "402", "403", "404"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_body_that_is_not_a_notification_batch_is_refused_as_the_senders_error() {
    let mut host = Host::start().await;
    for body in [
        &b"<html><body>Bad gateway</body></html>"[..],
        br#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[{"notificationId":1"#,
        b"",
        br#"["not", "an", "object"]"#,
        // A notification without its dedupe key, or with an id that is no id.
        br#"{"notifications":[{"action":"LIKE"}]}"#,
        br#"{"notifications":[{"notificationId":{"x":1},"action":"LIKE"}]}"#,
        br#"{"notifications":"LIKE"}"#,
    ] {
        let refused = post_signed(&host, body, Some(&sign(&host, body))).await;
        // A 4xx: the body is the sender's mistake, and a 5xx would have LinkedIn resend it
        // every 5 minutes for 8 hours.
        assert_eq!(
            refused.status(),
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    host.assert_nothing_queued();

    // A well-formed batch with no notifications is acknowledged and hands over nothing.
    let empty = br#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}"#;
    let answer = post_signed(&host, empty, Some(&sign(&host, empty))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    host.assert_nothing_queued();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_413_and_nothing_is_queued() {
    let mut host = Host::start().await;
    // The harness's body limit is 64 KiB; a correctly signed, well-formed batch just over it.
    let body = serde_json::json!({
        "type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
        "notifications": [{"notificationId": 501, "action": "LIKE", "organizationalEntity": ORGANIZATION}],
        "padding": "x".repeat(64 * 1024),
    })
    .to_string()
    .into_bytes();
    assert!(body.len() > 64 * 1024);
    let refused = post_signed(&host, &body, Some(&sign(&host, &body))).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    host.assert_nothing_queued();

    // Just under the limit, the same batch is accepted: the 413 was the size alone.
    let body = serde_json::json!({
        "type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
        "notifications": [{"notificationId": 501, "action": "LIKE", "organizationalEntity": ORGANIZATION}],
        "padding": "x".repeat(60 * 1024),
    })
    .to_string()
    .into_bytes();
    assert!(body.len() < 64 * 1024);
    let accepted = post_signed(&host, &body, Some(&sign(&host, &body))).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(drain(&mut host), [("501".to_owned(), SocialAction::Like)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_that_does_not_fit_the_queue_is_refused_whole_and_its_retry_is_first() {
    let mut host = Host::start_with(Options {
        queue: 2,
        ..Options::default()
    })
    .await;
    let first = host
        .linkedin
        .webhook(&[Notification::new(601, "LIKE").organization(ORGANIZATION)]);
    assert_eq!(deliver(&host, &first).await.status(), StatusCode::OK);

    // One slot left for two notifications: none of them may reach the host, and none may
    // stay recorded as seen, or LinkedIn's retry would be dropped as a repeat.
    let batch = host.linkedin.webhook(&[
        Notification::new(602, "COMMENT").organization(ORGANIZATION),
        Notification::new(603, "COMMENT_DELETE").organization(ORGANIZATION),
    ]);
    let full = deliver(&host, &batch).await;
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(full.headers().contains_key("retry-after"));
    assert_eq!(drain(&mut host), [("601".to_owned(), SocialAction::Like)]);

    assert_eq!(deliver(&host, &batch).await.status(), StatusCode::OK);
    assert_eq!(
        drain(&mut host),
        [
            ("602".to_owned(), SocialAction::Comment),
            ("603".to_owned(), SocialAction::CommentDelete),
        ]
    );
}
