//! The host's latency under 200 concurrent clients: a signed Meta webhook delivery and a hub
//! session call, each against the same server's route doing nothing, in the same run.
//!
//! One server on loopback (plain HTTP, the routes over the encrypted SQLite store, as in the
//! route tests) with the host's own routes merged beside SocialConnect's:
//!
//! - `GET /bench/nothing`, `POST /bench/nothing` (reads the body): the baselines;
//! - `POST /webhooks/meta`: a signed Page feed delivery, every body new (so none is a
//!   repeat), verified over the raw body, deduplicated, parsed and queued; a task drains the
//!   queue as a host's worker would;
//! - `GET /bench/gate/{n}`: `hub.session(key, Publishing)` alone (consent for the purpose
//!   and the connection, the age and notice gates, the connection's state, the token opened);
//! - `GET /bench/session/{n}`: the session and one GET through it to a local keep-alive
//!   upstream (bearer, rate limiter, usage-log entry);
//! - `GET /bench/bare`: the same upstream GET through a bare `reqwest::Client`.
//!
//! 200 clients, each its own keep-alive connection and, for the session routes, its own end
//! user and connection, send requests one after another; the routes take turns in rounds, so
//! drift hits them alike. It prints p50 and p99 per route and each one's ratio to the
//! matching route doing nothing. The clients share the machine with the server.
//!
//! `SC_BENCH_CLIENTS`, `SC_BENCH_REQUESTS` (per client per round) and `SC_BENCH_ROUNDS`
//! change the load.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use common::{Host, Options};
use socialconnect_core::SocialConnect;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{ConnectionKey, Purpose, SubjectId};
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{SignatureFormat, sign_header};
use url::Url;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// What the host's own routes use.
#[derive(Clone)]
struct Bench {
    hub: SocialConnect,
    /// Client `n`'s connection, set once the users have connected through the routes.
    keys: Arc<OnceLock<Vec<ConnectionKey>>>,
    upstream: Url,
    bare: reqwest::Client,
    failures: Arc<AtomicU64>,
}

impl Bench {
    fn key(&self, n: usize) -> Option<&ConnectionKey> {
        self.keys.get()?.get(n)
    }

    fn failed(&self, what: &str, e: impl std::fmt::Display) -> StatusCode {
        if self.failures.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!("host_latency: {what} failed: {e}");
        }
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn routes(self) -> axum::Router {
        axum::Router::new()
            .route("/bench/nothing", get(nothing).post(nothing_with_body))
            .route("/bench/gate/{n}", get(gate))
            .route("/bench/session/{n}", get(session))
            .route("/bench/bare", get(bare))
            .with_state(self)
    }
}

async fn nothing() -> StatusCode {
    StatusCode::OK
}

async fn nothing_with_body(body: Bytes) -> StatusCode {
    std::hint::black_box(body);
    StatusCode::OK
}

async fn gate(State(b): State<Bench>, Path(n): Path<usize>) -> StatusCode {
    let Some(key) = b.key(n) else {
        return StatusCode::NOT_FOUND;
    };
    match b.hub.session(key, Purpose::Publishing).await {
        Ok(_) => StatusCode::OK,
        Err(e) => b.failed("a session", e),
    }
}

async fn session(State(b): State<Bench>, Path(n): Path<usize>) -> StatusCode {
    let Some(key) = b.key(n) else {
        return StatusCode::NOT_FOUND;
    };
    let session = match b.hub.session(key, Purpose::Publishing).await {
        Ok(session) => session,
        Err(e) => return b.failed("a session", e),
    };
    match session.send(ApiRequest::get(b.upstream.clone())).await {
        Ok(r) if r.is_success() => StatusCode::OK,
        Ok(r) => b.failed("a session call", r.status()),
        Err(e) => b.failed("a session call", e),
    }
}

async fn bare(State(b): State<Bench>) -> StatusCode {
    match b.bare.get(b.upstream.clone()).send().await {
        Ok(r) if r.status().is_success() => match r.bytes().await {
            Ok(_) => StatusCode::OK,
            Err(e) => b.failed("a bare call", e),
        },
        Ok(r) => b.failed("a bare call", r.status()),
        Err(e) => b.failed("a bare call", e),
    }
}

/// One route as the clients call it.
#[derive(Clone, Copy, PartialEq)]
enum Route {
    Nothing,
    NothingPost,
    Webhook,
    Gate,
    Session,
    Bare,
}

impl Route {
    const ALL: [Route; 6] = [
        Route::Nothing,
        Route::NothingPost,
        Route::Webhook,
        Route::Gate,
        Route::Session,
        Route::Bare,
    ];

    fn name(self) -> &'static str {
        match self {
            Route::Nothing => "GET  /bench/nothing",
            Route::NothingPost => "POST /bench/nothing (same body)",
            Route::Webhook => "POST /webhooks/meta (signed)",
            Route::Gate => "GET  /bench/gate (hub.session)",
            Route::Session => "GET  /bench/session (session + call)",
            Route::Bare => "GET  /bench/bare (bare reqwest call)",
        }
    }

    /// The route doing nothing that this one is compared with.
    fn baseline(self) -> Route {
        match self {
            Route::NothingPost | Route::Webhook => Route::NothingPost,
            _ => Route::Nothing,
        }
    }
}

/// A Page feed delivery whose post id is `n`: every body differs, so none is a repeat.
fn delivery(n: u64) -> Vec<u8> {
    serde_json::json!({
        "object": "page",
        "entry": [{"id": "1005", "time": 1_700_000_000, "changes": [{
            "field": "feed",
            "value": {"item": "status", "verb": "add", "post_id": format!("1005_{n}"), "message": "hello"}
        }]}]
    })
    .to_string()
    .into_bytes()
}

