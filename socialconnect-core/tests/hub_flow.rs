//! The hub end to end against the OAuth simulator: consent gate, state checks, PKCE,
//! sessions with usage logging, reconnect, disconnect.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{PLATFORM, env};
use socialconnect_core::access_log::{ClientInfo, Outcome};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{Purpose, Scope, SubjectId};
use socialconnect_core::secret::AuthCode;
use socialconnect_core::store::TokenStore;
use socialconnect_core::{ErrorKind, Revocation};
use socialconnect_testkit::pkce_s256;
use url::Url;

#[tokio::test]
async fn connect_is_refused_without_consent() {
    let env = env().await;
    let err = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    assert_eq!(env.sim.authorize_requests(), 0);
}

#[tokio::test]
async fn connect_refuses_a_plain_http_redirect_uri() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let err = env
        .hub
        .connect(
            &env.subject,
            &PLATFORM,
            &[],
            &Url::parse("http://host.example/cb").unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_whole_flow_connects_calls_logs_and_disconnects() {
    let env = env().await;
    let connected = env.connected().await;
    assert_eq!(connected.account.account_id, env.sim.account_id());
    assert!(!connected.reconnected);

    // PKCE: a challenge went out in the authorize URL and its verifier reached the token request.
    let authorize = env.sim.last_authorize_request().unwrap();
    assert_eq!(authorize.code_challenge_method.as_deref(), Some("S256"));
    let verifier = env.sim.last_code_verifier().expect("verifier sent");
    assert_eq!(pkce_s256(&verifier), authorize.code_challenge.unwrap());
    assert!(authorize.scopes.iter().any(|s| s == "w_member_social"));

    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert_eq!(
        stored.tokens.account_id.as_deref(),
        Some(env.sim.account_id())
    );

    let client = ClientInfo::new(
        Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))),
        Some("Browser/1.0"),
    );
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap()
        .with_client_info(client.clone());
    let me: serde_json::Value = session
        .send_json(ApiRequest::get(env.sim.userinfo_url()).operation("profile.read"))
        .await
        .unwrap();
    assert_eq!(me["id"], env.sim.account_id());

    let entries = env.log.entries(&env.subject).await.unwrap();
    let call = entries
        .iter()
        .find(|e| e.operation == "profile.read")
        .expect("the call is logged");
    assert_eq!(call.outcome, Outcome::Success);
    assert_eq!(call.http_status, Some(200));
    assert_eq!(call.client, client);
    assert_eq!(call.connection, Some(connected.key.connection));
    assert!(entries.iter().any(|e| e.operation == "oauth.complete"));

    let done = env.hub.disconnect(&connected.key).await.unwrap();
    assert_eq!(done.revocation, Some(Revocation::Revoked));
    assert!(done.deleted);
    assert_eq!(env.sim.revocations(), 1);
    assert!(env.tokens.get(&connected.key).await.unwrap().is_none());
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    env.sim.assert_no_unexpected();
}

#[tokio::test]
async fn a_failed_call_is_logged_with_its_kind() {
    let env = env().await;
    let connected = env.connected().await;
    env.sim.expire_all_access_tokens();
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    let err = session
        .send_json::<serde_json::Value>(
            ApiRequest::get(env.sim.userinfo_url()).operation("profile.read"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    let entries = env.log.entries(&env.subject).await.unwrap();
    let call = entries
        .iter()
        .find(|e| e.operation == "profile.read")
        .unwrap();
    assert_eq!(call.outcome, Outcome::Failure("reconnect_required"));
    assert_eq!(call.http_status, Some(401));
}

#[tokio::test]
async fn sessions_are_gated_on_their_purpose() {
    let env = env().await;
    let connected = env.connected().await;
    let err = env
        .hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);

    env.hub
        .record_consent(ConsentEvent::withdraw(
            env.subject.clone(),
            Purpose::AccountConnection,
            Some(PLATFORM),
            env.clock.now(),
        ))
        .await
        .unwrap();
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
}

#[tokio::test]
async fn state_is_single_use() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let auth = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap();
    let (code, state) = env.sim.authorize(&auth.url);
    env.hub
        .complete(
            &env.subject,
            &env.redirect,
            &state,
            AuthCode::new(code.clone()),
        )
        .await
        .unwrap();
    let err = env
        .hub
        .complete(&env.subject, &env.redirect, &state, AuthCode::new(code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.sim.exchange_requests(), 1);
}

#[tokio::test]
async fn state_expires() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let auth = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap();
    let (code, state) = env.sim.authorize(&auth.url);
    env.clock.advance(chrono::Duration::minutes(11));
    let err = env
        .hub
        .complete(&env.subject, &env.redirect, &state, AuthCode::new(code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("expired"));
    assert_eq!(env.sim.exchange_requests(), 0);
}

#[tokio::test]
async fn state_is_bound_to_its_subject() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let auth = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap();
    let (code, state) = env.sim.authorize(&auth.url);
    let intruder = SubjectId::new("someone-else").unwrap();
    let err = env
        .hub
        .complete(
            &intruder,
            &env.redirect,
            &state,
            AuthCode::new(code.clone()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // The failed attempt consumed the state: the rightful owner must start again too.
    let err = env
        .hub
        .complete(&env.subject, &env.redirect, &state, AuthCode::new(code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.sim.exchange_requests(), 0);
}

#[tokio::test]
async fn state_is_bound_to_its_redirect_uri() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let auth = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap();
    let (code, state) = env.sim.authorize(&auth.url);
    let other = Url::parse("https://host.example/oauth/callback2").unwrap();
    let err = env
        .hub
        .complete(&env.subject, &other, &state, AuthCode::new(code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.sim.exchange_requests(), 0);
}

#[tokio::test]
async fn unknown_and_malformed_states_are_rejected() {
    let env = env().await;
    for state in ["", "never-issued", &"x".repeat(10_000)] {
        let err = env
            .hub
            .complete(&env.subject, &env.redirect, state, AuthCode::new("c"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}

#[tokio::test]
async fn connecting_the_same_account_again_keeps_the_connection() {
    let env = env().await;
    let first = env.connected().await;
    let second = env.connected().await;
    assert!(second.reconnected);
    assert_eq!(first.key, second.key);
    assert_eq!(env.hub.connections(&env.subject).await.unwrap().len(), 1);
}

#[tokio::test]
async fn granted_scopes_are_recorded() {
    let env = env_with_scopes().await;
    let connected = env.connected().await;
    let names: Vec<&str> = connected.scopes.iter().map(Scope::as_str).collect();
    assert_eq!(names, ["w_member_social", "r_basicprofile"]);
}

async fn env_with_scopes() -> common::Env {
    common::env_with(
        socialconnect_testkit::OAuthSimulator::builder()
            .grant_scopes(["w_member_social", "r_basicprofile"]),
    )
    .await
}
