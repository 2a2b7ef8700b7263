//! The OAuth cases: authorize URL, code exchange, refresh, revocation and the callback.

use std::time::Duration;

use socialconnect_core::id::SubjectId;
use socialconnect_core::platform::PkceMode;
use socialconnect_core::store::{ConnectionStatus, StoredTokens};
use socialconnect_core::token::Expiry;
use socialconnect_core::{AuthorizationRequest, Connected, ErrorKind, Revocation};
use url::Url;

use super::{Check, Ctx, ensure, record};
use crate::Harness;
use crate::conformance::CaseOutcome;
use crate::conformance::report::Report;

const TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn run(cx: &Ctx<'_>, report: &mut Report) {
    macro_rules! case {
        ($name:literal, $case:ident) => {
            record(report, $name.to_owned(), $case(cx)).await
        };
    }
    case!(
        "authorize_url::names_the_client_with_the_dialect_parameter",
        client_parameter
    );
    case!(
        "authorize_url::joins_scopes_with_the_dialect_separator",
        scope_separator
    );
    case!(
        "authorize_url::carries_pkce_s256_exactly_when_the_dialect_takes_it",
        pkce
    );
    case!(
        "authorize_url::every_authorization_gets_a_fresh_state",
        fresh_state
    );
    case!("authorize_url::a_state_completes_once", state_single_use);
    case!(
        "code_exchange::exchanges_the_code_once_and_stores_tokens_and_account",
        code_exchange
    );
    case!(
        "refresh::a_token_near_expiry_is_refreshed_once_and_the_new_tokens_stored",
        refresh_stores
    );
    case!(
        "refresh::the_stored_refresh_token_serves_the_next_refresh",
        refresh_twice
    );
    case!(
        "refresh::invalid_grant_requires_reconnect_without_a_refresh_loop",
        invalid_grant
    );
    case!(
        "revoke::disconnect_revokes_once_or_says_not_offered_and_deletes_the_tokens",
        revoke
    );
    case!(
        "callback::a_denial_is_authorization_denied_and_stores_nothing",
        denial
    );
    case!(
        "callback::an_unknown_state_is_refused_without_a_token_request",
        unknown_state
    );
    case!(
        "callback::a_missing_state_is_refused_without_a_token_request",
        missing_state
    );
    case!(
        "callback::a_state_issued_to_another_subject_is_refused",
        foreign_state
    );
    case!(
        "callback::a_missing_code_is_refused_without_a_token_request",
        missing_code
    );
    case!("callback::a_stray_fragment_is_ignored", fragment);
}

// ---- shared steps --------------------------------------------------------------------------

