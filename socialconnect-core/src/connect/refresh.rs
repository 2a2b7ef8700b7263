//! Keeping a connection's token fresh: refresh inside a margin of expiry, one refresh at a time.
//!
//! Inside a process, callers for the same connection queue on a per-connection async mutex and
//! re-read the store once they hold it, so the first one refreshes and the rest find its result.
//! Across processes, the store's refresh lease plays the same role, again with a re-read after
//! it is taken. A new token set is written (compare-and-swap on the row version) before anyone
//! gets it, so a rotated refresh token can never be lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, ReconnectReason, Result};
use crate::id::ConnectionKey;
use crate::platform::Platform;
use crate::store::{ConnectionStatus, PutOutcome, StoredTokens, TokenStore};
use crate::token::TokenSet;

/// Refresh timing settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Refresh when the access token expires within this margin (default 5 minutes).
    pub margin: Duration,
    /// A random extra margin, up to this much, so many connections issued together do not all
    /// refresh at the same instant (default 60 s).
    pub jitter: Duration,
    /// How long a cross-process refresh lease lasts (default 30 s).
    pub lease_ttl: Duration,
    /// How often a caller waiting on another process's lease re-reads the store (default 50 ms).
    pub lease_poll: Duration,
    /// How long a token read from the store is reused without reading it again (default 2 s;
    /// zero disables the cache). Only tokens outside the refresh margin are served from it, and
    /// every refresh decision reads the store, so the cache can never cause a lost rotation;
    /// what it can cause is using, for up to this long, a token another process has just
    /// revoked or replaced.
    pub cache_ttl: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(300),
            jitter: Duration::from_secs(60),
            lease_ttl: Duration::from_secs(30),
            lease_poll: Duration::from_millis(50),
            cache_ttl: Duration::from_secs(2),
        }
    }
}

impl RefreshPolicy {
    /// Sets the margin and its jitter.
    pub fn with_margin(mut self, margin: Duration, jitter: Duration) -> Self {
        self.margin = margin;
        self.jitter = jitter;
        self
    }

    /// Sets the lease length and the poll interval while waiting for one.
    pub fn with_lease(mut self, ttl: Duration, poll: Duration) -> Self {
        self.lease_ttl = ttl;
        self.lease_poll = poll;
        self
    }

    /// Sets the token cache lifetime.
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    fn needs_refresh(&self, tokens: &TokenSet, now: DateTime<Utc>) -> bool {
        let jitter_ms = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::random_range(0..=jitter_ms)
        };
        let margin = chrono::Duration::from_std(self.margin + Duration::from_millis(extra))
            .unwrap_or(chrono::Duration::MAX);
        tokens.access_expires.is_within(now, margin)
    }
}

type Gate = Arc<tokio::sync::Mutex<()>>;

/// The most tokens the cache holds; past this it is cleared.
const MAX_CACHED: usize = 10_000;

/// Single-flight refresher shared by a hub's sessions.
#[derive(Debug)]
pub(crate) struct Refresher {
    policy: RefreshPolicy,
    gates: Mutex<HashMap<ConnectionKey, Gate>>,
    cache: Mutex<HashMap<ConnectionKey, (TokenSet, std::time::Instant)>>,
}

