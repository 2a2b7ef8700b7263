//! The test kit's conformance suite against Pinterest sign-in and API v5, on the kit's
//! Pinterest simulator (HTTP Basic at the token endpoint, comma scopes, continuous refresh,
//! `{code, message}` errors): the read a page of boards, the write a board.

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::ClientSecret;
use socialconnect_pinterest::boards::BoardFields;
use socialconnect_pinterest::{PinterestClient, PinterestConfig};
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::conformance::{self, Operation, Suite};
use socialconnect_testkit::pinterest::PinterestSimulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinterest_login_passes_the_conformance_suite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = PinterestSimulator::builder()
        .clock(clock.clone())
        .boards(3)
        .start()
        .await;
    let config = PinterestConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url());

    let (platform_config, platform_clock) = (config.clone(), clock.clone());
    let suite = Suite::new(PlatformId::PINTEREST, clock, move |http| {
        let client = PinterestClient::new(platform_config.clone(), http.clone());
        Arc::new(client.login(platform_clock.clone()).expect("sign-in")) as Arc<dyn Platform>
    })
    .scopes(&Scope::parse_list(
        "user_accounts:read boards:read boards:write pins:read pins:write",
    ));

    let read_config = config.clone();
    let suite = suite.read(Operation::new(
        "list the user's boards",
        "GET",
        "/v5/boards",
        Purpose::ReadingContent,
        move |s| {
            let client = PinterestClient::new(read_config.clone(), s.http().clone());
            async move { client.boards_page(&s, None, 25, None).await }
        },
    ));
    let write_config = config.clone();
    let suite = suite.write(Operation::new(
        "create a board",
        "POST",
        "/v5/boards",
        Purpose::Publishing,
        move |s| {
            let client = PinterestClient::new(write_config.clone(), s.http().clone());
            async move {
                client
                    .create_board(&s, &BoardFields::named("conformance"))
                    .await
            }
        },
    ));

    let report = conformance::run(&sim, suite).await;
    report.assert_passed();
    assert!(report.case_count() >= 40, "{} cases", report.case_count());
    sim.assert_no_unexpected();
}
