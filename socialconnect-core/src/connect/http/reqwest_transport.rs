//! A host's own `reqwest::Client` as the transport (feature `reqwest`).

use futures_util::StreamExt;

use super::transport::{
    ResponseBody, Transport, TransportError, TransportFuture, TransportRequest, TransportResponse,
};

/// Sends through a client the host built, with its TLS, proxy and pool settings.
///
/// Configure it with `redirect(reqwest::redirect::Policy::none())`: the SDK never follows a
/// redirect, and a response that arrives from another URL than the one asked for (the client
/// followed one) is refused as a transport failure rather than handed on. The client's own
/// timeout, if any, is reported as a timeout; the SDK's total timeout applies as well.
impl Transport for reqwest::Client {
    fn send(&self, request: TransportRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let asked = request.uri().to_string();
            let (parts, body) = request.into_parts();
            let body = match body.into_parts() {
                Ok(bytes) => reqwest::Body::from(bytes),
                Err(stream) => reqwest::Body::wrap_stream(stream),
            };
            let request = reqwest::Request::try_from(http::Request::from_parts(parts, body))
                .map_err(|e| {
                    TransportError::before_send(format!(
                        "the request does not convert: {}",
                        without_url(&e, &asked)
                    ))
                })?;
            let resp = self
                .execute(request)
                .await
                .map_err(|e| classify(&e, &asked))?;
            if resp.url().as_str() != asked
                && url::Url::parse(&asked).ok().as_ref() != Some(resp.url())
            {
                return Err(TransportError::after_send(
                    "the host's reqwest client followed a redirect; configure it with \
                     redirect::Policy::none()",
                ));
            }
            let status = resp.status();
            let headers = resp.headers().clone();
            let chunks = resp.bytes_stream().map(move |chunk| {
                chunk.map_err(|e| {
                    let mut err = classify(&e, &asked);
                    if err.stage() == super::FailureStage::BeforeSend {
                        err = TransportError::after_send(err.message().to_owned());
                    }
                    err
                })
            });
            Ok(TransportResponse {
                status,
                headers,
                body: ResponseBody::stream(chunks),
            })
        })
    }
}

fn classify(e: &reqwest::Error, asked: &str) -> TransportError {
    let text = without_url(e, asked);
    if e.is_connect() {
        TransportError::before_send(format!("could not connect: {text}"))
    } else if e.is_timeout() {
        TransportError::timeout(text)
    } else {
        TransportError::after_send(text)
    }
}

/// reqwest's error text and its sources without the URL, whose query may hold a token.
fn without_url(e: &reqwest::Error, asked: &str) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    crate::error::bounded(text.replace(asked, "<url>"), 512)
}
