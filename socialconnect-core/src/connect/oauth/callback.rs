//! The authorization callback: what the platform's redirect to the host brings back.
//!
//! A host hands over the whole callback URL (or only its query string) and gets a [`Callback`]:
//! the `state`, then either the `code` or the platform's refusal (`error`, `error_reason`,
//! `error_description`), and the RFC 9207 `iss` when the platform sends one. A fragment, such as
//! the `#_=_` Facebook appends, is ignored. [`SocialConnect::complete_callback`] does the rest.
//!
//! [`SocialConnect::complete_callback`]: crate::SocialConnect::complete_callback

use url::Url;

use super::token_response::{Grant, classify};
use crate::error::{Error, PlatformError, Result};
use crate::id::PlatformId;
use crate::secret::{AuthCode, StateToken};

/// The longest callback (URL or query) accepted; real ones are a few hundred bytes.
pub const MAX_CALLBACK_LEN: usize = 16 * 1024;

/// The longest `state`, `code` or `iss` value accepted.
const MAX_VALUE_LEN: usize = 4096;

/// What the platform's redirect carried, parsed from the callback URL or its query.
///
/// ```
/// use socialconnect_core::oauth::Callback;
///
/// let cb = Callback::parse("https://host.example/cb?code=abc&state=xyz#_=_").unwrap();
/// assert_eq!(cb.state().map(|s| s.expose_secret()), Some("xyz"));
/// assert_eq!(cb.code().map(|c| c.expose_secret()), Some("abc"));
///
/// let denied = Callback::parse(
///     "error=access_denied&error_reason=user_denied&error_description=Permissions+error&state=xyz",
/// )
/// .unwrap();
/// assert_eq!(denied.error(), Some("access_denied"));
/// assert_eq!(denied.error_reason(), Some("user_denied"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Callback {
    state: Option<StateToken>,
    code: Option<AuthCode>,
    issuer: Option<String>,
    error: Option<String>,
    error_reason: Option<String>,
    error_description: Option<String>,
    error_code: Option<i64>,
}

