//! `socialconnect-core`: the types, traits and engines every SocialConnect crate shares.
//!
//! A host backend builds one [`SocialConnect`] hub with its platform connectors and stores,
//! records consent, sends the end user through [`SocialConnect::connect`] and
//! [`SocialConnect::complete`], and then acts for them through a [`Session`], which always holds
//! a fresh token and logs every call.
//!
//! ```no_run
//! use std::sync::Arc;
//! use socialconnect_core::{SocialConnect, memory, http::HttpClient};
//!
//! # fn build() -> socialconnect_core::Result<SocialConnect> {
//! let http = HttpClient::builder().build()?;
//! // The memory stores are unencrypted: for tests and prototypes only. Production hosts use
//! // `socialconnect-store`.
//! let hub = SocialConnect::builder()
//!     .http(http)
//!     .token_store(Arc::new(memory::MemoryTokenStore::new()))
//!     .pending_store(Arc::new(memory::MemoryPendingAuthStore::new()))
//!     .consent_ledger(Arc::new(memory::MemoryConsentLedger::new()))
//!     .access_log(Arc::new(memory::MemoryAccessLog::new()))
//!     .build()?;
//! # Ok(hub) }
//! ```
#![forbid(unsafe_code)]

pub mod automation;
pub mod clock;
pub mod connect;
pub mod error;
mod hub;
pub mod id;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod privacy;
pub mod secret;

// The paths hosts used before core was grouped into `connect` and `privacy` stay valid.
pub use connect::{claim, http, oauth, platform, store, token, webhook};
pub use privacy::{
    access_log, age, alert, apikey, consent, keys, platform_deletion, profile, receipt,
};

pub use connect::platform::Revocation;
pub use connect::refresh::RefreshPolicy;
pub use error::{Error, ErrorKind, Result};
#[allow(deprecated)] // the old name stays importable, with its deprecation note
pub use hub::UpstreamRevocation;
pub use hub::{
    ActionEvent, ActionRequest, ActionRunner, ActionRunnerHandle, ApiCaller, AuthorizationRequest,
    ConnectOptions, Connected, Disconnected, EXPORT_FORMAT, EXPORT_VERSION, ErasureOutcome,
    PurgeReport, RefreshSweep, Refreshed, RetentionPolicy, RunReport, RunnerOptions, Session,
    SocialConnect, SocialConnectBuilder, SweepEvent, SweepHandle, SweepOptions, SweepReport,
    UsageLogOptions,
};
