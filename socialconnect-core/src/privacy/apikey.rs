//! API keys for the host's own API clients: issued once, stored as a hash, scoped, expiring,
//! rotatable with a grace period, revocable, verified in constant time.
//!
//! ```
//! use std::sync::Arc;
//! use socialconnect_core::apikey::ApiKeys;
//! use socialconnect_core::clock::SystemClock;
//! use socialconnect_core::memory::MemoryApiKeys;
//! use socialconnect_core::ErrorKind;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> socialconnect_core::Result<()> {
//! let keys = ApiKeys::new(Arc::new(MemoryApiKeys::new()), Arc::new(SystemClock));
//! let issued = keys.issue(["posts:read"], None, "admin@example.com").await?;
//! // Show `issued.key` to the operator now: it cannot be recovered later.
//! let presented = issued.key.expose_secret();
//!
//! let verified = keys.verify(presented).await?;
//! verified.require_scope("posts:read")?;
//! // Log `verified.key_id`, never the key.
//!
//! keys.revoke(&issued.key_id, "admin@example.com").await?;
//! let err = keys.verify(presented).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Unauthorized);
//! # Ok(()) }
//! ```
//!
//! # Format
//!
//! `sc_<key-id>_<secret>`: `sc_` marks the string as a SocialConnect key (secret scanners can
//! match it), `<key-id>` is the key's public id, a UUID v7 in its 32-hex-digit simple form, and
//! `<secret>` is 32 random bytes in unpadded base64url (43 characters). `sc_<key-id>` is the
//! key's *prefix*: safe to show in an admin UI, to log and to put in an alert.
//!
//! # Privacy and security decisions
//!
//! - **Shown once.** [`ApiKeys::issue`] and [`ApiKeys::rotate`] return the full key in an
//!   [`ApiKeySecret`] (redacted `Debug`, no `Display`, zeroized on drop). Only a hash is stored,
//!   so a lost key is replaced by rotation, never recovered.
//! - **Hash.** SHA-256 over a domain tag, the key id and the 32-byte secret. A fast hash is
//!   enough because the secret is 256 random bits, not a password: there is nothing to brute
//!   force. Binding the key id into the hash means a hash copied onto another key's row does not
//!   verify there.
//! - **Constant time.** Hashes are compared with `subtle`. An unknown key id still costs a hash
//!   and a comparison. The key id itself is not secret.
//! - **No oracle.** A wrong secret and an unknown key id give the same
//!   [`ApiKeyRejection::Invalid`]. Whether a key is revoked, expired or superseded is only told
//!   to a caller who presented its correct secret.
//! - **Typed errors, never the key.** A string that is not a well-formed key is
//!   [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) without any part of it; a
//!   well-formed key that does not pass is [`Error::ApiKeyRejected`] (kind
//!   [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized)) with the key id and an
//!   [`ApiKeyRejection`]. Hosts answer API clients with the same 401 for every reason (403 for
//!   [`ApiKeyRejection::MissingScope`]) and keep the reason for their own logs.
//! - **Logging.** [`VerifiedKey::key_id`] is what a usage log records; the presented key is
//!   never logged, traced or put in an error by this module.
//! - **Last used** is written at most once per [`ApiKeys::with_last_used_resolution`] (default
//!   one minute) per key, so verification is not a database write on every request.
//! - **Alerts.** Failed verifications of a well-formed key count against its prefix; crossing
//!   the threshold raises [`Alert::RepeatedApiKeyFailures`] once (see
//!   [`ApiKeys::with_alerts`]; default sink [`TracingAlerts`], default threshold
//!   [`AlertThresholds::default`]). Malformed strings carry no prefix and are not counted.
//! - **Rotation** gives the replacement the same scopes and the same lifetime the old key was
//!   issued with; the old key keeps working until the grace deadline (never past its own
//!   expiry), then fails with [`ApiKeyRejection::Superseded`]. Revocation is immediate, also
//!   during a grace period.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::access_log::{AccessLog, UsageEntry};
use crate::alert::{Alert, AlertCounter, AlertSink, AlertThresholds, TracingAlerts};
use crate::clock::Clock;
use crate::error::{Error, Result};

