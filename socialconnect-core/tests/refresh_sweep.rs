//! The proactive refresh sweep against the test kit's OAuth simulator: due connections are
//! refreshed exactly once and the others left alone, a session racing the sweep still causes
//! one refresh, a refused grant is marked and announced, a failing platform is backed off, and
//! a grant with a fixed end is announced once, ahead of time.

mod common;

use std::time::Duration;

use common::{Env, PLATFORM, env, env_with};
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionId, ConnectionKey, Purpose};
use socialconnect_core::secret::{AccessToken, RefreshToken};
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{RefreshSweep, SweepEvent, SweepOptions};
use socialconnect_testkit::{OAuthSimulator, TokenFault};
use tokio::sync::broadcast;

/// Connections of the env's subject, with tokens minted by the simulator now.
async fn seed(env: &Env, n: usize) -> Vec<ConnectionKey> {
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        let issued = env.sim.issue_tokens(["w_member_social"]);
        let now = env.clock.now();
        let expires = issued.expires_in.map_or(Expiry::Never, |s| {
            Expiry::after(now, i64::try_from(s).unwrap())
        });
        let mut tokens = TokenSet::new(AccessToken::new(issued.access_token), expires, now);
        if let Some(refresh) = issued.refresh_token {
            let ends = issued
                .refresh_token_expires_at
                .map_or(Expiry::Never, Expiry::At);
            tokens = tokens.with_refresh(RefreshToken::new(refresh), ends);
        }
        let key = ConnectionKey::new(env.subject.clone(), PLATFORM, ConnectionId::generate());
        env.tokens.put(&key, &tokens, None).await.unwrap();
        keys.push(key);
    }
    keys
}

fn options() -> SweepOptions {
    SweepOptions::default()
        .with_window(Duration::from_secs(15 * 60))
        .with_jitter(Duration::from_millis(5))
        .with_backoff(Duration::from_secs(60), Duration::from_secs(3600))
}

fn drain(events: &mut broadcast::Receiver<SweepEvent>) -> Vec<SweepEvent> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        out.push(e);
    }
    out
}

