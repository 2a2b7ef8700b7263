//! End to end on the kit's LinkedIn simulator, through the crate's public API and the hub: a
//! member connects, lists the organizations they administer, uploads an image and posts with
//! it, posts and comments as the organization, reads its statistics; uploads a video in parts
//! and posts it; and the simulator's refusals come back as typed errors.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{TimeDelta, Utc};
use socialconnect_core::ErrorKind;
use socialconnect_core::connect::paging::PageBudget;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::http::{ByteStream, StreamingBody};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_linkedin::posts::Post;
use socialconnect_linkedin::statistics::{Granularity, TimeWindow};
use socialconnect_linkedin::{LinkedInClient, LinkedInConfig, LinkedInLogin, Urn};
use socialconnect_testkit::linkedin::LinkedInSimulator;
use socialconnect_testkit::{Harness, ManualClock};

const SCOPES: &str = "openid profile w_member_social w_organization_social r_organization_social rw_organization_admin";

struct Env {
    sim: LinkedInSimulator,
    client: LinkedInClient,
    harness: Harness,
}

async fn env(version: Option<&str>) -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = LinkedInSimulator::builder()
        .clock(clock.clone())
        .organization("2414183", "Sim Bakery", "ADMINISTRATOR", "APPROVED")
        .organization("100", "Other Co", "ANALYST", "APPROVED")
        .start()
        .await;
    let mut config = LinkedInConfig::new(
        sim.client_id(),
        socialconnect_core::secret::ClientSecret::new(sim.client_secret()),
    )
    .with_api_base(sim.base_url())
    .with_auth_base(sim.base_url());
    if let Some(v) = version {
        config = config.with_version(v).unwrap();
    }
    let http = common::http();
    let client = LinkedInClient::new(config, http.clone());
    let login = LinkedInLogin::new(&client, clock.clone()).unwrap();
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

fn jpeg(len: usize) -> StreamingBody {
    StreamingBody::new("image/jpeg", len as u64, move || -> ByteStream {
        Box::pin(futures_util::stream::iter([Ok(Bytes::from(vec![
            0xFF;
            len
        ]))]))
    })
}

