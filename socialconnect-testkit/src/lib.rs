//! `socialconnect-testkit`: what SocialConnect's tests, the examples' offline sandbox and a
//! contributor's new platform crate share. Dev-only; never a dependency of a shipped crate.
//!
//! - [`OAuthSimulator`]: an OAuth 2.0 provider on a loopback wiremock server (code grant with
//!   PKCE, refresh with rotation, revocation, userinfo), with fault injection and exact request
//!   counters.
//! - [`meta::GraphSimulator`]: a stateful Meta Graph API (Facebook Login, Pages, Instagram
//!   content publishing, WhatsApp Cloud API) with token checks, usage headers, fault injection
//!   and exact counters. Platform-specific simulators live in a module named after their
//!   platform.
//! - [`tiktok::TikTokSimulator`]: TikTok for Developers (Login Kit with rotating refresh
//!   tokens, the Display API, Content Posting with chunked uploads assembled and checked
//!   against `Content-Range`, status progression, signed webhook deliveries).
//! - [`linkedin::LinkedInSimulator`]: LinkedIn (OAuth with OIDC `userinfo`, the versioned
//!   REST API with its version and Rest.li checks, posts, image and multipart video uploads,
//!   organization roles and statistics, comments, signed webhook notifications).
//! - [`pinterest::PinterestSimulator`]: Pinterest API v5 (OAuth with HTTP Basic client auth
//!   and continuous refresh, boards and sections, pins of every media kind, S3-style video
//!   uploads with status progression, account and pin analytics, `{code, message}` errors).
//! - [`sim`]: the simulator core every simulator builds on (server and catch-all, the browser
//!   step, replies, fault queues).
//! - [`CatchAll`]: a lowest-priority mock that fails the test naming any request no other mock
//!   matched (`unexpected request: GET /foo`).
//! - [`JsonMock`]: a JSON answer (method, path, status, headers, a fixture body) mounted in one
//!   expression.
//! - [`fixture!`] and [`load_fixture`]: JSON fixtures from the calling crate's `tests/fixtures/`.
//! - [`Harness`]: a hub over the memory stores with consent, the connect flow and sessions one
//!   call each.
//! - [`conformance::run`]: the conformance suite every platform crate runs with its simulator.
//! - [`store_contract::run`]: the cases every storage backend passes, on core's traits alone.
//! - [`ManualClock`]: a [`Clock`](socialconnect_core::clock::Clock) that moves only when told.
//!
//! ```
//! use std::time::Duration;
//!
//! use socialconnect_testkit::{OAuthSimulator, TokenFault, pkce_s256};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sim = OAuthSimulator::builder()
//!     .access_token_lifetime(Duration::from_secs(60))
//!     .rotate_refresh_tokens(true)
//!     .start()
//!     .await;
//!
//! // The code under test builds the authorize URL; the test plays the browser.
//! let verifier = "a-verifier-of-at-least-forty-three-characters-long";
//! let mut url = sim.authorize_url();
//! url.query_pairs_mut()
//!     .append_pair("client_id", sim.client_id())
//!     .append_pair("redirect_uri", "http://127.0.0.1/callback")
//!     .append_pair("response_type", "code")
//!     .append_pair("state", "s1")
//!     .append_pair("code_challenge", &pkce_s256(verifier))
//!     .append_pair("code_challenge_method", "S256");
//! let (code, state) = sim.authorize(&url);
//! assert_eq!(state, "s1");
//!
//! // ... the code under test redeems `code` at `sim.token_url()` ...
//! sim.fail_token_requests(TokenFault::ServerError, 1); // the next token request answers 500
//! # let _ = code;
//! assert_eq!(sim.refresh_requests(), 0);
//! sim.assert_no_unexpected();
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod catch_all;
pub mod clock;
pub mod conformance;
pub mod fixtures;
pub mod harness;
pub mod linkedin;
pub mod meta;
pub mod mock;
pub mod oauth;
pub mod pinterest;
pub mod sim;
pub mod store_contract;
pub mod tiktok;
pub mod upstream;

pub use catch_all::{CatchAll, UNEXPECTED_STATUS, UnexpectedRequest};
pub use clock::ManualClock;
pub use fixtures::{fixture_path, load_fixture, load_fixture_bytes};
pub use harness::{Harness, HarnessBuilder, test_http_client};
pub use mock::JsonMock;
pub use oauth::{
    AuthorizeError, AuthorizeRequest, ClientAuth, IssuedTokens, OAuthErrorFormat, OAuthSimulator,
    OAuthSimulatorBuilder, TokenFault, pkce_s256,
};