impl Callback {
    /// Parses a callback: an absolute `http(s)` URL, or its query string with or without the
    /// leading `?`. A fragment is ignored.
    ///
    /// Fails with `InvalidInput` when the input is longer than [`MAX_CALLBACK_LEN`], when
    /// `state`, `code`, `error` or `iss` appears more than once (RFC 6749 §3.1), when a value is
    /// over 4096 bytes, or when both a `code` and an `error` are present. An empty parameter
    /// counts as absent.
    pub fn parse(url_or_query: &str) -> Result<Self> {
        if url_or_query.len() > MAX_CALLBACK_LEN {
            return Err(Error::invalid_input(format!(
                "the OAuth callback is longer than {MAX_CALLBACK_LEN} bytes"
            )));
        }
        let trimmed = url_or_query.trim();
        let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let url = Url::parse(trimmed)
                .map_err(|_| Error::invalid_input("the OAuth callback URL does not parse"))?;
            return Self::from_url(&url);
        }
        let query = trimmed.split('#').next().unwrap_or_default();
        Self::from_query(query.strip_prefix('?').unwrap_or(query))
    }

    /// Reads the query of a callback URL (its fragment is ignored).
    pub fn from_url(url: &Url) -> Result<Self> {
        Self::from_query(url.query().unwrap_or_default())
    }

    fn from_query(query: &str) -> Result<Self> {
        if query.len() > MAX_CALLBACK_LEN {
            return Err(Error::invalid_input(format!(
                "the OAuth callback is longer than {MAX_CALLBACK_LEN} bytes"
            )));
        }
        let mut cb = Callback::default();
        let mut seen = [false; 4];
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "state" => 0,
                "code" => 1,
                "error" => 2,
                "iss" => 3,
                "error_reason" => {
                    cb.error_reason = text(&value, 128);
                    continue;
                }
                "error_description" => {
                    cb.error_description = text(&value, 512);
                    continue;
                }
                "error_code" => {
                    cb.error_code = value.trim().parse().ok();
                    continue;
                }
                _ => continue,
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(Error::invalid_input(format!(
                    "the OAuth callback repeats the `{name}` parameter"
                )));
            }
            if value.len() > MAX_VALUE_LEN {
                return Err(Error::invalid_input(format!(
                    "the OAuth callback's `{name}` is longer than {MAX_VALUE_LEN} bytes"
                )));
            }
            if value.is_empty() {
                continue;
            }
            match slot {
                0 => cb.state = Some(StateToken::new(value.into_owned())),
                1 => cb.code = Some(AuthCode::new(value.into_owned())),
                2 => cb.error = text(&value, 128),
                _ => cb.issuer = Some(value.into_owned()),
            }
        }
        if cb.code.is_some() && cb.error.is_some() {
            return Err(Error::invalid_input(
                "the OAuth callback carries both a code and an error",
            ));
        }
        Ok(cb)
    }

    /// The `state` parameter.
    pub fn state(&self) -> Option<&StateToken> {
        self.state.as_ref()
    }

    /// The authorization `code`, absent on a refusal.
    pub fn code(&self) -> Option<&AuthCode> {
        self.code.as_ref()
    }

    /// The `iss` parameter (RFC 9207), when the platform sent one.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The OAuth `error` (`access_denied`, `invalid_scope`, …) on a refusal.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Meta's `error_reason` (`user_denied`), when sent.
    pub fn error_reason(&self) -> Option<&str> {
        self.error_reason.as_deref()
    }

    /// The `error_description`, when sent (at most 512 bytes, control characters replaced).
    pub fn error_description(&self) -> Option<&str> {
        self.error_description.as_deref()
    }

    /// The refusal as a typed error, `None` when the callback carries no `error`.
    ///
    /// `access_denied` is [`Error::AuthorizationDenied`] (kind
    /// [`AuthorizationDenied`](crate::ErrorKind::AuthorizationDenied)); `invalid_scope` is
    /// `MissingScopes`; `server_error` and `temporarily_unavailable` are `Transient`;
    /// `unauthorized_client` is [`Error::ClientRejected`] (kind `Config`); `invalid_request`
    /// and `unsupported_response_type` are `InvalidInput`; anything else is `Platform`. The
    /// detail holds `error` as `error_type`, `error_reason` as `reason`, `error_description` as
    /// `message` and Meta's numeric `error_code` as `code`.
    pub fn refusal(&self, platform: &PlatformId) -> Option<Error> {
        let error = self.error.as_deref()?;
        let message = self
            .error_description
            .clone()
            .or_else(|| self.error_reason.clone())
            .unwrap_or_else(|| error.to_owned());
        let mut detail = PlatformError::new(Some(platform.clone()), message)
            .with_type(error)
            .with_code(self.error_code, None);
        if let Some(reason) = &self.error_reason {
            detail = detail.with_reason(reason.clone());
        }
        Some(classify(Grant::Authorize, error, detail))
    }
}

