//! Keeping a connection's token fresh: refresh inside a margin of expiry, one refresh at a time.
//!
//! Inside a process, callers for the same connection queue on a per-connection async mutex and
//! re-read the store once they hold it, so the first one refreshes and the rest find its result.
//! Across processes, the store's refresh lease plays the same role, again with a re-read after
//! it is taken. A new token set is written (compare-and-swap on the row version) before anyone
//! gets it, so a rotated refresh token can never be lost.
//!
//! A caller that waited (for the gate or the lease) and finds the row at another version than
//! the one it first read takes the token stored there, as long as it has not expired: someone
//! refreshed (or reconnected) meanwhile, and refreshing again would only burn a rotation. The
//! margin is also capped at half the token's lifetime as known at issue, so a token that lives
//! 60 s or 2 s is not "due" the moment it is issued. Callers that queued behind an attempt
//! that failed for a reason outside the connection (an outage, a rate limit) get its answer
//! instead of each sending the grant again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, ReconnectReason, Result};
use crate::id::ConnectionKey;
use crate::platform::Platform;
use crate::store::{ConnectionStatus, PutOutcome, StoredTokens, TokenStore};
use crate::token::{Expiry, TokenSet};

/// Refresh timing settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Refresh when the access token expires within this margin (default 5 minutes). With
    /// the jitter, the margin is capped at half the token's lifetime as known at issue, so a
    /// token that lives 60 s is refreshed with 30 s left, not the moment it is issued.
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

    /// Whether `tokens` are inside the refresh margin at `now`. The margin (plus its jitter)
    /// is at most half the access token's lifetime as known at issue
    /// (`access_expires - issued_at`), so a freshly issued token is never due.
    pub(crate) fn needs_refresh(&self, tokens: &TokenSet, now: DateTime<Utc>) -> bool {
        let jitter_ms = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::random_range(0..=jitter_ms)
        };
        let mut margin = chrono::Duration::from_std(self.margin + Duration::from_millis(extra))
            .unwrap_or(chrono::Duration::MAX);
        if let Expiry::At(expires) = tokens.access_expires {
            let lifetime = expires - tokens.issued_at;
            if lifetime > chrono::Duration::zero() {
                margin = margin.min(lifetime / 2);
            }
        }
        tokens.access_expires.is_within(now, margin)
    }
}

/// Why a refresh is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only when the token is inside the margin (a session).
    IfDue,
    /// Whatever the margin says (an operator's `refresh_now`).
    Force,
    /// When the token expires within this window (the refresh sweep, ahead of the margin).
    Within(Duration),
}

impl Mode {
    fn due(self, policy: &RefreshPolicy, tokens: &TokenSet, now: DateTime<Utc>) -> bool {
        match self {
            Mode::IfDue => policy.needs_refresh(tokens, now),
            Mode::Force => true,
            Mode::Within(window) => tokens.access_expires.is_within(
                now,
                chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX),
            ),
        }
    }
}

/// A caller that waited takes what the holder stored: the row moved on from the version the
/// caller first read, and its token has not expired.
fn written_meanwhile(stored: &StoredTokens, seen: u64, now: DateTime<Utc>) -> bool {
    stored.version != seen && !stored.tokens.access_expires.is_past(now)
}

/// One connection's refresh gate: callers queue on `last_failure`'s lock, one at a time.
#[derive(Debug, Default)]
struct GateInner {
    /// Attempts finished under this gate (counted whatever their outcome).
    attempts: AtomicU64,
    /// How the latest attempt failed, when it did.
    last_failure: tokio::sync::Mutex<Option<Failure>>,
}

type Gate = Arc<GateInner>;

/// A failed refresh attempt, shared with the callers that queued behind it: they get the same
/// answer instead of sending the grant again into an outage or a rate limit.
#[derive(Debug)]
struct Failure {
    /// The attempt's number (see [`GateInner::attempts`]).
    attempt: u64,
    /// The row version the attempt started from.
    seen: u64,
    /// The attempt's error kind.
    kind: ErrorKind,
    /// Its text (errors never hold a token).
    message: String,
}

impl Failure {
    /// Only failures that say nothing about the connection itself are shared; a refused grant
    /// marks the connection, which the waiters find in the store.
    fn of(attempt: u64, seen: u64, error: &Error) -> Option<Self> {
        let kind = error.kind();
        matches!(
            kind,
            ErrorKind::Transient
                | ErrorKind::MaybeSent
                | ErrorKind::Throttled { .. }
                | ErrorKind::Config
                | ErrorKind::Platform
        )
        .then(|| Failure {
            attempt,
            seen,
            kind,
            message: crate::error::bounded(error.to_string(), 512),
        })
    }

