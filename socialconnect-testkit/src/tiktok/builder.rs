//! Configuration of the simulated TikTok app, account and API.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use socialconnect_core::clock::{Clock, SystemClock};

use super::TikTokSimulator;
use crate::oauth::{ClientAuth, OAuthSimulator, OAuthSimulatorBuilder};

/// Everything the TikTok API side is configured with; fixed once the server starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) client_key: String,
    pub(crate) client_secret: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) withheld_scopes: Vec<String>,
    pub(crate) require_pkce: bool,
    pub(crate) open_id: String,
    pub(crate) union_id: String,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) videos: usize,
    pub(crate) page_cap: Option<usize>,
    pub(crate) private_account: bool,
    pub(crate) unaudited_client: bool,
    pub(crate) processing_polls: u32,
    pub(crate) moderation_polls: u32,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            client_key: TikTokSimulatorBuilder::DEFAULT_CLIENT_KEY.to_owned(),
            client_secret: TikTokSimulatorBuilder::DEFAULT_CLIENT_SECRET.to_owned(),
            redirect_uris: Vec::new(),
            // The 2026 docs: access tokens last 2 h, refresh tokens 180 days (older pages say
            // 24 h and 365 days); clients must read the fields, so either serves.
            access_token_lifetime: Duration::from_secs(2 * 3600),
            refresh_token_lifetime: Duration::from_secs(180 * 86_400),
            withheld_scopes: Vec::new(),
            require_pkce: false,
            open_id: TikTokSimulatorBuilder::DEFAULT_OPEN_ID.to_owned(),
            union_id: "uid.example-union-id-0001".to_owned(),
            username: "sim.creator".to_owned(),
            display_name: "Sim Creator".to_owned(),
            videos: 25,
            page_cap: None,
            private_account: false,
            unaudited_client: false,
            processing_polls: 2,
            moderation_polls: 0,
            clock: Arc::new(SystemClock),
        }
    }
}

impl Config {
    /// The Login Kit side: the kit's OAuth provider in TikTok's dialect.
    pub(crate) fn oauth(&self) -> OAuthSimulatorBuilder {
        let mut b = OAuthSimulator::builder()
            .client_id(&self.client_key)
            .client_secret(&self.client_secret)
            .client_id_param("client_key")
            .scope_separator(",")
            .authorize_path("/v2/auth/authorize/")
            .token_path("/v2/oauth/token/")
            .revoke_path("/v2/oauth/revoke/")
            // `/v2/user/info/` is the TikTok simulator's own route.
            .serve_userinfo(false)
            .account_id(&self.open_id)
            .access_token_lifetime(self.access_token_lifetime)
            .rotate_refresh_tokens(true)
            .require_client_auth(ClientAuth::RequestBody)
            .require_pkce(self.require_pkce)
            .withhold_scopes(self.withheld_scopes.iter().cloned())
            .error_log_ids(true)
            .revoke_reply(json!({}))
            .revocation_ends_grant(true)
            .extra_token_field("open_id", json!(self.open_id))
            .extra_token_field("token_type", json!("Bearer"))
            // Reported, not enforced: the refresh token's remaining lifetime at issuance.
            .extra_token_field(
                "refresh_expires_in",
                json!(self.refresh_token_lifetime.as_secs()),
            )
            .clock(Arc::clone(&self.clock));
        for uri in &self.redirect_uris {
            b = b.redirect_uri(uri);
        }
        b
    }
}

/// Configures a [`TikTokSimulator`]; every setting has a default, so
/// `TikTokSimulator::builder().start().await` is a working TikTok.
///
/// Defaults: client key [`DEFAULT_CLIENT_KEY`](Self::DEFAULT_CLIENT_KEY) and secret
/// [`DEFAULT_CLIENT_SECRET`](Self::DEFAULT_CLIENT_SECRET), any absolute redirect URI, access
/// tokens valid 2 h and refresh tokens reported valid 180 days (the 2026 docs), every requested
/// scope granted, PKCE optional, a public account with 25 videos, audited client, two
/// processing polls before a post's final status, the system clock.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct TikTokSimulatorBuilder {
    config: Config,
}

