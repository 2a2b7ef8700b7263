//! [`MemoryConsentLedger`]: the hash-chained consent ledger in a vector.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::lock;
use crate::clock::{Clock, SystemClock};
use crate::consent::{
    ChainReport, ConsentAction, ConsentEvent, ConsentLedger, ConsentReceipt, ConsentRecord,
    ConsentState, DeclaredBasis, LegalBasis, NoticeVersion,
};
use crate::error::{Error, Result};
use crate::id::{PlatformId, Purpose, SubjectId};

/// What the current-state map is keyed by: one entry per subject, purpose and platform scope
/// (`None` = every platform).
type StateKey = (SubjectId, Purpose, Option<PlatformId>);

/// An in-process, **unencrypted** [`ConsentLedger`], for tests and prototypes.
///
/// Records are appended to a vector and hash-chained with [`ConsentRecord::chain`] (sequence
/// numbers from 1). Beside the history, a current-state map holds the latest event for each
/// subject, purpose and platform scope, so [`permits`](ConsentLedger::permits) is a lookup,
/// not a scan. "Latest" means last recorded (highest sequence number), whatever the events'
/// `collected_at`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use chrono::Utc;
/// use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
/// use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
/// use socialconnect_core::memory::MemoryConsentLedger;
///
/// let ledger = MemoryConsentLedger::new();
/// let me = SubjectId::new("user-1")?;
/// let now = Utc::now();
/// ledger.record(ConsentEvent::grant(me.clone(), Purpose::Publishing, None, now)).await?;
/// assert!(ledger.permits(&me, Purpose::Publishing, &PlatformId::TIKTOK, now).await?);
/// assert!(!ledger.permits(&me, Purpose::Analytics, &PlatformId::TIKTOK, now).await?);
/// assert_eq!(ledger.verify_chain().await?.first_broken, None);
/// # Ok::<(), socialconnect_core::Error>(())
/// # }).unwrap();
/// ```
pub struct MemoryConsentLedger {
    clock: Arc<dyn Clock>,
    state: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    records: Vec<ConsentRecord>,
    /// Sequence numbers of erased records: their content is redacted, their hashes kept so
    /// the chain still links.
    erased: std::collections::BTreeSet<u64>,
    /// Notice versions stored for every hub sharing this ledger.
    notices: Vec<NoticeVersion>,
    /// The register of declared bases (`None`: retracted).
    declarations: HashMap<Purpose, Option<DeclaredBasis>>,
    /// Index into `records` of the latest event per key.
    current: HashMap<StateKey, usize>,
}

impl MemoryConsentLedger {
    /// An empty ledger on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty ledger stamping `recorded_at` from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(Ledger::default()),
        }
    }
}

impl Default for MemoryConsentLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryConsentLedger {
    // Counts only: records name subjects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryConsentLedger");
        d.field("clock", &self.clock);
        match self.state.lock() {
            Ok(ledger) => d.field("records", &ledger.records.len()),
            Err(_) => d.field("records", &"<poisoned>"),
        };
        d.finish()
    }
}

#[async_trait]
impl ConsentLedger for MemoryConsentLedger {
    async fn record(&self, event: ConsentEvent) -> Result<ConsentReceipt> {
        let recorded_at = self.clock.now();
        let mut ledger = lock(&self.state)?;
        let seq = u64::try_from(ledger.records.len())
            .ok()
            .and_then(|n| n.checked_add(1))
            .ok_or_else(|| Error::storage_msg("consent ledger sequence overflowed"))?;
        let prev_hash = ledger.records.last().map_or([0; 32], |r| r.hash);
        let key = (event.subject.clone(), event.purpose, event.platform.clone());
        let record = ConsentRecord::chain(seq, Uuid::new_v4(), event, recorded_at, prev_hash);
        let receipt = ConsentReceipt {
            receipt_id: record.receipt_id,
            seq: record.seq,
            hash: record.hash,
        };
        let index = ledger.records.len();
        ledger.records.push(record);
        ledger.current.insert(key, index);
        Ok(receipt)
    }

