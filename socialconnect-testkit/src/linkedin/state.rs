//! The simulated LinkedIn's state: posts, uploads, comments, queued faults and the request log,
//! behind one lock (every request does its work under it); and what a handler works with.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use super::builder::LinkedInSettings;
use super::model::{Comment, OrganizationAcl, Post};
use super::request::Call;
use super::wire;
use crate::oauth::TokenCheck;
use crate::sim::{FaultQueue, Reply, SimOptions};

/// The roles that may post, upload and comment as an organization. The fact sheet names
/// ADMINISTRATOR, DIRECT_SPONSORED_CONTENT_POSTER and RECRUITING_POSTER; LinkedIn's Posts
/// pages also name CONTENT_ADMINISTRATOR, so the simulator accepts all four.
pub(crate) const POSTING_ROLES: [&str; 4] = [
    "ADMINISTRATOR",
    "DIRECT_SPONSORED_CONTENT_POSTER",
    "CONTENT_ADMINISTRATOR",
    "RECRUITING_POSTER",
];

/// The first post and comment ids: past 2^53, so an id read through `f64` comes out wrong.
pub(crate) const FIRST_POST_ID: u64 = 7_130_000_000_000_000_000;
pub(crate) const FIRST_COMMENT_ID: u64 = 7_140_000_000_000_000_000;

/// An image, from `initializeUpload` to `AVAILABLE`.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub(crate) owner: String,
    pub(crate) upload_token: String,
    /// The byte count of the one `PUT`, once it came.
    pub(crate) uploaded: Option<usize>,
    pub(crate) sha256: Option<String>,
    /// Status reads answered `PROCESSING` so far.
    pub(crate) polls: u32,
}

impl Image {
    /// Whether processing is over (uploaded and read `PROCESSING` enough times).
    pub(crate) fn processed(&self, polls: u32) -> bool {
        self.uploaded.is_some() && self.polls >= polls
    }

    /// The status a read would see without advancing anything.
    pub(crate) fn status(&self, polls: u32) -> &'static str {
        match self.uploaded {
            None => "WAITING_UPLOAD",
            Some(_) if !self.processed(polls) => "PROCESSING",
            Some(0) => "PROCESSING_FAILED",
            Some(_) => "AVAILABLE",
        }
    }
}

/// One part of a video upload: its byte range and, once sent, its ETag.
#[derive(Debug, Clone)]
pub(crate) struct VideoPart {
    pub(crate) first: u64,
    pub(crate) last: u64,
    pub(crate) etag: Option<String>,
}

/// A video, from `initializeUpload` through the parts and `finalizeUpload` to `AVAILABLE`.
#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub(crate) owner: String,
    pub(crate) size: u64,
    pub(crate) upload_token: String,
    pub(crate) parts: Vec<VideoPart>,
    pub(crate) finalized: bool,
    pub(crate) polls: u32,
}

impl Video {
    pub(crate) fn processed(&self, polls: u32) -> bool {
        self.finalized && self.polls >= polls
    }

    pub(crate) fn status(&self, polls: u32) -> &'static str {
        if !self.finalized {
            "WAITING_UPLOAD"
        } else if !self.processed(polls) {
            "PROCESSING"
        } else {
            "AVAILABLE"
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    pub(crate) json: Option<Value>,
}

/// Everything that changes while the simulator runs.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) posts: Vec<Post>,
    pub(crate) images: HashMap<String, Image>,
    pub(crate) videos: HashMap<String, Video>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) faults: FaultQueue<Reply>,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) next_seq: u64,
}

impl State {
    /// A fresh sequence number for ids and upload tokens.
    pub(crate) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// The post `urn`, if the simulator holds it.
    pub(crate) fn post(&self, urn: &str) -> Option<&Post> {
        self.posts.iter().find(|p| p.urn == urn)
    }

    /// The comments on `post`, oldest first.
    pub(crate) fn comments_on(&self, post: &str) -> Vec<&Comment> {
        self.comments.iter().filter(|c| c.object == post).collect()
    }

    /// Why `media` cannot go into a post by `author`, if it cannot: unknown, owned by someone
    /// else, or not `AVAILABLE`.
    pub(crate) fn media_problem(
        &self,
        cfg: &LinkedInSettings,
        media: &str,
        author: &str,
    ) -> Option<String> {
        let (owner, status) = match wire::urn_entity(media) {
            Some("image") => match self.images.get(media) {
                Some(i) => (&i.owner, i.status(cfg.image_processing_polls)),
                None => return Some(format!("{media} is not a known image")),
            },
            Some("video") => match self.videos.get(media) {
                Some(v) => (&v.owner, v.status(cfg.video_processing_polls)),
                None => return Some(format!("{media} is not a known video")),
            },
            _ => return Some(format!("{media} is not an image or video URN")),
        };
        if owner != author {
            return Some(format!(
                "{media} is owned by {owner}, not by the author {author}"
            ));
        }
        (status != "AVAILABLE").then(|| format!("{media} is {status}, not AVAILABLE"))
    }
}

