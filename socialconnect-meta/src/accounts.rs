//! The Pages a user manages (with their Page tokens) and the Instagram business accounts
//! linked to them: `GET /me/accounts`.

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use socialconnect_core::error::PlatformError;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::PlatformId;
use socialconnect_core::secret::AccessToken;
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::client::MetaClient;
use crate::model::de;
use crate::model::paging::{Page, PageWire, stream_pages, with_query, without_credentials};

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
/// Pages asked per request (the Graph default is 25).
const LIMIT: &str = "100";
/// The most Pages [`MetaClient::page_accounts`] collects before refusing with an error that
/// points at [`MetaClient::page_accounts_stream`]: 100 requests' worth.
const MAX_COLLECTED: usize = 10_000;

/// Who sends the requests: a session (logged in the usage log), or the app with a token
/// outside any session (while connecting).
#[derive(Clone, Copy)]
enum Caller<'a> {
    Session(&'a Session),
    App(&'a PlatformId, &'a AccessToken),
}

impl Caller<'_> {
    fn platform(&self) -> &PlatformId {
        match self {
            Caller::Session(s) => &s.key().platform,
            Caller::App(p, _) => p,
        }
    }
}

/// One page of `/me/accounts`, its `next` checked to stay on the Graph host and stripped of
/// credentials.
async fn fetch_page(
    client: &MetaClient,
    caller: Caller<'_>,
    url: Url,
) -> Result<Page<AccountWire>> {
    let origin = client.graph_url("")?;
    let req = ApiRequest::get(without_credentials(url)).operation("accounts.list");
    let resp = match caller {
        Caller::Session(session) => client.call(session, None, req).await?,
        Caller::App(platform, token) => {
            client
                .call_app(platform, client.authorize(req, token))
                .await?
        }
    };
    let wire: PageWire<AccountWire> = resp.json()?;
    let mut page = wire.into_page(&origin, caller.platform(), Ok)?;
    page.next = page.next.map(without_credentials);
    Ok(page)
}

/// Every entry of `/me/accounts`, page after page, under the paging guards (same host, no
/// repeated page or cursor, a page cap).
fn stream<'a>(client: &'a MetaClient, caller: Caller<'a>) -> BoxStream<'a, Result<AccountWire>> {
    let first = match client.graph_url("me/accounts") {
        Ok(url) => with_query(url, &[("fields", FIELDS), ("limit", LIMIT)]),
        Err(e) => return futures_util::stream::once(async { Err(e) }).boxed(),
    };
    stream_pages(first, caller.platform().clone(), move |url| {
        fetch_page(client, caller, url)
    })
    .boxed()
}

impl AccountWire {
    /// The Page, when Meta sent its token (it does not for Pages the user cannot act on).
    fn into_page_account(self) -> Option<PageAccount> {
        Some(PageAccount {
            access_token: self.access_token?,
            id: self.id,
            name: self.name,
            category: self.category,
            tasks: self.tasks,
            instagram_username: self
                .instagram_business_account
                .as_ref()
                .and_then(|ig| ig.username.clone()),
            instagram_account_id: self.instagram_business_account.map(|ig| ig.id),
        })
    }
}

/// The first Instagram business account behind the user's Pages, reading only as many pages
/// of `/me/accounts` as it takes to find one.
pub(crate) async fn first_instagram_account(
    client: &MetaClient,
    platform: &PlatformId,
    token: &AccessToken,
) -> Result<Option<InstagramAccount>> {
    let mut accounts = stream(client, Caller::App(platform, token));
    while let Some(a) = accounts.try_next().await? {
        if let Some(ig) = a.instagram_business_account {
            return Ok(Some(InstagramAccount {
                id: ig.id,
                username: ig.username,
                page_id: a.id,
            }));
        }
    }
    Ok(None)
}

impl MetaClient {
    /// The Pages the session's user manages, with Page tokens (`GET /me/accounts`, every
    /// page of it; operation `accounts.list`).
    ///
    /// # Errors
    ///
    /// The first error of any page; a `Platform` error for more than 10 000 Pages (read
    /// those with [`MetaClient::page_accounts_stream`]).
    pub async fn page_accounts(&self, session: &Session) -> Result<Vec<PageAccount>> {
        let mut pages = self.page_accounts_stream(session);
        let mut all = Vec::new();
        while let Some(page) = pages.try_next().await? {
            if all.len() == MAX_COLLECTED {
                return Err(Error::Platform(Box::new(PlatformError::new(
                    Some(session.key().platform.clone()),
                    format!(
                        "the user manages more than {MAX_COLLECTED} Pages; \
                         read them with page_accounts_stream"
                    ),
                ))));
            }
            all.push(page);
        }
        Ok(all)
    }

    /// The Pages the session's user manages, streamed page after page of `/me/accounts`.
    /// The stream ends after the first error.
    pub fn page_accounts_stream<'a>(
        &'a self,
        session: &'a Session,
    ) -> BoxStream<'a, Result<PageAccount>> {
        stream(self, Caller::Session(session))
            .try_filter_map(|a| std::future::ready(Ok(a.into_page_account())))
            .boxed()
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

    /// The Page with this id among the session user's Pages, reading `/me/accounts` only
    /// until it is found.
    pub async fn page_account(&self, session: &Session, page_id: &str) -> Result<PageAccount> {
        let mut pages = self.page_accounts_stream(session);
        while let Some(page) = pages.try_next().await? {
            if page.id == page_id {
                return Ok(page);
            }
        }
        Err(Error::MissingScopes {
            missing: Vec::new(),
            platform: None,
        })
    }
}
