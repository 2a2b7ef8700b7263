//! The simulated account's state: its videos, the posts under way with their uploads, queued
//! faults and the request log. One lock; every request does its work under it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::Sha256;
use url::Url;

use super::builder::Config;
use super::request::Call;
use crate::oauth::ScopeCheck;
use crate::sim::FaultQueue;

/// The first simulated video id: past 2^53, so an id read through `f64` comes out wrong.
const FIRST_VIDEO_ID: u64 = 7_300_000_000_000_000_001;

/// An error a test queued for the next request to a path.
#[derive(Debug, Clone)]
pub(crate) struct ApiFault {
    pub(crate) code: String,
    pub(crate) status: u16,
}

/// A video on the account.
#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub(crate) id: u64,
    pub(crate) create_time: i64,
    pub(crate) title: String,
    pub(crate) duration: u32,
}

impl Video {
    /// The video object with every field; the route keeps the requested ones.
    pub(crate) fn to_json(&self, base: &Url, username: &str) -> Value {
        let id = self.id.to_string();
        let n = self.id % 1000;
        json!({
            "id": id,
            "create_time": self.create_time,
            "cover_image_url": base.join(&format!("cover/{id}.jpg")).map(String::from).unwrap_or_default(),
            "share_url": format!("https://www.tiktok.com/@{username}/video/{id}"),
            "video_description": format!("{} #sim", self.title),
            "duration": self.duration,
            "height": 1920,
            "width": 1080,
            "title": self.title,
            "embed_html": format!("<blockquote class=\"tiktok-embed\" data-video-id=\"{id}\"></blockquote>"),
            "embed_link": format!("https://www.tiktok.com/player/v1/{id}"),
            "like_count": 10 * n,
            "comment_count": n,
            "share_count": n / 2,
            "view_count": 5_000_000_000_u64 + 100 * n,
            "is_aigc": false,
        })
    }
}

/// Direct post or inbox (draft) upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostMode {
    Direct,
    Inbox,
}

/// A file sent to an upload URL in chunks, kept as a running digest and a count.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub(crate) token: String,
    pub(crate) video_size: u64,
    pub(crate) chunk_size: u64,
    pub(crate) total_chunk_count: u32,
    pub(crate) received: u64,
    pub(crate) chunks: u32,
    pub(crate) hasher: Sha256,
    pub(crate) sha256: Option<String>,
}

impl Upload {
    pub(crate) fn is_complete(&self) -> bool {
        self.chunks == self.total_chunk_count
    }
}

/// Where a post's media comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    FileUpload(Upload),
    PullFromUrl,
}

/// Whether a post carries a video or photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    Video,
    Photo,
}

/// A post under way, from init to its final status.
#[derive(Debug, Clone)]
pub(crate) struct Publish {
    pub(crate) mode: PostMode,
    pub(crate) media: Media,
    pub(crate) source: Source,
    pub(crate) title: String,
    /// Status polls answered since the media was in.
    pub(crate) polls: u32,
    pub(crate) fail_reason: Option<String>,
    /// The post id, once published.
    pub(crate) post_id: Option<u64>,
    /// `PUBLISH_COMPLETE` polls answered so far.
    pub(crate) complete_polls: u32,
}

impl Publish {
    /// Whether the media is in: a pulled URL at once, an upload after its last chunk.
    pub(crate) fn media_in(&self) -> bool {
        match &self.source {
            Source::FileUpload(u) => u.is_complete(),
            Source::PullFromUrl => true,
        }
    }
}

/// One API request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    pub(crate) json: Option<Value>,
}

/// Everything that changes while the simulator runs.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Newest first.
    pub(crate) videos: Vec<Video>,
    pub(crate) publishes: HashMap<String, Publish>,
    pub(crate) last_publish: Option<String>,
    pub(crate) faults: FaultQueue<ApiFault>,
    /// `(chunk index, status)`: the next PUT of that chunk answers the status, once.
    pub(crate) chunk_faults: Vec<(u32, u16)>,
    pub(crate) publish_failures: VecDeque<String>,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) next_seq: u64,
    pub(crate) next_video_id: u64,
}

/// The simulated API: configuration, the token check lent by the OAuth provider, and state.
pub(crate) struct Api {
    pub(crate) config: Config,
    pub(crate) base: Url,
    pub(crate) scopes: ScopeCheck,
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
    /// The API with the account's videos seeded an hour apart, the newest a minute old.
    pub(crate) fn new(config: Config, base: Url, scopes: ScopeCheck) -> Self {
        let newest = config.clock.now().timestamp() - 60;
        let mut st = State {
            next_video_id: FIRST_VIDEO_ID,
            ..State::default()
        };
        // Ids grow with time, as TikTok's do, so the newest video has the largest.
        let count = config.videos;
        for i in 0..count {
            let age = (count - 1 - i) as i64;
            let video = Video {
                id: st.next_video_id,
                create_time: newest - 3600 * age,
                title: format!("Sim video {}", i + 1),
                duration: 15 + (i % 45) as u32,
            };
            st.next_video_id += 1;
            st.videos.insert(0, video);
        }
        Self {
            config,
            base,
            scopes,
            state: Mutex::new(st),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Each request finishes its update before releasing the lock and nothing in it panics
        // mid-update, so the state behind a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }
}

impl State {
    /// A fresh sequence number for ids and tokens.
    pub(crate) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

/// What a route handler works with.
pub(crate) struct Cx<'a> {
    pub(crate) cfg: &'a Config,
    pub(crate) base: &'a Url,
    pub(crate) st: &'a mut State,
    pub(crate) now: DateTime<Utc>,
    pub(crate) call: &'a Call<'a>,
    /// The scopes of the caller's token (empty on the upload route, which takes none).
    pub(crate) scopes: Vec<String>,
}

impl Cx<'_> {
    /// Whether the token was granted `scope`.
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}
