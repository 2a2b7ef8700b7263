//! Meta: [`GraphSimulator`], a stateful Meta Graph API (Facebook Login, Pages, Instagram
//! content publishing, WhatsApp Cloud API) on a loopback wiremock server.

mod builder;
mod insights;
mod instagram;
mod login;
mod pages;
mod request;
mod routes;
mod state;
mod whatsapp;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use serde_json::Value;
use url::Url;
use wiremock::MockServer;

use crate::catch_all::UnexpectedRequest;
use crate::sim::{self, AuthorizeError, SimOptions, SimServer};

pub use builder::{GraphSettings, GraphSimulatorBuilder};

use state::{Counters, Graph, TokenKind, TokenStatus};

/// A simulated Meta Graph API on a loopback [`MockServer`], for the offline quickstart and the
/// Meta connector's tests.
///
/// Every path starts with the version (`/v26.0/…` by default); a request to another version,
/// or of a shape listed nowhere below, hits a [`CatchAll`](crate::CatchAll): it is answered `599` and the
/// simulator panics when dropped (or on [`assert_no_unexpected`](Self::assert_no_unexpected)).
///
/// | endpoint | does |
/// |---|---|
/// | `GET /dialog/oauth` | login dialog: checks `client_id`, `redirect_uri`, `state`; `302` to `redirect_uri?code=…&state=…` |
/// | `GET/POST /oauth/access_token` | code exchange (single-use code, same redirect URI) → short-lived token; `grant_type=fb_exchange_token` → long-lived (`expires_in` 5183944); `client_credentials` → app token |
/// | `GET /debug_token` | with the app token `{app-id}\|{app-secret}`: `data{app_id,type,application,data_access_expires_at,expires_at,is_valid,scopes,user_id}` |
/// | `GET /me`, `GET /me/accounts`, `DELETE /me/permissions` | the user; the Page with its token, tasks and Instagram account; revocation of every user and Page token |
/// | `GET /{page-id}`, `POST /{page-id}/feed`, `POST /{page-id}/photos`, `GET /{page-id}/posts`, `GET /{page-id}/insights` | Page metadata, posts `{page}_{post}`, photos, cursor-paged posts, insights |
/// | `GET/POST /{object-id}/comments`, `GET /{object-id}` | comments on posts, photos, comments and IG media; single objects |
/// | `POST /{ig-user-id}/media`, `GET /{container-id}`, `POST /{ig-user-id}/media_publish`, `GET /{ig-user-id}/content_publishing_limit`, `GET /{ig-user-id}/media`, `GET /{id}/insights` | containers whose status moves `IN_PROGRESS` → `FINISHED` by polls; publishing only when `FINISHED`, within the quota; media and insights |
/// | `POST /{phone-number-id}/messages`, `POST /{phone-number-id}/media` | text/template/media sends → `wamid.…`; mark-read; uploads |
///
/// Tokens are checked on every call (present, known, unexpired by the simulator's clock, not
/// revoked; Page endpoints want the Page token, Instagram a user or Page token, WhatsApp the
/// [system-user token](Self::whatsapp_token) or a user token): otherwise HTTP 400 with the
/// Graph error envelope, code 190 for a bad token. A sent `appsecret_proof` must be
/// `hex(HMAC-SHA256(app_secret, token))` (else error 100). Every Graph response carries
/// `X-App-Usage`, and `X-Business-Use-Case-Usage` once set.
///
/// All state is behind one lock and each request does its work under it, so the counters are
/// exact under any concurrency.
///
/// ```no_run
/// # async fn demo() {
/// use socialconnect_testkit::meta::{GraphFault, GraphSimulator};
///
/// let sim = GraphSimulator::start().await;
/// // The code under test points its Graph and dialog bases at `sim.base_url()`, builds the
/// // login URL, and the test plays the browser:
/// # let login_url = sim.dialog_url();
/// let (code, state) = sim.authorize(&login_url);
/// // ... the code under test exchanges `code`, lists Pages, publishes ...
/// sim.fail_next("/feed", GraphFault::ServerError); // the next post answers 500
/// assert_eq!(sim.code_exchanges(), 1);
/// sim.assert_no_unexpected();
/// # }
/// ```
#[derive(Debug)]
pub struct GraphSimulator {
    sim: SimServer,
    graph: Arc<Graph>,
}

