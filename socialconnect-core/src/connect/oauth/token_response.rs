//! Token endpoint responses, read leniently, and turned into [`TokenSet`]s.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::{Error, PlatformError, ReconnectReason};
use crate::id::{PlatformId, Scope};
use crate::secret::{AccessToken, RefreshToken};
use crate::token::{Expiry, TokenSet};

/// A number that some platforms send as a string (`"expires_in": "3600"`) or with a fraction
/// (`3599.0`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(crate) enum LooseInt {
    Int(i64),
    Float(f64),
    Text(#[serde(deserialize_with = "parse_int_text")] i64),
}

impl serde::Serialize for LooseInt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.get())
    }
}

fn parse_int_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = String::deserialize(d)?;
    s.trim().parse().map_err(serde::de::Error::custom)
}

impl LooseInt {
    pub(crate) fn get(self) -> i64 {
        match self {
            LooseInt::Int(i) | LooseInt::Text(i) => i,
            // Out-of-range and non-finite values saturate or give 0; `Expiry::after` turns
            // those into `Unknown`.
            // `as` truncates to whole seconds, which is the intent.
            LooseInt::Float(f) => f as i64,
        }
    }
}

/// A token endpoint's success (or error) body, covering RFC 6749 and the common deviations:
/// missing `token_type` (LinkedIn), `refresh_token_expires_in` (LinkedIn) or
/// `refresh_expires_in` (TikTok), `open_id` (TikTok), an error with HTTP 200.
///
/// Normalisation: a missing `expires_in` gives [`Expiry::Unknown`]; `expires_in` and the
/// refresh token's lifetime are remaining seconds (numbers, numeric strings or fractions);
/// `token_type` is lowercased and defaults to `bearer`; an empty `refresh_token` counts as none,
/// so it never replaces a stored one; unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponseBody {
    pub access_token: Option<AccessToken>,
    pub token_type: Option<String>,
    pub expires_in: Option<LooseInt>,
    pub refresh_token: Option<RefreshToken>,
    #[serde(alias = "refresh_expires_in")]
    pub refresh_token_expires_in: Option<LooseInt>,
    pub scope: Option<String>,
    pub open_id: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub log_id: Option<String>,
}

impl TokenResponseBody {
    /// The token set, or the error the body carries.
    pub(crate) fn into_token_set(
        self,
        platform: &PlatformId,
        grant: Grant,
        status: u16,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, Error> {
        if self.error.is_some() || self.access_token.is_none() {
            return Err(oauth_error(
                platform,
                grant,
                status,
                self.error.as_deref().unwrap_or("missing_access_token"),
                self.error_description.as_deref(),
                self.log_id.as_deref(),
            ));
        }
        let access = self
            .access_token
            .filter(|a| !a.expose_secret().is_empty())
            .ok_or_else(|| {
                Error::Platform(Box::new(
                    PlatformError::new(
                        Some(platform.clone()),
                        "the token endpoint returned an empty access_token",
                    )
                    .with_status(status),
                ))
            })?;
        let mut set = TokenSet::new(
            access,
            self.expires_in
                .map(|e| Expiry::after(now, e.get()))
                .unwrap_or(Expiry::Unknown),
            now,
        );
        if let Some(t) = self.token_type.filter(|t| !t.trim().is_empty()) {
            set.token_type = crate::error::bounded(t.trim().to_ascii_lowercase(), 32);
        }
        if let Some(r) = self.refresh_token.filter(|r| !r.expose_secret().is_empty()) {
            let exp = self
                .refresh_token_expires_in
                .map(|e| Expiry::after(now, e.get()))
                .unwrap_or(Expiry::Unknown);
            set = set.with_refresh(r, exp);
        }
        if let Some(scope) = self.scope {
            set.scopes = Scope::parse_list(&scope);
        }
        set.account_id = self.open_id;
        Ok(set)
    }
}

/// Which OAuth step an error answered: the same code means different things in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// The authorization callback (RFC 6749 §4.1.2.1).
    Authorize,
    /// The code exchange.
    Code,
    /// A refresh grant.
    Refresh,
    /// A revocation request.
    Revoke,
}

/// Maps an RFC 6749 §5.2 (or §4.1.2.1) error code to an error kind.
///
/// `invalid_grant` is [`ReconnectReason::CodeRejected`] on a code exchange and
/// [`ReconnectReason::InvalidGrant`] otherwise; `invalid_client` / `unauthorized_client` are
/// [`Error::ClientRejected`] (kind `Config`) with the platform's code and the real HTTP status;
/// `access_denied` is [`Error::AuthorizationDenied`].
pub(crate) fn oauth_error(
    platform: &PlatformId,
    grant: Grant,
    status: u16,
    code: &str,
    description: Option<&str>,
    trace_id: Option<&str>,
) -> Error {
    let mut detail = PlatformError::new(
        Some(platform.clone()),
        description.unwrap_or(code).to_owned(),
    )
    .with_status(status)
    .with_type(code);
    if let Some(t) = trace_id {
        detail = detail.with_trace_id(t);
    }
    classify(grant, code, detail)
}

/// The error for OAuth error `code` answering `grant`, carrying `detail`.
pub(crate) fn classify(grant: Grant, code: &str, detail: PlatformError) -> Error {
    let detail = Box::new(detail);
    match code {
        "invalid_grant" => Error::ReconnectRequired {
            reason: match grant {
                Grant::Code => ReconnectReason::CodeRejected,
                Grant::Authorize | Grant::Refresh | Grant::Revoke => ReconnectReason::InvalidGrant,
            },
            platform: Some(detail),
        },
        "invalid_client" | "unauthorized_client" => Error::ClientRejected(detail),
        "access_denied" => Error::AuthorizationDenied(detail),
        "invalid_scope" => Error::MissingScopes {
            missing: Vec::new(),
            platform: Some(detail),
        },
        "invalid_request" | "unsupported_grant_type" | "unsupported_response_type" => {
            Error::InvalidInput {
                message: detail.message.clone(),
                platform: Some(detail),
            }
        }
        "temporarily_unavailable" | "server_error" => Error::Transient {
            message: detail.message.clone(),
            platform: Some(detail),
        },
        "slow_down" => Error::Throttled {
            retry_after: None,
            platform: Some(detail),
        },
        _ => Error::Platform(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<TokenSet, Error> {
        let b: TokenResponseBody = serde_json::from_str(body).unwrap();
        b.into_token_set(&PlatformId::LINKEDIN, Grant::Refresh, 200, Utc::now())
    }

    #[test]
    fn lenient_shapes() {
        let t = parse(r#"{"access_token":"a","expires_in":"3600","refresh_token":"r","refresh_token_expires_in":525600,"scope":"r_liteprofile,w_member_social"}"#).unwrap();
        assert_eq!(t.scopes.len(), 2);
        assert!(matches!(t.access_expires, Expiry::At(_)));
        assert!(matches!(t.refresh_expires, Expiry::At(_)));
        assert_eq!(t.token_type, "bearer");
        let t = parse(r#"{"access_token":"a","refresh_token":""}"#).unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.access_expires, Expiry::Unknown);
    }

    #[test]
    fn errors_in_200_bodies() {
        let e = parse(r#"{"error":"invalid_grant","error_description":"expired","log_id":"L1"}"#)
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::ReconnectRequired);
        assert_eq!(e.platform_error().unwrap().trace_id.as_deref(), Some("L1"));
        assert_eq!(parse("{}").unwrap_err().kind(), crate::ErrorKind::Platform);
    }
}
