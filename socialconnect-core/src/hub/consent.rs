//! The hub's consent engine: the age-gated grant, the permission rule every `connect` and
//! `session` passes, withdrawal with its consequences, declared bases and notice versions.
//!
//! # Privacy decisions
//!
//! - **Consent goes through the age gate.** [`SocialConnect::consent`] checks the end user's
//!   age attestation against the hub's [`AgePolicy`] before anything is written. A refusal
//!   returns [`Error::AgeRestricted`] and leaves no trace: no ledger row, no usage-log entry,
//!   no tracing event. What reaches the ledger on success is the jurisdiction and *how* age was
//!   established (`birth_date` or `age_band`), never the date or the band.
//! - **[`SocialConnect::record_consent`] bypasses the gate** on purpose: it is the host's import
//!   path for consents collected (and age-checked) by an earlier system, and the raw ledger
//!   write behind tests. Hosts collecting new consent call [`SocialConnect::consent`].
//! - **Contract and legitimate interest are declared, not consented.** The host declares such a
//!   purpose once on the builder with its justification; consent cannot be "declared" (that
//!   would be consent nobody gave) and is refused at build time. A declared purpose is
//!   permitted without any ledger record. A withdrawal recorded against it (for legitimate
//!   interest, the Art. 21 objection; for contract, the subject ending that part of the
//!   service) denies it from then on, until a new grant.
//! - **The permission rule** (one materialised-state lookup, no history scan), for the latest
//!   event covering (subject, purpose, platform):
//!   - a withdrawal denies;
//!   - a consent grant permits while unexpired and, once a significant notice version's grace
//!     period is over, only if it rests on that version or a later one;
//!   - a grant recorded under contract or legitimate interest permits while unexpired, but only
//!     while the host still declares the purpose (a stale ledger row cannot outlive the
//!     declaration);
//!   - an expired grant denies, even for a declared purpose: the subject's latest word was a
//!     time-limited one;
//!   - no event at all permits only a declared purpose.
//! - **Notice versions.** A grant collected through [`SocialConnect::consent`] must name a
//!   registered notice version when any are registered (the hub fills in the hash, and refuses
//!   a hash that differs from the registered one), and may not name a version superseded by a
//!   significant version already in effect: consent to a notice no longer in force proves
//!   nothing.
//! - **Withdrawal has consequences.** Withdrawing account connection revokes the platform
//!   authorization upstream and deletes the tokens of each matching connection (the basis for
//!   holding them is gone); withdrawing any other purpose leaves the tokens (account connection
//!   still holds) and makes every new session for that purpose fail with `ConsentRequired`.
//!   The ledger row is the withdrawal's record; each connection revoked because of it is also
//!   written to the usage log as a privileged operation by the acting id the host supplies.
//!   A [`Session`](crate::Session) already open checks consent again before every call, so
//!   its next call after a withdrawal fails with `ConsentRequired` — in this process at once;
//!   in another process sharing the store as soon as the store's consent cache hears of it
//!   (the encrypted store on PostgreSQL: its change notification; see its consent cache).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::policy_sync::{DEFAULT_NOTICE_SYNC, PolicyRegistry, normalized};
use super::{Disconnected, HubInner, Revocation, SocialConnect};
use crate::access_log::{ClientInfo, Outcome, UsageEntry};
use crate::age::{AgeAttestation, AgePolicy};
use crate::consent::{
    ConsentAction, ConsentEvent, ConsentReceipt, ConsentRequest, ConsentState, ControllerInfo,
    DeclaredBasis, LegalBasis, NoticeVersion, WithdrawalOutcome,
};
use crate::error::{Error, Result};
use crate::id::{ConnectionKey, PlatformId, Purpose, SubjectId};

