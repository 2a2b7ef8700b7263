//! Pinterest's OAuth (API v5) as configuration on core's OAuth client and standard platform.
//!
//! The dialect: comma-separated scopes; HTTP Basic client authentication at the token
//! endpoint; `token_type` is a lowercase `bearer`; errors at the token endpoint are Pinterest's
//! `{code, message}`, not RFC 6749's, read by [`token_error`]. PKCE is not documented
//! (UNCONFIRMED), so none is sent.
//!
//! Continuous refresh: every refresh answers a new refresh token with
//! `refresh_token_expires_in` (60 days) beside the new access token; core's refresh engine
//! stores both in one write before the access token is used, so a crash cannot keep the
//! spent refresh token. The access token's life (about 30 days by third-party docs,
//! UNCONFIRMED) is read from `expires_in`, never assumed. Apps created before 2025-09-25 send
//! `continuous_refresh=true` ([`PinterestConfig::with_legacy_refresh`]).
//!
//! Pinterest revokes only tokens issued for system users, so a user's grant cannot be ended
//! upstream: [`Platform::revoke`] answers [`Revocation::NotOffered`] without a request and the
//! disconnect and erasure reports say "upstream revoke not offered". There is no
//! deauthorization callback either: a user who removes the app shows as a 401 with code 2 on
//! the next call, which marks the connection as needing reconnection.
//!
//! Tokens start `pina` (access) and `pinr` (refresh). They travel only in the core's secret
//! types, whose `Debug` is redacted, and token requests are marked sensitive (no body excerpt
//! in an error), so neither is ever logged.
//!
//! [`Platform::revoke`]: socialconnect_core::platform::Platform::revoke
//! [`Revocation::NotOffered`]: socialconnect_core::platform::Revocation::NotOffered
//! [`PinterestConfig::with_legacy_refresh`]: crate::PinterestConfig::with_legacy_refresh

use std::sync::Arc;

use socialconnect_core::clock::Clock;
use socialconnect_core::error::ReconnectReason;
use socialconnect_core::http::ApiResponse;
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::oauth::{GrantEnd, OAuthClient, StandardPlatform, TokenStep};
use socialconnect_core::platform::{
    ClientAuth, OAuthSpec, PkceMode, RevocationEndpoint, TokenDialect,
};
use socialconnect_core::{Error, Result};

use crate::client::PinterestClient;
use crate::error::api_errors;

/// Pinterest's scope names used by this crate.
pub mod scopes {
    /// Reading the user's account and its analytics.
    pub const USER_ACCOUNTS_READ: &str = "user_accounts:read";
    /// Reading public boards.
    pub const BOARDS_READ: &str = "boards:read";
    /// Creating, updating and deleting boards and sections.
    pub const BOARDS_WRITE: &str = "boards:write";
    /// Reading public Pins.
    pub const PINS_READ: &str = "pins:read";
    /// Creating and deleting Pins.
    pub const PINS_WRITE: &str = "pins:write";
}

impl PinterestClient {
    /// Pinterest sign-in as a core [`Platform`](socialconnect_core::platform::Platform) for
    /// this client's app: token traffic goes through the client's HTTP client and is dated by
    /// `clock`; the account is `GET /v5/user_account` (`id`, `username`).
    ///
    /// # Errors
    ///
    /// `Config` when a base URL cannot take the endpoints' paths.
    pub fn login(&self, clock: Arc<dyn Clock>) -> Result<StandardPlatform> {
        let c = self.config();
        let authorize = c
            .auth_base
            .join("oauth/")
            .map_err(|_| Error::config("Pinterest sign-in base URL cannot take a path"))?;
        let mut spec = OAuthSpec::new(
            PlatformId::PINTEREST,
            c.client_id.clone(),
            authorize,
            self.url("oauth/token")?,
        )
        .with_scope_separator(",")
        .with_client_auth(ClientAuth::BasicAuth)
        // Errors come as `{code, message}`: the lenient reader plus `token_error`.
        .with_token_dialect(TokenDialect::Lenient)
        .with_pkce(PkceMode::Unsupported)
        .with_revocation(RevocationEndpoint::NotOffered);
        if c.legacy_refresh {
            spec = spec.with_refresh_param("continuous_refresh", "true");
        }
        let oauth = OAuthClient::new(spec, c.client_secret.clone(), self.http().clone(), clock)
            .with_error_reader(token_error);
        use scopes::*;
        StandardPlatform::new(oauth, self.url("user_account")?)
            .with_account_fields("/id", Some("/username"))
            .with_account_caller(self.caller().clone())
            .with_grant_end(GrantEnd::Renewed)
            .with_scopes(&[
                (Purpose::AccountConnection, &[USER_ACCOUNTS_READ]),
                (
                    Purpose::Publishing,
                    &[BOARDS_READ, BOARDS_WRITE, PINS_WRITE],
                ),
                (Purpose::ReadingContent, &[BOARDS_READ, PINS_READ]),
                (Purpose::Analytics, &[USER_ACCOUNTS_READ, PINS_READ]),
            ])
    }
}

/// Reads Pinterest's `{code, message}` at the token endpoint. Which code answers which token
/// failure is not documented (UNCONFIRMED); by status:
///
/// | step | 400 | 401 | otherwise |
/// |---|---|---|---|
/// | code exchange | the code is dead (`ReconnectRequired`, start again) | the app's credentials (`Config`) | the error table |
/// | refresh | the grant is dead (`ReconnectRequired`) | the grant is dead (`ReconnectRequired`) | the error table |
///
/// A body that is not Pinterest's error (HTML from a proxy) is left to the kit.
pub fn token_error(step: TokenStep, resp: &ApiResponse) -> Option<Error> {
    // The table's error carries the message, the code and the request id.
    let table = api_errors().error(&PlatformId::PINTEREST, resp, None)?;
    let Some(detail) = table.platform_error().cloned().map(Box::new) else {
        return Some(table);
    };
    let reconnect = |reason| Error::ReconnectRequired {
        reason,
        platform: Some(detail.clone()),
    };
    Some(match (step, resp.status()) {
        (TokenStep::Code, 400) => reconnect(ReconnectReason::CodeRejected),
        (TokenStep::Code, 401) => Error::ClientRejected(detail.clone()),
        (TokenStep::Refresh, 400 | 401) => reconnect(ReconnectReason::InvalidGrant),
        _ => table,
    })
}
