//! `socialconnect-pinterest`: Pinterest OAuth, boards, pins, media and analytics.
//!
//! This crate is filled by a later issue; it exports nothing yet.
