//! The toy platform of CONTRIBUTING.md ("Adding a platform"), built only from the documented
//! steps, passing the conformance suite.
//!
//! Step 1, the dialect: an RFC 6749 provider is an [`OAuthSpec`] on core's
//! [`StandardPlatform`]. Step 2, the API client: functions over a [`Session`] through one
//! [`ApiCaller`] with the toy's error table. Step 3, the
//! simulator: the test kit's [`OAuthSimulator`] for OAuth, its API routes mounted from
//! fixtures with [`JsonMock`]. Step 4: [`conformance::run`].

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use socialconnect_core::connect::classify::Classifiers;
use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::{OAuthSpec, Platform};
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{ApiCaller, Session};
use socialconnect_testkit::conformance::{self, Operation, Suite};
use socialconnect_testkit::{JsonMock, ManualClock, OAuthSimulator, fixture};
use url::Url;

// ---- step 1: the platform ------------------------------------------------------------------

fn toy_id() -> PlatformId {
    PlatformId::new("toy").expect("a valid platform id")
}

/// Where the toy's endpoints are and who the app is (the simulator's, in tests).
#[derive(Clone)]
struct ToyApp {
    client_id: String,
    client_secret: String,
    authorize: Url,
    token: Url,
    revoke: Url,
    me: Url,
}

impl ToyApp {
    fn of(sim: &OAuthSimulator) -> Self {
        Self {
            client_id: sim.client_id().to_owned(),
            client_secret: sim.client_secret().to_owned(),
            authorize: sim.authorize_url(),
            token: sim.token_url(),
            revoke: sim.revoke_url(),
            me: sim.userinfo_url(),
        }
    }
}

/// The toy's OAuth dialect: RFC 6749 with comma-separated scopes, PKCE and RFC 7009
/// revocation.
fn toy_platform(app: &ToyApp, http: &HttpClient, clock: Arc<ManualClock>) -> StandardPlatform {
    let spec = OAuthSpec::new(
        toy_id(),
        &app.client_id,
        app.authorize.clone(),
        app.token.clone(),
    )
    .with_scope_separator(",")
    .with_revoke_url(app.revoke.clone());
    let secret = ClientSecret::new(app.client_secret.clone());
    let oauth = OAuthClient::new(spec, secret, http.clone(), clock);
    StandardPlatform::new(oauth, app.me.clone())
}

// ---- step 2: the API client ----------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Note {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Notes {
    notes: Vec<Note>,
}

/// The toy's API: list notes (a read) and create one (a write).
#[derive(Clone)]
struct ToyClient {
    base: Url,
    caller: ApiCaller,
}

impl ToyClient {
    /// The toy's errors: `{"error": {"code": 12, "message": "..."}}`; code 12 is its quota.
    fn new(base: Url) -> Self {
        let errors = ErrorMap::new(
            EnvelopeFormat::at("/error")
                .code("/code")
                .message("/message"),
        )
        .rule(Rule::code(12).to(Outcome::Throttled));
        Self {
            base,
            caller: ApiCaller::new(Classifiers::new().with(errors)),
        }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative API path")
    }

    async fn notes(&self, session: &Session) -> socialconnect_core::Result<Vec<String>> {
        let req = ApiRequest::get(self.url("api/v1/notes")).operation("toy.notes");
        let notes: Notes = self.caller.send_json(session, req).await?;
        Ok(notes.notes.into_iter().map(|n| n.id).collect())
    }

    async fn create_note(
        &self,
        session: &Session,
        text: &str,
    ) -> socialconnect_core::Result<String> {
        let req = ApiRequest::post(self.url("api/v1/notes"))
            .json(&serde_json::json!({ "text": text }))?
            .operation("toy.create_note");
        let note: Note = self.caller.send_write(session, req).await?;
        Ok(note.id)
    }
}

// ---- step 3: the simulator -----------------------------------------------------------------

async fn toy_simulator(clock: Arc<ManualClock>) -> OAuthSimulator {
    let sim = OAuthSimulator::builder()
        .clock(clock)
        .scope_separator(",")
        .access_token_lifetime(Duration::from_secs(3600))
        .rotate_refresh_tokens(true)
        .start()
        .await;
    JsonMock::new("GET", "/api/v1/notes", fixture!("toy/notes"))
        .mount(sim.server())
        .await;
    JsonMock::new("POST", "/api/v1/notes", fixture!("toy/created"))
        .status(201)
        .mount(sim.server())
        .await;
    sim
}

// ---- step 4: the suite ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toy_platform_passes_the_conformance_suite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = toy_simulator(clock.clone()).await;
    let client = ToyClient::new(sim.base_url());

    let (app, platform_clock) = (ToyApp::of(&sim), clock.clone());
    let read_client = client.clone();
    let write_client = client.clone();
    let suite = Suite::new(toy_id(), clock, move |http| {
        Arc::new(toy_platform(&app, http, platform_clock.clone())) as Arc<dyn Platform>
    })
    .scopes(&Scope::parse_list("notes.read notes.write"))
    .read(Operation::new(
        "list notes",
        "GET",
        "/api/v1/notes",
        Purpose::ReadingContent,
        move |s| {
            let c = read_client.clone();
            async move { c.notes(&s).await }
        },
    ))
    .write(Operation::new(
        "create a note",
        "POST",
        "/api/v1/notes",
        Purpose::Publishing,
        move |s| {
            let c = write_client.clone();
            async move { c.create_note(&s, "hello").await }
        },
    ));

    let report = conformance::run(&sim, suite).await;
    println!("{report}");
    report.assert_passed();
    assert!(report.case_count() >= 40, "{} cases", report.case_count());
}

#[tokio::test]
async fn the_toy_quota_error_is_a_rate_limit_with_its_code_kept() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = toy_simulator(clock.clone()).await;
    let harness = socialconnect_testkit::Harness::builder()
        .platform(Arc::new(toy_platform(
            &ToyApp::of(&sim),
            &socialconnect_testkit::test_http_client(),
            clock.clone(),
        )))
        .clock(clock)
        .build();
    let connected = harness
        .connect(&toy_id(), &Scope::parse_list("notes.read"), |url| {
            sim.authorize(url)
        })
        .await;
    let session = harness
        .session(&connected.key, Purpose::ReadingContent)
        .await;
    JsonMock::new("GET", "/api/v1/notes", fixture!("toy/error_quota"))
        .status(400)
        .priority(1)
        .mount(sim.server())
        .await;
    let client = ToyClient::new(sim.base_url());
    let err = client.notes(&session).await.unwrap_err();
    assert!(matches!(
        err.kind(),
        socialconnect_core::ErrorKind::Throttled { .. }
    ));
    let detail = err.platform_error().expect("the toy's envelope is kept");
    assert_eq!((detail.code, detail.http_status), (Some(12), Some(400)));
}
