//! The loopback server a simulator runs on, with its catch-all.

use url::Url;
use wiremock::MockServer;

use crate::catch_all::{CatchAll, UnexpectedRequest};

/// A started mock server, its base URL and the [`CatchAll`] mounted on it.
///
/// A simulator mounts its routes on [`server`](Self::server) and exposes the unexpected-request
/// methods by delegating here.
#[derive(Debug)]
pub struct SimServer {
    catch_all: CatchAll,
    base: Url,
    server: MockServer,
}

impl SimServer {
    /// Starts a mock server on loopback with the catch-all mounted (at the lowest priority, so
    /// routes mounted later still take precedence).
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let catch_all = CatchAll::mount(&server).await;
        let base = Url::parse(&server.uri()).expect("wiremock serves on a valid http URL");
        Self {
            catch_all,
            base,
            server,
        }
    }

    /// The underlying server.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The server's root, e.g. `http://127.0.0.1:41234/`.
    pub fn base_url(&self) -> Url {
        self.base.clone()
    }

    /// `path` on this server.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// Requests that matched no route.
    pub fn unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.catch_all.requests()
    }

    /// Returns the unexpected requests and forgets them.
    pub fn take_unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.catch_all.take()
    }

    /// Panics naming every unexpected request, if there was any.
    #[track_caller]
    pub fn assert_no_unexpected(&self) {
        self.catch_all.assert_no_unexpected();
    }
}
