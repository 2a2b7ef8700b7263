//! [`OAuthSimulator`]: an OAuth 2.0 provider (RFC 6749 code grant with PKCE, refresh with
//! rotation, RFC 7009 revocation, a userinfo endpoint) on a loopback wiremock server.

mod builder;
mod client_auth;
mod limit;
mod provider;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use url::Url;
use wiremock::MockServer;

use crate::catch_all::UnexpectedRequest;
use crate::sim::{self, SimOptions, SimServer};

pub use builder::{OAuthSettings, OAuthSimulatorBuilder};
pub use client_auth::ClientAuth;

pub(crate) use provider::TokenState;
pub(crate) use provider::new_log_id;
pub use provider::pkce_s256;

/// The refusal of the browser step, shared by every simulator.
pub use crate::sim::AuthorizeError;

/// The scopes of a valid access token, `None` for an unknown, expired or revoked one.
pub(crate) type ScopeCheck = Arc<dyn Fn(&str) -> Option<Vec<String>> + Send + Sync>;

/// The state of an access token, for simulators whose platform tells an expired or revoked
/// token from an unknown one.
pub(crate) type TokenCheck = Arc<dyn Fn(&str) -> TokenState + Send + Sync>;
use provider::{AuthorizeOutcome, Provider};

/// A simulated OAuth 2.0 provider on a loopback [`MockServer`].
///
/// Endpoints (paths configurable on the [builder](OAuthSimulatorBuilder)):
///
/// | endpoint | does |
/// |---|---|
/// | `GET /oauth/authorize` | checks client id, redirect URI, `state`, `response_type=code`; records the PKCE challenge; answers `302` to `{redirect_uri}?code=..&state=..` |
/// | `POST /oauth/token` | `authorization_code` (single-use code, same redirect URI, PKCE `S256`/`plain`) and `refresh_token` (rotation optional); client auth by HTTP Basic or body |
/// | `POST /oauth/revoke` | RFC 7009; revoking a refresh token revokes its grant's access tokens |
/// | `GET /me` | `{"id", "name"}` for a valid bearer token, else `401 {"error":"invalid_token"}` (not mounted with [`serve_userinfo(false)`](OAuthSimulatorBuilder::serve_userinfo)) |
///
/// Failures answer RFC 6749 error JSON (`invalid_grant`, `invalid_client`, `invalid_request`,
/// ...). Every other request hits a [`CatchAll`](crate::CatchAll): it is answered `599` and the simulator panics
/// when dropped (or on [`assert_no_unexpected`](Self::assert_no_unexpected)) naming it, e.g.
/// `unexpected request: GET /foo`.
///
/// All state is behind one lock and each request does its work under it, so the counters are
/// exact under any concurrency.
///
/// ```no_run
/// # async fn demo() {
/// use socialconnect_testkit::OAuthSimulator;
///
/// let sim = OAuthSimulator::builder().rotate_refresh_tokens(true).start().await;
/// // Build the authorize URL with the code under test, then play the browser:
/// # let authorize_url = sim.authorize_url();
/// let (code, state) = sim.authorize(&authorize_url);
/// // ... exchange `code` with the code under test against `sim.token_url()` ...
/// assert_eq!(sim.exchange_requests(), 1);
/// # }
/// ```
#[derive(Debug)]
pub struct OAuthSimulator {
    sim: SimServer,
    provider: Arc<Provider>,
}

impl OAuthSimulator {
    /// A builder for a simulator with non-default settings.
    pub fn builder() -> OAuthSimulatorBuilder {
        OAuthSimulatorBuilder::default()
    }

