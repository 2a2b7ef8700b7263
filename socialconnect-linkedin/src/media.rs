//! What images and videos share: the processing status LinkedIn reports for an uploaded asset,
//! and the check that an upload URL LinkedIn hands back is on one of LinkedIn's hosts.

use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome, PollStep, poll};
use socialconnect_core::connect::upload::check_upload_url;
use socialconnect_core::{Result, Session};
use url::Url;

use crate::client::LinkedInClient;
use crate::urn::Urn;

/// An uploaded image's or video's processing status. The enum values are UNCONFIRMED by
/// LinkedIn's docs; an unknown one is kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaStatus {
    /// The bytes have not arrived (or, for a video, the upload is not finalized).
    WaitingUpload,
    /// Being processed.
    Processing,
    /// Ready to post.
    Available,
    /// Processing failed.
    ProcessingFailed,
    /// A status this crate does not know.
    Other(String),
}

impl MediaStatus {
    fn from_name(name: &str) -> Self {
        match name {
            "WAITING_UPLOAD" => Self::WaitingUpload,
            "PROCESSING" => Self::Processing,
            "AVAILABLE" => Self::Available,
            "PROCESSING_FAILED" => Self::ProcessingFailed,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The poll step for an asset in this status: done when available, failed when
    /// processing failed, pending otherwise.
    fn step(self, asset: &Urn) -> PollStep<Urn, MediaStatus> {
        match self {
            MediaStatus::Available => PollStep::Done(asset.clone()),
            MediaStatus::ProcessingFailed => PollStep::Failed(MediaStatus::ProcessingFailed),
            status => PollStep::Pending {
                status,
                retry_after: None,
            },
        }
    }
}

/// `GET /rest/images/{urn}` and `/rest/videos/{urn}`: the status, other fields ignored.
#[derive(Deserialize)]
struct StatusWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    status: Option<String>,
}

impl StatusWire {
    fn status(&self) -> MediaStatus {
        MediaStatus::from_name(self.status.as_deref().unwrap_or(""))
    }
}

/// Which kind of asset: its `/rest/` collection and its status operation's name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Asset {
    Image,
    Video,
}

impl Asset {
    fn collection(self) -> &'static str {
        match self {
            Asset::Image => "images",
            Asset::Video => "videos",
        }
    }

    fn status_operation(self) -> &'static str {
        match self {
            Asset::Image => "images.status",
            Asset::Video => "videos.status",
        }
    }
}

impl LinkedInClient {
    /// `GET /rest/{images|videos}/{urn}`: the asset's status.
    pub(crate) async fn asset_status(
        &self,
        session: &Session,
        kind: Asset,
        asset: &Urn,
    ) -> Result<MediaStatus> {
        let path = format!("{}/{}", kind.collection(), asset.path_segment());
        let req = self
            .rest(http::Method::GET, &path)?
            .operation(kind.status_operation());
        let wire: StatusWire = self.caller().send_json(session, req).await?;
        Ok(wire.status())
    }

    /// Polls the asset under `budget` until `AVAILABLE` (done) or `PROCESSING_FAILED`.
    pub(crate) async fn wait_for_asset(
        &self,
        session: &Session,
        kind: Asset,
        asset: &Urn,
        budget: &PollBudget,
    ) -> Result<PollOutcome<Urn, MediaStatus>> {
        poll(budget, |_| async move {
            Ok(self.asset_status(session, kind, asset).await?.step(asset))
        })
        .await
    }

    /// An upload URL LinkedIn handed back, accepted only on the API's own host (a simulator)
    /// or an `https` `linkedin.com` host: the member's bytes go there, and for images the
    /// session's token with them.
    pub(crate) fn checked_upload_url(&self, text: &str) -> Result<Url> {
        check_upload_url("LinkedIn", text, &self.config().api_base, &["linkedin.com"])
    }
}
