//! Every command of the built `socialconnect` binary on a real SQLite deployment, in text and
//! in `--json`, with seeded data; bad input exits non-zero with one clear line; no token or
//! secret is ever printed.

mod common;

use common::{Sandbox, assert_no_secrets, json, seed, text};
use socialconnect_core::store::{ConnectionStatus, TokenStore};

#[tokio::test(flavor = "multi_thread")]
async fn privacy_commands_in_text_and_json() {
    let sb = Sandbox::sqlite();
    let store = sb.store().await;
    let alice = seed(&store, "alice").await;
    let bob = seed(&store, "bob").await;
    store
        .set_status(
            &bob,
            ConnectionStatus::ReconnectRequired {
                since: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    store.close().await;
    let mut all_output = String::new();

    // connections list: text, JSON, filtered by platform and state.
    let out = sb.cmd().args(["connections", "list"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&alice.connection.to_string()) && t.contains("2 connection(s)"),
        "{t}"
    );
    all_output += &t;
    let out = sb
        .cmd()
        .args([
            "connections",
            "list",
            "--json",
            "--state",
            "reconnect_required",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    let list = v["connections"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["subject"], "bob");
    assert_eq!(list[0]["state"], "reconnect_required");
    assert_eq!(list[0]["scopes"][2], "w_member_social");
    all_output += &text(&out);
    let out = sb
        .cmd()
        .args(["connections", "list", "--json", "--platform", "tiktok"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["connections"].as_array().unwrap().len(), 0);

    // export: to stdout (the hub's JSON document) and to a file.
    let out = sb.cmd().args(["export", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let doc = json(&out);
    assert_eq!(doc["connections"][0]["platform"], "linkedin");
    all_output += &text(&out);
    let file = sb.path("alice.json");
    let out = sb
        .cmd()
        .args(["--json", "export", "alice", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["subject"], "alice");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["connections"][0]["platform"], "linkedin");
    all_output += &std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // An existing file is not overwritten.
    let out = sb
        .cmd()
        .args(["export", "alice", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // erase: text, then JSON for the other subject.
    let out = sb.cmd().args(["erase", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("erased `alice`") && t.contains("tokens: 1"),
        "{t}"
    );
    assert!(t.contains("receipt: subject pseudonym"), "{t}");
    // The revocation went to the closed loopback port: the local erasure went ahead.
    assert!(t.contains("linkedin: upstream revoke failed"), "{t}");
    all_output += &t;
    let out = sb.cmd().args(["erase", "bob", "--json"]).output().unwrap();
    let v = json(&out);
    assert_eq!(v["removed"]["tokens"], 1);
    assert!(v["receipt"]["subject_pseudonym"].is_string());
    all_output += &text(&out);

    // The erased subject is unknown now; --allow-unknown still erases and leaves a receipt.
    let out = sb.cmd().args(["export", "alice"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown subject `alice`") && err.lines().count() == 1,
        "{err}"
    );
    let out = sb
        .cmd()
        .args(["erase", "alice", "--allow-unknown", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json(&out)["total"], 0);

    // purge: text and JSON.
    let out = sb.cmd().arg("purge").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("purge done"));
    let out = sb.cmd().args(["purge", "--json"]).output().unwrap();
    let v = json(&out);
    assert_eq!(v["total"], 0);
    assert!(v["dead_api_keys"].is_null());
    all_output += &text(&out);

    assert_no_secrets(&all_output);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_show_the_secret_once() {
    let sb = Sandbox::sqlite();
    let out = sb
        .cmd()
        .args([
            "api-keys", "create", "--scope", "export", "--scope", "erase", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v = json(&out);
    let key = v["key"].as_str().unwrap().to_owned();
    let id = v["key_id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sc_") && key.contains(&id));
    // `sc_<id>_<secret>`; the secret part may itself hold `_`.
    let secret_part = key.strip_prefix(&format!("sc_{id}_")).unwrap().to_owned();
    assert!(secret_part.len() >= 40, "{secret_part}");

    // Text create shows its own key once too.
    let out = sb
        .cmd()
        .args(["api-keys", "create", "--scope", "read", "--ttl-days", "30"])
        .output()
        .unwrap();
    let t = text(&out);
    assert!(
        t.contains("shown once") && t.contains("key:     sc_"),
        "{t}"
    );

    // The key works (verified through the library over the same store).
    let store = sb.store().await;
    let verified = sb.deployment().api_keys(&store).verify(&key).await.unwrap();
    assert!(verified.has_scope("export"));
    store.close().await;

    let mut listed = String::new();
    for args in [vec!["api-keys", "list"], vec!["api-keys", "list", "--json"]] {
        let out = sb.cmd().args(&args).output().unwrap();
        assert!(out.status.success());
        listed += &text(&out);
    }
    assert!(listed.contains(&id), "{listed}");
    assert!(
        !listed.contains(&secret_part),
        "list showed a secret: {listed}"
    );
    assert!(!listed.contains("sc_"), "{listed}");

    // rotate: a new key shown once, the old one rotating; then revoke the new one.
    let out = sb
        .cmd()
        .args(["api-keys", "rotate", &id, "--grace-hours", "0", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let rotated = json(&out);
    assert_eq!(rotated["replaces"], id.as_str());
    let new_id = rotated["key_id"].as_str().unwrap().to_owned();
    let out = sb
        .cmd()
        .args(["api-keys", "revoke", &new_id, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json(&out)["revoked"], true);
    // Text rotate and revoke, on the second key created above.
    let out = sb
        .cmd()
        .args(["api-keys", "list", "--json"])
        .output()
        .unwrap();
    let second = json(&out)["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["scopes"][0] == "read")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = sb
        .cmd()
        .args(["api-keys", "rotate", &second])
        .output()
        .unwrap();
    let t = text(&out);
    assert!(
        t.contains(&format!("API key {second} replaced by")) && t.contains("shown once"),
        "{t}"
    );
    let out = sb
        .cmd()
        .args(["api-keys", "revoke", &second])
        .output()
        .unwrap();
    assert!(text(&out).contains(&format!("API key {second} revoked")));
    let out = sb
        .cmd()
        .args(["api-keys", "list", "--json"])
        .output()
        .unwrap();
    let v = json(&out);
    let states: Vec<(&str, &str)> = v["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["key_id"].as_str().unwrap(), k["state"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&(new_id.as_str(), "revoked")), "{states:?}");
    assert!(states.contains(&(id.as_str(), "superseded")), "{states:?}");

    // Bad ids.
    let out = sb
        .cmd()
        .args(["api-keys", "revoke", "not-an-id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an API key id"));
    let unknown = "0".repeat(32);
    let out = sb
        .cmd()
        .args(["api-keys", "revoke", &unknown])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no API key has the id"));
    let out = sb
        .cmd()
        .args(["api-keys", "rotate", &unknown])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_and_records_in_text_and_json() {
    let sb = Sandbox::sqlite();
    let out = sb.cmd().arg("doctor").output().unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("schema version") && t.contains("LINKEDIN_CLIENT_SECRET is set"),
        "{t}"
    );
    assert!(t.contains("API version 202611"), "{t}");
    let out = sb.cmd().args(["doctor", "--json"]).output().unwrap();
    let v = json(&out);
    assert_eq!(v["passed"], true);
    assert_no_secrets(&text(&out));

    // Without the secret the check fails, naming the variable, not a value.
    let out = sb
        .cmd()
        .env_remove("LINKEDIN_CLIENT_SECRET")
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["passed"], false);
    assert!(text(&out).contains("LINKEDIN_CLIENT_SECRET is not set"));

    // records: LinkedIn has scopes for publishing, which has no declared basis: flagged.
    let out = sb.cmd().arg("records").output().unwrap();
    assert!(out.status.success());
    let md = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(md.starts_with("# Record of processing activities"), "{md}");
    assert!(
        md.contains("| publishing | **FLAGGED: none declared**"),
        "{md}"
    );
    assert!(md.contains("| linkedin | linkedin | 86abc |"), "{md}");
    let out = sb.cmd().args(["records", "--json"]).output().unwrap();
    let v = json(&out);
    assert_eq!(v["controller"]["name"], "Example GmbH");
    assert!(!v["flags"].as_array().unwrap().is_empty());
    let out = sb.cmd().args(["records", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("flag(s)"));
    assert_no_secrets(&md);

    // The demo key fails doctor (a fresh store: the one above is wrapped under k1).
    let sb = Sandbox::sqlite();
    let demo = std::fs::read_to_string(&sb.config)
        .unwrap()
        .replace("file = \"keyring\"", "demo = true");
    std::fs::write(&sb.config, demo).unwrap();
    let out = sb.cmd().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("public demo key"));
}

#[test]
fn bad_config_exits_2_with_one_clear_line() {
    // No config at all.
    let out = assert_cmd::Command::cargo_bin("socialconnect")
        .unwrap()
        .env_remove("SOCIALCONNECT_CONFIG")
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--config") && err.lines().count() == 1,
        "{err}"
    );

    // A missing file, through the environment variable.
    let out = assert_cmd::Command::cargo_bin("socialconnect")
        .unwrap()
        .env("SOCIALCONNECT_CONFIG", "/nonexistent/deployment.toml")
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/deployment.toml"));

    // Malformed TOML, and an unknown key.
    let sb = Sandbox::sqlite();
    std::fs::write(&sb.config, "[store\nurl = 1").unwrap();
    let out = sb.cmd().arg("purge").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.lines().count() == 1, "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );

    let sb = Sandbox::sqlite();
    sb.append("[retention]\nusage_log_dayz = 3\n");
    let out = sb.cmd().arg("purge").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage_log_dayz"));

    // A keyring readable by others is refused.
    let sb = Sandbox::sqlite();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(sb.path("keyring"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let out = sb.cmd().args(["ledger", "verify"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("chmod 600"), "{err}");
    }

    // A bad subject id, and an unknown one.
    let sb = Sandbox::sqlite();
    let out = sb.cmd().args(["export", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = sb.cmd().args(["erase", "nobody"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown subject `nobody`"));

    // A usage error is clap's exit 2.
    let out = sb
        .cmd()
        .args(["connections", "list", "--state", "sleepy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn doctor_fails_on_a_pinned_version_past_its_sunset() {
    // LinkedIn 202511 was sunset on 2026-11-16 (the crate's table); an override pinning it
    // is a failed check naming the version and its end.
    let sb = Sandbox::sqlite();
    let text_before = std::fs::read_to_string(&sb.config).unwrap();
    std::fs::write(
        &sb.config,
        text_before.replace(
            "client_secret_env = \"LINKEDIN_CLIENT_SECRET\"\n",
            "client_secret_env = \"LINKEDIN_CLIENT_SECRET\"\nversion = \"202511\"\n",
        ),
    )
    .unwrap();
    let out = sb.cmd().args(["doctor", "--json"]).output().unwrap();
    let v = json(&out);
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains("API version 202511"))
        .unwrap()
        .clone();
    let today = chrono::Utc::now().date_naive();
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let expected = if (end - today).num_days() <= 0 {
        "fail"
    } else if (end - today).num_days() <= 90 {
        "warn"
    } else {
        "ok"
    };
    assert_eq!(check["status"], expected, "{check}");
    if expected == "fail" {
        assert_eq!(out.status.code(), Some(1));
        assert!(
            check["detail"].as_str().unwrap().contains("2026-11-16"),
            "{check}"
        );
    }
}

/// The README's one-command try-out: the sandbox deployment file in `examples/` is valid and
/// `records` runs on it (with the file copied beside a temporary store, so the test writes
/// nothing into the workspace).
#[test]
fn the_sandbox_deployment_file_runs_records() {
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/sandbox-deployment.toml"
    );
    let file = std::fs::read_to_string(source).unwrap();
    assert!(file.contains("url = \"sqlite://../target/sandbox-deployment.db\""));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sandbox-deployment.toml");
    std::fs::write(
        &config,
        file.replace("sqlite://../target/sandbox-deployment.db", "sqlite://sc.db"),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("socialconnect")
        .unwrap()
        .env_remove("SOCIALCONNECT_CONFIG")
        .env("SANDBOX_META_APP_SECRET", "demo")
        .arg("--config")
        .arg(&config)
        .args(["records", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recipients: Vec<&str> = record["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["platform"].as_str())
        .collect();
    assert_eq!(recipients, ["facebook", "instagram"]);
    assert_eq!(record["sub_processors"][0]["name"], "Example Cloud GmbH");
    assert!(
        record["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.contains("demo"))),
        "{record}"
    );
}
