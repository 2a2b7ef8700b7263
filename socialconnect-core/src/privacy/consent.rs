//! The consent ledger: an append-only, hash-chained record of the legal basis for each purpose.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::age::{AgeAttestation, Jurisdiction};
use crate::error::Result;
use crate::id::{PlatformId, Purpose, SubjectId};

/// The GDPR Art. 6 basis a purpose is processed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LegalBasis {
    /// Art. 6(1)(a): the subject consented.
    Consent,
    /// Art. 6(1)(b): needed to perform a contract with the subject.
    Contract,
    /// Art. 6(1)(f): the host's legitimate interest.
    LegitimateInterest,
}

/// Whether an event grants or withdraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    /// Consent given (or basis established).
    Grant,
    /// Consent withdrawn.
    Withdraw,
}

/// How the consent was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CollectionMethod {
    /// A form or dialog on the host's website.
    WebForm,
    /// A screen in the host's mobile app.
    MobileApp,
    /// The host's API, on the end user's explicit action.
    Api,
    /// Imported from an earlier system.
    Import,
    /// Reported by the platform (Meta's deauthorize or data-deletion callback).
    PlatformCallback,
}

/// Where a consent came from: the end user's request, as the host saw it. Stored encrypted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentSource {
    /// The end user's IP address.
    pub ip: Option<std::net::IpAddr>,
    /// The end user's user agent (at most 512 bytes are kept).
    pub user_agent: Option<String>,
}

/// One thing to write to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentEvent {
    /// Whose.
    pub subject: SubjectId,
    /// For what.
    pub purpose: Purpose,
    /// On which platform; `None` means every platform.
    pub platform: Option<PlatformId>,
    /// Under which legal basis.
    pub basis: LegalBasis,
    /// Grant or withdraw.
    pub action: ConsentAction,
    /// The version of the privacy notice shown, when there was one.
    pub notice_version: Option<String>,
    /// When the host collected it.
    pub collected_at: DateTime<Utc>,
    /// When a grant lapses by itself, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The OAuth scopes the purpose needs on the platform.
    #[serde(default)]
    pub scopes: Vec<crate::id::Scope>,
    /// A hash of the notice text shown (the host's choice of algorithm, e.g. `sha256:<hex>`).
    #[serde(default)]
    pub notice_hash: Option<String>,
    /// The end user's jurisdiction (ISO 3166-1 alpha-2), as given to the age gate.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// How the consent was collected.
    #[serde(default)]
    pub method: Option<CollectionMethod>,
    /// The end user's request that carried it.
    #[serde(default)]
    pub source: Option<ConsentSource>,
    /// For a withdrawal: the receipt of the grant it withdraws.
    #[serde(default)]
    pub withdraws: Option<Uuid>,
    /// How the end user's age was established (`birth_date` or `age_band`); never the age
    /// or date itself.
    #[serde(default)]
    pub age_verification: Option<String>,
}

