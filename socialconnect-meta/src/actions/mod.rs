//! Scheduled actions on Meta: [`MetaActions`], the [`ActionExecutor`] for Facebook Pages and
//! Instagram, registered on the hub with
//! [`SocialConnectBuilder::executor`](socialconnect_core::SocialConnectBuilder::executor).
//!
//! | kind | payload | purpose | reconciled by |
//! |---|---|---|---|
//! | `facebook.page_post` | [`PagePost`] | publishing | the Page's recent posts: same text and link, created since the attempt |
//! | `facebook.comment_reply` | [`CommentReply`] | publishing | the object's comments: the Page's, same text, since the attempt |
//! | `facebook.page_insights` | [`PageInsights`] | analytics | a read: sent again |
//! | `instagram.image` | [`InstagramImage`] | publishing | the container's state (`PUBLISHED`, or not yet) |
//!
//! An Instagram image is two writes: the container, recorded as the action's progress, then
//! the publish. A publish whose answer was lost is never repeated blindly: the container's
//! state says whether it happened.

mod payload;
mod reconcile;

use async_trait::async_trait;
use serde_json::{Value, json};
use socialconnect_core::automation::{ActionExecutor, ActionRun, Reconciliation, decode_payload};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, Result};

pub use payload::{CommentReply, InstagramImage, PageInsights, PagePost};

use crate::instagram::{ContainerState, MediaContainer};
use crate::{MetaClient, MetaProduct};

/// Runs Meta's scheduled actions for one product (Facebook or Instagram; WhatsApp messages
/// answer a user within 24 hours and are not scheduled).
#[derive(Debug, Clone)]
pub struct MetaActions {
    client: MetaClient,
    product: MetaProduct,
}

const FACEBOOK_KINDS: &[&str] = &[
    "facebook.page_post",
    "facebook.comment_reply",
    "facebook.page_insights",
];
const INSTAGRAM_KINDS: &[&str] = &["instagram.image"];

impl MetaActions {
    /// The executor for `product`'s connections. WhatsApp is a config error.
    pub fn new(client: MetaClient, product: MetaProduct) -> Result<Self> {
        match product {
            MetaProduct::Facebook | MetaProduct::Instagram => Ok(Self { client, product }),
            MetaProduct::WhatsApp => Err(Error::config(
                "WhatsApp messages are not scheduled actions (they answer a user within 24 h)",
            )),
        }
    }
}

/// The container id an Instagram action recorded.
fn container_of(run: &ActionRun<'_>) -> Option<String> {
    run.progress()
        .and_then(|p| p["container_id"].as_str())
        .map(str::to_owned)
}

#[async_trait]
impl ActionExecutor for MetaActions {
    fn platform(&self) -> PlatformId {
        match self.product {
            MetaProduct::Instagram => PlatformId::INSTAGRAM,
            _ => PlatformId::FACEBOOK,
        }
    }

