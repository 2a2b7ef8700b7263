//! [`ApiCaller`]: the call path every platform client goes through, written once.
//!
//! send → read the platform's usage headers (pause before it refuses) → classify the response
//! with the platform's ordered [`Classifiers`] → pause the platform on a rate limit, or fail
//! with a typed error. Writes go through [`ApiCaller::send_write`], which never retries and
//! reports every answer that leaves the outcome unknown as `MaybeSent`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;

use super::Session;
use crate::connect::classify::{Classifiers, Exchange};
use crate::connect::http::{
    ApiRequest, ApiResponse, HttpClient, UsageHeaders, UsagePolicy, retry_after,
};
use crate::error::{Error, ErrorKind, PlatformError, Result};
use crate::id::PlatformId;
use crate::secret::AccessToken;

type Authorizer = dyn Fn(ApiRequest, &AccessToken) -> ApiRequest + Send + Sync;

/// A platform client's call path: how it authorizes a request, which usage headers it reads,
/// and how it classifies answers. Cheap to clone; build one per platform client.
///
/// ```
/// use socialconnect_core::ApiCaller;
/// use socialconnect_core::connect::classify::Classifiers;
/// use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
///
/// let errors = ErrorMap::new(EnvelopeFormat::at("").code("/code").message("/message"))
///     .rule(Rule::code(429).to(Outcome::Throttled));
/// let caller = ApiCaller::new(Classifiers::new().with(errors))
///     // A platform that wants the token as a query parameter instead of a bearer header.
///     .authorizer(|req, token| req.query(&[("access_token", token.expose_secret())]));
/// # let _ = caller;
/// ```
#[derive(Clone)]
pub struct ApiCaller {
    classifiers: Classifiers,
    usage: Option<(Arc<dyn UsageHeaders>, UsagePolicy)>,
    authorizer: Arc<Authorizer>,
    mark_rejected: bool,
}

impl std::fmt::Debug for ApiCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCaller")
            .field("classifiers", &self.classifiers)
            .field("usage_policy", &self.usage.as_ref().map(|(_, p)| p))
            .finish_non_exhaustive()
    }
}

impl ApiCaller {
    /// A call path classifying with `classifiers`, sending the token as a bearer header and
    /// reading no usage headers.
    pub fn new(classifiers: Classifiers) -> Self {
        Self {
            classifiers,
            usage: None,
            authorizer: Arc::new(|req: ApiRequest, token: &AccessToken| req.bearer(token.clone())),
            mark_rejected: false,
        }
    }

    /// Marks a connection as needing reconnection as soon as the platform rejects its token
    /// on a call (`ReconnectRequired` with [`TokenRejected`](crate::error::ReconnectReason::TokenRejected)
    /// or [`Revoked`](crate::error::ReconnectReason::Revoked)), for a platform with no
    /// deauthorization callback, where that answer is the only sign a user removed the app
    /// (Pinterest's 401 code 2). Off by default: elsewhere the refresh engine decides.
    pub fn marks_rejected_tokens(mut self, mark: bool) -> Self {
        self.mark_rejected = mark;
        self
    }

    /// Reads the platform's usage headers with `reader` on every answer and pauses the
    /// platform as `policy` says.
    pub fn usage_headers(
        mut self,
        reader: impl UsageHeaders + 'static,
        policy: UsagePolicy,
    ) -> Self {
        self.usage = Some((Arc::new(reader), policy));
        self
    }

    /// How a request carries the token (and any proof beside it). The default is a bearer
    /// header.
    pub fn authorizer(
        mut self,
        authorize: impl Fn(ApiRequest, &AccessToken) -> ApiRequest + Send + Sync + 'static,
    ) -> Self {
        self.authorizer = Arc::new(authorize);
        self
    }

    /// `req` with `token` attached the platform's way.
    pub fn authorize(&self, req: ApiRequest, token: &AccessToken) -> ApiRequest {
        (self.authorizer)(req, token)
    }

    /// Sends `req` through `session` with the session's token; `Ok` only for an answer the
    /// classifiers accept. Logged in the usage log with the classified outcome.
    pub async fn send(&self, session: &Session, req: ApiRequest) -> Result<ApiResponse> {
        self.send_as(session, session.access_token(), req).await
    }

    /// [`ApiCaller::send`] with another token the session's connection owns (a Page token).
    pub async fn send_as(
        &self,
        session: &Session,
        token: &AccessToken,
        req: ApiRequest,
    ) -> Result<ApiResponse> {
        let req = self.authorize(req, token);
        let platform = session.key().platform.clone();
        let http = session.http().clone();
        let check = |resp: &ApiResponse| self.check(&http, &platform, resp);
        let (resp, verdict) = session.exchange_with_caller_auth(req, &check).await?;
        if let Err(Error::ReconnectRequired {
            reason:
                crate::error::ReconnectReason::TokenRejected | crate::error::ReconnectReason::Revoked,
            ..
        }) = &verdict
            && self.mark_rejected
            && let Err(e) = session.mark_reconnect_required().await
        {
            tracing::warn!(error = %e, "could not mark the connection as needing reconnection");
        }
        verdict.map(|()| resp)
    }

