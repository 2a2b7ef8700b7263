//! A GET through a hub session (consent gate, token load, bearer, rate limiter, retry
//! bookkeeping, tracing span, usage-log entry) against the same GET through a bare
//! `reqwest::Client`, both to one local keep-alive HTTP server in the same run.
//!
//! Besides criterion's report, prints the ratio of the two medians measured interleaved, so
//! both sides see the same machine load. Target: <= 1.10.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::store::TokenStore;
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{SocialConnect, access_log::AccessLog};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// A minimal HTTP/1.1 keep-alive server answering every request with a small JSON body.
async fn serve() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut filled = 0;
                const RESP: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"id\":\"42\"}";
                loop {
                    match sock.read(&mut buf[filled..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => filled += n,
                    }
                    // GET requests carry no body: each header block ends one request.
                    while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                        if sock.write_all(RESP).await.is_err() {
                            return;
                        }
                        buf.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                    }
                    if filled == buf.len() {
                        return;
                    }
                }
            });
        }
    });
    Url::parse(&format!("http://{addr}/v1/me")).unwrap()
}

fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

struct Setup {
    hub: SocialConnect,
    key: ConnectionKey,
    log: Arc<MemoryAccessLog>,
}

async fn setup(base: &Url) -> Setup {
    let http = HttpClient::builder().build().unwrap();
    let spec = OAuthSpec::new(
        PlatformId::LINKEDIN,
        "bench-client",
        base.join("/oauth/authorize").unwrap(),
        base.join("/oauth/token").unwrap(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new("bench-secret"),
        http.clone(),
        Arc::new(SystemClock),
    );
    let platform = StandardPlatform::new(oauth, base.clone());
    let tokens = Arc::new(MemoryTokenStore::new());
    let ledger = Arc::new(MemoryConsentLedger::new());
    let log = Arc::new(MemoryAccessLog::new());
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(platform))
        .token_store(tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(ledger.clone())
        .access_log(log.clone())
        .build()
        .unwrap();
    let subject = SubjectId::new("bench-user").unwrap();
    let now = Utc::now();
    for purpose in [Purpose::AccountConnection, Purpose::ReadingContent] {
        hub.record_consent(ConsentEvent::grant(
            subject.clone(),
            purpose,
            Some(PlatformId::LINKEDIN),
            now,
        ))
        .await
        .unwrap();
    }
    let key = ConnectionKey::new(subject, PlatformId::LINKEDIN, ConnectionId::generate());
    let set = TokenSet::new(
        AccessToken::new("bench-token"),
        Expiry::after(now, 30 * 24 * 3600),
        now,
    );
    tokens.put(&key, &set, None).await.unwrap();
    Setup { hub, key, log }
}

async fn via_session(s: &Setup, url: &Url) {
    let session = s
        .hub
        .session(&s.key, Purpose::ReadingContent)
        .await
        .unwrap();
    let resp = session
        .send(ApiRequest::get(url.clone()).operation("bench.me"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn via_reqwest(client: &reqwest::Client, url: &Url) {
    let resp = client
        .get(url.clone())
        .bearer_auth("bench-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(serve());
    let s = rt.block_on(setup(&url));
    let bare = bare_client();

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    {
        let mut group = c.benchmark_group("get_me");
        group.bench_function("bare_reqwest", |b| {
            b.to_async(&rt).iter(|| via_reqwest(&bare, &url))
        });
        group.bench_function("hub_session", |b| {
            b.to_async(&rt).iter(|| via_session(&s, &url))
        });
        group.finish();
    }

    // Interleaved pairs: each round runs both once, so drift hits both sides alike.
    let rounds = 5_000;
    let (mut bare_t, mut hub_t) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    rt.block_on(async {
        for _ in 0..200 {
            via_reqwest(&bare, &url).await;
            via_session(&s, &url).await;
        }
        for _ in 0..rounds {
            let t = Instant::now();
            via_reqwest(&bare, &url).await;
            bare_t.push(t.elapsed());
            let t = Instant::now();
            via_session(&s, &url).await;
            hub_t.push(t.elapsed());
        }
    });
    let (b, h) = (median(&mut bare_t), median(&mut hub_t));
    let logged = rt.block_on(s.log.entries(&s.key.subject)).unwrap().len();
    eprintln!(
        "session_overhead: median bare reqwest {:?}, median hub session {:?}, ratio {:.3} (target <= 1.10); usage-log entries written: {logged}",
        b,
        h,
        h.as_secs_f64() / b.as_secs_f64()
    );
    c.final_summary();
}
