//! Comments on a post through `socialActions`: list (either paging style) and create.
//! The response fields beyond the documented create body are UNCONFIRMED and read
//! tolerantly.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Cursor, Page};
use socialconnect_core::{Error, Result, Session};

use crate::client::LinkedInClient;
use crate::paging::{self, Collection};
use crate::urn::Urn;

/// Page size for comment listings.
const PAGE: u32 = 50;

/// A comment on a post.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Comment {
    /// The comment's id or URN, as LinkedIn gave it.
    pub id: Option<String>,
    /// Who wrote it.
    pub actor: Option<String>,
    /// Its text.
    pub text: Option<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct CommentWire {
    // Responses carry `id`, `$URN` and `commentUrn` side by side (UNCONFIRMED which): each is
    // read on its own, so two present at once are not a duplicate field.
    #[serde(default, deserialize_with = "decode::opt_id")]
    id: Option<String>,
    #[serde(
        default,
        rename = "$URN",
        deserialize_with = "decode::opt_bounded_string::<_, 512>"
    )]
    urn: Option<String>,
    #[serde(
        default,
        rename = "commentUrn",
        deserialize_with = "decode::opt_bounded_string::<_, 512>"
    )]
    comment_urn: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    actor: Option<String>,
    #[serde(default)]
    message: Option<MessageWire>,
    #[serde(default)]
    created: Option<CreatedWire>,
}

#[derive(Deserialize)]
struct MessageWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 8192>")]
    text: Option<String>,
}

#[derive(Deserialize)]
struct CreatedWire {
    #[serde(default, deserialize_with = "decode::opt_unix_millis")]
    time: Option<DateTime<Utc>>,
}

impl From<CommentWire> for Comment {
    fn from(w: CommentWire) -> Self {
        Comment {
            id: w.id.or(w.comment_urn).or(w.urn),
            actor: w.actor,
            text: w.message.and_then(|m| m.text),
            created_at: w.created.and_then(|c| c.time),
        }
    }
}

impl LinkedInClient {
    /// One page of the comments on `post` from `cursor` (`None`: the first); pass the page's
    /// `next` back to continue (a short page is the end).
    pub async fn comments_page(
        &self,
        session: &Session,
        post: &Urn,
        cursor: Option<&Cursor>,
    ) -> Result<Page<Comment>> {
        let paging = paging::query(cursor, PAGE)?;
        let req = self
            .rest(
                http::Method::GET,
                &format!("socialActions/{}/comments?{paging}", post.path_segment()),
            )?
            .operation("comments.list");
        let page: Collection<CommentWire> = self.caller().send_json(session, req).await?;
        Ok(page.into_page(cursor, PAGE, Comment::from))
    }

    /// Comments on `post` as `actor` (the member, or an organization they administer). Sent
    /// once: an unknown outcome is `MaybeSent`.
    pub async fn create_comment(
        &self,
        session: &Session,
        post: &Urn,
        actor: &Urn,
        text: &str,
    ) -> Result<Comment> {
        if text.trim().is_empty() {
            return Err(Error::invalid_input("a comment needs text"));
        }
        let req = self
            .rest(
                http::Method::POST,
                &format!("socialActions/{}/comments", post.path_segment()),
            )?
            .json(&json!({ "actor": actor, "object": post, "message": { "text": text } }))?
            .operation("comments.create");
        let wire: CommentWire = self.caller().send_write(session, req).await?;
        Ok(wire.into())
    }
}
