//! End to end on the kit's Pinterest simulator, through the crate's public API and the hub: a
//! user connects (HTTP Basic, comma scopes), the account is read, boards are listed across
//! pages and created, updated and deleted, Pins of every media kind are created and read
//! back, a video goes through the media upload, analytics come back with provisional days
//! marked; tokens that live two seconds refresh continuously; disconnect reports that
//! Pinterest offers no revoke; the simulator's refusals come back as typed errors.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use socialconnect_core::ErrorKind;
use socialconnect_core::connect::paging::{PageBudget, Pages};
use socialconnect_core::connect::poll::PollBudget;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Revocation;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::store::TokenStore;
use socialconnect_pinterest::analytics::{AnalyticsQuery, Reading};
use socialconnect_pinterest::boards::{BoardFields, Privacy};
use socialconnect_pinterest::pins::{CarouselImage, ImageBytes, MediaSource, NewPin, VideoCover};
use socialconnect_pinterest::{PinterestClient, PinterestConfig};
use socialconnect_testkit::pinterest::{PageFault, PinterestSimulator, PinterestSimulatorBuilder};
use socialconnect_testkit::{Harness, ManualClock};

const SCOPES: &str = "user_accounts:read,boards:read,boards:write,pins:read,pins:write";

struct Env {
    sim: PinterestSimulator,
    client: PinterestClient,
    harness: Harness,
}

async fn env(
    build: impl FnOnce(PinterestSimulatorBuilder) -> PinterestSimulatorBuilder,
    legacy: bool,
) -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = build(PinterestSimulator::builder().clock(clock.clone()))
        .start()
        .await;
    let config = PinterestConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url())
        .with_legacy_refresh(legacy);
    let http = socialconnect_testkit::test_http_client();
    let client = PinterestClient::new(config, http.clone());
    let login = client.login(clock.clone()).unwrap();
    let harness = Harness::builder()
        .http(http)
        .clock(clock)
        .platform(Arc::new(login))
        .build();
    Env {
        sim,
        client,
        harness,
    }
}

fn png() -> ImageBytes {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    ImageBytes::new(bytes).unwrap()
}

async fn connect(env: &Env) -> socialconnect_core::id::ConnectionKey {
    let sim = &env.sim;
    let connected = env
        .harness
        .connect(&PlatformId::PINTEREST, &Scope::parse_list(SCOPES), |url| {
            sim.authorize(url)
        })
        .await;
    assert_eq!(connected.account.account_id, sim.account_id());
    assert_eq!(
        connected.account.display_name.as_deref(),
        Some(sim.username())
    );
    connected.key
}

