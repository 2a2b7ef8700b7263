//! A hub wired to the test kit's OAuth simulator, with in-memory stores and a manual clock.

#![allow(dead_code)] // each test binary uses a different part of this shared setup

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AuthCode, ClientSecret};
use socialconnect_core::{Connected, RefreshPolicy, SocialConnect};
use socialconnect_testkit::{ManualClock, OAuthSimulator, OAuthSimulatorBuilder};
use url::Url;

pub const PLATFORM: PlatformId = PlatformId::LINKEDIN;

pub struct Env {
    pub sim: OAuthSimulator,
    pub hub: SocialConnect,
    pub clock: Arc<ManualClock>,
    pub tokens: Arc<MemoryTokenStore>,
    pub ledger: Arc<MemoryConsentLedger>,
    pub log: Arc<MemoryAccessLog>,
    pub subject: SubjectId,
    pub redirect: Url,
    pub http: HttpClient,
}

pub fn http() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .unwrap()
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

/// A hub over `tokens` (shared between hubs to play several processes).
pub fn hub_over(
    sim: &OAuthSimulator,
    clock: Arc<ManualClock>,
    tokens: Arc<MemoryTokenStore>,
    ledger: Arc<MemoryConsentLedger>,
    log: Arc<MemoryAccessLog>,
    http: &HttpClient,
) -> SocialConnect {
    SocialConnect::builder()
        .http(http.clone())
        .platform(Arc::new(platform(sim, http, clock.clone())))
        .token_store(tokens)
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(ledger)
        .access_log(log)
        .clock(clock)
        .refresh_policy(
            RefreshPolicy::default().with_lease(Duration::from_secs(30), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

pub async fn env_with(builder: OAuthSimulatorBuilder) -> Env {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = builder.clock(clock.clone()).start().await;
    let http = http();
    let tokens = Arc::new(MemoryTokenStore::with_clock(clock.clone()));
    let ledger = Arc::new(MemoryConsentLedger::with_clock(clock.clone()));
    let log = Arc::new(MemoryAccessLog::new());
    let hub = hub_over(
        &sim,
        clock.clone(),
        tokens.clone(),
        ledger.clone(),
        log.clone(),
        &http,
    );
    Env {
        sim,
        hub,
        clock,
        tokens,
        ledger,
        log,
        subject: SubjectId::new("user-42").unwrap(),
        redirect: Url::parse("https://host.example/oauth/callback").unwrap(),
        http,
    }
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
    ) -> socialconnect_core::SocialConnectBuilder,
) -> Env {
    let mut env = env().await;
    let builder = SocialConnect::builder()
        .http(env.http.clone())
        .platform(Arc::new(platform(&env.sim, &env.http, env.clock.clone())))
        .token_store(env.tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(env.ledger.clone())
        .access_log(env.log.clone())
        .clock(env.clock.clone())
        .refresh_policy(
            RefreshPolicy::default().with_lease(Duration::from_secs(30), Duration::from_millis(5)),
        );
    env.hub = configure(builder).build().unwrap();
    env
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
    let http = http();
    let tokens = Arc::new(MemoryTokenStore::with_clock(clock.clone()));
    let ledger = Arc::new(MemoryConsentLedger::with_clock(clock.clone()));
    let log = Arc::new(MemoryAccessLog::new());
    let pending = Arc::new(MemoryPendingAuthStore::new());
    let profiles = Arc::new(socialconnect_core::memory::MemoryProfiles::new());
    let receipts = Arc::new(socialconnect_core::memory::MemoryReceipts::new());
    let deletions = Arc::new(socialconnect_core::memory::MemoryDeletionRequests::new());
    let alerts = Arc::new(socialconnect_core::alert::RecordingAlerts::new());
    let hub = SocialConnect::builder()
        .http(http.clone())
        .platform(Arc::new(platform(&sim, &http, clock.clone())))
        .token_store(tokens.clone())
        .pending_store(pending.clone())
        .consent_ledger(ledger.clone())
        .access_log(log.clone())
        .profiles(profiles.clone())
        .receipts(receipts.clone())
        .deletion_requests(deletions.clone())
        .alerts(alerts.clone(), thresholds)
        .retention(retention)
        .region(REGION)
        .clock(clock.clone())
        // No token cache: tests move the clock and the simulator's token validity by hand.
        .refresh_policy(RefreshPolicy::default().with_cache_ttl(Duration::ZERO))
        .build()
        .unwrap();
    PrivacyEnv {
        base: Env {
            sim,
            hub,
            clock,
            tokens,
            ledger,
            log,
            subject: SubjectId::new("user-42").unwrap(),
            redirect: Url::parse("https://host.example/oauth/callback").unwrap(),
            http,
        },
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
