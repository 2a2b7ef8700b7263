//! `socialconnect-store`: the encrypted store (envelope encryption, key rotation, crypto-shredding)
//! with SQLite and PostgreSQL backends.
#![forbid(unsafe_code)]

mod backend;
mod chain;
pub mod keys;
