//! Facebook Login as a [`Platform`]: for Facebook Pages, for Instagram (the business account
//! behind a Page) and for WhatsApp.
//!
//! Meta deviates from RFC 6749 in ways the `oauth2` crate cannot express, so this module makes
//! its own requests: there is no refresh token; "refreshing" is the `fb_exchange_token`
//! exchange for a long-lived (about 60-day) token, possible only while the current token is
//! still valid, after which the user must log in again (`ReconnectRequired`). Every code
//! exchange is followed at once by that exchange, so stored user tokens are long-lived, and
//! the Page tokens derived from them do not expire. Revocation is `DELETE /me/permissions`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::error::ReconnectReason;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::{AccountInfo, OAuthSpec, PkceMode, Platform, Revocation};
use socialconnect_core::secret::{AccessToken, AuthCode, PkceVerifier};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{Error, Result};
use url::Url;

use crate::client::MetaClient;
use crate::model::de;

/// Which Meta product a [`FacebookLogin`] connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaProduct {
    /// Facebook Pages: the account is the Facebook user.
    Facebook,
    /// Instagram through Facebook Login: the account is the Instagram business account linked
    /// to one of the user's Pages.
    Instagram,
    /// WhatsApp Cloud API: the account is the (system) user the token belongs to.
    WhatsApp,
}

impl MetaProduct {
    fn platform(self) -> PlatformId {
        match self {
            MetaProduct::Facebook => PlatformId::FACEBOOK,
            MetaProduct::Instagram => PlatformId::INSTAGRAM,
            MetaProduct::WhatsApp => PlatformId::WHATSAPP,
        }
    }
}

/// Facebook Login for one Meta product.
#[derive(Debug, Clone)]
pub struct FacebookLogin {
    client: MetaClient,
    product: MetaProduct,
    spec: OAuthSpec,
}

#[derive(Deserialize)]
struct TokenWire {
    access_token: AccessToken,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// What `debug_token` says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// Whether Meta still accepts it.
    pub is_valid: bool,
    /// `USER`, `PAGE`, `APP`, `SYSTEM_USER`.
    pub token_type: Option<String>,
    /// The app it belongs to.
    pub app_id: Option<String>,
    /// The user it acts as.
    pub user_id: Option<String>,
    /// Granted permissions.
    pub scopes: Vec<Scope>,
    /// When it expires (`expires_at: 0` means never).
    pub expires: Expiry,
    /// When data access expires, separate from the token.
    pub data_access_expires_at: Option<DateTime<Utc>>,
    /// Why Meta no longer accepts the token (`data.error`), sent with `is_valid: false`.
    pub error: Option<DebugTokenError>,
}

/// The `error` inside a `debug_token` answer for a token that is no longer valid.
///
/// Meta's samples show `code`, `message` and `subcode` (`meta.md` §1.6; the key names are
/// UNCONFIRMED there), so `error_subcode`, the spelling of the Graph error envelope, is read
/// too. The codes are those of the Graph error envelope: 190 with subcode 460 for a changed
/// password, 458 for a removed app, 463 for an expired token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DebugTokenError {
    /// `error.code` (190 for an invalid OAuth token).
    pub code: Option<i64>,
    /// `error.subcode` (or `error.error_subcode`).
    pub subcode: Option<i64>,
    /// `error.message`, at most 512 bytes.
    pub message: Option<String>,
}

#[derive(Deserialize)]
struct DebugWire {
    data: DebugData,
}

#[derive(Deserialize)]
struct DebugData {
    #[serde(default)]
    is_valid: bool,
    #[serde(default, rename = "type")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "de::opt_id")]
    app_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_id")]
    user_id: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    data_access_expires_at: Option<i64>,
    #[serde(default)]
    error: Option<DebugErrorWire>,
}

/// Every key optional and loosely typed: an odd `error` never hides the rest of the answer.
#[derive(Deserialize)]
struct DebugErrorWire {
    #[serde(default, deserialize_with = "decode::loose_i64")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "decode::loose_i64")]
    subcode: Option<i64>,
    #[serde(default, deserialize_with = "decode::loose_i64")]
    error_subcode: Option<i64>,
    #[serde(default, deserialize_with = "loose_string")]
    message: Option<String>,
}

