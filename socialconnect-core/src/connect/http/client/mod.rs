//! The one HTTP client every SocialConnect call goes through.

mod builder;

pub use builder::HttpClientBuilder;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use tracing::Instrument;

use crate::connect::http::budgets::{self, RateBudgets};
use crate::connect::http::ratelimit::Limiters;
use crate::connect::http::request::{ApiRequest, ApiResponse, Body};
use crate::connect::http::retry::{RetryBudget, RetryPolicy, retry_after};
use crate::connect::http::transport::{
    FailureStage, RequestBody, Transport, TransportError, TransportRequest, TransportResponse,
};
use crate::connect::http::url_policy::check_url;
use crate::error::{Error, PlatformError, Result};
use crate::id::PlatformId;

/// Default cap on a response body.
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// A shared, cheaply clonable HTTP client with SocialConnect's transport rules built in:
/// HTTPS only (loopback excepted), redirects never followed, connect and total timeouts, a
/// response-body cap, safe retries with a budget, client-side rate limits, and a `tracing` span
/// per request.
///
/// Each attempt goes through a [`Transport`]: by default [`HyperTransport`](super::HyperTransport) (hyper over rustls
/// with the `ring` provider, configured without touching process-global state), or one the host
/// gives with [`HttpClientBuilder::transport`] (or, with the `reqwest` feature,
/// [`HttpClientBuilder::reqwest_client`]). Every rule above is applied here, whatever the
/// transport.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    user_agent: http::HeaderValue,
    timeout: Duration,
    body_limit: usize,
    retry: RetryPolicy,
    budget: RetryBudget,
    limiters: Limiters,
    shared: Option<Arc<dyn RateBudgets>>,
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

/// How one attempt failed.
enum Failure {
    /// Certainly before anything was sent (connect failed): always safe to retry.
    BeforeSend(TransportError),
    /// The timeout elapsed; the request may have been processed.
    Timeout,
    /// Failed after the request may have left.
    AfterSend(TransportError),
    /// The response body exceeded the cap.
    TooLarge,
}

