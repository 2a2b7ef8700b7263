//! Videos: `initializeUpload` with the file's size → one `PUT` per part LinkedIn's
//! `uploadInstructions` name, streamed from the file a part at a time → `finalizeUpload` with
//! the parts' `ETag`s in order → the video's status until `AVAILABLE`; the video URN then goes
//! into a post ([`Post::with_video`](crate::posts::Post::with_video)).
//!
//! The flow and the `fileSizeBytes` / etags fields are in the fact sheet (from Postiz); the
//! field names `uploadInstructions[].{uploadUrl, firstByte, lastByte}`, `uploadToken`,
//! `uploadUrlsExpireAt` and `uploadedPartIds` are those of LinkedIn's Videos API page and are
//! UNCONFIRMED by the fact sheet, so the reader checks what it can: the parts must cover the
//! file exactly, in order, each at most [`MAX_PART`] bytes (each is held in memory while sent),
//! and every upload URL must be on a LinkedIn host.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::poll::{PollBudget, PollOutcome};
use socialconnect_core::connect::upload::{
    ChunkPlan, ChunkRules, ChunkedUpload, UploadInterrupted,
};
use socialconnect_core::error::PlatformError;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::client::LinkedInClient;
use crate::media::{Asset, MediaStatus};
use crate::urn::Urn;

/// The largest part accepted from LinkedIn's instructions (its parts are 4 MiB).
pub const MAX_PART: u64 = 64 * 1024 * 1024;

/// The most parts one upload may have (5 GiB in 4 MiB parts is 1280).
const MAX_PARTS: u32 = 4096;

/// Where to send a video's parts, from `initializeUpload`.
#[derive(Clone)]
pub struct VideoUpload {
    /// The video's URN, for the post.
    pub video: Urn,
    /// The file's size, as declared.
    pub size: u64,
    /// Until when the part URLs work, when LinkedIn said.
    pub upload_urls_expire_at: Option<DateTime<Utc>>,
    upload_token: String,
    plan: ChunkPlan,
    urls: Vec<Url>,
}

impl std::fmt::Debug for VideoUpload {
    // The part URLs are capabilities: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoUpload")
            .field("video", &self.video)
            .field("size", &self.size)
            .field("parts", &self.urls.len())
            .finish_non_exhaustive()
    }
}

impl VideoUpload {
    /// How many parts LinkedIn asked for.
    pub fn parts(&self) -> u32 {
        self.plan.count()
    }
}

