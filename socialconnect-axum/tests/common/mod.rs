//! A host on loopback for the route tests: the router over a real SQLite store, with the
//! Meta, TikTok, LinkedIn and Pinterest simulators as the platforms, served over plain HTTP on 127.0.0.1, and a
//! cookie-keeping HTTP client that does not follow redirects (each hop is checked).
#![allow(dead_code)] // each test file uses part of the harness

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use http::request::Parts;
use socialconnect_axum::webhooks::{LinkedInReceiver, MetaReceiver, TikTokReceiver, WebhookEvents};
use socialconnect_axum::{
    ApiLimits, CsrfKey, DataSubjectApi, EndUsers, HostRoutes, PrivacyInfo, ServeOptions, Server,
    Tls,
};
use socialconnect_core::SocialConnect;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::apikey::{ApiKeyStore, ApiKeys};
use socialconnect_core::automation::ActionStore;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentLedger, LegalBasis};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::platform_deletion::{
    DeletionRequest, DeletionRequestStore, DeletionStatus,
};
use socialconnect_core::profile::ProfileStore;
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::secret::{ClientSecret, WebhookSecret};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::webhook::Deduper;
use socialconnect_linkedin::webhook::LinkedInWebhooks;
use socialconnect_linkedin::{LinkedInClient, LinkedInConfig, LinkedInLogin};
use socialconnect_meta::privacy::MetaPrivacy;
use socialconnect_meta::{FacebookLogin, MetaActions, MetaClient, MetaConfig, MetaProduct};
use socialconnect_pinterest::{PinterestClient, PinterestConfig};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_testkit::linkedin::LinkedInSimulator;
use socialconnect_testkit::meta::GraphSimulator;
use socialconnect_testkit::pinterest::PinterestSimulator;
use socialconnect_testkit::tiktok::TikTokSimulator;
use socialconnect_tiktok::webhook::TikTokWebhooks;
use socialconnect_tiktok::{TikTokClient, TikTokConfig, TikTokLogin};
use url::Url;

/// The cookie naming the signed-in demo user.
pub const USER_COOKIE: &str = "demo_user";
pub const VERIFY_TOKEN: &str = "verify-me";

/// Signed-in users are whoever the `demo_user` cookie names (tests only: a real host checks
/// its own session).
pub struct CookieUsers;

#[async_trait]
impl EndUsers for CookieUsers {
    async fn signed_in(&self, request: &Parts) -> Option<SubjectId> {
        let cookies = request.headers.get(http::header::COOKIE)?.to_str().ok()?;
        cookies.split(';').find_map(|c| {
            let (name, value) = c.trim().split_once('=')?;
            (name == USER_COOKIE)
                .then(|| SubjectId::new(value).ok())
                .flatten()
        })
    }

    fn sign_in_url(&self, next: &str) -> String {
        format!("/sign-in?next={next}")
    }
}

/// The host's own routes, built once the hub exists and merged beside SocialConnect's.
pub type HostOwnRoutes = Box<dyn FnOnce(&SocialConnect) -> axum::Router + Send>;

/// What a test may change about the host.
pub struct Options {
    pub limits: ApiLimits,
    pub body_limit: usize,
    pub queue: usize,
    pub declare_fraud_detection: bool,
    pub own_routes: Option<HostOwnRoutes>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: ApiLimits::default(),
            body_limit: 64 * 1024,
            queue: 64,
            declare_fraud_detection: false,
            own_routes: None,
        }
    }
}

pub struct Host {
    pub base: Url,
    pub hub: SocialConnect,
    pub store: EncryptedStore,
    pub meta: GraphSimulator,
    pub meta_config: MetaConfig,
    pub tiktok: TikTokSimulator,
    pub linkedin: LinkedInSimulator,
    pub pinterest: PinterestSimulator,
    pub api_keys: Arc<ApiKeys>,
    pub events: WebhookEvents,
    pub server: Server,
    /// Every deletion request the hub recorded (the store has no per-subject query for
    /// completed ones).
    pub deletions: Arc<RecordedDeletions>,
    _dir: tempfile::TempDir,
}

