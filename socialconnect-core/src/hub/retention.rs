//! Retention: deleting what SocialConnect no longer needs, on the host's schedule.
//!
//! [`SocialConnect::purge`] is meant to run periodically (a daily cron job, a timer task). It
//! deletes, each in its own step:
//!
//! - usage-log entries older than [`RetentionPolicy::usage_log`] (default 90 days);
//! - pending OAuth states past their expiry (an abandoned authorization keeps a PKCE verifier
//!   and the subject id; minutes after it began it is useless);
//! - connections marked reconnect-required or revoked for longer than
//!   [`RetentionPolicy::stale_connections`] (default 30 days);
//! - scheduled actions that ended (done, cancelled, failed) longer than
//!   [`RetentionPolicy::finished_actions`] ago (default 90 days), with their payloads and
//!   results.
//!
//! The decisions behind it are documented on [`RetentionPolicy`].

use chrono::{DateTime, TimeDelta, Utc};

use super::SocialConnect;
use crate::error::Result;

/// How long SocialConnect keeps what it may delete on its own; applied by
/// [`SocialConnect::purge`].
///
/// # Privacy decisions
///
/// - **Stale connections are deleted locally, without an upstream revocation.** Their tokens
///   can no longer be used: the platform rejected the refresh or revoked the grant itself. The
///   grace period gives the end user time to reconnect and keep the connection id (and the
///   host time to tell them); after it the stored token set, account id and scopes are gone.
/// - **Exports are never stored**: [`SocialConnect::export`] streams the document to the
///   host's writer, so SocialConnect holds no export files and there are no expired exports to
///   purge. A host that keeps export files must expire them itself.
/// - **The purge is not written to the usage log.** An entry per deleted record would keep a
///   trace of exactly the subjects whose data retention removed; the returned
///   [`PurgeReport`] carries the counts, and the purge emits one `tracing` event with them.
/// - **Safe to run from several processes at once, and idempotent.** Every step is a delete
///   of records matching a time condition: two processes racing delete each record once
///   between them (a stale connection another process already deleted is simply not counted),
///   and a second run right after the first finds nothing.
/// - **Batched.** Stale connections are listed and deleted [`batch`](RetentionPolicy::batch) at a
///   time, so a backlog after a long outage never loads every candidate at once. The usage-log
///   and state purges are single deletes by cutoff, which the stores run as set operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Usage-log entries older than this are deleted (default 90 days): long enough to
    /// investigate an incident or a complaint, short enough not to build a history of the
    /// end user's activity.
    pub usage_log: TimeDelta,
    /// Connections reconnect-required or revoked for longer than this are deleted (default
    /// 30 days).
    pub stale_connections: TimeDelta,
    /// How long a scheduled action that ended (done, cancelled, failed) is kept, with its
    /// payload and result, so the end user and the host can see what was done (default 90
    /// days, as the usage log).
    pub finished_actions: TimeDelta,
    /// How many stale connections are listed and deleted per round (default 1000).
    pub batch: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            usage_log: TimeDelta::days(90),
            stale_connections: TimeDelta::days(30),
            finished_actions: TimeDelta::days(90),
            batch: 1000,
        }
    }
}

impl RetentionPolicy {
    /// Sets the usage-log retention.
    pub fn with_usage_log(mut self, keep: TimeDelta) -> Self {
        self.usage_log = keep;
        self
    }

    /// Sets the grace period for connections that need reconnecting or were revoked.
    pub fn with_stale_connections(mut self, grace: TimeDelta) -> Self {
        self.stale_connections = grace;
        self
    }

    /// Keeps ended scheduled actions for `keep`.
    pub fn with_finished_actions(mut self, keep: TimeDelta) -> Self {
        self.finished_actions = keep;
        self
    }

    /// Sets the batch size (at least 1).
    pub fn with_batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }
}

/// What one [`SocialConnect::purge`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Usage-log entries past the retention.
    pub usage_entries: u64,
    /// Expired pending OAuth states.
    pub oauth_states: u64,
    /// Connections stale past the grace period.
    pub stale_connections: u64,
    /// Scheduled actions that ended longer ago than the retention.
    pub finished_actions: u64,
}

impl PurgeReport {
    /// Everything deleted.
    pub fn total(&self) -> u64 {
        self.usage_entries + self.oauth_states + self.stale_connections + self.finished_actions
    }
}

impl SocialConnect {
    /// The retention policy the hub was built with.
    pub fn retention(&self) -> &RetentionPolicy {
        &self.inner.retention
    }

    /// Deletes what the retention policy says is no longer needed, as of `now` (pass the
    /// hub's [`clock`](SocialConnect::clock) time in production; tests pass any instant).
    /// Deletes usage-log entries older than [`RetentionPolicy::usage_log`], pending OAuth
    /// states past their expiry, and connections reconnect-required or revoked for longer than
    /// [`RetentionPolicy::stale_connections`]; see [`RetentionPolicy`] for why, and why it is
    /// idempotent and safe to run from several processes at once.
    pub async fn purge(&self, now: DateTime<Utc>) -> Result<PurgeReport> {
        let policy = self.inner.retention;
        let mut report = PurgeReport {
            usage_entries: self.inner.log.purge_before(now - policy.usage_log).await?,
            oauth_states: self.inner.pending.purge_expired(now).await?,
            stale_connections: 0,
            finished_actions: match &self.inner.actions {
                Some(actions) => {
                    actions
                        .purge_finished_actions(now - policy.finished_actions)
                        .await?
                }
                None => 0,
            },
        };
        let before = now - policy.stale_connections;
        let batch = policy.batch.max(1);
        loop {
            let keys = self.inner.tokens.stale_connections(before, batch).await?;
            let mut removed = 0;
            for key in &keys {
                if self.inner.tokens.delete(key).await? {
                    removed += 1;
                }
                self.inner.refresher.invalidate(key);
            }
            report.stale_connections += removed;
            // A short batch is the last one. A full batch of which nothing could be deleted
            // means another process is deleting the same rows, or the store keeps listing rows
            // it cannot delete: stop rather than spin; the next run picks up what is left.
            if keys.len() < batch as usize || removed == 0 {
                break;
            }
        }
        tracing::info!(
            usage_entries = report.usage_entries,
            oauth_states = report.oauth_states,
            stale_connections = report.stale_connections,
            finished_actions = report.finished_actions,
            "retention purge done"
        );
        Ok(report)
    }
}
