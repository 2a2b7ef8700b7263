//! `socialconnect-meta`: Facebook Pages, Instagram and WhatsApp Cloud API connectors, Meta
//! webhooks and Meta's privacy callbacks.
//!
//! Layout (the template the other platform crates follow):
//!
//! | module | holds |
//! |---|---|
//! | `client` | [`MetaConfig`], [`MetaClient`]: Graph base URL and pinned version, `appsecret_proof`, usage back-off |
//! | `oauth` | [`FacebookLogin`]: the [`Platform`](socialconnect_core::platform::Platform) lifecycle for Facebook, Instagram and WhatsApp |
//! | [`error`] | the Graph error envelope → SocialConnect error kinds |
//! | [`ratelimit`] | `X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage` |
//! | [`pages`], [`instagram`], [`whatsapp`] | one module per product surface: typed clients from [`MetaClient::pages`], [`MetaClient::instagram`], [`MetaClient::whatsapp`] |
//! | [`webhook`] | `hub.challenge` handshake, `X-Hub-Signature-256`, typed events |
//! | [`signed_request`], [`privacy`] | the Deauthorize and Data Deletion callbacks |
//! | [`model`] | wire types |
//! | [`version`] | the pinned Graph API version and published end dates |
#![forbid(unsafe_code)]

mod accounts;
mod client;
pub mod error;
pub mod instagram;
pub mod model;
mod oauth;
pub mod pages;
pub mod privacy;
pub mod ratelimit;
pub mod signed_request;
pub mod version;
pub mod webhook;
pub mod whatsapp;

pub use accounts::{InstagramAccount, PageAccount};
pub use client::{MetaClient, MetaConfig};
pub use oauth::{FacebookLogin, MetaProduct, TokenInfo};
pub use version::GRAPH_API_VERSION;
