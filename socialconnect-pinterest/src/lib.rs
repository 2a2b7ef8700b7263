//! `socialconnect-pinterest`: Pinterest API v5 on the SocialConnect platform kit.
//!
//! In progress (issue 13): what is here so far is what holds without a network call — the
//! error table and the limits checked before sending. OAuth, boards, pins, media upload and
//! analytics come next.
//!
//! | module | holds |
//! |---|---|
//! | [`error`] | Pinterest's `{code, message}` body as a table on the kit's `ErrorMap`, the anti-spam 429, the `x-pinterest-rid` request id |
//! | [`limits`] | Pin field lengths (UTF-16 units), the rate limits of each access tier |
//!
//! Facts come from `../shared/platforms/tiktok-linkedin-pinterest.md` §3; where a fact is
//! UNCONFIRMED, the parser is tolerant and a comment says so.

pub mod error;
pub mod limits;

pub use limits::{AccessTier, rate_limits};
