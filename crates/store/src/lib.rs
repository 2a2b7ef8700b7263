//! `socialconnect-store`: the encrypted store (envelope encryption, key rotation, crypto-shredding)
//! with SQLite and PostgreSQL backends.
//!
//! This crate is filled by a later issue. Until then the unencrypted in-process implementations in
//! `socialconnect_core::memory` serve tests and prototypes.
