//! Facebook Pages: publish posts and photos, read posts and comments, reply, read Page
//! metadata and insights.
//!
//! Every call is made with the Page access token of a [`PageAccount`] (from
//! [`MetaClient::page_accounts`]), not with the user token the connection stores: Page
//! endpoints answer a user token with a permission error. Publishing calls are never retried
//! blindly; when their outcome is unknown the error is `MaybeSent`.
//!
//! ```no_run
//! # async fn demo(client: &socialconnect_meta::MetaClient, session: &socialconnect_core::Session)
//! # -> socialconnect_core::Result<()> {
//! use socialconnect_meta::pages::FeedPost;
//!
//! let page = client.page_account(session, "1234567890").await?;
//! let post = client
//!     .pages(session)
//!     .publish(&page, &FeedPost::text("Hello from SocialConnect"))
//!     .await?;
//! assert!(!post.as_str().is_empty());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::Purpose;
use socialconnect_core::secret::AccessToken;
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::accounts::PageAccount;
use crate::client::{MetaClient, segment};
use crate::model::pages::{
    CommentWire, DataWire, IdWire, InsightWire, PageInfoWire, PhotoWire, PostWire,
};
use crate::model::paging::{Page, PageWire, stream_pages, with_query, without_credentials};

/// Declares a Graph id newtype: the id exactly as Meta sent it (often beyond 2^53, never a
/// float), serialized as a plain string.
macro_rules! graph_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id received earlier (one the host stored, say).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as Meta spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}
pub(crate) use graph_id;

graph_id!(
    /// A Page post id, `{page-id}_{post-id}`.
    PostId
);
graph_id!(
    /// A Page photo id.
    PhotoId
);
graph_id!(
    /// A comment id, `{post-id}_{comment-id}` on Pages.
    CommentId
);

/// Fields asked of `/posts`.
const POST_FIELDS: &str = "id,message,story,created_time,permalink_url";
/// Fields asked of `/comments`.
const COMMENT_FIELDS: &str = "id,message,created_time,from,like_count,comment_count,permalink_url";
/// Fields asked of the Page node.
const PAGE_FIELDS: &str = "id,name,username,category,fan_count,followers_count,link,about,website";
/// Items per page when listing (the Graph default is 25; 100 is accepted by every edge used).
const PAGE_SIZE: &str = "100";
/// Meta answers at most 90 days per `since`/`until` insights query.
const MAX_INSIGHTS_DAYS: i64 = 90;

// ---------------------------------------------------------------------------------------------
// Shared by the product surfaces (Pages, Instagram, WhatsApp).
// ---------------------------------------------------------------------------------------------

/// Refuses a call the session's purpose does not cover: a session opened for analytics may
/// not publish, whatever the token would allow. The host opens a session for the right purpose
/// (the hub then checks the ledger for it).
pub(crate) fn require_purpose(session: &Session, needed: Purpose) -> Result<()> {
    if session.purpose() == needed {
        Ok(())
    } else {
        Err(Error::ConsentRequired {
            purpose: needed,
            platform: session.key().platform.clone(),
        })
    }
}

/// Loads one page of a cursor-paginated edge.
pub(crate) async fn fetch_page<W, T>(
    client: &MetaClient,
    session: &Session,
    token: Option<&AccessToken>,
    url: Url,
    operation: &'static str,
    convert: fn(W) -> Result<T>,
) -> Result<Page<T>>
where
    W: DeserializeOwned,
{
    let origin = client.graph_url("")?;
    let req = ApiRequest::get(without_credentials(url)).operation(operation);
    let wire: PageWire<W> = client.call_json(session, token, req).await?;
    let mut page = wire.into_page(&origin, &session.key().platform, convert)?;
    page.next = page.next.map(without_credentials);
    Ok(page)
}

