//! Runnable SocialConnect examples.
//!
//! * `quickstart` (`cargo run -p examples --bin quickstart`): the whole life of one end user
//!   against a simulated Meta Graph API and a simulated TikTok API on loopback — consent,
//!   Facebook Login, a Page post, an Instagram photo, insights, TikTok Login Kit, a chunked
//!   TikTok upload polled to `PUBLISH_COMPLETE`, the video list with stats, an export of the
//!   user's data, a signed data-deletion callback, a signed TikTok `authorization.removed` and
//!   erasure — with the encrypted SQLite store. No credentials, no network.
