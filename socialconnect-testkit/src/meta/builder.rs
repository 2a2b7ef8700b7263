//! Configuration of the simulated Graph API.

use std::sync::Arc;
use std::time::Duration;

use socialconnect_core::clock::{Clock, SystemClock};

use super::GraphSimulator;

/// Everything the simulated Graph API is configured with; fixed once the server starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) version: String,
    pub(crate) app_id: String,
    pub(crate) app_secret: String,
    pub(crate) app_name: String,
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) system_user_id: String,
    pub(crate) page_id: String,
    pub(crate) page_name: String,
    pub(crate) instagram_user_id: String,
    pub(crate) instagram_username: String,
    pub(crate) instagram_linked: bool,
    pub(crate) phone_number_id: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) granted_scopes: Option<Vec<String>>,
    pub(crate) short_lived_lifetime: Duration,
    pub(crate) long_lived_lifetime: Duration,
    pub(crate) token_latency: Option<Duration>,
    pub(crate) polls_in_progress: u32,
    pub(crate) publishing_quota: u32,
    pub(crate) require_appsecret_proof: bool,
    pub(crate) seeded_posts: usize,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for Config {
    fn default() -> Self {
        type B = GraphSimulatorBuilder;
        Self {
            version: B::DEFAULT_VERSION.to_owned(),
            app_id: B::DEFAULT_APP_ID.to_owned(),
            app_secret: B::DEFAULT_APP_SECRET.to_owned(),
            app_name: "SocialConnect Sandbox".to_owned(),
            user_id: B::DEFAULT_USER_ID.to_owned(),
            user_name: "Sandbox User".to_owned(),
            system_user_id: B::DEFAULT_SYSTEM_USER_ID.to_owned(),
            page_id: B::DEFAULT_PAGE_ID.to_owned(),
            page_name: "Sandbox Bakery".to_owned(),
            instagram_user_id: B::DEFAULT_INSTAGRAM_USER_ID.to_owned(),
            instagram_username: "sandbox.bakery".to_owned(),
            instagram_linked: true,
            phone_number_id: B::DEFAULT_PHONE_NUMBER_ID.to_owned(),
            redirect_uris: Vec::new(),
            granted_scopes: None,
            short_lived_lifetime: Duration::from_secs(3600),
            long_lived_lifetime: Duration::from_secs(B::LONG_LIVED_EXPIRES_IN),
            token_latency: None,
            polls_in_progress: 1,
            publishing_quota: 50,
            require_appsecret_proof: false,
            seeded_posts: 0,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Configures a [`GraphSimulator`]; every setting has a default, so
/// `GraphSimulator::builder().start().await` is a working Graph API.
///
/// Defaults: version `v26.0`; the app, user, Page, Instagram account and WhatsApp phone number
/// of the `DEFAULT_*` constants (ids past `f64`'s exact range where Meta's are); any absolute
/// redirect URI; the requested scopes granted; short-lived user tokens valid one hour,
/// long-lived ones 5 183 944 s; IG containers `IN_PROGRESS` for one status poll; a publishing
/// quota of 50 per 24 h; `appsecret_proof` checked when sent but not required; no seeded
/// posts; the system clock.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct GraphSimulatorBuilder {
    config: Config,
}

impl GraphSimulatorBuilder {
    /// The Graph API version served unless told otherwise.
    pub const DEFAULT_VERSION: &'static str = "v26.0";
    /// The app id.
    pub const DEFAULT_APP_ID: &'static str = "987654321098765";
    /// The app secret.
    pub const DEFAULT_APP_SECRET: &'static str = "sandbox-app-secret-0123456789abcdef";
    /// The app-scoped id of the Facebook user who logs in (above 2^53).
    pub const DEFAULT_USER_ID: &'static str = "10229876543210987";
    /// The id of the system user behind [`GraphSimulator::whatsapp_token`].
    pub const DEFAULT_SYSTEM_USER_ID: &'static str = "61550000000000001";
    /// The id of the user's Facebook Page (above 2^53).
    pub const DEFAULT_PAGE_ID: &'static str = "112233445566778899";
    /// The id of the Instagram business account linked to the Page (above 2^53).
    pub const DEFAULT_INSTAGRAM_USER_ID: &'static str = "17841400000000001234";
    /// The WhatsApp Business phone-number id.
    pub const DEFAULT_PHONE_NUMBER_ID: &'static str = "106540352242922";
    /// `expires_in` of a long-lived user token, as Meta documents it (about 60 days).
    pub const LONG_LIVED_EXPIRES_IN: u64 = 5_183_944;

    /// The Graph version in every path, e.g. `v25.0` (default `v26.0`). Requests to another
    /// version hit the catch-all.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.config.version = version.into();
        self
    }

    /// The app id and secret the token endpoint and `appsecret_proof` check against.
    pub fn app(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.config.app_id = app_id.into();
        self.config.app_secret = app_secret.into();
        self
    }

    /// The Facebook user behind user tokens.
    pub fn user(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.config.user_id = id.into();
        self.config.user_name = name.into();
        self
    }

    /// The user's one Page.
    pub fn page(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.config.page_id = id.into();
        self.config.page_name = name.into();
        self
    }

    /// The Instagram business account linked to the Page.
    pub fn instagram_account(mut self, id: impl Into<String>, username: impl Into<String>) -> Self {
        self.config.instagram_user_id = id.into();
        self.config.instagram_username = username.into();
        self
    }

    /// Whether the Page has an Instagram business account at all (default `true`). Without
    /// one, `/me/accounts` omits `instagram_business_account` and the Instagram endpoints
    /// answer "unknown object".
    pub fn instagram_linked(mut self, linked: bool) -> Self {
        self.config.instagram_linked = linked;
        self
    }

    /// The WhatsApp Business phone-number id.
    pub fn phone_number_id(mut self, id: impl Into<String>) -> Self {
        self.config.phone_number_id = id.into();
        self
    }

    /// Registers a valid OAuth redirect URI; once any is registered, the login dialog refuses
    /// others (error 191). By default every absolute URI is accepted.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.config.redirect_uris.push(uri.into());
        self
    }

    /// Grants exactly these permissions whatever the dialog asked for, as when the user
    /// unticks some. Tokens minted directly get them too.
    pub fn grant_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.granted_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// How long a short-lived user token (from the code exchange) lives (default one hour).
    pub fn short_lived_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.short_lived_lifetime = lifetime;
        self
    }

    /// How long a long-lived user token lives (default 5 183 944 s).
    pub fn long_lived_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.long_lived_lifetime = lifetime;
        self
    }

    /// Delays every `oauth/access_token` answer by `latency`, to widen the race window of a
    /// single-flight test.
    pub fn token_latency(mut self, latency: Duration) -> Self {
        self.config.token_latency = Some(latency);
        self
    }

    /// How many status polls an IG container answers `IN_PROGRESS` before it is `FINISHED`
    /// (default 1; 0 makes containers ready at once).
    pub fn container_polls_in_progress(mut self, polls: u32) -> Self {
        self.config.polls_in_progress = polls;
        self
    }

    /// `config.quota_total` of `content_publishing_limit`, enforced by `media_publish`
    /// (default 50 per rolling 24 h).
    pub fn publishing_quota(mut self, quota_total: u32) -> Self {
        self.config.publishing_quota = quota_total;
        self
    }

    /// Whether calls with a user, Page or system-user token must carry `appsecret_proof`
    /// (default `false`); see [`GraphSimulator::require_appsecret_proof`].
    pub fn require_appsecret_proof(mut self, require: bool) -> Self {
        self.config.require_appsecret_proof = require;
        self
    }

    /// Starts with `count` published posts on the Page (`Sample post #1` oldest, one hour
    /// apart), e.g. to exercise paging.
    pub fn seed_posts(mut self, count: usize) -> Self {
        self.config.seeded_posts = count;
        self
    }

    /// The clock that dates tokens, codes, posts and containers (default: the system clock).
    /// Pass the same `Arc<ManualClock>` as the code under test to expire tokens by moving time.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.clock = clock;
        self
    }

    /// Starts the mock server on loopback and mounts the Graph endpoints and the catch-all.
    ///
    /// # Panics
    ///
    /// On a configuration that cannot work: a version that is not one path segment, or ids
    /// that are not decimal (Graph ids are).
    pub async fn start(self) -> GraphSimulator {
        let c = &self.config;
        assert!(
            !c.version.is_empty() && !c.version.contains(['/', '?', '#']),
            "GraphSimulator: version `{}` must be one path segment",
            c.version
        );
        for id in [
            &c.app_id,
            &c.user_id,
            &c.page_id,
            &c.instagram_user_id,
            &c.phone_number_id,
        ] {
            assert!(
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
                "GraphSimulator: id `{id}` must be decimal digits"
            );
        }
        GraphSimulator::start_with(self.config).await
    }
}
