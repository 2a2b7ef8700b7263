//! TikTok webhooks: `TikTok-Signature` vectors, the envelope and its doubly encoded
//! `content`, every typed event from the fixtures, dedupe of redeliveries, and
//! `authorization.removed` end to end against a hub in both deletion modes.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use socialconnect_core::ErrorKind;
use socialconnect_core::alert::{Alert, AlertThresholds, RecordingAlerts};
use socialconnect_core::consent::{ConsentAction, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::MemoryDeletionRequests;
use socialconnect_core::platform_deletion::DeletionStatus;
use socialconnect_core::secret::{AccessToken, ClientSecret, WebhookSecret};
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::webhook::{Deduper, TimestampedScheme, sign_timestamped};
use socialconnect_testkit::{
    Harness, ManualClock, fixture_dir, load_fixture_bytes, test_http_client,
};
use socialconnect_tiktok::webhook::{
    self, DeletionMode, Delivered, MAX_BODY_BYTES, MAX_KEPT_CONTENT_BYTES, RemovalReason,
    TikTokEvent, TikTokWebhooks, WebhookRejection, WebhookVerifier,
};
use socialconnect_tiktok::{TikTokClient, TikTokConfig, TikTokLogin};

const CLIENT_KEY: &str = "bwo2m45353a6k85";
const SECRET: &str = "tt-client-secret";
const OPEN_ID: &str = "act.example12345Example12345Example";
/// `create_time` of `authorization_removed.json`; the deliveries below are signed then.
const T: i64 = 1_615_338_610;
/// Computed independently of this crate and of core, over the fixture's exact bytes:
///   python3 -c "import hmac,hashlib; b=open('tests/fixtures/webhooks/authorization_removed.json','rb').read(); \
///     print(hmac.new(b'tt-client-secret', b'1615338610.'+b, hashlib.sha256).hexdigest())"
const REMOVED_SIG: &str = "b03d97a0e30fadf482fd915f501af4eccab02fd4e02c5813deab06456708b5ed";

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn config() -> TikTokConfig {
    TikTokConfig::new(CLIENT_KEY, ClientSecret::new(SECRET))
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(&config())
}

fn body(name: &str) -> Vec<u8> {
    load_fixture_bytes(&fixture_dir!(), &format!("webhooks/{name}.json"))
}

fn sign(body: &[u8], t: i64) -> String {
    sign_timestamped(
        &WebhookSecret::new(SECRET),
        body,
        t,
        &TimestampedScheme::TIKTOK,
    )
}

fn headers(name: &str, value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.append(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    h
}

fn signed(body: &[u8], t: i64) -> HeaderMap {
    headers("TikTok-Signature", &sign(body, t))
}

// ---------------------------------------------------------------------------------------------
// Signature

#[test]
fn the_python_vector_verifies_and_matches_the_kit() {
    let body = body("authorization_removed");
    let header = format!("t={T},s={REMOVED_SIG}");
    assert_eq!(sign(&body, T), header, "the kit signs as TikTok does");
    assert_eq!(
        verifier().verify(&headers("TikTok-Signature", &header), &body, at(T)),
        Ok(at(T))
    );
    assert_eq!(
        verifier().verify_header(Some(&header), &body, at(T)),
        Ok(at(T))
    );
}

#[test]
fn a_tampered_body_or_another_secret_is_a_mismatch() {
    let body = body("authorization_removed");
    let header = format!("t={T},s={REMOVED_SIG}");
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace(r#"\"reason\": 1"#, r#"\"reason\": 5"#)
        .into_bytes();
    assert_ne!(tampered, body);
    assert_eq!(
        verifier().verify_header(Some(&header), &tampered, at(T)),
        Err(WebhookRejection::SignatureMismatch)
    );
    // One byte more (a trailing newline stripped or added by a proxy) breaks it too.
    let mut longer = body.clone();
    longer.push(b'\n');
    assert_eq!(
        verifier().verify_header(Some(&header), &longer, at(T)),
        Err(WebhookRejection::SignatureMismatch)
    );
    let other = WebhookVerifier::new(&TikTokConfig::new(
        CLIENT_KEY,
        ClientSecret::new("another-secret"),
    ));
    assert_eq!(
        other.verify_header(Some(&header), &body, at(T)),
        Err(WebhookRejection::SignatureMismatch)
    );
    // The timestamp is signed: moving it into the window breaks the signature.
    let moved = format!("t={},s={REMOVED_SIG}", T + 1000);
    assert_eq!(
        verifier().verify_header(Some(&moved), &body, at(T + 1000)),
        Err(WebhookRejection::SignatureMismatch)
    );
}

#[test]
fn stale_and_future_timestamps_are_refused_and_the_window_is_configurable() {
    let body = body("authorization_removed");
    let h = signed(&body, T);
    let v = verifier();
    assert_eq!(v.tolerance(), Duration::from_secs(300));
    assert_eq!(v.verify(&h, &body, at(T + 300)), Ok(at(T)));
    assert_eq!(v.verify(&h, &body, at(T - 300)), Ok(at(T)));
    assert_eq!(
        v.verify(&h, &body, at(T + 301)),
        Err(WebhookRejection::StaleTimestamp)
    );
    assert_eq!(
        v.verify(&h, &body, at(T - 301)),
        Err(WebhookRejection::FutureTimestamp)
    );
    let tight = verifier().with_tolerance(Duration::from_secs(30));
    assert_eq!(
        tight.verify(&h, &body, at(T + 31)),
        Err(WebhookRejection::StaleTimestamp)
    );
    assert_eq!(tight.verify(&h, &body, at(T + 30)), Ok(at(T)));
    let loose = verifier().with_tolerance(Duration::from_secs(3600));
    assert_eq!(loose.verify(&h, &body, at(T + 3000)), Ok(at(T)));
}

#[test]
fn a_missing_or_malformed_header_is_its_own_error() {
    let body = body("authorization_removed");
    let v = verifier();
    assert_eq!(
        v.verify(&HeaderMap::new(), &body, at(T)),
        Err(WebhookRejection::MissingSignature)
    );
    assert_eq!(
        v.verify(&headers("TikTok-Signature", ""), &body, at(T)),
        Err(WebhookRejection::MissingSignature)
    );
    // Another signature header is not this one.
    assert_eq!(
        v.verify(
            &headers("X-Hub-Signature-256", &format!("sha256={REMOVED_SIG}")),
            &body,
            at(T)
        ),
        Err(WebhookRejection::MissingSignature)
    );
    for bad in [
        REMOVED_SIG.to_owned(),
        format!("t={T}"),
        format!("s={REMOVED_SIG}"),
        format!("t=yesterday,s={REMOVED_SIG}"),
        format!("t={T},s={}", &REMOVED_SIG[..40]),
        format!("t={T};s={REMOVED_SIG}"),
        format!("t={T},s=sha256={REMOVED_SIG}"),
    ] {
        let err = v
            .verify(&headers("TikTok-Signature", &bad), &body, at(T))
            .unwrap_err();
        assert!(
            matches!(err, WebhookRejection::MalformedSignature { .. }),
            "{bad}: {err:?}"
        );
    }
    // Sent twice: which one was signed is ambiguous.
    let mut twice = signed(&body, T);
    twice.append(
        "tiktok-signature",
        HeaderValue::from_str(&sign(&body, T)).unwrap(),
    );
    assert!(matches!(
        v.verify(&twice, &body, at(T)),
        Err(WebhookRejection::MalformedSignature { .. })
    ));
    // Every signature failure is Crypto (401); the error never quotes the header.
    for err in [
        WebhookRejection::MissingSignature,
        WebhookRejection::SignatureMismatch,
        WebhookRejection::StaleTimestamp,
        WebhookRejection::FutureTimestamp,
        WebhookRejection::MalformedSignature { reason: "x" },
    ] {
        assert_eq!(err.kind(), ErrorKind::Crypto, "{err}");
        assert_eq!(err.status(), 401, "{err}");
        let core: socialconnect_core::Error = err.clone().into();
        assert_eq!(core.kind(), ErrorKind::Crypto);
        assert_eq!(webhook::response_status(&core), 401);
        assert!(!format!("{err} {err:?} {core:?}").contains(REMOVED_SIG));
    }
    let empty = WebhookVerifier::new(&TikTokConfig::new(CLIENT_KEY, ClientSecret::new("")));
    let err = empty.verify(&signed(&body, T), &body, at(T)).unwrap_err();
    assert_eq!(err, WebhookRejection::EmptySecret);
    assert_eq!((err.kind(), err.status()), (ErrorKind::Config, 500));
}

#[test]
fn spaces_pair_order_and_header_case_do_not_matter() {
    let body = body("authorization_removed");
    let v = verifier();
    for value in [
        format!("t={T},s={REMOVED_SIG}"),
        format!("s={REMOVED_SIG},t={T}"),
        format!("  t = {T} ,  s = {REMOVED_SIG}  "),
        format!("s={REMOVED_SIG}, t={T}"),
        // Uppercase hex is the same tag.
        format!("t={T},s={}", REMOVED_SIG.to_uppercase()),
    ] {
        for name in ["TikTok-Signature", "tiktok-signature", "TIKTOK-SIGNATURE"] {
            assert_eq!(
                v.verify(&headers(name, &value), &body, at(T)),
                Ok(at(T)),
                "{name}: {value}"
            );
            // A framework's own (name, value) pairs: matched ignoring case by hand.
            let pairs = [("content-type", "application/json"), (name, value.as_str())];
            assert_eq!(
                v.verify_pairs(pairs, &body, at(T)),
                Ok(at(T)),
                "{name}: {value}"
            );
        }
    }
    assert_eq!(
        v.verify_pairs([("content-type", "application/json")], &body, at(T)),
        Err(WebhookRejection::MissingSignature)
    );
}

#[test]
fn a_body_over_the_limit_is_refused_before_any_work() {
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let err = verifier()
        .verify(&signed(&big, T), &big, at(T))
        .unwrap_err();
    assert_eq!(
        err,
        WebhookRejection::BodyTooLarge {
            len: MAX_BODY_BYTES + 1,
            max: MAX_BODY_BYTES
        }
    );
    assert_eq!((err.kind(), err.status()), (ErrorKind::InvalidInput, 413));
    assert_eq!(
        webhook::parse_event(&big).unwrap_err(),
        WebhookRejection::BodyTooLarge {
            len: MAX_BODY_BYTES + 1,
            max: MAX_BODY_BYTES
        }
    );
    let small = verifier().with_max_body_bytes(100);
    let body = body("authorization_removed");
    assert!(matches!(
        small.verify(&signed(&body, T), &body, at(T)),
        Err(WebhookRejection::BodyTooLarge { max: 100, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Envelope and events

#[test]
fn content_must_be_a_json_string_holding_json() {
    let v = verifier();
    let not_string = body("content_not_string");
    assert_eq!(
        v.verify_and_parse(&signed(&not_string, T), &not_string, at(T)),
        Err(WebhookRejection::ContentNotString)
    );
    let not_json = body("content_not_json");
    assert_eq!(
        v.verify_and_parse(&signed(&not_json, T), &not_json, at(T)),
        Err(WebhookRejection::ContentNotJson)
    );
    for (content, want) in [
        ("null", WebhookRejection::ContentNotString),
        ("5", WebhookRejection::ContentNotString),
        (r#"["{}"]"#, WebhookRejection::ContentNotString),
        (r#""""#, WebhookRejection::ContentNotJson),
        (r#""{\"reason\": 1""#, WebhookRejection::ContentNotJson),
    ] {
        let body = format!(
            r#"{{"client_key":"{CLIENT_KEY}","event":"authorization.removed","create_time":{T},"user_openid":"{OPEN_ID}","content":{content}}}"#
        );
        assert_eq!(
            webhook::parse_event(body.as_bytes()),
            Err(want),
            "{content}"
        );
    }
    let err = WebhookRejection::ContentNotString;
    assert_eq!((err.kind(), err.status()), (ErrorKind::InvalidInput, 400));
    let removal = |content: &str| {
        let body = format!(
            r#"{{"client_key":"{CLIENT_KEY}","event":"authorization.removed","create_time":{T},"user_openid":"{OPEN_ID}","content":{}}}"#,
            serde_json::to_string(content).unwrap()
        );
        webhook::parse_event(body.as_bytes()).map(|e| e.event)
    };
    // Content that is JSON but not an object is refused.
    for content in ["5", "[1]", r#""{}""#, "null"] {
        assert!(
            matches!(
                removal(content),
                Err(WebhookRejection::MalformedContent { .. })
            ),
            "{content}"
        );
    }
    // A reason that is not an integer reads as unknown (the authorization is gone either
    // way); a numeric string is read.
    for (content, reason) in [
        (r#"{"reason":[1]}"#, RemovalReason::Unknown),
        (r#"{"reason":"x"}"#, RemovalReason::Unknown),
        (r#"{}"#, RemovalReason::Unknown),
        (r#"{"reason":"2"}"#, RemovalReason::AccountDeleted),
    ] {
        assert_eq!(
            removal(content),
            Ok(TikTokEvent::AuthorizationRemoved { reason }),
            "{content}"
        );
    }
}

#[test]
fn a_malformed_envelope_names_the_field_and_quotes_nothing() {
    let full = |client_key: &str, event: &str, create_time: &str, openid: &str| {
        format!(r#"{{{client_key}{event}"create_time":{create_time},{openid}"content":"{{}}"}}"#)
    };
    let cases = [
        full("", r#""event":"x","#, "1", r#""user_openid":"a","#),
        full(r#""client_key":"k","#, "", "1", r#""user_openid":"a","#),
        full(
            r#""client_key":"k","#,
            r#""event":"","#,
            "1",
            r#""user_openid":"a","#,
        ),
        full(
            r#""client_key":"k","#,
            r#""event":"x","#,
            r#""soon""#,
            r#""user_openid":"a","#,
        ),
        full(r#""client_key":"k","#, r#""event":"x","#, "1", ""),
        full(
            r#""client_key":"k","#,
            r#""event":"x","#,
            "99999999999999999",
            r#""user_openid":"a","#,
        ),
        full(
            r#""client_key":"k","#,
            r#""event":"x","#,
            "1",
            &format!(r#""user_openid":"{}","#, "a".repeat(300)),
        ),
        r#"{"client_key":{"secret":"do-not-echo"},"event":"x"}"#.to_owned(),
        "not json, do-not-echo".to_owned(),
        "\"a string\"".to_owned(),
        String::new(),
    ];
    for case in cases {
        let err = webhook::parse_event(case.as_bytes()).unwrap_err();
        assert!(
            matches!(err, WebhookRejection::MalformedEnvelope { .. }),
            "{case}: {err:?}"
        );
        assert!(!format!("{err} {err:?}").contains("do-not-echo"));
    }
}

#[test]
fn authorization_removed_carries_its_reason() {
    let body = body("authorization_removed");
    let event = verifier()
        .verify_and_parse(&signed(&body, T), &body, at(T))
        .unwrap();
    assert_eq!(event.client_key, CLIENT_KEY);
    assert_eq!(event.user_openid, OPEN_ID);
    assert_eq!(event.create_time, at(T));
    assert_eq!(event.name(), "authorization.removed");
    assert_eq!(
        event.event,
        TikTokEvent::AuthorizationRemoved {
            reason: RemovalReason::UserDisconnected
        }
    );

    // An unknown number is kept.
    let body = self::body("authorization_removed_unknown_reason");
    let event = webhook::parse_event(&body).unwrap();
    assert_eq!(
        event.event,
        TikTokEvent::AuthorizationRemoved {
            reason: RemovalReason::Other(9)
        }
    );

    // Every documented reason, by number.
    for (code, reason) in [
        (0, RemovalReason::Unknown),
        (1, RemovalReason::UserDisconnected),
        (2, RemovalReason::AccountDeleted),
        (3, RemovalReason::AgeChanged),
        (4, RemovalReason::AccountBanned),
        (5, RemovalReason::DeveloperRevoked),
    ] {
        assert_eq!(RemovalReason::from_code(Some(code)), reason);
        assert_eq!(reason.code(), code);
    }
    assert_eq!(RemovalReason::from_code(None), RemovalReason::Unknown);
}

#[test]
fn the_video_and_portability_events_are_typed() {
    let body = body("video_upload_failed");
    let event = verifier()
        .verify_and_parse(&signed(&body, T), &body, at(T))
        .unwrap();
    let TikTokEvent::VideoUploadFailed(failed) = &event.event else {
        panic!("{event:?}");
    };
    assert_eq!(
        failed.share_id.as_deref(),
        Some("video.6974245311675353080.VDCxrcMJ")
    );
    assert_eq!(failed.publish_id, None);
    assert_eq!(
        failed.content.as_ref().unwrap()["share_id"],
        "video.6974245311675353080.VDCxrcMJ"
    );

    let body = self::body("video_publish_completed");
    let event = webhook::parse_event(&body).unwrap();
    assert_eq!(event.name(), "video.publish.completed");
    let TikTokEvent::VideoPublishCompleted(done) = &event.event else {
        panic!("{event:?}");
    };
    assert_eq!(
        done.publish_id.as_deref(),
        Some("v_pub_url~v2.7311111111111111111")
    );

    let body = self::body("portability_download_ready");
    let event = webhook::parse_event(&body).unwrap();
    let TikTokEvent::PortabilityDownloadReady(ready) = &event.event else {
        panic!("{event:?}");
    };
    // A 64-bit number keeps its digits.
    assert_eq!(ready.request_id.as_deref(), Some("7311111111111111111"));
}

#[test]
fn an_unknown_event_is_kept_raw_and_bounded() {
    let body = body("unknown_event");
    let event = verifier()
        .verify_and_parse(&signed(&body, T), &body, at(T))
        .unwrap();
    assert_eq!(event.name(), "post.publish.publicly_available");
    let TikTokEvent::Unknown(unknown) = &event.event else {
        panic!("{event:?}");
    };
    assert_eq!(unknown.event, "post.publish.publicly_available");
    let content = unknown.content.as_ref().unwrap();
    assert_eq!(content["post_id"], "7311111111111111112");
    assert_eq!(content["publish_type"], "DIRECT_PUBLISH");
    assert_eq!(unknown.content_len, 95);

    // A content string over the bound: the name and size are reported, the JSON is not kept.
    let filler = "x".repeat(MAX_KEPT_CONTENT_BYTES);
    let big = format!(
        r#"{{"client_key":"{CLIENT_KEY}","event":"brand.new","create_time":{T},"user_openid":"{OPEN_ID}","content":"{{\"blob\":\"{filler}\"}}"}}"#
    );
    let event = webhook::parse_event(big.as_bytes()).unwrap();
    let TikTokEvent::Unknown(unknown) = &event.event else {
        panic!("{event:?}");
    };
    assert_eq!(unknown.event, "brand.new");
    assert_eq!(unknown.content, None);
    assert_eq!(unknown.content_len, MAX_KEPT_CONTENT_BYTES + 11);
    // An overlong event name is cut to the bound.
    let long = format!(
        r#"{{"client_key":"{CLIENT_KEY}","event":"{}","create_time":{T},"user_openid":"{OPEN_ID}","content":"{{}}"}}"#,
        "e".repeat(1000)
    );
    let event = webhook::parse_event(long.as_bytes()).unwrap();
    assert_eq!(event.name().len(), webhook::MAX_EVENT_NAME_BYTES);
}

#[test]
fn a_delivery_for_another_app_is_refused() {
    let body = body("authorization_removed");
    let other = WebhookVerifier::new(&TikTokConfig::new(
        "another-client-key",
        ClientSecret::new(SECRET),
    ));
    assert_eq!(
        other.verify_and_parse(&signed(&body, T), &body, at(T)),
        Err(WebhookRejection::ClientKeyMismatch)
    );
}

#[test]
fn the_delivery_id_is_stable_across_retries_and_hides_the_open_id() {
    let body = body("authorization_removed");
    let first = verifier()
        .verify_and_parse(&signed(&body, T), &body, at(T))
        .unwrap();
    // TikTok's retry an hour later: signed anew, same body.
    let retry = verifier()
        .verify_and_parse(&signed(&body, T + 3600), &body, at(T + 3600))
        .unwrap();
    assert_eq!(first.delivery_id(), retry.delivery_id());
    assert!(
        first
            .delivery_id()
            .starts_with("authorization.removed:1615338610:")
    );
    assert!(!first.delivery_id().contains(OPEN_ID));

    // Another reason, another user or another time is another event.
    let text = String::from_utf8(body).unwrap();
    for changed in [
        text.replace(r#"\"reason\": 1"#, r#"\"reason\": 2"#),
        text.replace(OPEN_ID, "act.someone.else"),
        text.replace("1615338610", "1615338611"),
    ] {
        let other = webhook::parse_event(changed.as_bytes()).unwrap();
        assert_ne!(other.delivery_id(), first.delivery_id(), "{changed}");
    }
}

// ---------------------------------------------------------------------------------------------
// Against a hub

struct Env {
    harness: Harness,
    alerts: Arc<RecordingAlerts>,
    deletions: Arc<MemoryDeletionRequests>,
    /// The subject's TikTok connection for `OPEN_ID`.
    key: ConnectionKey,
    /// Another subject's TikTok connection for another TikTok account.
    other: ConnectionKey,
}

fn tiktok_tokens(open_id: &str) -> TokenSet {
    TokenSet::new(AccessToken::new("act.token"), Expiry::Never, at(T)).with_account_id(open_id)
}

async fn env() -> Env {
    let clock = Arc::new(ManualClock::new(at(T)));
    let http = test_http_client();
    let client = TikTokClient::new(config(), http.clone());
    let login = TikTokLogin::new(client, http.clone(), clock.clone()).unwrap();
    let alerts = Arc::new(RecordingAlerts::new());
    let deletions = Arc::new(MemoryDeletionRequests::new());
    let (a, d) = (alerts.clone(), deletions.clone());
    let harness = Harness::builder()
        .clock(clock)
        .http(http)
        .platform(Arc::new(login))
        .configure(move |b| b.alerts(a, AlertThresholds::default()).deletion_requests(d))
        .build();
    let session = harness
        .session_with_tokens(
            &PlatformId::TIKTOK,
            &tiktok_tokens(OPEN_ID),
            Purpose::ReadingContent,
        )
        .await;
    let other = ConnectionKey::new(
        SubjectId::new("someone-else").unwrap(),
        PlatformId::TIKTOK,
        ConnectionId::generate(),
    );
    harness
        .tokens
        .put(&other, &tiktok_tokens("act.another.account"), None)
        .await
        .unwrap();
    Env {
        key: session.key().clone(),
        other,
        harness,
        alerts,
        deletions,
    }
}

fn hooks(env: &Env, mode: DeletionMode) -> TikTokWebhooks {
    TikTokWebhooks::new(
        env.harness.hub.clone(),
        &config(),
        Arc::new(Deduper::new(1000, Duration::from_secs(72 * 3600))),
    )
    .unwrap()
    .with_mode(mode)
}

async fn assert_removed(env: &Env) {
    let h = &env.harness;
    // The tokens are gone and the hub refuses the connection.
    assert!(h.tokens.get(&env.key).await.unwrap().is_none());
    assert!(
        h.hub
            .session(&env.key, Purpose::ReadingContent)
            .await
            .is_err()
    );
    // It was marked revoked by the platform on the way.
    let alerts = env.alerts.take();
    assert!(
        alerts.iter().any(|a| matches!(
            a,
            Alert::TokenRevokedByPlatform { platform, connection }
                if *platform == PlatformId::TIKTOK && *connection == env.key.connection
        )),
        "{alerts:?}"
    );
    // The withdrawal is in the ledger.
    let state = h
        .ledger
        .state(&h.subject, Purpose::AccountConnection, &PlatformId::TIKTOK)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.action, ConsentAction::Withdraw);
    // The deletion is logged as a privileged operation with the event as its actor.
    let entries = h.log.entries(&h.subject).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.operation == "privileged.forget_connection"
                && e.actor.as_deref() == Some("tiktok.authorization_removed")),
        "{entries:?}"
    );
    // Another TikTok account's connection is untouched.
    let other = h.tokens.get(&env.other).await.unwrap().unwrap();
    assert_eq!(other.status, ConnectionStatus::Active);
}

#[tokio::test]
async fn authorization_removed_in_auto_erase_mode_erases_at_once() {
    let env = env().await;
    let hooks = hooks(&env, DeletionMode::AutoErase);
    let body = body("authorization_removed");
    let Delivered::First { event, removal } = hooks.handle(&signed(&body, T), &body).await.unwrap()
    else {
        panic!("a first delivery");
    };
    assert_eq!(event.user_openid, OPEN_ID);
    let removal = removal.expect("authorization.removed acts");
    assert_eq!(removal.reason, RemovalReason::UserDisconnected);
    assert_eq!(removal.connections_removed, 1);
    assert_eq!(removal.subjects, vec![env.harness.subject.clone()]);
    assert_eq!(removal.mode, DeletionMode::AutoErase);
    assert_removed(&env).await;

    let [code] = removal.deletion_requests.as_slice() else {
        panic!("one request per subject");
    };
    assert_eq!(
        hooks.status(code).await.unwrap(),
        Some(DeletionStatus::Completed { at: at(T) })
    );
    use socialconnect_core::platform_deletion::DeletionRequestStore;
    assert!(env.deletions.pending_requests().await.unwrap().is_empty());
    // Nothing is left to approve.
    assert_eq!(
        hooks.approve(code).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn authorization_removed_in_review_mode_queues_the_erasure() {
    let env = env().await;
    let hooks = hooks(&env, DeletionMode::ReviewQueue);
    let body = body("authorization_removed");
    let Delivered::First { removal, .. } = hooks.handle(&signed(&body, T), &body).await.unwrap()
    else {
        panic!("a first delivery");
    };
    let removal = removal.unwrap();
    assert_eq!(removal.mode, DeletionMode::ReviewQueue);
    // Revoked and tokens gone in review mode too: the token is dead upstream.
    assert_removed(&env).await;

    let [code] = removal.deletion_requests.as_slice() else {
        panic!("one request per subject");
    };
    use socialconnect_core::platform_deletion::DeletionRequestStore;
    let queue = env.deletions.pending_requests().await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(&queue[0].confirmation_code, code);
    assert_eq!(queue[0].platform, PlatformId::TIKTOK);
    assert_eq!(queue[0].subject.as_ref(), Some(&env.harness.subject));
    assert_eq!(
        hooks.status(code).await.unwrap(),
        Some(DeletionStatus::Pending)
    );

    env.harness.clock.advance(chrono::Duration::hours(2));
    hooks.approve(code).await.unwrap();
    assert_eq!(
        hooks.status(code).await.unwrap(),
        Some(DeletionStatus::Completed { at: at(T + 7200) })
    );
    assert!(env.deletions.pending_requests().await.unwrap().is_empty());
    assert_eq!(
        hooks.approve("no-such-code").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(hooks.status("no-such-code").await.unwrap(), None);
}

#[tokio::test]
async fn a_review_can_reject_with_a_reason() {
    let env = env().await;
    let hooks = hooks(&env, DeletionMode::ReviewQueue);
    let body = body("authorization_removed");
    let Delivered::First { removal, .. } = hooks.handle(&signed(&body, T), &body).await.unwrap()
    else {
        panic!("a first delivery");
    };
    let code = removal.unwrap().deletion_requests.remove(0);
    hooks
        .reject(&code, "legal hold on the account's invoices")
        .await
        .unwrap();
    assert_eq!(
        hooks.status(&code).await.unwrap(),
        Some(DeletionStatus::Rejected {
            reason: "legal hold on the account's invoices".into()
        })
    );
    assert_eq!(
        hooks.reject(&code, "twice").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn a_redelivery_is_recognised_and_changes_nothing() {
    let env = env().await;
    let hooks = hooks(&env, DeletionMode::AutoErase);
    let body = body("authorization_removed");
    let first = hooks.handle(&signed(&body, T), &body).await.unwrap();
    let Delivered::First { event, .. } = &first else {
        panic!("{first:?}");
    };
    // The retry, signed anew a minute later.
    env.harness.clock.advance(chrono::Duration::minutes(1));
    let again = hooks.handle(&signed(&body, T + 60), &body).await.unwrap();
    assert_eq!(
        again,
        Delivered::Repeat {
            delivery_id: event.delivery_id()
        }
    );
    use socialconnect_core::platform_deletion::DeletionRequestStore;
    // One request in all: the repeat recorded nothing.
    let records = env
        .harness
        .ledger
        .history(&env.harness.subject)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.action == ConsentAction::Withdraw)
        .count();
    assert_eq!(records, 1);
    assert!(env.deletions.pending_requests().await.unwrap().is_empty());

    // Other events go through the log too.
    let video = self::body("video_publish_completed");
    let first = hooks.handle(&signed(&video, T + 60), &video).await.unwrap();
    assert!(matches!(first, Delivered::First { removal: None, .. }));
    assert!(matches!(
        hooks.handle(&signed(&video, T + 60), &video).await.unwrap(),
        Delivered::Repeat { .. }
    ));
}

#[tokio::test]
async fn a_subject_with_another_tiktok_account_keeps_it_and_its_consent() {
    let env = env().await;
    let h = &env.harness;
    let second = h
        .session_with_tokens(
            &PlatformId::TIKTOK,
            &tiktok_tokens("act.second.account"),
            Purpose::ReadingContent,
        )
        .await;
    let hooks = hooks(&env, DeletionMode::AutoErase);
    let body = body("authorization_removed");
    let Delivered::First { removal, .. } = hooks.handle(&signed(&body, T), &body).await.unwrap()
    else {
        panic!("a first delivery");
    };
    assert_eq!(removal.unwrap().connections_removed, 1);
    assert!(h.tokens.get(&env.key).await.unwrap().is_none());
    // The second account still works: no withdrawal was recorded for TikTok.
    h.hub
        .session(second.key(), Purpose::ReadingContent)
        .await
        .expect("the subject's other TikTok account still works");
    let state = h
        .ledger
        .state(&h.subject, Purpose::AccountConnection, &PlatformId::TIKTOK)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.action, ConsentAction::Grant);
}

#[tokio::test]
async fn an_event_for_an_unknown_open_id_changes_nothing() {
    let env = env().await;
    let hooks = hooks(&env, DeletionMode::AutoErase);
    let body = String::from_utf8(body("authorization_removed"))
        .unwrap()
        .replace(OPEN_ID, "act.never.connected")
        .into_bytes();
    let Delivered::First { removal, .. } = hooks.handle(&signed(&body, T), &body).await.unwrap()
    else {
        panic!("a first delivery");
    };
    let removal = removal.unwrap();
    assert_eq!(removal.connections_removed, 0);
    assert!(removal.subjects.is_empty() && removal.deletion_requests.is_empty());
    assert!(env.harness.tokens.get(&env.key).await.unwrap().is_some());
}

#[tokio::test]
async fn a_rejected_delivery_changes_nothing() {
    let env = env().await;
    let hooks = hooks(&env, DeletionMode::AutoErase);
    let body = body("authorization_removed");
    let forged = headers("TikTok-Signature", &format!("t={T},s={}", "0".repeat(64)));
    let err = hooks.handle(&forged, &body).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!(webhook::response_status(&err), 401);
    // Stale by the hub's clock.
    env.harness.clock.advance(chrono::Duration::minutes(10));
    let err = hooks.handle(&signed(&body, T), &body).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(env.harness.tokens.get(&env.key).await.unwrap().is_some());
    // A rejected delivery was not recorded: once signed in time, it is handled.
    let now = T + 600;
    assert!(matches!(
        hooks.handle(&signed(&body, now), &body).await.unwrap(),
        Delivered::First { .. }
    ));
}

#[tokio::test]
async fn a_hub_without_a_deletion_store_is_a_config_error() {
    let harness = Harness::builder().build();
    let err = TikTokWebhooks::new(
        harness.hub.clone(),
        &config(),
        Arc::new(Deduper::new(10, Duration::from_secs(60))),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

// ---------------------------------------------------------------------------------------------
// Arbitrary input

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            map.append(n, v);
        }
    }
    map
}

proptest! {
    #[test]
    fn arbitrary_bytes_and_headers_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        pairs in proptest::collection::vec(
            (prop_oneof![Just("tiktok-signature".to_owned()), "[A-Za-z-]{1,20}"], ".{0,160}"),
            0..4,
        ),
        now in 0i64..4_000_000_000,
    ) {
        let v = verifier();
        let _ = v.verify_and_parse(&header_map(&pairs), &body, at(now));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let _ = v.verify_and_parse_pairs(refs, &body, at(now));
        let _ = webhook::parse_event(&body);
        // Correctly signed, so the parser runs behind the signature check too.
        let header = signed(&body, now);
        let _ = v.verify_and_parse(&header, &body, at(now));
    }

    #[test]
    fn envelope_shaped_input_never_panics(
        event in prop_oneof![
            Just("authorization.removed".to_owned()),
            Just("video.upload.failed".to_owned()),
            Just("video.publish.completed".to_owned()),
            Just("portability.download.ready".to_owned()),
            ".{0,40}",
        ],
        create_time in prop_oneof![Just("1615338610".to_owned()), "-?[0-9]{0,22}", Just("\"1\"".to_owned()), Just("null".to_owned())],
        content in prop_oneof![
            "[ -~]{0,80}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            r#"\{"(reason|share_id|publish_id|request_id)": ?(-?[0-9]{1,25}|"[a-z]{0,8}"|null|\[\]|\{\}|true)\}"#
                .prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("{}".to_owned()),
            Just("[]".to_owned()),
        ],
    ) {
        let body = format!(
            r#"{{"client_key":"{CLIENT_KEY}","event":{},"create_time":{create_time},"user_openid":"{OPEN_ID}","content":{content}}}"#,
            serde_json::to_string(&event).unwrap()
        );
        let _ = webhook::parse_event(body.as_bytes());
        let _ = verifier().verify_and_parse(&signed(body.as_bytes(), T), body.as_bytes(), at(T));
    }
}
