//! The backend checks every SQL backend passes, written once against [`Backend`]: each backend's
//! test module runs all of them on a fresh database of its own through [`backend_checks!`],
//! and adds the tests only its engine has (raw rows, files, URLs).

use std::collections::BTreeSet;
use std::sync::Arc;

use socialconnect_core::ErrorKind;
use socialconnect_core::store::PutOutcome;

use crate::backend::{
    Backend, ConsentRow, DeclarationRow, DeletionRow, DeletionStatusUpdate, ErasureCounts, MetaRow,
    NewConsentRow, NoticeRow, PendingRow, Rewrap, SubjectKeyRow, SubjectRef, TokenRow, UsageRow,
};
use crate::chain::{self, ChainVerifier};

/// Defines one `#[tokio::test]` per backend-independent check in the invoking module, named
/// after the check.
///
/// `$start` is an async constructor of a harness over a fresh, empty database, returning
/// `None` when the backend cannot run here (the test then passes without checking anything).
/// The harness has a `backend: Arc<B>` field (`B: Backend`) and an `async fn finish(self)`
/// that closes the backend and removes the database.
macro_rules! backend_checks {
    ($start:path) => {
        $crate::backend::checks::backend_checks!(
            @each $start;
            meta_rows,
            subject_keys,
            tokens,
            leases,
            pending_states,
            take_pending_is_single_use,
            consent_chain,
            concurrent_appends_keep_one_chain,
            usage_log,
            usage_batches,
            notices,
            declarations,
            erasure,
            tokens_by_account,
            deletion_requests,
        );
    };
    (@each $start:path; $($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let Some(harness) = $start().await else { return };
            $crate::backend::checks::$check(harness.backend.clone()).await;
            harness.finish().await;
        }
    )*};
}
pub(crate) use backend_checks;

// --- raw rows, inserted by each backend's own driver ---

/// One statement a backend's test runs on its database directly, below the backend. The SQL
/// uses PostgreSQL's `$N` placeholders (SQLite runs it with `?N`); every parameter is a blob.
pub(crate) struct RawInsert {
    pub sql: &'static str,
    pub blobs: Vec<Vec<u8>>,
}

/// A byte string planted in the sealed column of malformed rows: no error may show it.
pub(crate) const SEALED_MARK: &[u8] = b"SEALED-MARKER";

/// Rows no backend writes, for [`check_malformed_rows`]: a token with a 5-byte pseudonym, a
/// token with a negative version, a consent row with a 5-byte hash and a pending state with a
/// 5-byte pseudonym.
pub(crate) fn malformed_rows() -> Vec<RawInsert> {
    vec![
        RawInsert {
            sql: "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, \
                      status_since, updated_at, dek_id, sealed) \
                  VALUES ('short-ref', $1, 'meta', 1, 'active', NULL, 1, 'dek', $2)",
            blobs: vec![vec![1, 2, 3, 4, 5], SEALED_MARK.to_vec()],
        },
        RawInsert {
            sql: "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, \
                      status_since, updated_at, dek_id, sealed) \
                  VALUES ('negative', $1, 'meta', -3, 'active', NULL, 1, 'dek', $2)",
            blobs: vec![subject(1).to_vec(), SEALED_MARK.to_vec()],
        },
        RawInsert {
            sql: "INSERT INTO sc_consent (seq, row_digest, prev_hash, hash) \
                  VALUES (1, $1, $1, $2)",
            blobs: vec![vec![0; 32], vec![9; 5]],
        },
        RawInsert {
            sql: "INSERT INTO sc_pending (state_hash, subject_ref, expires_at, dek_id, sealed) \
                  VALUES ($1, $2, 1, 'dek', $3)",
            blobs: vec![vec![4; 32], vec![4; 5], SEALED_MARK.to_vec()],
        },
    ]
}

/// The connection an earlier release left in a schema-1 database, as stored.
pub(crate) fn schema_1_token() -> TokenRow {
    TokenRow {
        conn_id: "old-conn".to_owned(),
        subject_ref: subject(1),
        platform: "meta".to_owned(),
        version: 3,
        status: "active".to_owned(),
        status_since: None,
        updated_at: 1,
        account_ref: None,
        dek_id: "dek-1".to_owned(),
        sealed: vec![7; 40],
        // Schema 5 marks every active row from before it as due at once.
        refresh_due_at: Some(0),
    }
}

/// What an earlier release wrote into a schema-1 database: [`schema_1_token`].
pub(crate) fn schema_1_rows() -> Vec<RawInsert> {
    let old = schema_1_token();
    vec![RawInsert {
        sql: "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, \
                  status_since, updated_at, dek_id, sealed) \
              VALUES ('old-conn', $1, 'meta', 3, 'active', NULL, 1, 'dek-1', $2)",
        blobs: vec![old.subject_ref.to_vec(), old.sealed],
    }]
}

// --- rows ---

pub(crate) fn subject(n: u8) -> SubjectRef {
    [n; 32]
}

pub(crate) fn token_row(conn_id: &str, subject_n: u8, platform: &str) -> TokenRow {
    TokenRow {
        conn_id: conn_id.to_owned(),
        subject_ref: subject(subject_n),
        platform: platform.to_owned(),
        version: 0,
        status: "ignored".to_owned(),
        status_since: None,
        updated_at: 1_700_000_000,
        account_ref: None,
        dek_id: "dek-1".to_owned(),
        sealed: vec![0xA5; 48],
        refresh_due_at: Some(1_700_003_600),
    }
}