impl Host {
    pub async fn start() -> Host {
        Host::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let store =
            EncryptedStore::open_sqlite(dir.path().join("host.db"), Arc::new(LocalKeyring::demo()))
                .await
                .unwrap();
        let http = HttpClient::builder()
            .rate_limits(PlatformId::TIKTOK, socialconnect_tiktok::rate_limits())
            .rate_limits(
                PlatformId::PINTEREST,
                socialconnect_pinterest::rate_limits(socialconnect_pinterest::AccessTier::Standard),
            )
            .build()
            .unwrap();
        let deletions = Arc::new(RecordedDeletions {
            inner: Arc::new(store.clone()),
            recorded: Mutex::new(Vec::new()),
        });
        let meta = GraphSimulator::builder().start().await;
        let meta_config = MetaConfig::new(meta.app_id(), ClientSecret::new(meta.app_secret()))
            .with_graph_base(meta.base_url())
            .with_dialog_base(meta.base_url());
        let meta_client = MetaClient::new(meta_config.clone(), http.clone());
        let meta_actions = MetaActions::new(meta_client.clone(), MetaProduct::Facebook).unwrap();
        let tiktok = TikTokSimulator::builder().videos(2).start().await;
        let tiktok_config = TikTokConfig::new(
            tiktok.client_key(),
            ClientSecret::new(tiktok.client_secret()),
        )
        .with_api_base(tiktok.base_url())
        .with_auth_base(tiktok.base_url());
        let tiktok_client = TikTokClient::new(tiktok_config.clone(), http.clone());
        let linkedin = LinkedInSimulator::builder().start().await;
        let linkedin_config = LinkedInConfig::new(
            linkedin.client_id(),
            ClientSecret::new(linkedin.client_secret()),
        )
        .with_api_base(linkedin.base_url())
        .with_auth_base(linkedin.base_url());
        let linkedin_client = LinkedInClient::new(linkedin_config.clone(), http.clone());
        let pinterest = PinterestSimulator::builder().boards(1).start().await;
        let pinterest_config = PinterestConfig::new(
            pinterest.client_id(),
            ClientSecret::new(pinterest.client_secret()),
        )
        .with_api_base(pinterest.base_url())
        .with_auth_base(pinterest.base_url());
        let pinterest_client = PinterestClient::new(pinterest_config, http.clone());
        let mut builder = SocialConnect::builder()
            .http(http.clone())
            .platform(Arc::new(
                FacebookLogin::new(meta_client, MetaProduct::Facebook).unwrap(),
            ))
            .platform(Arc::new(
                TikTokLogin::new(tiktok_client, http, Arc::new(SystemClock)).unwrap(),
            ))
            .platform(Arc::new(
                LinkedInLogin::new(&linkedin_client, Arc::new(SystemClock)).unwrap(),
            ))
            .platform(Arc::new(
                pinterest_client.login(Arc::new(SystemClock)).unwrap(),
            ))
            .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
            .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
            .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
            .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
            .deletion_requests(deletions.clone() as Arc<dyn DeletionRequestStore>)
            .profiles(Arc::new(store.clone()) as Arc<dyn ProfileStore>)
            .receipts(Arc::new(store.clone()) as Arc<dyn ReceiptStore>)
            .actions(Arc::new(store.clone()) as Arc<dyn ActionStore>)
            .executor(Arc::new(meta_actions))
            .region("eu-central-1");
        if options.declare_fraud_detection {
            builder = builder.declare_basis(
                Purpose::FraudDetection,
                LegalBasis::LegitimateInterest,
                "abuse prevention on connected accounts",
            );
        }
        let hub = builder.build().unwrap();
        let api_keys = Arc::new(
            ApiKeys::new(
                Arc::new(store.clone()) as Arc<dyn ApiKeyStore>,
                Arc::new(SystemClock),
            )
            .with_access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>),
        );
        // The router is served at the root of a loopback address chosen below; the base is
        // fixed up once the port is known, so bind first on a free port.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let base: Url = format!("http://{addr}/").parse().unwrap();
        let privacy = MetaPrivacy::new(
            hub.clone(),
            &meta_config,
            HostRoutes::deletion_status_url(&base),
        )
        .unwrap();
        let deliveries = Arc::new(Deduper::new(1000, Duration::from_secs(3600)));
        let tiktok_hooks = TikTokWebhooks::new(hub.clone(), &tiktok_config, deliveries).unwrap();
        let (routes, events) = HostRoutes::new(
            hub.clone(),
            base.clone(),
            Arc::new(CookieUsers),
            CsrfKey::random(),
            PrivacyInfo::new(
                "Example Ltd",
                "privacy@example.test",
                "The Example Data Protection Authority",
                "https://dpa.example.test/complaints",
            )
            .with_default_country("DE"),
        )
        .platforms([
            PlatformId::FACEBOOK,
            PlatformId::TIKTOK,
            PlatformId::LINKEDIN,
            PlatformId::PINTEREST,
        ])
        .purposes([
            Purpose::Publishing,
            Purpose::Analytics,
            Purpose::FraudDetection,
        ])
        .webhook(Arc::new(MetaReceiver::new(
            WebhookSecret::new(meta.app_secret()),
            WebhookSecret::new(VERIFY_TOKEN),
        )))
        .webhook(Arc::new(TikTokReceiver::new(tiktok_hooks)))
        .webhook(Arc::new(LinkedInReceiver::new(LinkedInWebhooks::new(
            &linkedin_config,
        ))))
        .meta_privacy(privacy)
        .data_subject_api(DataSubjectApi::new(api_keys.clone(), options.limits))
        .body_limit(options.body_limit)
        .webhook_events(options.queue);
        let mut router = routes.router();
        if let Some(own) = options.own_routes {
            router = router.merge(own(&hub));
        }
        let server = socialconnect_axum::serve(
            router,
            ServeOptions::new(addr, Tls::PlainLoopback).with_grace(Duration::from_secs(5)),
            std::future::pending(),
        )
        .await
        .unwrap();
        Host {
            base,
            hub,
            store,
            meta,
            meta_config,
            tiktok,
            linkedin,
            pinterest,
            api_keys,
            events,
            server,
            deletions,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.base
            .join(path.trim_start_matches('/'))
            .unwrap()
            .to_string()
    }

