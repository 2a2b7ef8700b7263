//! [`JsonMock`]: one call to mount a JSON answer (usually a fixture) on a mock server.
//!
//! Tests used to spell the same five lines for every endpoint they stub: the method and path
//! matchers, a status, headers, a JSON body read from a fixture, and the mount. With
//! [`JsonMock`] that is one expression:
//!
//! ```no_run
//! # async fn demo(server: &wiremock::MockServer) {
//! use socialconnect_testkit::{JsonMock, fixture};
//!
//! JsonMock::new("GET", "/v26.0/me/accounts", fixture!("pages/accounts"))
//!     .header("x-app-usage", r#"{"call_count":1}"#)
//!     .expect(1)
//!     .mount(server)
//!     .await;
//! JsonMock::new("POST", "/v26.0/123/feed", fixture!("pages/error_permission"))
//!     .status(400)
//!     .mount(server)
//!     .await;
//! # }
//! ```
//!
//! A bare status with no body at all (a proxy's `502`, say) is [`JsonMock::empty`], and a slow
//! answer takes a [`delay`](JsonMock::delay).

use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, ResponseTemplate};

/// A JSON answer (or, with [`JsonMock::empty`], no body) on `method path`, with a status
/// (default 200), headers, a delay, optional extra matchers and expectations, mounted with
/// [`mount`](Self::mount).
#[must_use = "a JsonMock does nothing until mounted"]
pub struct JsonMock {
    given: MockBuilder,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
    raw_body: Option<String>,
    /// `None` for an answer without a body.
    content_type: Option<&'static str>,
    delay: Option<Duration>,
    up_to: Option<u64>,
    expect: Option<u64>,
    priority: Option<u8>,
}

impl std::fmt::Debug for JsonMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonMock")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl JsonMock {
    /// Answers `method path` (the path exactly) with `200` and `body`, typically
    /// [`fixture!`](crate::fixture)`("name")`.
    pub fn new(http_method: &str, url_path: impl Into<String>, body: Value) -> Self {
        Self {
            given: Mock::given(method(http_method)).and(path(url_path.into())),
            status: 200,
            headers: Vec::new(),
            body,
            raw_body: None,
            content_type: Some("application/json"),
            delay: None,
            up_to: None,
            expect: None,
            priority: None,
        }
    }

    /// Answers `method path` with `200` and no body and no `Content-Type` at all, for a bare
    /// status such as a gateway's `502` (set it with [`status`](Self::status)).
    pub fn empty(http_method: &str, url_path: impl Into<String>) -> Self {
        Self {
            content_type: None,
            ..Self::new(http_method, url_path, Value::Null)
        }
    }

    /// The HTTP status (default 200).
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces `placeholder` in the serialised body with `value` (e.g. `{{BASE}}` in a
    /// fixture's `paging.next` with the mock server's address).
    pub fn replace(mut self, placeholder: &str, value: &str) -> Self {
        let text = self
            .raw_body
            .take()
            .unwrap_or_else(|| self.body.to_string());
        self.raw_body = Some(text.replace(placeholder, value));
        self
    }

    /// Holds the answer back for `delay` (to run past a client's timeout, or widen a race).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Matches only requests `matcher` also accepts (a header, a query parameter…).
    pub fn and(mut self, matcher: impl Match + 'static) -> Self {
        self.given = self.given.and(matcher);
        self
    }

    /// Answers at most `n` requests; later ones fall through to other mocks.
    pub fn up_to_n_times(mut self, n: u64) -> Self {
        self.up_to = Some(n);
        self
    }

    /// Expects exactly `n` matching requests, verified when the server drops.
    pub fn expect(mut self, n: u64) -> Self {
        self.expect = Some(n);
        self
    }

    /// The wiremock priority (1 is highest; default 5).
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Mounts the mock on `server`.
    pub async fn mount(self, server: &MockServer) {
        let body = self.raw_body.unwrap_or_else(|| self.body.to_string());
        let mut template = ResponseTemplate::new(self.status);
        for (name, value) in &self.headers {
            template = template.append_header(name.as_str(), value.as_str());
        }
        if let Some(content_type) = self.content_type {
            template = template.set_body_raw(body, content_type);
        }
        if let Some(delay) = self.delay {
            template = template.set_delay(delay);
        }
        let mut mock = self.given.respond_with(template);
        if let Some(n) = self.up_to {
            mock = mock.up_to_n_times(n);
        }
        if let Some(n) = self.expect {
            mock = mock.expect(n);
        }
        if let Some(p) = self.priority {
            mock = mock.with_priority(p);
        }
        mock.mount(server).await;
    }
}
