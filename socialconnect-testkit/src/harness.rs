//! [`Harness`]: a [`SocialConnect`] hub over the in-memory stores and a [`ManualClock`], with
//! consent, the whole connect flow and sessions one call each.
//!
//! Every crate's tests need the same hub: memory token, pending-authorization, consent and
//! usage-log stores, an HTTP client with short retry delays, a clock the test moves, a subject
//! and a redirect URI. The harness builds it once; a test adds its platforms and, when it needs
//! more (privacy stores, an age policy…), passes the hub builder through
//! [`HarnessBuilder::configure`].
//!
//! ```no_run
//! # async fn demo(platform: std::sync::Arc<dyn socialconnect_core::platform::Platform>) {
//! use socialconnect_core::id::{PlatformId, Purpose, Scope};
//! use socialconnect_testkit::{Harness, OAuthSimulator};
//!
//! let sim = OAuthSimulator::start().await;
//! let harness = Harness::builder().platform(platform).build();
//! let connected = harness
//!     .connect(&PlatformId::LINKEDIN, &Scope::parse_list("profile"), |url| sim.authorize(url))
//!     .await;
//! let session = harness.session(&connected.key, Purpose::AccountConnection).await;
//! # let _ = session;
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::automation::ActionExecutor;
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryActionStore, MemoryConsentLedger, MemoryPendingAuthStore,
    MemoryTokenStore,
};
use socialconnect_core::platform::Platform;
use socialconnect_core::token::TokenSet;
use socialconnect_core::{
    Connected, RefreshPolicy, Result, Session, SocialConnect, SocialConnectBuilder,
};
use url::Url;

use crate::ManualClock;

/// The subject every harness acts for unless told otherwise.
pub const SUBJECT: &str = "user-42";
/// The redirect URI every harness connects with unless told otherwise.
pub const REDIRECT_URI: &str = "https://host.example/oauth/callback";

/// The HTTP client tests use: a 10 s timeout and retries 5–20 ms apart, so a retried fault
/// costs milliseconds.
///
/// # Panics
///
/// If the client cannot be built (no TLS configuration on this machine).
pub fn test_http_client() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .expect("the test HTTP client builds")
}

/// A hub over memory stores, its clock and stores, a subject and a redirect URI.
///
/// Built with [`Harness::builder`]; the fields are public so a test can inspect or share a
/// store (a second hub over the same `tokens` plays a second process).
#[non_exhaustive]
pub struct Harness {
    /// The hub under test.
    pub hub: SocialConnect,
    /// The clock of the hub and its stores.
    pub clock: Arc<ManualClock>,
    /// The token store.
    pub tokens: Arc<MemoryTokenStore>,
    /// The pending-authorization (state) store.
    pub pending: Arc<MemoryPendingAuthStore>,
    /// The consent ledger.
    pub ledger: Arc<MemoryConsentLedger>,
    /// The usage log, as the hub reads it (behind its write queue, so a read includes every
    /// entry queued before it).
    pub log: Arc<dyn AccessLog>,
    /// The end user the harness acts for ([`SUBJECT`] by default).
    pub subject: SubjectId,
    /// The redirect URI of [`connect`](Self::connect) ([`REDIRECT_URI`] by default).
    pub redirect: Url,
    /// The hub's HTTP client.
    pub http: HttpClient,
    /// The scheduled actions' store (on the harness clock).
    pub actions: Arc<MemoryActionStore>,
}

type Configure = Box<dyn FnOnce(SocialConnectBuilder) -> SocialConnectBuilder>;

/// Configures a [`Harness`]. Every setting has a default.
#[must_use = "a builder does nothing until `build` is called"]
pub struct HarnessBuilder {
    platforms: Vec<Arc<dyn Platform>>,
    clock: Option<Arc<ManualClock>>,
    tokens: Option<Arc<MemoryTokenStore>>,
    ledger: Option<Arc<MemoryConsentLedger>>,
    log: Option<Arc<MemoryAccessLog>>,
    http: Option<HttpClient>,
    refresh: RefreshPolicy,
    configure: Option<Configure>,
    executors: Vec<Arc<dyn ActionExecutor>>,
}

