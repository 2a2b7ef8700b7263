//! Secret values: tokens, client secrets, PKCE verifiers, authorization codes.
//!
//! Each is a newtype over [`secrecy::SecretString`]: its `Debug` prints only the type name, it has
//! no `Display` and no `Serialize`, it is zeroized on drop, and the value is reached only through an
//! explicit, greppable `expose_secret()`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret itself. Every call site is a place where the secret leaves its box.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// Compares two values in constant time.
            pub fn ct_eq(&self, other: &Self) -> bool {
                self.expose_secret()
                    .as_bytes()
                    .ct_eq(other.expose_secret().as_bytes())
                    .into()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::new)
            }
        }
    };
}

secret_string!(
    /// An OAuth access token (user, page or system-user token).
    AccessToken
);
secret_string!(
    /// An OAuth refresh token.
    RefreshToken
);
secret_string!(
    /// An OAuth client secret (Meta calls it the app secret).
    ClientSecret
);
secret_string!(
    /// A PKCE code verifier (RFC 7636), kept server-side between authorize and exchange.
    PkceVerifier
);
secret_string!(
    /// An authorization code returned to the redirect URI.
    AuthCode
);
secret_string!(
    /// The OAuth `state` value handed to the browser. Stored only as a hash.
    StateToken
);
secret_string!(
    /// A shared secret used to verify inbound webhooks (HMAC key or verify token).
    WebhookSecret
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_comparison_works() {
        let a = AccessToken::new("EAAB-very-secret");
        assert_eq!(format!("{a:?}"), "AccessToken([REDACTED])");
        assert_eq!(format!("{a:#?}"), "AccessToken([REDACTED])");
        assert!(a.ct_eq(&AccessToken::new("EAAB-very-secret")));
        assert!(!a.ct_eq(&AccessToken::new("other")));
        let parsed: RefreshToken = serde_json::from_str("\"r-1\"").unwrap();
        assert_eq!(parsed.expose_secret(), "r-1");
    }
}