impl Refresher {
    pub(crate) fn new(policy: RefreshPolicy) -> Self {
        Self {
            policy,
            gates: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets a cached token (after disconnect, erasure or a status change).
    pub(crate) fn invalidate(&self, key: &ConnectionKey) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    fn cached(&self, key: &ConnectionKey, clock: &dyn Clock) -> Option<TokenSet> {
        if self.policy.cache_ttl.is_zero() {
            return None;
        }
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = cache.get(key)?;
        (at.elapsed() < self.policy.cache_ttl && !self.policy.needs_refresh(tokens, clock.now()))
            .then(|| tokens.clone())
    }

    fn remember(&self, key: &ConnectionKey, tokens: &TokenSet) {
        if self.policy.cache_ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key.clone(), (tokens.clone(), std::time::Instant::now()));
    }

    /// A usable token set for `key`, refreshed first when it is inside the margin.
    pub(crate) async fn fresh_tokens(
        &self,
        key: &ConnectionKey,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        if let Some(tokens) = self.cached(key, clock) {
            return Ok(tokens);
        }
        let stored = match load_usable(store, key).await {
            Ok(stored) => stored,
            Err(e) => {
                self.invalidate(key);
                return Err(e);
            }
        };
        if !self.policy.needs_refresh(&stored.tokens, clock.now()) {
            self.remember(key, &stored.tokens);
            return Ok(stored.tokens);
        }
        self.invalidate(key);
        let gate = self.gate(key);
        let result = {
            let _held = gate.lock().await;
            self.refresh_locked(key, store, platform, clock).await
        };
        self.forget_gate(key, gate);
        if let Ok(tokens) = &result {
            self.remember(key, tokens);
        }
        result
    }

    async fn refresh_locked(
        &self,
        key: &ConnectionKey,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        // Another caller in this process may have refreshed while we queued.
        let stored = load_usable(store, key).await?;
        if !self.policy.needs_refresh(&stored.tokens, clock.now()) {
            return Ok(stored.tokens);
        }
        let deadline = tokio::time::Instant::now() + self.policy.lease_ttl;
        let lease = loop {
            if let Some(lease) = store.try_lease(key, self.policy.lease_ttl).await? {
                break lease;
            }
            // Another process holds the lease: wait for its result.
            tokio::time::sleep(self.policy.lease_poll).await;
            let stored = load_usable(store, key).await?;
            if !self.policy.needs_refresh(&stored.tokens, clock.now()) {
                return Ok(stored.tokens);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::transient(
                    "another process holds the refresh lease and has not finished",
                ));
            }
        };
        let result = self.refresh_leased(key, store, platform, clock).await;
        if let Err(e) = store.release(&lease).await {
            // The lease lapses by itself; losing the release only delays the next refresh.
            tracing::warn!(error = %e, "releasing the refresh lease failed");
        }
        result
    }

    async fn refresh_leased(
        &self,
        key: &ConnectionKey,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        // Re-read under the lease: another process may have refreshed before we got it.
        let stored = load_usable(store, key).await?;
        if !self.policy.needs_refresh(&stored.tokens, clock.now()) {
            return Ok(stored.tokens);
        }
        tracing::debug!(platform = %key.platform, connection = %key.connection, "refreshing token");
        match platform.refresh(&stored.tokens).await {
            Ok(fresh) => {
                let merged = fresh.merged_over(&stored.tokens);
                match store.put(key, &merged, Some(stored.version)).await? {
                    PutOutcome::Written(_) => Ok(merged),
                    PutOutcome::Conflict(_) => {
                        // Someone wrote the row while we refreshed (a reconnect, a lapsed lease).
                        // Theirs is the newer state; use it if it is usable.
                        let now_stored = load_usable(store, key).await?;
                        Ok(now_stored.tokens)
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::ReconnectRequired => {
                // A rotated refresh token may have been written by a caller whose lease lapsed
                // under us: then our `invalid_grant` only means we lost a race already won.
                if let Some(now_stored) = store.get(key).await?
                    && now_stored.version != stored.version
                    && now_stored.status == ConnectionStatus::Active
                    && refresh_token_changed(&stored.tokens, &now_stored.tokens)
                {
                    return Ok(now_stored.tokens);
                }
                store
                    .set_status(
                        key,
                        ConnectionStatus::ReconnectRequired { since: clock.now() },
                    )
                    .await?;
                tracing::warn!(platform = %key.platform, connection = %key.connection, "refresh failed definitively; reconnection required");
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn gate(&self, key: &ConnectionKey) -> Gate {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        gates.entry(key.clone()).or_default().clone()
    }

    fn forget_gate(&self, key: &ConnectionKey, gate: Gate) {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        // Two references: the map's and ours. More means another caller is queued on it.
        if Arc::strong_count(&gate) == 2 {
            gates.remove(key);
        }
    }
}

fn refresh_token_changed(old: &TokenSet, new: &TokenSet) -> bool {
    match (&old.refresh_token, &new.refresh_token) {
        (Some(a), Some(b)) => !a.ct_eq(b),
        (None, None) => !old.access_token.ct_eq(&new.access_token),
        _ => true,
    }
}

/// Reads a connection that exists and is not marked unusable.
pub(crate) async fn load_usable(
    store: &dyn TokenStore,
    key: &ConnectionKey,
) -> Result<StoredTokens> {
    let stored = store
        .get(key)
        .await?
        .ok_or_else(|| Error::reconnect(ReconnectReason::NotConnected))?;
    match stored.status {
        ConnectionStatus::Active => Ok(stored),
        ConnectionStatus::ReconnectRequired { .. } => {
            Err(Error::reconnect(ReconnectReason::MarkedByEarlierFailure))
        }
        ConnectionStatus::Revoked { .. } => Err(Error::reconnect(ReconnectReason::Revoked)),
    }
}
