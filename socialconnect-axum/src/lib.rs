//! `socialconnect-axum`: the SocialConnect routes as an [`axum::Router`] a host mounts next
//! to its own.
//!
//! A separate crate rather than a feature of core: a host that does not use axum never
//! compiles axum, tower-http or rustls server code, core stays free of any web framework,
//! and everything here is built on the public API of core and the platform crates only —
//! proof that the API is enough to write the service a host needs.
//!
//! | Route | What it does |
//! |---|---|
//! | `GET /connect/{platform}` | consent form and age gate when needed, then `303` to the platform's authorize page |
//! | `POST /connect/{platform}` | records the consents (CSRF-checked, age-gated), then `303` to the platform |
//! | `GET /callback/{platform}` | the whole callback URL handed to the hub; denial, replay and errors as a page |
//! | `GET, POST /webhooks/{platform}` | handshake; raw-body verified delivery, deduplicated, handed off |
//! | `POST /meta/deauthorize`, `POST /meta/data-deletion`, `GET /meta/deletion-status` | Meta's privacy callbacks |
//! | `/api/v1/subjects/{subject}/…` | the [data-subject API](dsr) behind API keys, rate-limited per key |
//! | `GET /privacy`, `POST /privacy/{withdraw,reconsent,export,delete,actions/cancel}` | the end user's privacy page, with the actions scheduled for them |
//!
//! The host supplies who is signed in ([`EndUsers`]), the platforms and purposes to offer,
//! and what the page says about it ([`PrivacyInfo`]); [`serve()`] runs the router over HTTPS
//! with HSTS and a graceful shutdown.
#![forbid(unsafe_code)]
// Handlers return `Result<_, Response>` to short-circuit with a finished answer (axum's own
// idiom); boxing the response on each early return would buy nothing on a request path.
#![allow(clippy::result_large_err)]

mod connect;
mod csrf;
pub mod dsr;
mod error;
mod export;
mod forms;
mod html;
mod info;
#[cfg(feature = "meta")]
mod meta_privacy;
mod names;
pub mod notice;
mod page_forms;
mod privacy_page;
mod report;
mod routes;
mod scheduled;
#[cfg(feature = "tls")]
mod serve;
mod state;
mod users;
pub mod webhooks;

pub use csrf::{CSRF_TTL, CsrfKey};
pub use dsr::{ApiLimits, DataSubjectApi};
pub use info::PrivacyInfo;
pub use routes::{DEFAULT_BODY_LIMIT, HostRoutes, MIN_QUEUE};
#[cfg(feature = "tls")]
pub use serve::{ServeOptions, Server, Tls, secure, self_signed, serve, shutdown_signal};
pub use users::EndUsers;
