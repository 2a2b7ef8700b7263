//! The host service: the SocialConnect routes (`socialconnect-axum`) plus configuration, over
//! HTTPS, against the platforms simulated on loopback.
//!
//! ```sh
//! cargo run -p examples --bin host                      # https://localhost:8443/, self-signed
//! cargo run -p examples --bin host -- --tls-cert cert.pem --tls-key key.pem
//! cargo run -p examples --bin host -- --database-url postgres://user@host/db
//! cargo run -p examples --bin host -- --addr 127.0.0.1:0 --insecure-http-loopback   # tests
//! ```
//!
//! Open the printed URL, sign in with any name, connect a platform (the simulator plays the
//! platform's consent screen), then withdraw, export or delete on the privacy page. The
//! printed demo API key calls the data-subject API under `/api/v1`. Set
//! `SOCIALCONNECT_KEYRING` (`*k1:<base64 of 32 random bytes>`) to use a real key instead of
//! the public demo key. The first line on stdout is `listening on <url>`.
//!
//! With `--config deployment.toml` (the file the `socialconnect` CLI reads; see
//! `socialconnect_cli::deployment`) the host talks to the real platforms the file enables,
//! with its store, keys, purposes, notice and region, at its `redirect_base`. The demo
//! sign-in still stands in for the host's own accounts: a real host passes its own
//! `EndUsers` to `HostRoutes`.
//!
//! On PostgreSQL (`--database-url`, or a deployment whose store is PostgreSQL) the platforms'
//! rate limits are counted in the store (`HttpClientBuilder::shared_budgets`), so every
//! instance on the database stays under them together.

mod deployed;
mod sandbox;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use socialconnect_axum::webhooks::WebhookReceiver;
use socialconnect_axum::{
    ApiLimits, CsrfKey, DataSubjectApi, HostRoutes, PrivacyInfo, ServeOptions, Tls,
};
use socialconnect_cli::Deployment;
use socialconnect_cli::deployment::StoreLocation;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::apikey::{ApiKeyStore, ApiKeys};
use socialconnect_core::automation::ActionStore;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentLedger, LegalBasis, NoticeVersion};
use socialconnect_core::http::{HttpClient, RateBudgets};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::keys::KeyProvider;
use socialconnect_core::platform_deletion::DeletionRequestStore;
use socialconnect_core::profile::ProfileStore;
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::webhook::DeliveryLog;
use socialconnect_core::{
    ActionEvent, Error, Result, RunnerOptions, SocialConnect, SweepEvent, SweepOptions,
};
use socialconnect_meta::privacy::MetaPrivacy;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_store::{EncryptedStore, StoreOptions};
use url::Url;

/// Where this deployment stores data.
const REGION: &str = "eu-central-1";

/// The SocialConnect demo host service.
#[derive(Parser, Debug)]
#[command(name = "host", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    addr: SocketAddr,
    /// The public URL the service is reached at (default: derived from --addr).
    #[arg(long)]
    public_url: Option<Url>,
    /// PEM certificate chain (with --tls-key); default: a self-signed demo certificate.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP (only allowed on a loopback address): for tests and local proxies.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    insecure_http_loopback: bool,
    /// Where the SQLite store and the demo certificate live.
    #[arg(long, default_value = "socialconnect-host-data")]
    data_dir: PathBuf,
    /// A PostgreSQL URL to use instead of the SQLite store (sandbox mode).
    #[arg(long, conflicts_with = "config")]
    database_url: Option<String>,
    /// A deployment file (the one the `socialconnect` CLI reads): real platforms, the
    /// deployment's store and keys, instead of the sandbox.
    #[arg(long, env = "SOCIALCONNECT_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("host: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A webhook event's platform, for the log (never its content).
fn event_kind(event: &socialconnect_axum::webhooks::WebhookEvent) -> &'static str {
    use socialconnect_axum::webhooks::WebhookEvent;
    match event {
        WebhookEvent::Meta(_) => "meta",
        WebhookEvent::TikTok(_) => "tiktok",
        WebhookEvent::LinkedIn(_) => "linkedin",
        _ => "other",
    }
}

