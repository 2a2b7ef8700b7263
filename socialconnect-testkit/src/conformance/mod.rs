//! The conformance suite: the same checks, under the same inputs and faults, for every
//! platform crate.
//!
//! A platform crate calls [`run`] from one of its tests with its simulator (anything that
//! implements [`Simulator`]) and a [`Suite`]: how to build its [`Platform`] on an HTTP client,
//! the clock its simulator runs on, two or more scopes, and one read and one write operation
//! (closures over a [`Session`], with the method and path the suite may fault). [`run`]
//! returns a [`Report`] with one line per case; [`Report::assert_passed`] fails the test
//! naming every failed case.
//!
//! The cases, whose names read as the specification:
//!
//! - `authorize_url::…`: the client is named with the dialect's parameter, scopes are joined
//!   with its separator, PKCE (S256) is sent exactly when the dialect takes it, every
//!   authorization gets a fresh state, and a state completes once;
//! - `code_exchange::…`: the code is exchanged once and the tokens and account are stored;
//! - `refresh::…`: a token near its expiry is refreshed once and the new tokens (a rotated
//!   refresh token included) are stored and used for the next refresh; `invalid_grant` (or the
//!   platform's equivalent) means reconnect, and asking again does not refresh again;
//! - `revoke::…`: disconnecting revokes upstream exactly once, or says revocation is not
//!   offered, and deletes the tokens;
//! - `callback::…`: a denial is `AuthorizationDenied`; an unknown, missing or foreign state and
//!   a missing code are refused without a token request; a stray `#_=_` fragment is ignored;
//! - `fault_matrix::{read,write}::<fault>::<expected kind>`: for each [`Fault`] (500, 502,
//!   503, 429 with and without `Retry-After`, a timeout, a connection reset, truncated JSON, an
//!   HTML error page, an empty body, a wrong content type, a 20 MiB body), the operation ends
//!   in the expected typed error without a panic or a hang, the stored token is intact (same
//!   token, same version, still active), the error shows no token, a read is retried at most
//!   [`READ_ATTEMPTS`] times in all, and a write reaches the platform exactly once.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//!
//! use chrono::Utc;
//! use socialconnect_core::id::{PlatformId, Purpose, Scope};
//! use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
//! use socialconnect_core::platform::{OAuthSpec, Platform};
//! use socialconnect_core::secret::ClientSecret;
//! use socialconnect_testkit::conformance::{self, Operation, Suite};
//! use socialconnect_testkit::{ManualClock, OAuthSimulator};
//!
//! let clock = Arc::new(ManualClock::new(Utc::now()));
//! let sim = OAuthSimulator::builder().clock(clock.clone()).start().await;
//! let (authorize, token, me) = (sim.authorize_url(), sim.token_url(), sim.userinfo_url());
//! let (client_id, secret) = (sim.client_id().to_owned(), sim.client_secret().to_owned());
//! let platform_clock = clock.clone();
//! let suite = Suite::new(PlatformId::LINKEDIN, clock, move |http| {
//!     let spec = OAuthSpec::new(PlatformId::LINKEDIN, &client_id, authorize.clone(), token.clone());
//!     let oauth = OAuthClient::new(
//!         spec,
//!         ClientSecret::new(secret.clone()),
//!         http.clone(),
//!         platform_clock.clone(),
//!     );
//!     Arc::new(StandardPlatform::new(oauth, me.clone())) as Arc<dyn Platform>
//! })
//! .scopes(&Scope::parse_list("profile w_member_social"));
//! // .read(Operation::new(…)).write(Operation::new(…)) for the fault matrix
//! let report = conformance::run(&sim, suite).await;
//! println!("{report}");
//! report.assert_passed();
//! # }
//! ```

mod cases;
mod faults;
mod matrix;
mod report;
mod simulator;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Platform;
use socialconnect_core::{RefreshPolicy, Result, Session};

pub use faults::{Fault, HUGE_BODY_BYTES};
pub use report::{CaseOutcome, CaseResult, Report};
pub use simulator::Simulator;

use crate::{Harness, ManualClock};

/// Attempts in all a faulted read may make (the suite's client retries once).
pub const READ_ATTEMPTS: u32 = 2;

/// The client timeout in the timeout cases (elsewhere 10 s).
pub const FAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest a case may run before it counts as hung.
const CASE_DEADLINE: Duration = Duration::from_secs(60);

type MakePlatform = Arc<dyn Fn(&HttpClient) -> Arc<dyn Platform> + Send + Sync>;
type Call = Arc<dyn Fn(Session) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