/// The URL of a page the host asks for: the first page, or a `next` it got earlier, which
/// must point at the Graph API host (the token is attached to it).
pub(crate) fn resume_url(client: &MetaClient, first: Url, from: Option<&Url>) -> Result<Url> {
    let Some(from) = from else {
        return Ok(first);
    };
    let origin = client.graph_url("")?;
    if from.scheme() != origin.scheme()
        || from.host_str() != origin.host_str()
        || from.port_or_known_default() != origin.port_or_known_default()
    {
        return Err(Error::invalid_input(
            "a page URL must point at the Graph API host",
        ));
    }
    Ok(from.clone())
}

/// Streams a cursor-paginated edge from `first`, following `next` under the pagination
/// guards (same host, no repeated URL or cursor, a page cap).
pub(crate) fn stream_edge<'a, W, T>(
    client: &'a MetaClient,
    session: &'a Session,
    token: Option<&'a AccessToken>,
    first: Url,
    operation: &'static str,
    convert: fn(W) -> Result<T>,
) -> impl Stream<Item = Result<T>> + 'a
where
    W: DeserializeOwned + 'a,
    T: 'a,
{
    stream_pages(first, session.key().platform.clone(), move |url| {
        fetch_page(client, session, token, url, operation, convert)
    })
}

/// Sends the insights query for `object` and converts the metrics.
pub(crate) async fn insights(
    client: &MetaClient,
    session: &Session,
    token: Option<&AccessToken>,
    object: &str,
    query: &InsightsQuery,
    operation: &'static str,
) -> Result<Vec<Insight>> {
    require_purpose(session, Purpose::Analytics)?;
    let params = query.params()?;
    let req = ApiRequest::get(client.graph_url(&format!("{}/insights", segment(object)?))?)
        .query(&params)
        .operation(operation);
    let wire: DataWire<InsightWire> = client.call_json(session, token, req).await?;
    Ok(wire.data.into_iter().map(Insight::from_wire).collect())
}

pub(crate) fn text_param(name: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(format!("{name} is empty")));
    }
    if value.chars().count() > max {
        return Err(Error::invalid_input(format!(
            "{name} is longer than {max} characters"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Domain types.
// ---------------------------------------------------------------------------------------------

/// A text and/or link post for a Page feed (`POST /{page-id}/feed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPost {
    message: Option<String>,
    link: Option<Url>,
    published: bool,
    scheduled_at: Option<DateTime<Utc>>,
}

impl FeedPost {
    /// A post with a message.
    pub fn text(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            link: None,
            published: true,
            scheduled_at: None,
        }
    }

    /// A post sharing a link.
    pub fn link(link: Url) -> Self {
        Self {
            message: None,
            link: Some(link),
            published: true,
            scheduled_at: None,
        }
    }

    /// Sets (or replaces) the message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Attaches a link.
    pub fn with_link(mut self, link: Url) -> Self {
        self.link = Some(link);
        self
    }

    /// Creates the post unpublished (not shown on the Page).
    pub fn unpublished(mut self) -> Self {
        self.published = false;
        self
    }

    /// Schedules the post (sent as `published=false` with `scheduled_publish_time` in unix
    /// seconds). Meta accepts 10 minutes to 30 days ahead per third-party sources; some say 6
    /// months (UNCONFIRMED), so the window is left to Meta, which answers outside it with an
    /// `InvalidInput` error.
    pub fn scheduled_at(mut self, at: DateTime<Utc>) -> Self {
        self.published = false;
        self.scheduled_at = Some(at);
        self
    }

    pub(crate) fn form(&self) -> Result<Vec<(&'static str, String)>> {
        let mut form = Vec::new();
        if let Some(m) = &self.message {
            text_param("message", m, 63_206)?;
            form.push(("message", m.clone()));
        }
        if let Some(l) = &self.link {
            web_url(l)?;
            form.push(("link", l.to_string()));
        }
        if form.is_empty() {
            return Err(Error::invalid_input("a post needs a message or a link"));
        }
        form.push(("published", self.published.to_string()));
        if let Some(at) = self.scheduled_at {
            form.push(("scheduled_publish_time", at.timestamp().to_string()));
        }
        Ok(form)
    }
}

/// Meta downloads media and previews links itself, so only web URLs make sense.
pub(crate) fn web_url(url: &Url) -> Result<()> {
    if url.scheme() == "https" || url.scheme() == "http" {
        Ok(())
    } else {
        Err(Error::invalid_input("a media or link URL must be http(s)"))
    }
}

/// A photo for a Page, fetched by Meta from a public URL (`POST /{page-id}/photos`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoPost {
    url: Url,
    caption: Option<String>,
    published: bool,
}

impl PhotoPost {
    /// A photo Meta downloads from `url` (it must be publicly reachable).
    pub fn from_url(url: Url) -> Self {
        Self {
            url,
            caption: None,
            published: true,
        }
    }

    /// Sets the caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Uploads the photo without publishing a post for it.
    pub fn unpublished(mut self) -> Self {
        self.published = false;
        self
    }
}

/// What publishing a photo created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishedPhoto {
    /// The photo.
    pub photo_id: PhotoId,
    /// The feed post showing it. The answer's shape is UNCONFIRMED and an unpublished photo
    /// has no post, so it may be absent.
    pub post_id: Option<PostId>,
}