/// The default grace period after a significant notice version takes effect.
pub(crate) const DEFAULT_NOTICE_GRACE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The consent settings a builder collects; checked by [`ConsentConfig::build`].
#[derive(Debug, Default)]
pub(crate) struct ConsentConfig {
    age: Option<AgePolicy>,
    declared: Vec<(Purpose, LegalBasis, String)>,
    notices: Vec<NoticeVersion>,
    grace: Option<Duration>,
    notice_sync: Option<Duration>,
}

impl ConsentConfig {
    pub(crate) fn age_policy(&mut self, policy: AgePolicy) {
        self.age = Some(policy);
    }

    pub(crate) fn declare(&mut self, purpose: Purpose, basis: LegalBasis, justification: &str) {
        self.declared
            .push((purpose, basis, justification.trim().to_owned()));
    }

    pub(crate) fn notice(&mut self, notice: NoticeVersion) {
        self.notices.push(notice);
    }

    pub(crate) fn grace(&mut self, grace: Duration) {
        self.grace = Some(grace);
    }

    pub(crate) fn notice_sync(&mut self, interval: Duration) {
        self.notice_sync = Some(interval);
    }

    pub(crate) fn build(self) -> Result<ConsentPolicy> {
        let mut declared = HashMap::new();
        for (purpose, basis, justification) in self.declared {
            if basis == LegalBasis::Consent {
                return Err(Error::config(format!(
                    "purpose `{purpose}` cannot be declared under consent: consent is given by \
                     each subject and recorded with SocialConnect::consent"
                )));
            }
            if justification.is_empty() {
                return Err(Error::config(format!(
                    "declaring purpose `{purpose}` needs a justification"
                )));
            }
            let previous = declared.insert(
                purpose,
                DeclaredBasis {
                    purpose,
                    basis,
                    justification,
                },
            );
            if previous.is_some() {
                return Err(Error::config(format!(
                    "purpose `{purpose}` is declared twice"
                )));
            }
        }
        let grace = TimeDelta::from_std(self.grace.unwrap_or(DEFAULT_NOTICE_GRACE))
            .map_err(|_| Error::config("notice grace period out of range"))?;
        let mut notices: Vec<NoticeVersion> = Vec::with_capacity(self.notices.len());
        for notice in self.notices {
            check_notice(&notice).map_err(|e| Error::config(e.to_string()))?;
            if notices.iter().any(|n| n.version == notice.version) {
                return Err(Error::config(format!(
                    "notice version `{}` is registered twice",
                    notice.version
                )));
            }
            notices.push(normalized(notice));
        }
        notices.sort_by_key(|n| n.effective_at);
        Ok(ConsentPolicy {
            age: self.age.unwrap_or_default(),
            registry: PolicyRegistry::new(
                notices,
                declared,
                self.notice_sync.unwrap_or(DEFAULT_NOTICE_SYNC),
            ),
            grace,
        })
    }
}

fn check_notice(notice: &NoticeVersion) -> Result<()> {
    if notice.version.trim().is_empty() || notice.version.len() > 128 {
        return Err(Error::invalid_input(
            "a notice version needs a label of 1 to 128 bytes",
        ));
    }
    if notice.hash.trim().is_empty() || notice.hash.len() > 256 {
        return Err(Error::invalid_input(
            "a notice version needs the hash of its text (at most 256 bytes)",
        ));
    }
    Ok(())
}

/// The hub's consent settings, as built.
#[derive(Debug)]
pub(crate) struct ConsentPolicy {
    age: AgePolicy,
    /// Sorted by `effective_at`. Read on every permission check, written only when the host
    /// publishes a version.
    pub(super) registry: PolicyRegistry,
    grace: TimeDelta,
}

impl ConsentPolicy {
    /// The permission rule (see the module docs), on the decisive state alone.
    fn permits(&self, state: Option<&ConsentState>, purpose: Purpose, now: DateTime<Utc>) -> bool {
        let Some(state) = state else {
            return self.registry.is_declared(purpose);
        };
        if !state.permits_at(now) {
            return false;
        }
        match state.basis {
            LegalBasis::Consent => {
                self.rests_on_current_notice(state.notice_version.as_deref(), now)
            }
            _ => self.registry.is_declared(purpose),
        }
    }

