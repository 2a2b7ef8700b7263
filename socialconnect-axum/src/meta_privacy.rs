//! Meta's privacy callbacks: `POST /meta/deauthorize`, `POST /meta/data-deletion`, and the
//! deletion status page `GET /meta/deletion-status?code=…` at the URL the callback returns.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use socialconnect_core::ErrorKind;
use socialconnect_core::platform_deletion::DeletionStatus;

use crate::html::{self, escape};
use crate::state::App;

fn refusal(e: &socialconnect_core::Error) -> Response {
    let status = match e.kind() {
        ErrorKind::Crypto | ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    tracing::warn!(error = %e, %status, "Meta privacy callback refused");
    status.into_response()
}

/// `POST /meta/deauthorize`: the user removed the app.
pub(crate) async fn deauthorize(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let Some(meta) = app.meta.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match meta.deauthorize(&body).await {
        Ok(done) => {
            tracing::info!(
                removed = done.connections_removed,
                "Meta deauthorization handled"
            );
            StatusCode::OK.into_response()
        }
        Err(e) => refusal(&e),
    }
}

/// `POST /meta/data-deletion`: answers `{url, confirmation_code}`.
pub(crate) async fn data_deletion(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let Some(meta) = app.meta.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match meta.data_deletion(&body).await {
        Ok(answer) => {
            let mut response = (StatusCode::OK, answer.to_json()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => refusal(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct StatusQuery {
    code: Option<String>,
}

/// `GET /meta/deletion-status?code=…`: public, so it says only the state of the request.
pub(crate) async fn status(State(app): State<Arc<App>>, Query(q): Query<StatusQuery>) -> Response {
    let Some(meta) = app.meta.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let code = q.code.unwrap_or_default();
    if code.is_empty() || code.len() > 128 {
        return html::message(
            StatusCode::BAD_REQUEST,
            "Deletion status",
            "This link carries no valid confirmation code.",
            None,
        );
    }
    match meta.status(&code).await {
        Ok(Some(status)) => {
            let text = match status {
                DeletionStatus::Pending => {
                    "Your deletion request was received and is being processed.".to_owned()
                }
                DeletionStatus::Completed { at } => format!(
                    "Your data was deleted on {}.",
                    at.format("%Y-%m-%d at %H:%M UTC")
                ),
                DeletionStatus::Rejected { reason } => {
                    format!("Your deletion request was declined: {reason}")
                }
                _ => "Your deletion request is recorded.".to_owned(),
            };
            let body = format!(
                "<h1>Deletion request {}</h1><p id=\"deletion-status\">{}</p>",
                escape(&code),
                escape(&text)
            );
            html::page(StatusCode::OK, "Deletion status", &body)
        }
        Ok(None) => html::message(
            StatusCode::NOT_FOUND,
            "Deletion status",
            "No deletion request has this confirmation code.",
            None,
        ),
        Err(e) => crate::error::page(&e, "/"),
    }
}
