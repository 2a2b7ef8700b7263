//! Token sets as SocialConnect keeps them, and their storage codec.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::id::Scope;
use crate::secret::{AccessToken, RefreshToken};

/// When a token stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "at", rename_all = "snake_case")]
pub enum Expiry {
    /// The token does not expire (Meta Page tokens from a long-lived user token, WhatsApp
    /// system-user tokens). It can still be revoked.
    Never,
    /// The token expires at this instant.
    At(DateTime<Utc>),
    /// The platform did not say. Treated as valid until a call fails.
    Unknown,
}

impl Expiry {
    /// An expiry `seconds` after `issued_at`; non-positive or absurd values give `Unknown`.
    pub fn after(issued_at: DateTime<Utc>, seconds: i64) -> Self {
        if seconds <= 0 || seconds > 100 * 365 * 24 * 3600 {
            return Expiry::Unknown;
        }
        Expiry::At(issued_at + Duration::seconds(seconds))
    }

    /// True when the instant has passed at `now`.
    pub fn is_past(&self, now: DateTime<Utc>) -> bool {
        matches!(self, Expiry::At(t) if *t <= now)
    }

    /// True when the token expires within `margin` of `now` (or already has).
    pub fn is_within(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        matches!(self, Expiry::At(t) if *t <= now + margin)
    }
}

/// The credentials of one connection, as returned by a platform's token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token, for platforms that issue one.
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires.
    pub access_expires: Expiry,
    /// When the refresh token expires (`Unknown` when the platform did not say or there is none).
    pub refresh_expires: Expiry,
    /// The scopes the platform reports as granted.
    pub scopes: Vec<Scope>,
    /// The token type, normally `bearer`.
    pub token_type: String,
    /// When the platform issued this set (by our clock).
    pub issued_at: DateTime<Utc>,
    /// The platform's id for the account the token acts as, once known.
    pub account_id: Option<String>,
}

impl TokenSet {
    /// A bearer token set with only an access token.
    pub fn new(
        access_token: AccessToken,
        access_expires: Expiry,
        issued_at: DateTime<Utc>,
    ) -> Self {
        Self {
            access_token,
            refresh_token: None,
            access_expires,
            refresh_expires: Expiry::Unknown,
            scopes: Vec::new(),
            token_type: "bearer".to_owned(),
            issued_at,
            account_id: None,
        }
    }

    /// Sets the refresh token and its expiry.
    pub fn with_refresh(mut self, token: RefreshToken, expires: Expiry) -> Self {
        self.refresh_token = Some(token);
        self.refresh_expires = expires;
        self
    }

    /// Sets the granted scopes.
    pub fn with_scopes(mut self, scopes: Vec<Scope>) -> Self {
        self.scopes = scopes;
        self
    }

    /// Sets the platform account id.
    pub fn with_account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Keeps what a refresh response left out (the refresh rotation rule):
    ///
    /// - a new, non-empty refresh token replaces the previous one, with the new expiry;
    /// - a missing or empty one never overwrites the previous one, which is kept with its
    ///   expiry;
    /// - the same refresh token sent back without a lifetime keeps the previous expiry;
    /// - a response without scopes or account id keeps the old ones.
    pub fn merged_over(mut self, previous: &TokenSet) -> Self {
        match &self.refresh_token {
            Some(new) if !new.expose_secret().is_empty() => {
                if self.refresh_expires == Expiry::Unknown
                    && previous
                        .refresh_token
                        .as_ref()
                        .is_some_and(|old| old.ct_eq(new))
                {
                    self.refresh_expires = previous.refresh_expires;
                }
            }
            _ => {
                self.refresh_token = previous.refresh_token.clone();
                self.refresh_expires = previous.refresh_expires;
            }
        }
        if self.scopes.is_empty() {
            self.scopes = previous.scopes.clone();
        }
        if self.account_id.is_none() {
            self.account_id = previous.account_id.clone();
        }
        self
    }

    /// Serializes for sealing by a store. The bytes hold the secrets in clear and are zeroized
    /// on drop: encrypt them, never log or persist them as they are.
    pub fn to_secret_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let wire = TokenSetWire {
            v: 1,
            access_token: self.access_token.expose_secret(),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose_secret()),
            access_expires: self.access_expires,
            refresh_expires: self.refresh_expires,
            scopes: &self.scopes,
            token_type: &self.token_type,
            issued_at: self.issued_at,
            account_id: self.account_id.as_deref(),
        };
        serde_json::to_vec(&wire)
            .map(Zeroizing::new)
            .map_err(|e| Error::storage("encoding token set", e))
    }

    /// Reads what [`TokenSet::to_secret_bytes`] wrote.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        let wire: TokenSetWireOwned = serde_json::from_slice(bytes)
            .map_err(|_| Error::storage_msg("stored token set is malformed"))?;
        if wire.v != 1 {
            return Err(Error::storage_msg(format!(
                "stored token set has unknown format version {}",
                wire.v
            )));
        }
        Ok(Self {
            access_token: wire.access_token,
            refresh_token: wire.refresh_token,
            access_expires: wire.access_expires,
            refresh_expires: wire.refresh_expires,
            scopes: wire.scopes,
            token_type: wire.token_type,
            issued_at: wire.issued_at,
            account_id: wire.account_id,
        })
    }
}

