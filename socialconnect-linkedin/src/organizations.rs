//! The organizations a member administers (`organizationAcls`), and the posting-role check
//! made before an organization post.

use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Collected, Cursor, Page, PageBudget, Pages};
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result, Session};

use crate::client::LinkedInClient;
use crate::paging::{self, Collection};
use crate::urn::Urn;

/// Page size for the ACL listing (LinkedIn's default is 10).
const PAGE: u32 = 50;

/// A member's role on an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrganizationRole {
    /// The organization (`urn:li:organization:…`).
    pub organization: Urn,
    /// `ADMINISTRATOR`, `DIRECT_SPONSORED_CONTENT_POSTER`, `RECRUITING_POSTER`, …
    pub role: String,
    /// `APPROVED`, `REQUESTED`, `REJECTED`, `REVOKED`.
    pub state: String,
}

impl OrganizationRole {
    /// Whether the role lets the member post as the organization: an approved
    /// `ADMINISTRATOR`, `DIRECT_SPONSORED_CONTENT_POSTER` or `RECRUITING_POSTER` (the fact
    /// sheet, from the Share API page), or `CONTENT_ADMINISTRATOR` (the Videos API page lists
    /// `w_organization_social` as open to the "content admin").
    pub fn can_post(&self) -> bool {
        self.state == "APPROVED"
            && matches!(
                self.role.as_str(),
                "ADMINISTRATOR"
                    | "DIRECT_SPONSORED_CONTENT_POSTER"
                    | "RECRUITING_POSTER"
                    | "CONTENT_ADMINISTRATOR"
            )
    }
}

#[derive(Deserialize)]
struct AclWire {
    // The current field name, and the legacy `organizationalTarget`.
    #[serde(alias = "organizationalTarget")]
    organization: Urn,
    #[serde(deserialize_with = "decode::bounded_string::<_, 64>")]
    role: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 32>")]
    state: Option<String>,
}

impl LinkedInClient {
    /// One page of the member's organization roles at `cursor` (`None`: the first), with the
    /// next cursor (either of LinkedIn's paging styles: `start`/`count`, or `pageToken` when the answer
    /// carries `metadata.nextPageToken`).
    pub async fn organization_roles_page(
        &self,
        session: &Session,
        cursor: Option<&Cursor>,
    ) -> Result<Page<OrganizationRole>> {
        let paging = paging::query(cursor, PAGE)?;
        let req = self
            .rest(
                http::Method::GET,
                &format!("organizationAcls?q=roleAssignee&{paging}"),
            )?
            .operation("organization.acls");
        let page: Collection<AclWire> = self.caller().send_json(session, req).await?;
        Ok(page.into_page(cursor, PAGE, |w| OrganizationRole {
            organization: w.organization,
            role: w.role,
            state: w.state.unwrap_or_default(),
        }))
    }

    /// Every organization role of the member, page after page, within `budget`.
    pub async fn organization_roles(
        &self,
        session: &Session,
        budget: PageBudget,
    ) -> Result<Collected<OrganizationRole>> {
        let fetch = |cursor: Option<Cursor>| async move {
            self.organization_roles_page(session, cursor.as_ref()).await
        };
        Pages::new(PlatformId::LINKEDIN, fetch)
            .budget(budget)
            .collect()
            .await
    }

    /// Refuses, before posting, a member without an approved posting role on `organization`.
    pub(crate) async fn require_posting_role(
        &self,
        session: &Session,
        organization: &Urn,
    ) -> Result<()> {
        let roles = self
            .organization_roles(session, PageBudget::default())
            .await?;
        if roles
            .items
            .iter()
            .any(|r| &r.organization == organization && r.can_post())
        {
            Ok(())
        } else {
            Err(Error::MissingScopes {
                missing: Vec::new(),
                platform: Some(Box::new(socialconnect_core::error::PlatformError::new(
                    Some(PlatformId::LINKEDIN),
                    format!(
                        "the member holds no approved posting role (ADMINISTRATOR, \
                         DIRECT_SPONSORED_CONTENT_POSTER, RECRUITING_POSTER, \
                         CONTENT_ADMINISTRATOR) on {organization}"
                    ),
                ))),
            })
        }
    }
}