    /// Starts a simulator with the default settings (see [`OAuthSimulatorBuilder`]).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub(crate) async fn start_with(options: SimOptions, settings: OAuthSettings) -> Self {
        let sim = SimServer::start().await;
        let provider = Arc::new(Provider::new(options, settings));
        routes::mount(sim.server(), &provider).await;
        Self { sim, provider }
    }

    // ---- addresses -------------------------------------------------------------------------

    /// The server's root, e.g. `http://127.0.0.1:41234/`.
    pub fn base_url(&self) -> Url {
        self.sim.base_url()
    }

    /// The authorize endpoint's URL.
    pub fn authorize_url(&self) -> Url {
        self.endpoint(&self.provider.config().authorize_path)
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> Url {
        self.endpoint(&self.provider.config().token_path)
    }

    /// The revocation endpoint's URL.
    pub fn revoke_url(&self) -> Url {
        self.endpoint(&self.provider.config().revoke_path)
    }

    /// The userinfo endpoint's URL.
    pub fn userinfo_url(&self) -> Url {
        self.endpoint(&self.provider.config().userinfo_path)
    }

    fn endpoint(&self, path: &str) -> Url {
        self.sim.url(path)
    }

    /// The underlying server, to mount a platform's own API mocks beside the OAuth endpoints.
    /// Mocks mounted there take precedence over the catch-all; one mounted with
    /// `with_priority(1)` also overrides a simulator endpoint.
    pub fn server(&self) -> &MockServer {
        self.sim.server()
    }

    /// The client id the provider accepts.
    pub fn client_id(&self) -> &str {
        &self.provider.config().client_id
    }

    /// The client secret the provider accepts.
    pub fn client_secret(&self) -> &str {
        &self.provider.config().client_secret
    }

    /// The account id the userinfo endpoint answers.
    pub fn account_id(&self) -> &str {
        &self.provider.config().account_id
    }

    // ---- the browser step ------------------------------------------------------------------

    /// Does what the browser and the consenting user would: sends `authorize_url` through the
    /// same checks as `GET /oauth/authorize` and returns the `(code, state)` the redirect would
    /// carry, without an HTTP round trip.
    ///
    /// # Panics
    ///
    /// When the provider refuses the request; [`try_authorize`](Self::try_authorize) returns the
    /// refusal instead.
    #[track_caller]
    pub fn authorize(&self, authorize_url: &Url) -> (String, String) {
        match self.try_authorize(authorize_url) {
            Ok(grant) => grant,
            Err(e) => panic!("OAuthSimulator refused the authorization request: {e}"),
        }
    }

    /// Like [`authorize`](Self::authorize), returning the refusal as an error: one the provider
    /// would show the user, one it would redirect with (`access_denied` and the like), or a URL
    /// that does not point at this simulator's authorize endpoint (`wrong_endpoint`).
    pub fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        sim::authorize(&self.authorize_url(), authorize_url, |query| {
            match self.provider.authorize(query) {
                AuthorizeOutcome::Reject(e) => Err(e),
                AuthorizeOutcome::Redirect(to) => Ok(to),
            }
        })
    }

    /// Makes the next authorization end in `error=access_denied`, as when the user clicks
    /// "Cancel" on the consent screen.
    pub fn deny_next_authorization(&self) {
        self.provider.deny_authorizations(1);
    }

    // ---- faults and control ----------------------------------------------------------------

    /// Makes the next `times` token requests fail with `fault` (queued after any faults already
    /// pending). A faulted request still counts in the request counters, and, except for
    /// [`TokenFault::Stall`], changes nothing: the code stays unspent, the refresh token valid.
    pub fn fail_token_requests(&self, fault: TokenFault, times: usize) {
        self.provider.push_faults(fault, times);
    }

    /// Marks every access token issued so far as expired, so the userinfo endpoint answers 401
    /// for them. Tokens issued afterwards are unaffected.
    pub fn expire_all_access_tokens(&self) {
        self.provider.expire_all_access_tokens();
    }

    /// Mints tokens for a new grant with `scopes`, skipping the browser and code steps: for
    /// tests that start from an already connected account. Follows the configured lifetime,
    /// refresh-token issuance and rotation.
    pub fn issue_tokens<I, S>(&self, scopes: I) -> IssuedTokens
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.provider
            .issue_directly(scopes.into_iter().map(Into::into).collect())
    }

    // ---- inspection ------------------------------------------------------------------------

    /// Authorize requests received, over HTTP or through [`authorize`](Self::authorize).
    pub fn authorize_requests(&self) -> usize {
        self.provider.counters().authorize
    }

    /// Token-endpoint requests received, whatever the grant and outcome.
    pub fn token_requests(&self) -> usize {
        self.provider.counters().token
    }

    /// Token requests with `grant_type=authorization_code`, whatever the outcome.
    pub fn exchange_requests(&self) -> usize {
        self.provider.counters().exchange
    }

    /// Token requests with `grant_type=refresh_token`, whatever the outcome.
    pub fn refresh_requests(&self) -> usize {
        self.provider.counters().refresh
    }

    /// Revocation requests received, whatever the outcome.
    pub fn revocations(&self) -> usize {
        self.provider.counters().revoke
    }

    /// Userinfo requests received, whatever the outcome.
    pub fn userinfo_requests(&self) -> usize {
        self.provider.counters().userinfo
    }

    /// Userinfo calls refused with 429 under
    /// [`limit_userinfo`](OAuthSimulatorBuilder::limit_userinfo).
    pub fn userinfo_refusals(&self) -> usize {
        self.provider.userinfo_window().1
    }

    /// Userinfo calls accepted under [`limit_userinfo`](OAuthSimulatorBuilder::limit_userinfo)
    /// (0 without a limit).
    pub fn userinfo_accepted(&self) -> usize {
        self.provider.userinfo_window().0
    }

    /// The parameters of the most recent authorize request.
    pub fn last_authorize_request(&self) -> Option<AuthorizeRequest> {
        self.provider.last_authorize_request()
    }

    /// The `code_verifier` of the most recent code exchange that sent one.
    pub fn last_code_verifier(&self) -> Option<String> {
        self.provider.last_code_verifier()
    }

    /// The form parameters of the most recent `refresh_token` grant request, whatever its
    /// outcome (the client secret, when sent in the body, left out).
    pub fn last_refresh_params(&self) -> Option<Vec<(String, String)>> {
        self.provider.last_refresh_params()
    }

    /// How the client authenticated on the most recent token or revocation request.
    pub fn last_client_auth(&self) -> Option<ClientAuth> {
        self.provider.last_client_auth()
    }

    /// Every access token issued, oldest first.
    pub fn issued_access_tokens(&self) -> Vec<String> {
        self.provider.issued_access_tokens()
    }

    /// Every refresh token issued, oldest first (a token sent back unchanged by a refresh
    /// without rotation appears once).
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.provider.issued_refresh_tokens()
    }

    /// Whether `access_token` was issued here and is neither expired nor revoked.
    pub fn is_valid(&self, access_token: &str) -> bool {
        self.provider.is_valid(access_token)
    }

    /// The scopes granted to `access_token`, when it was issued here and is neither expired
    /// nor revoked: what a platform simulator's API routes check a call against.
    pub fn access_token_scopes(&self, access_token: &str) -> Option<Vec<String>> {
        self.provider.access_token_scopes(access_token)
    }

    /// Whether `refresh_token` was issued here and is neither rotated away nor revoked.
    pub fn is_refresh_token_valid(&self, refresh_token: &str) -> bool {
        self.provider.is_refresh_token_valid(refresh_token)
    }

    /// What a platform simulator's API routes, mounted on this server, check bearer tokens
    /// with: the scopes of a valid access token, `None` for any other.
    pub(crate) fn scope_check(&self) -> ScopeCheck {
        let provider = Arc::clone(&self.provider);
        Arc::new(move |token: &str| provider.access_token_scopes(token))
    }

    /// What a platform simulator's API routes check bearer tokens with when the platform
    /// answers an expired or revoked token differently from an unknown one.
    pub(crate) fn token_check(&self) -> TokenCheck {
        let provider = Arc::clone(&self.provider);
        Arc::new(move |token: &str| provider.token_state(token))
    }

    // ---- unexpected requests ---------------------------------------------------------------

    /// Requests that matched no endpoint and no mock mounted on [`server`](Self::server).
    pub fn unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.sim.unexpected_requests()
    }

    /// Returns the unexpected requests and forgets them, so dropping the simulator does not
    /// panic; for tests that send such requests on purpose.
    pub fn take_unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.sim.take_unexpected_requests()
    }

    /// Panics naming every unexpected request (`unexpected request: GET /foo`) if there was any.
    #[track_caller]
    pub fn assert_no_unexpected(&self) {
        self.sim.assert_no_unexpected();
    }
}

