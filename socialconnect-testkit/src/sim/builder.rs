//! The builder every simulator shares: the settings all platforms take (registered redirect
//! URIs, the scopes the user grants, token-endpoint latency, the clock), with their setters
//! written once, beside the platform's own settings.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use socialconnect_core::clock::{Clock, SystemClock};

/// Configures a simulator: the setters on every `SimBuilder` are the settings all simulated
/// platforms share; a platform adds its own setters and its `start` on `SimBuilder` of its
/// settings type (`OAuthSimulatorBuilder` is `SimBuilder<OAuthSettings>`,
/// `GraphSimulatorBuilder` is `SimBuilder<GraphSettings>`).
///
/// Shared defaults: any absolute redirect URI accepted, the requested scopes granted, no
/// latency, the system clock.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct SimBuilder<S> {
    pub(crate) options: SimOptions,
    pub(crate) settings: S,
}

impl<S> SimBuilder<S> {
    /// Registers a redirect URI. Once at least one is registered, the authorize step accepts
    /// only exact matches and refuses others as the platform does (an OAuth `invalid_request`,
    /// Graph's error 191); with none registered it accepts any absolute URL.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.options.redirect_uris.push(uri.into());
        self
    }

    /// Grants exactly these scopes whatever was requested, as when the user unticks some
    /// permissions on the consent screen (tokens a simulator mints without a dialog get them
    /// too). By default the requested scopes are granted.
    pub fn grant_scopes<I, T>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.options.granted_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Delays every token-endpoint answer by `latency`, e.g. to widen the race window of a
    /// single-flight refresh test.
    pub fn token_latency(mut self, latency: Duration) -> Self {
        self.options.token_latency = Some(latency);
        self
    }

    /// The clock that dates codes, tokens and the platform's objects (default: the system
    /// clock). Pass the same `Arc<ManualClock>` as the code under test to expire tokens by
    /// moving time.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.options.clock = clock;
        self
    }
}

/// The shared settings as a started simulator reads them.
#[derive(Debug, Clone)]
pub(crate) struct SimOptions {
    redirect_uris: Vec<String>,
    granted_scopes: Option<Vec<String>>,
    token_latency: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            redirect_uris: Vec::new(),
            granted_scopes: None,
            token_latency: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl SimOptions {
    /// Whether the authorize step takes `redirect_uri` (already known to be an absolute URL).
    pub(crate) fn accepts_redirect(&self, redirect_uri: &str) -> bool {
        self.redirect_uris.is_empty() || self.redirect_uris.iter().any(|r| r == redirect_uri)
    }

    /// The scopes granted to a request for `requested`.
    pub(crate) fn granted(&self, requested: Vec<String>) -> Vec<String> {
        self.granted_scopes.clone().unwrap_or(requested)
    }

    /// The delay before each token-endpoint answer.
    pub(crate) fn token_latency(&self) -> Option<Duration> {
        self.token_latency
    }

    /// The simulator's present time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_setters_land_in_the_options() {
        let b = SimBuilder::<()>::default()
            .redirect_uri("https://app.example/cb")
            .grant_scopes(["read"])
            .token_latency(Duration::from_millis(7));
        let o = &b.options;
        assert!(o.accepts_redirect("https://app.example/cb"));
        assert!(!o.accepts_redirect("https://app.example/other"));
        assert_eq!(o.granted(vec!["read".into(), "write".into()]), ["read"]);
        assert_eq!(o.token_latency(), Some(Duration::from_millis(7)));
    }

    #[test]
    fn defaults_accept_any_redirect_and_grant_what_was_asked() {
        let o = SimOptions::default();
        assert!(o.accepts_redirect("https://anything.example/cb"));
        assert_eq!(o.granted(vec!["a".into()]), ["a"]);
        assert_eq!(o.token_latency(), None);
    }
}
