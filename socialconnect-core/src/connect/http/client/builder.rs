//! Building an [`HttpClient`]: timeouts, body cap, retries, rate limits, shared budgets, TLS and
//! the transport.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{DEFAULT_BODY_LIMIT, HttpClient, Inner};
use crate::connect::http::budgets::RateBudgets;
use crate::connect::http::hyper_transport::{HyperTransport, default_tls};
use crate::connect::http::ratelimit::{Limiters, PlatformLimits};
use crate::connect::http::retry::{RetryBudget, RetryPolicy};
use crate::connect::http::transport::Transport;
use crate::error::{Error, Result};
use crate::id::PlatformId;

/// Builds an [`HttpClient`].
pub struct HttpClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    body_limit: usize,
    user_agent: String,
    retry: RetryPolicy,
    limits: HashMap<PlatformId, PlatformLimits>,
    tls: Option<rustls::ClientConfig>,
    transport: Option<Arc<dyn Transport>>,
    shared: Option<Arc<dyn RateBudgets>>,
}

impl std::fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("body_limit", &self.body_limit)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("custom_transport", &self.transport.is_some())
            .field("shared_budgets", &self.shared.is_some())
            .finish_non_exhaustive()
    }
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
            transport: None,
            shared: None,
        }
    }
}

impl HttpClientBuilder {
    /// Time the default transport allows to establish a connection (default 10 s). A transport
    /// given with [`HttpClientBuilder::transport`] keeps its own setting.
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

    /// Counts the limits of [`rate_limits`](Self::rate_limits) that are numbers of calls —
    /// the documented windows ([`PlatformLimits::per_operation`],
    /// [`PlatformLimits::per_app_operation`]), the app's and a connection's steady rate (as
    /// `per_second` calls a second) and the daily budgets — in `budgets`, which every instance
    /// of the host shares, so all of them together stay under each limit. The local limiters
    /// still smooth bursts in this process. A platform's pause (`Retry-After` on a 429 or 503,
    /// usage headers near the limit) is recorded there too, and every instance waits it out.
    ///
    /// A host on PostgreSQL passes its store: `Arc::new(store.clone())` where `store` is the
    /// `socialconnect_store::EncryptedStore` it opened. Each call to a platform then costs a
    /// round trip to read its pause, and two per window (admit, settle). When the store cannot be reached, calls fail with its
    /// error (kind [`Storage`](crate::ErrorKind::Storage)) instead of being sent: falling back
    /// to this process's count would let every instance spend the whole limit. Without this,
    /// every limit is counted in this process.
    pub fn shared_budgets(mut self, budgets: Arc<dyn RateBudgets>) -> Self {
        self.shared = Some(budgets);
        self
    }

    /// Replaces the default transport's TLS configuration (for a private CA, say). It must come
    /// from the same `rustls` 0.23 as this crate; ALPN is set here. Ignored when a transport is
    /// given with [`HttpClientBuilder::transport`]. This puts a `rustls` type in the public
    /// API deliberately: TLS trust is the one thing a host may need to control.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Sends every attempt through `transport` instead of the default [`HyperTransport`]: a
    /// host's own client, or a closure in tests (see [`Transport`]). The client's rules (HTTPS
    /// only, body cap, retries, rate limits, total timeout) still apply on top of it.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Sends every attempt through a `reqwest::Client` the host built (its TLS, proxy and pool
    /// settings). Build it with `redirect(reqwest::redirect::Policy::none())`; a followed
    /// redirect is refused.
    #[cfg(feature = "reqwest")]
    pub fn reqwest_client(self, client: reqwest::Client) -> Self {
        self.transport(client)
    }

    /// Builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let transport: Arc<dyn Transport> = match self.transport {
            Some(t) => t,
            None => {
                let tls = match self.tls {
                    Some(tls) => tls,
                    None => default_tls()?,
                };
                Arc::new(HyperTransport::with_tls(tls, self.connect_timeout))
            }
        };
        let user_agent = http::HeaderValue::try_from(self.user_agent)
            .map_err(|_| Error::config("the User-Agent suffix is not a valid header value"))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                transport,
                user_agent,
                timeout: self.timeout,
                body_limit: self.body_limit,
                budget: RetryBudget::new(self.retry.budget_capacity),
                retry: self.retry,
                limiters: Limiters::new(self.limits),
                shared: self.shared,
            }),
        })
    }
}
