//! The Meta client: configuration, the Graph base URL with its pinned version, `appsecret_proof`,
//! and the kit's call path ([`ApiCaller`]) set up with Meta's usage headers and Graph error
//! table, shared by every product surface.

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde::de::DeserializeOwned;
use socialconnect_core::connect::classify::Classifiers;
use socialconnect_core::http::UsagePolicy;
use socialconnect_core::http::{ApiRequest, ApiResponse, HttpClient};
use socialconnect_core::id::PlatformId;
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::{ApiCaller, Error, Result, Session};
use url::Url;

use crate::error::graph_errors;
use crate::ratelimit::MetaUsage;
use crate::version::GRAPH_API_VERSION;

/// How a Meta app is configured.
#[derive(Clone)]
pub struct MetaConfig {
    pub(crate) app_id: String,
    pub(crate) app_secret: ClientSecret,
    pub(crate) graph_base: Url,
    pub(crate) dialog_base: Url,
    pub(crate) version: String,
    pub(crate) appsecret_proof: bool,
    pub(crate) usage_threshold: f64,
    pub(crate) default_pause: Duration,
}

impl std::fmt::Debug for MetaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaConfig")
            .field("app_id", &self.app_id)
            .field("app_secret", &self.app_secret)
            .field("graph_base", &self.graph_base.as_str())
            .field("version", &self.version)
            .field("appsecret_proof", &self.appsecret_proof)
            .finish_non_exhaustive()
    }
}

impl MetaConfig {
    /// An app with its id and secret, talking to `https://graph.facebook.com` at
    /// [`GRAPH_API_VERSION`], sending `appsecret_proof` on every call.
    pub fn new(app_id: impl Into<String>, app_secret: ClientSecret) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret,
            graph_base: Url::parse("https://graph.facebook.com/").expect("constant URL"),
            dialog_base: Url::parse("https://www.facebook.com/").expect("constant URL"),
            version: GRAPH_API_VERSION.to_owned(),
            appsecret_proof: true,
            usage_threshold: 90.0,
            default_pause: Duration::from_secs(60),
        }
    }

    /// Reads `META_APP_ID` and `META_APP_SECRET`; a clear `Config` error names a missing one.
    pub fn from_env() -> Result<Self> {
        let var = socialconnect_core::connect::env::required;
        Ok(Self::new(
            var("META_APP_ID")?,
            ClientSecret::new(var("META_APP_SECRET")?),
        ))
    }

    /// Points the Graph API calls elsewhere (a simulator on loopback, say).
    pub fn with_graph_base(mut self, base: Url) -> Self {
        self.graph_base = base;
        self
    }

    /// Points the login dialog elsewhere.
    pub fn with_dialog_base(mut self, base: Url) -> Self {
        self.dialog_base = base;
        self
    }

    /// Overrides the pinned Graph API version (`v25.0`, say).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Whether to send `appsecret_proof` (required when the app enables "Require App Secret";
    /// default on).
    pub fn with_appsecret_proof(mut self, on: bool) -> Self {
        self.appsecret_proof = on;
        self
    }

    /// Pause calls once a usage header reaches `percent` (default 90), for `default_pause`
    /// when Meta gives no regain time (default 60 s).
    pub fn with_usage_threshold(mut self, percent: f64, default_pause: Duration) -> Self {
        self.usage_threshold = percent;
        self.default_pause = default_pause;
        self
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The pinned or overridden Graph version.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// The client every Meta surface goes through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MetaClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: MetaConfig,
    pub(crate) http: HttpClient,
    pub(crate) caller: ApiCaller,
}

/// Checks that an id from outside is a plain path segment (digits, letters, `_`, `.`, `-`),
/// so it cannot change the request path or query.
pub(crate) fn segment(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid_input("not a valid Graph object id"))
    }
}

