//! Requests described without I/O, and the responses the client hands back.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, PlatformError, ReconnectReason, Result, bounded};
use crate::id::{ConnectionId, PlatformId};
use crate::secret::{AccessToken, ClientSecret};

/// A request body, kept as bytes so a retry resends exactly the same thing.
#[derive(Debug, Clone, Default)]
pub(crate) enum Body {
    #[default]
    Empty,
    Bytes {
        content_type: &'static str,
        bytes: Bytes,
    },
    Stream(StreamingBody),
}

/// The chunks of a [`StreamingBody`], in order.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A request body produced on demand instead of held in memory, for uploads (a file sent
/// with a single PUT, a multipart form around one).
///
/// `open` is called once per attempt and must yield exactly `length` bytes each time, so a
/// retried request (an idempotent PUT) sends the same body again from its start. A stream that
/// fails or yields a different length fails the attempt like a broken connection.
#[derive(Clone)]
pub struct StreamingBody {
    content_type: String,
    length: u64,
    open: Arc<dyn Fn() -> ByteStream + Send + Sync>,
}

impl std::fmt::Debug for StreamingBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingBody")
            .field("content_type", &self.content_type)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

impl StreamingBody {
    /// A body of `length` bytes with `content_type`, read from the stream `open` returns.
    pub fn new(
        content_type: impl Into<String>,
        length: u64,
        open: impl Fn() -> ByteStream + Send + Sync + 'static,
    ) -> Self {
        Self {
            content_type: content_type.into(),
            length,
            open: Arc::new(open),
        }
    }

    /// The content type sent.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The length sent as `Content-Length`.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// A fresh stream of the body, from its start.
    pub fn open(&self) -> ByteStream {
        (self.open)()
    }
}

/// One HTTP request to a platform, described without performing it.
///
/// Requests that carry a secret (a bearer token, client credentials, a form holding a code or
/// token) keep it out of every `Debug` and log line: `Debug` shows method, path and operation only.
#[derive(Clone)]
pub struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) operation: Cow<'static, str>,
    pub(crate) idempotent: bool,
    pub(crate) bearer: Option<AccessToken>,
    pub(crate) basic: Option<(String, ClientSecret)>,
    pub(crate) platform: Option<PlatformId>,
    pub(crate) app: Option<String>,
    pub(crate) connection: Option<ConnectionId>,
    pub(crate) sensitive_response: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) final_answer: Option<fn(&ApiResponse) -> bool>,
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .field("path", &self.url.path())
            .field("operation", &self.operation)
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    /// A request with `method` to `url`. GET, HEAD, PUT, DELETE and OPTIONS count as
    /// idempotent (safe to retry); everything else does not, unless marked with
    /// [`ApiRequest::idempotent`].
    pub fn new(method: Method, url: Url) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: Body::Empty,
            operation: Cow::Borrowed("request"),
            idempotent,
            bearer: None,
            basic: None,
            platform: None,
            app: None,
            connection: None,
            sensitive_response: false,
            timeout: None,
            final_answer: None,
        }
    }

    /// Marks answers that must not be retried even where their status would be (Pinterest's
    /// anti-spam 429: waiting does not lift it, and repeating the request looks like more
    /// spam). `is_final` sees each answer before the HTTP layer decides to retry.
    pub fn not_retried_when(mut self, is_final: fn(&ApiResponse) -> bool) -> Self {
        self.final_answer = Some(is_final);
        self
    }

    /// A GET request.
    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    /// A POST request (not idempotent by default).
    pub fn post(url: Url) -> Self {
        Self::new(Method::POST, url)
    }

    /// A DELETE request.
    pub fn delete(url: Url) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// Names the operation for logs and the usage log, e.g. `pages.publish`.
    pub fn operation(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.operation = name.into();
        self
    }

    /// Declares whether repeating the request is harmless (a publish with an idempotency key
    /// is; a plain publish is not).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Appends query parameters.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        {
            let mut q = self.url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k.as_ref(), v.as_ref());
            }
        }
        self
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::invalid_input(format!("request body does not serialize: {e}")))?;
        self.body = Body::Bytes {
            content_type: "application/json",
            bytes: Bytes::from(bytes),
        };
        Ok(self)
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            ser.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Body::Bytes {
            content_type: "application/x-www-form-urlencoded",
            bytes: Bytes::from(ser.finish()),
        };
        self
    }

    /// Sets a raw body with its content type.
    pub fn bytes(mut self, content_type: &'static str, bytes: impl Into<Bytes>) -> Self {
        self.body = Body::Bytes {
            content_type,
            bytes: bytes.into(),
        };
        self
    }

    /// Sets a body streamed on each attempt instead of held in memory (see [`StreamingBody`]).
    pub fn streaming_body(mut self, body: StreamingBody) -> Self {
        self.body = Body::Stream(body);
        self
    }

    /// Overrides the client's whole-request timeout for this request (an upload of many
    /// megabytes needs longer than an API call).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a header. Invalid names or values are refused.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let name =
            HeaderName::try_from(name).map_err(|_| Error::invalid_input("invalid header name"))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| Error::invalid_input("invalid header value"))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Authenticates with a bearer token.
    pub fn bearer(mut self, token: AccessToken) -> Self {
        self.bearer = Some(token);
        self
    }

    /// Authenticates with HTTP Basic (client id and secret).
    pub fn basic_auth(mut self, user: impl Into<String>, secret: ClientSecret) -> Self {
        self.basic = Some((user.into(), secret));
        self
    }

    /// Tags the request with its platform (for rate limiting, logs and error details).
    pub fn platform(mut self, platform: PlatformId) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Tags the request with the app (client id) it is made for, for the per-app rate limiter.
    pub fn app(mut self, app: impl Into<String>) -> Self {
        self.app = Some(app.into());
        self
    }

    /// Tags the request with the connection it acts for (per-connection rate limiting, logs).
    pub fn connection(mut self, connection: ConnectionId) -> Self {
        self.connection = Some(connection);
        self
    }

    /// Marks the response as possibly holding secrets (a token endpoint): decode errors then
    /// carry no body excerpt.
    pub fn sensitive_response(mut self) -> Self {
        self.sensitive_response = true;
        self
    }

    /// The request URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The operation name.
    pub fn operation_name(&self) -> &str {
        &self.operation
    }

    /// Whether the request is safe to repeat.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// The platform tag.
    pub fn platform_id(&self) -> Option<&PlatformId> {
        self.platform.as_ref()
    }
}