    /// Whether a consent on `version` still counts at `now`: true unless the grace period of
    /// some significant version is over and `version` is older than the latest such version.
    fn rests_on_current_notice(&self, version: Option<&str>, now: DateTime<Utc>) -> bool {
        let Ok(notices) = self.registry.read() else {
            // A writer panicked mid-update: fail closed.
            return false;
        };
        let enforced = notices
            .iter()
            .rev()
            .find(|n| n.significant && n.effective_at + self.grace <= now);
        let Some(enforced) = enforced else {
            return true;
        };
        version.is_some_and(|v| {
            notices
                .iter()
                .any(|n| n.version == v && n.effective_at >= enforced.effective_at)
        })
    }

    /// Checks (and completes) the notice fields of a grant collected now.
    fn check_grant_notice(&self, event: &mut ConsentEvent, now: DateTime<Utc>) -> Result<()> {
        let notices = self
            .registry
            .read()
            .map_err(|_| Error::storage_msg("notice registry lock poisoned"))?;
        if notices.is_empty() {
            return Ok(());
        }
        let Some(version) = event.notice_version.as_deref() else {
            return Err(Error::invalid_input(
                "the consent must name the privacy notice version shown",
            ));
        };
        let Some(notice) = notices.iter().find(|n| n.version == version) else {
            return Err(Error::invalid_input(
                "the consent names a notice version that is not registered",
            ));
        };
        let in_force = notices
            .iter()
            .rev()
            .find(|n| n.significant && n.effective_at <= now);
        if let Some(in_force) = in_force
            && notice.effective_at < in_force.effective_at
        {
            return Err(Error::invalid_input(
                "the consent names a notice version superseded by a significant version in force",
            ));
        }
        match &event.notice_hash {
            Some(hash) if hash != &notice.hash => Err(Error::invalid_input(
                "the notice hash differs from the registered version's",
            )),
            Some(_) => Ok(()),
            None => {
                event.notice_hash = Some(notice.hash.clone());
                Ok(())
            }
        }
    }
}

impl HubInner {
    /// The permission rule (see the module docs).
    pub(super) async fn consent_permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<bool> {
        self.sync_notices(false).await;
        let state = self.ledger.state(subject, purpose, platform).await?;
        let now = self.clock.now();
        Ok(self.consent.permits(state.as_ref(), purpose, now))
    }

    /// `Ok` when the ledger permits `purpose` on the connection's platform, and account
    /// connection too (the basis for holding the token at all); else `ConsentRequired` for the
    /// first one refused. Every session passes it when it opens and again before every call.
    pub(super) async fn require_session_consent(
        &self,
        key: &ConnectionKey,
        purpose: Purpose,
    ) -> Result<()> {
        let mut purposes = vec![purpose];
        if purpose != Purpose::AccountConnection {
            purposes.push(Purpose::AccountConnection);
        }
        for purpose in purposes {
            if !self
                .consent_permits(&key.subject, purpose, &key.platform)
                .await?
            {
                return Err(Error::ConsentRequired {
                    purpose,
                    platform: key.platform.clone(),
                });
            }
        }
        Ok(())
    }
}

impl SocialConnect {
    /// The permission rule behind `require_consent` (see the module docs).
    pub(super) async fn consent_permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<bool> {
        self.inner.consent_permits(subject, purpose, platform).await
    }