impl Ctx<'_> {
    /// Consent, then `connect`: the authorization request the browser would be sent to.
    async fn start(&self, h: &Harness) -> Result<AuthorizationRequest, String> {
        h.grant(
            socialconnect_core::id::Purpose::AccountConnection,
            Some(&self.suite.platform),
        )
        .await;
        h.hub
            .connect(
                &h.subject,
                &self.suite.platform,
                &self.suite.scopes,
                &h.redirect,
            )
            .await
            .map_err(|e| format!("connect failed: {e}"))
    }

    /// The simulator's consent screen on `url`.
    fn browse(&self, url: &Url) -> Result<(String, String), String> {
        self.sim
            .try_authorize(url)
            .map_err(|e| format!("the simulator refused the authorize URL: {e}"))
    }

    /// The whole flow: a stored connection.
    pub(super) async fn connected(&self, h: &Harness) -> Result<Connected, String> {
        let auth = self.start(h).await?;
        let (code, state) = self.browse(&auth.url)?;
        h.hub
            .complete_callback(
                &h.subject,
                &h.redirect,
                h.callback_url(&code, &state).as_str(),
            )
            .await
            .map_err(|e| format!("completing the callback failed: {e}"))
    }

    /// The stored record of `connected`.
    pub(super) async fn stored(
        &self,
        h: &Harness,
        connected: &Connected,
    ) -> Result<StoredTokens, String> {
        h.hub
            .token_store()
            .get(&connected.key)
            .await
            .map_err(|e| format!("reading the token store failed: {e}"))?
            .ok_or_else(|| "the connection is not in the token store".to_owned())
    }
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn callback(h: &Harness, pairs: &[(&str, &str)]) -> String {
    let mut url = h.redirect.clone();
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

/// Moves the clock to one second before the stored token expires, so the next session
/// refreshes; `None` when the token does not expire.
async fn near_expiry(cx: &Ctx<'_>, h: &Harness, c: &Connected) -> Result<Option<()>, String> {
    let stored = cx.stored(h, c).await?;
    match stored.tokens.access_expires {
        Expiry::At(at) => {
            cx.suite.clock.set(at - chrono::TimeDelta::seconds(1));
            Ok(Some(()))
        }
        Expiry::Never | Expiry::Unknown => Ok(None),
    }
}

fn skipped(why: &str) -> Check {
    Ok(CaseOutcome::Skipped(why.to_owned()))
}

// ---- authorize URL -------------------------------------------------------------------------

async fn client_parameter(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let spec = h
        .hub
        .platform(&cx.suite.platform)
        .map_err(|e| e.to_string())?
        .oauth();
    let client = param(&auth.url, spec.client_id_param);
    ensure!(
        client.as_deref() == Some(spec.client_id.as_str()),
        "`{}` is {client:?}, not the client id",
        spec.client_id_param
    );
    ensure!(
        param(&auth.url, "redirect_uri").as_deref() == Some(h.redirect.as_str()),
        "redirect_uri is not the one connect was given"
    );
    ensure!(
        param(&auth.url, "response_type").as_deref() == Some("code"),
        "response_type is not `code`"
    );
    Ok(CaseOutcome::Passed)
}

async fn scope_separator(cx: &Ctx<'_>) -> Check {
    ensure!(
        cx.suite.scopes.len() >= 2,
        "give the suite at least two scopes (Suite::scopes)"
    );
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let spec = h
        .hub
        .platform(&cx.suite.platform)
        .map_err(|e| e.to_string())?
        .oauth();
    let want: Vec<&str> = cx.suite.scopes.iter().map(|s| s.as_str()).collect();
    let want = want.join(spec.scope_separator);
    let got = param(&auth.url, "scope");
    ensure!(
        got.as_deref() == Some(want.as_str()),
        "scope is {got:?}, expected {want:?} (separator {:?})",
        spec.scope_separator
    );
    Ok(CaseOutcome::Passed)
}

async fn pkce(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let spec = h
        .hub
        .platform(&cx.suite.platform)
        .map_err(|e| e.to_string())?
        .oauth();
    let challenge = param(&auth.url, "code_challenge");
    let method = param(&auth.url, "code_challenge_method");
    match spec.pkce {
        PkceMode::Required | PkceMode::Supported => {
            ensure!(
                challenge.as_ref().is_some_and(|c| c.len() == 43),
                "the dialect takes PKCE but code_challenge is {challenge:?}"
            );
            ensure!(
                method.as_deref() == Some("S256"),
                "code_challenge_method is {method:?}, not S256"
            );
        }
        _ => {
            ensure!(
                challenge.is_none() && method.is_none(),
                "the dialect has no PKCE but the URL carries a challenge"
            );
        }
    }
    Ok(CaseOutcome::Passed)
}

async fn fresh_state(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let a = param(&cx.start(&h).await?.url, "state");
    let b = param(&cx.start(&h).await?.url, "state");
    ensure!(
        a.is_some() && b.is_some(),
        "an authorize URL carries no state"
    );
    ensure!(a != b, "two authorizations got the same state");
    ensure!(
        a.as_ref().is_some_and(|s| s.len() >= 22),
        "the state is shorter than 128 bits of base64"
    );
    Ok(CaseOutcome::Passed)
}

async fn state_single_use(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let (code, state) = cx.browse(&auth.url)?;
    let url = h.callback_url(&code, &state);
    h.hub
        .complete_callback(&h.subject, &h.redirect, url.as_str())
        .await
        .map_err(|e| format!("the first completion failed: {e}"))?;
    let exchanges = cx.sim.code_exchanges();
    let again = h
        .hub
        .complete_callback(&h.subject, &h.redirect, url.as_str())
        .await;
    ensure!(
        again.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::InvalidInput),
        "replaying the callback gave {again:?}, not InvalidInput"
    );
    ensure!(
        cx.sim.code_exchanges() == exchanges,
        "replaying the callback reached the token endpoint"
    );
    Ok(CaseOutcome::Passed)
}

// ---- code exchange -------------------------------------------------------------------------

