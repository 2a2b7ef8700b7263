//! `socialconnect-meta`: Facebook Pages, Instagram and WhatsApp Cloud API connectors.
//!
//! This crate is filled by a later issue; it exports nothing yet.
