//! Instagram (business accounts through Facebook Login): content publishing with media
//! containers, the publishing limit, media, comments and insights.
//!
//! Publishing is two steps: create a container (`POST /{ig-user-id}/media`), then publish it
//! (`POST /{ig-user-id}/media_publish`) once Meta has fetched and processed the media. This
//! client never publishes a container whose status is not `FINISHED`:
//! [`Instagram::publish`] polls the status first, within a [`PollBudget`].
//!
//! ```no_run
//! # async fn demo(client: &socialconnect_meta::MetaClient, session: &socialconnect_core::Session)
//! # -> socialconnect_core::Result<()> {
//! let image = url::Url::parse("https://cdn.example.com/cat.jpg").unwrap();
//! let media = client
//!     .instagram(session)
//!     .publish_image("17841400000000000", image, Some("A cat"))
//!     .await?;
//! assert!(!media.as_str().is_empty());
//! # Ok(()) }
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use socialconnect_core::error::PlatformError;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::client::{MetaClient, segment};
use crate::model::instagram::{ContainerStatusWire, IgCommentWire, MediaWire, PublishingLimitWire};
use crate::model::pages::{DataWire, IdWire};
use crate::model::paging::{Page, with_query};
pub use crate::pages::{Insight, InsightsQuery, MetricPoint, MetricValue, Period};
use crate::pages::{
    fetch_page, first_or_error, graph_id, insights, require_purpose, resume_url, stream_edge,
    text_param, web_url,
};
use socialconnect_core::connect::poll::{self, PollOutcome, PollStep};

graph_id!(
    /// A media container id (valid for 24 hours).
    ContainerId
);
graph_id!(
    /// A published Instagram media id.
    MediaId
);
graph_id!(
    /// An Instagram comment id.
    IgCommentId
);

/// Fields asked of `/{ig-user-id}/media`.
const MEDIA_FIELDS: &str = "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,like_count,comments_count";
/// Fields asked of `/{ig-media-id}/comments`.
const COMMENT_FIELDS: &str = "id,text,username,timestamp,like_count";
/// Items per page when listing.
const PAGE_SIZE: &str = "100";
/// Carousel size: at least 2 items; at most 10 (third-party sources, widely cited).
const CAROUSEL_ITEMS: std::ops::RangeInclusive<usize> = 2..=10;
/// Caption limit Instagram enforces (characters).
const MAX_CAPTION: usize = 2_200;

/// `PlatformError::error_type` of a container that ended in `ERROR`.
pub const CONTAINER_ERROR: &str = "InstagramContainerError";
/// `PlatformError::error_type` of a container that ended in `EXPIRED`.
pub const CONTAINER_EXPIRED: &str = "InstagramContainerExpired";

/// How long to wait for a container to be ready: at most `max_polls` status reads,
/// `interval` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollBudget {
    /// Status reads at most (at least 1).
    pub max_polls: u32,
    /// The pause between two reads.
    pub interval: Duration,
}

impl PollBudget {
    /// A budget of `max_polls` reads, `interval` apart.
    pub fn new(max_polls: u32, interval: Duration) -> Self {
        Self {
            max_polls: max_polls.max(1),
            interval,
        }
    }
}

impl Default for PollBudget {
    /// 30 reads 10 s apart: five minutes, the span Meta suggests for polling a container
    /// (recollection of the content-publishing guide; videos may need a larger budget).
    fn default() -> Self {
        Self::new(30, Duration::from_secs(10))
    }
}

/// A container's `status_code`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContainerState {
    /// Meta is still fetching or processing the media.
    InProgress,
    /// Ready to publish.
    Finished,
    /// Processing failed; see the status text.
    Error,
    /// Not published within 24 hours.
    Expired,
    /// Already published.
    Published,
    /// A code this version does not know, kept as sent.
    Unknown(String),
}

impl ContainerState {
    fn parse(code: Option<String>) -> Self {
        match code.as_deref() {
            Some("IN_PROGRESS") => ContainerState::InProgress,
            Some("FINISHED") => ContainerState::Finished,
            Some("ERROR") => ContainerState::Error,
            Some("EXPIRED") => ContainerState::Expired,
            Some("PUBLISHED") => ContainerState::Published,
            other => ContainerState::Unknown(other.unwrap_or_default().to_owned()),
        }
    }

