//! `socialconnect-tiktok`: TikTok Login Kit, Display API and Content Posting API connector.
//!
//! This crate is filled by a later issue; it exports nothing yet.
