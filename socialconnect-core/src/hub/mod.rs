//! The hub: consent-gated connect, callback completion, fresh-token sessions, disconnect.

mod automation;
mod builder;
mod caller;
mod connection;
mod consent;
mod platform_callbacks;
mod policy_sync;
mod retention;
mod rights;
mod session;
mod sweep;
mod usage_queue;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

pub use automation::{
    ActionEvent, ActionRequest, ActionRunner, ActionRunnerHandle, RunReport, RunnerOptions,
};
pub use builder::SocialConnectBuilder;
pub use caller::ApiCaller;
pub use connection::ConnectOptions;
pub use retention::{PurgeReport, RetentionPolicy};
#[allow(deprecated)] // re-exports the deprecated alias so old paths keep compiling
pub use rights::UpstreamRevocation;
pub use rights::{EXPORT_FORMAT, EXPORT_VERSION, ErasureOutcome};
pub use session::Session;
pub(crate) use session::kind_name;
pub use sweep::{RefreshSweep, SweepEvent, SweepHandle, SweepOptions, SweepReport};
pub use usage_queue::UsageLogOptions;

use crate::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use crate::clock::Clock;
use crate::connect::refresh::Refresher;
use crate::consent::{ConsentEvent, ConsentLedger, ConsentReceipt};
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::id::{ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use crate::platform::{AccountInfo, Platform, Revocation};
use crate::platform_deletion::DeletionRequestStore;
use crate::store::{PendingAuthStore, TokenStore};

/// The SocialConnect hub: what a host backend holds (cheap to clone; share one per process).
///
/// ```no_run
/// # async fn demo(hub: socialconnect_core::SocialConnect) -> socialconnect_core::Result<()> {
/// use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
/// let subject = SubjectId::new("user-42")?;
/// let auth = hub
///     .connect(&subject, &PlatformId::LINKEDIN, &Scope::parse_list("w_member_social"),
///              &"https://host.example/oauth/callback".parse().unwrap())
///     .await?;
/// // Redirect the browser to auth.url; the platform then redirects it back to the callback,
/// // whose whole URL (or query) the hub reads: state, code, or the user's refusal.
/// # let callback_url = String::new();
/// let connected = hub
///     .complete_callback(&subject, &"https://host.example/oauth/callback".parse().unwrap(),
///                        &callback_url)
///     .await?;
/// let session = hub.session(&connected.key, Purpose::Publishing).await?;
/// # let _ = session; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SocialConnect {
    inner: Arc<HubInner>,
}

impl std::fmt::Debug for SocialConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocialConnect")
            .field(
                "platforms",
                &self.inner.platforms.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

pub(crate) struct HubInner {
    pub(crate) platforms: HashMap<PlatformId, Arc<dyn Platform>>,
    pub(crate) tokens: Arc<dyn TokenStore>,
    pub(crate) pending: Arc<dyn PendingAuthStore>,
    pub(crate) ledger: Arc<dyn ConsentLedger>,
    /// The host's log behind [`usage_queue`](Self::usage_queue) (the same object).
    pub(crate) log: Arc<dyn AccessLog>,
    pub(crate) usage_queue: Arc<usage_queue::QueuedLog>,
    pub(crate) deletions: Option<Arc<dyn DeletionRequestStore>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) http: HttpClient,
    pub(crate) refresher: Refresher,
    pub(crate) state_ttl: Duration,
    pub(crate) consent: consent::ConsentPolicy,
    pub(crate) profiles: Option<Arc<dyn crate::profile::ProfileStore>>,
    pub(crate) receipts: Option<Arc<dyn crate::receipt::ReceiptStore>>,
    pub(crate) alerts: session::HubAlerts,
    pub(crate) retention: RetentionPolicy,
    pub(crate) region: Option<String>,
    pub(crate) actions: Option<Arc<dyn crate::automation::ActionStore>>,
    pub(crate) executors: HashMap<PlatformId, Arc<dyn crate::automation::ActionExecutor>>,
}

/// Where to send the end user's browser to authorize.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// The platform's consent dialog URL, with `state` and the PKCE challenge in it.
    pub url: Url,
    /// When the pending authorization stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// A completed connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Connected {
    /// The connection's key, for [`SocialConnect::session`].
    pub key: ConnectionKey,
    /// The platform account.
    pub account: AccountInfo,
    /// The scopes granted.
    pub scopes: Vec<Scope>,
    /// True when the subject had already connected this account and its tokens were replaced.
    pub reconnected: bool,
}

/// What [`SocialConnect::refresh_now`] left stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refreshed {
    /// When the stored access token expires.
    pub access_expires: crate::token::Expiry,
    /// When it was issued (by the hub's clock).
    pub issued_at: DateTime<Utc>,
}

