//! The quickstart's Pinterest part, in the sandbox: sign-in against the test kit's Pinterest
//! simulator (HTTP Basic, comma scopes, continuous refresh), a new board, an image Pin, a
//! small video Pin through the media upload, and the Pin's analytics.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use socialconnect_core::clock::SystemClock;
use socialconnect_core::connect::poll::PollBudget;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::oauth::StandardPlatform;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{Connected, Error, Result, SocialConnect};
use socialconnect_pinterest::analytics::{AnalyticsQuery, Reading};
use socialconnect_pinterest::boards::{Board, BoardFields, Privacy};
use socialconnect_pinterest::pins::{MediaSource, NewPin, Pin, VideoCover};
use socialconnect_pinterest::{PinterestClient, PinterestConfig};
use socialconnect_testkit::pinterest::PinterestSimulator;

use crate::{connect_in_sandbox, detail, step};

/// The size of the generated video.
const VIDEO_BYTES: usize = 256 * 1024;

/// The Pinterest sandbox: the simulator and a client pointed at it.
pub(crate) struct PinterestSandbox {
    sim: PinterestSimulator,
    client: PinterestClient,
}

impl PinterestSandbox {
    pub(crate) async fn start(http: &HttpClient) -> Self {
        let sim = PinterestSimulator::builder()
            .boards(2)
            .media_processing_polls(2)
            .start()
            .await;
        let config = PinterestConfig::new(sim.client_id(), ClientSecret::new(sim.client_secret()))
            .with_api_base(sim.base_url())
            .with_auth_base(sim.base_url());
        let client = PinterestClient::new(config, http.clone());
        Self { sim, client }
    }

    /// Pinterest sign-in for the hub.
    pub(crate) fn platform(&self) -> Result<StandardPlatform> {
        self.client.login(Arc::new(SystemClock))
    }

    /// Connects the user: the simulator plays the browser and the consenting user.
    pub(crate) async fn connect(
        &self,
        hub: &SocialConnect,
        subject: &SubjectId,
        n: usize,
    ) -> Result<Connected> {
        let pin = connect_in_sandbox(
            hub,
            subject,
            PlatformId::PINTEREST,
            "user_accounts:read boards:read boards:write pins:read pins:write",
            "https://host.example/oauth/pinterest",
            |url| self.sim.authorize(url),
        )
        .await?;
        step(
            n,
            format!(
                "Connected Pinterest through OAuth with HTTP Basic client auth (connection {})",
                pin.key.connection
            ),
        );
        detail(format!(
            "account {}, continuous refresh token stored encrypted; upstream revoke not offered for user tokens",
            pin.account.account_id
        ));
        Ok(pin)
    }

    /// Creates a secret board for the quickstart.
    pub(crate) async fn create_board(
        &self,
        hub: &SocialConnect,
        pin: &Connected,
        n: usize,
    ) -> Result<Board> {
        let session = hub.session(&pin.key, Purpose::Publishing).await?;
        let board = self
            .client
            .create_board(
                &session,
                &BoardFields::named("SocialConnect quickstart")
                    .description("Pins from the quickstart")
                    .privacy(Privacy::Secret),
            )
            .await?;
        step(
            n,
            format!("Created a Pinterest board: {} ({})", board.name, board.id),
        );
        Ok(board)
    }

    /// Pins an image by URL on the board.
    pub(crate) async fn pin_image(
        &self,
        hub: &SocialConnect,
        pin: &Connected,
        board: &Board,
        n: usize,
    ) -> Result<Pin> {
        let session = hub.session(&pin.key, Purpose::Publishing).await?;
        let created = self
            .client
            .create_pin(
                &session,
                &NewPin::new(
                    &board.id,
                    MediaSource::ImageUrl("https://example.com/bread.jpg".into()),
                )
                .title("Fresh bread")
                .alt_text("A round loaf on a board")
                .link("https://example.com/recipe"),
            )
            .await?;
        step(
            n,
            format!("Pinned an image on Pinterest: Pin {}", created.id),
        );
        detail("title, alt text and link checked against Pinterest's limits before sending");
        Ok(created)
    }

    /// Uploads a small generated video and pins it.
    pub(crate) async fn pin_video(
        &self,
        hub: &SocialConnect,
        pin: &Connected,
        board: &Board,
        dir: &Path,
        n: usize,
    ) -> Result<Pin> {
        let session = hub.session(&pin.key, Purpose::Publishing).await?;
        let path = dir.join("pinterest-clip.mp4");
        std::fs::write(&path, vec![0x42_u8; VIDEO_BYTES])
            .map_err(|e| Error::storage("writing the sample video", e))?;
        let budget = PollBudget::new(Duration::from_millis(50)).max_attempts(20);
        let media_id = self.client.upload_video(&session, &path, &budget).await?;
        let created = self
            .client
            .create_pin(
                &session,
                &NewPin::new(
                    &board.id,
                    MediaSource::Video {
                        media_id: media_id.clone(),
                        cover: VideoCover::KeyFrame(1000),
                    },
                )
                .title("Kneading, in 15 seconds"),
            )
            .await?;
        step(
            n,
            format!(
                "Uploaded a small video and pinned it on Pinterest: media {media_id} succeeded, Pin {}",
                created.id
            ),
        );
        detail(format!(
            "{VIDEO_BYTES} bytes sent as one multipart POST to the presigned upload URL, without the token"
        ));
        Ok(created)
    }

    /// Reads the Pin's analytics over the last week.
    pub(crate) async fn pin_analytics(
        &self,
        hub: &SocialConnect,
        pin: &Connected,
        created: &Pin,
        n: usize,
    ) -> Result<()> {
        let session = hub.session(&pin.key, Purpose::Analytics).await?;
        let today = Utc::now().date_naive();
        let query = AnalyticsQuery::new(today - TimeDelta::days(6), today).metrics(&[
            "IMPRESSION",
            "SAVE",
            "PIN_CLICK",
        ]);
        let stats = self
            .client
            .pin_analytics(&session, &created.id, &query)
            .await?;
        let (mut final_impressions, mut provisional_days) = (0.0, 0);
        for group in stats.groups.values() {
            for day in &group.daily {
                match day.get("IMPRESSION") {
                    Some(Reading::Final(v)) => final_impressions += v,
                    Some(Reading::Provisional(_)) => provisional_days += 1,
                    None => {}
                }
            }
        }
        step(
            n,
            format!(
                "Read the Pin's Pinterest analytics: {} groups, {final_impressions} final impressions, {provisional_days} days not yet final",
                stats.groups.len()
            ),
        );
        detail("days still PROCESSING or ESTIMATE are read as provisional, never as final");
        Ok(())
    }

    pub(crate) fn assert_no_unexpected(&self) {
        self.sim.assert_no_unexpected();
    }
}
