//! A GET through a hub session (consent gate, token load, bearer, rate limiter, retry
//! bookkeeping, tracing span, usage-log entry) against the same GET through a bare
//! `reqwest::Client`, both to one local keep-alive HTTP server in the same run — on each
//! store a host runs: the in-memory stores, the encrypted SQLite store, and the encrypted
//! PostgreSQL store when `SC_TEST_PG_URL` names a server (built with `--features postgres`).
//!
//! For 1 and 64 concurrent callers (each caller its own subject and connection) it times
//! batches of calls through each side, interleaved so drift hits both alike, and prints the
//! ratio of the median batch times. Target: <= 1.10 on every store at both concurrencies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use socialconnect_core::SocialConnect;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::EncryptedStore;
use url::Url;

mod common;

/// The stores one hub runs on.
struct Stores {
    name: &'static str,
    tokens: Arc<dyn TokenStore>,
    pending: Arc<dyn PendingAuthStore>,
    ledger: Arc<dyn ConsentLedger>,
    log: Arc<dyn AccessLog>,
}

impl Stores {
    fn memory() -> Self {
        Self {
            name: "memory",
            tokens: Arc::new(MemoryTokenStore::new()),
            pending: Arc::new(MemoryPendingAuthStore::new()),
            ledger: Arc::new(MemoryConsentLedger::new()),
            log: Arc::new(MemoryAccessLog::new()),
        }
    }

    fn encrypted(name: &'static str, store: EncryptedStore) -> Self {
        let store = Arc::new(store);
        Self {
            name,
            tokens: store.clone(),
            pending: store.clone(),
            ledger: store.clone(),
            log: store,
        }
    }
}

/// A hub over `stores` with `callers` connections, each its own subject with consent to read.
async fn hub(stores: &Stores, base: &Url, callers: usize) -> (SocialConnect, Vec<ConnectionKey>) {
    let http = HttpClient::builder().build().unwrap();
    let spec = OAuthSpec::new(
        PlatformId::LINKEDIN,
        "bench-client",
        base.join("/oauth/authorize").unwrap(),
        base.join("/oauth/token").unwrap(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new("bench-secret"),
        http.clone(),
        Arc::new(SystemClock),
    );
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(StandardPlatform::new(oauth, base.clone())))
        .token_store(stores.tokens.clone())
        .pending_store(stores.pending.clone())
        .consent_ledger(stores.ledger.clone())
        .access_log(stores.log.clone())
        .build()
        .unwrap();
    let now = Utc::now();
    let mut keys = Vec::with_capacity(callers);
    for n in 0..callers {
        let subject = SubjectId::new(format!("bench-user-{n}")).unwrap();
        for purpose in [Purpose::AccountConnection, Purpose::ReadingContent] {
            hub.record_consent(ConsentEvent::grant(
                subject.clone(),
                purpose,
                Some(PlatformId::LINKEDIN),
                now,
            ))
            .await
            .unwrap();
        }
        let key = ConnectionKey::new(subject, PlatformId::LINKEDIN, ConnectionId::generate());
        let set = TokenSet::new(
            AccessToken::new("bench-token"),
            Expiry::after(now, 30 * 24 * 3600),
            now,
        );
        stores.tokens.put(&key, &set, None).await.unwrap();
        keys.push(key);
    }
    (hub, keys)
}

async fn via_session(hub: &SocialConnect, key: &ConnectionKey, url: &Url) {
    let session = hub.session(key, Purpose::ReadingContent).await.unwrap();
    let resp = session
        .send(ApiRequest::get(url.clone()).operation("bench.me"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn via_reqwest(client: &reqwest::Client, url: &Url) {
    let resp = client
        .get(url.clone())
        .bearer_auth("bench-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
}

/// `callers` tasks making `calls` calls each, through the hub (`Some`) or bare reqwest.
async fn batch(
    hub: Option<&(SocialConnect, Vec<ConnectionKey>)>,
    bare: &reqwest::Client,
    url: &Url,
    callers: usize,
    calls: usize,
) -> Duration {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..callers {
        let (url, bare) = (url.clone(), bare.clone());
        let hub = hub.map(|(hub, keys)| (hub.clone(), keys[n].clone()));
        tasks.spawn(async move {
            for _ in 0..calls {
                match &hub {
                    Some((hub, key)) => via_session(hub, key, &url).await,
                    None => via_reqwest(&bare, &url).await,
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    started.elapsed()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(socialconnect_testkit::upstream::json_upstream());
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(128)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let mut stores = vec![Stores::memory()];
    let sqlite = rt
        .block_on(EncryptedStore::open_sqlite(
            dir.path().join("bench.db"),
            common::keyring(),
        ))
        .unwrap();
    stores.push(Stores::encrypted("sqlite", sqlite));
    #[cfg(feature = "postgres")]
    match rt.block_on(common::postgres_database()) {
        Some(url) => {
            let pg = rt
                .block_on(EncryptedStore::open_postgres(&url, common::keyring()))
                .unwrap();
            stores.push(Stores::encrypted("postgres", pg));
        }
        None => eprintln!("session_overhead: SC_TEST_PG_URL is unset, no PostgreSQL run"),
    }
    #[cfg(not(feature = "postgres"))]
    eprintln!("session_overhead: built without the postgres feature, no PostgreSQL run");

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut summary = Vec::new();
    for stores in &stores {
        for callers in [1usize, 64] {
            let hub = rt.block_on(hub(stores, &url, callers));
            if callers == 1 {
                let mut group = c.benchmark_group(format!("get_me_{}", stores.name));
                group.bench_function("bare_reqwest", |b| {
                    b.to_async(&rt).iter(|| via_reqwest(&bare, &url))
                });
                group.bench_function("hub_session", |b| {
                    b.to_async(&rt)
                        .iter(|| via_session(&hub.0, &hub.1[0], &url))
                });
                group.finish();
            }
            // About 2 000 calls a batch at either concurrency.
            let calls = if callers == 1 { 2_000 } else { 32 };
            let (mut bare_t, mut hub_t) = (Vec::new(), Vec::new());
            rt.block_on(async {
                batch(None, &bare, &url, callers, calls / 4).await;
                batch(Some(&hub), &bare, &url, callers, calls / 4).await;
                for _ in 0..9 {
                    bare_t.push(batch(None, &bare, &url, callers, calls).await);
                    hub_t.push(batch(Some(&hub), &bare, &url, callers, calls).await);
                }
                hub.0.flush_usage_log().await;
            });
            let (b, h) = (median(&mut bare_t), median(&mut hub_t));
            let per_call = |d: Duration| d / u32::try_from(callers * calls).unwrap();
            let logged = rt
                .block_on(hub.0.access_log().entries(&hub.1[0].subject))
                .unwrap()
                .len();
            summary.push(format!(
                "session_overhead: {:<8} {callers:>2} caller(s): bare reqwest {:?}/call, hub session {:?}/call, ratio {:.3} (target <= 1.10); usage-log entries of caller 0: {logged}",
                stores.name,
                per_call(b),
                per_call(h),
                h.as_secs_f64() / b.as_secs_f64(),
            ));
        }
    }
    for line in &summary {
        eprintln!("{line}");
    }
    c.final_summary();
}
