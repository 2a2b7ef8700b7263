//! A session: a fresh token for one connection and purpose, and an HTTP handle that logs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;

use chrono::{DateTime, TimeDelta, Utc};

use super::HubInner;
use crate::access_log::{ClientInfo, Outcome, UsageEntry};
use crate::alert::{Alert, AlertCounter, AlertSink, AlertThresholds, Threshold};
use crate::error::{Error, ErrorKind, ReconnectReason, Result};
use crate::http::{ApiRequest, ApiResponse, HttpClient};
use crate::id::{ConnectionId, ConnectionKey, Purpose};
use crate::secret::AccessToken;
use crate::token::{Expiry, TokenSet};

/// What a session is for: one connection, one purpose, a token that was fresh when it opened.
///
/// Every [`Session::send`] checks consent for the session's purpose again (a withdrawal since
/// the session opened refuses it with `ConsentRequired`), goes through the hub's HTTP client
/// with the bearer token attached and is written to the usage log (subject, platform,
/// operation, outcome, latency, and the client info the host supplied).
#[derive(Clone)]
pub struct Session {
    pub(super) hub: Arc<HubInner>,
    pub(super) key: ConnectionKey,
    pub(super) purpose: Purpose,
    pub(super) tokens: TokenSet,
    pub(super) grant_ends: Expiry,
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