    /// The code as Meta spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ContainerState::InProgress => "IN_PROGRESS",
            ContainerState::Finished => "FINISHED",
            ContainerState::Error => "ERROR",
            ContainerState::Expired => "EXPIRED",
            ContainerState::Published => "PUBLISHED",
            ContainerState::Unknown(s) => s,
        }
    }
}

/// A container's status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerStatus {
    /// `status_code`.
    pub state: ContainerState,
    /// `status`: a human-readable text, holding an error subcode on `ERROR`. Its format is
    /// UNCONFIRMED, so it is kept verbatim.
    pub status: Option<String>,
}

/// Why a container cannot be published, read back from the error [`Instagram::publish`] and
/// [`Instagram::wait_until_finished`] return.
///
/// That error is an `Error::Platform` whose `error_type` is [`CONTAINER_ERROR`] or
/// [`CONTAINER_EXPIRED`], whose message is the status text (or the state when Meta sent
/// none), and whose subcode is the number found in the status text, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerFailure {
    /// `Error` or `Expired`.
    pub state: ContainerState,
    /// The status text as Meta sent it (or the state's code when it sent none).
    pub status: String,
    /// An error subcode read from the status text (format UNCONFIRMED: the last run of four
    /// or more digits).
    pub subcode: Option<i64>,
}

impl ContainerFailure {
    /// The container failure `err` stands for, if it is one.
    pub fn from_error(err: &Error) -> Option<Self> {
        let Error::Platform(p) = err else {
            return None;
        };
        let state = match p.error_type.as_deref()? {
            CONTAINER_ERROR => ContainerState::Error,
            CONTAINER_EXPIRED => ContainerState::Expired,
            _ => return None,
        };
        Some(Self {
            state,
            status: p.message.clone(),
            subcode: p.subcode,
        })
    }

    fn into_error(self, platform: &socialconnect_core::id::PlatformId) -> Error {
        let kind = match self.state {
            ContainerState::Expired => CONTAINER_EXPIRED,
            _ => CONTAINER_ERROR,
        };
        Error::Platform(Box::new(
            PlatformError::new(Some(platform.clone()), self.status)
                .with_type(kind)
                .with_code(None, self.subcode),
        ))
    }
}

/// The last run of 4+ digits in a status text (`"Error: 2207026"`), tolerant of any wording.
fn subcode_in(text: &str) -> Option<i64> {
    text.split(|c: char| !c.is_ascii_digit())
        .rfind(|run| run.len() >= 4 && run.len() <= 18)
        .and_then(|run| run.parse().ok())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ContainerKind {
    Image(Url),
    Reel(Url),
    StoryImage(Url),
    StoryVideo(Url),
}

/// A single media container to create: an image, a reel or a story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaContainer {
    kind: ContainerKind,
    caption: Option<String>,
    alt_text: Option<String>,
    share_to_feed: Option<bool>,
    cover_url: Option<Url>,
}

impl MediaContainer {
    fn of(kind: ContainerKind) -> Self {
        Self {
            kind,
            caption: None,
            alt_text: None,
            share_to_feed: None,
            cover_url: None,
        }
    }

    /// A feed image Meta fetches from a public URL (JPEG).
    pub fn image(image_url: Url) -> Self {
        Self::of(ContainerKind::Image(image_url))
    }

    /// A reel (`media_type=REELS`) from a public video URL. Single feed videos are published
    /// as reels since July 2023; `VIDEO` is deprecated.
    pub fn reel(video_url: Url) -> Self {
        Self::of(ContainerKind::Reel(video_url))
    }

    /// An image story (`media_type=STORIES`).
    pub fn story_image(image_url: Url) -> Self {
        Self::of(ContainerKind::StoryImage(image_url))
    }

    /// A video story (`media_type=STORIES`).
    pub fn story_video(video_url: Url) -> Self {
        Self::of(ContainerKind::StoryVideo(video_url))
    }

