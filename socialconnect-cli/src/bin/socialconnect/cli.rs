//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Operate a SocialConnect deployment: keys, retention, subject rights, the consent ledger,
/// API keys, connections, health checks and the Art. 30 record.
#[derive(Debug, Parser)]
#[command(name = "socialconnect", version)]
pub(crate) struct Cli {
    /// The deployment file.
    #[arg(long, global = true, env = "SOCIALCONNECT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Who runs privileged operations, for the usage log (an operator id, not a name).
    #[arg(
        long,
        global = true,
        env = "SOCIALCONNECT_ACTOR",
        default_value = "socialconnect-cli"
    )]
    pub actor: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Key-encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Apply the retention policy: old usage-log entries, expired OAuth states, stale
    /// connections (and dead API keys when configured).
    Purge,
    /// Write everything held about a subject as JSON (no secrets).
    Export {
        /// The subject (the host's user id).
        subject: String,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Erase a subject: revoke upstream, delete, destroy its data key, keep a receipt.
    Erase {
        /// The subject (the host's user id).
        subject: String,
        /// Erase (and leave a receipt) even when nothing is held about the subject.
        #[arg(long)]
        allow_unknown: bool,
    },
    /// The consent ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// API keys for the host's own clients.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
    /// Stored connections.
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Scheduled actions (posts, replies, snapshots run on the end users' behalf).
    #[command(subcommand)]
    Actions(ActionsCommand),
    /// Check the configuration, keys, store and pinned API versions.
    Doctor,
    /// The GDPR Art. 30 record of processing activities (Markdown, or JSON with --json).
    Records {
        /// Exit non-zero when anything is flagged.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Re-wrap every data key under the keyring's primary key (resumable: run it again after
    /// an interruption).
    Rotate {
        /// Data keys re-wrapped per transaction.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        batch: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Verify the consent hash chain end to end.
    Verify,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeysCommand {
    /// Issue a key; it is shown once.
    Create(CreateKey),
    /// List keys (never their secrets).
    List,
    /// Revoke a key.
    Revoke {
        /// The key's id (32 hex digits).
        key_id: String,
    },
    /// Replace a key; the old one keeps working for the grace period.
    Rotate {
        /// The key's id (32 hex digits).
        key_id: String,
        /// How long the old key keeps working, in hours.
        #[arg(long, default_value_t = 24)]
        grace_hours: u32,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CreateKey {
    /// A scope the key grants (repeatable).
    #[arg(long = "scope", required = true)]
    pub scopes: Vec<String>,
    /// Lifetime in days (default: no expiry).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub ttl_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConnectionsCommand {
    /// List connections (no tokens).
    List {
        /// Only this platform (`linkedin`, `facebook`, …).
        #[arg(long)]
        platform: Option<String>,
        /// Only this state: active, reconnect_required, revoked.
        #[arg(long, value_parser = ["active", "reconnect_required", "revoked"])]
        state: Option<String>,
    },
}

/// The states an action can be listed by.
pub(crate) const ACTION_STATES: [&str; 7] = [
    "scheduled",
    "maybe_sent",
    "paused",
    "done",
    "cancelled",
    "needs_person",
    "failed",
];

#[derive(Debug, Subcommand)]
pub(crate) enum ActionsCommand {
    /// List actions (no payloads, no subjects: those are sealed).
    List {
        /// Only this platform (`linkedin`, `facebook`, …).
        #[arg(long)]
        platform: Option<String>,
        /// Only this state.
        #[arg(long, value_parser = ACTION_STATES)]
        state: Option<String>,
        /// At most this many, oldest first.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
    /// Cancel a pending or paused action.
    Cancel {
        /// The action's id (a UUID).
        id: String,
    },
    /// Run a failed, paused or needs-a-person action again now (for one that needed a person:
    /// you checked that its last attempt did not happen).
    Retry {
        /// The action's id (a UUID).
        id: String,
    },
}
