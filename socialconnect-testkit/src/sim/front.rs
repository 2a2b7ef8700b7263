//! What a platform simulator built on the kit's [`OAuthSimulator`](crate::OAuthSimulator)
//! exposes the same way: its addresses, the browser step, the unexpected-request checks and the
//! conformance [`Simulator`](crate::conformance::Simulator) implementation, all delegated to
//! the OAuth side it holds in a field named `oauth`. Written once here as a macro so each
//! simulator keeps them as inherent methods.

/// Implements the delegated accessors and `conformance::Simulator` for `$sim` (a struct with
/// a field `oauth: OAuthSimulator`). The conformance refusal of the next refresh is the OAuth
/// side's `invalid_grant` fault, in whatever error format the OAuth side speaks.
macro_rules! oauth_front {
    ($sim:ident) => {
        impl $sim {
            /// The server's root, e.g. `http://127.0.0.1:41234/`: the API base and the
            /// sign-in base alike.
            pub fn base_url(&self) -> ::url::Url {
                self.oauth.base_url()
            }

            /// The authorization page's URL (see the endpoint table).
            pub fn authorize_url(&self) -> ::url::Url {
                self.oauth.authorize_url()
            }

            /// The token endpoint's URL.
            pub fn token_url(&self) -> ::url::Url {
                self.oauth.token_url()
            }

            /// The revocation endpoint's URL.
            pub fn revoke_url(&self) -> ::url::Url {
                self.oauth.revoke_url()
            }

            /// The server, to mount extra mocks. Mocks mounted there take precedence over the
            /// catch-all; one mounted with `with_priority(1)` also overrides a simulator route.
            pub fn server(&self) -> &::wiremock::MockServer {
                self.oauth.server()
            }

            /// The sign-in side, the kit's [`OAuthSimulator`](crate::OAuthSimulator) in this
            /// platform's dialect: its counters,
            /// [`issue_tokens`](crate::OAuthSimulator::issue_tokens) to start from a connected
            /// account, [`fail_token_requests`](crate::OAuthSimulator::fail_token_requests),
            /// the issued tokens.
            pub fn oauth(&self) -> &crate::OAuthSimulator {
                &self.oauth
            }

            /// Plays the browser and the consenting user on `authorize_url` and returns the
            /// `(code, state)` the redirect carries.
            ///
            /// # Panics
            ///
            /// When the request is refused; [`try_authorize`](Self::try_authorize) returns the
            /// refusal.
            #[track_caller]
            pub fn authorize(&self, authorize_url: &::url::Url) -> (String, String) {
                match self.try_authorize(authorize_url) {
                    Ok(grant) => grant,
                    Err(e) => panic!(
                        "{} refused the authorization request: {e}",
                        stringify!($sim)
                    ),
                }
            }

            /// Like [`authorize`](Self::authorize), returning the refusal (`access_denied`
            /// after [`deny_next_authorization`](Self::deny_next_authorization),
            /// `invalid_request`, or `wrong_endpoint` for a URL that is not this simulator's
            /// authorization page).
            pub fn try_authorize(
                &self,
                authorize_url: &::url::Url,
            ) -> Result<(String, String), crate::sim::AuthorizeError> {
                self.oauth.try_authorize(authorize_url)
            }

            /// Makes the next authorization end in `error=access_denied`.
            pub fn deny_next_authorization(&self) {
                self.oauth.deny_next_authorization();
            }

            /// Requests that matched no route and no mock mounted on
            /// [`server`](Self::server).
            pub fn unexpected_requests(&self) -> Vec<crate::UnexpectedRequest> {
                self.oauth.unexpected_requests()
            }

            /// Returns the unexpected requests and forgets them, for tests that send such
            /// requests on purpose.
            pub fn take_unexpected_requests(&self) -> Vec<crate::UnexpectedRequest> {
                self.oauth.take_unexpected_requests()
            }

            /// Panics naming every unexpected request if there was any.
            #[track_caller]
            pub fn assert_no_unexpected(&self) {
                self.oauth.assert_no_unexpected();
            }
        }

        impl crate::conformance::Simulator for $sim {
            fn try_authorize(
                &self,
                authorize_url: &::url::Url,
            ) -> Result<(String, String), crate::sim::AuthorizeError> {
                $sim::try_authorize(self, authorize_url)
            }

            fn deny_next_authorization(&self) {
                $sim::deny_next_authorization(self);
            }

            fn reject_next_refresh(&self) {
                self.oauth
                    .fail_token_requests(crate::TokenFault::InvalidGrant, 1);
            }

            fn code_exchanges(&self) -> usize {
                self.oauth.exchange_requests()
            }

            fn refreshes(&self) -> usize {
                self.oauth.refresh_requests()
            }

            fn revocations(&self) -> usize {
                self.oauth.revocations()
            }

            fn server(&self) -> &::wiremock::MockServer {
                $sim::server(self)
            }
        }
    };
}

pub(crate) use oauth_front;
