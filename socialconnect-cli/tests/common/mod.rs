//! A deployment in a temporary directory (keyring file, SQLite store or a fresh PostgreSQL
//! database, deployment file), the built `socialconnect` binary pointed at it, and seeding
//! through the store's public API.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::path::PathBuf;

use assert_cmd::Command;
use chrono::Utc;
use socialconnect_cli::Deployment;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::TokenStore;
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::EncryptedStore;

/// The access token seeded connections carry: it must never appear in any output.
pub const TOKEN: &str = "EAAG-seeded-access-token-never-printed-7f3a";
/// The platform secret handed to the binary: never printed either.
pub const SECRET: &str = "linkedin-client-secret-never-printed-91c2";

/// A keyring entry: key `id` made of 32 `byte`s (distinct per id is all tests need).
pub fn key_line(id: &str, primary: bool, byte: u8) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    format!("{}{id}:{b64}", if primary { "*" } else { "" })
}

/// The purposes and platform every sandbox declares, before `extra`.
const BASE: &str = r#"
region = "eu-west-1"
redirect_base = "https://connect.example.com"

[keys]
file = "keyring"

[controller]
name = "Example GmbH"
email = "privacy@example.com"
policy_url = "https://example.com/privacy"
authority_url = "https://www.bfdi.bund.de"

[[purpose]]
name = "account_connection"
basis = "consent"
justification = "The user connects an account"

[[purpose]]
name = "fraud_detection"
basis = "legitimate_interest"
justification = "Balancing test FD-1"

# Tests never reach the internet: the only upstream call any command makes (the revocation
# `erase` attempts) goes to a closed loopback port and fails at once.
[platforms.linkedin]
client_id = "86abc"
client_secret_env = "LINKEDIN_CLIENT_SECRET"
api_base = "http://127.0.0.1:9/"
auth_base = "http://127.0.0.1:9/"
"#;

/// A deployment in a temporary directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pg: Option<(String, String)>,
}

impl Sandbox {
    /// SQLite at `<dir>/sc.db`.
    pub fn sqlite() -> Self {
        Self::with_store("[store]\nurl = \"sqlite://sc.db\"\n", None)
    }

    /// A fresh database on the server in `SC_TEST_PG_URL`; `None` when it is unset.
    pub async fn postgres() -> Option<Self> {
        let Ok(server) = std::env::var("SC_TEST_PG_URL") else {
            eprintln!("SC_TEST_PG_URL is unset: skipping the PostgreSQL run");
            return None;
        };
        let name = format!("sc_cli_{}", uuid_simple());
        admin(&server, &format!("CREATE DATABASE {name}")).await;
        let url = with_database(&server, &name);
        Some(Self::with_store(
            &format!("[store]\nurl = \"{url}\"\n"),
            Some((server, name)),
        ))
    }

    fn with_store(store: &str, pg: Option<(String, String)>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Self {
            config: dir.path().join("deployment.toml"),
            dir,
            pg,
        };
        sandbox.write_keyring(&[key_line("k1", true, 7)]);
        std::fs::write(&sandbox.config, format!("{BASE}\n{store}")).unwrap();
        sandbox
    }

    /// Replaces the keyring file (mode 0600).
    pub fn write_keyring(&self, lines: &[String]) {
        let path = self.dir.path().join("keyring");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    /// Appends TOML to the deployment file.
    pub fn append(&self, toml: &str) {
        let mut text = std::fs::read_to_string(&self.config).unwrap();
        text.push('\n');
        text.push_str(toml);
        std::fs::write(&self.config, text).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The built binary with `--config` and the platform secret set, nothing inherited that
    /// could change its behaviour.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("socialconnect").unwrap();
        cmd.env_remove("SOCIALCONNECT_CONFIG")
            .env_remove("SOCIALCONNECT_ACTOR")
            .env("LINKEDIN_CLIENT_SECRET", SECRET)
            .arg("--config")
            .arg(&self.config);
        cmd
    }

    pub fn deployment(&self) -> Deployment {
        Deployment::from_file(&self.config).unwrap()
    }

    pub async fn store(&self) -> EncryptedStore {
        self.deployment().open_store().await.unwrap()
    }

    /// Drops the PostgreSQL database, when there is one.
    pub async fn finish(self) {
        if let Some((server, name)) = &self.pg {
            admin(server, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
        }
    }
}

/// A subject with consent for account connection on LinkedIn and one LinkedIn connection
/// holding [`TOKEN`].
pub async fn seed(store: &EncryptedStore, subject: &str) -> ConnectionKey {
    let subject = SubjectId::new(subject).unwrap();
    let now = Utc::now();
    store
        .record(ConsentEvent::grant(
            subject.clone(),
            Purpose::AccountConnection,
            Some(PlatformId::LINKEDIN),
            now,
        ))
        .await
        .unwrap();
    let key = ConnectionKey::new(subject, PlatformId::LINKEDIN, ConnectionId::generate());
    let tokens = TokenSet::new(AccessToken::new(TOKEN), Expiry::Never, now)
        .with_scopes(Scope::parse_list("openid profile w_member_social"));
    store.put(&key, &tokens, None).await.unwrap();
    key
}

/// stdout and stderr of a finished command, for the leak checks.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that no secret of the sandbox appears in `output`.
pub fn assert_no_secrets(output: &str) {
    assert!(!output.contains(TOKEN), "a token leaked: {output}");
    assert!(!output.contains(SECRET), "a client secret leaked: {output}");
}

pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn uuid_simple() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

async fn admin(server_url: &str, sql: &str) {
    use sqlx::{Connection, Executor};

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(server_url)
        .await
        .expect("connect to SC_TEST_PG_URL");
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .expect("administrative statement");
    conn.close().await.expect("close");
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}