impl std::fmt::Debug for HarnessBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarnessBuilder")
            .field("platforms", &self.platforms.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("hub", &self.hub)
            .field("subject", &self.subject)
            .field("redirect", &self.redirect)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// A builder: no platforms, a new [`ManualClock`] at the current time, new memory stores,
    /// [`test_http_client`], and a refresh policy with a 30 s lease polled every 5 ms.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder {
            platforms: Vec::new(),
            clock: None,
            tokens: None,
            ledger: None,
            log: None,
            http: None,
            refresh: RefreshPolicy::default()
                .with_lease(Duration::from_secs(30), Duration::from_millis(5)),
            configure: None,
            executors: Vec::new(),
        }
    }

    /// Records a consent grant for the harness's subject: `purpose` on `platform` (or on every
    /// platform with `None`), dated by the harness clock.
    ///
    /// # Panics
    ///
    /// When the ledger refuses the event.
    pub async fn grant(&self, purpose: Purpose, platform: Option<&PlatformId>) {
        self.hub
            .record_consent(ConsentEvent::grant(
                self.subject.clone(),
                purpose,
                platform.cloned(),
                self.clock.now(),
            ))
            .await
            .expect("the memory ledger records a grant");
    }

    /// The callback URL the browser arrives at after `browser` played the consent screen on
    /// `authorize_url`: [`redirect`](Self::redirect) with `code` and `state`.
    pub fn callback_url(&self, code: &str, state: &str) -> Url {
        let mut url = self.redirect.clone();
        url.query_pairs_mut()
            .append_pair("code", code)
            .append_pair("state", state);
        url
    }

    /// Consent for account connection on `platform`, then the whole flow: `connect`, the
    /// browser step (`browser` takes the authorize URL and returns the redirect's `(code,
    /// state)`, e.g. `|url| sim.authorize(url)`), and `complete_callback`.
    ///
    /// # Panics
    ///
    /// When any step fails; [`try_connect`](Self::try_connect) returns the completion's error.
    pub async fn connect(
        &self,
        platform: &PlatformId,
        scopes: &[Scope],
        browser: impl FnOnce(&Url) -> (String, String),
    ) -> Connected {
        match self.try_connect(platform, scopes, browser).await {
            Ok(connected) => connected,
            Err(e) => panic!("connecting {platform} failed: {e}"),
        }
    }

    /// Like [`connect`](Self::connect), returning the error of `connect` or of the callback's
    /// completion.
    pub async fn try_connect(
        &self,
        platform: &PlatformId,
        scopes: &[Scope],
        browser: impl FnOnce(&Url) -> (String, String),
    ) -> Result<Connected> {
        self.grant(Purpose::AccountConnection, Some(platform)).await;
        let auth = self
            .hub
            .connect(&self.subject, platform, scopes, &self.redirect)
            .await?;
        let (code, state) = browser(&auth.url);
        let callback = self.callback_url(&code, &state);
        self.hub
            .complete_callback(&self.subject, &self.redirect, callback.as_str())
            .await
    }

    /// A session on `key` for `purpose`, recording consent for `purpose` on the key's platform
    /// first.
    ///
    /// # Panics
    ///
    /// When the hub refuses the session; [`try_session`](Self::try_session) returns the error.
    pub async fn session(&self, key: &ConnectionKey, purpose: Purpose) -> Session {
        match self.try_session(key, purpose).await {
            Ok(session) => session,
            Err(e) => panic!("no session on {}: {e}", key.platform),
        }
    }

    /// Like [`session`](Self::session), returning the hub's error.
    pub async fn try_session(&self, key: &ConnectionKey, purpose: Purpose) -> Result<Session> {
        self.grant(purpose, Some(&key.platform)).await;
        self.hub.session(key, purpose).await
    }

    /// Stores `tokens` as a new connection of the subject on `platform`, skipping the OAuth
    /// flow, and opens a session for `purpose` on it (consent for account connection and
    /// `purpose` recorded).
    ///
    /// # Panics
    ///
    /// When the store or the hub refuses.
    pub async fn session_with_tokens(
        &self,
        platform: &PlatformId,
        tokens: &TokenSet,
        purpose: Purpose,
    ) -> Session {
        match self
            .try_session_with_tokens(platform, tokens, purpose)
            .await
        {
            Ok(session) => session,
            Err(e) => panic!("no session on {platform}: {e}"),
        }
    }

    /// Like [`session_with_tokens`](Self::session_with_tokens), returning the hub's error
    /// (tokens that cannot be refreshed, say).
    ///
    /// # Panics
    ///
    /// When the memory store refuses the tokens.
    pub async fn try_session_with_tokens(
        &self,
        platform: &PlatformId,
        tokens: &TokenSet,
        purpose: Purpose,
    ) -> Result<Session> {
        let key = ConnectionKey::new(
            self.subject.clone(),
            platform.clone(),
            ConnectionId::generate(),
        );
        self.hub
            .token_store()
            .put(&key, tokens, None)
            .await
            .expect("the memory token store stores");
        self.grant(Purpose::AccountConnection, Some(platform)).await;
        self.try_session(&key, purpose).await
    }
}

