//! The test kit's conformance suite against LinkedIn sign-in and the versioned REST API: the
//! kit's OAuth simulator in LinkedIn's dialect (its paths, OIDC `sub`), the read the
//! organization-role listing, the write a member post.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::ClientSecret;
use socialconnect_linkedin::posts::Post;
use socialconnect_linkedin::{LinkedInClient, LinkedInConfig, LinkedInLogin, Urn};
use socialconnect_testkit::conformance::{self, Operation, Suite};
use socialconnect_testkit::{JsonMock, ManualClock, OAuthSimulator, fixture};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linkedin_login_passes_the_conformance_suite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = OAuthSimulator::builder()
        .clock(clock.clone())
        .authorize_path("/oauth/v2/authorization")
        .token_path("/oauth/v2/accessToken")
        .revoke_path("/oauth/v2/revoke")
        .userinfo_path("/v2/userinfo")
        .userinfo_id_field("sub")
        .access_token_lifetime(Duration::from_secs(60 * 24 * 3600))
        .start()
        .await;
    JsonMock::new(
        "GET",
        "/rest/organizationAcls",
        fixture!("conformance/acls"),
    )
    .mount(sim.server())
    .await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", "urn:li:share:1"))
        .mount(sim.server())
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
    .scopes(&Scope::parse_list("openid profile w_member_social"));

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
    let suite = suite.write(Operation::new(
        "post as the member",
        "POST",
        "/rest/posts",
        Purpose::Publishing,
        move |s| {
            let client = LinkedInClient::new(write_config.clone(), s.http().clone());
            async move {
                let author =
                    Urn::person(&s.key().subject.to_string()).or_else(|_| Urn::person("member"))?;
                client
                    .create_post(&s, &Post::new(author, "conformance"))
                    .await
            }
        },
    ));

    let report = conformance::run(&sim, suite).await;
    println!("{report}");
    report.assert_passed();
    assert!(report.case_count() >= 40, "{} cases", report.case_count());
}
