//! Field checks shared by the deployment's validators: each error names its field.

use socialconnect_core::{Error, Result};
use url::Url;

/// A `Config` error naming `name`.
pub(super) fn field(name: &str, problem: &str) -> Error {
    Error::config(format!("`{name}` {problem}"))
}

/// A URL, ending with `/` so that paths join under it.
pub(super) fn url_field(name: &str, text: &str) -> Result<Url> {
    let mut url = Url::parse(text).map_err(|_| field(name, "is not a valid URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err(field(name, "must be an http(s) URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// An environment variable's name: non-empty, letters, digits and `_`.
pub(super) fn env_name(name: &str, value: String) -> Result<String> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(value)
    } else {
        Err(field(
            name,
            "must name an environment variable (letters, digits, `_`)",
        ))
    }
}

/// An error's message without the kind prefix core's `Display` adds (`configuration: …`), for
/// nesting one message in another.
pub(super) fn reason(e: &Error) -> String {
    match e {
        Error::Config(m) => m.clone(),
        other => other.to_string(),
    }
}