    fn kinds(&self) -> &'static [&'static str] {
        match self.product {
            MetaProduct::Instagram => INSTAGRAM_KINDS,
            _ => FACEBOOK_KINDS,
        }
    }

    fn purpose(&self, kind: &str) -> Option<Purpose> {
        if !self.kinds().contains(&kind) {
            return None;
        }
        Some(match kind {
            "facebook.page_insights" => Purpose::Analytics,
            _ => Purpose::Publishing,
        })
    }

    fn check(&self, kind: &str, payload: &Value) -> Result<()> {
        match kind {
            "facebook.page_post" => decode_payload::<PagePost>(payload)?.feed_post().map(|_| ()),
            "facebook.comment_reply" => decode_payload::<CommentReply>(payload)?.check(),
            "facebook.page_insights" => decode_payload::<PageInsights>(payload)?.check(),
            "instagram.image" => decode_payload::<InstagramImage>(payload)?.check(),
            _ => Err(Error::invalid_input(format!(
                "Meta runs no `{kind}` action"
            ))),
        }
    }

    async fn run(&self, run: &mut ActionRun<'_>) -> Result<Value> {
        let kind = run.kind().to_owned();
        let session = run.session();
        match kind.as_str() {
            "facebook.page_post" => {
                let post: PagePost = run.payload_as()?;
                let page = self.client.page_account(session, &post.page_id).await?;
                let id = self
                    .client
                    .pages(session)
                    .publish(&page, &post.feed_post()?)
                    .await?;
                Ok(json!({ "post_id": id.as_str() }))
            }
            "facebook.comment_reply" => {
                let reply: CommentReply = run.payload_as()?;
                let page = self.client.page_account(session, &reply.page_id).await?;
                let id = self
                    .client
                    .pages(session)
                    .reply(&page, &reply.object_id, &reply.message)
                    .await?;
                Ok(json!({ "comment_id": id.as_str() }))
            }
            "facebook.page_insights" => {
                let query: PageInsights = run.payload_as()?;
                let page = self.client.page_account(session, &query.page_id).await?;
                let insights = self
                    .client
                    .pages(session)
                    .insights(&page, &query.query()?)
                    .await?;
                Ok(payload::insights_json(&insights))
            }
            "instagram.image" => {
                let image: InstagramImage = run.payload_as()?;
                let ig = self.client.instagram(session);
                let container = match container_of(run) {
                    Some(id) => id,
                    None => {
                        let mut container = MediaContainer::image(image.image_url.clone());
                        if let Some(c) = &image.caption {
                            container = container.with_caption(c);
                        }
                        let id = ig.create_container(&image.ig_user_id, &container).await?;
                        let id = id.as_str().to_owned();
                        // Before the publish, whose answer may be lost: the container's state
                        // then tells whether it happened.
                        run.checkpoint(json!({ "container_id": id })).await?;
                        id
                    }
                };
                let media = ig.publish(&image.ig_user_id, &container).await?;
                Ok(json!({ "container_id": container, "media_id": media.as_str() }))
            }
            other => Err(Error::invalid_input(format!(
                "Meta runs no `{other}` action"
            ))),
        }
    }

    async fn reconcile(&self, run: &mut ActionRun<'_>) -> Result<Reconciliation> {
        let kind = run.kind().to_owned();
        match kind.as_str() {
            "facebook.page_post" => {
                let post: PagePost = run.payload_as()?;
                let page = self
                    .client
                    .page_account(run.session(), &post.page_id)
                    .await?;
                reconcile::page_post(&self.client, run.session(), &page, &post, run.made_since())
                    .await
            }
            "facebook.comment_reply" => {
                let reply: CommentReply = run.payload_as()?;
                let page = self
                    .client
                    .page_account(run.session(), &reply.page_id)
                    .await?;
                reconcile::comment_reply(
                    &self.client,
                    run.session(),
                    &page,
                    &reply,
                    run.made_since(),
                )
                .await
            }
            // A read changes nothing: run it again.
            "facebook.page_insights" => Ok(Reconciliation::NotHappened),
            "instagram.image" => {
                let Some(container) = container_of(run) else {
                    // The container's creation itself went unanswered: a stray unpublished
                    // container expires in 24 hours and publishes nothing.
                    return Ok(Reconciliation::NotHappened);
                };
                let status = self
                    .client
                    .instagram(run.session())
                    .container_status(&container)
                    .await?;
                Ok(match status.state {
                    ContainerState::Published => Reconciliation::Happened {
                        result: json!({ "container_id": container, "media_id": null }),
                    },
                    ContainerState::Finished | ContainerState::InProgress => {
                        Reconciliation::NotHappened
                    }
                    ContainerState::Error | ContainerState::Expired => {
                        // Unusable: the next attempt makes a new container.
                        run.checkpoint(json!({})).await?;
                        Reconciliation::NotHappened
                    }
                    ContainerState::Unknown(code) => Reconciliation::Unknown {
                        reason: format!("the container's state is `{code}`"),
                    },
                })
            }
            other => Err(Error::invalid_input(format!(
                "Meta runs no `{other}` action"
            ))),
        }
    }
}
