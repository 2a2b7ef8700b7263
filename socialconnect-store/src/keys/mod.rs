//! Key-encryption-key providers: the top of the store's envelope encryption.
//!
//! # The envelope model
//!
//! Each subject's records are sealed with that subject's own random *data key*. Data keys are
//! never stored in clear: a [`KeyProvider`] *wraps* each one under a *key-encryption key* (KEK)
//! and the store keeps only the [`WrappedKey`], which names the KEK that wrapped it. Opening a
//! record means unwrapping its subject's data key first. This gives two properties:
//!
//! - **Erasure is cheap and final.** Destroying a subject's wrapped data key makes every copy
//!   of that subject's records, backups included, unreadable (crypto-shredding).
//! - **Rotation re-wraps keys, not data.** A KEK protects only 32-byte data keys.
//!
//! Wrapping binds a caller-supplied *context* (for example the subject's pseudonym) as
//! associated data, so a wrapped key copied to another subject's row does not open.
//!
//! # Providers
//!
//! - [`LocalKeyring`]: KEKs held in process memory, read from the environment
//!   ([`KEYRING_ENV`]) or a file. The default. [`LocalKeyring::demo`] offers a public,
//!   insecure key for demos only.
//! - [`MemoryKeyProvider`]: random keys that vanish with the process, for tests.
//! - A KMS or Vault transit engine: implement [`KeyProvider`] (from `socialconnect-core`) with
//!   its encrypt and decrypt calls, putting the KMS key's name or version in
//!   [`WrappedKey::key_id`]. The store needs nothing else.
//!
//! # Rotating a key-encryption key
//!
//! 1. Add the new key to the keyring and mark it primary, keeping the old one
//!    (`k1:...,*k2:...`). New data keys are wrapped under `k2`; existing ones still open under
//!    `k1`.
//! 2. Let the store re-wrap the data keys still wrapped under `k1`.
//! 3. Remove `k1` only once the store reports nothing wrapped under it. Until then, removing it
//!    makes those subjects' data unreadable, and unwrapping fails with an error that names the
//!    missing key id.
//!
//! ```
//! use socialconnect_core::keys::{DataKey, KeyProvider};
//! use socialconnect_store::keys::LocalKeyring;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // Example keys only: make your own with `openssl rand -base64 32`.
//! let keyring = LocalKeyring::parse(
//!     "# retired in March; keep until nothing is wrapped under it\n\
//!      k1:q1Yc7cL0q6mI3nXx0n2Hq8fW1cQmVv3l9d0Z8bJk4sA=\n\
//!      *k2:5bq4O8v8bq0wC2n1x6t9YpQe3rWm7Lk2Hj4Gf6Ds8AE\n",
//! )?;
//! let data_key = DataKey::generate();
//! let wrapped = keyring.wrap(&keyring.primary(), &data_key, b"subject-pseudonym").await?;
//! assert_eq!(wrapped.key_id.0, "k2");
//! let opened = keyring.unwrap(&wrapped, b"subject-pseudonym").await?;
//! assert_eq!(opened.expose_secret(), data_key.expose_secret());
//! # Ok::<(), socialconnect_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! [`KeyProvider`]: socialconnect_core::keys::KeyProvider
//! [`WrappedKey`]: socialconnect_core::keys::WrappedKey
//! [`WrappedKey::key_id`]: socialconnect_core::keys::WrappedKey::key_id

mod local;
mod memory;

pub use local::{KEYRING_ENV, LocalKeyring};
pub use memory::MemoryKeyProvider;
