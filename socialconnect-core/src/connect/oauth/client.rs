//! Talking to a token endpoint: code exchange, refresh, revocation.
//!
//! Platforms whose token endpoint follows RFC 6749 ([`TokenDialect::Rfc6749`]) go through the
//! `oauth2` crate, which owns the grant request encoding and the strict response parsing. Those
//! that deviate ([`TokenDialect::Lenient`]: TikTok names the client id `client_key` and returns
//! errors inside HTTP 200 bodies; LinkedIn omits `token_type`) get our own form request and a
//! lenient reader. Both paths send through the shared [`HttpClient`], so HTTPS-only, the body cap
//! and the timeouts apply to token traffic too. Token requests are never retried after they may
//! have been sent: a code is single-use and a rotating refresh token would be burnt.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    EndpointNotSet, EndpointSet, StandardRevocableToken, StandardTokenResponse, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::token_response::{Grant, LooseInt, TokenResponseBody, oauth_error};
use crate::clock::Clock;
use crate::error::{DecodeError, Error, Result};
use crate::http::{ApiRequest, ApiResponse, HttpClient};
use crate::id::Scope;
use crate::platform::{ClientAuth, OAuthSpec, Revocation, RevocationEndpoint, TokenDialect};
use crate::secret::{AuthCode, ClientSecret, PkceVerifier, RefreshToken};
use crate::token::{Expiry, TokenSet};

/// Fields beyond RFC 6749 that platforms add to token responses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ExtraFields {
    #[serde(default, alias = "refresh_expires_in")]
    refresh_token_expires_in: Option<LooseInt>,
}
impl oauth2::ExtraTokenFields for ExtraFields {}

