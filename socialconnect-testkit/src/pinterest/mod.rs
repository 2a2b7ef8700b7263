//! Pinterest: [`PinterestSimulator`], Pinterest API v5 (OAuth with continuous refresh, boards
//! and sections, pins of every media kind, video uploads, analytics) on a loopback wiremock
//! server.
//!
//! It speaks the wire format of the Pinterest fact sheet and depends on no Pinterest crate,
//! so a connector's mistakes show up against it rather than being shared with it.

mod account;
mod analytics;
mod boards;
mod builder;
mod media;
mod model;
mod pins;
mod request;
mod routes;
mod state;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::oauth::OAuthSimulator;
use crate::sim::{Reply, SimApi, SimOptions, oauth_front};

pub use builder::{PinterestSettings, PinterestSimulatorBuilder};
pub use model::{Board, MediaUpload, PageFault, Pin, PinMedia, Section, VideoCover};

use state::{Api, State};

/// A simulated Pinterest on one loopback [`MockServer`](wiremock::MockServer): the sign-in
/// host (`www.pinterest.com`) and the API host (`api.pinterest.com`) alike are
/// [`base_url`](Self::base_url).
///
/// | endpoint | does |
/// |---|---|
/// | `GET /oauth/` | `client_id`, `redirect_uri`, `response_type=code`, comma-separated `scope`, `state` (PKCE optional, checked when sent); `302` to `redirect_uri?code=…&state=…`, denial `error=access_denied` (play it with [`authorize`](Self::authorize)) |
/// | `POST /v5/oauth/token` | form body, client auth by HTTP Basic only (credentials in the body → `401 {"code":2}`); `authorization_code` (`code`, `redirect_uri`) and `refresh_token` (`refresh_token`, optional `scope`, `continuous_refresh`); `{access_token: "pina_…", refresh_token: "pinr_…", response_type, token_type: "bearer", expires_in, refresh_token_expires_in, refresh_token_expires_at, scope: "a,b"}`; every refresh returns a new refresh token with a fresh 60-day life and kills the old one; a [legacy app](PinterestSimulatorBuilder::legacy_app) must send `continuous_refresh=true`. Errors `{code, message}`: bad client credentials `401 {"code":2,"message":"Authentication failed."}`, a dead code or refresh token `400 {"code":1,…}` |
/// | `POST /v5/oauth/token/revoke` | user tokens cannot be revoked by API: `403 {"code":29,"message":"Not permitted"}` (after client auth), counted in `revocations()` |
/// | every `/v5/*` route below | `Authorization: Bearer <access token>`; a missing, unknown, expired or revoked token → `401 {"code":2,"message":"Authentication failed."}`; a missing scope → `401 {"code":3,"message":"Insufficient scopes"}`; every answer (OAuth and upload too) carries a random hex `x-pinterest-rid` |
/// | `GET /v5/user_account` | `{account_type, id, username, profile_image, website_url, about, business_name, board_count, pin_count, follower_count, following_count, monthly_views}` (counts [nullable](PinterestSimulatorBuilder::null_counts)); `user_accounts:read` |
/// | `GET /v5/boards?page_size=&bookmark=&privacy=` | `{items: [Board], bookmark: string \| null}`, `page_size` 1–250 (default 25; else `400 {"code":1}`), `PROTECTED`/`SECRET` boards only with `boards:read_secret`; `boards:read`. Paging edge cases by [`fail_next_page`](Self::fail_next_page) |
/// | `POST /v5/boards` | `{name, description?, privacy?}` → `201` Board; `boards:write` |
/// | `GET`, `PATCH`, `DELETE /v5/boards/{id}` | Board; `{name?, description?, privacy?}` → `200` Board; `204` (its pins go too); unknown → `404 {"code":404,"message":"Board not found."}` (the code mirrors the status) |
/// | `GET /v5/boards/{id}/sections`, `POST /v5/boards/{id}/sections` | paged `{id, name}`; `{name}` → `201 {id, name}` |
/// | `GET /v5/boards/{id}/pins?page_size=&bookmark=` | paged Pins; `boards:read` and `pins:read` |
/// | `POST /v5/pins` | `{board_id, board_section_id?, title? ≤100, description? ≤800, link? ≤2048, alt_text? ≤500 (UTF-16 units), dominant_color?, media_source}`, `source_type` `image_url`, `image_base64` (`image/jpeg`/`image/png`, valid base64), `multiple_image_urls` / `multiple_image_base64` (2–5 items, `index`), `video_id` (a `succeeded` media and a cover: URL, base64 or key-frame time); `201` Pin with `media` by `media_type` (`image`, `video` with `duration` `null` in this answer, `multiple_images`); a bad field → `400 {"code":1}`; `pins:write`. Read back with [`pins`](Self::pins) |
/// | `GET /v5/pins/{id}[?pin_metrics=true]`, `DELETE /v5/pins/{id}` | Pin (`pins:read`); `204` (`pins:write`); unknown → `404 {"code":50,"message":"Pin not found."}` |
/// | `POST /v5/media` | `{media_type: "video"}` → `201 {media_id, media_type, upload_url: "{base}upload/media/{id}", upload_parameters: {key, policy, x-amz-signature, x-amz-credential, x-amz-algorithm, x-amz-date, Content-Type}}`; `pins:write` |
/// | `POST /upload/media/{id}` | S3 POST: multipart with every upload parameter as a field, then a `file` part, no `Authorization` header; `204`; a missing or changed parameter → `403` with an S3 XML `AccessDenied` body; no file → `400 InvalidArgument` |
/// | `GET /v5/media/{id}` | `{media_id, media_type, status}`: `registered` → `processing` for [`media_processing_polls`](PinterestSimulatorBuilder::media_processing_polls) reads → `succeeded` (`failed` for an empty file); `pins:read` or `pins:write` |
/// | `GET /v5/user_account/analytics?start_date=&end_date=&metric_types=&split_field=&from_claimed_content=&pin_format=&app_types=` | dates `YYYY-MM-DD`, start at most 90 days before the simulator's today, end not before start nor in the future, at most 90 days apart (else `400 {"code":1}`); a map keyed by split group (`all` for `NO_SPLIT`, UNCONFIRMED upstream; `MOBILE`, `TABLET`, `WEB` for `APP_TYPE`; …) of `{daily_metrics: [{date, data_status, metrics}], summary_metrics}`, `data_status` `ESTIMATE` today, `PROCESSING` yesterday, `READY` before ([settable](PinterestSimulatorBuilder::analytics_status)); `user_accounts:read` |
/// | `GET /v5/pins/{id}/analytics?start_date&end_date&metric_types&…` | the same with `lifetime_metrics` per group, `metric_types` required, days before the pin's creation `BEFORE_PIN_CREATED`; `pins:read` |
///
/// Pinterest has no webhooks for boards, pins or the account, so none are simulated. Rate
/// limits are not counted; queue their answers with [`fail_next_rate_limit`](Self::fail_next_rate_limit),
/// [`fail_next_spam_block`](Self::fail_next_spam_block), [`fail_next_bad_gateway`](Self::fail_next_bad_gateway)
/// or [`fail_next`](Self::fail_next). Every other request hits a [`CatchAll`](crate::CatchAll):
/// it is answered `599` and the simulator panics when dropped (or on
/// [`assert_no_unexpected`](Self::assert_no_unexpected)) naming it.
///
/// ```no_run
/// # async fn demo() {
/// use socialconnect_testkit::pinterest::{PageFault, PinterestSimulator};
///
/// let sim = PinterestSimulator::builder().boards(60).legacy_app(true).start().await;
/// // The code under test points its API and sign-in bases at `sim.base_url()`, builds the
/// // authorize URL with `sim.client_id()`, and the test plays the browser:
/// # let authorize_url = sim.authorize_url();
/// let (code, state) = sim.authorize(&authorize_url);
/// // ... the code under test exchanges `code` (HTTP Basic), lists boards, pins ...
/// sim.fail_next_page("/v5/boards", PageFault::EmptyPage);
/// sim.fail_next_spam_block("/v5/pins");
/// # let _ = (code, state);
/// assert_eq!(sim.last_refresh_had_continuous_flag(), None);
/// sim.assert_no_unexpected();
/// # }
/// ```
#[derive(Debug)]
pub struct PinterestSimulator {
    oauth: OAuthSimulator,
    api: Arc<Api>,
}

