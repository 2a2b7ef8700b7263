//! The usage log off the request path: a session hands its entry to a bounded queue and one
//! writer task appends what has queued up as one batch ([`AccessLog::append_batch`], one
//! transaction in the encrypted store: group commit).
//!
//! # What a crash can lose
//!
//! In the default mode a call returns once its entry is queued, so a process killed before the
//! writer commits loses the entries still queued: those of the batch being written and of the
//! calls made meanwhile (plus the writer's 1 ms linger) (milliseconds of calls in practice; never more than
//! [`UsageLogOptions::capacity`]). A graceful shutdown loses none: call
//! [`SocialConnect::flush_usage_log`](crate::SocialConnect::flush_usage_log) after the last
//! request. A host that needs every entry committed before its call returns chooses
//! [`UsageLogOptions::durable`]: the call then waits for the batch its entry went out in (many
//! callers still share one commit).
//!
//! # Back-pressure, not loss
//!
//! When the queue is full the caller waits for room; no entry is dropped to keep a call fast.
//! A batch the store refuses is reported with `tracing::error!` (with its size), as a failed
//! direct append was before: the platform call already happened and failing it now could make
//! the host repeat a publish.
//!
//! Only platform calls go through the queue; the hub's privileged and privacy operations
//! (withdrawals, erasures, revocations) are written before they return.
//!
//! Reads, purges and erasures go through the queue first (they wait for the entries queued
//! before them), so a subject's export sees every call made before it, and no entry queued
//! before an erasure is written after it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::access_log::{AccessLog, LogCursor, UsageEntry};
use crate::error::Result;
use crate::id::SubjectId;

/// How the hub writes the usage log.
///
/// Platform calls hand their entry to a bounded queue; one writer task appends what has queued
/// up as one batch ([`AccessLog::append_batch`]: one transaction in the encrypted store). The
/// hub's privileged and privacy operations are written before they return, and reads, purges
/// and erasures wait for the entries queued before them.
///
/// - **A crash** loses the entries still queued in the default mode: those of the batch being
///   written and of the calls made meanwhile (milliseconds of calls; never more than
///   [`capacity`](Self::capacity)). A graceful shutdown loses none: call
///   [`SocialConnect::flush_usage_log`](crate::SocialConnect::flush_usage_log) after the last
///   request. [`durable`](Self::durable) makes every call wait for its entry's commit instead.
/// - **A full queue** makes the caller wait for room; no entry is dropped.
/// - **A batch the store refuses** is reported with `tracing::error!`: the platform call
///   already happened, and failing it now could make the host repeat a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsageLogOptions {
    /// Entries queued at most; a caller waits for room beyond (default 8192).
    pub capacity: usize,
    /// Entries written in one batch at most (default 512).
    pub max_batch: usize,
    /// Whether a call waits until its entry is committed (default `false`).
    pub durable: bool,
    /// How long the writer lets entries gather after the first one arrives before it writes
    /// (default 1 ms; zero in durable mode): one wake-up per batch instead of one per call.
    pub linger: Duration,
}

impl Default for UsageLogOptions {
    fn default() -> Self {
        Self {
            capacity: 8192,
            max_batch: 512,
            durable: false,
            linger: Duration::from_millis(1),
        }
    }
}

impl UsageLogOptions {
    /// Every call waits until its entry is committed (group commit still shares transactions
    /// between concurrent callers).
    pub fn durable() -> Self {
        Self {
            durable: true,
            linger: Duration::ZERO,
            ..Self::default()
        }
    }

    /// Sets how long entries gather before a write (see [`linger`](Self::linger); at most
    /// 100 ms).
    pub fn with_linger(mut self, linger: Duration) -> Self {
        self.linger = linger.min(Duration::from_millis(100));
        self
    }

    /// Sets the queue capacity and the largest batch (each at least 1).
    pub fn with_queue(mut self, capacity: usize, max_batch: usize) -> Self {
        self.capacity = capacity.max(1);
        self.max_batch = max_batch.max(1);
        self
    }
}

// Nearly every item is an entry: boxing it to shrink the rare flush would cost an allocation
// per platform call and save nothing.
#[allow(clippy::large_enum_variant)]
enum Item {
    /// An entry, with the caller to tell once it is written (durable mode).
    Entry(UsageEntry, Option<oneshot::Sender<()>>),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// The hub's access log: the host's log behind the queue.
pub(crate) struct QueuedLog {
    inner: Arc<dyn AccessLog>,
    tx: mpsc::Sender<Item>,
    /// The writer's end until the first use starts it on the caller's runtime (the hub is
    /// built outside any runtime as often as inside one).
    rx: Mutex<Option<mpsc::Receiver<Item>>>,
    options: UsageLogOptions,
}

impl QueuedLog {
    pub(crate) fn new(inner: Arc<dyn AccessLog>, options: UsageLogOptions) -> Self {
        let options = options.with_queue(options.capacity, options.max_batch);
        let (tx, rx) = mpsc::channel(options.capacity);
        Self {
            inner,
            tx,
            rx: Mutex::new(Some(rx)),
            options,
        }
    }

