//! Printing: JSON documents for scripts, text for people, and progress for long jobs (a bar
//! with counts and rate on a terminal, plain lines otherwise).

use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use socialconnect_core::{Error, Result};

/// Prints `value` as one pretty JSON document on stdout.
pub(crate) fn json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::storage("writing JSON output", e))?;
    println!("{text}");
    Ok(())
}

/// Progress of a long job.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    /// Plain lines go to stderr in JSON mode, so stdout stays one document.
    to_stderr: bool,
    what: &'static str,
}

impl Progress {
    pub(crate) fn new(what: &'static str, json: bool) -> Self {
        let bar = (!json && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
            let style =
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(what);
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            to_stderr: json,
            what,
        }
    }

    /// `done` of `total` so far.
    pub(crate) fn update(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total.max(done));
            bar.set_position(done);
            return;
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let line = format!(
            "{}: {done}/{total} ({:.0}/s)",
            self.what,
            done as f64 / secs
        );
        if self.to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
            let _ = std::io::stdout().flush();
        }
    }

    /// A job counted in steps, not items: a spinner on a terminal.
    pub(crate) fn steps(what: &'static str, json: bool) -> Self {
        let bar = (!json && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(what);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            to_stderr: json,
            what,
        }
    }

    /// A step finished (for jobs counted in steps rather than items).
    pub(crate) fn step(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.println(text);
        } else if self.to_stderr {
            eprintln!("{}: {text}", self.what);
        } else {
            println!("{}: {text}", self.what);
        }
    }

    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
