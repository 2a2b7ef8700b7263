//! The default transport: hyper over rustls with the `ring` provider.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::transport::{
    ResponseBody, Transport, TransportError, TransportFuture, TransportRequest, TransportResponse,
};
use crate::error::{Error, Result};

/// The SDK's own transport: a pooled hyper client speaking HTTP/1.1 and HTTP/2 over rustls
/// with the `ring` provider and the platform's certificate verifier (or a TLS configuration
/// the host gives).
///
/// It never touches process-global state (no `CryptoProvider::install_default`) and enables
/// no TLS feature on any `reqwest` a host links, so a host's own HTTP clients keep working
/// beside it.
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<HttpsConnector<HttpConnector>, OutBody>,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport").finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with the default TLS configuration (ring, platform verifier) and
    /// `connect_timeout` for DNS + TCP connect.
    pub fn new(connect_timeout: Duration) -> Result<Self> {
        Ok(Self::with_tls(default_tls()?, connect_timeout))
    }

    /// A transport with the host's TLS configuration (a private CA, say). It must come from the
    /// same `rustls` 0.23 as this crate; ALPN (`h2`, `http/1.1`) is set here.
    pub fn with_tls(tls: rustls::ClientConfig, connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Self { client }
    }
}

type OutBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// rustls with `ring`, the platform verifier, safe default protocol versions.
pub(crate) fn default_tls() -> Result<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS protocol versions: {e}")))?
        .with_platform_verifier()
        .map_err(|e| Error::config(format!("TLS certificate verifier: {e}")))?
        .with_no_client_auth();
    Ok(config)
}

impl Transport for HyperTransport {
    fn send(&self, request: TransportRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let uri = request.uri().to_string();
            let request = request.map(|body| -> OutBody {
                match body.into_parts() {
                    Ok(bytes) => Full::new(bytes)
                        .map_err(|never| match never {})
                        .boxed_unsync(),
                    Err(stream) => {
                        StreamBody::new(stream.map_ok(hyper::body::Frame::data)).boxed_unsync()
                    }
                }
            });
            let resp = self.client.request(request).await.map_err(|e| {
                let text = error_text(&e, &uri);
                if e.is_connect() {
                    TransportError::before_send(format!("could not connect: {text}"))
                } else {
                    TransportError::after_send(text)
                }
            })?;
            let (parts, incoming) = resp.into_parts();
            let chunks = futures_util::stream::unfold(Some(incoming), move |state| {
                let uri = uri.clone();
                async move {
                    let mut body = state?;
                    loop {
                        match body.frame().await {
                            None => return None,
                            Some(Ok(frame)) => {
                                if let Ok(data) = frame.into_data() {
                                    return Some((Ok(data), Some(body)));
                                }
                                // Trailers carry nothing the SDK reads.
                            }
                            Some(Err(e)) => {
                                let err = TransportError::after_send(format!(
                                    "reading the body: {}",
                                    error_text(&e, &uri)
                                ));
                                return Some((Err(err), None));
                            }
                        }
                    }
                }
            });
            Ok(TransportResponse {
                status: parts.status,
                headers: parts.headers,
                body: ResponseBody::stream(chunks),
            })
        })
    }
}

/// The error and its sources as one line, without the URL (a query may hold a token).
fn error_text(e: &(dyn std::error::Error + 'static), uri: &str) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    crate::error::bounded(text.replace(uri, "<url>"), 512)
}