    /// The caption (images and reels; stories take none).
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Alternative text for an image.
    pub fn with_alt_text(mut self, alt_text: impl Into<String>) -> Self {
        self.alt_text = Some(alt_text.into());
        self
    }

    /// Whether a reel also appears in the feed (`share_to_feed`).
    pub fn share_to_feed(mut self, share: bool) -> Self {
        self.share_to_feed = Some(share);
        self
    }

    /// A reel's cover image (`cover_url`).
    pub fn with_cover_url(mut self, cover: Url) -> Self {
        self.cover_url = Some(cover);
        self
    }

    fn form(&self) -> Result<Vec<(&'static str, String)>> {
        let mut form = Vec::new();
        let is_image = matches!(self.kind, ContainerKind::Image(_));
        let is_reel = matches!(self.kind, ContainerKind::Reel(_));
        match &self.kind {
            ContainerKind::Image(u) => {
                web_url(u)?;
                form.push(("image_url", u.to_string()));
            }
            ContainerKind::Reel(u) => {
                web_url(u)?;
                form.push(("media_type", "REELS".to_owned()));
                form.push(("video_url", u.to_string()));
            }
            ContainerKind::StoryImage(u) => {
                web_url(u)?;
                form.push(("media_type", "STORIES".to_owned()));
                form.push(("image_url", u.to_string()));
            }
            ContainerKind::StoryVideo(u) => {
                web_url(u)?;
                form.push(("media_type", "STORIES".to_owned()));
                form.push(("video_url", u.to_string()));
            }
        }
        if let Some(c) = &self.caption {
            if !is_image && !is_reel {
                return Err(Error::invalid_input("stories take no caption"));
            }
            text_param("caption", c, MAX_CAPTION)?;
            form.push(("caption", c.clone()));
        }
        if let Some(a) = &self.alt_text {
            if !is_image {
                return Err(Error::invalid_input("alt text applies to images only"));
            }
            text_param("alt_text", a, 1_000)?;
            form.push(("alt_text", a.clone()));
        }
        if let Some(s) = self.share_to_feed {
            if !is_reel {
                return Err(Error::invalid_input("share_to_feed applies to reels only"));
            }
            form.push(("share_to_feed", s.to_string()));
        }
        if let Some(c) = &self.cover_url {
            if !is_reel {
                return Err(Error::invalid_input("a cover applies to reels only"));
            }
            web_url(c)?;
            form.push(("cover_url", c.to_string()));
        }
        Ok(form)
    }
}

/// One item of a carousel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CarouselItem {
    /// An image from a public URL.
    Image(Url),
    /// A video from a public URL (sent as `media_type=VIDEO` with `is_carousel_item=true`,
    /// recollection of the carousel guide).
    Video(Url),
}

/// A carousel post of 2 to 10 images or videos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carousel {
    items: Vec<CarouselItem>,
    caption: Option<String>,
}

impl Carousel {
    /// A carousel of `items` (2 to 10; checked when it is created).
    pub fn new(items: Vec<CarouselItem>) -> Self {
        Self {
            items,
            caption: None,
        }
    }

    /// The caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }
}

/// The account's publishing quota, as Meta reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishingLimit {
    /// Posts published in the current window.
    pub quota_usage: u64,
    /// Posts allowed per window, from `config.quota_total` (sources disagree between 25, 50
    /// and 100, so it is never assumed); `None` when Meta did not send it.
    pub quota_total: Option<u64>,
    /// The window length, from `config.quota_duration` (seconds).
    pub quota_duration: Option<Duration>,
}

impl PublishingLimit {
    /// Posts still allowed in the window, when the total is known.
    pub fn remaining(&self) -> Option<u64> {
        self.quota_total.map(|t| t.saturating_sub(self.quota_usage))
    }
}

/// A published Instagram media.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IgMedia {
    /// The media id.
    pub id: MediaId,
    /// Its caption.
    pub caption: Option<String>,
    /// `IMAGE`, `VIDEO` or `CAROUSEL_ALBUM`.
    pub media_type: Option<String>,
    /// `FEED`, `REELS`, `STORY`, …
    pub media_product_type: Option<String>,
    /// The media file URL (temporary).
    pub media_url: Option<String>,
    /// A video's thumbnail URL.
    pub thumbnail_url: Option<String>,
    /// Its permanent URL.
    pub permalink: Option<String>,
    /// When it was published.
    pub timestamp: Option<DateTime<Utc>>,
    /// Likes, when visible.
    pub like_count: Option<u64>,
    /// Comments.
    pub comments_count: Option<u64>,
}

