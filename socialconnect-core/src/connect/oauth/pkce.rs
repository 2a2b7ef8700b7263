//! PKCE (RFC 7636) with the S256 method, and the random `state` value.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::secret::{PkceVerifier, StateToken};

/// A fresh PKCE verifier: 32 random bytes, base64url (43 characters, within RFC 7636's 43-128).
pub fn new_verifier() -> PkceVerifier {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    PkceVerifier::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge for a verifier: `BASE64URL(SHA256(verifier))`.
pub fn challenge_s256(verifier: &PkceVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose_secret().as_bytes()))
}

/// A fresh `state`: 256 random bits, base64url.
pub fn new_state() -> StateToken {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    StateToken::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a state value: what the pending-state store is keyed by.
pub fn state_hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            challenge_s256(&v),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn fresh_values_are_long_and_distinct() {
        let a = new_verifier();
        let b = new_verifier();
        assert_eq!(a.expose_secret().len(), 43);
        assert!(!a.ct_eq(&b));
        assert!(new_state().expose_secret().len() >= 22); // >= 128 bits
    }
}
