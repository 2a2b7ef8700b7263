//! Finding out whether a Page post or reply whose answer was lost happened: look for it among
//! the Page's newest posts (or the object's comments) created since the attempt.

use chrono::{DateTime, Utc};
use serde_json::json;
use socialconnect_core::automation::Reconciliation;
use socialconnect_core::{Result, Session};

use super::payload::{CommentReply, PagePost};
use crate::{MetaClient, PageAccount};

/// Pages of 100 read before giving up (a Page posting more than this since the attempt is
/// not told apart automatically).
const MAX_PAGES: usize = 3;

/// The Page post matching `post`, created since the attempt, if any.
pub(super) async fn page_post(
    client: &MetaClient,
    session: &Session,
    page: &PageAccount,
    post: &PagePost,
    since: DateTime<Utc>,
) -> Result<Reconciliation> {
    let pages = client.pages(session);
    let mut next = None;
    for _ in 0..MAX_PAGES {
        let found = pages.posts_page_to_reconcile(page, next.as_ref()).await?;
        for p in &found.items {
            if p.created_time.is_some_and(|t| t < since) {
                return Ok(Reconciliation::NotHappened);
            }
            // Meta shows a link post's text as its message; the link itself is not listed
            // (the post's attachment), so the text decides, or the link alone for a bare link
            // post (whose message is empty).
            let same = match (&post.message, &p.message) {
                (Some(want), Some(got)) => want == got,
                (None, None) => true,
                _ => false,
            };
            if same {
                return Ok(Reconciliation::Happened {
                    result: json!({ "post_id": p.id.as_str() }),
                });
            }
        }
        match found.next {
            Some(url) => next = Some(url),
            None => return Ok(Reconciliation::NotHappened),
        }
    }
    Ok(Reconciliation::Unknown {
        reason: format!(
            "more than {} posts on the Page since the attempt",
            MAX_PAGES * 100
        ),
    })
}

/// The Page's comment matching `reply` on its object, created since the attempt, if any.
pub(super) async fn comment_reply(
    client: &MetaClient,
    session: &Session,
    page: &PageAccount,
    reply: &CommentReply,
    since: DateTime<Utc>,
) -> Result<Reconciliation> {
    let pages = client.pages(session);
    let mut next = None;
    // Comments come oldest first: every page is read, up to the cap.
    for _ in 0..MAX_PAGES {
        let found = pages
            .comments_page_to_reconcile(page, &reply.object_id, next.as_ref())
            .await?;
        for c in &found.items {
            let by_page = c.from.as_ref().and_then(|f| f.id.as_deref()) == Some(page.id.as_str());
            let recent = c.created_time.is_none_or(|t| t >= since);
            if by_page && recent && c.message.as_deref() == Some(reply.message.as_str()) {
                return Ok(Reconciliation::Happened {
                    result: json!({ "comment_id": c.id.as_str() }),
                });
            }
        }
        match found.next {
            Some(url) => next = Some(url),
            None => return Ok(Reconciliation::NotHappened),
        }
    }
    Ok(Reconciliation::Unknown {
        reason: format!("more than {} comments to look through", MAX_PAGES * 100),
    })
}
