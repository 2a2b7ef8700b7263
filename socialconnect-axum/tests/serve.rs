//! Serving: the self-signed demo certificate (generated once, key private, reused), HTTPS
//! with the security headers (checked with a raw rustls client: the workspace's reqwest has
//! no TLS on purpose), plain HTTP only on loopback, unusable PEM files refused clearly, and a
//! graceful shutdown that finishes in-flight requests, refuses new connections, and is
//! bounded by the grace period.

mod common;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use socialconnect_axum::{ServeOptions, Server, Tls, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio_rustls::TlsConnector;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn hello() -> Router {
    Router::new().route("/hello", get(|| async { "hello" }))
}

async fn start(router: Router, tls: Tls) -> io::Result<Server> {
    serve(
        router,
        ServeOptions::new(loopback(), tls).with_grace(Duration::from_secs(10)),
        std::future::pending(),
    )
    .await
}

/// A TLS client trusting only the certificate in `cert` (the ring provider).
fn client_trusting(cert: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(der.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Reads an HTTP/1.1 answer to its end (the request asked `Connection: close`), tolerating a
/// peer that closes without TLS `close_notify` once something was read.
async fn read_answer(stream: &mut (impl AsyncReadExt + Unpin)) -> io::Result<String> {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => return Err(e),
    }
    String::from_utf8(answer).map_err(io::Error::other)
}

/// `GET path` over HTTPS to `addr` as `localhost`; the whole answer, head and body.
async fn https_get(connector: &TlsConnector, addr: SocketAddr, path: &str) -> io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    read_answer(&mut tls).await
}

/// The value of header `name` in a raw HTTP answer (names compared ignoring case).
fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_self_signed_certificate_is_generated_once_with_a_private_key_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("tls");
    let server = start(hello(), Tls::SelfSigned { dir: demo.clone() })
        .await
        .unwrap();
    assert!(server.is_https());
    let cert = std::fs::read(demo.join("cert.pem")).unwrap();
    let key = std::fs::read(demo.join("key.pem")).unwrap();
    assert!(String::from_utf8_lossy(&cert).contains("BEGIN CERTIFICATE"));
    assert!(String::from_utf8_lossy(&key).contains("PRIVATE KEY"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(demo.join("key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    server.shutdown().await.unwrap();

    let again = start(hello(), Tls::SelfSigned { dir: demo.clone() })
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(demo.join("cert.pem")).unwrap(),
        cert,
        "reused"
    );
    assert_eq!(std::fs::read(demo.join("key.pem")).unwrap(), key, "reused");
    // And it is the certificate the restarted server presents.
    let answer = https_get(
        &client_trusting(&demo.join("cert.pem")),
        again.local_addr(),
        "/hello",
    )
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    again.shutdown().await.unwrap();
}

#[cfg(unix)]
#[test]
fn a_regenerated_key_is_private_even_over_a_leftover_readable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // A key left behind world-readable, its certificate gone: both are generated again.
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "old").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    socialconnect_axum::self_signed(dir.path()).unwrap();
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_answers_carry_hsts_nosniff_and_deny_framing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        hello(),
        Tls::SelfSigned {
            dir: dir.path().to_owned(),
        },
    )
    .await
    .unwrap();
    let connector = client_trusting(&dir.path().join("cert.pem"));
    for path in ["/hello", "/no-such-route"] {
        let answer = https_get(&connector, server.local_addr(), path)
            .await
            .unwrap();
        let hsts = header(&answer, "strict-transport-security").expect("HSTS");
        assert!(hsts.starts_with("max-age="), "{hsts}");
        let max_age: u64 = hsts["max-age=".len()..]
            .split(';')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(max_age >= 31_536_000, "at least a year: {hsts}");
        assert_eq!(header(&answer, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&answer, "x-frame-options"), Some("DENY"));
    }
    let answer = https_get(&connector, server.local_addr(), "/hello")
        .await
        .unwrap();
    assert!(answer.ends_with("hello"), "{answer}");

