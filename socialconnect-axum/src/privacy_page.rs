//! `/privacy`: the end user's own page — connections, purposes and legal bases, withdraw
//! buttons, the actions scheduled for them, export download, delete-everything, where data is stored and how to complain —
//! plus the re-consent banner after a significant notice change. Plain HTML forms with a
//! CSRF token; no JavaScript.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_core::{Error, Result};

use crate::connect::{AGE_BANDS, age_fields, client_source, grant, signed_in};
use crate::html::{self, escape, hidden};
use crate::names::{basis_name, purpose_label, purpose_named};
use crate::page_forms::{form, posted};
use crate::report::{ConnectionView, connections};
use crate::state::App;

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    connected: Option<String>,
    done: Option<String>,
}

/// `GET /privacy`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Query(query): Query<PageQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let subject = match signed_in(&app, &parts, "/privacy").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match render(&app, &subject, &query).await {
        Ok(body) => html::page(StatusCode::OK, "Your privacy", &body),
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}

fn age_inputs(app: &App) -> String {
    let mut out = String::from(
        "<label>Your age <select name=\"age\" required><option value=\"\">Choose…</option>",
    );
    for (value, _, label) in AGE_BANDS {
        let _ = write!(out, "<option value=\"{value}\">{label}</option>");
    }
    let _ = write!(
        out,
        "</select></label> <label>Country <input name=\"country\" required maxlength=\"2\" \
         size=\"3\" value=\"{}\"></label> ",
        escape(&app.info.default_country)
    );
    out
}

async fn render(app: &App, subject: &SubjectId, query: &PageQuery) -> Result<String> {
    let mut body = format!(
        "<h1>Your privacy</h1><p>Signed in as <strong id=\"subject\">{}</strong>. {} is the \
         controller of your data.</p>",
        escape(subject.as_str()),
        escape(&app.info.controller)
    );
    let outdated = crate::notice::outdated(app, subject).await?;
    if let Some(notice) = app.hub.current_notice().filter(|_| !outdated.is_empty()) {
        let _ = write!(
            body,
            "<div class=\"banner\" id=\"reconsent\"><strong>Our privacy notice changed \
             (version {}).</strong> Please <a href=\"{}\">read it</a> and confirm your \
             choices before we continue acting for you. Until then nothing new is connected. \
             You can also withdraw any consent below.<br>{}</div>",
            escape(&notice.version),
            escape(&app.info.notice_url),
            form(
                app,
                subject,
                "/privacy/reconsent",
                &age_inputs(app),
                "I agree to the new notice",
                "agree-notice"
            ),
        );
    }
    if let Some(platform) = &query.connected {
        let _ = write!(
            body,
            "<p class=\"notice\" id=\"connected\">Your {} account is connected.</p>",
            escape(platform)
        );
    }
    if let Some(done) = &query.done {
        let text = match done.as_str() {
            "withdrawn" => "Your consent was withdrawn.",
            "reconsented" => "Thank you: your choices now rest on the current notice.",
            "cancelled" => "The scheduled action was cancelled.",
            _ => "Done.",
        };
        let _ = write!(body, "<p class=\"notice\" id=\"done\">{text}</p>");
    }

    let list = connections(&app.hub, subject).await?;
    body.push_str("<h2>Your connected accounts</h2>");
    connections_table(app, subject, &list, &mut body);
    consents_table(app, subject, &mut body).await?;
    crate::scheduled::section(app, subject, &mut body).await?;

    let _ = write!(
        body,
        "<h2>Your data</h2><p>Download everything we hold about you as JSON. {}</p><p>Delete \
         everything: your connections are revoked at the platforms where they allow it, and \
         every record about you is erased. This cannot be undone.</p>{}",
        form(
            app,
            subject,
            "/privacy/export",
            "",
            "Download my data",
            "export"
        ),
        form(
            app,
            subject,
            "/privacy/delete",
            "<label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> I \
             understand</label> ",
            "Delete everything",
            "delete"
        ),
    );
    let region = app.hub.region().unwrap_or("not specified");
    let _ = write!(
        body,
        "<h2>Where your data is stored</h2><p>Region: <strong id=\"region\">{}</strong>. \
         Tokens are encrypted at rest and every record carries the region it was written in. \
         {}</p><h2>Questions and complaints</h2><p>Contact us at {}. You also have the right \
         to complain to a data protection authority: <a href=\"{}\">{}</a>.</p>",
        escape(region),
        escape(&app.info.storage),
        escape(&app.info.contact),
        escape(&app.info.authority_url),
        escape(&app.info.authority_name),
    );
    Ok(body)
}

fn connections_table(app: &App, subject: &SubjectId, list: &[ConnectionView], body: &mut String) {
    if list.is_empty() {
        body.push_str("<p id=\"no-connections\">No accounts are connected.</p>");
    } else {
        body.push_str(
            "<table id=\"connections\"><tr><th>Platform</th><th>Account</th><th>Status</th>\
             <th>Connected</th><th>Region</th></tr>",
        );
        for c in list {
            let _ = write!(
                body,
                "<tr class=\"connection\" data-platform=\"{p}\"><td>{p}</td><td>{a}</td><td>{s}</td>\
                 <td>{t}</td><td>{r}</td></tr>",
                p = escape(&c.platform),
                a = escape(c.account_id.as_deref().unwrap_or("")),
                s = escape(c.status),
                t = c.connected_at.format("%Y-%m-%d %H:%M UTC"),
                r = escape(c.region.as_deref().unwrap_or("")),
            );
        }
        body.push_str("</table>");
    }
    let _ = subject;
    if !app.platforms.is_empty() {
        body.push_str("<p>Connect: ");
        for p in &app.platforms {
            let _ = write!(
                body,
                "<a class=\"connect\" id=\"connect-{p}\" href=\"{}\">{p}</a> ",
                escape(&app.link(&format!("/connect/{p}"))),
                p = escape(p.as_str())
            );
        }
        body.push_str("</p>");
    }
}

