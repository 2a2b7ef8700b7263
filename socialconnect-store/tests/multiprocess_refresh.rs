//! Single-flight refresh across separate OS processes on one PostgreSQL: 4 processes × 250
//! concurrent callers on one expired token cause exactly one upstream refresh and all get
//! the same fresh token; a lease holder killed with SIGKILL mid-refresh is taken over once
//! its lease expires, and nothing is lost.
//!
//! The processes are this test binary run again with an ignored entry point
//! (`refresh_child`), each with its own hub over the same database; the OAuth simulator runs
//! in the parent and counts the refresh requests. Needs `SC_TEST_PG_URL` (`scripts/pg.sh`);
//! skipped without it.
//! The same holds for processes sharing one SQLite file (the store's lease is a row there too).
//!
//! Consent across instances: a withdrawal recorded by one instance stops the next call of a
//! session already open in another, through PostgreSQL's change notification (the consent
//! cache's TTL is an hour there, so it is not what does it). Notice versions and declared
//! bases one instance is built with are followed by another built without them.
#![cfg(all(feature = "postgres", feature = "sqlite", unix))]

#[path = "common/child.rs"]
mod child;
#[path = "common/pg.rs"]
mod pg;

use child::Worker;

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socialconnect_core::access_log::AccessLog;
use socialconnect_core::age::{AgeAttestation, AgeBand, Jurisdiction};
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger, ConsentRequest};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AuthCode, ClientSecret};
use socialconnect_core::store::{ConnectionStatus, PendingAuthStore, TokenStore};
use socialconnect_core::{RefreshPolicy, SocialConnect, SocialConnectBuilder};
use socialconnect_store::keys::LocalKeyring;
use socialconnect_store::{EncryptedStore, StoreOptions};
use socialconnect_testkit::{OAuthSimulator, TokenFault};
use url::Url;

const CHILD: &str = "SC_REFRESH_CHILD";
const PLATFORM: &str = "simulated";

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [9; 32])], KeyId("k1".into())).unwrap(),
    )
}

/// What a process needs to build its hub: the database and the simulator's endpoints.
struct Target {
    db: String,
    base: Url,
    client_id: String,
    client_secret: String,
}

impl Target {
    fn from_env() -> Self {
        let var = |n: &str| std::env::var(n).unwrap();
        Self {
            db: var("SC_CHILD_DB"),
            base: var("SC_CHILD_SIM").parse().unwrap(),
            client_id: var("SC_CHILD_CLIENT_ID"),
            client_secret: var("SC_CHILD_CLIENT_SECRET"),
        }
    }

    fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SC_CHILD_DB", self.db.clone()),
            ("SC_CHILD_SIM", self.base.to_string()),
            ("SC_CHILD_CLIENT_ID", self.client_id.clone()),
            ("SC_CHILD_CLIENT_SECRET", self.client_secret.clone()),
        ]
    }

    /// A hub of this process over the shared database.
    async fn hub(&self, lease: Duration) -> (SocialConnect, EncryptedStore) {
        self.hub_with(lease, StoreOptions::default()).await
    }

    /// [`Target::hub`] with store options.
    async fn hub_with(
        &self,
        lease: Duration,
        options: StoreOptions,
    ) -> (SocialConnect, EncryptedStore) {
        self.hub_configured(lease, options, |b| b).await
    }

    /// [`Target::hub_with`], with the host's own builder settings.
    async fn hub_configured(
        &self,
        lease: Duration,
        options: StoreOptions,
        configure: impl FnOnce(SocialConnectBuilder) -> SocialConnectBuilder,
    ) -> (SocialConnect, EncryptedStore) {
        let store = match self.db.strip_prefix("sqlite:") {
            Some(path) => EncryptedStore::open_sqlite_with(path, keys(), options)
                .await
                .unwrap(),
            None => EncryptedStore::open_postgres_with(&self.db, keys(), options)
                .await
                .unwrap(),
        };
        let http = HttpClient::builder().build().unwrap();
        let spec = OAuthSpec::new(
            PlatformId::new(PLATFORM).unwrap(),
            &self.client_id,
            self.base.join("oauth/authorize").unwrap(),
            self.base.join("oauth/token").unwrap(),
        );
        let oauth = OAuthClient::new(
            spec,
            ClientSecret::new(&self.client_secret),
            http.clone(),
            Arc::new(SystemClock),
        );
        let platform = StandardPlatform::new(oauth, self.base.join("me").unwrap());
        let hub = configure(SocialConnect::builder())
            .http(http)
            .platform(Arc::new(platform))
            .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
            .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
            .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
            .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
            .refresh_policy(RefreshPolicy::default().with_lease(lease, Duration::from_millis(25)))
            .build()
            .unwrap();
        (hub, store)
    }
}

