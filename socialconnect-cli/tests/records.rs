//! `RecordOfProcessing` follows the configuration (a platform enabled appears with its scopes;
//! a basis changed changes the record; a sub-processor listed appears) and agrees with the hub's consent gate (a flagged
//! purpose is one the hub refuses without an individual consent; a declared one it permits).

mod common;

use common::{Sandbox, seed};
use socialconnect_cli::{Deployment, RecordOfProcessing};
use socialconnect_core::ErrorKind;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::Purpose;
use socialconnect_core::{SocialConnect, consent::LegalBasis};
use socialconnect_store::EncryptedStore;

// The tests build hubs in this process, whose connectors read their client secrets from the
// environment; tests cannot set variables (that is `unsafe`, and unsafe code is forbidden), so
// the in-process configurations name one cargo and nextest set for every test process.
const IN_PROCESS_SECRET: &str = "CARGO_PKG_NAME";

fn in_process(sb: &Sandbox) -> Deployment {
    let text = std::fs::read_to_string(&sb.config)
        .unwrap()
        .replace("LINKEDIN_CLIENT_SECRET", IN_PROCESS_SECRET);
    std::fs::write(&sb.config, text).unwrap();
    sb.deployment()
}

fn hub(d: &Deployment, store: &EncryptedStore) -> SocialConnect {
    d.hub_builder(HttpClient::builder().build().unwrap(), store)
        .unwrap()
        .build()
        .unwrap()
}

async fn record(sb: &Sandbox) -> RecordOfProcessing {
    let d = in_process(sb);
    let store = d.open_store().await.unwrap();
    let r = RecordOfProcessing::generate(&d, &hub(&d, &store));
    store.close().await;
    r
}

fn purpose<'a>(
    r: &'a RecordOfProcessing,
    name: &str,
) -> &'a socialconnect_cli::records::PurposeEntry {
    r.purposes
        .iter()
        .find(|p| p.purpose == name)
        .unwrap_or_else(|| panic!("no purpose {name} in {:?}", r.purposes))
}

