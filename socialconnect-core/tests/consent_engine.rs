//! The hub's consent engine on the memory backend: the age gate, declared bases, withdrawal
//! and its consequences, notice versions with their grace period, Kantara receipts.

mod common;

use std::sync::Arc;

use chrono::{Datelike, Duration as Days, NaiveDate};
use common::{Env, PLATFORM, env_configured, hub_over};
use socialconnect_core::age::{AgeAttestation, AgeBand, AgePolicy, Jurisdiction};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::{
    ConsentAction, ConsentEvent, ConsentLedger, ConsentReceipt, ConsentRequest, ControllerInfo,
    LegalBasis, NoticeVersion,
};
use socialconnect_core::id::{Purpose, SubjectId};
use socialconnect_core::store::TokenStore;
use socialconnect_core::{ErrorKind, Revocation, SocialConnect};

const V1_HASH: &str = "sha256:1111";
const V2_HASH: &str = "sha256:2222";

fn adult() -> AgeAttestation {
    AgeAttestation::Band(AgeBand::Adult)
}

fn de() -> Jurisdiction {
    Jurisdiction::new("DE").unwrap()
}

fn us() -> Jurisdiction {
    Jurisdiction::new("US").unwrap()
}

fn grant_event(env: &Env, purpose: Purpose) -> ConsentEvent {
    ConsentEvent::grant(
        env.subject.clone(),
        purpose,
        Some(PLATFORM),
        env.clock.now(),
    )
}

fn request(env: &Env, event: ConsentEvent, age: AgeAttestation, j: Jurisdiction) -> ConsentRequest {
    ConsentRequest::new(event, age, j, env.clock.now().date_naive())
}

async fn consent_adult(env: &Env, purpose: Purpose, notice: Option<&str>) -> ConsentReceipt {
    let mut event = grant_event(env, purpose);
    if let Some(v) = notice {
        event = event.with_notice_version(v);
    }
    env.hub
        .consent(request(env, event, adult(), de()))
        .await
        .unwrap()
}

/// Born on 1 January `years` years before the env clock's year: exactly `years` old today.
fn born_years_ago(env: &Env, years: i32) -> AgeAttestation {
    let today = env.clock.now().date_naive();
    let born = NaiveDate::from_ymd_opt(today.year() - years, 1, 1).unwrap();
    AgeAttestation::BirthDate(born)
}

