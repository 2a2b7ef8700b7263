//! `socialconnect-linkedin`: LinkedIn OAuth, Posts API, images and organization statistics.
//!
//! This crate is filled by a later issue; it exports nothing yet.