pub use crate::error::ApiKeyRejection;
pub use crate::id::{API_KEY_PREFIX, ApiKeyId};

/// Bytes of randomness in a key's secret part.
const SECRET_BYTES: usize = 32;
/// Length of the whole key: `sc_` + 32 hex + `_` + 43 base64url.
const KEY_LEN: usize = 3 + 32 + 1 + 43;
/// Longest accepted scope, in bytes.
const MAX_SCOPE_LEN: usize = 128;

/// A full API key as issued: `sc_<key-id>_<secret>`.
///
/// Like the secrets in [`crate::secret`]: `Debug` prints only the type name, there is no
/// `Display` and no `Serialize`, the value is zeroized on drop and reached only through
/// [`ApiKeySecret::expose_secret`].
#[derive(Clone)]
pub struct ApiKeySecret(SecretString);

impl ApiKeySecret {
    /// Wraps a key (for instance one read from a request header).
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The key itself. Every call site is a place where the key leaves its box.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// Compares two keys in constant time.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.expose_secret()
            .as_bytes()
            .ct_eq(other.expose_secret().as_bytes())
            .into()
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret([REDACTED])")
    }
}

impl<'de> serde::Deserialize<'de> for ApiKeySecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

/// SHA-256 of a key (see the [module docs](self) for what is hashed). What a store keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ApiKeyHash([u8; 32]);

impl ApiKeyHash {
    /// Wraps 32 bytes read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn compute(key_id: &ApiKeyId, secret: &[u8; SECRET_BYTES]) -> Self {
        let mut h = Sha256::new();
        h.update(b"socialconnect-api-key-v1\0");
        h.update(key_id.as_uuid().as_bytes());
        h.update(secret);
        Self(h.finalize().into())
    }

    fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

/// What is stored about a key: never the key itself.
///
/// Maps one-to-one onto the encrypted store's `sc_api_keys` row (`prefix` is
/// [`ApiKeyId::prefix`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiKeyRecord {
    /// The public id.
    pub key_id: ApiKeyId,
    /// The hash the presented key must match.
    pub hash: ApiKeyHash,
    /// What the key may do; sorted, without duplicates.
    pub scopes: Vec<String>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last passed verification (to [`ApiKeys::with_last_used_resolution`]).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key that replaced it in a rotation.
    pub replaced_by: Option<ApiKeyId>,
    /// After a rotation, when it stops working.
    pub grace_until: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// A fresh record: never used, not revoked, not rotated. Stores reading rows back set the
    /// remaining public fields afterwards.
    pub fn new(
        key_id: ApiKeyId,
        hash: ApiKeyHash,
        scopes: Vec<String>,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            key_id,
            hash,
            scopes,
            created_at,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            replaced_by: None,
            grace_until: None,
        }
    }

    /// Why the key does not work at `now` (revoked before expired before superseded), or
    /// `None` when it does.
    pub fn rejection_at(&self, now: DateTime<Utc>) -> Option<ApiKeyRejection> {
        if self.revoked_at.is_some() {
            // Revocation holds whatever the clocks of other instances say.
            Some(ApiKeyRejection::Revoked)
        } else if self.expires_at.is_some_and(|e| now >= e) {
            Some(ApiKeyRejection::Expired)
        } else if self.grace_until.is_some_and(|g| now >= g) {
            Some(ApiKeyRejection::Superseded)
        } else {
            None
        }
    }

    /// When the key stopped (or will stop) working: the earliest of revocation, expiry and the
    /// end of its grace period. `None` for a key with none of them.
    pub fn dead_since(&self) -> Option<DateTime<Utc>> {
        [self.revoked_at, self.expires_at, self.grace_until]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Persistence of API keys. Object-safe; each method is atomic.
///
/// Implemented by `memory::MemoryApiKeys` (the `memory` feature); shaped for the encrypted store's
/// `sc_api_keys` table, where each method is one statement or one transaction. Scopes never
/// contain a space or a comma (see [`ApiKeys::issue`]), so a backend may store them as one
/// space-separated `TEXT` value.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key. An id already present is an error and changes nothing.
    async fn insert(&self, record: ApiKeyRecord) -> Result<()>;

    /// The key with this id.
    async fn get(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>>;

    /// Sets `last_used_at` to `at` unless it already holds a later time. Unknown ids are
    /// ignored.
    async fn touch(&self, key_id: &ApiKeyId, at: DateTime<Utc>) -> Result<()>;

    /// Sets `revoked_at` to `at` when the key exists and is not revoked yet; returns whether it
    /// did. An earlier revocation time is kept.
    async fn revoke(&self, key_id: &ApiKeyId, at: DateTime<Utc>) -> Result<bool>;

    /// In one transaction: if `old` exists, is not revoked and was not rotated before, sets its
    /// `replaced_by` to the replacement's id and its `grace_until`, inserts `replacement`, and
    /// returns true. Otherwise writes nothing and returns false (so of two concurrent rotations
    /// one wins).
    async fn rotate(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: DateTime<Utc>,
    ) -> Result<bool>;

    /// Every stored key, oldest first.
    async fn list(&self) -> Result<Vec<ApiKeyRecord>>;

    /// Deletes keys whose [`ApiKeyRecord::dead_since`] is at or before `cutoff`; returns how many.
    async fn purge(&self, cutoff: DateTime<Utc>) -> Result<u64>;
}

/// A key just issued. `key` is the only copy of the full key there will ever be.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedApiKey {
    /// The public id (log this).
    pub key_id: ApiKeyId,
    /// The full key, to show once.
    pub key: ApiKeySecret,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it expires, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedKey {
    /// The public id: what the usage log records.
    pub key_id: ApiKeyId,
    /// What the key may do.
    pub scopes: Vec<String>,
}

impl VerifiedKey {
    /// Whether the key holds `scope` (exact match; there are no wildcards).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `Ok` when the key holds `scope`; otherwise [`Error::ApiKeyRejected`] with
    /// [`ApiKeyRejection::MissingScope`].
    pub fn require_scope(&self, scope: &str) -> Result<()> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Error::ApiKeyRejected {
                key_id: Some(self.key_id),
                reason: ApiKeyRejection::MissingScope,
            })
        }
    }
}