    /// Starts the writer on the current runtime if it is not running yet.
    fn start(&self) {
        let Ok(mut rx) = self.rx.lock() else {
            return;
        };
        if let Some(rx) = rx.take() {
            let inner = self.inner.clone();
            tokio::spawn(write(
                inner,
                rx,
                self.options.max_batch,
                self.options.linger,
            ));
        }
    }

    /// Writes `entry` directly, past the queue: for the hub's own privileged and privacy
    /// operations, whose record must exist when they return.
    pub(crate) async fn append_now(&self, entry: UsageEntry) -> Result<()> {
        self.inner.append(entry).await
    }

    /// Waits until every entry queued before this call is written.
    pub(crate) async fn flush(&self) {
        self.start();
        let (done, wait) = oneshot::channel();
        if self.tx.send(Item::Flush(done)).await.is_ok() {
            // An error means the writer is gone (its runtime shut down): nothing left to wait on.
            let _ = wait.await;
        }
    }
}

/// The writer: takes what has queued up (at most `max_batch`), appends it as one batch, then
/// answers the callers and flushes waiting on it. Ends when every sender is gone and the queue
/// is drained.
async fn write(
    inner: Arc<dyn AccessLog>,
    mut rx: mpsc::Receiver<Item>,
    max_batch: usize,
    linger: Duration,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        if !linger.is_zero() {
            tokio::time::sleep(linger).await;
        }
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Item::Entry(entry, done) => {
                    batch.push(entry);
                    waiting.extend(done);
                }
                Item::Flush(done) => {
                    // Everything before it is in this batch; what follows can wait its turn.
                    waiting.push(done);
                    break;
                }
            }
            if batch.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let n = batch.len();
            if let Err(e) = inner.append_batch(std::mem::take(&mut batch)).await {
                tracing::error!(entries = n, error = %e, "usage log write failed");
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

#[async_trait]
impl AccessLog for QueuedLog {
    async fn append(&self, entry: UsageEntry) -> Result<()> {
        self.start();
        let (done, wait) = if self.options.durable {
            let (done, wait) = oneshot::channel();
            (Some(done), Some(wait))
        } else {
            (None, None)
        };
        match self.tx.send(Item::Entry(entry, done)).await {
            Ok(()) => {
                if let Some(wait) = wait {
                    let _ = wait.await;
                }
                Ok(())
            }
            // The writer's runtime is gone (a hub outliving the runtime that first used it):
            // write directly rather than lose the entry.
            Err(mpsc::error::SendError(Item::Entry(entry, _))) => self.inner.append(entry).await,
            Err(_) => Ok(()),
        }
    }

    async fn append_batch(&self, entries: Vec<UsageEntry>) -> Result<()> {
        for entry in entries {
            self.append(entry).await?;
        }
        Ok(())
    }

    async fn entries(&self, subject: &SubjectId) -> Result<Vec<UsageEntry>> {
        self.flush().await;
        self.inner.entries(subject).await
    }

    async fn entries_page(
        &self,
        subject: &SubjectId,
        after: Option<LogCursor>,
        limit: u32,
    ) -> Result<(Vec<UsageEntry>, Option<LogCursor>)> {
        if after.is_none() {
            self.flush().await;
        }
        self.inner.entries_page(subject, after, limit).await
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.flush().await;
        self.inner.purge_before(cutoff).await
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        self.flush().await;
        self.inner.erase_subject(subject).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::access_log::{ClientInfo, Outcome};
    use crate::id::PlatformId;
    use crate::memory::MemoryAccessLog;

    fn entry(n: usize) -> UsageEntry {
        UsageEntry::new(
            Utc::now(),
            SubjectId::new("alice").unwrap(),
            PlatformId::LINKEDIN,
            None,
            format!("op.{n}"),
            Outcome::Success,
            Some(200),
            Duration::from_millis(1),
            ClientInfo::default(),
        )
    }

    /// Counts batches and can hold the writer inside a batch.
    struct Gated {
        log: MemoryAccessLog,
        batches: AtomicUsize,
        gate: tokio::sync::Semaphore,
    }

    #[async_trait]
    impl AccessLog for Gated {
        async fn append(&self, entry: UsageEntry) -> Result<()> {
            self.append_batch(vec![entry]).await
        }
        async fn append_batch(&self, entries: Vec<UsageEntry>) -> Result<()> {
            let _permit = self.gate.acquire().await.unwrap();
            self.batches.fetch_add(1, Ordering::SeqCst);
            for e in entries {
                self.log.append(e).await?;
            }
            Ok(())
        }
        async fn entries(&self, subject: &SubjectId) -> Result<Vec<UsageEntry>> {
            self.log.entries(subject).await
        }
        async fn entries_page(
            &self,
            subject: &SubjectId,
            after: Option<LogCursor>,
            limit: u32,
        ) -> Result<(Vec<UsageEntry>, Option<LogCursor>)> {
            self.log.entries_page(subject, after, limit).await
        }
        async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
            self.log.purge_before(cutoff).await
        }
        async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
            self.log.erase_subject(subject).await
        }
    }

    fn gated(open: bool) -> Arc<Gated> {
        Arc::new(Gated {
            log: MemoryAccessLog::new(),
            batches: AtomicUsize::new(0),
            gate: tokio::sync::Semaphore::new(if open { 1 } else { 0 }),
        })
    }

    #[tokio::test]
    async fn entries_queued_while_a_batch_is_written_go_out_together() {
        let inner = gated(false);
        let log = Arc::new(QueuedLog::new(
            inner.clone(),
            UsageLogOptions::default().with_linger(Duration::ZERO),
        ));
        log.append(entry(0)).await.unwrap();
        // Until the writer holds entry 0 at the closed gate; the rest queue up behind it.
        while log.tx.capacity() < log.options.capacity {
            tokio::task::yield_now().await;
        }
        for n in 1..=100 {
            log.append(entry(n)).await.unwrap();
        }
        inner.gate.add_permits(1);
        let alice = SubjectId::new("alice").unwrap();
        let written = log.entries(&alice).await.unwrap();
        let ops: Vec<String> = written.iter().map(|e| e.operation.clone()).collect();
        let expected: Vec<String> = (0..=100).map(|n| format!("op.{n}")).collect();
        assert_eq!(ops, expected, "every entry, in order");
        assert_eq!(
            inner.batches.load(Ordering::SeqCst),
            2,
            "101 entries, two commits"
        );
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_caller_wait_and_loses_nothing() {
        let inner = gated(false);
        let log = Arc::new(QueuedLog::new(
            inner.clone(),
            UsageLogOptions::default()
                .with_queue(4, 2)
                .with_linger(Duration::ZERO),
        ));
        log.append(entry(0)).await.unwrap();
        // Until the writer holds entry 0 at the closed gate, so the queue is empty again.
        while log.tx.capacity() < 4 {
            tokio::task::yield_now().await;
        }
        for n in 1..=4 {
            log.append(entry(n)).await.unwrap();
        }
        let blocked = tokio::spawn({
            let log = log.clone();
            async move { log.append(entry(5)).await }
        });
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert!(!blocked.is_finished(), "the fifth waits for room");
        inner.gate.add_permits(1);
        blocked.await.unwrap().unwrap();
        let alice = SubjectId::new("alice").unwrap();
        assert_eq!(log.entries(&alice).await.unwrap().len(), 6);
        assert!(
            inner.batches.load(Ordering::SeqCst) >= 3,
            "batches of at most 2"
        );
    }

    /// One caller's entries, each queued before the writer wakes, go out together: the
    /// writer lingers after the first instead of waking for every call.
    #[tokio::test]
    async fn the_linger_groups_a_single_callers_entries() {
        let inner = gated(true);
        let log = QueuedLog::new(
            inner.clone(),
            UsageLogOptions::default().with_linger(Duration::from_millis(50)),
        );
        for n in 0..20 {
            log.append(entry(n)).await.unwrap();
            tokio::task::yield_now().await;
        }
        log.flush().await;
        assert_eq!(
            inner
                .log
                .entries(&SubjectId::new("alice").unwrap())
                .await
                .unwrap()
                .len(),
            20
        );
        assert_eq!(
            inner.batches.load(Ordering::SeqCst),
            1,
            "one write for twenty calls"
        );
    }

    #[tokio::test]
    async fn durable_calls_return_after_their_commit() {
        let inner = gated(false);
        let log = Arc::new(QueuedLog::new(inner.clone(), UsageLogOptions::durable()));
        let call = tokio::spawn({
            let log = log.clone();
            async move { log.append(entry(0)).await }
        });
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert!(!call.is_finished(), "not committed yet");
        inner.gate.add_permits(1);
        call.await.unwrap().unwrap();
        assert_eq!(inner.batches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn erasure_waits_for_the_entries_queued_before_it() {
        let inner = gated(true);
        let log = QueuedLog::new(inner.clone(), UsageLogOptions::default());
        for n in 0..10 {
            log.append(entry(n)).await.unwrap();
        }
        let alice = SubjectId::new("alice").unwrap();
        assert_eq!(log.erase_subject(&alice).await.unwrap(), 10);
        assert!(inner.log.entries(&alice).await.unwrap().is_empty());
    }

    #[test]
    fn a_hub_outliving_the_runtime_that_started_its_writer_still_logs() {
        let inner = gated(true);
        let log = QueuedLog::new(inner.clone(), UsageLogOptions::default());
        let rt = || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        };
        rt().block_on(log.append(entry(0))).unwrap();
        // The first runtime (and the writer with it) is gone; this one writes directly. (What
        // was still queued when that runtime shut down went with it, as in a crash.)
        rt().block_on(log.append(entry(1))).unwrap();
        let alice = SubjectId::new("alice").unwrap();
        let ops: Vec<String> = rt()
            .block_on(inner.log.entries(&alice))
            .unwrap()
            .into_iter()
            .map(|e| e.operation)
            .collect();
        assert!(ops.contains(&"op.1".to_owned()), "{ops:?}");
    }
}
