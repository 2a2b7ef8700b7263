//! Video posts: direct post (`/v2/post/publish/video/init/`), inbox upload
//! (`/v2/post/publish/inbox/video/init/`) and the chunked transfer of a `FILE_UPLOAD`.

use std::path::Path;

use serde_json::{Value, json};
use socialconnect_core::connect::upload::{
    ChunkPlan, ChunkRules, ChunkedUpload, UploadInterrupted,
};
use socialconnect_core::error::PlatformError;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result};
use tokio::io::AsyncRead;
use url::Url;

use super::{Posting, check_media_url, utf16_len};
use crate::model::{CreatorInfo, InitWire, PrivacyLevel};
use crate::scopes;

/// The longest video title (the caption), in UTF-16 code units. UNCONFIRMED: the fact sheet
/// gives no limit for video captions; 2200 is what integrators document (postsyncer's TikTok
/// page), and TikTok refuses a longer one with `invalid_params` if its limit is lower.
const MAX_VIDEO_TITLE: usize = 2200;

/// A video's container, for the chunks' `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VideoType {
    /// `video/mp4` (the default).
    #[default]
    Mp4,
    /// `video/quicktime` (`.mov`).
    QuickTime,
    /// `video/webm`.
    WebM,
}

impl VideoType {
    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            VideoType::Mp4 => "video/mp4",
            VideoType::QuickTime => "video/quicktime",
            VideoType::WebM => "video/webm",
        }
    }
}

/// Where TikTok gets a video from: uploaded in chunks (`FILE_UPLOAD`) or pulled from a URL
/// on a domain verified for the app (`PULL_FROM_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSource {
    kind: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File {
        plan: ChunkPlan,
        video_type: VideoType,
    },
    Url(Url),
}

impl VideoSource {
    /// A file of `size` bytes uploaded in chunks, planned under TikTok's rules (one chunk under
    /// 5 MB; else 10 MiB chunks, larger when needed to stay within 1000 chunks, the last
    /// absorbing the remainder).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty file or one too large for TikTok's rules.
    pub fn file_upload(size: u64) -> Result<Self> {
        Ok(Self::file(ChunkPlan::for_size(size, &ChunkRules::TIKTOK)?))
    }

    /// A file of `size` bytes uploaded in chunks of `chunk_size` (a smaller chunk holds less in
    /// memory at a time; TikTok takes 5–64 MB).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the chunk size or the resulting plan breaks TikTok's rules.
    pub fn file_upload_in_chunks(size: u64, chunk_size: u64) -> Result<Self> {
        Ok(Self::file(ChunkPlan::new(
            size,
            chunk_size,
            &ChunkRules::TIKTOK,
        )?))
    }

    /// The file at `path`, planned from its current size as by [`VideoSource::file_upload`].
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the file cannot be read, or as [`VideoSource::file_upload`].
    pub async fn for_file(path: impl AsRef<Path>) -> Result<Self> {
        let size = tokio::fs::metadata(path.as_ref())
            .await
            .map_err(|e| Error::invalid_input(format!("video file: {}", e.kind())))?
            .len();
        Self::file_upload(size)
    }

    /// A video TikTok pulls from `url` (its domain must be verified for the app, or TikTok
    /// refuses with `url_ownership_unverified`).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for anything but an `http(s)` URL with a host.
    pub fn pull_from_url(url: Url) -> Result<Self> {
        check_media_url(&url)?;
        Ok(Self {
            kind: Source::Url(url),
        })
    }

    /// The container of an uploaded file (default MP4); no effect on a URL source.
    pub fn video_type(mut self, video_type: VideoType) -> Self {
        if let Source::File { video_type: t, .. } = &mut self.kind {
            *t = video_type;
        }
        self
    }

    /// The chunk plan of an uploaded file.
    pub fn plan(&self) -> Option<ChunkPlan> {
        match &self.kind {
            Source::File { plan, .. } => Some(*plan),
            Source::Url(_) => None,
        }
    }

    fn file(plan: ChunkPlan) -> Self {
        Self {
            kind: Source::File {
                plan,
                video_type: VideoType::default(),
            },
        }
    }

    /// TikTok's `source_info`.
    fn source_info(&self) -> Value {
        match &self.kind {
            Source::File { plan, .. } => json!({
                "source": "FILE_UPLOAD",
                "video_size": plan.total(),
                "chunk_size": plan.chunk_size(),
                "total_chunk_count": plan.count(),
            }),
            Source::Url(url) => json!({
                "source": "PULL_FROM_URL",
                "video_url": url.as_str(),
            }),
        }
    }
}

