//! The simulated provider's rules and state, free of HTTP: the routes and the direct
//! [`OAuthSimulator::authorize`](super::OAuthSimulator::authorize) both call into it.
//!
//! All state sits behind one mutex and every request does all its work under a single lock, so
//! counters and single-use rules hold exactly under any concurrency.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use super::builder::OAuthSettings;
use super::client_auth::{self, ClientAuth, param};
use super::limit::ArrivalWindow;
use super::{AuthorizeError, AuthorizeRequest, IssuedTokens, OAuthErrorFormat, TokenFault};
use crate::sim::{self, FaultQueue, Reply, SimOptions};

/// How long an authorization code can be redeemed (RFC 6749 §4.1.2 recommends at most ten
/// minutes).
const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// An RFC 6749 §5.2 error.
fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({ "error": error, "error_description": description }),
    )
}

/// What the authorize endpoint decided.
#[derive(Debug)]
pub(crate) enum AuthorizeOutcome {
    /// Send the browser to this URL: the client's redirect URI with `code` and `state`, or with
    /// `error` (and `state`) when the request was refused in a way the client may learn of.
    Redirect(Url),
    /// Refused without redirecting, because the client or the redirect URI cannot be trusted
    /// (RFC 6749 §4.1.2.1).
    Reject(AuthorizeError),
}

/// Request counters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counters {
    pub(crate) authorize: usize,
    pub(crate) token: usize,
    pub(crate) exchange: usize,
    pub(crate) refresh: usize,
    pub(crate) revoke: usize,
    pub(crate) userinfo: usize,
}

#[derive(Debug)]
struct CodeRecord {
    redirect_uri: String,
    challenge: Option<Challenge>,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
    used: bool,
}

#[derive(Debug, Clone)]
struct Challenge {
    value: String,
    method: String,
}

#[derive(Debug)]
struct AccessRecord {
    grant: u64,
    scopes: Vec<String>,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
    force_expired: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum RefreshStatus {
    Current,
    Rotated,
    Revoked,
}

#[derive(Debug)]
struct RefreshRecord {
    grant: u64,
    scopes: Vec<String>,
    status: RefreshStatus,
    expires_at: Option<DateTime<Utc>>,
}

/// Everything that changes while the simulator runs.
#[derive(Debug, Default)]
struct State {
    counters: Counters,
    userinfo_window: ArrivalWindow,
    codes: HashMap<String, CodeRecord>,
    access: HashMap<String, AccessRecord>,
    access_order: Vec<String>,
    refresh: HashMap<String, RefreshRecord>,
    refresh_order: Vec<String>,
    faults: FaultQueue<TokenFault>,
    denials: usize,
    next_grant: u64,
    last_authorize: Option<AuthorizeRequest>,
    last_code_verifier: Option<String>,
    last_client_auth: Option<ClientAuth>,
    last_refresh_params: Option<Vec<(String, String)>>,
}

/// The simulated provider: configuration plus state.
#[derive(Debug)]
pub(crate) struct Provider {
    config: OAuthSettings,
    options: SimOptions,
    state: Mutex<State>,
}

impl Provider {
    pub(crate) fn new(options: SimOptions, config: OAuthSettings) -> Self {
        Self {
            config,
            options,
            state: Mutex::default(),
        }
    }

    pub(crate) fn config(&self) -> &OAuthSettings {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each request finishes its update before releasing the lock, and nothing in it
        // panics mid-update, so the state behind a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.options.now()
    }

    // ---- authorize -------------------------------------------------------------------------

