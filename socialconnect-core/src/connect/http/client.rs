//! The one HTTP client every SocialConnect call goes through.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use tracing::Instrument;

use super::ratelimit::{Limiters, PlatformLimits};
use super::request::{ApiRequest, ApiResponse, Body};
use super::retry::{RetryBudget, RetryPolicy, retry_after};
use super::url_policy::check_url;
use crate::error::{Error, PlatformError, Result};
use crate::id::PlatformId;

/// Default cap on a response body.
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// A shared, cheaply clonable HTTP client with SocialConnect's transport rules built in:
/// HTTPS only (loopback excepted), redirects never followed, connect and total timeouts, a
/// response-body cap, safe retries with a budget, client-side rate limits, and a `tracing` span
/// per request.
///
/// It wraps a `reqwest::Client` built with rustls and the `ring` provider, configured without
/// touching process-global state (no `CryptoProvider::install_default`).
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    timeout: Duration,
    body_limit: usize,
    retry: RetryPolicy,
    budget: RetryBudget,
    limiters: Limiters,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.inner.timeout)
            .field("body_limit", &self.inner.body_limit)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
#[derive(Debug)]
pub struct HttpClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    body_limit: usize,
    user_agent: String,
    retry: RetryPolicy,
    limits: HashMap<PlatformId, PlatformLimits>,
    tls: Option<rustls::ClientConfig>,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            body_limit: DEFAULT_BODY_LIMIT,
            user_agent: concat!("socialconnect/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            limits: HashMap::new(),
            tls: None,
        }
    }
}

impl HttpClientBuilder {
    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted (default 8 MiB). A larger one fails without being
    /// buffered whole.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Appends the host's product token to the `User-Agent`
    /// (`socialconnect/<version> <suffix>`).
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.user_agent = format!("{} {suffix}", self.user_agent);
        self
    }

    /// Retry policy (default: 3 attempts, 200 ms base back-off, a budget of 500 tokens).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Client-side rate limits for one platform.
    pub fn rate_limits(mut self, platform: PlatformId, limits: PlatformLimits) -> Self {
        self.limits.insert(platform, limits);
        self
    }

    /// Replaces the TLS configuration (for a private CA, say). It must come from the same
    /// `rustls` 0.23 as this crate; ALPN is set here. This puts a `rustls` type in the public
    /// API deliberately: TLS trust is the one thing a host may need to control.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let mut tls = match self.tls {
            Some(tls) => tls,
            None => default_tls()?,
        };
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| Error::config(format!("building the HTTP client: {e}")))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                client,
                timeout: self.timeout,
                body_limit: self.body_limit,
                budget: RetryBudget::new(self.retry.budget_capacity),
                retry: self.retry,
                limiters: Limiters::new(self.limits),
            }),
        })
    }
}

fn default_tls() -> Result<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS protocol versions: {e}")))?
        .with_platform_verifier()
        .map_err(|e| Error::config(format!("TLS certificate verifier: {e}")))?
        .with_no_client_auth();
    Ok(config)
}

/// How one attempt failed.
enum Failure {
    /// Certainly before anything was sent (connect failed): always safe to retry.
    BeforeSend(reqwest::Error),
    /// The timeout elapsed; the request may have been processed.
    Timeout,
    /// Failed after the request may have left.
    AfterSend(reqwest::Error),
    /// The response body exceeded the cap.
    TooLarge,
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_connect() {
            Failure::BeforeSend(e)
        } else if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::AfterSend(e)
        }
    }
}

impl HttpClient {
    /// A builder with the defaults.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// The configured body cap.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// Pauses every request for `platform` until `wait` has passed (the latest pause wins).
    /// Platform crates call this when usage headers say the limit is near.
    pub fn pause_platform(&self, platform: &PlatformId, wait: Duration) {
        self.inner
            .limiters
            .block_until(platform, tokio::time::Instant::now() + wait);
    }

    /// How long requests for `platform` are still paused.
    pub fn platform_pause(&self, platform: &PlatformId) -> Duration {
        self.inner.limiters.blocked_for(platform)
    }