/// What a direct video post says about itself (TikTok's `post_info`). The creator's info
/// decides what may be asked: the privacy level must be one it offers, and the creator's
/// disabled comment, duet and stitch switches should stay disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoPost {
    privacy_level: PrivacyLevel,
    title: Option<String>,
    disable_duet: bool,
    disable_comment: bool,
    disable_stitch: bool,
    video_cover_timestamp_ms: Option<u64>,
    brand_content_toggle: bool,
    brand_organic_toggle: bool,
    is_aigc: bool,
}

impl VideoPost {
    /// A post visible at `privacy_level`, every switch off.
    pub fn new(privacy_level: PrivacyLevel) -> Self {
        Self {
            privacy_level,
            title: None,
            disable_duet: false,
            disable_comment: false,
            disable_stitch: false,
            video_cover_timestamp_ms: None,
            brand_content_toggle: false,
            brand_organic_toggle: false,
            is_aigc: false,
        }
    }

    /// The caption (hashtags and mentions included).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Turns duets off.
    pub fn disable_duet(mut self, disable: bool) -> Self {
        self.disable_duet = disable;
        self
    }

    /// Turns comments off.
    pub fn disable_comment(mut self, disable: bool) -> Self {
        self.disable_comment = disable;
        self
    }

    /// Turns stitches off.
    pub fn disable_stitch(mut self, disable: bool) -> Self {
        self.disable_stitch = disable;
        self
    }

    /// The frame used as the cover, in milliseconds from the start.
    pub fn cover_timestamp_ms(mut self, ms: u64) -> Self {
        self.video_cover_timestamp_ms = Some(ms);
        self
    }

    /// Marks the post as promoting a third party's brand (paid partnership).
    pub fn brand_content(mut self, on: bool) -> Self {
        self.brand_content_toggle = on;
        self
    }

    /// Marks the post as promoting the creator's own business.
    pub fn brand_organic(mut self, on: bool) -> Self {
        self.brand_organic_toggle = on;
        self
    }

    /// Marks the video as AI-generated.
    pub fn ai_generated(mut self, on: bool) -> Self {
        self.is_aigc = on;
        self
    }

    /// TikTok's `post_info`.
    pub(crate) fn post_info(&self) -> Result<Value> {
        let mut info = json!({
            "privacy_level": self.privacy_level.as_str(),
            "disable_duet": self.disable_duet,
            "disable_comment": self.disable_comment,
            "disable_stitch": self.disable_stitch,
            "brand_content_toggle": self.brand_content_toggle,
            "brand_organic_toggle": self.brand_organic_toggle,
            "is_aigc": self.is_aigc,
        });
        if let Some(title) = &self.title {
            if utf16_len(title) > MAX_VIDEO_TITLE {
                return Err(Error::invalid_input(format!(
                    "a TikTok video title is at most {MAX_VIDEO_TITLE} UTF-16 units"
                )));
            }
            info["title"] = json!(title);
        }
        if let Some(ms) = self.video_cover_timestamp_ms {
            info["video_cover_timestamp_ms"] = json!(ms);
        }
        Ok(info)
    }
}

/// A post TikTok accepted: its publish id (for [`Posting::status`]) and, for a
/// `FILE_UPLOAD`, where to send the video.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PublishStarted {
    /// TikTok's id for the post, to ask for its status.
    pub publish_id: String,
    /// Where the file goes (`FILE_UPLOAD` only).
    pub upload: Option<UploadTarget>,
}

/// Where and how a `FILE_UPLOAD` is sent: TikTok's upload URL and the chunk plan the init call
/// announced. The URL is a credential for this upload: `Debug` shows its host and path only.
#[derive(Clone)]
pub struct UploadTarget {
    url: Url,
    plan: ChunkPlan,
    video_type: VideoType,
}

impl std::fmt::Debug for UploadTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadTarget")
            .field("host", &self.url.host_str())
            .field("path", &self.url.path())
            .field("plan", &self.plan)
            .field("video_type", &self.video_type)
            .finish()
    }
}

impl UploadTarget {
    /// The chunk plan (as announced to TikTok: send exactly these chunks).
    pub fn plan(&self) -> ChunkPlan {
        self.plan
    }
}

impl<'a> Posting<'a> {
    /// Posts a video directly to the creator's profile (scope `video.publish`). `creator` is
    /// the creator info read for this post; the post's privacy level must be one it offers
    /// (and `SELF_ONLY` for an unaudited app), checked before calling TikTok.
    ///
    /// The init call goes out once. For a `FILE_UPLOAD`, send the file next with
    /// [`Posting::upload_file`] or [`Posting::upload_reader`]; then follow the status.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a refused privacy level (no request made); `MaybeSent` when the
    /// answer was lost (check the profile before posting again); TikTok's refusals by its error
    /// table (`spam_risk_*` is `PolicyBlocked`).
    pub async fn direct_post_video(
        &self,
        creator: &CreatorInfo,
        post: &VideoPost,
        source: &VideoSource,
    ) -> Result<PublishStarted> {
        self.require(scopes::VIDEO_PUBLISH)?;
        self.check_privacy(creator, &post.privacy_level)?;
        let body = json!({
            "post_info": post.post_info()?,
            "source_info": source.source_info(),
        });
        self.start("v2/post/publish/video/init/", &body, source)
            .await
    }