/// A post on a Page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Post {
    /// The post id.
    pub id: PostId,
    /// Its text; absent on photo-only posts.
    pub message: Option<String>,
    /// Meta's automatic story text ("… updated their cover photo").
    pub story: Option<String>,
    /// When it was created.
    pub created_time: Option<DateTime<Utc>>,
    /// Its permanent URL.
    pub permalink_url: Option<String>,
}

impl Post {
    fn from_wire(w: PostWire) -> Result<Self> {
        Ok(Self {
            id: PostId(w.id),
            message: w.message,
            story: w.story,
            created_time: w.created_time,
            permalink_url: w.permalink_url,
        })
    }
}

/// Who wrote a comment, when Meta says (it may withhold it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommentAuthor {
    /// The author's id (app-scoped for users).
    pub id: Option<String>,
    /// The author's name.
    pub name: Option<String>,
}

/// A comment on a Page object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Comment {
    /// The comment id.
    pub id: CommentId,
    /// Its text.
    pub message: Option<String>,
    /// When it was written.
    pub created_time: Option<DateTime<Utc>>,
    /// The author, when permissions allow Meta to say (UNCONFIRMED when absent).
    pub from: Option<CommentAuthor>,
    /// Likes.
    pub like_count: Option<u64>,
    /// Replies.
    pub comment_count: Option<u64>,
    /// Its permanent URL.
    pub permalink_url: Option<String>,
}

impl Comment {
    fn from_wire(w: CommentWire) -> Result<Self> {
        Ok(Self {
            id: CommentId(w.id),
            message: w.message,
            created_time: w.created_time,
            from: w.from.map(|f| CommentAuthor {
                id: f.id,
                name: f.name,
            }),
            like_count: w.like_count,
            comment_count: w.comment_count,
            permalink_url: w.permalink_url,
        })
    }
}

/// A Page's public metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageInfo {
    /// The Page id.
    pub id: String,
    /// The Page name.
    pub name: Option<String>,
    /// The Page's @username.
    pub username: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// Likes.
    pub fan_count: Option<u64>,
    /// Followers.
    pub followers_count: Option<u64>,
    /// The Page URL on Facebook.
    pub link: Option<String>,
    /// The "about" text.
    pub about: Option<String>,
    /// The Page's website.
    pub website: Option<String>,
}

/// The aggregation period of an insights metric.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Period {
    /// `day`.
    Day,
    /// `week`.
    Week,
    /// `days_28`.
    Days28,
    /// `lifetime`.
    Lifetime,
    /// Any other period Meta names (`month`, `total_over_range`, …).
    Other(String),
}

