//! The offline quickstart: one end user's whole life with SocialConnect, against a simulated
//! Meta Graph API and a simulated TikTok API on loopback, with the encrypted SQLite store. No
//! credentials, no network.
//!
//! ```sh
//! cargo run -p examples --bin quickstart
//! ```
//!
//! Against the real Graph API (not exercised by the test suite): set `META_APP_ID`,
//! `META_APP_SECRET`, `META_REDIRECT_URI` (a redirect URI registered for the app) and
//! `SOCIALCONNECT_KEYRING` (`*k1:<base64 of 32 random bytes>`), run the same command, open the
//! printed login URL, and paste the URL the browser was redirected to. The program then posts
//! to the first Page the user manages and to its linked Instagram account, so use a test Page.
//! The TikTok and LinkedIn steps run in the sandbox only.

mod linkedin;
mod pinterest;
mod tiktok;

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use linkedin::LinkedInSandbox;
use pinterest::PinterestSandbox;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::age::{AgeAttestation, AgeBand, Jurisdiction};
use socialconnect_core::automation::ActionStore;
use socialconnect_core::consent::{CollectionMethod, ConsentEvent, ConsentLedger, ConsentRequest};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{PlatformId, Purpose, Scope, SubjectId};
use socialconnect_core::keys::KeyProvider;
use socialconnect_core::platform_deletion::DeletionRequestStore;
use socialconnect_core::profile::ProfileStore;
use socialconnect_core::receipt::ReceiptStore;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::{
    ActionEvent, ActionRequest, Connected, Error, Result, RunnerOptions, SocialConnect,
};
use socialconnect_meta::actions::PagePost;
use socialconnect_meta::instagram::MediaContainer;
use socialconnect_meta::pages::{FeedPost, InsightsQuery, Period};
use socialconnect_meta::privacy::MetaPrivacy;
use socialconnect_meta::signed_request::sign_signed_request;
use socialconnect_meta::{FacebookLogin, MetaActions, MetaClient, MetaConfig, MetaProduct};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_testkit::meta::GraphSimulator;
use tiktok::TikTokSandbox;
use url::Url;

const STEPS: usize = 26;

pub(crate) fn step(n: usize, text: impl std::fmt::Display) {
    println!("[{n:>2}/{STEPS}] {text}");
}

pub(crate) fn detail(text: impl std::fmt::Display) {
    println!("        {text}");
}

/// Where the program runs: the offline sandbox, or the real Graph API.
enum Mode {
    Offline(GraphSimulator),
    Real { redirect: Url },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed ({:?}): {e}", e.kind());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let (mode, config, keys): (Mode, MetaConfig, Arc<dyn KeyProvider>) =
        if std::env::var_os("META_APP_ID").is_some() {
            let config = MetaConfig::from_env()?;
            let redirect = std::env::var("META_REDIRECT_URI")
                .map_err(|_| Error::config("META_REDIRECT_URI is not set"))?
                .parse()
                .map_err(|_| Error::config("META_REDIRECT_URI is not a URL"))?;
            step(
                1,
                "Real mode: talking to graph.facebook.com with the app from META_APP_ID",
            );
            (
                Mode::Real { redirect },
                config,
                Arc::new(LocalKeyring::from_env()?),
            )
        } else {
            let sim = GraphSimulator::builder().start().await;
            step(
                1,
                format!(
                    "Started a simulated Meta Graph API at {} ({})",
                    sim.base_url(),
                    sim.version()
                ),
            );
            let config = MetaConfig::new(sim.app_id(), ClientSecret::new(sim.app_secret()))
                .with_graph_base(sim.base_url())
                .with_dialog_base(sim.base_url());
            detail(
                "the demo key below is publicly known: it protects nothing outside this sandbox",
            );
            (Mode::Offline(sim), config, Arc::new(LocalKeyring::demo()))
        };

