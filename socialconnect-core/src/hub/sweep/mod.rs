//! The proactive refresh sweep: a background task per instance that refreshes access tokens
//! before they expire, so end users' requests rarely wait on a refresh.
//!
//! Each pass claims a batch of due connections from the token store
//! ([`TokenStore::claim_due`]: an indexed claim with a lease, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so instances sharing a store share the work and no connection is refreshed
//! twice. Each claimed connection is refreshed through the hub's single-flight engine (a
//! session racing the sweep still causes one refresh; the engine re-checks the expiry under its
//! lock), through the hub's HTTP client and its per-platform rate limiters, after a random
//! delay. A failure holds the connection back, doubling per failure in a row; a platform's
//! definitive refusal marks it reconnect-required. A connection whose subject's consent for
//! [`Purpose::AccountConnection`](crate::id::Purpose) is gone is not refreshed (it fails
//! with `ConsentRequired` and is backed off like any failure). What happens is broadcast as
//! [`SweepEvent`]s, which carry connection keys and times, never tokens.
//!
//! ```no_run
//! # async fn demo(hub: socialconnect_core::SocialConnect) {
//! use socialconnect_core::{SweepEvent, SweepOptions};
//! let sweep = hub.refresh_sweep(SweepOptions::default());
//! let mut events = sweep.subscribe();
//! let running = sweep.start();
//! tokio::spawn(async move {
//!     while let Ok(event) = events.recv().await {
//!         if let SweepEvent::ReconnectSoon { key, grant_ends } = event {
//!             // Ask the end user behind `key.subject` to connect again before `grant_ends`.
//!             let _ = (key, grant_ends);
//!         }
//!     }
//! });
//! // … at shutdown: the pass under way finishes (no refresh is cut off half-written).
//! running.shutdown().await;
//! # }
//! ```
//!
//! [`TokenStore::claim_due`]: crate::store::TokenStore::claim_due

mod activity;
mod backoff;
mod notice;
mod options;
mod visit;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

pub(crate) use backoff::backoff_delay;
pub use options::SweepOptions;

use super::SocialConnect;
use crate::error::{ErrorKind, Result};
use crate::id::ConnectionKey;
use crate::token::Expiry;

/// What the sweep did to one connection. No tokens: the key names the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SweepEvent {
    /// The access token was refreshed ahead of its expiry.
    Refreshed {
        /// The connection.
        key: ConnectionKey,
        /// When the new access token expires.
        access_expires: Expiry,
    },
    /// The platform refused to extend the grant (revoked, expired, password changed): the
    /// connection is marked reconnect-required. Tell the end user.
    ReconnectRequired {
        /// The connection.
        key: ConnectionKey,
    },
    /// The grant ends for good at `grant_ends` whatever refreshing does (LinkedIn's refresh
    /// token lasts 365 days from the grant): ask the end user to connect again before then.
    /// Raised once per grant end, [`SweepOptions::reconnect_lead`] ahead (see the sweep's
    /// `notice` rule for when it can be missed).
    ReconnectSoon {
        /// The connection.
        key: ConnectionKey,
        /// When the grant ends.
        grant_ends: DateTime<Utc>,
    },
    /// The refresh failed for a reason that may pass (an outage, a rate limit); the sweep
    /// tries again from `retry_at`.
    Failed {
        /// The connection.
        key: ConnectionKey,
        /// The failure's kind.
        kind: ErrorKind,
        /// When the connection may be claimed again.
        retry_at: DateTime<Utc>,
    },
}

/// What one pass did: counts of the connections it claimed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepReport {
    /// Connections claimed.
    pub claimed: usize,
    /// Refreshed by this pass.
    pub refreshed: usize,
    /// Nothing to do after all: refreshed by someone else meanwhile, no longer active, gone.
    pub skipped: usize,
    /// Left to lapse: a grant without a refresh token whose connection is not in use
    /// ([`SweepOptions::active_within`]).
    pub inactive: usize,
    /// Marked reconnect-required (or found so).
    pub reconnect_required: usize,
    /// Failed and held back.
    pub failed: usize,
}

impl SweepReport {
    fn add(&mut self, visit: visit::Visit) {
        match visit {
            visit::Visit::Refreshed => self.refreshed += 1,
            visit::Visit::Skipped => self.skipped += 1,
            visit::Visit::Inactive => self.inactive += 1,
            visit::Visit::ReconnectRequired => self.reconnect_required += 1,
            visit::Visit::Failed => self.failed += 1,
        }
    }
}

