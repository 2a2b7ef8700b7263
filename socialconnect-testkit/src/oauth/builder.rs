//! Configuration of the simulated provider.

use std::time::Duration;

use super::limit::ArrivalLimit;
use super::{ClientAuth, OAuthErrorFormat, OAuthSimulator};
use crate::sim::{Reply, SimBuilder};

/// The OAuth simulator's own settings (beside the shared ones of [`SimBuilder`]), set through
/// [`OAuthSimulatorBuilder`]; fixed once the server starts.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) client_id_param: String,
    pub(crate) access_token_lifetime: Option<Duration>,
    pub(crate) issue_refresh_tokens: bool,
    pub(crate) rotate_refresh_tokens: bool,
    pub(crate) omit_refresh_token_on_refresh: bool,
    pub(crate) account_id: String,
    pub(crate) account_id_as_number: bool,
    pub(crate) account_name: String,
    pub(crate) scope_separator: String,
    pub(crate) require_pkce: bool,
    pub(crate) extra_token_fields: serde_json::Map<String, serde_json::Value>,
    pub(crate) authorize_path: String,
    pub(crate) token_path: String,
    pub(crate) revoke_path: String,
    pub(crate) userinfo_path: String,
    pub(crate) serve_userinfo: bool,
    pub(crate) userinfo_id_field: String,
    pub(crate) withheld_scopes: Vec<String>,
    pub(crate) error_log_ids: bool,
    pub(crate) revoke_reply: Option<serde_json::Value>,
    pub(crate) revocation_ends_grant: bool,
    pub(crate) required_client_auth: Option<ClientAuth>,
    pub(crate) error_format: OAuthErrorFormat,
    pub(crate) access_token_prefix: String,
    pub(crate) refresh_token_prefix: String,
    pub(crate) grant_type_field: Option<String>,
    pub(crate) refresh_token_lifetime: Option<Duration>,
    pub(crate) refresh_expires_in_field: Option<String>,
    pub(crate) refresh_expires_at_field: Option<String>,
    pub(crate) required_refresh_param: Option<(String, String)>,
    pub(crate) revocation_refusal: Option<Reply>,
    pub(crate) request_id_header: Option<String>,
    pub(crate) userinfo_limit: Option<ArrivalLimit>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            client_id: OAuthSimulatorBuilder::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: OAuthSimulatorBuilder::DEFAULT_CLIENT_SECRET.to_owned(),
            client_id_param: "client_id".to_owned(),
            access_token_lifetime: Some(Duration::from_secs(3600)),
            issue_refresh_tokens: true,
            rotate_refresh_tokens: true,
            omit_refresh_token_on_refresh: false,
            account_id: OAuthSimulatorBuilder::DEFAULT_ACCOUNT_ID.to_owned(),
            account_id_as_number: false,
            account_name: "Test User".to_owned(),
            scope_separator: " ".to_owned(),
            require_pkce: false,
            extra_token_fields: serde_json::Map::new(),
            authorize_path: "/oauth/authorize".to_owned(),
            token_path: "/oauth/token".to_owned(),
            revoke_path: "/oauth/revoke".to_owned(),
            userinfo_path: "/me".to_owned(),
            serve_userinfo: true,
            userinfo_id_field: "id".to_owned(),
            withheld_scopes: Vec::new(),
            error_log_ids: false,
            revoke_reply: None,
            revocation_ends_grant: false,
            required_client_auth: None,
            error_format: OAuthErrorFormat::Rfc6749,
            access_token_prefix: "at-".to_owned(),
            refresh_token_prefix: "rt-".to_owned(),
            grant_type_field: None,
            refresh_token_lifetime: None,
            refresh_expires_in_field: None,
            refresh_expires_at_field: None,
            required_refresh_param: None,
            revocation_refusal: None,
            request_id_header: None,
            userinfo_limit: None,
        }
    }
}

