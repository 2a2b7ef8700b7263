//! `socialconnect keys rotate` on many subjects: the built binary, as an operator runs it,
//! re-wrapping every subject's data key under a new primary key on a SQLite deployment,
//! against plain SQLite rewriting as many 60-byte blobs in batches of the same size (WAL,
//! `synchronous=FULL`, as the store runs) in the same run.
//!
//! The subjects are seeded through the store's public API (one consent each, which gives the
//! subject its data key). The binary's stdout is a pipe, so its progress is plain lines, which
//! are printed as they arrive. `SC_BENCH_SUBJECTS` (default 100 000) and `SC_BENCH_BATCH`
//! (default 1 000, the CLI's default) change the size.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{Sandbox, key_line};
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// The binary's run: every line it prints, each with the time it arrived.
fn rotate(sb: &Sandbox, batch: usize) -> (Duration, Vec<(Duration, String)>) {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_socialconnect"))
        .env_remove("SOCIALCONNECT_CONFIG")
        .env_remove("SOCIALCONNECT_ACTOR")
        .env("LINKEDIN_CLIENT_SECRET", common::SECRET)
        .arg("--config")
        .arg(&sb.config)
        .args(["keys", "rotate", "--batch", &batch.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the socialconnect binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        lines.push((started.elapsed(), line.expect("a line of output")));
    }
    let status = child.wait().expect("the binary finishes");
    let took = started.elapsed();
    assert!(status.success(), "keys rotate failed: {status}");
    (took, lines)
}

/// Plain SQLite: `n` rows of (text key, 60-byte blob), rewritten in transactions of `batch`.
fn baseline(dir: &std::path::Path, n: usize, batch: usize) -> Duration {
    let db = rusqlite::Connection::open(dir.join("plain.db")).unwrap();
    db.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    db.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE keys (subject_ref TEXT PRIMARY KEY, kek_id TEXT NOT NULL, wrapped BLOB NOT NULL);",
    )
    .unwrap();
    let tx = db.unchecked_transaction().unwrap();
    for i in 0..n {
        tx.execute(
            "INSERT INTO keys VALUES (?1, 'k1', ?2)",
            rusqlite::params![format!("{i:064x}"), [1u8; 60].as_slice()],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let started = Instant::now();
    let mut after = String::new();
    loop {
        let rows: Vec<(String, Vec<u8>)> = db
            .prepare_cached(
                "SELECT subject_ref, wrapped FROM keys WHERE kek_id <> 'k2' AND subject_ref > ?1
                 ORDER BY subject_ref LIMIT ?2",
            )
            .unwrap()
            .query_map(rusqlite::params![after, batch as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let Some((last, _)) = rows.last() else { break };
        after = last.clone();
        let tx = db.unchecked_transaction().unwrap();
        for (subject_ref, mut wrapped) in rows {
            wrapped[0] ^= 1;
            tx.execute(
                "UPDATE keys SET kek_id = 'k2', wrapped = ?2 WHERE subject_ref = ?1 AND kek_id = 'k1'",
                rusqlite::params![subject_ref, wrapped],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    started.elapsed()
}

fn main() {
    let subjects = env_or("SC_BENCH_SUBJECTS", 100_000);
    let batch = env_or("SC_BENCH_BATCH", 1_000);
    let sb = Sandbox::sqlite();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = sb.store().await;
        let started = Instant::now();
        let now = Utc::now();
        for i in 0..subjects {
            let subject = SubjectId::new(format!("subject-{i}")).unwrap();
            store
                .record(ConsentEvent::grant(
                    subject,
                    Purpose::AccountConnection,
                    Some(PlatformId::LINKEDIN),
                    now,
                ))
                .await
                .unwrap();
        }
        eprintln!(
            "keys_rotate: seeded {subjects} subjects in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        store.close().await;
    });
    drop(rt);

    // k2 becomes the primary; k1 stays to unwrap what it wraps until the rotation is done.
    sb.write_keyring(&[key_line("k1", false, 7), key_line("k2", true, 9)]);
    let (took, lines) = rotate(&sb, batch);
    let plain = baseline(sb.dir.path(), subjects, batch);
    eprintln!("keys_rotate: `socialconnect keys rotate --batch {batch}` printed:");
    let shown = 5;
    for (i, (at, line)) in lines.iter().enumerate() {
        if i < shown || i + shown >= lines.len() {
            eprintln!("  [{:>6.2} s] {line}", at.as_secs_f64());
        } else if i == shown {
            eprintln!("  … {} more lines …", lines.len() - 2 * shown);
        }
    }
    eprintln!(
        "keys_rotate: {subjects} subjects re-wrapped in {:.2} s ({:.0}/s, whole process); \
         plain SQLite rewriting {subjects} blobs in batches of {batch}: {:.2} s; ratio {:.2}",
        took.as_secs_f64(),
        subjects as f64 / took.as_secs_f64(),
        plain.as_secs_f64(),
        took.as_secs_f64() / plain.as_secs_f64()
    );
}
