//! The browser step every simulator offers: the consent screen, played without HTTP.

use std::fmt;

use url::Url;

/// An authorization request a simulator refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeError {
    /// The OAuth error code, e.g. `access_denied` or `invalid_request`.
    pub error: String,
    /// A human-readable explanation.
    pub description: String,
}

impl AuthorizeError {
    /// A refusal with `error` and `description`.
    pub fn new(error: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            description: description.into(),
        }
    }
}

impl fmt::Display for AuthorizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl std::error::Error for AuthorizeError {}

/// Plays the browser on `authorize_url`: refuses it with `wrong_endpoint` unless it points at
/// `dialog` (same origin and path), hands its query to `consent` (the simulator's dialog,
/// returning the redirect target or a refusal shown to the user), and reads the redirect:
/// `(code, state)`, or its `error` and `error_description` as the refusal.
pub fn authorize(
    dialog: &Url,
    authorize_url: &Url,
    consent: impl FnOnce(&[(String, String)]) -> Result<Url, AuthorizeError>,
) -> Result<(String, String), AuthorizeError> {
    if authorize_url.origin() != dialog.origin() || authorize_url.path() != dialog.path() {
        return Err(AuthorizeError::new(
            "wrong_endpoint",
            format!(
                "authorize URL points at {}{}, not at {dialog}",
                authorize_url.origin().ascii_serialization(),
                authorize_url.path()
            ),
        ));
    }
    let query: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    let to = consent(&query)?;
    let pairs: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    match (get("code"), get("state"), get("error")) {
        (Some(code), Some(state), None) => Ok((code.clone(), state.clone())),
        (_, _, error) => Err(AuthorizeError::new(
            error.cloned().unwrap_or_else(|| "server_error".to_owned()),
            get("error_description").cloned().unwrap_or_default(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn reads_the_redirect_or_refuses_a_foreign_endpoint() {
        let dialog = url("http://127.0.0.1:1/oauth/authorize");
        let ok = authorize(
            &dialog,
            &url("http://127.0.0.1:1/oauth/authorize?a=1"),
            |q| {
                assert_eq!(q, [("a".to_owned(), "1".to_owned())]);
                Ok(url("https://app.example/cb?code=c&state=s"))
            },
        );
        assert_eq!(ok, Ok(("c".to_owned(), "s".to_owned())));
        let denied = authorize(&dialog, &dialog, |_| {
            Ok(url("https://app.example/cb?error=access_denied&state=s"))
        });
        assert_eq!(denied.unwrap_err().error, "access_denied");
        let foreign = authorize(&dialog, &url("http://127.0.0.1:1/other"), |_| {
            unreachable!("a foreign endpoint never reaches the dialog")
        });
        assert_eq!(foreign.unwrap_err().error, "wrong_endpoint");
    }
}
