//! One revocation outcome for disconnect and erasure: `Revoked`, `NotOffered` or `Failed`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Env, PLATFORM, env};
use socialconnect_core::id::{Purpose, Scope};
use socialconnect_core::memory::MemoryPendingAuthStore;
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{RefreshPolicy, Revocation, SocialConnect};

/// The test hub over a platform whose spec offers no revocation.
fn hub_without_revocation(env: &Env) -> SocialConnect {
    let spec = OAuthSpec::new(
        PLATFORM,
        env.sim.client_id(),
        env.sim.authorize_url(),
        env.sim.token_url(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(env.sim.client_secret()),
        env.http.clone(),
        env.clock.clone(),
    );
    SocialConnect::builder()
        .http(env.http.clone())
        .platform(Arc::new(StandardPlatform::new(
            oauth,
            env.sim.userinfo_url(),
        )))
        .token_store(env.tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(env.ledger.clone())
        .access_log(env.log.clone())
        .clock(env.clock.clone())
        .refresh_policy(
            RefreshPolicy::default().with_lease(Duration::from_secs(30), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

async fn connect(env: &Env, hub: &SocialConnect) -> socialconnect_core::Connected {
    env.grant(Purpose::AccountConnection).await;
    let auth = hub
        .connect(
            &env.subject,
            &PLATFORM,
            &Scope::parse_list("a"),
            &env.redirect,
        )
        .await
        .unwrap();
    let (code, state) = env.sim.authorize(&auth.url);
    hub.complete_callback(
        &env.subject,
        &env.redirect,
        &format!("code={code}&state={state}"),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn disconnect_and_erase_say_not_offered_without_a_request() {
    let env = env().await;
    let hub = hub_without_revocation(&env);
    let connected = connect(&env, &hub).await;
    let done = hub.disconnect(&connected.key).await.unwrap();
    assert_eq!(done.revocation, Some(Revocation::NotOffered));
    assert!(done.deleted);

    connect(&env, &hub).await;
    let erased = hub.erase(&env.subject, "operator-1").await.unwrap();
    assert_eq!(erased.upstream, vec![(PLATFORM, Revocation::NotOffered)]);
    assert_eq!(env.sim.revocations(), 0);
}

#[tokio::test]
async fn a_failed_revocation_is_the_same_type() {
    let env = env().await;
    let connected = env.connected().await;
    env.sim.server().reset().await;
    // With every route gone, the revocation request fails; the local deletion goes ahead.
    let done = env.hub.disconnect(&connected.key).await.unwrap();
    assert!(
        matches!(done.revocation, Some(Revocation::Failed { ref reason }) if !reason.is_empty()),
        "{done:?}"
    );
    assert!(done.deleted);
}

#[test]
#[allow(deprecated)] // the old names are what is under test
fn the_old_names_still_name_the_type() {
    let a: socialconnect_core::UpstreamRevocation = Revocation::Revoked;
    let b: socialconnect_core::platform::RevokeOutcome = Revocation::NotOffered;
    assert_ne!(a, b);
}
