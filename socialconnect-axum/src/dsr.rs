//! The data-subject API for the host's own backend: export, rectify, erase, withdraw, and the
//! subject's consents and connections, behind the core's API keys.
//!
//! | Route (under `/api/v1`) | Scope | Answer |
//! |---|---|---|
//! | `GET /subjects/{subject}/export` | `export` | the hub's export, streamed JSON |
//! | `PUT /subjects/{subject}/profile` | `rectify` | `204`; body `{"email": …, "username": …}` |
//! | `DELETE /subjects/{subject}` | `erase` | the erasure report |
//! | `POST /subjects/{subject}/withdraw` | `consent` | body `{"purpose": …, "platform": …?}` |
//! | `GET /subjects/{subject}/consents` | `read` | the subject's consent receipts |
//! | `GET /subjects/{subject}/connections` | `read` | the connections, without tokens |
//! | `/subjects/{subject}/actions…` | `read`, `actions` | the subject's scheduled actions (see [`actions`]) |
//!
//! Every call presents `Authorization: Bearer sc_<id>_<secret>` (missing or malformed: 401;
//! revoked, expired or unknown: 401; wrong scope: 403), is counted against the key's rate and
//! daily quota ([`ApiLimits`]; beyond them 429 with `Retry-After`), and is written to the
//! internal-access log as `api.<operation>` with the key id as actor (an erasure under the
//! system subject, never under the person erased). A verified key's refused call (wrong scope,
//! over its limits) is logged under the system subject as `api.refused.<scope>`, failed
//! `unauthorized` or `throttled`; a key that does not verify gets a `tracing` warning and no
//! log entry, so no caller without a key can fill the log. The system subject's own id is refused
//! (400): its log is the record of erasures, not a person's data.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use socialconnect_core::access_log::{
    ClientInfo, Outcome, SDK_PLATFORM, SYSTEM_SUBJECT, UsageEntry,
};
use socialconnect_core::apikey::VerifiedKey;
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_core::profile::SubjectProfile;
use socialconnect_core::{Error, Result};

use crate::error::{json, json_problem};
use crate::names::purpose_named;
use crate::state::App;

pub(crate) mod access;
pub mod actions;
mod limits;

pub use access::DataSubjectApi;
pub use limits::ApiLimits;

/// The API's routes, to be nested under `/api/v1`.
pub(crate) fn routes() -> axum::Router<Arc<App>> {
    axum::Router::new()
        .route("/subjects/{subject}/export", get(export))
        .route("/subjects/{subject}/profile", put(rectify))
        .route("/subjects/{subject}", delete(erase))
        .route("/subjects/{subject}/withdraw", post(withdraw))
        .route("/subjects/{subject}/consents", get(consents))
        .route("/subjects/{subject}/connections", get(connections))
        .merge(actions::routes())
}

/// A call that passed the key, scope and limit checks.
struct Call {
    key: VerifiedKey,
    subject: SubjectId,
    started: Instant,
    at: chrono::DateTime<chrono::Utc>,
    client: ClientInfo,
}

impl Call {
    fn actor(&self) -> String {
        format!("api-key:{}", self.key.key_id)
    }

    /// Writes the call to the internal-access log (failures are reported, not raised: the
    /// call itself has happened).
    async fn log(&self, app: &App, operation: &str, outcome: Outcome, on_system: bool) {
        let subject = if on_system {
            match SubjectId::new(SYSTEM_SUBJECT) {
                Ok(s) => s,
                Err(_) => return,
            }
        } else {
            self.subject.clone()
        };
        let Ok(platform) = PlatformId::new(SDK_PLATFORM) else {
            return;
        };
        let entry = UsageEntry::new(
            self.at,
            subject,
            platform,
            None,
            format!("api.{operation}"),
            outcome,
            None,
            self.started.elapsed(),
            self.client.clone(),
        )
        .with_actor(self.actor());
        if let Err(e) = app.hub.access_log().append(entry).await {
            tracing::error!(error = %e, "could not write the internal-access log");
        }
    }
}

impl Call {
    /// Logs the call's outcome, then answers: `ok` for a success, the JSON problem otherwise.
    async fn finish<T>(
        &self,
        app: &App,
        operation: &str,
        result: Result<T>,
        ok: impl FnOnce(T) -> Response,
    ) -> Response {
        // An erasure is filed under the system subject: never a record about the erased.
        let on_system = operation == "erase";
        self.log(app, operation, outcome_of(&result), on_system)
            .await;
        match result {
            Ok(value) => ok(value),
            Err(e) => json(&e),
        }
    }
}

fn outcome_of<T>(result: &Result<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) => Outcome::Failure(crate::error::kind_name(&e.kind())),
    }
}

