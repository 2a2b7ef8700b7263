//! The wiremock side: one mock whose matcher accepts exactly the Graph routes the simulator
//! serves (anything else falls through to the catch-all), and whose responder turns requests
//! into calls on the shared state.

use std::sync::Arc;

use serde_json::json;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use super::request::{Call, Endpoint, Route};
use super::state::{Ctx, Graph, Object, State, Usage};
use super::wire::{ErrorField, Params, Reply, graph_error, invalid_param, unknown_object};
use super::{GraphFault, instagram, login, pages, whatsapp};
use crate::catch_all::UNEXPECTED_STATUS;
use crate::sim;

/// Mounts the Graph routes on `server`.
pub(crate) async fn mount(server: &MockServer, graph: &Arc<Graph>) {
    Mock::given(Routes {
        version: graph.config.version.clone(),
    })
    .respond_with(Responder {
        graph: Arc::clone(graph),
    })
    .named("GraphSimulator")
    .mount(server)
    .await;
}

struct Routes {
    version: String,
}

impl Match for Routes {
    fn matches(&self, request: &Request) -> bool {
        Route::parse(request.method.as_str(), request.url.path(), &self.version).is_some()
    }
}

struct Responder {
    graph: Arc<Graph>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let method = request.method.as_str().to_owned();
        let Some(route) = Route::parse(&method, &path, &self.graph.config.version) else {
            // The matcher let only parseable routes through.
            return ResponseTemplate::new(UNEXPECTED_STATUS);
        };
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        let bearer = header("authorization")
            .and_then(sim::bearer_token)
            .map(str::to_owned);
        let params = Params::parse(
            request.url.query_pairs().into_owned().collect(),
            header("content-type"),
            &request.body,
        );
        let call = Call {
            method,
            path,
            route,
            params,
            bearer,
        };
        handle(&self.graph, &call).into_template()
    }
}

/// Answers one call: records and counts it, applies a queued fault, else dispatches it; adds
/// the usage headers and the configured latency.
pub(crate) fn handle(graph: &Graph, call: &Call) -> Reply {
    let cfg = &graph.config;
    let now = graph.now();
    let mut st = graph.lock();
    st.requests.push(call.record());
    if call.route.endpoint == Endpoint::Dialog {
        st.counters.authorize += 1;
        return match login::dialog(graph, &mut st, now, &call.params.query) {
            Ok(to) => Reply::redirect(&to),
            Err(refusal) => graph_error(refusal.code, None, refusal.message),
        };
    }
    st.counters.graph += 1;
    count(graph, &mut st, call);

    let mut usage = Usage {
        app: st.app_usage,
        business: st.business_usage.clone(),
    };
    let mut stall = None;
    let faulted = match st.faults.take(&call.path) {
        None => None,
        Some(GraphFault::Stall(delay)) => {
            stall = Some(delay);
            None
        }
        Some(fault) => Some(fault_reply(&fault, &call.route.id, &mut usage)),
    };
    let reply = faulted.unwrap_or_else(|| {
        let mut cx = Ctx {
            cfg,
            base: &graph.base,
            st: &mut st,
            now,
            call,
        };
        dispatch(&mut cx)
    });
    let latency = match call.route.endpoint {
        Endpoint::AccessToken => graph.options.token_latency(),
        _ => None,
    };
    usage.apply(cfg, reply).delayed(latency).delayed(stall)
}

/// Counts the call on its endpoint's counter, whatever its outcome.
fn count(graph: &Graph, st: &mut State, call: &Call) {
    let cfg = &graph.config;
    let id = call.route.id.as_str();
    let object = st.object(cfg, id);
    let p = &call.params;
    let c = &mut st.counters;
    match call.route.endpoint {
        Endpoint::AccessToken => match p.get("grant_type").as_deref() {
            Some("fb_exchange_token") => c.long_lived_exchanges += 1,
            _ if p.get("code").is_some() => c.code_exchanges += 1,
            _ => {}
        },
        Endpoint::DebugToken => c.debug_token += 1,
        Endpoint::MePermissions => c.revocations += 1,
        Endpoint::CreatePost | Endpoint::CreatePhoto => c.posts += 1,
        Endpoint::CreateComment => c.comments += 1,
        Endpoint::Object if object == Object::Container => c.status_polls += 1,
        Endpoint::CreateMedia if object == Object::IgUser => c.containers += 1,
        Endpoint::CreateMedia if object == Object::Phone => c.media_uploads += 1,
        Endpoint::Publish => c.published_media += 1,
        Endpoint::Messages if p.get("status").as_deref() == Some("read") => c.read_receipts += 1,
        Endpoint::Messages => c.messages_sent += 1,
        _ => {}
    }
}

