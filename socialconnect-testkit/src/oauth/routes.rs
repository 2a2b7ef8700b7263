//! The wiremock side: mounts the four endpoints and turns requests into [`Provider`] calls.

use std::sync::Arc;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::provider::{AuthorizeOutcome, Provider, Reply, ReplyBody};

/// Mounts the authorize, token, revocation and userinfo endpoints on `server`.
pub(crate) async fn mount(server: &MockServer, provider: &Arc<Provider>) {
    let c = provider.config();
    let routes: [(&str, &str, Endpoint); 4] = [
        ("GET", &c.authorize_path, Endpoint::Authorize),
        ("POST", &c.token_path, Endpoint::Token),
        ("POST", &c.revoke_path, Endpoint::Revoke),
        ("GET", &c.userinfo_path, Endpoint::Userinfo),
    ];
    for (verb, route, endpoint) in routes {
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
                AuthorizeOutcome::Redirect(to) => {
                    return ResponseTemplate::new(302).insert_header("location", to.as_str());
                }
                AuthorizeOutcome::Reject(e) => {
                    return ResponseTemplate::new(400).set_body_json(serde_json::json!({
                        "error": e.error,
                        "error_description": e.description,
                    }));
                }
            },
            Endpoint::Token => self.provider.token(authorization, &form()),
            Endpoint::Revoke => self.provider.revoke(authorization, &form()),
            Endpoint::Userinfo => self.provider.userinfo(authorization, &query()),
        };
        into_template(reply)
    }
}

fn into_template(reply: Reply) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(reply.status);
    template = match reply.body {
        ReplyBody::Empty => template,
        ReplyBody::Json(value) => template.set_body_json(value),
        ReplyBody::Text(mime, text) => template.set_body_raw(text, mime),
    };
    for (name, value) in reply.headers {
        template = template.insert_header(name, value.as_str());
    }
    if let Some(delay) = reply.delay {
        template = template.set_delay(delay);
    }
    template
}