pub(crate) fn deletion_row(code: &str, subject_n: Option<u8>, received_at: i64) -> DeletionRow {
    DeletionRow {
        code: code.to_owned(),
        platform: "facebook".to_owned(),
        subject_ref: subject_n.map(subject),
        dek_id: subject_n.map(|n| format!("dek-{n}")),
        sealed: subject_n.map(|n| vec![n; 40]),
        received_at,
        status: "pending".to_owned(),
        status_at: None,
        reason: None,
    }
}

pub(crate) fn key_row(subject_n: u8, kek_id: &str) -> SubjectKeyRow {
    SubjectKeyRow {
        subject_ref: subject(subject_n),
        dek_id: format!("dek-{subject_n}"),
        kek_id: kek_id.to_owned(),
        wrapped: vec![subject_n; 60],
        created_at: 1_700_000_000 + i64::from(subject_n),
    }
}

pub(crate) fn pending_row(hash_n: u8, subject_n: u8, expires_at: i64) -> PendingRow {
    PendingRow {
        state_hash: [hash_n; 32],
        subject_ref: subject(subject_n),
        expires_at,
        dek_id: "dek-1".to_owned(),
        sealed: vec![hash_n; 40],
    }
}

pub(crate) fn consent_row(
    subject_n: u8,
    purpose: &str,
    platform: &str,
    action: &str,
) -> NewConsentRow {
    NewConsentRow {
        subject_ref: subject(subject_n),
        purpose: purpose.to_owned(),
        platform: platform.to_owned(),
        action: action.to_owned(),
        recorded_at: 1_700_000_000,
        expires_at: None,
        dek_id: format!("dek-{subject_n}"),
        sealed: vec![subject_n; 33],
        basis: "consent".to_owned(),
        notice_version: None,
    }
}

pub(crate) fn usage_row(subject_n: u8, at: i64) -> UsageRow {
    UsageRow {
        subject_ref: subject(subject_n),
        at,
        platform: "meta".to_owned(),
        operation: "pages.list".to_owned(),
        outcome: "ok".to_owned(),
        http_status: Some(200),
        latency_us: 1234,
        dek_id: format!("dek-{subject_n}"),
        sealed: vec![subject_n; 20],
    }
}

/// Every consent row, in order, checked with the chain verifier.
pub(crate) async fn verify_chain(b: &dyn Backend) -> Vec<ConsentRow> {
    let mut verifier = ChainVerifier::new();
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let batch = b.consent_range(after, 3).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for row in &batch {
            assert!(verifier.feed(row), "chain broken at seq {}", row.seq);
        }
        rows.extend(batch);
    }
    let report = verifier.report();
    assert_eq!(report.first_broken, None);
    assert_eq!(report.checked, rows.len() as u64);
    rows
}

// --- checks every backend passes ---

pub(crate) async fn meta_rows(b: Arc<dyn Backend>) {
    assert_eq!(b.get_meta("pseudonym").await.unwrap(), None);
    let first = MetaRow {
        name: "pseudonym".to_owned(),
        kek_id: "kek-1".to_owned(),
        wrapped: vec![1; 60],
    };
    assert_eq!(b.insert_meta_if_absent(first.clone()).await.unwrap(), first);
    let second = MetaRow {
        kek_id: "kek-2".to_owned(),
        wrapped: vec![2; 60],
        ..first.clone()
    };
    assert_eq!(
        b.insert_meta_if_absent(second).await.unwrap(),
        first,
        "the first one stays"
    );
    assert_eq!(b.get_meta("pseudonym").await.unwrap(), Some(first.clone()));

    assert!(
        !b.rewrap_meta("pseudonym", "kek-9", "kek-2", vec![3; 60])
            .await
            .unwrap()
    );
    assert!(
        !b.rewrap_meta("other", "kek-1", "kek-2", vec![3; 60])
            .await
            .unwrap()
    );
    assert!(
        b.rewrap_meta("pseudonym", "kek-1", "kek-2", vec![3; 60])
            .await
            .unwrap()
    );
    let now = b.get_meta("pseudonym").await.unwrap().unwrap();
    assert_eq!((now.kek_id.as_str(), now.wrapped), ("kek-2", vec![3; 60]));
}