impl ConsentEvent {
    /// A consent grant for `purpose` on `platform` (or every platform), collected at `at`.
    pub fn grant(
        subject: SubjectId,
        purpose: Purpose,
        platform: Option<PlatformId>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            subject,
            purpose,
            platform,
            basis: LegalBasis::Consent,
            action: ConsentAction::Grant,
            notice_version: None,
            collected_at: at,
            expires_at: None,
            scopes: Vec::new(),
            notice_hash: None,
            jurisdiction: None,
            method: None,
            source: None,
            withdraws: None,
            age_verification: None,
        }
    }

    /// A withdrawal of `purpose` on `platform` (or every platform), at `at`.
    pub fn withdraw(
        subject: SubjectId,
        purpose: Purpose,
        platform: Option<PlatformId>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            action: ConsentAction::Withdraw,
            ..Self::grant(subject, purpose, platform, at)
        }
    }

    /// Sets the notice version.
    pub fn with_notice_version(mut self, version: impl Into<String>) -> Self {
        self.notice_version = Some(version.into());
        self
    }

    /// Sets the legal basis.
    pub fn with_basis(mut self, basis: LegalBasis) -> Self {
        self.basis = basis;
        self
    }

    /// Sets the notice version and the hash of its text.
    pub fn with_notice(mut self, version: impl Into<String>, hash: impl Into<String>) -> Self {
        self.notice_version = Some(version.into());
        self.notice_hash = Some(hash.into());
        self
    }

    /// Sets the scopes the purpose needs.
    pub fn with_scopes(mut self, scopes: Vec<crate::id::Scope>) -> Self {
        self.scopes = scopes;
        self
    }

    /// Sets the jurisdiction.
    pub fn with_jurisdiction(mut self, code: impl Into<String>) -> Self {
        self.jurisdiction = Some(code.into());
        self
    }

    /// Sets the collection method.
    pub fn with_method(mut self, method: CollectionMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// Sets the source request.
    pub fn with_source(mut self, source: ConsentSource) -> Self {
        self.source = Some(source);
        self
    }

    /// Marks a withdrawal as withdrawing the grant with this receipt.
    pub fn withdrawing(mut self, receipt: Uuid) -> Self {
        self.withdraws = Some(receipt);
        self
    }

    /// Records how age was established (`birth_date` or `age_band`).
    pub fn with_age_verification(mut self, how: impl Into<String>) -> Self {
        self.age_verification = Some(how.into());
        self
    }

    /// Sets an expiry for a grant.
    pub fn with_expiry(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether this event, as the latest one for its purpose, permits processing at `now`.
    pub fn permits_at(&self, now: DateTime<Utc>) -> bool {
        self.action == ConsentAction::Grant && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A ledger entry: the event plus its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentRecord {
    /// Position in the ledger, from 1.
    pub seq: u64,
    /// Receipt id handed to the host.
    pub receipt_id: Uuid,
    /// The event.
    pub event: ConsentEvent,
    /// When the ledger wrote it.
    pub recorded_at: DateTime<Utc>,
    /// The previous record's hash (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over this record's content and `prev_hash`.
    pub hash: [u8; 32],
    /// The region the deployment stored the record in, when the store records one (transfer
    /// transparency). Not part of the hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl ConsentRecord {
    /// Builds the next record after `prev_hash`, computing its hash.
    pub fn chain(
        seq: u64,
        receipt_id: Uuid,
        event: ConsentEvent,
        recorded_at: DateTime<Utc>,
        prev_hash: [u8; 32],
    ) -> Self {
        let mut record = Self {
            seq,
            receipt_id,
            event,
            recorded_at,
            prev_hash,
            hash: [0; 32],
            region: None,
        };
        record.hash = record.compute_hash();
        record
    }

    /// Reassembles a record as a store kept it. Stores that chain their own row format (the
    /// encrypted store hashes sealed bytes, so erasure can leave tombstones) report their own
    /// `prev_hash` and `hash` here; [`ConsentRecord::compute_hash`] then does not apply.
    pub fn from_parts(
        seq: u64,
        receipt_id: Uuid,
        event: ConsentEvent,
        recorded_at: DateTime<Utc>,
        prev_hash: [u8; 32],
        hash: [u8; 32],
    ) -> Self {
        Self {
            seq,
            receipt_id,
            event,
            recorded_at,
            prev_hash,
            hash,
            region: None,
        }
    }

    /// Sets the region the record was stored in (for store implementations).
    pub fn with_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// Recomputes the hash from the content; equal to `hash` unless the record was altered.
    pub fn compute_hash(&self) -> [u8; 32] {
        #[derive(Serialize)]
        struct Canonical<'a> {
            seq: u64,
            receipt_id: &'a Uuid,
            event: &'a ConsentEvent,
            recorded_at: i64,
            recorded_at_nanos: u32,
        }
        let canonical = Canonical {
            seq: self.seq,
            receipt_id: &self.receipt_id,
            event: &self.event,
            recorded_at: self.recorded_at.timestamp(),
            recorded_at_nanos: self.recorded_at.timestamp_subsec_nanos(),
        };
        // Serializing these plain types cannot fail; an empty body would still chain safely.
        let body = serde_json::to_vec(&canonical).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(b"socialconnect-consent-v1\0");
        h.update(self.prev_hash);
        h.update(&body);
        h.finalize().into()
    }
}

/// What [`ConsentLedger::record`] hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentReceipt {
    /// The receipt id.
    pub receipt_id: Uuid,
    /// Ledger position.
    pub seq: u64,
    /// The record hash.
    pub hash: [u8; 32],
}

/// The result of checking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub checked: u64,
    /// The sequence number of the first record whose hash or link does not match, if any.
    pub first_broken: Option<u64>,
}