impl IgMedia {
    fn from_wire(w: MediaWire) -> Result<Self> {
        Ok(Self {
            id: MediaId::new(w.id),
            caption: w.caption,
            media_type: w.media_type,
            media_product_type: w.media_product_type,
            media_url: w.media_url,
            thumbnail_url: w.thumbnail_url,
            permalink: w.permalink,
            timestamp: w.timestamp,
            like_count: w.like_count,
            comments_count: w.comments_count,
        })
    }
}

/// A comment on an Instagram media.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IgComment {
    /// The comment id.
    pub id: IgCommentId,
    /// Its text.
    pub text: Option<String>,
    /// The author's username, when sent.
    pub username: Option<String>,
    /// When it was written.
    pub timestamp: Option<DateTime<Utc>>,
    /// Likes, when sent.
    pub like_count: Option<u64>,
}

impl IgComment {
    fn from_wire(w: IgCommentWire) -> Result<Self> {
        Ok(Self {
            id: IgCommentId::new(w.id),
            text: w.text,
            username: w.username,
            timestamp: w.timestamp,
            like_count: w.like_count,
        })
    }
}

/// The Instagram API for one session (a connection made for [`crate::MetaProduct::Instagram`],
/// whose token is the Facebook user's).
///
/// The session's purpose must match the call: `Publishing` for containers, publishing, the
/// publishing limit and replies; `ReadingContent` for media and comments; `Analytics` for
/// insights. A mismatch is `ConsentRequired` and sends nothing.
#[derive(Debug, Clone, Copy)]
pub struct Instagram<'a> {
    client: &'a MetaClient,
    session: &'a Session,
    budget: PollBudget,
}

impl MetaClient {
    /// The Instagram API through `session`, polling containers with the default
    /// [`PollBudget`].
    pub fn instagram<'a>(&'a self, session: &'a Session) -> Instagram<'a> {
        Instagram {
            client: self,
            session,
            budget: PollBudget::default(),
        }
    }
}

impl<'a> Instagram<'a> {
    /// Sets how long to wait for a container to be ready.
    pub fn with_poll_budget(mut self, budget: PollBudget) -> Self {
        self.budget = budget;
        self
    }

