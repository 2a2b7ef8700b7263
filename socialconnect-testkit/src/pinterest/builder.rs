//! Configuration of the simulated Pinterest app, account, boards and analytics.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use super::PinterestSimulator;
use crate::oauth::{ClientAuth, OAuthErrorFormat, OAuthSettings, OAuthSimulator};
use crate::sim::SimBuilder;

/// One board seeded at start.
#[derive(Debug, Clone)]
pub(crate) struct BoardSeed {
    pub(crate) name: String,
    pub(crate) privacy: String,
}

/// The Pinterest simulator's own settings (beside the shared ones of [`SimBuilder`]), set
/// through [`PinterestSimulatorBuilder`]; fixed once the server starts.
#[derive(Debug, Clone)]
pub struct PinterestSettings {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) account_id: String,
    pub(crate) username: String,
    pub(crate) account_type: String,
    pub(crate) null_counts: bool,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) legacy_app: bool,
    pub(crate) withheld_scopes: Vec<String>,
    pub(crate) boards: Vec<BoardSeed>,
    pub(crate) pins_per_board: usize,
    pub(crate) media_processing_polls: u32,
    pub(crate) day_statuses: HashMap<u32, String>,
}

impl Default for PinterestSettings {
    fn default() -> Self {
        type B = PinterestSimulatorBuilder;
        Self {
            client_id: B::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: B::DEFAULT_CLIENT_SECRET.to_owned(),
            account_id: B::DEFAULT_ACCOUNT_ID.to_owned(),
            username: "simpinner".to_owned(),
            account_type: "BUSINESS".to_owned(),
            null_counts: false,
            // About 30 days (UNCONFIRMED upstream; clients read `expires_in`).
            access_token_lifetime: Duration::from_secs(30 * 86_400),
            // Continuous refresh tokens: 60 days from each issue.
            refresh_token_lifetime: Duration::from_secs(60 * 86_400),
            legacy_app: false,
            withheld_scopes: Vec::new(),
            boards: Vec::new(),
            pins_per_board: 0,
            media_processing_polls: 1,
            day_statuses: HashMap::new(),
        }
    }
}

impl PinterestSettings {
    /// The sign-in side: the kit's OAuth provider in Pinterest's dialect.
    pub(crate) fn oauth(&self) -> OAuthSettings {
        let mut b = OAuthSimulator::builder()
            .client_id(&self.client_id)
            .client_secret(&self.client_secret)
            .authorize_path("/oauth/")
            .token_path("/v5/oauth/token")
            .revoke_path("/v5/oauth/token/revoke")
            // `/v5/user_account` is the Pinterest simulator's own route.
            .serve_userinfo(false)
            .account_id(&self.account_id)
            .scope_separator(",")
            .access_token_lifetime(self.access_token_lifetime)
            .rotate_refresh_tokens(true)
            .refresh_token_lifetime(self.refresh_token_lifetime)
            .refresh_token_expiry_fields(
                Some("refresh_token_expires_in"),
                Some("refresh_token_expires_at"),
            )
            .require_client_auth(ClientAuth::Basic)
            .error_format(OAuthErrorFormat::CodeMessage)
            .token_prefixes("pina_", "pinr_")
            .grant_type_field("response_type")
            .request_id_header(super::wire::REQUEST_ID_HEADER)
            // Only system-user tokens can be revoked by API; a user's never.
            .refuse_revocations(super::wire::error(403, 29, "Not permitted"))
            .withhold_scopes(self.withheld_scopes.iter().cloned())
            .extra_token_field("token_type", json!("bearer"));
        if self.legacy_app {
            b = b.require_refresh_param("continuous_refresh", "true");
        }
        b.settings
    }
}

/// Configures a [`PinterestSimulator`]; every setting has a default, so
/// `PinterestSimulator::builder().start().await` is a working Pinterest.
///
/// Defaults: client id [`DEFAULT_CLIENT_ID`](Self::DEFAULT_CLIENT_ID) and secret
/// [`DEFAULT_CLIENT_SECRET`](Self::DEFAULT_CLIENT_SECRET), a `BUSINESS` account
/// [`DEFAULT_ACCOUNT_ID`](Self::DEFAULT_ACCOUNT_ID) named `simpinner` with every count set,
/// access tokens valid 30 days and continuous refresh tokens valid 60 days from each refresh,
/// an app created after 2025-09-25 (no `continuous_refresh` needed), no boards, one
/// `processing` read of an uploaded video. The redirect URIs, granted scopes, token latency
/// and clock are the setters every simulator shares (see [`SimBuilder`]).
pub type PinterestSimulatorBuilder = SimBuilder<PinterestSettings>;