    /// A browser-like client signed in as `user` (cookies kept, redirects not followed).
    pub fn browser(&self, user: &str) -> reqwest::Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        jar.add_cookie_str(&format!("{USER_COOKIE}={user}"), &self.base);
        reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client for the data-subject API.
    pub fn api(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// An API key with `scopes`.
    pub async fn key(&self, scopes: &[&str]) -> String {
        let issued = self
            .api_keys
            .issue(scopes.iter().copied(), None, "test-operator")
            .await
            .unwrap();
        issued.key.expose_secret().to_owned()
    }
}

impl Host {
    /// Every event queued so far, draining the queue.
    pub fn drain_events(&mut self) -> Vec<socialconnect_axum::webhooks::WebhookEvent> {
        use tokio::sync::mpsc::error::TryRecvError;
        let mut events = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => events.push(event),
                Err(TryRecvError::Empty) => return events,
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// Asserts that no webhook event is queued.
    pub fn assert_nothing_queued(&mut self) {
        assert_eq!(
            self.events.try_recv().err(),
            Some(tokio::sync::mpsc::error::TryRecvError::Empty),
            "no event queued"
        );
    }
}

/// The value of `name="csrf"` in a page.
pub fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Limits small enough to exhaust in a test.
pub fn tight_limits(per_day: u32) -> ApiLimits {
    ApiLimits::new(
        NonZeroU32::new(100).unwrap(),
        NonZeroU32::new(100).unwrap(),
        NonZeroU32::new(per_day).unwrap(),
    )
}

/// The deletion-request store, remembering every request recorded through it.
pub struct RecordedDeletions {
    inner: Arc<dyn DeletionRequestStore>,
    recorded: Mutex<Vec<DeletionRequest>>,
}

impl RecordedDeletions {
    /// The requests recorded so far, as recorded (status pending).
    pub fn recorded(&self) -> Vec<DeletionRequest> {
        self.recorded.lock().unwrap().clone()
    }
}

#[async_trait]
impl DeletionRequestStore for RecordedDeletions {
    async fn record_request(&self, request: DeletionRequest) -> socialconnect_core::Result<()> {
        self.inner.record_request(request.clone()).await?;
        self.recorded.lock().unwrap().push(request);
        Ok(())
    }

    async fn request(&self, code: &str) -> socialconnect_core::Result<Option<DeletionRequest>> {
        self.inner.request(code).await
    }

    async fn set_request_status(
        &self,
        code: &str,
        status: DeletionStatus,
    ) -> socialconnect_core::Result<bool> {
        self.inner.set_request_status(code, status).await
    }

    async fn pending_requests(&self) -> socialconnect_core::Result<Vec<DeletionRequest>> {
        self.inner.pending_requests().await
    }
}

impl Host {
    /// Connects `platform` for `user` through the routes, as a browser would: the consent
    /// form (adult, US, the purposes in `purposes`), the platform's dialog (the simulated
    /// user agrees), the callback. Returns the signed-in browser.
    pub async fn connect_through_routes(
        &self,
        user: &str,
        platform: &str,
        purposes: &[&str],
    ) -> reqwest::Client {
        let browser = self.browser(user);
        let form = browser
            .get(self.url(&format!("/connect/{platform}")))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), reqwest::StatusCode::OK);
        let token = csrf(&form.text().await.unwrap());
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("age", "adult"),
            ("country", "US"),
        ];
        fields.extend(purposes.iter().map(|p| ("purpose", *p)));
        let to_platform = browser
            .post(self.url(&format!("/connect/{platform}")))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(to_platform.status(), reqwest::StatusCode::SEE_OTHER);
        let back = browser.get(location(&to_platform)).send().await.unwrap();
        assert!(back.status().is_redirection(), "{}", back.status());
        let done = browser.get(location(&back)).send().await.unwrap();
        assert_eq!(
            location(&done),
            format!("/privacy?connected={platform}"),
            "connected"
        );
        browser
    }
}
