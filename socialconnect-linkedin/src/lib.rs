//! `socialconnect-linkedin`: LinkedIn's 3-legged OAuth, the versioned REST API and Rest.li
//! encoding, on the SocialConnect platform kit.
//!
//! | module | holds |
//! |---|---|
//! | [`LinkedInConfig`], [`LinkedInClient`] | the app's id, secret, hosts and pinned `LinkedIn-Version`; the call path every surface shares (`LinkedIn-Version` and `X-Restli-Protocol-Version` on every `/rest/*` call) |
//! | [`LinkedInLogin`] | OAuth as a core [`Platform`](socialconnect_core::platform::Platform), identity through OIDC `userinfo` |
//! | [`comments`] | comments on a post through `socialActions`: list with paging, create |
//! | `paging` | both paging styles: `start`/`count` with `paging`, `pageSize`/`pageToken` with `metadata.nextPageToken` |
//! | [`actions`] | [`LinkedInActions`]: scheduled posts (a lost answer goes to a person) |
//! | [`posts`] | posts as a member or an organization, delete |
//! | [`images`] | image upload: initialize, one streamed `PUT`, status until `AVAILABLE` |
//! | [`rate_limits`] | the host's daily budgets per app and per member (LinkedIn sends no rate headers) |
//! | [`videos`] | video upload: initialize with the size, one streamed `PUT` per part, finalize with the etags, status |
//! | [`media`] | the processing status images and videos share |
//! | [`member`] | the member behind a token: typed OIDC `userinfo` (`locale` in either shape), token introspection |
//! | [`organizations`] | the organizations a member administers, the posting-role check |
//! | [`statistics`] | organization share statistics, follower facets, gains and total |
//! | [`urn`] | URNs as a typed value; path and Rest.li encodings |
//! | [`little_text`] | post commentary: escaping and mentions |
//! | [`error`] | LinkedIn's error body as a table on the kit's `ErrorMap`, the sunset-version and day-limit classifiers |
//! | [`version`] | the pinned version and its sunset table |
//! | [`webhook`] | the `challengeCode` validation, `X-LI-Signature`, typed social-action notifications, dedupe |
//!
//! Facts come from `../shared/platforms/tiktok-linkedin-pinterest.md` §2; where a fact is
//! UNCONFIRMED, the parser is tolerant and a comment says so.

pub mod actions;
mod client;
pub mod comments;
pub mod error;
pub mod images;
mod limits;
pub mod little_text;
pub mod media;
pub mod member;
mod oauth;
pub mod organizations;
mod paging;
pub mod posts;
pub mod statistics;
pub mod urn;
pub mod version;
pub mod videos;
pub mod webhook;

pub use actions::LinkedInActions;
pub use client::{LinkedInClient, LinkedInConfig, RESTLI_PROTOCOL_VERSION};
pub use limits::rate_limits;
pub use oauth::{LinkedInLogin, scopes};
pub use urn::Urn;
pub use version::LINKEDIN_VERSION;