impl PinterestSimulatorBuilder {
    /// The client id (app id) the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_ID: &'static str = "1500001";
    /// The client secret the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_SECRET: &'static str = "sim-pinterest-client-secret";
    /// The account's id unless told otherwise (a numeric string past 2^53).
    pub const DEFAULT_ACCOUNT_ID: &'static str = "549755885175000001";

    /// The client id (app id) the app is provisioned with.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.settings.client_id = id.into();
        self
    }

    /// The client secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.settings.client_secret = secret.into();
        self
    }

    /// The account's username (also every board's and pin's owner).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.settings.username = username.into();
        self
    }

    /// `BUSINESS` (default) or `PINNER`.
    pub fn account_type(mut self, account_type: impl Into<String>) -> Self {
        self.settings.account_type = account_type.into();
        self
    }

    /// Whether `GET /v5/user_account` answers `null` for `business_name`, `board_count`,
    /// `pin_count`, `follower_count`, `following_count` and `monthly_views`, as the spec
    /// allows.
    pub fn null_counts(mut self, null: bool) -> Self {
        self.settings.null_counts = null;
        self
    }

    /// How long access tokens live (`expires_in`, enforced on every call by the simulator's
    /// clock: `Duration::from_secs(2)` and a moved clock test an expired token).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.access_token_lifetime = lifetime;
        self
    }

    /// How long each refresh token lives from its issue (default 60 days).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.refresh_token_lifetime = lifetime;
        self
    }

    /// Models an app created before 2025-09-25: each refresh must carry
    /// `continuous_refresh=true`, and one without it answers `400 {"code": 1, …}` with the
    /// refresh token left valid. A simulator choice: Pinterest says only that such apps must
    /// send the flag, not how it refuses a refresh without it.
    pub fn legacy_app(mut self, legacy: bool) -> Self {
        self.settings.legacy_app = legacy;
        self
    }

    /// A partial grant: these scopes are missing from every token, so calls needing them
    /// answer `401 {"code": 3, "message": "Insufficient scopes"}`.
    pub fn withhold_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings
            .withheld_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Seeds a board named `name` with `privacy` (`PUBLIC`, `PROTECTED` or `SECRET`).
    pub fn board(mut self, name: impl Into<String>, privacy: impl Into<String>) -> Self {
        self.settings.boards.push(BoardSeed {
            name: name.into(),
            privacy: privacy.into(),
        });
        self
    }

    /// Seeds `count` public boards named `Board 1` … `Board {count}`.
    pub fn boards(mut self, count: usize) -> Self {
        let first = self.settings.boards.len() + 1;
        for i in first..first + count {
            self.settings.boards.push(BoardSeed {
                name: format!("Board {i}"),
                privacy: "PUBLIC".to_owned(),
            });
        }
        self
    }

    /// Seeds `count` image pins on every seeded board, created ten days before the start.
    pub fn pins_per_board(mut self, count: usize) -> Self {
        self.settings.pins_per_board = count;
        self
    }

    /// How many status reads of an uploaded video answer `processing` before `succeeded` (or
    /// `failed` for an empty file); default 1.
    pub fn media_processing_polls(mut self, polls: u32) -> Self {
        self.settings.media_processing_polls = polls;
        self
    }

    /// The `data_status` analytics report for the day `days_ago` days before the simulator's
    /// today (`READY`, `PROCESSING`, `ESTIMATE`, `BEFORE_DATA_RETENTION_PERIOD`, …), in place
    /// of the default: `ESTIMATE` today, `PROCESSING` yesterday, `READY` before.
    pub fn analytics_status(mut self, days_ago: u32, status: impl Into<String>) -> Self {
        self.settings.day_statuses.insert(days_ago, status.into());
        self
    }

    /// Starts the mock server on loopback with sign-in, the API, the upload URL and the
    /// catch-all mounted.
    ///
    /// # Panics
    ///
    /// When the account id is not numeric, or a seeded board's privacy is not one of
    /// `PUBLIC`, `PROTECTED`, `SECRET`.
    pub async fn start(self) -> PinterestSimulator {
        let c = &self.settings;
        assert!(
            !c.account_id.is_empty() && c.account_id.bytes().all(|b| b.is_ascii_digit()),
            "PinterestSimulator: account id `{}` is not numeric",
            c.account_id
        );
        for b in &c.boards {
            assert!(
                super::wire::PRIVACIES.contains(&b.privacy.as_str()),
                "PinterestSimulator: board privacy `{}` is not PUBLIC, PROTECTED or SECRET",
                b.privacy
            );
        }
        PinterestSimulator::start_with(self.options, self.settings).await
    }
}
