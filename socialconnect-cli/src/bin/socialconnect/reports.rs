//! Checks and reports: `ledger verify`, `doctor`, `records`.

use serde_json::json;
use socialconnect_cli::RecordOfProcessing;
use socialconnect_cli::doctor::{self, CheckStatus};
use socialconnect_core::Result;
use socialconnect_core::consent::ConsentLedger;

use crate::Outcome;
use crate::cli::LedgerCommand;
use crate::context::Context;
use crate::output;

pub(crate) async fn ledger(ctx: &Context, cmd: LedgerCommand) -> Result<Outcome> {
    let LedgerCommand::Verify = cmd;
    let store = ctx.store().await?;
    let report = store.verify_chain().await?;
    store.close().await;
    if ctx.json {
        output::json(&json!({
            "intact": report.first_broken.is_none(),
            "checked": report.checked,
            "first_broken": report.first_broken,
        }))?;
    } else {
        match report.first_broken {
            None => println!("consent chain intact: {} record(s) checked", report.checked),
            Some(seq) => println!(
                "consent chain BROKEN: the first broken link is record {seq} \
                 (its content or its link to record {} does not match); {} record(s) checked",
                seq.saturating_sub(1),
                report.checked
            ),
        }
    }
    if report.first_broken.is_some() {
        if !ctx.json {
            eprintln!(
                "socialconnect: the consent ledger was altered at record {}",
                report.first_broken.unwrap_or_default()
            );
        }
        return Ok(Outcome::CheckFailed);
    }
    Ok(Outcome::Ok)
}

pub(crate) async fn doctor(ctx: &Context) -> Result<Outcome> {
    let report = doctor::diagnose(&ctx.deployment, chrono::Utc::now().date_naive()).await;
    if ctx.json {
        output::json(&json!({ "passed": report.passed(), "checks": report.checks }))?;
    } else {
        for c in &report.checks {
            let mark = match c.status {
                CheckStatus::Ok => "ok  ",
                CheckStatus::Warn => "WARN",
                _ => "FAIL",
            };
            println!("[{mark}] {}: {}", c.name, c.detail);
        }
        println!(
            "{}",
            if report.passed() {
                "doctor: all checks passed"
            } else {
                "doctor: some checks FAILED"
            }
        );
    }
    Ok(if report.passed() {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

pub(crate) async fn records(ctx: &Context, strict: bool) -> Result<Outcome> {
    let store = ctx.store().await?;
    let hub = ctx.hub(&store)?;
    let record = RecordOfProcessing::generate(&ctx.deployment, &hub);
    store.close().await;
    if ctx.json {
        output::json(&record)?;
    } else {
        print!("{}", record.to_markdown());
    }
    if strict && record.is_flagged() {
        eprintln!(
            "socialconnect: the record has {} flag(s) (--strict)",
            record.flags.len()
        );
        return Ok(Outcome::CheckFailed);
    }
    Ok(Outcome::Ok)
}