impl Period {
    /// The period as Meta spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Days28 => "days_28",
            Period::Lifetime => "lifetime",
            Period::Other(s) => s,
        }
    }

    fn parse(s: String) -> Self {
        match s.as_str() {
            "day" => Period::Day,
            "week" => Period::Week,
            "days_28" => Period::Days28,
            "lifetime" => Period::Lifetime,
            _ => Period::Other(s),
        }
    }
}

/// Which metrics to read, over which period and time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsQuery {
    metrics: Vec<String>,
    period: Option<Period>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    metric_type: Option<String>,
}

impl InsightsQuery {
    /// The metrics to read (`page_impressions_unique`, `reach`, …). At least one is needed:
    /// Graph refuses an insights call without `metric`.
    pub fn new<I, S>(metrics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            metrics: metrics.into_iter().map(Into::into).collect(),
            period: None,
            since: None,
            until: None,
            metric_type: None,
        }
    }

    /// The aggregation period.
    pub fn period(mut self, period: Period) -> Self {
        self.period = Some(period);
        self
    }

    /// The time range; Meta answers at most 90 days per query.
    pub fn between(mut self, since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self.until = Some(until);
        self
    }

    /// Asks for totals (`metric_type=total_value`), as newer Instagram metrics require.
    pub fn total_value(mut self) -> Self {
        self.metric_type = Some("total_value".to_owned());
        self
    }

    fn params(&self) -> Result<Vec<(&'static str, String)>> {
        if self.metrics.is_empty() {
            return Err(Error::invalid_input("an insights query needs a metric"));
        }
        let name_ok = |m: &String| {
            !m.is_empty()
                && m.len() <= 128
                && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if !self.metrics.iter().all(name_ok) {
            return Err(Error::invalid_input("not a metric name"));
        }
        let mut params = vec![("metric", self.metrics.join(","))];
        if let Some(p) = &self.period {
            params.push(("period", p.as_str().to_owned()));
        }
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if until <= since {
                return Err(Error::invalid_input("`until` must be after `since`"));
            }
            if (until - since).num_days() > MAX_INSIGHTS_DAYS {
                return Err(Error::invalid_input(
                    "insights ranges are at most 90 days per query",
                ));
            }
            params.push(("since", since.timestamp().to_string()));
            params.push(("until", until.timestamp().to_string()));
        }
        if let Some(t) = &self.metric_type {
            params.push(("metric_type", t.clone()));
        }
        Ok(params)
    }
}

/// A metric's value: a number, or a breakdown map (`{"US": 10, "FR": 3}`), or anything else
/// Meta sends.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricValue {
    /// A number, exactly as sent (integers are not passed through `f64`).
    Number(serde_json::Number),
    /// A breakdown by key.
    Map(BTreeMap<String, serde_json::Value>),
    /// Anything else (null, a string, a list).
    Other(serde_json::Value),
}

impl MetricValue {
    fn from_json(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Number(n) => MetricValue::Number(n),
            serde_json::Value::Object(o) => MetricValue::Map(o.into_iter().collect()),
            other => MetricValue::Other(other),
        }
    }

    /// The value as an integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            MetricValue::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The value as a float, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            MetricValue::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

/// One value of a metric, at the end of its period.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricPoint {
    /// The value.
    pub value: MetricValue,
    /// The end of the period it covers (absent for lifetime metrics).
    pub end_time: Option<DateTime<Utc>>,
}

/// One metric of an insights answer (Pages and Instagram).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Insight {
    /// The metric name.
    pub name: String,
    /// Its period.
    pub period: Option<Period>,
    /// Values per period.
    pub values: Vec<MetricPoint>,
    /// The total (`total_value.value`), for metrics asked with `metric_type=total_value`.
    pub total: Option<MetricValue>,
    /// `total_value.breakdowns`, as sent.
    pub breakdowns: Vec<serde_json::Value>,
    /// Meta's title for it.
    pub title: Option<String>,
    /// Meta's description of it.
    pub description: Option<String>,
    /// `{object-id}/insights/{metric}/{period}`.
    pub id: Option<String>,
}