/// Checks the key, its scope and its limits.
async fn admit(
    app: &App,
    headers: &HeaderMap,
    subject: &str,
    scope: &str,
) -> std::result::Result<Call, Response> {
    let Some(api) = app.api.as_ref() else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let Some(presented) = presented else {
        let mut response = json_problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "present an API key as `Authorization: Bearer <key>`",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Err(response);
    };
    let key = match api.keys().verify(presented.trim()).await {
        Ok(key) => key,
        Err(e) => {
            let kind = e.kind();
            // No entry in the log: an unauthenticated caller must not be able to fill it.
            // The refusal is a warning for the host's alerting instead.
            tracing::warn!(
                scope,
                kind = kind.as_str(),
                "data-subject API call refused: the API key did not verify"
            );
            return Err(match kind {
                socialconnect_core::ErrorKind::InvalidInput
                | socialconnect_core::ErrorKind::Unauthorized => json_problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the API key is not valid",
                ),
                _ => json(&e),
            });
        }
    };
    if !key.has_scope(scope) {
        log_refusal(app, &key, scope, "unauthorized", headers).await;
        return Err(json_problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("this API key lacks the `{scope}` scope"),
        ));
    }
    if let Err(wait) = api.limiters().check(&key.key_id.to_string()) {
        log_refusal(app, &key, scope, "throttled", headers).await;
        return Err(too_many(wait));
    }
    let subject =
        SubjectId::new(subject).map_err(|_| json(&Error::invalid_input("malformed subject id")))?;
    // The system subject files the log of erasures and key changes: exporting it would show
    // other people's erasures, erasing it would destroy that record. No caller's subject.
    if subject.as_str() == SYSTEM_SUBJECT {
        return Err(json(&Error::invalid_input("reserved subject id")));
    }
    Ok(Call {
        key,
        subject,
        started: Instant::now(),
        at: app.hub.clock().now(),
        client: client_info(headers),
    })
}

/// Writes a verified key's refused call (wrong scope, over its limits) to the internal-access
/// log under the system subject, with the key as actor: the log shows who tried what, and the
/// person named in the path gets no entry for a call that never reached their data.
async fn log_refusal(
    app: &App,
    key: &VerifiedKey,
    scope: &str,
    failure: &'static str,
    headers: &HeaderMap,
) {
    let (Ok(subject), Ok(platform)) = (
        SubjectId::new(SYSTEM_SUBJECT),
        PlatformId::new(SDK_PLATFORM),
    ) else {
        return;
    };
    tracing::warn!(key = %key.key_id, scope, failure, "data-subject API call refused");
    let entry = UsageEntry::new(
        app.hub.clock().now(),
        subject,
        platform,
        None,
        format!("api.refused.{scope}"),
        Outcome::Failure(failure),
        None,
        Duration::ZERO,
        client_info(headers),
    )
    .with_actor(format!("api-key:{}", key.key_id));
    if let Err(e) = app.hub.access_log().append(entry).await {
        tracing::error!(error = %e, "could not write the internal-access log");
    }
}

fn client_info(headers: &HeaderMap) -> ClientInfo {
    ClientInfo::new(
        None,
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A body over the API's limit, answered as its JSON problem (`payload_too_large`) instead
/// of the limit layer's plain text.
pub(crate) async fn oversized_as_json(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return json_problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is over this service's limit; nothing was changed",
        );
    }
    response
}

fn too_many(wait: Duration) -> Response {
    let mut response = json_problem(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "this API key's rate or daily quota is used up",
    );
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn export(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = match admit(&app, &headers, &subject, "export").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let permit = match app.export_permit() {
        Ok(p) => p,
        Err(busy) => return busy,
    };
    // The hub logs the export itself (`privileged.export` with its outcome and this key as
    // actor); this entry records the API call that started it.
    call.log(&app, "export", Outcome::Success, false).await;
    let body = crate::export::body(app.hub.clone(), call.subject.clone(), call.actor(), permit);
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    email: Option<String>,
    username: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> std::result::Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        json_problem(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            &format!(
                "malformed JSON body at line {} column {}",
                e.line(),
                e.column()
            ),
        )
    })
}

async fn rectify(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match admit(&app, &headers, &subject, "rectify").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let profile: ProfileBody = match parse_json(&body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = app
        .hub
        .rectify(
            &call.subject,
            SubjectProfile::new(profile.email, profile.username),
            &call.actor(),
        )
        .await;
    call.finish(&app, "rectify", result, |()| {
        StatusCode::NO_CONTENT.into_response()
    })
    .await
}

async fn erase(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = match admit(&app, &headers, &subject, "erase").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let result = app.hub.erase(&call.subject, &call.actor()).await;
    call.finish(&app, "erase", result, |outcome| {
        Json(crate::report::erasure_json(&outcome)).into_response()
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawBody {
    purpose: String,
    platform: Option<String>,
}

async fn withdraw(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match admit(&app, &headers, &subject, "consent").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let request: WithdrawBody = match parse_json(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(purpose) = purpose_named(&request.purpose) else {
        return json(&Error::invalid_input("unknown purpose"));
    };
    let platform = match request.platform.map(PlatformId::new).transpose() {
        Ok(p) => p,
        Err(_) => return json(&Error::invalid_input("malformed platform id")),
    };
    let result = app
        .hub
        .withdraw(&call.subject, purpose, platform.as_ref(), &call.actor())
        .await;
    call.finish(&app, "withdraw", result, |outcome| {
        Json(crate::report::withdrawal_json(&outcome)).into_response()
    })
    .await
}

async fn consents(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = match admit(&app, &headers, &subject, "read").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let result = app
        .hub
        .consent_receipts(&call.subject, &app.info.controller_info())
        .await;
    call.finish(&app, "consents", result, |receipts| {
        Json(serde_json::json!({ "consents": receipts })).into_response()
    })
    .await
}

async fn connections(
    State(app): State<Arc<App>>,
    Path(subject): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = match admit(&app, &headers, &subject, "read").await {
        Ok(call) => call,
        Err(r) => return r,
    };
    let result = crate::report::connections(&app.hub, &call.subject).await;
    call.finish(&app, "connections", result, |list| {
        let list: Vec<_> = list.iter().map(crate::report::connection_json).collect();
        Json(serde_json::json!({ "connections": list })).into_response()
    })
    .await
}