impl GraphSimulator {
    /// A builder for a simulator with non-default settings.
    pub fn builder() -> GraphSimulatorBuilder {
        GraphSimulatorBuilder::default()
    }

    /// Starts a simulator with the default settings (see [`GraphSimulatorBuilder`]).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub(crate) async fn start_with(options: SimOptions, settings: GraphSettings) -> Self {
        let sim = SimServer::start().await;
        let graph = Arc::new(Graph::new(options, settings, sim.base_url()));
        routes::mount(sim.server(), &graph).await;
        Self { sim, graph }
    }

    fn config(&self) -> &GraphSettings {
        &self.graph.config
    }

    // ---- addresses and seeded identities ---------------------------------------------------

    /// The server's root, e.g. `http://127.0.0.1:41234/`: the Graph base and the login-dialog
    /// base alike (paths below it start with the version).
    pub fn base_url(&self) -> Url {
        self.graph.base.clone()
    }

    /// The Graph version in every path, e.g. `v26.0`.
    pub fn version(&self) -> &str {
        &self.config().version
    }

    /// `{base}/{version}/{path}`, e.g. `graph_url("me/accounts")`.
    pub fn graph_url(&self, path: &str) -> Url {
        let mut url = self.base_url();
        url.set_path(&format!(
            "{}/{}",
            self.version(),
            path.trim_start_matches('/')
        ));
        url
    }

    /// The login dialog, `{base}/{version}/dialog/oauth`.
    pub fn dialog_url(&self) -> Url {
        self.graph_url("dialog/oauth")
    }

    /// The underlying server, to mount extra mocks. Mocks mounted there take precedence over
    /// the catch-all; one mounted with `with_priority(1)` also overrides a simulator route.
    pub fn server(&self) -> &MockServer {
        self.sim.server()
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.config().app_id
    }

    /// The app secret.
    pub fn app_secret(&self) -> &str {
        &self.config().app_secret
    }

    /// The app token, `{app-id}|{app-secret}`, that `debug_token` takes.
    pub fn app_token(&self) -> String {
        format!("{}|{}", self.app_id(), self.app_secret())
    }

    /// The app-scoped id of the user who logs in.
    pub fn user_id(&self) -> &str {
        &self.config().user_id
    }

    /// The user's name.
    pub fn user_name(&self) -> &str {
        &self.config().user_name
    }

    /// The user's Page id.
    pub fn page_id(&self) -> &str {
        &self.config().page_id
    }

    /// The Page's name.
    pub fn page_name(&self) -> &str {
        &self.config().page_name
    }

    /// The Instagram business account linked to the Page.
    pub fn instagram_user_id(&self) -> &str {
        &self.config().instagram_user_id
    }

    /// The Instagram account's username.
    pub fn instagram_username(&self) -> &str {
        &self.config().instagram_username
    }

    /// The WhatsApp Business phone-number id.
    pub fn phone_number_id(&self) -> &str {
        &self.config().phone_number_id
    }

    /// The id of the system user behind [`whatsapp_token`](Self::whatsapp_token).
    pub fn system_user_id(&self) -> &str {
        &self.config().system_user_id
    }

    /// A never-expiring system-user token for the WhatsApp endpoints (minted at start; not
    /// affected by `DELETE /me/permissions`).
    pub fn whatsapp_token(&self) -> String {
        self.graph.lock().system_token.clone()
    }

    // ---- the browser step ------------------------------------------------------------------

    /// Does what the browser and the consenting user would: sends `dialog_url` through the
    /// same checks as `GET /{version}/dialog/oauth` and returns the `(code, state)` the
    /// redirect would carry, without an HTTP round trip.
    ///
    /// # Panics
    ///
    /// When the dialog refuses the request; [`try_authorize`](Self::try_authorize) returns the
    /// refusal instead.
    #[track_caller]
    pub fn authorize(&self, dialog_url: &Url) -> (String, String) {
        match self.try_authorize(dialog_url) {
            Ok(grant) => grant,
            Err(e) => panic!("GraphSimulator refused the login request: {e}"),
        }
    }

    /// Like [`authorize`](Self::authorize), returning the refusal: `access_denied` after
    /// [`deny_next_authorization`](Self::deny_next_authorization), `invalid_request` for a
    /// request the dialog refuses (the description carries Graph's message), or
    /// `wrong_endpoint` for a URL that is not this simulator's dialog.
    pub fn try_authorize(&self, dialog_url: &Url) -> Result<(String, String), AuthorizeError> {
        sim::authorize(&self.dialog_url(), dialog_url, |query| {
            let now = self.graph.now();
            let mut st = self.graph.lock();
            st.counters.authorize += 1;
            login::dialog(&self.graph, &mut st, now, query).map_err(|refusal| {
                AuthorizeError::new(
                    "invalid_request",
                    format!("({}) {}", refusal.code, refusal.message),
                )
            })
        })
    }

    /// Makes the next login end in `error=access_denied&error_reason=user_denied`, as when
    /// the user clicks "Cancel".
    pub fn deny_next_authorization(&self) {
        self.graph.lock().denials += 1;
    }

    // ---- tokens without the dialog ---------------------------------------------------------

    /// Mints a short-lived user token (the code exchange's kind), skipping the dialog.
    pub fn issue_short_lived_token(&self) -> String {
        let life = self.config().short_lived_lifetime;
        self.issue(TokenKind::ShortUser, life)
    }

    /// Mints a long-lived user token (the `fb_exchange_token` kind), skipping the dialog.
    pub fn issue_long_lived_token(&self) -> String {
        let life = self.config().long_lived_lifetime;
        self.issue(TokenKind::LongUser, life)
    }

    fn issue(&self, kind: TokenKind, lifetime: Duration) -> String {
        let now = self.graph.now();
        let scopes = self.graph.default_scopes();
        let expires = now + TimeDelta::from_std(lifetime).unwrap_or(TimeDelta::MAX);
        self.graph.lock().mint(kind, scopes, now, Some(expires))
    }

    /// The Page token `/me/accounts` would give for a new long-lived user token: it never
    /// expires, and dies with the user's tokens on revocation.
    pub fn issue_page_token(&self) -> String {
        let user = self.issue_long_lived_token();
        let now = self.graph.now();
        self.graph.lock().page_token_for(&user, now)
    }

    /// Whether `token` was issued here (or is the app token) and is neither expired nor
    /// revoked nor invalidated.
    pub fn is_valid(&self, token: &str) -> bool {
        if token == self.app_token() {
            return true;
        }
        let now = self.graph.now();
        self.graph
            .lock()
            .tokens
            .get(token)
            .is_some_and(|r| state::problem(r, now).is_none())
    }

    /// Invalidates `token` as a password change would: it then earns error 190 subcode 460.
    pub fn invalidate_token(&self, token: &str) {
        if let Some(r) = self.graph.lock().tokens.get_mut(token) {
            r.status = TokenStatus::Invalidated;
        }
    }

    // ---- knobs and faults ------------------------------------------------------------------

    /// Sets the percentages `X-App-Usage` reports (`call_count`, `total_time` and
    /// `total_cputime` alike; default 1).
    pub fn set_app_usage(&self, percent: u32) {
        self.graph.lock().app_usage = percent;
    }

    /// Makes every Graph response carry `X-Business-Use-Case-Usage` for `object_id` at
    /// `percent`, with `estimated_time_to_regain_access` of `regain_minutes`.
    pub fn set_business_usage(&self, object_id: &str, percent: u32, regain_minutes: u32) {
        self.graph
            .lock()
            .business_usage
            .insert(object_id.to_owned(), (percent, regain_minutes));
    }

    /// Stops sending `X-Business-Use-Case-Usage`.
    pub fn clear_business_usage(&self) {
        self.graph.lock().business_usage.clear();
    }

    /// Makes the next Graph request whose path contains `path_contains` (e.g. `"/feed"`,
    /// `"oauth/access_token"`) answer with `fault`. Faults queue; each is used once. A faulted
    /// request is counted and recorded but, except for [`GraphFault::Stall`], changes nothing.
    pub fn fail_next(&self, path_contains: &str, fault: GraphFault) {
        self.graph.lock().faults.push(path_contains, fault, 1);
    }

    /// Makes the next IG container created end in `fault` instead of `FINISHED` (after its
    /// `IN_PROGRESS` polls). Queues like [`fail_next`](Self::fail_next).
    pub fn fail_next_container(&self, fault: ContainerFault) {
        self.graph.lock().container_faults.push_back(fault);
    }

    /// Whether calls with a user, Page or system-user token must carry `appsecret_proof`, as
    /// with "Require App Secret" on; a missing proof is then error 100.
    pub fn require_appsecret_proof(&self, require: bool) {
        self.graph.lock().require_proof = require;
    }

    // ---- inspection ------------------------------------------------------------------------

    fn counters(&self) -> Counters {
        self.graph.lock().counters
    }

    /// Login-dialog requests, over HTTP or through [`authorize`](Self::authorize).
    pub fn authorize_requests(&self) -> usize {
        self.counters().authorize
    }

    /// Graph requests of any kind (the dialog excluded), whatever the outcome.
    pub fn graph_requests(&self) -> usize {
        self.counters().graph
    }

    /// `oauth/access_token` requests with a `code`, whatever the outcome.
    pub fn code_exchanges(&self) -> usize {
        self.counters().code_exchanges
    }

    /// `oauth/access_token` requests with `grant_type=fb_exchange_token`, whatever the outcome.
    pub fn long_lived_exchanges(&self) -> usize {
        self.counters().long_lived_exchanges
    }

    /// `debug_token` requests.
    pub fn debug_token_requests(&self) -> usize {
        self.counters().debug_token
    }

    /// `DELETE /me/permissions` requests.
    pub fn revocations(&self) -> usize {
        self.counters().revocations
    }

    /// `POST /{page-id}/feed` and `/photos` requests.
    pub fn posts(&self) -> usize {
        self.counters().posts
    }

    /// `POST /{object-id}/comments` requests.
    pub fn comments_created(&self) -> usize {
        self.counters().comments
    }

    /// `POST /{ig-user-id}/media` (container) requests.
    pub fn containers_created(&self) -> usize {
        self.counters().containers
    }

    /// `GET /{container-id}` (status) requests.
    pub fn status_polls(&self) -> usize {
        self.counters().status_polls
    }

    /// `POST /{ig-user-id}/media_publish` requests.
    pub fn published_media(&self) -> usize {
        self.counters().published_media
    }

    /// `POST /{phone-number-id}/messages` requests that send (mark-read excluded).
    pub fn messages_sent(&self) -> usize {
        self.counters().messages_sent
    }

    /// `POST /{phone-number-id}/messages` mark-read requests.
    pub fn read_receipts(&self) -> usize {
        self.counters().read_receipts
    }

    /// `POST /{phone-number-id}/media` uploads.
    pub fn media_uploads(&self) -> usize {
        self.counters().media_uploads
    }

    /// The most recent request (Graph or dialog) whose path contains `path_contains`.
    pub fn last_request_to(&self, path_contains: &str) -> Option<RecordedRequest> {
        self.graph
            .lock()
            .requests
            .iter()
            .rev()
            .find(|r| r.path.contains(path_contains))
            .cloned()
    }

    // ---- unexpected requests ---------------------------------------------------------------

    /// Requests that matched no route and no mock mounted on [`server`](Self::server).
    pub fn unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.sim.unexpected_requests()
    }

    /// Returns the unexpected requests and forgets them, so dropping the simulator does not
    /// panic; for tests that send such requests on purpose.
    pub fn take_unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.sim.take_unexpected_requests()
    }

    /// Panics naming every unexpected request (`unexpected request: GET /v25.0/me`) if there
    /// was any.
    #[track_caller]
    pub fn assert_no_unexpected(&self) {
        self.sim.assert_no_unexpected();
    }
}

