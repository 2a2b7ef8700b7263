//! Shared rate budgets (`RateBudgets` on the store), on every backend: slots of a window,
//! held and settled, and daily counts — exact under concurrency.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;
use socialconnect_core::http::{Admission, BudgetHolder, BudgetKey, RateBudgets, Window};
use socialconnect_core::id::PlatformId;

use super::{Kind, fixture};

fn key(name: &str) -> BudgetKey {
    BudgetKey::new(&PlatformId::TIKTOK, BudgetHolder::App("app-1"), name)
}

fn at(t0: SystemTime, secs: u64) -> SystemTime {
    t0 + Duration::from_secs(secs)
}

async fn admit(s: &dyn RateBudgets, k: &BudgetKey, w: &Window, now: SystemTime) -> Admission {
    s.admit(k, w, now, Duration::ZERO).await.unwrap()
}

pub(crate) async fn rate_windows_admit_calls_per_window(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let w = Window::new(3, Duration::from_secs(10));
    let k = key("op:video.list:3/10000ms");
    let mut tickets = Vec::new();
    for _ in 0..3 {
        match admit(&s, &k, &w, t0).await {
            Admission::Admitted(t) => tickets.push(t),
            other => panic!("{}: {other:?}", kind.label()),
        }
    }
    let mut slots: Vec<u32> = tickets.iter().map(|t| t.slot()).collect();
    slots.sort_unstable();
    assert_eq!(slots, [0, 1, 2], "{}", kind.label());
    // The window is spent: the earliest slot frees 10 s after its use.
    assert_eq!(
        admit(&s, &k, &w, at(t0, 1)).await,
        Admission::RetryAfter(Duration::from_secs(9)),
        "{}",
        kind.label()
    );
    // Another key, and the same key under another limit, are apart.
    assert!(matches!(
        admit(&s, &key("other"), &w, t0).await,
        Admission::Admitted(_)
    ));

    // Settling stamps when the call ended: that slot frees 10 s after it, the others at 10 s.
    s.settle(&k, &tickets[0], at(t0, 2)).await.unwrap();
    let late = tickets[0].slot();
    for _ in 0..2 {
        match admit(&s, &k, &w, at(t0, 11)).await {
            Admission::Admitted(t) => assert_ne!(t.slot(), late, "{}", kind.label()),
            other => panic!("{}: {other:?}", kind.label()),
        }
    }
    assert_eq!(
        admit(&s, &k, &w, at(t0, 11)).await,
        Admission::RetryAfter(Duration::from_secs(1)),
        "{}",
        kind.label()
    );

    // A slot held for a call in flight stays taken past the window, until settled.
    let one = Window::new(1, Duration::from_secs(10));
    let k = key("op:held:1/10000ms");
    let held = match s
        .admit(&k, &one, t0, Duration::from_secs(60))
        .await
        .unwrap()
    {
        Admission::Admitted(t) => t,
        other => panic!("{}: {other:?}", kind.label()),
    };
    assert_eq!(
        admit(&s, &k, &one, at(t0, 30)).await,
        Admission::RetryAfter(Duration::from_secs(40)),
        "{}",
        kind.label()
    );
    // A settle naming another stamp changes nothing; the taker's own frees the slot.
    let stale = socialconnect_core::http::SlotTicket::new(held.slot(), 1);
    s.settle(&k, &stale, at(t0, 13)).await.unwrap();
    assert!(matches!(
        admit(&s, &k, &one, at(t0, 30)).await,
        Admission::RetryAfter(_)
    ));
    s.settle(&k, &held, at(t0, 13)).await.unwrap();
    assert!(matches!(
        admit(&s, &k, &one, at(t0, 30)).await,
        Admission::Admitted(_)
    ));

    // A key longer than any the client builds is refused.
    let long = key(&"x".repeat(600));
    let err = s.admit(&long, &w, t0, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind(), socialconnect_core::ErrorKind::InvalidInput);
}

/// 48 takers at once on one window of 10 for an hour: exactly 10 are admitted.
pub(crate) async fn rate_windows_are_exact_under_concurrency(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = Arc::new(f.store().await);
    let now = SystemTime::now();
    let w = Window::new(10, Duration::from_secs(3600));
    let k = key("op:race:10/3600000ms");
    let mut tasks = Vec::new();
    for _ in 0..48 {
        let (s, k) = (Arc::clone(&s), k.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                match s.admit(&k, &w, now, Duration::ZERO).await.unwrap() {
                    Admission::Admitted(t) => return Some(t.slot()),
                    // A slot another taker held locked a moment ago: look again.
                    Admission::RetryAfter(d) if d < Duration::from_secs(60) => {
                        tokio::task::yield_now().await;
                    }
                    Admission::RetryAfter(_) => return None,
                    other => panic!("{other:?}"),
                }
            }
        }));
    }
    let mut slots = Vec::new();
    for t in tasks {
        slots.extend(t.await.unwrap());
    }
    slots.sort_unstable();
    assert_eq!(slots, (0..10).collect::<Vec<u32>>(), "{}", kind.label());
}

