//! A writer killed with SIGKILL at random moments leaves a database that opens, passes
//! `PRAGMA integrity_check`, and holds every write the writer reported as committed.
#![cfg(all(feature = "sqlite", unix))]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::TokenStore;
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;

const CHILD_ENV: &str = "SC_CRASH_CHILD_DB";

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [3; 32])], KeyId("k1".into())).unwrap(),
    )
}

/// The connection written in step `i` of run `run`: deterministic, so the parent can rebuild it.
fn key(run: u32, i: u64) -> ConnectionKey {
    let id = uuid::Uuid::from_u128(((run as u128) << 64) | i as u128);
    ConnectionKey::new(
        SubjectId::new(format!("subject-{}", i % 7)).unwrap(),
        PlatformId::LINKEDIN,
        ConnectionId::from_uuid(id),
    )
}

/// Child process entry point: writes until killed, printing each committed step.
#[tokio::test]
#[ignore = "entry point of the child process spawned by writes_survive_sigkill"]
async fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let run: u32 = std::env::var("SC_CRASH_RUN").unwrap().parse().unwrap();
    let store = EncryptedStore::open_sqlite(&path, keys()).await.unwrap();
    let mut out = std::io::stdout();
    for i in 0.. {
        let now = Utc::now();
        let t = TokenSet::new(
            AccessToken::new(format!("token-{run}-{i}")),
            Expiry::after(now, 60),
            now,
        );
        store.put(&key(run, i), &t, None).await.unwrap();
        use std::io::Write;
        writeln!(out, "committed {i}").unwrap();
        out.flush().unwrap();
    }
}

#[tokio::test]
async fn writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().unwrap();
    let mut total = 0u64;
    for run in 0..20u32 {
        let mut child = Command::new(&exe)
            .args([
                "crash_child_writer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env("SC_CRASH_RUN", run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Kill after a random number of reported commits (0..40), or at a random moment.
        let kill_after = rand::random_range(0..40u64);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut committed = Vec::new();
        let mut lines = BufReader::new(stdout).lines();
        while (committed.len() as u64) < kill_after && Instant::now() < deadline {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(i) = line.strip_prefix("committed ") {
                        committed.push(i.parse::<u64>().unwrap());
                    }
                }
                _ => break,
            }
        }
        std::thread::sleep(Duration::from_micros(rand::random_range(0..3000)));
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        // Lines already written before the kill count as reported too.
        for line in lines.map_while(Result::ok) {
            if let Some(i) = line.strip_prefix("committed ") {
                committed.push(i.parse().unwrap());
            }
        }

        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "run {run}");
        drop(conn);

        let store = EncryptedStore::open_sqlite(&path, keys()).await.unwrap();
        for i in &committed {
            let got = store.get(&key(run, *i)).await.unwrap();
            let got = got.unwrap_or_else(|| panic!("run {run}: committed write {i} lost"));
            assert_eq!(
                got.tokens.access_token.expose_secret(),
                format!("token-{run}-{i}")
            );
        }
        total += committed.len() as u64;
        drop(store);
    }
    assert!(total > 0, "the children committed something");
}
