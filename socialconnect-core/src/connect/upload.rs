//! Media uploads through core's [`HttpClient`]: a single streamed PUT, a chunked PUT with
//! `Content-Range`, and a multipart form (a presigned S3 POST), never holding a whole video
//! in memory.
//!
//! - [`file_body`] streams a file as a request body, reopened on each attempt, so a single
//!   PUT of any size holds only one read buffer (64 KiB) at a time.
//! - [`ChunkPlan`] computes the chunks of a file from its size and the platform's
//!   [`ChunkRules`] (TikTok: 5–64 MB chunks, the last absorbing the remainder up to 128 MB,
//!   one chunk under 5 MB, at most 1000). [`ChunkedUpload`] sends them one by one: each chunk
//!   is read into memory (so memory is bounded by the largest chunk, which keeps retries
//!   simple), sent with `Content-Range: bytes FIRST-LAST/TOTAL`, retried when it fails
//!   transiently or its acknowledgement is short, and on a lasting failure the error says
//!   which chunk to resume from.
//! - [`MultipartForm`] wraps a file in a `multipart/form-data` body after the form's fields
//!   (Pinterest's `upload_parameters`, S3 policy fields), streamed like [`file_body`].
//!
//! ```no_run
//! use socialconnect_core::connect::upload::{ChunkPlan, ChunkRules, ChunkedUpload};
//! use socialconnect_core::http::{ApiRequest, HttpClient};
//!
//! # async fn demo(http: HttpClient, upload_url: url::Url) -> socialconnect_core::Result<()> {
//! let path = std::path::Path::new("video.mp4");
//! let size = tokio::fs::metadata(path).await.map_err(|e| socialconnect_core::Error::invalid_input(e.to_string()))?.len();
//! let plan = ChunkPlan::for_size(size, &ChunkRules::TIKTOK)?;
//! // TikTok's init call takes `video_size`, `chunk_size` and `total_chunk_count` from the plan.
//! let template = ApiRequest::new(http::Method::PUT, upload_url).operation("tiktok.upload");
//! ChunkedUpload::new(&http, template, "video/mp4", plan)
//!     .upload_file(path, 0)
//!     .await?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use crate::ErrorKind;
use crate::error::{Error, PlatformError, Result};
use crate::http::{ApiRequest, ApiResponse, ByteStream, HttpClient, StreamingBody};

/// Bytes read from a file per streamed piece.
const READ_PIECE: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Streamed bodies

/// A body streaming the file at `path`, with its current length. The file is reopened on each
/// attempt; if it changes length in between, the attempt fails rather than sending a
/// different body.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] when the file cannot be read.
pub async fn file_body(path: impl Into<PathBuf>, content_type: &str) -> Result<StreamingBody> {
    let path = path.into();
    let length = file_len(&path).await?;
    Ok(StreamingBody::new(content_type, length, move || {
        file_stream(path.clone(), 0, length)
    }))
}

/// A body streaming `reader`, which yields `length` bytes. A reader cannot be rewound, so
/// only the first attempt can send it: a retry fails at once (send the request with
/// `.idempotent(false)` so that a failure is reported as [`ErrorKind::MaybeSent`]).
pub fn reader_body<R>(reader: R, length: u64, content_type: &str) -> StreamingBody
where
    R: AsyncRead + Send + Unpin + 'static,
{
    let slot = Arc::new(Mutex::new(Some(reader)));
    StreamingBody::new(content_type, length, move || -> ByteStream {
        let reader = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        match reader {
            Some(reader) => read_stream(reader, length),
            None => Box::pin(futures_util::stream::once(async {
                Err(std::io::Error::other("a reader body cannot be sent twice"))
            })),
        }
    })
}

async fn file_len(path: &Path) -> Result<u64> {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .map_err(|e| Error::invalid_input(format!("upload file: {}", e.kind())))
}