impl DebugErrorWire {
    fn into_domain(self) -> DebugTokenError {
        DebugTokenError {
            code: self.code,
            subcode: self.subcode.or(self.error_subcode),
            message: self.message.map(|m| decode::bounded(m, 512)),
        }
    }
}

/// A string, or absent for any other JSON value.
fn loose_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

#[derive(Deserialize)]
struct MeWire {
    #[serde(deserialize_with = "de::id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
}

impl FacebookLogin {
    /// Facebook Login for `product`.
    pub fn new(client: MetaClient, product: MetaProduct) -> Result<Self> {
        let platform = product.platform();
        let dialog = client.dialog_url()?;
        let token = client.graph_url("oauth/access_token")?;
        // PKCE for Facebook Login is documented as "still in testing" (OIDC flow); the classic
        // flow with the app secret is used, the `state` check guarding against CSRF.
        let spec = OAuthSpec::new(platform, client.config().app_id(), dialog, token)
            .with_scope_separator(",")
            .with_pkce(PkceMode::Unsupported);
        Ok(Self {
            client,
            product,
            spec,
        })
    }

    /// The Meta client.
    pub fn client(&self) -> &MetaClient {
        &self.client
    }

    /// Exchanges a valid user token for a long-lived one (`fb_exchange_token`).
    pub async fn exchange_long_lived(&self, token: &AccessToken) -> Result<TokenSet> {
        let c = self.client.config();
        let req = ApiRequest::post(self.client.graph_url("oauth/access_token")?)
            .form(&[
                ("grant_type", "fb_exchange_token"),
                ("client_id", c.app_id.as_str()),
                ("client_secret", c.app_secret.expose_secret()),
                ("fb_exchange_token", token.expose_secret()),
            ])
            .operation("oauth.long_lived_exchange")
            .sensitive_response()
            // Exchanging the same token twice is harmless: it only returns a token.
            .idempotent(true);
        let resp = self.client.call_app(&self.spec.platform, req).await?;
        self.token_set(resp.json()?)
    }

    /// `debug_token` for `token`, asked with the app token.
    pub async fn debug_token(&self, token: &AccessToken) -> Result<TokenInfo> {
        let c = self.client.config();
        let app_token = format!("{}|{}", c.app_id, c.app_secret.expose_secret());
        let req = ApiRequest::get(self.client.graph_url("debug_token")?)
            .query(&[("input_token", token.expose_secret())])
            .bearer(AccessToken::new(app_token))
            .operation("oauth.debug_token")
            .sensitive_response();
        let resp = self.client.call_app(&self.spec.platform, req).await?;
        let d = resp.json::<DebugWire>()?.data;
        let at = |s: i64| DateTime::from_timestamp(s, 0);
        Ok(TokenInfo {
            is_valid: d.is_valid,
            token_type: d.token_type,
            app_id: d.app_id,
            user_id: d.user_id,
            scopes: d
                .scopes
                .into_iter()
                .filter_map(|s| Scope::new(s).ok())
                .collect(),
            expires: match d.expires_at {
                Some(0) => Expiry::Never,
                Some(s) => at(s).map(Expiry::At).unwrap_or(Expiry::Unknown),
                None => Expiry::Unknown,
            },
            data_access_expires_at: d.data_access_expires_at.filter(|s| *s > 0).and_then(at),
            error: d.error.map(DebugErrorWire::into_domain),
        })
    }

    fn token_set(&self, wire: TokenWire) -> Result<TokenSet> {
        let now = Utc::now();
        let mut set = TokenSet::new(
            wire.access_token,
            wire.expires_in
                .map(|s| Expiry::after(now, s))
                .unwrap_or(Expiry::Unknown),
            now,
        );
        if let Some(t) = wire.token_type {
            set.token_type = t.to_ascii_lowercase();
        }
        Ok(set)
    }

    async fn me(&self, tokens: &TokenSet) -> Result<MeWire> {
        let req = ApiRequest::get(self.client.graph_url("me")?)
            .query(&[("fields", "id,name")])
            .operation("oauth.account");
        let req = self.client.authorize(req, &tokens.access_token);
        let resp = self.client.call_app(&self.spec.platform, req).await?;
        resp.json()
    }
}

#[async_trait]
impl Platform for FacebookLogin {
    fn id(&self) -> PlatformId {
        self.spec.platform.clone()
    }

    fn oauth(&self) -> &OAuthSpec {
        &self.spec
    }

