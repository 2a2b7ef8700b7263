//! LinkedIn: [`LinkedInSimulator`], LinkedIn's 3-legged OAuth, the versioned REST API (posts,
//! images, videos, organization roles and statistics, comments) and signed webhooks on a
//! loopback wiremock server.
//!
//! It speaks the wire format of the LinkedIn fact sheet and depends on no LinkedIn crate, so a
//! connector's mistakes show up against it rather than being shared with it.

mod builder;
mod comments;
mod images;
mod model;
mod organizations;
mod posts;
mod request;
mod restli;
mod routes;
mod state;
mod statistics;
mod videos;
mod webhook;
mod wire;

use std::sync::Arc;

use serde_json::Value;
use url::Url;
use wiremock::MockServer;

use crate::catch_all::UnexpectedRequest;
use crate::oauth::{AuthorizeError, OAuthSimulator, TokenFault};
use crate::sim::{Reply, SimOptions};

pub use builder::{LinkedInSettings, LinkedInSimulatorBuilder};
pub use model::{Comment, OrganizationAcl, Post};
pub use webhook::{MAX_BATCH, Notification, SIGNATURE_HEADER, SignedNotifications};

use state::Api;

/// A simulated LinkedIn on one loopback [`MockServer`]: the API host (`api.linkedin.com`) and
/// the sign-in host (`www.linkedin.com`) alike are [`base_url`](Self::base_url).
///
/// | endpoint | does |
/// |---|---|
/// | `GET /oauth/v2/authorization` | `client_id`, `response_type=code`, space-separated `scope`, `redirect_uri`, `state`; `302` to `redirect_uri?code=…&state=…` (play it with [`authorize`](Self::authorize)) |
/// | `POST /oauth/v2/accessToken` | form body with `client_id` and `client_secret` (no HTTP Basic); `authorization_code` and `refresh_token` grants; 60-day access tokens, the same refresh token back on a refresh with `refresh_token_expires_in` |
/// | `POST /oauth/v2/revoke` | form `client_id`, `client_secret`, `token` |
/// | `GET /v2/userinfo` | OIDC: `{sub, name}` for a valid bearer token |
/// | every `/rest/*` route below | `LinkedIn-Version: YYYYMM` required (missing or malformed → `400`, sunset or unreleased → `426 NONEXISTENT_VERSION`) and `X-Restli-Protocol-Version: 2.0.0` (missing → `400`); a bearer token that is unknown (`INVALID_ACCESS_TOKEN`), expired (`EXPIRED_ACCESS_TOKEN`) or revoked (`REVOKED_ACCESS_TOKEN`) → `401` with `serviceErrorCode` 65600; a missing scope or role → `403 ACCESS_DENIED` (`serviceErrorCode` 100, "Not enough permissions to access: posts.CREATE.20261101") |
/// | `POST /rest/posts` | `author` (the member `urn:li:person:{sub}` with `w_member_social`, or an organization with `w_organization_social` and an approved ADMINISTRATOR, DIRECT_SPONSORED_CONTENT_POSTER, CONTENT_ADMINISTRATOR or RECRUITING_POSTER role), `commentary` (little text: reserved characters escaped), `visibility`, `distribution`, `lifecycleState`, optional `content` (`media` or `multiImage` of AVAILABLE media the author owns); `201`, empty body, `x-restli-id: urn:li:share:N` (`urn:li:ugcPost:N` with media); a bad field → `422 ERROR :: /path :: …`. Read back with [`posts`](Self::posts) |
/// | `DELETE /rest/posts/{encoded urn}` | `204`; `404 RESOURCE_NOT_FOUND` for a post not held |
/// | `POST /rest/images?action=initializeUpload` | `{initializeUploadRequest: {owner}}` → `{value: {uploadUrlExpiresAt, uploadUrl, image}}`, the upload URL on this server |
/// | `PUT /upload/image/{id}?token=…` | the bytes, once, with the member's bearer token; `201` |
/// | `GET /rest/images/{encoded urn}` | `{id, status, owner}`: `WAITING_UPLOAD` → `PROCESSING` for [`image_processing_polls`](LinkedInSimulatorBuilder::image_processing_polls) reads → `AVAILABLE` (with `downloadUrl`), or `PROCESSING_FAILED` for an empty upload |
/// | `POST /rest/videos?action=initializeUpload` | `{initializeUploadRequest: {owner, fileSizeBytes, uploadCaptions, uploadThumbnail}}` → `{value: {uploadUrlsExpireAt, video, uploadInstructions: [{uploadUrl, firstByte, lastByte}], uploadToken: ""}}` in 4 MiB parts, the last shorter |
/// | `PUT /upload/video/{id}/{part}?token=…` | exactly the part's bytes; `200` with an `ETag` |
/// | `POST /rest/videos?action=finalizeUpload` | `{finalizeUploadRequest: {video, uploadToken: "", uploadedPartIds}}`, every ETag in part order; `200`, else `400` |
/// | `GET /rest/videos/{encoded urn}` | `{id, status}`: `WAITING_UPLOAD` until finalized, `PROCESSING` for [`video_processing_polls`](LinkedInSimulatorBuilder::video_processing_polls) reads, `AVAILABLE` |
/// | `GET /rest/organizationAcls?q=roleAssignee[&role=][&state=]&start=&count=` | the member's roles from [`organization`](LinkedInSimulatorBuilder::organization): `{roleAssignee, role, state, organization}`, `paging {start, count, total}` (a short page is the end) |
/// | `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=…[&timeIntervals=…][&shares=List(…)][&ugcPosts=List(…)]` | `totalShareStatistics` lifetime, per `DAY`/`MONTH` bucket and per post; needs `rw_organization_admin` and an approved ADMINISTRATOR role; a malformed Rest.li value → `400` |
/// | `GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity&…[&timeIntervals=…]` | lifetime `followerCountsBy*` facets (counts in `organicFollowerCount`/`paidFollowerCount`, no `totalFollowerCounts`), or `followerGains` per bucket |
/// | `GET /rest/networkSizes/{encoded org urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER` | `{firstDegreeSize}` ([`follower_total`](LinkedInSimulatorBuilder::follower_total)) |
/// | `GET /rest/socialActions/{encoded urn}/comments?start=&count=` | the post's comments, oldest first, classic paging (`r_organization_social` or `r_member_social`) |
/// | `POST /rest/socialActions/{encoded urn}/comments` | `{actor, object, message: {text}}` → `201` with the comment (`id`, `commentUrn`, `actor`, `object`, `message`, `created`) |
///
/// LinkedIn's daily limits are not counted; queue one with
/// [`fail_next_day_limit`](Self::fail_next_day_limit). Webhook deliveries are built, not sent:
/// [`webhook`](Self::webhook) and [`challenge`](Self::challenge). Every other request hits a
/// [`CatchAll`](crate::CatchAll): it is answered `599` and the simulator panics when dropped
/// (or on [`assert_no_unexpected`](Self::assert_no_unexpected)) naming it.
///
/// ```no_run
/// # async fn demo() {
/// use socialconnect_testkit::linkedin::{LinkedInSimulator, Notification};
///
/// let sim = LinkedInSimulator::builder()
///     .organization("2414183", "Sim Bakery", "ADMINISTRATOR", "APPROVED")
///     .start()
///     .await;
/// // The code under test points its API and sign-in bases at `sim.base_url()`, builds the
/// // authorize URL with `sim.client_id()`, and the test plays the browser:
/// # let authorize_url = sim.authorize_url();
/// let (code, state) = sim.authorize(&authorize_url);
/// // ... the code under test exchanges `code`, uploads an image, posts ...
/// sim.fail_next_day_limit("/rest/posts");
/// let delivery = sim.webhook(&[Notification::new(1, "COMMENT")
///     .organization("urn:li:organization:2414183")]);
/// // ... hand `delivery.body` and `delivery.signature` (X-LI-Signature) to the handler ...
/// # let _ = (code, state, delivery);
/// assert!(sim.posts().is_empty());
/// sim.assert_no_unexpected();
/// # }
/// ```
#[derive(Debug)]
pub struct LinkedInSimulator {
    oauth: OAuthSimulator,
    api: Arc<Api>,
}

