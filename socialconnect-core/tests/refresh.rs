//! The refresh engine: single-flight inside a process and across processes, rotated refresh
//! tokens never lost, kept when a response omits them, definitive failures marked.

mod common;

use std::collections::HashSet;

use common::{env, env_with, hub_over};
use socialconnect_core::id::Purpose;
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::{ErrorKind, SocialConnect};
use socialconnect_testkit::{OAuthSimulator, TokenFault};

fn expire(env: &common::Env) {
    // Past the simulator's 3600 s lifetime and the 5 min (+ jitter) margin.
    env.clock.advance(chrono::Duration::seconds(3601));
}

async fn concurrent_sessions(
    hub: &SocialConnect,
    key: &socialconnect_core::id::ConnectionKey,
    n: usize,
) -> Vec<String> {
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let hub = hub.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let s = hub.session(&key, Purpose::Publishing).await.unwrap();
            s.access_token().expose_secret().to_owned()
        }));
    }
    let mut tokens = Vec::with_capacity(n);
    for t in tasks {
        tokens.push(t.await.unwrap());
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_sessions_cause_one_refresh() {
    let env = env().await;
    let connected = env.connected().await;
    let old = env.tokens.get(&connected.key).await.unwrap().unwrap();
    expire(&env);

    let tokens = concurrent_sessions(&env.hub, &connected.key, 1000).await;

    assert_eq!(env.sim.refresh_requests(), 1);
    let distinct: HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 1, "every caller gets the same new token");
    let new = tokens[0].as_str();
    assert_ne!(new, old.tokens.access_token.expose_secret());
    assert!(env.sim.is_valid(new));
    env.sim.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotated_refresh_tokens_are_never_lost() {
    // The simulator rotates on every refresh and rejects any earlier refresh token.
    let env = env().await;
    let connected = env.connected().await;
    for round in 1..=50 {
        expire(&env);
        let tokens = concurrent_sessions(&env.hub, &connected.key, 20).await;
        assert_eq!(env.sim.refresh_requests(), round);
        assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), 1);
        let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
        let rt = stored.tokens.refresh_token.unwrap();
        assert!(env.sim.is_refresh_token_valid(rt.expose_secret()));
        assert_eq!(stored.tokens.access_token.expose_secret(), tokens[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hubs_sharing_a_store_refresh_once_between_them() {
    // Two hubs over one store play two processes: each has its own in-process single-flight,
    // so only the store's lease keeps them from both refreshing.
    let env = env().await;
    let connected = env.connected().await;
    let other = hub_over(
        &env.sim,
        env.clock.clone(),
        env.tokens.clone(),
        env.ledger.clone(),
        &env.http,
    );
    expire(&env);
    let (a, b) = tokio::join!(
        concurrent_sessions(&env.hub, &connected.key, 100),
        concurrent_sessions(&other, &connected.key, 100)
    );
    assert_eq!(env.sim.refresh_requests(), 1);
    let all: HashSet<_> = a.iter().chain(b.iter()).collect();
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn a_response_without_a_refresh_token_keeps_the_stored_one() {
    let env = env_with(
        OAuthSimulator::builder()
            .rotate_refresh_tokens(false)
            .omit_refresh_token_on_refresh(true),
    )
    .await;
    let connected = env.connected().await;
    let before = env.tokens.get(&connected.key).await.unwrap().unwrap();
    let rt = before.tokens.refresh_token.clone().unwrap();
    for _ in 0..3 {
        expire(&env);
        env.hub
            .session(&connected.key, Purpose::Publishing)
            .await
            .unwrap();
    }
    assert_eq!(env.sim.refresh_requests(), 3);
    let after = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert!(after.tokens.refresh_token.unwrap().ct_eq(&rt));
    assert!(after.version > before.version);
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_for_reconnection() {
    let env = env().await;
    let connected = env.connected().await;
    env.sim.fail_token_requests(TokenFault::InvalidGrant, 1);
    expire(&env);
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert!(matches!(
        stored.status,
        ConnectionStatus::ReconnectRequired { .. }
    ));

    // Marked: later sessions fail at once, without another token request.
    let requests = env.sim.token_requests();
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(env.sim.token_requests(), requests);

    // Connecting again clears the mark.
    let again = env.connected().await;
    assert_eq!(again.key, connected.key);
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transient_refresh_failure_does_not_mark_the_connection() {
    let env = env().await;
    let connected = env.connected().await;
    env.sim.fail_token_requests(TokenFault::ServerError, 1);
    expire(&env);
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transient | ErrorKind::MaybeSent),
        "{err}"
    );
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    // The next caller refreshes successfully.
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert_eq!(env.sim.refresh_requests(), 2);
}

#[tokio::test]
async fn fresh_tokens_are_not_refreshed() {
    let env = env().await;
    let connected = env.connected().await;
    for _ in 0..10 {
        env.hub
            .session(&connected.key, Purpose::Publishing)
            .await
            .unwrap();
    }
    assert_eq!(env.sim.refresh_requests(), 0);
}

#[tokio::test]
async fn sessions_reuse_a_recently_read_token_but_never_refresh_from_the_cache() {
    let env = env().await;
    let connected = env.connected().await;
    let first = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    // Another process rewrites the row; within the cache TTL this process still uses the token
    // it read, which is valid and outside the margin.
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    let mut replaced = stored.tokens.clone();
    replaced.access_token = socialconnect_core::secret::AccessToken::new("written-elsewhere");
    env.tokens
        .put(&connected.key, &replaced, Some(stored.version))
        .await
        .unwrap();
    let second = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert!(second.access_token().ct_eq(first.access_token()));
    // Once the token nears expiry, the cache is bypassed and the store decides.
    expire(&env);
    let third = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert_eq!(env.sim.refresh_requests(), 1);
    assert!(!third.access_token().ct_eq(first.access_token()));
}
