//! Connecting an account: the authorize request, the callback, the code exchange.

use std::sync::Arc;

use url::Url;

use super::{AuthorizationRequest, Connected, SocialConnect, kind_name};
use crate::access_log::{ClientInfo, Outcome, UsageEntry};
use crate::error::{Error, Result};
use crate::http::check_url;
use crate::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use crate::oauth::{
    Callback, authorize_url_with, challenge_s256, check_authorize_params, new_state, new_verifier,
    state_hash,
};
use crate::platform::{PkceMode, Platform};
use crate::secret::AuthCode;
use crate::store::{PendingAuth, PutOutcome};

/// The longest authorization code accepted; real ones are well under 1 KiB.
const MAX_CODE_LEN: usize = 4096;

/// Per-request options for [`SocialConnect::connect_with`]: extra authorize parameters such as
/// `login_hint` or `prompt`, or a platform's own.
///
/// The engine's own parameters (`state`, `redirect_uri`, `response_type`, `scope`, the client
/// id, `code_challenge`, `code_challenge_method`) cannot be set here; `connect_with` refuses
/// them with `InvalidInput`. A parameter the platform's spec fixes
/// ([`OAuthSpec::extra_authorize_params`](crate::platform::OAuthSpec::extra_authorize_params))
/// is replaced by one of the same name given here.
///
/// ```
/// use socialconnect_core::ConnectOptions;
///
/// let options = ConnectOptions::new().login_hint("ada@host.example").prompt("consent");
/// assert_eq!(options.params().len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    params: Vec<(String, String)>,
}

impl ConnectOptions {
    /// No extra parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an authorize parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Adds `login_hint` (OpenID Connect): the account the platform should preselect.
    pub fn login_hint(self, hint: impl Into<String>) -> Self {
        self.param("login_hint", hint)
    }

    /// Adds `prompt` (OpenID Connect: `none`, `login`, `consent`, `select_account`).
    pub fn prompt(self, prompt: impl Into<String>) -> Self {
        self.param("prompt", prompt)
    }

    /// The parameters, in the order given.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
}

impl SocialConnect {
    /// Starts connecting `subject`'s account on `platform`.
    ///
    /// Refused with `ConsentRequired` unless the ledger permits purpose
    /// [`Purpose::AccountConnection`] on that platform. Stores a single-use `state` (by hash)
    /// bound to the subject, platform and exact redirect URI, with a PKCE verifier where the
    /// platform takes PKCE.
    pub async fn connect(
        &self,
        subject: &SubjectId,
        platform: &PlatformId,
        scopes: &[Scope],
        redirect_uri: &Url,
    ) -> Result<AuthorizationRequest> {
        self.connect_with(
            subject,
            platform,
            scopes,
            redirect_uri,
            &ConnectOptions::default(),
        )
        .await
    }

    /// Like [`SocialConnect::connect`], with per-request authorize parameters
    /// ([`ConnectOptions`]). Options that try to set one of the engine's own parameters fail
    /// with `InvalidInput` before anything is stored.
    pub async fn connect_with(
        &self,
        subject: &SubjectId,
        platform: &PlatformId,
        scopes: &[Scope],
        redirect_uri: &Url,
        options: &ConnectOptions,
    ) -> Result<AuthorizationRequest> {
        let p = self.platform(platform)?.clone();
        check_url(redirect_uri)?;
        let spec = p.oauth();
        check_authorize_params(spec, options.params())?;
        self.require_consent(subject, Purpose::AccountConnection, platform)
            .await?;
        let verifier = match spec.pkce {
            PkceMode::Required | PkceMode::Supported => Some(new_verifier()),
            PkceMode::Unsupported => None,
        };
        let challenge = verifier.as_ref().map(challenge_s256);
        let state = new_state();
        let now = self.inner.clock.now();
        let expires_at = now
            + chrono::Duration::from_std(self.inner.state_ttl)
                .map_err(|_| Error::config("state TTL out of range"))?;
        let pending = PendingAuth::new(
            subject.clone(),
            platform.clone(),
            redirect_uri.clone(),
            scopes.to_vec(),
            verifier,
            now,
            expires_at,
        );
        self.inner
            .pending
            .insert(state_hash(state.expose_secret()), pending)
            .await?;
        let url = authorize_url_with(
            spec,
            redirect_uri,
            scopes,
            &state,
            challenge.as_deref(),
            options.params(),
        );
        Ok(AuthorizationRequest { url, expires_at })
    }

