//! `GET|POST /connect/{platform}` and `GET /callback/{platform}`: consent and the age gate,
//! then the platform's authorize page, then the whole callback URL handed to the hub.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use socialconnect_core::age::{AgeAttestation, AgeBand, Jurisdiction};
use socialconnect_core::consent::{CollectionMethod, ConsentEvent, ConsentRequest, ConsentSource};
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::{Error, ErrorKind, Result};

use crate::html::{self, escape};
use crate::names::{basis_name, purpose_label, purpose_named};
use crate::state::App;

/// The form fields of the consent form.
pub(crate) const AGE_BANDS: [(&str, AgeBand, &str); 6] = [
    ("under13", AgeBand::Under13, "Under 13"),
    ("13", AgeBand::Age13, "13"),
    ("14", AgeBand::Age14, "14"),
    ("15", AgeBand::Age15, "15"),
    ("16-17", AgeBand::Age16To17, "16 or 17"),
    ("adult", AgeBand::Adult, "18 or older"),
];

/// The signed-in subject, or the redirect to the host's sign-in page.
pub(crate) async fn signed_in(
    app: &App,
    parts: &Parts,
    back: &str,
) -> std::result::Result<SubjectId, Response> {
    match app.users.signed_in(parts).await {
        Some(subject) => Ok(subject),
        None => Err(Redirect::to(&app.users.sign_in_url(&app.link(back))).into_response()),
    }
}

/// The platform of the path, when the hub has it.
fn platform_of(app: &App, name: &str) -> std::result::Result<PlatformId, Response> {
    match PlatformId::new(name) {
        Ok(id) if app.hub.platform(&id).is_ok() => Ok(id),
        _ => Err(html::message(
            StatusCode::NOT_FOUND,
            "Unknown platform",
            "This service does not connect that platform.",
            Some(&app.link("/privacy")),
        )),
    }
}

/// `GET /connect/{platform}`.
pub(crate) async fn start(
    State(app): State<Arc<App>>,
    Path(platform): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    // The platform first: `back` reaches the host's sign-in URL, so it holds known ids only.
    let id = match platform_of(&app, &platform) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let back = format!("/connect/{id}");
    let subject = match signed_in(&app, &parts, &back).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match crate::notice::needs_reconsent(&app, &subject).await {
        Ok(true) => return Redirect::to(&app.link("/privacy")).into_response(),
        Ok(false) => {}
        Err(e) => return crate::error::page(&e, &app.link("/privacy")),
    }
    match authorize(&app, &subject, &id).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) if e.kind() == ErrorKind::ConsentRequired => consent_form(&app, &subject, &id),
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}

/// The scopes of every purpose the subject may be processed for on `platform` now.
async fn permitted_scopes(
    app: &App,
    subject: &SubjectId,
    platform: &PlatformId,
) -> Result<Vec<Scope>> {
    let p = app.hub.platform(platform)?;
    let now = app.hub.clock().now();
    let mut scopes = BTreeSet::new();
    for purpose in Purpose::ALL {
        let allowed = app.hub.declared_basis(purpose).is_some()
            || app
                .hub
                .ledger()
                .permits(subject, purpose, platform, now)
                .await?;
        if allowed {
            scopes.extend(
                p.scopes_for(purpose)
                    .into_iter()
                    .map(|s| s.as_str().to_owned()),
            );
        }
    }
    scopes
        .into_iter()
        .map(|s| Scope::new(s).map_err(|_| Error::config("a platform declared a malformed scope")))
        .collect()
}

async fn authorize(app: &App, subject: &SubjectId, platform: &PlatformId) -> Result<url::Url> {
    let scopes = permitted_scopes(app, subject, platform).await?;
    let redirect = app.url(&format!("/callback/{platform}"));
    let request = app
        .hub
        .connect(subject, platform, &scopes, &redirect)
        .await?;
    Ok(request.url)
}

