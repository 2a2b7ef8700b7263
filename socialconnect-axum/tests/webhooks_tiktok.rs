//! TikTok's webhooks over real HTTP: a signed `authorization.removed` for an account
//! connected through the routes erases it before the answer, once; stale and forged
//! deliveries change nothing. And the webhook routing: unknown platforms, missing handshakes.

mod common;

use common::Host;
use reqwest::StatusCode;
use socialconnect_axum::webhooks::WebhookEvent;
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_testkit::tiktok::{SIGNATURE_HEADER, WebhookDelivery, WebhookEvent as Sent};
use socialconnect_tiktok::model::TikTokEvent;

async fn post(host: &Host, delivery: &WebhookDelivery, signature: &str) -> reqwest::Response {
    host.api()
        .post(host.url("/webhooks/tiktok"))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(delivery.body.clone())
        .send()
        .await
        .unwrap()
}

async fn connected(host: &Host, user: &str) -> usize {
    host.hub
        .connections(&SubjectId::new(user).unwrap())
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_removed_erases_the_connection_before_the_answer_and_only_once() {
    let mut host = Host::start().await;
    host.connect_through_routes("frank", "tiktok", &[]).await;
    assert_eq!(connected(&host, "frank").await, 1);

    let delivery = host.tiktok.webhook(&Sent::authorization_removed(1));
    let answer = post(&host, &delivery, &delivery.signature).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(connected(&host, "frank").await, 0, "erased before the 200");
    let requests = host.deletions.recorded();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].platform, PlatformId::TIKTOK);
    assert_eq!(requests[0].subject, Some(SubjectId::new("frank").unwrap()));
    let status = host
        .hub
        .platform_deletion(&[PlatformId::TIKTOK], &requests[0].confirmation_code)
        .await
        .unwrap()
        .expect("the request is on record");
    assert_eq!(status.status.as_str(), "completed");
    match host.events.try_recv().expect("the event reaches the host") {
        WebhookEvent::TikTok(event) => {
            assert_eq!(event.user_openid, host.tiktok.open_id());
            assert!(
                matches!(event.event, TikTokEvent::AuthorizationRemoved { .. }),
                "{event:?}"
            );
        }
        other => panic!("unexpected event {other:?}"),
    }

    // TikTok delivers at least once: the repeat is acknowledged and changes nothing.
    let again = post(&host, &delivery, &delivery.signature).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(host.deletions.recorded().len(), 1);
    host.assert_nothing_queued();
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_or_forged_tiktok_deliveries_are_refused_and_change_nothing() {
    let mut host = Host::start().await;
    host.connect_through_routes("grace", "tiktok", &[]).await;
    let event = Sent::authorization_removed(1);

    // Signed correctly, but an hour old: a replay.
    let now = host.hub.clock().now().timestamp();
    let stale = host.tiktok.webhook_at(&event, now - 3600);
    assert_eq!(
        post(&host, &stale, &stale.signature).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let fresh = host.tiktok.webhook(&event);
    let (stamp, hex) = fresh.signature.split_once(",s=").unwrap();
    let forged = format!("{stamp},s={}", "0".repeat(hex.len()));
    // A signature that covers another timestamp than the one sent.
    let moved = format!("t={},s={hex}", fresh.timestamp + 1);
    for signature in [forged.as_str(), moved.as_str(), "", "t=1,s=zz"] {
        assert_eq!(
            post(&host, &fresh, signature).await.status(),
            StatusCode::UNAUTHORIZED,
            "{signature:?}"
        );
    }
    let unsigned = host
        .api()
        .post(host.url("/webhooks/tiktok"))
        .body(fresh.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(connected(&host, "grace").await, 1, "nothing erased");
    assert!(host.deletions.recorded().is_empty());
    host.assert_nothing_queued();

    // None of them was recorded as seen: the genuine delivery is still acted on.
    assert_eq!(
        post(&host, &fresh, &fresh.signature).await.status(),
        StatusCode::OK
    );
    assert_eq!(connected(&host, "grace").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_platforms_are_404_and_a_platform_without_a_handshake_is_405() {
    let host = Host::start().await;
    let client = host.api();
    let get = client
        .get(host.url("/webhooks/myspace?hub.mode=subscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    let post = client
        .post(host.url("/webhooks/myspace"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    let handshake = client
        .get(host.url("/webhooks/tiktok?hub.mode=subscribe&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tiktok_event_the_queue_cannot_take_is_handled_on_the_retry() {
    let mut host = Host::start_with(common::Options {
        queue: 1,
        ..common::Options::default()
    })
    .await;
    let first = host
        .tiktok
        .webhook(&Sent::video_publish_completed("share-1"));
    assert_eq!(
        post(&host, &first, &first.signature).await.status(),
        StatusCode::OK
    );
    // The queue (one place) is full now: the next event is refused for a retry...
    let second = host
        .tiktok
        .webhook(&Sent::video_publish_completed("share-2"));
    let refused = post(&host, &second, &second.signature).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    // ...and once the host drained the queue, the retry is a first delivery, not a repeat.
    assert!(matches!(
        host.events.try_recv(),
        Ok(WebhookEvent::TikTok(_))
    ));
    assert_eq!(
        post(&host, &second, &second.signature).await.status(),
        StatusCode::OK
    );
    let WebhookEvent::TikTok(event) = host.events.try_recv().unwrap() else {
        panic!("a TikTok event");
    };
    assert_eq!(
        event.delivery_id(),
        socialconnect_tiktok::webhook::parse_event(&second.body)
            .unwrap()
            .delivery_id()
    );
    host.assert_nothing_queued();
}