async fn code_exchange(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let before = cx.sim.code_exchanges();
    let c = cx.connected(&h).await?;
    let exchanges = cx.sim.code_exchanges() - before;
    ensure!(exchanges == 1, "{exchanges} code exchanges, not one");
    let stored = cx.stored(&h, &c).await?;
    ensure!(
        !stored.tokens.access_token.expose_secret().is_empty(),
        "the stored access token is empty"
    );
    ensure!(
        stored.status == ConnectionStatus::Active,
        "the new connection is {:?}",
        stored.status
    );
    ensure!(!c.account.account_id.is_empty(), "the account id is empty");
    ensure!(
        stored.tokens.account_id.as_deref() == Some(c.account.account_id.as_str()),
        "the stored account id {:?} is not the connected account {}",
        stored.tokens.account_id,
        c.account.account_id
    );
    Ok(CaseOutcome::Passed)
}

// ---- refresh -------------------------------------------------------------------------------

/// One refresh through a session: exactly one refresh request, a new token stored under a
/// higher version and handed to the session.
async fn refresh_once(cx: &Ctx<'_>, h: &Harness, c: &Connected) -> Check {
    let before = cx.stored(h, c).await?;
    let refreshes = cx.sim.refreshes();
    let session = h
        .try_session(&c.key, socialconnect_core::id::Purpose::AccountConnection)
        .await
        .map_err(|e| format!("the session near expiry failed: {e}"))?;
    let made = cx.sim.refreshes() - refreshes;
    ensure!(made == 1, "{made} refresh requests, not one");
    let after = cx.stored(h, c).await?;
    ensure!(
        after.version > before.version,
        "the refreshed tokens were not stored (version {} → {})",
        before.version,
        after.version
    );
    ensure!(
        after.tokens.access_token.expose_secret() != before.tokens.access_token.expose_secret(),
        "the stored access token did not change"
    );
    ensure!(
        session.access_token().expose_secret() == after.tokens.access_token.expose_secret(),
        "the session does not hold the stored token"
    );
    if before.tokens.refresh_token.is_some() {
        ensure!(
            after.tokens.refresh_token.is_some(),
            "the refresh dropped the stored refresh token"
        );
    }
    Ok(CaseOutcome::Passed)
}

async fn refresh_stores(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let c = cx.connected(&h).await?;
    if near_expiry(cx, &h, &c).await?.is_none() {
        return skipped("the platform's tokens do not expire");
    }
    refresh_once(cx, &h, &c).await
}

async fn refresh_twice(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let c = cx.connected(&h).await?;
    if near_expiry(cx, &h, &c).await?.is_none() {
        return skipped("the platform's tokens do not expire");
    }
    refresh_once(cx, &h, &c).await?;
    if near_expiry(cx, &h, &c).await?.is_none() {
        return Err("the refreshed token no longer expires".to_owned());
    }
    refresh_once(cx, &h, &c)
        .await
        .map_err(|e| format!("the second refresh: {e}"))
}

async fn invalid_grant(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let c = cx.connected(&h).await?;
    if near_expiry(cx, &h, &c).await?.is_none() {
        return skipped("the platform's tokens do not expire");
    }
    let before = cx.stored(&h, &c).await?;
    cx.sim.reject_next_refresh();
    let refreshes = cx.sim.refreshes();
    let purpose = socialconnect_core::id::Purpose::AccountConnection;
    let first = h.try_session(&c.key, purpose).await;
    ensure!(
        first.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::ReconnectRequired),
        "a rejected refresh gave {:?}, not ReconnectRequired",
        first.map(|_| "a session")
    );
    let second = h.try_session(&c.key, purpose).await;
    ensure!(
        second.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::ReconnectRequired),
        "the next session gave {:?}, not ReconnectRequired",
        second.map(|_| "a session")
    );
    let made = cx.sim.refreshes() - refreshes;
    ensure!(
        made == 1,
        "{made} refresh requests for two sessions, not one"
    );
    let after = cx.stored(&h, &c).await?;
    ensure!(
        matches!(after.status, ConnectionStatus::ReconnectRequired { .. }),
        "the connection is {:?}, not marked for reconnection",
        after.status
    );
    ensure!(
        after.tokens.access_token.expose_secret() == before.tokens.access_token.expose_secret(),
        "the rejected refresh overwrote the stored token"
    );
    Ok(CaseOutcome::Passed)
}

// ---- revocation ----------------------------------------------------------------------------

