//! The TikTok client: configuration (client key and secret, the API and login hosts, the app
//! kind that decides PKCE) and the kit's call path ([`ApiCaller`]) set up with TikTok's error
//! table, shared by the Display API and Content Posting surfaces.

use std::sync::Arc;

use socialconnect_core::connect::classify::Classifiers;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{Purpose, Scope};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ApiCaller, Error, Result, Session};
use url::Url;

use crate::error::api_errors;

/// What kind of app the client key belongs to. TikTok requires PKCE for desktop and mobile
/// apps only; web apps authenticate with the client secret alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppKind {
    /// A server-side web app: no PKCE.
    Web,
    /// A desktop app (loopback redirect): PKCE required.
    Desktop,
    /// A mobile app: PKCE required.
    Mobile,
}

/// How a TikTok app is configured.
#[derive(Clone)]
pub struct TikTokConfig {
    pub(crate) client_key: String,
    pub(crate) client_secret: ClientSecret,
    pub(crate) api_base: Url,
    pub(crate) auth_base: Url,
    pub(crate) app_kind: AppKind,
    pub(crate) audited: bool,
}

impl std::fmt::Debug for TikTokConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokConfig")
            .field("client_key", &self.client_key)
            .field("client_secret", &self.client_secret)
            .field("api_base", &self.api_base.as_str())
            .field("app_kind", &self.app_kind)
            .field("audited", &self.audited)
            .finish_non_exhaustive()
    }
}

impl TikTokConfig {
    /// A web app with its client key and secret, talking to `https://open.tiktokapis.com` and
    /// authorizing at `https://www.tiktok.com`.
    pub fn new(client_key: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self {
            client_key: client_key.into(),
            client_secret,
            api_base: Url::parse("https://open.tiktokapis.com/").expect("constant URL"),
            auth_base: Url::parse("https://www.tiktok.com/").expect("constant URL"),
            app_kind: AppKind::Web,
            audited: false,
        }
    }

    /// Reads `TIKTOK_CLIENT_KEY` and `TIKTOK_CLIENT_SECRET`; a clear `Config` error names a
    /// missing one.
    pub fn from_env() -> Result<Self> {
        let var = socialconnect_core::connect::env::required;
        Ok(Self::new(
            var("TIKTOK_CLIENT_KEY")?,
            ClientSecret::new(var("TIKTOK_CLIENT_SECRET")?),
        ))
    }

    /// Points the API (and token) calls elsewhere (a simulator on loopback, say).
    pub fn with_api_base(mut self, base: Url) -> Self {
        self.api_base = base;
        self
    }

    /// Points the authorization page elsewhere.
    pub fn with_auth_base(mut self, base: Url) -> Self {
        self.auth_base = base;
        self
    }

    /// The kind of app (default [`AppKind::Web`]); desktop and mobile apps send PKCE.
    pub fn with_app_kind(mut self, kind: AppKind) -> Self {
        self.app_kind = kind;
        self
    }

    /// Whether TikTok has audited the app for Content Posting (default `false`).
    ///
    /// TikTok lets an unaudited app post only with the `SELF_ONLY` privacy level (the post is
    /// visible to its creator alone), and refuses anything else with
    /// `unaudited_client_can_only_post_to_private_accounts`. Until the host says its app
    /// passed TikTok's audit, the client refuses any other level itself, before calling
    /// TikTok; call `with_audited(true)` once the audit has passed.
    pub fn with_audited(mut self, audited: bool) -> Self {
        self.audited = audited;
        self
    }

    /// Whether the host said its app passed TikTok's Content Posting audit.
    pub fn is_audited(&self) -> bool {
        self.audited
    }

    /// The client key.
    pub fn client_key(&self) -> &str {
        &self.client_key
    }

    /// The app kind.
    pub fn app_kind(&self) -> AppKind {
        self.app_kind
    }
}

/// The client every TikTok surface goes through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TikTokClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: TikTokConfig,
    pub(crate) http: HttpClient,
    pub(crate) caller: ApiCaller,
}

impl TikTokClient {
    /// A client for `config`, sending through `http` (share the hub's client so rate limits
    /// and the retry budget are common; give it [`rate_limits`](crate::rate_limits) for
    /// TikTok's documented windows).
    pub fn new(config: TikTokConfig, http: HttpClient) -> Self {
        let caller = ApiCaller::new(Classifiers::new().with(api_errors().clone()));
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                caller,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TikTokConfig {
        &self.inner.config
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The kit's call path, set up for TikTok's envelope.
    pub(crate) fn caller(&self) -> &ApiCaller {
        &self.inner.caller
    }

    /// `{api base}/{path}` (`path` without a leading slash, e.g. `v2/user/info/`).
    pub(crate) fn api_url(&self, path: &str) -> Result<Url> {
        self.inner
            .config
            .api_base
            .join(path)
            .map_err(|_| Error::config("TikTok API base URL cannot take a path"))
    }
}

/// Refuses, before any request, a session whose grant lacks one of `needed` (TikTok users may
/// grant fewer scopes than asked; the granted list is what the token response said).
pub(crate) fn require_scopes(session: &Session, needed: &[&str]) -> Result<()> {
    let granted = &session.tokens().scopes;
    let missing: Vec<Scope> = needed
        .iter()
        .filter(|n| !granted.iter().any(|g| g.as_str() == **n))
        .filter_map(|n| Scope::new(*n).ok())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingScopes {
            missing,
            platform: None,
        })
    }
}

/// Refuses a session opened for another purpose than one of `allowed`.
pub(crate) fn require_purpose(session: &Session, allowed: &[Purpose]) -> Result<()> {
    if allowed.contains(&session.purpose()) {
        Ok(())
    } else {
        Err(Error::ConsentRequired {
            purpose: allowed[0],
            platform: session.key().platform.clone(),
        })
    }
}
