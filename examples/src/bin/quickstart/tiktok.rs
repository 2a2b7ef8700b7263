//! The quickstart's TikTok part, in the sandbox: Login Kit against the test kit's TikTok
//! simulator, a video uploaded in chunks and polled to `PUBLISH_COMPLETE`, the video list with
//! its stats, and a signed `authorization.removed` handled against the hub.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use socialconnect_core::clock::SystemClock;
use socialconnect_core::connect::paging::PageBudget;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::webhook::Deduper;
use socialconnect_core::{Connected, Error, Result, SocialConnect};
use socialconnect_testkit::tiktok::{SIGNATURE_HEADER, TikTokSimulator, WebhookEvent};
use socialconnect_tiktok::display::VideoField;
use socialconnect_tiktok::model::PrivacyLevel;
use socialconnect_tiktok::posting::{VideoPost, VideoSource};
use socialconnect_tiktok::webhook::{Delivered, TikTokWebhooks};
use socialconnect_tiktok::{TikTokClient, TikTokConfig, TikTokLogin};
use url::Url;

use crate::{detail, step};

/// The size of the generated clip: over 10 MB, so TikTok's rules cut it into two chunks.
const CLIP_BYTES: usize = 11 * 1000 * 1000;

/// The TikTok sandbox: the simulator and a client pointed at it.
pub(crate) struct TikTokSandbox {
    sim: TikTokSimulator,
    config: TikTokConfig,
    client: TikTokClient,
}

impl TikTokSandbox {
    pub(crate) async fn start(http: &HttpClient) -> Self {
        let sim = TikTokSimulator::builder().videos(3).start().await;
        let config = TikTokConfig::new(sim.client_key(), ClientSecret::new(sim.client_secret()))
            .with_api_base(sim.base_url())
            .with_auth_base(sim.base_url());
        let client = TikTokClient::new(config.clone(), http.clone());
        Self {
            sim,
            config,
            client,
        }
    }

    /// Login Kit for the hub.
    pub(crate) fn platform(&self) -> Result<TikTokLogin> {
        TikTokLogin::new(
            self.client.clone(),
            self.client.http().clone(),
            Arc::new(SystemClock),
        )
    }