    /// The authorize endpoint: what a browser arriving with `query` is sent to.
    pub(crate) fn authorize(&self, query: &[(String, String)]) -> AuthorizeOutcome {
        let c = &self.config;
        let mut st = self.lock();
        st.counters.authorize += 1;

        let request = AuthorizeRequest::from_query(query, &c.client_id_param);
        st.last_authorize = Some(request.clone());

        if request.client_id.as_deref() != Some(c.client_id.as_str()) {
            return reject("invalid_request", "unknown or missing client id");
        }
        let Some(redirect_uri) = request.redirect_uri.as_deref() else {
            return reject("invalid_request", "missing redirect_uri");
        };
        let Ok(mut redirect) = Url::parse(redirect_uri) else {
            return reject("invalid_request", "redirect_uri is not an absolute URL");
        };
        if !self.options.accepts_redirect(redirect_uri) {
            return reject("invalid_request", "redirect_uri is not registered");
        }

        let refuse = |mut to: Url, error: &str, description: &str| {
            to.query_pairs_mut()
                .append_pair("error", error)
                .append_pair("error_description", description);
            if let Some(state) = &request.state {
                to.query_pairs_mut().append_pair("state", state);
            }
            AuthorizeOutcome::Redirect(to)
        };
        if request.response_type.as_deref() != Some("code") {
            return refuse(
                redirect,
                "unsupported_response_type",
                "response_type must be `code`",
            );
        }
        let Some(state) = request.state.clone() else {
            return refuse(redirect, "invalid_request", "missing state");
        };
        let challenge = match (&request.code_challenge, &request.code_challenge_method) {
            (None, Some(_)) => {
                return refuse(
                    redirect,
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                );
            }
            (None, None) if c.require_pkce => {
                return refuse(redirect, "invalid_request", "PKCE is required");
            }
            (None, None) => None,
            (Some(value), method) => {
                // RFC 7636 §4.3: the method defaults to `plain`.
                let method = method.clone().unwrap_or_else(|| "plain".to_owned());
                if method != "S256" && method != "plain" {
                    return refuse(
                        redirect,
                        "invalid_request",
                        "code_challenge_method must be S256 or plain",
                    );
                }
                Some(Challenge {
                    value: value.clone(),
                    method,
                })
            }
        };
        if st.denials > 0 {
            st.denials -= 1;
            return refuse(redirect, "access_denied", "the user denied the request");
        }

        let code = new_secret("code-");
        let scopes = self
            .options
            .granted(request.scopes.clone())
            .into_iter()
            .filter(|s| !c.withheld_scopes.contains(s))
            .collect();
        st.codes.insert(
            code.clone(),
            CodeRecord {
                redirect_uri: redirect_uri.to_owned(),
                challenge,
                scopes,
                expires_at: self.now() + CODE_LIFETIME,
                used: false,
            },
        );
        redirect
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
        AuthorizeOutcome::Redirect(redirect)
    }

    /// Makes the next `times` authorizations end in `error=access_denied`.
    pub(crate) fn deny_authorizations(&self, times: usize) {
        self.lock().denials += times;
    }

    // ---- token -----------------------------------------------------------------------------

    /// The token endpoint: both grants, client authentication, PKCE, rotation and faults.
    pub(crate) fn token(&self, authorization: Option<&str>, form: &[(String, String)]) -> Reply {
        let latency = self.options.token_latency();
        let mut st = self.lock();
        st.counters.token += 1;
        let grant_type = param(form, "grant_type");
        match grant_type {
            Some("authorization_code") => st.counters.exchange += 1,
            Some("refresh_token") => {
                st.counters.refresh += 1;
                st.last_refresh_params = Some(
                    form.iter()
                        .filter(|(k, _)| k != "client_secret")
                        .cloned()
                        .collect(),
                );
            }
            _ => {}
        }

        let mut stall = None;
        if let Some(fault) = st.faults.take("") {
            match fault.reply() {
                Some(reply) => return reply.delayed(latency),
                None => stall = fault.stall(),
            }
        }

        let reply = match self.authenticate(&mut st, authorization, form) {
            Err(reply) => reply,
            Ok(()) => match grant_type {
                Some("authorization_code") => self.exchange(&mut st, form),
                Some("refresh_token") => self.refresh(&mut st, form),
                Some(_) => oauth_error(
                    400,
                    "unsupported_grant_type",
                    "only authorization_code and refresh_token are supported",
                ),
                None => oauth_error(400, "invalid_request", "missing grant_type"),
            },
        };
        reply.delayed(latency).delayed(stall)
    }

