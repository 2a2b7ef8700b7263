//! Images: `initializeUpload` → one `PUT` of the bytes → the image's status until
//! `AVAILABLE`; the image URN then goes into a post ([`Post::with_image`](crate::posts::Post::with_image),
//! [`Post::with_images`](crate::posts::Post::with_images)).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::http::{ApiRequest, StreamingBody};
use socialconnect_core::{Result, Session};
use url::Url;

use crate::client::LinkedInClient;
use crate::media::{Asset, MediaStatus};
use crate::urn::Urn;

/// Where to send an image's bytes, from `initializeUpload`.
#[derive(Clone)]
pub struct ImageUpload {
    /// The image's URN, for the post.
    pub image: Urn,
    upload_url: Url,
    /// Until when the upload URL works, when LinkedIn said.
    pub upload_url_expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for ImageUpload {
    // The upload URL is a capability: its query is not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageUpload")
            .field("image", &self.image)
            .field("upload_host", &self.upload_url.host_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct InitWire {
    value: InitValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitValue {
    #[serde(deserialize_with = "decode::bounded_string::<_, 4096>")]
    upload_url: String,
    image: Urn,
    #[serde(default, deserialize_with = "decode::opt_unix_millis")]
    upload_url_expires_at: Option<DateTime<Utc>>,
}

impl LinkedInClient {
    /// Asks LinkedIn for an upload slot for an image owned by `owner` (a member or an
    /// organization). A write: sent once.
    pub async fn initialize_image_upload(
        &self,
        session: &Session,
        owner: &Urn,
    ) -> Result<ImageUpload> {
        let req = self
            .rest(http::Method::POST, "images?action=initializeUpload")?
            .json(&json!({ "initializeUploadRequest": { "owner": owner } }))?
            .operation("images.initialize");
        let init: InitWire = self.caller().send_write(session, req).await?;
        let upload_url = self.checked_upload_url(&init.value.upload_url)?;
        Ok(ImageUpload {
            image: init.value.image,
            upload_url,
            upload_url_expires_at: init.value.upload_url_expires_at,
        })
    }

    /// Sends the image's bytes in one `PUT`, streamed (the same bytes again on a retry).
    pub async fn upload_image(
        &self,
        session: &Session,
        upload: &ImageUpload,
        body: StreamingBody,
    ) -> Result<()> {
        let req = ApiRequest::new(http::Method::PUT, upload.upload_url.clone())
            .streaming_body(body)
            .idempotent(true)
            .operation("images.upload");
        self.caller().send(session, req).await?;
        Ok(())
    }

    /// The image's status.
    pub async fn image_status(&self, session: &Session, image: &Urn) -> Result<MediaStatus> {
        self.asset_status(session, Asset::Image, image).await
    }

    /// Polls the image under `budget` until `AVAILABLE` (done) or `PROCESSING_FAILED`.
    pub async fn wait_for_image(
        &self,
        session: &Session,
        image: &Urn,
        budget: &PollBudget,
    ) -> Result<PollOutcome<Urn, MediaStatus>> {
        self.wait_for_asset(session, Asset::Image, image, budget)
            .await
    }
}
