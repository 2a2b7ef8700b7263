//! Shared by the scheduled-action tests across processes: a posting endpoint that counts
//! every post by its text, an executor that posts and reconciles against it, and a hub of one
//! process over the shared store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::automation::{ActionExecutor, ActionRun, ActionStore, Reconciliation};
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::memory::MemoryAccessLog;
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{Result, SocialConnect};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;
use url::Url;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const KIND: &str = "test.post";

pub fn platform() -> PlatformId {
    PlatformId::new("simulated").unwrap()
}

#[derive(Debug, Default)]
struct Board {
    /// Post id by text, in the order they were made.
    ids: HashMap<String, u64>,
    /// Every POST received, by text (a text posted twice counts 2).
    received: HashMap<String, u32>,
    /// How long each answer to a POST is held back.
    delay: Option<Duration>,
}

/// A platform's "create a post" (`POST /posts {text}`) and "find a post" (`GET
/// /posts?text=…`) endpoints.
#[derive(Debug, Clone, Default)]
pub struct Posts(Arc<Mutex<Board>>);

impl Posts {
    /// Holds back every answer to a POST by `delay` (the post itself is made at once).
    pub fn delay_answers(&self, delay: Duration) {
        self.0.lock().unwrap().delay = Some(delay);
    }
    /// POSTs received in all.
    pub fn received(&self) -> u64 {
        self.0
            .lock()
            .unwrap()
            .received
            .values()
            .map(|&n| u64::from(n))
            .sum()
    }
    /// POSTs received per text.
    pub fn received_by_text(&self) -> HashMap<String, u32> {
        self.0.lock().unwrap().received.clone()
    }

    /// Serves the endpoints.
    pub async fn serve(&self) -> (MockServer, Url) {
        // Thousands of posts: the board counts them; the server need not keep each request.
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(path("/posts"))
            .respond_with(self.clone())
            .mount(&server)
            .await;
        let base = Url::parse(&format!("{}/", server.uri())).unwrap();
        (server, base)
    }
}

impl Respond for Posts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut board = self.0.lock().unwrap();
        if request.method.as_str() == "GET" {
            let text = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "text")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let data: Vec<Value> = board
                .ids
                .get(&text)
                .map(|id| json!({"id": id.to_string(), "text": text}))
                .into_iter()
                .collect();
            return ResponseTemplate::new(200).set_body_json(json!({ "data": data }));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let text = body["text"].as_str().unwrap().to_owned();
        *board.received.entry(text.clone()).or_default() += 1;
        let next = board.ids.len() as u64 + 1;
        let id = *board.ids.entry(text).or_insert(next);
        let answer = ResponseTemplate::new(200).set_body_json(json!({ "id": id.to_string() }));
        match board.delay {
            Some(delay) => answer.set_delay(delay),
            None => answer,
        }
    }
}

/// Runs `test.post` by POSTing `{text}`; reconciles by looking the text up.
pub struct PostExecutor {
    pub base: Url,
}

#[async_trait]
impl ActionExecutor for PostExecutor {
    fn platform(&self) -> PlatformId {
        platform()
    }
    fn kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }
    fn purpose(&self, kind: &str) -> Option<Purpose> {
        (kind == KIND).then_some(Purpose::Publishing)
    }
    fn check(&self, _kind: &str, payload: &Value) -> Result<()> {
        match payload["text"].as_str() {
            Some(_) => Ok(()),
            None => Err(socialconnect_core::Error::invalid_input(
                "a post needs a text",
            )),
        }
    }
    async fn run(&self, run: &mut ActionRun<'_>) -> Result<Value> {
        let url = self.base.join("posts").unwrap();
        let req = ApiRequest::post(url).json(run.payload())?.operation(KIND);
        let created: Value = run.session().send_json(req).await?;
        Ok(json!({ "post_id": created["id"] }))
    }
    async fn reconcile(&self, run: &mut ActionRun<'_>) -> Result<Reconciliation> {
        let text = run.payload()["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let url = self.base.join("posts").unwrap();
        let req = ApiRequest::get(url).query(&[("text", text.as_str())]);
        let list: Value = run.session().send_json(req).await?;
        Ok(match list["data"].as_array().and_then(|d| d.first()) {
            Some(p) => Reconciliation::Happened {
                result: json!({ "post_id": p["id"] }),
            },
            None => Reconciliation::NotHappened,
        })
    }
}

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [3; 32])], KeyId("k1".into())).unwrap(),
    )
}

/// The store at `db` (`sqlite:<path>` or a PostgreSQL URL).
pub async fn store(db: &str) -> EncryptedStore {
    match db.strip_prefix("sqlite:") {
        Some(file) => EncryptedStore::open_sqlite(file, keys()).await.unwrap(),
        None => EncryptedStore::open_postgres(db, keys()).await.unwrap(),
    }
}

/// One process's hub over the store at `db`, posting to `base`.
pub async fn hub(db: &str, base: &Url) -> (SocialConnect, EncryptedStore) {
    let store = store(db).await;
    let http = socialconnect_testkit::test_http_client();
    // OAuth is never used: the seeded tokens do not expire.
    let spec = OAuthSpec::new(
        platform(),
        "client",
        base.join("oauth/authorize").unwrap(),
        base.join("oauth/token").unwrap(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new("secret"),
        http.clone(),
        Arc::new(SystemClock),
    );
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(StandardPlatform::new(
            oauth,
            base.join("me").unwrap(),
        )))
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(MemoryAccessLog::default()) as Arc<dyn AccessLog>)
        .actions(Arc::new(store.clone()) as Arc<dyn ActionStore>)
        .executor(Arc::new(PostExecutor { base: base.clone() }))
        .build()
        .unwrap();
    (hub, store)
}

/// A connection of `subject` with tokens that never expire, and consent to connect and
/// publish.
pub async fn connect(store: &EncryptedStore, subject: &str) -> ConnectionKey {
    let subject = SubjectId::new(subject).unwrap();
    for purpose in [Purpose::AccountConnection, Purpose::Publishing] {
        let grant = ConsentEvent::grant(subject.clone(), purpose, Some(platform()), Utc::now());
        store.record(grant).await.unwrap();
    }
    let key = ConnectionKey::new(subject, platform(), ConnectionId::generate());
    let tokens = TokenSet::new(AccessToken::new("access"), Expiry::Never, Utc::now());
    store.put(&key, &tokens, None).await.unwrap();
    key
}