#[derive(Deserialize)]
struct InitWire {
    value: InitValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitValue {
    video: Urn,
    #[serde(default, deserialize_with = "decode::null_as_default")]
    upload_instructions: Vec<InstructionWire>,
    #[serde(default, deserialize_with = "decode::opt_exact_string::<_, 4096>")]
    upload_token: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_unix_millis")]
    upload_urls_expire_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstructionWire {
    #[serde(deserialize_with = "decode::exact_string::<_, 4096>")]
    upload_url: String,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    first_byte: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    last_byte: Option<u64>,
}

impl LinkedInClient {
    /// Registers a video of `size` bytes owned by `owner` (a member or an organization) and
    /// reads the part layout. A write: sent once.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty file; `Platform` when the instructions do not cover the
    /// file exactly (a gap, an overlap, a part over [`MAX_PART`], too many parts) or a part URL
    /// is not on a LinkedIn host — nothing is sent then.
    pub async fn initialize_video_upload(
        &self,
        session: &Session,
        owner: &Urn,
        size: u64,
    ) -> Result<VideoUpload> {
        if size == 0 {
            return Err(Error::invalid_input(
                "a video upload needs a non-empty file",
            ));
        }
        let req = self
            .rest(http::Method::POST, "videos?action=initializeUpload")?
            .json(&json!({
                "initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": size,
                    "uploadCaptions": false,
                    "uploadThumbnail": false,
                }
            }))?
            .operation("videos.initialize");
        let init: InitWire = self.caller().send_write(session, req).await?;
        let value = init.value;
        let plan = plan_of(size, &value.upload_instructions)?;
        let urls = value
            .upload_instructions
            .iter()
            .map(|i| self.checked_upload_url(&i.upload_url))
            .collect::<Result<Vec<_>>>()?;
        Ok(VideoUpload {
            video: value.video,
            size,
            upload_urls_expire_at: value.upload_urls_expire_at,
            upload_token: value.upload_token.unwrap_or_default(),
            plan,
            urls,
        })
    }

    /// Sends the parts of the file at `path` from part `from` (0 for a new upload), one `PUT`
    /// each, streamed a part at a time, and returns the parts' `ETag`s in order. The part URLs
    /// are presigned: no bearer token goes with them. A part failing transiently is sent again
    /// (the same bytes to the same URL).
    ///
    /// # Errors
    ///
    /// [`UploadInterrupted`] with the part to resume from; its error is `InvalidInput` when
    /// the file is not the declared size, `Platform` when a part's answer has no `ETag`.
    pub async fn upload_video_parts(
        &self,
        session: &Session,
        upload: &VideoUpload,
        path: impl AsRef<Path>,
        from: u32,
    ) -> std::result::Result<Vec<String>, UploadInterrupted> {
        let templates = upload
            .urls
            .iter()
            .map(|url| {
                ApiRequest::new(http::Method::PUT, url.clone())
                    .operation("videos.upload")
                    .platform(PlatformId::LINKEDIN)
                    .app(self.config().client_id.clone())
                    .connection(session.key().connection)
            })
            .collect();
        let chunked = ChunkedUpload::per_chunk(
            session.http(),
            templates,
            "application/octet-stream",
            upload.plan,
        )
        .map_err(|error| UploadInterrupted {
            next_chunk: from,
            error,
        })?
        .without_content_range();
        let responses = chunked.upload_file(path, from).await?;
        responses
            .iter()
            .zip(from..)
            .map(|(resp, part)| {
                resp.header("etag")
                    .map(str::to_owned)
                    .filter(|tag| !tag.is_empty() && tag.len() <= 1024)
                    .ok_or_else(|| UploadInterrupted {
                        next_chunk: part,
                        error: Error::Platform(Box::new(PlatformError::new(
                            Some(PlatformId::LINKEDIN),
                            format!("video part {part}: the answer carried no ETag"),
                        ))),
                    })
            })
            .collect()
    }

    /// Tells LinkedIn every part is up, with their `ETag`s in part order. A write: sent once.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the count of etags is not the count of parts (nothing is sent).
    pub async fn finalize_video_upload(
        &self,
        session: &Session,
        upload: &VideoUpload,
        etags: &[String],
    ) -> Result<()> {
        if etags.len() != upload.urls.len() {
            return Err(Error::invalid_input(format!(
                "finalizeUpload needs {} etags, one per part; got {}",
                upload.urls.len(),
                etags.len()
            )));
        }
        let req = self
            .rest(http::Method::POST, "videos?action=finalizeUpload")?
            .json(&json!({
                "finalizeUploadRequest": {
                    "video": upload.video,
                    "uploadToken": upload.upload_token,
                    "uploadedPartIds": etags,
                }
            }))?
            .operation("videos.finalize");
        self.caller()
            .send_write_response(session, session.access_token(), req)
            .await?;
        Ok(())
    }

    /// The whole upload of the file at `path` for `owner`: initialize, every part, finalize.
    /// Returns the video's URN; wait for it with [`LinkedInClient::wait_for_video`] before
    /// posting.
    ///
    /// # Errors
    ///
    /// As the three steps. A failure in the parts is returned as its error; to resume instead,
    /// call the steps one by one.
    pub async fn upload_video(
        &self,
        session: &Session,
        owner: &Urn,
        path: impl AsRef<Path>,
    ) -> Result<Urn> {
        let path = path.as_ref();
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::invalid_input(format!("video file: {}", e.kind())))?
            .len();
        let upload = self.initialize_video_upload(session, owner, size).await?;
        let etags = self.upload_video_parts(session, &upload, path, 0).await?;
        self.finalize_video_upload(session, &upload, &etags).await?;
        Ok(upload.video)
    }

