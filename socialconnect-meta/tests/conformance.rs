//! The test kit's conformance suite against Facebook Login and the Graph API, on the kit's
//! Graph simulator: the read is `GET /me/accounts`, the write a Page post.

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::ClientSecret;
use socialconnect_meta::pages::FeedPost;
use socialconnect_meta::{FacebookLogin, MetaClient, MetaConfig, MetaProduct};
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::conformance::{self, Operation, Suite};
use socialconnect_testkit::meta::GraphSimulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facebook_login_passes_the_conformance_suite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = GraphSimulator::builder().clock(clock.clone()).start().await;
    let config = MetaConfig::new(sim.app_id(), ClientSecret::new(sim.app_secret()))
        .with_graph_base(sim.base_url())
        .with_dialog_base(sim.base_url());
    let version = sim.version().to_owned();
    let page_id = sim.page_id().to_owned();

    let platform_config = config.clone();
    let suite = Suite::new(PlatformId::FACEBOOK, clock, move |http| {
        let client = MetaClient::new(platform_config.clone(), http.clone());
        Arc::new(FacebookLogin::new(client, MetaProduct::Facebook).expect("Facebook Login"))
            as Arc<dyn Platform>
    })
    .scopes(&Scope::parse_list("pages_show_list pages_manage_posts"));

    let read_config = config.clone();
    let suite = suite.read(Operation::new(
        "list the user's Pages",
        "GET",
        format!("/{version}/me/accounts"),
        Purpose::ReadingContent,
        move |s| {
            let client = MetaClient::new(read_config.clone(), s.http().clone());
            async move { client.page_accounts(&s).await }
        },
    ));

    let write_config = config.clone();
    let write_page = page_id.clone();
    let suite = suite.write(Operation::new(
        "post on the Page",
        "POST",
        format!("/{version}/{page_id}/feed"),
        Purpose::Publishing,
        move |s| {
            let client = MetaClient::new(write_config.clone(), s.http().clone());
            let page_id = write_page.clone();
            async move {
                let page = client.page_account(&s, &page_id).await?;
                client
                    .pages(&s)
                    .publish(&page, &FeedPost::text("conformance"))
                    .await
            }
        },
    ));

    let report = conformance::run(&sim, suite).await;
    println!("{report}");
    report.assert_passed();
}
