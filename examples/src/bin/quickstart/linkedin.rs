//! The quickstart's LinkedIn part, in the sandbox: sign-in against the test kit's LinkedIn
//! simulator, the organizations the member administers, a member post with an uploaded image,
//! a post as the organization, and the organization's share and follower statistics.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use socialconnect_core::clock::SystemClock;
use socialconnect_core::connect::paging::PageBudget;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::http::{ByteStream, HttpClient, StreamingBody};
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{Connected, Error, Result, SocialConnect};
use socialconnect_linkedin::posts::Post;
use socialconnect_linkedin::statistics::{Granularity, TimeWindow};
use socialconnect_linkedin::{LinkedInClient, LinkedInConfig, LinkedInLogin, Urn};
use socialconnect_testkit::linkedin::LinkedInSimulator;

use crate::{connect_in_sandbox, detail, step};

/// The organization the sandbox member administers.
const ORG_ID: &str = "2414183";
/// The size of the generated picture.
const IMAGE_BYTES: usize = 64 * 1024;

/// The LinkedIn sandbox: the simulator and a client pointed at it.
pub(crate) struct LinkedInSandbox {
    sim: LinkedInSimulator,
    client: LinkedInClient,
}

impl LinkedInSandbox {
    pub(crate) async fn start(http: &HttpClient) -> Self {
        let sim = LinkedInSimulator::builder()
            .organization(ORG_ID, "Sandbox Bakery", "ADMINISTRATOR", "APPROVED")
            .organization("100", "Neighbour Co", "ANALYST", "APPROVED")
            .start()
            .await;
        let config = LinkedInConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
            .with_api_base(sim.base_url())
            .with_auth_base(sim.base_url());
        let client = LinkedInClient::new(config, http.clone());
        Self { sim, client }
    }

    /// LinkedIn sign-in for the hub.
    pub(crate) fn platform(&self) -> Result<LinkedInLogin> {
        LinkedInLogin::new(&self.client, Arc::new(SystemClock))
    }

    /// Connects the member: the simulator plays the browser and the consenting member.
    pub(crate) async fn connect(
        &self,
        hub: &SocialConnect,
        subject: &SubjectId,
        n: usize,
    ) -> Result<Connected> {
        let li = connect_in_sandbox(
            hub,
            subject,
            PlatformId::LINKEDIN,
            "openid profile w_member_social w_organization_social rw_organization_admin",
            "https://host.example/oauth/linkedin",
            |url| self.sim.authorize(url),
        )
        .await?;
        step(
            n,
            format!(
                "Connected LinkedIn through OpenID sign-in (connection {})",
                li.key.connection
            ),
        );
        detail(format!(
            "member urn:li:person:{}, 60-day token stored encrypted; granted: {}",
            li.account.account_id,
            li.scopes
                .iter()
                .map(Scope::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(li)
    }

    /// Lists the member's organization roles and returns the organization they may post as.
    pub(crate) async fn organizations(
        &self,
        hub: &SocialConnect,
        li: &Connected,
        n: usize,
    ) -> Result<Urn> {
        let session = hub.session(&li.key, Purpose::Publishing).await?;
        let roles = self
            .client
            .organization_roles(&session, PageBudget::default())
            .await?;
        let admin = roles
            .items
            .iter()
            .find(|r| r.can_post() && r.role == "ADMINISTRATOR")
            .map(|r| r.organization.clone())
            .ok_or_else(|| Error::invalid_input("the member administers no organization"))?;
        step(
            n,
            format!(
                "Listed the member's LinkedIn organization roles: {} roles, administers {admin}",
                roles.items.len()
            ),
        );
        for r in &roles.items {
            detail(format!(
                "{} {} ({}, may post: {})",
                r.organization,
                r.role,
                r.state,
                r.can_post()
            ));
        }
        Ok(admin)
    }

    /// Uploads a generated picture and posts it as the member.
    pub(crate) async fn post_with_image(
        &self,
        hub: &SocialConnect,
        li: &Connected,
        n: usize,
    ) -> Result<()> {
        let session = hub.session(&li.key, Purpose::Publishing).await?;
        let member = Urn::person(&li.account.account_id)?;
        let upload = self
            .client
            .initialize_image_upload(&session, &member)
            .await?;
        let body = StreamingBody::new("image/jpeg", IMAGE_BYTES as u64, || -> ByteStream {
            Box::pin(futures_util::stream::iter([Ok(bytes_of(IMAGE_BYTES))]))
        });
        self.client.upload_image(&session, &upload, body).await?;
        let budget = PollBudget::new(Duration::from_millis(50)).max_attempts(20);
        let outcome = self
            .client
            .wait_for_image(&session, &upload.image, &budget)
            .await?;
        let PollOutcome::Done { attempts, .. } = outcome else {
            return Err(Error::transient(format!(
                "the image did not become available: {outcome:?}"
            )));
        };
        let post = self
            .client
            .create_post(
                &session,
                &Post::new(
                    member,
                    "Fresh from the oven (posted by the SocialConnect quickstart)",
                )
                .with_image(upload.image.clone()),
            )
            .await?;
        step(
            n,
            format!(
                "Posted on LinkedIn as the member with an image: {post} (image AVAILABLE after {attempts} polls)"
            ),
        );
        detail("commentary sent as escaped little text, the image uploaded in one PUT");
        Ok(())
    }

    /// Posts as the organization the member administers.
    pub(crate) async fn post_as_organization(
        &self,
        hub: &SocialConnect,
        li: &Connected,
        org: &Urn,
        n: usize,
    ) -> Result<()> {
        let session = hub.session(&li.key, Purpose::Publishing).await?;
        let post = self
            .client
            .create_post(&session, &Post::new(org.clone(), "Open today until 6 pm"))
            .await?;
        step(
            n,
            format!("Posted on LinkedIn as the organization {org}: {post}"),
        );
        Ok(())
    }

    /// Reads the organization's share and follower statistics.
    pub(crate) async fn statistics(
        &self,
        hub: &SocialConnect,
        li: &Connected,
        org: &Urn,
        n: usize,
    ) -> Result<()> {
        let session = hub.session(&li.key, Purpose::Analytics).await?;
        let shares = self
            .client
            .share_statistics(&session, org, None, &[])
            .await?;
        let now = Utc::now();
        let week = TimeWindow {
            start: now - TimeDelta::days(7),
            end: now,
            granularity: Granularity::Day,
        };
        let gains = self.client.follower_gains(&session, org, week).await?;
        let facets = self.client.follower_facets(&session, org).await?;
        let total = self.client.follower_total(&session, org).await?;
        let lifetime = shares
            .first()
            .ok_or_else(|| Error::invalid_input("no share statistics"))?;
        step(
            n,
            format!(
                "Read the organization's LinkedIn statistics: {} impressions, {} clicks, {total} followers",
                lifetime.impressions, lifetime.clicks
            ),
        );
        detail(format!(
            "followers gained over the last 7 days: {} organic; {} demographic buckets",
            gains.iter().map(|g| g.organic).sum::<u64>(),
            facets.len()
        ));
        Ok(())
    }

    pub(crate) fn assert_no_unexpected(&self) {
        self.sim.assert_no_unexpected();
    }
}

fn bytes_of(len: usize) -> bytes::Bytes {
    bytes::Bytes::from(vec![0xFF_u8; len])
}
