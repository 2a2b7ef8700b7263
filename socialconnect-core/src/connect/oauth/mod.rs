//! The OAuth engine: authorize URLs with PKCE and single-use state, code exchange, refresh and
//! revocation, generic over a platform's [`crate::platform::OAuthSpec`].

mod authorize;
mod client;
mod pkce;
mod standard;
mod token_response;

pub use authorize::authorize_url;
pub use client::OAuthClient;
pub use pkce::{challenge_s256, new_state, new_verifier, state_hash};
pub use standard::StandardPlatform;
