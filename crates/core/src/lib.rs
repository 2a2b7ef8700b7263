//! `socialconnect-core`: the types, traits and engines every SocialConnect crate shares.
#![forbid(unsafe_code)]

pub mod access_log;
pub mod clock;
pub mod consent;
pub mod error;
pub mod id;
pub mod keys;
pub mod memory;
pub mod platform;
pub mod secret;
pub mod store;
pub mod token;
pub mod webhook;

pub use error::{Error, ErrorKind, Result};