/// `length` bytes of the file at `path` from `offset`, in pieces of [`READ_PIECE`].
fn file_stream(path: PathBuf, offset: u64, length: u64) -> ByteStream {
    let opened = async move {
        let mut file = tokio::fs::File::open(&path).await?;
        if file.metadata().await?.len() < offset.saturating_add(length) {
            return Err(std::io::Error::other("upload file changed length"));
        }
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        Ok(read_stream(file, length))
    };
    Box::pin(futures_util::TryStreamExt::try_flatten(
        futures_util::stream::once(opened),
    ))
}

/// Exactly `length` bytes of `reader`, in pieces; a reader that ends early is an error.
fn read_stream<R: AsyncRead + Send + Unpin + 'static>(reader: R, length: u64) -> ByteStream {
    Box::pin(futures_util::stream::try_unfold(
        (reader, length),
        |(mut reader, left)| async move {
            if left == 0 {
                return Ok(None);
            }
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(READ_PIECE);
            let mut buf = BytesMut::zeroed(want);
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "upload source ended early",
                ));
            }
            buf.truncate(n);
            Ok(Some((buf.freeze(), (reader, left - n as u64))))
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Chunk plans

/// What happens to the bytes left over when the size is not a multiple of the chunk size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LastChunk {
    /// The last chunk is shorter (most APIs): `ceil(size / chunk)` chunks.
    Short,
    /// The last chunk absorbs the remainder, up to `max` bytes (TikTok):
    /// `floor(size / chunk)` chunks.
    AbsorbsRemainder {
        /// The longest last chunk allowed.
        max: u64,
    },
}

/// A platform's rules for chunked uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkRules {
    /// The smallest chunk (except the only chunk of a file smaller than it).
    pub min_chunk: u64,
    /// The largest chunk (the last one excepted, see [`LastChunk`]).
    pub max_chunk: u64,
    /// The chunk size [`ChunkPlan::for_size`] starts from.
    pub preferred_chunk: u64,
    /// How the remainder is carried.
    pub last: LastChunk,
    /// The most chunks one upload may have.
    pub max_chunks: u32,
}

impl ChunkRules {
    /// TikTok's media transfer rules: chunks of 5–64 MB, the last absorbing the remainder up
    /// to 128 MB, a file under 5 MB sent as one chunk, at most 1000 chunks. The bounds are
    /// taken conservatively (5 MiB for the minimum, 64 000 000 and 128 000 000 bytes for the
    /// maxima) since the docs do not say whether a MB is 10⁶ or 2²⁰ bytes.
    pub const TIKTOK: Self = Self {
        min_chunk: 5 * 1024 * 1024,
        max_chunk: 64_000_000,
        preferred_chunk: 10 * 1024 * 1024,
        last: LastChunk::AbsorbsRemainder { max: 128_000_000 },
        max_chunks: 1000,
    };

    /// Rules with the given bounds, a short last chunk and the minimum as the preferred size.
    pub const fn new(min_chunk: u64, max_chunk: u64, max_chunks: u32) -> Self {
        Self {
            min_chunk,
            max_chunk,
            preferred_chunk: min_chunk,
            last: LastChunk::Short,
            max_chunks,
        }
    }

    /// Sets how the remainder is carried.
    pub const fn last_chunk(mut self, last: LastChunk) -> Self {
        self.last = last;
        self
    }

    /// Sets the preferred chunk size.
    pub const fn preferred(mut self, chunk: u64) -> Self {
        self.preferred_chunk = chunk;
        self
    }
}

/// One chunk of a [`ChunkPlan`]: bytes `start..end` of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    /// Position in the plan, from 0.
    pub index: u32,
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ChunkRange {
    /// The chunk's length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the chunk is empty (never, in a valid plan).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The `Content-Range` value: `bytes FIRST-LAST/TOTAL`, both ends inclusive.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end - 1)
    }
}

/// How a file of a given size is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    total: u64,
    chunk_size: u64,
    count: u32,
}