    async fn permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        // Of the platform's own latest event and the all-platforms one, the later recorded
        // decides: a later "withdraw everywhere" overrides an earlier platform grant.
        Ok(self
            .state(subject, purpose, platform)
            .await?
            .is_some_and(|state| state.permits_at(now)))
    }

    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
        Ok(lock(&self.state)?
            .records
            .iter()
            .filter(|r| r.event.subject == *subject)
            .cloned()
            .collect())
    }

    async fn verify_chain(&self) -> Result<ChainReport> {
        let ledger = lock(&self.state)?;
        let mut prev = [0u8; 32];
        let mut checked = 0;
        for r in &ledger.records {
            checked += 1;
            let content_ok = ledger.erased.contains(&r.seq) || r.compute_hash() == r.hash;
            if r.prev_hash != prev || !content_ok {
                return Ok(ChainReport {
                    checked,
                    first_broken: Some(r.seq),
                });
            }
            prev = r.hash;
        }
        Ok(ChainReport {
            checked,
            first_broken: None,
        })
    }

    async fn state(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<Option<ConsentState>> {
        let ledger = lock(&self.state)?;
        let specific = (subject.clone(), purpose, Some(platform.clone()));
        let every = (subject.clone(), purpose, None);
        let index = match (ledger.current.get(&specific), ledger.current.get(&every)) {
            (Some(&a), Some(&b)) => Some(a.max(b)),
            (a, b) => a.or(b).copied(),
        };
        Ok(index.and_then(|i| ledger.records.get(i)).map(|r| {
            ConsentState::new(
                r.event.action,
                r.event.basis,
                r.event.notice_version.clone(),
                r.event.expires_at,
                r.seq,
            )
        }))
    }

    async fn store_notice(&self, notice: &NoticeVersion) -> Result<()> {
        let mut ledger = lock(&self.state)?;
        if !ledger.notices.iter().any(|n| n.version == notice.version) {
            ledger.notices.push(notice.clone());
        }
        Ok(())
    }

    async fn stored_notices(&self) -> Result<Vec<NoticeVersion>> {
        Ok(lock(&self.state)?.notices.clone())
    }

    async fn store_declaration(
        &self,
        purpose: Purpose,
        declared: Option<&DeclaredBasis>,
        replace: bool,
    ) -> Result<()> {
        let mut ledger = lock(&self.state)?;
        if replace || !ledger.declarations.contains_key(&purpose) {
            ledger.declarations.insert(purpose, declared.cloned());
        }
        Ok(())
    }

    async fn stored_declarations(&self) -> Result<Vec<(Purpose, Option<DeclaredBasis>)>> {
        let ledger = lock(&self.state)?;
        Ok(ledger
            .declarations
            .iter()
            .map(|(p, d)| (*p, d.clone()))
            .collect())
    }

    async fn subjects_on_other_notice(&self, current: &str) -> Result<Vec<SubjectId>> {
        let ledger = lock(&self.state)?;
        let mut out: Vec<SubjectId> = ledger
            .current
            .values()
            .filter_map(|&i| ledger.records.get(i))
            .filter(|r| {
                r.event.action == ConsentAction::Grant
                    && r.event.basis == LegalBasis::Consent
                    && r.event.notice_version.as_deref() != Some(current)
            })
            .map(|r| r.event.subject.clone())
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        let mut ledger = lock(&self.state)?;
        ledger.current.retain(|(s, _, _), _| s != subject);
        let mut n = 0;
        let erased_id = SubjectId::new("erased").unwrap_or_else(|_| subject.clone());
        let mut seqs = Vec::new();
        for r in ledger.records.iter_mut() {
            if &r.event.subject == subject {
                r.event = ConsentEvent::withdraw(
                    erased_id.clone(),
                    r.event.purpose,
                    None,
                    r.event.collected_at,
                );
                seqs.push(r.seq);
                n += 1;
            }
        }
        ledger.erased.extend(seqs);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::consent::{ConsentAction, LegalBasis};
    use crate::memory::test_clock::TestClock;

    fn subject(s: &str) -> SubjectId {
        SubjectId::new(s).unwrap()
    }

    fn ledger() -> (MemoryConsentLedger, Arc<TestClock>) {
        let clock = Arc::new(TestClock::new());
        (MemoryConsentLedger::with_clock(clock.clone()), clock)
    }

    #[tokio::test]
    async fn nothing_recorded_permits_nothing() {
        let (ledger, clock) = ledger();
        assert!(
            !ledger
                .permits(
                    &subject("me"),
                    Purpose::AccountConnection,
                    &PlatformId::FACEBOOK,
                    clock.now()
                )
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn receipts_chain_from_one() {
        let (ledger, clock) = ledger();
        let now = clock.now();
        let a = ledger
            .record(ConsentEvent::grant(
                subject("me"),
                Purpose::Publishing,
                None,
                now,
            ))
            .await
            .unwrap();
        clock.advance(Duration::seconds(1));
        let b = ledger
            .record(ConsentEvent::grant(
                subject("you"),
                Purpose::Analytics,
                None,
                now,
            ))
            .await
            .unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_ne!(a.receipt_id, b.receipt_id);

        let mine = ledger.history(&subject("me")).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].prev_hash, [0; 32]);
        assert_eq!(mine[0].hash, a.hash);
        assert_eq!(mine[0].recorded_at, now);
        let yours = ledger.history(&subject("you")).await.unwrap();
        assert_eq!(yours[0].prev_hash, a.hash);
        assert_eq!(yours[0].recorded_at, now + Duration::seconds(1));

        assert_eq!(
            ledger.verify_chain().await.unwrap(),
            ChainReport {
                checked: 2,
                first_broken: None
            }
        );
    }

    #[tokio::test]
    async fn latest_event_wins_and_withdrawal_revokes() {
        let (ledger, clock) = ledger();
        let me = subject("me");
        let fb = PlatformId::FACEBOOK;
        let now = clock.now();
        ledger
            .record(ConsentEvent::grant(
                me.clone(),
                Purpose::Publishing,
                None,
                now,
            ))
            .await
            .unwrap();
        assert!(
            ledger
                .permits(&me, Purpose::Publishing, &fb, now)
                .await
                .unwrap()
        );
        // Another purpose and another subject are untouched.
        assert!(
            !ledger
                .permits(&me, Purpose::Messaging, &fb, now)
                .await
                .unwrap()
        );
        assert!(
            !ledger
                .permits(&subject("you"), Purpose::Publishing, &fb, now)
                .await
                .unwrap()
        );

        ledger
            .record(ConsentEvent::withdraw(
                me.clone(),
                Purpose::Publishing,
                None,
                now,
            ))
            .await
            .unwrap();
        assert!(
            !ledger
                .permits(&me, Purpose::Publishing, &fb, now)
                .await
                .unwrap()
        );

        ledger
            .record(ConsentEvent::grant(
                me.clone(),
                Purpose::Publishing,
                None,
                now,
            ))
            .await
            .unwrap();
        assert!(
            ledger
                .permits(&me, Purpose::Publishing, &fb, now)
                .await
                .unwrap()
        );
        assert_eq!(ledger.history(&me).await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn platform_specific_event_takes_precedence() {
        let (ledger, clock) = ledger();
        let me = subject("me");
        let now = clock.now();
        let purpose = Purpose::ReadingContent;
        ledger
            .record(ConsentEvent::grant(me.clone(), purpose, None, now))
            .await
            .unwrap();
        ledger
            .record(ConsentEvent::withdraw(
                me.clone(),
                purpose,
                Some(PlatformId::TIKTOK),
                now,
            ))
            .await
            .unwrap();
        // Withdrawn on TikTok only; the all-platforms grant still covers the others.
        assert!(
            !ledger
                .permits(&me, purpose, &PlatformId::TIKTOK, now)
                .await
                .unwrap()
        );
        assert!(
            ledger
                .permits(&me, purpose, &PlatformId::LINKEDIN, now)
                .await
                .unwrap()
        );

        // And the other way round: a platform grant under an all-platforms withdrawal.
        let you = subject("you");
        ledger
            .record(ConsentEvent::withdraw(you.clone(), purpose, None, now))
            .await
            .unwrap();
        ledger
            .record(ConsentEvent::grant(
                you.clone(),
                purpose,
                Some(PlatformId::PINTEREST),
                now,
            ))
            .await
            .unwrap();
        assert!(
            ledger
                .permits(&you, purpose, &PlatformId::PINTEREST, now)
                .await
                .unwrap()
        );
        assert!(
            !ledger
                .permits(&you, purpose, &PlatformId::FACEBOOK, now)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn grants_lapse_at_their_expiry() {
        let (ledger, clock) = ledger();
        let me = subject("me");
        let ig = PlatformId::INSTAGRAM;
        let now = clock.now();
        let until = now + Duration::days(30);
        ledger
            .record(
                ConsentEvent::grant(me.clone(), Purpose::Analytics, Some(ig.clone()), now)
                    .with_expiry(until)
                    .with_basis(LegalBasis::Consent)
                    .with_notice_version("2026-01"),
            )
            .await
            .unwrap();
        let check = |at| ledger.permits(&me, Purpose::Analytics, &ig, at);
        assert!(check(now).await.unwrap());
        assert!(check(until - Duration::seconds(1)).await.unwrap());
        assert!(!check(until).await.unwrap());

        // A later all-platforms grant decides over the lapsed platform grant.
        ledger
            .record(ConsentEvent::grant(
                me.clone(),
                Purpose::Analytics,
                None,
                now,
            ))
            .await
            .unwrap();
        assert!(check(until).await.unwrap());
        // And a later all-platforms withdrawal overrides an earlier platform grant.
        ledger
            .record(ConsentEvent::grant(
                me.clone(),
                Purpose::Messaging,
                Some(ig.clone()),
                now,
            ))
            .await
            .unwrap();
        ledger
            .record(ConsentEvent::withdraw(
                me.clone(),
                Purpose::Messaging,
                None,
                now,
            ))
            .await
            .unwrap();
        assert!(
            !ledger
                .permits(&me, Purpose::Messaging, &ig, now)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn verify_chain_finds_tampering() {
        let (ledger, clock) = ledger();
        let me = subject("me");
        for purpose in [Purpose::Publishing, Purpose::Analytics, Purpose::Messaging] {
            ledger
                .record(ConsentEvent::grant(me.clone(), purpose, None, clock.now()))
                .await
                .unwrap();
            clock.advance(Duration::seconds(1));
        }
        assert_eq!(ledger.verify_chain().await.unwrap().first_broken, None);

        // Rewrite history behind the ledger's back: turn the second grant into a withdrawal.
        lock(&ledger.state).unwrap().records[1].event.action = ConsentAction::Withdraw;
        assert_eq!(
            ledger.verify_chain().await.unwrap(),
            ChainReport {
                checked: 2,
                first_broken: Some(2)
            }
        );
    }

    #[tokio::test]
    async fn empty_ledger_verifies() {
        let (ledger, _) = ledger();
        assert_eq!(
            ledger.verify_chain().await.unwrap(),
            ChainReport {
                checked: 0,
                first_broken: None
            }
        );
        assert!(ledger.history(&subject("me")).await.unwrap().is_empty());
    }
}
