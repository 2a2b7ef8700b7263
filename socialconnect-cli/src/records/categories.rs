//! The categories of personal data the encrypted store keeps, as `socialconnect-store`
//! writes them (its tables and sealed payloads), with how long each stays.

use serde::Serialize;

/// One category of data the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DataCategory {
    /// A short name.
    pub name: String,
    /// What it holds.
    pub contents: String,
    /// How it is protected.
    pub protection: String,
    /// How long it stays.
    pub retention: String,
    /// The kinds an erasure report counts for this category (`tokens`, `usage_entries`, …):
    /// what the store deletes of it when a subject is erased.
    pub erased_as: Vec<String>,
}

fn category(
    name: &str,
    contents: &str,
    protection: &str,
    retention: &str,
    erased_as: &[&str],
) -> DataCategory {
    DataCategory {
        name: name.to_owned(),
        contents: contents.to_owned(),
        protection: protection.to_owned(),
        retention: retention.to_owned(),
        erased_as: erased_as.iter().map(|k| (*k).to_owned()).collect(),
    }
}

const SEALED: &str = "sealed under the subject's data key";

/// What the store keeps.
pub(super) fn stored() -> Vec<DataCategory> {
    vec![
        category(
            "subject identifiers",
            "the host's user id",
            "stored only as a keyed HMAC pseudonym; the id itself only inside sealed records",
            "until erasure",
            &[],
        ),
        category(
            "OAuth tokens",
            "access and refresh tokens, their expiry, token type, granted scopes",
            SEALED,
            "until disconnect or erasure; connections needing reconnection or revoked: the \
             stale-connection period",
            &["tokens"],
        ),
        category(
            "platform account ids",
            "the platform's id of each connected account",
            "sealed with the tokens; a keyed pseudonym for lookups by platform callbacks",
            "with the connection",
            &[],
        ),
        category(
            "connection metadata",
            "platform, status (active, reconnect required, revoked) and its time, last update",
            "plain columns, keyed by the subject's pseudonym",
            "with the connection",
            &[],
        ),
        category(
            "pending authorizations",
            "subject, platform, redirect URI, requested scopes, PKCE verifier; the OAuth state \
             only as its SHA-256",
            SEALED,
            "until used or expired (the state TTL, 10 minutes by default), then purged",
            &["pending_states"],
        ),
        category(
            "consent ledger",
            "per purpose and platform: grant or withdrawal, legal basis, notice version and \
             hash, time, expiry, scopes, jurisdiction, collection method, age verification",
            "sealed; rows hash-chained (tamper evident)",
            "until erasure, which leaves hash-only tombstones keeping the chain verifiable",
            &["consent_records"],
        ),
        category(
            "usage log",
            "each platform call and privileged operation: time, platform, connection, \
             operation, outcome, HTTP status, latency, actor, and the end user's IP address and \
             user agent as the host supplied them",
            SEALED,
            "the usage-log period, then purged",
            &["usage_entries"],
        ),
        category(
            "scheduled actions",
            "what the end user asked to run later or on a schedule (the post text, media URL, \
             metrics asked for), its schedule and time zone, its state and last result (the \
             post id, the analytics snapshot)",
            SEALED,
            "while pending; once done, cancelled or failed, the retention period for ended \
             actions (90 days by default), then purged",
            &["actions"],
        ),
        category(
            "profiles",
            "email and username the host supplied (rectification)",
            SEALED,
            "until erasure",
            &["profiles"],
        ),
        category(
            "platform deletion requests",
            "confirmation code, platform, status, times, and the subject while pending",
            "the subject sealed; cleared when the request completes",
            "kept as proof of handling, without the subject once completed",
            &["deletion_requests"],
        ),
        category(
            "erasure receipts",
            "the subject's keyed pseudonym, time, counts removed, upstream revocation outcomes",
            "no personal data beyond the pseudonym",
            "kept, as proof of erasure",
            &[],
        ),
        category(
            "API key hashes",
            "the host's own client API keys: SHA-256 hash, scopes, creation, expiry, last use, \
             revocation (no end-user data)",
            "the key itself is never stored",
            "until deleted by `purge` after the dead-key period, when configured",
            &[],
        ),
        category(
            "data keys",
            "one random AES-256 key per subject",
            "wrapped by the key provider, kept in the key vault apart from the records",
            "destroyed on erasure (crypto-shredding)",
            &["data_keys"],
        ),
        category(
            "refresh leases",
            "which process is refreshing a connection's token, and until when",
            "plain columns; the connection id only",
            "seconds: released after the refresh, expired otherwise",
            &["refresh_leases"],
        ),
    ]
}
