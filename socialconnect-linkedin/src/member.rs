//! The member behind a token: OIDC `userinfo` (typed, with `locale` read in either of its
//! shapes) and token introspection (`/oauth/v2/introspectToken`, scopes comma-separated).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::id::{PlatformId, Scope};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::{Error, Result, Session};

use crate::client::LinkedInClient;
use crate::urn::Urn;

/// A member's language and country. LinkedIn's docs show `locale` as a string (`"en_US"`); it
/// is also reported as the object `{country, language}` (UNCONFIRMED which): both are read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Locale {
    /// The language (`en`).
    pub language: String,
    /// The country (`US`), when given.
    pub country: Option<String>,
}

/// What `userinfo` says about the member (the fields of the scopes granted: `openid`,
/// `profile`, `email`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberInfo {
    /// The member as a person URN, `urn:li:person:{sub}`: the author of their posts.
    pub person: Urn,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Profile picture URL.
    pub picture: Option<String>,
    /// Email address (with the `email` scope).
    pub email: Option<String>,
    /// Whether LinkedIn verified the email.
    pub email_verified: Option<bool>,
    /// Language and country.
    pub locale: Option<Locale>,
}

#[derive(Deserialize)]
struct UserInfoWire {
    #[serde(deserialize_with = "decode::bounded_string::<_, 128>")]
    sub: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    name: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    given_name: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    picture: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 320>")]
    email: Option<String>,
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    email_verified: Option<bool>,
    #[serde(default)]
    locale: Option<LocaleWire>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LocaleWire {
    Text(#[serde(deserialize_with = "decode::bounded_string::<_, 64>")] String),
    Parts {
        #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 16>")]
        language: Option<String>,
        #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 16>")]
        country: Option<String>,
    },
}

impl LocaleWire {
    fn into_locale(self) -> Option<Locale> {
        let (language, country) = match self {
            // `en_US`, `en-US`, or a bare `en`.
            LocaleWire::Text(text) => match text.split_once(['_', '-']) {
                Some((l, c)) => (l.to_owned(), Some(c.to_owned())),
                None => (text, None),
            },
            LocaleWire::Parts { language, country } => (language?, country),
        };
        let country = country.filter(|c| !c.is_empty());
        (!language.is_empty()).then_some(Locale { language, country })
    }
}

/// What introspection says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenIntrospection {
    /// Whether the token is active.
    pub active: bool,
    /// LinkedIn's status for it (`active`, `expired`, `revoked`), when given.
    pub status: Option<String>,
    /// The scopes granted (LinkedIn sends them comma-separated).
    pub scopes: Vec<Scope>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the member authorized the app.
    pub authorized_at: Option<DateTime<Utc>>,
    /// When the token was created.
    pub created_at: Option<DateTime<Utc>>,
    /// `2L`, `3L` or `Enterprise_User`.
    pub auth_type: Option<String>,
    /// The app the token belongs to.
    pub client_id: Option<String>,
}

#[derive(Deserialize)]
struct IntrospectionWire {
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 32>")]
    status: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 8192>")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_unix_seconds")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "decode::opt_unix_seconds")]
    authorized_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "decode::opt_unix_seconds")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 32>")]
    auth_type: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 128>")]
    client_id: Option<String>,
}

impl LinkedInClient {
    /// The member behind the session, from OIDC `userinfo`.
    pub async fn userinfo(&self, session: &Session) -> Result<MemberInfo> {
        let url = self
            .config()
            .api_base
            .join("v2/userinfo")
            .map_err(|_| Error::config("LinkedIn API base URL cannot take a path"))?;
        let req = socialconnect_core::http::ApiRequest::new(http::Method::GET, url)
            .operation("member.userinfo");
        let wire: UserInfoWire = self.caller().send_json(session, req).await?;
        parse_userinfo(wire)
    }

    /// Asks LinkedIn about `token` (an app-level call with the client id and secret; not in
    /// any member's usage log).
    pub async fn introspect_token(&self, token: &AccessToken) -> Result<TokenIntrospection> {
        let c = self.config();
        let url = c
            .auth_base
            .join("oauth/v2/introspectToken")
            .map_err(|_| Error::config("LinkedIn auth base URL cannot take a path"))?;
        let req = socialconnect_core::http::ApiRequest::new(http::Method::POST, url)
            .form(&[
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.client_secret.expose_secret()),
                ("token", token.expose_secret()),
            ])
            .app(c.client_id.clone())
            .sensitive_response()
            .operation("oauth.introspect");
        let resp = self
            .caller()
            .send_app(self.http(), &PlatformId::LINKEDIN, req)
            .await?;
        let wire: IntrospectionWire = resp.json()?;
        Ok(TokenIntrospection {
            active: wire.active.unwrap_or(false),
            status: wire.status,
            scopes: wire
                .scope
                .as_deref()
                .map(Scope::parse_list)
                .unwrap_or_default(),
            expires_at: wire.expires_at,
            authorized_at: wire.authorized_at,
            created_at: wire.created_at,
            auth_type: wire.auth_type,
            client_id: wire.client_id,
        })
    }
}

fn parse_userinfo(wire: UserInfoWire) -> Result<MemberInfo> {
    Ok(MemberInfo {
        person: Urn::person(&wire.sub)?,
        name: wire.name,
        given_name: wire.given_name,
        family_name: wire.family_name,
        picture: wire.picture,
        email: wire.email,
        email_verified: wire.email_verified,
        locale: wire.locale.and_then(LocaleWire::into_locale),
    })
}

/// Parses a `userinfo` body, for tests and fuzzing.
///
/// # Errors
///
/// `Decode` for a malformed body, `InvalidInput` for a `sub` that makes no URN.
pub fn parse_userinfo_body(body: &[u8]) -> Result<MemberInfo> {
    parse_userinfo(Error::decode_json(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(json: &str) -> Option<Locale> {
        parse_userinfo_body(format!(r#"{{"sub":"abc","locale":{json}}}"#).as_bytes())
            .unwrap()
            .locale
    }

    #[test]
    fn locale_reads_as_a_string_or_an_object() {
        let us = Some(Locale {
            language: "en".into(),
            country: Some("US".into()),
        });
        assert_eq!(locale(r#""en_US""#), us);
        assert_eq!(locale(r#""en-US""#), us);
        assert_eq!(locale(r#"{"country":"US","language":"en"}"#), us);
        assert_eq!(
            locale(r#""de""#),
            Some(Locale {
                language: "de".into(),
                country: None
            })
        );
        assert_eq!(locale(r#"{"country":"US"}"#), None);
        assert_eq!(locale(r#""""#), None);
        assert_eq!(locale("null"), None);
        assert!(parse_userinfo_body(br#"{"sub":"abc","locale":7}"#).is_err());
    }

    #[test]
    fn the_member_is_a_person_urn_from_sub() {
        let m = parse_userinfo_body(
            br#"{"sub":"782bbtaQ","name":"Ada Lovelace","email_verified":true,"picture":"https://media.licdn.com/x"}"#,
        )
        .unwrap();
        assert_eq!(m.person.as_str(), "urn:li:person:782bbtaQ");
        assert_eq!(m.email_verified, Some(true));
        assert!(parse_userinfo_body(br#"{"name":"no sub"}"#).is_err());
        assert!(parse_userinfo_body(b"<html>").is_err());
    }
}