impl crate::conformance::Simulator for GraphSimulator {
    fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        GraphSimulator::try_authorize(self, authorize_url)
    }

    fn deny_next_authorization(&self) {
        GraphSimulator::deny_next_authorization(self);
    }

    /// Meta has no refresh grant: the long-lived exchange refreshes, and a dead session makes
    /// it answer error 190 (subcode 460, "session invalidated").
    fn reject_next_refresh(&self) {
        self.fail_next(
            "oauth/access_token",
            GraphFault::Error {
                code: 190,
                subcode: Some(460),
                is_transient: false,
            },
        );
    }

    fn code_exchanges(&self) -> usize {
        GraphSimulator::code_exchanges(self)
    }

    /// `fb_exchange_token` requests (the code exchange makes one too).
    fn refreshes(&self) -> usize {
        self.long_lived_exchanges()
    }

    fn revocations(&self) -> usize {
        GraphSimulator::revocations(self)
    }

    fn server(&self) -> &MockServer {
        GraphSimulator::server(self)
    }
}

/// A failure injected with [`GraphSimulator::fail_next`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GraphFault {
    /// HTTP 400 with the Graph envelope: `code`, `error_subcode` when given, `is_transient`.
    Error {
        /// `error.code`, e.g. 2, 368, 506, or a negative Instagram code.
        code: i64,
        /// `error.error_subcode`.
        subcode: Option<i64>,
        /// `error.is_transient`.
        is_transient: bool,
    },
    /// HTTP 400 throttling error `code` (4 app, 17 user, 32 Page, 613, or a Business Use Case
    /// code 80000–80014) with `is_transient: true`. Code 4 reports `X-App-Usage` at 100 %; a
    /// Business Use Case code reports `X-Business-Use-Case-Usage` at 100 % for the path's
    /// object, with `estimated_time_to_regain_access` of `regain_minutes`.
    Throttle {
        /// `error.code`.
        code: i64,
        /// Minutes announced for a Business Use Case throttle.
        regain_minutes: u32,
    },
    /// HTTP 500 with a transient Graph error (code 2).
    ServerError,
    /// The request is processed normally (a post is created, a message sent) but the answer
    /// is held back this long: a client that times out never learns the outcome.
    Stall(Duration),
}

/// How an IG container ends, injected with [`GraphSimulator::fail_next_container`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContainerFault {
    /// `status_code: ERROR` with this `status` text, e.g.
    /// `"Error: Media download has failed."`.
    Error(String),
    /// `status_code: EXPIRED`, as when the container was not published within 24 hours.
    Expired,
}

/// One request the simulator received, as it read it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path, e.g. `/v26.0/112233445566778899/feed`.
    pub path: String,
    /// The query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The form (or multipart text) parameters, in order.
    pub form: Vec<(String, String)>,
    /// The JSON body, if it had one.
    pub json: Option<Value>,
    /// The `Authorization: Bearer` token, if sent.
    pub bearer: Option<String>,
}

impl RecordedRequest {
    /// A parameter from the query, the form, or the top level of the JSON body (numbers and
    /// booleans as their JSON text).
    pub fn param(&self, name: &str) -> Option<String> {
        let pairs = self.query.iter().chain(self.form.iter());
        if let Some((_, v)) = pairs.into_iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        match self.json.as_ref()?.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}