    /// Sends a video to the creator's TikTok inbox as a draft (scope `video.upload`); the user
    /// finishes the post in TikTok, and the status ends at `SEND_TO_USER_INBOX`.
    ///
    /// # Errors
    ///
    /// As [`Posting::direct_post_video`].
    pub async fn upload_video_to_inbox(&self, source: &VideoSource) -> Result<PublishStarted> {
        self.require(scopes::VIDEO_UPLOAD)?;
        let body = json!({ "source_info": source.source_info() });
        self.start("v2/post/publish/inbox/video/init/", &body, source)
            .await
    }

    async fn start(
        &self,
        path: &str,
        body: &Value,
        source: &VideoSource,
    ) -> Result<PublishStarted> {
        let data: InitWire = self.init(path, body).await?;
        let upload = match &source.kind {
            Source::Url(_) => None,
            Source::File { plan, video_type } => {
                let url = data
                    .upload_url
                    .as_deref()
                    .and_then(|u| Url::parse(u).ok())
                    .ok_or_else(|| {
                        // The post exists on TikTok's side; only its upload address is missing.
                        Error::Platform(Box::new(PlatformError::new(
                            Some(PlatformId::TIKTOK),
                            format!(
                                "TikTok accepted the upload (publish id {}) but sent no usable \
                                 upload_url",
                                data.publish_id
                            ),
                        )))
                    })?;
                Some(UploadTarget {
                    url,
                    plan: *plan,
                    video_type: *video_type,
                })
            }
        };
        tracing::debug!(
            chunks = upload.as_ref().map(|u| u.plan.count()),
            "post started"
        );
        Ok(PublishStarted {
            publish_id: data.publish_id,
            upload,
        })
    }

    /// Sends the file at `path` to `target` from chunk `from_chunk` (0 for a new upload): one
    /// `PUT` per chunk with `Content-Range`, in order, each read from the file when sent. A
    /// chunk that fails transiently is sent again; a 200, 201 or 206 acknowledges it.
    ///
    /// # Errors
    ///
    /// [`UploadInterrupted`] with the first chunk not acknowledged: call again from there.
    pub async fn upload_file(
        &self,
        target: &UploadTarget,
        path: impl AsRef<Path>,
        from_chunk: u32,
    ) -> std::result::Result<(), UploadInterrupted> {
        self.chunked(target).upload_file(path, from_chunk).await?;
        Ok(())
    }

    /// Sends the video read from `reader` to `target`, as [`Posting::upload_file`] does;
    /// `reader` must be positioned at the start of chunk `from_chunk`.
    ///
    /// # Errors
    ///
    /// As [`Posting::upload_file`].
    pub async fn upload_reader<R: AsyncRead + Unpin>(
        &self,
        target: &UploadTarget,
        reader: &mut R,
        from_chunk: u32,
    ) -> std::result::Result<(), UploadInterrupted> {
        self.chunked(target)
            .upload_reader(reader, from_chunk)
            .await?;
        Ok(())
    }

    fn chunked(&self, target: &UploadTarget) -> ChunkedUpload<'a> {
        // The upload URL carries its own credential: no bearer token goes with the chunks.
        // Intermediate chunks answering 206 and the last 201 is UNCONFIRMED; the kit takes
        // any 2xx as the acknowledgement.
        let template = ApiRequest::new(http::Method::PUT, target.url.clone())
            .operation("post.upload")
            .platform(PlatformId::TIKTOK)
            .connection(self.session.key().connection);
        ChunkedUpload::new(
            self.session.http(),
            template,
            target.video_type.content_type(),
            target.plan,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_info_follows_the_plan() {
        let s = VideoSource::file_upload_in_chunks(11_000_000, 5 * 1024 * 1024).unwrap();
        assert_eq!(
            s.source_info(),
            json!({"source": "FILE_UPLOAD", "video_size": 11_000_000u64,
                   "chunk_size": 5_242_880u64, "total_chunk_count": 2})
        );
        let small = VideoSource::file_upload(1000).unwrap();
        assert_eq!(small.plan().unwrap().count(), 1);
        assert_eq!(small.source_info()["chunk_size"], 1000);
        assert!(VideoSource::file_upload(0).is_err());
        assert!(VideoSource::pull_from_url(Url::parse("ftp://x.example/v.mp4").unwrap()).is_err());
    }
}
