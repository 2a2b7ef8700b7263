//! `socialconnect-meta`: Facebook Pages, Instagram and WhatsApp Cloud API connectors.
//!
//! This crate is filled by a later issue; it exports nothing yet.

pub mod model;
pub mod signed_request;
pub mod webhook;