    async fn exchange_code(
        &self,
        code: &AuthCode,
        redirect_uri: &Url,
        _verifier: Option<&PkceVerifier>,
    ) -> Result<TokenSet> {
        let c = self.client.config();
        let req = ApiRequest::post(self.client.graph_url("oauth/access_token")?)
            .form(&[
                ("client_id", c.app_id.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("client_secret", c.app_secret.expose_secret()),
                ("code", code.expose_secret()),
            ])
            .operation("oauth.exchange_code")
            .sensitive_response();
        let resp = self.client.call_app(&self.spec.platform, req).await?;
        let short = self.token_set(resp.json()?)?;
        let mut long = self.exchange_long_lived(&short.access_token).await?;
        if let Ok(info) = self.debug_token(&long.access_token).await {
            long.scopes = info.scopes;
            if let Expiry::At(_) | Expiry::Never = info.expires {
                long.access_expires = info.expires;
            }
        }
        Ok(long)
    }

    async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet> {
        if tokens.access_expires.is_past(Utc::now()) {
            // An expired token cannot be exchanged: only a new login helps.
            return Err(Error::reconnect(ReconnectReason::Expired));
        }
        if tokens.access_expires == Expiry::Never {
            return Ok(tokens.clone());
        }
        self.exchange_long_lived(&tokens.access_token).await
    }

    async fn revoke(&self, tokens: &TokenSet) -> Result<Revocation> {
        if self.product == MetaProduct::WhatsApp && tokens.access_expires == Expiry::Never {
            // A system-user token is managed in Business Manager, not revocable by the app.
            return Ok(Revocation::NotOffered);
        }
        let req =
            ApiRequest::delete(self.client.graph_url("me/permissions")?).operation("oauth.revoke");
        let req = self.client.authorize(req, &tokens.access_token);
        self.client.call_app(&self.spec.platform, req).await?;
        Ok(Revocation::Revoked)
    }

    /// Every Meta connection is identified by the app-scoped Facebook user id, the id Meta's
    /// deauthorize and data-deletion callbacks name. For Instagram the display name is the
    /// username of the first Instagram business account linked to the user's Pages (all of
    /// them are listed by [`MetaClient::instagram_accounts`]); connecting fails when there is
    /// none.
    async fn account(&self, tokens: &TokenSet) -> Result<AccountInfo> {
        let me = self.me(tokens).await?;
        match self.product {
            MetaProduct::Facebook | MetaProduct::WhatsApp => Ok(AccountInfo::new(me.id, me.name)),
            MetaProduct::Instagram => {
                let first = crate::accounts::first_instagram_account(
                    &self.client,
                    &self.spec.platform,
                    &tokens.access_token,
                )
                .await?
                .ok_or_else(|| {
                    Error::invalid_input(
                        "no Instagram business account is linked to the user's Facebook Pages",
                    )
                })?;
                Ok(AccountInfo::new(me.id, first.username.or(me.name)))
            }
        }
    }

    fn scopes_for(&self, purpose: Purpose) -> Vec<Scope> {
        let names: &[&str] = match (self.product, purpose) {
            (MetaProduct::Facebook, Purpose::AccountConnection) => &["pages_show_list"],
            (MetaProduct::Facebook, Purpose::Publishing) => {
                &["pages_manage_posts", "pages_read_engagement"]
            }
            (MetaProduct::Facebook, Purpose::ReadingContent) => &[
                "pages_read_engagement",
                "pages_read_user_content",
                "pages_manage_engagement",
            ],
            (MetaProduct::Facebook, Purpose::Analytics) => &["read_insights"],
            (MetaProduct::Instagram, Purpose::AccountConnection) => {
                &["instagram_basic", "pages_show_list"]
            }
            (MetaProduct::Instagram, Purpose::Publishing) => &["instagram_content_publish"],
            (MetaProduct::Instagram, Purpose::ReadingContent) => &["instagram_manage_comments"],
            (MetaProduct::Instagram, Purpose::Analytics) => &["instagram_manage_insights"],
            (MetaProduct::WhatsApp, Purpose::Messaging) => &["whatsapp_business_messaging"],
            (MetaProduct::WhatsApp, Purpose::AccountConnection) => {
                &["whatsapp_business_management"]
            }
            _ => &[],
        };
        names.iter().filter_map(|n| Scope::new(*n).ok()).collect()
    }
}