impl ChunkPlan {
    /// The plan for `total` bytes in chunks of `chunk_size`, checked against `rules`. A file
    /// smaller than `rules.min_chunk`, or no larger than `chunk_size` and `rules.max_chunk`,
    /// is one chunk of its own size.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an empty file, a chunk size outside the rules, a last
    /// chunk over its maximum, or more chunks than allowed.
    pub fn new(total: u64, chunk_size: u64, rules: &ChunkRules) -> Result<Self> {
        let refuse = |why: &str| Err(Error::invalid_input(format!("upload plan: {why}")));
        if total == 0 {
            return refuse("the file is empty");
        }
        if total < rules.min_chunk || (total <= chunk_size && total <= rules.max_chunk) {
            return Ok(Self {
                total,
                chunk_size: total,
                count: 1,
            });
        }
        if chunk_size < rules.min_chunk || chunk_size > rules.max_chunk {
            return refuse("the chunk size is outside the platform's bounds");
        }
        let (count, last) = match rules.last {
            LastChunk::Short => {
                let count = total.div_ceil(chunk_size);
                (count, total - (count - 1) * chunk_size)
            }
            LastChunk::AbsorbsRemainder { max } => {
                let count = total / chunk_size;
                let last = total - (count - 1) * chunk_size;
                if last > max {
                    return refuse("the last chunk would exceed its maximum");
                }
                // A lone chunk is also the first: it may not exceed the largest chunk (TikTok:
                // a video over 64 MB must be sent in several chunks).
                if count == 1 && total > rules.max_chunk {
                    return refuse("a file larger than the largest chunk needs several chunks");
                }
                (count, last)
            }
        };
        debug_assert!(last > 0);
        match u32::try_from(count) {
            Ok(count) if count <= rules.max_chunks => Ok(Self {
                total,
                chunk_size,
                count,
            }),
            _ => refuse("the file needs more chunks than the platform allows"),
        }
    }

    /// A plan for `total` bytes with the chunk size chosen from `rules`: the preferred size,
    /// raised as needed to stay within the most chunks allowed.
    ///
    /// # Errors
    ///
    /// As [`ChunkPlan::new`] (a file too large for the rules at any chunk size).
    pub fn for_size(total: u64, rules: &ChunkRules) -> Result<Self> {
        let needed = total.div_ceil(u64::from(rules.max_chunks.max(1)));
        let chunk = rules
            .preferred_chunk
            .max(needed)
            .clamp(rules.min_chunk, rules.max_chunk.max(rules.min_chunk));
        Self::new(total, chunk, rules)
    }

    /// The file's size.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The size of every chunk but the last.
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// How many chunks.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Chunk `index`, when the plan has it.
    pub fn chunk(&self, index: u32) -> Option<ChunkRange> {
        if index >= self.count {
            return None;
        }
        let start = u64::from(index) * self.chunk_size;
        let end = if index + 1 == self.count {
            self.total
        } else {
            start + self.chunk_size
        };
        Some(ChunkRange { index, start, end })
    }

    /// Every chunk, in order.
    pub fn chunks(&self) -> impl Iterator<Item = ChunkRange> + '_ {
        (0..self.count).filter_map(|i| self.chunk(i))
    }
}

// ---------------------------------------------------------------------------------------------
// Chunked upload

/// A chunked upload that stopped before its end. Resume with the same plan from
/// `next_chunk`: every chunk before it was acknowledged.
#[derive(Debug, thiserror::Error)]
#[error("upload stopped at chunk {next_chunk}: {error}")]
pub struct UploadInterrupted {
    /// The first chunk not acknowledged.
    pub next_chunk: u32,
    /// Why it stopped.
    #[source]
    pub error: Error,
}

impl From<UploadInterrupted> for Error {
    fn from(e: UploadInterrupted) -> Self {
        e.error
    }
}

/// Sends a [`ChunkPlan`]'s chunks with PUTs carrying `Content-Range`, one at a time.
///
/// Each chunk is read into memory (at most one chunk at a time) and sent with a clone of
/// the request template (its URL, auth, headers and operation name) — one template for every
/// chunk (TikTok's single `upload_url`), or one per chunk ([`ChunkedUpload::per_chunk`]:
/// LinkedIn's `uploadInstructions`, one presigned URL per part). A chunk is acknowledged
/// by a 2xx response; a `Range` header in that response that ends before the chunk's last
/// byte is a short acknowledgement, and the chunk is sent again. A chunk is tried at most
/// [`ChunkedUpload::chunk_attempts`] times when it fails transiently (on top of the HTTP
/// client's own retries).
#[derive(Debug)]
pub struct ChunkedUpload<'a> {
    http: &'a HttpClient,
    /// One template for every chunk, or one per chunk.
    templates: Vec<ApiRequest>,
    content_type: &'static str,
    plan: ChunkPlan,
    attempts: u32,
    timeout: Duration,
    content_range: bool,
}

