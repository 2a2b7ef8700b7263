//! Response classifiers: the ordered checks that decide whether a platform's answer is a
//! success or which error it stands for.
//!
//! A platform plugs in what it knows — its [`ErrorMap`] (errors inside 200 bodies for TikTok,
//! a 426 for a sunset LinkedIn version, Pinterest's own codes), or a closure for anything a
//! table cannot say — and [`Classifiers::classify`] tries them in order. The first that
//! accepts or rejects decides; when none does, a 2xx is a success and anything else is mapped
//! by its HTTP status ([`ApiResponse::status_error`]).
//!
//! ```
//! use socialconnect_core::connect::classify::{Classifiers, Exchange, Verdict};
//! use socialconnect_core::http::ApiResponse;
//! use socialconnect_core::id::PlatformId;
//! use socialconnect_core::{Error, ErrorKind};
//!
//! // A platform that answers 200 with `{"status":"failure"}` when a write was refused.
//! let classifiers = Classifiers::new().with(|x: &Exchange<'_>| {
//!     if x.response.is_success() && x.response.body().starts_with(br#"{"status":"failure""#) {
//!         Verdict::Reject(Error::invalid_input("refused"))
//!     } else {
//!         Verdict::Continue
//!     }
//! });
//! let refused = ApiResponse::new(200, Default::default(), r#"{"status":"failure"}"#.into());
//! let x = Exchange { platform: &PlatformId::PINTEREST, response: &refused, retry_after: None };
//! assert_eq!(classifiers.classify(&x).unwrap_err().kind(), ErrorKind::InvalidInput);
//! ```

use std::sync::Arc;
use std::time::Duration;

use crate::connect::envelope::ErrorMap;
use crate::connect::http::ApiResponse;
use crate::error::{Error, Result};
use crate::id::PlatformId;

/// One response, with what the call path already knows about it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The platform that answered.
    pub platform: &'a PlatformId,
    /// Its answer.
    pub response: &'a ApiResponse,
    /// The wait before calling again, when the response said (usage headers, `Retry-After`).
    pub retry_after: Option<Duration>,
}

/// A classifier's answer.
#[derive(Debug)]
pub enum Verdict {
    /// The response is a success.
    Accept,
    /// The response stands for this error.
    Reject(Error),
    /// This classifier has nothing to say; ask the next.
    Continue,
}

/// One check in a platform's classification.
pub trait Classify: Send + Sync {
    /// Looks at one response.
    fn classify(&self, exchange: &Exchange<'_>) -> Verdict;
}

impl<F> Classify for F
where
    F: Fn(&Exchange<'_>) -> Verdict + Send + Sync,
{
    fn classify(&self, exchange: &Exchange<'_>) -> Verdict {
        self(exchange)
    }
}

/// An error map rejects what its envelope says is an error and passes on the rest.
impl Classify for ErrorMap {
    fn classify(&self, x: &Exchange<'_>) -> Verdict {
        match self.error(x.platform, x.response, x.retry_after) {
            Some(e) => Verdict::Reject(e),
            None => Verdict::Continue,
        }
    }
}

/// A platform's ordered classifiers. Cheap to clone.
#[derive(Clone, Default)]
pub struct Classifiers {
    checks: Vec<Arc<dyn Classify>>,
}

impl std::fmt::Debug for Classifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifiers")
            .field("checks", &self.checks.len())
            .finish()
    }
}

impl Classifiers {
    /// No classifiers: the HTTP status alone decides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a check, tried after those added before it.
    pub fn with(mut self, check: impl Classify + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// `Ok` for a success, else the error the response stands for.
    pub fn classify(&self, exchange: &Exchange<'_>) -> Result<()> {
        for check in &self.checks {
            match check.classify(exchange) {
                Verdict::Accept => return Ok(()),
                Verdict::Reject(e) => return Err(e),
                Verdict::Continue => {}
            }
        }
        if exchange.response.is_success() {
            Ok(())
        } else {
            Err(exchange.response.status_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::envelope::{EnvelopeFormat, Outcome, Rule};
    use crate::error::ErrorKind;

    fn resp(status: u16, body: &'static str) -> ApiResponse {
        ApiResponse::new(status, Default::default(), body.into())
    }

    #[test]
    fn checks_run_in_order_and_the_status_decides_last() {
        let map = ErrorMap::new(EnvelopeFormat::at("").code("/code").message("/message"))
            .rule(Rule::code(3).to(Outcome::MissingScopes));
        let accept_teapots = |x: &Exchange<'_>| {
            if x.response.status() == 418 {
                Verdict::Accept
            } else {
                Verdict::Continue
            }
        };
        let c = Classifiers::new().with(map).with(accept_teapots);
        let p = PlatformId::PINTEREST;
        let run = |r: &ApiResponse| {
            c.classify(&Exchange {
                platform: &p,
                response: r,
                retry_after: None,
            })
        };
        assert_eq!(
            run(&resp(403, r#"{"code":3,"message":"no"}"#))
                .unwrap_err()
                .kind(),
            ErrorKind::MissingScopes
        );
        assert!(run(&resp(418, "short and stout")).is_ok());
        assert!(run(&resp(201, "{}")).is_ok());
        assert_eq!(
            run(&resp(503, "<html>")).unwrap_err().kind(),
            ErrorKind::Transient
        );
        // An envelope no rule names falls to its status, keeping the platform's code.
        let e = run(&resp(404, r#"{"code":2,"message":"gone"}"#)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(e.platform_error().unwrap().code, Some(2));
    }
}