    /// Records a consent grant after the age gate.
    ///
    /// - The request's event must be a grant under [`LegalBasis::Consent`]; withdrawals go
    ///   through [`SocialConnect::withdraw`] (which needs no age attestation), and contract or
    ///   legitimate-interest purposes are declared on the builder.
    /// - The hub's [`AgePolicy`] checks the attestation in the jurisdiction. A refusal is
    ///   [`Error::AgeRestricted`] (a birth date in the future: `InvalidInput`), and **nothing**
    ///   about the end user is stored, logged or traced.
    /// - On success the event is stored with the jurisdiction (replacing any the host set) and
    ///   `age_verification` = `birth_date` or `age_band`; the attestation itself is dropped.
    /// - When notice versions are registered, the event must name one that is not superseded
    ///   by a significant version in force; its hash is filled in, or checked when given.
    pub async fn consent(&self, request: ConsentRequest) -> Result<ConsentReceipt> {
        let ConsentRequest {
            mut event,
            age,
            jurisdiction,
            today,
        } = request;
        if event.action != ConsentAction::Grant {
            return Err(Error::invalid_input(
                "record withdrawals with SocialConnect::withdraw",
            ));
        }
        if event.basis != LegalBasis::Consent {
            return Err(Error::invalid_input(
                "contract and legitimate-interest purposes are declared on the builder, not consented to",
            ));
        }
        self.inner.consent.age.check(&age, &jurisdiction, today)?;
        event.jurisdiction = Some(jurisdiction.as_str().to_owned());
        event.age_verification = Some(
            match age {
                AgeAttestation::BirthDate(_) => "birth_date",
                AgeAttestation::Band(_) => "age_band",
            }
            .to_owned(),
        );
        // The versions other instances published count here too.
        self.inner.sync_notices(true).await;
        self.inner
            .consent
            .check_grant_notice(&mut event, self.inner.clock.now())?;
        self.inner.ledger.record(event).await
    }

    /// Withdraws `subject`'s consent (or, for a declared legitimate interest, records their
    /// Art. 21 objection) for `purpose` on `platform`, or on every platform when `None`.
    ///
    /// The withdrawal is recorded first, linked to the receipt of the grant it ends when the
    /// ledger's history shows one, so the permission is gone even if what follows fails. Then,
    /// for [`Purpose::AccountConnection`], each of the subject's connections on the platform(s)
    /// is revoked upstream where the platform supports it and its tokens deleted (a failed
    /// revocation is reported and the tokens deleted anyway), each logged as a privileged
    /// operation by `actor`. Other purposes store nothing that depends on them: new sessions
    /// for them fail with `ConsentRequired`, other purposes' sessions are unaffected.
    pub async fn withdraw(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: Option<&PlatformId>,
        actor: &str,
    ) -> Result<WithdrawalOutcome> {
        let now = self.inner.clock.now();
        let (withdrew, ended_basis) = self.grant_ended(subject, purpose, platform).await?;
        let basis = ended_basis
            .or_else(|| {
                self.inner
                    .consent
                    .registry
                    .declared(purpose)
                    .map(|d| d.basis)
            })
            .unwrap_or(LegalBasis::Consent);
        let mut event = ConsentEvent::withdraw(subject.clone(), purpose, platform.cloned(), now)
            .with_basis(basis);
        if let Some(receipt) = withdrew {
            event = event.withdrawing(receipt);
        }
        let receipt = self.inner.ledger.record(event).await?;

        let mut revoked = Vec::new();
        if purpose == Purpose::AccountConnection {
            for key in self.inner.tokens.connections(subject).await? {
                if platform.is_some_and(|p| p != &key.platform) {
                    continue;
                }
                let started = std::time::Instant::now();
                let done = match self.disconnect(&key).await {
                    Ok(done) => done,
                    // A platform no longer registered cannot be called: delete locally.
                    Err(e) if e.kind() == crate::ErrorKind::Config => {
                        let deleted = self.inner.tokens.delete(&key).await?;
                        self.inner.refresher.invalidate(&key);
                        Disconnected {
                            revocation: deleted.then(|| Revocation::Failed {
                                reason: e.to_string(),
                            }),
                            deleted,
                        }
                    }
                    Err(e) => return Err(e),
                };
                let outcome = match done.revocation {
                    Some(Revocation::Failed { .. }) => Outcome::Failure("platform"),
                    _ => Outcome::Success,
                };
                self.log_quietly(
                    UsageEntry::new(
                        now,
                        subject.clone(),
                        key.platform.clone(),
                        Some(key.connection),
                        "privacy.withdraw.revoke_connection",
                        outcome,
                        None,
                        started.elapsed(),
                        ClientInfo::default(),
                    )
                    .with_actor(actor),
                )
                .await;
                revoked.push((key, done));
            }
        }
        Ok(WithdrawalOutcome {
            receipt,
            withdrew,
            revoked,
        })
    }