pub(crate) async fn subject_keys(b: Arc<dyn Backend>) {
    assert_eq!(b.get_subject_key(&subject(1)).await.unwrap(), None);
    let k1 = key_row(1, "kek-1");
    assert_eq!(
        b.insert_subject_key_if_absent(k1.clone()).await.unwrap(),
        k1
    );
    let rival = SubjectKeyRow {
        dek_id: "dek-rival".to_owned(),
        ..key_row(1, "kek-2")
    };
    assert_eq!(b.insert_subject_key_if_absent(rival).await.unwrap(), k1);
    assert_eq!(
        b.get_subject_key(&subject(1)).await.unwrap(),
        Some(k1.clone())
    );

    // Racing creators of one subject's key all end up with the same key.
    let racers: Vec<_> = (0..8u8)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move {
                let row = SubjectKeyRow {
                    dek_id: format!("dek-race-{i}"),
                    ..key_row(9, "kek-1")
                };
                b.insert_subject_key_if_absent(row).await.unwrap()
            })
        })
        .collect();
    let mut winners = BTreeSet::new();
    for racer in racers {
        winners.insert(racer.await.unwrap().dek_id);
    }
    assert_eq!(winners.len(), 1);

    b.insert_subject_key_if_absent(key_row(2, "kek-1"))
        .await
        .unwrap();
    b.insert_subject_key_if_absent(key_row(3, "kek-2"))
        .await
        .unwrap();
    b.insert_meta_if_absent(MetaRow {
        name: "pseudonym".to_owned(),
        kek_id: "kek-1".to_owned(),
        wrapped: vec![0; 60],
    })
    .await
    .unwrap();
    // kek-1: subjects 1, 2, 9 and the meta row; kek-2: subject 3.
    assert_eq!(b.count_wrapped_by("kek-1").await.unwrap(), 4);
    assert_eq!(b.count_not_wrapped_by("kek-1").await.unwrap(), 1);
    assert_eq!(b.count_wrapped_by("kek-2").await.unwrap(), 1);
    assert_eq!(b.count_not_wrapped_by("kek-2").await.unwrap(), 4);
    assert_eq!(b.count_wrapped_by("kek-3").await.unwrap(), 0);

    let page = b
        .subject_keys_not_wrapped_by("kek-2", None, 2)
        .await
        .unwrap();
    assert_eq!(page, vec![k1.clone(), key_row(2, "kek-1")]);
    let page = b
        .subject_keys_not_wrapped_by("kek-2", Some(subject(2)), 2)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].subject_ref, subject(9));
    let page = b
        .subject_keys_not_wrapped_by("kek-2", Some(subject(9)), 2)
        .await
        .unwrap();
    assert!(page.is_empty());

    assert_eq!(b.rewrap_subject_keys(Vec::new()).await.unwrap(), 0);
    let applied = b
        .rewrap_subject_keys(vec![
            Rewrap {
                subject_ref: subject(1),
                expected_kek: "kek-1".to_owned(),
                new_kek: "kek-2".to_owned(),
                wrapped: vec![7; 60],
            },
            // Stale: subject 2 is wrapped by kek-1, not kek-9.
            Rewrap {
                subject_ref: subject(2),
                expected_kek: "kek-9".to_owned(),
                new_kek: "kek-2".to_owned(),
                wrapped: vec![8; 60],
            },
        ])
        .await
        .unwrap();
    assert_eq!(applied, 1);
    let k1_now = b.get_subject_key(&subject(1)).await.unwrap().unwrap();
    assert_eq!(
        (k1_now.kek_id.as_str(), k1_now.wrapped),
        ("kek-2", vec![7; 60])
    );
    assert_eq!(k1_now.dek_id, k1.dek_id, "a rewrap keeps the data key's id");
    assert_eq!(
        b.get_subject_key(&subject(2)).await.unwrap(),
        Some(key_row(2, "kek-1"))
    );
    assert_eq!(b.count_wrapped_by("kek-2").await.unwrap(), 2);
}

pub(crate) async fn tokens(b: Arc<dyn Backend>) {
    let row = token_row("conn-1", 1, "meta");
    assert_eq!(
        b.put_token(row.clone(), None).await.unwrap(),
        PutOutcome::Written(1)
    );
    let stored = b.get_token("conn-1").await.unwrap().unwrap();
    assert_eq!(
        stored,
        TokenRow {
            version: 1,
            status: "active".to_owned(),
            ..row.clone()
        }
    );

    assert_eq!(
        b.put_token(row.clone(), None).await.unwrap(),
        PutOutcome::Written(2)
    );
    let newer = TokenRow {
        sealed: vec![0x5A; 50],
        updated_at: 1_700_000_100,
        ..row.clone()
    };
    assert_eq!(
        b.put_token(newer.clone(), Some(2)).await.unwrap(),
        PutOutcome::Written(3)
    );
    assert_eq!(
        b.put_token(row.clone(), Some(2)).await.unwrap(),
        PutOutcome::Conflict(Some(3))
    );
    assert_eq!(
        b.get_token("conn-1").await.unwrap().unwrap().sealed,
        newer.sealed
    );
    assert_eq!(
        b.put_token(token_row("conn-new", 1, "meta"), Some(1))
            .await
            .unwrap(),
        PutOutcome::Conflict(None)
    );
    assert_eq!(b.get_token("conn-new").await.unwrap(), None);
    assert_eq!(b.get_token("conn-none").await.unwrap(), None);

    assert!(
        b.set_token_status(
            "conn-1",
            "reconnect_required",
            Some(1_700_000_200),
            1_700_000_300
        )
        .await
        .unwrap()
    );
    let marked = b.get_token("conn-1").await.unwrap().unwrap();
    assert_eq!(marked.version, 4);
    assert_eq!(marked.status, "reconnect_required");
    assert_eq!(marked.status_since, Some(1_700_000_200));
    assert_eq!(marked.updated_at, 1_700_000_300);
    assert!(
        !b.set_token_status("conn-none", "revoked", None, 1)
            .await
            .unwrap()
    );
    // A write through CAS makes the connection active again.
    assert_eq!(
        b.put_token(row.clone(), Some(4)).await.unwrap(),
        PutOutcome::Written(5)
    );
    assert_eq!(
        b.get_token("conn-1").await.unwrap().unwrap().status,
        "active"
    );

    b.put_token(token_row("conn-0", 1, "tiktok"), None)
        .await
        .unwrap();
    b.put_token(token_row("conn-2", 2, "meta"), None)
        .await
        .unwrap();
    assert_eq!(
        b.tokens_of(&subject(1)).await.unwrap(),
        vec![
            ("conn-0".to_owned(), "tiktok".to_owned()),
            ("conn-1".to_owned(), "meta".to_owned())
        ]
    );
    assert!(b.tokens_of(&subject(3)).await.unwrap().is_empty());

    // Deleting a connection drops its lease too.
    assert!(b.try_lease("conn-1", "owner-a", 100, 200).await.unwrap());
    assert!(b.delete_token("conn-1").await.unwrap());
    assert!(!b.delete_token("conn-1").await.unwrap());
    assert_eq!(b.get_token("conn-1").await.unwrap(), None);
    assert!(b.try_lease("conn-1", "owner-b", 101, 200).await.unwrap());
}

