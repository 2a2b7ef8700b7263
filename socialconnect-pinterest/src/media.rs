//! Video upload: register the media (`POST /v5/media`), send the file with the upload
//! parameters as one multipart `POST` to the presigned `upload_url` (streamed from disk; no
//! bearer token goes there), poll `GET /v5/media/{id}` until `succeeded` or `failed`, then
//! create the Pin with [`MediaSource::Video`](crate::pins::MediaSource::Video).

use std::path::Path;

use serde::Deserialize;
use serde_json::json;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome, PollStep, poll};
use socialconnect_core::connect::upload::{MultipartForm, check_upload_url};
use socialconnect_core::http::ApiRequest;
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::client::{PinterestClient, path_id};

/// The most upload parameters accepted (an S3 POST policy has about eight).
const MAX_PARAMETERS: usize = 32;

/// A media upload Pinterest registered: where to send the file and with which fields.
/// `Debug` hides the URL's query and the parameters (a signed policy).
#[derive(Clone)]
pub struct MediaUpload {
    /// The media id, for the status and the Pin.
    pub media_id: String,
    upload_url: Url,
    parameters: Vec<(String, String)>,
}

impl std::fmt::Debug for MediaUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaUpload")
            .field("media_id", &self.media_id)
            .field("upload_host", &self.upload_url.host_str())
            .field("parameters", &self.parameters.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct RegisteredWire {
    #[serde(deserialize_with = "decode::id")]
    media_id: String,
    #[serde(deserialize_with = "decode::bounded_string::<_, 4096>")]
    upload_url: String,
    #[serde(default)]
    upload_parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An uploaded video's processing status. Unknown values are kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaStatus {
    /// Registered; the file has not arrived.
    Registered,
    /// Being processed.
    Processing,
    /// Ready for a Pin.
    Succeeded,
    /// Processing failed.
    Failed,
    /// A status this crate does not know.
    Other(String),
}

impl MediaStatus {
    fn from_name(name: &str) -> Self {
        match name {
            "registered" => Self::Registered,
            "processing" => Self::Processing,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }

    fn step(self, media_id: &str) -> PollStep<String, MediaStatus> {
        match self {
            MediaStatus::Succeeded => PollStep::Done(media_id.to_owned()),
            MediaStatus::Failed => PollStep::Failed(MediaStatus::Failed),
            status => PollStep::Pending {
                status,
                retry_after: None,
            },
        }
    }
}

#[derive(Deserialize)]
struct StatusWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    status: Option<String>,
}

impl PinterestClient {
    /// Registers a video upload (`pins:write`). Repeating it only registers another media id,
    /// so it may be retried.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the upload URL is not on Pinterest's API host or an `https`
    /// `amazonaws.com` or `pinterest.com` host (the fact sheet documents S3 POST policy fields,
    /// not the bucket's host: UNCONFIRMED), `Decode` when a parameter is not text or there are
    /// more than 32.
    pub async fn register_video(&self, session: &Session) -> Result<MediaUpload> {
        let req = self
            .request(http::Method::POST, "media", "media.register")?
            .json(&json!({ "media_type": "video" }))?;
        let wire: RegisteredWire = self.caller().send_json(session, req).await?;
        let upload_url = check_upload_url(
            "Pinterest",
            &wire.upload_url,
            &self.config().api_base,
            &["amazonaws.com", "pinterest.com"],
        )?;
        let fields = wire.upload_parameters.unwrap_or_default();
        if fields.len() > MAX_PARAMETERS {
            return Err(bad_parameters("too many upload parameters"));
        }
        let parameters = fields
            .into_iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(v) if v.len() <= 8192 && name.len() <= 256 => {
                    Ok((name, v))
                }
                _ => Err(bad_parameters("an upload parameter is not a short text")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MediaUpload {
            media_id: path_id("media", &wire.media_id)?.to_owned(),
            upload_url,
            parameters,
        })
    }

    /// Sends the file at `path` to the registered upload: every parameter as a form field in
    /// the order given, then the file as the `file` part, streamed. No bearer token goes with
    /// it (the URL is presigned); it is still tagged with the connection, rate limited and in
    /// the usage log.
    pub async fn upload_media_file(
        &self,
        session: &Session,
        upload: &MediaUpload,
        path: impl AsRef<Path>,
        content_type: &str,
    ) -> Result<()> {
        let path = path.as_ref();
        let form = upload
            .parameters
            .iter()
            .fold(MultipartForm::new(), |f, (n, v)| f.field(n, v));
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| n.is_ascii())
            .unwrap_or("video.mp4");
        let body = form
            .file_body("file", file_name, content_type, path.to_path_buf())
            .await?;
        let req = ApiRequest::post(upload.upload_url.clone())
            .operation("media.upload")
            .app(self.config().client_id.clone())
            .streaming_body(body)
            // The same form to the same presigned URL: S3 stores the object once.
            .idempotent(true);
        session.send_with_caller_auth(req).await?;
        Ok(())
    }

    /// The media's processing status.
    pub async fn media_status(&self, session: &Session, media_id: &str) -> Result<MediaStatus> {
        let path = format!("media/{}", path_id("media", media_id)?);
        let req = self.request(http::Method::GET, &path, "media.status")?;
        let wire: StatusWire = self.caller().send_json(session, req).await?;
        Ok(MediaStatus::from_name(wire.status.as_deref().unwrap_or("")))
    }

    /// Polls the media under `budget` until `succeeded` (done, with the media id) or `failed`.
    pub async fn wait_for_media(
        &self,
        session: &Session,
        media_id: &str,
        budget: &PollBudget,
    ) -> Result<PollOutcome<String, MediaStatus>> {
        poll(budget, |_| async move {
            Ok(self.media_status(session, media_id).await?.step(media_id))
        })
        .await
    }

    /// Registers, uploads the video at `path` (`video/mp4`) and waits under `budget` until
    /// Pinterest has processed it: the media id for [`MediaSource::Video`](crate::pins::MediaSource::Video).
    ///
    /// # Errors
    ///
    /// As the steps; `Platform` when processing failed or the budget ran out first (the media
    /// id is in the message, to wait on with [`PinterestClient::wait_for_media`]).
    pub async fn upload_video(
        &self,
        session: &Session,
        path: impl AsRef<Path>,
        budget: &PollBudget,
    ) -> Result<String> {
        let upload = self.register_video(session).await?;
        self.upload_media_file(session, &upload, path, "video/mp4")
            .await?;
        match self
            .wait_for_media(session, &upload.media_id, budget)
            .await?
        {
            PollOutcome::Done { value, .. } => Ok(value),
            PollOutcome::Failed { .. } => Err(media_error(format!(
                "Pinterest could not process video media {}",
                upload.media_id
            ))),
            other => Err(media_error(format!(
                "video media {} still processing when the budget ran out ({other:?})",
                upload.media_id
            ))),
        }
    }
}

fn bad_parameters(why: &str) -> Error {
    Error::Decode(Box::new(socialconnect_core::error::DecodeError {
        path: "upload_parameters".into(),
        message: why.into(),
        excerpt: None,
    }))
}

fn media_error(message: String) -> Error {
    Error::Platform(Box::new(socialconnect_core::error::PlatformError::new(
        Some(socialconnect_core::id::PlatformId::PINTEREST),
        message,
    )))
}
