//! What a test reads back from the simulator: the posts and comments it holds and the
//! organization roles it was seeded with.

use chrono::{DateTime, Utc};

/// A post the simulator accepted (and has not deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Post {
    /// `urn:li:share:…` for a text post, `urn:li:ugcPost:…` for one with media (the id in the
    /// `x-restli-id` header of the 201).
    pub urn: String,
    /// `urn:li:person:…` or `urn:li:organization:…`.
    pub author: String,
    /// The commentary as sent (little text, escapes included).
    pub commentary: String,
    /// `PUBLIC`, `CONNECTIONS`, `LOGGED_IN` or `CONTAINER`.
    pub visibility: String,
    /// `PUBLISHED` or `DRAFT`.
    pub lifecycle_state: String,
    /// The image or video URNs of `content`, in order.
    pub media: Vec<String>,
    /// `isReshareDisabledByAuthor`.
    pub reshare_disabled: bool,
    /// When the simulator's clock said it was created.
    pub created_at: DateTime<Utc>,
}

/// A comment the simulator holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Comment {
    /// The comment's numeric id (past 2^53), as a string.
    pub id: String,
    /// `urn:li:comment:(urn:li:activity:{post id},{id})`.
    pub urn: String,
    /// The post commented on.
    pub object: String,
    /// Who commented (the member or an organization).
    pub actor: String,
    /// The text.
    pub text: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// One organization role of the member (a row of `organizationAcls`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrganizationAcl {
    /// The organization's numeric id (`urn:li:organization:{id}`).
    pub organization_id: String,
    /// The organization's name.
    pub name: String,
    /// `ADMINISTRATOR`, `DIRECT_SPONSORED_CONTENT_POSTER`, `CONTENT_ADMINISTRATOR`, `ANALYST`, …
    pub role: String,
    /// `APPROVED`, `REQUESTED`, `REJECTED` or `REVOKED`.
    pub state: String,
}

impl OrganizationAcl {
    /// `urn:li:organization:{id}`.
    pub fn organization_urn(&self) -> String {
        format!("urn:li:organization:{}", self.organization_id)
    }

    /// Whether the role is approved.
    pub fn is_approved(&self) -> bool {
        self.state == "APPROVED"
    }
}