    // The encrypted store, in a fresh local directory.
    let dir = std::env::temp_dir().join(format!("socialconnect-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::storage("creating the data directory", e))?;
    let db = dir.join("socialconnect.db");
    let store = EncryptedStore::open_sqlite(&db, keys).await?;
    step(
        2,
        format!("Opened the encrypted SQLite store at {}", db.display()),
    );
    detail(
        "records sealed with AES-256-GCM under a per-user data key; the key vault sits beside it (.keys)",
    );

    let http = HttpClient::builder()
        .rate_limits(PlatformId::TIKTOK, socialconnect_tiktok::rate_limits())
        .build()?;
    let client = MetaClient::new(config.clone(), http.clone());
    let tiktok = match &mode {
        Mode::Offline(_) => Some(TikTokSandbox::start(&http).await),
        Mode::Real { .. } => None,
    };
    let linkedin = match &mode {
        Mode::Offline(_) => Some(LinkedInSandbox::start(&http).await),
        Mode::Real { .. } => None,
    };
    let pinterest = match &mode {
        Mode::Offline(_) => Some(PinterestSandbox::start(&http).await),
        Mode::Real { .. } => None,
    };
    let mut builder = SocialConnect::builder();
    if let Some(tt) = &tiktok {
        builder = builder.platform(Arc::new(tt.platform()?));
    }
    if let Some(li) = &linkedin {
        builder = builder.platform(Arc::new(li.platform()?));
    }
    if let Some(pin) = &pinterest {
        builder = builder.platform(Arc::new(pin.platform()?));
    }
    let hub = builder
        .http(http)
        .platform(Arc::new(FacebookLogin::new(
            client.clone(),
            MetaProduct::Facebook,
        )?))
        .platform(Arc::new(FacebookLogin::new(
            client.clone(),
            MetaProduct::Instagram,
        )?))
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .deletion_requests(Arc::new(store.clone()) as Arc<dyn DeletionRequestStore>)
        .profiles(Arc::new(store.clone()) as Arc<dyn ProfileStore>)
        .receipts(Arc::new(store.clone()) as Arc<dyn ReceiptStore>)
        .actions(Arc::new(store.clone()) as Arc<dyn ActionStore>)
        .executor(Arc::new(MetaActions::new(
            client.clone(),
            MetaProduct::Facebook,
        )?))
        .region("eu-central-1")
        .build()?;

    let subject = SubjectId::new("quickstart-user-1")?;
    let now = hub.clock().now();
    let mut platforms = vec![PlatformId::FACEBOOK, PlatformId::INSTAGRAM];
    if tiktok.is_some() {
        platforms.push(PlatformId::TIKTOK);
    }
    if linkedin.is_some() {
        platforms.push(PlatformId::LINKEDIN);
    }
    if pinterest.is_some() {
        platforms.push(PlatformId::PINTEREST);
    }
    for platform in platforms {
        for purpose in [
            Purpose::AccountConnection,
            Purpose::Publishing,
            Purpose::Analytics,
        ] {
            // The age gate runs first: an adult in Germany (16+ there) may consent.
            hub.consent(ConsentRequest::new(
                ConsentEvent::grant(subject.clone(), purpose, Some(platform.clone()), now)
                    .with_notice_version("2026-11")
                    .with_method(CollectionMethod::WebForm),
                AgeAttestation::Band(AgeBand::Adult),
                Jurisdiction::new("DE")?,
                now.date_naive(),
            ))
            .await?;
        }
    }
    step(
        3,
        "Age-checked and recorded consent: connection, publishing, analytics on Facebook, Instagram, TikTok, LinkedIn and Pinterest",
    );

    let fb = connect(
        &hub,
        &mode,
        &subject,
        PlatformId::FACEBOOK,
        "pages_show_list,pages_manage_posts,pages_read_engagement,read_insights",
    )
    .await?;
    step(
        4,
        format!(
            "Connected Facebook and Instagram through Facebook Login (connection {})",
            fb.key.connection
        ),
    );
    detail(format!(
        "account {} ({}), long-lived token stored encrypted; scopes: {}",
        fb.account.account_id,
        fb.account.display_name.as_deref().unwrap_or("-"),
        fb.scopes
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let ig = connect(
        &hub,
        &mode,
        &subject,
        PlatformId::INSTAGRAM,
        "instagram_basic,instagram_content_publish,pages_show_list",
    )
    .await?;

    let session = hub.session(&fb.key, Purpose::Publishing).await?;
    let page = client
        .page_accounts(&session)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid_input("the user manages no Facebook Page"))?;
    let post = client
        .pages(&session)
        .publish(
            &page,
            &FeedPost::text("Hello from SocialConnect's quickstart"),
        )
        .await?;
    step(
        5,
        format!(
            "Published a Page post on \"{}\": {post}",
            page.name.as_deref().unwrap_or(&page.id)
        ),
    );

    let ig_session = hub.session(&ig.key, Purpose::Publishing).await?;
    let ig_account = client
        .instagram_accounts(&ig_session)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid_input("no Instagram business account"))?;
    let instagram = client.instagram(&ig_session);
    let limit = instagram.publishing_limit(&ig_account.id).await?;
    let container = instagram
        .create_container(
            &ig_account.id,
            &MediaContainer::image(
                Url::parse("https://picsum.example/quickstart.jpg").expect("constant URL"),
            )
            .with_caption("Posted by the SocialConnect quickstart"),
        )
        .await?;
    instagram.wait_until_finished(container.as_str()).await?;
    let media = instagram
        .publish(&ig_account.id, container.as_str())
        .await?;
    step(
        6,
        format!(
            "Published an Instagram photo as @{}: container {container} reached FINISHED, media {media}",
            ig_account.username.as_deref().unwrap_or("-")
        ),
    );
    detail(format!(
        "publishing quota read from Meta: {} used of {} per 24 h",
        limit.quota_usage,
        limit.quota_total.map_or("?".to_owned(), |t| t.to_string())
    ));

    let analytics = hub.session(&fb.key, Purpose::Analytics).await?;
    let insights = client
        .pages(&analytics)
        .insights(
            &page,
            &InsightsQuery::new(["page_impressions", "page_post_engagements"]).period(Period::Day),
        )
        .await?;
    step(7, format!("Fetched {} Page insight series", insights.len()));
    for i in &insights {
        let last = i.values.last().and_then(|p| p.value.as_i64());
        detail(format!(
            "{} ({}): latest {}",
            i.name,
            i.period.as_ref().map(|p| p.as_str()).unwrap_or("-"),
            last.map(|v| v.to_string()).unwrap_or("-".into())
        ));
    }

    // A Page post scheduled a few seconds ahead, published by the hub's action runner (one
    // per instance in a host), after the same gates as a live call.
    let runner =
        hub.action_runner(RunnerOptions::default().with_idle_interval(Duration::from_millis(200)))?;
    let mut outcomes = runner.subscribe();
    let running = runner.start();
    let due = hub.clock().now() + chrono::Duration::seconds(3);
    let scheduled = hub
        .schedule_action(ActionRequest::of(
            fb.key.clone(),
            &PagePost::text(page.id.clone(), "Scheduled by SocialConnect's quickstart"),
            due,
        )?)
        .await?;
    let published = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(event) = outcomes.recv().await {
            if let ActionEvent::Completed { id, result, .. } = event
                && id == scheduled.id
            {
                return Some(result);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| Error::transient("the scheduled post did not run within a minute"))?;
    running.shutdown().await;
    step(
        8,
        format!(
            "Scheduled a Page post for {} (3 s ahead); the action runner published it at {}: {}",
            due.format("%H:%M:%S"),
            hub.clock().now().format("%H:%M:%S"),
            published["post_id"].as_str().unwrap_or("?")
        ),
    );
    let stored = hub.action(&subject, scheduled.id).await?;
    detail(format!(
        "action {} is {} ({} run); its payload is sealed in the store under the user's key",
        stored.id,
        stored.state.as_str(),
        stored.runs
    ));
    let tt = match &tiktok {
        Some(sandbox) => {
            let tt = sandbox.connect(&hub, &subject, 9).await?;
            sandbox.post_video(&hub, &tt, &dir, 10).await?;
            sandbox.list_videos(&hub, &tt, 11).await?;
            Some(tt)
        }
        None => {
            for n in 9..=11 {
                step(n, "TikTok: runs in the sandbox only (skipped)");
            }
            None
        }
    };

    match &linkedin {
        Some(sandbox) => {
            let li = sandbox.connect(&hub, &subject, 12).await?;
            let org = sandbox.organizations(&hub, &li, 13).await?;
            sandbox.post_with_image(&hub, &li, 14).await?;
            sandbox.post_as_organization(&hub, &li, &org, 15).await?;
            sandbox.statistics(&hub, &li, &org, 16).await?;
        }
        None => {
            for n in 12..=16 {
                step(n, "LinkedIn: runs in the sandbox only (skipped)");
            }
        }
    }

    match &pinterest {
        Some(sandbox) => {
            let pin = sandbox.connect(&hub, &subject, 17).await?;
            let board = sandbox.create_board(&hub, &pin, 18).await?;
            sandbox.pin_image(&hub, &pin, &board, 19).await?;
            let video = sandbox.pin_video(&hub, &pin, &board, &dir, 20).await?;
            sandbox.pin_analytics(&hub, &pin, &video, 21).await?;
        }
        None => {
            for n in 17..=21 {
                step(n, "Pinterest: runs in the sandbox only (skipped)");
            }
        }
    }

    // Export first, while the user's connections still exist, so the export shows what it
    // holds; Meta's data-deletion callback below erases the Meta connections.
    let mut export = Vec::new();
    hub.export(&subject, "quickstart-operator", &mut export)
        .await?;
    let doc: serde_json::Value =
        serde_json::from_slice(&export).map_err(|e| Error::storage("re-reading the export", e))?;
    step(
        22,
        format!(
            "Exported the user's data: {} bytes of JSON ({} connections, {} consent records, {} usage-log entries, no tokens)",
            export.len(),
            doc["connections"].as_array().map_or(0, Vec::len),
            doc["consent"].as_array().map_or(0, Vec::len),
            doc["usage_log"].as_array().map_or(0, Vec::len),
        ),
    );

    // Meta calls the data-deletion URL with a signed_request; here we sign it as Meta would.
    let privacy = MetaPrivacy::new(
        hub.clone(),
        &config,
        Url::parse("https://host.example/privacy/meta-deletion").expect("constant URL"),
    )?;
    let payload = format!(
        r#"{{"algorithm":"HMAC-SHA256","issued_at":{},"user_id":"{}"}}"#,
        hub.clock().now().timestamp(),
        fb.account.account_id
    );
    let body = format!(
        "signed_request={}",
        sign_signed_request(&payload, &ClientSecret::new(config_secret(&mode, &config)))
    );
    let deletion = privacy.data_deletion(body.as_bytes()).await?;
    step(
        23,
        format!(
            "Handled a signed data-deletion callback: answered {}",
            deletion.to_json()
        ),
    );
    detail(format!(
        "status of {}: {:?}",
        deletion.confirmation_code,
        privacy.status(&deletion.confirmation_code).await?
    ));

    match (&tiktok, &tt) {
        (Some(sandbox), Some(_)) => sandbox.authorization_removed(&hub, 24).await?,
        _ => step(24, "TikTok: runs in the sandbox only (skipped)"),
    }

    let erased = hub.erase(&subject, "quickstart-operator").await?;
    step(
        25,
        format!(
            "Erased the user: {}",
            erased
                .report
                .counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    detail("the user's data key is destroyed: nothing of them opens, even from a copy of the file");
    if let Some(receipt) = &erased.receipt {
        detail(format!(
            "erasure receipt kept under the pseudonym {}..., without the person",
            receipt.subject_pseudonym.get(..16).unwrap_or("")
        ));
    }

    let left = hub.connections(&subject).await?.len() + hub.ledger().history(&subject).await?.len();
    step(
        26,
        format!(
            "Checked: {left} records of the user left; removing {}",
            dir.display()
        ),
    );
    hub.flush_usage_log().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Mode::Offline(sim) = &mode {
        sim.assert_no_unexpected();
    }
    if let Some(sandbox) = &tiktok {
        sandbox.assert_no_unexpected();
    }
    if let Some(sandbox) = &linkedin {
        sandbox.assert_no_unexpected();
    }
    if let Some(sandbox) = &pinterest {
        sandbox.assert_no_unexpected();
    }
    Ok(())
}

/// Connects `platform` in the sandbox: the hub's authorize URL, `authorize` playing the
/// browser and the consenting user (a platform simulator), the callback handed back whole.
pub(crate) async fn connect_in_sandbox(
    hub: &SocialConnect,
    subject: &SubjectId,
    platform: PlatformId,
    scopes: &str,
    redirect: &str,
    authorize: impl FnOnce(&Url) -> (String, String),
) -> Result<Connected> {
    let redirect = Url::parse(redirect).map_err(|_| Error::config("redirect URI"))?;
    let auth = hub
        .connect(subject, &platform, &Scope::parse_list(scopes), &redirect)
        .await?;
    let (code, state) = authorize(&auth.url);
    let mut landed = redirect.clone();
    landed
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state);
    hub.complete_callback(subject, &redirect, landed.as_str())
        .await
}

/// The app secret, to sign the callback as Meta would (in production Meta signs it).
fn config_secret(mode: &Mode, _config: &MetaConfig) -> String {
    match mode {
        Mode::Offline(sim) => sim.app_secret().to_owned(),
        Mode::Real { .. } => std::env::var("META_APP_SECRET").unwrap_or_default(),
    }
}

/// Facebook Login for `platform`: the simulator plays the browser offline; in real mode the
/// user opens the URL and pastes where the browser landed.
async fn connect(
    hub: &SocialConnect,
    mode: &Mode,
    subject: &SubjectId,
    platform: PlatformId,
    scopes: &str,
) -> Result<Connected> {
    let scopes = Scope::parse_list(scopes);
    let redirect = match mode {
        Mode::Offline(_) => {
            Url::parse("https://host.example/oauth/callback").expect("constant URL")
        }
        Mode::Real { redirect } => redirect.clone(),
    };
    let auth = hub.connect(subject, &platform, &scopes, &redirect).await?;
    // Where the browser lands: the whole callback URL, which the hub reads (state, code, or
    // the user's refusal as ErrorKind::AuthorizationDenied).
    let callback = match mode {
        Mode::Offline(sim) => {
            let (code, state) = sim.authorize(&auth.url);
            let mut landed = redirect.clone();
            landed
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &state);
            // Facebook appends this fragment; the hub ignores it.
            format!("{landed}#_=_")
        }
        Mode::Real { .. } => {
            println!(
                "Open this URL, log in, then paste the address you were sent to:\n{}",
                auth.url
            );
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::storage("reading the callback URL", e))?;
            line
        }
    };
    hub.complete_callback(subject, &redirect, &callback).await
}
