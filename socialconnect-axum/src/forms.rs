//! Reading a posted HTML form: a bounded `application/x-www-form-urlencoded` body.

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;

use crate::html;
use crate::state::App;

/// The fields of a posted form, in order (a name may repeat, as checkboxes do).
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Longest form accepted, whatever the router's body limit: forms here are a few fields.
const MAX_FORM: usize = 16 * 1024;

/// Reads the form, or the page to answer instead (415 for another content type, 413 for an
/// oversized body).
pub(crate) async fn read(parts: &mut Parts, body: Body) -> Result<Fields, Response> {
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Err(html::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a form",
            "This address takes a form submission.",
            None,
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
        html::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The form submission is larger than this page accepts.",
            None,
        )
    })?;
    Ok(Fields(
        url::form_urlencoded::parse(&bytes).into_owned().collect(),
    ))
}

/// The answer to a form whose CSRF token is missing, expired or not the user's.
pub(crate) fn csrf_refused(app: &App) -> Response {
    html::message(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form has expired or did not come from this site. Reload the page and try again.",
        Some(&app.link("/privacy")),
    )
}