fn key_from_env() -> ConnectionKey {
    let var = |n: &str| std::env::var(n).unwrap();
    ConnectionKey::new(
        SubjectId::new(var("SC_CHILD_SUBJECT")).unwrap(),
        PlatformId::new(PLATFORM).unwrap(),
        ConnectionId::from_uuid(var("SC_CHILD_CONNECTION").parse().unwrap()),
    )
}

/// Child process entry point: builds its hub, says `ready`, waits for `go` on stdin, opens
/// `SC_CHILD_CALLERS` sessions at once and prints every token it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "entry point of the child processes spawned by the multi-process refresh tests"]
async fn refresh_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let target = Target::from_env();
    let lease_ms: u64 = std::env::var("SC_CHILD_LEASE_MS").unwrap().parse().unwrap();
    let callers: usize = std::env::var("SC_CHILD_CALLERS").unwrap().parse().unwrap();
    let (hub, store) = target.hub(Duration::from_millis(lease_ms)).await;
    let key = key_from_env();
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "go");
    let mut tasks = Vec::with_capacity(callers);
    for _ in 0..callers {
        let hub = hub.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            match hub.session(&key, Purpose::Publishing).await {
                Ok(s) => s.access_token().expose_secret().to_owned(),
                Err(e) => format!("error:{:?}", e.kind()),
            }
        }));
    }
    let mut out = std::io::stdout().lock();
    for t in tasks {
        writeln!(out, "token {}", t.await.unwrap()).unwrap();
    }
    writeln!(out, "done").unwrap();
    out.flush().unwrap();
    drop(out);
    store.close().await;
}

/// A child process running `refresh_child` for `key` with `callers` concurrent sessions.
fn spawn_worker(target: &Target, key: &ConnectionKey, callers: usize, lease: Duration) -> Worker {
    let mut envs = vec![
        (CHILD, "1".to_owned()),
        ("SC_CHILD_SUBJECT", key.subject.as_str().to_owned()),
        ("SC_CHILD_CONNECTION", key.connection.to_string()),
        ("SC_CHILD_CALLERS", callers.to_string()),
        ("SC_CHILD_LEASE_MS", lease.as_millis().to_string()),
    ];
    envs.extend(target.to_env());
    Worker::spawn("refresh_child", &envs)
}

/// Connects one subject through the simulator with consent for publishing; returns the key.
async fn seed(target: &Target, sim: &OAuthSimulator) -> ConnectionKey {
    let (hub, store) = target.hub(Duration::from_secs(30)).await;
    let subject = SubjectId::new("mp-user").unwrap();
    let platform = PlatformId::new(PLATFORM).unwrap();
    let now = hub.clock().now();
    for purpose in [Purpose::AccountConnection, Purpose::Publishing] {
        hub.consent(ConsentRequest::new(
            ConsentEvent::grant(subject.clone(), purpose, Some(platform.clone()), now),
            AgeAttestation::Band(AgeBand::Adult),
            Jurisdiction::new("DE").unwrap(),
            now.date_naive(),
        ))
        .await
        .unwrap();
    }
    let redirect: Url = "https://host.example/callback".parse().unwrap();
    let auth = hub
        .connect(
            &subject,
            &platform,
            &[Scope::new("publish").unwrap()],
            &redirect,
        )
        .await
        .unwrap();
    let (code, state) = sim.authorize(&auth.url);
    let connected = hub
        .complete(&subject, &redirect, &state, AuthCode::new(code))
        .await
        .unwrap();
    store.close().await;
    connected.key
}