oauth_front!(PinterestSimulator);

impl PinterestSimulator {
    /// A builder for a simulator with non-default settings.
    pub fn builder() -> PinterestSimulatorBuilder {
        PinterestSimulatorBuilder::default()
    }

    /// Starts a simulator with the default settings (see [`PinterestSimulatorBuilder`]).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub(crate) async fn start_with(options: SimOptions, settings: PinterestSettings) -> Self {
        let oauth = OAuthSimulator::start_with(options.clone(), settings.oauth()).await;
        let state = State::seeded(&settings, options.now());
        let api = Arc::new(SimApi::new(
            settings,
            options,
            oauth.base_url(),
            oauth.token_check(),
            state,
        ));
        routes::mount(oauth.server(), &api).await;
        Self { oauth, api }
    }

    fn config(&self) -> &PinterestSettings {
        &self.api.config
    }

    // ---- identities ------------------------------------------------------------------------

    /// The app's client id (app id).
    pub fn client_id(&self) -> &str {
        &self.config().client_id
    }

    /// The app's client secret.
    pub fn client_secret(&self) -> &str {
        &self.config().client_secret
    }

    /// The account's id (`GET /v5/user_account`'s `id`).
    pub fn account_id(&self) -> &str {
        &self.config().account_id
    }

    /// The account's username.
    pub fn username(&self) -> &str {
        &self.config().username
    }

    /// Whether the most recent refresh request carried `continuous_refresh=true`: `None`
    /// before any refresh, `Some(false)` for one without the flag (or with another value).
    pub fn last_refresh_had_continuous_flag(&self) -> Option<bool> {
        self.oauth.last_refresh_params().map(|params| {
            params
                .iter()
                .any(|(k, v)| k == "continuous_refresh" && v == "true")
        })
    }

    // ---- faults ----------------------------------------------------------------------------

    /// Makes the next API or upload request whose path contains `path_contains` answer
    /// `reply`, whatever it asked (with an `x-pinterest-rid` added). Faults queue; each is used
    /// once; a faulted request is recorded but changes nothing. The OAuth endpoints take their
    /// faults through [`oauth`](Self::oauth)`().fail_token_requests`.
    pub fn fail_next(&self, path_contains: &str, reply: Reply) {
        self.api.lock().faults.push(path_contains, reply, 1);
    }

    /// Like [`fail_next`](Self::fail_next) with `status` and the JSON `body`.
    pub fn fail_next_json(&self, path_contains: &str, status: u16, body: Value) {
        self.fail_next(path_contains, Reply::json(status, body));
    }

    /// The next matching request answers `429 {"code":8,"message":"Rate limit exceeded."}`,
    /// with `Retry-After` in whole seconds when given.
    pub fn fail_next_rate_limit(&self, path_contains: &str, retry_after: Option<Duration>) {
        self.fail_next(
            path_contains,
            wire::rate_limited(retry_after.map(|d| d.as_secs())),
        );
    }

    /// The next matching request answers the anti-spam `429 {"code":8,"message":"Request
    /// blocked","message_detail":"Your request was blocked by our spam filter"}`, which a
    /// client must not retry.
    pub fn fail_next_spam_block(&self, path_contains: &str) {
        self.fail_next(path_contains, wire::spam_blocked());
    }

    /// The next matching request answers `502` with an HTML body.
    pub fn fail_next_bad_gateway(&self, path_contains: &str) {
        self.fail_next(path_contains, wire::bad_gateway());
    }

    /// The next page of a list (boards, sections, a board's pins) whose path contains
    /// `path_contains` answers the paging edge case `fault`. Queues; each is used once.
    pub fn fail_next_page(&self, path_contains: &str, fault: PageFault) {
        self.api.lock().page_faults.push(path_contains, fault, 1);
    }

    // ---- what the API holds ----------------------------------------------------------------

    /// The boards, oldest first (seeded, then created), as they are now.
    pub fn boards(&self) -> Vec<Board> {
        self.api.lock().boards.clone()
    }

    /// The pins, oldest first (seeded, then created), with their decoded media source.
    pub fn pins(&self) -> Vec<Pin> {
        self.api.lock().pins.clone()
    }

    /// The media uploads registered, oldest first, with the status a read would see now.
    pub fn media(&self) -> Vec<MediaUpload> {
        let polls = self.config().media_processing_polls;
        self.api
            .lock()
            .media
            .iter()
            .map(|m| MediaUpload {
                media_id: m.id.clone(),
                media_type: m.media_type.clone(),
                status: m.status(polls).to_owned(),
                uploaded_bytes: m.uploaded,
            })
            .collect()
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
}
