//! One claimed connection: decide, refresh through the single-flight engine, release the
//! claim (with a hold when it should not come back at once), raise the event.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{RefreshSweep, SweepEvent, activity, delta, notice};
use crate::error::{Error, ErrorKind, Result};
use crate::hub::kind_name;
use crate::id::{ConnectionKey, Purpose};
use crate::store::ConnectionStatus;
use crate::token::{Expiry, TokenSet};

/// How one connection of a pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Visit {
    Refreshed,
    Skipped,
    Inactive,
    ReconnectRequired,
    Failed,
}

/// A visit's result: how it ended, and until when the connection stays held back.
type Decided = (Visit, Option<DateTime<Utc>>);

impl RefreshSweep {
    /// Handles one claimed connection and releases its claim.
    pub(super) async fn visit(&self, key: ConnectionKey) -> Visit {
        let (visit, hold) = match self.decide(&key).await {
            Ok(decided) => decided,
            Err(e) => self.failed(&key, &e),
        };
        let hub = &self.inner.hub.inner;
        match hub
            .tokens
            .release_claim(&key, self.inner.options.owner, hold)
            .await
        {
            Ok(true) => {}
            // The claim lapsed under us (a slow refresh): harmless, the engine's lease and
            // version checks kept the refresh single; the next claimant finds it fresh.
            Ok(false) => tracing::debug!(connection = %key.connection, "sweep claim had lapsed"),
            Err(e) => {
                tracing::warn!(connection = %key.connection, error = %e, "releasing a sweep claim failed; it lapses by itself")
            }
        }
        visit
    }

    async fn decide(&self, key: &ConnectionKey) -> Result<Decided> {
        let o = &self.inner.options;
        let hub = &self.inner.hub;
        let now = hub.inner.clock.now();
        let Some(stored) = hub.inner.tokens.get(key).await? else {
            return Ok((Visit::Skipped, None));
        };
        if stored.status != ConnectionStatus::Active
            || !stored.tokens.access_expires.is_within(now, delta(o.window))
        {
            return Ok((Visit::Skipped, None));
        }
        let platform = hub.platform(&key.platform)?.clone();
        hub.require_consent(&key.subject, Purpose::AccountConnection, &key.platform)
            .await?;
        let re_exchange = stored.tokens.refresh_token.is_none()
            && platform.grant_ends(&stored.tokens) == Expiry::Unknown;
        if re_exchange
            && !stored.tokens.access_expires.is_past(now)
            && let Some(within) = o.active_within
            && !activity::used_since(hub.inner.log.as_ref(), key, now - delta(within)).await?
        {
            // Not in use: let it lapse. After its expiry it is due again, and the platform's
            // refusal then marks it (with its event).
            tracing::debug!(connection = %key.connection, "connection not in use; its grant is left to lapse");
            return Ok((Visit::Inactive, expiry(&stored.tokens)));
        }
        self.pause().await;
        let refresh = hub.inner.refresher.refresh_within(
            key,
            o.window,
            hub.inner.tokens.as_ref(),
            platform.as_ref(),
            hub.inner.clock.as_ref(),
        );
        let result = hub
            .logged_refresh(key, "oauth.sweep_refresh", refresh)
            .await;
        let now = hub.inner.clock.now();
        match result {
            Ok(fresh) => Ok(self.refreshed(key, platform.as_ref(), &stored.tokens, fresh, now)),
            Err(e) if e.kind() == ErrorKind::ReconnectRequired => {
                self.refused(key, &stored.tokens, e).await
            }
            Err(e) => Err(e),
        }
    }

    fn refreshed(
        &self,
        key: &ConnectionKey,
        platform: &dyn crate::platform::Platform,
        old: &TokenSet,
        fresh: TokenSet,
        now: DateTime<Utc>,
    ) -> Decided {
        let o = &self.inner.options;
        self.inner.backoff.succeeded(key);
        if fresh.access_token.ct_eq(&old.access_token) && fresh.issued_at == old.issued_at {
            // Someone refreshed first and the engine took their result, or it was not due.
            return (Visit::Skipped, None);
        }
        self.emit(SweepEvent::Refreshed {
            key: key.clone(),
            access_expires: fresh.access_expires,
        });
        let grant_ends = platform.grant_ends(&fresh);
        if let Some(grant_ends) =
            notice::grant_end_to_announce(grant_ends, old, &fresh, o.window, o.reconnect_lead, now)
        {
            self.emit(SweepEvent::ReconnectSoon {
                key: key.clone(),
                grant_ends,
            });
        }
        // A token living less than the window would be due again at once: hold it for half
        // of what it has left instead.
        let hold = match fresh.access_expires {
            Expiry::At(t) if t - delta(o.window) <= now && t > now => Some(now + (t - now) / 2),
            _ => None,
        };
        (Visit::Refreshed, hold)
    }

    /// The platform will not extend the grant.
    async fn refused(&self, key: &ConnectionKey, old: &TokenSet, e: Error) -> Result<Decided> {
        self.inner.backoff.succeeded(key);
        let hub = &self.inner.hub.inner;
        let marked = match hub.tokens.get(key).await? {
            Some(now_stored) => now_stored.status != ConnectionStatus::Active,
            None => true,
        };
        if marked {
            hub.refresher.invalidate(key);
            self.emit(SweepEvent::ReconnectRequired { key: key.clone() });
            return Ok((Visit::ReconnectRequired, None));
        }
        // Not marked: the grant cannot be extended (no refresh token) but its access token
        // still works until it expires, which is when the grant ends. Warn once, and come
        // back after the expiry, when the refusal marks it.
        tracing::debug!(connection = %key.connection, error.kind = kind_name(e.kind()), "grant ends with its access token");
        if let Expiry::At(ends) = old.access_expires {
            self.emit(SweepEvent::ReconnectSoon {
                key: key.clone(),
                grant_ends: ends,
            });
        }
        Ok((Visit::Skipped, expiry(old)))
    }

    /// A failure that may pass: back off.
    fn failed(&self, key: &ConnectionKey, e: &Error) -> Decided {
        let o = &self.inner.options;
        let kind = e.kind();
        let wait = self
            .inner
            .backoff
            .failed(key, kind, o.backoff, o.max_backoff);
        let retry_at = self.inner.hub.inner.clock.now() + delta(wait);
        tracing::warn!(platform = %key.platform, connection = %key.connection, error.kind = kind_name(kind), %retry_at, "sweep refresh failed; backing off");
        self.emit(SweepEvent::Failed {
            key: key.clone(),
            kind,
            retry_at,
        });
        (Visit::Failed, Some(retry_at))
    }

    /// The random delay before a refresh.
    async fn pause(&self) {
        let jitter = self.inner.options.jitter;
        let max_ms = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX);
        if max_ms > 0 {
            tokio::time::sleep(Duration::from_millis(rand::random_range(0..=max_ms))).await;
        }
    }
}

/// Just after the access token's expiry, when it has one.
fn expiry(tokens: &TokenSet) -> Option<DateTime<Utc>> {
    match tokens.access_expires {
        Expiry::At(t) => Some(t + chrono::Duration::seconds(1)),
        Expiry::Never | Expiry::Unknown => None,
    }
}
