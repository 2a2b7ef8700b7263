//! The one wiremock mock a platform simulator mounts for its API: a matcher that accepts
//! exactly the requests the platform's route table parses (anything else falls through to the
//! OAuth endpoints or the catch-all) and a responder that hands each to the platform.

use std::marker::PhantomData;
use std::sync::Arc;

use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use super::Reply;

/// A platform's API routes: how a request maps to a route, and how the platform answers it.
pub(crate) trait RouteTable: Send + Sync + 'static {
    /// What a request asks for.
    type Route;

    /// The route of `method path`, or `None` for a request the platform does not serve.
    fn route(method: &str, path: &str) -> Option<Self::Route>;

    /// The answer to `request`, already parsed into `route`.
    fn answer(&self, route: Self::Route, request: &Request) -> Reply;
}

/// Mounts `api`'s routes on `server` as one mock named `name`.
pub(crate) async fn mount_routes<A: RouteTable>(server: &MockServer, name: &str, api: &Arc<A>) {
    Mock::given(Matcher::<A>(PhantomData))
        .respond_with(Responder {
            api: Arc::clone(api),
        })
        .named(name)
        .mount(server)
        .await;
}

/// `fn() -> A` keeps the matcher `Send + Sync` whatever `A` holds.
struct Matcher<A>(PhantomData<fn() -> A>);

impl<A: RouteTable> Match for Matcher<A> {
    fn matches(&self, request: &Request) -> bool {
        A::route(request.method.as_str(), request.url.path()).is_some()
    }
}

struct Responder<A> {
    api: Arc<A>,
}

impl<A: RouteTable> Respond for Responder<A> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match A::route(request.method.as_str(), request.url.path()) {
            Some(route) => self.api.answer(route, request).into_template(),
            // The matcher let only parseable routes through.
            None => ResponseTemplate::new(crate::catch_all::UNEXPECTED_STATUS),
        }
    }
}

/// The value of header `name` on `request`, when it is text.
pub(crate) fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}
