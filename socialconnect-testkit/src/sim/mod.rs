//! The simulator core: what every platform simulator ([`OAuthSimulator`](crate::OAuthSimulator),
//! [`GraphSimulator`](crate::meta::GraphSimulator) and the ones to come) builds on instead of
//! writing again.
//!
//! - [`SimServer`]: the loopback mock server, its address and the [`CatchAll`](crate::CatchAll)
//!   that reports every request no route matched.
//! - [`authorize`]: the browser step: check the authorize URL points at the simulator's dialog,
//!   run the dialog, and read the `(code, state)` or the refusal off the redirect.
//! - [`Reply`]: a JSON (or text, or empty) answer with headers and a delay, turned into a
//!   wiremock response in one place.
//! - [`FaultQueue`]: faults queued by the test, each used once, matched by path.
//! - [`bearer_token`], [`json_body`], [`hmac_sha256_hex`]: the bearer token, a JSON body and
//!   the hex HMAC-SHA256 of webhook signatures, read and computed one way for every simulator.
//! - [`SimBuilder`]: the builder every simulator is configured with. The setters all
//!   platforms share (redirect URIs, granted scopes, token latency, the clock) are written
//!   once on it; a simulator adds its own settings type, setters and `start`.
//!
//! Inside the crate, a platform simulator also takes from here its API's shape (settings,
//! clock, base URL, token check and locked state), the one mock that mounts its route table,
//! a multipart reader, and the accessors and conformance implementation it delegates to its
//! OAuth side.

mod api;
mod browser;
mod builder;
mod faults;
mod front;
pub(crate) mod multipart;
mod reply;
mod request;
mod routes;
mod server;

pub(crate) use api::SimApi;
pub use browser::{AuthorizeError, authorize};
pub use builder::SimBuilder;
pub(crate) use builder::SimOptions;
pub use faults::FaultQueue;
pub(crate) use front::oauth_front;
pub use reply::{Body, Reply};
pub use request::{bearer_token, hmac_sha256_hex, json_body};
pub(crate) use routes::{RouteTable, header, mount_routes};
pub use server::SimServer;