pub(crate) async fn leases(b: Arc<dyn Backend>) {
    assert!(b.try_lease("conn", "a", 100, 130).await.unwrap());
    assert!(
        !b.try_lease("conn", "b", 110, 140).await.unwrap(),
        "held by a"
    );
    assert!(
        b.try_lease("conn", "a", 110, 150).await.unwrap(),
        "a renews"
    );
    assert!(
        !b.try_lease("conn", "b", 149, 180).await.unwrap(),
        "still held by a"
    );
    assert!(
        !b.release_lease("conn", "b").await.unwrap(),
        "b does not hold it"
    );
    assert!(
        b.try_lease("conn", "b", 150, 180).await.unwrap(),
        "a's lease lapsed at 150"
    );
    assert!(!b.release_lease("conn", "a").await.unwrap(), "a lost it");
    assert!(
        b.try_lease("other", "a", 150, 180).await.unwrap(),
        "leases are per connection"
    );
    assert!(b.release_lease("conn", "b").await.unwrap());
    assert!(!b.release_lease("conn", "b").await.unwrap());
    assert!(b.try_lease("conn", "c", 151, 180).await.unwrap());

    // Of many would-be holders at once, one wins.
    let takers: Vec<_> = (0..10)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(
                async move { b.try_lease("race", &format!("o{i}"), 1, 100).await.unwrap() },
            )
        })
        .collect();
    let mut won = 0;
    for taker in takers {
        won += usize::from(taker.await.unwrap());
    }
    assert_eq!(won, 1);
}

pub(crate) async fn pending_states(b: Arc<dyn Backend>) {
    let p1 = pending_row(1, 1, 100);
    b.insert_pending(p1.clone()).await.unwrap();
    let duplicate = b.insert_pending(pending_row(1, 2, 500)).await.unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::InvalidInput);
    b.insert_pending(pending_row(2, 1, 200)).await.unwrap();
    b.insert_pending(pending_row(3, 2, 300)).await.unwrap();
    b.insert_pending(pending_row(4, 2, 400)).await.unwrap();

    assert_eq!(b.take_pending(&[1; 32]).await.unwrap(), Some(p1));
    assert_eq!(b.take_pending(&[1; 32]).await.unwrap(), None, "single use");
    assert_eq!(b.take_pending(&[9; 32]).await.unwrap(), None);

    assert_eq!(b.purge_pending(200).await.unwrap(), 1, "expired at 200");
    assert_eq!(b.take_pending(&[2; 32]).await.unwrap(), None);
    assert_eq!(b.erase_pending_of(&subject(2)).await.unwrap(), 2);
    assert_eq!(b.take_pending(&[3; 32]).await.unwrap(), None);
    assert_eq!(b.erase_pending_of(&subject(2)).await.unwrap(), 0);
}

pub(crate) async fn take_pending_is_single_use(b: Arc<dyn Backend>) {
    let row = pending_row(7, 1, 1_000);
    b.insert_pending(row.clone()).await.unwrap();
    let takers: Vec<_> = (0..10)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.take_pending(&[7; 32]).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for taker in takers {
        taken.extend(taker.await.unwrap());
    }
    assert_eq!(taken, vec![row]);
}