/// A complete response: status, headers and the (size-capped) body.
#[derive(Clone)]
pub struct ApiResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) idempotent: bool,
    pub(crate) sensitive: bool,
    pub(crate) platform: Option<PlatformId>,
}

impl std::fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl ApiResponse {
    /// Builds a response (for transports and tests).
    pub fn new(status: u16, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
            idempotent: true,
            sensitive: false,
            platform: None,
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header as text, when present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body bytes.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Whether the request that produced this response was idempotent.
    pub fn request_was_idempotent(&self) -> bool {
        self.idempotent
    }

    /// Decodes the body as JSON, keeping the JSON path on failure.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if self.sensitive {
            Error::decode_json_secret(&self.body)
        } else {
            Error::decode_json(&self.body)
        }
    }

    /// Passes a 2xx response through; maps anything else to an error by its HTTP status alone.
    ///
    /// Platform crates look at the platform's error envelope first and fall back to this.
    pub fn error_for_status(self) -> Result<Self> {
        if self.is_success() {
            return Ok(self);
        }
        Err(self.status_error())
    }

    /// The error this response's status stands for (its body read as a generic OAuth / JSON
    /// error for the detail).
    pub fn status_error(&self) -> Error {
        self.status_error_with(self.generic_platform_error())
    }

    /// The error this response's status stands for, carrying `detail` (a platform's own
    /// envelope, read by the caller) instead of the generic reading of the body.
    pub fn status_error_with(&self, detail: PlatformError) -> Error {
        let detail = Box::new(detail);
        match self.status {
            401 => Error::ReconnectRequired {
                reason: ReconnectReason::TokenRejected,
                platform: Some(detail),
            },
            403 => Error::MissingScopes {
                missing: Vec::new(),
                platform: Some(detail),
            },
            429 => Error::Throttled {
                retry_after: crate::http::retry::retry_after(
                    &self.headers,
                    std::time::SystemTime::now(),
                ),
                platform: Some(detail),
            },
            400 | 404 | 405 | 409 | 410 | 413 | 415 | 422 => Error::InvalidInput {
                message: detail.message.clone(),
                platform: Some(detail),
            },
            500..=599 if !self.idempotent => Error::MaybeSent {
                message: format!("http {} on a non-idempotent request", self.status),
            },
            500..=599 => Error::Transient {
                message: format!("http {}", self.status),
                platform: Some(detail),
            },
            300..=399 => Error::Platform(Box::new(
                PlatformError::new(self.platform.clone(), "redirect not followed")
                    .with_status(self.status),
            )),
            _ => Error::Platform(detail),
        }
    }

    /// Reads an OAuth-style (`error`, `error_description`) or `message` error from the body.
    fn generic_platform_error(&self) -> PlatformError {
        #[derive(serde::Deserialize)]
        struct Generic {
            error: Option<serde_json::Value>,
            error_description: Option<String>,
            message: Option<String>,
        }
        let mut message = format!("http {}", self.status);
        let mut error_type = None;
        if let Ok(g) = serde_json::from_slice::<Generic>(&self.body) {
            match g.error {
                Some(serde_json::Value::String(s)) => error_type = Some(s),
                Some(serde_json::Value::Object(o)) => {
                    if let Some(m) = o.get("message").and_then(|m| m.as_str()) {
                        message = m.to_owned();
                    }
                }
                _ => {}
            }
            if let Some(d) = g.error_description.or(g.message) {
                message = d;
            }
        }
        let mut err = PlatformError::new(self.platform.clone(), bounded(message, 512))
            .with_status(self.status);
        if let Some(t) = error_type {
            err = err.with_type(t);
        }
        err
    }
}