/// Configures an [`OAuthSimulator`]; every setting has a default, so
/// `OAuthSimulator::builder().start().await` is a working provider.
///
/// Defaults: client `test-client-id` / `test-client-secret` sent as `client_id`, any absolute
/// redirect URI, access tokens valid one hour, refresh tokens issued and rotated, account id
/// `1234567890123456789` (past `f64`'s exact range) as a JSON string, space-separated scopes,
/// PKCE optional, no latency, the system clock, and the paths `/oauth/authorize`,
/// `/oauth/token`, `/oauth/revoke` and `/me`. The redirect URIs, granted scopes, token latency
/// and clock are the setters every simulator shares (see [`SimBuilder`]).
pub type OAuthSimulatorBuilder = SimBuilder<OAuthSettings>;

impl OAuthSimulatorBuilder {
    /// The client id the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_ID: &'static str = "test-client-id";
    /// The client secret the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_SECRET: &'static str = "test-client-secret";
    /// The account id `/me` answers unless told otherwise: larger than 2^53, so it is damaged by
    /// any path that goes through `f64`.
    pub const DEFAULT_ACCOUNT_ID: &'static str = "1234567890123456789";

    /// The client id the provider accepts.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.settings.client_id = id.into();
        self
    }

    /// The client secret the provider accepts.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.settings.client_secret = secret.into();
        self
    }

    /// The name of the parameter carrying the client id on the authorize URL and in token and
    /// revocation bodies: `client_id` by default, `client_key` for TikTok.
    pub fn client_id_param(mut self, name: impl Into<String>) -> Self {
        self.settings.client_id_param = name.into();
        self
    }

    /// How long access tokens live; reported as `expires_in` in whole seconds and enforced by
    /// the userinfo endpoint against the simulator's clock.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.access_token_lifetime = Some(lifetime);
        self
    }

    /// Access tokens never expire and token responses carry no `expires_in`.
    pub fn access_tokens_never_expire(mut self) -> Self {
        self.settings.access_token_lifetime = None;
        self
    }

    /// Whether token responses carry a refresh token at all (default `true`).
    pub fn refresh_tokens(mut self, issue: bool) -> Self {
        self.settings.issue_refresh_tokens = issue;
        self
    }

    /// Whether each refresh issues a new refresh token and invalidates the one used
    /// (default `true`). Without rotation the same refresh token comes back and stays valid.
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.settings.rotate_refresh_tokens = rotate;
        self
    }

    /// Refresh responses carry no `refresh_token`, and the one used stays valid: the client must
    /// keep its old refresh token. Takes precedence over rotation.
    pub fn omit_refresh_token_on_refresh(mut self, omit: bool) -> Self {
        self.settings.omit_refresh_token_on_refresh = omit;
        self
    }

    /// The id of the account behind every token.
    pub fn account_id(mut self, id: impl Into<String>) -> Self {
        self.settings.account_id = id.into();
        self
    }

    /// Whether the userinfo endpoint sends the account id as a JSON number instead of a string,
    /// as some platforms do. [`start`](Self::start) panics if the id is not a `u64` then.
    pub fn account_id_as_number(mut self, as_number: bool) -> Self {
        self.settings.account_id_as_number = as_number;
        self
    }

    /// The display name the userinfo endpoint answers.
    pub fn account_name(mut self, name: impl Into<String>) -> Self {
        self.settings.account_name = name.into();
        self
    }

    /// What joins the granted scopes in the `scope` field of token responses: `" "` by default
    /// (RFC 6749), `","` for platforms such as TikTok and LinkedIn. Requested scopes are read
    /// split on spaces and commas alike.
    pub fn scope_separator(mut self, separator: impl Into<String>) -> Self {
        self.settings.scope_separator = separator.into();
        self
    }

    /// Whether the authorize endpoint refuses requests without a `code_challenge`
    /// (default `false`; a challenge that was sent is always enforced at the token endpoint).
    pub fn require_pkce(mut self, require: bool) -> Self {
        self.settings.require_pkce = require;
        self
    }

    /// Adds a field to every successful token response, for platforms that send more than
    /// RFC 6749 (TikTok's `open_id`, Pinterest's `refresh_token_expires_in`, ...). A field named
    /// like a standard one replaces it (TikTok's `token_type` is `"Bearer"`, not `"bearer"`).
    pub fn extra_token_field(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.settings.extra_token_fields.insert(name.into(), value);
        self
    }

    /// Withholds these scopes from every grant, whatever was requested: the user unticked them
    /// on the consent screen, and the rest of the request is granted. Applied after
    /// [`grant_scopes`](Self::grant_scopes).
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

    /// Whether every OAuth error body (token and revocation endpoints, faults included) also
    /// carries a fresh `log_id`, as TikTok's flat `{error, error_description, log_id}` does
    /// (default `false`: RFC 6749's `{error, error_description}`).
    pub fn error_log_ids(mut self, add: bool) -> Self {
        self.settings.error_log_ids = add;
        self
    }

    /// The JSON body of a successful revocation (default: none, RFC 7009's empty 200). TikTok
    /// answers `{}`.
    pub fn revoke_reply(mut self, body: serde_json::Value) -> Self {
        self.settings.revoke_reply = Some(body);
        self
    }

    /// Whether revoking any token of a grant (an access token included) revokes the whole grant:
    /// its access tokens and its refresh token, as when revocation removes the app from the
    /// user's connected apps (TikTok). Default `false`: revoking an access token revokes it
    /// alone.
    pub fn revocation_ends_grant(mut self, ends: bool) -> Self {
        self.settings.revocation_ends_grant = ends;
        self
    }

    /// Accepts client credentials only presented this way (TikTok and LinkedIn take them in
    /// the body, never by HTTP Basic); any other way is `invalid_client`. By default both
    /// ways are accepted.
    pub fn require_client_auth(mut self, method: ClientAuth) -> Self {
        self.settings.required_client_auth = Some(method);
        self
    }

    /// Limits the userinfo endpoint as a platform limits an app: at most `calls` accepted
    /// calls in any stretch of `per` (a sliding window over the calls' arrival, across every
    /// token), each call beyond answered `429` with `Retry-After` and counted in
    /// [`OAuthSimulator::userinfo_refusals`](crate::OAuthSimulator::userinfo_refusals). Refused
    /// calls do not count against the window. Real time, whatever the clock. Default: no
    /// limit. Zero calls is raised to one.
    pub fn limit_userinfo(mut self, calls: usize, per: Duration) -> Self {
        self.settings.userinfo_limit = Some(ArrivalLimit {
            calls: calls.max(1),
            per,
        });
        self
    }

    /// Whether the userinfo endpoint is mounted at all (default `true`). A platform simulator
    /// that serves its own "who am I" route turns it off.
    pub fn serve_userinfo(mut self, serve: bool) -> Self {
        self.settings.serve_userinfo = serve;
        self
    }

    /// The authorize endpoint's path (default `/oauth/authorize`).
    pub fn authorize_path(mut self, path: impl Into<String>) -> Self {
        self.settings.authorize_path = path.into();
        self
    }

    /// The token endpoint's path (default `/oauth/token`).
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.settings.token_path = path.into();
        self
    }

    /// The name of the account id in the userinfo answer: `id` by default, `sub` for an OIDC
    /// `userinfo` endpoint (LinkedIn).
    pub fn userinfo_id_field(mut self, name: impl Into<String>) -> Self {
        self.settings.userinfo_id_field = name.into();
        self
    }

    /// The revocation endpoint's path (default `/oauth/revoke`).
    pub fn revoke_path(mut self, path: impl Into<String>) -> Self {
        self.settings.revoke_path = path.into();
        self
    }

    /// The userinfo endpoint's path (default `/me`).
    pub fn userinfo_path(mut self, path: impl Into<String>) -> Self {
        self.settings.userinfo_path = path.into();
        self
    }

    /// The shape of every error body the token and revocation endpoints send (faults
    /// included): RFC 6749's `{error, error_description}` by default, or
    /// [`OAuthErrorFormat::CodeMessage`] for platforms such as Pinterest.
    pub fn error_format(mut self, format: OAuthErrorFormat) -> Self {
        self.settings.error_format = format;
        self
    }

    /// What access and refresh tokens start with (default `at-` and `rt-`; Pinterest's are
    /// `pina_` and `pinr_`), followed by 32 random hex digits.
    pub fn token_prefixes(mut self, access: impl Into<String>, refresh: impl Into<String>) -> Self {
        self.settings.access_token_prefix = access.into();
        self.settings.refresh_token_prefix = refresh.into();
        self
    }

    /// Adds a field named `name` to every successful token response carrying the grant type
    /// that produced it (`authorization_code` or `refresh_token`): Pinterest's
    /// `response_type` discriminator.
    pub fn grant_type_field(mut self, name: impl Into<String>) -> Self {
        self.settings.grant_type_field = Some(name.into());
        self
    }

    /// How long each refresh token may be used, from its own issue (default: for ever). An
    /// expired one answers `invalid_grant`. With rotation every refresh therefore starts a
    /// fresh lifetime, as Pinterest's continuous refresh tokens do.
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.refresh_token_lifetime = Some(lifetime);
        self
    }

    /// Reports the refresh token's lifetime in token responses that carry one: its remaining
    /// seconds in the field `expires_in` (when given) and its end as unix seconds in the field
    /// `expires_at` (when given), both computed when the token is issued from
    /// [`refresh_token_lifetime`](Self::refresh_token_lifetime). Nothing is reported without a
    /// lifetime.
    pub fn refresh_token_expiry_fields(
        mut self,
        expires_in: Option<&str>,
        expires_at: Option<&str>,
    ) -> Self {
        self.settings.refresh_expires_in_field = expires_in.map(str::to_owned);
        self.settings.refresh_expires_at_field = expires_at.map(str::to_owned);
        self
    }

    /// Refuses a refresh grant unless its form carries `name=value` (`invalid_request`; the
    /// refresh token stays valid), as Pinterest does for apps that must opt in to continuous
    /// refresh. The parameters of the last refresh request are kept either way
    /// ([`OAuthSimulator::last_refresh_params`]).
    pub fn require_refresh_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.settings.required_refresh_param = Some((name.into(), value.into()));
        self
    }

    /// Refuses every revocation of a correctly authenticated client with `reply`, revoking
    /// nothing: for platforms whose users' tokens cannot be revoked by API (Pinterest revokes
    /// only system-user tokens). Revocation requests are still counted.
    pub fn refuse_revocations(mut self, reply: Reply) -> Self {
        self.settings.revocation_refusal = Some(reply);
        self
    }

    /// Adds a response header `name` with a fresh random hex request id to every answer of
    /// the OAuth endpoints (Pinterest's `x-pinterest-rid`).
    pub fn request_id_header(mut self, name: impl Into<String>) -> Self {
        self.settings.request_id_header = Some(name.into());
        self
    }

    /// Starts the mock server on loopback and mounts the endpoints and the catch-all.
    ///
    /// # Panics
    ///
    /// On a configuration that cannot work: a path not starting with `/`, two endpoints on the
    /// same method and path, or a non-numeric account id with
    /// [`account_id_as_number`](Self::account_id_as_number).
    pub async fn start(self) -> OAuthSimulator {
        let c = &self.settings;
        let userinfo = c.serve_userinfo.then_some(&c.userinfo_path);
        for path in [&c.authorize_path, &c.token_path, &c.revoke_path]
            .into_iter()
            .chain(userinfo)
        {
            assert!(
                path.starts_with('/'),
                "OAuthSimulator: path `{path}` must start with `/`"
            );
        }
        assert!(
            (!c.serve_userinfo || c.authorize_path != c.userinfo_path)
                && c.token_path != c.revoke_path,
            "OAuthSimulator: two endpoints share a method and path"
        );
        if c.account_id_as_number {
            assert!(
                c.account_id.parse::<u64>().is_ok(),
                "OAuthSimulator: account id `{}` is not a u64, so it cannot be sent as a number",
                c.account_id
            );
        }
        OAuthSimulator::start_with(self.options, self.settings).await
    }
}