pub(crate) async fn consent_chain(b: Arc<dyn Backend>) {
    const ACCOUNT: &str = "account_connection";
    let first = b
        .append_consent(consent_row(1, ACCOUNT, "", "grant"))
        .await
        .unwrap();
    assert_eq!(first.seq, 1);
    assert_eq!(first.prev_hash, [0; 32]);
    let digest = chain::row_digest(&consent_row(1, ACCOUNT, "", "grant"));
    assert_eq!(first.row_digest, digest);
    assert_eq!(first.hash, chain::link(&[0; 32], 1, &digest));

    let second = b
        .append_consent(consent_row(1, ACCOUNT, "meta", "withdraw"))
        .await
        .unwrap();
    assert_eq!((second.seq, second.prev_hash), (2, first.hash));
    b.append_consent(consent_row(2, ACCOUNT, "", "grant"))
        .await
        .unwrap();

    let state = b
        .consent_state(&subject(1), ACCOUNT, &["meta", ""])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((state.seq, state.action.as_str()), (2, "withdraw"));
    let state = b
        .consent_state(&subject(1), ACCOUNT, &[""])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((state.seq, state.action.as_str()), (1, "grant"));
    assert_eq!(
        b.consent_state(&subject(1), ACCOUNT, &["tiktok"])
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        b.consent_state(&subject(1), "analytics", &["meta", ""])
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        b.consent_state(&subject(1), ACCOUNT, &[]).await.unwrap(),
        None
    );

    // A later event for all platforms overrides the platform's own withdrawal.
    let fourth = b
        .append_consent(NewConsentRow {
            expires_at: Some(1_800_000_000),
            recorded_at: 1_700_000_500,
            ..consent_row(1, ACCOUNT, "", "grant")
        })
        .await
        .unwrap();
    assert_eq!(fourth.seq, 4);
    let state = b
        .consent_state(&subject(1), ACCOUNT, &["meta", ""])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.seq, state.action.as_str(), state.expires_at),
        (4, "grant", Some(1_800_000_000))
    );

    let history = b.consent_of(&subject(1)).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 4]
    );
    assert_eq!(history[0], first);
    assert_eq!(history[1], second);
    assert_eq!(history[2], fourth);
    assert!(b.consent_of(&subject(3)).await.unwrap().is_empty());

    assert_eq!(
        b.consent_range(1, 2)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert!(b.consent_range(4, 10).await.unwrap().is_empty());
    assert_eq!(verify_chain(&*b).await.len(), 4);
}

pub(crate) async fn concurrent_appends_keep_one_chain(b: Arc<dyn Backend>) {
    let appenders: Vec<_> = (0..20u8)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move {
                let row = consent_row(i % 4, "analytics", "meta", "grant");
                b.append_consent(row).await.unwrap().seq
            })
        })
        .collect();
    let mut seqs = BTreeSet::new();
    for appender in appenders {
        seqs.insert(appender.await.unwrap());
    }
    assert_eq!(seqs, (1..=20).collect::<BTreeSet<i64>>());
    let rows = verify_chain(&*b).await;
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
}

/// A notice version is stored once: the first content stands.
pub(crate) async fn notices(b: Arc<dyn Backend>) {
    assert!(b.notices().await.unwrap().is_empty());
    let v1 = NoticeRow {
        version: "2026-03".to_owned(),
        hash: "sha256:1111".to_owned(),
        significant: true,
        effective_at: 1_770_000_000_123_456,
    };
    let v0 = NoticeRow {
        version: "2025-01".to_owned(),
        hash: "sha256:0000".to_owned(),
        significant: false,
        effective_at: 1_700_000_000_000_000,
    };
    b.insert_notice(v1.clone()).await.unwrap();
    b.insert_notice(NoticeRow {
        hash: "sha256:other".to_owned(),
        ..v1.clone()
    })
    .await
    .unwrap();
    b.insert_notice(v0.clone()).await.unwrap();
    assert_eq!(b.notices().await.unwrap(), vec![v0, v1]);
}

/// The register keeps one entry per purpose: an insert leaves an existing one, a replace
/// overwrites it, and a retraction (no basis) is an entry too.
pub(crate) async fn declarations(b: Arc<dyn Backend>) {
    assert!(b.declarations().await.unwrap().is_empty());
    let analytics = DeclarationRow {
        purpose: "analytics".to_owned(),
        basis: Some("legitimate_interest".to_owned()),
        justification: Some("reach figures".to_owned()),
        declared_at: 1,
    };
    b.put_declaration(analytics.clone(), false).await.unwrap();
    b.put_declaration(
        DeclarationRow {
            basis: Some("contract".to_owned()),
            declared_at: 2,
            ..analytics.clone()
        },
        false,
    )
    .await
    .unwrap();
    assert_eq!(b.declarations().await.unwrap(), vec![analytics.clone()]);
    let retracted = DeclarationRow {
        basis: None,
        justification: None,
        declared_at: 3,
        ..analytics
    };
    b.put_declaration(retracted.clone(), true).await.unwrap();
    let publishing = DeclarationRow {
        purpose: "publishing".to_owned(),
        basis: Some("contract".to_owned()),
        justification: Some("the paid feature".to_owned()),
        declared_at: 4,
    };
    b.put_declaration(publishing.clone(), false).await.unwrap();
    assert_eq!(b.declarations().await.unwrap(), vec![retracted, publishing]);
}

