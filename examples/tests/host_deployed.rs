//! The host binary configured by a deployment file (the one the `socialconnect` CLI reads),
//! with the file's Meta app pointed at the Graph API simulator: its store, purposes and
//! platforms are the file's, connecting works end to end, and the webhook handshake and
//! signatures use the verify token and signing secret named in the file.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{SignatureFormat, sign_header};
use socialconnect_testkit::meta::GraphSimulator;

const HOOK_SECRET: &str = "file-named-webhook-secret";

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_file_configures_the_host() {
    let sim = GraphSimulator::builder().start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = dir.path().join("deployment.toml");
    std::fs::write(
        &file,
        format!(
            r#"
region = "eu-north-1"
redirect_base = "http://localhost:{port}/"

[store]
url = "sqlite://{db}"

[keys]
demo = true

[controller]
name = "Deployed Example AB"
email = "dpo@deployed.test"
policy_url = "https://deployed.test/privacy"
authority_url = "https://www.imy.se/"

[[purpose]]
name = "account_connection"
basis = "consent"
justification = "The user connects an account"

[[purpose]]
name = "publishing"
basis = "consent"
justification = "The user asks us to post"

[platforms.meta]
client_id = "{app_id}"
client_secret_env = "HOST_TEST_META_SECRET"
products = ["facebook"]
graph_base = "{base}"
dialog_base = "{base}"
verify_token_env = "HOST_TEST_META_VERIFY"
webhook_secret_env = "HOST_TEST_META_HOOK"
"#,
            db = dir.path().join("deployed.db").display(),
            app_id = sim.app_id(),
            base = sim.base_url(),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_host"))
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--insecure-http-loopback",
            "--config",
        ])
        .arg(&file)
        .env("HOST_TEST_META_SECRET", sim.app_secret())
        .env("HOST_TEST_META_VERIFY", "file-verify-token")
        .env("HOST_TEST_META_HOOK", HOOK_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let host = Killed(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(first, format!("listening on http://localhost:{port}/"));

    let base = format!("http://localhost:{port}/");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let handshake = http
        .get(format!(
            "{base}webhooks/meta?hub.mode=subscribe&hub.verify_token=file-verify-token&hub.challenge=4242"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), 200);
    assert_eq!(handshake.text().await.unwrap(), "4242");
    // Deliveries are checked against the signing secret the file names, not the app secret.
    let body = br#"{"object":"page","entry":[{"id":"1","time":1700000000,"changes":[{"field":"feed","value":{"item":"status","verb":"add","post_id":"1_2"}}]}]}"#;
    for (secret, status) in [
        (sim.app_secret().to_owned(), 401),
        (HOOK_SECRET.to_owned(), 200),
    ] {
        let signature = sign_header(&WebhookSecret::new(secret), body, SignatureFormat::META);
        let answer = http
            .post(format!("{base}webhooks/meta"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status);
    }

    http.post(format!("{base}sign-in"))
        .form(&[("user", "ylva")])
        .send()
        .await
        .unwrap();
    let form = http
        .get(format!("{base}connect/facebook"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("Deployed Example AB"));
    let at = form.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &form[at..at + form[at..].find('"').unwrap()];
    let to_platform = http
        .post(format!("{base}connect/facebook"))
        .form(&[
            ("csrf", csrf),
            ("age", "adult"),
            ("country", "SE"),
            ("purpose", "publishing"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(to_platform.status(), 303);
    let dialog = location(&to_platform);
    assert!(dialog.starts_with(sim.base_url().as_str()), "{dialog}");
    let back = http.get(&dialog).send().await.unwrap();
    let done = http.get(location(&back)).send().await.unwrap();
    assert_eq!(location(&done), "/privacy?connected=facebook");
    let page = http
        .get(format!("{base}privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<strong id=\"region\">eu-north-1</strong>"),
        "{page}"
    );
    assert!(page.contains("https://www.imy.se/"));
    drop(host);
    assert!(dir.path().join("deployed.db").exists());
    // No demo API key in deployed mode: operators issue keys with the CLI.
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(!rest.iter().any(|l| l.contains("API key")), "{rest:?}");
}