async fn setup(sim: &OAuthSimulator) -> Option<(Target, ConnectionKey)> {
    setup_on(sim, pg::fresh_database("mp_refresh").await?).await
}

async fn setup_on(sim: &OAuthSimulator, db: String) -> Option<(Target, ConnectionKey)> {
    let target = Target {
        db,
        base: sim.base_url(),
        client_id: sim.client_id().to_owned(),
        client_secret: sim.client_secret().to_owned(),
    };
    let key = seed(&target, sim).await;
    Some((target, key))
}

/// Waits until the stored access token has expired (the simulator issues 2-second tokens).
async fn until_expired(target: &Target, key: &ConnectionKey) {
    let (_, store) = target.hub(Duration::from_secs(30)).await;
    let stored = store.get(key).await.unwrap().unwrap();
    let socialconnect_core::token::Expiry::At(at) = stored.tokens.access_expires else {
        panic!("the simulator's tokens expire");
    };
    store.close().await;
    let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(200)).await;
}

/// 4 processes × 250 callers on one expired token over `target`'s database.
async fn four_processes_refresh_once(sim: &OAuthSimulator, target: Target, key: ConnectionKey) {
    let mut workers: Vec<Worker> = (0..4)
        .map(|_| spawn_worker(&target, &key, 250, Duration::from_secs(10)))
        .collect();
    for w in &mut workers {
        w.ready();
    }
    until_expired(&target, &key).await;
    assert_eq!(sim.refresh_requests(), 0);
    for w in &mut workers {
        w.go();
    }
    let tokens: Vec<String> = tokio::task::spawn_blocking(move || {
        workers.iter_mut().flat_map(|w| w.values("token")).collect()
    })
    .await
    .unwrap();

    assert_eq!(tokens.len(), 1000);
    assert_eq!(sim.refresh_requests(), 1, "exactly one upstream refresh");
    let distinct: HashSet<&String> = tokens.iter().collect();
    assert_eq!(
        distinct.len(),
        1,
        "every caller got the same token: {distinct:?}"
    );
    assert!(sim.is_valid(&tokens[0]), "{}", tokens[0]);
    let (_, store) = target.hub(Duration::from_secs(30)).await;
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), tokens[0]);
    let rt = stored.tokens.refresh_token.unwrap();
    assert!(
        sim.is_refresh_token_valid(rt.expose_secret()),
        "the rotated refresh token is stored"
    );
    store.close().await;
}

