//! Core's `HttpClient` over its default transport against a loopback TCP server scripted byte by
//! byte: the faults wiremock cannot produce. A chunked body with no `Content-Length` that runs
//! past the cap, a real TCP reset (RST, not a clean close) after the request was read, and a
//! reset part-way through the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use socialconnect_core::ErrorKind;
use socialconnect_core::http::{ApiRequest, DEFAULT_BODY_LIMIT, HttpClient, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

const ATTEMPTS: u32 = 3;

/// A loopback server that reads each request whole, counts it, then runs `script` on the
/// connection. Each script reports what it saw on `reports`.
struct RawServer {
    base: String,
    requests: Arc<AtomicUsize>,
}

impl RawServer {
    async fn start<S, F>(script: S) -> Self
    where
        S: Fn(TcpStream) -> F + Send + Sync + 'static,
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let script = Arc::new(script);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = counter.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    if read_request(&mut stream).await {
                        counter.fetch_add(1, Ordering::SeqCst);
                        script(stream).await;
                    }
                });
            }
        });
        Self { base, requests }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request: the head up to the blank line, then `Content-Length` bytes of body.
/// `false` when the connection ended first.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let body_len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + body_len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// Closes with a TCP RST instead of a FIN: `SO_LINGER` of zero, then drop (which does not
/// block with a zero linger).
fn reset(stream: TcpStream) {
    stream.set_zero_linger().unwrap();
    drop(stream);
}

fn client() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(ATTEMPTS)
                .with_delays(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

/// How the 20 MiB writer ended.
#[derive(Debug)]
enum WriteEnd {
    /// Every byte and the final chunk were accepted by the socket.
    Finished,
    /// A write failed after `written` bytes of body.
    Failed { written: usize },
}

const HUGE: usize = 20 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

#[tokio::test]
async fn a_chunked_body_past_the_cap_fails_typed_and_the_client_stops_reading() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = RawServer::start(move |mut stream| {
        let tx = tx.clone();
        async move {
            // A small send buffer, so the kernel cannot absorb what the client never reads.
            socket2::SockRef::from(&stream)
                .set_send_buffer_size(CHUNK)
                .unwrap();
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            let mut end = WriteEnd::Finished;
            if stream.write_all(head.as_bytes()).await.is_err() {
                end = WriteEnd::Failed { written: 0 };
            }
            let frame = [
                format!("{CHUNK:x}\r\n").into_bytes(),
                vec![b' '; CHUNK],
                b"\r\n".to_vec(),
            ]
            .concat();
            let mut written = 0;
            while matches!(end, WriteEnd::Finished) && written < HUGE {
                if stream.write_all(&frame).await.is_err() {
                    end = WriteEnd::Failed { written };
                } else {
                    written += CHUNK;
                }
            }
            if matches!(end, WriteEnd::Finished) && stream.write_all(b"0\r\n\r\n").await.is_err() {
                end = WriteEnd::Failed { written };
            }
            let _ = tx.send(end);
        }
    })
    .await;

    let err = client()
        .send(ApiRequest::get(server.url("/huge")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{DEFAULT_BODY_LIMIT}-byte limit")),
        "{err}"
    );
    // The cap is final: no second attempt at a body that will be as large again.
    assert_eq!(server.requests(), 1);

    let end = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the server's writer ends once the client hangs up")
        .unwrap();
    match end {
        // The client hung up near the cap (what it read, plus what the sockets hold), far
        // from the 20 MiB the server meant to send.
        WriteEnd::Failed { written } => assert!(
            written < DEFAULT_BODY_LIMIT + 4 * 1024 * 1024,
            "the server could write {written} bytes before the client hung up"
        ),
        WriteEnd::Finished => panic!("the client read (or the kernel buffered) all 20 MiB"),
    }
}

#[tokio::test]
async fn a_reset_after_the_request_is_retried_for_a_get_then_transient() {
    let server = RawServer::start(|stream| async move { reset(stream) }).await;
    let err = client()
        .send(ApiRequest::get(server.url("/read")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(server.requests(), ATTEMPTS as usize);
    // The message says what happened and holds no URL.
    let text = err.to_string();
    assert!(!text.contains("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn a_reset_after_the_request_is_never_resent_for_a_post() {
    let server = RawServer::start(|stream| async move { reset(stream) }).await;
    let err = client()
        .send(
            ApiRequest::post(server.url("/write"))
                .json(&serde_json::json!({"text": "hello"}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    // The server read the whole request before the reset, so it may have acted on it.
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(server.requests(), 1);
}

/// Headers and part of a `Content-Length` body, then a reset.
async fn headers_then_reset(mut stream: TcpStream) {
    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                  content-length: 100\r\n\r\n{\"id\":\"12";
    if stream.write_all(answer.as_bytes()).await.is_ok() {
        let _ = stream.flush().await;
        // Let the client take the headers before the reset discards them.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reset(stream);
}

#[tokio::test]
async fn a_reset_mid_body_is_retried_for_a_get_and_maybe_sent_for_a_post() {
    let server = RawServer::start(headers_then_reset).await;
    let http = client();

    let err = http
        .send(ApiRequest::get(server.url("/read")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(server.requests(), ATTEMPTS as usize);

    let err = http
        .send(ApiRequest::post(server.url("/write")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(server.requests(), ATTEMPTS as usize + 1);
}

#[tokio::test]
async fn a_reset_mid_chunked_body_is_maybe_sent_for_a_post() {
    let server = RawServer::start(|mut stream| async move {
        let answer = "HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n\
                      6\r\n{\"id\":\r\n";
        if stream.write_all(answer.as_bytes()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        reset(stream);
    })
    .await;
    let err = client()
        .send(ApiRequest::post(server.url("/write")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(server.requests(), 1);
}
