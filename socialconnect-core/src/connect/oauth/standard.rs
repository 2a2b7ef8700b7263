//! A [`Platform`] for any provider that follows RFC 6749 and has a JSON "who am I" endpoint.
//!
//! Contributors can connect a platform with this alone, and platform crates build on it.

use async_trait::async_trait;
use url::Url;

use super::OAuthClient;
use crate::error::{Error, Result};
use crate::http::ApiRequest;
use crate::id::PlatformId;
use crate::platform::{AccountInfo, OAuthSpec, Platform, Revocation};
use crate::secret::{AuthCode, PkceVerifier};
use crate::token::TokenSet;

/// An RFC 6749 platform: the OAuth client plus an account endpoint read with JSON pointers.
#[derive(Debug, Clone)]
pub struct StandardPlatform {
    oauth: OAuthClient,
    account_url: Url,
    id_pointer: String,
    name_pointer: Option<String>,
}

impl StandardPlatform {
    /// A platform whose account endpoint answers `{"id": …, "name": …}`.
    pub fn new(oauth: OAuthClient, account_url: Url) -> Self {
        Self {
            oauth,
            account_url,
            id_pointer: "/id".to_owned(),
            name_pointer: Some("/name".to_owned()),
        }
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
        // Revoking the refresh token ends the whole grant at RFC 7009 servers.
        match &tokens.refresh_token {
            Some(r) => self.oauth.revoke(r.expose_secret(), "refresh_token").await,
            None => {
                self.oauth
                    .revoke(tokens.access_token.expose_secret(), "access_token")
                    .await
            }
        }
    }

    async fn account(&self, tokens: &TokenSet) -> Result<AccountInfo> {
        let req = ApiRequest::get(self.account_url.clone())
            .platform(self.id())
            .app(self.oauth.spec().client_id.clone())
            .operation("oauth.account")
            .bearer(tokens.access_token.clone());
        let resp = self.oauth.http().send(req).await?.error_for_status()?;
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
