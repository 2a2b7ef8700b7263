//! `socialconnect-pinterest`: Pinterest API v5 on the SocialConnect platform kit.
//!
//! | module | holds |
//! |---|---|
//! | [`PinterestConfig`], [`PinterestClient`] | the app's id, secret and hosts; the call path every surface shares |
//! | [`PinterestClient::login`] | OAuth as a core `Platform` on the kit's `StandardPlatform`: comma scopes, HTTP Basic, continuous refresh, no upstream revoke |
//! | [`actions`] | [`PinterestActions`]: scheduled Pins, reconciled from the board's Pins |
//! | [`account`] | the user account (nullable counts optional) |
//! | [`boards`] | boards (bookmark paging, create, update, delete) and board sections |
//! | [`pins`] | Pins with every media source, get, list by board, delete; the length checks |
//! | [`media`] | video upload: register, multipart `POST` to the presigned URL, status polling |
//! | [`analytics`] | account and Pin analytics keyed by split group, provisional days marked |
//! | [`error`] | Pinterest's `{code, message}` as a table on the kit's `ErrorMap`, the anti-spam 429, `x-pinterest-rid` |
//! | [`limits`] | Pin field lengths (UTF-16 units), the rate limits of each access tier |
//! | `paging` | `{items, bookmark}` on the kit's cursors |
//!
//! Facts come from `../shared/platforms/tiktok-linkedin-pinterest.md` §3; where a fact is
//! UNCONFIRMED, the parser is tolerant and a comment says so.

pub mod account;
pub mod actions;
pub mod analytics;
pub mod boards;
mod client;
pub mod error;
pub mod limits;
pub mod media;
mod oauth;
mod paging;
pub mod pins;

pub use actions::PinterestActions;
pub use client::{PinterestClient, PinterestConfig};
pub use limits::{AccessTier, rate_limits};
pub use oauth::{scopes, token_error};
pub use paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