pub(crate) async fn rate_days_count_to_the_limit(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = Arc::new(f.store().await);
    let day1 = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let day2 = day1.succ_opt().unwrap();
    let k = key("day:posts.");
    for _ in 0..3 {
        assert!(s.charge_day(&k, 3, day1).await.unwrap(), "{}", kind.label());
    }
    assert!(
        !s.charge_day(&k, 3, day1).await.unwrap(),
        "{}",
        kind.label()
    );
    // A new UTC day starts afresh; a caller still on the earlier day counts on the later one.
    assert!(s.charge_day(&k, 3, day2).await.unwrap());
    assert!(s.charge_day(&k, 3, day1).await.unwrap());
    assert!(s.charge_day(&k, 3, day2).await.unwrap());
    assert!(
        !s.charge_day(&k, 3, day1).await.unwrap(),
        "{}",
        kind.label()
    );

    // 32 callers at once on a budget of 10: exactly 10 counted.
    let k = key("day:race");
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (s, k) = (Arc::clone(&s), k.clone());
        tasks.push(tokio::spawn(async move {
            s.charge_day(&k, 10, day1).await.unwrap()
        }));
    }
    let mut counted = 0;
    for t in tasks {
        counted += usize::from(t.await.unwrap());
    }
    assert_eq!(counted, 10, "{}", kind.label());
}

/// Idle keys and past days go; a key used within the kept time, and today's count, stay.
pub(crate) async fn rate_budgets_purge_idle_rows(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = chrono::Utc::now();
    let system = |t: chrono::DateTime<chrono::Utc>| SystemTime::from(t);
    let w = Window::new(2, Duration::from_secs(60));
    let (idle, busy) = (key("op:idle:2/60000ms"), key("op:busy:2/60000ms"));
    let long_ago = now - crate::RATE_SLOTS_KEPT - chrono::Duration::hours(1);
    assert!(matches!(
        admit(&s, &idle, &w, system(long_ago)).await,
        Admission::Admitted(_)
    ));
    assert!(matches!(
        admit(&s, &busy, &w, system(long_ago)).await,
        Admission::Admitted(_)
    ));
    assert!(matches!(
        admit(&s, &busy, &w, system(now)).await,
        Admission::Admitted(_)
    ));
    let today = now.date_naive();
    let old_day = today - chrono::Duration::days(3);
    assert!(s.charge_day(&key("day:old"), 5, old_day).await.unwrap());
    assert!(s.charge_day(&key("day:today"), 5, today).await.unwrap());

    // The idle key's 2 slots and the old day's count.
    assert_eq!(
        s.purge_rate_budgets(now).await.unwrap(),
        3,
        "{}",
        kind.label()
    );
    // The busy key kept both its slots, the long free one and the one in use.
    assert!(matches!(
        admit(&s, &busy, &w, system(now)).await,
        Admission::Admitted(_)
    ));
    assert!(matches!(
        admit(&s, &busy, &w, system(now)).await,
        Admission::RetryAfter(_)
    ));
    // Today's count stands; the purged key starts afresh.
    assert!(s.charge_day(&key("day:today"), 2, today).await.unwrap());
    assert!(!s.charge_day(&key("day:today"), 2, today).await.unwrap());
    assert!(matches!(
        admit(&s, &idle, &w, system(now)).await,
        Admission::Admitted(_)
    ));
    assert_eq!(
        s.purge_rate_budgets(now).await.unwrap(),
        0,
        "{}",
        kind.label()
    );
}

/// A platform pause is shared: the latest end wins, an earlier one changes nothing.
pub(crate) async fn rate_pauses_keep_the_latest(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let pause = BudgetKey::pause(&PlatformId::FACEBOOK);
    assert_eq!(s.paused_until(&pause).await.unwrap(), None);
    s.pause(&pause, at(t0, 60)).await.unwrap();
    s.pause(&pause, at(t0, 30)).await.unwrap();
    assert_eq!(s.paused_until(&pause).await.unwrap(), Some(at(t0, 60)));
    s.pause(&pause, at(t0, 90)).await.unwrap();
    assert_eq!(
        s.paused_until(&pause).await.unwrap(),
        Some(at(t0, 90)),
        "{}",
        kind.label()
    );
    let other = BudgetKey::pause(&PlatformId::TIKTOK);
    assert_eq!(s.paused_until(&other).await.unwrap(), None);
    // Long over: purged with the idle budgets.
    let later = chrono::DateTime::<chrono::Utc>::from(at(t0, 90)) + crate::RATE_SLOTS_KEPT;
    assert_eq!(
        s.purge_rate_budgets(later + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.paused_until(&pause).await.unwrap(),
        None,
        "{}",
        kind.label()
    );
}