    /// Sends a request, retrying where safe, and returns the final response whatever its
    /// status. Transport failures are errors: `Transient` when nothing can have happened
    /// upstream or the request was idempotent, `MaybeSent` when a non-idempotent request may
    /// have been processed.
    pub async fn send(&self, req: ApiRequest) -> Result<ApiResponse> {
        check_url(&req.url)?;
        let span = tracing::info_span!(
            "socialconnect.http",
            platform = req.platform.as_ref().map(PlatformId::as_str).unwrap_or("-"),
            operation = %req.operation,
            connection = req.connection.map(|c| c.to_string()).unwrap_or_default(),
            method = %req.method,
            path = req.url.path(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        self.send_in_span(req).instrument(span).await
    }

    async fn send_in_span(&self, req: ApiRequest) -> Result<ApiResponse> {
        let inner = &*self.inner;
        let started = std::time::Instant::now();
        let span = tracing::Span::current();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(platform) = &req.platform {
                let pause = inner.limiters.blocked_for(platform);
                if pause > inner.retry.max_retry_after {
                    // The platform asked for a pause longer than a caller should hang for.
                    return Err(Error::Throttled {
                        retry_after: Some(pause),
                        platform: None,
                    });
                }
            }
            inner
                .limiters
                .acquire(req.platform.as_ref(), req.app.as_deref(), req.connection)
                .await;
            let outcome = self.attempt(&req).await;
            span.record("attempts", attempt);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            match outcome {
                Ok(resp) => {
                    span.record("status", resp.status);
                    let wait_hint = retry_after(&resp.headers, SystemTime::now());
                    if let (Some(platform), Some(wait), 429 | 503) =
                        (&req.platform, wait_hint, resp.status)
                    {
                        inner
                            .limiters
                            .block_until(platform, tokio::time::Instant::now() + wait);
                    }
                    let retryable =
                        req.idempotent && matches!(resp.status, 429 | 500 | 502 | 503 | 504);
                    if retryable
                        && attempt < inner.retry.max_attempts
                        && wait_hint.is_none_or(|w| w <= inner.retry.max_retry_after)
                        && inner.budget.try_withdraw(inner.retry.retry_cost)
                    {
                        let wait = inner
                            .retry
                            .backoff(attempt)
                            .max(wait_hint.unwrap_or_default());
                        tracing::debug!(
                            status = resp.status,
                            wait_ms = wait.as_millis() as u64,
                            "retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if resp.is_success() {
                        inner.budget.refund(inner.retry.success_refund);
                    }
                    return Ok(resp);
                }
                Err(failure) => {
                    let safe = matches!(failure, Failure::BeforeSend(_)) || req.idempotent;
                    let cost = match failure {
                        Failure::Timeout => inner.retry.retry_cost * 2,
                        _ => inner.retry.retry_cost,
                    };
                    let retry = safe
                        && !matches!(failure, Failure::TooLarge)
                        && attempt < inner.retry.max_attempts
                        && inner.budget.try_withdraw(cost);
                    if retry {
                        let wait = inner.retry.backoff(attempt);
                        tracing::debug!(
                            wait_ms = wait.as_millis() as u64,
                            "retrying after transport failure"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    tracing::debug!("request failed");
                    return Err(self.failure_error(failure, &req));
                }
            }
        }
    }

    fn failure_error(&self, failure: Failure, req: &ApiRequest) -> Error {
        match failure {
            Failure::TooLarge => Error::Platform(Box::new(PlatformError::new(
                req.platform.clone(),
                format!(
                    "response body exceeds the {}-byte limit",
                    self.inner.body_limit
                ),
            ))),
            Failure::BeforeSend(e) => {
                Error::transient(format!("could not connect: {}", without_url(&e)))
            }
            Failure::Timeout if !req.idempotent => Error::MaybeSent {
                message: format!(
                    "timed out after {:?}",
                    req.timeout.unwrap_or(self.inner.timeout)
                ),
            },
            Failure::Timeout => Error::transient(format!(
                "timed out after {:?}",
                req.timeout.unwrap_or(self.inner.timeout)
            )),
            Failure::AfterSend(e) if !req.idempotent => Error::MaybeSent {
                message: without_url(&e),
            },
            Failure::AfterSend(e) => Error::transient(without_url(&e)),
        }
    }

    async fn attempt(&self, req: &ApiRequest) -> Result<ApiResponse, Failure> {
        let inner = &*self.inner;
        let mut rb = inner
            .client
            .request(req.method.clone(), req.url.clone())
            .headers(req.headers.clone());
        if let Some(token) = &req.bearer {
            rb = rb.bearer_auth(token.expose_secret());
        }
        if let Some((user, secret)) = &req.basic {
            rb = rb.basic_auth(user, Some(secret.expose_secret()));
        }
        match &req.body {
            Body::Empty => {}
            Body::Bytes {
                content_type,
                bytes,
            } => {
                rb = rb
                    .header(http::header::CONTENT_TYPE, *content_type)
                    .body(bytes.clone());
            }
            Body::Stream(body) => {
                rb = rb
                    .header(http::header::CONTENT_TYPE, body.content_type())
                    .header(http::header::CONTENT_LENGTH, body.length())
                    .body(reqwest::Body::wrap_stream(body.open()));
            }
        }
        if let Some(timeout) = req.timeout {
            rb = rb.timeout(timeout);
        }
        let mut resp = rb.send().await.map_err(Failure::from_reqwest)?;
        let limit = inner.body_limit;
        if resp.content_length().is_some_and(|len| len > limit as u64) {
            return Err(Failure::TooLarge);
        }
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let initial = resp.content_length().unwrap_or(0).min(64 * 1024) as usize;
        let mut body = BytesMut::with_capacity(initial);
        while let Some(chunk) = resp.chunk().await.map_err(Failure::from_reqwest)? {
            if body.len() + chunk.len() > limit {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ApiResponse {
            status,
            headers,
            body: body.freeze(),
            idempotent: req.idempotent,
            sensitive: req.sensitive_response,
            platform: req.platform.clone(),
        })
    }
}

/// reqwest's error text without the URL, whose query may hold a token (Meta accepts
/// `access_token` as a query parameter).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    crate::error::bounded(text, 512)
}
