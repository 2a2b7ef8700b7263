//! A lowest-priority mock that answers, records and reports every request no other mock matched.
//!
//! wiremock answers an unmatched request with a bare `404`, which the code under test may well
//! read as "not found" and carry on. The catch-all answers [`UNEXPECTED_STATUS`] instead, with
//! a body naming the route, and remembers the request so the test fails even when the code
//! under test swallowed the error.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The status the catch-all answers with: outside every range a real server uses, so it cannot
/// be mistaken for a platform's answer.
pub const UNEXPECTED_STATUS: u16 = 599;

/// One request that reached a mock server without matching any mounted mock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnexpectedRequest {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The URL path, e.g. `/v21.0/me`.
    pub path: String,
    /// The raw query string, if any. Kept apart from [`Display`](fmt::Display) because it may
    /// hold a token.
    pub query: Option<String>,
}

impl fmt::Display for UnexpectedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

type Log = Arc<Mutex<Vec<UnexpectedRequest>>>;

fn lock(log: &Log) -> MutexGuard<'_, Vec<UnexpectedRequest>> {
    // The log is a plain list; a panic elsewhere cannot leave it half-written.
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The handle on a mounted catch-all mock.
///
/// Call [`assert_no_unexpected`](Self::assert_no_unexpected) at the end of a test, or just let
/// the handle drop: dropping it with unexpected requests still recorded panics with a message
/// such as `unexpected request: GET /foo`. A test that provokes unexpected requests on purpose
/// takes them with [`take`](Self::take) first.
///
/// ```no_run
/// # async fn demo() {
/// use socialconnect_testkit::CatchAll;
/// use wiremock::MockServer;
///
/// let server = MockServer::start().await;
/// let catch_all = CatchAll::mount(&server).await;
/// // ... mount the expected mocks, run the code under test ...
/// catch_all.assert_no_unexpected();
/// # }
/// ```
#[derive(Debug)]
pub struct CatchAll {
    log: Log,
}

impl CatchAll {
    /// Mounts the catch-all on `server` with the lowest priority (`u8::MAX`), so every other
    /// mock, mounted before or after, takes precedence.
    pub async fn mount(server: &MockServer) -> Self {
        let log = Log::default();
        Mock::given(any())
            .respond_with(Recorder {
                log: Arc::clone(&log),
            })
            .with_priority(u8::MAX)
            .named("catch-all: unexpected request")
            .mount(server)
            .await;
        Self { log }
    }

    /// The unexpected requests recorded so far, oldest first.
    pub fn requests(&self) -> Vec<UnexpectedRequest> {
        lock(&self.log).clone()
    }

    /// Returns the unexpected requests recorded so far and forgets them, for tests that send
    /// such requests on purpose.
    pub fn take(&self) -> Vec<UnexpectedRequest> {
        std::mem::take(&mut *lock(&self.log))
    }

    /// Panics, naming every route, if any unexpected request was recorded.
    #[track_caller]
    pub fn assert_no_unexpected(&self) {
        let seen = self.take();
        if let Some(message) = report(&seen) {
            panic!("{message}");
        }
    }
}

impl Drop for CatchAll {
    fn drop(&mut self) {
        // Panicking while already unwinding would abort the test binary and hide the first
        // failure, which is the one worth reading.
        if std::thread::panicking() {
            return;
        }
        if let Some(message) = report(&self.take()) {
            panic!("{message}");
        }
    }
}

/// `unexpected request: GET /a` for one request, a numbered list for several.
fn report(seen: &[UnexpectedRequest]) -> Option<String> {
    match seen {
        [] => None,
        [one] => Some(format!("unexpected request: {one}")),
        many => {
            let mut message = format!("{} unexpected requests:", many.len());
            for r in many {
                message.push_str(&format!("\n  unexpected request: {r}"));
            }
            Some(message)
        }
    }
}

struct Recorder {
    log: Log,
}

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let seen = UnexpectedRequest {
            method: request.method.as_str().to_owned(),
            path: request.url.path().to_owned(),
            query: request.url.query().map(str::to_owned),
        };
        let body = format!("unexpected request: {seen}");
        lock(&self.log).push(seen);
        ResponseTemplate::new(UNEXPECTED_STATUS).set_body_string(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str) -> UnexpectedRequest {
        UnexpectedRequest {
            method: method.into(),
            path: path.into(),
            query: None,
        }
    }

    #[test]
    fn report_names_every_route() {
        assert_eq!(report(&[]), None);
        assert_eq!(
            report(&[req("GET", "/foo")]).as_deref(),
            Some("unexpected request: GET /foo")
        );
        let many = report(&[req("GET", "/a"), req("POST", "/b")]).expect("two requests");
        assert!(many.starts_with("2 unexpected requests:"));
        assert!(many.contains("unexpected request: GET /a"));
        assert!(many.contains("unexpected request: POST /b"));
    }
}
