//! `keys rotate`.

use serde_json::json;
use socialconnect_core::Result;
use socialconnect_store::StoreOptions;

use crate::Outcome;
use crate::cli::KeysCommand;
use crate::context::Context;
use crate::output::{self, Progress};

pub(crate) async fn run(ctx: &Context, cmd: KeysCommand) -> Result<Outcome> {
    let KeysCommand::Rotate { batch } = cmd;
    let store = ctx
        .deployment
        .open_store_with(StoreOptions::default().with_rotation_batch(batch))
        .await?;
    let progress = Progress::new("keys rotate", ctx.json);
    let report = store
        .rotate_keys(&ctx.actor, |p| progress.update(p.rewrapped, p.total))
        .await;
    progress.finish();
    let report = report?;
    if ctx.json {
        output::json(&json!({
            "primary": report.primary.0,
            "rewrapped": report.rewrapped,
        }))?;
    } else {
        println!(
            "rotation done: {} key(s) re-wrapped; everything is under `{}`",
            report.rewrapped, report.primary
        );
    }
    store.close().await;
    Ok(Outcome::Ok)
}
