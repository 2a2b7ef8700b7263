//! The host service driven in headless Chromium (Debian's `chromium` and `chromedriver`): sign
//! in, connect Facebook through the consent form and the simulated platform dialog, back on the
//! privacy page with the connection listed, withdraw a consent, download the export, delete
//! everything. Screenshots are kept under the test's target directory.
//!
//! `./scripts/test` installs Chromium when it is missing. Run alone with
//! `cargo test -p examples --test host_browser`; with `SC_TEST_BROWSER=0` it is skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the host binary over HTTPS (self-signed) on a free port; returns it and its URL.
fn start_host(data: &Path) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host"))
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("SOCIALCONNECT_KEYRING")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the host binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // Keep reading what the host prints, so its stdout never closes under it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    assert!(url.starts_with("https://localhost:"), "{url}");
    (Killed(child), url)
}

fn start_driver(port: u16) -> Killed {
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Killed(child)
}

async fn browser(port: u16, profile: &Path, downloads: &Path) -> Client {
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            // The flags the machine notes ask for: no sandbox as root, and no background
            // connections (the network is closed).
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", "--window-size=1100,1400",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = artifacts().join(name);
    std::fs::write(&path, png).unwrap();
    path
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

fn wait_for_file(path: &Path) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(bytes) = std::fs::read(path)
            && !bytes.is_empty()
        {
            return bytes;
        }
        assert!(
            Instant::now() < deadline,
            "no download at {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_privacy_page_and_the_connect_flow_in_chromium() {
    if std::env::var("SC_TEST_BROWSER").as_deref() == Ok("0") {
        eprintln!("SC_TEST_BROWSER=0: the browser test is skipped");
        return;
    }
    assert!(
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        "Chromium and chromedriver are needed (apt-get install chromium chromium-driver; \
         ./scripts/test installs them); SC_TEST_BROWSER=0 skips this test"
    );
    let dir = tempfile::tempdir().unwrap();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let (_host, base) = start_host(&dir.path().join("host"));
    let port = free_port();
    let _driver = start_driver(port);
    let client = browser(port, &dir.path().join("profile"), &downloads).await;

    // Not signed in: the host's sign-in page, then back to the privacy page.
    client.goto(&format!("{base}privacy")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#user"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    click(&client, "#sign-in").await;
    assert_eq!(text_of(&client, "#subject").await, "alice");
    assert!(
        text_of(&client, "#no-connections")
            .await
            .contains("No accounts")
    );

    // Connect Facebook: the consent form and the age gate, then the simulated dialog.
    click(&client, "#connect-facebook").await;
    client
        .wait()
        .for_element(Locator::Css("select[name=age]"))
        .await
        .unwrap()
        .select_by_value("adult")
        .await
        .unwrap();
    click(&client, "input[name=purpose][value=publishing]").await;
    click(&client, "#agree").await;
    assert!(text_of(&client, "#connected").await.contains("facebook"));
    let row = text_of(&client, "tr.connection[data-platform=facebook]").await;
    assert!(row.contains("active"), "{row}");
    let consents = text_of(&client, "#consents").await;
    assert!(consents.contains("Publish posts for you"), "{consents}");
    let shot = screenshot(&client, "privacy-page-connected.png").await;
    eprintln!("screenshot: {}", shot.display());

    // Withdraw publishing; the connection stays.
    click(&client, "#withdraw-publishing-facebook").await;
    assert!(text_of(&client, "#done").await.contains("withdrawn"));
    let consents = text_of(&client, "#consents").await;
    assert!(!consents.contains("Publish posts for you"), "{consents}");
    assert!(text_of(&client, "#connections").await.contains("facebook"));

    // Export: a JSON download holding the connection.
    click(&client, "#export").await;
    let export = wait_for_file(&downloads.join("my-data.json"));
    let export: serde_json::Value = serde_json::from_slice(&export).expect("the export is JSON");
    assert!(export.to_string().contains("facebook"), "{export}");

    // Delete everything.
    click(&client, "input[name=confirm]").await;
    click(&client, "#delete").await;
    assert!(text_of(&client, "#erased").await.contains("erased"));
    screenshot(&client, "privacy-page-deleted.png").await;
    client.goto(&format!("{base}privacy")).await.unwrap();
    assert!(
        text_of(&client, "#no-connections")
            .await
            .contains("No accounts")
    );
    assert!(
        text_of(&client, "#no-consents")
            .await
            .contains("no consent")
    );
    client.close().await.unwrap();
}
