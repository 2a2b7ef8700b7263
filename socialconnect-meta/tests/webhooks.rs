//! Meta webhooks: handshake, signature and typed events, against fixtures written from the
//! documented payload shapes (`shared/platforms/meta.md` §6, §7, §8b).

use proptest::prelude::*;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{SignatureFormat, WebhookError, sign_header};
use socialconnect_core::{Error, ErrorKind};
use socialconnect_meta::webhook::{
    self, DeliveryStatus, FeedItem, FeedVerb, MAX_BODY_BYTES, MAX_CHALLENGE_LEN, MetaEvent,
    SubscriptionError, SubscriptionQuery, WebhookBatch, WhatsAppContent, WhatsAppContext,
};
use socialconnect_testkit::fixture_dir;
use socialconnect_testkit::fixtures::load_fixture_bytes;

fn app_secret() -> WebhookSecret {
    WebhookSecret::new("app-secret")
}

fn fixture(name: &str) -> Vec<u8> {
    load_fixture_bytes(&fixture_dir!(), &format!("webhooks/{name}"))
}

fn signed(body: &[u8]) -> String {
    sign_header(&app_secret(), body, SignatureFormat::META)
}

fn parse_fixture(name: &str) -> WebhookBatch {
    let body = fixture(name);
    webhook::verify_and_parse(&app_secret(), &body, Some(&signed(&body)))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------------

fn verify_token() -> WebhookSecret {
    WebhookSecret::new("my-verify-token")
}

#[test]
fn handshake_echoes_the_challenge() {
    let q = SubscriptionQuery::from_query(
        "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token",
    );
    assert_eq!(
        webhook::verify_subscription(&q, &verify_token()).unwrap(),
        "1158201444"
    );
    let debug = format!("{q:?}");
    assert!(!debug.contains("my-verify-token"), "{debug}");
    assert!(debug.contains("1158201444"), "{debug}");
    // PHP-style names, extra parameters, percent-encoding.
    let q = SubscriptionQuery::from_pairs([
        ("hub_mode", "subscribe"),
        ("other", "x"),
        ("hub_verify_token", "my-verify-token"),
        ("hub_challenge", "abc-DEF_1.2~3"),
    ]);
    assert_eq!(
        webhook::verify_subscription(&q, &verify_token()).unwrap(),
        "abc-DEF_1.2~3"
    );
    let q = SubscriptionQuery::from_query(
        "hub.mode=subscribe&hub.verify_token=my%2Dverify%2Dtoken&hub.challenge=7",
    );
    assert_eq!(
        webhook::verify_subscription(&q, &verify_token()).unwrap(),
        "7"
    );
}

#[test]
fn handshake_refuses_a_wrong_or_missing_token() {
    for query in [
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=my-verify-toke",
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=my-verify-token%20",
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=",
        "hub.mode=subscribe&hub.challenge=1",
    ] {
        let err =
            webhook::verify_subscription(&SubscriptionQuery::from_query(query), &verify_token())
                .unwrap_err();
        assert_eq!(err, SubscriptionError::TokenMismatch, "{query}");
        assert_eq!(err.status_code(), 403);
        assert_eq!(Error::from(err).kind(), ErrorKind::Crypto);
    }
}

#[test]
fn handshake_refuses_a_missing_or_wrong_mode() {
    for query in [
        "hub.challenge=1&hub.verify_token=my-verify-token",
        "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=my-verify-token",
        "hub.mode=Subscribe&hub.challenge=1&hub.verify_token=my-verify-token",
        "",
    ] {
        let err =
            webhook::verify_subscription(&SubscriptionQuery::from_query(query), &verify_token())
                .unwrap_err();
        assert_eq!(err, SubscriptionError::NotSubscribe, "{query}");
        // Meta expects 403 for every refused verification, a wrong mode included.
        assert_eq!(err.status_code(), 403, "{query}");
        assert_eq!(Error::from(err).kind(), ErrorKind::InvalidInput);
    }
}

#[test]
fn handshake_bounds_the_challenge() {
    let with = |challenge: &str| {
        SubscriptionQuery::new(
            Some("subscribe".into()),
            Some("my-verify-token".into()),
            Some(challenge.into()),
        )
    };
    let none = SubscriptionQuery::new(
        Some("subscribe".into()),
        Some("my-verify-token".into()),
        None,
    );
    assert_eq!(
        webhook::verify_subscription(&none, &verify_token()),
        Err(SubscriptionError::MissingChallenge)
    );
    assert_eq!(
        webhook::verify_subscription(&with(""), &verify_token()),
        Err(SubscriptionError::MissingChallenge)
    );
    let longest = "9".repeat(MAX_CHALLENGE_LEN);
    assert_eq!(
        webhook::verify_subscription(&with(&longest), &verify_token()).as_deref(),
        Ok(longest.as_str())
    );
    let too_long = "9".repeat(MAX_CHALLENGE_LEN + 1);
    for bad in [
        too_long.as_str(),
        "<script>alert(1)</script>",
        "1 2",
        "1\n2",
        "é",
    ] {
        assert_eq!(
            webhook::verify_subscription(&with(bad), &verify_token()),
            Err(SubscriptionError::InvalidChallenge),
            "{bad}"
        );
    }
}

#[test]
fn handshake_refuses_duplicates_and_an_empty_configured_token() {
    let q = SubscriptionQuery::from_query(
        "hub.mode=subscribe&hub.challenge=1&hub.challenge=2&hub.verify_token=my-verify-token",
    );
    assert_eq!(
        webhook::verify_subscription(&q, &verify_token()),
        Err(SubscriptionError::DuplicateParameter)
    );
    let q = SubscriptionQuery::from_query("hub.mode=subscribe&hub_mode=subscribe&hub.challenge=1");
    assert_eq!(
        webhook::verify_subscription(&q, &verify_token()),
        Err(SubscriptionError::DuplicateParameter)
    );
    let q = SubscriptionQuery::from_query("hub.mode=subscribe&hub.challenge=1&hub.verify_token=");
    let err = webhook::verify_subscription(&q, &WebhookSecret::new("")).unwrap_err();
    assert_eq!(err, SubscriptionError::EmptyVerifyToken);
    assert_eq!(
        err.status_code(),
        500,
        "the host's misconfiguration, not Meta's"
    );
    assert_eq!(Error::from(err).kind(), ErrorKind::Config);
}

#[test]
fn every_refused_verification_answers_403() {
    let token = "hub.verify_token=my-verify-token";
    for query in [
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong".to_owned(),
        "hub.challenge=1&hub.verify_token=wrong".to_owned(),
        "hub.mode=subscribe&hub.challenge=1".to_owned(),
        format!("hub.mode=unsubscribe&hub.challenge=1&{token}"),
        format!("hub.challenge=1&{token}"),
    ] {
        let err =
            webhook::verify_subscription(&SubscriptionQuery::from_query(&query), &verify_token())
                .unwrap_err();
        assert_eq!(err.status_code(), 403, "{query}: {err:?}");
        // The same answer as the platform kit's handshake gives for the raw query.
        let reply =
            socialconnect_core::webhook::TokenChallenge::META.answer(&query, &verify_token());
        assert_eq!(reply.status(), 403, "{query}");
    }
    // A malformed request (no challenge, one that could be markup, a repeat) is a 400.
    for query in [
        format!("hub.mode=subscribe&{token}"),
        format!("hub.mode=subscribe&hub.challenge=%3Cb%3E&{token}"),
        format!("hub.mode=subscribe&hub.mode=subscribe&hub.challenge=1&{token}"),
    ] {
        let err =
            webhook::verify_subscription(&SubscriptionQuery::from_query(&query), &verify_token())
                .unwrap_err();
        assert_eq!(err.status_code(), 400, "{query}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------------

#[test]
fn signature_known_vector_over_escaped_unicode() {
    // Computed independently:
    //   hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    const BODY: &[u8] = br#"{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"item":"status","verb":"add","message":"\u00e4\u00f6\u00e5"}}]}]}"#;
    const HEX: &str = "9b01424261e7497f90454cac983e16f516ac82730dceca0ddf0e17a6b3589089";
    let header = format!("sha256={HEX}");
    webhook::verify_signature(&app_secret(), BODY, Some(&header)).unwrap();
    // Uppercase hex is the same signature.
    let upper = format!("sha256={}", HEX.to_uppercase());
    webhook::verify_signature(&app_secret(), BODY, Some(&upper)).unwrap();

    // The events decode the escapes…
    let batch = webhook::verify_and_parse(&app_secret(), BODY, Some(&header)).unwrap();
    let MetaEvent::PageFeed(feed) = &batch.events[0] else {
        panic!("{batch:?}")
    };
    assert_eq!(feed.message.as_deref(), Some("äöå"));
    // …but re-serialized JSON no longer matches the signature: only raw bytes do.
    let value: serde_json::Value = serde_json::from_slice(BODY).unwrap();
    let reserialized = serde_json::to_vec(&value).unwrap();
    assert_ne!(reserialized, BODY);
    assert_eq!(
        webhook::verify_signature(&app_secret(), &reserialized, Some(&header)),
        Err(WebhookError::SignatureMismatch)
    );
}

#[test]
fn every_fixture_verifies_with_the_right_secret() {
    for name in [
        "page_feed",
        "instagram_comments",
        "instagram_mentions",
        "whatsapp_message",
        "whatsapp_context",
        "whatsapp_status",
        "unknown_object",
        "messenger",
    ] {
        let body = fixture(name);
        webhook::verify_signature(&app_secret(), &body, Some(&signed(&body)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn tampered_payload_is_rejected() {
    let body = fixture("whatsapp_message");
    let header = signed(&body);
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("Does it come", "Send me money")
        .into_bytes();
    assert_eq!(
        webhook::verify_signature(&app_secret(), &tampered, Some(&header)),
        Err(WebhookError::SignatureMismatch)
    );
    let err = webhook::verify_and_parse(&app_secret(), &tampered, Some(&header)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!(webhook::rejection_status(&err), 401);
    // One trailing byte is enough.
    let mut longer = body.clone();
    longer.push(b'\n');
    assert_eq!(
        webhook::verify_signature(&app_secret(), &longer, Some(&header)),
        Err(WebhookError::SignatureMismatch)
    );
}

#[test]
fn wrong_secret_is_rejected() {
    let body = fixture("page_feed");
    let header = sign_header(
        &WebhookSecret::new("other-app"),
        &body,
        SignatureFormat::META,
    );
    assert_eq!(
        webhook::verify_signature(&app_secret(), &body, Some(&header)),
        Err(WebhookError::SignatureMismatch)
    );
}

#[test]
fn missing_or_malformed_header_is_rejected() {
    let body = fixture("page_feed");
    let hex = signed(&body).trim_start_matches("sha256=").to_owned();
    assert_eq!(
        webhook::verify_signature(&app_secret(), &body, None),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        webhook::verify_signature(&app_secret(), &body, Some("  ")),
        Err(WebhookError::MissingSignature)
    );
    let short = format!("sha256={}", &hex[..63]);
    let sha1 = format!("sha1={hex}");
    let not_hex = format!("sha256={}", "zz".repeat(32));
    for header in [
        hex.as_str(),
        short.as_str(),
        sha1.as_str(),
        not_hex.as_str(),
        "sha256=",
        "garbage",
    ] {
        assert!(
            matches!(
                webhook::verify_signature(&app_secret(), &body, Some(header)),
                Err(WebhookError::MalformedSignature { .. })
            ),
            "{header}"
        );
        let err = webhook::verify_and_parse(&app_secret(), &body, Some(header)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
    }
    let err = webhook::verify_and_parse(&WebhookSecret::new(""), &body, Some(&signed(&body)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn oversized_body_is_refused_before_hashing() {
    let mut body = br#"{"object":"page","entry":[]}"#.to_vec();
    body.resize(MAX_BODY_BYTES + 1, b' ');
    let header = signed(&body);
    let err = webhook::verify_and_parse(&app_secret(), &body, Some(&header)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        webhook::parse_events(&body).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // Trailing whitespace is valid JSON: the same body under the limit parses.
    body.truncate(MAX_BODY_BYTES);
    assert!(webhook::parse_events(&body).unwrap().events.is_empty());
    assert_eq!(
        webhook::parse_events_with_limit(&body, 100)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

#[test]
fn page_feed_events() {
    let batch = parse_fixture("page_feed");
    assert_eq!(batch.object, "page");
    assert_eq!(batch.events.len(), 4);

    let MetaEvent::PageFeed(comment) = &batch.events[0] else {
        panic!("{:?}", batch.events[0])
    };
    assert_eq!(comment.page_id, "104567890123456");
    assert_eq!(comment.time, Some(at(1_717_000_000)));
    assert_eq!(comment.item, FeedItem::Comment);
    assert_eq!(comment.verb, FeedVerb::Add);
    assert_eq!(
        comment.post_id.as_deref(),
        Some("104567890123456_987654321098765")
    );
    // The comment id's second half is above 2^53 and survives exactly.
    assert_eq!(
        comment.comment_id.as_deref(),
        Some("987654321098765_17841400000000001234")
    );
    assert_eq!(
        comment.parent_id.as_deref(),
        Some("104567890123456_987654321098765")
    );
    let from = comment.from.as_ref().unwrap();
    assert_eq!(from.id, "7000000000000001");
    assert_eq!(from.name.as_deref(), Some("Alex Example"));
    assert_eq!(comment.message.as_deref(), Some("Great post! äöå"));
    assert_eq!(comment.created_time, Some(at(1_716_999_990)));
    // Keys not modelled are still reachable.
    assert_eq!(comment.raw["post"]["status_type"], "added_photos");

    let MetaEvent::PageFeed(reaction) = &batch.events[1] else {
        panic!("{:?}", batch.events[1])
    };
    assert_eq!(reaction.item, FeedItem::Reaction);
    assert_eq!(reaction.reaction_type.as_deref(), Some("love"));
    // A numeric id is accepted and kept exactly.
    assert_eq!(reaction.from.as_ref().unwrap().id, "7000000000000002");
    assert_eq!(reaction.from.as_ref().unwrap().name, None);
    // Graph datetime with a `+0000` offset.
    assert_eq!(reaction.created_time, Some(at(1_717_000_000 - 9_210)));

    let MetaEvent::PageFeed(status) = &batch.events[2] else {
        panic!("{:?}", batch.events[2])
    };
    assert_eq!(status.item, FeedItem::Status);
    assert_eq!(status.verb, FeedVerb::Edited);
    assert_eq!(status.verb.as_str(), "edited");
    assert_eq!(status.comment_id, None);
    // Unix seconds as a string.
    assert_eq!(status.created_time, Some(at(1_716_999_000)));

    let MetaEvent::Unknown(mention) = &batch.events[3] else {
        panic!("{:?}", batch.events[3])
    };
    assert_eq!(mention.object, "page");
    assert_eq!(mention.field.as_deref(), Some("mention"));
    assert_eq!(mention.entry_id.as_deref(), Some("104567890123456"));
    assert_eq!(mention.value["post_id"], "44444444_444444");
    assert_eq!(batch.events[3].entry_id(), Some("104567890123456"));
}

#[test]
fn instagram_comment_events() {
    let batch = parse_fixture("instagram_comments");
    assert_eq!(batch.object, "instagram");
    let [
        MetaEvent::InstagramComment(first),
        MetaEvent::InstagramComment(reply),
    ] = batch.events.as_slice()
    else {
        panic!("{:?}", batch.events)
    };
    // The account id is above 2^53.
    assert_eq!(first.account_id, "17841400000000001234");
    assert_eq!(first.comment_id, "17865799348089039");
    assert_eq!(first.text.as_deref(), Some("This is an example."));
    let from = first.from.as_ref().unwrap();
    assert_eq!(from.id, "232323232");
    assert_eq!(from.username.as_deref(), Some("test_user"));
    assert_eq!(first.media_id.as_deref(), Some("18000000000000000001"));
    assert_eq!(first.media_product_type.as_deref(), Some("FEED"));
    assert_eq!(first.parent_id, None);
    assert_eq!(reply.parent_id.as_deref(), Some("17865799348089039"));
    assert_eq!(reply.media_product_type.as_deref(), Some("REELS"));
}

#[test]
fn instagram_mention_events() {
    let batch = parse_fixture("instagram_mentions");
    let [
        MetaEvent::InstagramMention(comment),
        MetaEvent::InstagramMention(caption),
        MetaEvent::Unknown(other),
    ] = batch.events.as_slice()
    else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(comment.account_id, "17841400000000001234");
    assert_eq!(comment.media_id, "17887498072083520");
    assert_eq!(comment.comment_id.as_deref(), Some("17887498072083521"));
    assert_eq!(comment.time, Some(at(1_717_000_100)));
    // A numeric media id above 2^53 is kept exactly, never through f64.
    assert_eq!(caption.media_id, "17887498072083522");
    assert_eq!(caption.comment_id, None);
    assert_eq!(other.field.as_deref(), Some("story_insights"));
}

#[test]
fn whatsapp_message_events() {
    let batch = parse_fixture("whatsapp_message");
    assert_eq!(batch.object, "whatsapp_business_account");
    let [
        MetaEvent::WhatsAppMessage(text),
        MetaEvent::WhatsAppMessage(image),
    ] = batch.events.as_slice()
    else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(text.waba_id, "102290129340398");
    assert_eq!(text.metadata.phone_number_id, "106540352242922");
    assert_eq!(
        text.metadata.display_phone_number.as_deref(),
        Some("15550783881")
    );
    assert_eq!(
        text.message_id,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
    );
    assert_eq!(text.from, "16505551234");
    assert_eq!(text.timestamp, at(1_749_416_383));
    let contact = text.contact.as_ref().unwrap();
    assert_eq!(contact.wa_id, "16505551234");
    assert_eq!(contact.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(
        text.content,
        WhatsAppContent::Text {
            body: "Does it come in another color?".into()
        }
    );

    // The contact is matched by wa_id, not by position.
    assert_eq!(
        image.contact.as_ref().unwrap().name.as_deref(),
        Some("Kerry Fisher")
    );
    let WhatsAppContent::Other { kind, raw } = &image.content else {
        panic!("{:?}", image.content)
    };
    assert_eq!(kind, "image");
    assert_eq!(raw["image"]["id"], "1003383421387256");
    assert_eq!(raw["image"]["caption"], "This one");
}

#[test]
fn whatsapp_message_context_is_on_the_event() {
    let batch = parse_fixture("whatsapp_context");
    let messages: Vec<_> = batch
        .events
        .iter()
        .map(|e| match e {
            MetaEvent::WhatsAppMessage(m) => m,
            other => panic!("{other:?}"),
        })
        .collect();
    let [reply, product, forwarded, frequently, plain] = messages.as_slice() else {
        panic!("{messages:?}")
    };

    // A reply names the message replied to and who sent it (here the business itself).
    let ctx = reply.context.as_ref().expect("a reply carries context");
    assert_eq!(ctx.from.as_deref(), Some("15550783881"));
    assert_eq!(
        ctx.message_id.as_deref(),
        Some("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RjQ0QjI3OUE0QTQyQjM3NkMA")
    );
    assert!(!ctx.forwarded && !ctx.frequently_forwarded);
    assert_eq!(ctx.referred_product, None);
    assert_eq!(
        reply.content,
        WhatsAppContent::Text {
            body: "Yes, Tuesday works".into()
        }
    );

    // A "Message business" tap on a product adds the product.
    let ctx = product.context.as_ref().unwrap();
    let p = ctx.referred_product.as_ref().unwrap();
    assert_eq!(p.catalog_id.as_deref(), Some("1537223903421456"));
    assert_eq!(p.product_retailer_id.as_deref(), Some("cup-espresso-blue"));

    // Forwards: only the flag, on any message type.
    let ctx = forwarded.context.as_ref().unwrap();
    assert!(ctx.forwarded && !ctx.frequently_forwarded);
    assert_eq!(
        (ctx.from.as_deref(), ctx.message_id.as_deref()),
        (None, None)
    );
    assert!(matches!(&forwarded.content, WhatsAppContent::Other { kind, .. } if kind == "image"));
    let ctx = frequently.context.as_ref().unwrap();
    assert!(ctx.frequently_forwarded && !ctx.forwarded);

    assert_eq!(plain.context, None);
    // The type is public and comparable, for hosts that build expectations.
    assert_ne!(Some(WhatsAppContext::default()), reply.context);
}

#[test]
fn whatsapp_context_in_the_wrong_shape_names_its_path() {
    let body = String::from_utf8(fixture("whatsapp_context"))
        .unwrap()
        .replacen(r#""forwarded": true"#, r#""forwarded": "often""#, 1)
        .into_bytes();
    let err = webhook::parse_events(&body).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(!err.to_string().contains("often"), "{err}");
    assert_eq!(
        decode_path(std::str::from_utf8(&body).unwrap()),
        "entry[0].changes[0].value.messages[2].context.forwarded"
    );
}

#[test]
fn whatsapp_status_events() {
    let batch = parse_fixture("whatsapp_status");
    let [
        MetaEvent::WhatsAppStatus(delivered),
        MetaEvent::WhatsAppStatus(failed),
    ] = batch.events.as_slice()
    else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(
        delivered.message_id,
        "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    );
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert_eq!(delivered.timestamp, at(1_750_263_773));
    assert_eq!(delivered.recipient_id.as_deref(), Some("16505551234"));
    let conversation = delivered.conversation.as_ref().unwrap();
    assert_eq!(
        conversation.id.as_deref(),
        Some("6ceb9d929c1a5d1a7f3bb3d1e0d5b6a3")
    );
    assert_eq!(conversation.expires_at, Some(at(1_750_350_173)));
    assert_eq!(conversation.origin_type.as_deref(), Some("utility"));
    let pricing = delivered.pricing.as_ref().unwrap();
    assert_eq!(pricing.billable, Some(true));
    assert_eq!(pricing.pricing_model.as_deref(), Some("PMP"));
    assert_eq!(pricing.category.as_deref(), Some("utility"));
    assert!(delivered.errors.is_empty());

    assert_eq!(failed.status, DeliveryStatus::Failed);
    // A numeric timestamp is accepted as well as the documented string.
    assert_eq!(failed.timestamp, at(1_750_263_800));
    assert_eq!(failed.conversation, None);
    let [error] = failed.errors.as_slice() else {
        panic!("{:?}", failed.errors)
    };
    assert_eq!(error.code, Some(131_047));
    assert_eq!(error.title.as_deref(), Some("Re-engagement message"));
    assert!(error.details.as_deref().unwrap().contains("24 hours"));
}

#[test]
fn unknown_objects_and_entries_are_events_not_errors() {
    let batch = parse_fixture("unknown_object");
    assert_eq!(batch.object, "permissions");
    let [MetaEvent::Unknown(whole), MetaEvent::Unknown(change)] = batch.events.as_slice() else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(whole.entry_id.as_deref(), Some("1234567890123456"));
    assert_eq!(whole.field, None);
    assert_eq!(whole.value["changed_fields"][0], "email");
    assert_eq!(change.entry_id.as_deref(), Some("1234567890123457"));
    assert_eq!(change.field.as_deref(), Some("connected"));
    assert_eq!(change.value["verb"], "granted");

    // A Messenger-style entry (no `changes`) of a known object.
    let batch = parse_fixture("messenger");
    let [MetaEvent::Unknown(entry)] = batch.events.as_slice() else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(entry.object, "page");
    assert_eq!(entry.field, None);
    assert_eq!(entry.value["messaging"][0]["message"]["text"], "hello");

    // Unknown WhatsApp fields, and a `messages` change with neither messages nor statuses.
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"field":"message_template_status_update","value":{"event":"APPROVED"}},
        {"field":"messages","value":{"metadata":{"phone_number_id":"2"},
            "errors":[{"code":131000,"title":"Something went wrong"}]}}]}]}"#;
    let batch = webhook::parse_events(body).unwrap();
    let [MetaEvent::Unknown(template), MetaEvent::Unknown(errors)] = batch.events.as_slice() else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(
        template.field.as_deref(),
        Some("message_template_status_update")
    );
    assert_eq!(errors.field.as_deref(), Some("messages"));
    assert_eq!(errors.value["errors"][0]["code"], 131_000);

    // Odd shapes under an unknown object are still not errors.
    for body in [
        r#"{"object":"user","entry":[1,"x",null,[],{"changes":"no"},{"changes":[{"nofield":1}]}]}"#,
        r#"{"object":"user","entry":[{"id":1.5,"changes":[]}]}"#,
    ] {
        let batch = webhook::parse_events(body.as_bytes()).unwrap();
        assert!(
            batch
                .events
                .iter()
                .all(|e| matches!(e, MetaEvent::Unknown(_))),
            "{body}"
        );
    }
}

#[test]
fn empty_entry_list_is_an_empty_batch() {
    let batch = webhook::parse_events(br#"{"object":"page","entry":[],"extra":true}"#).unwrap();
    assert_eq!(batch.object, "page");
    assert!(batch.events.is_empty());
}

fn decode_path(body: &str) -> String {
    match webhook::parse_events(body.as_bytes()) {
        Err(Error::Decode(d)) => {
            assert_eq!(d.excerpt, None, "webhook bodies hold personal data");
            d.path
        }
        other => panic!("{body}: expected a decode error, got {other:?}"),
    }
}

#[test]
fn wrong_shapes_are_decode_errors_with_a_path() {
    // Not JSON at all, or trailing garbage.
    for body in [
        "",
        "not json",
        "{",
        r#"{"object":"page","entry":[]} x"#,
        "[]",
        "null",
    ] {
        let err = webhook::parse_events(body.as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{body}: {err:?}");
        assert_eq!(err.kind(), ErrorKind::Platform);
    }
    assert_eq!(decode_path(r#"{"entry":[]}"#), ".");
    assert_eq!(decode_path(r#"{"object":"page"}"#), ".");
    assert_eq!(decode_path(r#"{"object":7,"entry":[]}"#), "object");
    assert_eq!(decode_path(r#"{"object":"page","entry":{}}"#), "entry");
    assert_eq!(
        decode_path(r#"{"object":"page","entry":[{"time":1,"changes":[]}]}"#),
        "entry[0]"
    );
    assert_eq!(
        decode_path(r#"{"object":"page","entry":[{"id":1.5,"changes":[]}]}"#),
        "entry[0].id"
    );
    assert_eq!(
        decode_path(r#"{"object":"page","entry":[{"id":"1","time":"soon","changes":[]}]}"#),
        "entry[0].time"
    );
    assert_eq!(
        decode_path(r#"{"object":"page","entry":[{"id":"1","changes":[{"value":{}}]}]}"#),
        "entry[0].changes[0]"
    );
    assert_eq!(
        decode_path(
            r#"{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"verb":"add"}}]}]}"#
        ),
        "entry[0].changes[0].value"
    );
    assert_eq!(
        decode_path(
            r#"{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"item":"post","verb":"add","from":{"id":[]}}}]}]}"#
        ),
        "entry[0].changes[0].value.from.id"
    );
    assert_eq!(
        decode_path(
            r#"{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"comment_id":"2"}}]}]}"#
        ),
        "entry[0].changes[0].value"
    );
    assert_eq!(
        decode_path(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"messages":[{"from":"3","id":"wamid.x","type":"text","timestamp":"yesterday"}]}}]}]}"#
        ),
        "entry[0].changes[0].value.messages[0].timestamp"
    );
    assert_eq!(
        decode_path(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"statuses":[{"id":"w","status":"read","timestamp":"1","pricing":{"billable":"maybe"}}]}}]}]}"#
        ),
        "entry[0].changes[0].value.statuses[0].pricing.billable"
    );
    assert_eq!(
        decode_path(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[]}}]}]}"#
        ),
        "entry[0].changes[0].value"
    );
}

#[test]
fn decode_errors_do_not_echo_personal_data() {
    let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"contacts":[{"profile":{"name":"Private Person"},"wa_id":"15550001111"}],"messages":[{"from":"15550001111","id":"w","type":"text","text":{"body":"my secret diagnosis"}}]}}]}]}"#;
    let err = webhook::parse_events(body.as_bytes()).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("timestamp"), "{text}");
    for private in ["Private Person", "15550001111", "diagnosis"] {
        assert!(!text.contains(private), "{text}");
    }
}

#[test]
fn text_message_without_body_is_kept_as_other() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"messages":[{"from":"3","id":"wamid.x","timestamp":1749416383,"type":"text"}]}}]}]}"#;
    let batch = webhook::parse_events(body).unwrap();
    let [MetaEvent::WhatsAppMessage(msg)] = batch.events.as_slice() else {
        panic!("{:?}", batch.events)
    };
    assert!(matches!(&msg.content, WhatsAppContent::Other { kind, .. } if kind == "text"));
    assert_eq!(msg.contact, None);
    assert_eq!(msg.metadata.display_phone_number, None);
}

