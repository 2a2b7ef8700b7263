//! A hub wired to the test kit's OAuth simulator, with in-memory stores and a manual clock.

#![allow(dead_code)] // each test binary uses a different part of this shared setup

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::memory::{MemoryConsentLedger, MemoryTokenStore};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AuthCode, ClientSecret};
use socialconnect_core::{Connected, RefreshPolicy, SocialConnect};
use socialconnect_testkit::{
    Harness, HarnessBuilder, ManualClock, OAuthSimulator, OAuthSimulatorBuilder,
};
use url::Url;

pub const PLATFORM: PlatformId = PlatformId::LINKEDIN;

pub struct Env {
    pub sim: OAuthSimulator,
    pub hub: SocialConnect,
    pub clock: Arc<ManualClock>,
    pub tokens: Arc<MemoryTokenStore>,
    pub ledger: Arc<MemoryConsentLedger>,
    pub log: Arc<dyn socialconnect_core::access_log::AccessLog>,
    pub subject: SubjectId,
    pub redirect: Url,
    pub http: HttpClient,
    pub actions: Arc<socialconnect_core::memory::MemoryActionStore>,
}

pub fn http() -> HttpClient {
    socialconnect_testkit::test_http_client()
}

pub fn platform(
    sim: &OAuthSimulator,
    http: &HttpClient,
    clock: Arc<dyn Clock>,
) -> StandardPlatform {
    let spec = OAuthSpec::new(
        PLATFORM,
        sim.client_id(),
        sim.authorize_url(),
        sim.token_url(),
    )
    .with_revoke_url(sim.revoke_url());
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(sim.client_secret()),
        http.clone(),
        clock,
    );
    StandardPlatform::new(oauth, sim.userinfo_url())
}

/// A hub over `tokens` and `ledger` (shared between hubs to play several processes), with a
/// usage log of its own.
pub fn hub_over(
    sim: &OAuthSimulator,
    clock: Arc<ManualClock>,
    tokens: Arc<MemoryTokenStore>,
    ledger: Arc<MemoryConsentLedger>,
    http: &HttpClient,
) -> SocialConnect {
    harness(sim, clock, http)
        .tokens(tokens)
        .ledger(ledger)
        .build()
        .hub
}

/// The test kit's harness over the simulator's platform.
pub fn harness(sim: &OAuthSimulator, clock: Arc<ManualClock>, http: &HttpClient) -> HarnessBuilder {
    Harness::builder()
        .platform(Arc::new(platform(sim, http, clock.clone())))
        .clock(clock)
        .http(http.clone())
}

impl From<(OAuthSimulator, Harness)> for Env {
    fn from((sim, h): (OAuthSimulator, Harness)) -> Self {
        Env {
            sim,
            hub: h.hub,
            clock: h.clock,
            tokens: h.tokens,
            ledger: h.ledger,
            log: h.log,
            subject: h.subject,
            redirect: h.redirect,
            http: h.http,
            actions: h.actions,
        }
    }
}

pub async fn env_with(builder: OAuthSimulatorBuilder) -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = builder.clock(clock.clone()).start().await;
    let h = harness(&sim, clock, &http()).build();
    (sim, h).into()
}

pub async fn env() -> Env {
    env_with(OAuthSimulator::builder()).await
}

impl Env {
    pub async fn grant(&self, purpose: Purpose) {
        self.hub
            .record_consent(ConsentEvent::grant(
                self.subject.clone(),
                purpose,
                Some(PLATFORM),
                self.clock.now(),
            ))
            .await
            .unwrap();
    }

    /// Consent for connection and publishing, then the whole OAuth flow.
    pub async fn connected(&self) -> Connected {
        self.grant(Purpose::AccountConnection).await;
        self.grant(Purpose::Publishing).await;
        let auth = self
            .hub
            .connect(
                &self.subject,
                &PLATFORM,
                &Scope::parse_list("w_member_social r_basicprofile"),
                &self.redirect,
            )
            .await
            .unwrap();
        let (code, state) = self.sim.authorize(&auth.url);
        self.hub
            .complete(&self.subject, &self.redirect, &state, AuthCode::new(code))
            .await
            .unwrap()
    }
}

/// Like [`env`], with the hub's builder passed through `configure` first (age policy, declared
/// bases, notice versions…).
pub async fn env_configured(
    configure: impl FnOnce(
        socialconnect_core::SocialConnectBuilder,
    ) -> socialconnect_core::SocialConnectBuilder
    + 'static,
) -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = OAuthSimulator::builder().clock(clock.clone()).start().await;
    let h = harness(&sim, clock, &http()).configure(configure).build();
    (sim, h).into()
}

impl Env {
    /// The OAuth flow alone, for a subject whose consent (or declared basis) is in place.
    pub async fn connect_only(&self) -> Connected {
        let auth = self
            .hub
            .connect(
                &self.subject,
                &PLATFORM,
                &Scope::parse_list("w_member_social r_basicprofile"),
                &self.redirect,
            )
            .await
            .unwrap();
        let (code, state) = self.sim.authorize(&auth.url);
        self.hub
            .complete(&self.subject, &self.redirect, &state, AuthCode::new(code))
            .await
            .unwrap()
    }
}
/// A hub with every privacy store (profiles, receipts, deletion requests), recording alerts,
/// a retention policy and a region: for the rights, retention and alert tests.
pub struct PrivacyEnv {
    pub base: Env,
    pub pending: Arc<socialconnect_core::memory::MemoryPendingAuthStore>,
    pub profiles: Arc<socialconnect_core::memory::MemoryProfiles>,
    pub receipts: Arc<socialconnect_core::memory::MemoryReceipts>,
    pub deletions: Arc<socialconnect_core::memory::MemoryDeletionRequests>,
    pub alerts: Arc<socialconnect_core::alert::RecordingAlerts>,
}

impl std::ops::Deref for PrivacyEnv {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.base
    }
}

pub const REGION: &str = "eu-west-1";

pub async fn privacy_env_with(
    builder: OAuthSimulatorBuilder,
    thresholds: socialconnect_core::alert::AlertThresholds,
    retention: socialconnect_core::RetentionPolicy,
) -> PrivacyEnv {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = builder.clock(clock.clone()).start().await;
    let profiles = Arc::new(socialconnect_core::memory::MemoryProfiles::new());
    let receipts = Arc::new(socialconnect_core::memory::MemoryReceipts::new());
    let deletions = Arc::new(socialconnect_core::memory::MemoryDeletionRequests::new());
    let alerts = Arc::new(socialconnect_core::alert::RecordingAlerts::new());
    let (p, r, d, a) = (
        profiles.clone(),
        receipts.clone(),
        deletions.clone(),
        alerts.clone(),
    );
    let h = harness(&sim, clock, &http())
        // No token cache: tests move the clock and the simulator's token validity by hand.
        .refresh_policy(RefreshPolicy::default().with_cache_ttl(Duration::ZERO))
        .configure(move |b| {
            b.profiles(p)
                .receipts(r)
                .deletion_requests(d)
                .alerts(a, thresholds)
                .retention(retention)
                .region(REGION)
        })
        .build();
    let pending = h.pending.clone();
    PrivacyEnv {
        base: (sim, h).into(),
        pending,
        profiles,
        receipts,
        deletions,
        alerts,
    }
}

pub async fn privacy_env() -> PrivacyEnv {
    privacy_env_with(
        OAuthSimulator::builder(),
        Default::default(),
        Default::default(),
    )
    .await
}