/// A bounded copy of a free-text parameter with control characters replaced; `None` if empty.
fn text(value: &str, max: usize) -> Option<String> {
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| crate::error::bounded(clean.to_owned(), max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn whole_url_query_and_bare_query_read_the_same() {
        for input in [
            "https://host.example/cb?code=c1&state=s1",
            "https://host.example/cb?code=c1&state=s1#_=_",
            "HTTPS://host.example/cb?state=s1&code=c1#",
            "?code=c1&state=s1",
            "code=c1&state=s1#_=_",
            "  code=c1&state=s1\n",
        ] {
            let cb = Callback::parse(input).unwrap();
            assert_eq!(cb.code().unwrap().expose_secret(), "c1", "{input}");
            assert_eq!(cb.state().unwrap().expose_secret(), "s1", "{input}");
            assert!(cb.error().is_none());
            assert!(cb.refusal(&PlatformId::FACEBOOK).is_none());
        }
    }

    #[test]
    fn percent_encoding_is_decoded() {
        let cb =
            Callback::parse("code=a%2Fb%3D%3D&state=x%20y&iss=https%3A%2F%2Fid.example").unwrap();
        assert_eq!(cb.code().unwrap().expose_secret(), "a/b==");
        assert_eq!(cb.state().unwrap().expose_secret(), "x y");
        assert_eq!(cb.issuer(), Some("https://id.example"));
    }

    #[test]
    fn meta_denial_is_a_typed_denial() {
        let cb = Callback::parse(
            "https://host.example/cb?error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied&state=s1#_=_",
        )
        .unwrap();
        assert!(cb.code().is_none());
        let err = cb.refusal(&PlatformId::FACEBOOK).unwrap();
        assert_eq!(err.kind(), ErrorKind::AuthorizationDenied);
        let detail = err.platform_error().unwrap();
        assert_eq!(detail.error_type.as_deref(), Some("access_denied"));
        assert_eq!(detail.reason.as_deref(), Some("user_denied"));
        assert_eq!(detail.message, "Permissions error");
        assert_eq!(detail.code, Some(200));
        assert_eq!(detail.http_status, None);
    }

    #[test]
    fn other_refusals_map_to_their_kinds() {
        let kind = |e: &str| {
            Callback::parse(&format!("error={e}&state=s"))
                .unwrap()
                .refusal(&PlatformId::LINKEDIN)
                .unwrap()
                .kind()
        };
        assert_eq!(kind("invalid_scope"), ErrorKind::MissingScopes);
        assert_eq!(kind("temporarily_unavailable"), ErrorKind::Transient);
        assert_eq!(kind("server_error"), ErrorKind::Transient);
        assert_eq!(kind("unauthorized_client"), ErrorKind::Config);
        assert_eq!(kind("invalid_request"), ErrorKind::InvalidInput);
        assert_eq!(kind("something_new"), ErrorKind::Platform);
        // A denial without description or reason still says what it is.
        let err = Callback::parse("error=access_denied")
            .unwrap()
            .refusal(&PlatformId::LINKEDIN)
            .unwrap();
        assert_eq!(err.platform_error().unwrap().message, "access_denied");
    }

    #[test]
    fn malformed_callbacks_are_refused() {
        for input in [
            "code=a&code=b&state=s",
            "code=a&state=s&state=t",
            "error=access_denied&error=x",
            "iss=a&iss=b&code=c",
            "code=c&error=access_denied&state=s",
            "https://[::1",
        ] {
            let err = Callback::parse(input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{input}");
        }
        let long = format!("code={}", "a".repeat(MAX_CALLBACK_LEN));
        assert_eq!(
            Callback::parse(&long).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let long_value = format!("code={}&state=s", "a".repeat(MAX_VALUE_LEN + 1));
        assert_eq!(
            Callback::parse(&long_value).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn empty_and_missing_values_are_absent() {
        let cb = Callback::parse("code=&state=").unwrap();
        assert!(cb.code().is_none());
        assert!(cb.state().is_none());
        let cb = Callback::parse("").unwrap();
        assert!(cb.code().is_none() && cb.state().is_none() && cb.error().is_none());
        let cb = Callback::parse("https://host.example/cb").unwrap();
        assert!(cb.code().is_none());
    }

    #[test]
    fn free_text_is_bounded_and_has_no_control_characters() {
        let desc = format!("line1%0Aline2{}", "x".repeat(2000));
        let cb = Callback::parse(&format!("error=access_denied&error_description={desc}")).unwrap();
        let d = cb.error_description().unwrap();
        assert!(!d.contains('\n'));
        assert!(d.len() <= 516);
    }

    #[test]
    fn debug_output_hides_code_and_state() {
        let cb = Callback::parse("code=SECRETCODE&state=SECRETSTATE").unwrap();
        let shown = format!("{cb:?}");
        assert!(!shown.contains("SECRETCODE") && !shown.contains("SECRETSTATE"));
    }
}
