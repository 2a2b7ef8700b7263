//! The data-subject API's scheduled actions: list, schedule, read, reschedule, retry and
//! cancel a subject's actions.
//!
//! | Route (under `/api/v1`) | Scope | Answer |
//! |---|---|---|
//! | `GET /subjects/{subject}/actions` | `read` | `{"actions": [...]}` |
//! | `POST /subjects/{subject}/actions` | `actions` | `201` the action; body `{"platform", "connection_id", "kind", "payload", "at", "schedule"?}` |
//! | `GET /subjects/{subject}/actions/{id}` | `read` | the action |
//! | `DELETE /subjects/{subject}/actions/{id}` | `actions` | the cancelled action (`409` when it ran or is running) |
//! | `POST /subjects/{subject}/actions/{id}/reschedule` | `actions` | body `{"at"}` |
//! | `POST /subjects/{subject}/actions/{id}/retry` | `actions` | a failed, paused or needs-a-person action, due now |

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use socialconnect_core::automation::{ActionId, Schedule};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId};
use socialconnect_core::{ActionRequest, Error};

use super::{admit, parse_json};
use crate::error::json;
use crate::report::action_json;
use crate::state::App;

/// The routes, to be merged into the API's.
pub(super) fn routes() -> axum::Router<Arc<App>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/subjects/{subject}/actions", get(list).post(schedule))
        .route("/subjects/{subject}/actions/{id}", get(read).delete(cancel))
        .route(
            "/subjects/{subject}/actions/{id}/reschedule",
            post(reschedule),
        )
        .route("/subjects/{subject}/actions/{id}/retry", post(retry))
}

/// Admits a call on one action: the key, its scope and limits, then the action id.
async fn admit_on(
    app: &App,
    headers: &HeaderMap,
    subject: &str,
    id: &str,
    scope: &str,
) -> std::result::Result<(super::Call, ActionId), Response> {
    let call = admit(app, headers, subject, scope).await?;
    let id = id.parse::<ActionId>().map_err(|e| json(&e))?;
    Ok((call, id))
}

async fn list(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = match admit(&app, &headers, &subject, "read").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let result = app.hub.subject_actions(&call.subject).await;
    call.finish(&app, "actions.list", result, |list| {
        let list: Vec<_> = list.iter().map(action_json).collect();
        Json(serde_json::json!({ "actions": list })).into_response()
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleBody {
    platform: String,
    connection_id: String,
    kind: String,
    payload: serde_json::Value,
    at: DateTime<Utc>,
    schedule: Option<Schedule>,
}

async fn schedule(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match admit(&app, &headers, &subject, "actions").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let body: ScheduleBody = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let key = match (
        PlatformId::new(&body.platform),
        ConnectionId::parse(&body.connection_id),
    ) {
        (Ok(p), Ok(c)) => ConnectionKey::new(call.subject.clone(), p, c),
        _ => return json(&Error::invalid_input("malformed platform or connection id")),
    };
    let mut request = ActionRequest::new(key, body.kind, body.payload, body.at);
    if let Some(s) = body.schedule {
        request = request.recurring(s);
    }
    let result = app.hub.schedule_action(request).await;
    call.finish(&app, "actions.schedule", result, |a| {
        (StatusCode::CREATED, Json(action_json(&a))).into_response()
    })
    .await
}

async fn read(
    State(app): State<Arc<App>>,
    Path((subject, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (call, id) = match admit_on(&app, &headers, &subject, &id, "read").await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let result = app.hub.action(&call.subject, id).await;
    call.finish(&app, "actions.read", result, |a| {
        Json(action_json(&a)).into_response()
    })
    .await
}

async fn cancel(
    State(app): State<Arc<App>>,
    Path((subject, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (call, id) = match admit_on(&app, &headers, &subject, &id, "actions").await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let result = app.hub.cancel_action(&call.subject, id).await;
    call.finish(&app, "actions.cancel", result, |a| {
        Json(action_json(&a)).into_response()
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RescheduleBody {
    at: DateTime<Utc>,
}

async fn reschedule(
    State(app): State<Arc<App>>,
    Path((subject, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, id) = match admit_on(&app, &headers, &subject, &id, "actions").await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let body: RescheduleBody = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = app.hub.reschedule_action(&call.subject, id, body.at).await;
    call.finish(&app, "actions.reschedule", result, |a| {
        Json(action_json(&a)).into_response()
    })
    .await
}

async fn retry(
    State(app): State<Arc<App>>,
    Path((subject, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (call, id) = match admit_on(&app, &headers, &subject, &id, "actions").await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let result = app.hub.retry_action(&call.subject, id).await;
    call.finish(&app, "actions.retry", result, |a| {
        Json(action_json(&a)).into_response()
    })
    .await
}
