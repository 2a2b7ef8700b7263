//! Serving the router: HTTPS by default (rustls, with a self-signed certificate generated on
//! first start for demos, or the host's own), HSTS and the other security headers, request
//! spans, timeouts (30 s to send a request's headers, 60 s for a handler to answer; streamed
//! bodies such as the export may run longer), and a graceful shutdown that lets in-flight
//! requests finish.
//!
//! Plain HTTP is allowed only on a loopback address and only when asked for
//! ([`Tls::PlainLoopback`]): for tests and for a TLS-terminating proxy on the same machine.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Request, header};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// How connections are secured.
#[derive(Debug, Clone)]
pub enum Tls {
    /// A self-signed certificate for `localhost` and `127.0.0.1`, generated into `dir`
    /// (`cert.pem`, `key.pem`, the key readable by the owner only) on first start and reused
    /// after. For demos: browsers warn about it.
    SelfSigned {
        /// Where the certificate and key are kept.
        dir: PathBuf,
    },
    /// A certificate chain and private key in PEM files.
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
    /// No TLS: refused unless the address is loopback.
    PlainLoopback,
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    addr: SocketAddr,
    tls: Tls,
    grace: Duration,
}

impl ServeOptions {
    /// Serve on `addr` with `tls`; in-flight requests get 10 seconds at shutdown.
    pub fn new(addr: SocketAddr, tls: Tls) -> Self {
        Self {
            addr,
            tls,
            grace: Duration::from_secs(10),
        }
    }

    /// How long in-flight requests may take to finish at shutdown.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

/// Adds the security headers (HSTS on HTTPS, `nosniff`, `DENY` framing) and a `tracing` span
/// per request that records the method and the path only: never the query, which carries
/// OAuth codes and states, nor any header.
pub fn secure(router: Router, https: bool) -> Router {
    let router = router
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            RESPONSE_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            }),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ));
    if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ))
    } else {
        router
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    https: bool,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Server {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it serves HTTPS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Stops accepting connections, lets in-flight requests finish within the grace period,
    /// and waits for the server to end.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits for the server to end (after [`Server::shutdown`] or a failure).
    pub async fn wait(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}

/// Binds and starts serving `router` (already [`secure`]d by this function) in the
/// background. The server stops when `shutdown` completes or [`Server::shutdown`] is called.
pub async fn serve(
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<Server> {
    let https = !matches!(options.tls, Tls::PlainLoopback);
    if !https && !options.addr.ip().is_loopback() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "plain HTTP is only served on a loopback address",
        ));
    }
    let router = secure(router, https);
    let listener = std::net::TcpListener::bind(options.addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let grace = options.grace;
    let stopped = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = stop_rx => {}
        }
    };
    let make = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = match options.tls {
        // Through axum-server like HTTPS: its handle cuts the connections still open when the
        // grace is over (aborting `axum::serve` would leave its per-connection tasks running,
        // handlers and all, after `shutdown` returned).
        Tls::PlainLoopback => spawn_plain(listener, make, stopped, grace)?,
        Tls::SelfSigned { dir } => {
            let (cert, key) = self_signed(&dir)?;
            spawn_tls(listener, &cert, &key, make, stopped, grace)?
        }
        Tls::Files { cert, key } => spawn_tls(listener, &cert, &key, make, stopped, grace)?,
    };
    tracing::info!(%addr, https, "serving");
    Ok(Server {
        addr,
        https,
        stop: Some(stop_tx),
        task,
    })
}

/// How long a client may take to send a request's headers (slow clients are cut off).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a handler may take to produce its response (streamed bodies may run longer).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// hyper enforces its header-read timeout only when given a timer.
fn with_timeouts(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
}

fn spawn_plain(
    listener: std::net::TcpListener,
    make: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    stopped: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<JoinHandle<io::Result<()>>> {
    let handle = axum_server::Handle::new();
    let mut server = axum_server::from_tcp(listener)?.handle(handle.clone());
    with_timeouts(server.http_builder());
    tokio::spawn(async move {
        stopped.await;
        handle.graceful_shutdown(Some(grace));
    });
    Ok(tokio::spawn(async move { server.serve(make).await }))
}

fn spawn_tls(
    listener: std::net::TcpListener,
    cert: &Path,
    key: &Path,
    make: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    stopped: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<JoinHandle<io::Result<()>>> {
    let config = rustls_config(cert, key)?;
    let handle = axum_server::Handle::new();
    let mut server = axum_server::from_tcp_rustls(listener, config)?.handle(handle.clone());
    with_timeouts(server.http_builder());
    tokio::spawn(async move {
        stopped.await;
        handle.graceful_shutdown(Some(grace));
    });
    Ok(tokio::spawn(async move { server.serve(make).await }))
}

fn rustls_config(cert: &Path, key: &Path) -> io::Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    // A file that cannot be opened keeps its own error (not found, permission denied) and
    // names its path, rather than passing for a file of bad PEM.
    let unreadable = |path: &Path, e: pem::Error, what: &str| match e {
        pem::Error::Io(e) => io::Error::new(e.kind(), format!("{}: {e}", path.display())),
        _ => bad(what),
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| unreadable(cert, e, "the certificate file cannot be read as PEM"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("the certificate file holds a malformed certificate"))?;
    if certs.is_empty() {
        return Err(bad("the certificate file holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| unreadable(key, e, "the key file holds no readable private key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| bad("no TLS protocol version available"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|_| bad("the certificate and key do not form a usable pair"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

/// The demo certificate in `dir`, generated when absent.
pub fn self_signed(dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir)?;
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(io::Error::other)?;
    write_private(&key, generated.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, generated.cert.pem())?;
    tracing::warn!(path = %cert.display(), "generated a self-signed demo certificate");
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // `mode` applies only when the file is created: a key file left behind (its certificate
    // gone) keeps its old permissions unless they are set here, before the key is written.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)
}

/// Completes on Ctrl-C or SIGTERM: the usual shutdown signal for [`serve`].
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