impl ChainReport {
    /// Checks `records` (in sequence order) link by link.
    pub fn verify<'a>(records: impl IntoIterator<Item = &'a ConsentRecord>) -> Self {
        let mut prev = [0u8; 32];
        let mut checked = 0;
        for r in records {
            checked += 1;
            if r.prev_hash != prev || r.compute_hash() != r.hash {
                return Self {
                    checked,
                    first_broken: Some(r.seq),
                };
            }
            prev = r.hash;
        }
        Self {
            checked,
            first_broken: None,
        }
    }
}

/// The current state of one (subject, purpose, platform-or-all): its latest event's decisive
/// fields, kept materialised so the permission check never scans history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsentState {
    /// Grant or withdraw.
    pub action: ConsentAction,
    /// The legal basis of that event.
    pub basis: LegalBasis,
    /// The notice version it rests on.
    pub notice_version: Option<String>,
    /// When a grant lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// The event's position in the ledger.
    pub seq: u64,
}

impl ConsentState {
    /// Assembles a state (for ledger implementations).
    pub fn new(
        action: ConsentAction,
        basis: LegalBasis,
        notice_version: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        seq: u64,
    ) -> Self {
        Self {
            action,
            basis,
            notice_version,
            expires_at,
            seq,
        }
    }

    /// Whether this state, taken alone, permits processing at `now`.
    pub fn permits_at(&self, now: DateTime<Utc>) -> bool {
        self.action == ConsentAction::Grant && self.expires_at.is_none_or(|e| e > now)
    }
}

/// The consent ledger.
#[async_trait]
pub trait ConsentLedger: Send + Sync {
    /// Appends an event; returns its receipt.
    async fn record(&self, event: ConsentEvent) -> Result<ConsentReceipt>;

    /// Whether `subject`'s latest event for `purpose` that covers `platform` (one naming that
    /// platform, or one for every platform, whichever was recorded later) is a live grant at
    /// `now`. So a later "withdraw everywhere" overrides an earlier platform grant, and a later
    /// platform grant re-permits that platform alone.
    async fn permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// The decisive state for `purpose` on `platform`: the later recorded of the subject's
    /// latest platform-specific event and latest all-platforms event; `None` when neither
    /// exists.
    async fn state(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<Option<ConsentState>>;

    /// A subject's records, oldest first.
    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>>;

    /// Verifies the whole chain.
    async fn verify_chain(&self) -> Result<ChainReport>;

    /// Subjects holding a live grant (any purpose) that rests on a notice version other than
    /// `current` (or on none): the people to ask again after a significant policy change.
    async fn subjects_on_other_notice(&self, current: &str) -> Result<Vec<SubjectId>>;

    /// Removes a subject from the ledger (erasure). A hash-chained ledger keeps tombstones so
    /// the chain of everyone else still verifies. Returns how many records were removed.
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64>;

    /// Stores a privacy notice version for every hub sharing this ledger, unless that version
    /// is stored already (whatever its content: the hub compares what it reads back). The
    /// default stores nothing: a ledger without notices leaves each hub its own registry.
    async fn store_notice(&self, notice: &NoticeVersion) -> Result<()> {
        let _ = notice;
        Ok(())
    }

    /// The notice versions stored, in any order (the default: none).
    async fn stored_notices(&self) -> Result<Vec<NoticeVersion>> {
        Ok(Vec::new())
    }

    /// Writes `purpose`'s entry in the register of declared bases every hub sharing this
    /// ledger follows: its declaration, or `None` for a retracted one (kept, so that a hub
    /// built with the old declaration does not bring it back). Without `replace`, an entry
    /// already there stays. The default stores nothing: each hub keeps its own declarations.
    async fn store_declaration(
        &self,
        purpose: Purpose,
        declared: Option<&DeclaredBasis>,
        replace: bool,
    ) -> Result<()> {
        let _ = (purpose, declared, replace);
        Ok(())
    }

    /// The register of declared bases: each purpose's declaration, `None` when retracted, in
    /// any order (the default: empty).
    async fn stored_declarations(&self) -> Result<Vec<(Purpose, Option<DeclaredBasis>)>> {
        Ok(Vec::new())
    }
}

/// What [`SocialConnect::consent`](crate::SocialConnect::consent) takes: the grant, and the
/// end user's age attestation and jurisdiction for the age gate.
///
/// The attestation is used for the check and then dropped: only the jurisdiction and *how* age
/// was established (`birth_date` or `age_band`) reach the ledger, never the date or the band.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsentRequest {
    /// The event to record (a grant under [`LegalBasis::Consent`]).
    pub event: ConsentEvent,
    /// What the end user said about their age.
    pub age: AgeAttestation,
    /// Where the end user lives, as the host determines it.
    pub jurisdiction: Jurisdiction,
    /// Today's date where the end user lives (UTC when unknown), for the age computation.
    pub today: NaiveDate,
}