impl<'a> ChunkedUpload<'a> {
    /// An upload of `plan`'s chunks through `http`, each a copy of `template` (a PUT to the
    /// upload URL) with the chunk as its body.
    pub fn new(
        http: &'a HttpClient,
        template: ApiRequest,
        content_type: &'static str,
        plan: ChunkPlan,
    ) -> Self {
        Self {
            http,
            templates: vec![template],
            content_type,
            plan,
            attempts: 3,
            timeout: Duration::from_secs(300),
            content_range: true,
        }
    }

    /// An upload sending chunk `i` with a copy of `templates[i]` (a presigned URL per part).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when there is not exactly one template per chunk.
    pub fn per_chunk(
        http: &'a HttpClient,
        templates: Vec<ApiRequest>,
        content_type: &'static str,
        plan: ChunkPlan,
    ) -> Result<Self> {
        if templates.len() != plan.count() as usize {
            return Err(Error::invalid_input(
                "upload: the platform's part URLs do not match the chunk plan",
            ));
        }
        Ok(Self {
            http,
            templates,
            content_type,
            plan,
            attempts: 3,
            timeout: Duration::from_secs(300),
            content_range: true,
        })
    }

    /// Sends no `Content-Range` header (for per-part URLs, where the URL says which part).
    pub fn without_content_range(mut self) -> Self {
        self.content_range = false;
        self
    }

    /// Tries each chunk at most `attempts` times (default 3, at least 1).
    pub fn chunk_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Time allowed for each chunk's request (default 5 minutes).
    pub fn chunk_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uploads the file at `path` from chunk `from` (0 for a new upload). Returns the
    /// responses to the chunks this call sent, in order (a part's `ETag`, when the platform
    /// wants them back, is in its response's headers).
    ///
    /// # Errors
    ///
    /// [`UploadInterrupted`] with the chunk to resume from; its error is
    /// [`ErrorKind::InvalidInput`] when the file cannot be read or is not the planned size.
    pub async fn upload_file(
        &self,
        path: impl AsRef<Path>,
        from: u32,
    ) -> Result<Vec<ApiResponse>, UploadInterrupted> {
        let stop = |error| UploadInterrupted {
            next_chunk: from,
            error,
        };
        let path = path.as_ref();
        let len = file_len(path).await.map_err(stop)?;
        if len != self.plan.total() {
            return Err(stop(Error::invalid_input(
                "upload file is not the size the plan was made for",
            )));
        }
        let start = self.plan.chunk(from).map_or(len, |c| c.start);
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| stop(Error::invalid_input(format!("upload file: {}", e.kind()))))?;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| stop(Error::invalid_input(format!("upload file: {}", e.kind()))))?;
        self.upload_reader(&mut file, from).await
    }

    /// Uploads from `reader`, which must be positioned at the start of chunk `from`; chunks
    /// are read from it in order. Returns the responses as [`ChunkedUpload::upload_file`]
    /// does.
    ///
    /// # Errors
    ///
    /// [`UploadInterrupted`] with the chunk to resume from; its error is
    /// [`ErrorKind::InvalidInput`] when the reader ends early or fails.
    pub async fn upload_reader<R: AsyncRead + Unpin>(
        &self,
        reader: &mut R,
        from: u32,
    ) -> Result<Vec<ApiResponse>, UploadInterrupted> {
        if from >= self.plan.count() {
            return Err(UploadInterrupted {
                next_chunk: from,
                error: Error::invalid_input("upload: no chunk left to send"),
            });
        }
        let mut responses = Vec::new();
        for chunk in (from..self.plan.count()).filter_map(|i| self.plan.chunk(i)) {
            let stop = |error| UploadInterrupted {
                next_chunk: chunk.index,
                error,
            };
            let bytes = read_chunk(reader, chunk).await.map_err(stop)?;
            responses.push(self.send_chunk(chunk, bytes).await.map_err(stop)?);
            tracing::debug!(
                chunk = chunk.index,
                of = self.plan.count(),
                "chunk acknowledged"
            );
        }
        Ok(responses)
    }

    async fn send_chunk(&self, chunk: ChunkRange, bytes: Bytes) -> Result<ApiResponse> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let template = match self.templates.as_slice() {
                [one] => one,
                many => &many[chunk.index as usize],
            };
            let mut req = template.clone();
            if self.content_range {
                req = req.header(
                    http::header::CONTENT_RANGE.as_str(),
                    &chunk.content_range(self.plan.total()),
                )?;
            }
            let req = req
                .bytes(self.content_type, bytes.clone())
                .timeout(self.timeout);
            let err = match self.http.send(req).await {
                Ok(resp) if resp.is_success() => match acknowledged_end(&resp) {
                    Some(end) if end < chunk.end => short_ack(&resp, chunk, end),
                    _ => return Ok(resp),
                },
                Ok(resp) => resp.status_error(),
                Err(e) => e,
            };
            if err.kind() != ErrorKind::Transient || attempt >= self.attempts {
                return Err(err);
            }
            tracing::debug!(chunk = chunk.index, attempt, "chunk sent again");
        }
    }
}

