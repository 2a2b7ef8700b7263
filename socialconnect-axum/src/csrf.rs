//! CSRF tokens for the server-rendered forms: bound to the signed-in subject, time-limited,
//! and checked in constant time.
//!
//! A token is `<unix seconds>.<nonce hex>.<HMAC-SHA256 hex>` with the MAC over the subject,
//! the time and the nonce under the host's key. Nothing is stored: a token is valid for
//! [`CSRF_TTL`] for the subject it was made for, and useless to anyone else. The forms also
//! rely on `SameSite=Lax` session cookies where the host sets them; the token is the check
//! that does not depend on the browser.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;
use socialconnect_core::id::SubjectId;
use subtle::ConstantTimeEq;

/// How long a form's token stays valid.
pub const CSRF_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(2);

/// The key CSRF tokens are made with (32 random bytes; `Debug` shows nothing of it).
#[derive(Clone)]
pub struct CsrfKey(SecretSlice<u8>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey([REDACTED])")
    }
}

impl CsrfKey {
    /// A fresh random key (tokens then last until the process restarts).
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(SecretSlice::from(bytes.to_vec()))
    }

    /// A key from 32 bytes the host keeps (so tokens survive restarts and work across
    /// processes).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretSlice::from(bytes.to_vec()))
    }

    fn mac(&self, subject: &SubjectId, at: i64, nonce: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(b"socialconnect-csrf\0");
        mac.update(subject.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(at.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(nonce.as_bytes());
        mac
    }

    /// A token for a form shown to `subject` at `now`.
    pub fn token(&self, subject: &SubjectId, now: DateTime<Utc>) -> String {
        let mut nonce = [0u8; 16];
        rand::fill(&mut nonce);
        let nonce = hex::encode(nonce);
        let at = now.timestamp();
        let tag = hex::encode(self.mac(subject, at, &nonce).finalize().into_bytes());
        format!("{at}.{nonce}.{tag}")
    }

    /// Whether `token` was made for `subject` within [`CSRF_TTL`] of `now`.
    pub fn check(&self, subject: &SubjectId, token: &str, now: DateTime<Utc>) -> bool {
        if token.len() > 200 {
            return false;
        }
        let mut parts = token.splitn(3, '.');
        let (Some(at), Some(nonce), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Ok(at) = at.parse::<i64>() else {
            return false;
        };
        let Some(made) = DateTime::<Utc>::from_timestamp(at, 0) else {
            return false;
        };
        if made > now + chrono::TimeDelta::minutes(1) || now - made > CSRF_TTL {
            return false;
        }
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        let expected = self.mac(subject, at, nonce).finalize().into_bytes();
        expected.as_slice().ct_eq(&tag).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(s: &str) -> SubjectId {
        SubjectId::new(s).unwrap()
    }

    #[test]
    fn a_token_is_good_for_its_subject_within_its_lifetime_only() {
        let key = CsrfKey::random();
        // Tokens carry whole seconds.
        let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
        let token = key.token(&subject("alice"), now);
        assert!(key.check(&subject("alice"), &token, now));
        assert!(key.check(&subject("alice"), &token, now + CSRF_TTL));
        assert!(!key.check(
            &subject("alice"),
            &token,
            now + CSRF_TTL + chrono::TimeDelta::seconds(1)
        ));
        assert!(!key.check(&subject("bob"), &token, now));
        assert!(!CsrfKey::random().check(&subject("alice"), &token, now));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let key = CsrfKey::random();
        let now = Utc::now();
        let good = key.token(&subject("alice"), now);
        let mut flipped = good.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        for bad in [
            "",
            "x",
            "1.2",
            "a.b.c",
            &format!("{}.{}", now.timestamp(), "00"),
            &String::from_utf8(flipped).unwrap(),
            &"9".repeat(300),
            &format!(
                "99999999999999999999.{}",
                &good[good.find('.').unwrap() + 1..]
            ),
        ] {
            assert!(!key.check(&subject("alice"), bad, now), "{bad}");
        }
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(
            format!("{:?}", CsrfKey::from_bytes([7; 32])),
            "CsrfKey([REDACTED])"
        );
    }
}