    /// The receipt and basis of the grant a withdrawal for (purpose, platform) ends: the most
    /// recent grant that is still its scope's latest event (for `None`, across every scope).
    async fn grant_ended(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: Option<&PlatformId>,
    ) -> Result<(Option<Uuid>, Option<LegalBasis>)> {
        let history = self.inner.ledger.history(subject).await?;
        // Latest record per platform scope for this purpose (history is oldest first).
        let mut latest: HashMap<Option<&PlatformId>, &crate::consent::ConsentRecord> =
            HashMap::new();
        for r in history.iter().filter(|r| r.event.purpose == purpose) {
            latest.insert(r.event.platform.as_ref(), r);
        }
        let ended = latest
            .into_iter()
            .filter(|(scope, _)| match platform {
                // A platform withdrawal ends that platform's grant or the all-platforms one.
                Some(p) => scope.is_none_or(|s| s == p),
                None => true,
            })
            .map(|(_, r)| r)
            .filter(|r| r.event.action == ConsentAction::Grant)
            .max_by_key(|r| r.seq);
        Ok((ended.map(|r| r.receipt_id), ended.map(|r| r.event.basis)))
    }

    /// Subjects holding a live consent resting on a notice version other than `version` (or
    /// on none): the people to ask again after a significant change.
    pub async fn subjects_to_notify(&self, version: &str) -> Result<Vec<SubjectId>> {
        self.inner.ledger.subjects_on_other_notice(version).await
    }

    /// Publishes a new privacy notice version (as
    /// [`SocialConnectBuilder::notice_version`](crate::SocialConnectBuilder::notice_version)
    /// registers one at start-up): stored in the consent ledger, so every hub sharing it
    /// enforces the version too (within its notice sync interval) and asks the same users to
    /// re-consent. Publishing the same version with the same content again is a no-op; other
    /// content for a known version — known here or already in the ledger — is refused, since a
    /// published text cannot change.
    ///
    /// A newly published version is logged as the privileged operation
    /// `privileged.policy_change:<version>` by `actor`, under
    /// [`SYSTEM_SUBJECT`](crate::access_log::SYSTEM_SUBJECT).
    pub async fn publish_notice(&self, notice: NoticeVersion, actor: &str) -> Result<()> {
        check_notice(&notice)?;
        let notice = normalized(notice);
        let differs = || {
            Error::invalid_input("this notice version is already registered with different content")
        };
        self.inner.sync_notices(true).await;
        {
            let notices = self
                .inner
                .consent
                .registry
                .read()
                .map_err(|_| Error::storage_msg("notice registry lock poisoned"))?;
            if let Some(known) = notices.iter().find(|n| n.version == notice.version) {
                return if known == &notice {
                    Ok(())
                } else {
                    Err(differs())
                };
            }
        }
        self.inner.ledger.store_notice(&notice).await?;
        // Another instance may have stored this version first, with its own content.
        let stored = self.inner.ledger.stored_notices().await?;
        if let Some(first) = stored.into_iter().find(|n| n.version == notice.version)
            && normalized(first) != notice
        {
            return Err(differs());
        }
        let version = notice.version.clone();
        {
            let mut notices = self
                .inner
                .consent
                .registry
                .write()
                .map_err(|_| Error::storage_msg("notice registry lock poisoned"))?;
            if !notices.iter().any(|n| n.version == notice.version) {
                notices.push(notice);
                notices.sort_by_key(|n| n.effective_at);
            }
        }
        self.log_quietly(UsageEntry::system(
            self.inner.clock.now(),
            format!("privileged.policy_change:{version}"),
            actor,
        ))
        .await;
        Ok(())
    }

