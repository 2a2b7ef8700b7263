//! Webhook dedupe shared by every process on one database: [`StoreDeliveryLog`], core's
//! [`DeliveryLog`] over the store.
//!
//! Core's `Deduper` remembers deliveries in one process, so with several instances behind a
//! load balancer a redelivery that lands on another instance would be handled twice. This log
//! keeps each sighting as a row (the SHA-256 of `platform NUL event id`, never the id itself,
//! and its time), recorded with one atomic insert (or renewal of a sighting outside the
//! window): of concurrent deliveries of the
//! same event, on any instances, exactly one is first. A sighting older than the log's
//! window counts as new again (platforms stop retrying: TikTok after 72 hours, LinkedIn after
//! 8), and [`StoreDeliveryLog::purge`] deletes those.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use socialconnect_core::webhook::{Delivery, DeliveryLog};
use socialconnect_core::{Error, Result};

use crate::EncryptedStore;

/// The window every platform's retries fit in (TikTok retries for 72 hours).
pub const DEFAULT_DELIVERY_WINDOW: TimeDelta = TimeDelta::hours(72);

/// Longest event id accepted; real ones are tens of bytes.
const MAX_EVENT_ID: usize = 4096;

/// Core's [`DeliveryLog`] over the store's `sc_webhook_deliveries` table.
#[derive(Clone)]
pub struct StoreDeliveryLog {
    store: EncryptedStore,
    window: TimeDelta,
}

impl std::fmt::Debug for StoreDeliveryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreDeliveryLog")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl EncryptedStore {
    /// A webhook delivery log on this store, remembering sightings for `window` (see
    /// [`DEFAULT_DELIVERY_WINDOW`]; clamped to between one second and a year). Run
    /// [`StoreDeliveryLog::purge`] on a schedule (`socialconnect purge` does) to drop old
    /// sightings.
    pub fn delivery_log(&self, window: TimeDelta) -> StoreDeliveryLog {
        StoreDeliveryLog {
            store: self.clone(),
            window: window.clamp(TimeDelta::seconds(1), TimeDelta::days(366)),
        }
    }
}

fn delivery_key(platform: &str, event_id: &str) -> Result<[u8; 32]> {
    if event_id.is_empty() || event_id.len() > MAX_EVENT_ID || platform.is_empty() {
        return Err(Error::invalid_input(
            "a webhook delivery needs a platform and an event id of at most 4096 bytes",
        ));
    }
    let mut hash = Sha256::new();
    hash.update(platform.as_bytes());
    hash.update([0]);
    hash.update(event_id.as_bytes());
    Ok(hash.finalize().into())
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl StoreDeliveryLog {
    /// Deletes the sightings older than the window at `now`; returns how many.
    pub async fn purge(&self, now: DateTime<Utc>) -> Result<u64> {
        self.store
            .inner
            .backend
            .purge_deliveries(micros(now - self.window))
            .await
    }
}

#[async_trait]
impl DeliveryLog for StoreDeliveryLog {
    async fn record(&self, platform: &str, event_id: &str) -> Result<Delivery> {
        let key = delivery_key(platform, event_id)?;
        let now = self.store.inner.clock.now();
        let first = self
            .store
            .inner
            .backend
            .record_delivery(key, micros(now), micros(now - self.window))
            .await?;
        Ok(if first {
            Delivery::First
        } else {
            Delivery::Repeat
        })
    }

    async fn forget(&self, platform: &str, event_id: &str) -> Result<()> {
        let key = delivery_key(platform, event_id)?;
        self.store.inner.backend.forget_delivery(key).await
    }
}
