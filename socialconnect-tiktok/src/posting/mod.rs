//! The Content Posting API: the creator's posting options, video direct posts and inbox
//! (draft) uploads, photo posts, and a post's status.
//!
//! Every call needs a session opened for [`Purpose::Publishing`] and the scope the operation
//! takes (`video.publish` to post directly and read creator info, `video.upload` for drafts),
//! both checked before any request.
//!
//! - **Creator info first.** TikTok requires a post's privacy level to be one the creator
//!   offers, so the direct-post calls take the [`CreatorInfo`] read with
//!   [`Posting::creator_info`] and refuse any other level before calling TikTok. An app TikTok
//!   has not audited may post `SELF_ONLY` only; the client refuses every other level until
//!   the host declares the audit passed with
//!   [`TikTokConfig::with_audited`](crate::TikTokConfig::with_audited).
//! - **Posting is never repeated blindly.** Each init call goes out once: a failure after the
//!   request may have left (a timeout, a 5xx, an unreadable answer) is
//!   [`ErrorKind::MaybeSent`](socialconnect_core::ErrorKind::MaybeSent), so the host checks
//!   the user's profile before posting again.
//! - **`FILE_UPLOAD` in chunks.** [`VideoSource::file_upload`] plans the chunks from the file's
//!   size under TikTok's rules (the kit's
//!   [`ChunkRules::TIKTOK`](socialconnect_core::connect::upload::ChunkRules::TIKTOK)); the init answer's
//!   [`UploadTarget`] takes them as sequential `PUT`s with `Content-Range`, read from a file or
//!   a reader one chunk at a time (memory is bounded by the largest chunk, never the whole
//!   video). A chunk that fails transiently is sent again; a lasting failure returns the kit's
//!   [`UploadInterrupted`] with the chunk to resume from.
//! - **Status.** [`Posting::status`] reads one status; [`Posting::wait_until_done`] polls under
//!   a budget until `PUBLISH_COMPLETE`, `SEND_TO_USER_INBOX` or `FAILED`. A failed post is an
//!   outcome (TikTok answers it with HTTP 200 and `ok`), not an error.
//!
//! ```no_run
//! use std::time::Duration;
//! use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
//! use socialconnect_tiktok::TikTokClient;
//! use socialconnect_tiktok::model::PrivacyLevel;
//! use socialconnect_tiktok::posting::{VideoPost, VideoSource};
//!
//! # async fn demo(client: TikTokClient, session: socialconnect_core::Session) -> socialconnect_core::Result<()> {
//! let posting = client.posting(&session);
//! let creator = posting.creator_info().await?;
//! let path = std::path::Path::new("clip.mp4");
//! let source = VideoSource::for_file(path).await?;
//! let post = VideoPost::new(PrivacyLevel::SelfOnly).title("First clip");
//! let started = posting.direct_post_video(&creator, &post, &source).await?;
//! if let Some(target) = &started.upload {
//!     if let Err(stopped) = posting.upload_file(target, path, 0).await {
//!         // Resume later from the first chunk TikTok did not acknowledge.
//!         posting.upload_file(target, path, stopped.next_chunk).await?;
//!     }
//! }
//! let budget = PollBudget::new(Duration::from_secs(2)).max_wait(Duration::from_secs(600));
//! match posting.wait_until_done(&started.publish_id, &budget).await? {
//!     PollOutcome::Done { value, .. } => println!("{:?}, post ids {:?}", value.state, value.post_ids),
//!     PollOutcome::Failed { status, .. } => println!("failed: {:?}", status.fail_reason),
//!     _ => println!("still processing: ask again later"),
//! }
//! # Ok(()) }
//! ```

mod photo;
mod video;

pub use photo::{MAX_PHOTO_DESCRIPTION, MAX_PHOTO_TITLE, MAX_PHOTOS, PhotoPost};
pub use socialconnect_core::connect::upload::UploadInterrupted;
pub use video::{PublishStarted, UploadTarget, VideoPost, VideoSource, VideoType};

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome, PollStep, poll};
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{Purpose, Scope};
use socialconnect_core::{Error, Result, Session};

use crate::client::{TikTokClient, require_purpose, require_scopes};
use crate::model::{
    CreatorInfo, CreatorInfoWire, DataEnvelope, PrivacyLevel, PublishState, PublishStatus,
    StatusWire,
};
use crate::scopes;

/// The longest publish id accepted from a caller (TikTok's look like `v_pub_file~v2-1.…`).
const MAX_PUBLISH_ID: usize = 256;

// The accessor lives here rather than in client.rs so that client.rs imports no surface
// (no client ↔ surface import cycle).
impl TikTokClient {
    /// The Content Posting API for one session (opened for [`Purpose::Publishing`]).
    pub fn posting<'a>(&'a self, session: &'a Session) -> Posting<'a> {
        Posting {
            client: self,
            session,
        }
    }
}

/// The Content Posting API for one session.
#[derive(Debug, Clone, Copy)]
pub struct Posting<'a> {
    client: &'a TikTokClient,
    session: &'a Session,
}

impl<'a> Posting<'a> {
    /// The creator's posting options: privacy levels, the comment, duet and stitch switches and
    /// the longest video allowed (scope `video.publish`). TikTok wants this read before each
    /// post, to drive the posting screen.
    pub async fn creator_info(&self) -> Result<CreatorInfo> {
        require_purpose(self.session, &[Purpose::Publishing])?;
        // UNCONFIRMED by the fact sheet: the scope creator info takes (video.publish, as the
        // direct post it prepares).
        require_scopes(self.session, &[scopes::VIDEO_PUBLISH])?;
        let req = ApiRequest::post(self.client.api_url("v2/post/publish/creator_info/query/")?)
            .json(&json!({}))?
            // A query changes nothing: safe to retry.
            .idempotent(true)
            .operation("post.creator_info");
        let data: DataEnvelope<CreatorInfoWire> =
            self.client.caller().send_json(self.session, req).await?;
        Ok(data.data.into_domain(Utc::now()))
    }

