//! Whether an end user is still using a connection: the condition for re-exchanging a grant
//! that has no refresh token (Meta's long-lived user tokens), so a token nobody uses is left
//! to lapse instead of being kept alive forever on the SDK's own initiative.

use chrono::{DateTime, Utc};

use crate::access_log::AccessLog;
use crate::error::Result;
use crate::id::ConnectionKey;

/// Entries read per page of the subject's usage log.
const PAGE: u32 = 500;

/// The most entries read for one decision; a log longer than this (it keeps 90 days) counts as
/// active, since so much use is use.
const MAX_SCANNED: usize = 20_000;

/// Whether the usage log holds an entry for `key`'s connection at or after `since`, other than
/// the SDK's own token upkeep (operations named `oauth.…`: refreshes, exchanges).
pub(super) async fn used_since(
    log: &dyn AccessLog,
    key: &ConnectionKey,
    since: DateTime<Utc>,
) -> Result<bool> {
    let mut after = None;
    let mut scanned = 0usize;
    loop {
        let (entries, next) = log.entries_page(&key.subject, after, PAGE).await?;
        scanned += entries.len();
        if entries.iter().any(|e| {
            e.connection == Some(key.connection)
                && e.at >= since
                && !e.operation.starts_with("oauth.")
        }) {
            return Ok(true);
        }
        match next {
            Some(cursor) if scanned < MAX_SCANNED => after = Some(cursor),
            Some(_) => return Ok(true),
            None => return Ok(false),
        }
    }
}