    /// The notice version in effect now (the latest registered one whose `effective_at` has
    /// passed): the one to show when collecting consent. Versions other instances published
    /// are included as of this hub's last notice sync (see
    /// [`SocialConnectBuilder::notice_sync_interval`](crate::SocialConnectBuilder::notice_sync_interval)).
    pub fn current_notice(&self) -> Option<NoticeVersion> {
        let now = self.inner.clock.now();
        let notices = self.inner.consent.registry.read().ok()?;
        notices
            .iter()
            .rev()
            .find(|n| n.effective_at <= now)
            .cloned()
    }

    /// The host's declaration for `purpose`, when it is processed under contract or
    /// legitimate interest.
    pub fn declared_basis(&self, purpose: Purpose) -> Option<DeclaredBasis> {
        self.inner.consent.registry.declared(purpose)
    }

    /// The subject's consent receipts (grants and withdrawals, oldest first), shaped after the
    /// Kantara Consent Receipt v1.1 (see [`ConsentRecord::receipt_json`](crate::consent::ConsentRecord::receipt_json)).
    pub async fn consent_receipts(
        &self,
        subject: &SubjectId,
        controller: &ControllerInfo,
    ) -> Result<Vec<serde_json::Value>> {
        Ok(self
            .inner
            .ledger
            .history(subject)
            .await?
            .iter()
            .map(|r| r.receipt_json(controller))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(days)
    }

    fn grant(version: Option<&str>) -> ConsentState {
        ConsentState::new(
            ConsentAction::Grant,
            LegalBasis::Consent,
            version.map(str::to_owned),
            None,
            1,
        )
    }

    fn policy(notices: Vec<NoticeVersion>) -> ConsentPolicy {
        let mut c = ConsentConfig::default();
        c.declare(
            Purpose::FraudDetection,
            LegalBasis::LegitimateInterest,
            "abuse",
        );
        for n in notices {
            c.notice(n);
        }
        c.build().unwrap()
    }

    #[test]
    fn declaring_consent_is_a_config_error() {
        let mut c = ConsentConfig::default();
        c.declare(Purpose::Analytics, LegalBasis::Consent, "because");
        assert_eq!(c.build().unwrap_err().kind(), crate::ErrorKind::Config);
        let mut c = ConsentConfig::default();
        c.declare(Purpose::Analytics, LegalBasis::Contract, "  ");
        assert_eq!(c.build().unwrap_err().kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn a_later_minor_version_still_counts_after_a_significant_one() {
        let p = policy(vec![
            NoticeVersion::new("v1", "h1", false, at(0)),
            NoticeVersion::new("v2", "h2", true, at(10)),
            NoticeVersion::new("v2.1", "h21", false, at(20)),
        ]);
        let late = at(100);
        assert!(!p.permits(Some(&grant(Some("v1"))), Purpose::Analytics, late));
        assert!(!p.permits(Some(&grant(None)), Purpose::Analytics, late));
        assert!(p.permits(Some(&grant(Some("v2"))), Purpose::Analytics, late));
        assert!(p.permits(Some(&grant(Some("v2.1"))), Purpose::Analytics, late));
        // Within the grace period the old version still counts.
        assert!(p.permits(Some(&grant(Some("v1"))), Purpose::Analytics, at(11)));
        // Declared purposes do not rest on a notice.
        assert!(p.permits(None, Purpose::FraudDetection, late));
        assert!(!p.permits(None, Purpose::Analytics, late));
    }
}