impl ConsentRequest {
    /// A request to record `event` after checking `age` in `jurisdiction` on `today`.
    pub fn new(
        event: ConsentEvent,
        age: AgeAttestation,
        jurisdiction: Jurisdiction,
        today: NaiveDate,
    ) -> Self {
        Self {
            event,
            age,
            jurisdiction,
            today,
        }
    }
}

/// A purpose the host processes under contract or legitimate interest rather than consent,
/// declared once on the hub with its justification (the host's Art. 5(2) accountability
/// record; for legitimate interest, the outcome of its balancing test).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeclaredBasis {
    /// The purpose.
    pub purpose: Purpose,
    /// [`LegalBasis::Contract`] or [`LegalBasis::LegitimateInterest`].
    pub basis: LegalBasis,
    /// Why the basis applies, as the host wrote it.
    pub justification: String,
}

impl DeclaredBasis {
    /// A declaration of `purpose` under `basis` (contract or legitimate interest, as the hub
    /// checks where it takes one), with the host's justification.
    pub fn new(purpose: Purpose, basis: LegalBasis, justification: impl Into<String>) -> Self {
        Self {
            purpose,
            basis,
            justification: justification.into(),
        }
    }
}

/// A version of the host's privacy notice.
///
/// A *significant* version changes what people agreed to: after its `effective_at` plus the
/// hub's notice grace period, consents resting on an earlier version stop permitting
/// processing until the subject consents again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NoticeVersion {
    /// The version label the host shows and records (`"2026-03"`).
    pub version: String,
    /// A hash of the notice text (`sha256:<hex>`).
    pub hash: String,
    /// Whether the change needs fresh consent.
    pub significant: bool,
    /// When the version takes effect.
    pub effective_at: DateTime<Utc>,
}

impl NoticeVersion {
    /// A notice version.
    pub fn new(
        version: impl Into<String>,
        hash: impl Into<String>,
        significant: bool,
        effective_at: DateTime<Utc>,
    ) -> Self {
        Self {
            version: version.into(),
            hash: hash.into(),
            significant,
            effective_at,
        }
    }
}

/// The data controller (the host) as a consent receipt names it. Host-supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ControllerInfo {
    /// The controller's name.
    pub name: String,
    /// A contact (person or department) for privacy questions.
    pub contact: Option<String>,
    /// Contact email.
    pub email: String,
    /// Postal address.
    pub address: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Where the privacy notice is published.
    pub policy_url: String,
    /// The jurisdiction the controller operates under (e.g. `"EU"`, `"DE"`); when absent the
    /// receipt names the end user's jurisdiction as recorded with the consent.
    pub jurisdiction: Option<String>,
    /// The receipt's language (ISO 639-1).
    pub language: Option<String>,
}

impl ControllerInfo {
    /// A controller with a name, a contact email and the privacy notice's URL.
    pub fn new(
        name: impl Into<String>,
        email: impl Into<String>,
        policy_url: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            contact: None,
            email: email.into(),
            address: None,
            phone: None,
            policy_url: policy_url.into(),
            jurisdiction: None,
            language: None,
        }
    }

    /// Sets the privacy contact.
    pub fn with_contact(mut self, contact: impl Into<String>) -> Self {
        self.contact = Some(contact.into());
        self
    }

    /// Sets the postal address.
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Sets the phone number.
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// Sets the controller's jurisdiction.
    pub fn with_jurisdiction(mut self, jurisdiction: impl Into<String>) -> Self {
        self.jurisdiction = Some(jurisdiction.into());
        self
    }

    /// Sets the receipt language.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
}

