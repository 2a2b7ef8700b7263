//! LinkedIn's 3-legged OAuth as a [`Platform`]: RFC 6749 plus a dialect, so configuration on
//! core's OAuth client and standard platform. Space-separated scopes (the member consents to
//! all of them), credentials in the form body, PKCE only for native apps LinkedIn enabled,
//! the lenient token reader (LinkedIn omits `token_type` without `openid`). Identity comes
//! from OIDC `userinfo`: the account id is `sub`, the member `urn:li:person:{sub}`.
//!
//! Access tokens live 60 days. Refresh tokens exist only for apps approved for programmatic
//! refresh and count down from the original grant: each refresh answer's
//! `refresh_token_expires_in` is the time *left*, which core stores as it comes, so a refresh
//! never extends it; at its end the refresh fails and the connection needs the member again
//! (`ReconnectRequired`). Revocation uses `/oauth/v2/revoke` (UNCONFIRMED endpoint: a refusal
//! is reported as a failed revocation by the hub, not fatal to a disconnect).

use async_trait::async_trait;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::{
    AccountInfo, OAuthSpec, PkceMode, Platform, Revocation, TokenDialect,
};
use socialconnect_core::secret::{AuthCode, PkceVerifier};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{Error, Result};
use url::Url;

use crate::client::LinkedInClient;

/// LinkedIn's scope names used by this crate.
pub mod scopes {
    /// OIDC sign-in.
    pub const OPENID: &str = "openid";
    /// OIDC name and picture.
    pub const PROFILE: &str = "profile";
    /// Posting, commenting and reacting as the member.
    pub const W_MEMBER_SOCIAL: &str = "w_member_social";
    /// Posting as an organization the member administers.
    pub const W_ORGANIZATION_SOCIAL: &str = "w_organization_social";
    /// Reading an organization's posts and comments.
    pub const R_ORGANIZATION_SOCIAL: &str = "r_organization_social";
    /// Organization administration data and statistics.
    pub const RW_ORGANIZATION_ADMIN: &str = "rw_organization_admin";
}

/// LinkedIn sign-in for one app.
#[derive(Debug, Clone)]
pub struct LinkedInLogin {
    standard: StandardPlatform,
}

impl LinkedInLogin {
    /// Sign-in for `client`'s app; token traffic goes through the client's HTTP client and is
    /// dated by `clock`.
    pub fn new(
        client: &LinkedInClient,
        clock: std::sync::Arc<dyn socialconnect_core::clock::Clock>,
    ) -> Result<Self> {
        let c = client.config();
        let join = |base: &Url, path: &str| {
            base.join(path)
                .map_err(|_| Error::config("LinkedIn base URL cannot take a path"))
        };
        let spec = OAuthSpec::new(
            PlatformId::LINKEDIN,
            c.client_id.clone(),
            join(&c.auth_base, "oauth/v2/authorization")?,
            join(&c.auth_base, "oauth/v2/accessToken")?,
        )
        .with_token_dialect(TokenDialect::Lenient)
        .with_pkce(if c.native_app {
            PkceMode::Supported
        } else {
            PkceMode::Unsupported
        })
        .with_revoke_url(join(&c.auth_base, "oauth/v2/revoke")?);
        let oauth = OAuthClient::new(spec, c.client_secret.clone(), client.http().clone(), clock);
        let standard = StandardPlatform::new(oauth, join(&c.api_base, "v2/userinfo")?)
            .with_account_fields("/sub", Some("/name"));
        Ok(Self { standard })
    }

    /// The OAuth client.
    pub fn oauth_client(&self) -> &OAuthClient {
        self.standard.oauth_client()
    }
}

#[async_trait]
impl Platform for LinkedInLogin {
    fn id(&self) -> PlatformId {
        PlatformId::LINKEDIN
    }

    fn oauth(&self) -> &OAuthSpec {
        self.standard.oauth()
    }

    async fn exchange_code(
        &self,
        code: &AuthCode,
        redirect_uri: &Url,
        verifier: Option<&PkceVerifier>,
    ) -> Result<TokenSet> {
        self.standard
            .exchange_code(code, redirect_uri, verifier)
            .await
    }

    async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet> {
        self.standard.refresh(tokens).await
    }

    async fn revoke(&self, tokens: &TokenSet) -> Result<Revocation> {
        // LinkedIn revokes the access token (the grant with it).
        self.oauth_client()
            .revoke(tokens.access_token.expose_secret(), "access_token")
            .await
    }

    async fn account(&self, tokens: &TokenSet) -> Result<AccountInfo> {
        self.standard.account(tokens).await
    }

    /// With a refresh token (apps approved for programmatic refresh), the grant ends with it:
    /// it counts down from the original grant, 365 days, and a refresh never extends it.
    /// Without one, it ends with the 60-day access token.
    fn grant_ends(&self, tokens: &TokenSet) -> Expiry {
        if tokens.refresh_token.is_some() {
            tokens.refresh_expires
        } else {
            tokens.access_expires
        }
    }

    fn scopes_for(&self, purpose: Purpose) -> Vec<Scope> {
        use scopes::*;
        let names: &[&str] = match purpose {
            Purpose::AccountConnection => &[OPENID, PROFILE],
            Purpose::Publishing => &[W_MEMBER_SOCIAL],
            Purpose::ReadingContent => &[R_ORGANIZATION_SOCIAL],
            Purpose::Analytics => &[RW_ORGANIZATION_ADMIN],
            _ => &[],
        };
        names.iter().filter_map(|n| Scope::new(*n).ok()).collect()
    }
}