/// A batch lands whole and in order, across the backends' multi-row statements (64 rows at
/// most; SQLite splits the rest in falling powers of two, PostgreSQL writes a batch of one
/// statement without a transaction around it); an empty batch is nothing.
pub(crate) async fn usage_batches(b: Arc<dyn Backend>) {
    b.append_usage_batch(Vec::new()).await.unwrap();
    assert!(b.usage_of(&subject(4)).await.unwrap().is_empty());
    let rows: Vec<UsageRow> = (1..=150)
        .map(|at| UsageRow {
            operation: format!("op.{at}"),
            ..usage_row(4, at)
        })
        .collect();
    b.append_usage_batch(rows.clone()).await.unwrap();
    let page = b.usage_page(&subject(4), 0, 200).await.unwrap();
    let read: Vec<UsageRow> = page.into_iter().map(|(_, row)| row).collect();
    assert_eq!(read, rows, "every row, in append order");

    // Sizes around the chunk bounds, two subjects interleaved, every column varying (a
    // positional bind one column off would show).
    let mut at = 1_000;
    for size in [1, 2, 3, 37, 63, 64, 65, 127, 128, 129] {
        let rows: Vec<UsageRow> = (0..size)
            .map(|n| {
                at += 1;
                let subject_n = if n % 3 == 0 { 5 } else { 6 };
                UsageRow {
                    platform: format!("p{}", n % 4),
                    operation: format!("op.{size}.{n}"),
                    outcome: if n % 2 == 0 { "ok" } else { "rate_limited" }.to_owned(),
                    http_status: (n % 5 != 0).then_some(200 + n),
                    latency_us: 10 * n,
                    sealed: vec![u8::try_from(n % 256).unwrap(); 1 + usize::try_from(n).unwrap()],
                    ..usage_row(subject_n, at)
                }
            })
            .collect();
        b.append_usage_batch(rows.clone()).await.unwrap();
        for subject_n in [5, 6] {
            let page = b.usage_page(&subject(subject_n), 0, 1_000).await.unwrap();
            let read: Vec<UsageRow> = page
                .into_iter()
                .map(|(_, row)| row)
                .filter(|row| row.operation.starts_with(&format!("op.{size}.")))
                .collect();
            let expected: Vec<UsageRow> = rows
                .iter()
                .filter(|row| row.subject_ref == subject(subject_n))
                .cloned()
                .collect();
            assert_eq!(read, expected, "a batch of {size}, subject {subject_n}");
        }
    }
}

pub(crate) async fn usage_log(b: Arc<dyn Backend>) {
    for at in [30, 10, 20] {
        b.append_usage(usage_row(1, at)).await.unwrap();
    }
    b.append_usage(UsageRow {
        http_status: None,
        outcome: "transport_error".to_owned(),
        ..usage_row(2, 5)
    })
    .await
    .unwrap();
    for at in 1..=10 {
        b.append_usage(usage_row(3, at)).await.unwrap();
    }
    assert_eq!(
        b.usage_of(&subject(1)).await.unwrap(),
        vec![usage_row(1, 10), usage_row(1, 20), usage_row(1, 30)]
    );
    assert_eq!(b.usage_of(&subject(2)).await.unwrap()[0].http_status, None);

    // Before 25: subject 1 at 10 and 20, subject 2 at 5, subject 3's ten rows — five batches.
    assert_eq!(b.purge_usage_before(25, 3).await.unwrap(), 13);
    assert_eq!(
        b.usage_of(&subject(1)).await.unwrap(),
        vec![usage_row(1, 30)]
    );
    assert!(b.usage_of(&subject(3)).await.unwrap().is_empty());
    assert_eq!(
        b.purge_usage_before(25, 0).await.unwrap(),
        0,
        "a zero batch still ends"
    );
    assert_eq!(b.purge_usage_before(31, 1).await.unwrap(), 1);

    b.append_usage(usage_row(4, 50)).await.unwrap();
    b.append_usage(usage_row(4, 60)).await.unwrap();
    assert_eq!(b.erase_usage_of(&subject(4)).await.unwrap(), 2);
    assert!(b.usage_of(&subject(4)).await.unwrap().is_empty());
}