    /// When the connection's grant ends for good, whatever refreshing does (see
    /// [`Platform::grant_ends`](crate::platform::Platform::grant_ends)): the date to ask the
    /// end user to reconnect by.
    pub fn grant_ends(&self) -> Expiry {
        self.grant_ends
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

    /// Like [`Session::send`] but the caller supplies the authentication: the request goes out
    /// with whatever credentials it already carries (a platform that wants the token in a
    /// parameter, a Page token instead of the user's, or an extra proof alongside it). Still
    /// tagged with the platform and connection, rate limited and logged.
    pub async fn send_with_caller_auth(&self, req: ApiRequest) -> Result<ApiResponse> {
        let req = req
            .platform(self.key.platform.clone())
            .connection(self.key.connection);
        self.send_prepared(req).await
    }

    /// The former name of [`Session::send_with_caller_auth`].
    #[deprecated(note = "renamed to `send_with_caller_auth`: the caller supplies the auth")]
    pub async fn send_unauthenticated(&self, req: ApiRequest) -> Result<ApiResponse> {
        self.send_with_caller_auth(req).await
    }

    /// Marks the session's connection as needing reconnection (the platform rejected its
    /// token and will not take it again): later sessions are refused with
    /// `ReconnectRequired` until the end user connects again.
    pub(crate) async fn mark_reconnect_required(&self) -> Result<()> {
        let since = self.hub.clock.now();
        self.hub
            .tokens
            .set_status(
                &self.key,
                crate::store::ConnectionStatus::ReconnectRequired { since },
            )
            .await?;
        self.hub.refresher.invalidate(&self.key);
        tracing::warn!(platform = %self.key.platform, connection = %self.key.connection, "the platform rejected the token; reconnection required");
        Ok(())
    }

    /// Sends, maps a non-2xx status to an error, and decodes the JSON body.
    pub async fn send_json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T> {
        self.send(req).await?.error_for_status()?.json()
    }

    async fn send_prepared(&self, req: ApiRequest) -> Result<ApiResponse> {
        let by_status = |r: &ApiResponse| {
            if r.is_success() {
                Ok(())
            } else {
                Err(r.status_error())
            }
        };
        Ok(self.exchange(req, &by_status).await?.0)
    }

    /// Sends a request that already carries its credentials, tagged with the platform and
    /// connection, and logs it with the outcome `classify` gives its response.
    pub(super) async fn exchange_with_caller_auth(
        &self,
        req: ApiRequest,
        classify: &(dyn Fn(&ApiResponse) -> Result<()> + Sync),
    ) -> Result<(ApiResponse, Result<()>)> {
        let req = req
            .platform(self.key.platform.clone())
            .connection(self.key.connection);
        self.exchange(req, classify).await
    }

    /// Sends, classifies the response with `classify`, raises alerts and writes the usage log
    /// by that verdict. Returns the response and the verdict.
    async fn exchange(
        &self,
        mut req: ApiRequest,
        classify: &(dyn Fn(&ApiResponse) -> Result<()> + Sync),
    ) -> Result<(ApiResponse, Result<()>)> {
        if req.app.is_none()
            && let Some(p) = self.hub.platforms.get(&self.key.platform)
        {
            req = req.app(p.oauth().client_id.clone());
        }
        // Checked at every call, not only when the session opened: a withdrawal stops the
        // next call (nothing is sent, nothing is logged as processed).
        self.hub
            .require_session_consent(&self.key, self.purpose)
            .await?;
        let operation = req.operation_name().to_owned();
        let at = self.hub.clock.now();
        let started = std::time::Instant::now();
        let result = self.hub.http.send(req).await.map(|resp| {
            let verdict = classify(&resp);
            (resp, verdict)
        });
        let latency = started.elapsed();
        let (outcome, status) = match &result {
            Ok((resp, Ok(()))) => (Outcome::Success, Some(resp.status())),
            Ok((resp, Err(error))) => {
                self.hub.alerts.observe(&self.key, error, at);
                (
                    Outcome::Failure(kind_name(error.kind())),
                    Some(resp.status()),
                )
            }
            Err(e) => {
                self.hub.alerts.observe(&self.key, e, at);
                (Outcome::Failure(kind_name(e.kind())), None)
            }
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

/// The hub's alerting: the host's sink and the counters for alerts that fire on repetition.
///
/// Alerts carry no personal data (see [`crate::alert`]): a connection id and a platform at
/// most, never the subject.
pub(crate) struct HubAlerts {
    sink: Arc<dyn AlertSink>,
    reconnect: AlertCounter,
    rate_limit: AlertCounter,
    reconnect_warning: TimeDelta,
    /// The grant end each connection was last warned about.
    warned: Mutex<HashMap<ConnectionId, DateTime<Utc>>>,
}

/// The most connections remembered as warned; past this, those whose grant ended are dropped.
const MAX_WARNED: usize = 100_000;

/// A platform's rate-limit exhaustion is reported at most once per this window: a throttled
/// platform answers every call with 429 until the window resets, and one alert says it all.
const RATE_LIMIT_ALERT_WINDOW: TimeDelta = TimeDelta::minutes(1);

impl HubAlerts {
    pub(crate) fn new(sink: Arc<dyn AlertSink>, thresholds: AlertThresholds) -> Self {
        Self {
            sink,
            reconnect: AlertCounter::new(thresholds.reconnect_required),
            rate_limit: AlertCounter::new(Threshold::new(1, RATE_LIMIT_ALERT_WINDOW)),
            reconnect_warning: thresholds.reconnect_warning,
            warned: Mutex::new(HashMap::new()),
        }
    }

    /// Raises [`Alert::ReconnectSoon`] when `key`'s grant ends within the warning window, once
    /// per connection and end.
    pub(crate) fn check_grant_end(&self, key: &ConnectionKey, ends: Expiry, now: DateTime<Utc>) {
        let Expiry::At(ends_at) = ends else { return };
        if ends_at - now > self.reconnect_warning {
            return;
        }
        {
            let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
            if warned.get(&key.connection) == Some(&ends_at) {
                return;
            }
            if warned.len() >= MAX_WARNED {
                warned.retain(|_, end| *end > now);
            }
            warned.insert(key.connection, ends_at);
        }
        self.raise(&Alert::ReconnectSoon {
            platform: key.platform.clone(),
            connection: key.connection,
            ends_at,
        });
    }

    /// Delivers one alert.
    pub(crate) fn raise(&self, alert: &Alert) {
        self.sink.alert(alert);
    }

    /// Looks at a failed call or refresh on `key`:
    ///
    /// - a throttled result raises [`Alert::RateLimitExhausted`] (once per platform per
    ///   minute);
    /// - a reconnect-required the *platform* just reported (token rejected, refresh refused,
    ///   session invalidated, token expired) counts towards
    ///   [`Alert::RepeatedReconnectRequired`] for the connection. The hub echoing a status it
    ///   stored earlier (`MarkedByEarlierFailure`, `NotConnected`, a stored `Revoked`) does not
    ///   count: a host retrying a dead connection is not the connection failing again.
    pub(crate) fn observe(&self, key: &ConnectionKey, error: &Error, now: DateTime<Utc>) {
        let crossed = match error {
            Error::Throttled { retry_after, .. } => self
                .rate_limit
                .record(key.platform.as_str(), now)
                .map(|_| Alert::RateLimitExhausted {
                    platform: key.platform.clone(),
                    retry_after: *retry_after,
                }),
            Error::ReconnectRequired {
                reason:
                    ReconnectReason::TokenRejected
                    | ReconnectReason::InvalidGrant
                    | ReconnectReason::SessionInvalidated
                    | ReconnectReason::Expired,
                ..
            } => self
                .reconnect
                .record(&key.connection.to_string(), now)
                .map(|count| Alert::RepeatedReconnectRequired {
                    connection: key.connection,
                    count,
                }),
            _ => None,
        };
        if let Some(alert) = crossed {
            self.raise(&alert);
        }
    }
}

/// A stable name for an error kind, for the usage log ([`ErrorKind::as_str`]).
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    kind.as_str()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::access_log::Outcome;

    #[test]
    fn every_failure_name_reads_back_from_the_usage_log() {
        let kinds = [
            ErrorKind::ReconnectRequired,
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(1)),
            },
            ErrorKind::PolicyBlocked,
            ErrorKind::MissingScopes,
            ErrorKind::ConsentRequired,
            ErrorKind::InvalidInput,
            ErrorKind::Transient,
            ErrorKind::MaybeSent,
            ErrorKind::Platform,
            ErrorKind::Storage,
            ErrorKind::Crypto,
            ErrorKind::Config,
            ErrorKind::AgeRestricted,
            ErrorKind::Unauthorized,
            ErrorKind::AuthorizationDenied,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
        ];
        for kind in kinds {
            let name = kind_name(kind);
            assert_eq!(Outcome::parse(name), Outcome::Failure(name), "{kind:?}");
        }
    }
}