/// What [`SocialConnect::withdraw`](crate::SocialConnect::withdraw) did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WithdrawalOutcome {
    /// The withdrawal's own receipt.
    pub receipt: ConsentReceipt,
    /// The receipt of the grant it ended, when the ledger's history showed one.
    pub withdrew: Option<Uuid>,
    /// The connections revoked upstream and deleted because of it (only when account
    /// connection was withdrawn), with what each revocation achieved.
    pub revoked: Vec<(crate::id::ConnectionKey, crate::Disconnected)>,
}

/// The Kantara Consent Receipt specification version [`ConsentRecord::receipt_json`] follows.
pub const RECEIPT_VERSION: &str = "KI-CR-v1.1.0";

impl ConsentRecord {
    /// This record as a consent receipt shaped after the Kantara Initiative Consent Receipt
    /// Specification v1.1 (the basis of ISO/IEC TS 27560), for `controller`.
    ///
    /// Mapping decisions:
    /// - `consentTimestamp` is `collected_at` in Unix seconds (Kantara's form);
    ///   `consentReceiptID` is the ledger receipt id; `piiPrincipalId` the subject id.
    /// - One service per record: the platform (`"all_platforms"` when the event covers every
    ///   platform), with one purpose. `piiCategory` lists the OAuth scopes the purpose needs
    ///   (a generic category when none were recorded); `thirdPartyDisclosure` is always true,
    ///   since every purpose exchanges data with the platform, named as `thirdPartyName`.
    /// - `consentType` is `EXPLICIT` for consent; for contract or legitimate interest,
    ///   which are not consent, it is `NOT_APPLICABLE` and `legalBasis` says which.
    /// - `publicKey` is omitted (receipts are not signed); `sensitive` is false and `spiCat`
    ///   empty, as SocialConnect processes no special-category data by design.
    /// - The source (IP, user agent) is never put in a receipt: receipts get forwarded.
    /// - Extensions outside Kantara's fields: `legalBasis`, `action` (`grant` / `withdraw`),
    ///   `withdraws` (the receipt a withdrawal ends), `noticeVersion`, `noticeHash`,
    ///   `ageVerification`, `expiresAt`, `recordedAt`, `ledgerSeq`.
    /// - Optional controller fields the host did not give are omitted rather than sent empty.
    pub fn receipt_json(&self, controller: &ControllerInfo) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let e = &self.event;
        let consent_type = match e.basis {
            LegalBasis::Consent => "EXPLICIT",
            _ => "NOT_APPLICABLE",
        };
        let platform = e
            .platform
            .as_ref()
            .map_or("all_platforms", |p| p.as_str())
            .to_owned();
        let pii_category: Vec<String> = if e.scopes.is_empty() {
            vec![default_pii_category(e.purpose).to_owned()]
        } else {
            e.scopes.iter().map(|s| s.as_str().to_owned()).collect()
        };
        let termination = match e.expires_at {
            Some(t) => format!(
                "Lapses at {}, or earlier when withdrawn; withdrawal is possible at any time.",
                t.to_rfc3339()
            ),
            None => "Until withdrawn; withdrawal is possible at any time.".to_owned(),
        };
        let third_party = e
            .platform
            .as_ref()
            .map_or("each connected platform", |p| p.as_str());

        let mut pii_controller = Map::new();
        pii_controller.insert("piiController".into(), json!(controller.name));
        pii_controller.insert(
            "contact".into(),
            json!(controller.contact.as_deref().unwrap_or(&controller.email)),
        );
        if let Some(a) = &controller.address {
            pii_controller.insert("address".into(), json!(a));
        }
        pii_controller.insert("email".into(), json!(controller.email));
        if let Some(p) = &controller.phone {
            pii_controller.insert("phone".into(), json!(p));
        }
        pii_controller.insert("piiControllerUrl".into(), json!(controller.policy_url));