impl Insight {
    fn from_wire(w: InsightWire) -> Self {
        let (total, breakdowns) = match w.total_value {
            Some(t) => (Some(MetricValue::from_json(t.value)), t.breakdowns),
            None => (None, Vec::new()),
        };
        Self {
            name: w.name,
            period: w.period.map(Period::parse),
            values: w
                .values
                .into_iter()
                .map(|v| MetricPoint {
                    value: MetricValue::from_json(v.value),
                    end_time: v.end_time,
                })
                .collect(),
            total,
            breakdowns,
            title: w.title,
            description: w.description,
            id: w.id,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client.
// ---------------------------------------------------------------------------------------------

/// The Pages API for one session. Each call takes the [`PageAccount`] it acts on and uses its
/// Page token.
///
/// The session's purpose must match the call: `Publishing` to publish and reply,
/// `ReadingContent` to read posts, comments and metadata, `Analytics` for insights. A
/// mismatch is `ConsentRequired` and sends nothing.
#[derive(Debug, Clone, Copy)]
pub struct Pages<'a> {
    client: &'a MetaClient,
    session: &'a Session,
}

impl MetaClient {
    /// The Pages API through `session`.
    pub fn pages<'a>(&'a self, session: &'a Session) -> Pages<'a> {
        Pages {
            client: self,
            session,
        }
    }
}

impl<'a> Pages<'a> {
    /// Publishes a text or link post (`POST /{page-id}/feed`; operation `pages.publish`).
    /// Never retried: an unknown outcome is `MaybeSent`.
    pub async fn publish(&self, page: &PageAccount, post: &FeedPost) -> Result<PostId> {
        require_purpose(self.session, Purpose::Publishing)?;
        let form = post.form()?;
        let url = self
            .client
            .graph_url(&format!("{}/feed", segment(&page.id)?))?;
        let req = ApiRequest::post(url).form(&form).operation("pages.publish");
        let id: IdWire = self
            .client
            .call_write(self.session, Some(&page.access_token), req)
            .await?;
        Ok(PostId(id.id))
    }

    /// Publishes a photo from a public URL (`POST /{page-id}/photos`; operation
    /// `pages.photo`). Never retried: an unknown outcome is `MaybeSent`.
    pub async fn publish_photo(
        &self,
        page: &PageAccount,
        photo: &PhotoPost,
    ) -> Result<PublishedPhoto> {
        require_purpose(self.session, Purpose::Publishing)?;
        web_url(&photo.url)?;
        let mut form = vec![("url", photo.url.to_string())];
        if let Some(c) = &photo.caption {
            text_param("caption", c, 63_206)?;
            form.push(("caption", c.clone()));
        }
        form.push(("published", photo.published.to_string()));
        let url = self
            .client
            .graph_url(&format!("{}/photos", segment(&page.id)?))?;
        let req = ApiRequest::post(url).form(&form).operation("pages.photo");
        let w: PhotoWire = self
            .client
            .call_write(self.session, Some(&page.access_token), req)
            .await?;
        Ok(PublishedPhoto {
            photo_id: PhotoId(w.id),
            post_id: w.post_id.map(PostId),
        })
    }

    fn posts_url(&self, page: &PageAccount) -> Result<Url> {
        let url = self
            .client
            .graph_url(&format!("{}/posts", segment(&page.id)?))?;
        Ok(with_query(
            url,
            &[("fields", POST_FIELDS), ("limit", PAGE_SIZE)],
        ))
    }

    /// The Page's posts, newest first, following pages to the end (`GET /{page-id}/posts`;
    /// operation `pages.posts`). The stream ends after the first error.
    pub fn posts(&self, page: &'a PageAccount) -> BoxStream<'a, Result<Post>> {
        let first = require_purpose(self.session, Purpose::ReadingContent)
            .and_then(|()| self.posts_url(page));
        let (client, session) = (self.client, self.session);
        first_or_error(first, move |url| {
            stream_edge(
                client,
                session,
                Some(&page.access_token),
                url,
                "pages.posts",
                Post::from_wire,
            )
        })
    }

    /// One page of the Page's posts: the first when `from` is `None`, else the page at a
    /// [`Page::next`] URL returned earlier (which must point at the Graph API host).
    pub async fn posts_page(&self, page: &PageAccount, from: Option<&Url>) -> Result<Page<Post>> {
        self.read_posts_page(page, from, Purpose::ReadingContent)
            .await
    }

    /// One page of the Page's posts, for a session opened for `purpose`.
    async fn read_posts_page(
        &self,
        page: &PageAccount,
        from: Option<&Url>,
        purpose: Purpose,
    ) -> Result<Page<Post>> {
        require_purpose(self.session, purpose)?;
        let url = resume_url(self.client, self.posts_url(page)?, from)?;
        fetch_page(
            self.client,
            self.session,
            Some(&page.access_token),
            url,
            "pages.posts",
            Post::from_wire,
        )
        .await
    }

    /// One page of the Page's posts, for reconciling a publish whose outcome was unknown
    /// (the scheduled-action executor, [`crate::actions`]): the read of
    /// [`Pages::posts_page`] under the publishing purpose, since a publisher may look for the
    /// post it may have made. Nothing else reads through it.
    pub(crate) async fn posts_page_to_reconcile(
        &self,
        page: &PageAccount,
        from: Option<&Url>,
    ) -> Result<Page<Post>> {
        self.read_posts_page(page, from, Purpose::Publishing).await
    }

    /// One page of the comments on `object_id`, for reconciling a reply whose outcome was
    /// unknown, under the publishing purpose (see [`Pages::posts_page_to_reconcile`]).
    pub(crate) async fn comments_page_to_reconcile(
        &self,
        page: &PageAccount,
        object_id: &str,
        from: Option<&Url>,
    ) -> Result<Page<Comment>> {
        require_purpose(self.session, Purpose::Publishing)?;
        let first = self
            .client
            .graph_url(&format!("{}/comments", segment(object_id)?))?;
        let first = with_query(first, &[("fields", COMMENT_FIELDS), ("limit", PAGE_SIZE)]);
        let url = resume_url(self.client, first, from)?;
        fetch_page(
            self.client,
            self.session,
            Some(&page.access_token),
            url,
            "pages.comments",
            Comment::from_wire,
        )
        .await
    }

    /// The comments on a post, photo or comment, following pages to the end
    /// (`GET /{object-id}/comments`; operation `pages.comments`).
    pub fn comments(
        &self,
        page: &'a PageAccount,
        object_id: &str,
    ) -> BoxStream<'a, Result<Comment>> {
        let first = require_purpose(self.session, Purpose::ReadingContent).and_then(|()| {
            let url = self
                .client
                .graph_url(&format!("{}/comments", segment(object_id)?))?;
            Ok(with_query(
                url,
                &[("fields", COMMENT_FIELDS), ("limit", PAGE_SIZE)],
            ))
        });
        let (client, session) = (self.client, self.session);
        first_or_error(first, move |url| {
            stream_edge(
                client,
                session,
                Some(&page.access_token),
                url,
                "pages.comments",
                Comment::from_wire,
            )
        })
    }

    /// Comments as the Page on a post, or replies to a comment (`POST /{object-id}/comments`;
    /// operation `pages.reply`). Never retried: an unknown outcome is `MaybeSent`.
    pub async fn reply(
        &self,
        page: &PageAccount,
        object_id: &str,
        message: &str,
    ) -> Result<CommentId> {
        require_purpose(self.session, Purpose::Publishing)?;
        text_param("message", message, 8_000)?;
        let url = self
            .client
            .graph_url(&format!("{}/comments", segment(object_id)?))?;
        let req = ApiRequest::post(url)
            .form(&[("message", message)])
            .operation("pages.reply");
        let id: IdWire = self
            .client
            .call_write(self.session, Some(&page.access_token), req)
            .await?;
        Ok(CommentId(id.id))
    }

    /// The Page's metadata (`GET /{page-id}?fields=…`; operation `pages.metadata`).
    pub async fn metadata(&self, page: &PageAccount) -> Result<PageInfo> {
        require_purpose(self.session, Purpose::ReadingContent)?;
        let req = ApiRequest::get(self.client.graph_url(segment(&page.id)?)?)
            .query(&[("fields", PAGE_FIELDS)])
            .operation("pages.metadata");
        let w: PageInfoWire = self
            .client
            .call_json(self.session, Some(&page.access_token), req)
            .await?;
        Ok(PageInfo {
            id: w.id,
            name: w.name,
            username: w.username,
            category: w.category,
            fan_count: w.fan_count,
            followers_count: w.followers_count,
            link: w.link,
            about: w.about,
            website: w.website,
        })
    }

    /// Page insights (`GET /{page-id}/insights?metric=…&period=…`; operation
    /// `pages.insights`). Only Pages with 100 or more likes have insights, and many Page
    /// metrics are deprecated from June 2026 (Meta then answers with an invalid-metric error).
    pub async fn insights(
        &self,
        page: &PageAccount,
        query: &InsightsQuery,
    ) -> Result<Vec<Insight>> {
        insights(
            self.client,
            self.session,
            Some(&page.access_token),
            &page.id,
            query,
            "pages.insights",
        )
        .await
    }
}

/// A stream that reports `first`'s error once, or streams from its URL. Boxed, so hosts can
/// call `.next()` on it without pinning it first.
pub(crate) fn first_or_error<'a, T, S>(
    first: Result<Url>,
    make: impl FnOnce(Url) -> S,
) -> BoxStream<'a, Result<T>>
where
    S: Stream<Item = Result<T>> + Send + 'a,
    T: Send + 'a,
{
    match first {
        Ok(url) => make(url).boxed(),
        Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_urls_lose_their_credentials() {
        let u = Url::parse(
            "https://graph.facebook.com/v26.0/1/posts?access_token=SECRET&limit=25&after=QVFI&appsecret_proof=p",
        )
        .unwrap();
        let clean = without_credentials(u);
        assert_eq!(
            clean.as_str(),
            "https://graph.facebook.com/v26.0/1/posts?limit=25&after=QVFI"
        );
    }

    #[test]
    fn feed_posts_need_content_and_schedule_unpublished() {
        let err = FeedPost {
            message: None,
            link: None,
            published: true,
            scheduled_at: None,
        }
        .form()
        .unwrap_err();
        assert_eq!(err.kind(), socialconnect_core::ErrorKind::InvalidInput);
        let at = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let form = FeedPost::text("hi").scheduled_at(at).form().unwrap();
        assert!(form.contains(&("published", "false".to_owned())));
        assert!(form.contains(&("scheduled_publish_time", "1900000000".to_owned())));
    }

    #[test]
    fn insights_queries_are_checked() {
        assert!(InsightsQuery::new(Vec::<String>::new()).params().is_err());
        assert!(InsightsQuery::new(["a,b"]).params().is_err());
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let long =
            InsightsQuery::new(["page_views_total"]).between(t0, t0 + chrono::Duration::days(91));
        assert!(long.params().is_err());
        let p = InsightsQuery::new(["a", "b"])
            .period(Period::Days28)
            .params()
            .unwrap();
        assert_eq!(p[0], ("metric", "a,b".to_owned()));
        assert_eq!(p[1], ("period", "days_28".to_owned()));
    }
}