#[tokio::test]
async fn a_member_connects_posts_with_an_image_posts_as_the_organization_and_reads_its_statistics()
{
    let env = env(None).await;
    let (sim, client) = (&env.sim, &env.client);
    let connected = env
        .harness
        .connect(&PlatformId::LINKEDIN, &Scope::parse_list(SCOPES), |url| {
            sim.authorize(url)
        })
        .await;
    assert_eq!(connected.account.account_id, sim.member_sub());
    let session = env
        .harness
        .session(&connected.key, Purpose::Publishing)
        .await;

    let roles = client
        .organization_roles(&session, PageBudget::default())
        .await
        .unwrap();
    assert!(roles.is_complete());
    let org = Urn::organization("2414183").unwrap();
    let posting: Vec<_> = roles.items.iter().filter(|r| r.can_post()).collect();
    assert_eq!(posting.len(), 1);
    assert_eq!(posting[0].organization, org);

    let member = Urn::person(sim.member_sub()).unwrap();
    let upload = client
        .initialize_image_upload(&session, &member)
        .await
        .unwrap();
    client
        .upload_image(&session, &upload, jpeg(4096))
        .await
        .unwrap();
    let budget = PollBudget::new(Duration::from_millis(5)).max_attempts(10);
    let outcome = client
        .wait_for_image(&session, &upload.image, &budget)
        .await
        .unwrap();
    assert!(matches!(outcome, PollOutcome::Done { .. }), "{outcome:?}");
    let with_image = client
        .create_post(
            &session,
            &Post::new(member.clone(), "Fresh bread (today only) #1")
                .with_image(upload.image.clone()),
        )
        .await
        .unwrap();
    let as_org = client
        .create_post(&session, &Post::new(org.clone(), "From the bakery"))
        .await
        .unwrap();
    let posts = sim.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].urn, with_image.as_str());
    assert_eq!(posts[0].media, [upload.image.as_str()]);
    assert_eq!(posts[0].commentary, r"Fresh bread \(today only\) \#1");
    assert_eq!(
        (posts[1].urn.as_str(), posts[1].author.as_str()),
        (as_org.as_str(), org.as_str())
    );

    let comment = client
        .create_comment(&session, &as_org, &member, "Congrats!")
        .await
        .unwrap();
    assert_eq!(comment.text.as_deref(), Some("Congrats!"));
    let read = env
        .harness
        .session(&connected.key, Purpose::ReadingContent)
        .await;
    let page = client.comments_page(&read, &as_org, None).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, comment.id);

    let analytics = env
        .harness
        .session(&connected.key, Purpose::Analytics)
        .await;
    let lifetime = client
        .share_statistics(&analytics, &org, None, &[])
        .await
        .unwrap();
    // The base counts plus what the organization's post and its comment add.
    assert_eq!((lifetime[0].impressions, lifetime[0].comments), (3200, 10));
    let per_post = client
        .share_statistics(&analytics, &org, None, std::slice::from_ref(&as_org))
        .await
        .unwrap();
    assert_eq!(per_post[0].post.as_deref(), Some(as_org.as_str()));
    let now = Utc::now();
    let window = TimeWindow {
        start: now - TimeDelta::days(3),
        end: now,
        granularity: Granularity::Day,
    };
    let daily = client
        .share_statistics(&analytics, &org, Some(window), &[])
        .await
        .unwrap();
    assert_eq!(daily.len(), 3);
    let facets = client.follower_facets(&analytics, &org).await.unwrap();
    assert!(
        facets
            .iter()
            .any(|f| f.facet == "followerCountsBySeniority" && f.organic == 800)
    );
    let gains = client
        .follower_gains(&analytics, &org, window)
        .await
        .unwrap();
    assert_eq!(gains.len(), 3);
    assert_eq!(
        client.follower_total(&analytics, &org).await.unwrap(),
        18_342
    );

    client.delete_post(&session, &with_image).await.unwrap();
    assert_eq!(sim.posts().len(), 1);
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn the_simulators_refusals_come_back_typed() {
    let env = env(None).await;
    let sim = &env.sim;
    let connected = env
        .harness
        .connect(&PlatformId::LINKEDIN, &Scope::parse_list(SCOPES), |url| {
            sim.authorize(url)
        })
        .await;
    let session = env
        .harness
        .session(&connected.key, Purpose::Publishing)
        .await;
    let member = Urn::person(sim.member_sub()).unwrap();

    // The client refuses an organization it holds no posting role on before sending.
    let analyst_org = Urn::organization("100").unwrap();
    let err = env
        .client
        .create_post(&session, &Post::new(analyst_org.clone(), "x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingScopes);
    // Statistics of that organization: the simulator's 403.
    let analytics = env
        .harness
        .session(&connected.key, Purpose::Analytics)
        .await;
    let err = env
        .client
        .follower_total(&analytics, &analyst_org)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingScopes);
    assert!(sim.posts().is_empty());

    // Last: a day limit on one resource is throttled until midnight UTC; it does not pause
    // LinkedIn's other resources.
    sim.fail_next_day_limit("/rest/posts");
    let err = env
        .client
        .create_post(&session, &Post::new(member.clone(), "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Throttled {
                retry_after: Some(_)
            }
        ),
        "{err:?}"
    );
    let roles = env
        .client
        .organization_roles(
            &session,
            socialconnect_core::connect::paging::PageBudget::default(),
        )
        .await
        .unwrap();
    assert!(!roles.items.is_empty());

    // A sunset version pin is a configuration error naming the version.
    let old = env_with_old_version().await;
    let err = old.1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("202301"), "{err}");
    old.0.sim.assert_no_unexpected();
    sim.assert_no_unexpected();
}

async fn env_with_old_version() -> (Env, socialconnect_core::Result<Urn>) {
    let env = env(Some("202301")).await;
    let sim = &env.sim;
    let connected = env
        .harness
        .connect(&PlatformId::LINKEDIN, &Scope::parse_list(SCOPES), |url| {
            sim.authorize(url)
        })
        .await;
    let session = env
        .harness
        .session(&connected.key, Purpose::Publishing)
        .await;
    let member = Urn::person(sim.member_sub()).unwrap();
    let result = env
        .client
        .create_post(&session, &Post::new(member, "x"))
        .await;
    (env, result)
}

#[tokio::test]
async fn a_video_goes_up_in_parts_to_the_simulator_and_is_posted_once_available() {
    use std::io::Write;

    let env = env(None).await;
    let (sim, client) = (&env.sim, &env.client);
    let connected = env
        .harness
        .connect(&PlatformId::LINKEDIN, &Scope::parse_list(SCOPES), |url| {
            sim.authorize(url)
        })
        .await;
    let session = env
        .harness
        .session(&connected.key, Purpose::Publishing)
        .await;
    let member = Urn::parse(&sim.member_urn()).unwrap();
    // Over two 4 MiB parts: three PUTs, each to its own URL.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&vec![7u8; 9 * 1024 * 1024]).unwrap();
    file.flush().unwrap();
    let video = client
        .upload_video(&session, &member, file.path())
        .await
        .unwrap();
    let budget = PollBudget::new(Duration::from_millis(5)).max_attempts(20);
    let outcome = client
        .wait_for_video(&session, &video, &budget)
        .await
        .unwrap();
    assert!(matches!(outcome, PollOutcome::Done { .. }), "{outcome:?}");
    assert_eq!(
        sim.video_status(video.as_str()).as_deref(),
        Some("AVAILABLE")
    );
    client
        .create_post(
            &session,
            &Post::new(member, "Launch video").with_video(video),
        )
        .await
        .unwrap();
    assert_eq!(sim.posts().len(), 1);
    sim.assert_no_unexpected();
}