#[test]
fn large_numeric_ids_are_exact_or_refused() {
    // 2^53 + 1 as a JSON number: exact through u64.
    let body = br#"{"object":"instagram","entry":[{"id":9007199254740993,"changes":[{"field":"mentions","value":{"media_id":18446744073709551615}}]}]}"#;
    let batch = webhook::parse_events(body).unwrap();
    let [MetaEvent::InstagramMention(m)] = batch.events.as_slice() else {
        panic!("{:?}", batch.events)
    };
    assert_eq!(m.account_id, "9007199254740993");
    assert_eq!(m.media_id, "18446744073709551615");
    // Beyond 64 bits a number would be rounded: refused instead.
    let body = br#"{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"media_id":18446744073709551616}}]}]}"#;
    assert!(matches!(webhook::parse_events(body), Err(Error::Decode(_))));
}

// ---------------------------------------------------------------------------------------------
// No panics on arbitrary input
// ---------------------------------------------------------------------------------------------

/// JSON-ish fragments that steer random bodies towards the parser's interesting paths.
fn json_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"{"object":"page","entry":["#.to_owned()),
        Just(r#"{"object":"instagram","entry":["#.to_owned()),
        Just(r#"{"object":"whatsapp_business_account","entry":["#.to_owned()),
        Just(r#"{"id":"1","time":1,"changes":["#.to_owned()),
        Just(r#"{"field":"feed","value":"#.to_owned()),
        Just(r#"{"field":"comments","value":"#.to_owned()),
        Just(r#"{"field":"mentions","value":"#.to_owned()),
        Just(r#"{"field":"messages","value":"#.to_owned()),
        Just(r#"{"metadata":{"phone_number_id":"1"},"messages":["#.to_owned()),
        Just(r#"{"from":"1","id":"w","timestamp":"#.to_owned()),
        Just(r#""type":"text","text":{"body":"x"}"#.to_owned()),
        Just(r#"{"item":"post","verb":"add","created_time":"#.to_owned()),
        Just(r#"{"media_id":"#.to_owned()),
        "-?[0-9]{0,25}(\\.[0-9]{1,3})?",
        "\"[0-9T:+-]{0,30}\"",
        Just("]}".to_owned()),
        Just("}".to_owned()),
        Just(",".to_owned()),
        Just("null".to_owned()),
    ]
}

proptest! {
    #[test]
    fn parse_events_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = webhook::parse_events(&body);
        let _ = webhook::verify_and_parse(&app_secret(), &body, None);
    }

    #[test]
    fn parse_events_never_panics_on_json_like_input(
        parts in proptest::collection::vec(json_fragment(), 0..24),
    ) {
        let body = parts.concat();
        let _ = webhook::parse_events(body.as_bytes());
        let header = signed(body.as_bytes());
        let _ = webhook::verify_and_parse(&app_secret(), body.as_bytes(), Some(&header));
    }

    #[test]
    fn verify_signature_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        header in ".{0,100}",
    ) {
        let _ = webhook::verify_signature(&app_secret(), &body, Some(&header));
        let prefixed = format!("sha256={header}");
        let _ = webhook::verify_signature(&app_secret(), &body, Some(&prefixed));
    }

    #[test]
    fn handshake_never_panics(
        query in ".{0,300}",
        mode in proptest::option::of(".{0,20}"),
        token in proptest::option::of(".{0,40}"),
        challenge in proptest::option::of(".{0,300}"),
        configured in ".{0,20}",
    ) {
        let configured = WebhookSecret::new(configured);
        let _ = webhook::verify_subscription(&SubscriptionQuery::from_query(&query), &configured);
        let q = SubscriptionQuery::new(mode, token, challenge);
        if let Ok(echo) = webhook::verify_subscription(&q, &configured) {
            prop_assert!(!echo.is_empty() && echo.len() <= MAX_CHALLENGE_LEN);
            prop_assert!(echo.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        }
    }

    #[test]
    fn valid_whatsapp_messages_round_trip(
        wamid in "wamid\\.[A-Za-z0-9=_-]{1,120}",
        from in "[0-9]{6,15}",
        ts in 0i64..4_000_000_000,
        ts_as_string in any::<bool>(),
        body_text in "\\PC{0,200}",
    ) {
        let ts_json = if ts_as_string { format!("\"{ts}\"") } else { ts.to_string() };
        let text_json = serde_json::to_string(&body_text).unwrap();
        let body = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"messages","value":{{"metadata":{{"phone_number_id":"106540352242922"}},"messages":[{{"from":"{from}","id":"{wamid}","timestamp":{ts_json},"type":"text","text":{{"body":{text_json}}}}}]}}}}]}}]}}"#
        );
        let header = signed(body.as_bytes());
        let batch = webhook::verify_and_parse(&app_secret(), body.as_bytes(), Some(&header)).unwrap();
        let [MetaEvent::WhatsAppMessage(msg)] = batch.events.as_slice() else {
            panic!("{:?}", batch.events)
        };
        prop_assert_eq!(&msg.message_id, &wamid);
        prop_assert_eq!(&msg.from, &from);
        prop_assert_eq!(msg.timestamp.timestamp(), ts);
        prop_assert_eq!(&msg.content, &WhatsAppContent::Text { body: body_text.clone() });
    }
}
