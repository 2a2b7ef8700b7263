//! A minimal HTTP/1.1 keep-alive upstream on loopback that answers every GET with a small JSON
//! body at once: the far end of overhead benchmarks, where wiremock's own matching would be
//! most of what is measured.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// The answer to every request.
const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"id\":\"42\"}";

/// Starts the upstream on a free loopback port; returns its `/v1/me` URL. It serves until
/// the runtime stops. Requests must carry no body (GET): each header block ends one.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn json_upstream() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut filled = 0;
                loop {
                    match sock.read(&mut buf[filled..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => filled += n,
                    }
                    while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                        if sock.write_all(ANSWER).await.is_err() {
                            return;
                        }
                        buf.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                    }
                    // A header block larger than the buffer is not a request this serves.
                    if filled == buf.len() {
                        return;
                    }
                }
            });
        }
    });
    Url::parse(&format!("http://{addr}/v1/me")).expect("a loopback URL")
}