impl TikTokSimulatorBuilder {
    /// The client key the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_KEY: &'static str = "sbawsimclientkey0001";
    /// The client secret the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_SECRET: &'static str = "sim-tiktok-client-secret";
    /// The open id of the simulated user unless told otherwise.
    pub const DEFAULT_OPEN_ID: &'static str = "act.example-open-id-0001";

    /// The client key the app is provisioned with.
    pub fn client_key(mut self, key: impl Into<String>) -> Self {
        self.config.client_key = key.into();
        self
    }

    /// The client secret (also the webhook signing key).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.client_secret = secret.into();
        self
    }

    /// Registers a redirect URI; once one is registered, only exact matches are accepted.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.config.redirect_uris.push(uri.into());
        self
    }

    /// How long access tokens live (`expires_in`, enforced on every API call by the clock).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.access_token_lifetime = lifetime;
        self
    }

    /// The `refresh_expires_in` token responses report (not enforced).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.refresh_token_lifetime = lifetime;
        self
    }

    /// A partial grant: the user unticks these scopes on the consent screen, so they are
    /// missing from the token's `scope` and calls needing them answer `scope_not_authorized`.
    pub fn withhold_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config
            .withheld_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Whether an authorization without a PKCE challenge is refused, as for a desktop or
    /// mobile app (default `false`, a web app). A challenge that was sent is always checked.
    pub fn require_pkce(mut self, require: bool) -> Self {
        self.config.require_pkce = require;
        self
    }

    /// The user's open id (also the token responses' `open_id`).
    pub fn open_id(mut self, open_id: impl Into<String>) -> Self {
        self.config.open_id = open_id.into();
        self
    }

    /// The user's username.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.config.username = username.into();
        self
    }

    /// The user's display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.config.display_name = name.into();
        self
    }

    /// How many videos the account has at start, an hour apart, the newest a minute old
    /// (default 25).
    pub fn videos(mut self, count: usize) -> Self {
        self.config.videos = count;
        self
    }

    /// Caps every video-list page at `cap` videos whatever `max_count` asks, with `has_more`
    /// still true while older videos remain: TikTok's documented short pages.
    pub fn video_page_cap(mut self, cap: usize) -> Self {
        self.config.page_cap = Some(cap.max(1));
        self
    }

    /// Whether the creator's account is private: creator info then offers
    /// `FOLLOWER_OF_CREATOR`, `MUTUAL_FOLLOW_FRIENDS`, `SELF_ONLY` instead of
    /// `PUBLIC_TO_EVERYONE`, `MUTUAL_FOLLOW_FRIENDS`, `SELF_ONLY`.
    pub fn private_account(mut self, private: bool) -> Self {
        self.config.private_account = private;
        self
    }

    /// Whether the app is unaudited: a direct post other than `SELF_ONLY` then answers
    /// `unaudited_client_can_only_post_to_private_accounts`.
    pub fn unaudited_client(mut self, unaudited: bool) -> Self {
        self.config.unaudited_client = unaudited;
        self
    }

    /// How many status polls, once the media is in, still answer `PROCESSING_UPLOAD` (or
    /// `PROCESSING_DOWNLOAD`) before the final status (default 2).
    pub fn processing_polls(mut self, polls: u32) -> Self {
        self.config.processing_polls = polls;
        self
    }

    /// How many `PUBLISH_COMPLETE` polls carry an empty `publicaly_available_post_id` before
    /// the id is released, as while moderation runs (default 0).
    pub fn moderation_polls(mut self, polls: u32) -> Self {
        self.config.moderation_polls = polls;
        self
    }

    /// The clock that dates tokens, videos and webhook timestamps (default: the system
    /// clock). Pass the code under test's `Arc<ManualClock>` to expire tokens by moving time.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.clock = clock;
        self
    }

    /// Starts the mock server on loopback with Login Kit, the Display API, Content Posting,
    /// the upload URLs and the catch-all mounted.
    pub async fn start(self) -> TikTokSimulator {
        TikTokSimulator::start_with(self.config).await
    }
}
