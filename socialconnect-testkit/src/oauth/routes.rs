//! The wiremock side: mounts the four endpoints and turns requests into [`Provider`] calls.

use std::sync::Arc;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::provider::{AuthorizeOutcome, Provider};
use crate::sim::Reply;

/// Mounts the authorize, token, revocation and (unless turned off) userinfo endpoints on
/// `server`.
pub(crate) async fn mount(server: &MockServer, provider: &Arc<Provider>) {
    let c = provider.config();
    let routes = [
        ("GET", &c.authorize_path, Endpoint::Authorize),
        ("POST", &c.token_path, Endpoint::Token),
        ("POST", &c.revoke_path, Endpoint::Revoke),
    ];
    let userinfo = c
        .serve_userinfo
        .then_some(("GET", &c.userinfo_path, Endpoint::Userinfo));
    for (verb, route, endpoint) in routes.into_iter().chain(userinfo) {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(Route {
                provider: Arc::clone(provider),
                endpoint,
            })
            .named(format!("OAuthSimulator {endpoint:?}"))
            .mount(server)
            .await;
    }
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Authorize,
    Token,
    Revoke,
    Userinfo,
}

struct Route {
    provider: Arc<Provider>,
    endpoint: Endpoint,
}

impl Respond for Route {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let query =
            || -> Vec<(String, String)> { request.url.query_pairs().into_owned().collect() };
        let form = || -> Vec<(String, String)> {
            url::form_urlencoded::parse(&request.body)
                .into_owned()
                .collect()
        };
        let reply = match self.endpoint {
            Endpoint::Authorize => match self.provider.authorize(&query()) {
                AuthorizeOutcome::Redirect(to) => Reply::redirect(&to),
                AuthorizeOutcome::Reject(e) => Reply::json(
                    400,
                    serde_json::json!({ "error": e.error, "error_description": e.description }),
                ),
            },
            Endpoint::Token => self.provider.token(authorization, &form()),
            Endpoint::Revoke => self.provider.revoke(authorization, &form()),
            Endpoint::Userinfo => self.provider.userinfo(authorization, &query()),
        };
        self.provider.finish(reply).into_template()
    }
}