impl HarnessBuilder {
    /// Registers a platform with the hub.
    pub fn platform(mut self, platform: Arc<dyn Platform>) -> Self {
        self.platforms.push(platform);
        self
    }

    /// The clock of the hub and the stores; pass the simulator's clock so that moving it
    /// expires tokens on both sides.
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The token store (shared between harnesses to play several processes).
    pub fn tokens(mut self, tokens: Arc<MemoryTokenStore>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The consent ledger.
    pub fn ledger(mut self, ledger: Arc<MemoryConsentLedger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The usage log.
    pub fn log(mut self, log: Arc<MemoryAccessLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// The hub's HTTP client (default [`test_http_client`]).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The refresh policy.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh = policy;
        self
    }

    /// Registers a platform's action executor on the hub.
    pub fn executor(mut self, executor: Arc<dyn ActionExecutor>) -> Self {
        self.executors.push(executor);
        self
    }

    /// Passes the hub builder through `configure` last (privacy stores, age policy, alerts…).
    pub fn configure(
        mut self,
        configure: impl FnOnce(SocialConnectBuilder) -> SocialConnectBuilder + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// Builds the hub.
    ///
    /// # Panics
    ///
    /// When the hub builder refuses the configuration.
    pub fn build(self) -> Harness {
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(ManualClock::new(Utc::now())));
        let tokens = self
            .tokens
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::with_clock(clock.clone())));
        let ledger = self
            .ledger
            .unwrap_or_else(|| Arc::new(MemoryConsentLedger::with_clock(clock.clone())));
        let log = self.log.unwrap_or_else(|| Arc::new(MemoryAccessLog::new()));
        let pending = Arc::new(MemoryPendingAuthStore::new());
        let http = self.http.unwrap_or_else(test_http_client);
        let mut builder = SocialConnect::builder()
            .http(http.clone())
            .token_store(tokens.clone())
            .pending_store(pending.clone())
            .consent_ledger(ledger.clone())
            .access_log(log.clone())
            .clock(clock.clone())
            .refresh_policy(self.refresh);
        for platform in self.platforms {
            builder = builder.platform(platform);
        }
        let actions = Arc::new(MemoryActionStore::with_clock(clock.clone()));
        builder = builder.actions(actions.clone());
        for executor in self.executors {
            builder = builder.executor(executor);
        }
        if let Some(configure) = self.configure {
            builder = configure(builder);
        }
        let hub = match builder.build() {
            Ok(hub) => hub,
            Err(e) => panic!("the harness hub does not build: {e}"),
        };
        Harness {
            log: hub.access_log().clone(),
            hub,
            clock,
            tokens,
            pending,
            ledger,
            subject: SubjectId::new(SUBJECT).expect("a valid subject id"),
            redirect: Url::parse(REDIRECT_URI).expect("a valid redirect URI"),
            http,
            actions,
        }
    }
}
