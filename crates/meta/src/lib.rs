//! `socialconnect-meta`: Facebook Pages, Instagram and WhatsApp Cloud API connectors.
#![forbid(unsafe_code)]

mod accounts;
mod client;
pub mod error;
pub mod instagram;
pub mod model;
mod oauth;
pub mod pages;
pub mod ratelimit;
pub mod version;
pub mod whatsapp;

pub use accounts::{InstagramAccount, PageAccount};
pub use client::{MetaClient, MetaConfig};
pub use oauth::{FacebookLogin, MetaProduct, TokenInfo};
pub use version::GRAPH_API_VERSION;