#[tokio::test(flavor = "multi_thread")]
async fn enabling_a_platform_adds_it_with_its_scopes() {
    let sb = Sandbox::sqlite();
    let before = record(&sb).await;
    assert_eq!(
        before
            .recipients
            .iter()
            .map(|r| r.platform.as_str())
            .collect::<Vec<_>>(),
        vec!["linkedin"]
    );
    assert_eq!(
        purpose(&before, "publishing").scopes["linkedin"],
        vec!["w_member_social"]
    );
    assert!(!before.to_markdown().contains("tiktok"));

    sb.append(&format!(
        "[platforms.tiktok]\nclient_id = \"aw1\"\nclient_secret_env = \"{IN_PROCESS_SECRET}\"\n"
    ));
    let after = record(&sb).await;
    assert!(after.recipients.iter().any(|r| r.platform == "tiktok"));
    let tiktok_scopes = &purpose(&after, "publishing").scopes["tiktok"];
    assert!(!tiktok_scopes.is_empty());
    let md = after.to_markdown();
    assert!(md.contains("| tiktok | tiktok | aw1 |"), "{md}");
    assert!(
        md.contains(&format!("tiktok: {}", tiktok_scopes.join(" "))),
        "{md}"
    );
    let json = serde_json::to_value(&after).unwrap();
    let platforms: Vec<&str> = json["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["platform"].as_str())
        .collect();
    assert!(platforms.contains(&"tiktok") && platforms.contains(&"linkedin"));
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_a_sub_processor_adds_it_to_the_record() {
    let sb = Sandbox::sqlite();
    let before = record(&sb).await;
    assert!(before.sub_processors.is_empty());
    assert!(
        before
            .to_markdown()
            .contains("## Sub-processors\n\nNone listed")
    );

    sb.append(
        "[[sub_processor]]\nname = \"Example Cloud GmbH\"\nrole = \"hosting | database\"\n\
         location = \"eu-west-1\"\n\n[[sub_processor]]\nname = \"Mailer Inc\"\n\
         role = \"re-consent emails\"\nlocation = \"us-east-1\"\nsafeguard = \"SCCs\"\n",
    );
    let after = record(&sb).await;
    let names: Vec<&str> = after
        .sub_processors
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["Example Cloud GmbH", "Mailer Inc"]);
    let md = after.to_markdown();
    assert!(
        md.contains("| Example Cloud GmbH | hosting \\| database | eu-west-1 | — |"),
        "{md}"
    );
    assert!(
        md.contains("| Mailer Inc | re-consent emails | us-east-1 | SCCs |"),
        "{md}"
    );
    let json = serde_json::to_value(&after).unwrap();
    assert_eq!(json["sub_processors"][1]["safeguard"], "SCCs");

    // An empty field is refused, naming it.
    sb.append("[[sub_processor]]\nname = \" \"\nrole = \"x\"\nlocation = \"y\"\n");
    let text = std::fs::read_to_string(&sb.config).unwrap();
    let e = Deployment::from_toml(&text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("sub_processor[2].name"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_a_basis_changes_the_record() {
    let sb = Sandbox::sqlite();
    let before = record(&sb).await;
    let analytics = purpose(&before, "analytics");
    assert_eq!(analytics.basis, None);
    assert!(analytics.flag.is_some());
    assert!(before.flags.iter().any(|f| f.contains("`analytics`")));

    sb.append(
        "[[purpose]]\nname = \"analytics\"\nbasis = \"legitimate_interest\"\n\
         justification = \"Aggregate reach reports, balancing test AN-3\"\n",
    );
    let after = record(&sb).await;
    let analytics = purpose(&after, "analytics");
    assert_eq!(analytics.basis.as_deref(), Some("legitimate_interest"));
    assert_eq!(
        analytics.justification.as_deref(),
        Some("Aggregate reach reports, balancing test AN-3")
    );
    assert!(analytics.flag.is_none());
    assert!(!after.flags.iter().any(|f| f.contains("`analytics`")));
    assert_ne!(before.to_markdown(), after.to_markdown());

    // And from legitimate interest to consent.
    let text = std::fs::read_to_string(&sb.config).unwrap().replace(
        "basis = \"legitimate_interest\"\njustification = \"Aggregate",
        "basis = \"consent\"\njustification = \"Aggregate",
    );
    std::fs::write(&sb.config, text).unwrap();
    let consent = record(&sb).await;
    assert_eq!(
        purpose(&consent, "analytics").basis.as_deref(),
        Some("consent")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_record_matches_what_the_consent_gate_enforces() {
    let sb = Sandbox::sqlite();
    sb.append(
        "[[purpose]]\nname = \"analytics\"\nbasis = \"contract\"\n\
         justification = \"Reports are what the user signed up for\"\n",
    );
    let d = in_process(&sb);
    let store = d.open_store().await.unwrap();
    let hub = hub(&d, &store);
    let record = RecordOfProcessing::generate(&d, &hub);
    // The seeded subject consented to account connection on LinkedIn, nothing else.
    let key = seed(&store, "gate-subject").await;

    for p in Purpose::ALL {
        let Some(entry) = record.purposes.iter().find(|e| e.purpose == p.as_str()) else {
            continue;
        };
        let session = hub.session(&key, p).await;
        match entry.basis.as_deref() {
            // Flagged: no declaration on the hub, and no consent for it: refused.
            None => {
                assert!(entry.flag.is_some());
                assert!(hub.declared_basis(p).is_none());
                assert_eq!(
                    session.unwrap_err().kind(),
                    ErrorKind::ConsentRequired,
                    "{p}"
                );
            }
            // Declared under contract: permitted without a consent record.
            Some("contract") => {
                assert_eq!(hub.declared_basis(p).unwrap().basis, LegalBasis::Contract);
                assert!(session.is_ok(), "{p}: {:?}", session.err());
            }
            Some("legitimate_interest") => {
                assert!(hub.declared_basis(p).is_some());
                assert!(session.is_ok(), "{p}: {:?}", session.err());
            }
            // Consent: permitted here because the subject's consent is recorded.
            Some("consent") => {
                assert!(hub.declared_basis(p).is_none());
                assert!(session.is_ok(), "{p}: {:?}", session.err());
            }
            Some(other) => panic!("unexpected basis {other}"),
        }
    }
    assert!(record.purposes.iter().any(|e| e.flag.is_some()));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_categories_cover_exactly_what_an_erasure_removes() {
    let sb = Sandbox::sqlite();
    let r = record(&sb).await;
    let declared: std::collections::BTreeSet<&str> = r
        .data_categories
        .iter()
        .flat_map(|c| c.erased_as.iter().map(String::as_str))
        .collect();
    // What the store actually keeps per subject, as its erasure counts it.
    let store = sb.store().await;
    seed(&store, "categories").await;
    let report = store
        .erase(&socialconnect_core::id::SubjectId::new("categories").unwrap())
        .await
        .unwrap();
    store.close().await;
    let erased: std::collections::BTreeSet<&str> =
        report.counts.keys().map(String::as_str).collect();
    assert_eq!(declared, erased);
    let md = r.to_markdown();
    for c in &r.data_categories {
        assert!(md.contains(&format!("| {} |", c.name)), "{}", c.name);
    }
}
