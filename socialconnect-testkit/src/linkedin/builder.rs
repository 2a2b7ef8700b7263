//! Configuration of the simulated LinkedIn app, member and organizations.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use super::LinkedInSimulator;
use super::model::OrganizationAcl;
use crate::oauth::{ClientAuth, OAuthSettings, OAuthSimulator};
use crate::sim::SimBuilder;

/// The LinkedIn simulator's own settings (beside the shared ones of [`SimBuilder`]), set
/// through [`LinkedInSimulatorBuilder`]; fixed once the server starts.
#[derive(Debug, Clone)]
pub struct LinkedInSettings {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) member_sub: String,
    pub(crate) member_name: String,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_tokens: bool,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) withheld_scopes: Vec<String>,
    pub(crate) sunset_versions: Vec<String>,
    pub(crate) version_window_months: u32,
    pub(crate) acls: Vec<OrganizationAcl>,
    pub(crate) follower_totals: HashMap<String, u64>,
    pub(crate) image_processing_polls: u32,
    pub(crate) video_processing_polls: u32,
}

impl Default for LinkedInSettings {
    fn default() -> Self {
        type B = LinkedInSimulatorBuilder;
        Self {
            client_id: B::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: B::DEFAULT_CLIENT_SECRET.to_owned(),
            member_sub: B::DEFAULT_MEMBER_SUB.to_owned(),
            member_name: "Sim Member".to_owned(),
            access_token_lifetime: Duration::from_secs(60 * 86_400),
            refresh_tokens: true,
            refresh_token_lifetime: Duration::from_secs(365 * 86_400),
            withheld_scopes: Vec::new(),
            sunset_versions: Vec::new(),
            version_window_months: 12,
            acls: Vec::new(),
            follower_totals: HashMap::new(),
            image_processing_polls: 1,
            video_processing_polls: 1,
        }
    }
}

impl LinkedInSettings {
    /// The sign-in side: the kit's OAuth provider in LinkedIn's dialect.
    pub(crate) fn oauth(&self) -> OAuthSettings {
        let mut b = OAuthSimulator::builder()
            .client_id(&self.client_id)
            .client_secret(&self.client_secret)
            .authorize_path("/oauth/v2/authorization")
            .token_path("/oauth/v2/accessToken")
            .revoke_path("/oauth/v2/revoke")
            .userinfo_path("/v2/userinfo")
            .userinfo_id_field("sub")
            // The authorize request's scopes are space-separated; the token answer's `scope`
            // joins them with commas (LinkedIn's samples; the fact sheet is silent on it).
            .scope_separator(",")
            .account_id(&self.member_sub)
            .account_name(&self.member_name)
            .access_token_lifetime(self.access_token_lifetime)
            .refresh_tokens(self.refresh_tokens)
            // LinkedIn's programmatic refresh hands the same refresh token back, its lifetime
            // still counting down from the original grant.
            .rotate_refresh_tokens(false)
            .require_client_auth(ClientAuth::RequestBody)
            .withhold_scopes(self.withheld_scopes.iter().cloned());
        if self.refresh_tokens {
            b = b.extra_token_field(
                "refresh_token_expires_in",
                json!(self.refresh_token_lifetime.as_secs()),
            );
        }
        b.settings
    }
}

/// Configures a [`LinkedInSimulator`]; every setting has a default, so
/// `LinkedInSimulator::builder().start().await` is a working LinkedIn.
///
/// Defaults: client id [`DEFAULT_CLIENT_ID`](Self::DEFAULT_CLIENT_ID) and secret
/// [`DEFAULT_CLIENT_SECRET`](Self::DEFAULT_CLIENT_SECRET), the member
/// [`DEFAULT_MEMBER_SUB`](Self::DEFAULT_MEMBER_SUB), access tokens valid 60 days, refresh
/// tokens issued (as for an app approved for programmatic refresh) and reported valid 365 days,
/// no organizations, `LinkedIn-Version` values accepted from 12 months before the simulator's
/// month up to that month, one `PROCESSING` poll for images and videos. The redirect URIs,
/// granted scopes, token latency and clock are the setters every simulator shares (see
/// [`SimBuilder`]).
pub type LinkedInSimulatorBuilder = SimBuilder<LinkedInSettings>;

