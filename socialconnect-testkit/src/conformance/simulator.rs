//! What the suite asks of a platform's simulator: play the consent screen, refuse the next
//! refresh, count token and revocation requests, and lend its mock server for faults.

use url::Url;
use wiremock::MockServer;

use crate::oauth::{AuthorizeError, OAuthSimulator, TokenFault};

/// A platform simulator the [conformance suite](super::run) can drive.
///
/// Implemented by [`OAuthSimulator`] (any RFC 6749 platform) and by
/// [`GraphSimulator`](crate::meta::GraphSimulator); a new platform's simulator implements it
/// next to its own definition.
pub trait Simulator: Send + Sync {
    /// Plays the browser and the consenting user on `authorize_url`: the `(code, state)` the
    /// redirect carries, or the refusal (`access_denied` after
    /// [`deny_next_authorization`](Self::deny_next_authorization)).
    fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError>;

    /// Makes the next authorization end in `error=access_denied`.
    fn deny_next_authorization(&self);

    /// Makes the next refresh (a refresh grant, or the platform's equivalent) fail the way the
    /// platform says "this grant is dead" (`invalid_grant`, Meta's error 190…).
    fn reject_next_refresh(&self);

    /// Code-exchange requests received so far, whatever their outcome.
    fn code_exchanges(&self) -> usize;

    /// Refresh requests received so far, whatever their outcome.
    fn refreshes(&self) -> usize;

    /// Revocation requests received so far.
    fn revocations(&self) -> usize;

    /// The mock server the platform's API is served from: the suite mounts its faults there,
    /// above every simulator route.
    fn server(&self) -> &MockServer;
}

impl Simulator for OAuthSimulator {
    fn try_authorize(&self, authorize_url: &Url) -> Result<(String, String), AuthorizeError> {
        OAuthSimulator::try_authorize(self, authorize_url)
    }

    fn deny_next_authorization(&self) {
        OAuthSimulator::deny_next_authorization(self);
    }

    fn reject_next_refresh(&self) {
        self.fail_token_requests(TokenFault::InvalidGrant, 1);
    }

    fn code_exchanges(&self) -> usize {
        self.exchange_requests()
    }

    fn refreshes(&self) -> usize {
        self.refresh_requests()
    }

    fn revocations(&self) -> usize {
        OAuthSimulator::revocations(self)
    }

    fn server(&self) -> &MockServer {
        OAuthSimulator::server(self)
    }
}