#[derive(Serialize)]
struct TokenSetWire<'a> {
    v: u8,
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    access_expires: Expiry,
    refresh_expires: Expiry,
    scopes: &'a [Scope],
    token_type: &'a str,
    issued_at: DateTime<Utc>,
    account_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct TokenSetWireOwned {
    v: u8,
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    access_expires: Expiry,
    refresh_expires: Expiry,
    scopes: Vec<Scope>,
    token_type: String,
    issued_at: DateTime<Utc>,
    account_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TokenSet {
        let now = Utc::now();
        TokenSet::new(
            AccessToken::new("acc-SECRET"),
            Expiry::after(now, 3600),
            now,
        )
        .with_refresh(RefreshToken::new("ref-SECRET"), Expiry::Never)
        .with_scopes(Scope::parse_list("a,b"))
        .with_account_id("123")
    }

    #[test]
    fn secret_bytes_round_trip() {
        let t = sample();
        let bytes = t.to_secret_bytes().unwrap();
        let back = TokenSet::from_secret_bytes(&bytes).unwrap();
        assert_eq!(back.access_token.expose_secret(), "acc-SECRET");
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "ref-SECRET");
        assert_eq!(back.access_expires, t.access_expires);
        assert_eq!(back.scopes, t.scopes);
        assert!(TokenSet::from_secret_bytes(b"{not json").is_err());
        let err = TokenSet::from_secret_bytes(br#"{"v":9}"#).unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }

    #[test]
    fn merge_keeps_refresh_token() {
        let old = sample();
        let now = Utc::now();
        let fresh = TokenSet::new(AccessToken::new("new"), Expiry::after(now, 60), now);
        let merged = fresh.merged_over(&old);
        assert_eq!(merged.refresh_token.unwrap().expose_secret(), "ref-SECRET");
        assert_eq!(merged.account_id.as_deref(), Some("123"));
    }

    #[test]
    fn a_new_refresh_token_replaces_the_old_one() {
        let old = sample();
        let now = Utc::now();
        let fresh = TokenSet::new(AccessToken::new("new"), Expiry::after(now, 60), now)
            .with_refresh(RefreshToken::new("rotated"), Expiry::after(now, 86_400));
        let merged = fresh.merged_over(&old);
        assert_eq!(merged.refresh_token.unwrap().expose_secret(), "rotated");
        assert_eq!(merged.refresh_expires, Expiry::after(now, 86_400));
        assert_eq!(merged.access_token.expose_secret(), "new");
    }

    #[test]
    fn an_empty_refresh_token_never_overwrites_the_stored_one() {
        let old = sample();
        let now = Utc::now();
        let fresh = TokenSet::new(AccessToken::new("new"), Expiry::after(now, 60), now)
            .with_refresh(RefreshToken::new(""), Expiry::after(now, 5));
        let merged = fresh.merged_over(&old);
        assert_eq!(merged.refresh_token.unwrap().expose_secret(), "ref-SECRET");
        assert_eq!(merged.refresh_expires, Expiry::Never);
    }

    #[test]
    fn the_same_refresh_token_without_a_lifetime_keeps_its_expiry() {
        let now = Utc::now();
        let old = sample().with_refresh(RefreshToken::new("same"), Expiry::after(now, 1000));
        let fresh = TokenSet::new(AccessToken::new("new"), Expiry::after(now, 60), now)
            .with_refresh(RefreshToken::new("same"), Expiry::Unknown);
        let merged = fresh.merged_over(&old);
        assert_eq!(merged.refresh_expires, Expiry::after(now, 1000));
        // A different token without a lifetime does not inherit the old one's.
        let fresh = TokenSet::new(AccessToken::new("new"), Expiry::after(now, 60), now)
            .with_refresh(RefreshToken::new("other"), Expiry::Unknown);
        assert_eq!(fresh.merged_over(&old).refresh_expires, Expiry::Unknown);
    }

    #[test]
    fn expiry_checks() {
        let now = Utc::now();
        assert!(Expiry::after(now, 10).is_within(now, Duration::minutes(5)));
        assert!(!Expiry::after(now, 3600).is_within(now, Duration::minutes(5)));
        assert!(!Expiry::Never.is_within(now, Duration::days(10_000)));
        assert_eq!(Expiry::after(now, 0), Expiry::Unknown);
        assert!(Expiry::At(now).is_past(now));
    }
}