    /// Completes an authorization from the callback's `state` and `code`.
    ///
    /// `subject` is the end user the host's own session says is signed in, and `redirect_uri`
    /// the callback URL that received the code (without its query). The state must be known,
    /// unused, unexpired and bound to that subject and exact redirect URI; it is consumed in
    /// every case, so a failed attempt cannot be replayed. An empty code is refused with
    /// `InvalidInput` without a request to the token endpoint. A code the platform rejects
    /// (`invalid_grant`) is `ReconnectRequired` with
    /// [`ReconnectReason::CodeRejected`](crate::error::ReconnectReason::CodeRejected).
    ///
    /// Prefer [`SocialConnect::complete_callback`], which also handles a denial and the RFC 9207
    /// issuer check.
    pub async fn complete(
        &self,
        subject: &SubjectId,
        redirect_uri: &Url,
        state: &str,
        code: AuthCode,
    ) -> Result<Connected> {
        let pending = self.take_pending(subject, redirect_uri, state).await?;
        let platform = self.platform(&pending.platform)?.clone();
        self.redeem(subject, redirect_uri, &platform, pending, Ok(code))
            .await
    }

    /// Completes an authorization from the whole callback URL the browser arrived at, or only
    /// its query string (a fragment such as `#_=_` is ignored): see [`Callback`].
    ///
    /// The checks, in order, each failing with the kind given and none calling the platform:
    ///
    /// 1. the callback parses and carries a `state` (`InvalidInput`);
    /// 2. the state is known, unused, unexpired and bound to `subject` and exactly
    ///    `redirect_uri`, as for [`SocialConnect::complete`] (`InvalidInput`). It is consumed
    ///    here, whatever follows, so a callback can be completed once;
    /// 3. when the platform's spec names an [issuer](crate::platform::OAuthSpec::issuer), `iss`
    ///    is present and equal to it (RFC 9207; `InvalidInput`). That check comes before the
    ///    refusal is read, as RFC 9207 asks for error responses too;
    /// 4. a refusal (`error=…`) becomes its typed error (see [`Callback::refusal`]):
    ///    `error=access_denied`, the user declining at the consent screen, is
    ///    [`Error::AuthorizationDenied`] of kind
    ///    [`ErrorKind::AuthorizationDenied`](crate::ErrorKind::AuthorizationDenied), with
    ///    `error_reason` and `error_description` in its detail;
    /// 5. a missing or empty `code` is `InvalidInput`.
    ///
    /// Then the code is exchanged as by `complete`. Every outcome after step 2 is written to
    /// the usage log as `oauth.complete`.
    pub async fn complete_callback(
        &self,
        subject: &SubjectId,
        redirect_uri: &Url,
        callback_url_or_query: &str,
    ) -> Result<Connected> {
        let callback = Callback::parse(callback_url_or_query)?;
        let state = callback
            .state()
            .ok_or_else(|| Error::invalid_input("the OAuth callback carries no state"))?;
        let pending = self
            .take_pending(subject, redirect_uri, state.expose_secret())
            .await?;
        let platform = self.platform(&pending.platform)?.clone();
        let code = check_issuer(platform.as_ref(), &callback).and_then(|()| {
            if let Some(refusal) = callback.refusal(&pending.platform) {
                return Err(refusal);
            }
            callback
                .code()
                .cloned()
                .ok_or_else(|| Error::invalid_input("the OAuth callback carries no code"))
        });
        self.redeem(subject, redirect_uri, &platform, pending, code)
            .await
    }

    /// Takes the pending authorization for `state` (single use) and checks it belongs to
    /// `subject` and `redirect_uri` and has not expired.
    async fn take_pending(
        &self,
        subject: &SubjectId,
        redirect_uri: &Url,
        state: &str,
    ) -> Result<PendingAuth> {
        if state.is_empty() || state.len() > 512 {
            return Err(Error::invalid_input("malformed OAuth state"));
        }
        let pending = self
            .inner
            .pending
            .take(state_hash(state))
            .await?
            .ok_or_else(|| Error::invalid_input("unknown or already used OAuth state"))?;
        let now = self.inner.clock.now();
        if pending.expires_at <= now {
            return Err(Error::invalid_input("OAuth state expired; start again"));
        }
        if &pending.subject != subject {
            return Err(Error::invalid_input(
                "OAuth state was issued to a different subject",
            ));
        }
        if pending.redirect_uri.as_str() != redirect_uri.as_str() {
            return Err(Error::invalid_input(
                "redirect URI differs from the one the authorization started with",
            ));
        }
        Ok(pending)
    }