    /// Connects TikTok: the simulator plays the browser and the consenting user.
    pub(crate) async fn connect(
        &self,
        hub: &SocialConnect,
        subject: &SubjectId,
        n: usize,
    ) -> Result<Connected> {
        let redirect = Url::parse("https://host.example/oauth/tiktok").expect("constant URL");
        let scopes = Scope::parse_list("user.info.basic,user.info.stats,video.list,video.publish");
        let auth = hub
            .connect(subject, &PlatformId::TIKTOK, &scopes, &redirect)
            .await?;
        let (code, state) = self.sim.authorize(&auth.url);
        let mut landed = redirect.clone();
        landed
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
        let tt = hub
            .complete_callback(subject, &redirect, landed.as_str())
            .await?;
        step(
            n,
            format!(
                "Connected TikTok through Login Kit (connection {})",
                tt.key.connection
            ),
        );
        detail(format!(
            "open id {}, client_key and comma-separated scopes, rotating refresh token stored encrypted; granted: {}",
            tt.account.account_id,
            tt.scopes
                .iter()
                .map(Scope::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(tt)
    }

    /// Posts a generated clip: creator info, init, the chunks, then the status to the end.
    pub(crate) async fn post_video(
        &self,
        hub: &SocialConnect,
        tt: &Connected,
        dir: &std::path::Path,
        n: usize,
    ) -> Result<()> {
        let path = dir.join("clip.mp4");
        std::fs::write(&path, vec![0u8; CLIP_BYTES])
            .map_err(|e| Error::storage("writing the demo clip", e))?;
        let session = hub.session(&tt.key, Purpose::Publishing).await?;
        let posting = self.client.posting(&session);
        let creator = posting.creator_info().await?;
        // 5 MiB chunks, TikTok's smallest: the clip goes in two, the last absorbing the rest.
        let source = VideoSource::file_upload_in_chunks(CLIP_BYTES as u64, 5 * 1024 * 1024)?;
        let chunks = source.plan().map_or(1, |p| p.count());
        let post =
            VideoPost::new(PrivacyLevel::SelfOnly).title("Posted by the SocialConnect quickstart");
        let started = posting.direct_post_video(&creator, &post, &source).await?;
        if let Some(target) = &started.upload {
            posting.upload_file(target, &path, 0).await?;
        }
        let budget = PollBudget::new(Duration::from_millis(50)).max_attempts(20);
        let outcome = posting
            .wait_until_done(&started.publish_id, &budget)
            .await?;
        let PollOutcome::Done { value, attempts } = outcome else {
            return Err(Error::transient(format!(
                "the post did not finish: {outcome:?}"
            )));
        };
        step(
            n,
            format!(
                "Uploaded an {} MB video to TikTok in {chunks} chunks and polled it to {} in {attempts} polls",
                CLIP_BYTES / 1_000_000,
                value.state.as_str()
            ),
        );
        detail(format!(
            "as @{} with privacy SELF_ONLY (an unaudited app may post nothing else); post ids {:?}; the simulator assembled {} bytes",
            creator.username.as_deref().unwrap_or("-"),
            value.post_ids,
            self.sim.uploaded_bytes(&started.publish_id)
        ));
        let _ = std::fs::remove_file(&path);
        Ok(())
    }

    /// Lists the user's videos, page after page, with their stats.
    pub(crate) async fn list_videos(
        &self,
        hub: &SocialConnect,
        tt: &Connected,
        n: usize,
    ) -> Result<()> {
        let session = hub.session(&tt.key, Purpose::Analytics).await?;
        let listed = self
            .client
            .display(&session)
            .videos(&VideoField::SUMMARY, PageBudget::default())
            .await?;
        step(
            n,
            format!(
                "Listed {} TikTok videos with their stats ({})",
                listed.items.len(),
                if listed.is_complete() {
                    "every page read"
                } else {
                    "budget reached"
                }
            ),
        );
        for v in &listed.items {
            detail(format!(
                "{} \"{}\": {} views, {} likes, {} comments, {} shares",
                v.id,
                v.title.as_deref().unwrap_or("-"),
                v.view_count.unwrap_or(0),
                v.like_count.unwrap_or(0),
                v.comment_count.unwrap_or(0),
                v.share_count.unwrap_or(0)
            ));
        }
        Ok(())
    }

    /// TikTok tells the host the user removed the app: the signed delivery, as TikTok would
    /// send it, handled against the hub (auto-erase).
    pub(crate) async fn authorization_removed(&self, hub: &SocialConnect, n: usize) -> Result<()> {
        let webhooks = TikTokWebhooks::new(
            hub.clone(),
            &self.config,
            Arc::new(Deduper::new(10_000, Duration::from_secs(72 * 3600))),
        )?;
        let delivery = self.sim.webhook(&WebhookEvent::authorization_removed(1));
        let mut headers = HeaderMap::new();
        let name = HeaderName::from_bytes(SIGNATURE_HEADER.as_bytes())
            .map_err(|_| Error::invalid_input("signature header name"))?;
        let value = HeaderValue::from_str(&delivery.signature)
            .map_err(|_| Error::invalid_input("signature header value"))?;
        headers.insert(name, value);
        let first = webhooks.handle(&headers, &delivery.body).await?;
        let again = webhooks.handle(&headers, &delivery.body).await?;
        let Delivered::First {
            removal: Some(removal),
            ..
        } = first
        else {
            return Err(Error::invalid_input(format!(
                "unexpected delivery outcome {first:?}"
            )));
        };
        step(
            n,
            format!(
                "Handled a signed TikTok authorization.removed ({:?}): {} connection deleted, deletion request {} {:?}",
                removal.reason,
                removal.connections_removed,
                removal.deletion_requests.join(","),
                webhooks
                    .status(removal.deletion_requests.first().map_or("", String::as_str))
                    .await?
            ),
        );
        detail(format!(
            "the same delivery again (TikTok delivers at least once) was recognised: {}",
            matches!(again, Delivered::Repeat { .. })
        ));
        Ok(())
    }

    pub(crate) fn assert_no_unexpected(&self) {
        self.sim.assert_no_unexpected();
    }
}