fn two_second_tokens() -> socialconnect_testkit::OAuthSimulatorBuilder {
    OAuthSimulator::builder().access_token_lifetime(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_of_250_callers_refresh_once_on_postgresql() {
    let sim = two_second_tokens().start().await;
    let Some((target, key)) = setup(&sim).await else {
        eprintln!("SC_TEST_PG_URL is unset: skipped (scripts/test starts a server)");
        return;
    };
    four_processes_refresh_once(&sim, target, key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_of_250_callers_refresh_once_on_one_sqlite_file() {
    let sim = two_second_tokens().start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("shared.db").display());
    let (target, key) = setup_on(&sim, db).await.unwrap();
    four_processes_refresh_once(&sim, target, key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_holder_killed_mid_refresh_is_taken_over_after_its_lease() {
    // No rotation: the killed holder's request reached the platform, and a rotating platform
    // would have ended the old refresh token with it (its answer died with the process).
    let sim = OAuthSimulator::builder()
        .access_token_lifetime(Duration::from_secs(2))
        .rotate_refresh_tokens(false)
        .start()
        .await;
    let Some((target, key)) = setup(&sim).await else {
        eprintln!("SC_TEST_PG_URL is unset: skipped (scripts/test starts a server)");
        return;
    };
    let lease = Duration::from_secs(2);
    let mut holder = spawn_worker(&target, &key, 1, lease);
    let mut taker = spawn_worker(&target, &key, 20, lease);
    holder.ready();
    taker.ready();
    until_expired(&target, &key).await;
    // The holder's refresh hangs at the platform; kill it there, lease held.
    sim.fail_token_requests(TokenFault::Stall(Duration::from_secs(60)), 1);
    holder.go();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.refresh_requests() == 0 {
        assert!(Instant::now() < deadline, "the holder never refreshed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();

    taker.go();
    let tokens = tokio::task::spawn_blocking(move || taker.values("token"))
        .await
        .unwrap();
    assert_eq!(tokens.len(), 20);
    assert_eq!(
        sim.refresh_requests(),
        2,
        "the holder's attempt and one takeover"
    );
    assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), 1, "{tokens:?}");
    assert!(sim.is_valid(&tokens[0]), "{}", tokens[0]);
    let (_, store) = target.hub(Duration::from_secs(30)).await;
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert_eq!(stored.tokens.access_token.expose_secret(), tokens[0]);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_in_one_instance_stops_the_next_call_in_another() {
    let sim = OAuthSimulator::start().await;
    let Some((target, key)) = setup(&sim).await else {
        eprintln!("SC_TEST_PG_URL is unset: skipped (scripts/test starts a server)");
        return;
    };
    let options = || StoreOptions::default().with_consent_cache_ttl(Duration::from_secs(3600));
    let lease = Duration::from_secs(30);
    let (a, a_store) = target.hub_with(lease, options()).await;
    let (b, b_store) = target.hub_with(lease, options()).await;
    let me = || {
        socialconnect_core::http::ApiRequest::get(target.base.join("me").unwrap()).operation("me")
    };
    let session = b.session(&key, Purpose::Publishing).await.unwrap();
    // Twice: the second call is answered from instance B's warm consent cache.
    for _ in 0..2 {
        assert_eq!(session.send(me()).await.unwrap().status(), 200);
    }

    a.withdraw(
        &key.subject,
        Purpose::Publishing,
        Some(&key.platform),
        "self-service",
    )
    .await
    .unwrap();
    // The notification arrives within milliseconds; an hour-long TTL would never expire here.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut allowed_after = 0;
    loop {
        match session.send(me()).await {
            Ok(_) => allowed_after += 1,
            Err(e) => {
                assert_eq!(
                    e.kind(),
                    socialconnect_core::ErrorKind::ConsentRequired,
                    "{e}"
                );
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "instance B still calls after the withdrawal"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("calls instance B still made after the withdrawal returned: {allowed_after}");
    assert_eq!(
        b.session(&key, Purpose::Publishing)
            .await
            .unwrap_err()
            .kind(),
        socialconnect_core::ErrorKind::ConsentRequired
    );
    a_store.close().await;
    b_store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_and_declarations_of_one_instance_hold_in_another() {
    use socialconnect_core::consent::{LegalBasis, NoticeVersion};

    let sim = OAuthSimulator::start().await;
    let Some((target, key)) = setup(&sim).await else {
        eprintln!("SC_TEST_PG_URL is unset: skipped (scripts/test starts a server)");
        return;
    };
    let lease = Duration::from_secs(30);
    let v1 = NoticeVersion::new("v1", "sha256:1111", false, chrono::Utc::now());
    let (a, a_store) = target
        .hub_configured(lease, StoreOptions::default(), |b| {
            b.notice_version(v1.clone()).declare_basis(
                Purpose::Analytics,
                LegalBasis::LegitimateInterest,
                "aggregate reach figures",
            )
        })
        .await;
    a.session(&key, Purpose::Analytics).await.unwrap();
    let (b, b_store) = target.hub_with(lease, StoreOptions::default()).await;
    // B was built with neither; its first permission check reads them from the database.
    b.session(&key, Purpose::Analytics).await.unwrap();
    assert_eq!(b.current_notice().unwrap().version, "v1");
    assert_eq!(
        b.declared_basis(Purpose::Analytics).map(|d| d.basis),
        Some(LegalBasis::LegitimateInterest)
    );
    a_store.close().await;
    b_store.close().await;
}