    /// Exchanges the code (or reports why there is none) and logs the outcome.
    async fn redeem(
        &self,
        subject: &SubjectId,
        redirect_uri: &Url,
        platform: &Arc<dyn Platform>,
        pending: PendingAuth,
        code: Result<AuthCode>,
    ) -> Result<Connected> {
        let now = self.inner.clock.now();
        let started = std::time::Instant::now();
        let platform_id = pending.platform.clone();
        let result = match code.and_then(check_code) {
            Err(e) => Err(e),
            Ok(code) => {
                // Consent may have been withdrawn while the user was at the platform (refused
                // before anything is logged, as the hub logs only what it was allowed to do).
                self.require_consent(subject, Purpose::AccountConnection, &platform_id)
                    .await?;
                self.exchange_and_store(subject, platform, &pending, redirect_uri, code)
                    .await
            }
        };
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failure(kind_name(e.kind())),
        };
        let connection = result.as_ref().ok().map(|c| c.key.connection);
        self.log_quietly(UsageEntry::new(
            now,
            subject.clone(),
            platform_id,
            connection,
            "oauth.complete",
            outcome,
            None,
            started.elapsed(),
            ClientInfo::default(),
        ))
        .await;
        result
    }

    async fn exchange_and_store(
        &self,
        subject: &SubjectId,
        platform: &Arc<dyn Platform>,
        pending: &PendingAuth,
        redirect_uri: &Url,
        code: AuthCode,
    ) -> Result<Connected> {
        let mut tokens = platform
            .exchange_code(&code, redirect_uri, pending.pkce_verifier.as_ref())
            .await?;
        let account = platform.account(&tokens).await?;
        tokens.account_id = Some(account.account_id.clone());
        if tokens.scopes.is_empty() {
            tokens.scopes = pending.scopes.clone();
        }
        let platform_id = platform.id();
        // The same account connected again keeps its connection id.
        let mut existing = None;
        for key in self.inner.tokens.connections(subject).await? {
            if key.platform != platform_id {
                continue;
            }
            if let Some(stored) = self.inner.tokens.get(&key).await?
                && stored.tokens.account_id.as_deref() == Some(account.account_id.as_str())
            {
                existing = Some((key, stored.version));
                break;
            }
        }
        let reconnected = existing.is_some();
        let (key, expected) = match existing {
            Some((key, version)) => (key, Some(version)),
            None => (
                ConnectionKey::new(subject.clone(), platform_id, ConnectionId::generate()),
                None,
            ),
        };
        match self.inner.tokens.put(&key, &tokens, expected).await? {
            PutOutcome::Written(_) => self.inner.refresher.invalidate(&key),
            PutOutcome::Conflict(_) => {
                return Err(Error::transient(
                    "the connection changed while it was being completed; try again",
                ));
            }
        }
        if reconnected {
            // Actions paused while the connection needed the end user run again now.
            match self.resume_actions(&key).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(platform = %key.platform, resumed = ids.len(), "paused actions resumed on reconnect");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "resuming paused actions failed"),
            }
        }
        Ok(Connected {
            key,
            account,
            scopes: tokens.scopes,
            reconnected,
        })
    }
}

/// RFC 9207: when the platform names its issuer, the callback's `iss` must be present and equal.
fn check_issuer(platform: &dyn Platform, callback: &Callback) -> Result<()> {
    let Some(expected) = platform.oauth().issuer.as_deref() else {
        return Ok(());
    };
    match callback.issuer() {
        Some(iss) if iss == expected => Ok(()),
        Some(_) => Err(Error::invalid_input(
            "the OAuth callback's `iss` is not the platform's issuer (RFC 9207)",
        )),
        None => Err(Error::invalid_input(
            "the OAuth callback carries no `iss` but the platform names an issuer (RFC 9207)",
        )),
    }
}

/// A code worth sending to the token endpoint: not empty, not absurdly long.
fn check_code(code: AuthCode) -> Result<AuthCode> {
    let value = code.expose_secret();
    if value.trim().is_empty() {
        return Err(Error::invalid_input("the authorization code is empty"));
    }
    if value.len() > MAX_CODE_LEN {
        return Err(Error::invalid_input(format!(
            "the authorization code is longer than {MAX_CODE_LEN} bytes"
        )));
    }
    Ok(code)
}
