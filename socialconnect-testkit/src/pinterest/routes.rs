//! The wiremock side: the Pinterest route table on the kit's one-mock mount. Each answer
//! records the call, applies a queued fault, checks the bearer token (the S3-style upload URL
//! takes none), dispatches, and carries a fresh `x-pinterest-rid`.

use std::sync::Arc;

use wiremock::{MockServer, Request};

use super::request::{Call, Route};
use super::state::{Api, Cx, Recorded};
use super::{account, analytics, boards, media, pins, wire};
use crate::oauth::TokenState;
use crate::sim::{self, Reply, RouteTable};

/// Mounts the API and upload routes on `server`.
pub(crate) async fn mount(server: &MockServer, api: &Arc<Api>) {
    sim::mount_routes(server, "PinterestSimulator", api).await;
}

impl RouteTable for Api {
    type Route = Route;

    fn route(method: &str, path: &str) -> Option<Route> {
        Route::parse(method, path)
    }

    fn answer(&self, route: Route, request: &Request) -> Reply {
        let call = Call {
            route,
            path: request.url.path().to_owned(),
            query: request.url.query_pairs().into_owned().collect(),
            body: &request.body,
            authorization: sim::header(request, "authorization").map(str::to_owned),
            content_type: sim::header(request, "content-type").map(str::to_owned),
        };
        handle(self, &call).header(wire::REQUEST_ID_HEADER, wire::request_id())
    }
}

/// Answers one call.
fn handle(api: &Api, call: &Call<'_>) -> Reply {
    let now = api.now();
    let mut st = api.lock();
    let upload = matches!(call.route, Route::Upload(_));
    st.requests.push(Recorded {
        path: call.path.clone(),
        // An upload is a multipart file, not JSON, and may be large: never kept.
        json: if upload {
            None
        } else {
            call.json().ok().flatten()
        },
    });
    if let Some(reply) = st.faults.take(&call.path) {
        return reply;
    }
    let scopes = if upload {
        Vec::new()
    } else {
        // The OAuth provider's lock is taken inside this one, never the other way round.
        match call.bearer().map(|t| (api.tokens)(t)) {
            Some(TokenState::Active(scopes)) => scopes,
            _ => return wire::auth_failed(),
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
    let result = match &call.route {
        Route::UserAccount => account::get(&cx),
        Route::AccountAnalytics => analytics::account(&cx),
        Route::ListBoards => boards::list(&mut cx),
        Route::CreateBoard => boards::create(&mut cx),
        Route::GetBoard(id) => boards::get(&cx, id),
        Route::UpdateBoard(id) => boards::update(&mut cx, id),
        Route::DeleteBoard(id) => boards::delete(&mut cx, id),
        Route::ListSections(id) => boards::sections(&mut cx, id),
        Route::CreateSection(id) => boards::create_section(&mut cx, id),
        Route::BoardPins(id) => pins::on_board(&mut cx, id),
        Route::CreatePin => pins::create(&mut cx),
        Route::GetPin(id) => pins::get(&cx, id),
        Route::DeletePin(id) => pins::delete(&mut cx, id),
        Route::PinAnalytics(id) => analytics::pin(&cx, id),
        Route::CreateMedia => media::register(&mut cx),
        Route::GetMedia(id) => media::status(&mut cx, id),
        Route::Upload(id) => media::upload(&mut cx, id),
    };
    result.unwrap_or_else(|reply| reply)
}
