//! What the routes show of the hub's answers, as JSON and as rows: never a token.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use socialconnect_core::consent::WithdrawalOutcome;
use socialconnect_core::id::SubjectId;
use socialconnect_core::store::ConnectionStatus;
use socialconnect_core::{ErasureOutcome, Result, SocialConnect};

/// One connection as the page and the API show it.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionView {
    pub(crate) platform: String,
    pub(crate) connection_id: String,
    pub(crate) account_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) status: &'static str,
    pub(crate) connected_at: DateTime<Utc>,
    pub(crate) region: Option<String>,
}

fn status_name(status: &ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Active => "active",
        ConnectionStatus::ReconnectRequired { .. } => "reconnect_required",
        ConnectionStatus::Revoked { .. } => "revoked",
        _ => "other",
    }
}

/// The subject's connections, read from the hub's token store.
pub(crate) async fn connections(
    hub: &SocialConnect,
    subject: &SubjectId,
) -> Result<Vec<ConnectionView>> {
    let mut out = Vec::new();
    for key in hub.connections(subject).await? {
        let Some(stored) = hub.token_store().get(&key).await? else {
            continue;
        };
        out.push(ConnectionView {
            platform: key.platform.as_str().to_owned(),
            connection_id: key.connection.to_string(),
            account_id: stored.tokens.account_id.clone(),
            scopes: stored
                .tokens
                .scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            status: status_name(&stored.status),
            connected_at: stored.tokens.issued_at,
            region: stored.region.clone(),
        });
    }
    Ok(out)
}

pub(crate) fn connection_json(c: &ConnectionView) -> Value {
    json!({
        "platform": c.platform,
        "connection_id": c.connection_id,
        "account_id": c.account_id,
        "scopes": c.scopes,
        "status": c.status,
        "connected_at": c.connected_at.to_rfc3339(),
        "region": c.region,
    })
}

pub(crate) fn erasure_json(outcome: &ErasureOutcome) -> Value {
    json!({
        "removed": outcome.report.counts,
        "total_removed": outcome.report.total(),
        "upstream": outcome
            .upstream
            .iter()
            .map(|(p, r)| json!({ "platform": p.as_str(), "revocation": r.to_string() }))
            .collect::<Vec<_>>(),
        "receipt": outcome.receipt,
    })
}

pub(crate) fn withdrawal_json(outcome: &WithdrawalOutcome) -> Value {
    json!({
        "receipt_id": outcome.receipt.receipt_id,
        "withdrew": outcome.withdrew,
        "disconnected": outcome
            .revoked
            .iter()
            .map(|(key, d)| json!({
                "platform": key.platform.as_str(),
                "connection_id": key.connection.to_string(),
                "revocation": d.revocation.as_ref().map(ToString::to_string),
                "deleted": d.deleted,
            }))
            .collect::<Vec<_>>(),
    })
}

/// A scheduled action as the API shows it (to the host's backend, which owns the payload).
pub(crate) fn action_json(a: &socialconnect_core::automation::StoredAction) -> Value {
    json!({
        "id": a.id,
        "platform": a.key.platform.as_str(),
        "connection_id": a.key.connection.to_string(),
        "purpose": a.purpose.as_str(),
        "kind": a.kind,
        "payload": a.payload,
        "schedule": a.schedule,
        "state": a.state,
        "due_at": a.due_at.map(|t| t.to_rfc3339()),
        "attempts": a.attempts,
        "runs": a.runs,
        "last_result": a.last_result,
        "last_error": a.last_error,
        "created_at": a.created_at.to_rfc3339(),
        "updated_at": a.updated_at.to_rfc3339(),
    })
}
