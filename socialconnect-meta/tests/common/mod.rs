//! A hub with in-memory stores, a Meta client pointed at a wiremock server, and sessions on
//! a stored connection, for the Pages, Instagram and WhatsApp tests.

#![allow(dead_code)] // each test binary uses a different part of this shared setup

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::Session;
use socialconnect_core::SocialConnect;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_meta::{
    FacebookLogin, GRAPH_API_VERSION, MetaClient, MetaConfig, MetaProduct, PageAccount,
};
use socialconnect_testkit::{CatchAll, Harness, JsonMock, fixture};
use url::Url;
use wiremock::MockServer;
use wiremock::matchers::{header, query_param};

pub const APP_ID: &str = "1234567890";
pub const APP_SECRET: &str = "app-secret-for-tests";
pub const USER_TOKEN: &str = "user-token-EAAB";
/// The Page token in `pages/accounts.json`.
pub const PAGE_TOKEN: &str = "page-token-EAAG";
/// Above 2^53: a float would round it.
pub const PAGE_ID: &str = "104857600000000001";
pub const IG_USER: &str = "17841400000000001234";
pub const PHONE_ID: &str = "106540352242922";

pub struct Env {
    pub server: MockServer,
    pub catch_all: CatchAll,
    pub client: MetaClient,
    pub hub: SocialConnect,
    pub log: Arc<dyn socialconnect_core::access_log::AccessLog>,
    pub subject: SubjectId,
    /// The test kit's harness the hub belongs to.
    pub harness: Harness,
}

/// The HTTP client: short retry delays, `timeout` per call.
pub fn http(timeout: Duration) -> HttpClient {
    HttpClient::builder()
        .timeout(timeout)
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}

pub async fn env() -> Env {
    env_with(http(Duration::from_secs(10))).await
}

pub async fn env_with(http: HttpClient) -> Env {
    let server = MockServer::start().await;
    let catch_all = CatchAll::mount(&server).await;
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let config =
        MetaConfig::new(APP_ID, ClientSecret::new(APP_SECRET)).with_graph_base(base.clone());
    let client = MetaClient::new(config, http.clone());
    let mut harness = Harness::builder().http(http);
    for product in [
        MetaProduct::Facebook,
        MetaProduct::Instagram,
        MetaProduct::WhatsApp,
    ] {
        harness = harness.platform(Arc::new(
            FacebookLogin::new(client.clone(), product).unwrap(),
        ));
    }
    let harness = harness.build();
    Env {
        server,
        catch_all,
        client,
        hub: harness.hub.clone(),
        log: harness.log.clone(),
        subject: harness.subject.clone(),
        harness,
    }
}

pub fn platform_of(product: MetaProduct) -> PlatformId {
    match product {
        MetaProduct::Facebook => PlatformId::FACEBOOK,
        MetaProduct::Instagram => PlatformId::INSTAGRAM,
        _ => PlatformId::WHATSAPP,
    }
}

/// `/{version}/{rest}`.
pub fn graph(rest: &str) -> String {
    format!("/{GRAPH_API_VERSION}/{rest}")
}

impl Env {
    /// A session on a stored connection of `product` (token stored directly, never
    /// expiring), with consent recorded for account connection and `purpose`.
    pub async fn session(&self, product: MetaProduct, purpose: Purpose) -> Session {
        let tokens = TokenSet::new(AccessToken::new(USER_TOKEN), Expiry::Never, Utc::now());
        self.harness
            .session_with_tokens(&platform_of(product), &tokens, purpose)
            .await
    }

    /// The Page of `pages/accounts.json`, read through `GET /me/accounts` with the user token.
    ///
    /// Mocks here are never scoped (`mount_as_scoped`): wiremock 0.6 re-sorts its mocks by
    /// priority on each request while scoped guards keep an index, so with the catch-all's
    /// priority a dropped guard can switch off another mock.
    pub async fn page(&self, session: &Session) -> PageAccount {
        JsonMock::new("GET", graph("me/accounts"), fixture!("pages/accounts"))
            .and(header(
                "authorization",
                format!("Bearer {USER_TOKEN}").as_str(),
            ))
            .and(query_param("appsecret_proof", self.proof(USER_TOKEN)))
            .up_to_n_times(1)
            .expect(1)
            .mount(&self.server)
            .await;
        self.client.page_account(session, PAGE_ID).await.unwrap()
    }

    /// The `appsecret_proof` expected with `token`.
    pub fn proof(&self, token: &str) -> String {
        self.client.appsecret_proof(&AccessToken::new(token))
    }

    /// The operations of the subject's usage-log entries, in order.
    pub async fn operations(&self) -> Vec<String> {
        self.log
            .entries(&self.subject)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.operation)
            .collect()
    }

    /// How many requests reached `path_suffix` (any method).
    pub async fn hits(&self, path_suffix: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with(path_suffix))
            .count()
    }
}
