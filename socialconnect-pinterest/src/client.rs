//! The Pinterest client: configuration (client id and secret, the API and sign-in hosts,
//! whether the app predates continuous refresh tokens) and the kit's call path
//! ([`ApiCaller`]) with Pinterest's classifiers, shared by every surface.

use std::sync::Arc;

use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ApiCaller, Error, Result};
use url::Url;

use crate::error::classifiers;

/// How a Pinterest app is configured.
#[derive(Clone)]
pub struct PinterestConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: ClientSecret,
    pub(crate) api_base: Url,
    pub(crate) auth_base: Url,
    pub(crate) legacy_refresh: bool,
}

impl std::fmt::Debug for PinterestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinterestConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("api_base", &self.api_base.as_str())
            .field("legacy_refresh", &self.legacy_refresh)
            .finish_non_exhaustive()
    }
}

impl PinterestConfig {
    /// An app with its client id and secret, talking to `https://api.pinterest.com` and
    /// authorizing at `https://www.pinterest.com`.
    pub fn new(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            api_base: Url::parse("https://api.pinterest.com/").expect("constant URL"),
            auth_base: Url::parse("https://www.pinterest.com/").expect("constant URL"),
            legacy_refresh: false,
        }
    }

    /// Reads `PINTEREST_CLIENT_ID` and `PINTEREST_CLIENT_SECRET`.
    pub fn from_env() -> Result<Self> {
        let var = socialconnect_core::connect::env::required;
        Ok(Self::new(
            var("PINTEREST_CLIENT_ID")?,
            ClientSecret::new(var("PINTEREST_CLIENT_SECRET")?),
        ))
    }

    /// Points the API and token calls elsewhere (a simulator on loopback, say).
    pub fn with_api_base(mut self, base: Url) -> Self {
        self.api_base = base;
        self
    }

    /// Points the authorization dialog elsewhere.
    pub fn with_auth_base(mut self, base: Url) -> Self {
        self.auth_base = base;
        self
    }

    /// An app created before 2025-09-25: its refresh grants carry `continuous_refresh=true`,
    /// so they too get continuous refresh tokens (Pinterest no longer supports the legacy
    /// 365-day token). Apps created since get them without asking (default `false`).
    pub fn with_legacy_refresh(mut self, legacy: bool) -> Self {
        self.legacy_refresh = legacy;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// The client every Pinterest surface goes through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PinterestClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: PinterestConfig,
    http: HttpClient,
    caller: ApiCaller,
}

impl PinterestClient {
    /// A client for `config`, sending through `http` (share the hub's client; give it
    /// [`rate_limits`](crate::rate_limits) for the app's access tier).
    pub fn new(config: PinterestConfig, http: HttpClient) -> Self {
        Self {
            inner: Arc::new(Inner {
                // No deauthorization callback: a 401 code 2 is how a removed app shows.
                caller: ApiCaller::new(classifiers()).marks_rejected_tokens(true),
                config,
                http,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PinterestConfig {
        &self.inner.config
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    pub(crate) fn caller(&self) -> &ApiCaller {
        &self.inner.caller
    }

    /// `{api_base}v5/{path}`; `path` must be built from encoded parts.
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.inner
            .config
            .api_base
            .join(&format!("v5/{path}"))
            .map_err(|_| Error::config("Pinterest API base URL cannot take a path"))
    }

    /// A `/v5/{path}` request named `operation`.
    pub(crate) fn request(
        &self,
        method: http::Method,
        path: &str,
        operation: &'static str,
    ) -> Result<ApiRequest> {
        Ok(ApiRequest::new(method, self.url(path)?)
            .operation(operation)
            .not_retried_when(crate::error::is_anti_spam))
    }
}

/// An id Pinterest handed out, checked before it goes into a path: ASCII letters, digits,
/// `-` and `_`, at most 64 characters.
pub(crate) fn path_id<'a>(what: &str, id: &'a str) -> Result<&'a str> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid_input(format!(
            "a Pinterest {what} id is 1-64 ASCII letters, digits, '-' or '_'"
        )))
    }
}