/// The result of a disconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Disconnected {
    /// What happened upstream (`None` when there was no stored token to revoke).
    pub revocation: Option<Revocation>,
    /// Whether a stored connection was deleted.
    pub deleted: bool,
}

impl SocialConnect {
    /// A builder.
    pub fn builder() -> SocialConnectBuilder {
        SocialConnectBuilder::default()
    }

    /// The registered platform with this id.
    pub fn platform(&self, id: &PlatformId) -> Result<&Arc<dyn Platform>> {
        self.inner
            .platforms
            .get(id)
            .ok_or_else(|| Error::config(format!("platform `{id}` is not registered")))
    }

    /// The consent ledger.
    pub fn ledger(&self) -> &Arc<dyn ConsentLedger> {
        &self.inner.ledger
    }

    /// The token store.
    pub fn token_store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.tokens
    }

    /// The usage log, behind the hub's queue: what is read through it includes every entry
    /// queued before the read.
    pub fn access_log(&self) -> &Arc<dyn AccessLog> {
        &self.inner.log
    }

    /// Waits until every usage-log entry queued so far is written. Call it on graceful
    /// shutdown, after the last request, so none is lost (see [`UsageLogOptions`]).
    pub async fn flush_usage_log(&self) {
        self.inner.usage_queue.flush().await;
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The hub's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Records a consent event in the ledger as given, **bypassing the age gate** and the
    /// notice-version checks: the import path for consents an earlier system collected (and
    /// age-checked), and a raw ledger write. Collect new consent with
    /// [`SocialConnect::consent`] and withdraw with [`SocialConnect::withdraw`] (a withdrawal
    /// written here revokes nothing).
    pub async fn record_consent(&self, event: ConsentEvent) -> Result<ConsentReceipt> {
        self.inner.ledger.record(event).await
    }

    async fn require_consent(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<()> {
        if self.consent_permits(subject, purpose, platform).await? {
            Ok(())
        } else {
            Err(Error::ConsentRequired {
                purpose,
                platform: platform.clone(),
            })
        }
    }

    /// Opens a session on a connection for `purpose`.
    ///
    /// Refused with `ConsentRequired` unless the ledger permits both `purpose` and account
    /// connection (the basis for holding the token at all) on the connection's platform; every
    /// call through the session checks this again, so a withdrawal stops its next call. The
    /// token is refreshed first when it is inside the refresh margin, once per connection
    /// however many callers ask at the same time.
    pub async fn session(&self, key: &ConnectionKey, purpose: Purpose) -> Result<Session> {
        let platform = self.platform(&key.platform)?.clone();
        self.inner.require_session_consent(key, purpose).await?;
        let tokens = self
            .inner
            .refresher
            .fresh_tokens(
                key,
                self.inner.tokens.as_ref(),
                platform.as_ref(),
                self.inner.clock.as_ref(),
            )
            .await
            .inspect_err(|e| self.inner.alerts.observe(key, e, self.inner.clock.now()))?;
        let grant_ends = platform.grant_ends(&tokens);
        self.inner
            .alerts
            .check_grant_end(key, grant_ends, self.inner.clock.now());
        Ok(Session {
            hub: self.inner.clone(),
            key: key.clone(),
            purpose,
            tokens,
            grant_ends,
            client: ClientInfo::default(),
        })
    }

    /// Refreshes a connection's token now, whatever its expiry: for operators, and for a
    /// refresh sweep that runs ahead of the sessions.
    ///
    /// Single-flight with sessions and other `refresh_now` calls, through the same
    /// per-connection gate and cross-process lease: of many concurrent callers one sends the
    /// refresh grant and the others take its result. Refused with `ConsentRequired` unless
    /// account connection is permitted; a connection marked for reconnection is
    /// `ReconnectRequired` without a request. A refresh the platform refuses (`invalid_grant`)
    /// marks the connection, as a session's would; a platform that cannot refresh a grant at
    /// all (no refresh token) leaves a still-valid connection as it is. Logged as
    /// `oauth.refresh_now`.
    pub async fn refresh_now(&self, key: &ConnectionKey) -> Result<Refreshed> {
        let platform = self.platform(&key.platform)?.clone();
        self.require_consent(&key.subject, Purpose::AccountConnection, &key.platform)
            .await?;
        let refresh = self.inner.refresher.refresh_now(
            key,
            self.inner.tokens.as_ref(),
            platform.as_ref(),
            self.inner.clock.as_ref(),
        );
        let result = self.logged_refresh(key, "oauth.refresh_now", refresh).await;
        let tokens = result?;
        Ok(Refreshed {
            access_expires: tokens.access_expires,
            issued_at: tokens.issued_at,
        })
    }

    /// A subject's connections.
    pub async fn connections(&self, subject: &SubjectId) -> Result<Vec<ConnectionKey>> {
        self.inner.tokens.connections(subject).await
    }

    /// Disconnects: revokes upstream where the platform supports it, then deletes the stored
    /// tokens whatever the revocation's outcome.
    pub async fn disconnect(&self, key: &ConnectionKey) -> Result<Disconnected> {
        let platform = self.platform(&key.platform)?.clone();
        let revocation = match self.inner.tokens.get(key).await? {
            None => None,
            Some(stored) => Some(match platform.revoke(&stored.tokens).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    tracing::warn!(platform = %key.platform, connection = %key.connection, error = %e, "upstream revocation failed");
                    Revocation::Failed {
                        reason: e.to_string(),
                    }
                }
            }),
        };
        let deleted = self.inner.tokens.delete(key).await?;
        self.inner.refresher.invalidate(key);
        Ok(Disconnected {
            revocation,
            deleted,
        })
    }

    /// The deletion-request store, when one was configured.
    pub fn deletion_requests(&self) -> Result<&Arc<dyn DeletionRequestStore>> {
        self.inner
            .deletions
            .as_ref()
            .ok_or_else(|| Error::config("no deletion-request store configured on the hub"))
    }

    /// The connections on `platform` whose account id is `account_id`, across subjects.
    pub async fn find_connections(
        &self,
        platform: &PlatformId,
        account_id: &str,
    ) -> Result<Vec<ConnectionKey>> {
        self.inner
            .tokens
            .find_by_account(platform, account_id)
            .await
    }

    /// Deletes connections locally without contacting the platform (for when the platform
    /// itself ended the authorization, as Meta's deauthorize callback says it has), logging
    /// each removal as a privileged operation (`privileged.forget_connection`) with `actor` in
    /// the entry's actor field. Returns how many existed.
    pub async fn forget_connections(&self, keys: &[ConnectionKey], actor: &str) -> Result<usize> {
        let mut removed = 0;
        for key in keys {
            if self.inner.tokens.delete(key).await? {
                removed += 1;
            }
            self.inner.refresher.invalidate(key);
            self.log_quietly(
                UsageEntry::new(
                    self.inner.clock.now(),
                    key.subject.clone(),
                    key.platform.clone(),
                    Some(key.connection),
                    "privileged.forget_connection",
                    Outcome::Success,
                    None,
                    Duration::ZERO,
                    ClientInfo::default(),
                )
                .with_actor(actor),
            )
            .await;
        }
        Ok(removed)
    }

    /// Marks connections revoked by the platform (kept until deleted, refused by `session`),
    /// raising [`Alert::TokenRevokedByPlatform`](crate::alert::Alert::TokenRevokedByPlatform)
    /// for each one that existed.
    pub async fn mark_revoked(&self, keys: &[ConnectionKey]) -> Result<()> {
        let since = self.inner.clock.now();
        for key in keys {
            let existed = self
                .inner
                .tokens
                .set_status(key, crate::store::ConnectionStatus::Revoked { since })
                .await?;
            self.inner.refresher.invalidate(key);
            if existed {
                self.inner
                    .alerts
                    .raise(&crate::alert::Alert::TokenRevokedByPlatform {
                        platform: key.platform.clone(),
                        connection: key.connection,
                    });
            }
        }
        Ok(())
    }

    /// Awaits a refresh the SDK makes on its own account (not a session's platform call):
    /// failures raise alerts, and the attempt is logged as `operation` with its outcome.
    pub(crate) async fn logged_refresh(
        &self,
        key: &ConnectionKey,
        operation: &'static str,
        refresh: impl std::future::Future<Output = Result<crate::token::TokenSet>>,
    ) -> Result<crate::token::TokenSet> {
        let at = self.inner.clock.now();
        let started = std::time::Instant::now();
        let result = refresh
            .await
            .inspect_err(|e| self.inner.alerts.observe(key, e, self.inner.clock.now()));
        self.log_quietly(UsageEntry::new(
            at,
            key.subject.clone(),
            key.platform.clone(),
            Some(key.connection),
            operation,
            match &result {
                Ok(_) => Outcome::Success,
                Err(e) => Outcome::Failure(session::kind_name(e.kind())),
            },
            None,
            started.elapsed(),
            ClientInfo::default(),
        ))
        .await;
        result
    }

    /// Writes a privileged or privacy operation's entry before returning (they are rare, and
    /// their record should not wait in a queue); platform calls go through the queue.
    async fn log_quietly(&self, entry: UsageEntry) {
        if let Err(e) = self.inner.usage_queue.append_now(entry).await {
            tracing::error!(error = %e, "usage log write failed");
        }
    }
}
