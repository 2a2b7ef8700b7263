//! Who is signed in: the host's own authentication, asked through [`EndUsers`].

use async_trait::async_trait;
use http::request::Parts;
use socialconnect_core::id::SubjectId;

/// The host's answer to "which end user sent this request".
///
/// The routes never authenticate end users themselves: the connect, callback and privacy-page
/// routes ask the host, which reads its own session cookie or token. A request without a
/// signed-in user is sent to [`EndUsers::sign_in_url`].
#[async_trait]
pub trait EndUsers: Send + Sync + 'static {
    /// The signed-in end user of this request, or `None`.
    async fn signed_in(&self, request: &Parts) -> Option<SubjectId>;

    /// Where to send a visitor who is not signed in; `next` is the path to come back to.
    fn sign_in_url(&self, next: &str) -> String;
}
