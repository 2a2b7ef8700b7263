//! `actions list|cancel|retry`: the operator's view of scheduled actions.

use serde_json::json;
use socialconnect_core::automation::{ActionFilter, ActionId, ActionStore, StoredAction};
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result};

use crate::Outcome;
use crate::cli::ActionsCommand;
use crate::context::Context;
use crate::output;

/// Summaries read per page.
const PAGE: u32 = 500;

pub(crate) async fn run(ctx: &Context, cmd: ActionsCommand) -> Result<Outcome> {
    match cmd {
        ActionsCommand::List {
            platform,
            state,
            limit,
        } => list(ctx, platform, state, limit).await,
        ActionsCommand::Cancel { id } => change(ctx, &id, Change::Cancel).await,
        ActionsCommand::Retry { id } => change(ctx, &id, Change::Retry).await,
    }
}

async fn list(
    ctx: &Context,
    platform: Option<String>,
    state: Option<String>,
    limit: u32,
) -> Result<Outcome> {
    let mut filter = ActionFilter::all();
    if let Some(p) = platform {
        let id = PlatformId::new(p.clone())
            .map_err(|_| Error::invalid_input(format!("`{p}` is not a platform id")))?;
        filter = filter.with_platform(id);
    }
    if let Some(s) = state {
        filter = filter.with_state(s);
    }
    let store = ctx.store().await?;
    let mut rows = Vec::new();
    let mut after = None;
    while rows.len() < limit as usize {
        let want = PAGE.min(limit - rows.len() as u32);
        let page = store.list_actions(&filter, after, want).await?;
        let full = page.len() == want as usize;
        after = page.last().map(|a| a.id);
        rows.extend(page);
        if !full {
            break;
        }
    }
    if ctx.json {
        output::json(&json!({ "actions": rows }))?;
    } else if rows.is_empty() {
        println!("no actions");
    } else {
        println!(
            "{:<36}  {:<10}  {:<24}  {:<12}  due",
            "action", "platform", "kind", "state"
        );
        for a in &rows {
            println!(
                "{:<36}  {:<10}  {:<24}  {:<12}  {}",
                a.id.to_string(),
                a.platform.as_str(),
                a.kind,
                a.state,
                a.due_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into())
            );
        }
        println!("{} action(s)", rows.len());
    }
    store.close().await;
    Ok(Outcome::Ok)
}

enum Change {
    Cancel,
    Retry,
}

async fn change(ctx: &Context, id: &str, change: Change) -> Result<Outcome> {
    let id: ActionId = id
        .parse()
        .map_err(|_| Error::invalid_input(format!("`{id}` is not an action id (a UUID)")))?;
    let store = ctx.store().await?;
    let hub = ctx.hub(&store)?;
    let result = async {
        let found = store.action(&id).await?.ok_or(Error::NotFound {
            what: "scheduled action",
        })?;
        let subject = &found.key.subject;
        let changed: StoredAction = match change {
            Change::Cancel => hub.cancel_action(subject, id).await?,
            Change::Retry => hub.retry_action(subject, id).await?,
        };
        tracing::info!(action = %id, actor = %ctx.actor, state = changed.state.as_str(), "action changed by an operator");
        Ok::<_, Error>(changed)
    }
    .await;
    store.close().await;
    let changed = result?;
    if ctx.json {
        output::json(&json!({
            "id": changed.id,
            "state": changed.state.as_str(),
            "due_at": changed.due_at.map(|t| t.to_rfc3339()),
        }))?;
    } else {
        println!("action {} is now {}", changed.id, changed.state.as_str());
    }
    Ok(Outcome::Ok)
}