impl LinkedInSimulator {
    /// A builder for a simulator with non-default settings.
    pub fn builder() -> LinkedInSimulatorBuilder {
        LinkedInSimulatorBuilder::default()
    }

    /// Starts a simulator with the default settings (see [`LinkedInSimulatorBuilder`]).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub(crate) async fn start_with(options: SimOptions, settings: LinkedInSettings) -> Self {
        let oauth = OAuthSimulator::start_with(options.clone(), settings.oauth()).await;
        let api = Arc::new(Api::new(
            settings,
            options,
            oauth.base_url(),
            oauth.token_check(),
        ));
        routes::mount(oauth.server(), &api).await;
        Self { oauth, api }
    }

    fn config(&self) -> &LinkedInSettings {
        &self.api.config
    }

    // ---- addresses and identities ----------------------------------------------------------

    /// The server's root, e.g. `http://127.0.0.1:41234/`: the API base and the sign-in base
    /// alike.
    pub fn base_url(&self) -> Url {
        self.oauth.base_url()
    }

    /// `{base}/oauth/v2/authorization`.
    pub fn authorize_url(&self) -> Url {
        self.oauth.authorize_url()
    }

    /// `{base}/oauth/v2/accessToken`.
    pub fn token_url(&self) -> Url {
        self.oauth.token_url()
    }

    /// `{base}/oauth/v2/revoke`.
    pub fn revoke_url(&self) -> Url {
        self.oauth.revoke_url()
    }

    /// `{base}/v2/userinfo`.
    pub fn userinfo_url(&self) -> Url {
        self.oauth.userinfo_url()
    }

    /// The server, to mount extra mocks. Mocks mounted there take precedence over the
    /// catch-all; one mounted with `with_priority(1)` also overrides a simulator route.
    pub fn server(&self) -> &MockServer {
        self.oauth.server()
    }

    /// The sign-in side, the kit's [`OAuthSimulator`] in LinkedIn's dialect: its counters,
    /// [`issue_tokens`](OAuthSimulator::issue_tokens) to start from a connected member,
    /// [`fail_token_requests`](OAuthSimulator::fail_token_requests), the issued tokens.
    pub fn oauth(&self) -> &OAuthSimulator {
        &self.oauth
    }

    /// The app's client id.
    pub fn client_id(&self) -> &str {
        &self.config().client_id
    }

    /// The app's client secret (also the webhook signing key).
    pub fn client_secret(&self) -> &str {
        &self.config().client_secret
    }

    /// The member's OIDC `sub`.
    pub fn member_sub(&self) -> &str {
        &self.config().member_sub
    }

    /// `urn:li:person:{sub}`.
    pub fn member_urn(&self) -> String {
        format!("urn:li:person:{}", self.config().member_sub)
    }

    /// The member's organization roles, as seeded.
    pub fn organizations(&self) -> Vec<OrganizationAcl> {
        self.config().acls.clone()
    }

    // ---- the browser step ------------------------------------------------------------------

    /// Plays the browser and the consenting member on `authorize_url` and returns the
    /// `(code, state)` the redirect carries.
    ///
    /// # Panics
    ///
    /// When the request is refused; [`try_authorize`](Self::try_authorize) returns the refusal.
    #[track_caller]
    pub fn authorize(&self, authorize_url: &Url) -> (String, String) {
        match self.try_authorize(authorize_url) {
            Ok(grant) => grant,
            Err(e) => panic!("LinkedInSimulator refused the authorization request: {e}"),
        }
    }

    /// Like [`authorize`](Self::authorize), returning the refusal (`access_denied` after
    /// [`deny_next_authorization`](Self::deny_next_authorization), `invalid_request`, or
    /// `wrong_endpoint` for a URL that is not this simulator's authorization page).
    pub fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        self.oauth.try_authorize(authorize_url)
    }

    /// Makes the next authorization end in `error=access_denied`.
    pub fn deny_next_authorization(&self) {
        self.oauth.deny_next_authorization();
    }

    // ---- faults ----------------------------------------------------------------------------

    /// Makes the next REST or upload request whose path contains `path_contains` answer
    /// `status` with the JSON `body`, whatever it asked. Faults queue; each is used once; a
    /// faulted request is recorded but changes nothing. The OAuth endpoints take their
    /// faults through [`oauth`](Self::oauth)`().fail_token_requests`.
    pub fn fail_next(&self, path_contains: &str, status: u16, body: Value) {
        self.api
            .lock()
            .faults
            .push(path_contains, Reply::json(status, body), 1);
    }

    /// Makes the next request whose path contains `path_contains` answer LinkedIn's daily
    /// limit: `429 {"status":429,"serviceErrorCode":101,"message":"Resource level throttle
    /// APPLICATION DAY limit for calls to this resource is reached."}`, without `Retry-After`.
    pub fn fail_next_day_limit(&self, path_contains: &str) {
        self.api
            .lock()
            .faults
            .push(path_contains, wire::day_limit(), 1);
    }

    // ---- what the API holds ----------------------------------------------------------------

    /// The posts created and not deleted, oldest first.
    pub fn posts(&self) -> Vec<Post> {
        self.api.lock().posts.clone()
    }

    /// The comments on `post`, oldest first.
    pub fn comments(&self, post: &str) -> Vec<Comment> {
        self.api
            .lock()
            .comments_on(post)
            .into_iter()
            .cloned()
            .collect()
    }

    /// The status a read of image `urn` would see now (without advancing it), `None` for an
    /// unknown image.
    pub fn image_status(&self, urn: &str) -> Option<String> {
        let polls = self.config().image_processing_polls;
        self.api
            .lock()
            .images
            .get(urn)
            .map(|i| i.status(polls).to_owned())
    }

    /// The lowercase hex SHA-256 of the bytes uploaded for image `urn`, once they came.
    pub fn image_sha256(&self, urn: &str) -> Option<String> {
        self.api
            .lock()
            .images
            .get(urn)
            .and_then(|i| i.sha256.clone())
    }

    /// The status a read of video `urn` would see now, `None` for an unknown video.
    pub fn video_status(&self, urn: &str) -> Option<String> {
        let polls = self.config().video_processing_polls;
        self.api
            .lock()
            .videos
            .get(urn)
            .map(|v| v.status(polls).to_owned())
    }

    // ---- webhooks --------------------------------------------------------------------------

    /// A signed delivery of `notifications` (`lastModifiedAt` the simulator's clock where
    /// unset): the raw body `{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
    /// "notifications": […]}` and the [`SIGNATURE_HEADER`] value, the hex HMAC-SHA256 of
    /// `"hmacsha256=" + body` under the client secret. Nothing is sent.
    ///
    /// # Panics
    ///
    /// For more than [`MAX_BATCH`] notifications: LinkedIn never batches more.
    pub fn webhook(&self, notifications: &[Notification]) -> SignedNotifications {
        assert!(
            notifications.len() <= MAX_BATCH,
            "LinkedIn delivers at most {MAX_BATCH} notifications at once"
        );
        webhook::deliver(
            &self.config().client_secret,
            notifications,
            self.api.now().timestamp_millis(),
        )
    }

    /// The `challengeResponse` LinkedIn expects for `challengeCode` `code`: the hex
    /// HMAC-SHA256 of the code under the client secret.
    pub fn challenge(&self, code: &str) -> String {
        webhook::challenge_response(&self.config().client_secret, code)
    }

    // ---- inspection ------------------------------------------------------------------------

    /// REST and upload requests whose path contains `path_contains`, whatever their outcome.
    pub fn requests_to(&self, path_contains: &str) -> usize {
        self.api
            .lock()
            .requests
            .iter()
            .filter(|r| r.path.contains(path_contains))
            .count()
    }

    /// The JSON body of the most recent REST request whose path contains `path_contains`.
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

impl crate::conformance::Simulator for LinkedInSimulator {
    fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        LinkedInSimulator::try_authorize(self, authorize_url)
    }

    fn deny_next_authorization(&self) {
        LinkedInSimulator::deny_next_authorization(self);
    }

    /// The next refresh grant answers `invalid_grant`.
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
        LinkedInSimulator::server(self)
    }
}
