//! `Deployment::from_toml` / `from_file`: a full file parses into what it says; every kind of
//! bad input is a typed `Config` error naming the field, never a panic.

use socialconnect_cli::Deployment;
use socialconnect_cli::deployment::{KeySource, StoreLocation};
use socialconnect_core::ErrorKind;
use socialconnect_core::consent::LegalBasis;
use socialconnect_core::id::{PlatformId, Purpose};

const FULL: &str = r#"
region = "eu-west-1"
redirect_base = "https://connect.example.com/base"

[store]
url = "sqlite:///var/lib/socialconnect/sc.db"

[keys]
env = "SOCIALCONNECT_KEYRING"

[controller]
name = "Example GmbH"
email = "privacy@example.com"
policy_url = "https://example.com/privacy"
dpo = "dpo@example.com"

[notice]
version = "2026-11"
hash = "sha256:abc"
published = "2026-11-01T00:00:00Z"

[[purpose]]
name = "account_connection"
basis = "consent"
justification = "The user connects an account"

[[purpose]]
name = "analytics"
basis = "contract"
justification = "Reports are the product"

[retention]
usage_log_days = 30
stale_connection_days = 7
dead_api_key_days = 14

[age]
default_minimum = 14
minimum = { FR = 15 }

[platforms.meta]
client_id = "123"
client_secret_env = "META_APP_SECRET"
products = ["facebook", "whatsapp"]
graph_base = "http://127.0.0.1:9/"
verify_token_env = "META_VERIFY_TOKEN"

[platforms.tiktok]
client_id = "aw1"
client_secret_env = "TIKTOK_CLIENT_SECRET"
app_kind = "desktop"

[platforms.pinterest]
client_id = "150"
client_secret_env = "PINTEREST_CLIENT_SECRET"
"#;

#[test]
fn a_full_file_parses_into_what_it_says() {
    let d = Deployment::from_toml(FULL).unwrap();
    assert_eq!(d.region(), Some("eu-west-1"));
    assert_eq!(
        d.store_location(),
        &StoreLocation::Sqlite("/var/lib/socialconnect/sc.db".into())
    );
    assert_eq!(
        d.key_source(),
        &KeySource::Env("SOCIALCONNECT_KEYRING".to_owned())
    );
    assert_eq!(
        d.platforms(),
        vec![
            PlatformId::FACEBOOK,
            PlatformId::WHATSAPP,
            PlatformId::TIKTOK,
            PlatformId::PINTEREST
        ]
    );
    assert_eq!(
        d.callback_url(&PlatformId::TIKTOK).unwrap().as_str(),
        "https://connect.example.com/base/callback/tiktok"
    );
    assert_eq!(
        d.redirect_base().unwrap().as_str(),
        "https://connect.example.com/base/"
    );
    assert_eq!(
        d.purpose(Purpose::Analytics).unwrap().basis,
        LegalBasis::Contract
    );
    assert!(d.purpose(Purpose::Publishing).is_none());
    assert_eq!(d.retention().usage_log.num_days(), 30);
    assert_eq!(d.retention().stale_connections.num_days(), 7);
    assert_eq!(d.dead_api_key_retention().unwrap().num_days(), 14);
    assert_eq!(d.notice().unwrap().version, "2026-11");
    assert_eq!(d.controller().dpo.as_deref(), Some("dpo@example.com"));
    let age = &d.age().policy;
    assert_eq!(
        age.minimum_age(&socialconnect_core::age::Jurisdiction::new("FR").unwrap()),
        15
    );
    assert_eq!(
        age.minimum_age(&socialconnect_core::age::Jurisdiction::new("US").unwrap()),
        14
    );
    assert_eq!(
        d.settings_for(&PlatformId::WHATSAPP).unwrap().name(),
        "meta"
    );
    assert_eq!(
        d.settings_for(&PlatformId::TIKTOK).unwrap().client_id(),
        "aw1"
    );
    assert!(d.settings_for(&PlatformId::INSTAGRAM).is_none());
    assert!(d.settings_for(&PlatformId::LINKEDIN).is_none());
    let meta = &d.platform_settings()[0];
    assert_eq!(meta.name(), "meta");
    assert_eq!(meta.client_secret_env(), "META_APP_SECRET");
}

/// Replaces the first occurrence of `from` in the full file.
fn with(from: &str, to: &str) -> String {
    assert!(FULL.contains(from), "{from}");
    FULL.replacen(from, to, 1)
}

#[track_caller]
fn refused(text: &str, names: &str) {
    let e = Deployment::from_toml(text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains(names), "`{names}` not named in: {e}");
}