fn consent_form(app: &App, subject: &SubjectId, platform: &PlatformId) -> Response {
    let now = app.hub.clock().now();
    let p = app.hub.platform(platform).ok();
    let scopes_of = |purpose: Purpose| -> String {
        p.map(|p| {
            p.scopes_for(purpose)
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
    };
    let mut body = format!(
        "<h1>Connect {name}</h1><p>{controller} asks for your consent before connecting your \
         {name} account. You can withdraw it at any time on your <a href=\"{privacy}\">privacy \
         page</a>.</p><form method=\"post\" action=\"{action}\">{csrf}<h2>What we will do</h2>\
         <ul><li><label><input type=\"checkbox\" checked disabled> {label} (needed to connect; \
         permissions: {scopes})</label></li>",
        name = escape(platform.as_str()),
        controller = escape(&app.info.controller),
        privacy = escape(&app.link("/privacy")),
        action = escape(&app.link(&format!("/connect/{platform}"))),
        csrf = html::hidden("csrf", &app.csrf.token(subject, now)),
        label = escape(purpose_label(Purpose::AccountConnection)),
        scopes = escape(&scopes_of(Purpose::AccountConnection)),
    );
    for purpose in &app.offered {
        match app.hub.declared_basis(*purpose) {
            Some(declared) => {
                let _ = write!(
                    body,
                    "<li>{} — under {} ({}); you may object on your privacy page</li>",
                    escape(purpose_label(*purpose)),
                    escape(basis_name(declared.basis)),
                    escape(&declared.justification),
                );
            }
            None => {
                let _ = write!(
                    body,
                    "<li><label><input type=\"checkbox\" name=\"purpose\" value=\"{}\"> {} \
                     (permissions: {})</label></li>",
                    escape(purpose.as_str()),
                    escape(purpose_label(*purpose)),
                    escape(&scopes_of(*purpose)),
                );
            }
        }
    }
    body.push_str("</ul><h2>About you</h2><p><label>Your age <select name=\"age\" required>");
    body.push_str("<option value=\"\">Choose…</option>");
    for (value, _, label) in AGE_BANDS {
        let _ = write!(body, "<option value=\"{value}\">{label}</option>");
    }
    let _ = write!(
        body,
        "</select></label></p><p><label>Country you live in (two letters) <input \
         name=\"country\" required maxlength=\"2\" size=\"3\" value=\"{}\"></label></p>",
        escape(&app.info.default_country)
    );
    if let Some(notice) = app.hub.current_notice() {
        let _ = write!(
            body,
            "<p class=\"notice\">Privacy notice version {}: <a href=\"{}\">read it</a>.</p>",
            escape(&notice.version),
            escape(&app.info.notice_url),
        );
    }
    body.push_str("<p><button type=\"submit\" id=\"agree\">Agree and connect</button></p></form>");
    html::page(StatusCode::OK, &format!("Connect {platform}"), &body)
}

/// `POST /connect/{platform}`: records the consents after the age gate, then redirects to
/// the platform.
pub(crate) async fn consent(
    State(app): State<Arc<App>>,
    Path(platform): Path<String>,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    // The platform first: `back` reaches the host's sign-in URL, so it holds known ids only.
    let id = match platform_of(&app, &platform) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let back = format!("/connect/{id}");
    let subject = match signed_in(&app, &parts, &back).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let fields = match crate::forms::read(&mut parts, body).await {
        Ok(fields) => fields,
        Err(r) => return r,
    };
    if !app.csrf.check(
        &subject,
        fields.get("csrf").unwrap_or(""),
        app.hub.clock().now(),
    ) {
        return crate::forms::csrf_refused(&app);
    }
    let source = client_source(&parts);
    match record(&app, &subject, &id, &fields, source).await {
        Ok(()) => {}
        Err(e) => return crate::error::page(&e, &app.link(&back)),
    }
    match authorize(&app, &subject, &id).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}

/// The end user's IP and user agent, for the consent record.
pub(crate) fn client_source(parts: &Parts) -> ConsentSource {
    ConsentSource {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip()),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    }
}

/// Parses the age and country fields.
pub(crate) fn age_fields(fields: &crate::forms::Fields) -> Result<(AgeAttestation, Jurisdiction)> {
    let band = fields
        .get("age")
        .and_then(|v| AGE_BANDS.iter().find(|(name, _, _)| *name == v))
        .map(|(_, band, _)| *band)
        .ok_or_else(|| Error::invalid_input("choose your age"))?;
    let country = fields
        .get("country")
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let jurisdiction = Jurisdiction::new(&country)?;
    Ok((AgeAttestation::Band(band), jurisdiction))
}

async fn record(
    app: &App,
    subject: &SubjectId,
    platform: &PlatformId,
    fields: &crate::forms::Fields,
    source: ConsentSource,
) -> Result<()> {
    let (age, jurisdiction) = age_fields(fields)?;
    let mut purposes = vec![Purpose::AccountConnection];
    for value in fields.all("purpose") {
        let purpose = purpose_named(value)
            .filter(|p| app.offered.contains(p) && app.hub.declared_basis(*p).is_none())
            .ok_or_else(|| Error::invalid_input("unknown purpose on the consent form"))?;
        if !purposes.contains(&purpose) {
            purposes.push(purpose);
        }
    }
    grant(
        app,
        subject,
        Some(platform),
        &purposes,
        age,
        jurisdiction,
        source,
    )
    .await
}

/// Records one grant per purpose under the current notice; the first one runs the age gate,
/// so a refusal stores nothing.
pub(crate) async fn grant(
    app: &App,
    subject: &SubjectId,
    platform: Option<&PlatformId>,
    purposes: &[Purpose],
    age: AgeAttestation,
    jurisdiction: Jurisdiction,
    source: ConsentSource,
) -> Result<()> {
    let now = app.hub.clock().now();
    let today = now.date_naive();
    let notice = app.hub.current_notice();
    for purpose in purposes {
        let mut event = ConsentEvent::grant(subject.clone(), *purpose, platform.cloned(), now)
            .with_method(CollectionMethod::WebForm)
            .with_source(source.clone());
        if let Some(platform) = platform.and_then(|p| app.hub.platform(p).ok()) {
            event = event.with_scopes(platform.scopes_for(*purpose));
        }
        if let Some(notice) = &notice {
            event = event.with_notice_version(notice.version.clone());
        }
        app.hub
            .consent(ConsentRequest::new(event, age, jurisdiction, today))
            .await?;
    }
    Ok(())
}

/// `GET /callback/{platform}`: hands the whole callback URL to the hub.
pub(crate) async fn callback(
    State(app): State<Arc<App>>,
    Path(platform): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let subject = match signed_in(&app, &parts, "/privacy").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = platform_of(&app, &platform) {
        return r;
    }
    let redirect = app.url(&format!("/callback/{platform}"));
    let mut full = redirect.clone();
    full.set_query(query.as_deref());
    match app
        .hub
        .complete_callback(&subject, &redirect, full.as_str())
        .await
    {
        Ok(connected) => {
            tracing::info!(
                platform,
                reconnected = connected.reconnected,
                "account connected"
            );
            Redirect::to(&app.link(&format!("/privacy?connected={platform}"))).into_response()
        }
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}