/// Prints a line for the operator. A closed stdout (the reader went away) does not stop the
/// service: the line is dropped.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The webhook receivers and Meta's privacy callbacks a mode provides.
pub(crate) struct Receivers {
    pub(crate) webhooks: Vec<Arc<dyn WebhookReceiver>>,
    pub(crate) meta: Option<MetaPrivacy>,
}

/// Everything the routes need, from the sandbox or from a deployment file.
struct Setup {
    hub: SocialConnect,
    store: EncryptedStore,
    api_keys: ApiKeys,
    base: Url,
    platforms: Vec<PlatformId>,
    purposes: Vec<Purpose>,
    info: PrivacyInfo,
    receivers: Receivers,
    /// The simulators, kept running while the service runs.
    sandbox: Option<sandbox::Sandbox>,
}

/// Webhook dedupe in the store, shared by every instance on the same database.
fn deliveries(store: &EncryptedStore) -> Arc<dyn DeliveryLog> {
    Arc::new(store.delivery_log(socialconnect_store::DEFAULT_DELIVERY_WINDOW))
}

/// The client every platform calls through. On PostgreSQL, where several instances may run
/// on one database, the rate limits are counted in the store for all of them together.
fn http_client(store: &EncryptedStore, on_postgres: bool) -> Result<HttpClient> {
    let builder = HttpClient::builder()
        .rate_limits(PlatformId::TIKTOK, socialconnect_tiktok::rate_limits())
        .rate_limits(
            PlatformId::PINTEREST,
            socialconnect_pinterest::rate_limits(socialconnect_pinterest::AccessTier::Standard),
        );
    let builder = if on_postgres {
        builder.shared_budgets(Arc::new(store.clone()) as Arc<dyn RateBudgets>)
    } else {
        builder
    };
    builder.build()
}

async fn open_store(args: &Args) -> Result<EncryptedStore> {
    let keys: Arc<dyn KeyProvider> = if std::env::var_os("SOCIALCONNECT_KEYRING").is_some() {
        Arc::new(LocalKeyring::from_env()?)
    } else {
        tracing::warn!("no SOCIALCONNECT_KEYRING: using the public demo key (protects nothing)");
        Arc::new(LocalKeyring::demo())
    };
    // Every record carries the region it was written in (transfer transparency).
    let options = StoreOptions::default().with_region(REGION);
    match &args.database_url {
        Some(url) => EncryptedStore::open_postgres_with(url, keys, options).await,
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .map_err(|e| Error::storage("creating the data directory", e))?;
            EncryptedStore::open_sqlite_with(args.data_dir.join("socialconnect.db"), keys, options)
                .await
        }
    }
}

async fn sandbox_setup(args: &Args, base: Url) -> Result<Setup> {
    let store = open_store(args).await?;
    let sandbox = sandbox::Sandbox::start().await;
    let http = http_client(&store, args.database_url.is_some())?;
    let mut builder = SocialConnect::builder();
    for platform in sandbox.platforms(&http)? {
        builder = builder.platform(platform);
    }
    for executor in sandbox.executors(&http)? {
        builder = builder.executor(executor);
    }
    let hub = builder
        .http(http)
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .deletion_requests(Arc::new(store.clone()) as Arc<dyn DeletionRequestStore>)
        .profiles(Arc::new(store.clone()) as Arc<dyn ProfileStore>)
        .receipts(Arc::new(store.clone()) as Arc<dyn ReceiptStore>)
        .actions(Arc::new(store.clone()) as Arc<dyn ActionStore>)
        .declare_basis(
            Purpose::FraudDetection,
            LegalBasis::LegitimateInterest,
            "detecting abuse of connected accounts (balancing test on file)",
        )
        .notice_version(NoticeVersion::new(
            "2026-11",
            "sha256:demo-notice-2026-11",
            true,
            chrono::DateTime::UNIX_EPOCH,
        ))
        .region(REGION)
        .build()?;
    let api_keys = ApiKeys::new(
        Arc::new(store.clone()) as Arc<dyn ApiKeyStore>,
        Arc::new(SystemClock),
    )
    .with_access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>);
    let receivers = sandbox.receivers(
        &hub,
        HostRoutes::deletion_status_url(&base),
        deliveries(&store),
    )?;
    Ok(Setup {
        hub,
        store,
        api_keys,
        base,
        platforms: vec![
            PlatformId::FACEBOOK,
            PlatformId::INSTAGRAM,
            PlatformId::TIKTOK,
            PlatformId::LINKEDIN,
            PlatformId::PINTEREST,
        ],
        purposes: vec![
            Purpose::Publishing,
            Purpose::Analytics,
            Purpose::FraudDetection,
        ],
        info: PrivacyInfo::new(
            "SocialConnect Demo",
            "privacy@socialconnect.invalid",
            "your national data protection authority (EDPB list of members)",
            "https://www.edpb.europa.eu/about-edpb/about-edpb/members_en",
        )
        .with_default_country("DE")
        .with_storage(
            "Stored in the EU (eu-central-1). What you ask us to do on a platform is sent to \
             that platform (Meta, TikTok, LinkedIn, Pinterest), which holds it under its own \
             privacy policy.",
        ),
        receivers,
        sandbox: Some(sandbox),
    })
}