    /// [`ApiCaller::send`] and decode the JSON body.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        session: &Session,
        req: ApiRequest,
    ) -> Result<T> {
        self.send(session, req).await?.json()
    }

    /// Sends a write (a publish, a message, a delete) that must never be sent twice, and
    /// decodes its answer.
    ///
    /// The request is marked non-idempotent, so the HTTP layer never retries it and reports a
    /// timeout or a dropped connection as `MaybeSent`. Two more answers leave the outcome
    /// unknown and are reported the same way: a server failure (a 5xx, even one with the
    /// platform's error envelope, or a temporary or unrecognised error inside a 2xx), and a
    /// 2xx whose body cannot be read (the write happened, but its id is lost).
    pub async fn send_write<T: DeserializeOwned>(
        &self,
        session: &Session,
        req: ApiRequest,
    ) -> Result<T> {
        self.send_write_as(session, session.access_token(), req)
            .await
    }

    /// [`ApiCaller::send_write`] with another token the session's connection owns.
    pub async fn send_write_as<T: DeserializeOwned>(
        &self,
        session: &Session,
        token: &AccessToken,
        req: ApiRequest,
    ) -> Result<T> {
        let operation = req.operation_name().to_owned();
        let resp = self.send_write_response(session, token, req).await?;
        resp.json().map_err(|e| match e {
            Error::Decode(_) => Error::MaybeSent {
                message: format!("{operation}: accepted, but the answer could not be read"),
            },
            other => other,
        })
    }

    /// [`ApiCaller::send_write_as`] for a platform whose answer is not a JSON body (LinkedIn's
    /// 201 with the new id in a header): the same never-resend rule and `MaybeSent` mapping,
    /// and the accepted response handed back to read.
    pub async fn send_write_response(
        &self,
        session: &Session,
        token: &AccessToken,
        req: ApiRequest,
    ) -> Result<ApiResponse> {
        let operation = req.operation_name().to_owned();
        self.send_as(session, token, req.idempotent(false))
            .await
            .map_err(|e| unknown_outcome(e, &operation))
    }

    /// Sends an app-level request (a token exchange, a token inspection) outside any session:
    /// tagged with `platform`, classified, not written to the usage log.
    pub async fn send_app(
        &self,
        http: &HttpClient,
        platform: &PlatformId,
        req: ApiRequest,
    ) -> Result<ApiResponse> {
        let resp = http.send(req.platform(platform.clone())).await?;
        self.check(http, platform, &resp)?;
        Ok(resp)
    }

    /// The call path after the answer arrived: usage headers first (pause before the platform
    /// refuses), then the classifiers; a rate limit with a wait the platform announced pauses the platform.
    pub fn check(
        &self,
        http: &HttpClient,
        platform: &PlatformId,
        resp: &ApiResponse,
    ) -> Result<()> {
        let mut wait = None;
        if let Some((reader, policy)) = &self.usage {
            http.observe_usage(platform, resp.headers(), reader.as_ref(), policy);
            wait = reader.usage(resp.headers()).and_then(|u| u.regain_after);
        }
        let wait = wait.or_else(|| retry_after(resp.headers(), SystemTime::now()));
        let exchange = Exchange {
            platform,
            response: resp,
            retry_after: wait,
        };
        let verdict = self.classifiers.classify(&exchange);
        // Only a wait the platform announced (usage headers, `Retry-After`) pauses the whole
        // platform; a wait a classifier worked out itself (LinkedIn's day limit, which holds
        // for one resource and one app or member) is the caller's to honour.
        if let Err(e) = &verdict
            && let ErrorKind::Throttled { .. } = e.kind()
            && let Some(wait) = wait
            && wait > Duration::ZERO
        {
            http.pause_platform(platform, wait);
        }
        verdict
    }
}

/// A write's error, with every "the platform failed after receiving it" made `MaybeSent`.
fn unknown_outcome(err: Error, operation: &str) -> Error {
    let server_failed = |p: &PlatformError| {
        p.http_status
            .is_some_and(|s| s >= 500 || (200..300).contains(&s))
    };
    match &err {
        Error::Transient {
            platform: Some(p), ..
        }
        | Error::Platform(p)
            if server_failed(p) =>
        {
            Error::MaybeSent {
                message: format!(
                    "{operation}: http {} from the platform; the write may have happened",
                    p.http_status.unwrap_or_default()
                ),
            }
        }
        _ => err,
    }
}
