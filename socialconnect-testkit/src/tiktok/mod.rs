//! TikTok: [`TikTokSimulator`], TikTok for Developers (Login Kit v2, the Display API, the
//! Content Posting API with chunked uploads, signed webhooks) on a loopback wiremock server.
//!
//! It speaks the wire format of the TikTok fact sheet and depends on no TikTok crate, so a
//! connector's mistakes show up against it rather than being shared with it.

mod builder;
mod display;
mod posting;
mod request;
mod routes;
mod state;
mod upload;
mod webhook;
mod wire;

use std::sync::Arc;

use serde_json::Value;
use url::Url;
use wiremock::MockServer;

use crate::catch_all::UnexpectedRequest;
use crate::oauth::{AuthorizeError, OAuthSimulator, TokenFault};

pub use builder::TikTokSimulatorBuilder;
pub use webhook::{SIGNATURE_HEADER, WebhookDelivery, WebhookEvent};

use builder::Config;
use state::{Api, ApiFault, Source};

/// A simulated TikTok for Developers on one loopback [`MockServer`]: the API base and the
/// authorization base alike are [`base_url`](Self::base_url).
///
/// | endpoint | does |
/// |---|---|
/// | `GET /v2/auth/authorize/` | Login Kit: `client_key`, `response_type=code`, comma-separated `scope`, `redirect_uri`, `state`, optional PKCE; `302` to `redirect_uri?code=…&state=…` (play it with [`authorize`](Self::authorize)) |
/// | `POST /v2/oauth/token/` | form body with `client_key` and `client_secret` (no HTTP Basic); `authorization_code` and `refresh_token` grants; `{open_id, scope, access_token, expires_in, refresh_token, refresh_expires_in, token_type: "Bearer"}`; refresh tokens rotate (reusing one answers `invalid_grant`); errors flat `{error, error_description, log_id}` |
/// | `POST /v2/oauth/revoke/` | form `client_key`, `client_secret`, `token`; answers `{}`; the whole grant dies (access and refresh tokens) |
/// | `GET /v2/user/info/?fields=…` | only the requested fields, each checked against its scope (`user.info.basic`, `.profile`, `.stats`) |
/// | `POST /v2/video/list/?fields=…` | `{cursor?, max_count?}` (1–20, default 10): newest first, the cursor a millisecond timestamp, `has_more`; pages capped by [`video_page_cap`](TikTokSimulatorBuilder::video_page_cap) |
/// | `POST /v2/video/query/?fields=…` | `{"filters":{"video_ids":[…]}}`, 1–20 ids, the account's own videos only |
/// | `POST /v2/post/publish/creator_info/query/` | `privacy_level_options` for a public or [private](TikTokSimulatorBuilder::private_account) account, and the other creator fields |
/// | `POST /v2/post/publish/video/init/`, `/v2/post/publish/inbox/video/init/` | direct post and inbox upload; `FILE_UPLOAD` with a chunk plan checked against TikTok's rules → `{publish_id, upload_url}`, or `PULL_FROM_URL` → `{publish_id}`; a `privacy_level` outside the creator's options → `privacy_level_option_mismatch` |
/// | `POST /v2/post/publish/content/init/` | photo posts: `DIRECT_POST` or `MEDIA_UPLOAD`, 1–35 pulled images, title ≤ 90 and description ≤ 4000 UTF-16 units |
/// | `PUT /upload/{publish_id}?upload_token=…` | sequential chunks with `Content-Type: video/*` and `Content-Range: bytes FIRST-LAST/TOTAL` matching the plan; `206`, and `201` for the last (UNCONFIRMED statuses); refused with `invalid_file_upload` out of order |
/// | `POST /v2/post/publish/status/fetch/` | `PROCESSING_UPLOAD`/`PROCESSING_DOWNLOAD` → `PUBLISH_COMPLETE` (with `publicaly_available_post_id`, sic, a list of numbers), `SEND_TO_USER_INBOX` or `FAILED` with `fail_reason`, all HTTP 200 + `ok` |
///
/// API answers use TikTok's envelope, `{data, error: {code, message, log_id}}`, with `code:
/// "ok"` on success. A missing, unknown, expired or revoked bearer token answers `401
/// access_token_invalid`; a scope the user did not grant answers `401 scope_not_authorized`.
/// TikTok's documented rate windows are not enforced; queue `rate_limit_exceeded` with
/// [`fail_next`](Self::fail_next) instead. Every other request hits a
/// [`CatchAll`](crate::CatchAll): it is answered `599` and the simulator panics when dropped
/// (or on [`assert_no_unexpected`](Self::assert_no_unexpected)) naming it.
///
/// ```no_run
/// # async fn demo() {
/// use socialconnect_testkit::tiktok::{TikTokSimulator, WebhookEvent};
///
/// let sim = TikTokSimulator::builder().withhold_scopes(["video.publish"]).start().await;
/// // The code under test points its API and auth bases at `sim.base_url()`, builds the
/// // authorize URL with `sim.client_key()`, and the test plays the browser:
/// # let authorize_url = sim.authorize_url();
/// let (code, state) = sim.authorize(&authorize_url);
/// // ... the code under test exchanges `code`, lists videos, uploads in chunks ...
/// sim.fail_next("/v2/post/publish/video/init/", "spam_risk_too_many_posts");
/// let delivery = sim.webhook(&WebhookEvent::authorization_removed(1));
/// // ... hand `delivery.body` and `delivery.signature` to the webhook handler ...
/// # let _ = (code, state, delivery);
/// sim.assert_no_unexpected();
/// # }
/// ```
#[derive(Debug)]
pub struct TikTokSimulator {
    oauth: OAuthSimulator,
    api: Arc<Api>,
}

