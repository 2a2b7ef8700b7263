//! `socialconnect-cli`: operating a SocialConnect deployment.
//!
//! - [`deployment`]: the one configuration file the `socialconnect` CLI and the host service
//!   share ([`Deployment`]): store, keys, controller, notice, purposes and their legal bases,
//!   retention, age policy, platforms. It opens the encrypted store and wires a hub over it.
//! - [`records`]: the GDPR Art. 30 record of processing activities generated from that
//!   configuration and the hub built from it ([`RecordOfProcessing`]).
//! - [`doctor`]: the checks `socialconnect doctor` runs.
//!
//! The `socialconnect` binary is built on these and on the public API of core and the store.
//!
//! ```no_run
//! use std::path::Path;
//! use socialconnect_cli::{Deployment, RecordOfProcessing};
//! use socialconnect_core::http::HttpClient;
//!
//! # async fn run() -> socialconnect_core::Result<()> {
//! let deployment = Deployment::from_file(Path::new("/etc/socialconnect/deployment.toml"))?;
//! let store = deployment.open_store().await?;
//! let hub = deployment
//!     .hub_builder(HttpClient::builder().build()?, &store)?
//!     .build()?;
//! let record = RecordOfProcessing::generate(&deployment, &hub);
//! assert!(!record.is_flagged(), "{:?}", record.flags);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod deployment;
pub mod doctor;
pub mod records;

pub use deployment::Deployment;
pub use records::RecordOfProcessing;
