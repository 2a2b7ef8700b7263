//! A hub with in-memory stores, a LinkedIn client pointed at a wiremock server, and sessions on
//! a stored connection.

#![allow(dead_code)] // each test binary uses a different part of this shared setup

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::Session;
use socialconnect_core::alert::{AlertThresholds, RecordingAlerts};
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_linkedin::{LinkedInClient, LinkedInConfig, LinkedInLogin};
use socialconnect_testkit::{CatchAll, Harness, ManualClock};
use url::Url;
use wiremock::MockServer;

pub const CLIENT_ID: &str = "86abcdefghijkl";
pub const CLIENT_SECRET: &str = "linkedin-secret-for-tests";
pub const USER_TOKEN: &str = "AQV-linkedin-member-token";

pub struct Env {
    pub server: MockServer,
    pub catch_all: CatchAll,
    pub client: LinkedInClient,
    pub harness: Harness,
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

pub async fn env() -> Env {
    env_with(http()).await
}

/// As [`env`], sending through `http` (with the host's rate limits, say).
pub async fn env_with(http: HttpClient) -> Env {
    env_full(http, None).await
}

/// As [`env`], with the hub's alerts going to `alerts`.
pub async fn env_alerting(alerts: Arc<RecordingAlerts>) -> Env {
    env_full(http(), Some(alerts)).await
}

async fn env_full(http: HttpClient, alerts: Option<Arc<RecordingAlerts>>) -> Env {
    let server = MockServer::start().await;
    let catch_all = CatchAll::mount(&server).await;
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let config = LinkedInConfig::new(CLIENT_ID, ClientSecret::new(CLIENT_SECRET))
        .with_api_base(base.clone())
        .with_auth_base(base);
    let client = LinkedInClient::new(config, http.clone());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let login = LinkedInLogin::new(&client, clock.clone()).unwrap();
    let mut harness = Harness::builder()
        .http(http)
        .clock(clock)
        .platform(Arc::new(login));
    if let Some(sink) = alerts {
        harness = harness.configure(move |b| b.alerts(sink, AlertThresholds::default()));
    }
    let harness = harness.build();
    Env {
        server,
        catch_all,
        client,
        harness,
    }
}

impl Env {
    /// A session for `purpose` on a stored LinkedIn connection.
    pub async fn session(&self, purpose: Purpose) -> Session {
        let mut tokens = TokenSet::new(AccessToken::new(USER_TOKEN), Expiry::Never, Utc::now());
        tokens.scopes = Scope::parse_list("openid profile w_member_social w_organization_social");
        self.harness
            .session_with_tokens(&PlatformId::LINKEDIN, &tokens, purpose)
            .await
    }
}