async fn revoke(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let c = cx.connected(&h).await?;
    let before = cx.sim.revocations();
    let done = h
        .hub
        .disconnect(&c.key)
        .await
        .map_err(|e| format!("disconnect failed: {e}"))?;
    let made = cx.sim.revocations() - before;
    match &done.revocation {
        Some(Revocation::Revoked) => {
            ensure!(
                made == 1,
                "revoked with {made} revocation requests, not one"
            );
        }
        Some(Revocation::NotOffered) => {
            ensure!(made == 0, "\"not offered\" but {made} revocation requests");
        }
        other => return Err(format!("the revocation ended in {other:?}")),
    }
    ensure!(done.deleted, "disconnect did not delete the connection");
    let left = h
        .hub
        .token_store()
        .get(&c.key)
        .await
        .map_err(|e| e.to_string())?;
    ensure!(left.is_none(), "the tokens are still stored");
    Ok(CaseOutcome::Passed)
}

// ---- the callback --------------------------------------------------------------------------

/// Completes `callback` for `subject` and checks it fails with `InvalidInput` without a
/// token request.
async fn refused(cx: &Ctx<'_>, h: &Harness, subject: &SubjectId, callback: &str) -> Check {
    let exchanges = cx.sim.code_exchanges();
    let got = h
        .hub
        .complete_callback(subject, &h.redirect, callback)
        .await;
    ensure!(
        got.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::InvalidInput),
        "the callback gave {:?}, not InvalidInput",
        got.map(|c| c.key)
    );
    ensure!(
        cx.sim.code_exchanges() == exchanges,
        "the refused callback reached the token endpoint"
    );
    let stored = h
        .hub
        .connections(&h.subject)
        .await
        .map_err(|e| e.to_string())?;
    ensure!(stored.is_empty(), "a refused callback stored a connection");
    Ok(CaseOutcome::Passed)
}

async fn denial(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let state = param(&auth.url, "state").unwrap_or_default();
    cx.sim.deny_next_authorization();
    let error = match cx.sim.try_authorize(&auth.url) {
        Err(e) => e.error,
        Ok(_) => return Err("the simulator granted a denied authorization".to_owned()),
    };
    let url = callback(
        &h,
        &[
            ("error", error.as_str()),
            ("error_reason", "user_denied"),
            ("error_description", "Permissions error"),
            ("state", state.as_str()),
        ],
    );
    let exchanges = cx.sim.code_exchanges();
    let got = h.hub.complete_callback(&h.subject, &h.redirect, &url).await;
    ensure!(
        got.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::AuthorizationDenied),
        "a denial gave {:?}, not AuthorizationDenied",
        got.map(|c| c.key)
    );
    ensure!(
        cx.sim.code_exchanges() == exchanges,
        "a denial reached the token endpoint"
    );
    let stored = h
        .hub
        .connections(&h.subject)
        .await
        .map_err(|e| e.to_string())?;
    ensure!(stored.is_empty(), "a denial stored a connection");
    Ok(CaseOutcome::Passed)
}

async fn unknown_state(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let (code, _) = cx.browse(&auth.url)?;
    let url = callback(&h, &[("code", &code), ("state", "a-state-nobody-issued")]);
    refused(cx, &h, &h.subject, &url).await
}

async fn missing_state(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let (code, _) = cx.browse(&auth.url)?;
    let url = callback(&h, &[("code", &code)]);
    refused(cx, &h, &h.subject, &url).await
}

async fn foreign_state(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let (code, state) = cx.browse(&auth.url)?;
    let url = h.callback_url(&code, &state);
    let mallory = SubjectId::new("someone-else").map_err(|e| e.to_string())?;
    refused(cx, &h, &mallory, url.as_str()).await
}

async fn missing_code(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let (_, state) = cx.browse(&auth.url)?;
    let url = callback(&h, &[("state", &state)]);
    refused(cx, &h, &h.subject, &url).await
}

async fn fragment(cx: &Ctx<'_>) -> Check {
    let h = cx.harness(TIMEOUT);
    let auth = cx.start(&h).await?;
    let (code, state) = cx.browse(&auth.url)?;
    let url = format!("{}#_=_", h.callback_url(&code, &state));
    h.hub
        .complete_callback(&h.subject, &h.redirect, &url)
        .await
        .map_err(|e| format!("a callback ending in #_=_ failed: {e}"))?;
    Ok(CaseOutcome::Passed)
}
