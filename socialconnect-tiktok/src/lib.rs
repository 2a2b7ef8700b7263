//! `socialconnect-tiktok`: TikTok Login Kit (OAuth v2), the Display API and the Content
//! Posting API, on the SocialConnect platform kit.
//!
//! | module | holds |
//! |---|---|
//! | [`TikTokConfig`], [`TikTokClient`] | the app's key, secret and hosts; the call path every surface shares |
//! | [`TikTokLogin`] | Login Kit as a core [`Platform`](socialconnect_core::platform::Platform): the OAuth dialect as configuration |
//! | [`display`] | user info and the video list and query |
//! | [`posting`] | Content Posting: creator info, video direct posts and inbox uploads in chunks, photo posts, status |
//! | [`actions`] | [`TikTokActions`]: scheduled video posts, followed by their `publish_id` |
//! | [`error`] | TikTok's error envelope as a table on the kit's `ErrorMap` |
//! | [`rate_limits`] | the documented windows, for the HTTP client |
//! | [`scopes`] | TikTok's scope names |
//! | [`model`] | wire types |
//! | [`webhook`] | `TikTok-Signature` checks, typed events, dedupe, `authorization.removed` against the hub |
//!
//! Facts come from `../shared/platforms/tiktok-linkedin-pinterest.md` §1; where a fact is
//! UNCONFIRMED, the parser is tolerant and a comment says so.

pub mod actions;
mod client;
pub mod display;
pub mod error;
mod limits;
pub mod model;
mod oauth;
pub mod posting;
pub mod scopes;
pub mod webhook;

pub use actions::TikTokActions;
pub use client::{AppKind, TikTokClient, TikTokConfig};
pub use limits::rate_limits;
pub use oauth::TikTokLogin;
