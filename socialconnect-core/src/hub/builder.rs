//! Assembling a hub.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::retention::RetentionPolicy;
use super::session::HubAlerts;
use super::usage_queue::{QueuedLog, UsageLogOptions};
use super::{HubInner, SocialConnect};
use crate::access_log::AccessLog;
use crate::age::AgePolicy;
use crate::alert::{AlertSink, AlertThresholds, TracingAlerts};
use crate::automation::{ActionExecutor, ActionStore};
use crate::clock::{Clock, SystemClock};
use crate::connect::refresh::{RefreshPolicy, Refresher};
use crate::consent::{ConsentLedger, LegalBasis, NoticeVersion};
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::id::{PlatformId, Purpose};
use crate::platform::Platform;
use crate::platform_deletion::DeletionRequestStore;
use crate::profile::ProfileStore;
use crate::receipt::ReceiptStore;
use crate::store::{PendingAuthStore, TokenStore};

/// Builds a [`SocialConnect`] hub. Every store must be given explicitly, so a production hub
/// cannot fall back to an unencrypted one by omission.
#[derive(Default)]
pub struct SocialConnectBuilder {
    platforms: HashMap<PlatformId, Arc<dyn Platform>>,
    tokens: Option<Arc<dyn TokenStore>>,
    pending: Option<Arc<dyn PendingAuthStore>>,
    ledger: Option<Arc<dyn ConsentLedger>>,
    log: Option<Arc<dyn AccessLog>>,
    deletions: Option<Arc<dyn DeletionRequestStore>>,
    clock: Option<Arc<dyn Clock>>,
    http: Option<HttpClient>,
    refresh: RefreshPolicy,
    state_ttl: Option<Duration>,
    consent: super::consent::ConsentConfig,
    profiles: Option<Arc<dyn ProfileStore>>,
    receipts: Option<Arc<dyn ReceiptStore>>,
    alerts: Option<(Arc<dyn AlertSink>, AlertThresholds)>,
    retention: RetentionPolicy,
    region: Option<String>,
    usage_log: UsageLogOptions,
    actions: Option<Arc<dyn ActionStore>>,
    executors: HashMap<PlatformId, Arc<dyn ActionExecutor>>,
}

impl SocialConnectBuilder {
    /// Registers a platform connector (replacing one with the same id).
    pub fn platform(mut self, platform: Arc<dyn Platform>) -> Self {
        self.platforms.insert(platform.id(), platform);
        self
    }