    /// Checks the client's credentials; the error reply follows RFC 6749 §5.2 (401 with a
    /// challenge when the client tried HTTP Basic).
    fn authenticate(
        &self,
        st: &mut State,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<(), Reply> {
        let c = &self.config;
        let Some(presented) = client_auth::presented(authorization, form, &c.client_id_param)
        else {
            st.last_client_auth = Some(ClientAuth::Basic);
            return Err(invalid_client(
                ClientAuth::Basic,
                "malformed Basic credentials",
            ));
        };
        st.last_client_auth = Some(presented.method);
        if c.required_client_auth
            .is_some_and(|m| m != presented.method)
        {
            return Err(invalid_client(
                presented.method,
                "client credentials presented in a way this provider does not accept",
            ));
        }
        if presented.id.as_deref() != Some(c.client_id.as_str()) {
            return Err(invalid_client(
                presented.method,
                "unknown or missing client id",
            ));
        }
        if presented.secret.as_deref() != Some(c.client_secret.as_str()) {
            return Err(invalid_client(
                presented.method,
                "wrong or missing client secret",
            ));
        }
        Ok(())
    }

    fn exchange(&self, st: &mut State, form: &[(String, String)]) -> Reply {
        let Some(code) = param(form, "code") else {
            return oauth_error(400, "invalid_request", "missing code");
        };
        let verifier = param(form, "code_verifier");
        if let Some(v) = verifier {
            st.last_code_verifier = Some(v.to_owned());
        }
        let now = self.now();
        let Some(record) = st.codes.get_mut(code) else {
            return oauth_error(400, "invalid_grant", "unknown authorization code");
        };
        if record.used {
            return oauth_error(400, "invalid_grant", "authorization code already used");
        }
        // Any redemption attempt spends the code, so a failed one cannot be retried with
        // guessed values.
        record.used = true;
        if now >= record.expires_at {
            return oauth_error(400, "invalid_grant", "authorization code expired");
        }
        if param(form, "redirect_uri") != Some(record.redirect_uri.as_str()) {
            return oauth_error(
                400,
                "invalid_grant",
                "redirect_uri differs from the authorization request",
            );
        }
        if let Err(reply) = check_pkce(record.challenge.as_ref(), verifier) {
            return reply;
        }
        let scopes = record.scopes.clone();
        let grant = st.next_grant;
        st.next_grant += 1;
        let issued = self.issue(st, grant, scopes, None);
        Reply::json(200, self.token_body(&issued, "authorization_code"))
            .header("cache-control", "no-store")
            .header("pragma", "no-cache")
    }

    fn refresh(&self, st: &mut State, form: &[(String, String)]) -> Reply {
        let c = &self.config;
        let Some(token) = param(form, "refresh_token") else {
            return oauth_error(400, "invalid_request", "missing refresh_token");
        };
        let now = self.now();
        let Some(record) = st.refresh.get_mut(token) else {
            return oauth_error(400, "invalid_grant", "unknown refresh token");
        };
        if record.expires_at.is_some_and(|at| now >= at) {
            return oauth_error(400, "invalid_grant", "refresh token expired");
        }
        match record.status {
            RefreshStatus::Current => {}
            RefreshStatus::Rotated => {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "refresh token was rotated and is no longer valid",
                );
            }
            RefreshStatus::Revoked => {
                return oauth_error(400, "invalid_grant", "refresh token was revoked");
            }
        }
        if let Some((name, value)) = &c.required_refresh_param
            && param(form, name) != Some(value.as_str())
        {
            return oauth_error(
                400,
                "invalid_request",
                &format!("this app must send {name}={value} on every refresh"),
            );
        }
        let (grant, scopes) = (record.grant, record.scopes.clone());
        let keep = if c.omit_refresh_token_on_refresh {
            Keep::Omit
        } else if c.rotate_refresh_tokens {
            record.status = RefreshStatus::Rotated;
            Keep::Rotate
        } else {
            Keep::Same(token.to_owned())
        };
        let issued = self.issue(st, grant, scopes, Some(keep));
        Reply::json(200, self.token_body(&issued, "refresh_token"))
            .header("cache-control", "no-store")
            .header("pragma", "no-cache")
    }

    /// Mints an access token (and, per configuration, a refresh token) for `grant`.
    /// `keep` is `None` for a new grant, otherwise what happens to the refresh token in use.
    fn issue(
        &self,
        st: &mut State,
        grant: u64,
        scopes: Vec<String>,
        keep: Option<Keep>,
    ) -> IssuedTokens {
        let c = &self.config;
        let access_token = new_secret(&c.access_token_prefix);
        // A lifetime too long to date is treated as never expiring.
        let expires_at = c
            .access_token_lifetime
            .and_then(|d| self.now().checked_add_signed(TimeDelta::from_std(d).ok()?));
        st.access.insert(
            access_token.clone(),
            AccessRecord {
                grant,
                scopes: scopes.clone(),
                expires_at,
                revoked: false,
                force_expired: false,
            },
        );
        st.access_order.push(access_token.clone());

        let mut refresh_token_expires_at = None;
        let refresh_token = match keep {
            _ if !c.issue_refresh_tokens => None,
            Some(Keep::Omit) => None,
            Some(Keep::Same(token)) => {
                refresh_token_expires_at = st.refresh.get(&token).and_then(|r| r.expires_at);
                Some(token)
            }
            None | Some(Keep::Rotate) => {
                let token = new_secret(&c.refresh_token_prefix);
                let expires_at = c
                    .refresh_token_lifetime
                    .and_then(|d| self.now().checked_add_signed(TimeDelta::from_std(d).ok()?));
                st.refresh.insert(
                    token.clone(),
                    RefreshRecord {
                        grant,
                        scopes: scopes.clone(),
                        status: RefreshStatus::Current,
                        expires_at,
                    },
                );
                refresh_token_expires_at = expires_at;
                st.refresh_order.push(token.clone());
                Some(token)
            }
        };
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: c.access_token_lifetime.map(|d| d.as_secs()),
            scopes,
            refresh_token_expires_at,
        }
    }