async fn deployed_setup(path: &std::path::Path, base: Option<Url>) -> Result<Setup> {
    let deployment = Deployment::from_file(path)?;
    let base = base
        .or_else(|| deployment.redirect_base().cloned())
        .ok_or_else(|| {
            Error::config("the deployment names no redirect_base and --public-url is not given")
        })?;
    let store = deployment.open_store().await?;
    let on_postgres = !matches!(deployment.store_location(), StoreLocation::Sqlite(_));
    let http = http_client(&store, on_postgres)?;
    let hub = deployment.hub_builder(http, &store)?.build()?;
    let api_keys = deployment.api_keys(&store);
    let receivers = deployed::receivers(
        &deployment,
        &hub,
        HostRoutes::deletion_status_url(&base),
        deliveries(&store),
    )?;
    Ok(Setup {
        hub,
        store,
        api_keys,
        base,
        platforms: deployed::platforms(&deployment),
        purposes: deployment.purposes().iter().map(|p| p.purpose).collect(),
        info: deployed::privacy_info(&deployment),
        receivers,
        sandbox: None,
    })
}

async fn run(args: Args) -> Result<()> {
    let https = !args.insecure_http_loopback;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Tls::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ if https => Tls::SelfSigned {
            dir: args.data_dir.join("tls"),
        },
        _ => Tls::PlainLoopback,
    };
    // Bind first (port 0 picks one), so the public URL can name the real port.
    let listener = std::net::TcpListener::bind(args.addr)
        .map_err(|e| Error::config(format!("cannot listen on {}: {e}", args.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::config(format!("no local address: {e}")))?;
    drop(listener);
    let derived = {
        let scheme = if https { "https" } else { "http" };
        let host = if addr.ip().is_loopback() {
            "localhost".to_owned()
        } else {
            addr.ip().to_string()
        };
        Url::parse(&format!("{scheme}://{host}:{}/", addr.port()))
            .map_err(|_| Error::config("cannot form the public URL"))?
    };
    let setup = match &args.config {
        Some(path) => deployed_setup(path, args.public_url.clone()).await?,
        None => sandbox_setup(&args, args.public_url.clone().unwrap_or(derived)).await?,
    };
    let base = setup.base.clone();
    let api_keys = Arc::new(setup.api_keys);
    // The sandbox prints a key to try the data-subject API with; a deployment's operators
    // issue theirs with `socialconnect api-keys create`.
    let demo_key = if setup.sandbox.is_some() {
        Some(
            api_keys
                .issue(
                    ["export", "rectify", "erase", "consent", "read"],
                    Some(chrono::TimeDelta::hours(12)),
                    "host-startup",
                )
                .await?,
        )
    } else {
        None
    };
    // Cookies are Secure whenever the public URL is HTTPS, also behind a TLS-ending proxy.
    let users = users::DemoUsers::new(base.scheme() == "https");
    let mut routes = HostRoutes::new(
        setup.hub.clone(),
        base.clone(),
        Arc::new(users.clone()),
        CsrfKey::random(),
        setup.info,
    )
    .platforms(setup.platforms)
    .purposes(setup.purposes)
    .data_subject_api(DataSubjectApi::new(api_keys, ApiLimits::default()))
    .delivery_log(deliveries(&setup.store));
    for receiver in setup.receivers.webhooks {
        routes = routes.webhook(receiver);
    }
    if let Some(meta) = setup.receivers.meta {
        routes = routes.meta_privacy(meta);
    }
    let (routes, mut events) = routes.webhook_events(1024);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            // The kind only: events can carry message or comment text.
            tracing::info!(kind = event_kind(&event), "webhook event");
        }
    });
    // One refresh sweep per instance: tokens are refreshed before they expire, instances on
    // one database share the work. A real host tells the end user about the reconnect events.
    let sweep = setup.hub.refresh_sweep(SweepOptions::default());
    let mut sweep_events = sweep.subscribe();
    let sweeping = sweep.start();
    tokio::spawn(async move {
        while let Ok(event) = sweep_events.recv().await {
            match event {
                SweepEvent::ReconnectRequired { key } => tracing::warn!(
                    platform = %key.platform, connection = %key.connection,
                    "connection needs the end user to reconnect"
                ),
                SweepEvent::ReconnectSoon { key, grant_ends } => tracing::info!(
                    platform = %key.platform, connection = %key.connection, %grant_ends,
                    "connection's grant ends soon; ask the end user to reconnect"
                ),
                _ => {}
            }
        }
    });
    // One action runner per instance: scheduled posts and snapshots run when due, instances
    // on one database share them. A real host tells the end user what happened.
    let runner = setup.hub.action_runner(RunnerOptions::default())?;
    let mut action_events = runner.subscribe();
    let running = runner.start();
    tokio::spawn(async move {
        while let Ok(event) = action_events.recv().await {
            log_action_event(&event);
        }
    });
    let app = users.routes().merge(routes.router());
    let server = socialconnect_axum::serve(
        app,
        ServeOptions::new(addr, tls),
        socialconnect_axum::shutdown_signal(),
    )
    .await
    .map_err(|e| Error::config(format!("cannot serve: {e}")))?;
    say(format_args!("listening on {base}"));
    if let Some(key) = &demo_key {
        say(format_args!(
            "demo API key (shown once, 12 h): {}",
            key.key.expose_secret()
        ));
    }
    if let Some(sandbox) = &setup.sandbox {
        say(format_args!(
            "simulated platforms: Meta {}, TikTok {}, LinkedIn {}, Pinterest {}",
            sandbox.meta.base_url(),
            sandbox.tiktok.base_url(),
            sandbox.linkedin.base_url(),
            sandbox.pinterest.base_url()
        ));
    }
    server
        .wait()
        .await
        .map_err(|e| Error::config(format!("server failed: {e}")))?;
    // The pass under way finishes; then the last requests' usage-log entries, still queued,
    // are written before the store closes.
    sweeping.shutdown().await;
    running.shutdown().await;
    setup.hub.flush_usage_log().await;
    setup.store.close().await;
    Ok(())
}