/// The simulated API: configuration, the token check lent by the OAuth provider, and state.
pub(crate) struct Api {
    pub(crate) config: LinkedInSettings,
    pub(crate) options: SimOptions,
    pub(crate) base: Url,
    pub(crate) tokens: TokenCheck,
    state: Mutex<State>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Api {
    pub(crate) fn new(
        config: LinkedInSettings,
        options: SimOptions,
        base: Url,
        tokens: TokenCheck,
    ) -> Self {
        Self {
            config,
            options,
            base,
            tokens,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Each request finishes its update before releasing the lock and nothing in it panics
        // mid-update, so the state behind a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.options.now()
    }
}

/// What a route handler works with.
pub(crate) struct Cx<'a> {
    pub(crate) cfg: &'a LinkedInSettings,
    pub(crate) base: &'a Url,
    pub(crate) st: &'a mut State,
    pub(crate) now: DateTime<Utc>,
    pub(crate) call: &'a Call<'a>,
    /// `urn:li:person:{sub}`.
    pub(crate) member: String,
    /// The scopes of the caller's token (empty on the upload URLs).
    pub(crate) scopes: Vec<String>,
    /// The `LinkedIn-Version` sent (empty on the upload URLs).
    pub(crate) version: String,
}

impl Cx<'_> {
    /// `403 ACCESS_DENIED` for `method` on this route's resource unless the token holds one of
    /// `scopes`.
    pub(crate) fn need_scope(&self, method: &str, scopes: &[&str]) -> Result<(), Reply> {
        if self.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
            Ok(())
        } else {
            Err(wire::denied(
                self.call.route.resource(),
                method,
                &self.version,
            ))
        }
    }

    /// The member's approved roles on organization `urn`.
    pub(crate) fn approved_roles(&self, urn: &str) -> Vec<&OrganizationAcl> {
        self.cfg
            .acls
            .iter()
            .filter(|a| a.organization_urn() == urn && a.is_approved())
            .collect()
    }

    /// Whether `urn` is an organization the simulator knows.
    pub(crate) fn org_known(&self, urn: &str) -> bool {
        self.cfg.acls.iter().any(|a| a.organization_urn() == urn)
    }

    /// Checks that the caller may write as `entity` (a post's author, an upload's owner, a
    /// comment's actor): the member itself with `w_member_social`, or an organization with
    /// `w_organization_social` and an approved posting role. `Err` is the 403, or `None` for
    /// an entity that is neither a person nor an organization (the caller's 422).
    pub(crate) fn may_write_as(&self, entity: &str, method: &str) -> Result<(), Option<Reply>> {
        match wire::urn_entity(entity) {
            Some("person") => {
                if entity != self.member {
                    return Err(Some(wire::forbidden(&format!(
                        "Member {} is not permitted to act as {entity}",
                        self.member
                    ))));
                }
                self.need_scope(method, &["w_member_social"]).map_err(Some)
            }
            Some("organization") => {
                self.need_scope(method, &["w_organization_social"])
                    .map_err(Some)?;
                if self
                    .approved_roles(entity)
                    .iter()
                    .any(|a| POSTING_ROLES.contains(&a.role.as_str()))
                {
                    Ok(())
                } else {
                    Err(Some(wire::forbidden(&format!(
                        "Member {} holds no approved ADMINISTRATOR, \
                         DIRECT_SPONSORED_CONTENT_POSTER or CONTENT_ADMINISTRATOR role on {entity}",
                        self.member
                    ))))
                }
            }
            _ => Err(None),
        }
    }

    /// Checks that the caller may read `organization`'s administration data: a token with
    /// `rw_organization_admin` (or `r_organization_admin`) and an approved ADMINISTRATOR role.
    pub(crate) fn need_admin(&self, organization: &str, method: &str) -> Result<(), Reply> {
        self.need_scope(method, &["rw_organization_admin", "r_organization_admin"])?;
        if !self.org_known(organization) {
            return Err(wire::not_found());
        }
        if self
            .approved_roles(organization)
            .iter()
            .any(|a| a.role == "ADMINISTRATOR")
        {
            Ok(())
        } else {
            Err(wire::forbidden(&format!(
                "Member {} is not an ADMINISTRATOR of {organization}",
                self.member
            )))
        }
    }
}
