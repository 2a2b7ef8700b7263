//! Dedupe of at-least-once webhook deliveries by event id.
//!
//! Platforms redeliver an event until they see a 2xx (TikTok retries for 72 hours), so a host
//! receives some events twice. [`DeliveryLog`] answers "have I seen this event?" and records
//! it in one step; [`Deduper`] is a bounded, TTL'd in-memory implementation for one process,
//! and a host with several processes implements the trait over its own store (an insert that
//! fails on a duplicate key).
//!
//! If handling a first delivery fails, call [`DeliveryLog::forget`] so the platform's retry is
//! handled rather than dropped as a duplicate.
//!
//! ```
//! use std::time::Duration;
//! use socialconnect_core::webhook::{Deduper, Delivery};
//!
//! let seen = Deduper::new(10_000, Duration::from_secs(72 * 3600));
//! assert_eq!(seen.check("tiktok", "evt-1"), Delivery::First);
//! assert_eq!(seen.check("tiktok", "evt-1"), Delivery::Repeat);
//! assert_eq!(seen.check("linkedin", "evt-1"), Delivery::First);
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::error::Result;

/// Longest key kept as is; longer ones (platform + event id) are kept as their SHA-256.
const MAX_KEY_LEN: usize = 128;

/// Whether a delivery was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Not seen within the log's memory: handle it.
    First,
    /// Seen already: answer 2xx and do nothing else.
    Repeat,
}

/// Records webhook deliveries by platform and event id, so the repeats of at-least-once
/// deliveries (TikTok retries for 72 hours until it sees a 2xx) are answered 2xx and dropped.
/// [`Deduper`] is the in-memory implementation for one process; a host with several
/// processes implements this over its own store (an insert that fails on a duplicate key).
/// When handling a first delivery fails, [`DeliveryLog::forget`] lets the platform's retry
/// through instead of dropping it as a repeat.
///
/// Implementations must make
/// [`DeliveryLog::record`] atomic: of two concurrent calls with the same key, exactly one gets
/// [`Delivery::First`].
#[async_trait::async_trait]
pub trait DeliveryLog: Send + Sync {
    /// Records the delivery of `event_id` from `platform` and says whether it is the first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Storage`](crate::ErrorKind::Storage) when the backing store fails.
    async fn record(&self, platform: &str, event_id: &str) -> Result<Delivery>;

    /// Forgets a delivery, so the next one with this id counts as first (after handling it
    /// failed).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Storage`](crate::ErrorKind::Storage) when the backing store fails.
    async fn forget(&self, platform: &str, event_id: &str) -> Result<()>;
}

/// An in-memory [`DeliveryLog`] holding at most `capacity` ids, each for `ttl`.
///
/// Memory is bounded: when full, the oldest id is dropped before its time, so a redelivery of
/// it would count as first. Size `capacity` for the deliveries expected within `ttl`. Time is
/// tokio's clock (so tests can pause it).
#[derive(Debug)]
pub struct Deduper {
    capacity: usize,
    ttl: Duration,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Key → when it expires and the sequence number of its recording.
    expiry: HashMap<String, (Instant, u64)>,
    /// Recordings in order (so in expiry order: the TTL is the same for all). May hold
    /// recordings since forgotten or superseded; those no longer match `expiry` and are
    /// skipped when popped.
    order: VecDeque<(Instant, u64, String)>,
    next_seq: u64,
}

impl Deduper {
    /// A log of at most `capacity` ids (at least one), each remembered for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Records the delivery and says whether it is the first (the synchronous form of
    /// [`DeliveryLog::record`]).
    pub fn check(&self, platform: &str, event_id: &str) -> Delivery {
        let key = key(platform, event_id);
        let now = Instant::now();
        let mut seen = self.lock();
        seen.expire(now);
        if seen.expiry.get(&key).is_some_and(|&(until, _)| until > now) {
            return Delivery::Repeat;
        }
        while seen.expiry.len() >= self.capacity {
            seen.evict_oldest();
        }
        let until = now + self.ttl;
        let seq = seen.next_seq;
        seen.next_seq += 1;
        seen.expiry.insert(key.clone(), (until, seq));
        seen.order.push_back((until, seq, key));
        // Stale entries in `order` (forgotten keys) are bounded too.
        if seen.order.len() > self.capacity.saturating_mul(2) {
            seen.compact();
        }
        Delivery::First
    }