    /// The error a waiter gets: the same kind, except that nothing the waiter did may have been
    /// sent, so `MaybeSent` is `Transient` for it.
    fn to_error(&self) -> Error {
        let message = format!(
            "a refresh of this connection attempted at the same time failed: {}",
            self.message
        );
        match self.kind {
            ErrorKind::Throttled { retry_after } => Error::Throttled {
                retry_after,
                platform: None,
            },
            ErrorKind::Config => Error::config(message),
            ErrorKind::Platform => {
                Error::Platform(Box::new(crate::error::PlatformError::new(None, message)))
            }
            _ => Error::transient(message),
        }
    }
}

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
        self.single_flight(key, stored.version, Mode::IfDue, store, platform, clock)
            .await
    }

    /// Refreshes `key` now, whatever its expiry, single-flight with sessions and other callers:
    /// a caller that waited for another's refresh takes its result. Returns the token set now
    /// stored.
    pub(crate) async fn refresh_now(
        &self,
        key: &ConnectionKey,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        self.refresh_in(Mode::Force, key, store, platform, clock)
            .await
    }

    /// Refreshes `key` when its access token expires within `window` (re-checked under the
    /// gate and the lease, so a session or another sweep that refreshed first is not
    /// repeated). Returns the token set now stored.
    pub(crate) async fn refresh_within(
        &self,
        key: &ConnectionKey,
        window: Duration,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        self.refresh_in(Mode::Within(window), key, store, platform, clock)
            .await
    }

    /// Loads `key`'s usable tokens and refreshes them single-flight if `mode` says they are
    /// due (always for `Force`).
    async fn refresh_in(
        &self,
        mode: Mode,
        key: &ConnectionKey,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        let stored = match load_usable(store, key).await {
            Ok(stored) => stored,
            Err(e) => {
                self.invalidate(key);
                return Err(e);
            }
        };
        if !mode.due(&self.policy, &stored.tokens, clock.now()) {
            return Ok(stored.tokens);
        }
        self.single_flight(key, stored.version, mode, store, platform, clock)
            .await
    }

    /// Queues on the connection's gate, then refreshes unless someone did meanwhile.
    /// `seen` is the row version the caller read before deciding to refresh.
    async fn single_flight(
        &self,
        key: &ConnectionKey,
        seen: u64,
        mode: Mode,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        self.invalidate(key);
        let gate = self.gate(key);
        let attempts_before = gate.attempts.load(Ordering::SeqCst);
        let result = {
            let mut last_failure = gate.last_failure.lock().await;
            match last_failure.as_ref() {
                // An attempt that finished while we queued, from the row we read, failed: its
                // answer is ours too.
                Some(f) if f.attempt > attempts_before && f.seen == seen => Err(f.to_error()),
                _ => {
                    let result = self
                        .refresh_locked(key, seen, mode, store, platform, clock)
                        .await;
                    let attempt = gate.attempts.fetch_add(1, Ordering::SeqCst) + 1;
                    *last_failure = result
                        .as_ref()
                        .err()
                        .and_then(|e| Failure::of(attempt, seen, e));
                    result
                }
            }
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
        seen: u64,
        mode: Mode,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        // Another caller in this process may have refreshed while we queued.
        let stored = load_usable(store, key).await?;
        if written_meanwhile(&stored, seen, clock.now())
            || !mode.due(&self.policy, &stored.tokens, clock.now())
        {
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
            if written_meanwhile(&stored, seen, clock.now())
                || !mode.due(&self.policy, &stored.tokens, clock.now())
            {
                return Ok(stored.tokens);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::transient(
                    "another process holds the refresh lease and has not finished",
                ));
            }
        };
        let result = self
            .refresh_leased(key, seen, mode, store, platform, clock)
            .await;
        if let Err(e) = store.release(&lease).await {
            // The lease lapses by itself; losing the release only delays the next refresh.
            tracing::warn!(error = %e, "releasing the refresh lease failed");
        }
        result
    }

    async fn refresh_leased(
        &self,
        key: &ConnectionKey,
        seen: u64,
        mode: Mode,
        store: &dyn TokenStore,
        platform: &dyn Platform,
        clock: &dyn Clock,
    ) -> Result<TokenSet> {
        // Re-read under the lease: another process may have refreshed before we got it.
        let stored = load_usable(store, key).await?;
        if written_meanwhile(&stored, seen, clock.now())
            || !mode.due(&self.policy, &stored.tokens, clock.now())
        {
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
                if mode != Mode::IfDue
                    && !stored.tokens.access_expires.is_past(clock.now())
                    && matches!(
                        &e,
                        Error::ReconnectRequired {
                            reason: ReconnectReason::Expired,
                            platform: None,
                        }
                    )
                {
                    // The platform cannot refresh this grant (no refresh token) but the access
                    // token still works: an early refresh (an operator's, the sweep's) must
                    // not end it.
                    return Err(e);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessToken;

    fn token(issued: DateTime<Utc>, lifetime_s: i64) -> TokenSet {
        TokenSet::new(
            AccessToken::new("a"),
            Expiry::after(issued, lifetime_s),
            issued,
        )
    }

    #[test]
    fn the_margin_is_capped_at_half_the_lifetime() {
        let policy = RefreshPolicy::default();
        let t0 = Utc::now();
        for lifetime in [2, 60, 600, 3600] {
            let t = token(t0, lifetime);
            assert!(!policy.needs_refresh(&t, t0), "fresh {lifetime}s token");
            let just_before_half = t0 + chrono::Duration::milliseconds(lifetime * 500 - 1);
            assert!(
                !policy.needs_refresh(&t, just_before_half),
                "{lifetime}s token before half its life"
            );
            assert!(policy.needs_refresh(&t, t0 + chrono::Duration::seconds(lifetime)));
        }
        // A long-lived token keeps the configured margin (300 s + up to 60 s of jitter).
        let t = token(t0, 86_400);
        assert!(!policy.needs_refresh(&t, t0 + chrono::Duration::seconds(86_400 - 361)));
        assert!(policy.needs_refresh(&t, t0 + chrono::Duration::seconds(86_400 - 299)));
        // Unknown and never-expiring tokens are never due.
        let mut t = token(t0, 0);
        assert!(!policy.needs_refresh(&t, t0 + chrono::Duration::days(365)));
        t.access_expires = Expiry::Never;
        assert!(!policy.needs_refresh(&t, t0 + chrono::Duration::days(365)));
    }
}