/// Issues, verifies, rotates and revokes API keys over an [`ApiKeyStore`].
pub struct ApiKeys {
    store: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn AlertSink>,
    failures: AlertCounter,
    last_used_resolution: TimeDelta,
    log: Option<Arc<dyn AccessLog>>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("clock", &self.clock)
            .field("sink", &self.sink)
            .field("failures", &self.failures.threshold())
            .field("last_used_resolution", &self.last_used_resolution)
            .field("logged", &self.log.is_some())
            .finish_non_exhaustive()
    }
}

impl ApiKeys {
    /// A manager over `store`, reading time from `clock`, with alerts going to
    /// [`TracingAlerts`] at the default thresholds.
    pub fn new(store: Arc<dyn ApiKeyStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            sink: Arc::new(TracingAlerts),
            failures: AlertCounter::new(AlertThresholds::default().api_key_failures),
            last_used_resolution: TimeDelta::minutes(1),
            log: None,
        }
    }

    /// Logs every issue, rotation and revocation to `log` as a privileged operation
    /// (`privileged.api_key.issue:<key-id>`, `privileged.api_key.rotate:<old-id>-><new-id>`,
    /// `privileged.api_key.revoke:<key-id>`) under
    /// [`SYSTEM_SUBJECT`](crate::access_log::SYSTEM_SUBJECT), with the acting id. Only key ids
    /// are logged, never a key.
    pub fn with_access_log(mut self, log: Arc<dyn AccessLog>) -> Self {
        self.log = Some(log);
        self
    }

    async fn log_privileged(&self, operation: String, actor: &str) {
        if let Some(log) = &self.log
            && let Err(e) = log
                .append(UsageEntry::system(self.clock.now(), operation, actor))
                .await
        {
            tracing::warn!(error = %e, "could not log an API-key operation");
        }
    }

    /// Sends [`Alert::RepeatedApiKeyFailures`] to `sink` when failed verifications of one key
    /// prefix reach `thresholds.api_key_failures`.
    pub fn with_alerts(mut self, sink: Arc<dyn AlertSink>, thresholds: AlertThresholds) -> Self {
        self.sink = sink;
        self.failures = AlertCounter::new(thresholds.api_key_failures);
        self
    }

    /// How stale `last_used_at` may get before a successful verification writes it again
    /// (default one minute; zero writes on every verification; negative is treated as zero).
    pub fn with_last_used_resolution(mut self, resolution: TimeDelta) -> Self {
        self.last_used_resolution = resolution.max(TimeDelta::zero());
        self
    }

    /// Issues a key with `scopes` (each 1–128 ASCII letters, digits or `.`, `_`, `-`, `:`, `/`;
    /// duplicates dropped) expiring after `ttl` (`None`: never; a positive duration otherwise),
    /// on behalf of `actor` (logged when an [access log](ApiKeys::with_access_log) is set).
    pub async fn issue<S: Into<String>>(
        &self,
        scopes: impl IntoIterator<Item = S>,
        ttl: Option<TimeDelta>,
        actor: &str,
    ) -> Result<IssuedApiKey> {
        let scopes = normalize_scopes(scopes)?;
        if ttl.is_some_and(|t| t <= TimeDelta::zero()) {
            return Err(Error::invalid_input("API key lifetime must be positive"));
        }
        let now = self.clock.now();
        let expires_at = ttl.map(|t| add(now, t)).transpose()?;
        let (record, key) = new_key(scopes, now, expires_at);
        let issued = issued(&record, key);
        self.store.insert(record).await?;
        tracing::info!(key_id = %issued.key_id, "API key issued");
        self.log_privileged(format!("privileged.api_key.issue:{}", issued.key_id), actor)
            .await;
        Ok(issued)
    }

    /// Verifies a presented key (as read from a request header) and records its use.
    ///
    /// Errors: not of the `sc_<key-id>_<secret>` shape → `InvalidInput` (naming nothing of
    /// it); unknown id or wrong secret → [`ApiKeyRejection::Invalid`]; otherwise revoked,
    /// expired or superseded → that [`ApiKeyRejection`]. Every rejection of a well-formed key
    /// counts toward [`Alert::RepeatedApiKeyFailures`].
    pub async fn verify(&self, presented: &str) -> Result<VerifiedKey> {
        let (key_id, secret) = parse_key(presented)?;
        let presented_hash = ApiKeyHash::compute(&key_id, &secret);
        drop(secret);
        let record = self.store.get(&key_id).await?;
        let now = self.clock.now();
        let matched = match &record {
            Some(r) => r.hash.ct_eq(&presented_hash),
            None => {
                // Same work as a real comparison, result ignored.
                let _ = presented_hash.ct_eq(&ApiKeyHash([0; 32]));
                false
            }
        };
        let record = match record {
            Some(r) if matched => r,
            _ => return Err(self.reject(key_id, ApiKeyRejection::Invalid, now)),
        };
        if let Some(reason) = record.rejection_at(now) {
            return Err(self.reject(key_id, reason, now));
        }
        if record
            .last_used_at
            .is_none_or(|t| now - t >= self.last_used_resolution)
        {
            self.store.touch(&key_id, now).await?;
        }
        Ok(VerifiedKey {
            key_id,
            scopes: record.scopes,
        })
    }

    /// Issues a replacement for `key_id` with the same scopes and the same lifetime, and lets
    /// the old key keep working for `grace` (zero: it stops now), never past its own expiry,
    /// on behalf of `actor` (logged when an [access log](ApiKeys::with_access_log) is set).
    ///
    /// Fails with `InvalidInput` for an unknown id or a negative grace, and with
    /// [`Error::ApiKeyRejected`] when the old key is revoked, expired or already rotated
    /// ([`ApiKeyRejection::Superseded`]).
    pub async fn rotate(
        &self,
        key_id: &ApiKeyId,
        grace: TimeDelta,
        actor: &str,
    ) -> Result<IssuedApiKey> {
        if grace < TimeDelta::zero() {
            return Err(Error::invalid_input("grace period must not be negative"));
        }
        let old = self
            .store
            .get(key_id)
            .await?
            .ok_or_else(|| Error::invalid_input("no API key with this id"))?;
        let now = self.clock.now();
        let reason = old.rejection_at(now).or_else(|| {
            old.replaced_by
                .is_some()
                .then_some(ApiKeyRejection::Superseded)
        });
        if let Some(reason) = reason {
            return Err(Error::ApiKeyRejected {
                key_id: Some(*key_id),
                reason,
            });
        }
        let expires_at = old
            .expires_at
            .map(|e| add(now, e - old.created_at))
            .transpose()?;
        let mut grace_until = add(now, grace)?;
        if let Some(e) = old.expires_at {
            grace_until = grace_until.min(e);
        }
        let (record, key) = new_key(old.scopes, now, expires_at);
        let issued = issued(&record, key);
        if !self.store.rotate(key_id, record, grace_until).await? {
            // Revoked or rotated by someone else between our read and the write.
            return Err(Error::ApiKeyRejected {
                key_id: Some(*key_id),
                reason: ApiKeyRejection::Superseded,
            });
        }
        tracing::info!(key_id = %key_id, replaced_by = %issued.key_id, "API key rotated");
        self.log_privileged(
            format!("privileged.api_key.rotate:{key_id}->{}", issued.key_id),
            actor,
        )
        .await;
        Ok(issued)
    }

    /// Revokes a key at once (also during a rotation's grace period). Returns false when no
    /// key has this id or it was already revoked. Done on behalf of `actor` (logged when an
    /// [access log](ApiKeys::with_access_log) is set and a key was revoked).
    pub async fn revoke(&self, key_id: &ApiKeyId, actor: &str) -> Result<bool> {
        let revoked = self.store.revoke(key_id, self.clock.now()).await?;
        if revoked {
            tracing::info!(key_id = %key_id, "API key revoked");
            self.log_privileged(format!("privileged.api_key.revoke:{key_id}"), actor)
                .await;
        }
        Ok(revoked)
    }

    /// What is stored about a key (no secret: only its hash).
    pub async fn get(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>> {
        self.store.get(key_id).await
    }

    /// Every key, oldest first, for an admin view.
    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>> {
        self.store.list().await
    }

    /// Deletes keys that stopped working (revoked, expired, superseded) more than `retention`
    /// ago; returns how many.
    pub async fn purge(&self, retention: TimeDelta) -> Result<u64> {
        let cutoff = self.clock.now() - retention.max(TimeDelta::zero());
        self.store.purge(cutoff).await
    }

    fn reject(&self, key_id: ApiKeyId, reason: ApiKeyRejection, now: DateTime<Utc>) -> Error {
        tracing::debug!(key_id = %key_id, %reason, "API key rejected");
        let key_prefix = key_id.prefix();
        if let Some(count) = self.failures.record(&key_prefix, now) {
            self.sink
                .alert(&Alert::RepeatedApiKeyFailures { key_prefix, count });
        }
        Error::ApiKeyRejected {
            key_id: Some(key_id),
            reason,
        }
    }
}