/// The answer a queued fault gives instead of the endpoint's; `usage` is adjusted for
/// throttles (100 % on the app for code 4, on the path's object for Business Use Case codes).
fn fault_reply(fault: &GraphFault, object_id: &str, usage: &mut Usage) -> Reply {
    match fault {
        GraphFault::Error {
            code,
            subcode,
            is_transient,
        } => graph_error(*code, *subcode, format!("(#{code}) Simulated Graph error"))
            .error_field("is_transient", json!(is_transient)),
        GraphFault::Throttle {
            code,
            regain_minutes,
        } => {
            let message = match code {
                4 => "(#4) Application request limit reached".to_owned(),
                17 => "(#17) User request limit reached".to_owned(),
                32 => "(#32) Page request limit reached".to_owned(),
                613 => "(#613) Calls to this api have exceeded the rate limit.".to_owned(),
                c => format!(
                    "(#{c}) There have been too many calls from this business account. Wait a \
                     bit and try again."
                ),
            };
            if *code == 4 {
                usage.app = 100;
            }
            if (80_000..=80_014).contains(code) && !object_id.is_empty() {
                let object = object_id.split('_').next().unwrap_or(object_id).to_owned();
                usage.business.insert(object, (100, *regain_minutes));
            }
            graph_error(*code, None, message).error_field("is_transient", json!(true))
        }
        GraphFault::ServerError => graph_error(
            2,
            None,
            "An unexpected error has occurred. Please retry your request later.",
        )
        .error_field("is_transient", json!(true))
        .with_status(500),
        GraphFault::Stall(_) => Reply::ok(json!({})),
    }
}

fn dispatch(cx: &mut Ctx<'_>) -> Reply {
    let id = cx.call.route.id.clone();
    let object = cx.st.object(cx.cfg, &id);
    let page_comment = |i: usize, cx: &Ctx<'_>| !cx.st.comments[i].instagram;
    use Endpoint as E;
    use Object as O;
    match (cx.call.route.endpoint, object) {
        (E::AccessToken, _) => login::access_token(cx),
        (E::DebugToken, _) => login::debug_token(cx),
        (E::Me, _) => login::me(cx),
        (E::MeAccounts, _) => login::accounts(cx),
        (E::MePermissions, _) => login::revoke(cx),
        (E::Object, O::Page) => pages::page(cx),
        (E::Object, O::Post(i) | O::Photo(i)) => pages::post(cx, i),
        (E::Object, O::Comment(i)) if page_comment(i, cx) => pages::comment(cx, i),
        (E::Object, O::Comment(i)) => {
            let comment = cx.st.comments[i].clone();
            instagram::comment(cx, &comment)
        }
        (E::Object, O::IgUser) => instagram::account(cx),
        (E::Object, O::Container) => instagram::container_status(cx),
        (E::Object, O::IgMedia(i)) => instagram::media(cx, i),
        (E::CreatePost, O::Page) => pages::create_post(cx),
        (E::ListPosts, O::Page) => pages::list_posts(cx),
        (E::CreatePhoto, O::Page) => pages::create_photo(cx),
        (E::ListComments, O::Post(_) | O::Photo(_)) => pages::comments(cx),
        (E::ListComments, O::Comment(i)) if page_comment(i, cx) => pages::comments(cx),
        (E::CreateComment, O::Post(_) | O::Photo(_)) => pages::create_comment(cx, object),
        (E::CreateComment, O::Comment(i)) if page_comment(i, cx) => {
            pages::create_comment(cx, object)
        }
        (E::ListComments, O::IgMedia(_)) => instagram::comments(cx),
        (E::CreateComment, O::IgMedia(_)) => instagram::create_comment(cx),
        (E::Insights, O::Page) => pages::insights(cx),
        (E::Insights, O::IgUser) => instagram::account_insights(cx),
        (E::Insights, O::IgMedia(i)) => instagram::media_insights(cx, i),
        (E::CreateMedia, O::IgUser) => instagram::create_container(cx),
        (E::CreateMedia, O::Phone) => whatsapp::upload_media(cx),
        (E::ListMedia, O::IgUser) => instagram::list_media(cx),
        (E::Publish, O::IgUser) => instagram::publish(cx),
        (E::PublishingLimit, O::IgUser) => instagram::publishing_limit(cx),
        (E::Messages, O::Phone) => whatsapp::messages(cx),
        (_, O::Unknown) => unknown_object(&id),
        (endpoint, _) => invalid_param(format!(
            "Tried accessing nonexisting field ({endpoint:?}) on node {id}"
        )),
    }
}