/// Logs what a scheduled action did: ids, kinds and platforms, never payloads or results
/// (they can hold the end user's text).
fn log_action_event(event: &ActionEvent) {
    match event {
        ActionEvent::Completed { id, key, next, .. } => {
            tracing::info!(action = %id, platform = %key.platform, next = ?next, "scheduled action done");
        }
        ActionEvent::Paused { id, key } => tracing::warn!(
            action = %id, platform = %key.platform,
            "scheduled action paused: the end user must reconnect"
        ),
        ActionEvent::NeedsPerson { id, key, .. } => tracing::warn!(
            action = %id, platform = %key.platform,
            "scheduled action needs a person: its last attempt's outcome is unknown"
        ),
        ActionEvent::Cancelled { id, reason, .. } => {
            tracing::info!(action = %id, reason = reason.as_str(), "scheduled action cancelled");
        }
        ActionEvent::Failed { id, kind, .. } => {
            tracing::warn!(action = %id, error.kind = kind.as_str(), "scheduled action failed");
        }
        ActionEvent::Retrying {
            id, kind, retry_at, ..
        } => tracing::info!(
            action = %id, error.kind = kind.as_str(), %retry_at, "scheduled action retrying"
        ),
        ActionEvent::Reconciling {
            id, reconcile_at, ..
        } => tracing::info!(
            action = %id, %reconcile_at, "scheduled action's outcome unknown: reconciling"
        ),
        _ => {}
    }
}