    // A client that does not trust the certificate gets no answer at all.
    let other = tempfile::tempdir().unwrap();
    socialconnect_axum::self_signed(other.path()).unwrap();
    let stranger = client_trusting(&other.path().join("cert.pem"));
    assert!(
        https_get(&stranger, server.local_addr(), "/hello")
            .await
            .is_err()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_on_loopback_has_the_headers_but_no_hsts() {
    let host = common::Host::start().await;
    let answer = host.api().get(host.url("/privacy")).send().await.unwrap();
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(answer.headers()["x-frame-options"], "DENY");
    assert!(!answer.headers().contains_key("strict-transport-security"));
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_is_refused_off_loopback() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let refused = serve(
            hello(),
            ServeOptions::new(addr.parse().unwrap(), Tls::PlainLoopback),
            std::future::pending(),
        )
        .await
        .expect_err(addr);
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput, "{addr}");
        assert!(refused.to_string().contains("loopback"), "{refused}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_pem_files_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM\n").unwrap();
    let (cert, key) = socialconnect_axum::self_signed(&dir.path().join("good")).unwrap();
    let (other_cert, _) = socialconnect_axum::self_signed(&dir.path().join("other")).unwrap();
    for (cert, key, says) in [
        (&garbage, &key, "certificate"),
        (&cert, &garbage, "private key"),
        (&other_cert, &key, "do not form a usable pair"),
    ] {
        let refused = start(
            hello(),
            Tls::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
        )
        .await
        .expect_err(says);
        assert_eq!(refused.kind(), io::ErrorKind::InvalidData, "{refused}");
        assert!(refused.to_string().contains(says), "{refused}");
        // The message names neither the key's bytes nor anything of the PEM.
        assert!(!refused.to_string().contains("BEGIN"), "{refused}");
    }
    // A file that is not there is said to be missing, with its path, not to be bad PEM.
    let absent = dir.path().join("absent.pem");
    for (cert, key) in [(&absent, &key), (&cert, &absent)] {
        let refused = start(
            hello(),
            Tls::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
        )
        .await
        .expect_err("a missing file");
        assert_eq!(refused.kind(), io::ErrorKind::NotFound, "{refused}");
        assert!(refused.to_string().contains("absent.pem"), "{refused}");
    }
}

/// A router whose `/slow` signals `entered` when a request arrives, then waits for `release`
/// before answering.
fn slow_router(entered: Arc<Notify>, release: Arc<Mutex<Option<oneshot::Receiver<()>>>>) -> Router {
    hello().route(
        "/slow",
        get(move || {
            let entered = entered.clone();
            let release = release.lock().unwrap().take();
            async move {
                entered.notify_one();
                if let Some(release) = release {
                    let _ = release.await;
                }
                "finished"
            }
        }),
    )
}

/// Waits until connecting to `addr` is refused (the listener is closed), for at most 10 s.
async fn until_refused(addr: SocketAddr) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match TcpStream::connect(addr).await {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return,
                _ => tokio::task::yield_now().await,
            }
        }
    })
    .await
    .expect("the listener closes at shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_finishes_an_in_flight_request_and_refuses_new_connections() {
    let entered = Arc::new(Notify::new());
    let (release_tx, release_rx) = oneshot::channel();
    let router = slow_router(entered.clone(), Arc::new(Mutex::new(Some(release_rx))));
    let server = start(router, Tls::PlainLoopback).await.unwrap();
    let addr = server.local_addr();
    let in_flight = tokio::spawn(async move {
        let answer = reqwest::get(format!("http://{addr}/slow")).await?;
        let status = answer.status();
        Ok::<_, reqwest::Error>((status, answer.text().await?))
    });
    entered.notified().await;

    let stopping = tokio::spawn(server.shutdown());
    until_refused(addr).await;
    assert!(
        !stopping.is_finished(),
        "still waiting for the in-flight request"
    );

    release_tx.send(()).unwrap();
    let (status, body) = in_flight.await.unwrap().unwrap();
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body, "finished");
    stopping.await.unwrap().unwrap();
    assert_eq!(
        TcpStream::connect(addr).await.unwrap_err().kind(),
        io::ErrorKind::ConnectionRefused
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_shutdown_finishes_an_in_flight_request_and_refuses_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let entered = Arc::new(Notify::new());
    let (release_tx, release_rx) = oneshot::channel();
    let router = slow_router(entered.clone(), Arc::new(Mutex::new(Some(release_rx))));
    let server = start(
        router,
        Tls::SelfSigned {
            dir: dir.path().to_owned(),
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let connector = client_trusting(&dir.path().join("cert.pem"));
    let in_flight = tokio::spawn({
        let connector = connector.clone();
        async move { https_get(&connector, addr, "/slow").await }
    });
    entered.notified().await;

    let stopping = tokio::spawn(server.shutdown());
    until_refused(addr).await;
    assert!(
        !stopping.is_finished(),
        "still waiting for the in-flight request"
    );

    release_tx.send(()).unwrap();
    let answer = in_flight.await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("finished"), "{answer}");
    stopping.await.unwrap().unwrap();
}

/// Starts `tls` with a 200 ms grace, holds a request that never finishes, shuts down, and
/// returns whether the request came back within 30 s (a safety net for a hang, not a timing
/// assertion) and how.
async fn shutdown_with_a_hung_request(tls: Tls, cert: Option<&Path>) -> io::Result<String> {
    let entered = Arc::new(Notify::new());
    // Never released: the request would hang for ever.
    let (_release_tx, release_rx) = oneshot::channel::<()>();
    let router = slow_router(entered.clone(), Arc::new(Mutex::new(Some(release_rx))));
    let server = serve(
        router,
        ServeOptions::new(loopback(), tls).with_grace(Duration::from_millis(200)),
        std::future::pending(),
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let connector = cert.map(client_trusting);
    let in_flight = tokio::spawn(async move {
        match connector {
            Some(connector) => https_get(&connector, addr, "/slow").await,
            None => {
                let mut tcp = TcpStream::connect(addr).await?;
                tcp.write_all(
                    b"GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                )
                .await?;
                read_answer(&mut tcp).await
            }
        }
    });
    entered.notified().await;
    tokio::time::timeout(Duration::from_secs(30), server.shutdown())
        .await
        .expect("shutdown ends once the grace is over")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), in_flight)
        .await
        .expect("the request is cut when the grace is over, not left running")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grace_period_bounds_a_request_that_never_finishes() {
    let cut = shutdown_with_a_hung_request(Tls::PlainLoopback, None).await;
    assert!(
        cut.as_ref().is_err() || cut.as_ref().is_ok_and(|a| !a.contains("finished")),
        "{cut:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grace_period_bounds_a_request_that_never_finishes_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = socialconnect_axum::self_signed(dir.path()).unwrap();
    let cut = shutdown_with_a_hung_request(
        Tls::SelfSigned {
            dir: dir.path().to_owned(),
        },
        Some(&cert),
    )
    .await;
    assert!(
        cut.as_ref().is_err() || cut.as_ref().is_ok_and(|a| !a.contains("finished")),
        "{cut:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shutdown_future_stops_the_server_too() {
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = serve(
        hello(),
        ServeOptions::new(loopback(), Tls::PlainLoopback),
        async move {
            let _ = stop_rx.await;
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let answer = reqwest::get(format!("http://{addr}/hello")).await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "hello");
    stop_tx.send(()).unwrap();
    server.wait().await.unwrap();
    assert_eq!(
        TcpStream::connect(addr).await.unwrap_err().kind(),
        io::ErrorKind::ConnectionRefused
    );
}