    /// Forgets a delivery (the synchronous form of [`DeliveryLog::forget`]).
    pub fn remove(&self, platform: &str, event_id: &str) {
        self.lock().expiry.remove(&key(platform, event_id));
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        let mut seen = self.lock();
        seen.expire(Instant::now());
        seen.expiry.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters (worst case a key is missing from one), so a poisoned lock is reused.
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Seen {
    fn expire(&mut self, now: Instant) {
        while let Some((until, _, _)) = self.order.front() {
            if *until > now {
                break;
            }
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((until, seq, key)) = self.order.pop_front() {
            // Only drop the live entry if this queue slot is the one that recorded it.
            if self.expiry.get(&key) == Some(&(until, seq)) {
                self.expiry.remove(&key);
            }
        } else {
            self.expiry.clear();
        }
    }

    fn compact(&mut self) {
        let expiry = &self.expiry;
        self.order
            .retain(|(until, seq, key)| expiry.get(key) == Some(&(*until, *seq)));
    }
}

#[async_trait::async_trait]
impl DeliveryLog for Deduper {
    async fn record(&self, platform: &str, event_id: &str) -> Result<Delivery> {
        Ok(self.check(platform, event_id))
    }

    async fn forget(&self, platform: &str, event_id: &str) -> Result<()> {
        self.remove(platform, event_id);
        Ok(())
    }
}

/// The map key: `platform` and `event_id` joined unambiguously, hashed when long so a hostile
/// id cannot make the log hold large strings.
fn key(platform: &str, event_id: &str) -> String {
    let joined = format!("{}:{platform}:{event_id}", platform.len());
    if joined.len() <= MAX_KEY_LEN {
        joined
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(joined.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn repeats_within_the_ttl_and_first_again_after_it() {
        let d = Deduper::new(100, Duration::from_secs(60));
        assert_eq!(d.check("tiktok", "e1"), Delivery::First);
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(d.check("tiktok", "e1"), Delivery::Repeat);
        // A repeat does not extend the memory.
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(d.check("tiktok", "e1"), Delivery::First);
        assert_eq!(d.len(), 1);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(d.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn capacity_is_a_hard_bound_dropping_the_oldest() {
        let d = Deduper::new(3, Duration::from_secs(3600));
        for id in ["a", "b", "c", "d"] {
            assert_eq!(d.check("p", id), Delivery::First);
        }
        assert_eq!(d.len(), 3);
        assert_eq!(d.check("p", "d"), Delivery::Repeat);
        assert_eq!(d.check("p", "b"), Delivery::Repeat);
        // "a" was dropped to make room: its redelivery counts as first.
        assert_eq!(d.check("p", "a"), Delivery::First);
        // Forgetting and re-recording many times keeps the queue bounded.
        for _ in 0..100 {
            d.remove("p", "x");
            assert_eq!(d.check("p", "x"), Delivery::First);
        }
        assert!(d.seen.lock().unwrap().order.len() <= 6 + 1);
        assert_eq!(d.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_per_platform_unambiguous_and_bounded() {
        let d = Deduper::new(10, Duration::from_secs(60));
        assert_eq!(d.check("a:b", "c"), Delivery::First);
        assert_eq!(d.check("a", "b:c"), Delivery::First);
        let long = "x".repeat(10_000);
        assert_eq!(d.check("p", &long), Delivery::First);
        assert_eq!(d.check("p", &long), Delivery::Repeat);
        assert!(
            d.seen
                .lock()
                .unwrap()
                .expiry
                .keys()
                .all(|k| k.len() <= MAX_KEY_LEN)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn forget_lets_the_retry_through() {
        let d: Arc<dyn DeliveryLog> = Arc::new(Deduper::new(10, Duration::from_secs(60)));
        assert_eq!(d.record("tiktok", "e").await.unwrap(), Delivery::First);
        d.forget("tiktok", "e").await.unwrap();
        assert_eq!(d.record("tiktok", "e").await.unwrap(), Delivery::First);
        assert_eq!(d.record("tiktok", "e").await.unwrap(), Delivery::Repeat);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_deliveries_have_exactly_one_first() {
        let d = Arc::new(Deduper::new(1000, Duration::from_secs(60)));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let d = d.clone();
                tokio::spawn(async move { d.record("p", "same").await.unwrap() })
            })
            .collect();
        let mut firsts = 0;
        for t in tasks {
            if t.await.unwrap() == Delivery::First {
                firsts += 1;
            }
        }
        assert_eq!(firsts, 1);
    }
}