    async fn post_container(
        &self,
        ig_user_id: &str,
        form: &[(&'static str, String)],
    ) -> Result<ContainerId> {
        let url = self
            .client
            .graph_url(&format!("{}/media", segment(ig_user_id)?))?;
        // Not idempotent: a repeated creation makes a second container, counted against the
        // 400-containers-per-24h limit.
        let req = ApiRequest::post(url)
            .form(form)
            .operation("instagram.container");
        let id: IdWire = self.client.call_write(self.session, None, req).await?;
        Ok(ContainerId::new(id.id))
    }

    /// Creates a container for an image, reel or story (`POST /{ig-user-id}/media`; operation
    /// `instagram.container`). Meta fetches the media from its URL; publish with
    /// [`Instagram::publish`].
    pub async fn create_container(
        &self,
        ig_user_id: &str,
        container: &MediaContainer,
    ) -> Result<ContainerId> {
        require_purpose(self.session, Purpose::Publishing)?;
        let form = container.form()?;
        self.post_container(ig_user_id, &form).await
    }

    /// Creates a carousel: one item container per item (`is_carousel_item=true`), then the
    /// parent (`media_type=CAROUSEL`, `children` = the item ids). Returns the parent, to
    /// publish with [`Instagram::publish`]. Fewer than 2 or more than 10 items is
    /// `InvalidInput` before anything is sent.
    pub async fn create_carousel(
        &self,
        ig_user_id: &str,
        carousel: &Carousel,
    ) -> Result<ContainerId> {
        require_purpose(self.session, Purpose::Publishing)?;
        segment(ig_user_id)?;
        if !CAROUSEL_ITEMS.contains(&carousel.items.len()) {
            return Err(Error::invalid_input("a carousel has 2 to 10 items"));
        }
        if let Some(c) = &carousel.caption {
            text_param("caption", c, MAX_CAPTION)?;
        }
        let mut forms = Vec::with_capacity(carousel.items.len());
        for item in &carousel.items {
            let mut form = vec![("is_carousel_item", "true".to_owned())];
            match item {
                CarouselItem::Image(u) => {
                    web_url(u)?;
                    form.push(("image_url", u.to_string()));
                }
                CarouselItem::Video(u) => {
                    web_url(u)?;
                    form.push(("media_type", "VIDEO".to_owned()));
                    form.push(("video_url", u.to_string()));
                }
            }
            forms.push(form);
        }
        let mut children = Vec::with_capacity(forms.len());
        for form in &forms {
            children.push(self.post_container(ig_user_id, form).await?);
        }
        let mut parent = vec![
            ("media_type", "CAROUSEL".to_owned()),
            (
                "children",
                children
                    .iter()
                    .map(ContainerId::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ];
        if let Some(c) = &carousel.caption {
            parent.push(("caption", c.clone()));
        }
        self.post_container(ig_user_id, &parent).await
    }

    /// Reads a container's status (`GET /{container-id}?fields=status_code,status`;
    /// operation `instagram.status`).
    pub async fn container_status(&self, container_id: &str) -> Result<ContainerStatus> {
        require_purpose(self.session, Purpose::Publishing)?;
        let req = ApiRequest::get(self.client.graph_url(segment(container_id)?)?)
            .query(&[("fields", "status_code,status")])
            .operation("instagram.status");
        let w: ContainerStatusWire = self.client.call_json(self.session, None, req).await?;
        Ok(ContainerStatus {
            state: ContainerState::parse(w.status_code),
            status: w.status,
        })
    }

    /// Polls the container until it is `FINISHED`, within the poll budget.
    ///
    /// `ERROR` and `EXPIRED` end the wait with an error carrying the status text (read it
    /// with [`ContainerFailure::from_error`]); `PUBLISHED` is `InvalidInput` (it was published
    /// already, perhaps by an attempt whose outcome was unknown); a budget spent while the
    /// container is still in progress is `Transient`.
    pub async fn wait_until_finished(&self, container_id: &str) -> Result<()> {
        let platform = &self.session.key().platform;
        let interval = self.budget.interval;
        // Meta's budget counts status reads at a fixed interval (the reads' own time is not
        // capped); the platform kit's loop runs it.
        let budget = poll::PollBudget::new(interval)
            .backoff(1, interval)
            .max_attempts(self.budget.max_polls)
            .max_wait(Duration::MAX);
        let outcome = poll::poll(&budget, |_| async {
            let status = self.container_status(container_id).await?;
            Ok(match status.state {
                ContainerState::Finished => PollStep::Done(()),
                state @ (ContainerState::Error | ContainerState::Expired) => {
                    PollStep::Failed((state, status.status))
                }
                ContainerState::Published => {
                    return Err(Error::invalid_input("the container is already published"));
                }
                // IN_PROGRESS, or a state this version does not know: keep waiting, never
                // publish.
                state => PollStep::Pending {
                    status: (state, status.status),
                    retry_after: None,
                },
            })
        })
        .await?;
        match outcome {
            PollOutcome::Done { .. } => Ok(()),
            PollOutcome::Failed {
                status: (state, text),
                ..
            } => {
                let text = text
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| state.as_str().to_owned());
                let failure = ContainerFailure {
                    subcode: subcode_in(&text),
                    state,
                    status: text,
                };
                Err(failure.into_error(platform))
            }
            PollOutcome::Exhausted {
                last: (state, _),
                attempts,
                ..
            } => Err(Error::transient(format!(
                "container still {} after {attempts} status reads",
                state.as_str()
            ))),
            // A kind of outcome the kit adds later: not finished, so never published.
            _ => Err(Error::transient("container not finished")),
        }
    }

    /// Publishes a container once it is `FINISHED` (see [`Instagram::wait_until_finished`]),
    /// with `POST /{ig-user-id}/media_publish?creation_id=…` (operation `instagram.publish`).
    /// The publish is never retried: an unknown outcome is `MaybeSent`, and calling this again
    /// then answers `InvalidInput` if the first attempt did publish.
    pub async fn publish(&self, ig_user_id: &str, container_id: &str) -> Result<MediaId> {
        require_purpose(self.session, Purpose::Publishing)?;
        let url = self
            .client
            .graph_url(&format!("{}/media_publish", segment(ig_user_id)?))?;
        segment(container_id)?;
        self.wait_until_finished(container_id).await?;
        let req = ApiRequest::post(url)
            .query(&[("creation_id", container_id)])
            .operation("instagram.publish");
        let id: IdWire = self.client.call_write(self.session, None, req).await?;
        Ok(MediaId::new(id.id))
    }

    /// Creates a container for `container`, waits for it and publishes it.
    pub async fn publish_media(
        &self,
        ig_user_id: &str,
        container: &MediaContainer,
    ) -> Result<MediaId> {
        let id = self.create_container(ig_user_id, container).await?;
        self.publish(ig_user_id, id.as_str()).await
    }

    /// Publishes a feed image from a public URL: container, wait, publish.
    pub async fn publish_image(
        &self,
        ig_user_id: &str,
        image_url: Url,
        caption: Option<&str>,
    ) -> Result<MediaId> {
        let mut container = MediaContainer::image(image_url);
        if let Some(c) = caption {
            container = container.with_caption(c);
        }
        self.publish_media(ig_user_id, &container).await
    }

    /// The account's publishing quota
    /// (`GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`; operation
    /// `instagram.limit`).
    pub async fn publishing_limit(&self, ig_user_id: &str) -> Result<PublishingLimit> {
        require_purpose(self.session, Purpose::Publishing)?;
        let url = self.client.graph_url(&format!(
            "{}/content_publishing_limit",
            segment(ig_user_id)?
        ))?;
        let req = ApiRequest::get(url)
            .query(&[("fields", "quota_usage,config")])
            .operation("instagram.limit");
        let w: DataWire<PublishingLimitWire> =
            self.client.call_json(self.session, None, req).await?;
        let first = w.data.into_iter().next().ok_or_else(|| {
            Error::Platform(Box::new(PlatformError::new(
                Some(self.session.key().platform.clone()),
                "content_publishing_limit answered no data",
            )))
        })?;
        let config = first.config;
        Ok(PublishingLimit {
            quota_usage: first.quota_usage.unwrap_or(0),
            quota_total: config.as_ref().and_then(|c| c.quota_total),
            quota_duration: config
                .as_ref()
                .and_then(|c| c.quota_duration)
                .map(Duration::from_secs),
        })
    }

    fn media_url(&self, ig_user_id: &str) -> Result<Url> {
        let url = self
            .client
            .graph_url(&format!("{}/media", segment(ig_user_id)?))?;
        Ok(with_query(
            url,
            &[("fields", MEDIA_FIELDS), ("limit", PAGE_SIZE)],
        ))
    }

    /// The account's media, newest first, following pages to the end
    /// (`GET /{ig-user-id}/media`; operation `instagram.media`).
    pub fn media(&self, ig_user_id: &str) -> BoxStream<'a, Result<IgMedia>> {
        let first = require_purpose(self.session, Purpose::ReadingContent)
            .and_then(|()| self.media_url(ig_user_id));
        let (client, session) = (self.client, self.session);
        first_or_error(first, move |url| {
            stream_edge(
                client,
                session,
                None,
                url,
                "instagram.media",
                IgMedia::from_wire,
            )
        })
    }

    /// One page of the account's media: the first when `from` is `None`, else the page at a
    /// [`Page::next`] URL returned earlier.
    pub async fn media_page(&self, ig_user_id: &str, from: Option<&Url>) -> Result<Page<IgMedia>> {
        require_purpose(self.session, Purpose::ReadingContent)?;
        let url = resume_url(self.client, self.media_url(ig_user_id)?, from)?;
        fetch_page(
            self.client,
            self.session,
            None,
            url,
            "instagram.media",
            IgMedia::from_wire,
        )
        .await
    }

    /// The comments on a media, following pages to the end (`GET /{ig-media-id}/comments`;
    /// operation `instagram.comments`).
    pub fn comments(&self, media_id: &str) -> BoxStream<'a, Result<IgComment>> {
        let first = require_purpose(self.session, Purpose::ReadingContent).and_then(|()| {
            let url = self
                .client
                .graph_url(&format!("{}/comments", segment(media_id)?))?;
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
                None,
                url,
                "instagram.comments",
                IgComment::from_wire,
            )
        })
    }

