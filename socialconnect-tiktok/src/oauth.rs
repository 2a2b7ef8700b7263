//! TikTok Login Kit (OAuth v2) as a [`Platform`].
//!
//! RFC 6749 plus a dialect, so configuration on core's OAuth client: the client id is
//! `client_key`, scopes are comma-separated, the credentials go in the form body, PKCE only
//! for desktop and mobile apps, errors come flat (`{error, error_description, log_id}`) and
//! are detected by the `error` key whatever the status. Refresh tokens rotate (the 2026 docs:
//! the old one dies when a new one is issued); core's refresh engine stores the new one before
//! the access token is used. `expires_in` and `refresh_expires_in` are remaining seconds and
//! are read, never assumed. Revocation is TikTok's `/v2/oauth/revoke/` with the access token.

use async_trait::async_trait;
use serde::Deserialize;
use socialconnect_core::error::PlatformError;
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::oauth::OAuthClient;
use socialconnect_core::platform::{
    AccountInfo, ClientAuth, OAuthSpec, PkceMode, Platform, Revocation, TokenDialect,
};
use socialconnect_core::secret::{AuthCode, PkceVerifier};
use socialconnect_core::token::TokenSet;
use socialconnect_core::{Error, Result};
use url::Url;

use crate::client::{AppKind, TikTokClient};
use crate::model::{DataEnvelope, User};
use crate::scopes;

/// TikTok Login Kit for one app.
#[derive(Debug, Clone)]
pub struct TikTokLogin {
    client: TikTokClient,
    oauth: OAuthClient,
}

impl TikTokLogin {
    /// Login Kit for `client`'s app; token traffic goes through `http` (the hub's client) and
    /// is dated by `clock`.
    pub fn new(
        client: TikTokClient,
        http: HttpClient,
        clock: std::sync::Arc<dyn socialconnect_core::clock::Clock>,
    ) -> Result<Self> {
        let c = client.config();
        let join = |base: &Url, path: &str| {
            base.join(path)
                .map_err(|_| Error::config("TikTok base URL cannot take a path"))
        };
        let spec = OAuthSpec::new(
            PlatformId::TIKTOK,
            c.client_key.clone(),
            join(&c.auth_base, "v2/auth/authorize/")?,
            join(&c.api_base, "v2/oauth/token/")?,
        )
        .with_client_id_param("client_key")
        .with_scope_separator(",")
        .with_client_auth(ClientAuth::RequestBody)
        .with_token_dialect(TokenDialect::Lenient)
        // TikTok's docs: `code_verifier` is "required for mobile and desktop app only". That
        // desktop apps expect a hex-encoded challenge instead of base64url is UNCONFIRMED; the
        // standard S256 challenge is sent.
        .with_pkce(match c.app_kind {
            AppKind::Web => PkceMode::Unsupported,
            AppKind::Desktop | AppKind::Mobile => PkceMode::Required,
        })
        .with_revoke_url(join(&c.api_base, "v2/oauth/revoke/")?);
        let oauth = OAuthClient::new(spec, c.client_secret.clone(), http, clock);
        Ok(Self { client, oauth })
    }

    /// The OAuth client.
    pub fn oauth_client(&self) -> &OAuthClient {
        &self.oauth
    }
}

#[derive(Deserialize)]
struct UserData {
    user: User,
}

#[async_trait]
impl Platform for TikTokLogin {
    fn id(&self) -> PlatformId {
        PlatformId::TIKTOK
    }

    fn oauth(&self) -> &OAuthSpec {
        self.oauth.spec()
    }

    async fn exchange_code(
        &self,
        code: &AuthCode,
        redirect_uri: &Url,
        verifier: Option<&PkceVerifier>,
    ) -> Result<TokenSet> {
        self.oauth.exchange_code(code, redirect_uri, verifier).await
    }

    async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet> {
        self.oauth.refresh_set(tokens).await
    }

    async fn revoke(&self, tokens: &TokenSet) -> Result<Revocation> {
        // TikTok revokes with the access token; it removes the app from the user's list.
        self.oauth
            .revoke(tokens.access_token.expose_secret(), "access_token")
            .await
    }

    async fn account(&self, tokens: &TokenSet) -> Result<AccountInfo> {
        let mut url = self.client.api_url("v2/user/info/")?;
        url.query_pairs_mut()
            .append_pair("fields", "open_id,display_name");
        let req = ApiRequest::get(url).operation("user.info");
        let req = self.client.caller().authorize(req, &tokens.access_token);
        let resp = self
            .client
            .caller()
            .send_app(self.client.http(), &PlatformId::TIKTOK, req)
            .await?;
        let data: DataEnvelope<UserData> = resp.json()?;
        let user = data.data.user;
        let id = user
            .open_id
            .or_else(|| tokens.account_id.clone())
            .ok_or_else(|| {
                Error::Platform(Box::new(PlatformError::new(
                    Some(PlatformId::TIKTOK),
                    "TikTok user info carries no open_id",
                )))
            })?;
        Ok(AccountInfo::new(id, user.display_name))
    }

    fn scopes_for(&self, purpose: Purpose) -> Vec<Scope> {
        use scopes::*;
        let names: &[&str] = match purpose {
            Purpose::AccountConnection => &[USER_INFO_BASIC],
            Purpose::ReadingContent => &[VIDEO_LIST],
            Purpose::Analytics => &[USER_INFO_STATS, VIDEO_LIST],
            Purpose::Publishing => &[VIDEO_PUBLISH, VIDEO_UPLOAD],
            _ => &[],
        };
        names.iter().filter_map(|n| Scope::new(*n).ok()).collect()
    }
}
