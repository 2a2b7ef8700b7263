//! The wiremock side: one mock whose matcher accepts exactly the LinkedIn REST and upload
//! routes (anything else falls through to the OAuth endpoints or the catch-all), and whose
//! responder records the call, applies a queued fault, checks the version headers and the
//! bearer token, and dispatches.

use std::sync::Arc;

use chrono::Datelike;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use super::request::{Call, Route};
use super::state::{Api, Cx, Recorded};
use super::{comments, images, organizations, posts, statistics, videos, wire};
use crate::catch_all::UNEXPECTED_STATUS;
use crate::oauth::TokenState;
use crate::sim::{self, Reply};

/// Mounts the REST and upload routes on `server`.
pub(crate) async fn mount(server: &MockServer, api: &Arc<Api>) {
    Mock::given(Routes)
        .respond_with(Responder {
            api: Arc::clone(api),
        })
        .named("LinkedInSimulator")
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
        let method = request.method.as_str().to_owned();
        let Some(route) = Route::parse(&method, &path) else {
            // The matcher let only parseable routes through.
            return ResponseTemplate::new(UNEXPECTED_STATUS);
        };
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let call = Call {
            route,
            path,
            raw_query: request.url.query().map(str::to_owned),
            query: request.url.query_pairs().into_owned().collect(),
            body: &request.body,
            bearer: header("authorization")
                .as_deref()
                .and_then(sim::bearer_token)
                .map(str::to_owned),
            version: header("linkedin-version"),
            protocol: header("x-restli-protocol-version"),
        };
        handle(&self.api, &call).into_template()
    }
}

/// Answers one call: records it, applies a queued fault, checks the version headers (on
/// `/rest/*`) and the token, else dispatches.
fn handle(api: &Api, call: &Call<'_>) -> Reply {
    let now = api.now();
    let mut st = api.lock();
    let upload = !call.route.is_rest();
    st.requests.push(Recorded {
        path: call.path.clone(),
        // Upload bodies are media, not JSON, and may be large: never kept.
        json: if upload {
            None
        } else {
            call.json().ok().flatten()
        },
    });
    if let Some(reply) = st.faults.take(&call.path) {
        return reply;
    }
    let version = if upload {
        String::new()
    } else {
        match check_version(api, call, now) {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
    // Image uploads carry the member's token, as LinkedIn's docs show; video part URLs are
    // pre-signed and take none.
    let scopes = if matches!(call.route, Route::UploadVideoPart(..)) {
        Vec::new()
    } else {
        // The OAuth provider's lock is taken inside this one, never the other way round, so
        // the two cannot deadlock.
        match call.bearer.as_deref().map(|t| (api.tokens)(t)) {
            Some(TokenState::Active(scopes)) => scopes,
            Some(TokenState::Expired) => {
                return wire::token_error(
                    "EXPIRED_ACCESS_TOKEN",
                    "The token used in the request has expired",
                );
            }
            Some(TokenState::Revoked) => {
                return wire::token_error(
                    "REVOKED_ACCESS_TOKEN",
                    "The token used in the request has been revoked by the user",
                );
            }
            Some(TokenState::Unknown) | None => {
                return wire::token_error("INVALID_ACCESS_TOKEN", "Invalid access token");
            }
        }
    };
    let mut cx = Cx {
        cfg: &api.config,
        base: &api.base,
        st: &mut st,
        now,
        call,
        member: format!("urn:li:person:{}", api.config.member_sub),
        scopes,
        version,
    };
    match &call.route {
        Route::CreatePost => posts::create(&mut cx),
        Route::DeletePost(urn) => posts::delete(&mut cx, urn),
        Route::ImageAction => images::action(&mut cx),
        Route::GetImage(urn) => images::get(&mut cx, urn),
        Route::UploadImage(id) => images::upload(&mut cx, id),
        Route::VideoAction => videos::action(&mut cx),
        Route::GetVideo(urn) => videos::get(&mut cx, urn),
        Route::UploadVideoPart(id, part) => videos::upload_part(&mut cx, id, *part),
        Route::OrganizationAcls => organizations::acls(&mut cx),
        Route::ShareStatistics => statistics::shares(&mut cx),
        Route::FollowerStatistics => statistics::followers(&mut cx),
        Route::NetworkSize(urn) => statistics::network_size(&mut cx, urn),
        Route::ListComments(urn) => comments::list(&mut cx, urn),
        Route::CreateComment(urn) => comments::create(&mut cx, urn),
    }
}

/// `LinkedIn-Version` present, `YYYYMM`, and active (neither marked sunset nor outside the
/// window around the simulator's month); `X-Restli-Protocol-Version: 2.0.0`. UNCONFIRMED: the
/// bodies of the two 400s (the fact sheet documents only the 426).
fn check_version(
    api: &Api,
    call: &Call<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, Reply> {
    let Some(version) = call.version.as_deref().map(str::trim) else {
        return Err(wire::error(
            400,
            None,
            Some("VERSION_MISSING"),
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        ));
    };
    if !wire::is_version(version) {
        return Err(wire::error(
            400,
            None,
            Some("INVALID_VERSION"),
            &format!("Invalid LinkedIn-Version `{version}`: expected YYYYMM"),
        ));
    }
    let month_index = |y: i64, m: i64| y * 12 + m - 1;
    let asked = month_index(
        version[..4].parse().unwrap_or_default(),
        version[4..].parse().unwrap_or_default(),
    );
    let current = month_index(i64::from(now.year()), i64::from(now.month()));
    let window = i64::from(api.config.version_window_months);
    let sunset = api.config.sunset_versions.iter().any(|v| v == version)
        || asked < current - window
        || asked > current;
    if sunset {
        return Err(wire::error(
            426,
            None,
            Some("NONEXISTENT_VERSION"),
            &format!("Requested version {version} is not active"),
        ));
    }
    if call.protocol.as_deref().map(str::trim) != Some("2.0.0") {
        return Err(wire::bad_request(
            "X-Restli-Protocol-Version: 2.0.0 is required on every /rest call",
        ));
    }
    Ok(version.to_owned())
}