fn add(t: DateTime<Utc>, d: TimeDelta) -> Result<DateTime<Utc>> {
    t.checked_add_signed(d)
        .ok_or_else(|| Error::invalid_input("duration out of range"))
}

fn new_key(
    scopes: Vec<String>,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> (ApiKeyRecord, ApiKeySecret) {
    let key_id = ApiKeyId::generate();
    let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
    rand::fill(&mut secret[..]);
    let hash = ApiKeyHash::compute(&key_id, &secret);
    let encoded = Zeroizing::new(URL_SAFE_NO_PAD.encode(&secret[..]));
    let key = ApiKeySecret::new(format!("{}_{}", key_id.prefix(), encoded.as_str()));
    (
        ApiKeyRecord::new(key_id, hash, scopes, now, expires_at),
        key,
    )
}

fn issued(record: &ApiKeyRecord, key: ApiKeySecret) -> IssuedApiKey {
    IssuedApiKey {
        key_id: record.key_id,
        key,
        scopes: record.scopes.clone(),
        expires_at: record.expires_at,
    }
}

/// Splits `sc_<32 lowercase hex>_<43 base64url>` into id and secret bytes. The error never
/// includes any part of the input.
fn parse_key(presented: &str) -> Result<(ApiKeyId, Zeroizing<[u8; SECRET_BYTES]>)> {
    let malformed = || Error::invalid_input("malformed API key");
    if presented.len() != KEY_LEN {
        return Err(malformed());
    }
    let rest = presented
        .strip_prefix(API_KEY_PREFIX)
        .and_then(|r| r.strip_prefix('_'))
        .ok_or_else(malformed)?;
    let (id, secret) = rest.split_at_checked(32).ok_or_else(malformed)?;
    let secret = secret.strip_prefix('_').ok_or_else(malformed)?;
    if !id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(malformed());
    }
    let key_id = ApiKeyId::from_uuid(Uuid::try_parse(id).map_err(|_| malformed())?);
    let decoded = Zeroizing::new(URL_SAFE_NO_PAD.decode(secret).map_err(|_| malformed())?);
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    if decoded.len() != SECRET_BYTES {
        return Err(malformed());
    }
    bytes.copy_from_slice(&decoded);
    Ok((key_id, bytes))
}