    fn token_body(&self, issued: &IssuedTokens, grant_type: &str) -> Value {
        let c = &self.config;
        let mut body = serde_json::Map::new();
        body.insert("access_token".into(), json!(issued.access_token));
        body.insert("token_type".into(), json!("bearer"));
        if let Some(expires_in) = issued.expires_in {
            body.insert("expires_in".into(), json!(expires_in));
        }
        if let Some(refresh) = &issued.refresh_token {
            body.insert("refresh_token".into(), json!(refresh));
            if let Some(at) = issued.refresh_token_expires_at {
                if let Some(name) = &c.refresh_expires_in_field {
                    let left = (at - self.now()).num_seconds().max(0);
                    body.insert(name.clone(), json!(left));
                }
                if let Some(name) = &c.refresh_expires_at_field {
                    body.insert(name.clone(), json!(at.timestamp()));
                }
            }
        }
        if let Some(name) = &c.grant_type_field {
            body.insert(name.clone(), json!(grant_type));
        }
        if !issued.scopes.is_empty() {
            body.insert(
                "scope".into(),
                json!(issued.scopes.join(&c.scope_separator)),
            );
        }
        for (k, v) in &c.extra_token_fields {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }

    /// Mints tokens for a new grant without the browser and code steps.
    pub(crate) fn issue_directly(&self, scopes: Vec<String>) -> IssuedTokens {
        let mut st = self.lock();
        let grant = st.next_grant;
        st.next_grant += 1;
        self.issue(&mut st, grant, scopes, None)
    }

    /// Queues `fault` for the next `times` token requests.
    pub(crate) fn push_faults(&self, fault: TokenFault, times: usize) {
        self.lock().faults.push("", fault, times);
    }

    // ---- revoke ----------------------------------------------------------------------------

    /// The revocation endpoint (RFC 7009). Revoking a refresh token also revokes the access
    /// tokens of its grant; an unknown token is answered 200 like a known one.
    pub(crate) fn revoke(&self, authorization: Option<&str>, form: &[(String, String)]) -> Reply {
        let mut st = self.lock();
        st.counters.revoke += 1;
        if let Err(reply) = self.authenticate(&mut st, authorization, form) {
            return reply;
        }
        if let Some(refusal) = &self.config.revocation_refusal {
            return refusal.clone();
        }
        let Some(token) = param(form, "token") else {
            return oauth_error(400, "invalid_request", "missing token");
        };
        let grant = if let Some(record) = st.access.get_mut(token) {
            record.revoked = true;
            let grant = record.grant;
            self.config.revocation_ends_grant.then_some(grant)
        } else if let Some(record) = st.refresh.get_mut(token) {
            record.status = RefreshStatus::Revoked;
            Some(record.grant)
        } else {
            None
        };
        if let Some(grant) = grant {
            for access in st.access.values_mut().filter(|a| a.grant == grant) {
                access.revoked = true;
            }
            for refresh in st.refresh.values_mut().filter(|r| r.grant == grant) {
                if refresh.status == RefreshStatus::Current {
                    refresh.status = RefreshStatus::Revoked;
                }
            }
        }
        match &self.config.revoke_reply {
            Some(body) => Reply::json(200, body.clone()),
            None => Reply::empty(200),
        }
    }

    /// The last touch on every answer: error bodies in the configured format (with a `log_id`
    /// when configured), and the request-id header when configured.
    pub(crate) fn finish(&self, mut reply: Reply) -> Reply {
        let c = &self.config;
        if c.error_format == OAuthErrorFormat::CodeMessage {
            reply = code_message(reply);
        }
        if c.error_log_ids
            && let Some(Value::Object(body)) = reply.json_mut()
            && body.get("error").is_some_and(Value::is_string)
        {
            body.insert("log_id".into(), json!(new_log_id()));
        }
        if let Some(name) = &c.request_id_header {
            reply = reply.header(name, uuid::Uuid::new_v4().simple().to_string());
        }
        reply
    }

    // ---- userinfo --------------------------------------------------------------------------

    /// The userinfo endpoint: the account behind a valid bearer token.
    pub(crate) fn userinfo(
        &self,
        authorization: Option<&str>,
        query: &[(String, String)],
    ) -> Reply {
        let c = &self.config;
        let valid = {
            let mut st = self.lock();
            st.counters.userinfo += 1;
            if let Some(limit) = c.userinfo_limit {
                let arrived = std::time::Instant::now();
                if let Err(wait) = st.userinfo_window.admit(limit, arrived) {
                    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                    return oauth_error(429, "rate_limited", "too many calls for this app")
                        .header("retry-after", secs.to_string());
                }
            }
            let token = authorization
                .and_then(sim::bearer_token)
                .or_else(|| param(query, "access_token"));
            token.is_some_and(|t| self.access_valid(&st, t))
        };
        if !valid {
            return oauth_error(
                401,
                "invalid_token",
                "the access token is missing, unknown, expired or revoked",
            )
            .header("www-authenticate", "Bearer error=\"invalid_token\"");
        }
        let id = if c.account_id_as_number {
            // Checked numeric when the simulator started.
            json!(c.account_id.parse::<u64>().unwrap_or_default())
        } else {
            json!(c.account_id)
        };
        let mut body = serde_json::Map::new();
        body.insert(c.userinfo_id_field.clone(), id);
        body.insert("name".to_owned(), json!(c.account_name));
        Reply::json(200, serde_json::Value::Object(body))
    }

    // ---- inspection and control ------------------------------------------------------------

    fn access_valid(&self, st: &State, token: &str) -> bool {
        st.access.get(token).is_some_and(|a| {
            !a.revoked && !a.force_expired && a.expires_at.is_none_or(|at| self.now() < at)
        })
    }

    pub(crate) fn is_valid(&self, access_token: &str) -> bool {
        self.access_valid(&self.lock(), access_token)
    }

    /// What the provider knows of `access_token`: its scopes while active, else why not.
    pub(crate) fn token_state(&self, access_token: &str) -> TokenState {
        let st = self.lock();
        match st.access.get(access_token) {
            None => TokenState::Unknown,
            Some(a) if a.revoked => TokenState::Revoked,
            Some(a) if a.force_expired || a.expires_at.is_some_and(|at| self.now() >= at) => {
                TokenState::Expired
            }
            Some(a) => TokenState::Active(a.scopes.clone()),
        }
    }

    pub(crate) fn access_token_scopes(&self, access_token: &str) -> Option<Vec<String>> {
        let st = self.lock();
        if !self.access_valid(&st, access_token) {
            return None;
        }
        st.access.get(access_token).map(|a| a.scopes.clone())
    }

    pub(crate) fn is_refresh_token_valid(&self, refresh_token: &str) -> bool {
        self.lock()
            .refresh
            .get(refresh_token)
            .is_some_and(|r| r.status == RefreshStatus::Current)
    }

    pub(crate) fn expire_all_access_tokens(&self) {
        for a in self.lock().access.values_mut() {
            a.force_expired = true;
        }
    }

    /// Userinfo calls accepted and refused under [`OAuthSettings::userinfo_limit`].
    pub(crate) fn userinfo_window(&self) -> (usize, usize) {
        let st = self.lock();
        (st.userinfo_window.accepted(), st.userinfo_window.refused())
    }

    pub(crate) fn counters(&self) -> Counters {
        self.lock().counters
    }

    pub(crate) fn issued_access_tokens(&self) -> Vec<String> {
        self.lock().access_order.clone()
    }

    pub(crate) fn issued_refresh_tokens(&self) -> Vec<String> {
        self.lock().refresh_order.clone()
    }

    pub(crate) fn last_authorize_request(&self) -> Option<AuthorizeRequest> {
        self.lock().last_authorize.clone()
    }

    pub(crate) fn last_code_verifier(&self) -> Option<String> {
        self.lock().last_code_verifier.clone()
    }

    pub(crate) fn last_refresh_params(&self) -> Option<Vec<(String, String)>> {
        self.lock().last_refresh_params.clone()
    }

    pub(crate) fn last_client_auth(&self) -> Option<ClientAuth> {
        self.lock().last_client_auth
    }
}

/// An access token as the provider sees it, for a platform simulator's bearer check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenState {
    /// Issued here, neither expired nor revoked, with these scopes.
    Active(Vec<String>),
    /// Issued here and past its lifetime (or expired by the test).
    Expired,
    /// Issued here and revoked.
    Revoked,
    /// Never issued here.
    Unknown,
}