async fn consents_table(app: &App, subject: &SubjectId, body: &mut String) -> Result<()> {
    let history = app.hub.ledger().history(subject).await?;
    let now = app.hub.clock().now();
    let live = crate::notice::live_grants(&history, now);
    body.push_str("<h2>What we do with your data, and why</h2>");
    if live.is_empty() {
        body.push_str("<p id=\"no-consents\">You have given no consent.</p>");
    } else {
        body.push_str(
            "<table id=\"consents\"><tr><th>Purpose</th><th>Platform</th><th>Legal basis</th>\
             <th>Since</th><th>Notice</th><th></th></tr>",
        );
        for r in live {
            let platform = r.event.platform.as_ref().map(PlatformId::as_str);
            let fields = format!(
                "{}{}",
                hidden("purpose", r.event.purpose.as_str()),
                platform.map(|p| hidden("platform", p)).unwrap_or_default()
            );
            let id = format!(
                "withdraw-{}-{}",
                r.event.purpose.as_str(),
                platform.unwrap_or("all")
            );
            let _ = write!(
                body,
                "<tr class=\"consent\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                escape(purpose_label(r.event.purpose)),
                escape(platform.unwrap_or("all platforms")),
                escape(basis_name(r.event.basis)),
                r.event.collected_at.format("%Y-%m-%d"),
                escape(r.event.notice_version.as_deref().unwrap_or("")),
                form(app, subject, "/privacy/withdraw", &fields, "Withdraw", &id),
            );
        }
        body.push_str("</table>");
    }
    let declared: Vec<_> = socialconnect_core::id::Purpose::ALL
        .into_iter()
        .filter_map(|p| app.hub.declared_basis(p))
        .collect();
    if !declared.is_empty() {
        body.push_str("<p>Without your consent, on another legal basis:</p><ul>");
        for d in declared {
            let object = if d.basis == socialconnect_core::consent::LegalBasis::LegitimateInterest {
                form(
                    app,
                    subject,
                    "/privacy/withdraw",
                    &hidden("purpose", d.purpose.as_str()),
                    "Object",
                    &format!("object-{}", d.purpose.as_str()),
                )
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<li>{} — {}: {} {}</li>",
                escape(purpose_label(d.purpose)),
                escape(basis_name(d.basis)),
                escape(&d.justification),
                object
            );
        }
        body.push_str("</ul>");
    }
    Ok(())
}

/// `POST /privacy/withdraw`.
pub(crate) async fn withdraw(State(app): State<Arc<App>>, request: Request) -> Response {
    let (subject, fields, _) = match posted(&app, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let purpose = fields
            .get("purpose")
            .and_then(purpose_named)
            .ok_or_else(|| Error::invalid_input("unknown purpose"))?;
        let platform = fields
            .get("platform")
            .map(PlatformId::new)
            .transpose()
            .map_err(|_| Error::invalid_input("malformed platform id"))?;
        app.hub
            .withdraw(&subject, purpose, platform.as_ref(), "end-user")
            .await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&app.link("/privacy?done=withdrawn")).into_response(),
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}

/// `POST /privacy/reconsent`: grants again, under the current notice, every live consent
/// that rests on an older one.
pub(crate) async fn reconsent(State(app): State<Arc<App>>, request: Request) -> Response {
    let (subject, fields, parts) = match posted(&app, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let (age, jurisdiction) = age_fields(&fields)?;
        for r in crate::notice::outdated(&app, &subject).await? {
            grant(
                &app,
                &subject,
                r.event.platform.as_ref(),
                &[r.event.purpose],
                age,
                jurisdiction,
                client_source(&parts),
            )
            .await?;
        }
        Ok::<_, Error>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&app.link("/privacy?done=reconsented")).into_response(),
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}

/// `POST /privacy/export`: the export as a download.
pub(crate) async fn export(State(app): State<Arc<App>>, request: Request) -> Response {
    let (subject, _, _) = match posted(&app, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let permit = match app.export_permit() {
        Ok(p) => p,
        Err(busy) => return busy,
    };
    let body = crate::export::body(app.hub.clone(), subject, "end-user".to_owned(), permit);
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-data.json\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /privacy/delete`: erases everything, then shows the receipt.
pub(crate) async fn delete(State(app): State<Arc<App>>, request: Request) -> Response {
    let (subject, fields, _) = match posted(&app, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if fields.get("confirm") != Some("yes") {
        return html::message(
            StatusCode::BAD_REQUEST,
            "Not deleted",
            "Tick the box to confirm that you want everything deleted.",
            Some(&app.link("/privacy")),
        );
    }
    match app.hub.erase(&subject, "end-user").await {
        Ok(outcome) => {
            let mut body = String::from(
                "<h1>Everything is deleted</h1><p id=\"erased\">We erased every record about you.</p><ul>",
            );
            for (kind, n) in &outcome.report.counts {
                let _ = write!(body, "<li>{}: {n}</li>", escape(kind));
            }
            body.push_str("</ul>");
            for (platform, revocation) in &outcome.upstream {
                let _ = write!(
                    body,
                    "<p>{}: {}</p>",
                    escape(platform.as_str()),
                    escape(&revocation.to_string())
                );
            }
            if let Some(receipt) = &outcome.receipt {
                let _ = write!(
                    body,
                    "<p>Receipt reference: <code>{}</code> (keep it to show this erasure \
                     happened; it does not identify you to anyone else).</p>",
                    escape(&receipt.subject_pseudonym)
                );
            }
            html::page(StatusCode::OK, "Deleted", &body)
        }
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}