type Rfc6749Client = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<ExtraFields, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Which token-endpoint step an answer belongs to, for a [`TokenErrorReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenStep {
    /// The authorization-code exchange.
    Code,
    /// A refresh grant.
    Refresh,
    /// A revocation request.
    Revoke,
}

impl TokenStep {
    fn of(grant: Grant) -> Self {
        match grant {
            Grant::Refresh => TokenStep::Refresh,
            Grant::Revoke => TokenStep::Revoke,
            Grant::Code | Grant::Authorize => TokenStep::Code,
        }
    }
}

/// Reads a platform's own error body from a token endpoint that does not answer in RFC 6749's
/// `{error, error_description}` (Pinterest's `{code, message}`). Asked only when the answer
/// carries no OAuth `error` and no access token; `None` leaves the kit's generic error.
pub type TokenErrorReader = Arc<dyn Fn(TokenStep, &ApiResponse) -> Option<Error> + Send + Sync>;

/// An OAuth 2.0 client for one platform app: its spec, its secret, the shared HTTP client.
#[derive(Clone)]
pub struct OAuthClient {
    spec: OAuthSpec,
    secret: ClientSecret,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    error_reader: Option<TokenErrorReader>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("platform", &self.spec.platform)
            .field("client_id", &self.spec.client_id)
            .field("secret", &self.secret)
            .field("error_reader", &self.error_reader.is_some())
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// A client for `spec`, authenticating with `secret`.
    pub fn new(
        spec: OAuthSpec,
        secret: ClientSecret,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            spec,
            secret,
            http,
            clock,
            error_reader: None,
        }
    }

    /// Reads the token endpoint's errors with `reader` where they are not RFC 6749's (see
    /// [`TokenErrorReader`]).
    pub fn with_error_reader(
        mut self,
        reader: impl Fn(TokenStep, &ApiResponse) -> Option<Error> + Send + Sync + 'static,
    ) -> Self {
        self.error_reader = Some(Arc::new(reader));
        self
    }

    /// The spec's extra refresh fields, without any that would override the grant's own.
    fn extra_refresh_params(&self) -> impl Iterator<Item = (&str, &str)> {
        let reserved = [
            "grant_type",
            "refresh_token",
            "client_id",
            "client_secret",
            self.spec.client_id_param,
        ];
        self.spec
            .extra_refresh_params
            .iter()
            .filter(move |(name, _)| !reserved.contains(&name.as_str()))
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }

    fn read_platform_error(&self, step: TokenStep, resp: &ApiResponse) -> Option<Error> {
        self.error_reader.as_ref().and_then(|read| read(step, resp))
    }

    /// The spec.
    pub fn spec(&self) -> &OAuthSpec {
        &self.spec
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Exchanges an authorization code (with its PKCE verifier, when one was used).
    pub async fn exchange_code(
        &self,
        code: &AuthCode,
        redirect_uri: &Url,
        verifier: Option<&PkceVerifier>,
    ) -> Result<TokenSet> {
        match self.spec.token_dialect {
            TokenDialect::Rfc6749 => {
                let client = self.rfc6749_client()?;
                let mut req = client
                    .exchange_code(oauth2::AuthorizationCode::new(
                        code.expose_secret().to_owned(),
                    ))
                    .set_redirect_uri(Cow::Owned(oauth2::RedirectUrl::from_url(
                        redirect_uri.clone(),
                    )));
                if let Some(v) = verifier {
                    req = req.set_pkce_verifier(oauth2::PkceCodeVerifier::new(
                        v.expose_secret().to_owned(),
                    ));
                }
                let status = Arc::new(AtomicU16::new(0));
                let transport = self.transport("oauth.exchange_code", status.clone());
                let resp = req.request_async(&transport).await;
                self.rfc6749_result(resp, Grant::Code, &status)
            }
            TokenDialect::Lenient => {
                let mut form = vec![
                    ("grant_type", "authorization_code"),
                    ("code", code.expose_secret()),
                ];
                let redirect = redirect_uri.as_str();
                form.push(("redirect_uri", redirect));
                if let Some(v) = verifier {
                    form.push(("code_verifier", v.expose_secret()));
                }
                self.lenient_token_request("oauth.exchange_code", Grant::Code, form)
                    .await
            }
        }
    }

    /// Refreshes `tokens` with their refresh token; a set without one, or whose refresh token
    /// has passed its end, cannot be refreshed and needs the user again (`ReconnectRequired`,
    /// expired) — nothing is sent.
    pub async fn refresh_set(&self, tokens: &TokenSet) -> Result<TokenSet> {
        match &tokens.refresh_token {
            Some(_) if tokens.refresh_expires.is_past(self.clock.now()) => {
                Err(Error::reconnect(crate::error::ReconnectReason::Expired))
            }
            Some(refresh) => self.refresh(refresh).await,
            None => Err(Error::reconnect(crate::error::ReconnectReason::Expired)),
        }
    }

    /// Uses a refresh token.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet> {
        match self.spec.token_dialect {
            TokenDialect::Rfc6749 => {
                let client = self.rfc6749_client()?;
                let token = oauth2::RefreshToken::new(refresh_token.expose_secret().to_owned());
                let status = Arc::new(AtomicU16::new(0));
                let transport = self.transport("oauth.refresh", status.clone());
                let mut req = client.exchange_refresh_token(&token);
                for (name, value) in self.extra_refresh_params() {
                    req = req.add_extra_param(name.to_owned(), value.to_owned());
                }
                let resp = req.request_async(&transport).await;
                self.rfc6749_result(resp, Grant::Refresh, &status)
            }
            TokenDialect::Lenient => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                ];
                form.extend(self.extra_refresh_params());
                self.lenient_token_request("oauth.refresh", Grant::Refresh, form)
                    .await
            }
        }
    }

    /// Revokes a token at the spec's RFC 7009 endpoint; [`Revocation::NotOffered`] when
    /// the spec says revocation is [not offered](RevocationEndpoint::NotOffered). A spec whose
    /// platform revokes through its own call ([`RevocationEndpoint::Platform`]) fails with a
    /// `Config` error: that call belongs in the platform's [`Platform::revoke`](crate::platform::Platform::revoke).
    pub async fn revoke(&self, token: &str, hint: &str) -> Result<Revocation> {
        let url = match &self.spec.revocation {
            RevocationEndpoint::Rfc7009(url) => url.clone(),
            RevocationEndpoint::NotOffered => return Ok(Revocation::NotOffered),
            RevocationEndpoint::Platform => {
                return Err(Error::config(
                    "this platform revokes through its own endpoint, not RFC 7009",
                ));
            }
        };
        let form = vec![("token", token), ("token_type_hint", hint)];
        let req = self
            .authenticated(ApiRequest::post(url), form)
            // RFC 7009 §2.2: revoking an already revoked token succeeds, so repeating is safe.
            .idempotent(true)
            .operation("oauth.revoke");
        let resp = self.http.send(req).await?;
        // A lenient platform (TikTok) may answer 200 with a flat OAuth error: the `error` key
        // decides, whatever the status. An empty body or `{}` is a success.
        let error_in_success = self.spec.token_dialect == TokenDialect::Lenient
            && resp
                .json::<TokenResponseBody>()
                .is_ok_and(|b| b.error.is_some());
        if resp.is_success() && !error_in_success {
            return Ok(Revocation::Revoked);
        }
        Err(self.error_from_response(&resp, Grant::Revoke))
    }

    fn rfc6749_client(&self) -> Result<Rfc6749Client> {
        let token_url = oauth2::TokenUrl::from_url(self.spec.token_url.clone());
        let auth_type = match self.spec.client_auth {
            ClientAuth::RequestBody => oauth2::AuthType::RequestBody,
            ClientAuth::BasicAuth => oauth2::AuthType::BasicAuth,
        };
        Ok(
            oauth2::Client::new(oauth2::ClientId::new(self.spec.client_id.clone()))
                .set_client_secret(oauth2::ClientSecret::new(
                    self.secret.expose_secret().to_owned(),
                ))
                .set_auth_type(auth_type)
                .set_token_uri(token_url),
        )
    }

    /// The adapter that lets the `oauth2` crate send through our [`HttpClient`].
    ///
    /// The status of the token endpoint's answer is left in `status`, so an error response
    /// keeps its real HTTP status (the `oauth2` crate does not report it).
    fn transport(
        &self,
        operation: &'static str,
        status: Arc<AtomicU16>,
    ) -> impl Fn(
        oauth2::HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = std::result::Result<oauth2::HttpResponse, TransportError>> + Send>,
    > {
        let http = self.http.clone();
        let platform = self.spec.platform.clone();
        let app = self.spec.client_id.clone();
        move |request: oauth2::HttpRequest| {
            let http = http.clone();
            let platform = platform.clone();
            let app = app.clone();
            let status = status.clone();
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let url = Url::parse(&parts.uri.to_string())
                    .map_err(|_| TransportError(Error::config("token URL is not absolute")))?;
                let mut req = ApiRequest::new(parts.method, url)
                    .platform(platform)
                    .app(app)
                    .operation(operation)
                    .sensitive_response()
                    .idempotent(false);
                req.headers = parts.headers;
                let content_type = req
                    .headers
                    .remove(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok().map(str::to_owned));
                if !body.is_empty() {
                    let ct = match content_type.as_deref() {
                        Some("application/json") => "application/json",
                        _ => "application/x-www-form-urlencoded",
                    };
                    req = req.bytes(ct, body);
                }
                let resp = http.send(req).await.map_err(TransportError)?;
                status.store(resp.status(), Ordering::Relaxed);
                if resp.status() >= 500 || resp.status() == 429 {
                    // Not an OAuth error response: classify by status (throttled, or a
                    // failure after the grant may have been processed).
                    return Err(TransportError(resp.status_error()));
                }
                let mut builder = http::Response::builder().status(resp.status());
                for (k, v) in resp.headers() {
                    builder = builder.header(k, v);
                }
                builder
                    .body(resp.body().to_vec())
                    .map_err(|_| TransportError(Error::transient("malformed response head")))
            })
        }
    }

    fn rfc6749_result(
        &self,
        resp: std::result::Result<
            StandardTokenResponse<ExtraFields, BasicTokenType>,
            oauth2::RequestTokenError<TransportError, BasicErrorResponse>,
        >,
        grant: Grant,
        status: &AtomicU16,
    ) -> Result<TokenSet> {
        let platform = &self.spec.platform;
        let status = match status.load(Ordering::Relaxed) {
            0 => 400,
            s => s,
        };
        match resp {
            Ok(r) => {
                let now = self.clock.now();
                let mut set = TokenSet::new(
                    crate::secret::AccessToken::new(r.access_token().secret().clone()),
                    r.expires_in()
                        .map(|d| Expiry::after(now, i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
                        .unwrap_or(Expiry::Unknown),
                    now,
                );
                if let Some(rt) = r.refresh_token().filter(|t| !t.secret().is_empty()) {
                    let exp = r
                        .extra_fields()
                        .refresh_token_expires_in
                        .map(|s| Expiry::after(now, s.get()))
                        .unwrap_or(Expiry::Unknown);
                    set = set.with_refresh(RefreshToken::new(rt.secret().clone()), exp);
                }
                if let Some(scopes) = r.scopes() {
                    let joined: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
                    set.scopes = Scope::parse_list(&joined.join(" "));
                }
                Ok(set)
            }
            Err(oauth2::RequestTokenError::ServerResponse(e)) => Err(oauth_error(
                platform,
                grant,
                status,
                e.error().as_ref(),
                e.error_description().map(String::as_str),
                None,
            )),
            Err(oauth2::RequestTokenError::Request(TransportError(e))) => Err(e),
            // A body the strict reader refuses (no `token_type`, `expires_in` as a string, an
            // error inside a 200) goes through the lenient reader, which still refuses a body
            // without an access token. The body may hold a token: keep the JSON path, never
            // the bytes.
            Err(oauth2::RequestTokenError::Parse(e, body)) => {
                match serde_json::from_slice::<TokenResponseBody>(&body) {
                    Ok(lenient) => {
                        lenient.into_token_set(platform, grant, status, self.clock.now())
                    }
                    Err(_) if !(200..300).contains(&status) => {
                        Err(not_an_oauth_response(platform, status))
                    }
                    Err(_) => Err(Error::Decode(Box::new(DecodeError {
                        path: e.path().to_string(),
                        message: crate::error::bounded(e.inner().to_string(), 256),
                        excerpt: None,
                    }))),
                }
            }
            // The `oauth2` crate's own complaints (an empty error body, for one).
            Err(oauth2::RequestTokenError::Other(message)) => Err(Error::Platform(Box::new(
                crate::error::PlatformError::new(Some(platform.clone()), message)
                    .with_status(status),
            ))),
        }
    }

    fn authenticated<'a>(
        &'a self,
        req: ApiRequest,
        mut form: Vec<(&'a str, &'a str)>,
    ) -> ApiRequest {
        let req = req
            .platform(self.spec.platform.clone())
            .app(self.spec.client_id.clone())
            .sensitive_response();
        match self.spec.client_auth {
            ClientAuth::RequestBody => {
                form.push((self.spec.client_id_param, &self.spec.client_id));
                form.push(("client_secret", self.secret.expose_secret()));
                req.form(&form)
            }
            ClientAuth::BasicAuth => req
                .basic_auth(self.spec.client_id.clone(), self.secret.clone())
                .form(&form),
        }
    }

    async fn lenient_token_request(
        &self,
        operation: &'static str,
        grant: Grant,
        form: Vec<(&str, &str)>,
    ) -> Result<TokenSet> {
        let req = self
            .authenticated(ApiRequest::post(self.spec.token_url.clone()), form)
            .operation(operation)
            .header("accept", "application/json")?;
        let resp = self.http.send(req).await?;
        if resp.status() >= 500 || resp.status() == 429 {
            return Err(resp.status_error());
        }
        let step = TokenStep::of(grant);
        let body: TokenResponseBody = match resp.json() {
            Ok(body) => body,
            Err(_) if !resp.is_success() => {
                return Err(self
                    .read_platform_error(step, &resp)
                    .unwrap_or_else(|| not_an_oauth_response(&self.spec.platform, resp.status())));
            }
            Err(e) => return Err(e),
        };
        if body.error.is_none()
            && body.access_token.is_none()
            && let Some(e) = self.read_platform_error(step, &resp)
        {
            return Err(e);
        }
        body.into_token_set(&self.spec.platform, grant, resp.status(), self.clock.now())
    }

    fn error_from_response(&self, resp: &ApiResponse, grant: Grant) -> Error {
        if let Ok(body) = resp.json::<TokenResponseBody>()
            && let Some(code) = body.error.as_deref()
        {
            return oauth_error(
                &self.spec.platform,
                grant,
                resp.status(),
                code,
                body.error_description.as_deref(),
                body.log_id.as_deref(),
            );
        }
        let step = TokenStep::of(grant);
        self.read_platform_error(step, resp)
            .unwrap_or_else(|| resp.status_error())
    }
}

/// A token endpoint's non-2xx answer whose body is not OAuth error JSON (an HTML error page
/// from a proxy, an empty body): kind `Platform`, with the real status and none of the body.
fn not_an_oauth_response(platform: &crate::id::PlatformId, status: u16) -> Error {
    Error::Platform(Box::new(
        crate::error::PlatformError::new(
            Some(platform.clone()),
            "the token endpoint's answer is not an OAuth response",
        )
        .with_status(status),
    ))
}

/// Our error, carried through the `oauth2` crate's transport slot.
#[derive(Debug)]
pub(crate) struct TransportError(Error);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportError {}
