//! `GET|POST /webhooks/{platform}`: the subscription handshakes and the deliveries.
//!
//! A delivery is read as raw bytes (within the route's body limit, 413 beyond it), verified
//! by the platform's [`WebhookReceiver`] over exactly those bytes, deduplicated through the
//! [`DeliveryLog`](socialconnect_core::webhook::DeliveryLog), and answered at once: the verified events go into a bounded queue the
//! host drains ([`WebhookEvents`]), so no platform waits on the host's own work. When the
//! queue is full the delivery is forgotten again and answered `503` with `Retry-After`, so
//! the platform's retry brings it back instead of it being lost.
//!
//! The platforms' own erasure events (TikTok's `authorization.removed`) are acted on inside
//! the receiver before the answer, through the same erasure path as every other deletion:
//! an acknowledged removal is a completed one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::App;

#[cfg(feature = "linkedin")]
mod linkedin;
#[cfg(feature = "meta")]
mod meta;
pub(crate) mod receiver;
#[cfg(feature = "tiktok")]
mod tiktok;

#[cfg(feature = "linkedin")]
pub use linkedin::LinkedInReceiver;
#[cfg(feature = "meta")]
pub use meta::MetaReceiver;
pub use receiver::{Received, WebhookEvent, WebhookEvents, WebhookReceiver};
#[cfg(feature = "tiktok")]
pub use tiktok::TikTokReceiver;

/// `GET /webhooks/{platform}`.
pub(crate) async fn handshake(
    State(app): State<Arc<App>>,
    Path(platform): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(receiver) = app.webhook(&platform) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match receiver.handshake(query.as_deref().unwrap_or("")) {
        None => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        Some(reply) => {
            if !reply.is_accepted() {
                tracing::warn!(platform, refusal = ?reply.refusal(), "webhook handshake refused");
            }
            let status = StatusCode::from_u16(reply.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = (status, reply.body().to_owned()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(reply.content_type()),
            );
            response
        }
    }
}

/// `POST /webhooks/{platform}`.
pub(crate) async fn deliver(
    State(app): State<Arc<App>>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(receiver) = app.webhook(&platform) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let received = match receiver
        .receive(&headers, &body, app.deliveries.as_ref())
        .await
    {
        Ok(received) => received,
        Err(e) => {
            let status = crate::error::status(&e.kind());
            let status = match e.kind() {
                socialconnect_core::ErrorKind::Crypto => StatusCode::UNAUTHORIZED,
                socialconnect_core::ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
                _ if status.is_client_error() => status,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            tracing::warn!(platform, error = %e, %status, "webhook delivery refused");
            return status.into_response();
        }
    };
    let count = received.events.len();
    if let Some(queue) = &app.events
        && count > 0
    {
        // Room for the whole batch or none of it: a batch queued in part and then forgotten
        // would hand the host its first events again on the platform's retry.
        let permits = match queue.try_reserve_many(count) {
            Ok(permits) => Some(permits),
            // The host dropped its end of the queue: nothing can be handed off, and a retry
            // would not change that. Acknowledge, and say so loudly.
            Err(tokio::sync::mpsc::error::TrySendError::Closed(())) => {
                tracing::error!(
                    platform,
                    events = count,
                    "webhook queue closed by the host: events dropped"
                );
                return StatusCode::OK.into_response();
            }
            Err(tokio::sync::mpsc::error::TrySendError::Full(())) => None,
        };
        let Some(permits) = permits else {
            if let Err(e) = receiver.forget(&received, app.deliveries.as_ref()).await {
                tracing::error!(error = %e, "could not forget a webhook delivery; its retry will be dropped");
            }
            tracing::warn!(platform, "webhook queue full: asking the platform to retry");
            let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return response;
        };
        for (permit, event) in permits.zip(received.events) {
            permit.send(event);
        }
    }
    tracing::info!(platform, events = count, "webhook delivery accepted");
    StatusCode::OK.into_response()
}
