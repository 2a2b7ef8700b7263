//! The test kit's conformance suite against TikTok Login Kit and the TikTok API, on the kit's
//! TikTok simulator: the read is the user's profile, the write a draft sent to the inbox.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::ClientSecret;
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::conformance::{self, Operation, Suite};
use socialconnect_testkit::tiktok::TikTokSimulator;
use socialconnect_tiktok::display::UserField;
use socialconnect_tiktok::posting::VideoSource;
use socialconnect_tiktok::{TikTokClient, TikTokConfig, TikTokLogin};
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiktok_login_passes_the_conformance_suite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = TikTokSimulator::builder()
        .clock(clock.clone())
        .access_token_lifetime(Duration::from_secs(2 * 3600))
        .start()
        .await;
    let config = TikTokConfig::new(sim.client_key(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url());

    let (platform_config, platform_clock) = (config.clone(), clock.clone());
    let suite = Suite::new(PlatformId::TIKTOK, clock, move |http| {
        let client = TikTokClient::new(platform_config.clone(), http.clone());
        Arc::new(TikTokLogin::new(client, http.clone(), platform_clock.clone()).expect("Login Kit"))
            as Arc<dyn Platform>
    })
    .scopes(&Scope::parse_list("user.info.basic,video.upload"));

    let read_config = config.clone();
    let suite = suite.read(Operation::new(
        "read the user's profile",
        "GET",
        "/v2/user/info/",
        Purpose::ReadingContent,
        move |s| {
            let client = TikTokClient::new(read_config.clone(), s.http().clone());
            async move {
                client
                    .display(&s)
                    .user_info(&[UserField::OpenId, UserField::DisplayName])
                    .await
            }
        },
    ));

    let write_config = config.clone();
    let suite = suite.write(Operation::new(
        "send a draft to the inbox",
        "POST",
        "/v2/post/publish/inbox/video/init/",
        Purpose::Publishing,
        move |s| {
            let client = TikTokClient::new(write_config.clone(), s.http().clone());
            async move {
                let video = Url::parse("https://media.example.com/clip.mp4").expect("URL");
                client
                    .posting(&s)
                    .upload_video_to_inbox(&VideoSource::pull_from_url(video)?)
                    .await
            }
        },
    ));

    let report = conformance::run(&sim, suite).await;
    println!("{report}");
    report.assert_passed();
    assert!(report.case_count() >= 40, "{} cases", report.case_count());
}