/// One client's requests on `route` in one round, each timed from send to the whole answer.
async fn client(
    host: Arc<Host>,
    http: reqwest::Client,
    route: Route,
    n: usize,
    requests: usize,
    serial: Arc<AtomicU64>,
) -> Vec<Duration> {
    let secret = WebhookSecret::new(host.meta.app_secret());
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let request = match route {
            Route::Nothing => http.get(host.url("/bench/nothing")),
            Route::Gate => http.get(host.url(&format!("/bench/gate/{n}"))),
            Route::Session => http.get(host.url(&format!("/bench/session/{n}"))),
            Route::Bare => http.get(host.url("/bench/bare")),
            Route::NothingPost | Route::Webhook => {
                let body = delivery(serial.fetch_add(1, Ordering::Relaxed));
                let path = if route == Route::Webhook {
                    "/webhooks/meta"
                } else {
                    "/bench/nothing"
                };
                http.post(host.url(path))
                    .header("content-type", "application/json")
                    .header(
                        "x-hub-signature-256",
                        sign_header(&secret, &body, SignatureFormat::META),
                    )
                    .body(body)
            }
        };
        let started = Instant::now();
        let response = request.send().await.expect("the host answers");
        let status = response.status();
        response.bytes().await.expect("the whole answer");
        times.push(started.elapsed());
        assert!(status.is_success(), "{}: {status}", route.name());
    }
    times
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let clients = env_or("SC_BENCH_CLIENTS", 200);
    let requests = env_or("SC_BENCH_REQUESTS", 10);
    let rounds = env_or("SC_BENCH_ROUNDS", 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let upstream = socialconnect_testkit::upstream::json_upstream().await;
        let failures = Arc::new(AtomicU64::new(0));
        let keys: Arc<OnceLock<Vec<ConnectionKey>>> = Arc::default();
        let own_keys = keys.clone();
        let own_failures = failures.clone();
        let mut host = Host::start_with(Options {
            queue: 4096,
            own_routes: Some(Box::new(move |hub: &SocialConnect| {
                Bench {
                    hub: hub.clone(),
                    keys: own_keys,
                    upstream,
                    bare: reqwest::Client::new(),
                    failures: own_failures,
                }
                .routes()
            })),
            ..Options::default()
        })
        .await;
        // The host's worker: every queued webhook event is taken off the queue.
        let mut events = std::mem::replace(&mut host.events, tokio::sync::mpsc::channel(1).1);
        tokio::spawn(async move { while events.recv().await.is_some() {} });

        eprintln!("host_latency: connecting {clients} users through the routes");
        let mut connected = Vec::with_capacity(clients);
        for n in 0..clients {
            let user = format!("bench-user-{n}");
            host.connect_through_routes(&user, "facebook", &["publishing"])
                .await;
            let mut keys = host
                .hub
                .connections(&SubjectId::new(&user).unwrap())
                .await
                .unwrap();
            connected.push(keys.pop().expect("a connection"));
        }
        keys.set(connected).expect("set once");
        run(Arc::new(host), clients, requests, rounds, failures).await;
    });
}

async fn run(
    host: Arc<Host>,
    clients: usize,
    requests: usize,
    rounds: usize,
    failures: Arc<AtomicU64>,
) {
    let http: Vec<reqwest::Client> = (0..clients)
        .map(|_| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap()
        })
        .collect();
    let serial = Arc::new(AtomicU64::new(0));
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); Route::ALL.len()];
    // Round 0 warms connections, pools and caches and is not counted.
    for round in 0..=rounds {
        for (i, &route) in Route::ALL.iter().enumerate() {
            let mut tasks = tokio::task::JoinSet::new();
            for (n, http) in http.iter().enumerate() {
                tasks.spawn(client(
                    host.clone(),
                    http.clone(),
                    route,
                    n,
                    requests,
                    serial.clone(),
                ));
            }
            while let Some(done) = tasks.join_next().await {
                let done = done.expect("a client");
                if round > 0 {
                    times[i].extend(done);
                }
            }
        }
    }
    assert_eq!(failures.load(Ordering::Relaxed), 0, "no request failed");
    for t in &mut times {
        t.sort_unstable();
    }
    let at = |route: Route| Route::ALL.iter().position(|&r| r == route).unwrap();
    eprintln!(
        "host_latency: {clients} concurrent clients, {} requests per route ({rounds} rounds of {requests} per client)",
        times[0].len()
    );
    eprintln!(
        "{:<40} {:>9} {:>9} {:>13} {:>13}",
        "route", "p50 ms", "p99 ms", "p50 / nothing", "p99 / nothing"
    );
    for (i, &route) in Route::ALL.iter().enumerate() {
        let base = &times[at(route.baseline())];
        let (p50, p99) = (percentile(&times[i], 0.50), percentile(&times[i], 0.99));
        let (b50, b99) = (percentile(base, 0.50), percentile(base, 0.99));
        eprintln!(
            "{:<40} {:>9.2} {:>9.2} {:>13.2} {:>13.2}",
            route.name(),
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / b50.as_secs_f64(),
            p99.as_secs_f64() / b99.as_secs_f64()
        );
    }
    // What the hub adds to the same upstream call.
    let (session, bare) = (&times[at(Route::Session)], &times[at(Route::Bare)]);
    eprintln!(
        "host_latency: session + call / bare call: p50 {:.2}, p99 {:.2}",
        percentile(session, 0.50).as_secs_f64() / percentile(bare, 0.50).as_secs_f64(),
        percentile(session, 0.99).as_secs_f64() / percentile(bare, 0.99).as_secs_f64()
    );
}
