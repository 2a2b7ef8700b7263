//! Data operations: `purge`, `export`, `erase`, `connections list`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_core::{Error, Result, SocialConnect};

use crate::Outcome;
use crate::cli::ConnectionsCommand;
use crate::context::Context;
use crate::output::{self, Progress};

pub(crate) async fn purge(ctx: &Context) -> Result<Outcome> {
    let store = ctx.store().await?;
    let hub = ctx.hub(&store)?;
    let progress = Progress::steps("purge", ctx.json);
    let started = Instant::now();
    let report = hub.purge(hub.clock().now()).await?;
    progress.step(&format!(
        "retention: {} usage entries, {} expired OAuth states, {} stale connections, {} ended actions",
        report.usage_entries,
        report.oauth_states,
        report.stale_connections,
        report.finished_actions
    ));
    let api_keys = match ctx.deployment.dead_api_key_retention() {
        Some(keep) => {
            let n = ctx.deployment.api_keys(&store).purge(keep).await?;
            progress.step(&format!("dead API keys: {n}"));
            Some(n)
        }
        None => None,
    };
    // Webhook sightings past every platform's retry window (shared dedupe across instances).
    let deliveries = store
        .delivery_log(socialconnect_store::DEFAULT_DELIVERY_WINDOW)
        .purge(hub.clock().now())
        .await?;
    progress.step(&format!("old webhook deliveries: {deliveries}"));
    let total = report.total() + api_keys.unwrap_or(0) + deliveries;
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    if ctx.json {
        output::json(&json!({
            "usage_entries": report.usage_entries,
            "oauth_states": report.oauth_states,
            "stale_connections": report.stale_connections,
            "finished_actions": report.finished_actions,
            "dead_api_keys": api_keys,
            "webhook_deliveries": deliveries,
            "total": total,
            "seconds": secs,
        }))?;
    } else {
        println!(
            "purge done: {total} record(s) deleted in {secs:.2} s ({:.0}/s)",
            total as f64 / secs.max(1e-3)
        );
    }
    store.close().await;
    Ok(Outcome::Ok)
}

fn subject(text: &str) -> Result<SubjectId> {
    SubjectId::new(text).map_err(|e| Error::invalid_input(format!("subject `{text}`: {e}")))
}

/// Refuses a subject the store holds nothing about (a typo would otherwise export an empty
/// document, or leave a receipt for an erasure that erased nothing).
async fn ensure_known(hub: &SocialConnect, subject: &SubjectId) -> Result<()> {
    let connections = hub.connections(subject).await?;
    let history = hub.ledger().history(subject).await?;
    if connections.is_empty() && history.is_empty() {
        return Err(Error::invalid_input(format!(
            "unknown subject `{subject}`: no connection or consent record is held for it"
        )));
    }
    Ok(())
}

pub(crate) async fn export(ctx: &Context, subject_id: &str, out: Option<&Path>) -> Result<Outcome> {
    let subject = subject(subject_id)?;
    let store = ctx.store().await?;
    let hub = ctx.hub(&store)?;
    ensure_known(&hub, &subject).await?;
    match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            hub.export(&subject, &ctx.actor, &mut stdout).await?;
            writeln!(stdout).map_err(|e| Error::storage("writing the export", e))?;
        }
        Some(path) => {
            let mut file = create_private(path)?;
            hub.export(&subject, &ctx.actor, &mut file).await?;
            file.sync_all()
                .map_err(|e| Error::storage("writing the export", e))?;
            if ctx.json {
                output::json(&json!({ "subject": subject_id, "written": path }))?;
            } else {
                println!("export of `{subject_id}` written to {}", path.display());
            }
        }
    }
    store.close().await;
    Ok(Outcome::Ok)
}

/// A new file only its owner can read: an export is personal data.
fn create_private(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| {
        Error::invalid_input(format!("cannot create {}: {}", path.display(), e.kind()))
    })
}

pub(crate) async fn erase(ctx: &Context, subject_id: &str, allow_unknown: bool) -> Result<Outcome> {
    let subject = subject(subject_id)?;
    let store = ctx.store().await?;
    let hub = ctx.hub(&store)?;
    if !allow_unknown {
        ensure_known(&hub, &subject).await?;
    }
    let outcome = hub.erase(&subject, &ctx.actor).await?;
    let upstream: Vec<_> = outcome
        .upstream
        .iter()
        .map(|(p, r)| json!({ "platform": p.as_str(), "outcome": r.to_string() }))
        .collect();
    if ctx.json {
        output::json(&json!({
            "subject": subject_id,
            "removed": outcome.report.counts,
            "total": outcome.report.total(),
            "upstream": upstream,
            "receipt": outcome.receipt,
        }))?;
    } else {
        println!(
            "erased `{subject_id}`: {} record(s) removed",
            outcome.report.total()
        );
        for (kind, n) in &outcome.report.counts {
            println!("  {kind}: {n}");
        }
        for (p, r) in &outcome.upstream {
            println!("  {p}: {r}");
        }
        match &outcome.receipt {
            Some(r) => println!(
                "receipt: subject pseudonym {} at {}",
                r.subject_pseudonym,
                r.erased_at.to_rfc3339()
            ),
            None => println!("no receipt store: no receipt kept"),
        }
    }
    store.close().await;
    Ok(Outcome::Ok)
}

pub(crate) async fn connections(ctx: &Context, cmd: ConnectionsCommand) -> Result<Outcome> {
    let ConnectionsCommand::List { platform, state } = cmd;
    let platform = platform
        .map(|p| {
            PlatformId::new(p.clone())
                .map_err(|_| Error::invalid_input(format!("`{p}` is not a platform id")))
        })
        .transpose()?;
    let store = ctx.store().await?;
    let all = store.all_connections().await?;
    let rows: Vec<_> = all
        .iter()
        .filter(|c| platform.as_ref().is_none_or(|p| &c.key.platform == p))
        .filter(|c| state.as_deref().is_none_or(|s| c.status.as_str() == s))
        .collect();
    if ctx.json {
        let list: Vec<_> = rows
            .iter()
            .map(|c| {
                json!({
                    "connection_id": c.key.connection.to_string(),
                    "subject": c.key.subject.as_str(),
                    "platform": c.key.platform.as_str(),
                    "state": c.status.as_str(),
                    "state_since": c.status.since().map(|t| t.to_rfc3339()),
                    "scopes": c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                    "updated_at": c.updated_at.to_rfc3339(),
                })
            })
            .collect();
        output::json(&json!({ "connections": list }))?;
    } else if rows.is_empty() {
        println!("no connections");
    } else {
        println!(
            "{:<36}  {:<10}  {:<18}  subject",
            "connection", "platform", "state"
        );
        for c in &rows {
            println!(
                "{:<36}  {:<10}  {:<18}  {}",
                c.key.connection.to_string(),
                c.key.platform.as_str(),
                c.status.as_str(),
                c.key.subject.as_str()
            );
        }
        println!("{} connection(s)", rows.len());
    }
    store.close().await;
    Ok(Outcome::Ok)
}
