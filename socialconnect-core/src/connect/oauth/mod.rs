//! The OAuth engine: authorize URLs with PKCE and single-use state, the authorization callback,
//! code exchange, refresh and revocation, generic over a platform's
//! [`crate::platform::OAuthSpec`].

mod authorize;
mod callback;
mod client;
mod pkce;
mod standard;
mod token_response;

pub use authorize::{
    RESERVED_AUTHORIZE_PARAMS, authorize_url, authorize_url_with, check_authorize_params,
};
pub use callback::{Callback, MAX_CALLBACK_LEN};
pub use client::{OAuthClient, TokenErrorReader, TokenStep};
pub use pkce::{challenge_s256, new_state, new_verifier, state_hash};
pub use standard::{GrantEnd, RevokeToken, StandardPlatform};