async fn access_token(env: &Env, key: &ConnectionKey) -> String {
    let stored = env.tokens.get(key).await.unwrap().unwrap();
    stored.tokens.access_token.expose_secret().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_connections_are_refreshed_once_and_the_rest_left_alone() {
    let env = env().await; // 3600 s access tokens
    env.grant(Purpose::AccountConnection).await;
    let due = seed(&env, 7).await;
    env.clock.advance(chrono::Duration::minutes(30));
    let later = seed(&env, 3).await;
    let later_tokens: Vec<String> = {
        let mut v = Vec::new();
        for k in &later {
            v.push(access_token(&env, k).await);
        }
        v
    };
    // The first seven expire in 5 minutes (inside the 15-minute window), the others in 35.
    env.clock.advance(chrono::Duration::minutes(25));

    let sweep = env.hub.refresh_sweep(options().with_batch(3, 2));
    let mut events = sweep.subscribe();
    let mut refreshed = 0;
    loop {
        let report = sweep.run_once().await.unwrap();
        if report.claimed == 0 {
            break;
        }
        assert!(report.claimed <= 3, "batches of 3");
        refreshed += report.refreshed;
    }
    assert_eq!(refreshed, 7);
    assert_eq!(
        env.sim.refresh_requests(),
        7,
        "one refresh per due connection"
    );
    let events = drain(&mut events);
    assert_eq!(events.len(), 7);
    for key in &due {
        assert!(events.iter().any(|e| matches!(e,
            SweepEvent::Refreshed { key: k, access_expires: Expiry::At(_) } if k == key)));
        let token = access_token(&env, key).await;
        assert!(env.sim.is_valid(&token));
    }
    for (key, before) in later.iter().zip(&later_tokens) {
        assert_eq!(&access_token(&env, key).await, before, "not due: untouched");
    }
    // Nothing is due any more; a second pass finds nothing and refreshes nothing.
    assert_eq!(sweep.run_once().await.unwrap().claimed, 0);
    assert_eq!(env.sim.refresh_requests(), 7);
    env.sim.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_racing_the_sweep_still_causes_one_refresh() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    env.grant(Purpose::Publishing).await;
    let keys = seed(&env, 20).await;
    // Inside the sessions' own margin (5 min + up to 60 s jitter) as well as the sweep's.
    env.clock.advance(chrono::Duration::seconds(3600 - 120));
    let sweep = env.hub.refresh_sweep(options().with_batch(100, 8));
    let mut sessions = Vec::new();
    for key in keys.clone() {
        let hub = env.hub.clone();
        sessions.push(tokio::spawn(async move {
            let s = hub.session(&key, Purpose::Publishing).await.unwrap();
            s.access_token().expose_secret().to_owned()
        }));
    }
    let report = sweep.run_once().await.unwrap();
    let mut seen = Vec::new();
    for s in sessions {
        seen.push(s.await.unwrap());
    }
    assert_eq!(
        env.sim.refresh_requests(),
        20,
        "each connection refreshed once, by the session or the sweep"
    );
    assert!(
        report.refreshed + report.skipped == report.claimed,
        "{report:?}"
    );
    for (key, token) in keys.iter().zip(&seen) {
        assert_eq!(&access_token(&env, key).await, token);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_grant_is_marked_reconnect_required_and_announced() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let keys = seed(&env, 1).await;
    env.clock.advance(chrono::Duration::seconds(3600 - 300));
    env.sim.fail_token_requests(TokenFault::InvalidGrant, 1);
    let sweep = env.hub.refresh_sweep(options());
    let mut events = sweep.subscribe();

    let report = sweep.run_once().await.unwrap();
    assert_eq!((report.claimed, report.reconnect_required), (1, 1));
    assert_eq!(
        drain(&mut events),
        vec![SweepEvent::ReconnectRequired {
            key: keys[0].clone()
        }]
    );
    let stored = env.tokens.get(&keys[0]).await.unwrap().unwrap();
    assert!(matches!(
        stored.status,
        ConnectionStatus::ReconnectRequired { .. }
    ));
    // Marked connections are not claimed again.
    assert_eq!(sweep.run_once().await.unwrap().claimed, 0);
    assert_eq!(env.sim.refresh_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_platform_is_backed_off_then_retried() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let keys = seed(&env, 1).await;
    env.clock.advance(chrono::Duration::seconds(3600 - 600));
    let sweep = env.hub.refresh_sweep(options());
    let mut events = sweep.subscribe();

    env.sim.fail_token_requests(TokenFault::ServerError, 1);
    let t1 = env.clock.now();
    assert_eq!(sweep.run_once().await.unwrap().failed, 1);
    let first = match drain(&mut events).as_slice() {
        [SweepEvent::Failed { key, retry_at, .. }] if *key == keys[0] => *retry_at,
        other => panic!("expected one failure, got {other:?}"),
    };
    assert!(first >= t1 + chrono::Duration::seconds(60));
    // Held back: not claimed before its retry time.
    assert_eq!(sweep.run_once().await.unwrap().claimed, 0);
    assert_eq!(env.sim.refresh_requests(), 1);

    // The second failure in a row waits twice as long.
    env.clock.set(first + chrono::Duration::seconds(1));
    env.sim.fail_token_requests(TokenFault::ServerError, 1);
    let t2 = env.clock.now();
    assert_eq!(sweep.run_once().await.unwrap().failed, 1);
    let second = match drain(&mut events).as_slice() {
        [SweepEvent::Failed { retry_at, .. }] => *retry_at,
        other => panic!("expected one failure, got {other:?}"),
    };
    assert!(second >= t2 + chrono::Duration::seconds(120));

    // Once the platform is back, the retry refreshes it.
    env.clock.set(second + chrono::Duration::seconds(1));
    assert_eq!(sweep.run_once().await.unwrap().refreshed, 1);
    assert!(matches!(
        drain(&mut events).as_slice(),
        [SweepEvent::Refreshed { .. }]
    ));
    assert_eq!(env.sim.refresh_requests(), 3);
    let stored = env.tokens.get(&keys[0]).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_grant_end_is_announced_once_ahead_of_time() {
    // Two-day access tokens under a 20-day grant (LinkedIn's shape, shortened): warned 14 days
    // ahead, once, then marked when the grant is over.
    let day = chrono::Duration::days;
    let env = env_with(
        OAuthSimulator::builder()
            .access_token_lifetime(Duration::from_secs(2 * 86_400))
            .rotate_refresh_tokens(false)
            .refresh_token_lifetime(Duration::from_secs(20 * 86_400)),
    )
    .await;
    env.grant(Purpose::AccountConnection).await;
    let keys = seed(&env, 1).await;
    let ends = match env
        .tokens
        .get(&keys[0])
        .await
        .unwrap()
        .unwrap()
        .tokens
        .refresh_expires
    {
        Expiry::At(t) => t,
        other => panic!("the simulator's refresh tokens end: {other:?}"),
    };
    let sweep = env.hub.refresh_sweep(options());
    let mut events = sweep.subscribe();
    let mut warnings = Vec::new();
    let mut marked = false;
    for _ in 0..40 {
        env.clock.advance(chrono::Duration::hours(12));
        sweep.run_once().await.unwrap();
        for e in drain(&mut events) {
            match e {
                SweepEvent::ReconnectSoon { grant_ends, .. } => {
                    warnings.push((env.clock.now(), grant_ends))
                }
                SweepEvent::ReconnectRequired { .. } => marked = true,
                _ => {}
            }
        }
        if marked {
            break;
        }
    }
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let (when, grant_ends) = warnings[0];
    assert_eq!(grant_ends, ends);
    assert!(
        ends - when >= day(14),
        "warned {} days ahead",
        (ends - when).num_days()
    );
    assert!(marked, "refused at the grant's end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_sweep_runs_until_shut_down() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    seed(&env, 2).await;
    env.clock.advance(chrono::Duration::seconds(3600 - 300));
    let sweep: RefreshSweep = env
        .hub
        .refresh_sweep(options().with_idle_interval(Duration::from_millis(20)));
    let mut events = sweep.subscribe();
    let running = sweep.start();
    for _ in 0..2 {
        let e = events.recv().await.unwrap();
        assert!(matches!(e, SweepEvent::Refreshed { .. }), "{e:?}");
    }
    running.shutdown().await;
    assert_eq!(env.sim.refresh_requests(), 2);
}
