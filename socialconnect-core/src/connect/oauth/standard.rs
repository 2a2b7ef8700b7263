//! A [`Platform`] for any provider that follows RFC 6749 and has a JSON "who am I" endpoint.
//!
//! Contributors can connect a platform with this alone, and platform crates build on it.

use async_trait::async_trait;
use url::Url;

use super::OAuthClient;
use crate::error::{Error, Result};
use crate::http::ApiRequest;
use crate::hub::ApiCaller;
use crate::id::{PlatformId, Purpose, Scope};
use crate::platform::{AccountInfo, OAuthSpec, Platform, Revocation};
use crate::secret::{AuthCode, PkceVerifier};
use crate::token::{Expiry, TokenSet};

/// Which token a [`StandardPlatform`] revokes (when its spec has an RFC 7009 endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevokeToken {
    /// The refresh token when there is one, which ends the whole grant at RFC 7009 servers;
    /// else the access token (default).
    #[default]
    RefreshFirst,
    /// Always the access token (TikTok, LinkedIn: revoking it ends the grant).
    Access,
}

/// When a [`StandardPlatform`]'s grant ends for good (its [`Platform::grant_ends`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GrantEnd {
    /// With the refresh token, unknown without one (the trait's default).
    #[default]
    RefreshToken,
    /// With the refresh token, or with the access token when there is none (LinkedIn).
    RefreshElseAccess,
    /// Never on its own: every refresh renews the refresh token's life (Pinterest's
    /// continuous refresh), so there is no end to warn the user about; a grant left unused
    /// past its refresh token's end shows as `ReconnectRequired` at the next refresh.
    Renewed,
}

/// An RFC 6749 platform: the OAuth client plus an account endpoint read with JSON pointers,
/// and the platform's choices as configuration: which token to revoke, the scopes each
/// purpose needs, when the grant ends, and the call path (error classifiers) of the account
/// call.
#[derive(Debug, Clone)]
pub struct StandardPlatform {
    oauth: OAuthClient,
    account_url: Url,
    id_pointer: String,
    name_pointer: Option<String>,
    revoke_token: RevokeToken,
    grant_end: GrantEnd,
    scopes: Vec<(Purpose, Vec<Scope>)>,
    caller: Option<ApiCaller>,
}

impl StandardPlatform {
    /// A platform whose account endpoint answers `{"id": …, "name": …}`.
    pub fn new(oauth: OAuthClient, account_url: Url) -> Self {
        Self {
            oauth,
            account_url,
            id_pointer: "/id".to_owned(),
            name_pointer: Some("/name".to_owned()),
            revoke_token: RevokeToken::default(),
            grant_end: GrantEnd::default(),
            scopes: Vec::new(),
            caller: None,
        }
    }

    /// Which token [`Platform::revoke`] sends.
    pub fn with_revoke_token(mut self, token: RevokeToken) -> Self {
        self.revoke_token = token;
        self
    }

    /// When the grant ends ([`Platform::grant_ends`]).
    pub fn with_grant_end(mut self, end: GrantEnd) -> Self {
        self.grant_end = end;
        self
    }

    /// The scopes each purpose needs ([`Platform::scopes_for`]); a purpose not listed needs
    /// none known. A name that is not a valid scope is a `Config` error.
    pub fn with_scopes(mut self, table: &[(Purpose, &[&str])]) -> Result<Self> {
        let mut scopes = Vec::with_capacity(table.len());
        for (purpose, names) in table {
            let names = names
                .iter()
                .map(|n| {
                    Scope::new(*n)
                        .map_err(|_| Error::config("invalid scope name in the purpose table"))
                })
                .collect::<Result<Vec<_>>>()?;
            scopes.push((*purpose, names));
        }
        self.scopes = scopes;
        Ok(self)
    }

    /// Sends the account call through `caller`, so the platform's error classifiers read its
    /// answer (an authentication error becomes `ReconnectRequired` in the platform's terms).
    /// Without one, the answer is judged by its HTTP status alone.
    pub fn with_account_caller(mut self, caller: ApiCaller) -> Self {
        self.caller = Some(caller);
        self
    }

    /// Where in the account response the id and the display name are (RFC 6901 pointers,
    /// e.g. `/data/user/open_id`).
    pub fn with_account_fields(mut self, id: &str, name: Option<&str>) -> Self {
        self.id_pointer = id.to_owned();
        self.name_pointer = name.map(str::to_owned);
        self
    }

    /// The OAuth client.
    pub fn oauth_client(&self) -> &OAuthClient {
        &self.oauth
    }
}

#[async_trait]
impl Platform for StandardPlatform {
    fn id(&self) -> PlatformId {
        self.oauth.spec().platform.clone()
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
        match (&tokens.refresh_token, self.revoke_token) {
            (Some(r), RevokeToken::RefreshFirst) => {
                self.oauth.revoke(r.expose_secret(), "refresh_token").await
            }
            _ => {
                self.oauth
                    .revoke(tokens.access_token.expose_secret(), "access_token")
                    .await
            }
        }
    }

    fn scopes_for(&self, purpose: Purpose) -> Vec<Scope> {
        self.scopes
            .iter()
            .find(|(p, _)| *p == purpose)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }

    fn grant_ends(&self, tokens: &TokenSet) -> Expiry {
        match (self.grant_end, tokens.refresh_token.is_some()) {
            (GrantEnd::Renewed, _) => Expiry::Unknown,
            (_, true) => tokens.refresh_expires,
            (GrantEnd::RefreshElseAccess, false) => tokens.access_expires,
            (GrantEnd::RefreshToken, false) => Expiry::Unknown,
        }
    }

    async fn account(&self, tokens: &TokenSet) -> Result<AccountInfo> {
        let req = ApiRequest::get(self.account_url.clone())
            .platform(self.id())
            .app(self.oauth.spec().client_id.clone())
            .operation("oauth.account")
            .bearer(tokens.access_token.clone());
        let resp = match &self.caller {
            Some(caller) => caller.send_app(self.oauth.http(), &self.id(), req).await?,
            None => self.oauth.http().send(req).await?.error_for_status()?,
        };
        let value: serde_json::Value = resp.json()?;
        let id = match value.pointer(&self.id_pointer) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            // Numbers are kept exactly as sent: serde_json reads integers as u64/i64, not f64.
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => {
                return Err(Error::Decode(Box::new(crate::error::DecodeError {
                    path: self.id_pointer.clone(),
                    message: "account id missing or not a string/number".to_owned(),
                    excerpt: None,
                })));
            }
        };
        let name = self
            .name_pointer
            .as_deref()
            .and_then(|p| value.pointer(p))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Ok(AccountInfo::new(id, name))
    }
}
