//! A hub with in-memory stores, a TikTok client pointed at a wiremock server, and sessions on
//! a stored connection with the scopes a test grants.

#![allow(dead_code)] // each test binary uses a different part of this shared setup

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::Session;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_testkit::{CatchAll, Harness, ManualClock};
use socialconnect_tiktok::{TikTokClient, TikTokConfig, TikTokLogin};
use url::Url;
use wiremock::MockServer;

pub const CLIENT_KEY: &str = "aw_test_client_key";
pub const CLIENT_SECRET: &str = "tiktok-secret-for-tests";
pub const USER_TOKEN: &str = "act.user-token-for-tests";

pub struct Env {
    pub server: MockServer,
    pub catch_all: CatchAll,
    pub client: TikTokClient,
    pub harness: Harness,
}

/// The HTTP client: short retry delays, TikTok's documented windows.
pub fn http() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .rate_limits(PlatformId::TIKTOK, socialconnect_tiktok::rate_limits())
        .build()
        .unwrap()
}

pub async fn env() -> Env {
    env_with(|config| config).await
}

/// [`env`] with the client's configuration adjusted by `configure` (an audited app, say).
pub async fn env_with(configure: impl FnOnce(TikTokConfig) -> TikTokConfig) -> Env {
    let server = MockServer::start().await;
    let catch_all = CatchAll::mount(&server).await;
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let config = configure(
        TikTokConfig::new(CLIENT_KEY, ClientSecret::new(CLIENT_SECRET))
            .with_api_base(base.clone())
            .with_auth_base(base),
    );
    let http = http();
    let client = TikTokClient::new(config, http.clone());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let login = TikTokLogin::new(client.clone(), http.clone(), clock.clone()).unwrap();
    let harness = Harness::builder()
        .http(http)
        .clock(clock)
        .platform(Arc::new(login))
        .build();
    Env {
        server,
        catch_all,
        client,
        harness,
    }
}

impl Env {
    /// A session for `purpose` on a stored TikTok connection whose grant holds `scopes`.
    pub async fn session(&self, purpose: Purpose, scopes: &str) -> Session {
        let mut tokens = TokenSet::new(AccessToken::new(USER_TOKEN), Expiry::Never, Utc::now());
        tokens.scopes = Scope::parse_list(scopes);
        self.harness
            .session_with_tokens(&PlatformId::TIKTOK, &tokens, purpose)
            .await
    }

    /// `{server}/{path}` as text (for fixtures that name this server).
    pub fn uri(&self) -> String {
        self.server.uri()
    }
}