/// What a refresh does with the refresh token it used.
#[derive(Debug)]
enum Keep {
    /// Issue a new one; the old one was marked rotated.
    Rotate,
    /// Send the same one back.
    Same(String),
    /// Send none; the old one stays valid.
    Omit,
}

fn reject(error: &str, description: &str) -> AuthorizeOutcome {
    AuthorizeOutcome::Reject(AuthorizeError {
        error: error.to_owned(),
        description: description.to_owned(),
    })
}

fn invalid_client(method: ClientAuth, description: &str) -> Reply {
    match method {
        ClientAuth::Basic => oauth_error(401, "invalid_client", description)
            .header("www-authenticate", "Basic realm=\"oauth\""),
        ClientAuth::RequestBody => oauth_error(400, "invalid_client", description),
    }
}

/// RFC 7636 §4.6. A verifier without a recorded challenge is refused too: it means the client
/// believes it used PKCE while its authorize URL carried no challenge.
fn check_pkce(challenge: Option<&Challenge>, verifier: Option<&str>) -> Result<(), Reply> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(oauth_error(
            400,
            "invalid_grant",
            "code_verifier sent, but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(oauth_error(400, "invalid_request", "missing code_verifier")),
        (Some(challenge), Some(verifier)) => {
            if !is_valid_verifier(verifier) {
                return Err(oauth_error(
                    400,
                    "invalid_request",
                    "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
            let expected = match challenge.method.as_str() {
                "S256" => pkce_s256(verifier),
                _ => verifier.to_owned(),
            };
            if expected == challenge.value {
                Ok(())
            } else {
                Err(oauth_error(
                    400,
                    "invalid_grant",
                    "code_verifier does not match code_challenge",
                ))
            }
        }
    }
}

/// `BASE64URL-NOPAD(SHA256(verifier))`, the S256 code challenge of RFC 7636 §4.2.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A fresh request id in the shape of TikTok's `log_id` (a UTC timestamp and random hex).
pub(crate) fn new_log_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{}{}", Utc::now().format("%Y%m%d%H%M%S"), &hex[..18]).to_uppercase()
}

/// A fresh unguessable value such as `at-3f2c...`, the prefix telling token kinds apart in
/// test output.
fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// An RFC 6749 error reply rewritten as [`OAuthErrorFormat::CodeMessage`]; any other reply
/// unchanged.
fn code_message(mut reply: Reply) -> Reply {
    let Some(Value::Object(body)) = reply.json_mut() else {
        return reply;
    };
    let Some(error) = body.get("error").and_then(Value::as_str).map(str::to_owned) else {
        return reply;
    };
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or(&error)
        .to_owned();
    let (status, code, message) = match error.as_str() {
        "invalid_client" => (401, 2, "Authentication failed.".to_owned()),
        "rate_limited" => (429, 8, "Rate limit exceeded.".to_owned()),
        "server_error" => (
            reply.status,
            i64::from(reply.status),
            format!("Internal error: {description}"),
        ),
        _ => (400, 1, format!("Invalid parameters: {description}")),
    };
    let mut reply = Reply {
        body: crate::sim::Body::Json(json!({ "code": code, "message": message })),
        ..reply
    }
    .with_status(status);
    // RFC 6749's Basic challenge belongs to its error format only.
    reply.headers.retain(|(k, _)| k != "www-authenticate");
    reply
}

impl TokenFault {
    /// The reply that replaces normal processing, or `None` when the request is processed.
    fn reply(&self) -> Option<Reply> {
        Some(match self {
            Self::ServerError => oauth_error(500, "server_error", "simulated outage"),
            Self::RateLimited { retry_after } => {
                oauth_error(429, "rate_limited", "simulated rate limit")
                    .header("retry-after", retry_after.as_secs().to_string())
            }
            Self::InvalidGrant => oauth_error(400, "invalid_grant", "simulated invalid_grant"),
            Self::InvalidClient => oauth_error(401, "invalid_client", "simulated invalid_client"),
            Self::MalformedBody => Reply::text(200, "text/html", "<html>not json</html>"),
            Self::Stall(_) => return None,
        })
    }

    fn stall(&self) -> Option<Duration> {
        match self {
            Self::Stall(d) => Some(*d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_format() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}
