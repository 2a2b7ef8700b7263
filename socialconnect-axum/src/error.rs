//! How a core error becomes an answer: a page for browsers, a JSON problem for the API.
//!
//! Neither shows the error's internals: a page says what happened in words chosen by kind,
//! and the full error goes to `tracing` (core errors carry no secrets). Only an
//! `InvalidInput` message, which describes the caller's own input, reaches a JSON answer.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use socialconnect_core::{Error, ErrorKind};

use crate::html;

/// The HTTP status for an error kind.
pub(crate) fn status(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::ConsentRequired | ErrorKind::AgeRestricted | ErrorKind::PolicyBlocked => {
            StatusCode::FORBIDDEN
        }
        ErrorKind::AuthorizationDenied => StatusCode::FORBIDDEN,
        ErrorKind::ReconnectRequired | ErrorKind::MissingScopes | ErrorKind::Conflict => {
            StatusCode::CONFLICT
        }
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Transient | ErrorKind::Platform | ErrorKind::MaybeSent => {
            StatusCode::BAD_GATEWAY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The stable name of an error kind in JSON answers.
pub(crate) fn kind_name(kind: &ErrorKind) -> &'static str {
    kind.as_str()
}

/// A page for an error met while serving a browser.
pub(crate) fn page(err: &Error, back: &str) -> Response {
    let kind = err.kind();
    let status = status(&kind);
    if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
    } else {
        tracing::info!(error = %err, "request refused");
    }
    let (title, text) = match kind {
        ErrorKind::AuthorizationDenied => (
            "Connection cancelled",
            "You declined the request on the platform, so nothing was connected.",
        ),
        ErrorKind::InvalidInput => (
            "This link cannot be used",
            "The request was incomplete, has expired or was already used. Start again from your privacy page.",
        ),
        ErrorKind::AgeRestricted => (
            "Not available",
            "This service is not available to you, and nothing about you was stored.",
        ),
        ErrorKind::ConsentRequired => (
            "Consent needed",
            "This needs your consent first. Give it on the connect page or your privacy page.",
        ),
        ErrorKind::ReconnectRequired => (
            "Reconnect needed",
            "The platform no longer accepts this connection. Connect the account again.",
        ),
        ErrorKind::Throttled { .. } => (
            "Too many requests",
            "The platform asked us to slow down. Try again in a few minutes.",
        ),
        ErrorKind::Transient | ErrorKind::Platform | ErrorKind::MaybeSent => (
            "The platform did not answer as expected",
            "Nothing was changed on your side. Try again in a few minutes.",
        ),
        _ => (
            "Something went wrong",
            "The request could not be completed. Try again later.",
        ),
    };
    html::message(status, title, text, Some(back))
}

/// A JSON problem for an error met while serving the data-subject API.
pub(crate) fn json(err: &Error) -> Response {
    let kind = err.kind();
    let status = status(&kind);
    if status.is_server_error() {
        tracing::error!(error = %err, "API request failed");
    }
    let message = match kind {
        ErrorKind::InvalidInput => err.to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let mut response = (
        status,
        Json(serde_json::json!({ "error": kind_name(&kind), "message": message })),
    )
        .into_response();
    if let ErrorKind::Throttled {
        retry_after: Some(wait),
    } = kind
        && let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A JSON problem the routes raise themselves (bad key, quota, body).
pub(crate) fn json_problem(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": error, "message": message })),
    )
        .into_response()
}
