//! The usage log: one entry per platform call made through a session.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::id::{ConnectionId, PlatformId, SubjectId};

/// The subject id privileged operations that concern no one subject (an erasure, which must
/// not be filed under the erased subject; a key rotation; API-key and policy changes) are
/// logged under.
pub const SYSTEM_SUBJECT: &str = "erased-subject";

/// The platform id privileged-operation log entries carry: the SDK itself, no platform called.
pub const SDK_PLATFORM: &str = "socialconnect";

/// What the host knows about the end user's request that caused a call: kept in the usage log,
/// encrypted by the store, and deleted after the retention period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The end user's IP address.
    pub ip: Option<IpAddr>,
    /// The end user's user agent (truncated to 512 bytes).
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// Client info from an IP and a user agent.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|ua| crate::error::bounded(ua.to_owned(), 512)),
        }
    }
}

/// How a logged call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A 2xx response.
    Success,
    /// Failed; the error kind's name (`throttled`, `reconnect_required`, …).
    Failure(&'static str),
}

/// The names [`Outcome::Failure`] carries: one per error kind.
const FAILURE_NAMES: [&str; 17] = [
    "reconnect_required",
    "throttled",
    "missing_scopes",
    "consent_required",
    "invalid_input",
    "transient",
    "maybe_sent",
    "platform",
    "storage",
    "crypto",
    "config",
    "authorization_denied",
    "age_restricted",
    "unauthorized",
    "policy_blocked",
    "not_found",
    "conflict",
];

impl Outcome {
    /// Reads [`Outcome::as_str`]'s form back; a name this version does not know becomes
    /// `Failure("unknown")`.
    pub fn parse(text: &str) -> Outcome {
        if text == "success" {
            return Outcome::Success;
        }
        Outcome::Failure(
            FAILURE_NAMES
                .iter()
                .find(|n| **n == text)
                .copied()
                .unwrap_or("unknown"),
        )
    }

    /// Stable text for storage.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure(kind) => kind,
        }
    }
}

/// One usage-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsageEntry {
    /// When the call started.
    pub at: DateTime<Utc>,
    /// On whose behalf.
    pub subject: SubjectId,
    /// Platform called.
    pub platform: PlatformId,
    /// Connection used, if any.
    pub connection: Option<ConnectionId>,
    /// The operation's name (`pages.publish`, `oauth.refresh`).
    pub operation: String,
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// Time taken.
    pub latency: Duration,
    /// The end user's request info, as supplied by the host.
    pub client: ClientInfo,
    /// For a privileged operation (export, rectify, erase, key rotation, API-key and policy
    /// changes, platform callbacks): the operator or system id the host supplied.
    pub actor: Option<String>,
    /// The region the deployment stored the entry in, when the store records one (transfer
    /// transparency).
    pub region: Option<String>,
}

impl UsageEntry {
    /// Assembles an entry.
    #[allow(clippy::too_many_arguments)] // a flat record; a builder would add nothing here
    pub fn new(
        at: DateTime<Utc>,
        subject: SubjectId,
        platform: PlatformId,
        connection: Option<ConnectionId>,
        operation: impl Into<String>,
        outcome: Outcome,
        http_status: Option<u16>,
        latency: Duration,
        client: ClientInfo,
    ) -> Self {
        Self {
            at,
            subject,
            platform,
            connection,
            operation: operation.into(),
            outcome,
            http_status,
            latency,
            client,
            actor: None,
            region: None,
        }
    }

    /// A successful privileged operation by `actor` that concerns no one subject: filed under
    /// [`SYSTEM_SUBJECT`] with the [`SDK_PLATFORM`] platform and no latency.
    pub fn system(at: DateTime<Utc>, operation: impl Into<String>, actor: &str) -> Self {
        Self::new(
            at,
            SubjectId::new(SYSTEM_SUBJECT).expect("a valid subject id literal"),
            PlatformId::new(SDK_PLATFORM).expect("a valid platform id literal"),
            None,
            operation,
            Outcome::Success,
            None,
            Duration::ZERO,
            ClientInfo::default(),
        )
        .with_actor(actor)
    }

    /// Sets the region the entry was stored in (for store implementations).
    pub fn with_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// Marks the entry as a privileged operation by `actor` (bounded to 128 bytes).
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(crate::error::bounded(actor.into(), 128));
        self
    }
}

/// A position in a subject's usage log, for reading it page by page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogCursor(pub u64);

/// Where usage entries go.
#[async_trait]
pub trait AccessLog: Send + Sync {
    /// Appends an entry.
    async fn append(&self, entry: UsageEntry) -> Result<()>;

    /// Appends entries in order, as one write where the log can (the encrypted store: one
    /// transaction). The hub's usage-log writer calls this with what queued up meanwhile. The
    /// default appends them one by one.
    async fn append_batch(&self, entries: Vec<UsageEntry>) -> Result<()> {
        for entry in entries {
            self.append(entry).await?;
        }
        Ok(())
    }

    /// A subject's entries, oldest first.
    async fn entries(&self, subject: &SubjectId) -> Result<Vec<UsageEntry>>;

    /// Up to `limit` of a subject's entries after `after` (from the start when `None`), in a
    /// stable order, with the cursor to continue from (`None` at the end). Lets an export of a
    /// million entries run in bounded memory.
    async fn entries_page(
        &self,
        subject: &SubjectId,
        after: Option<LogCursor>,
        limit: u32,
    ) -> Result<(Vec<UsageEntry>, Option<LogCursor>)>;

    /// Deletes entries older than `cutoff`; returns how many.
    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64>;

    /// Deletes a subject's entries; returns how many.
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64>;
}
