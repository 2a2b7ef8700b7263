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
//! | [`actions`] | [`MetaActions`]: scheduled Page posts, replies, insights snapshots and Instagram images, reconciled after an unknown outcome |
//! | [`webhook`] | `hub.challenge` handshake, `X-Hub-Signature-256`, typed events |
//! | [`signed_request`], [`privacy`] | the Deauthorize and Data Deletion callbacks |
//! | [`model`] | wire types |
//! | [`version`] | the pinned Graph API version and published end dates |
//!
//! ```no_run
//! use std::sync::Arc;
//! use socialconnect_core::http::HttpClient;
//! use socialconnect_core::id::Purpose;
//! use socialconnect_core::SocialConnect;
//! use socialconnect_meta::pages::FeedPost;
//! use socialconnect_meta::{FacebookLogin, MetaClient, MetaConfig, MetaProduct};
//!
//! # async fn demo(hub_builder: socialconnect_core::SocialConnectBuilder,
//! #               key: socialconnect_core::id::ConnectionKey) -> socialconnect_core::Result<()> {
//! let http = HttpClient::builder().build()?;
//! let meta = MetaClient::new(MetaConfig::from_env()?, http.clone()); // META_APP_ID, META_APP_SECRET
//! let hub: SocialConnect = hub_builder
//!     .http(http)
//!     .platform(Arc::new(FacebookLogin::new(meta.clone(), MetaProduct::Facebook)?))
//!     .build()?;
//! // After connect/complete: publish on the first Page the user manages.
//! let session = hub.session(&key, Purpose::Publishing).await?;
//! let page = meta.page_accounts(&session).await?.remove(0);
//! let post = meta.pages(&session).publish(&page, &FeedPost::text("Hello")).await?;
//! # let _ = post; Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod accounts;
pub mod actions;
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
pub use actions::MetaActions;
pub use client::{MetaClient, MetaConfig};
pub use oauth::{DebugTokenError, FacebookLogin, MetaProduct, TokenInfo};
pub use version::GRAPH_API_VERSION;
