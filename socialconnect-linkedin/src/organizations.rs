//! The organizations a member administers (`organizationAcls`), and the posting-role check
//! made before an organization post.

use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Collected, Cursor, Page, PageBudget, Pages};
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result, Session};

use crate::client::LinkedInClient;
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
    /// Whether the role lets the member post as the organization (an approved
    /// `ADMINISTRATOR`, `DIRECT_SPONSORED_CONTENT_POSTER` or `RECRUITING_POSTER`).
    pub fn can_post(&self) -> bool {
        self.state == "APPROVED"
            && matches!(
                self.role.as_str(),
                "ADMINISTRATOR" | "DIRECT_SPONSORED_CONTENT_POSTER" | "RECRUITING_POSTER"
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

#[derive(Deserialize)]
struct PagingWire {
    #[serde(default, deserialize_with = "decode::loose_u64")]
    start: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    total: Option<u64>,
}

#[derive(Deserialize)]
struct AclPage {
    #[serde(default, deserialize_with = "decode::null_as_default")]
    elements: Vec<AclWire>,
    #[serde(default)]
    paging: Option<PagingWire>,
}

impl LinkedInClient {
    /// One page of the member's organization roles from `start`, with the next cursor
    /// (`start`/`count` paging; a short page is the end).
    pub async fn organization_roles_page(
        &self,
        session: &Session,
        start: u64,
    ) -> Result<Page<OrganizationRole>> {
        let req = self
            .rest(
                http::Method::GET,
                &format!("organizationAcls?q=roleAssignee&start={start}&count={PAGE}"),
            )?
            .operation("organization.acls");
        let page: AclPage = self.caller().send_json(session, req).await?;
        let returned = page.elements.len();
        let total = page.paging.as_ref().and_then(|p| p.total);
        let at = page.paging.as_ref().and_then(|p| p.start).unwrap_or(start);
        let roles = page
            .elements
            .into_iter()
            .map(|w| OrganizationRole {
                organization: w.organization,
                role: w.role,
                state: w.state.unwrap_or_default(),
            })
            .collect();
        Ok(Page::new(
            roles,
            Cursor::next_offset(at, PAGE, returned, total),
        ))
    }

    /// Every organization role of the member, page after page, within `budget`.
    pub async fn organization_roles(
        &self,
        session: &Session,
        budget: PageBudget,
    ) -> Result<Collected<OrganizationRole>> {
        let fetch = |cursor: Option<Cursor>| async move {
            let start = match cursor {
                None => 0,
                Some(Cursor::Offset { start, .. }) => start,
                Some(_) => return Err(Error::invalid_input("not a LinkedIn offset cursor")),
            };
            self.organization_roles_page(session, start).await
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
                         DIRECT_SPONSORED_CONTENT_POSTER, RECRUITING_POSTER) on {organization}"
                    ),
                ))),
            })
        }
    }
}