#[tokio::test]
async fn a_user_connects_manages_boards_and_pins_every_media_kind() {
    let env = env(|b| b.boards(60).null_counts(true), false).await;
    let (sim, client) = (&env.sim, &env.client);
    let key = connect(&env).await;
    let session = env.harness.session(&key, Purpose::Publishing).await;

    let account = client.user_account(&session).await.unwrap();
    assert_eq!(account.id, sim.account_id());
    assert_eq!(account.board_count, None, "nullable counts are optional");

    // 60 boards, 25 a page: three pages, the last bookmark null.
    let all = client
        .boards(&session, PageBudget::default())
        .await
        .unwrap();
    assert!(all.is_complete());
    assert_eq!(all.items.len(), 60);
    let first = client.boards_page(&session, None, 25, None).await.unwrap();
    let second = client
        .boards_page(&session, None, 25, first.next.as_ref())
        .await
        .unwrap();
    assert_eq!(second.items.len(), 25);
    assert_ne!(first.items[0].id, second.items[0].id);
    let err = client
        .boards_page(&session, None, 251, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "refused before sending"
    );

    // An empty page with a bookmark is followed; a repeated bookmark ends the walk in error.
    sim.fail_next_page("/v5/boards", PageFault::EmptyPage);
    let again = client
        .boards(&session, PageBudget::default())
        .await
        .unwrap();
    assert_eq!(again.items.len(), 60);
    let start = first.next.clone().expect("a second page");
    sim.fail_next_page("/v5/boards", PageFault::RepeatBookmark);
    let fetch = |cursor: Option<socialconnect_core::connect::paging::Cursor>| {
        let session = &session;
        async move { client.boards_page(session, None, 25, cursor.as_ref()).await }
    };
    let looped = Pages::resume(PlatformId::PINTEREST, start, fetch)
        .collect()
        .await;
    assert!(
        looped.is_err(),
        "a repeated bookmark is not followed forever"
    );

    // Boards and sections.
    let board = client
        .create_board(
            &session,
            &BoardFields::named("Recipes")
                .description("Bread")
                .privacy(Privacy::Secret),
        )
        .await
        .unwrap();
    assert_eq!(board.name, "Recipes");
    let renamed = client
        .update_board(
            &session,
            &board.id,
            &BoardFields::default().description("Sourdough"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.description.as_deref(), Some("Sourdough"));
    let section = client
        .create_section(&session, &board.id, "Loaves")
        .await
        .unwrap();
    let sections = client
        .sections_page(&session, &board.id, 25, None)
        .await
        .unwrap();
    assert_eq!(sections.items.len(), 1);
    assert_eq!(sections.items[0], section);

    // Pins of every image kind, with the limits checked before sending.
    let by_url = client
        .create_pin(
            &session,
            &NewPin::new(
                &board.id,
                MediaSource::ImageUrl("https://example.com/a.jpg".into()),
            )
            .title("A loaf")
            .alt_text("A round loaf")
            .link("https://example.com/recipe")
            .section(&section.id),
        )
        .await
        .unwrap();
    let by_bytes = client
        .create_pin(&session, &NewPin::new(&board.id, MediaSource::Image(png())))
        .await
        .unwrap();
    let carousel = client
        .create_pin(
            &session,
            &NewPin::new(
                &board.id,
                MediaSource::ImageUrls(vec![
                    CarouselImage::new("https://example.com/1.jpg".to_owned()).title("One"),
                    CarouselImage::new("https://example.com/2.jpg".to_owned()),
                ]),
            ),
        )
        .await
        .unwrap();
    let carousel_bytes = client
        .create_pin(
            &session,
            &NewPin::new(
                &board.id,
                MediaSource::Images(vec![CarouselImage::new(png()), CarouselImage::new(png())]),
            ),
        )
        .await
        .unwrap();
    let kinds: Vec<_> = sim.pins().iter().map(|p| p.media.source_type()).collect();
    assert_eq!(
        kinds,
        [
            "image_url",
            "image_base64",
            "multiple_image_urls",
            "multiple_image_base64"
        ]
    );
    let sent_before = sim.requests_to("/v5/pins");
    let too_long = NewPin::new(
        &board.id,
        MediaSource::ImageUrl("https://example.com/a.jpg".into()),
    )
    .title("é".repeat(101));
    let one_image = NewPin::new(
        &board.id,
        MediaSource::ImageUrls(vec![CarouselImage::new(
            "https://example.com/1.jpg".to_owned(),
        )]),
    );
    for pin in [too_long, one_image] {
        let err = client.create_pin(&session, &pin).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(sim.requests_to("/v5/pins"), sent_before, "nothing sent");

    let read = client.pin(&session, &by_url.id, true).await.unwrap();
    assert_eq!(read.title.as_deref(), Some("A loaf"));
    assert_eq!(read.board_section_id.as_deref(), Some(section.id.as_str()));
    let on_board = client
        .board_pins_page(&session, &board.id, 25, None)
        .await
        .unwrap();
    assert_eq!(on_board.items.len(), 4);
    for pin in [&by_bytes, &carousel, &carousel_bytes] {
        client.delete_pin(&session, &pin.id).await.unwrap();
    }
    let gone = client.pin(&session, &carousel.id, false).await.unwrap_err();
    assert_eq!(
        gone.kind(),
        ErrorKind::InvalidInput,
        "code 50, Pin not found"
    );
    client.delete_board(&session, &board.id).await.unwrap();
    let err = client.delete_board(&session, &board.id).await.unwrap_err();
    assert!(err.to_string().contains("Board not found"), "{err}");
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn a_video_goes_through_the_media_upload_and_becomes_a_pin_with_analytics() {
    let env = env(|b| b.boards(1).media_processing_polls(2), false).await;
    let (sim, client) = (&env.sim, &env.client);
    let key = connect(&env).await;
    let session = env.harness.session(&key, Purpose::Publishing).await;
    let board = &sim.boards()[0];

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    tokio::fs::write(&path, vec![7u8; 300_000]).await.unwrap();
    let budget = PollBudget::new(Duration::from_millis(5)).max_attempts(10);
    let media_id = client.upload_video(&session, &path, &budget).await.unwrap();
    assert_eq!(sim.media()[0].uploaded_bytes, Some(300_000));
    let pin = client
        .create_pin(
            &session,
            &NewPin::new(
                &board.id,
                MediaSource::Video {
                    media_id,
                    cover: VideoCover::KeyFrame(1500),
                },
            )
            .title("Kneading"),
        )
        .await
        .unwrap();
    assert_eq!(sim.pins()[0].media.source_type(), "video_id");
    assert_eq!(pin.duration_ms, None, "null right after creation");

    let today = Utc::now().date_naive();
    let query =
        AnalyticsQuery::new(today - TimeDelta::days(6), today).metrics(&["IMPRESSION", "SAVE"]);
    let stats = client
        .pin_analytics(&session, &pin.id, &query)
        .await
        .unwrap();
    let group = stats.groups.values().next().expect("one group");
    assert!(!group.is_final(), "the last days are still provisional");
    let last = group.daily.last().unwrap();
    assert!(!last.status.is_final());
    if let Some(reading) = last.get("IMPRESSION") {
        assert!(matches!(reading, Reading::Provisional(_)), "{reading:?}");
    }
    assert!(group.daily.iter().any(|d| d.status.is_final()));
    let account = client.account_analytics(&session, &query).await.unwrap();
    assert!(!account.groups.is_empty());
    let too_far = AnalyticsQuery::new(today - TimeDelta::days(91), today);
    let sent = sim.requests_to("/analytics");
    let err = client
        .account_analytics(&session, &too_far)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        sim.requests_to("/analytics"),
        sent,
        "checked before sending"
    );
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn two_second_tokens_refresh_continuously_and_disconnect_offers_no_revoke() {
    let env = env(|b| b.access_token_lifetime(Duration::from_secs(2)), true).await;
    let (sim, client) = (&env.sim, &env.client);
    let key = connect(&env).await;
    let first = env.harness.tokens.get(&key).await.unwrap().unwrap().tokens;
    assert_eq!(first.token_type, "bearer");
    assert!(first.access_token.expose_secret().starts_with("pina"));

    for round in 1..=3 {
        env.harness.clock.advance(TimeDelta::seconds(3));
        let session = env.harness.session(&key, Purpose::ReadingContent).await;
        client.user_account(&session).await.unwrap();
        assert_eq!(sim.oauth().refresh_requests(), round);
    }
    assert_eq!(sim.last_refresh_had_continuous_flag(), Some(true));
    let stored = env.harness.tokens.get(&key).await.unwrap().unwrap().tokens;
    let refresh = stored
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert!(refresh.starts_with("pinr"));
    assert_ne!(
        Some(refresh.as_str()),
        first.refresh_token.as_ref().map(|r| r.expose_secret())
    );
    assert!(
        !sim.oauth()
            .is_refresh_token_valid(first.refresh_token.as_ref().unwrap().expose_secret()),
        "each refresh replaces the refresh token"
    );
    assert!(
        format!("{stored:?}").find("pina").is_none(),
        "tokens never in Debug"
    );

    let done = env.harness.hub.disconnect(&key).await.unwrap();
    assert_eq!(done.revocation, Some(Revocation::NotOffered));
    assert_eq!(
        done.revocation.unwrap().to_string(),
        "upstream revoke not offered"
    );
    assert_eq!(
        sim.oauth().revocations(),
        0,
        "no revoke request for a user token"
    );
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn refusals_come_back_as_typed_errors() {
    let env = env(|b| b.boards(2), false).await;
    let (sim, client) = (&env.sim, &env.client);
    let key = connect(&env).await;
    let session = env.harness.session(&key, Purpose::ReadingContent).await;

    sim.fail_next_spam_block("/v5/boards");
    let spam = client
        .boards_page(&session, None, 25, None)
        .await
        .unwrap_err();
    assert_eq!(spam.kind(), ErrorKind::PolicyBlocked);
    assert!(
        spam.platform_error().unwrap().trace_id.is_some(),
        "x-pinterest-rid kept"
    );
    assert_eq!(
        sim.requests_to("/v5/boards"),
        1,
        "an anti-spam block is not retried"
    );

    // The user removed the app: Pinterest says so only with a 401 code 2 on the next call.
    sim.fail_next_json(
        "/v5/boards",
        401,
        serde_json::json!({"code": 2, "message": "Authentication failed."}),
    );
    let gone = client
        .boards_page(&session, None, 25, None)
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::ReconnectRequired);
    let again = env.harness.try_session(&key, Purpose::ReadingContent).await;
    assert_eq!(
        again.map(|_| ()).unwrap_err().kind(),
        ErrorKind::ReconnectRequired,
        "the connection is marked as needing reconnection"
    );
    // (Last: Pinterest's announced wait pauses the platform.) A wait longer than the retry policy takes comes back with the wait Pinterest asked for.
    sim.fail_next_rate_limit("/v5/user_account", Some(Duration::from_secs(3600)));
    let throttled = client.user_account(&session).await.unwrap_err();
    assert_eq!(
        throttled.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(3600))
        }
    );

    sim.assert_no_unexpected();
}
