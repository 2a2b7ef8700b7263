//! The transport seam: the one place bytes go onto the network.
//!
//! [`HttpClient`](super::HttpClient) keeps every rule (HTTPS only, the body cap, retries with a
//! budget, `MaybeSent`, rate limits, the total timeout, the `tracing` span) and hands each
//! attempt, fully prepared, to a [`Transport`]. The default transport is hyper with rustls and
//! the `ring` provider ([`HyperTransport`](super::HyperTransport)); a host can pass its own (a configured
//! `reqwest::Client` with the `reqwest` feature, or any type implementing the trait), and a test
//! can pass a closure that checks the exact request and answers without a server:
//!
//! ```
//! use socialconnect_core::http::{
//!     ApiRequest, HttpClient, TransportError, TransportRequest, TransportResponse,
//! };
//! # async fn demo() -> socialconnect_core::Result<()> {
//! let http = HttpClient::builder()
//!     .transport(|req: TransportRequest| async move {
//!         assert_eq!(req.uri(), "https://api.example.com/v1/me");
//!         Ok::<_, TransportError>(TransportResponse::new(200, r#"{"id":"1"}"#))
//!     })
//!     .build()?;
//! let resp = http
//!     .send(ApiRequest::get("https://api.example.com/v1/me".parse().unwrap()))
//!     .await?;
//! assert_eq!(resp.status(), 200);
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, StatusCode};

/// A request ready to go: method, absolute URI, every header (authentication, content type,
/// length and user agent already applied) and the body.
pub type TransportRequest = http::Request<RequestBody>;

/// A request body: whole bytes, or (for uploads) a stream opened for this attempt that yields
/// exactly the `Content-Length` the request declares.
pub struct RequestBody {
    inner: RequestInner,
}

enum RequestInner {
    Full(Bytes),
    Stream(super::ByteStream),
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            RequestInner::Full(b) => f
                .debug_struct("RequestBody")
                .field("len", &b.len())
                .finish(),
            RequestInner::Stream(_) => f.write_str("RequestBody(stream)"),
        }
    }
}

impl RequestBody {
    /// A body in memory.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self {
            inner: RequestInner::Full(bytes.into()),
        }
    }

    /// A streamed body.
    pub fn stream(chunks: super::ByteStream) -> Self {
        Self {
            inner: RequestInner::Stream(chunks),
        }
    }

    /// The bytes, when the body is in memory (`None` for a stream).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.inner {
            RequestInner::Full(b) => Some(b),
            RequestInner::Stream(_) => None,
        }
    }

    /// The body as bytes or as a stream, for a transport to send.
    pub fn into_parts(self) -> Result<Bytes, super::ByteStream> {
        match self.inner {
            RequestInner::Full(b) => Ok(b),
            RequestInner::Stream(s) => Err(s),
        }
    }
}

/// How far a failed attempt got. The client decides from this whether a retry is safe and
/// whether a write's outcome is unknown (`MaybeSent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureStage {
    /// Nothing was sent (DNS, connect or TLS handshake failed): always safe to retry.
    BeforeSend,
    /// A timeout elapsed; the request may have been processed.
    Timeout,
    /// The request may have left (the connection dropped mid-exchange, the body broke off).
    AfterSend,
}

/// A transport failure: the stage it happened at and a message that holds no URL (a query
/// may carry a token) and no secret.
#[derive(Debug)]
pub struct TransportError {
    stage: FailureStage,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure at `stage` (the message is truncated to 512 bytes).
    pub fn new(stage: FailureStage, message: impl Into<String>) -> Self {
        Self {
            stage,
            message: crate::error::bounded(message.into(), 512),
            source: None,
        }
    }

    /// Nothing was sent.
    pub fn before_send(message: impl Into<String>) -> Self {
        Self::new(FailureStage::BeforeSend, message)
    }

    /// A timeout elapsed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(FailureStage::Timeout, message)
    }

    /// The request may have left.
    pub fn after_send(message: impl Into<String>) -> Self {
        Self::new(FailureStage::AfterSend, message)
    }

    /// Keeps the underlying error as the `source` (its text must hold no URL or secret either).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// How far the attempt got.
    pub fn stage(&self) -> FailureStage {
        self.stage
    }

    /// What happened.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A response body as the transport delivers it: whole, or as a stream of chunks that the
/// client reads under its body cap (so an oversized body is never buffered whole).
pub struct ResponseBody {
    inner: BodyInner,
}

enum BodyInner {
    Full(Option<Bytes>),
    Stream(ChunkStream),
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            BodyInner::Full(b) => f
                .debug_struct("ResponseBody")
                .field("len", &b.as_ref().map_or(0, Bytes::len))
                .finish(),
            BodyInner::Stream(_) => f.write_str("ResponseBody(stream)"),
        }
    }
}

impl ResponseBody {
    /// A body already in memory.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self {
            inner: BodyInner::Full(Some(bytes.into())),
        }
    }

    /// A body read chunk by chunk. A chunk error ends the body (stage `AfterSend` or `Timeout`).
    pub fn stream(
        chunks: impl Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    ) -> Self {
        Self {
            inner: BodyInner::Stream(Box::pin(chunks)),
        }
    }

    /// The next chunk; `None` at the end.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, TransportError>> {
        match &mut self.inner {
            BodyInner::Full(b) => b.take().map(Ok),
            BodyInner::Stream(s) => s.next().await,
        }
    }
}

/// What a transport hands back: the status, the headers and the body, unread.
#[derive(Debug)]
pub struct TransportResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: ResponseBody,
}

impl TransportResponse {
    /// A response with `status` (an invalid code becomes 500) and a whole body, no headers.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: ResponseBody::full(body),
        }
    }

    /// Adds a header; an invalid name or value is skipped (this is for tests and adapters
    /// that already hold valid headers).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            self.headers.append(n, v);
        }
        self
    }
}

/// The future a [`Transport`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<TransportResponse, TransportError>> + Send + 'a>>;

/// Sends one prepared request and returns the response unread, or how far it got.
///
/// A transport does no retries, follows no redirects and applies no body cap: the
/// [`HttpClient`](super::HttpClient) above it does all of that (it also bounds the whole
/// attempt by its timeout). Implemented by [`HyperTransport`](super::HyperTransport), by `reqwest::Client` (feature
/// `reqwest`) and by every `Fn(TransportRequest) -> impl Future<Output = Result<TransportResponse,
/// TransportError>>`.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`.
    fn send(&self, request: TransportRequest) -> TransportFuture<'_>;
}

impl<F, Fut> Transport for F
where
    F: Fn(TransportRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<TransportResponse, TransportError>> + Send + 'static,
{
    fn send(&self, request: TransportRequest) -> TransportFuture<'_> {
        Box::pin(self(request))
    }
}