#[test]
fn bad_input_is_a_config_error_naming_the_field() {
    refused("this is = = not toml", "line 1");
    refused(&with("region =", "regoin ="), "regoin");
    refused(&with("[retention]\n", "[retention]\ncolor = 1\n"), "color");
    refused(&with("sqlite:///var", "mysql:///var"), "store.url");
    refused(
        &with(
            "url = \"sqlite:///var/lib/socialconnect/sc.db\"",
            "url = \"postgres://u:hunter2@db/sc\"",
        ),
        "store.url_env",
    );
    refused(
        &with("env = \"SOCIALCONNECT_KEYRING\"", "env = \"A B\""),
        "keys.env",
    );
    refused(&with("env = \"SOCIALCONNECT_KEYRING\"", ""), "keys");
    refused(
        &with("name = \"analytics\"", "name = \"marketing\""),
        "purpose[1].name",
    );
    refused(
        &with("basis = \"contract\"", "basis = \"vibes\""),
        "purpose[1].basis",
    );
    refused(
        &with(
            "justification = \"Reports are the product\"",
            "justification = \" \"",
        ),
        "purpose[1].justification",
    );
    refused(
        &with("name = \"analytics\"", "name = \"account_connection\""),
        "purpose[1].name",
    );
    refused(
        &with("usage_log_days = 30", "usage_log_days = 0"),
        "retention.usage_log_days",
    );
    refused(
        &with("usage_log_days = 30", "usage_log_days = -3"),
        "usage_log_days",
    );
    refused(
        &with("default_minimum = 14", "default_minimum = 9"),
        "age.default_minimum",
    );
    refused(&with("FR = 15", "France = 15"), "age.minimum.France");
    refused(
        &with(
            "published = \"2026-11-01T00:00:00Z\"",
            "published = \"yesterday\"",
        ),
        "notice.published",
    );
    refused(
        &with("\"facebook\", \"whatsapp\"", "\"myspace\""),
        "platforms.meta.products",
    );
    refused(
        &with("http://127.0.0.1:9/", "not a url"),
        "platforms.meta.graph_base",
    );
    refused(
        &with("app_kind = \"desktop\"", "app_kind = \"tv\""),
        "platforms.tiktok.app_kind",
    );
    refused(
        &with(
            "client_secret_env = \"TIKTOK_CLIENT_SECRET\"",
            "client_secret = \"oops\"",
        ),
        "client_secret",
    );
    refused(
        &with(
            "redirect_base = \"https://connect.example.com/base\"",
            "redirect_base = \"ftp://x\"",
        ),
        "redirect_base",
    );
}

#[test]
fn a_secret_written_in_the_file_is_never_echoed() {
    let text = with(
        "client_secret_env = \"TIKTOK_CLIENT_SECRET\"",
        "client_secret = \"tt-secret-value-42\"",
    );
    let e = Deployment::from_toml(&text).unwrap_err();
    assert!(!e.to_string().contains("tt-secret-value-42"), "{e}");
}

#[test]
fn arbitrary_text_never_panics() {
    for text in [
        "",
        "\0",
        "[[purpose]]",
        "[store]\nurl = 5",
        "ä = \"\u{202e}\"",
        "[platforms.meta]\nclient_id = \"\"\nclient_secret_env = \"X\"\n",
    ] {
        assert!(Deployment::from_toml(text).is_err(), "{text:?}");
    }
}

#[test]
fn from_file_resolves_relative_paths_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.toml");
    let text = with(
        "url = \"sqlite:///var/lib/socialconnect/sc.db\"",
        "url = \"sqlite://data/sc.db\"",
    )
    .replace("env = \"SOCIALCONNECT_KEYRING\"", "file = \"keyring\"");
    std::fs::write(&path, text).unwrap();
    let d = Deployment::from_file(&path).unwrap();
    assert_eq!(
        d.store_location(),
        &StoreLocation::Sqlite(dir.path().join("data/sc.db"))
    );
    assert_eq!(d.key_source(), &KeySource::File(dir.path().join("keyring")));

    let missing = dir.path().join("nope.toml");
    let e = Deployment::from_file(&missing).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("nope.toml"), "{e}");

    std::fs::write(&path, "[store\n").unwrap();
    let e = Deployment::from_file(&path).unwrap_err();
    assert!(
        e.to_string().contains("d.toml") && e.to_string().contains("line 1"),
        "{e}"
    );
}

#[test]
fn secrets_are_read_from_their_variables_into_secret_types() {
    // Tests cannot set environment variables (unsafe code is forbidden): CARGO_PKG_NAME is
    // one cargo and nextest set for every test process.
    let text = with(
        "verify_token_env = \"META_VERIFY_TOKEN\"",
        "verify_token_env = \"CARGO_PKG_NAME\"",
    )
    .replace(
        "client_secret_env = \"META_APP_SECRET\"",
        "client_secret_env = \"SC_SURELY_UNSET_42\"",
    );
    let d = Deployment::from_toml(&text).unwrap();
    let meta = d.settings_for(&PlatformId::FACEBOOK).unwrap();
    let token = meta.verify_token().unwrap().unwrap();
    assert_eq!(token.expose_secret(), "socialconnect-cli");
    assert!(!format!("{token:?}").contains("socialconnect-cli"));
    assert!(meta.webhook_secret().unwrap().is_none());
    let e = meta.client_secret().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("SC_SURELY_UNSET_42"), "{e}");
    // The hub cannot be wired without it, and says which variable is missing.
    let e = meta.meta_config().unwrap_err();
    assert!(e.to_string().contains("SC_SURELY_UNSET_42"), "{e}");
}
