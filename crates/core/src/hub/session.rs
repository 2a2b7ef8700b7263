//! A session: a fresh token for one connection and purpose, and an HTTP handle that logs.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::HubInner;
use crate::access_log::{ClientInfo, Outcome, UsageEntry};
use crate::error::{ErrorKind, Result};
use crate::http::{ApiRequest, ApiResponse, HttpClient};
use crate::id::{ConnectionKey, Purpose};
use crate::secret::AccessToken;
use crate::token::TokenSet;

/// What a session is for: one connection, one purpose, a token that was fresh when it opened.
///
/// Every [`Session::send`] goes through the hub's HTTP client with the bearer token attached and
/// is written to the usage log (subject, platform, operation, outcome, latency, and the client
/// info the host supplied).
#[derive(Clone)]
pub struct Session {
    pub(super) hub: Arc<HubInner>,
    pub(super) key: ConnectionKey,
    pub(super) purpose: Purpose,
    pub(super) tokens: TokenSet,
    pub(super) client: ClientInfo,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("key", &self.key)
            .field("purpose", &self.purpose)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Attaches the end user's IP and user agent, recorded with every call in the usage log.
    pub fn with_client_info(mut self, client: ClientInfo) -> Self {
        self.client = client;
        self
    }

    /// The connection.
    pub fn key(&self) -> &ConnectionKey {
        &self.key
    }

    /// The purpose the session was opened for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The access token, for a platform client that must place it itself.
    pub fn access_token(&self) -> &AccessToken {
        &self.tokens.access_token
    }

    /// The token set (scopes, expiry, account id).
    pub fn tokens(&self) -> &TokenSet {
        &self.tokens
    }

    /// The hub's HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.hub.http
    }

    /// Sends `req` with the bearer token, tagged with the platform and connection, and logs it.
    /// Returns the response whatever its status.
    pub async fn send(&self, req: ApiRequest) -> Result<ApiResponse> {
        let req = req
            .bearer(self.tokens.access_token.clone())
            .platform(self.key.platform.clone())
            .connection(self.key.connection);
        self.send_prepared(req).await
    }

    /// Like [`Session::send`] but leaves authentication to the caller (a platform that wants
    /// the token in a parameter, or an extra proof alongside it).
    pub async fn send_unauthenticated(&self, req: ApiRequest) -> Result<ApiResponse> {
        let req = req
            .platform(self.key.platform.clone())
            .connection(self.key.connection);
        self.send_prepared(req).await
    }

    /// Sends, maps a non-2xx status to an error, and decodes the JSON body.
    pub async fn send_json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T> {
        self.send(req).await?.error_for_status()?.json()
    }

    async fn send_prepared(&self, mut req: ApiRequest) -> Result<ApiResponse> {
        if req.app.is_none()
            && let Some(p) = self.hub.platforms.get(&self.key.platform)
        {
            req = req.app(p.oauth().client_id.clone());
        }
        let operation = req.operation_name().to_owned();
        let at = self.hub.clock.now();
        let started = std::time::Instant::now();
        let result = self.hub.http.send(req).await;
        let latency = started.elapsed();
        let (outcome, status) = match &result {
            Ok(resp) if resp.is_success() => (Outcome::Success, Some(resp.status())),
            Ok(resp) => (
                Outcome::Failure(kind_name(resp.status_error().kind())),
                Some(resp.status()),
            ),
            Err(e) => (Outcome::Failure(kind_name(e.kind())), None),
        };
        let entry = UsageEntry::new(
            at,
            self.key.subject.clone(),
            self.key.platform.clone(),
            Some(self.key.connection),
            operation,
            outcome,
            status,
            latency,
            self.client.clone(),
        );
        if let Err(e) = self.hub.log.append(entry).await {
            // The call already happened: failing it now could make the host repeat a publish.
            // The log failure is reported loudly instead.
            tracing::error!(error = %e, "usage log write failed");
        }
        result
    }
}

/// A stable name for an error kind, for the usage log.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ReconnectRequired => "reconnect_required",
        ErrorKind::Throttled { .. } => "throttled",
        ErrorKind::MissingScopes => "missing_scopes",
        ErrorKind::ConsentRequired => "consent_required",
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::Transient => "transient",
        ErrorKind::MaybeSent => "maybe_sent",
        ErrorKind::Platform => "platform",
        ErrorKind::Storage => "storage",
        ErrorKind::Crypto => "crypto",
        ErrorKind::Config => "config",
        ErrorKind::AgeRestricted => "age_restricted",
        ErrorKind::Unauthorized => "unauthorized",
    }
}
