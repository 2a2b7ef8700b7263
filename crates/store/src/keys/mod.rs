//! Key-encryption-key providers.