/// Reads exactly chunk's bytes from `reader`.
async fn read_chunk<R: AsyncRead + Unpin>(reader: &mut R, chunk: ChunkRange) -> Result<Bytes> {
    let len = usize::try_from(chunk.len())
        .map_err(|_| Error::invalid_input("upload chunk does not fit in memory"))?;
    let mut buf = BytesMut::zeroed(len);
    reader.read_exact(&mut buf).await.map_err(|e| {
        Error::invalid_input(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "upload source is shorter than planned".to_owned()
        } else {
            format!("upload source: {}", e.kind())
        })
    })?;
    Ok(buf.freeze())
}

/// One past the last byte a response's `Range` header acknowledges (`bytes=0-N` or
/// `bytes 0-N`), when it has one that parses.
fn acknowledged_end(resp: &ApiResponse) -> Option<u64> {
    let value = resp.header("range")?.trim();
    let spec = value
        .strip_prefix("bytes=")
        .or_else(|| value.strip_prefix("bytes "))?;
    let (_, last) = spec.split_once('-')?;
    let last = last.split('/').next()?.trim();
    last.parse::<u64>().ok()?.checked_add(1)
}

fn short_ack(resp: &ApiResponse, chunk: ChunkRange, end: u64) -> Error {
    Error::Transient {
        message: format!(
            "chunk {} acknowledged up to byte {end} of {}",
            chunk.index, chunk.end
        ),
        platform: Some(Box::new(
            PlatformError::new(None, "short chunk acknowledgement").with_status(resp.status()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Upload hosts

/// An upload URL a platform handed back, accepted only on the API's own origin (a simulator
/// on loopback) or over `https` on one of `domains` or a subdomain of one: the user's bytes go
/// there, sometimes with a token.
///
/// # Errors
///
/// `InvalidInput` naming `platform` for anything else, or a URL that does not parse.
pub fn check_upload_url(
    platform: &str,
    text: &str,
    api_base: &url::Url,
    domains: &[&str],
) -> Result<url::Url> {
    let refuse = || {
        Error::invalid_input(format!(
            "{platform}'s upload URL is not on a {platform} host"
        ))
    };
    let url = url::Url::parse(text).map_err(|_| refuse())?;
    let host = url.host_str().ok_or_else(refuse)?;
    let same_api = url.scheme() == api_base.scheme()
        && Some(host) == api_base.host_str()
        && url.port_or_known_default() == api_base.port_or_known_default();
    let on_domain = url.scheme() == "https"
        && domains
            .iter()
            .any(|d| host == *d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.')));
    if (same_api || on_domain) && url.username().is_empty() && url.password().is_none() {
        Ok(url)
    } else {
        Err(refuse())
    }
}

// ---------------------------------------------------------------------------------------------
// Multipart forms

/// A `multipart/form-data` body: text fields, then one file streamed from disk. For
/// presigned form uploads (Pinterest's `upload_url` + `upload_parameters`, S3 POST policies),
/// where the file must be the last part.
#[derive(Debug, Clone)]
pub struct MultipartForm {
    boundary: String,
    fields: Vec<(String, String)>,
}

impl Default for MultipartForm {
    fn default() -> Self {
        Self::new()
    }
}

impl MultipartForm {
    /// An empty form with a random boundary.
    pub fn new() -> Self {
        let mut nonce = [0u8; 16];
        rand::fill(&mut nonce);
        Self {
            boundary: format!("socialconnect-{}", hex::encode(nonce)),
            fields: Vec::new(),
        }
    }

    /// Adds a text field (in order).
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// The body's content type, with the boundary.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The body: the fields, then the file at `path` as part `file_field` named `file_name`
    /// with `file_type`, streamed (reopened on each attempt).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when a name holds a line break or quote, a value holds the
    /// boundary, or the file cannot be read.
    pub async fn file_body(
        &self,
        file_field: &str,
        file_name: &str,
        file_type: &str,
        path: impl Into<PathBuf>,
    ) -> Result<StreamingBody> {
        let path = path.into();
        let file_len = file_len(&path).await?;
        let (head, tail) = self.frame(file_field, file_name, file_type)?;
        let length = (head.len() as u64)
            .checked_add(file_len)
            .and_then(|n| n.checked_add(tail.len() as u64))
            .ok_or_else(|| Error::invalid_input("upload form is too large"))?;
        Ok(StreamingBody::new(self.content_type(), length, move || {
            let head = futures_util::stream::once(std::future::ready(Ok(head.clone())));
            let tail = futures_util::stream::once(std::future::ready(Ok(tail.clone())));
            Box::pin(futures_util::StreamExt::chain(
                futures_util::StreamExt::chain(head, file_stream(path.clone(), 0, file_len)),
                tail,
            ))
        }))
    }

    /// The bytes before and after the file's content.
    fn frame(&self, file_field: &str, file_name: &str, file_type: &str) -> Result<(Bytes, Bytes)> {
        let bad_name = |s: &str| s.contains(['\r', '\n', '"']);
        let fields = self.fields.iter();
        if bad_name(file_field)
            || bad_name(file_name)
            || file_type.contains(['\r', '\n'])
            || fields
                .clone()
                .any(|(n, v)| bad_name(n) || v.contains(&self.boundary))
        {
            return Err(Error::invalid_input(
                "upload form: a name holds a line break or quote, or a value holds the boundary",
            ));
        }
        let b = &self.boundary;
        let mut head = String::new();
        for (name, value) in fields {
            head.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        head.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n"
        ));
        Ok((Bytes::from(head), Bytes::from(format!("\r\n--{b}--\r\n"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    #[test]
    fn upload_urls_stay_on_the_api_origin_or_the_platform_domains() {
        let api = url::Url::parse("http://127.0.0.1:4000/").unwrap();
        let ok = |u: &str| check_upload_url("X", u, &api, &["x.com", "s3.amazonaws.com"]).is_ok();
        assert!(ok("http://127.0.0.1:4000/upload/1"));
        assert!(ok("https://up.x.com/a"));
        assert!(ok("https://bucket.s3.amazonaws.com/"));
        assert!(!ok("http://up.x.com/a"), "not https");
        assert!(!ok("https://evilx.com/a"));
        assert!(!ok("https://x.com.evil.org/a"));
        assert!(!ok("http://127.0.0.1:4001/"), "another port");
        assert!(!ok("https://user:pw@up.x.com/"));
        assert!(!ok("not a url"));
    }

    #[test]
    fn tiktok_plans() {
        let r = ChunkRules::TIKTOK;
        // Under 5 MB: one chunk of the file's size.
        let p = ChunkPlan::for_size(3 * MB, &r).unwrap();
        assert_eq!((p.count(), p.chunk_size(), p.total()), (1, 3 * MB, 3 * MB));
        // Up to the preferred size: still one chunk.
        let p = ChunkPlan::for_size(8 * MB, &r).unwrap();
        assert_eq!(p.count(), 1);
        // 105 MB in 10 MiB chunks: floor → 10 chunks, the last absorbs the remainder.
        let p = ChunkPlan::for_size(105 * MB, &r).unwrap();
        let mib10 = 10 * 1024 * 1024;
        assert_eq!((p.count(), p.chunk_size()), (10, mib10));
        let last = p.chunk(9).unwrap();
        assert_eq!(last.end, 105 * MB);
        assert_eq!(last.len(), 105 * MB - 9 * mib10);
        assert!(last.len() > mib10 && last.len() < 2 * mib10);
        assert_eq!(p.chunk(10), None);
        // Chunks tile the file exactly.
        let mut at = 0;
        for c in p.chunks() {
            assert_eq!(c.start, at);
            at = c.end;
        }
        assert_eq!(at, p.total());
        // A large file raises the chunk size to stay within 1000 chunks.
        let big = 20_000 * MB;
        let p = ChunkPlan::for_size(big, &r).unwrap();
        assert!(p.count() <= 1000 && p.chunk_size() >= big / 1000, "{p:?}");
        // Too large at the largest chunk size.
        let err = ChunkPlan::for_size(64_000 * MB + 64 * MB + 1, &r).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn explicit_plans_are_checked() {
        let r = ChunkRules::TIKTOK;
        for (total, chunk) in [
            (0, 10 * MB),        // empty
            (200 * MB, MB),      // chunk below the minimum
            (70 * MB, 70 * MB),  // over 64 MB must be chunked
            (200 * MB, 65 * MB), // chunk above the maximum
            (100 * MB, 64 * MB), // floor → one chunk of 100 MB, over the 64 MB maximum
        ] {
            assert!(ChunkPlan::new(total, chunk, &r).is_err(), "{total} {chunk}");
        }
        // 64 MB chunks, 191 MB: floor → 2 chunks, last 127 MB (under 128).
        let p = ChunkPlan::new(191 * MB, 64 * MB, &r).unwrap();
        assert_eq!((p.count(), p.chunk(1).unwrap().len()), (2, 127 * MB));
        // Short-last rules: ceil.
        let short = ChunkRules::new(10, 20, 1000);
        let p = ChunkPlan::new(55, 10, &short).unwrap();
        assert_eq!(p.count(), 6);
        assert_eq!(
            p.chunk(5).unwrap(),
            ChunkRange {
                index: 5,
                start: 50,
                end: 55
            }
        );
        assert_eq!(p.chunk(5).unwrap().content_range(55), "bytes 50-54/55");
        let few = ChunkRules::new(10, 20, 3);
        assert!(ChunkPlan::new(55, 10, &few).is_err());
        assert_eq!(ChunkPlan::for_size(55, &few).unwrap().count(), 3);
    }

    #[test]
    fn multipart_frame_refuses_injection() {
        let form = MultipartForm::new()
            .field("key", "uploads/1")
            .field("policy", "abc");
        let (head, tail) = form.frame("file", "v.mp4", "video/mp4").unwrap();
        let head = String::from_utf8(head.to_vec()).unwrap();
        assert!(head.contains("name=\"key\"\r\n\r\nuploads/1\r\n"));
        assert!(head.ends_with("filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"));
        assert!(tail.ends_with(b"--\r\n"));
        assert!(form.frame("file", "a\"b", "video/mp4").is_err());
        assert!(form.frame("fi\r\nle", "v", "video/mp4").is_err());
        let boundary = form.boundary.clone();
        assert!(
            form.field("x", boundary)
                .frame("file", "v", "video/mp4")
                .is_err()
        );
        assert_ne!(MultipartForm::new().boundary, MultipartForm::new().boundary);
    }
}
