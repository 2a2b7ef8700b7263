//! Scheduled actions on TikTok: [`TikTokActions`], the
//! [`ActionExecutor`] for video posts TikTok pulls from a URL.
//!
//! | kind | payload | purpose | reconciled by |
//! |---|---|---|---|
//! | `tiktok.video` | [`TikTokVideo`] | publishing | the post's status by its `publish_id` |
//!
//! A post is one init call, then TikTok's processing. The `publish_id` the init answers is
//! recorded as the action's progress before anything else, and later attempts follow its
//! status instead of posting again: a post still processing is retried later (back-off), a
//! `FAILED` one fails for good with TikTok's reason. When the init's answer itself is lost
//! there is no `publish_id` to ask about and TikTok lists no pending posts, so the action goes
//! to a person.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socialconnect_core::automation::{
    ActionExecutor, ActionPayload, ActionRun, Reconciliation, decode_payload,
};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::TikTokClient;
use crate::model::{PrivacyLevel, PublishState, PublishStatus};
use crate::posting::{VideoPost, VideoSource};

/// `tiktok.video`: a video TikTok pulls from a URL on a verified domain, posted directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TikTokVideo {
    /// The video's URL (its domain verified for the app, as TikTok requires).
    pub video_url: Url,
    /// The caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// TikTok's privacy level name (`SELF_ONLY`, `PUBLIC_TO_EVERYONE`…); one the creator
    /// offers when it runs.
    pub privacy_level: String,
}

impl ActionPayload for TikTokVideo {
    const KIND: &'static str = "tiktok.video";
}

impl TikTokVideo {
    /// A video from `video_url` at `privacy_level`.
    pub fn new(video_url: Url, privacy_level: PrivacyLevel) -> Self {
        Self {
            video_url,
            title: None,
            privacy_level: privacy_level.as_str().to_owned(),
        }
    }

    /// With a caption.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    fn post(&self) -> Result<(VideoPost, VideoSource)> {
        let mut post = VideoPost::new(PrivacyLevel::from_name(&self.privacy_level));
        if let Some(t) = &self.title {
            post = post.title(t.clone());
        }
        // The caption's rules are checked now, not when it runs.
        post.post_info()?;
        Ok((post, VideoSource::pull_from_url(self.video_url.clone())?))
    }
}

/// Runs TikTok's scheduled actions.
#[derive(Debug, Clone)]
pub struct TikTokActions {
    client: TikTokClient,
}

impl TikTokActions {
    /// The executor over `client`.
    pub fn new(client: TikTokClient) -> Self {
        Self { client }
    }

    /// Where the post `publish_id` stands: done, failed for good, or still processing (a
    /// failure that passes, so the runner asks again later).
    async fn follow(&self, session: &Session, publish_id: &str) -> Result<Value> {
        let status = self.client.posting(session).status(publish_id).await?;
        match status.state {
            PublishState::PublishComplete | PublishState::SendToUserInbox => {
                Ok(result(publish_id, &status))
            }
            PublishState::Failed => Err(Error::invalid_input(format!(
                "TikTok failed the post: {}",
                status.fail_reason.as_deref().unwrap_or("no reason given")
            ))),
            _ => Err(Error::transient("TikTok is still processing the post")),
        }
    }
}

fn result(publish_id: &str, status: &PublishStatus) -> Value {
    json!({
        "publish_id": publish_id,
        "state": status.state.as_str(),
        "post_ids": status.post_ids,
    })
}

fn publish_id(run: &ActionRun<'_>) -> Option<String> {
    run.progress()
        .and_then(|p| p["publish_id"].as_str())
        .map(str::to_owned)
}

#[async_trait]
impl ActionExecutor for TikTokActions {
    fn platform(&self) -> PlatformId {
        PlatformId::TIKTOK
    }

    fn kinds(&self) -> &'static [&'static str] {
        &[TikTokVideo::KIND]
    }

    fn purpose(&self, kind: &str) -> Option<Purpose> {
        (kind == TikTokVideo::KIND).then_some(Purpose::Publishing)
    }

    fn check(&self, kind: &str, payload: &Value) -> Result<()> {
        if kind != TikTokVideo::KIND {
            return Err(Error::invalid_input(format!(
                "TikTok runs no `{kind}` action"
            )));
        }
        decode_payload::<TikTokVideo>(payload)?.post().map(|_| ())
    }

    async fn run(&self, run: &mut ActionRun<'_>) -> Result<Value> {
        let session = run.session();
        if let Some(id) = publish_id(run) {
            return self.follow(session, &id).await;
        }
        let video: TikTokVideo = run.payload_as()?;
        let (post, source) = video.post()?;
        let posting = self.client.posting(session);
        let creator = posting.creator_info().await?;
        let started = posting.direct_post_video(&creator, &post, &source).await?;
        run.checkpoint(json!({ "publish_id": started.publish_id }))
            .await?;
        self.follow(session, &started.publish_id).await
    }

    async fn reconcile(&self, run: &mut ActionRun<'_>) -> Result<Reconciliation> {
        let Some(id) = publish_id(run) else {
            return Ok(Reconciliation::Unknown {
                reason: "TikTok's answer to the post was lost before its publish id was read; \
                         look at the creator's profile"
                    .into(),
            });
        };
        let status = self.client.posting(run.session()).status(&id).await?;
        Ok(match status.state {
            PublishState::PublishComplete | PublishState::SendToUserInbox => {
                Reconciliation::Happened {
                    result: result(&id, &status),
                }
            }
            // Posted but not finished (or failed): the run follows the publish id, sending
            // nothing new.
            _ => Reconciliation::NotHappened,
        })
    }
}
