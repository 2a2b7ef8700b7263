//! Scheduled actions on LinkedIn: [`LinkedInActions`], the
//! [`ActionExecutor`] for posts.
//!
//! | kind | payload | purpose | reconciled by |
//! |---|---|---|---|
//! | `linkedin.post` | [`LinkedInPost`] | publishing | a person (see below) |
//!
//! A post's id comes back only in the `x-restli-id` header of LinkedIn's answer. When that
//! answer is lost there is no id to look up, and reading a member's own posts back needs the
//! restricted `r_member_social` permission, so SocialConnect cannot tell whether the post
//! happened: the action goes to a person (the host shows it as "needs a person"; after they
//! checked the member's feed, `retry_action` posts it or `cancel_action` drops it). It is
//! never posted again on its own.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socialconnect_core::automation::{
    ActionExecutor, ActionPayload, ActionRun, Reconciliation, decode_payload,
};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, Result};

use crate::LinkedInClient;
use crate::little_text::LittleText;
use crate::posts::{Post, Visibility};
use crate::urn::Urn;

/// `linkedin.post`: a text post by a member or an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LinkedInPost {
    /// `urn:li:person:{sub}` or `urn:li:organization:{id}`.
    pub author: String,
    /// The text (escaped as little text when posted).
    pub commentary: String,
    /// `PUBLIC` (default), `CONNECTIONS` or `LOGGED_IN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
}

impl ActionPayload for LinkedInPost {
    const KIND: &'static str = "linkedin.post";
}

impl LinkedInPost {
    /// A public post by `author`.
    pub fn new(author: &Urn, commentary: impl Into<String>) -> Self {
        Self {
            author: author.to_string(),
            commentary: commentary.into(),
            visibility: None,
        }
    }

    fn post(&self) -> Result<Post> {
        let author = Urn::parse(&self.author)?;
        if !matches!(author.entity(), "person" | "organization") {
            return Err(Error::invalid_input(
                "a post's author is a person or an organization",
            ));
        }
        if self.commentary.trim().is_empty() || self.commentary.chars().count() > 3_000 {
            return Err(Error::invalid_input(
                "a post's text is 1 to 3000 characters",
            ));
        }
        let visibility = match self.visibility.as_deref().unwrap_or("PUBLIC") {
            "PUBLIC" => Visibility::Public,
            "CONNECTIONS" => Visibility::Connections,
            "LOGGED_IN" => Visibility::LoggedIn,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown visibility `{other}`"
                )));
            }
        };
        Ok(Post::new(author, LittleText::from(self.commentary.as_str())).visibility(visibility))
    }
}

/// Runs LinkedIn's scheduled actions.
#[derive(Debug, Clone)]
pub struct LinkedInActions {
    client: LinkedInClient,
}

impl LinkedInActions {
    /// The executor over `client`.
    pub fn new(client: LinkedInClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ActionExecutor for LinkedInActions {
    fn platform(&self) -> PlatformId {
        PlatformId::LINKEDIN
    }

    fn kinds(&self) -> &'static [&'static str] {
        &[LinkedInPost::KIND]
    }

    fn purpose(&self, kind: &str) -> Option<Purpose> {
        (kind == LinkedInPost::KIND).then_some(Purpose::Publishing)
    }

    fn check(&self, kind: &str, payload: &Value) -> Result<()> {
        if kind != LinkedInPost::KIND {
            return Err(Error::invalid_input(format!(
                "LinkedIn runs no `{kind}` action"
            )));
        }
        decode_payload::<LinkedInPost>(payload)?.post().map(|_| ())
    }

    async fn run(&self, run: &mut ActionRun<'_>) -> Result<Value> {
        let post: LinkedInPost = run.payload_as()?;
        let urn = self
            .client
            .create_post(run.session(), &post.post()?)
            .await?;
        Ok(json!({ "post_urn": urn.to_string() }))
    }

    async fn reconcile(&self, _run: &mut ActionRun<'_>) -> Result<Reconciliation> {
        Ok(Reconciliation::Unknown {
            reason: "LinkedIn's answer was lost with the post's id, and the member's posts \
                     cannot be read back: look at the member's feed"
                .into(),
        })
    }
}
