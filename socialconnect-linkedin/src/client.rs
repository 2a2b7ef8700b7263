//! The LinkedIn client: configuration (client id and secret, the API and login hosts, the
//! pinned `LinkedIn-Version`, whether the app is a native one that may use PKCE) and the kit's
//! call path ([`ApiCaller`]) with LinkedIn's classifiers, shared by every surface.

use std::sync::Arc;

use socialconnect_core::connect::classify::Classifiers;
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ApiCaller, Error, Result};
use url::Url;

use crate::error::{api_errors, day_limit, sunset_version};
use crate::version::{LINKEDIN_VERSION, is_well_formed};

/// The Rest.li protocol version every `/rest/*` call declares.
pub const RESTLI_PROTOCOL_VERSION: &str = "2.0.0";

/// How a LinkedIn app is configured.
#[derive(Clone)]
pub struct LinkedInConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: ClientSecret,
    pub(crate) api_base: Url,
    pub(crate) auth_base: Url,
    pub(crate) version: String,
    pub(crate) native_app: bool,
}

impl std::fmt::Debug for LinkedInConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("api_base", &self.api_base.as_str())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl LinkedInConfig {
    /// A web app with its client id and secret, talking to `https://api.linkedin.com` and
    /// authorizing at `https://www.linkedin.com`, at [`LINKEDIN_VERSION`].
    pub fn new(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            api_base: Url::parse("https://api.linkedin.com/").expect("constant URL"),
            auth_base: Url::parse("https://www.linkedin.com/").expect("constant URL"),
            version: LINKEDIN_VERSION.to_owned(),
            native_app: false,
        }
    }

    /// Reads `LINKEDIN_CLIENT_ID` and `LINKEDIN_CLIENT_SECRET`.
    pub fn from_env() -> Result<Self> {
        let var = socialconnect_core::connect::env::required;
        Ok(Self::new(
            var("LINKEDIN_CLIENT_ID")?,
            ClientSecret::new(var("LINKEDIN_CLIENT_SECRET")?),
        ))
    }

    /// Points the API calls elsewhere (a simulator on loopback, say).
    pub fn with_api_base(mut self, base: Url) -> Self {
        self.api_base = base;
        self
    }

    /// Points the authorization and token endpoints elsewhere.
    pub fn with_auth_base(mut self, base: Url) -> Self {
        self.auth_base = base;
        self
    }

    /// Overrides the pinned `LinkedIn-Version` (`YYYYMM`).
    ///
    /// # Errors
    ///
    /// `Config` for anything but a `YYYYMM` month.
    pub fn with_version(mut self, version: &str) -> Result<Self> {
        if !is_well_formed(version) {
            return Err(Error::config(
                "LinkedIn-Version must be YYYYMM, e.g. 202611",
            ));
        }
        self.version = version.to_owned();
        Ok(self)
    }

    /// A native app LinkedIn enabled for PKCE (loopback redirect); web apps use the secret
    /// alone (default).
    pub fn with_native_app(mut self, native: bool) -> Self {
        self.native_app = native;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `LinkedIn-Version` sent.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// The client every LinkedIn surface goes through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LinkedInClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: LinkedInConfig,
    pub(crate) http: HttpClient,
    pub(crate) caller: ApiCaller,
}

impl LinkedInClient {
    /// A client for `config`, sending through `http` (share the hub's client).
    pub fn new(config: LinkedInConfig, http: HttpClient) -> Self {
        let classifiers = Classifiers::new()
            .with(sunset_version(config.version.clone()))
            .with(day_limit)
            .with(api_errors().clone());
        Self {
            inner: Arc::new(Inner {
                caller: ApiCaller::new(classifiers),
                config,
                http,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LinkedInConfig {
        &self.inner.config
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    pub(crate) fn caller(&self) -> &ApiCaller {
        &self.inner.caller
    }

    /// A `/rest/{path_and_query}` request with the version headers. `path_and_query` must be
    /// built from encoded parts ([`Urn::path_segment`](crate::Urn::path_segment),
    /// [`restli_value`](crate::urn::restli_value)).
    pub(crate) fn rest(&self, method: http::Method, path_and_query: &str) -> Result<ApiRequest> {
        let url = self
            .inner
            .config
            .api_base
            .join(&format!("rest/{path_and_query}"))
            .map_err(|_| Error::config("LinkedIn API base URL cannot take a path"))?;
        ApiRequest::new(method, url)
            .header("linkedin-version", &self.inner.config.version)?
            .header("x-restli-protocol-version", RESTLI_PROTOCOL_VERSION)
    }
}
