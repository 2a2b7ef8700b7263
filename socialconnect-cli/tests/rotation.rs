//! `keys rotate` re-wraps every data key under the new primary, and is resumable: a rotation
//! that crashed after its first batch is finished by the next run, which re-wraps exactly
//! what was left.

mod common;

use common::{Sandbox, key_line, seed, text};
use socialconnect_core::consent::ConsentLedger;
use socialconnect_core::id::SubjectId;
use socialconnect_core::keys::KeyId;
use socialconnect_store::StoreOptions;

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_rotation_is_finished_by_the_next_run() {
    let sb = Sandbox::sqlite();
    let store = sb.store().await;
    for i in 0..5 {
        seed(&store, &format!("subject-{i}")).await;
    }
    store.close().await;

    // k2 becomes primary; k1 stays to unwrap what it still wraps.
    sb.write_keyring(&[key_line("k1", false, 7), key_line("k2", true, 9)]);

    // A first rotation, two keys per batch, dies after its first batch.
    let deployment = sb.deployment();
    let crashed = tokio::spawn(async move {
        let store = deployment
            .open_store_with(StoreOptions::default().with_rotation_batch(2))
            .await
            .unwrap();
        store
            .rotate_keys("test", |_| panic!("simulated crash after the first batch"))
            .await
    })
    .await;
    assert!(crashed.unwrap_err().is_panic());
    {
        let store = sb.store().await;
        let still = store.ensure_retirable(&KeyId("k1".to_owned())).await;
        assert!(
            still.is_err(),
            "k1 must still wrap the keys of the unfinished batches"
        );
        store.close().await;
    }

    // The CLI run continues: it re-wraps the three subject keys left, with progress lines.
    let out = sb
        .cmd()
        .args(["keys", "rotate", "--batch", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("keys rotate: 2/3") && t.contains("keys rotate: 3/3"),
        "{t}"
    );
    assert!(
        t.contains("3 key(s) re-wrapped") && t.contains("`k2`"),
        "{t}"
    );

    // A third run has nothing left to do.
    let out = sb
        .cmd()
        .args(["keys", "rotate", "--json"])
        .output()
        .unwrap();
    let v = common::json(&out);
    assert_eq!(v["rewrapped"], 0);
    assert_eq!(v["primary"], "k2");

    // k1 can go, and every subject still opens.
    let store = sb.store().await;
    store
        .ensure_retirable(&KeyId("k1".to_owned()))
        .await
        .unwrap();
    store.close().await;
    sb.write_keyring(&[key_line("k2", true, 9)]);
    let store = sb.store().await;
    for i in 0..5 {
        let subject = SubjectId::new(format!("subject-{i}")).unwrap();
        assert_eq!(store.history(&subject).await.unwrap().len(), 1);
    }
    store.close().await;
    let out = sb.cmd().args(["ledger", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}