fn normalize_scopes<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Result<Vec<String>> {
    let mut out: Vec<String> = scopes.into_iter().map(Into::into).collect();
    for s in &out {
        let valid = !s.is_empty()
            && s.len() <= MAX_SCOPE_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b));
        if !valid {
            return Err(Error::invalid_input(
                "API key scope must be 1-128 ASCII letters, digits or '.', '_', '-', ':', '/'",
            ));
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let (record, key) = new_key(vec![], Utc::now(), None);
        let text = key.expose_secret();
        assert_eq!(text.len(), KEY_LEN);
        assert!(text.starts_with(&record.key_id.prefix()));
        let (id, secret) = parse_key(text).unwrap();
        assert_eq!(id, record.key_id);
        assert!(ApiKeyHash::compute(&id, &secret).ct_eq(&record.hash));
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn malformed_keys_are_rejected_without_echo() {
        let (_, key) = new_key(vec![], Utc::now(), None);
        let good = key.expose_secret().to_owned();
        let mut cases = vec![
            String::new(),
            "sc_".to_owned(),
            good.replacen("sc_", "xx_", 1),
            good.to_uppercase(),
            format!("{good}A"),
            good[..good.len() - 1].to_owned(),
            good.replacen('_', "-", 1),
        ];
        // A non-ASCII character of the right byte length.
        let mut bytes = good.clone().into_bytes();
        bytes.truncate(KEY_LEN - 2);
        cases.push(format!("{}é", String::from_utf8(bytes).unwrap()));
        // Non-canonical base64: last character with trailing bits set.
        let mut noncanon = good.clone();
        noncanon.pop();
        noncanon.push('B');
        if URL_SAFE_NO_PAD.decode(&noncanon[KEY_LEN - 43..]).is_err() {
            cases.push(noncanon);
        }
        for case in cases {
            let Err(err) = parse_key(&case) else {
                panic!("accepted {case:?}")
            };
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            assert!(!err.to_string().contains(&good[3..20]));
        }
    }

    #[test]
    fn scopes_are_validated_and_normalized() {
        assert_eq!(
            normalize_scopes(["b", "a:read", "b"]).unwrap(),
            vec!["a:read".to_owned(), "b".to_owned()]
        );
        assert!(normalize_scopes([""]).is_err());
        assert!(normalize_scopes(["has space"]).is_err());
        assert!(normalize_scopes(["x".repeat(129)]).is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let (_, key) = new_key(vec![], Utc::now(), None);
        assert_eq!(format!("{key:?}"), "ApiKeySecret([REDACTED])");
        assert!(key.ct_eq(&key.clone()));
        assert!(!key.ct_eq(&ApiKeySecret::new("other")));
    }
}
