//! The privacy engine: what keeps the GDPR policy's promises.
//!
//! | module | holds |
//! |---|---|
//! | [`consent`] | the consent ledger: legal bases, purposes, notices, the hash chain |
//! | [`age`] | the age gate (13, or 16 where the jurisdiction says so) |
//! | [`access_log`] | the usage log (kept 90 days) and the internal-access log |
//! | [`alert`] | security alerts |
//! | [`apikey`] | API keys for the host's own clients: hashed, scoped, expiring |
//! | [`keys`] | key-encryption keys behind a [`KeyProvider`](keys::KeyProvider) |
//! | [`platform_deletion`] | deletion requests a platform sends (Meta's data-deletion callback) |
//! | [`profile`] | the subject profile a host may rectify |
//! | [`receipt`] | consent and erasure receipts |
//!
//! The data-subject rights themselves (export, rectify, erase, withdraw, purge) are methods of
//! the [`SocialConnect`](crate::SocialConnect) hub, which sits on top of both halves.

pub mod access_log;
pub mod age;
pub mod alert;
pub mod apikey;
pub mod consent;
pub mod keys;
pub mod platform_deletion;
pub mod profile;
pub mod receipt;