pub(crate) async fn erasure(b: Arc<dyn Backend>) {
    const ACCOUNT: &str = "account_connection";
    for n in [1, 2] {
        b.insert_subject_key_if_absent(key_row(n, "kek-1"))
            .await
            .unwrap();
    }
    b.put_token(token_row("conn-1a", 1, "meta"), None)
        .await
        .unwrap();
    b.put_token(token_row("conn-1b", 1, "tiktok"), None)
        .await
        .unwrap();
    b.put_token(token_row("conn-2", 2, "meta"), None)
        .await
        .unwrap();
    assert!(b.try_lease("conn-1a", "owner", 100, 200).await.unwrap());
    assert!(b.try_lease("conn-2", "owner", 100, 200).await.unwrap());
    b.insert_pending(pending_row(1, 1, 1_000)).await.unwrap();
    b.insert_pending(pending_row(2, 1, 1_000)).await.unwrap();
    b.insert_pending(pending_row(3, 2, 1_000)).await.unwrap();
    for at in [1, 2, 3] {
        b.append_usage(usage_row(1, at)).await.unwrap();
    }
    b.append_usage(usage_row(2, 1)).await.unwrap();
    for (code, n) in [("del-1", Some(1)), ("del-2", Some(2)), ("del-none", None)] {
        b.insert_deletion_request(deletion_row(code, n, 10))
            .await
            .unwrap();
    }
    b.append_consent(consent_row(1, ACCOUNT, "", "grant"))
        .await
        .unwrap();
    b.append_consent(consent_row(2, ACCOUNT, "", "grant"))
        .await
        .unwrap();
    b.append_consent(consent_row(1, ACCOUNT, "meta", "withdraw"))
        .await
        .unwrap();

    let counts = b.erase_subject(&subject(1)).await.unwrap();
    assert_eq!(
        counts,
        ErasureCounts {
            tokens: 2,
            leases: 1,
            pending_states: 2,
            consent_records: 2,
            usage_entries: 3,
            deletion_requests: 1,
            subject_keys: 1,
            profiles: 0,
            actions: 0,
        }
    );
    // The request stays, without who it concerned; the others are untouched.
    assert_eq!(
        b.get_deletion_request("del-1").await.unwrap(),
        Some(DeletionRow {
            subject_ref: None,
            dek_id: None,
            sealed: None,
            ..deletion_row("del-1", Some(1), 10)
        })
    );
    assert_eq!(
        b.get_deletion_request("del-2").await.unwrap(),
        Some(deletion_row("del-2", Some(2), 10))
    );

    assert_eq!(b.get_subject_key(&subject(1)).await.unwrap(), None);
    assert!(b.tokens_of(&subject(1)).await.unwrap().is_empty());
    assert_eq!(b.get_token("conn-1a").await.unwrap(), None);
    assert!(
        b.try_lease("conn-1a", "someone", 101, 200).await.unwrap(),
        "lease gone"
    );
    assert_eq!(b.take_pending(&[1; 32]).await.unwrap(), None);
    assert!(b.usage_of(&subject(1)).await.unwrap().is_empty());
    assert!(b.consent_of(&subject(1)).await.unwrap().is_empty());
    assert_eq!(
        b.consent_state(&subject(1), ACCOUNT, &["meta", ""])
            .await
            .unwrap(),
        None
    );

    // Tombstones keep the chain; nothing of subject 1 is left in them.
    let rows = verify_chain(&*b).await;
    assert_eq!(rows.len(), 3);
    for tombstone in [&rows[0], &rows[2]] {
        assert_eq!(
            tombstone,
            &ConsentRow {
                seq: tombstone.seq,
                subject_ref: None,
                purpose: None,
                platform: None,
                action: None,
                recorded_at: None,
                expires_at: None,
                dek_id: None,
                sealed: None,
                row_digest: tombstone.row_digest,
                prev_hash: tombstone.prev_hash,
                hash: tombstone.hash,
            }
        );
    }
    assert_eq!(rows[1].subject_ref, Some(subject(2)));

    // Subject 2 is untouched.
    assert_eq!(
        b.get_subject_key(&subject(2)).await.unwrap(),
        Some(key_row(2, "kek-1"))
    );
    assert_eq!(b.tokens_of(&subject(2)).await.unwrap().len(), 1);
    assert!(
        !b.try_lease("conn-2", "someone", 101, 200).await.unwrap(),
        "lease kept"
    );
    assert_eq!(b.usage_of(&subject(2)).await.unwrap().len(), 1);
    assert_eq!(b.consent_of(&subject(2)).await.unwrap().len(), 1);
    assert!(
        b.consent_state(&subject(2), ACCOUNT, &[""])
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        b.take_pending(&[3; 32])
            .await
            .unwrap()
            .map(|p| p.subject_ref),
        Some(subject(2))
    );

    // Erasing again finds nothing; the chain grows on after tombstones.
    assert_eq!(
        b.erase_subject(&subject(1)).await.unwrap(),
        ErasureCounts::default()
    );
    let next = b
        .append_consent(consent_row(2, ACCOUNT, "", "withdraw"))
        .await
        .unwrap();
    assert_eq!((next.seq, next.prev_hash), (4, rows[2].hash));
    assert_eq!(verify_chain(&*b).await.len(), 4);
}

pub(crate) async fn tokens_by_account(b: Arc<dyn Backend>) {
    let account = |n: u8| -> [u8; 32] { [0x40 + n; 32] };
    let with_account = |conn: &str, subject_n: u8, account_n: u8| TokenRow {
        account_ref: Some(account(account_n)),
        ..token_row(conn, subject_n, "meta")
    };
    b.put_token(with_account("conn-b", 1, 1), None)
        .await
        .unwrap();
    b.put_token(with_account("conn-a", 2, 1), None)
        .await
        .unwrap();
    b.put_token(with_account("conn-c", 1, 2), None)
        .await
        .unwrap();
    b.put_token(token_row("conn-d", 1, "meta"), None)
        .await
        .unwrap();
    let found = b.tokens_by_account(&account(1)).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.conn_id.as_str()).collect::<Vec<_>>(),
        ["conn-a", "conn-b"]
    );
    assert_eq!(
        found[1],
        TokenRow {
            version: 1,
            status: "active".to_owned(),
            ..with_account("conn-b", 1, 1)
        }
    );
    assert!(b.tokens_by_account(&account(9)).await.unwrap().is_empty());

    // Both write paths replace the pseudonym, and a write without one clears it.
    assert_eq!(
        b.put_token(with_account("conn-b", 1, 2), Some(1))
            .await
            .unwrap(),
        PutOutcome::Written(2)
    );
    assert_eq!(b.tokens_by_account(&account(1)).await.unwrap().len(), 1);
    assert_eq!(b.tokens_by_account(&account(2)).await.unwrap().len(), 2);
    b.put_token(token_row("conn-c", 1, "meta"), None)
        .await
        .unwrap();
    assert_eq!(
        b.get_token("conn-c").await.unwrap().unwrap().account_ref,
        None
    );
    assert_eq!(
        b.tokens_by_account(&account(2))
            .await
            .unwrap()
            .iter()
            .map(|r| r.conn_id.as_str())
            .collect::<Vec<_>>(),
        ["conn-b"]
    );
    // A status change keeps it.
    assert!(
        b.set_token_status("conn-b", "revoked", Some(5), 6)
            .await
            .unwrap()
    );
    assert_eq!(b.tokens_by_account(&account(2)).await.unwrap().len(), 1);
}

