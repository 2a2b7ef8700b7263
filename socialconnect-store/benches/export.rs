//! Export of a subject with 1 000 000 usage-log entries through the hub over the encrypted
//! SQLite store: the peak memory the export adds (Linux: the process's high-water mark, reset
//! just before the export) and the time it takes. Target: at most 64 MiB.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use socialconnect_core::SocialConnect;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::ConsentLedger;
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_core::keys::KeyId;
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;

const ROWS: u64 = 1_000_000;

/// Counts bytes and drops them, so the output itself takes no memory.
struct Counting(u64);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn current_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.db");
    let keys = Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [5; 32])], KeyId("k1".into())).unwrap(),
    );
    let store = rt
        .block_on(EncryptedStore::open_sqlite(&path, keys))
        .unwrap();
    let subject = SubjectId::new("exported-subject").unwrap();
    let entry = UsageEntry::new(
        Utc::now(),
        subject.clone(),
        PlatformId::INSTAGRAM,
        None,
        "media.read",
        Outcome::Success,
        Some(200),
        Duration::from_millis(4),
        ClientInfo::new(Some("192.0.2.44".parse().unwrap()), Some("Bench/1.0")),
    );
    rt.block_on(store.append(entry)).unwrap();
    // Copies of that sealed row: same subject, time, platform and operation, so each still
    // opens (they are bound to those columns), with fresh row ids.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        &format!(
            "INSERT INTO sc_usage_log (subject_ref, at, platform, operation, outcome, http_status, latency_us, dek_id, sealed) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
             SELECT u.subject_ref, u.at, u.platform, u.operation, u.outcome, u.http_status, u.latency_us, u.dek_id, u.sealed \
             FROM sc_usage_log u, n WHERE u.id = (SELECT min(id) FROM sc_usage_log)",
            ROWS - 1
        ),
        [],
    )
    .unwrap();
    drop(conn);

    let hub = SocialConnect::builder()
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .build()
        .unwrap();

    let before = current_rss_kib();
    // Reset the high-water mark to the current RSS (Linux >= 4.0).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let mut out = Counting(0);
    rt.block_on(hub.export(&subject, "bench", &mut out))
        .unwrap();
    let took = started.elapsed();
    let peak = peak_rss_kib();
    match (before, peak, reset) {
        (Some(b), Some(p), true) => eprintln!(
            "export bench: {ROWS} usage entries, {} MiB of JSON in {took:?}; peak RSS {} MiB, {} MiB above the {} MiB before the export (target <= 64 MiB)",
            out.0 / (1 << 20),
            p / 1024,
            p.saturating_sub(b) / 1024,
            b / 1024
        ),
        _ => eprintln!(
            "export bench: {ROWS} usage entries, {} MiB of JSON in {took:?}; peak memory not measurable on this system",
            out.0 / (1 << 20)
        ),
    }
}
