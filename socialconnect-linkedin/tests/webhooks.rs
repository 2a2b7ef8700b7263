//! LinkedIn webhooks: the challenge and signature vectors (computed with python3's hmac over
//! the fixture's exact bytes), typed notifications, unknown actions kept, redeliveries
//! recognised, and arbitrary input never a panic.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use socialconnect_core::ErrorKind;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::webhook::Deduper;
use socialconnect_linkedin::LinkedInConfig;
use socialconnect_linkedin::webhook::{LinkedInWebhooks, SocialAction};

const SECRET: &str = "linkedin-secret-for-tests";
// python3 -c "import hmac,hashlib;b=open('tests/fixtures/webhooks/batch.json','rb').read();
//   print(hmac.new(b'linkedin-secret-for-tests',b'hmacsha256='+b,hashlib.sha256).hexdigest())"
const BATCH_SIGNATURE: &str = "ea32f0a4cbc5d7d317a16e0d0cd41df8fa511d31a34123a2d8d55c9cf8a81210";
const CHALLENGE: &str = "b8f6a3b2-1c4d-4e5f-9a0b-123456789abc";
// python3 -c "import hmac,hashlib;print(hmac.new(b'linkedin-secret-for-tests',
//   b'b8f6a3b2-1c4d-4e5f-9a0b-123456789abc',hashlib.sha256).hexdigest())"
const CHALLENGE_RESPONSE: &str = "97240af3fd5aae91432d974869688995fe6fe560185ac11930bd367a89117a04";

fn hooks(secret: &str) -> LinkedInWebhooks {
    LinkedInWebhooks::new(&LinkedInConfig::new("86abc", ClientSecret::new(secret)))
}

fn batch() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webhooks/batch.json"
    ))
    .unwrap()
}

fn signed(name: &str, value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    h
}

#[test]
fn the_challenge_is_answered_with_the_hmac_of_the_code() {
    let reply = hooks(SECRET).challenge(&format!("challengeCode={CHALLENGE}"));
    assert!(reply.is_accepted());
    assert_eq!(reply.content_type(), "application/json");
    let body: serde_json::Value = serde_json::from_str(reply.body()).unwrap();
    assert_eq!(body["challengeCode"], CHALLENGE);
    assert_eq!(body["challengeResponse"], CHALLENGE_RESPONSE);
    for bad in [
        "",
        "challengeCode=",
        "other=1",
        "challengeCode=a&challengeCode=b",
    ] {
        assert!(!hooks(SECRET).challenge(bad).is_accepted(), "{bad:?}");
    }
    assert!(
        !hooks("")
            .challenge(&format!("challengeCode={CHALLENGE}"))
            .is_accepted()
    );
}

#[test]
fn a_signed_batch_parses_into_typed_notifications() {
    let body = batch();
    // Header names in any case.
    for name in ["X-LI-Signature", "x-li-signature"] {
        let n = hooks(SECRET)
            .verify_and_parse(&signed(name, BATCH_SIGNATURE), &body)
            .unwrap();
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].notification_id, "1200000001");
        assert_eq!(n[0].action, SocialAction::Comment);
        assert_eq!(
            n[0].organization.as_ref().unwrap().as_str(),
            "urn:li:organization:2414183"
        );
        assert_eq!(n[0].last_modified_at.unwrap().timestamp(), 1_701_000_000);
        assert_eq!(n[1].notification_id, "1200000002", "an id as a string");
        assert_eq!(n[1].action, SocialAction::Like);
        assert_eq!(n[2].action, SocialAction::Other("BRAND_NEW_ACTION".into()));
        assert_eq!(n[2].organization, None);
    }
}

#[test]
fn tampered_wrong_secret_and_missing_signatures_are_refused() {
    let body = batch();
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    let h = signed("X-LI-Signature", BATCH_SIGNATURE);
    let kind = |r: socialconnect_core::Result<_>| r.map(|_: Vec<_>| ()).unwrap_err().kind();
    assert_eq!(
        kind(hooks(SECRET).verify_and_parse(&h, &tampered)),
        ErrorKind::Crypto
    );
    assert_eq!(
        kind(hooks("another-secret").verify_and_parse(&h, &body)),
        ErrorKind::Crypto
    );
    assert_eq!(
        kind(hooks(SECRET).verify_and_parse(&HeaderMap::new(), &body)),
        ErrorKind::Crypto
    );
    assert_eq!(
        kind(hooks(SECRET).verify_and_parse(&signed("X-LI-Signature", "not-hex"), &body)),
        ErrorKind::Crypto
    );
    assert_eq!(
        kind(hooks("").verify_and_parse(&h, &body)),
        ErrorKind::Config
    );
    let huge = vec![b' '; 300 * 1024];
    assert_eq!(
        kind(hooks(SECRET).verify_and_parse(&h, &huge)),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn a_redelivered_batch_yields_nothing_new() {
    let body = batch();
    let h = signed("X-LI-Signature", BATCH_SIGNATURE);
    let log = Deduper::new(1000, Duration::from_secs(8 * 3600));
    let first = hooks(SECRET).handle(&h, &body, &log).await.unwrap();
    assert_eq!(first.len(), 3);
    let again = hooks(SECRET).handle(&h, &body, &log).await.unwrap();
    assert!(again.is_empty());
}

/// A delivery log over a `Deduper` that fails its third `record`.
struct FailsThird {
    inner: Deduper,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl socialconnect_core::webhook::DeliveryLog for FailsThird {
    async fn record(
        &self,
        platform: &str,
        event_id: &str,
    ) -> socialconnect_core::Result<socialconnect_core::webhook::Delivery> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2 {
            return Err(socialconnect_core::Error::storage_msg("the log is down"));
        }
        self.inner.record(platform, event_id).await
    }

    async fn forget(&self, platform: &str, event_id: &str) -> socialconnect_core::Result<()> {
        self.inner.forget(platform, event_id).await
    }
}

#[tokio::test]
async fn a_batch_that_fails_part_way_leaves_nothing_recorded() {
    let body = batch();
    let h = signed("X-LI-Signature", BATCH_SIGNATURE);
    let log = FailsThird {
        inner: Deduper::new(1000, Duration::from_secs(8 * 3600)),
        calls: Default::default(),
    };
    let failed = hooks(SECRET).handle(&h, &body, &log).await.unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Storage);
    // LinkedIn's retry brings all three back.
    let retry = hooks(SECRET).handle(&h, &body, &log).await.unwrap();
    assert_eq!(retry.len(), 3);
}

proptest! {
    #[test]
    fn arbitrary_bodies_and_signatures_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..1024),
        signature in "[ -~]{0,80}",
    ) {
        let h = signed("X-LI-Signature", &signature);
        let _ = hooks(SECRET).verify_and_parse(&h, &body);
        let _ = hooks(SECRET).challenge(&String::from_utf8_lossy(&body));
    }

    #[test]
    fn correctly_signed_arbitrary_bodies_are_typed_errors_or_batches(
        body in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let scheme = socialconnect_core::connect::webhook::SignatureScheme::LINKEDIN;
        let sig = scheme.sign(&socialconnect_core::secret::WebhookSecret::new(SECRET), &body);
        let h = signed("X-LI-Signature", &sig);
        if let Err(e) = hooks(SECRET).verify_and_parse(&h, &body) {
            prop_assert_eq!(e.kind(), ErrorKind::Platform);
        }
    }
}