pub(crate) async fn deletion_requests(b: Arc<dyn Backend>) {
    b.insert_deletion_request(deletion_row("late", Some(1), 300))
        .await
        .unwrap();
    b.insert_deletion_request(deletion_row("early", Some(2), 100))
        .await
        .unwrap();
    b.insert_deletion_request(deletion_row("anon", None, 200))
        .await
        .unwrap();
    let e = b
        .insert_deletion_request(deletion_row("early", None, 999))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        b.get_deletion_request("early").await.unwrap(),
        Some(deletion_row("early", Some(2), 100))
    );
    assert_eq!(
        b.get_deletion_request("anon").await.unwrap(),
        Some(deletion_row("anon", None, 200))
    );
    assert_eq!(b.get_deletion_request("nope").await.unwrap(), None);
    let codes = |rows: Vec<DeletionRow>| rows.into_iter().map(|r| r.code).collect::<Vec<_>>();
    assert_eq!(
        codes(b.pending_deletion_requests().await.unwrap()),
        ["early", "anon", "late"]
    );

    // Rejected keeps the subject; completed clears it.
    let rejected = DeletionStatusUpdate {
        status: "rejected".to_owned(),
        status_at: Some(400),
        reason: Some("legal hold".to_owned()),
        clear_subject: false,
    };
    assert!(b.set_deletion_status("late", rejected).await.unwrap());
    assert_eq!(
        b.get_deletion_request("late").await.unwrap(),
        Some(DeletionRow {
            status: "rejected".to_owned(),
            status_at: Some(400),
            reason: Some("legal hold".to_owned()),
            ..deletion_row("late", Some(1), 300)
        })
    );
    let completed = DeletionStatusUpdate {
        status: "completed".to_owned(),
        status_at: Some(500),
        reason: None,
        clear_subject: true,
    };
    assert!(
        b.set_deletion_status("early", completed.clone())
            .await
            .unwrap()
    );
    assert_eq!(
        b.get_deletion_request("early").await.unwrap(),
        Some(DeletionRow {
            subject_ref: None,
            dek_id: None,
            sealed: None,
            status: "completed".to_owned(),
            status_at: Some(500),
            ..deletion_row("early", Some(2), 100)
        })
    );
    assert!(!b.set_deletion_status("nope", completed).await.unwrap());
    assert_eq!(
        codes(b.pending_deletion_requests().await.unwrap()),
        ["anon"]
    );
}

// --- the shared half of backend-specific tests ---

/// The rows of [`malformed_rows`], inserted raw: every read of them is a storage error naming
/// the table, never showing the sealed bytes.
pub(crate) async fn check_malformed_rows(b: &dyn Backend) {
    let refused = |e: socialconnect_core::Error, table: &str, case: &str| {
        assert_eq!(e.kind(), ErrorKind::Storage, "{case}");
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains("SEALED"), "{case}: {shown}");
            assert!(shown.contains(table), "{case}: {shown}");
        }
    };
    for conn_id in ["short-ref", "negative"] {
        refused(
            b.get_token(conn_id).await.unwrap_err(),
            "sc_tokens",
            conn_id,
        );
    }
    // The CAS path reads the version too.
    let e = b
        .put_token(token_row("negative", 1, "meta"), Some(1))
        .await
        .unwrap_err();
    refused(e, "sc_tokens", "CAS on a negative version");

    // The consent row whose hash is 5 bytes.
    let e = b.consent_range(0, 10).await.unwrap_err();
    refused(e, "sc_consent", "consent hash");

    // The pending state whose pseudonym is 5 bytes: taken (so it is gone) but refused.
    let e = b.take_pending(&[4; 32]).await.unwrap_err();
    refused(e, "sc_pending", "pending pseudonym");
    assert_eq!(
        b.take_pending(&[4; 32]).await.unwrap(),
        None,
        "a refused take still removes the state"
    );
}

/// What an upgrade from schema 1 (holding [`schema_1_rows`]) must give: the old row intact
/// without an account pseudonym, and the newer tables in place. Each backend checks the
/// migrations table itself.
pub(crate) async fn check_upgraded_from_schema_1(b: &dyn Backend) {
    let old = b.get_token("old-conn").await.unwrap().unwrap();
    assert_eq!((old.version, old.account_ref), (3, None));
    assert_eq!(old.sealed, vec![7u8; 40]);
    assert_eq!(old, schema_1_token());
    b.insert_deletion_request(deletion_row("code", Some(1), 1))
        .await
        .unwrap();
    assert_eq!(b.pending_deletion_requests().await.unwrap().len(), 1);
}
