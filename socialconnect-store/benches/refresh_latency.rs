//! 1 000 concurrent callers opening a session on one expired token: the time until every one
//! holds the fresh token, when they share one hub (in-process single-flight) and when they are
//! spread over 4 hubs with their own store instances (pools, caches) on one PostgreSQL — the
//! instances coordinate through the store's refresh lease, as separate processes do (the
//! multi-process test in `tests/multiprocess_refresh.rs` proves the count across real
//! processes; this measures the cost). Needs `--features postgres` and `SC_TEST_PG_URL`.
//!
//! Prints the median of each over interleaved rounds and their ratio, and checks each round
//! caused exactly one refresh.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret, RefreshToken};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{RefreshPolicy, SocialConnect};
use socialconnect_store::EncryptedStore;
use socialconnect_testkit::OAuthSimulator;

mod common;

const CALLERS: usize = 1_000;
const PLATFORM: &str = "simulated";

async fn hub(store: &EncryptedStore, sim: &OAuthSimulator) -> SocialConnect {
    let http = HttpClient::builder().build().unwrap();
    let spec = OAuthSpec::new(
        PlatformId::new(PLATFORM).unwrap(),
        sim.client_id(),
        sim.authorize_url(),
        sim.token_url(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(sim.client_secret()),
        http.clone(),
        Arc::new(SystemClock),
    );
    SocialConnect::builder()
        .http(http)
        .platform(Arc::new(StandardPlatform::new(oauth, sim.userinfo_url())))
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .refresh_policy(
            RefreshPolicy::default().with_lease(Duration::from_secs(10), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

/// A new connection of `subject` whose access token expired a minute ago.
async fn expired_connection(
    store: &EncryptedStore,
    sim: &OAuthSimulator,
    subject: &SubjectId,
) -> ConnectionKey {
    let issued = sim.issue_tokens(["read"]);
    let now = Utc::now();
    let key = ConnectionKey::new(
        subject.clone(),
        PlatformId::new(PLATFORM).unwrap(),
        ConnectionId::generate(),
    );
    let set = TokenSet::new(
        AccessToken::new(issued.access_token),
        Expiry::At(now - TimeDelta::minutes(1)),
        now - TimeDelta::hours(1),
    )
    .with_refresh(
        RefreshToken::new(
            issued
                .refresh_token
                .expect("the simulator issues refresh tokens"),
        ),
        Expiry::Unknown,
    );
    store.put(&key, &set, None).await.unwrap();
    key
}

/// `CALLERS` sessions at once, spread round-robin over `hubs`; the time until all are served.
async fn round(hubs: &[SocialConnect], key: &ConnectionKey) -> Duration {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..CALLERS {
        let (hub, key) = (hubs[n % hubs.len()].clone(), key.clone());
        tasks.spawn(async move {
            hub.session(&key, Purpose::ReadingContent)
                .await
                .unwrap()
                .access_token()
                .expose_secret()
                .to_owned()
        });
    }
    let mut tokens = std::collections::HashSet::new();
    while let Some(token) = tasks.join_next().await {
        tokens.insert(token.unwrap());
    }
    let took = started.elapsed();
    assert_eq!(tokens.len(), 1, "every caller got the same fresh token");
    took
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
    rt.block_on(async {
        let Some(url) = common::postgres_database().await else {
            eprintln!("refresh_latency: SC_TEST_PG_URL is unset; nothing to measure");
            return;
        };
        let sim = OAuthSimulator::start().await;
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(
                EncryptedStore::open_postgres(&url, common::keyring())
                    .await
                    .unwrap(),
            );
        }
        let mut hubs = Vec::new();
        for store in &stores {
            hubs.push(hub(store, &sim).await);
        }
        let subject = SubjectId::new("bench-user").unwrap();
        for purpose in [Purpose::AccountConnection, Purpose::ReadingContent] {
            hubs[0]
                .record_consent(ConsentEvent::grant(
                    subject.clone(),
                    purpose,
                    None,
                    Utc::now(),
                ))
                .await
                .unwrap();
        }
        let (mut one, mut four) = (Vec::new(), Vec::new());
        let rounds = 15;
        for n in 0..=rounds {
            let before = sim.refresh_requests();
            let key = expired_connection(&stores[0], &sim, &subject).await;
            let t = round(&hubs[..1], &key).await;
            let key = expired_connection(&stores[0], &sim, &subject).await;
            let u = round(&hubs, &key).await;
            assert_eq!(sim.refresh_requests() - before, 2, "one refresh per round");
            // The first round warms pools and caches.
            if n > 0 {
                one.push(t);
                four.push(u);
            }
        }
        let (a, b) = (median(&mut one), median(&mut four));
        eprintln!(
            "refresh_latency: {CALLERS} callers on one expired token, median of {rounds}: one hub {a:?}, \
             4 instances on PostgreSQL {b:?}; cross-instance / in-process {:.2}",
            b.as_secs_f64() / a.as_secs_f64()
        );
        for store in &stores {
            store.close().await;
        }
    });
}