    /// The token store.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.tokens = Some(store);
        self
    }

    /// The pending OAuth state store.
    pub fn pending_store(mut self, store: Arc<dyn PendingAuthStore>) -> Self {
        self.pending = Some(store);
        self
    }

    /// The consent ledger.
    pub fn consent_ledger(mut self, ledger: Arc<dyn ConsentLedger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The usage log.
    pub fn access_log(mut self, log: Arc<dyn AccessLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// Where platform-initiated deletion requests are recorded (needed by Meta's
    /// data-deletion callback).
    pub fn deletion_requests(mut self, store: Arc<dyn DeletionRequestStore>) -> Self {
        self.deletions = Some(store);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The HTTP client sessions send through (default: [`HttpClient::builder`]'s defaults).
    /// Share it with the platform connectors so rate limits and the retry budget are common.
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Refresh timing.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh = policy;
        self
    }

    /// How long an authorization may take between `connect` and `complete` (default 10 min).
    pub fn state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = Some(ttl);
        self
    }

    /// The age gate [`SocialConnect::consent`] applies (default: [`AgePolicy::default`]).
    pub fn age_policy(mut self, policy: AgePolicy) -> Self {
        self.consent.age_policy(policy);
        self
    }

    /// Declares that `purpose` is processed under [`LegalBasis::Contract`] or
    /// [`LegalBasis::LegitimateInterest`], with the host's justification: the purpose is then
    /// permitted without a consent record, until the subject objects or withdraws (see
    /// [`SocialConnect::withdraw`]). Declaring [`LegalBasis::Consent`], an empty justification
    /// or the same purpose twice fails `build` with a `Config` error.
    pub fn declare_basis(
        mut self,
        purpose: Purpose,
        basis: LegalBasis,
        justification: &str,
    ) -> Self {
        self.consent.declare(purpose, basis, justification);
        self
    }

    /// Registers a privacy notice version (more can be added later with
    /// [`SocialConnect::publish_notice`]).
    pub fn notice_version(mut self, notice: NoticeVersion) -> Self {
        self.consent.notice(notice);
        self
    }

    /// How long consents resting on an older notice keep permitting processing after a
    /// significant version takes effect (default 30 days).
    pub fn notice_grace(mut self, grace: Duration) -> Self {
        self.consent.grace(grace);
        self
    }

    /// How often a permission check reads the notice versions stored in the consent ledger at
    /// most (default 5 s): the longest a version another instance published goes unseen here.
    /// Collecting consent and publishing a notice always read them.
    pub fn notice_sync_interval(mut self, interval: Duration) -> Self {
        self.consent.notice_sync(interval);
        self
    }

    /// Where the host-supplied account information (email, username) is kept. Without one,
    /// [`SocialConnect::rectify`] fails with a config error and exports carry no profile.
    pub fn profiles(mut self, store: Arc<dyn ProfileStore>) -> Self {
        self.profiles = Some(store);
        self
    }

    /// Where erasure receipts are kept. Without one, [`SocialConnect::erase`] still erases
    /// but leaves no receipt, so the host cannot prove the erasure later.
    pub fn receipts(mut self, store: Arc<dyn ReceiptStore>) -> Self {
        self.receipts = Some(store);
        self
    }

    /// Where alerts go, and the limits for those that fire on repetition (default:
    /// [`TracingAlerts`] with [`AlertThresholds::default`]).
    pub fn alerts(mut self, sink: Arc<dyn AlertSink>, thresholds: AlertThresholds) -> Self {
        self.alerts = Some((sink, thresholds));
        self
    }

    /// How long [`SocialConnect::purge`] lets data live (default: [`RetentionPolicy::default`]).
    pub fn retention(mut self, policy: RetentionPolicy) -> Self {
        self.retention = policy;
        self
    }

    /// The region the deployment stores its data in (e.g. `"eu-west-1"`), for transfer
    /// transparency: exports name it on the document and on every record. At most 64 bytes of
    /// printable text; unset, exports say `null`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// How usage-log entries are written: through a bounded queue by a background writer in
    /// batches (the default), or with every call waiting for its entry's commit
    /// ([`UsageLogOptions::durable`]). See [`UsageLogOptions`] for what a crash can lose.
    pub fn usage_log(mut self, options: UsageLogOptions) -> Self {
        self.usage_log = options;
        self
    }

    /// Where scheduled actions are kept. Without one, [`SocialConnect::schedule_action`] and
    /// the other action methods fail with a config error.
    pub fn actions(mut self, store: Arc<dyn ActionStore>) -> Self {
        self.actions = Some(store);
        self
    }

    /// Registers what runs a platform's scheduled actions (replacing one for the same
    /// platform). Actions on a platform without an executor cannot be scheduled.
    pub fn executor(mut self, executor: Arc<dyn ActionExecutor>) -> Self {
        self.executors.insert(executor.platform(), executor);
        self
    }

    /// Builds the hub; fails with [`crate::ErrorKind::Config`] when a store is missing.
    pub fn build(self) -> Result<SocialConnect> {
        let missing = |what: &str| Error::config(format!("SocialConnect needs a {what}"));
        let http = match self.http {
            Some(h) => h,
            None => HttpClient::builder().build()?,
        };
        if let Some(region) = &self.region
            && (region.is_empty() || region.len() > 64 || region.chars().any(|c| c.is_control()))
        {
            return Err(Error::config(
                "the deployment region must be 1-64 bytes of printable text",
            ));
        }
        let (alert_sink, thresholds) = self
            .alerts
            .unwrap_or_else(|| (Arc::new(TracingAlerts), AlertThresholds::default()));
        let usage_queue = Arc::new(QueuedLog::new(
            self.log.ok_or_else(|| missing("access log"))?,
            self.usage_log,
        ));
        Ok(SocialConnect {
            inner: Arc::new(HubInner {
                platforms: self.platforms,
                tokens: self.tokens.ok_or_else(|| missing("token store"))?,
                pending: self.pending.ok_or_else(|| missing("pending-state store"))?,
                ledger: self.ledger.ok_or_else(|| missing("consent ledger"))?,
                log: usage_queue.clone(),
                usage_queue,
                deletions: self.deletions,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                http,
                refresher: Refresher::new(self.refresh),
                state_ttl: self.state_ttl.unwrap_or(Duration::from_secs(600)),
                consent: self.consent.build()?,
                profiles: self.profiles,
                receipts: self.receipts,
                alerts: HubAlerts::new(alert_sink, thresholds),
                retention: self.retention,
                region: self.region,
                actions: self.actions,
                executors: self.executors,
            }),
        })
    }
}