        let mut out = Map::new();
        out.insert("version".into(), json!(RECEIPT_VERSION));
        let jurisdiction = controller
            .jurisdiction
            .clone()
            .or_else(|| e.jurisdiction.clone());
        if let Some(j) = jurisdiction {
            out.insert("jurisdiction".into(), json!(j));
        }
        out.insert("consentTimestamp".into(), json!(e.collected_at.timestamp()));
        out.insert(
            "collectionMethod".into(),
            json!(collection_method_text(e.method)),
        );
        out.insert(
            "consentReceiptID".into(),
            json!(self.receipt_id.to_string()),
        );
        if let Some(l) = &controller.language {
            out.insert("language".into(), json!(l));
        }
        out.insert("piiPrincipalId".into(), json!(e.subject.as_str()));
        out.insert(
            "piiControllers".into(),
            json!([Value::Object(pii_controller)]),
        );
        out.insert("policyUrl".into(), json!(controller.policy_url));
        out.insert(
            "services".into(),
            json!([{
                "service": platform,
                "purposes": [{
                    "purpose": e.purpose.as_str(),
                    "purposeCategory": [purpose_category(e.purpose)],
                    "consentType": consent_type,
                    "piiCategory": pii_category,
                    "primaryPurpose": is_primary(e.purpose),
                    "termination": termination,
                    "thirdPartyDisclosure": true,
                    "thirdPartyName": third_party,
                }],
            }]),
        );
        out.insert("sensitive".into(), json!(false));
        out.insert("spiCat".into(), json!([]));
        // Extensions.
        out.insert("legalBasis".into(), json!(e.basis));
        out.insert("action".into(), json!(e.action));
        if let Some(w) = e.withdraws {
            out.insert("withdraws".into(), json!(w.to_string()));
        }
        if let Some(v) = &e.notice_version {
            out.insert("noticeVersion".into(), json!(v));
        }
        if let Some(h) = &e.notice_hash {
            out.insert("noticeHash".into(), json!(h));
        }
        if let Some(a) = &e.age_verification {
            out.insert("ageVerification".into(), json!(a));
        }
        if let Some(t) = e.expires_at {
            out.insert("expiresAt".into(), json!(t.to_rfc3339()));
        }
        out.insert("recordedAt".into(), json!(self.recorded_at.to_rfc3339()));
        out.insert("ledgerSeq".into(), json!(self.seq));
        Value::Object(out)
    }
}

/// Kantara v1.1's purpose categories, as they fit each purpose.
fn purpose_category(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::AccountConnection
        | Purpose::Publishing
        | Purpose::ReadingContent
        | Purpose::Analytics
        | Purpose::Messaging => "Core Function",
        Purpose::ServiceImprovement => "Improve Performance",
        Purpose::FraudDetection => "Protecting Our Interests",
    }
}

/// Whether the purpose is part of the service the end user asked for (Kantara
/// `primaryPurpose`), rather than something the host does alongside it.
fn is_primary(purpose: Purpose) -> bool {
    !matches!(
        purpose,
        Purpose::ServiceImprovement | Purpose::FraudDetection
    )
}

fn default_pii_category(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::AccountConnection => "Social account identifiers and access credentials",
        Purpose::Publishing => "Content published on the social account",
        Purpose::ReadingContent => "Content of the social account",
        Purpose::Analytics => "Social account statistics",
        Purpose::Messaging => "Messages",
        Purpose::ServiceImprovement | Purpose::FraudDetection => "Usage data",
    }
}

fn collection_method_text(method: Option<CollectionMethod>) -> &'static str {
    match method {
        Some(CollectionMethod::WebForm) => "web form",
        Some(CollectionMethod::MobileApp) => "mobile app",
        Some(CollectionMethod::Api) => "API on the end user's action",
        Some(CollectionMethod::Import) => "imported from an earlier system",
        Some(CollectionMethod::PlatformCallback) => "platform callback",
        None => "not recorded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_detects_edits() {
        let s = SubjectId::new("s").unwrap();
        let now = Utc::now();
        let a = ConsentRecord::chain(
            1,
            Uuid::nil(),
            ConsentEvent::grant(s.clone(), Purpose::Analytics, None, now),
            now,
            [0; 32],
        );
        let b = ConsentRecord::chain(
            2,
            Uuid::nil(),
            ConsentEvent::withdraw(s, Purpose::Analytics, None, now),
            now,
            a.hash,
        );
        assert_eq!(ChainReport::verify([&a, &b]).first_broken, None);
        let mut edited = b.clone();
        edited.event.action = ConsentAction::Grant;
        assert_eq!(ChainReport::verify([&a, &edited]).first_broken, Some(2));
    }
}