/// A refresh sweep over a hub's connections (cheap to clone). Drive it with
/// [`RefreshSweep::run_once`] (tests, a host's own scheduler) or [`RefreshSweep::start`].
#[derive(Debug, Clone)]
pub struct RefreshSweep {
    inner: Arc<SweepInner>,
}

#[derive(Debug)]
struct SweepInner {
    hub: SocialConnect,
    options: SweepOptions,
    events: broadcast::Sender<SweepEvent>,
    backoff: backoff::Backoff,
}

impl SocialConnect {
    /// A refresh sweep over this hub's connections: start one per instance (see
    /// [`RefreshSweep`]). The token store must implement
    /// [`TokenStore::claim_due`](crate::store::TokenStore::claim_due).
    pub fn refresh_sweep(&self, options: SweepOptions) -> RefreshSweep {
        let (events, _) = broadcast::channel(options.event_capacity.max(1));
        RefreshSweep {
            inner: Arc::new(SweepInner {
                hub: self.clone(),
                options,
                events,
                backoff: backoff::Backoff::default(),
            }),
        }
    }
}

impl RefreshSweep {
    /// A receiver of the events raised from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SweepEvent> {
        self.inner.events.subscribe()
    }

    /// The options the sweep runs with.
    pub fn options(&self) -> &SweepOptions {
        &self.inner.options
    }

    /// One pass: claims a batch of due connections, handles each, releases the claims.
    /// Errors only when the claim itself fails; each connection's outcome is in the report
    /// and the events.
    pub async fn run_once(&self) -> Result<SweepReport> {
        let o = &self.inner.options;
        let hub = &self.inner.hub.inner;
        let now = hub.clock.now();
        let horizon = now + chrono::Duration::from_std(o.window).unwrap_or(chrono::Duration::MAX);
        let keys = hub
            .tokens
            .claim_due(horizon, o.batch.max(1), o.owner, o.claim_ttl)
            .await?;
        let mut report = SweepReport {
            claimed: keys.len(),
            ..SweepReport::default()
        };
        let visits: Vec<visit::Visit> = futures_util::stream::iter(keys)
            .map(|key| async move { self.visit(key).await })
            .buffer_unordered(o.concurrency.max(1))
            .collect()
            .await;
        for v in visits {
            report.add(v);
        }
        if report.claimed > 0 {
            tracing::info!(
                claimed = report.claimed,
                refreshed = report.refreshed,
                failed = report.failed,
                reconnect_required = report.reconnect_required,
                "refresh sweep pass"
            );
        }
        Ok(report)
    }

    /// Runs passes on the tokio runtime until [`SweepHandle::shutdown`]: back to back while
    /// batches come back full, then every [`SweepOptions::idle_interval`]. A failed claim
    /// (the store is down) is logged and retried after the idle interval.
    pub fn start(&self) -> SweepHandle {
        let (stop, mut stopped) = watch::channel(false);
        let sweep = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let full = match sweep.run_once().await {
                    Ok(report) => report.claimed >= sweep.inner.options.batch as usize,
                    Err(e) => {
                        tracing::warn!(error = %e, "refresh sweep: claiming due connections failed");
                        false
                    }
                };
                if *stopped.borrow() {
                    break;
                }
                if full {
                    continue;
                }
                let pause = sweep.inner.options.idle_interval;
                if tokio::time::timeout(pause, stopped.changed()).await.is_ok() {
                    break;
                }
            }
        });
        SweepHandle { stop, task }
    }

    fn emit(&self, event: SweepEvent) {
        // No subscriber is not an error: the events are for whoever listens.
        let _ = self.inner.events.send(event);
    }
}

/// A running sweep (from [`RefreshSweep::start`]).
#[derive(Debug)]
pub struct SweepHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SweepHandle {
    /// Stops the sweep and waits for it: the pass under way finishes first, so no refresh is
    /// abandoned between the platform's answer and the store write.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.join().await;
    }

    /// Waits for the sweep to end (it ends only after [`SweepHandle::shutdown`] or a panic).
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the refresh sweep task ended abnormally");
        }
    }
}

/// A duration as chrono's, saturating.
fn delta(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
