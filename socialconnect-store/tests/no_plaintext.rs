//! Nothing personal reaches the disk in clear: tokens, subject ids, platform account ids, IP
//! addresses and user agents, emails and usernames written through every record kind (deletion
//! requests, consent sources, profiles and privileged-operation actors included) are absent
//! from the raw bytes of the database, its WAL and the key vault.
#![cfg(feature = "sqlite")]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::{ConsentEvent, ConsentLedger, ConsentSource};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::KeyId;
use socialconnect_core::platform_deletion::DeletionRequest;
use socialconnect_core::profile::{ProfileStore, SubjectProfile};
use socialconnect_core::secret::{AccessToken, PkceVerifier, RefreshToken};
use socialconnect_core::store::{PendingAuth, PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;

const SUBJECT: &str = "subject-MARKER-a1b2c3";
const ACCESS: &str = "ACCESS-MARKER-d4e5f6";
const REFRESH: &str = "REFRESH-MARKER-g7h8i9";
const VERIFIER: &str = "VERIFIER-MARKER-j0k1l2";
const ACCOUNT: &str = "ACCOUNT-MARKER-m3n4o5";
const IP: &str = "203.0.113.77";
const USER_AGENT: &str = "MarkerAgent/9.9";
const EMAIL: &str = "email-MARKER-p6q7@example.com";
const USERNAME: &str = "username-MARKER-r8s9";
const CONSENT_UA: &str = "ConsentAgent/MARKER-t0u1";
const ACTOR: &str = "operator-MARKER-v2w3";

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn assert_absent(files: &[(String, Vec<u8>)]) {
    let ip: IpAddr = IP.parse().unwrap();
    let IpAddr::V4(v4) = ip else { unreachable!() };
    for (name, bytes) in files {
        for marker in [
            SUBJECT, ACCESS, REFRESH, VERIFIER, ACCOUNT, IP, USER_AGENT, EMAIL, USERNAME,
            CONSENT_UA, ACTOR, "MARKER",
        ] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} found in {name}"
            );
        }
        assert!(
            !bytes.windows(4).any(|w| w == v4.octets()),
            "binary IP found in {name}"
        );
    }
}

#[tokio::test]
async fn nothing_personal_is_stored_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sc.db");
    let keys = Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [7; 32])], KeyId("k1".into())).unwrap(),
    );
    let store = EncryptedStore::open_sqlite(&path, keys.clone())
        .await
        .unwrap();
    let subject = SubjectId::new(SUBJECT).unwrap();
    let now = Utc::now();
    let key = ConnectionKey::new(
        subject.clone(),
        PlatformId::FACEBOOK,
        ConnectionId::generate(),
    );
    let tokens = TokenSet::new(AccessToken::new(ACCESS), Expiry::after(now, 3600), now)
        .with_refresh(RefreshToken::new(REFRESH), Expiry::Unknown)
        .with_account_id(ACCOUNT);
    store.put(&key, &tokens, None).await.unwrap();
    let deletions: &dyn socialconnect_core::platform_deletion::DeletionRequestStore = &store;
    let code = DeletionRequest::new_code();
    deletions
        .record_request(DeletionRequest::new(
            code.clone(),
            PlatformId::FACEBOOK,
            Some(subject.clone()),
            now,
        ))
        .await
        .unwrap();
    store
        .record(
            ConsentEvent::grant(subject.clone(), Purpose::AccountConnection, None, now)
                .with_source(ConsentSource {
                    ip: Some(IP.parse().unwrap()),
                    user_agent: Some(CONSENT_UA.to_owned()),
                }),
        )
        .await
        .unwrap();
    store
        .put_profile(
            &subject,
            &SubjectProfile::new(Some(EMAIL.to_owned()), Some(USERNAME.to_owned())),
        )
        .await
        .unwrap();
    store
        .append(
            UsageEntry::new(
                now,
                subject.clone(),
                PlatformId::FACEBOOK,
                None,
                "subject.export",
                Outcome::Success,
                None,
                Duration::ZERO,
                ClientInfo::default(),
            )
            .with_actor(ACTOR),
        )
        .await
        .unwrap();
    store
        .append(UsageEntry::new(
            now,
            subject.clone(),
            PlatformId::FACEBOOK,
            Some(key.connection),
            "pages.publish",
            Outcome::Success,
            Some(200),
            Duration::from_millis(5),
            ClientInfo::new(Some(IP.parse().unwrap()), Some(USER_AGENT)),
        ))
        .await
        .unwrap();
    store
        .insert(
            [5; 32],
            PendingAuth::new(
                subject.clone(),
                PlatformId::FACEBOOK,
                "https://host.example/cb".parse().unwrap(),
                vec![],
                Some(PkceVerifier::new(VERIFIER)),
                now,
                now + chrono::Duration::minutes(10),
            ),
        )
        .await
        .unwrap();

    // While open: the main files and their write-ahead logs.
    let open_files = files(dir.path());
    assert!(
        open_files.iter().any(|(n, _)| n.ends_with("-wal")),
        "WAL mode"
    );
    assert_absent(&open_files);

    // After close and reopen (checkpointed), and the store still reads everything back.
    drop(store);
    let store = EncryptedStore::open_sqlite(&path, keys).await.unwrap();
    let got = store.get(&key).await.unwrap().unwrap();
    assert_eq!(got.tokens.access_token.expose_secret(), ACCESS);
    assert_eq!(
        store
            .find_by_account(&PlatformId::FACEBOOK, ACCOUNT)
            .await
            .unwrap(),
        vec![key.clone()]
    );
    let deletions: &dyn socialconnect_core::platform_deletion::DeletionRequestStore = &store;
    assert_eq!(
        deletions.request(&code).await.unwrap().unwrap().subject,
        Some(subject.clone())
    );
    let profile = store.profile(&subject).await.unwrap().unwrap();
    assert_eq!(
        (profile.email.as_deref(), profile.username.as_deref()),
        (Some(EMAIL), Some(USERNAME))
    );
    let history = store.history(&subject).await.unwrap();
    let source = history[0].event.source.as_ref().unwrap();
    assert_eq!(source.user_agent.as_deref(), Some(CONSENT_UA));
    assert_absent(&files(dir.path()));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [path.clone(), dir.path().join("sc.db.keys")] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
}
