//! One subject's whole life through the hub over the encrypted store, on the in-process
//! backend and on SQLite: age check, consent, connect (simulated platform), calls, withdrawal
//! of analytics, a policy change, export, erasure and purge.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::age::{AgeAttestation, AgeBand, Jurisdiction};
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger, ConsentRequest, NoticeVersion};
use socialconnect_core::http::{ApiRequest, HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::platform_deletion::DeletionRequestStore;
use socialconnect_core::profile::{ProfileStore, SubjectProfile};
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::secret::{AuthCode, ClientSecret};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::{ErrorKind, Revocation, SocialConnect};
use socialconnect_store::EncryptedStore;
use socialconnect_store::StoreOptions;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_testkit::{ManualClock, OAuthSimulator};
use url::Url;

const PLATFORM: PlatformId = PlatformId::LINKEDIN;
const SUBJECT: &str = "lifecycle-subject-7d3f";

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [4; 32])], KeyId("k1".into())).unwrap(),
    )
}

async fn lifecycle(
    store: EncryptedStore,
    clock: Arc<ManualClock>,
    db_dir: Option<&std::path::Path>,
) {
    let sim = OAuthSimulator::builder().clock(clock.clone()).start().await;
    let http = HttpClient::builder()
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let spec = OAuthSpec::new(
        PLATFORM,
        sim.client_id(),
        sim.authorize_url(),
        sim.token_url(),
    )
    .with_revoke_url(sim.revoke_url());
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(sim.client_secret()),
        http.clone(),
        clock.clone(),
    );
    let platform = StandardPlatform::new(oauth, sim.userinfo_url());
    let v1 = NoticeVersion::new(
        "2026-01",
        "sha256:v1",
        true,
        clock.now() - chrono::Duration::days(30),
    );
    let hub = SocialConnect::builder()
        .http(http)
        .clock(clock.clone())
        .platform(Arc::new(platform))
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .deletion_requests(Arc::new(store.clone()) as Arc<dyn DeletionRequestStore>)
        .profiles(Arc::new(store.clone()) as Arc<dyn ProfileStore>)
        .receipts(Arc::new(store.clone()) as Arc<dyn ReceiptStore>)
        .notice_version(v1)
        .notice_grace(Duration::from_secs(7 * 24 * 3600))
        .region("eu-central-1")
        .build()
        .unwrap();
    let subject = SubjectId::new(SUBJECT).unwrap();
    let today = clock.now().date_naive();

    // Age check: a 14-year-old in Germany is refused and nothing is stored.
    let child = ConsentRequest::new(
        ConsentEvent::grant(
            subject.clone(),
            Purpose::AccountConnection,
            Some(PLATFORM),
            clock.now(),
        )
        .with_notice_version("2026-01"),
        AgeAttestation::Band(AgeBand::Age14),
        Jurisdiction::new("DE").unwrap(),
        today,
    );
    assert_eq!(
        hub.consent(child).await.unwrap_err().kind(),
        ErrorKind::AgeRestricted
    );
    assert!(hub.ledger().history(&subject).await.unwrap().is_empty());

    // Consent, as an adult, for connection, publishing and analytics.
    for purpose in [
        Purpose::AccountConnection,
        Purpose::Publishing,
        Purpose::Analytics,
    ] {
        hub.consent(ConsentRequest::new(
            ConsentEvent::grant(subject.clone(), purpose, Some(PLATFORM), clock.now())
                .with_notice_version("2026-01"),
            AgeAttestation::Band(AgeBand::Adult),
            Jurisdiction::new("DE").unwrap(),
            today,
        ))
        .await
        .unwrap();
    }
    hub.rectify(
        &subject,
        SubjectProfile::new(Some("person@example.org".into()), Some("person".into())),
        "support-agent-3",
    )
    .await
    .unwrap();

    // Connect through the simulated platform, then call it.
    let redirect = Url::parse("https://host.example/cb").unwrap();
    let auth = hub
        .connect(
            &subject,
            &PLATFORM,
            &Scope::parse_list("w_member_social"),
            &redirect,
        )
        .await
        .unwrap();
    let (code, state) = sim.authorize(&auth.url);
    let connected = hub
        .complete(&subject, &redirect, &state, AuthCode::new(code))
        .await
        .unwrap();
    let stored = store.get(&connected.key).await.unwrap().unwrap();
    let access = stored.tokens.access_token.expose_secret().to_owned();
    let refresh = stored
        .tokens
        .refresh_token
        .clone()
        .unwrap()
        .expose_secret()
        .to_owned();
    for purpose in [Purpose::Publishing, Purpose::Analytics] {
        let session = hub.session(&connected.key, purpose).await.unwrap();
        session
            .send(ApiRequest::get(sim.userinfo_url()).operation("profile.read"))
            .await
            .unwrap();
    }

    // Withdraw analytics: analytics refused, publishing still allowed.
    hub.withdraw(
        &subject,
        Purpose::Analytics,
        Some(&PLATFORM),
        "support-agent-3",
    )
    .await
    .unwrap();
    let err = hub
        .session(&connected.key, Purpose::Analytics)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    hub.session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();

    // A significant policy change: the subject is on the list to ask again.
    hub.publish_notice(
        NoticeVersion::new("2026-12", "sha256:v2", true, clock.now()),
        "dpo@example.com",
    )
    .await
    .unwrap();
    assert!(
        hub.subjects_to_notify("2026-12")
            .await
            .unwrap()
            .contains(&subject)
    );

    // Export: valid JSON, the region, no token bytes anywhere.
    let mut out = Vec::new();
    hub.export(&subject, "support-agent-3", &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(&access) && !text.contains(&refresh));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["region"], "eu-central-1");
    assert_eq!(doc["connections"].as_array().unwrap().len(), 1);
    assert!(doc["consent"].as_array().unwrap().len() >= 4);
    assert!(!doc["usage_log"].as_array().unwrap().is_empty());

    // Erase: upstream revocation observed, receipt kept, nothing of the subject left.
    let revocations = sim.revocations();
    let erased = hub.erase(&subject, "support-agent-3").await.unwrap();
    assert_eq!(erased.upstream, vec![(PLATFORM, Revocation::Revoked)]);
    assert_eq!(sim.revocations(), revocations + 1);
    let receipt = erased.receipt.expect("a receipt");
    assert_eq!(receipt.subject_pseudonym, store.pseudonym(&subject));
    assert!(!receipt.subject_pseudonym.contains(SUBJECT));
    assert_eq!(
        store
            .erasure_receipts(&receipt.subject_pseudonym)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(hub.connections(&subject).await.unwrap().is_empty());
    assert!(hub.ledger().history(&subject).await.unwrap().is_empty());
    assert!(hub.access_log().entries(&subject).await.unwrap().is_empty());
    assert!(store.profile(&subject).await.unwrap().is_none());
    assert_eq!(hub.verify_consent_chain().await.unwrap().first_broken, None);
    // Purge, 91 days later: the privileged-operation entries the erasure left (filed under
    // the sentinel subject) are past the 90-day retention and go.
    let sentinel = SubjectId::new("erased-subject").unwrap();
    assert!(
        !hub.access_log()
            .entries(&sentinel)
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(chrono::Duration::days(91));
    let purged = hub.purge(clock.now()).await.unwrap();
    assert!(purged.usage_entries >= 1, "{purged:?}");
    assert!(
        hub.access_log()
            .entries(&sentinel)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(hub.purge(clock.now()).await.unwrap().usage_entries, 0);

    if let Some(dir) = db_dir {
        store.close().await;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for needle in [SUBJECT, &access, &refresh, "person@example.org"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle} found in {}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn a_subjects_life_on_the_in_process_backend() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let store =
        EncryptedStore::memory_with(keys(), StoreOptions::default().with_clock(clock.clone()))
            .await
            .unwrap();
    lifecycle(store, clock, None).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_subjects_life_on_sqlite() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let dir = tempfile::tempdir().unwrap();
    let store = EncryptedStore::open_sqlite_with(
        dir.path().join("life.db"),
        keys(),
        StoreOptions::default().with_clock(clock.clone()),
    )
    .await
    .unwrap();
    lifecycle(store, clock, Some(dir.path())).await;
}
