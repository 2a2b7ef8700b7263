//! Privacy-notice changes: who must consent again, the banner that asks them, and the email
//! hook beside it.
//!
//! A subject must re-consent when the notice in force ([`SocialConnect::current_notice`]) is
//! marked significant and one of their live consents rests on another version. Until they
//! do, the privacy page opens with a banner and `/connect/{platform}` sends them there; their
//! rights (withdraw, export, delete) stay available, since re-consent must never block them.
//! The hub's own gate stops processing under the old consents once its notice grace period
//! is over.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use socialconnect_core::consent::{ConsentAction, ConsentRecord, NoticeVersion};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::{Result, SocialConnect};

use crate::state::App;

/// Tells a subject, outside the dashboard, that the notice changed (an email, say).
#[async_trait]
pub trait ReconsentHook: Send + Sync + 'static {
    /// Asks `subject` to review `notice` and consent again.
    async fn notify(&self, subject: &SubjectId, notice: &NoticeVersion) -> Result<()>;
}

/// Calls `hook` for every subject whose live consent rests on a notice other than the
/// current one; returns how many were notified. Run it after publishing a significant
/// version. A failing notification is logged and the others still go out.
pub async fn notify_affected(hub: &SocialConnect, hook: &dyn ReconsentHook) -> Result<usize> {
    let Some(notice) = hub.current_notice() else {
        return Ok(0);
    };
    let mut sent = 0;
    for subject in hub.subjects_to_notify(&notice.version).await? {
        match hook.notify(&subject, &notice).await {
            Ok(()) => sent += 1,
            Err(e) => tracing::warn!(error = %e, "re-consent notification failed"),
        }
    }
    Ok(sent)
}

/// The subject's live consent grants: for each (purpose, platform), the latest record when it
/// is a grant in force, unless a later withdrawal for every platform ended it.
pub(crate) fn live_grants(history: &[ConsentRecord], now: DateTime<Utc>) -> Vec<&ConsentRecord> {
    let mut latest: BTreeMap<(Purpose, Option<&str>), &ConsentRecord> = BTreeMap::new();
    for record in history {
        let key = (
            record.event.purpose,
            record.event.platform.as_ref().map(PlatformId::as_str),
        );
        latest.insert(key, record);
    }
    latest
        .values()
        .filter(|r| r.event.action == ConsentAction::Grant && r.event.permits_at(now))
        .filter(|r| {
            r.event.platform.is_none()
                || latest
                    .get(&(r.event.purpose, None))
                    .is_none_or(|all| all.seq < r.seq || all.event.action == ConsentAction::Grant)
        })
        .copied()
        .collect()
}

/// The live grants that rest on a notice other than the current significant one.
pub(crate) async fn outdated(app: &App, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
    let Some(notice) = app.hub.current_notice().filter(|n| n.significant) else {
        return Ok(Vec::new());
    };
    let history = app.hub.ledger().history(subject).await?;
    let now = app.hub.clock().now();
    Ok(live_grants(&history, now)
        .into_iter()
        .filter(|r| r.event.notice_version.as_deref() != Some(notice.version.as_str()))
        .cloned()
        .collect())
}

/// Whether the subject must re-consent before anything else proceeds.
pub(crate) async fn needs_reconsent(app: &App, subject: &SubjectId) -> Result<bool> {
    Ok(!outdated(app, subject).await?.is_empty())
}
