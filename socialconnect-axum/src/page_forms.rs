//! The privacy pages' forms: a CSRF-tokened button form, and reading one back from the
//! signed-in subject.

use axum::extract::Request;
use axum::response::Response;
use socialconnect_core::id::SubjectId;

use crate::connect::signed_in;
use crate::html::{escape, hidden};
use crate::state::App;

/// A one-button form posting `fields` (and the subject's CSRF token) to `action`.
pub(crate) fn form(
    app: &App,
    subject: &SubjectId,
    action: &str,
    fields: &str,
    button: &str,
    id: &str,
) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\">{}{}<button type=\"submit\" \
         id=\"{}\">{}</button></form>",
        escape(&app.link(action)),
        hidden("csrf", &app.csrf.token(subject, app.hub.clock().now())),
        fields,
        escape(id),
        escape(button)
    )
}

/// Reads a form post from the signed-in subject with a valid CSRF token.
pub(crate) async fn posted(
    app: &App,
    request: Request,
) -> std::result::Result<(SubjectId, crate::forms::Fields, axum::http::request::Parts), Response> {
    let (mut parts, body) = request.into_parts();
    let subject = signed_in(app, &parts, "/privacy").await?;
    let fields = crate::forms::read(&mut parts, body).await?;
    if !app.csrf.check(
        &subject,
        fields.get("csrf").unwrap_or(""),
        app.hub.clock().now(),
    ) {
        return Err(crate::forms::csrf_refused(app));
    }
    Ok((subject, fields, parts))
}
