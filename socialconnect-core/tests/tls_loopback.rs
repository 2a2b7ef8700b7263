//! The default transport (`HyperTransport`) over real TLS on loopback: a certificate made in the
//! test for `localhost`, trusted through `HttpClientBuilder::tls_config` (as a host with a
//! private CA does), HTTP/2 or HTTP/1.1 as the server's ALPN offers, and an untrusted
//! certificate refused with a typed error.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use socialconnect_core::ErrorKind;
use socialconnect_core::http::{ApiRequest, HttpClient, RetryPolicy};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use url::Url;

/// A self-signed certificate for `localhost` and its key.
struct TestCert {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TestCert {
    fn localhost() -> Self {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        Self {
            cert: made.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()),
        }
    }

    /// A client TLS configuration that trusts this certificate alone (ring, as the SDK).
    fn client_config(&self) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
    }
}

/// What the server saw on each connection: the ALPN protocol, or the handshake failure.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Request {
        alpn: Option<Vec<u8>>,
        version: http::Version,
    },
    HandshakeFailed,
}

/// An HTTPS server on 127.0.0.1 offering only `alpn` and answering every request with a small
/// JSON body over the protocol it offered.
async fn https_server(cert: &TestCert, alpn: &'static [u8]) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.cert.clone()],
        PrivateKeyDer::Pkcs8(cert.key.clone_key()),
    )
    .unwrap();
    config.alpn_protocols = vec![alpn.to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    log.lock().unwrap().push(Seen::HandshakeFailed);
                    return;
                };
                let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    log.lock().unwrap().push(Seen::Request {
                        alpn: negotiated.clone(),
                        version: req.version(),
                    });
                    async {
                        let resp = hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(br#"{"ok":true}"#)))
                            .unwrap();
                        Ok::<_, Infallible>(resp)
                    }
                });
                let io = TokioIo::new(tls);
                // A connection that ends badly only ends this test's exchange; the
                // assertions are on what the client got and what `log` holds.
                let _ = if alpn == b"h2" {
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                };
            });
        }
    });
    (port, seen)
}

fn url(port: u16) -> Url {
    Url::parse(&format!("https://localhost:{port}/v1/me")).unwrap()
}

fn client(tls: Option<rustls::ClientConfig>) -> HttpClient {
    let builder = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(1), Duration::from_millis(5)),
        );
    match tls {
        Some(tls) => builder.tls_config(tls),
        None => builder,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn https_with_a_trusted_private_root_negotiates_h2_when_offered_alone() {
    let cert = TestCert::localhost();
    let (port, seen) = https_server(&cert, b"h2").await;
    let http = client(Some(cert.client_config()));
    for _ in 0..2 {
        let resp = http.send(ApiRequest::get(url(port))).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(&resp.body()[..], br#"{"ok":true}"#);
    }
    let seen = seen.lock().unwrap().clone();
    let h2 = Seen::Request {
        alpn: Some(b"h2".to_vec()),
        version: http::Version::HTTP_2,
    };
    assert_eq!(seen, vec![h2.clone(), h2]);
}

#[tokio::test]
async fn https_falls_back_to_http1_when_the_server_offers_only_http1() {
    let cert = TestCert::localhost();
    let (port, seen) = https_server(&cert, b"http/1.1").await;
    let resp = client(Some(cert.client_config()))
        .send(ApiRequest::get(url(port)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![Seen::Request {
            alpn: Some(b"http/1.1".to_vec()),
            version: http::Version::HTTP_11,
        }]
    );
}

/// A certificate the client does not trust fails at the handshake, before any request byte is
/// sent. The client classifies that as a connect-stage failure: retried (safe even for a
/// write, since nothing left) and then `Transient`, never `MaybeSent` and never a panic.
/// `Transient` rather than `Config`: the transport cannot tell a host's missing private root
/// from an interception on the network path that goes away, and `Config` is for mistakes the
/// SDK can see without the network. The message names the certificate problem for the
/// operator.
#[tokio::test]
async fn an_untrusted_certificate_is_a_typed_error_before_anything_is_sent() {
    let server_cert = TestCert::localhost();
    let (port, seen) = https_server(&server_cert, b"h2").await;

    // Trusting another root, for a read and for a write.
    let other = TestCert::localhost();
    let http = client(Some(other.client_config()));
    let err = http.send(ApiRequest::get(url(port))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    let err = http
        .send(
            ApiRequest::post(url(port))
                .json(&serde_json::json!({"text": "hi"}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");

    // The default configuration (the platform's roots) does not trust a self-signed one either.
    let err = client(None)
        .send(ApiRequest::get(url(port)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");

    // No request reached the server: every connection died in the handshake (three attempts
    // for each of the three calls). The server may log the last one just after the client
    // gave up, so wait for it a little.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < 9 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen.lock().unwrap().clone(), vec![Seen::HandshakeFailed; 9]);
}
