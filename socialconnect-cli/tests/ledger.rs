//! `ledger verify`: an intact chain passes in text and JSON; a row altered in the SQLite file
//! below the store is named as the first broken link, with exit code 1.

mod common;

use common::{Sandbox, json, seed, text};

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_row_is_named_as_the_first_broken_link() {
    let sb = Sandbox::sqlite();
    let store = sb.store().await;
    for s in ["a", "b", "c"] {
        seed(&store, s).await;
    }
    store.close().await;

    let out = sb.cmd().args(["ledger", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("intact: 3 record(s) checked"));
    let out = sb
        .cmd()
        .args(["ledger", "verify", "--json"])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["intact"], true);
    assert_eq!(v["checked"], 3);

    // Change the purpose of the second record, as someone with access to the file could.
    let db = rusqlite::Connection::open(sb.path("sc.db")).unwrap();
    let changed = db
        .execute(
            "UPDATE sc_consent SET purpose = 'analytics' WHERE seq = (SELECT MIN(seq) + 1 FROM sc_consent)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let seq: i64 = db
        .query_row("SELECT MIN(seq) + 1 FROM sc_consent", [], |r| r.get(0))
        .unwrap();
    drop(db);

    let out = sb.cmd().args(["ledger", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("the first broken link is record {seq}")),
        "{t}"
    );
    let out = sb
        .cmd()
        .args(["ledger", "verify", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_broken"], seq);
}
