//! What every command needs: the deployment, the output mode, the actor, and on demand the
//! store and a hub over it.

use std::path::Path;

use socialconnect_cli::Deployment;
use socialconnect_core::http::HttpClient;
use socialconnect_core::{Error, Result, SocialConnect};
use socialconnect_store::EncryptedStore;

pub(crate) struct Context {
    pub deployment: Deployment,
    pub json: bool,
    pub actor: String,
}

impl Context {
    pub(crate) fn load(config: Option<&Path>, json: bool, actor: String) -> Result<Self> {
        let path = config.ok_or_else(|| {
            Error::config("no deployment file: pass --config PATH or set SOCIALCONNECT_CONFIG")
        })?;
        if actor.trim().is_empty() || actor.len() > 128 || actor.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "--actor must be 1-128 characters without control characters",
            ));
        }
        Ok(Self {
            deployment: Deployment::from_file(path)?,
            json,
            actor,
        })
    }

    pub(crate) async fn store(&self) -> Result<EncryptedStore> {
        self.deployment.open_store().await
    }

    /// A hub over `store` with the deployment's platforms.
    pub(crate) fn hub(&self, store: &EncryptedStore) -> Result<SocialConnect> {
        let http = HttpClient::builder().build()?;
        self.deployment.hub_builder(http, store)?.build()
    }
}
