//! The Pages a user manages (with their Page tokens) and the Instagram business accounts
//! linked to them: `GET /me/accounts`.

use serde::Deserialize;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::PlatformId;
use socialconnect_core::secret::AccessToken;
use socialconnect_core::{Result, Session};

use crate::client::MetaClient;
use crate::model::de;
use crate::model::paging::PageWire;

/// A Page the user manages, with its Page access token.
///
/// Page tokens obtained from a long-lived user token (SocialConnect always stores long-lived
/// ones) do not expire; they still stop working when the user loses the Page role, changes
/// password or removes the app.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PageAccount {
    /// The Page id.
    pub id: String,
    /// The Page name.
    pub name: Option<String>,
    /// The Page's category.
    pub category: Option<String>,
    /// What the user may do on the Page (`CREATE_CONTENT`, `MODERATE`, `ANALYZE`, …).
    pub tasks: Vec<String>,
    /// The Page access token.
    pub access_token: AccessToken,
    /// The Instagram business account linked to the Page, if any.
    pub instagram_account_id: Option<String>,
    /// That account's username.
    pub instagram_username: Option<String>,
}

/// An Instagram business account reachable through the user's Pages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstagramAccount {
    /// The IG user id.
    pub id: String,
    /// Its username.
    pub username: Option<String>,
    /// The Page it is linked to.
    pub page_id: String,
}

#[derive(Deserialize)]
struct AccountWire {
    #[serde(deserialize_with = "de::id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    tasks: Vec<String>,
    #[serde(default)]
    access_token: Option<AccessToken>,
    #[serde(default)]
    instagram_business_account: Option<IgWire>,
}

#[derive(Deserialize)]
struct IgWire {
    #[serde(deserialize_with = "de::id")]
    id: String,
    #[serde(default)]
    username: Option<String>,
}

const FIELDS: &str = "id,name,category,tasks,access_token,instagram_business_account{id,username}";
/// Pages read at most (a user managing more is rare; the Graph default page size is 25).
const LIMIT: &str = "100";

async fn fetch(
    client: &MetaClient,
    platform: &PlatformId,
    token: &AccessToken,
) -> Result<Vec<AccountWire>> {
    let req = ApiRequest::get(client.graph_url("me/accounts")?)
        .query(&[("fields", FIELDS), ("limit", LIMIT)])
        .operation("accounts.list");
    let req = client.authorize(req, token);
    let resp = client.call_app(platform, req).await?;
    Ok(resp.json::<PageWire<AccountWire>>()?.data)
}

/// The Instagram business accounts behind the user's Pages.
pub(crate) async fn instagram_accounts(
    client: &MetaClient,
    platform: &PlatformId,
    token: &AccessToken,
) -> Result<Vec<InstagramAccount>> {
    Ok(fetch(client, platform, token)
        .await?
        .into_iter()
        .filter_map(|a| {
            a.instagram_business_account.map(|ig| InstagramAccount {
                id: ig.id,
                username: ig.username,
                page_id: a.id,
            })
        })
        .collect())
}

impl MetaClient {
    /// The Pages the session's user manages, with Page tokens (`GET /me/accounts`).
    pub async fn page_accounts(&self, session: &Session) -> Result<Vec<PageAccount>> {
        let req = ApiRequest::get(self.graph_url("me/accounts")?)
            .query(&[("fields", FIELDS), ("limit", LIMIT)])
            .operation("accounts.list");
        let page: PageWire<AccountWire> = self.call_json(session, None, req).await?;
        Ok(page
            .data
            .into_iter()
            .filter_map(|a| {
                Some(PageAccount {
                    access_token: a.access_token?,
                    id: a.id,
                    name: a.name,
                    category: a.category,
                    tasks: a.tasks,
                    instagram_username: a
                        .instagram_business_account
                        .as_ref()
                        .and_then(|ig| ig.username.clone()),
                    instagram_account_id: a.instagram_business_account.map(|ig| ig.id),
                })
            })
            .collect())
    }

    /// The Instagram business accounts linked to the session user's Pages.
    pub async fn instagram_accounts(&self, session: &Session) -> Result<Vec<InstagramAccount>> {
        Ok(self
            .page_accounts(session)
            .await?
            .into_iter()
            .filter_map(|p| {
                p.instagram_account_id.map(|id| InstagramAccount {
                    id,
                    username: p.instagram_username,
                    page_id: p.id,
                })
            })
            .collect())
    }

    /// The Page with this id among the session user's Pages.
    pub async fn page_account(&self, session: &Session, page_id: &str) -> Result<PageAccount> {
        self.page_accounts(session)
            .await?
            .into_iter()
            .find(|p| p.id == page_id)
            .ok_or_else(|| socialconnect_core::Error::MissingScopes {
                missing: Vec::new(),
                platform: None,
            })
    }
}
