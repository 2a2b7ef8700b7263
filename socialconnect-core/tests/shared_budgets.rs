//! The HTTP client with shared rate budgets: every countable limit is admitted through them
//! (windows wait out a "retry after", a spent daily budget refuses before sending), an
//! unreachable budget store fails the call closed, and each slot is settled after its call.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::NaiveDate;
use socialconnect_core::http::{
    Admission, ApiRequest, BudgetKey, DailyBudget, HttpClient, PlatformLimits, RateBudgets,
    RetryPolicy, SlotTicket, Window,
};
use socialconnect_core::id::{ConnectionId, PlatformId};
use socialconnect_core::{Error, ErrorKind, Result};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Records what the client asked; refuses the first `busy` admissions, fails when `down`,
/// and says a daily budget is spent once `day_limit` charges are counted.
#[derive(Default)]
struct Recorder {
    log: Mutex<Vec<String>>,
    busy: Mutex<u32>,
    down: bool,
    paused: Mutex<Option<(BudgetKey, SystemTime)>>,
}

#[async_trait]
impl RateBudgets for Recorder {
    async fn admit(
        &self,
        key: &BudgetKey,
        window: &Window,
        _now: SystemTime,
        hold: Duration,
    ) -> Result<Admission> {
        if self.down {
            return Err(Error::storage_msg("the database is unreachable"));
        }
        let mut busy = self.busy.lock().unwrap();
        if *busy > 0 {
            *busy -= 1;
            self.log.lock().unwrap().push(format!("busy {key}"));
            return Ok(Admission::RetryAfter(Duration::from_millis(5)));
        }
        assert!(hold >= window.per, "a slot is held at least one window");
        self.log.lock().unwrap().push(format!("admit {key}"));
        Ok(Admission::Admitted(SlotTicket::new(0, 1)))
    }

    async fn settle(&self, key: &BudgetKey, _ticket: &SlotTicket, _done: SystemTime) -> Result<()> {
        self.log.lock().unwrap().push(format!("settle {key}"));
        Ok(())
    }

    async fn pause(&self, key: &BudgetKey, until: SystemTime) -> Result<()> {
        *self.paused.lock().unwrap() = Some((key.clone(), until));
        Ok(())
    }

    async fn paused_until(&self, key: &BudgetKey) -> Result<Option<SystemTime>> {
        if self.down {
            return Err(Error::storage_msg("the database is unreachable"));
        }
        let paused = self.paused.lock().unwrap();
        Ok(paused.as_ref().filter(|(k, _)| k == key).map(|(_, t)| *t))
    }

    async fn charge_day(&self, key: &BudgetKey, limit: u32, _day: NaiveDate) -> Result<bool> {
        let mut log = self.log.lock().unwrap();
        let counted = log.iter().filter(|l| **l == format!("day {key}")).count();
        if counted >= limit as usize {
            return Ok(false);
        }
        log.push(format!("day {key}"));
        Ok(true)
    }
}

fn limits() -> PlatformLimits {
    PlatformLimits::default()
        .with_operation("video.", Window::new(5, Duration::from_secs(60)))
        .with_app_operation("video.list", Window::new(40, Duration::from_secs(2)))
        .with_daily(DailyBudget::new("video.list").per_app(2))
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

fn client(budgets: Arc<Recorder>) -> HttpClient {
    HttpClient::builder()
        .rate_limits(PlatformId::TIKTOK, limits())
        .shared_budgets(budgets)
        .build()
        .unwrap()
}

fn request(server: &MockServer, conn: ConnectionId) -> ApiRequest {
    ApiRequest::get(format!("{}/v2/video/list", server.uri()).parse().unwrap())
        .platform(PlatformId::TIKTOK)
        .app("app-1")
        .connection(conn)
        .operation("video.list")
}

#[tokio::test]
async fn every_countable_limit_goes_through_the_shared_budgets() {
    let server = server().await;
    let budgets = Arc::new(Recorder::default());
    *budgets.busy.lock().unwrap() = 2;
    let http = client(budgets.clone());
    let conn = ConnectionId::generate();
    http.send(request(&server, conn)).await.unwrap();
    let user = format!("tiktok|conn:{conn}|op:video.:5/60000ms");
    let app = "tiktok|app:app-1|op:video.list:40/2000ms";
    let day = "tiktok|app:app-1|day:video.list";
    assert_eq!(
        *budgets.log.lock().unwrap(),
        [
            format!("day {day}"),
            // The longest window first; two "retry after"s are waited out.
            format!("busy {user}"),
            format!("busy {user}"),
            format!("admit {user}"),
            format!("admit {app}"),
            format!("settle {user}"),
            format!("settle {app}"),
        ]
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    // Nothing counted in this process.
    assert!(http.daily_usage(&PlatformId::TIKTOK).is_empty());

    // The daily budget of 2 is spent after the second call: the third is refused unsent.
    http.send(request(&server, conn)).await.unwrap();
    let err = http.send(request(&server, conn)).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Throttled {
                retry_after: Some(_)
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_budget_store_fails_the_call_closed() {
    let server = server().await;
    let budgets = Arc::new(Recorder {
        down: true,
        ..Recorder::default()
    });
    let http = client(budgets);
    let err = http
        .send(request(&server, ConnectionId::generate()).operation("video.query"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn only_requests_without_a_platform_skip_the_budgets() {
    let server = server().await;
    let budgets = Arc::new(Recorder {
        down: true,
        ..Recorder::default()
    });
    let http = client(budgets);
    // A platform without limits may still be paused by another instance: not known, not sent.
    let req = request(&server, ConnectionId::generate()).platform(PlatformId::LINKEDIN);
    assert_eq!(http.send(req).await.unwrap_err().kind(), ErrorKind::Storage);
    let untagged = ApiRequest::get(format!("{}/x", server.uri()).parse().unwrap());
    http.send(untagged).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_pause_one_instance_is_told_holds_every_instance() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .mount(&server)
        .await;
    let budgets = Arc::new(Recorder::default());
    let instance = |budgets: Arc<Recorder>| {
        HttpClient::builder()
            .shared_budgets(budgets)
            .retry(RetryPolicy::none().with_max_retry_after(Duration::from_millis(100)))
            .build()
            .unwrap()
    };
    let (one, other) = (instance(budgets.clone()), instance(budgets.clone()));
    let req = || request(&server, ConnectionId::generate()).platform(PlatformId::FACEBOOK);
    assert_eq!(one.send(req()).await.unwrap().status(), 429);
    // The pause is recorded in the background.
    while budgets.paused.lock().unwrap().is_none() {
        tokio::task::yield_now().await;
    }
    let err = other.send(req()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Throttled { retry_after: Some(d) } if d > Duration::from_secs(20)),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
