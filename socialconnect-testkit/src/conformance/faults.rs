//! The fault matrix: what the mock answers instead of the platform, and what the platform crate
//! must make of it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use socialconnect_core::ErrorKind;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

/// The size of the oversized body: far past the HTTP layer's 8 MiB default cap.
pub const HUGE_BODY_BYTES: usize = 20 * 1024 * 1024;

/// How long the stalled answer of [`Fault::Timeout`] is held back: well past the suite's
/// client timeout ([`super::FAULT_TIMEOUT`]).
const STALL: Duration = Duration::from_secs(3);

/// One way the platform's answer can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `500` with a JSON body in no platform's error envelope.
    Status500,
    /// `502`, likewise.
    Status502,
    /// `503`, likewise.
    Status503,
    /// `429` with `Retry-After: 3600`, longer than any caller should wait inside a call.
    RateLimitedWithRetryAfter,
    /// `429` without `Retry-After`.
    RateLimitedWithoutRetryAfter,
    /// No answer until after the client's timeout.
    Timeout,
    /// The connection closes part-way through the answer.
    ConnectionReset,
    /// `200` with JSON cut off mid-value.
    TruncatedJson,
    /// `502` with a proxy's HTML error page.
    HtmlErrorPage,
    /// `200` with an empty body.
    EmptyBody,
    /// `200` with `text/html` where JSON belongs.
    WrongContentType,
    /// `200` with a 20 MiB JSON body.
    HugeBody,
}

impl Fault {
    /// Every fault, in the order the suite runs them.
    pub const ALL: [Fault; 12] = [
        Fault::Status500,
        Fault::Status502,
        Fault::Status503,
        Fault::RateLimitedWithRetryAfter,
        Fault::RateLimitedWithoutRetryAfter,
        Fault::Timeout,
        Fault::ConnectionReset,
        Fault::TruncatedJson,
        Fault::HtmlErrorPage,
        Fault::EmptyBody,
        Fault::WrongContentType,
        Fault::HugeBody,
    ];

