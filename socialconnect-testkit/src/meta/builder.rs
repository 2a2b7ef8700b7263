//! Configuration of the simulated Graph API.

use std::time::Duration;

use super::GraphSimulator;
use crate::sim::SimBuilder;

/// The Graph simulator's own settings (beside the shared ones of [`SimBuilder`]), set through
/// [`GraphSimulatorBuilder`]; fixed once the server starts.
#[derive(Debug, Clone)]
pub struct GraphSettings {
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
    pub(crate) short_lived_lifetime: Duration,
    pub(crate) long_lived_lifetime: Duration,
    pub(crate) polls_in_progress: u32,
    pub(crate) publishing_quota: u32,
    pub(crate) require_appsecret_proof: bool,
    pub(crate) seeded_posts: usize,
}

impl Default for GraphSettings {
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
            short_lived_lifetime: Duration::from_secs(3600),
            long_lived_lifetime: Duration::from_secs(B::LONG_LIVED_EXPIRES_IN),
            polls_in_progress: 1,
            publishing_quota: 50,
            require_appsecret_proof: false,
            seeded_posts: 0,
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
/// posts; the system clock. The redirect URIs, granted scopes, token latency and clock are the
/// setters every simulator shares (see [`SimBuilder`]; the latency delays
/// `oauth/access_token`, and a redirect URI not registered is refused with error 191).
pub type GraphSimulatorBuilder = SimBuilder<GraphSettings>;

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
        self.settings.version = version.into();
        self
    }

    /// The app id and secret the token endpoint and `appsecret_proof` check against.
    pub fn app(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.settings.app_id = app_id.into();
        self.settings.app_secret = app_secret.into();
        self
    }

    /// The Facebook user behind user tokens.
    pub fn user(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.settings.user_id = id.into();
        self.settings.user_name = name.into();
        self
    }

    /// The user's one Page.
    pub fn page(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.settings.page_id = id.into();
        self.settings.page_name = name.into();
        self
    }

    /// The Instagram business account linked to the Page.
    pub fn instagram_account(mut self, id: impl Into<String>, username: impl Into<String>) -> Self {
        self.settings.instagram_user_id = id.into();
        self.settings.instagram_username = username.into();
        self
    }

    /// Whether the Page has an Instagram business account at all (default `true`). Without
    /// one, `/me/accounts` omits `instagram_business_account` and the Instagram endpoints
    /// answer "unknown object".
    pub fn instagram_linked(mut self, linked: bool) -> Self {
        self.settings.instagram_linked = linked;
        self
    }

    /// The WhatsApp Business phone-number id.
    pub fn phone_number_id(mut self, id: impl Into<String>) -> Self {
        self.settings.phone_number_id = id.into();
        self
    }

    /// How long a short-lived user token (from the code exchange) lives (default one hour).
    pub fn short_lived_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.short_lived_lifetime = lifetime;
        self
    }

    /// How long a long-lived user token lives (default 5 183 944 s).
    pub fn long_lived_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.long_lived_lifetime = lifetime;
        self
    }

    /// How many status polls an IG container answers `IN_PROGRESS` before it is `FINISHED`
    /// (default 1; 0 makes containers ready at once).
    pub fn container_polls_in_progress(mut self, polls: u32) -> Self {
        self.settings.polls_in_progress = polls;
        self
    }

    /// `config.quota_total` of `content_publishing_limit`, enforced by `media_publish`
    /// (default 50 per rolling 24 h).
    pub fn publishing_quota(mut self, quota_total: u32) -> Self {
        self.settings.publishing_quota = quota_total;
        self
    }

    /// Whether calls with a user, Page or system-user token must carry `appsecret_proof`
    /// (default `false`); see [`GraphSimulator::require_appsecret_proof`].
    pub fn require_appsecret_proof(mut self, require: bool) -> Self {
        self.settings.require_appsecret_proof = require;
        self
    }

    /// Starts with `count` published posts on the Page (`Sample post #1` oldest, one hour
    /// apart), e.g. to exercise paging.
    pub fn seed_posts(mut self, count: usize) -> Self {
        self.settings.seeded_posts = count;
        self
    }

    /// Starts the mock server on loopback and mounts the Graph endpoints and the catch-all.
    ///
    /// # Panics
    ///
    /// On a configuration that cannot work: a version that is not one path segment, or ids
    /// that are not decimal (Graph ids are).
    pub async fn start(self) -> GraphSimulator {
        let c = &self.settings;
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
        GraphSimulator::start_with(self.options, self.settings).await
    }
}