    /// The status of the post `publish_id` (scope `video.upload` or `video.publish`).
    pub async fn status(&self, publish_id: &str) -> Result<PublishStatus> {
        require_purpose(self.session, &[Purpose::Publishing])?;
        // UNCONFIRMED by the fact sheet: the scope status takes; either posting scope is
        // accepted, as a post of either kind has a status.
        require_any_scope(self.session, &[scopes::VIDEO_UPLOAD, scopes::VIDEO_PUBLISH])?;
        if publish_id.is_empty() || publish_id.len() > MAX_PUBLISH_ID {
            return Err(Error::invalid_input("not a TikTok publish id"));
        }
        let req = ApiRequest::post(self.client.api_url("v2/post/publish/status/fetch/")?)
            .json(&json!({ "publish_id": publish_id }))?
            .idempotent(true)
            .operation("post.status");
        let data: DataEnvelope<StatusWire> =
            self.client.caller().send_json(self.session, req).await?;
        Ok(data.data.into())
    }

    /// Asks for the status of `publish_id` until TikTok is done with it — `PUBLISH_COMPLETE`
    /// or `SEND_TO_USER_INBOX` ([`PollOutcome::Done`]), `FAILED` ([`PollOutcome::Failed`],
    /// with its `fail_reason`) — or `budget` runs out ([`PollOutcome::Exhausted`], with the
    /// last status: store the publish id and ask again later). A status TikTok adds later
    /// reads as still in progress.
    ///
    /// TikTok allows 30 status reads a minute per user; the client's rate window spaces
    /// faster polling, so an interval of 2 s or more wastes no time waiting on it.
    ///
    /// # Errors
    ///
    /// The first failed status read.
    pub async fn wait_until_done(
        &self,
        publish_id: &str,
        budget: &PollBudget,
    ) -> Result<PollOutcome<PublishStatus, PublishStatus>> {
        poll(budget, |attempt| async move {
            let status = self.status(publish_id).await?;
            tracing::debug!(attempt, status = status.state.as_str(), "publish status");
            Ok(match status.state {
                PublishState::PublishComplete | PublishState::SendToUserInbox => {
                    PollStep::Done(status)
                }
                PublishState::Failed => PollStep::Failed(status),
                _ => PollStep::Pending {
                    status,
                    retry_after: None,
                },
            })
        })
        .await
    }

    /// The Publishing purpose and `scope`, checked before any request.
    fn require(&self, scope: &str) -> Result<()> {
        require_purpose(self.session, &[Purpose::Publishing])?;
        require_scopes(self.session, &[scope])
    }

    /// Refuses, before any request, a privacy level TikTok would refuse: anything but
    /// `SELF_ONLY` from an app the host has not declared audited, and any level the creator
    /// does not offer.
    fn check_privacy(&self, creator: &CreatorInfo, level: &PrivacyLevel) -> Result<()> {
        if !self.client.config().is_audited() && *level != PrivacyLevel::SelfOnly {
            return Err(Error::invalid_input(format!(
                "privacy level {level} refused: TikTok lets an unaudited app post SELF_ONLY \
                 only; configure TikTokConfig::with_audited(true) once the app has passed \
                 TikTok's Content Posting audit"
            )));
        }
        if !creator.offers(level) {
            let offered: Vec<&str> = creator
                .privacy_level_options
                .iter()
                .map(PrivacyLevel::as_str)
                .collect();
            return Err(Error::invalid_input(format!(
                "privacy level {level} is not offered by this creator (offered: {}); choose \
                 one of the creator info's privacy_level_options",
                if offered.is_empty() {
                    "none".to_owned()
                } else {
                    offered.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// Sends an init call once (never retried: a failure after it may have left is
    /// `MaybeSent`) and reads its `data`.
    async fn init<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        let req = ApiRequest::post(self.client.api_url(path)?)
            .json(body)?
            .operation("post.init");
        let data: DataEnvelope<T> = self.client.caller().send_write(self.session, req).await?;
        Ok(data.data)
    }
}

/// Refuses, before any request, a session whose grant holds none of `any` (the missing-scope
/// error names them all).
fn require_any_scope(session: &Session, any: &[&str]) -> Result<()> {
    let granted = &session.tokens().scopes;
    if any.iter().any(|n| granted.iter().any(|g| g.as_str() == *n)) {
        return Ok(());
    }
    Err(Error::MissingScopes {
        missing: any.iter().filter_map(|n| Scope::new(*n).ok()).collect(),
        platform: None,
    })
}

/// Counts text as TikTok's limits do: in UTF-16 code units.
fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Refuses a media URL TikTok could not pull: anything but an absolute `http(s)` URL with a
/// host. (TikTok also wants the URL's domain verified for the app; only TikTok can check
/// that, and refuses with `url_ownership_unverified`.)
fn check_media_url(url: &url::Url) -> Result<()> {
    if matches!(url.scheme(), "https" | "http") && url.host_str().is_some_and(|h| !h.is_empty()) {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "a media URL for TikTok to pull must be an http(s) URL with a host",
        ))
    }
}