    /// Replies to a comment (`POST /{ig-comment-id}/replies` with `message`, the parameter
    /// name being UNCONFIRMED; operation `instagram.reply`). Never retried: an unknown
    /// outcome is `MaybeSent`.
    pub async fn reply(&self, comment_id: &str, message: &str) -> Result<IgCommentId> {
        require_purpose(self.session, Purpose::Publishing)?;
        text_param("message", message, MAX_CAPTION)?;
        let url = self
            .client
            .graph_url(&format!("{}/replies", segment(comment_id)?))?;
        let req = ApiRequest::post(url)
            .form(&[("message", message)])
            .operation("instagram.reply");
        let id: IdWire = self.client.call_write(self.session, None, req).await?;
        Ok(IgCommentId::new(id.id))
    }

    /// A media's insights (`GET /{ig-media-id}/insights?metric=…`; operation
    /// `instagram.insights`). `impressions` gave way to `views` (date UNCONFIRMED).
    pub async fn media_insights(
        &self,
        media_id: &str,
        query: &InsightsQuery,
    ) -> Result<Vec<Insight>> {
        insights(
            self.client,
            self.session,
            None,
            media_id,
            query,
            "instagram.insights",
        )
        .await
    }

    /// The account's insights (`GET /{ig-user-id}/insights?metric=…&period=…`; operation
    /// `instagram.insights`). Newer metrics need [`InsightsQuery::total_value`].
    pub async fn account_insights(
        &self,
        ig_user_id: &str,
        query: &InsightsQuery,
    ) -> Result<Vec<Insight>> {
        insights(
            self.client,
            self.session,
            None,
            ig_user_id,
            query,
            "instagram.insights",
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcodes_are_read_loosely() {
        assert_eq!(subcode_in("Error: 2207026"), Some(2_207_026));
        assert_eq!(
            subcode_in("ERROR: Media upload has failed with error code 2207003."),
            Some(2_207_003)
        );
        assert_eq!(subcode_in("Finished: ready"), None);
        assert_eq!(subcode_in("code 12"), None);
    }

    #[test]
    fn containers_refuse_misplaced_options() {
        let u = Url::parse("https://cdn.example.com/a.jpg").unwrap();
        assert!(
            MediaContainer::story_image(u.clone())
                .with_caption("x")
                .form()
                .is_err()
        );
        assert!(
            MediaContainer::image(u.clone())
                .share_to_feed(true)
                .form()
                .is_err()
        );
        assert!(
            MediaContainer::reel(u.clone())
                .with_alt_text("x")
                .form()
                .is_err()
        );
        let form = MediaContainer::reel(u.clone())
            .share_to_feed(true)
            .with_cover_url(u.clone())
            .form()
            .unwrap();
        assert!(form.contains(&("media_type", "REELS".to_owned())));
        assert!(form.contains(&("share_to_feed", "true".to_owned())));
        let ftp = Url::parse("ftp://cdn.example.com/a.jpg").unwrap();
        assert!(MediaContainer::image(ftp).form().is_err());
    }

    #[test]
    fn failures_round_trip_through_the_error() {
        let f = ContainerFailure {
            state: ContainerState::Expired,
            status: "Expired".into(),
            subcode: None,
        };
        let e = f
            .clone()
            .into_error(&socialconnect_core::id::PlatformId::INSTAGRAM);
        assert_eq!(ContainerFailure::from_error(&e), Some(f));
        assert!(ContainerFailure::from_error(&Error::transient("x")).is_none());
    }
}