#[tokio::test]
async fn an_age_refusal_stores_and_logs_nothing() {
    let env = env_configured(|b| b).await;
    for (age, j) in [
        (AgeAttestation::Band(AgeBand::Under13), us()),
        (AgeAttestation::Band(AgeBand::Age15), de()),
        (born_years_ago(&env, 12), us()),
    ] {
        let err = env
            .hub
            .consent(request(
                &env,
                grant_event(&env, Purpose::AccountConnection),
                age,
                j,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AgeRestricted);
    }
    assert!(env.ledger.history(&env.subject).await.unwrap().is_empty());
    assert_eq!(env.ledger.verify_chain().await.unwrap().checked, 0);
    assert!(env.log.entries(&env.subject).await.unwrap().is_empty());
    // And the refused subject is still refused at connect.
    let err = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
}

#[tokio::test]
async fn fourteen_is_enough_in_the_us_but_not_in_germany() {
    let env = env_configured(|b| b).await;
    let fourteen = born_years_ago(&env, 14);
    let err = env
        .hub
        .consent(request(
            &env,
            grant_event(&env, Purpose::Publishing),
            fourteen,
            de(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AgeRestricted);
    env.hub
        .consent(request(
            &env,
            grant_event(&env, Purpose::Publishing),
            fourteen,
            us(),
        ))
        .await
        .unwrap();
    let history = env.ledger.history(&env.subject).await.unwrap();
    assert_eq!(history.len(), 1);
    let event = &history[0].event;
    assert_eq!(event.jurisdiction.as_deref(), Some("US"));
    assert_eq!(event.age_verification.as_deref(), Some("birth_date"));
    // The birth date itself is nowhere in the stored event.
    let AgeAttestation::BirthDate(born) = fourteen else {
        unreachable!()
    };
    let stored = serde_json::to_string(event).unwrap();
    assert!(!stored.contains(&born.to_string()), "{stored}");
    assert!(!stored.contains(&born.format("%Y").to_string()));

    // 16 in Germany passes with a band, recorded as such.
    let other = SubjectId::new("user-43").unwrap();
    env.hub
        .consent(ConsentRequest::new(
            ConsentEvent::grant(other.clone(), Purpose::Publishing, None, env.clock.now()),
            AgeAttestation::Band(AgeBand::Age16To17),
            de(),
            env.clock.now().date_naive(),
        ))
        .await
        .unwrap();
    let history = env.ledger.history(&other).await.unwrap();
    assert_eq!(
        history[0].event.age_verification.as_deref(),
        Some("age_band")
    );
    assert_eq!(history[0].event.jurisdiction.as_deref(), Some("DE"));
}

#[tokio::test]
async fn a_host_age_policy_applies() {
    let policy = AgePolicy::default().with_minimum(us(), 18).unwrap();
    let env = env_configured(|b| b.age_policy(policy)).await;
    let err = env
        .hub
        .consent(request(
            &env,
            grant_event(&env, Purpose::Publishing),
            AgeAttestation::Band(AgeBand::Age16To17),
            us(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AgeRestricted);
}

#[tokio::test]
async fn consent_takes_only_consent_grants() {
    let env = env_configured(|b| b).await;
    let withdraw = ConsentEvent::withdraw(
        env.subject.clone(),
        Purpose::Analytics,
        None,
        env.clock.now(),
    );
    let err = env
        .hub
        .consent(request(&env, withdraw, adult(), de()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let contract = grant_event(&env, Purpose::Analytics).with_basis(LegalBasis::Contract);
    let err = env
        .hub
        .consent(request(&env, contract, adult(), de()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(env.ledger.history(&env.subject).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_declared_contract_purpose_needs_no_consent_record() {
    let env = env_configured(|b| {
        b.declare_basis(
            Purpose::AccountConnection,
            LegalBasis::Contract,
            "connecting accounts is the service the user signed up for",
        )
        .declare_basis(
            Purpose::Publishing,
            LegalBasis::Contract,
            "scheduled publishing is the paid feature",
        )
    })
    .await;
    let connected = env.connect_only().await;
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert!(env.ledger.history(&env.subject).await.unwrap().is_empty());
    // An undeclared purpose still needs consent.
    let err = env
        .hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    assert_eq!(
        env.hub.declared_basis(Purpose::Publishing).map(|d| d.basis),
        Some(LegalBasis::Contract)
    );
}

#[tokio::test]
async fn declaring_consent_or_no_justification_fails_the_build() {
    let env = env_configured(|b| b).await;
    let base = || {
        SocialConnect::builder()
            .http(env.http.clone())
            .token_store(env.tokens.clone())
            .pending_store(std::sync::Arc::new(
                socialconnect_core::memory::MemoryPendingAuthStore::new(),
            ))
            .consent_ledger(env.ledger.clone())
            .access_log(env.log.clone())
    };
    let err = base()
        .declare_basis(Purpose::Analytics, LegalBasis::Consent, "we asked")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = base()
        .declare_basis(Purpose::Analytics, LegalBasis::LegitimateInterest, "")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = base()
        .notice_version(NoticeVersion::new("v1", "", false, env.clock.now()))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn an_objection_stops_a_legitimate_interest() {
    let env = env_configured(|b| {
        b.declare_basis(
            Purpose::Analytics,
            LegalBasis::LegitimateInterest,
            "account owners expect insights on their own pages",
        )
    })
    .await;
    let connected = env.connected().await;
    env.hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap();
    let outcome = env
        .hub
        .withdraw(&env.subject, Purpose::Analytics, None, "self-service")
        .await
        .unwrap();
    assert!(outcome.revoked.is_empty());
    assert_eq!(
        outcome.withdrew, None,
        "no grant to end, only a declaration"
    );
    let err = env
        .hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    let history = env.ledger.history(&env.subject).await.unwrap();
    let objection = history.last().unwrap();
    assert_eq!(objection.event.action, ConsentAction::Withdraw);
    assert_eq!(objection.event.basis, LegalBasis::LegitimateInterest);
    // Publishing is untouched.
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
}

#[tokio::test]
async fn withdrawing_analytics_stops_analytics_only() {
    let env = env_configured(|b| b).await;
    let connected = env.connected().await;
    let granted = consent_adult(&env, Purpose::Analytics, None).await;
    env.hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap();

    let outcome = env
        .hub
        .withdraw(
            &env.subject,
            Purpose::Analytics,
            Some(&PLATFORM),
            "self-service",
        )
        .await
        .unwrap();
    assert_eq!(outcome.withdrew, Some(granted.receipt_id));
    assert!(outcome.revoked.is_empty());
    let err = env
        .hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert_eq!(env.sim.revocations(), 0);
    assert!(env.tokens.get(&connected.key).await.unwrap().is_some());
    let last = env.ledger.history(&env.subject).await.unwrap();
    assert_eq!(
        last.last().unwrap().event.withdraws,
        Some(granted.receipt_id)
    );
}

/// A session already open checks consent again before every call: the call after a
/// withdrawal is refused and never reaches the platform, nor the usage log.
#[tokio::test]
async fn a_withdrawal_stops_the_next_call_of_an_open_session() {
    let env = env_configured(|b| b).await;
    let connected = env.connected().await;
    consent_adult(&env, Purpose::Analytics, None).await;
    let session = env
        .hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap();
    let me = || socialconnect_core::http::ApiRequest::get(env.sim.userinfo_url()).operation("me");
    assert_eq!(session.send(me()).await.unwrap().status(), 200);

    env.hub
        .withdraw(
            &env.subject,
            Purpose::Analytics,
            Some(&PLATFORM),
            "self-service",
        )
        .await
        .unwrap();
    let err = session.send(me()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    let after = env.hub.access_log().entries(&env.subject).await.unwrap();
    assert_eq!(
        after.iter().filter(|e| e.operation == "me").count(),
        1,
        "the refused call was not sent"
    );
}

#[tokio::test]
async fn withdrawing_account_connection_revokes_and_deletes_the_token() {
    let env = env_configured(|b| b).await;
    let connected = env.connected().await;
    let outcome = env
        .hub
        .withdraw(
            &env.subject,
            Purpose::AccountConnection,
            None,
            "support-agent-7",
        )
        .await
        .unwrap();
    assert!(outcome.withdrew.is_some());
    assert_eq!(outcome.revoked.len(), 1);
    let (key, done) = &outcome.revoked[0];
    assert_eq!(key, &connected.key);
    assert_eq!(done.revocation, Some(Revocation::Revoked));
    assert!(done.deleted);
    assert_eq!(env.sim.revocations(), 1);
    assert!(env.tokens.get(&connected.key).await.unwrap().is_none());

    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    let err = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);

    let entries = env.log.entries(&env.subject).await.unwrap();
    let logged = entries
        .iter()
        .find(|e| e.operation == "privacy.withdraw.revoke_connection")
        .expect("the revocation is logged");
    assert_eq!(logged.actor.as_deref(), Some("support-agent-7"));
    assert_eq!(logged.connection, Some(connected.key.connection));
    env.sim.assert_no_unexpected();
}

#[tokio::test]
async fn an_expired_grant_denies() {
    let env = env_configured(|b| b).await;
    let event =
        grant_event(&env, Purpose::AccountConnection).with_expiry(env.clock.now() + Days::days(7));
    env.hub
        .consent(request(&env, event, adult(), de()))
        .await
        .unwrap();
    env.hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap();
    env.clock.advance(Days::days(8));
    let err = env
        .hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
}

#[tokio::test]
async fn a_significant_notice_change_needs_fresh_consent_after_the_grace_period() {
    let start = chrono::Utc::now() - Days::days(365);
    let env = env_configured(move |b| {
        b.notice_version(NoticeVersion::new("v1", V1_HASH, true, start))
            .notice_grace(std::time::Duration::from_secs(30 * 86_400))
    })
    .await;
    let connect_grant = consent_adult(&env, Purpose::AccountConnection, Some("v1")).await;
    consent_adult(&env, Purpose::Publishing, Some("v1")).await;
    let history = env.ledger.history(&env.subject).await.unwrap();
    assert_eq!(history[0].event.notice_hash.as_deref(), Some(V1_HASH));
    assert_eq!(history[0].receipt_id, connect_grant.receipt_id);
    let connected = env.connect_only().await;

    // An unregistered version, no version, or a wrong hash is refused.
    for event in [
        grant_event(&env, Purpose::Analytics).with_notice_version("v9"),
        grant_event(&env, Purpose::Analytics),
        grant_event(&env, Purpose::Analytics).with_notice("v1", "sha256:other"),
    ] {
        let err = env
            .hub
            .consent(request(&env, event, adult(), de()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    // The policy changes significantly today.
    env.hub
        .publish_notice(
            NoticeVersion::new("v2", V2_HASH, true, env.clock.now()),
            "dpo",
        )
        .await
        .unwrap();
    assert_eq!(env.hub.current_notice().unwrap().version, "v2");
    // The policy change is logged as a privileged operation by the actor.
    let system = SubjectId::new(socialconnect_core::access_log::SYSTEM_SUBJECT).unwrap();
    let logged = env.hub.access_log().entries(&system).await.unwrap();
    assert!(
        logged
            .iter()
            .any(|e| e.operation == "privileged.policy_change:v2"
                && e.actor.as_deref() == Some("dpo"))
    );
    assert_eq!(
        env.hub.subjects_to_notify("v2").await.unwrap(),
        vec![env.subject.clone()]
    );
    // The same version with other content is refused.
    assert_eq!(
        env.hub
            .publish_notice(
                NoticeVersion::new("v2", "sha256:x", true, env.clock.now()),
                "dpo"
            )
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    // New consent can no longer be collected on the superseded version.
    let err = env
        .hub
        .consent(request(
            &env,
            grant_event(&env, Purpose::Analytics).with_notice_version("v1"),
            adult(),
            de(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // Within the grace period the v1 consents still hold.
    env.clock.advance(Days::days(29));
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();

    // After it they do not.
    env.clock.advance(Days::days(2));
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);

    // Consenting again on v2 restores both purposes.
    consent_adult(&env, Purpose::AccountConnection, Some("v2")).await;
    let err = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::ConsentRequired,
        "publishing rests on v1"
    );
    consent_adult(&env, Purpose::Publishing, Some("v2")).await;
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert!(env.hub.subjects_to_notify("v2").await.unwrap().is_empty());
}

#[tokio::test]
async fn declared_purposes_ignore_notice_changes() {
    let start = chrono::Utc::now() - Days::days(365);
    let env = env_configured(move |b| {
        b.notice_version(NoticeVersion::new("v1", V1_HASH, false, start))
            .notice_version(NoticeVersion::new(
                "v2",
                V2_HASH,
                true,
                start + Days::days(1),
            ))
            .declare_basis(
                Purpose::AccountConnection,
                LegalBasis::Contract,
                "the service itself",
            )
            .declare_basis(
                Purpose::FraudDetection,
                LegalBasis::LegitimateInterest,
                "abuse prevention",
            )
    })
    .await;
    let connected = env.connect_only().await;
    env.hub
        .session(&connected.key, Purpose::FraudDetection)
        .await
        .unwrap();
}

#[tokio::test]
async fn receipts_follow_the_kantara_shape() {
    let env = env_configured(|b| b).await;
    let granted = env
        .hub
        .consent(request(
            &env,
            grant_event(&env, Purpose::Publishing)
                .with_notice("2026-01", "sha256:abcd")
                .with_scopes(socialconnect_core::id::Scope::parse_list("w_member_social"))
                .with_method(socialconnect_core::consent::CollectionMethod::WebForm)
                .with_source(socialconnect_core::consent::ConsentSource {
                    ip: Some("203.0.113.9".parse().unwrap()),
                    user_agent: Some("Browser/1.0".into()),
                }),
            adult(),
            de(),
        ))
        .await
        .unwrap();
    env.hub
        .withdraw(&env.subject, Purpose::Publishing, Some(&PLATFORM), "self")
        .await
        .unwrap();
    let controller = ControllerInfo::new(
        "Host GmbH",
        "privacy@host.example",
        "https://host.example/privacy",
    )
    .with_phone("+49 30 000000")
    .with_language("en");
    let receipts = env
        .hub
        .consent_receipts(&env.subject, &controller)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 2);
    let r = &receipts[0];
    for key in [
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ] {
        assert!(r.get(key).is_some(), "missing {key} in {r}");
    }
    assert!(r.get("publicKey").is_none());
    assert_eq!(r["version"], "KI-CR-v1.1.0");
    assert_eq!(r["jurisdiction"], "DE");
    assert_eq!(r["consentReceiptID"], granted.receipt_id.to_string());
    assert_eq!(r["piiPrincipalId"], env.subject.as_str());
    assert_eq!(r["consentTimestamp"], env.clock.now().timestamp());
    assert_eq!(r["collectionMethod"], "web form");
    assert_eq!(r["policyUrl"], "https://host.example/privacy");
    let controller_json = &r["piiControllers"][0];
    for key in ["piiController", "contact", "email", "phone"] {
        assert!(controller_json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(controller_json["piiController"], "Host GmbH");
    let service = &r["services"][0];
    assert_eq!(service["service"], PLATFORM.as_str());
    let purpose = &service["purposes"][0];
    for key in [
        "purpose",
        "purposeCategory",
        "consentType",
        "piiCategory",
        "primaryPurpose",
        "termination",
        "thirdPartyDisclosure",
    ] {
        assert!(purpose.get(key).is_some(), "missing {key}");
    }
    assert_eq!(purpose["purpose"], "publishing");
    assert_eq!(purpose["consentType"], "EXPLICIT");
    assert_eq!(purpose["piiCategory"][0], "w_member_social");
    assert_eq!(r["noticeVersion"], "2026-01");
    assert_eq!(r["sensitive"], false);
    // The source stays out of receipts.
    let text = r.to_string();
    assert!(!text.contains("203.0.113.9") && !text.contains("Browser/1.0"));

    let w = &receipts[1];
    assert_eq!(w["action"], "withdraw");
    assert_eq!(w["withdraws"], granted.receipt_id.to_string());
}

/// Notice versions live in the ledger: a hub sharing it (a second instance) learns the first
/// hub's versions without being configured with them, refuses consent on a version another
/// instance superseded, enforces that version after the grace period, and cannot publish other
/// content for it.
#[tokio::test]
async fn notices_published_by_one_hub_hold_in_another_sharing_the_ledger() {
    let start = chrono::Utc::now() - Days::days(365);
    let env = env_configured(move |b| {
        b.notice_version(NoticeVersion::new("v1", V1_HASH, true, start))
            .notice_grace(std::time::Duration::from_secs(30 * 86_400))
    })
    .await;
    consent_adult(&env, Purpose::AccountConnection, Some("v1")).await;
    consent_adult(&env, Purpose::Publishing, Some("v1")).await;
    let connected = env.connect_only().await;
    let other = hub_over(
        &env.sim,
        env.clock.clone(),
        env.tokens.clone(),
        env.ledger.clone(),
        &env.http,
    );
    assert_eq!(other.current_notice(), None, "not configured with any");
    other
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert_eq!(
        other.current_notice().unwrap().version,
        "v1",
        "read from the ledger"
    );

    env.hub
        .publish_notice(
            NoticeVersion::new("v2", V2_HASH, true, env.clock.now()),
            "dpo",
        )
        .await
        .unwrap();
    let on_v1 = grant_event(&env, Purpose::Analytics).with_notice_version("v1");
    let err = other
        .consent(request(&env, on_v1, adult(), de()))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "v1 is superseded: {err}"
    );
    assert_eq!(other.current_notice().unwrap().version, "v2");
    assert_eq!(
        other
            .publish_notice(
                NoticeVersion::new("v2", "sha256:other", true, env.clock.now()),
                "dpo",
            )
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );

    env.clock.advance(Days::days(31));
    let err = other
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::ConsentRequired,
        "v1 consent no longer counts"
    );
}

/// Declared bases live in the ledger's register: a hub sharing the ledger follows another's
/// declarations without being configured with them, a retraction reaches both, and a hub still
/// built with the retracted declaration does not bring it back.
#[tokio::test]
async fn declarations_are_followed_by_every_hub_sharing_the_ledger() {
    let declared = |b: socialconnect_core::SocialConnectBuilder| {
        b.declare_basis(
            Purpose::AccountConnection,
            LegalBasis::Contract,
            "connecting accounts is the service",
        )
        .declare_basis(
            Purpose::Analytics,
            LegalBasis::LegitimateInterest,
            "aggregate reach figures for the account owner",
        )
    };
    let env = env_configured(declared).await;
    let connected = env.connect_only().await;
    env.hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap();
    let other = hub_over(
        &env.sim,
        env.clock.clone(),
        env.tokens.clone(),
        env.ledger.clone(),
        &env.http,
    );
    assert_eq!(
        other.declared_basis(Purpose::Analytics),
        None,
        "not configured"
    );
    other
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap();
    assert_eq!(
        other.declared_basis(Purpose::Analytics).map(|d| d.basis),
        Some(LegalBasis::LegitimateInterest),
        "followed from the ledger"
    );

    other
        .retract_declaration(Purpose::Analytics, "dpo")
        .await
        .unwrap();
    for hub in [&other, &env.hub] {
        // `consent` reads the register; a permission check would within its interval.
        let _ = hub
            .consent(request(
                &env,
                grant_event(&env, Purpose::Publishing),
                adult(),
                de(),
            ))
            .await;
        let err = hub
            .session(&connected.key, Purpose::Analytics)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    }
    // A third hub built with the old declaration follows the retraction.
    let third = socialconnect_testkit::Harness::builder()
        .platform(Arc::new(common::platform(
            &env.sim,
            &env.http,
            env.clock.clone(),
        )))
        .clock(env.clock.clone())
        .http(env.http.clone())
        .tokens(env.tokens.clone())
        .ledger(env.ledger.clone())
        .configure(declared)
        .build()
        .hub;
    let err = third
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    // Declaring it again is an operator's explicit act, and it holds everywhere.
    third
        .declare(
            Purpose::Analytics,
            LegalBasis::LegitimateInterest,
            "aggregate reach figures, reviewed",
            "dpo",
        )
        .await
        .unwrap();
    assert_eq!(
        third
            .declared_basis(Purpose::Analytics)
            .unwrap()
            .justification,
        "aggregate reach figures, reviewed"
    );
    assert_eq!(
        third
            .declare(Purpose::Analytics, LegalBasis::Consent, "x", "dpo")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}