/// One platform operation the fault matrix drives: a closure over a [`Session`] and the
/// request (method and exact path) the suite may fault.
///
/// The closure may make other requests first (a read of the Page before a post, say); only
/// requests to `method path` are faulted and counted.
#[derive(Clone)]
pub struct Operation {
    name: String,
    method: String,
    path: String,
    purpose: Purpose,
    call: Call,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("name", &self.name)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// `name` (for messages), the `method` and exact `path` the suite faults, the `purpose`
    /// the session is opened for, and the call itself. Build the platform's API client inside
    /// `call` from [`Session::http`] when it needs one, so the suite's client settings apply.
    pub fn new<F, Fut, T>(
        name: impl Into<String>,
        method: &str,
        path: impl Into<String>,
        purpose: Purpose,
        call: F,
    ) -> Self
    where
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let call = Arc::new(call);
        Self {
            name: name.into(),
            method: method.to_ascii_uppercase(),
            path: path.into(),
            purpose,
            call: Arc::new(move |session| {
                let fut = call(session);
                Box::pin(async move { fut.await.map(drop) })
            }),
        }
    }
}

/// What the suite runs against: the platform (built per case on the suite's HTTP client), the
/// clock its simulator runs on, the scopes to ask for, and the operations of the fault
/// matrix.
#[must_use = "a suite does nothing until passed to `conformance::run`"]
pub struct Suite {
    platform: PlatformId,
    clock: Arc<ManualClock>,
    make_platform: MakePlatform,
    scopes: Vec<Scope>,
    read: Option<Operation>,
    write: Option<Operation>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("platform", &self.platform)
            .field("scopes", &self.scopes)
            .field("read", &self.read)
            .field("write", &self.write)
            .finish_non_exhaustive()
    }
}

impl Suite {
    /// A suite for `platform`. `clock` must be the clock the simulator was started with (the
    /// refresh cases move it); `make_platform` builds the platform value on the HTTP client it
    /// is given (every case gets a fresh client, so a pause one case provokes cannot leak into
    /// the next).
    pub fn new(
        platform: PlatformId,
        clock: Arc<ManualClock>,
        make_platform: impl Fn(&HttpClient) -> Arc<dyn Platform> + Send + Sync + 'static,
    ) -> Self {
        Self {
            platform,
            clock,
            make_platform: Arc::new(make_platform),
            scopes: Vec::new(),
            read: None,
            write: None,
        }
    }

    /// The scopes to connect with; at least two, so the separator shows.
    pub fn scopes(mut self, scopes: &[Scope]) -> Self {
        self.scopes = scopes.to_vec();
        self
    }

    /// The read operation of the fault matrix.
    pub fn read(mut self, operation: Operation) -> Self {
        self.read = Some(operation);
        self
    }

    /// The write operation of the fault matrix.
    pub fn write(mut self, operation: Operation) -> Self {
        self.write = Some(operation);
        self
    }
}

/// Runs every case against `sim` and returns the report; see the [module](self) for the
/// cases. Without a read or write operation, its half of the fault matrix is one failed case
/// saying so.
pub async fn run(sim: &dyn Simulator, suite: Suite) -> Report {
    let cx = Ctx { sim, suite: &suite };
    let mut report = Report::new(format!("conformance of {}", suite.platform));
    cases::run(&cx, &mut report).await;
    matrix::run(&cx, &mut report).await;
    report
}

/// What a case returns: its outcome, or why it failed.
pub(crate) type Check = std::result::Result<CaseOutcome, String>;

/// `Err(message)` from a case unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}
pub(crate) use ensure;

/// Runs one case: a panic or a hang is a failure, not the end of the suite.
pub(crate) async fn record(report: &mut Report, name: String, case: impl Future<Output = Check>) {
    let outcome =
        match tokio::time::timeout(CASE_DEADLINE, AssertUnwindSafe(case).catch_unwind()).await {
            Err(_) => CaseOutcome::Failed(format!("no result within {CASE_DEADLINE:?}")),
            Ok(Err(panic)) => {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                CaseOutcome::Failed(format!("panicked: {text}"))
            }
            Ok(Ok(Ok(outcome))) => outcome,
            Ok(Ok(Err(why))) => CaseOutcome::Failed(why),
        };
    report.cases.push(CaseResult { name, outcome });
}

/// The simulator and the suite, and the fresh environment each case builds from them.
pub(crate) struct Ctx<'a> {
    sim: &'a dyn Simulator,
    suite: &'a Suite,
}

impl Ctx<'_> {
    /// A hub over fresh memory stores with the platform on a fresh client (`timeout`, at most
    /// [`READ_ATTEMPTS`] attempts a few milliseconds apart, no `Retry-After` waited beyond
    /// one second) and no token cache, so each session reads the store.
    fn harness(&self, timeout: Duration) -> Harness {
        let http = HttpClient::builder()
            .timeout(timeout)
            .retry(
                RetryPolicy::default()
                    .with_max_attempts(READ_ATTEMPTS)
                    .with_delays(Duration::from_millis(1), Duration::from_millis(5))
                    .with_max_retry_after(Duration::from_secs(1)),
            )
            .build()
            .expect("the suite's HTTP client builds");
        let platform = (self.suite.make_platform)(&http);
        Harness::builder()
            .platform(platform)
            .clock(self.suite.clock.clone())
            .http(http)
            .refresh_policy(
                RefreshPolicy::default()
                    .with_cache_ttl(Duration::ZERO)
                    .with_lease(Duration::from_secs(30), Duration::from_millis(5)),
            )
            .build()
    }
}
