//! Scheduled actions (`ActionStore`), on every backend: the semantics of core's
//! `MemoryActionStore`, with each action sealed under its subject's key.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use socialconnect_core::ErrorKind;
use socialconnect_core::automation::{
    ActionFilter, ActionId, ActionState, ActionStore, ActionWrite, Schedule, StoredAction,
};
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose};
use uuid::Uuid;

use super::{Kind, fixture, key, subject};

const TTL: Duration = Duration::from_secs(60);

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// A time at the microsecond precision the plain columns keep.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

fn post(key: &ConnectionKey, text: &str, due: DateTime<Utc>, now: DateTime<Utc>) -> StoredAction {
    StoredAction::new(
        key.clone(),
        Purpose::Publishing,
        "test.post",
        json!({ "text": text }),
        Schedule::once(),
        micros(due),
        micros(now),
    )
}

pub(crate) async fn actions_insert_get_and_save_under_each_condition(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = micros(f.clock.now());
    let k = key("alice", PlatformId::LINKEDIN);
    let mut a = post(&k, "hello", now + secs(10), now);
    s.insert_action(&a).await.unwrap();
    assert_eq!(s.action(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(s.action(&ActionId::new()).await.unwrap(), None);
    let dup = s.insert_action(&a).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::InvalidInput);

    // A host's edit while nobody holds it.
    a.payload = json!({ "text": "hello, edited" });
    assert!(s.save_action(&a, ActionWrite::Unclaimed).await.unwrap());
    assert_eq!(s.action(&a.id).await.unwrap(), Some(a.clone()));

    // Claimed: the host's edit is refused; a stranger cannot keep or release it.
    let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
    f.clock.advance(secs(10));
    let claimed = s
        .claim_due_actions(f.clock.now(), 10, one, TTL)
        .await
        .unwrap();
    assert_eq!(claimed, vec![a.clone()]);
    a.attempts = 1;
    assert!(!s.save_action(&a, ActionWrite::Unclaimed).await.unwrap());
    let stranger = ActionWrite::Keep {
        owner: two,
        ttl: TTL,
    };
    assert!(!s.save_action(&a, stranger).await.unwrap());
    assert!(
        !s.save_action(&a, ActionWrite::Release { owner: two })
            .await
            .unwrap()
    );
    assert_eq!(s.action(&a.id).await.unwrap().unwrap().attempts, 0);

    // Keep renews the claim: still held past the first TTL.
    f.clock.advance(secs(50));
    let keep = ActionWrite::Keep {
        owner: one,
        ttl: TTL,
    };
    assert!(s.save_action(&a, keep).await.unwrap());
    f.clock.advance(secs(30));
    assert!(
        !s.save_action(&a, ActionWrite::Unclaimed).await.unwrap(),
        "renewed: still held"
    );
    assert!(
        s.claim_due_actions(f.clock.now(), 10, two, TTL)
            .await
            .unwrap()
            .is_empty()
    );

    // The claim lapses: another claims it; the stale owner can neither keep nor release.
    f.clock.advance(secs(31));
    let taken = s
        .claim_due_actions(f.clock.now(), 10, two, TTL)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert!(!s.save_action(&a, keep).await.unwrap());
    assert!(
        !s.save_action(&a, ActionWrite::Release { owner: one })
            .await
            .unwrap()
    );

    // The claimant records the outcome and releases; the host may edit again.
    a.state = ActionState::Done;
    a.due_at = None;
    a.runs = 1;
    assert!(
        s.save_action(&a, ActionWrite::Release { owner: two })
            .await
            .unwrap()
    );
    assert!(
        !s.save_action(&a, ActionWrite::Release { owner: two })
            .await
            .unwrap(),
        "released"
    );
    assert_eq!(s.action(&a.id).await.unwrap(), Some(a.clone()));
    assert!(s.save_action(&a, ActionWrite::Unclaimed).await.unwrap());
    // Done: nothing to claim.
    f.clock.advance(secs(3600));
    assert!(
        s.claim_due_actions(f.clock.now(), 10, one, TTL)
            .await
            .unwrap()
            .is_empty()
    );

    // The key must be the stored one: InvalidInput, nothing written.
    for other in [
        ConnectionKey::new(subject("mallory"), k.platform.clone(), k.connection),
        ConnectionKey::new(k.subject.clone(), PlatformId::TIKTOK, k.connection),
        ConnectionKey::new(
            k.subject.clone(),
            k.platform.clone(),
            ConnectionId::generate(),
        ),
    ] {
        let mut moved = a.clone();
        moved.key = other;
        moved.runs = 99;
        let e = s
            .save_action(&moved, ActionWrite::Unclaimed)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(s.action(&a.id).await.unwrap().unwrap().runs, 1);
    // A save of an action that is not stored writes nothing.
    let ghost = post(&k, "ghost", now, now);
    assert!(!s.save_action(&ghost, ActionWrite::Unclaimed).await.unwrap());
    assert_eq!(s.action(&ghost.id).await.unwrap(), None);
}

pub(crate) async fn actions_page_by_subject_and_list_by_filter(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = micros(f.clock.now());
    let alice = key("alice", PlatformId::LINKEDIN);
    let alice_tt = key("alice", PlatformId::TIKTOK);
    let bob = key("bob", PlatformId::LINKEDIN);
    let mut mine = Vec::new();
    for i in 0..5 {
        let k = if i % 2 == 0 { &alice } else { &alice_tt };
        let a = post(k, &format!("a{i}"), now + secs(i), now);
        s.insert_action(&a).await.unwrap();
        mine.push(a);
        s.insert_action(&post(&bob, &format!("b{i}"), now, now))
            .await
            .unwrap();
    }
    let mut done = mine[1].clone();
    done.state = ActionState::Done;
    done.due_at = None;
    assert!(s.save_action(&done, ActionWrite::Unclaimed).await.unwrap());
    mine[1] = done;

    let first = s.subject_actions(&alice.subject, None, 3).await.unwrap();
    assert_eq!(first, mine[..3].to_vec());
    let second = s
        .subject_actions(&alice.subject, Some(first[2].id), 3)
        .await
        .unwrap();
    assert_eq!(second, mine[3..].to_vec());
    assert!(
        s.subject_actions(&alice.subject, Some(mine[4].id), 3)
            .await
            .unwrap()
            .is_empty()
    );

    let all = s
        .list_actions(&ActionFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "id order");
    let mut filter = ActionFilter::default();
    filter.state = Some("done".into());
    assert_eq!(
        s.list_actions(&filter, None, 10).await.unwrap(),
        vec![mine[1].summary()]
    );
    let mut filter = ActionFilter::default();
    filter.platform = Some(PlatformId::TIKTOK);
    assert_eq!(
        s.list_actions(&filter, None, 10).await.unwrap(),
        vec![mine[1].summary(), mine[3].summary()]
    );
    let mut filter = ActionFilter::default();
    filter.state = Some("scheduled".into());
    filter.platform = Some(PlatformId::LINKEDIN);
    let page1 = s.list_actions(&filter, None, 4).await.unwrap();
    let page2 = s.list_actions(&filter, Some(page1[3].id), 4).await.unwrap();
    assert_eq!(
        (page1.len(), page2.len()),
        (4, 4),
        "3 of alice's and 5 of bob's"
    );
    assert!(
        page2
            .iter()
            .all(|a| a.state == "scheduled" && a.platform == PlatformId::LINKEDIN)
    );
    assert!(page1[3].id < page2[0].id);
}

pub(crate) async fn actions_claims_are_exclusive_earliest_first_and_lapse(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = micros(f.clock.now());
    let k = key("carol", PlatformId::PINTEREST);
    let late = post(&k, "late", now + secs(30), now);
    let early = post(&k, "early", now + secs(10), now);
    let middle = post(&k, "middle", now + secs(20), now);
    let future = post(&k, "future", now + secs(3600), now);
    let mut paused = post(&k, "paused", now, now);
    paused.state = ActionState::Paused;
    for a in [&late, &early, &middle, &future, &paused] {
        s.insert_action(a).await.unwrap();
    }
    let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
    let ids = |v: Vec<StoredAction>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let got = s
        .claim_due_actions(now + secs(60), 2, one, TTL)
        .await
        .unwrap();
    assert_eq!(
        ids(got),
        vec![early.id, middle.id],
        "earliest first, limit kept"
    );
    let got = s
        .claim_due_actions(now + secs(60), 10, two, TTL)
        .await
        .unwrap();
    assert_eq!(
        ids(got),
        vec![late.id],
        "claimed ones go to nobody else; paused never"
    );
    assert!(
        s.claim_due_actions(now + secs(60), 10, one, TTL)
            .await
            .unwrap()
            .is_empty()
    );
    // A release ends the claim at once.
    assert!(
        s.save_action(&late, ActionWrite::Release { owner: two })
            .await
            .unwrap()
    );
    let got = s
        .claim_due_actions(now + secs(60), 10, one, TTL)
        .await
        .unwrap();
    assert_eq!(ids(got), vec![late.id]);
    // Lapsed claims are claimed again, earliest first.
    f.clock.advance(secs(61));
    let got = s
        .claim_due_actions(now + secs(60), 10, two, TTL)
        .await
        .unwrap();
    assert_eq!(ids(got), vec![early.id, middle.id, late.id]);
    let zero = s
        .claim_due_actions(now, 1, one, Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(zero.kind(), ErrorKind::InvalidInput);

    // Concurrent claimants never share an action.
    for i in 0..40 {
        s.insert_action(&post(&k, &format!("c{i}"), now, now))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        let before = now + secs(1);
        tasks.push(tokio::spawn(async move {
            let owner = Uuid::new_v4();
            let mut got = Vec::new();
            loop {
                let batch = s.claim_due_actions(before, 3, owner, TTL).await.unwrap();
                if batch.is_empty() {
                    break got;
                }
                got.extend(batch.into_iter().map(|a| a.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(seen.insert(id), "an action claimed twice");
        }
    }
    assert_eq!(seen.len(), 40);
}

/// The payload never appears in plain; erasure removes the rows and counts them; an old copy
/// of a row (a backup) does not open once the key is gone, and a claim holds it back.
pub(crate) async fn actions_are_sealed_and_erased(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = micros(f.clock.now());
    let k = key("dora", PlatformId::LINKEDIN);
    let other = key("erin", PlatformId::LINKEDIN);
    const MARK: &str = "PAYLOAD-MARK-7f3a";
    let a = post(&k, MARK, now, now);
    let b = post(&k, "second", now, now);
    let kept = post(&other, "kept", now + secs(5), now);
    for x in [&a, &b, &kept] {
        s.insert_action(x).await.unwrap();
    }
    let row = f
        .data
        .get_action(a.id.as_uuid().as_bytes())
        .await
        .unwrap()
        .unwrap();
    let plain = format!("{row:?}");
    assert!(
        !plain.contains(MARK) && !plain.contains("dora"),
        "only sealed"
    );
    assert!(!contains(&row.sealed, MARK.as_bytes()));
    #[cfg(feature = "sqlite")]
    if let Kind::Sqlite = kind {
        assert!(
            !files_contain(&f, MARK.as_bytes()),
            "the database files hold it in plain"
        );
    }

    // A ciphertext moved into another action's row does not open.
    let mut moved = f
        .data
        .get_action(b.id.as_uuid().as_bytes())
        .await
        .unwrap()
        .unwrap();
    moved.action_id = *Uuid::now_v7().as_bytes();
    f.data.insert_action(moved.clone()).await.unwrap();
    let moved_id = ActionId::from(Uuid::from_bytes(moved.action_id));
    assert_eq!(
        s.action(&moved_id).await.unwrap_err().kind(),
        ErrorKind::Crypto
    );
    assert_eq!(s.erase_subject_actions(&k.subject).await.unwrap(), 3);
    assert_eq!(s.action(&a.id).await.unwrap(), None);
    for x in [&a, &b] {
        s.insert_action(x).await.unwrap();
    }

    let report = s.erase(&k.subject).await.unwrap();
    assert_eq!(report.counts.get("actions"), Some(&2));
    assert_eq!(s.action(&a.id).await.unwrap(), None);
    assert!(
        s.subject_actions(&k.subject, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.action(&kept.id).await.unwrap(), Some(kept.clone()));
    #[cfg(feature = "sqlite")]
    if let Kind::Sqlite = kind {
        assert!(!files_contain(&f, MARK.as_bytes()));
    }

    // The old row restored from a backup: its key is gone, so it does not open, and a claim
    // holds it back instead of failing.
    f.data.insert_action(row).await.unwrap();
    assert_eq!(s.action(&a.id).await.unwrap_err().kind(), ErrorKind::Crypto);
    let owner = Uuid::new_v4();
    let got = s
        .claim_due_actions(now + secs(10), 10, owner, TTL)
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![kept],
        "the unreadable row is held back; the other is claimed"
    );
    f.clock.advance(secs(3600));
    let again = s
        .claim_due_actions(now + secs(10), 10, Uuid::new_v4(), TTL)
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "the lapsed claim comes back; the unreadable row does not"
    );
    assert!(
        f.data
            .get_action(a.id.as_uuid().as_bytes())
            .await
            .unwrap()
            .is_some()
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether any file of the SQLite fixture (database, WAL, vault) holds `needle`.
#[cfg(feature = "sqlite")]
fn files_contain(f: &super::Fixture, needle: &[u8]) -> bool {
    let dir = f.dir().expect("the SQLite fixture has a directory");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .any(|bytes| contains(&bytes, needle))
}

pub(crate) async fn actions_that_ended_are_purged_after_the_retention(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = micros(f.clock.now());
    let k = key("alice", PlatformId::LINKEDIN);
    let end = |a: &mut StoredAction, state: ActionState, at: DateTime<Utc>| {
        a.state = state;
        a.due_at = None;
        a.updated_at = at;
    };
    let mut old = Vec::new();
    for state in [
        ActionState::Done,
        ActionState::Failed {
            kind: "throttled".into(),
        },
        ActionState::Cancelled {
            reason: socialconnect_core::automation::CancelReason::ByHost,
        },
    ] {
        let mut a = post(&k, "old and ended", now, now - secs(100));
        s.insert_action(&a).await.unwrap();
        end(&mut a, state, now - secs(100));
        assert!(s.save_action(&a, ActionWrite::Unclaimed).await.unwrap());
        old.push(a);
    }
    // Kept: an ended one that is recent, an old one waiting for a person, an old pending one.
    let mut recent = post(&k, "recent", now, now);
    s.insert_action(&recent).await.unwrap();
    end(&mut recent, ActionState::Done, now - secs(5));
    assert!(
        s.save_action(&recent, ActionWrite::Unclaimed)
            .await
            .unwrap()
    );
    let mut person = post(&k, "who knows", now, now - secs(100));
    s.insert_action(&person).await.unwrap();
    end(
        &mut person,
        ActionState::NeedsPerson {
            reason: "lost answer".into(),
        },
        now - secs(100),
    );
    assert!(
        s.save_action(&person, ActionWrite::Unclaimed)
            .await
            .unwrap()
    );
    let pending = post(&k, "pending", now + secs(10), now - secs(100));
    s.insert_action(&pending).await.unwrap();

    assert_eq!(
        s.purge_finished_actions(now - secs(10)).await.unwrap(),
        3,
        "{}",
        kind.label()
    );
    for a in &old {
        assert_eq!(s.action(&a.id).await.unwrap(), None);
    }
    for a in [&recent, &person, &pending] {
        assert!(s.action(&a.id).await.unwrap().is_some());
    }
    assert_eq!(s.purge_finished_actions(now - secs(10)).await.unwrap(), 0);
}