    /// The case name's middle: what happened.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::Status500 => "http_500",
            Fault::Status502 => "http_502",
            Fault::Status503 => "http_503",
            Fault::RateLimitedWithRetryAfter => "http_429_with_retry_after",
            Fault::RateLimitedWithoutRetryAfter => "http_429_without_retry_after",
            Fault::Timeout => "timeout",
            Fault::ConnectionReset => "connection_reset",
            Fault::TruncatedJson => "truncated_json",
            Fault::HtmlErrorPage => "html_error_page",
            Fault::EmptyBody => "empty_body",
            Fault::WrongContentType => "wrong_content_type",
            Fault::HugeBody => "body_of_20_mib",
        }
    }

    /// The error kinds a read may end in, and how they read in the case name.
    pub(crate) fn read_expectation(self) -> Expectation {
        use Fault as F;
        match self {
            F::Status500 | F::Status502 | F::Status503 | F::HtmlErrorPage => {
                Expectation::new("is_transient", |k| k == ErrorKind::Transient)
            }
            F::Timeout | F::ConnectionReset => {
                Expectation::new("is_transient", |k| k == ErrorKind::Transient)
            }
            F::RateLimitedWithRetryAfter => Expectation::new("is_throttled_with_the_wait", |k| {
                matches!(
                    k,
                    ErrorKind::Throttled {
                        retry_after: Some(_)
                    }
                )
            }),
            F::RateLimitedWithoutRetryAfter => {
                Expectation::new("is_throttled", |k| matches!(k, ErrorKind::Throttled { .. }))
            }
            F::TruncatedJson | F::EmptyBody | F::WrongContentType | F::HugeBody => {
                Expectation::new("is_a_platform_error", |k| k == ErrorKind::Platform)
            }
        }
    }

    /// The error kinds a write may end in. Once the request may have reached the platform and
    /// no answer says it was refused, the outcome is unknown: `MaybeSent`.
    pub(crate) fn write_expectation(self) -> Expectation {
        use Fault as F;
        match self {
            F::Status500 | F::Status502 | F::Status503 | F::HtmlErrorPage => {
                Expectation::new("is_maybe_sent", |k| k == ErrorKind::MaybeSent)
            }
            F::Timeout | F::ConnectionReset => {
                Expectation::new("is_maybe_sent", |k| k == ErrorKind::MaybeSent)
            }
            F::RateLimitedWithRetryAfter => Expectation::new("is_throttled_with_the_wait", |k| {
                matches!(
                    k,
                    ErrorKind::Throttled {
                        retry_after: Some(_)
                    }
                )
            }),
            F::RateLimitedWithoutRetryAfter => {
                Expectation::new("is_throttled", |k| matches!(k, ErrorKind::Throttled { .. }))
            }
            // The platform answered 200: the write happened, its answer is unreadable.
            F::TruncatedJson | F::EmptyBody | F::WrongContentType | F::HugeBody => {
                Expectation::new("is_a_platform_error_or_maybe_sent", |k| {
                    matches!(k, ErrorKind::Platform | ErrorKind::MaybeSent)
                })
            }
        }
    }

    fn template(self, huge: &OnceLock<Vec<u8>>) -> ResponseTemplate {
        // A gateway's JSON, in no platform's error envelope: the status alone must decide.
        let json_error = |status: u16| {
            ResponseTemplate::new(status).set_body_raw(
                format!(r#"{{"message":"simulated upstream failure","status":{status}}}"#),
                "application/json",
            )
        };
        match self {
            Fault::Status500 => json_error(500),
            Fault::Status502 => json_error(502),
            Fault::Status503 => json_error(503),
            Fault::RateLimitedWithRetryAfter => {
                json_error(429).insert_header("retry-after", "3600")
            }
            Fault::RateLimitedWithoutRetryAfter => json_error(429),
            Fault::Timeout => json_error(200).set_delay(STALL),
            // A body shorter than its Content-Length. hyper refuses to send such an answer: in
            // debug builds its assertion ends the connection task (it prints a panic message
            // from the server thread, which is expected), in release builds it closes the
            // connection after the bytes it has. Either way the client sees the connection
            // end mid-message, as with a reset.
            Fault::ConnectionReset => ResponseTemplate::new(200)
                .set_body_raw(r#"{"id":"#, "application/json")
                .insert_header("content-length", "4096"),
            Fault::TruncatedJson => ResponseTemplate::new(200)
                .set_body_raw(r#"{"id":"1234","data":[{"na"#, "application/json"),
            Fault::HtmlErrorPage => ResponseTemplate::new(502).set_body_raw(
                "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                 <body><h1>Bad Gateway</h1></body></html>",
                "text/html; charset=utf-8",
            ),
            Fault::EmptyBody => {
                ResponseTemplate::new(200).insert_header("content-type", "application/json")
            }
            Fault::WrongContentType => ResponseTemplate::new(200).set_body_raw(
                "<!DOCTYPE html><html><body>Please sign in to the Wi-Fi</body></html>",
                "text/html",
            ),
            Fault::HugeBody => {
                // Built once per suite run; wiremock copies it into each answer.
                let body = huge.get_or_init(|| {
                    let mut body = Vec::with_capacity(HUGE_BODY_BYTES);
                    body.extend_from_slice(br#"{"data":""#);
                    body.resize(HUGE_BODY_BYTES - 2, b'a');
                    body.extend_from_slice(br#""}"#);
                    body
                });
                ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json")
            }
        }
    }
}

/// What a faulted operation must end in.
pub(crate) struct Expectation {
    /// How the expectation reads in the case name, e.g. `is_transient`.
    pub(crate) name: &'static str,
    pub(crate) accepts: fn(ErrorKind) -> bool,
}

impl Expectation {
    fn new(name: &'static str, accepts: fn(ErrorKind) -> bool) -> Self {
        Self { name, accepts }
    }
}

/// A fault mock on one method and path, mounted once above every simulator route and answering
/// only while armed, counting the requests it answered.
pub(crate) struct FaultSwitch {
    method: String,
    path: String,
    armed: Mutex<Option<Fault>>,
    hits: AtomicUsize,
    huge: OnceLock<Vec<u8>>,
}

impl FaultSwitch {
    pub(crate) async fn mount(server: &MockServer, method: &str, path: &str) -> Arc<Self> {
        let switch = Arc::new(Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            armed: Mutex::new(None),
            hits: AtomicUsize::new(0),
            huge: OnceLock::new(),
        });
        Mock::given(Armed(switch.clone()))
            .respond_with(Answer(switch.clone()))
            .with_priority(1)
            .named(format!("conformance fault on {method} {path}"))
            .mount(server)
            .await;
        switch
    }

    /// Arms `fault` and resets the request count.
    pub(crate) fn arm(&self, fault: Fault) {
        self.hits.store(0, Ordering::SeqCst);
        *self.armed.lock().unwrap_or_else(PoisonError::into_inner) = Some(fault);
    }

    /// Disarms, returning the requests answered with the fault since [`arm`](Self::arm).
    pub(crate) fn disarm(&self) -> usize {
        *self.armed.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.hits.load(Ordering::SeqCst)
    }

    fn armed(&self) -> Option<Fault> {
        *self.armed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Armed(Arc<FaultSwitch>);

impl Match for Armed {
    fn matches(&self, request: &Request) -> bool {
        let s = &self.0;
        s.armed().is_some() && request.method.as_str() == s.method && request.url.path() == s.path
    }
}

struct Answer(Arc<FaultSwitch>);

impl Respond for Answer {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let s = &self.0;
        s.hits.fetch_add(1, Ordering::SeqCst);
        match s.armed() {
            Some(fault) => fault.template(&s.huge),
            // Disarmed between the match and the answer: the case is over.
            None => ResponseTemplate::new(crate::UNEXPECTED_STATUS),
        }
    }
}