impl TikTokSimulator {
    /// A builder for a simulator with non-default settings.
    pub fn builder() -> TikTokSimulatorBuilder {
        TikTokSimulatorBuilder::default()
    }

    /// Starts a simulator with the default settings (see [`TikTokSimulatorBuilder`]).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub(crate) async fn start_with(config: Config) -> Self {
        let oauth = config.oauth().start().await;
        let api = Arc::new(Api::new(config, oauth.base_url(), oauth.scope_check()));
        routes::mount(oauth.server(), &api).await;
        Self { oauth, api }
    }

    fn config(&self) -> &Config {
        &self.api.config
    }

    // ---- addresses and identities ----------------------------------------------------------

    /// The server's root, e.g. `http://127.0.0.1:41234/`: the API base (`open.tiktokapis.com`)
    /// and the authorization base (`www.tiktok.com`) alike.
    pub fn base_url(&self) -> Url {
        self.oauth.base_url()
    }

    /// `{base}/v2/auth/authorize/`.
    pub fn authorize_url(&self) -> Url {
        self.oauth.authorize_url()
    }

    /// `{base}/v2/oauth/token/`.
    pub fn token_url(&self) -> Url {
        self.oauth.token_url()
    }

    /// `{base}/v2/oauth/revoke/`.
    pub fn revoke_url(&self) -> Url {
        self.oauth.revoke_url()
    }

    /// The server, to mount extra mocks. Mocks mounted there take precedence over the
    /// catch-all; one mounted with `with_priority(1)` also overrides a simulator route.
    pub fn server(&self) -> &MockServer {
        self.oauth.server()
    }

    /// The Login Kit side, the kit's [`OAuthSimulator`] in TikTok's dialect: its counters,
    /// [`issue_tokens`](OAuthSimulator::issue_tokens) to start from a connected account,
    /// [`fail_token_requests`](OAuthSimulator::fail_token_requests), the issued tokens.
    pub fn oauth(&self) -> &OAuthSimulator {
        &self.oauth
    }

    /// The app's client key.
    pub fn client_key(&self) -> &str {
        &self.config().client_key
    }

    /// The app's client secret (also the webhook signing key).
    pub fn client_secret(&self) -> &str {
        &self.config().client_secret
    }

    /// The user's open id.
    pub fn open_id(&self) -> &str {
        &self.config().open_id
    }

    /// The ids of the account's videos, newest first.
    pub fn video_ids(&self) -> Vec<String> {
        self.api
            .lock()
            .videos
            .iter()
            .map(|v| v.id.to_string())
            .collect()
    }

    // ---- the browser step ------------------------------------------------------------------

    /// Plays the browser and the consenting user on `authorize_url` (checked like `GET
    /// /v2/auth/authorize/`) and returns the `(code, state)` the redirect carries.
    ///
    /// # Panics
    ///
    /// When the request is refused; [`try_authorize`](Self::try_authorize) returns the refusal.
    #[track_caller]
    pub fn authorize(&self, authorize_url: &Url) -> (String, String) {
        match self.try_authorize(authorize_url) {
            Ok(grant) => grant,
            Err(e) => panic!("TikTokSimulator refused the authorization request: {e}"),
        }
    }

    /// Like [`authorize`](Self::authorize), returning the refusal (`access_denied` after
    /// [`deny_next_authorization`](Self::deny_next_authorization), `invalid_request`, or
    /// `wrong_endpoint` for a URL that is not this simulator's authorize page).
    pub fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        self.oauth.try_authorize(authorize_url)
    }

    /// Makes the next authorization end in `error=access_denied`.
    pub fn deny_next_authorization(&self) {
        self.oauth.deny_next_authorization();
    }

    // ---- faults ----------------------------------------------------------------------------

    /// Makes the next API or upload request whose path contains `path_contains` answer the
    /// TikTok error `code` (`spam_risk_too_many_posts`, `rate_limit_exceeded`,
    /// `internal_error`, …) at its documented status (401 for the token and scope codes, 400
    /// for `invalid_*`, 429 for `rate_limit_exceeded`, 500 for `internal_error`; UNCONFIRMED
    /// for the posting codes: 403 for `spam_risk_*`, `reached_active_user_cap`,
    /// `unaudited_client_*` and `url_ownership_unverified`, 400 otherwise). Faults queue; each
    /// is used once; a faulted request is recorded but changes nothing. The OAuth endpoints
    /// take their faults through [`oauth`](Self::oauth)`().fail_token_requests`.
    pub fn fail_next(&self, path_contains: &str, code: &str) {
        self.fail_next_with_status(path_contains, code, wire::default_status(code));
    }

    /// Like [`fail_next`](Self::fail_next), at `status`.
    pub fn fail_next_with_status(&self, path_contains: &str, code: &str, status: u16) {
        let fault = ApiFault {
            code: code.to_owned(),
            status,
        };
        self.api.lock().faults.push(path_contains, fault, 1);
    }

    /// Makes the next `PUT` of chunk `index` (from 0, of any upload) answer `status` (a 5xx,
    /// say) once, with the chunk discarded: the client's retry or resume sends it again.
    pub fn fail_upload_chunk(&self, index: u32, status: u16) {
        self.api.lock().chunk_faults.push((index, status));
    }

    /// Makes the next post created end `FAILED` with `fail_reason` (e.g.
    /// `file_format_check_failed`) once processed. Queues; each is used once.
    pub fn fail_next_publish(&self, fail_reason: &str) {
        self.api
            .lock()
            .publish_failures
            .push_back(fail_reason.to_owned());
    }

    // ---- uploads and posts -----------------------------------------------------------------

    /// The `publish_id` of the most recent post created.
    pub fn last_publish_id(&self) -> Option<String> {
        self.api.lock().last_publish.clone()
    }

    /// The bytes the upload of `publish_id` has taken so far (0 for an unknown id or a pulled
    /// URL).
    pub fn uploaded_bytes(&self, publish_id: &str) -> u64 {
        match self.api.lock().publishes.get(publish_id).map(|p| &p.source) {
            Some(Source::FileUpload(u)) => u.received,
            _ => 0,
        }
    }

    /// The chunks the upload of `publish_id` has taken so far.
    pub fn chunks_received(&self, publish_id: &str) -> u32 {
        match self.api.lock().publishes.get(publish_id).map(|p| &p.source) {
            Some(Source::FileUpload(u)) => u.chunks,
            _ => 0,
        }
    }

    /// The lowercase hex SHA-256 of the assembled upload of `publish_id`, once its last
    /// chunk is in. Only a running digest is kept, never the bytes.
    pub fn upload_sha256(&self, publish_id: &str) -> Option<String> {
        match self.api.lock().publishes.get(publish_id).map(|p| &p.source) {
            Some(Source::FileUpload(u)) => u.sha256.clone(),
            _ => None,
        }
    }

    // ---- webhooks --------------------------------------------------------------------------

    /// A signed delivery of `event` for the simulated user, dated now by the simulator's
    /// clock: the raw body (`{client_key, event, create_time, user_openid, content}`, content
    /// a JSON string) and the [`SIGNATURE_HEADER`] value `t=<unix>,s=<hex HMAC-SHA256 of
    /// t + "." + body under the client secret>`. Nothing is sent.
    pub fn webhook(&self, event: &WebhookEvent) -> WebhookDelivery {
        self.webhook_at(event, self.api.now().timestamp())
    }

    /// Like [`webhook`](Self::webhook), created and signed at `timestamp` (unix seconds), for
    /// stale-delivery tests.
    pub fn webhook_at(&self, event: &WebhookEvent, timestamp: i64) -> WebhookDelivery {
        let c = self.config();
        webhook::deliver(
            &c.client_key,
            &c.client_secret,
            &c.open_id,
            event,
            timestamp,
        )
    }

    // ---- inspection ------------------------------------------------------------------------

    /// API and upload requests whose path contains `path_contains`, whatever their outcome.
    pub fn requests_to(&self, path_contains: &str) -> usize {
        self.api
            .lock()
            .requests
            .iter()
            .filter(|r| r.path.contains(path_contains))
            .count()
    }

    /// The JSON body of the most recent API request whose path contains `path_contains`.
    pub fn last_body_to(&self, path_contains: &str) -> Option<Value> {
        self.api
            .lock()
            .requests
            .iter()
            .rev()
            .find(|r| r.path.contains(path_contains))
            .and_then(|r| r.json.clone())
    }

    // ---- unexpected requests ---------------------------------------------------------------

    /// Requests that matched no route and no mock mounted on [`server`](Self::server).
    pub fn unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.oauth.unexpected_requests()
    }

    /// Returns the unexpected requests and forgets them, for tests that send such requests on
    /// purpose.
    pub fn take_unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.oauth.take_unexpected_requests()
    }

    /// Panics naming every unexpected request if there was any.
    #[track_caller]
    pub fn assert_no_unexpected(&self) {
        self.oauth.assert_no_unexpected();
    }
}

impl crate::conformance::Simulator for TikTokSimulator {
    fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        TikTokSimulator::try_authorize(self, authorize_url)
    }

    fn deny_next_authorization(&self) {
        TikTokSimulator::deny_next_authorization(self);
    }

    /// The next refresh grant answers `invalid_grant` (with TikTok's `log_id`).
    fn reject_next_refresh(&self) {
        self.oauth.fail_token_requests(TokenFault::InvalidGrant, 1);
    }

    fn code_exchanges(&self) -> usize {
        self.oauth.exchange_requests()
    }

    fn refreshes(&self) -> usize {
        self.oauth.refresh_requests()
    }

    fn revocations(&self) -> usize {
        self.oauth.revocations()
    }

    fn server(&self) -> &MockServer {
        TikTokSimulator::server(self)
    }
}
