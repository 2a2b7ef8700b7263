//! The privacy page's scheduled actions: what SocialConnect will do for the end user and
//! when, each with a cancel button (`POST /privacy/actions/cancel`).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use socialconnect_core::automation::{ActionId, ActionState};
use socialconnect_core::id::SubjectId;
use socialconnect_core::{Error, ErrorKind, Result};

use crate::html::{escape, hidden};
use crate::names::purpose_label;
use crate::page_forms::{form, posted};
use crate::state::App;

/// Actions shown, newest last: past ones beyond this are left to the export.
const SHOWN: usize = 50;

/// A human name for an action's state.
fn state_text(state: &ActionState) -> String {
    match state {
        ActionState::Scheduled => "scheduled".into(),
        ActionState::MaybeSent => "being checked".into(),
        ActionState::Paused => "paused until you reconnect".into(),
        ActionState::Done => "done".into(),
        ActionState::Cancelled { reason } => format!("cancelled ({})", reason.as_str()),
        ActionState::NeedsPerson { .. } => "waiting for our team".into(),
        ActionState::Failed { kind } => format!("failed ({kind})"),
        _ => state.as_str().into(),
    }
}

/// The "Scheduled for you" section of the page (nothing when the hub has no action store).
pub(crate) async fn section(app: &App, subject: &SubjectId, body: &mut String) -> Result<()> {
    let actions = match app.hub.subject_actions(subject).await {
        Ok(a) => a,
        Err(e) if e.kind() == ErrorKind::Config => return Ok(()),
        Err(e) => return Err(e),
    };
    body.push_str("<h2>Scheduled for you</h2>");
    if actions.is_empty() {
        body.push_str("<p id=\"no-actions\">Nothing is scheduled.</p>");
        return Ok(());
    }
    body.push_str(
        "<table id=\"actions\"><tr><th>What</th><th>Platform</th><th>Purpose</th>\
         <th>When</th><th>Status</th><th></th></tr>",
    );
    let skip = actions.len().saturating_sub(SHOWN);
    for a in actions.iter().skip(skip) {
        let when = a
            .due_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let cancel = if a.state.is_final() {
            String::new()
        } else {
            form(
                app,
                subject,
                "/privacy/actions/cancel",
                &hidden("action", &a.id.to_string()),
                "Cancel",
                &format!("cancel-{}", a.id),
            )
        };
        let _ = write!(
            body,
            "<tr class=\"action\" data-state=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(a.state.as_str()),
            escape(&a.kind),
            escape(a.key.platform.as_str()),
            escape(purpose_label(a.purpose)),
            escape(&when),
            escape(&state_text(&a.state)),
            cancel
        );
    }
    body.push_str("</table>");
    Ok(())
}

/// `POST /privacy/actions/cancel`: the end user cancels one of their pending actions.
pub(crate) async fn cancel(State(app): State<Arc<App>>, request: Request) -> Response {
    let (subject, fields, _) = match posted(&app, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id: ActionId = fields
            .get("action")
            .ok_or_else(|| Error::invalid_input("which action?"))?
            .parse()?;
        app.hub.cancel_action(&subject, id).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&app.link("/privacy?done=cancelled")).into_response(),
        Err(e) => crate::error::page(&e, &app.link("/privacy")),
    }
}
