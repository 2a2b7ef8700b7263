//! The test kit's conformance suite against LinkedIn sign-in and the versioned REST API, on the
//! kit's LinkedIn simulator (the sign-in dialect, the `LinkedIn-Version` and Rest.li protocol
//! checks, bearer and scope checks): the read the organization-role listing, the write a
//! member post.

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::ClientSecret;
use socialconnect_linkedin::posts::Post;
use socialconnect_linkedin::{LinkedInClient, LinkedInConfig, LinkedInLogin, Urn};
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::conformance::{self, Operation, Suite};
use socialconnect_testkit::linkedin::LinkedInSimulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linkedin_login_passes_the_conformance_suite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = LinkedInSimulator::builder()
        .clock(clock.clone())
        .organization("2414183", "Sim Bakery", "ADMINISTRATOR", "APPROVED")
        .organization("999", "Pending Co", "ADMINISTRATOR", "REQUESTED")
        .start()
        .await;
    let config = LinkedInConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
        .with_api_base(sim.base_url())
        .with_auth_base(sim.base_url());

    let (platform_config, platform_clock) = (config.clone(), clock.clone());
    let suite = Suite::new(PlatformId::LINKEDIN, clock, move |http| {
        let client = LinkedInClient::new(platform_config.clone(), http.clone());
        Arc::new(LinkedInLogin::new(&client, platform_clock.clone()).expect("sign-in"))
            as Arc<dyn Platform>
    })
    .scopes(&Scope::parse_list(
        "openid profile w_member_social r_organization_social",
    ));

    let read_config = config.clone();
    let suite = suite.read(Operation::new(
        "list the member's organization roles",
        "GET",
        "/rest/organizationAcls",
        Purpose::ReadingContent,
        move |s| {
            let client = LinkedInClient::new(read_config.clone(), s.http().clone());
            async move { client.organization_roles_page(&s, None).await }
        },
    ));
    let write_config = config.clone();
    let member = Urn::person(sim.member_sub()).expect("the simulator's member");
    let suite = suite.write(Operation::new(
        "post as the member",
        "POST",
        "/rest/posts",
        Purpose::Publishing,
        move |s| {
            let client = LinkedInClient::new(write_config.clone(), s.http().clone());
            let author = member.clone();
            async move {
                client
                    .create_post(&s, &Post::new(author, "conformance (on the simulator)"))
                    .await
            }
        },
    ));

    let report = conformance::run(&sim, suite).await;
    report.assert_passed();
    assert!(report.case_count() >= 40, "{} cases", report.case_count());
    sim.assert_no_unexpected();
}
