//! The same binary against PostgreSQL (a fresh database per test on the server in
//! `SC_TEST_PG_URL`; skipped when it is unset): doctor, connections, export, ledger, rotation
//! and erasure through a `postgres://` store URL.

mod common;

use common::{Sandbox, assert_no_secrets, json, key_line, seed, text};

#[tokio::test(flavor = "multi_thread")]
async fn every_data_command_on_postgres() {
    let Some(sb) = Sandbox::postgres().await else {
        return;
    };
    let store = sb.store().await;
    let key = seed(&store, "pg-alice").await;
    seed(&store, "pg-bob").await;
    store.close().await;
    let mut all = String::new();

    let out = sb.cmd().args(["doctor", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["passed"], true);
    all += &text(&out);

    let out = sb
        .cmd()
        .args(["connections", "list", "--json"])
        .output()
        .unwrap();
    let v = json(&out);
    let ids: Vec<&str> = v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["connection_id"].as_str())
        .collect();
    assert!(ids.contains(&key.connection.to_string().as_str()), "{v}");
    all += &text(&out);

    let out = sb.cmd().args(["export", "pg-alice"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["connections"][0]["platform"], "linkedin");
    all += &text(&out);

    let out = sb
        .cmd()
        .args(["ledger", "verify", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json(&out)["checked"], 2);

    sb.write_keyring(&[key_line("k1", false, 7), key_line("k2", true, 9)]);
    let out = sb
        .cmd()
        .args(["keys", "rotate", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["primary"], "k2");
    assert!(v["rewrapped"].as_u64().unwrap() >= 2, "{v}");
    let out = sb
        .cmd()
        .args(["keys", "rotate", "--json"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["rewrapped"], 0);

    let out = sb
        .cmd()
        .args(["erase", "pg-alice", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["removed"]["tokens"], 1);
    all += &text(&out);
    let out = sb.cmd().args(["export", "pg-alice"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = sb.cmd().args(["purge", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));

    assert_no_secrets(&all);
    sb.finish().await;
}
