//! Runnable SocialConnect examples.
//!
//! * `quickstart` (`cargo run -p examples --bin quickstart`): the whole life of one end user
//!   against a simulated Meta Graph API on loopback — consent, Facebook Login, a Page post, an
//!   Instagram photo, insights, an export of the user's data, a signed data-deletion callback
//!   and erasure — with the encrypted SQLite store. No credentials, no network.