impl MetaClient {
    /// A client for `config`, sending through `http` (share the hub's client so rate limits
    /// and the retry budget are common).
    pub fn new(config: MetaConfig, http: HttpClient) -> Self {
        let policy = UsagePolicy {
            threshold: config.usage_threshold,
            default_pause: config.default_pause,
        };
        let app_id = config.app_id.clone();
        let proof_key = config.appsecret_proof.then(|| config.app_secret.clone());
        let caller = ApiCaller::new(Classifiers::new().with(graph_errors().clone()))
            .usage_headers(MetaUsage, policy)
            .authorizer(move |req, token| {
                let req = req.bearer(token.clone()).app(app_id.clone());
                match &proof_key {
                    // As a query parameter: some POST bodies ignore it.
                    Some(secret) => req.query(&[("appsecret_proof", proof(secret, token))]),
                    None => req,
                }
            });
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                caller,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MetaConfig {
        &self.inner.config
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// `{graph base}/{version}/{path}`; `path` must be built from checked segments.
    pub(crate) fn graph_url(&self, path: &str) -> Result<Url> {
        let c = &self.inner.config;
        c.graph_base
            .join(&format!("{}/{}", c.version, path))
            .map_err(|_| Error::config("Graph base URL cannot take a path"))
    }

    /// The login dialog URL.
    pub(crate) fn dialog_url(&self) -> Result<Url> {
        let c = &self.inner.config;
        c.dialog_base
            .join(&format!("{}/dialog/oauth", c.version))
            .map_err(|_| Error::config("dialog base URL cannot take a path"))
    }

    /// `hex(HMAC-SHA256(app_secret, access_token))`.
    pub fn appsecret_proof(&self, token: &AccessToken) -> String {
        proof(&self.inner.config.app_secret, token)
    }

    /// Adds the bearer token and, when enabled, its `appsecret_proof`.
    pub(crate) fn authorize(&self, req: ApiRequest, token: &AccessToken) -> ApiRequest {
        self.inner.caller.authorize(req, token)
    }

    /// Sends through a session (logged in the usage log) with `token` (the session's own, or a
    /// Page token derived from it), applies the usage back-off and maps errors.
    pub(crate) async fn call(
        &self,
        session: &Session,
        token: Option<&AccessToken>,
        req: ApiRequest,
    ) -> Result<ApiResponse> {
        let token = token.unwrap_or(session.access_token());
        self.inner.caller.send_as(session, token, req).await
    }

    /// [`MetaClient::call`] and decode the JSON body.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        session: &Session,
        token: Option<&AccessToken>,
        req: ApiRequest,
    ) -> Result<T> {
        self.call(session, token, req).await?.json()
    }

    /// A write that must never be sent twice (see [`ApiCaller::send_write`]).
    pub(crate) async fn call_write<T: DeserializeOwned>(
        &self,
        session: &Session,
        token: Option<&AccessToken>,
        req: ApiRequest,
    ) -> Result<T> {
        let token = token.unwrap_or(session.access_token());
        self.inner.caller.send_write_as(session, token, req).await
    }

    /// Sends an app-level request (token exchange, `debug_token`) outside any session.
    pub(crate) async fn call_app(
        &self,
        platform: &PlatformId,
        req: ApiRequest,
    ) -> Result<ApiResponse> {
        let req = req.app(self.inner.config.app_id.clone());
        self.inner
            .caller
            .send_app(&self.inner.http, platform, req)
            .await
    }
}

/// `hex(HMAC-SHA256(secret, token))`.
fn proof(secret: &ClientSecret, token: &AccessToken) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(token.expose_secret().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_is_hmac_sha256_hex() {
        let c = MetaClient::new(
            MetaConfig::new("1", ClientSecret::new("secret")),
            HttpClient::builder().build().unwrap(),
        );
        // python3 -c "import hmac,hashlib;print(hmac.new(b'secret',b'token',hashlib.sha256).hexdigest())"
        assert_eq!(
            c.appsecret_proof(&AccessToken::new("token")),
            "e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a"
        );
    }

    #[test]
    fn segments_refuse_path_tricks() {
        for bad in ["", "1/2", "1?x=1", "..%2f", "a b", &"9".repeat(200)] {
            assert!(segment(bad).is_err(), "{bad}");
        }
        assert_eq!(segment("123_456").unwrap(), "123_456");
    }
}
