//! The connector SDK: what a platform crate builds on.
//!
//! | module | holds |
//! |---|---|
//! | [`platform`] | the [`Platform`](platform::Platform) lifecycle trait and the OAuth dialect ([`OAuthSpec`](platform::OAuthSpec)) |
//! | [`oauth`] | authorize URLs, PKCE, state, the token endpoint client, RFC 6749 platforms as configuration |
//! | [`http`] | the HTTPS-only HTTP layer: timeouts, body caps, retries, rate limiting |
//! | [`env`](mod@env) | a platform app's settings from the environment, with a `Config` error naming a missing one |
//! | [`envelope`] | error envelopes as data: where a platform's error sits in a body, and an ordered table mapping it to core's kinds |
//! | [`classify`] | the ordered response classifiers a platform plugs into the call path ([`ApiCaller`](crate::ApiCaller)) |
//! | [`token`] | [`TokenSet`](token::TokenSet) and its expiry |
//! | [`store`] | the token and pending-authorization storage traits |
//! | [`webhook`] | HMAC signatures over raw bodies, schemes as data, timestamped schemes, handshakes, delivery dedupe |
//! | [`decode`] | tolerant serde helpers for wire types: ids as strings or numbers, loose integers, bounded strings |
//! | [`paging`] | one pagination walker for cursor, bookmark, offset and next-URL styles, with guards |
//! | [`poll`] | polling a processing status under a budget, with a typed outcome |
//! | [`upload`] | media uploads: a streamed PUT, chunked PUTs with `Content-Range`, multipart forms |
//! | [`version`] | API-version pins, sunset tables and the test that flags a pin near its end |
//!
//! A contributor adding a platform touches this half of core and nothing in
//! [`privacy`](crate::privacy).

pub mod claim;
pub mod classify;
pub mod decode;
pub mod env;
pub mod envelope;
pub mod http;
pub mod oauth;
pub mod paging;
pub mod platform;
pub mod poll;
pub(crate) mod refresh;
pub mod store;
pub mod token;
pub mod upload;
pub mod version;
pub mod webhook;
