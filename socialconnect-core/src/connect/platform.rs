//! What every platform connector implements: the connection lifecycle.
//!
//! Each platform crate also offers its own typed client for the platform's full surface; this
//! trait is only the lifecycle they all share.

use async_trait::async_trait;
use url::Url;

use crate::error::Result;
use crate::id::{PlatformId, Scope};
use crate::secret::{AuthCode, PkceVerifier};
use crate::token::TokenSet;

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields (Meta, TikTok, LinkedIn).
    RequestBody,
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1's default; Pinterest).
    BasicAuth,
}

/// Whether the platform takes PKCE (RFC 7636).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMode {
    /// Always sent; the platform requires it.
    Required,
    /// Sent; the platform accepts it.
    Supported,
    /// Never sent.
    Unsupported,
}

/// How the token endpoint is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenDialect {
    /// Strict RFC 6749: requests and responses through the `oauth2` crate.
    Rfc6749,
    /// The platform deviates (TikTok's `client_key`, LinkedIn's missing `token_type`, errors
    /// inside HTTP 200 bodies): SocialConnect's own form request and a lenient response reader.
    Lenient,
}

/// How a platform ends a grant upstream: the data behind [`Platform::revoke`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationEndpoint {
    /// An RFC 7009 endpoint: `POST token=…&token_type_hint=…` with the client's credentials.
    /// [`OAuthClient::revoke`](crate::oauth::OAuthClient::revoke) speaks it.
    Rfc7009(Url),
    /// The platform has its own revocation call (Meta's `DELETE /me/permissions`), made by its
    /// [`Platform::revoke`] implementation.
    Platform,
    /// The platform offers no revocation: a token stays valid upstream until it expires.
    NotOffered,
}

/// The OAuth endpoints and dialect of one platform app.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthSpec {
    /// The platform.
    pub platform: PlatformId,
    /// The app's client id (Meta app id, TikTok client key).
    pub client_id: String,
    /// The authorization (consent dialog) endpoint.
    pub authorize_url: Url,
    /// The token endpoint.
    pub token_url: Url,
    /// How grants are revoked upstream (default [`RevocationEndpoint::NotOffered`]).
    pub revocation: RevocationEndpoint,
    /// What joins scopes in the authorize URL: `" "` by RFC 6749, `","` for Meta and TikTok.
    pub scope_separator: &'static str,
    /// The name of the client id parameter: `client_id`, or `client_key` for TikTok.
    pub client_id_param: &'static str,
    /// How the client authenticates at the token endpoint.
    pub client_auth: ClientAuth,
    /// PKCE support.
    pub pkce: PkceMode,
    /// Extra fixed parameters for the authorize URL.
    pub extra_authorize_params: Vec<(String, String)>,
    /// How the token endpoint is spoken to.
    pub token_dialect: TokenDialect,
    /// The authorization server's issuer identifier, when the platform names one. Set, the
    /// authorization callback must carry an equal `iss` parameter (RFC 9207), which defends
    /// against mix-up attacks between providers.
    pub issuer: Option<String>,
    /// Extra fixed form fields sent with every refresh grant (Pinterest's
    /// `continuous_refresh=true` for apps created before its continuous refresh tokens).
    pub extra_refresh_params: Vec<(String, String)>,
}

impl OAuthSpec {
    /// An RFC 6749 spec: space-separated scopes, `client_id`, secret in the request body, PKCE
    /// supported. Adjust the public fields for a platform's dialect.
    pub fn new(
        platform: PlatformId,
        client_id: impl Into<String>,
        authorize_url: Url,
        token_url: Url,
    ) -> Self {
        Self {
            platform,
            client_id: client_id.into(),
            authorize_url,
            token_url,
            revocation: RevocationEndpoint::NotOffered,
            scope_separator: " ",
            client_id_param: "client_id",
            client_auth: ClientAuth::RequestBody,
            pkce: PkceMode::Supported,
            extra_authorize_params: Vec::new(),
            token_dialect: TokenDialect::Rfc6749,
            issuer: None,
            extra_refresh_params: Vec::new(),
        }
    }

    /// Sets an RFC 7009 revocation endpoint ([`RevocationEndpoint::Rfc7009`]).
    pub fn with_revoke_url(mut self, url: Url) -> Self {
        self.revocation = RevocationEndpoint::Rfc7009(url);
        self
    }

    /// Sets how grants are revoked upstream.
    pub fn with_revocation(mut self, revocation: RevocationEndpoint) -> Self {
        self.revocation = revocation;
        self
    }

    /// The RFC 7009 revocation endpoint, when the spec has one.
    pub fn revoke_url(&self) -> Option<&Url> {
        match &self.revocation {
            RevocationEndpoint::Rfc7009(url) => Some(url),
            RevocationEndpoint::Platform | RevocationEndpoint::NotOffered => None,
        }
    }

    /// Sets the issuer identifier the callback's `iss` must equal (RFC 9207).
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the scope separator.
    pub fn with_scope_separator(mut self, sep: &'static str) -> Self {
        self.scope_separator = sep;
        self
    }

