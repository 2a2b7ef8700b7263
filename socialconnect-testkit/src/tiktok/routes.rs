//! The wiremock side: one mock whose matcher accepts exactly the TikTok API and upload routes
//! (anything else falls through to the OAuth endpoints or the catch-all), and whose responder
//! records the call, applies a queued fault, checks the bearer token and dispatches.

use std::sync::Arc;

use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use super::request::{Call, Route};
use super::state::{Api, Cx, PostMode, Recorded};
use super::{display, posting, upload, wire};
use crate::catch_all::UNEXPECTED_STATUS;
use crate::sim::{self, Reply};

/// Mounts the API and upload routes on `server`.
pub(crate) async fn mount(server: &MockServer, api: &Arc<Api>) {
    Mock::given(Routes)
        .respond_with(Responder {
            api: Arc::clone(api),
        })
        .named("TikTokSimulator")
        .mount(server)
        .await;
}

struct Routes;

impl Match for Routes {
    fn matches(&self, request: &Request) -> bool {
        Route::parse(request.method.as_str(), request.url.path()).is_some()
    }
}

struct Responder {
    api: Arc<Api>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let Some(route) = Route::parse(request.method.as_str(), &path) else {
            // The matcher let only parseable routes through.
            return ResponseTemplate::new(UNEXPECTED_STATUS);
        };
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        let bearer = header("authorization")
            .and_then(sim::bearer_token)
            .map(str::to_owned);
        let call = Call {
            route,
            path,
            query: request.url.query_pairs().into_owned().collect(),
            body: &request.body,
            bearer,
            content_range: header("content-range"),
            content_type: header("content-type"),
        };
        handle(&self.api, &call).into_template()
    }
}

/// Answers one call: records it, applies a queued fault, checks the token (the upload URL
/// takes none), else dispatches.
fn handle(api: &Api, call: &Call<'_>) -> Reply {
    let now = api.now();
    let mut st = api.lock();
    let is_upload = matches!(call.route, Route::Upload(_));
    st.requests.push(Recorded {
        path: call.path.clone(),
        // An upload chunk is not JSON and may be large: never kept.
        json: if is_upload {
            None
        } else {
            call.json().ok().flatten()
        },
    });
    if let Some(fault) = st.faults.take(&call.path) {
        return wire::error_with_status(&fault.code, fault.status, "simulated TikTok error");
    }
    let scopes = if is_upload {
        Vec::new()
    } else {
        // The OAuth provider's lock is taken inside this one, never the other way round, so
        // the two cannot deadlock.
        let scopes = call.bearer.as_deref().and_then(|t| (api.scopes)(t));
        match scopes {
            Some(s) => s,
            None => {
                return wire::error(
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                );
            }
        }
    };
    let mut cx = Cx {
        cfg: &api.config,
        base: &api.base,
        st: &mut st,
        now,
        call,
        scopes,
    };
    match &call.route {
        Route::UserInfo => display::user_info(&mut cx),
        Route::VideoList => display::video_list(&mut cx),
        Route::VideoQuery => display::video_query(&mut cx),
        Route::CreatorInfo => posting::creator_info(&mut cx),
        Route::DirectVideoInit => posting::video_init(&mut cx, PostMode::Direct),
        Route::InboxVideoInit => posting::video_init(&mut cx, PostMode::Inbox),
        Route::ContentInit => posting::content_init(&mut cx),
        Route::StatusFetch => posting::status(&mut cx),
        Route::Upload(id) => upload::put(&mut cx, id),
    }
}
