//! A simulator's answer, before it becomes a wiremock response.

use std::time::Duration;

use serde_json::Value;
use url::Url;
use wiremock::ResponseTemplate;

/// The body of a [`Reply`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    Empty,
    /// JSON, sent as `application/json`.
    Json(Value),
    /// Text with its media type, e.g. an HTML error page.
    Text(&'static str, String),
}

/// An HTTP answer: status, headers, body and a delay.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// How long the answer is held back.
    pub delay: Option<Duration>,
}

impl Reply {
    /// `status` with a JSON `body`.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
            delay: None,
        }
    }

    /// `200` with a JSON `body`.
    pub fn ok(body: Value) -> Self {
        Self::json(200, body)
    }

    /// `status` without a body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
            delay: None,
        }
    }

    /// `status` with a text body of media type `mime`.
    pub fn text(status: u16, mime: &'static str, text: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Text(mime, text.into()),
            delay: None,
        }
    }

    /// `302` to `to`, without a body.
    pub fn redirect(to: &Url) -> Self {
        Self::empty(302).header("location", to.as_str())
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Holds the answer back `by` longer (delays add up).
    pub fn delayed(mut self, by: Option<Duration>) -> Self {
        self.delay = match (self.delay, by) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self
    }

    /// Replaces the status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The JSON body, to adjust a field, when the body is JSON.
    pub fn json_mut(&mut self) -> Option<&mut Value> {
        match &mut self.body {
            Body::Json(value) => Some(value),
            _ => None,
        }
    }

    /// The wiremock response.
    pub fn into_template(self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        template = match self.body {
            Body::Empty => template,
            Body::Json(value) => template.set_body_json(value),
            Body::Text(mime, text) => template.set_body_raw(text, mime),
        };
        for (name, value) in self.headers {
            template = template.append_header(name.as_str(), value.as_str());
        }
        if let Some(delay) = self.delay {
            template = template.set_delay(delay);
        }
        template
    }
}