impl LinkedInSimulatorBuilder {
    /// The client id the simulator accepts unless told otherwise.
    pub const DEFAULT_CLIENT_ID: &'static str = "86simlinkedin01";
    /// The client secret the simulator accepts unless told otherwise (also the webhook key).
    pub const DEFAULT_CLIENT_SECRET: &'static str = "sim-linkedin-client-secret";
    /// The member's OIDC `sub` unless told otherwise (`urn:li:person:{sub}`).
    pub const DEFAULT_MEMBER_SUB: &'static str = "A1b2C3d4E5";

    /// The client id the app is provisioned with.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.settings.client_id = id.into();
        self
    }

    /// The client secret (also the webhook signing key).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.settings.client_secret = secret.into();
        self
    }

    /// The member's OIDC `sub`.
    pub fn member_sub(mut self, sub: impl Into<String>) -> Self {
        self.settings.member_sub = sub.into();
        self
    }

    /// The member's name (`userinfo`'s `name`).
    pub fn member_name(mut self, name: impl Into<String>) -> Self {
        self.settings.member_name = name.into();
        self
    }

    /// How long access tokens live (enforced on every call by the simulator's clock).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.access_token_lifetime = lifetime;
        self
    }

    /// Whether token answers carry a refresh token (default `true`; only apps LinkedIn
    /// approved for programmatic refresh get one).
    pub fn refresh_tokens(mut self, issue: bool) -> Self {
        self.settings.refresh_tokens = issue;
        self
    }

    /// A partial grant: these scopes are missing from every token, so calls needing them
    /// answer `403 ACCESS_DENIED`.
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

    /// Marks these `LinkedIn-Version` values sunset (`426 NONEXISTENT_VERSION`), beside the
    /// ones outside the window of [`version_window_months`](Self::version_window_months).
    pub fn sunset_versions<I, S>(mut self, versions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings
            .sunset_versions
            .extend(versions.into_iter().map(Into::into));
        self
    }

    /// How many months before the simulator's current month a version is still served
    /// (default 12, LinkedIn's "about a year"); a version from a later month than the current
    /// one is not released yet and is refused the same way.
    pub fn version_window_months(mut self, months: u32) -> Self {
        self.settings.version_window_months = months;
        self
    }

    /// Gives the member `role` in `state` on organization `id` named `name` (call once per
    /// role; an organization may carry several). Roles: `ADMINISTRATOR`,
    /// `DIRECT_SPONSORED_CONTENT_POSTER`, `CONTENT_ADMINISTRATOR`, `RECRUITING_POSTER`,
    /// `ANALYST`, …; states `APPROVED`, `REQUESTED`, `REJECTED`, `REVOKED`.
    pub fn organization(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        role: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        self.settings.acls.push(OrganizationAcl {
            organization_id: id.into(),
            name: name.into(),
            role: role.into(),
            state: state.into(),
        });
        self
    }

    /// The follower total `networkSizes` answers for organization `id` (default 18 342).
    pub fn follower_total(mut self, id: impl Into<String>, total: u64) -> Self {
        self.settings.follower_totals.insert(id.into(), total);
        self
    }

    /// How many status reads of an uploaded image answer `PROCESSING` before `AVAILABLE`
    /// (default 1). The reads stand in for time: an image is usable in a post only once it
    /// has been read `AVAILABLE`-ready.
    pub fn image_processing_polls(mut self, polls: u32) -> Self {
        self.settings.image_processing_polls = polls;
        self
    }

    /// How many status reads of a finalized video answer `PROCESSING` before `AVAILABLE`
    /// (default 1), as for images.
    pub fn video_processing_polls(mut self, polls: u32) -> Self {
        self.settings.video_processing_polls = polls;
        self
    }

    /// Starts the mock server on loopback with sign-in, the REST API, the upload URLs and the
    /// catch-all mounted.
    ///
    /// # Panics
    ///
    /// When an organization id is not numeric, or the member's `sub` is empty.
    pub async fn start(self) -> LinkedInSimulator {
        let c = &self.settings;
        assert!(
            !c.member_sub.is_empty() && !c.member_sub.contains([':', '/', ' ']),
            "LinkedInSimulator: member sub `{}` cannot go in a URN",
            c.member_sub
        );
        for acl in &c.acls {
            assert!(
                !acl.organization_id.is_empty()
                    && acl.organization_id.bytes().all(|b| b.is_ascii_digit()),
                "LinkedInSimulator: organization id `{}` is not numeric",
                acl.organization_id
            );
        }
        LinkedInSimulator::start_with(self.options, self.settings).await
    }
}