impl Failure {
    fn from_transport(e: TransportError) -> Self {
        match e.stage() {
            FailureStage::BeforeSend => Failure::BeforeSend(e),
            FailureStage::Timeout => Failure::Timeout,
            _ => Failure::AfterSend(e),
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
    /// Platform crates call this when usage headers say the limit is near. With
    /// [`HttpClientBuilder::shared_budgets`] every instance pauses.
    pub fn pause_platform(&self, platform: &PlatformId, wait: Duration) {
        self.inner
            .limiters
            .block_until(platform, tokio::time::Instant::now() + wait);
        if let Some(shared) = &self.inner.shared {
            budgets::share_pause(shared, platform, wait);
        }
    }

    /// How long requests for `platform` are still paused.
    pub fn platform_pause(&self, platform: &PlatformId) -> Duration {
        self.inner.limiters.blocked_for(platform)
    }

    /// Today's (UTC) counts against `platform`'s daily budgets
    /// ([`PlatformLimits::per_day`](super::PlatformLimits::per_day)), one per budget and holder (the app, or a connection),
    /// as this process counted them: with [`HttpClientBuilder::shared_budgets`] the counts are
    /// kept there instead, and none here.
    pub fn daily_usage(&self, platform: &PlatformId) -> Vec<super::DailyUsage> {
        self.inner.limiters.daily_usage(platform)
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
            // Every attempt is a call the platform counts.
            let held = self.admit(&req).await?;
            let outcome = self.attempt(&req).await;
            if let (Some(shared), Some(held)) = (&inner.shared, held) {
                budgets::settle(&**shared, held).await;
            }
            span.record("attempts", attempt);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            match outcome {
                Ok(resp) => {
                    span.record("status", resp.status);
                    let wait_hint = retry_after(&resp.headers, SystemTime::now());
                    if let (Some(platform), Some(wait), 429 | 503) =
                        (&req.platform, wait_hint, resp.status)
                    {
                        self.pause_platform(platform, wait);
                    }
                    let retryable = req.idempotent
                        && matches!(resp.status, 429 | 500 | 502 | 503 | 504)
                        && !req.final_answer.is_some_and(|is_final| is_final(&resp));
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

    /// Waits for the local limiters, then counts the attempt against the daily budgets and
    /// windows: through the shared budgets when set (the slots they hold are returned to be
    /// settled), in this process otherwise.
    async fn admit(&self, req: &ApiRequest) -> Result<Option<budgets::Held>> {
        let inner = &*self.inner;
        let (platform, app, conn) = (req.platform.as_ref(), req.app.as_deref(), req.connection);
        let Some((shared, platform)) = inner.shared.as_ref().zip(platform) else {
            inner
                .limiters
                .charge_daily(platform, app, conn, &req.operation)?;
            inner
                .limiters
                .acquire(platform, app, conn, &req.operation)
                .await;
            return Ok(None);
        };
        // Another instance's pause holds here too.
        let pause = budgets::shared_pause(&**shared, platform).await?;
        if pause > inner.retry.max_retry_after {
            return Err(Error::Throttled {
                retry_after: Some(pause),
                platform: None,
            });
        }
        if !pause.is_zero() {
            let until = tokio::time::Instant::now() + pause;
            inner.limiters.block_until(platform, until);
        }
        let op = &req.operation;
        inner.limiters.acquire(Some(platform), app, conn, op).await;
        let Some(limits) = inner.limiters.limits(platform) else {
            return Ok(None);
        };
        let timeout = req.timeout.unwrap_or(inner.timeout);
        let held = budgets::admit(
            &**shared,
            platform,
            limits,
            app,
            conn,
            &req.operation,
            timeout,
        );
        Ok(Some(held.await?))
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
            Failure::BeforeSend(e) => Error::transient(e.message().to_owned()),
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
                message: e.message().to_owned(),
            },
            Failure::AfterSend(e) => Error::transient(e.message().to_owned()),
        }
    }

    /// One attempt under the total timeout.
    async fn attempt(&self, req: &ApiRequest) -> Result<ApiResponse, Failure> {
        let prepared = self.prepare(req).map_err(Failure::from_transport)?;
        let timeout = req.timeout.unwrap_or(self.inner.timeout);
        match tokio::time::timeout(timeout, self.exchange(req, prepared)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// The request exactly as it goes onto the wire.
    fn prepare(&self, req: &ApiRequest) -> Result<TransportRequest, TransportError> {
        let uri = http::Uri::try_from(req.url.as_str())
            .map_err(|_| TransportError::before_send("the URL is not a valid request URI"))?;
        let mut headers = req.headers.clone();
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(http::header::USER_AGENT, self.inner.user_agent.clone());
        }
        let auth = if let Some(token) = &req.bearer {
            Some(format!("Bearer {}", token.expose_secret()))
        } else {
            req.basic.as_ref().map(|(user, secret)| {
                use base64::Engine as _;
                let raw = format!("{user}:{}", secret.expose_secret());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            })
        };
        if let Some(auth) = auth {
            let mut value = http::HeaderValue::try_from(auth).map_err(|_| {
                TransportError::before_send("the credentials are not a valid header value")
            })?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let body = match &req.body {
            Body::Bytes {
                content_type,
                bytes,
            } => {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static(content_type),
                );
                RequestBody::full(bytes.clone())
            }
            Body::Stream(body) => {
                let content_type = http::HeaderValue::try_from(body.content_type())
                    .map_err(|_| TransportError::before_send("invalid body content type"))?;
                headers.insert(http::header::CONTENT_TYPE, content_type);
                headers.insert(http::header::CONTENT_LENGTH, body.length().into());
                RequestBody::stream(body.open())
            }
            Body::Empty => RequestBody::full(Bytes::new()),
        };
        let mut prepared = http::Request::new(body);
        *prepared.method_mut() = req.method.clone();
        *prepared.uri_mut() = uri;
        *prepared.headers_mut() = headers;
        Ok(prepared)
    }

    /// Sends through the transport and reads the body under the cap.
    async fn exchange(
        &self,
        req: &ApiRequest,
        prepared: TransportRequest,
    ) -> Result<ApiResponse, Failure> {
        let limit = self.inner.body_limit;
        let resp = self
            .inner
            .transport
            .send(prepared)
            .await
            .map_err(Failure::from_transport)?;
        let content_length = resp
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if content_length.is_some_and(|len| len > limit as u64) {
            return Err(Failure::TooLarge);
        }
        let TransportResponse {
            status,
            headers,
            body: mut stream,
        } = resp;
        let initial = content_length.unwrap_or(0).min(64 * 1024) as usize;
        let mut body = BytesMut::with_capacity(initial);
        while let Some(chunk) = stream.next_chunk().await {
            let chunk = chunk.map_err(|e| match e.stage() {
                // A body that broke off: the request certainly left.
                FailureStage::BeforeSend => {
                    Failure::AfterSend(TransportError::after_send(e.message().to_owned()))
                }
                _ => Failure::from_transport(e),
            })?;
            if body.len() + chunk.len() > limit {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ApiResponse {
            status: status.as_u16(),
            headers,
            body: body.freeze(),
            idempotent: req.idempotent,
            sensitive: req.sensitive_response,
            platform: req.platform.clone(),
        })
    }
}
