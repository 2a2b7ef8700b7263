//! What the simulated Pinterest holds, as a test reads it back.

use chrono::{DateTime, Utc};

/// A board, as created, seeded or updated.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Board {
    /// The board id, a numeric string.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `description` (empty when none was given).
    pub description: String,
    /// `PUBLIC`, `PROTECTED` or `SECRET`.
    pub privacy: String,
    /// When it was created, by the simulator's clock.
    pub created_at: DateTime<Utc>,
    /// Its sections, oldest first.
    pub sections: Vec<Section>,
}

/// A board section.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Section {
    /// The section id, a numeric string.
    pub id: String,
    /// `name`.
    pub name: String,
}

/// A pin, as created (or seeded).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Pin {
    /// The pin id, a numeric string past 2^53.
    pub id: String,
    /// The board it is on.
    pub board_id: String,
    /// The section it is in, if any.
    pub board_section_id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `link`.
    pub link: Option<String>,
    /// `alt_text`.
    pub alt_text: Option<String>,
    /// `dominant_color`.
    pub dominant_color: Option<String>,
    /// When it was created, by the simulator's clock.
    pub created_at: DateTime<Utc>,
    /// The decoded `media_source`.
    pub media: PinMedia,
}

/// A pin's `media_source`, decoded and checked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PinMedia {
    /// `image_url`.
    ImageUrl {
        /// The image's URL.
        url: String,
    },
    /// `image_base64`.
    ImageBase64 {
        /// `image/jpeg` or `image/png`.
        content_type: String,
        /// The decoded image's length in bytes.
        bytes: usize,
    },
    /// `multiple_image_urls` (a carousel).
    MultipleImageUrls {
        /// The items' URLs, in order.
        urls: Vec<String>,
        /// `index`, when sent.
        index: Option<u64>,
    },
    /// `multiple_image_base64`.
    MultipleImageBase64 {
        /// The decoded images' lengths in bytes, in order.
        bytes: Vec<usize>,
        /// `index`, when sent.
        index: Option<u64>,
    },
    /// `video_id`.
    Video {
        /// The uploaded media's id.
        media_id: String,
        /// How the cover was given.
        cover: VideoCover,
    },
}

impl PinMedia {
    /// The `source_type` this media came as.
    pub fn source_type(&self) -> &'static str {
        match self {
            Self::ImageUrl { .. } => "image_url",
            Self::ImageBase64 { .. } => "image_base64",
            Self::MultipleImageUrls { .. } => "multiple_image_urls",
            Self::MultipleImageBase64 { .. } => "multiple_image_base64",
            Self::Video { .. } => "video_id",
        }
    }
}

/// The cover of a video pin.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VideoCover {
    /// `cover_image_url`.
    Url(String),
    /// `cover_image_content_type` and `cover_image_data`: the content type and the decoded
    /// length.
    Base64 {
        /// `image/jpeg` or `image/png`.
        content_type: String,
        /// The decoded image's length in bytes.
        bytes: usize,
    },
    /// `cover_image_key_frame_time`, in seconds.
    KeyFrameTime(f64),
}

/// A media upload registered with `POST /v5/media`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaUpload {
    /// `media_id`.
    pub media_id: String,
    /// `media_type` (`video`).
    pub media_type: String,
    /// The status a read would see now, without advancing it: `registered`, `processing`,
    /// `succeeded` or `failed`.
    pub status: String,
    /// The length of the file part of the upload, once it came.
    pub uploaded_bytes: Option<usize>,
}

/// A paging edge case the next page of a list answers, queued with
/// [`PinterestSimulator::fail_next_page`](super::PinterestSimulator::fail_next_page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageFault {
    /// The page's items as usual, but its `bookmark` points back at the page just served (the
    /// bookmark the request carried): a client that follows it loops for ever.
    RepeatBookmark,
    /// `items: []` with a bookmark to the same position: the client must go on, and the next
    /// request gets the real page.
    EmptyPage,
}
