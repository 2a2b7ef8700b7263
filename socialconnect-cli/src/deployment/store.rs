//! Opening the deployment's encrypted store and wiring a hub over it.

use std::sync::Arc;

use socialconnect_core::access_log::AccessLog;
use socialconnect_core::apikey::ApiKeys;
use socialconnect_core::automation::ActionStore;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentLedger, LegalBasis};
use socialconnect_core::http::HttpClient;
use socialconnect_core::platform_deletion::DeletionRequestStore;
use socialconnect_core::profile::ProfileStore;
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::{Error, Result, SocialConnect, SocialConnectBuilder};
use socialconnect_store::keys::LocalKeyring;
use socialconnect_store::{EncryptedStore, StoreOptions};

use super::{Deployment, KeySource, StoreLocation};

#[cfg(feature = "postgres")]
async fn open_postgres(
    url: &str,
    keys: Arc<LocalKeyring>,
    options: StoreOptions,
) -> Result<EncryptedStore> {
    EncryptedStore::open_postgres_with(url, keys, options).await
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(
    _url: &str,
    _keys: Arc<LocalKeyring>,
    _options: StoreOptions,
) -> Result<EncryptedStore> {
    Err(Error::config(
        "the store is PostgreSQL, but socialconnect-cli was built without its `postgres` feature",
    ))
}

impl Deployment {
    /// Loads the key-encryption keys from the configured source.
    ///
    /// # Errors
    ///
    /// `Config` when the file or variable is missing, too permissive, or not a keyring.
    pub fn keyring(&self) -> Result<LocalKeyring> {
        match &self.keys {
            KeySource::File(path) => LocalKeyring::from_file(path),
            KeySource::Env(var) => LocalKeyring::from_env_var(var),
            KeySource::Demo => Ok(LocalKeyring::demo()),
        }
    }

    /// Opens the encrypted store (SQLite file or PostgreSQL), applying migrations, with the
    /// configured keyring and region.
    ///
    /// # Errors
    ///
    /// `Config` for the keys or a missing URL variable; `Storage` when the database cannot be
    /// opened.
    pub async fn open_store(&self) -> Result<EncryptedStore> {
        self.open_store_with(StoreOptions::default()).await
    }

    /// [`Deployment::open_store`] with tuning (batch sizes, caches, a clock); the configured
    /// region replaces the one in `options`.
    ///
    /// # Errors
    ///
    /// As [`Deployment::open_store`].
    pub async fn open_store_with(&self, mut options: StoreOptions) -> Result<EncryptedStore> {
        let keys = Arc::new(self.keyring()?);
        if let Some(region) = &self.region {
            options = options.with_region(region);
        }
        tracing::debug!(
            store = match &self.store {
                StoreLocation::Sqlite(_) => "sqlite",
                _ => "postgres",
            },
            region = self.region.as_deref(),
            "opening the deployment's store"
        );
        match &self.store {
            StoreLocation::Sqlite(path) => {
                EncryptedStore::open_sqlite_with(path, keys, options).await
            }
            StoreLocation::Postgres(url) => open_postgres(url, keys, options).await,
            StoreLocation::PostgresFromEnv(var) => {
                let url = socialconnect_core::connect::env::required(var)?;
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(Error::config(format!(
                        "environment variable {var} (store.url_env) must hold a postgres:// URL"
                    )));
                }
                open_postgres(&url, keys, options).await
            }
        }
    }

    /// A hub builder with `store` as every store of the hub (tokens, pending states, consent
    /// ledger, usage log, deletion requests, profiles, erasure receipts, scheduled actions),
    /// the enabled platforms' connectors and action executors sending through `http` (their secrets read from the environment
    /// now), the purposes declared under contract or legitimate interest, the notice
    /// version, the region, the retention policy and the age policy. The host may add more
    /// (alerts, a clock, refresh timing) before `build`.
    ///
    /// # Errors
    ///
    /// `Config` when a platform's secret variable is unset or a base URL cannot be used.
    pub fn hub_builder(
        &self,
        http: HttpClient,
        store: &EncryptedStore,
    ) -> Result<SocialConnectBuilder> {
        let mut b = SocialConnect::builder()
            .http(http.clone())
            .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
            .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
            .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
            .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
            .deletion_requests(Arc::new(store.clone()) as Arc<dyn DeletionRequestStore>)
            .profiles(Arc::new(store.clone()) as Arc<dyn ProfileStore>)
            .receipts(Arc::new(store.clone()) as Arc<dyn ReceiptStore>)
            .retention(self.retention)
            .age_policy(self.age.policy.clone());
        b = b.actions(Arc::new(store.clone()) as Arc<dyn ActionStore>);
        for settings in &self.platforms {
            for connector in settings.connectors(&http)? {
                b = b.platform(connector);
            }
            for executor in settings.executors(&http)? {
                b = b.executor(executor);
            }
        }
        for p in &self.purposes {
            // Consent purposes are the hub's default: permitted per subject by a recorded
            // consent. Only the other bases are declarations.
            if p.basis != LegalBasis::Consent {
                b = b.declare_basis(p.purpose, p.basis, &p.justification);
            }
        }
        if let Some(n) = &self.notice {
            b = b.notice_version(n.clone());
        }
        if let Some(r) = &self.region {
            b = b.region(r.clone());
        }
        Ok(b)
    }

    /// The host's API keys over `store`, privileged operations logged to its usage log.
    pub fn api_keys(&self, store: &EncryptedStore) -> ApiKeys {
        ApiKeys::new(Arc::new(store.clone()), Arc::new(SystemClock))
            .with_access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
    }
}