    /// The video's status.
    pub async fn video_status(&self, session: &Session, video: &Urn) -> Result<MediaStatus> {
        self.asset_status(session, Asset::Video, video).await
    }

    /// Polls the video under `budget` until `AVAILABLE` (done) or `PROCESSING_FAILED`.
    pub async fn wait_for_video(
        &self,
        session: &Session,
        video: &Urn,
        budget: &PollBudget,
    ) -> Result<PollOutcome<Urn, MediaStatus>> {
        self.wait_for_asset(session, Asset::Video, video, budget)
            .await
    }
}

/// The chunk plan LinkedIn's instructions describe, when they cover `size` bytes exactly: the
/// first part's size for every part, the last one shorter.
fn plan_of(size: u64, parts: &[InstructionWire]) -> Result<ChunkPlan> {
    let refuse = |why: &str| {
        Error::Platform(Box::new(PlatformError::new(
            Some(PlatformId::LINKEDIN),
            format!("LinkedIn's video upload instructions: {why}"),
        )))
    };
    let first = parts.first().ok_or_else(|| refuse("no parts"))?;
    let part_size = match (first.first_byte, first.last_byte) {
        (Some(0), Some(last)) => last
            .checked_add(1)
            .ok_or_else(|| refuse("a part ends past any file"))?,
        _ => return Err(refuse("the first part does not start at byte 0")),
    };
    if part_size > MAX_PART {
        return Err(refuse("a part is larger than this client accepts"));
    }
    let rules = ChunkRules::new(1, MAX_PART, MAX_PARTS);
    let plan = ChunkPlan::new(size, part_size, &rules).map_err(|_| refuse("too many parts"))?;
    let matches = plan.count() as usize == parts.len()
        && plan.chunks().zip(parts).all(|(chunk, part)| {
            part.first_byte == Some(chunk.start) && part.last_byte == Some(chunk.end - 1)
        });
    if !matches {
        return Err(refuse("the parts do not cover the file exactly, in order"));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(ranges: &[(u64, u64)]) -> Vec<InstructionWire> {
        ranges
            .iter()
            .map(|&(first, last)| InstructionWire {
                upload_url: "https://www.linkedin.com/dms-uploads/x".into(),
                first_byte: Some(first),
                last_byte: Some(last),
            })
            .collect()
    }

    const MIB4: u64 = 4 * 1024 * 1024;

    #[test]
    fn instructions_covering_the_file_become_its_plan() {
        let size = 2 * MIB4 + 10;
        let plan = plan_of(
            size,
            &parts(&[(0, MIB4 - 1), (MIB4, 2 * MIB4 - 1), (2 * MIB4, size - 1)]),
        )
        .unwrap();
        assert_eq!(plan.count(), 3);
        assert_eq!(plan_of(10, &parts(&[(0, 9)])).unwrap().count(), 1);
    }

    #[test]
    fn gaps_overlaps_short_covers_and_huge_parts_are_refused() {
        let size = 2 * MIB4;
        for bad in [
            parts(&[]),
            parts(&[(1, MIB4), (MIB4 + 1, size - 1)]),
            parts(&[(0, MIB4 - 1), (MIB4 + 1, size - 1)]),
            parts(&[(0, MIB4 - 1), (MIB4 - 10, size - 1)]),
            parts(&[(0, MIB4 - 1)]),
            parts(&[(0, MIB4 - 1), (MIB4, size - 1), (size, size + 9)]),
            parts(&[(0, size * 64)]),
            parts(&[(0, u64::MAX)]),
        ] {
            let err = plan_of(size, &bad).unwrap_err();
            assert_eq!(err.kind(), socialconnect_core::ErrorKind::Platform, "{err}");
        }
    }
}