    /// Sets the client id parameter name. Anything but `client_id` is outside RFC 6749, so it
    /// also switches the token endpoint to [`TokenDialect::Lenient`].
    pub fn with_client_id_param(mut self, name: &'static str) -> Self {
        self.client_id_param = name;
        if name != "client_id" {
            self.token_dialect = TokenDialect::Lenient;
        }
        self
    }

    /// Sets the token endpoint dialect.
    pub fn with_token_dialect(mut self, dialect: TokenDialect) -> Self {
        self.token_dialect = dialect;
        self
    }

    /// Sets the client authentication method.
    pub fn with_client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Sets PKCE support.
    pub fn with_pkce(mut self, pkce: PkceMode) -> Self {
        self.pkce = pkce;
        self
    }

    /// Adds a fixed authorize parameter.
    pub fn with_authorize_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.extra_authorize_params
            .push((name.into(), value.into()));
        self
    }

    /// Adds a fixed form field to every refresh grant. The grant's own fields
    /// (`grant_type`, `refresh_token`, the client's credentials) cannot be overridden: a
    /// field of that name is ignored.
    pub fn with_refresh_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_refresh_params.push((name.into(), value.into()));
        self
    }
}

/// The platform account a connection acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountInfo {
    /// The platform's id for the account (a string; may be a 64-bit number on the wire).
    pub account_id: String,
    /// A display name, when the platform gives one.
    pub display_name: Option<String>,
}

impl AccountInfo {
    /// Account info with an id and an optional name.
    pub fn new(account_id: impl Into<String>, display_name: Option<String>) -> Self {
        Self {
            account_id: account_id.into(),
            display_name,
        }
    }
}

/// What revoking a grant upstream achieved: the one outcome type of
/// [`Platform::revoke`], [`SocialConnect::disconnect`](crate::SocialConnect::disconnect) and
/// [`SocialConnect::erase`](crate::SocialConnect::erase).
///
/// A platform's [`Platform::revoke`] answers what it can know, `Revoked` or `NotOffered`, and
/// returns an error when the call fails; the hub turns that error into `Failed`, since its
/// local deletion goes ahead whatever happened upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// The platform confirmed the revocation.
    Revoked,
    /// The platform offers no revocation (see [`RevocationEndpoint::NotOffered`]): the token
    /// stays valid upstream until it expires.
    NotOffered,
    /// Revocation failed; the local data was deleted anyway.
    Failed {
        /// Why (the error's text, never holding a token).
        reason: String,
    },
}

impl std::fmt::Display for Revocation {
    /// The words a disconnect or erasure report shows: `revoked upstream`, `upstream revoke
    /// not offered`, `upstream revoke failed: …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revocation::Revoked => f.write_str("revoked upstream"),
            Revocation::NotOffered => f.write_str("upstream revoke not offered"),
            Revocation::Failed { reason } => write!(f, "upstream revoke failed: {reason}"),
        }
    }
}

/// The former name of [`Revocation`] (its `Unsupported` is now [`Revocation::NotOffered`]).
#[deprecated(since = "0.2.0", note = "use `Revocation`")]
pub type RevokeOutcome = Revocation;

/// The lifecycle every platform connector implements.
#[async_trait]
pub trait Platform: Send + Sync {
    /// The platform's id.
    fn id(&self) -> PlatformId;

    /// Its OAuth endpoints and dialect.
    fn oauth(&self) -> &OAuthSpec;

    /// Exchanges an authorization code for tokens.
    async fn exchange_code(
        &self,
        code: &AuthCode,
        redirect_uri: &Url,
        verifier: Option<&PkceVerifier>,
    ) -> Result<TokenSet>;

    /// Obtains a fresh token set from the current one (a refresh grant; Meta's long-lived
    /// exchange). The result may omit what did not change; the engine merges it over the old set.
    async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet>;

    /// Revokes the tokens upstream, where the platform allows it.
    async fn revoke(&self, tokens: &TokenSet) -> Result<Revocation>;

    /// The account the tokens act as.
    async fn account(&self, tokens: &TokenSet) -> Result<AccountInfo>;

    /// Scopes a purpose needs on this platform, for withdrawal and scope checks. Default: none
    /// known.
    fn scopes_for(&self, _purpose: crate::id::Purpose) -> Vec<Scope> {
        Vec::new()
    }

    /// When the grant behind `tokens` ends for good, whatever refreshing does, so the end user
    /// can be asked to reconnect ahead of it. Default: the refresh token's end when there is
    /// one (a rotated refresh token carries its own), unknown otherwise (a platform may extend
    /// a grant without a refresh token, as Meta re-exchanges long-lived tokens). A platform
    /// whose grant ends with its access token when there is no refresh token (LinkedIn) says
    /// so.
    fn grant_ends(&self, tokens: &TokenSet) -> crate::token::Expiry {
        if tokens.refresh_token.is_some() {
            tokens.refresh_expires
        } else {
            crate::token::Expiry::Unknown
        }
    }
}