/// The shape of the token and revocation endpoints' error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OAuthErrorFormat {
    /// RFC 6749 §5.2: `{"error": "invalid_grant", "error_description": "…"}`.
    #[default]
    Rfc6749,
    /// Pinterest's `{"code": <int>, "message": "…"}`, the RFC error mapped by kind:
    /// `invalid_client` → `401 {"code": 2, "message": "Authentication failed."}`;
    /// `rate_limited` → `429 {"code": 8, "message": "Rate limit exceeded."}` (its
    /// `Retry-After` kept); `server_error` → the status kept, `code` mirroring it; every other
    /// error (`invalid_grant` for a dead code or refresh token, `invalid_request`,
    /// `unsupported_grant_type`, …) → `400 {"code": 1, "message": "Invalid parameters: …"}`.
    /// Simulator choices: the fact sheet records the codes, not which one each token-endpoint
    /// failure gets.
    CodeMessage,
}

/// A failure injected on the token endpoint with [`OAuthSimulator::fail_token_requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenFault {
    /// `500 {"error":"server_error"}`.
    ServerError,
    /// `429 {"error":"rate_limited"}` with `Retry-After` in whole seconds.
    RateLimited {
        /// The delay announced in `Retry-After`.
        retry_after: Duration,
    },
    /// `400 {"error":"invalid_grant"}`, as when the user revoked the app upstream.
    InvalidGrant,
    /// `401 {"error":"invalid_client"}`, as after the app's secret was reset.
    InvalidClient,
    /// `200` with an HTML body, as from a misbehaving proxy.
    MalformedBody,
    /// The request is processed normally (a code is spent, a refresh token rotated) but the
    /// answer is held back this long: a client that times out never learns the new tokens.
    Stall(Duration),
}

/// The parameters of an authorize request, as the simulator read them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeRequest {
    /// The value of the configured client-id parameter.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `response_type`.
    pub response_type: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `scope`, split on spaces and commas.
    pub scopes: Vec<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<String>,
    /// Every query parameter, in order, including the ones above.
    pub query: Vec<(String, String)>,
}

impl AuthorizeRequest {
    fn from_query(query: &[(String, String)], client_id_param: &str) -> Self {
        let get = |name: &str| client_auth::param(query, name).map(str::to_owned);
        Self {
            client_id: get(client_id_param),
            redirect_uri: get("redirect_uri"),
            response_type: get("response_type"),
            state: get("state"),
            scopes: get("scope")
                .map(|s| {
                    s.split([' ', ','])
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            query: query.to_vec(),
        }
    }
}

/// Tokens minted by [`OAuthSimulator::issue_tokens`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedTokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token, unless the simulator issues none.
    pub refresh_token: Option<String>,
    /// The access token's lifetime in seconds, `None` when it never expires.
    pub expires_in: Option<u64>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// When the refresh token stops working, when it has a
    /// [lifetime](OAuthSimulatorBuilder::refresh_token_lifetime).
    pub refresh_token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}
