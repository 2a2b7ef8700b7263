//! The host binary as an operator runs it: refuses plain HTTP off loopback, serves the routes
//! and the demo sign-in, prints a working data-subject API key, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn plain_http_off_loopback_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_host"))
        .args([
            "--addr",
            "0.0.0.0:0",
            "--insecure-http-loopback",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plain HTTP is only served on a loopback address"),
        "{stderr}"
    );
}

#[test]
fn a_certificate_without_its_key_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_host"))
        .args(["--tls-cert", "cert.pem"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_the_routes_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_host"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--insecure-http-loopback",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(base.starts_with("http://localhost:"), "{base}");
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    let key = second.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(key.starts_with("sc_"), "{second}");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let privacy = http.get(format!("{base}privacy")).send().await.unwrap();
    assert_eq!(privacy.status(), 303);
    assert_eq!(privacy.headers()["location"], "/sign-in?next=%2Fprivacy");
    let signed = http
        .post(format!("{base}sign-in"))
        .form(&[("user", "zoe"), ("next", "/privacy")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = http
        .get(format!("{base}privacy"))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Signed in as <strong id=\"subject\">zoe</strong>")
    );
    // A forged cookie signs nobody in.
    let forged = http
        .get(format!("{base}privacy"))
        .header("cookie", "sc_demo_session=zoe.0000")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 303);

    let consents = http
        .get(format!("{base}api/v1/subjects/zoe/consents"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(consents.status(), 200);
    let body: serde_json::Value = consents.json().await.unwrap();
    assert_eq!(body["consents"], serde_json::json!([]));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the host did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(exit.success(), "{exit:?}: {stderr}");
    // No token, key or code in what the service logged.
    assert!(!stderr.contains(&key), "{stderr}");
}

/// Starts the host on loopback HTTP with extra arguments; returns it and its base URL.
fn start(args: &[&str], dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--insecure-http-loopback",
            "--data-dir",
        ])
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // Keep reading what the host prints, so its stdout never closes under it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the host did not start: {line:?}"))
        .to_owned();
    (child, base)
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_on_postgresql_when_given_a_url() {
    let Ok(server) = std::env::var("SC_TEST_PG_URL") else {
        eprintln!("SC_TEST_PG_URL is unset: skipped (scripts/test starts a server)");
        return;
    };
    let name = format!("host_{}", std::process::id());
    let created = Command::new("psql")
        .arg(&server)
        .args(["-qAtc", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql runs");
    assert!(created.success());
    let mut url: url::Url = server.parse().unwrap();
    url.set_path(&format!("/{name}"));
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start(&["--database-url", url.as_str()], dir.path());
    let page = reqwest::get(format!("{base}sign-in")).await.unwrap();
    assert_eq!(page.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
    // The store's tables are in the new database, and no SQLite file was made.
    let tables = Command::new("psql")
        .arg(url.as_str())
        .args([
            "-qAtc",
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        ])
        .output()
        .unwrap();
    let count: u32 = String::from_utf8_lossy(&tables.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(count > 0);
    assert!(!dir.path().join("socialconnect.db").exists());
}
