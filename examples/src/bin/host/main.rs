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

mod sandbox;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use socialconnect_axum::{
    ApiLimits, CsrfKey, DataSubjectApi, HostRoutes, PrivacyInfo, ServeOptions, Tls,
};
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::apikey::{ApiKeyStore, ApiKeys};
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentLedger, LegalBasis, NoticeVersion};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::keys::KeyProvider;
use socialconnect_core::platform_deletion::DeletionRequestStore;
use socialconnect_core::profile::ProfileStore;
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::{Error, Result, SocialConnect};
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
    /// A PostgreSQL URL to use instead of the SQLite store.
    #[arg(long)]
    database_url: Option<String>,
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

async fn run(args: Args) -> Result<()> {
    let store = open_store(&args).await?;
    let sandbox = sandbox::Sandbox::start().await;
    let http = HttpClient::builder()
        .rate_limits(PlatformId::TIKTOK, socialconnect_tiktok::rate_limits())
        .build()?;
    let mut builder = SocialConnect::builder();
    for platform in sandbox.platforms(&http)? {
        builder = builder.platform(platform);
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
    let base = match &args.public_url {
        Some(url) => url.clone(),
        None => {
            let scheme = if https { "https" } else { "http" };
            let host = if addr.ip().is_loopback() {
                "localhost".to_owned()
            } else {
                addr.ip().to_string()
            };
            Url::parse(&format!("{scheme}://{host}:{}/", addr.port()))
                .map_err(|_| Error::config("cannot form the public URL"))?
        }
    };

    let api_keys = Arc::new(
        ApiKeys::new(
            Arc::new(store.clone()) as Arc<dyn ApiKeyStore>,
            Arc::new(SystemClock),
        )
        .with_access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>),
    );
    let demo_key = api_keys
        .issue(
            ["export", "rectify", "erase", "consent", "read"],
            Some(chrono::TimeDelta::hours(12)),
            "host-startup",
        )
        .await?;
    let users = users::DemoUsers::new(https);
    let routes = HostRoutes::new(
        hub.clone(),
        base.clone(),
        Arc::new(users.clone()),
        CsrfKey::random(),
        PrivacyInfo::new(
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
    )
    .platforms([
        PlatformId::FACEBOOK,
        PlatformId::INSTAGRAM,
        PlatformId::TIKTOK,
        PlatformId::LINKEDIN,
        PlatformId::PINTEREST,
    ])
    .purposes([
        Purpose::Publishing,
        Purpose::Analytics,
        Purpose::FraudDetection,
    ])
    .data_subject_api(DataSubjectApi::new(api_keys, ApiLimits::default()));
    let routes = sandbox.mount(routes, &hub, HostRoutes::deletion_status_url(&base))?;
    let (routes, mut events) = routes.webhook_events(1024);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            tracing::info!(?event, "webhook event");
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
    println!("listening on {base}");
    println!(
        "demo API key (shown once, 12 h): {}",
        demo_key.key.expose_secret()
    );
    println!(
        "simulated platforms: Meta {}, TikTok {}, LinkedIn {}, Pinterest {}",
        sandbox.meta.base_url(),
        sandbox.tiktok.base_url(),
        sandbox.linkedin.base_url(),
        sandbox.pinterest.base_url()
    );
    server
        .wait()
        .await
        .map_err(|e| Error::config(format!("server failed: {e}")))?;
    store.close().await;
    Ok(())
}
