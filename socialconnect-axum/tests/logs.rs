//! No secret in any log line: a whole connect flow, a consent form, the privacy page and a
//! data-subject API call, logged at TRACE by every crate, leave no OAuth code or state, token,
//! API key or CSRF token in the output. (One test in this binary: it installs the global
//! subscriber.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Host, csrf, location};
use socialconnect_core::id::SubjectId;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_secret_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let host = Host::start().await;
    let browser = host.browser("alice");
    let form = browser
        .get(host.url("/connect/facebook"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&form);
    let to_platform = browser
        .post(host.url("/connect/facebook"))
        .form(&[
            ("csrf", token.as_str()),
            ("age", "adult"),
            ("country", "DE"),
        ])
        .send()
        .await
        .unwrap();
    let back = browser.get(location(&to_platform)).send().await.unwrap();
    let callback: url::Url = location(&back).parse().unwrap();
    let done = browser.get(callback.as_str()).send().await.unwrap();
    assert_eq!(location(&done), "/privacy?connected=facebook");
    let query = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let (code, state) = (query("code"), query("state"));
    let page = browser
        .get(host.url("/privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page_csrf = csrf(&page);
    let key = host.key(&["read"]).await;
    let listed = host
        .api()
        .get(host.url("/api/v1/subjects/alice/connections"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    let subject = SubjectId::new("alice").unwrap();
    let connection = host.hub.connections(&subject).await.unwrap().remove(0);
    let stored = host
        .hub
        .token_store()
        .get(&connection)
        .await
        .unwrap()
        .unwrap();
    let access = stored.tokens.access_token.expose_secret().to_owned();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("account connected"),
        "the flow was logged:\n{log}"
    );
    // `sc_<32 hex>_<43 base64url>`: the secret is the last 43 characters (base64url has `_` in
    // its alphabet, so splitting on `_` would sometimes cut it short).
    let key_secret = key[key.len() - 43..].to_owned();
    for (what, secret) in [
        ("the OAuth code", code.as_str()),
        ("the OAuth state", state.as_str()),
        ("the access token", access.as_str()),
        ("the API key", key.as_str()),
        ("the API key's secret part", key_secret.as_str()),
        ("a CSRF token", token.as_str()),
        ("a CSRF token", page_csrf.as_str()),
    ] {
        assert!(secret.len() >= 8, "{what} is long enough to search for");
        assert!(!log.contains(secret), "{what} is in the log");
    }
}
