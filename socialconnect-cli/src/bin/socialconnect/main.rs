//! `socialconnect`: operate a SocialConnect deployment from its deployment file.
//!
//! Exit codes: 0 done; 1 a check failed (a broken consent chain, a failed `doctor` check, a
//! flagged record with `--strict`); 2 bad input or configuration; 3 any other failure
//! (storage, crypto). Errors are one line on stderr, without secrets.

mod actions;
mod apikeys;
mod cli;
mod context;
mod keys;
mod ops;
mod output;
mod reports;

use std::process::ExitCode;

use clap::Parser;
use socialconnect_core::{Error, ErrorKind};

use crate::cli::{Cli, Command};
use crate::context::Context;

/// What a command reports back to `main`.
pub(crate) enum Outcome {
    /// Done.
    Ok,
    /// Ran, but what it checked is not fine (exit 1).
    CheckFailed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "socialconnect: cannot start the async runtime: {}",
                e.kind()
            );
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("socialconnect: {}", one_line(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

async fn run(cli: Cli) -> socialconnect_core::Result<Outcome> {
    let ctx = Context::load(cli.config.as_deref(), cli.json, cli.actor)?;
    match cli.command {
        Command::Keys(cmd) => keys::run(&ctx, cmd).await,
        Command::Purge => ops::purge(&ctx).await,
        Command::Export { subject, out } => ops::export(&ctx, &subject, out.as_deref()).await,
        Command::Erase {
            subject,
            allow_unknown,
        } => ops::erase(&ctx, &subject, allow_unknown).await,
        Command::Ledger(cmd) => reports::ledger(&ctx, cmd).await,
        Command::ApiKeys(cmd) => apikeys::run(&ctx, cmd).await,
        Command::Connections(cmd) => ops::connections(&ctx, cmd).await,
        Command::Actions(cmd) => actions::run(&ctx, cmd).await,
        Command::Doctor => reports::doctor(&ctx).await,
        Command::Records { strict } => reports::records(&ctx, strict).await,
    }
}

fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::Config | ErrorKind::InvalidInput | ErrorKind::NotFound | ErrorKind::Conflict => {
            2
        }
        _ => 3,
    }
}

/// The error on one line.
fn one_line(e: &Error) -> String {
    e.to_string().replace(['\n', '\r'], " ")
}
