//! Pins: create with every media source (an image by URL or by bytes, two to five images, a
//! video with its cover), get, list by board, delete. Field lengths and the media source are
//! checked before anything is sent; creating is a write sent once (`MaybeSent` when the
//! outcome is unknown).

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Cursor, Page};
use socialconnect_core::{Error, Result, Session};

use crate::boards::OwnerWire;
use crate::client::{PinterestClient, path_id};
use crate::limits::{MAX_ALT_TEXT, MAX_DESCRIPTION, MAX_LINK, MAX_TITLE, check_length};
use crate::paging::Listing;

/// The largest image sent as bytes, before base64. Pinterest's documented image limit is not
/// in the fact sheet (UNCONFIRMED); 20 MB is its help centre's figure, and bounds the memory
/// one request takes (the base64 text is a third larger).
pub const MAX_IMAGE_BYTES: usize = 20 * 1000 * 1000;
/// The fewest images of a multi-image Pin.
pub const MIN_IMAGES: usize = 2;
/// The most images of a multi-image Pin.
pub const MAX_IMAGES: usize = 5;

/// An image's type, for images sent as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageType {
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
}

impl ImageType {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
        }
    }

    /// The type `bytes` start like, if JPEG or PNG.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else {
            None
        }
    }
}

/// An image held in memory, checked: JPEG or PNG by its first bytes, at most
/// [`MAX_IMAGE_BYTES`].
#[derive(Clone, PartialEq, Eq)]
pub struct ImageBytes {
    kind: ImageType,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for ImageBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageBytes")
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl ImageBytes {
    /// Checks `bytes`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when they are empty, over [`MAX_IMAGE_BYTES`], or neither JPEG nor PNG.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(Error::invalid_input(format!(
                "a Pinterest image is at most {MAX_IMAGE_BYTES} bytes; this one is {}",
                bytes.len()
            )));
        }
        let kind = ImageType::sniff(&bytes).ok_or_else(|| {
            Error::invalid_input("a Pinterest image sent as bytes is JPEG or PNG")
        })?;
        Ok(Self { kind, bytes })
    }

    /// Its type.
    pub fn kind(&self) -> ImageType {
        self.kind
    }

    fn wire(&self) -> (&'static str, String) {
        (
            self.kind.mime(),
            base64::engine::general_purpose::STANDARD.encode(&self.bytes),
        )
    }
}

/// One image of a multi-image Pin, with its own text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CarouselImage<I> {
    /// The image (a URL or bytes).
    pub image: I,
    /// Its title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its link.
    pub link: Option<String>,
}

impl<I> CarouselImage<I> {
    /// An image without text of its own.
    pub fn new(image: I) -> Self {
        Self {
            image,
            title: None,
            description: None,
            link: None,
        }
    }

    /// Sets its title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets its link.
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.link = Some(link.into());
        self
    }

    fn text(&self, item: &mut Map<String, Value>) -> Result<()> {
        if let Some(t) = &self.title {
            check_length("image title", t, MAX_TITLE)?;
            item.insert("title".into(), t.clone().into());
        }
        if let Some(d) = &self.description {
            check_length("image description", d, MAX_DESCRIPTION)?;
            item.insert("description".into(), d.clone().into());
        }
        if let Some(l) = &self.link {
            check_link(l)?;
            item.insert("link".into(), l.clone().into());
        }
        Ok(())
    }
}

/// A video Pin's cover.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoCover {
    /// An image at a URL.
    Url(String),
    /// An image sent as bytes.
    Image(ImageBytes),
    /// The frame at this many milliseconds into the video.
    KeyFrame(u64),
}

/// What a Pin shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaSource {
    /// An image Pinterest fetches from a public URL (`image_url`).
    ImageUrl(String),
    /// An image sent as bytes (`image_base64`).
    Image(ImageBytes),
    /// Two to five images by URL (`multiple_image_urls`).
    ImageUrls(Vec<CarouselImage<String>>),
    /// Two to five images as bytes (`multiple_image_base64`).
    Images(Vec<CarouselImage<ImageBytes>>),
    /// A video uploaded through [`PinterestClient::upload_video`] (`video_id`), with a cover.
    Video {
        /// The media id.
        media_id: String,
        /// The cover.
        cover: VideoCover,
    },
}

impl MediaSource {
    /// The `media_source` object, checked.
    fn wire(&self) -> Result<Value> {
        Ok(match self {
            MediaSource::ImageUrl(url) => {
                check_url("image URL", url)?;
                json!({ "source_type": "image_url", "url": url })
            }
            MediaSource::Image(image) => {
                let (content_type, data) = image.wire();
                json!({ "source_type": "image_base64", "content_type": content_type, "data": data })
            }
            MediaSource::ImageUrls(items) => {
                check_count(items.len())?;
                let items = items
                    .iter()
                    .map(|i| {
                        check_url("image URL", &i.image)?;
                        let mut item = Map::new();
                        item.insert("url".into(), i.image.clone().into());
                        i.text(&mut item)?;
                        Ok(Value::Object(item))
                    })
                    .collect::<Result<Vec<_>>>()?;
                json!({ "source_type": "multiple_image_urls", "items": items })
            }
            MediaSource::Images(items) => {
                check_count(items.len())?;
                let total: usize = items.iter().map(|i| i.image.bytes.len()).sum();
                if total > MAX_IMAGE_BYTES {
                    return Err(Error::invalid_input(format!(
                        "a multi-image Pin's images are at most {MAX_IMAGE_BYTES} bytes together"
                    )));
                }
                let items = items
                    .iter()
                    .map(|i| {
                        let (content_type, data) = i.image.wire();
                        let mut item = Map::new();
                        item.insert("content_type".into(), content_type.into());
                        item.insert("data".into(), data.into());
                        i.text(&mut item)?;
                        Ok(Value::Object(item))
                    })
                    .collect::<Result<Vec<_>>>()?;
                json!({ "source_type": "multiple_image_base64", "items": items })
            }
            MediaSource::Video { media_id, cover } => {
                path_id("media", media_id)?;
                let mut source = Map::new();
                source.insert("source_type".into(), "video_id".into());
                source.insert("media_id".into(), media_id.clone().into());
                match cover {
                    VideoCover::Url(url) => {
                        check_url("cover image URL", url)?;
                        source.insert("cover_image_url".into(), url.clone().into());
                    }
                    VideoCover::Image(image) => {
                        let (content_type, data) = image.wire();
                        source.insert("cover_image_content_type".into(), content_type.into());
                        source.insert("cover_image_data".into(), data.into());
                    }
                    VideoCover::KeyFrame(ms) => {
                        source.insert("cover_image_key_frame_time".into(), (*ms).into());
                    }
                }
                Value::Object(source)
            }
        })
    }
}

fn check_count(n: usize) -> Result<()> {
    if (MIN_IMAGES..=MAX_IMAGES).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "a multi-image Pin has {MIN_IMAGES} to {MAX_IMAGES} images, not {n}"
        )))
    }
}

/// An `http(s)` URL.
fn check_url(what: &str, text: &str) -> Result<()> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(Error::invalid_input(format!(
            "a Pinterest {what} is an http(s) URL"
        ))),
    }
}

fn check_link(link: &str) -> Result<()> {
    check_length("link", link, MAX_LINK)?;
    check_url("link", link)
}

/// A Pin to create.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewPin {
    /// The board it goes on.
    pub board_id: String,
    /// The section of the board, if any.
    pub board_section_id: Option<String>,
    /// Its title (≤ 100).
    pub title: Option<String>,
    /// Its description (≤ 800).
    pub description: Option<String>,
    /// Where it links (≤ 2048).
    pub link: Option<String>,
    /// Its alt text (≤ 500).
    pub alt_text: Option<String>,
    /// Its dominant colour, `#RRGGBB`.
    pub dominant_color: Option<String>,
    /// What it shows.
    pub media: MediaSource,
}

impl NewPin {
    /// A Pin on `board_id` showing `media`.
    pub fn new(board_id: impl Into<String>, media: MediaSource) -> Self {
        Self {
            board_id: board_id.into(),
            board_section_id: None,
            title: None,
            description: None,
            link: None,
            alt_text: None,
            dominant_color: None,
            media,
        }
    }

    /// Sets the section.
    pub fn section(mut self, id: impl Into<String>) -> Self {
        self.board_section_id = Some(id.into());
        self
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the link.
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.link = Some(link.into());
        self
    }

    /// Sets the alt text.
    pub fn alt_text(mut self, alt: impl Into<String>) -> Self {
        self.alt_text = Some(alt.into());
        self
    }

    /// Sets the dominant colour (`#RRGGBB`).
    pub fn dominant_color(mut self, color: impl Into<String>) -> Self {
        self.dominant_color = Some(color.into());
        self
    }

    /// The request body, every limit checked.
    ///
    /// # Errors
    ///
    /// `InvalidInput` naming the first field out of bounds (never its text).
    pub fn body(&self) -> Result<Value> {
        let mut body = Map::new();
        body.insert("board_id".into(), path_id("board", &self.board_id)?.into());
        if let Some(s) = &self.board_section_id {
            body.insert("board_section_id".into(), path_id("section", s)?.into());
        }
        for (name, value, max) in [
            ("title", &self.title, MAX_TITLE),
            ("description", &self.description, MAX_DESCRIPTION),
            ("alt_text", &self.alt_text, MAX_ALT_TEXT),
        ] {
            if let Some(v) = value {
                check_length(name, v, max)?;
                body.insert(name.into(), v.clone().into());
            }
        }
        if let Some(l) = &self.link {
            check_link(l)?;
            body.insert("link".into(), l.clone().into());
        }
        if let Some(c) = &self.dominant_color {
            let hex = c.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::invalid_input("a dominant colour is #RRGGBB"));
            }
            body.insert("dominant_color".into(), c.clone().into());
        }
        body.insert("media_source".into(), self.media.wire()?);
        Ok(Value::Object(body))
    }
}

/// What a Pin's media is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinMediaType {
    /// One image.
    Image,
    /// One video.
    Video,
    /// Several images.
    MultipleImages,
    /// Several videos.
    MultipleVideos,
    /// Images and videos.
    MultipleMixed,
    /// A kind this crate does not know, kept by name.
    Other(String),
}

impl PinMediaType {
    fn from_name(name: &str) -> Self {
        match name {
            "image" => PinMediaType::Image,
            "video" => PinMediaType::Video,
            "multiple_images" => PinMediaType::MultipleImages,
            "multiple_videos" => PinMediaType::MultipleVideos,
            "multiple_mixed" => PinMediaType::MultipleMixed,
            other => PinMediaType::Other(other.to_owned()),
        }
    }
}

/// A Pin.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Pin {
    /// Its id.
    pub id: String,
    /// Its board.
    pub board_id: Option<String>,
    /// Its board section.
    pub board_section_id: Option<String>,
    /// The board owner's username.
    pub board_owner: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its link.
    pub link: Option<String>,
    /// Its alt text.
    pub alt_text: Option<String>,
    /// When it was created (ISO 8601, as sent).
    pub created_at: Option<String>,
    /// What its media is (`None` when not sent).
    pub media_type: Option<PinMediaType>,
    /// A video's length in milliseconds; `None` right after creation, while Pinterest works.
    pub duration_ms: Option<u64>,
    /// A video's cover image.
    pub cover_image_url: Option<String>,
    /// Items of a multi-media Pin.
    pub item_count: Option<usize>,
    /// `pin_metrics`, when asked for (their shape is not in the fact sheet; kept as sent).
    pub metrics: Option<Value>,
}

#[derive(Deserialize)]
struct PinWire {
    #[serde(deserialize_with = "decode::id")]
    id: String,
    #[serde(default, deserialize_with = "decode::opt_id")]
    board_id: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_id")]
    board_section_id: Option<String>,
    #[serde(default)]
    board_owner: Option<OwnerWire>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 1024>")]
    title: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    description: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    link: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    alt_text: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    created_at: Option<String>,
    #[serde(default)]
    media: Option<PinMediaWire>,
    #[serde(default)]
    pin_metrics: Option<Value>,
}

#[derive(Deserialize)]
struct PinMediaWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    media_type: Option<String>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    duration: Option<u64>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    cover_image_url: Option<String>,
    #[serde(default)]
    items: Option<Vec<serde::de::IgnoredAny>>,
}

impl From<PinWire> for Pin {
    fn from(w: PinWire) -> Self {
        let media = w.media;
        Pin {
            id: w.id,
            board_id: w.board_id,
            board_section_id: w.board_section_id,
            board_owner: w.board_owner.and_then(|o| o.username),
            title: w.title,
            description: w.description,
            link: w.link,
            alt_text: w.alt_text,
            created_at: w.created_at,
            media_type: media
                .as_ref()
                .and_then(|m| m.media_type.as_deref())
                .map(PinMediaType::from_name),
            duration_ms: media.as_ref().and_then(|m| m.duration),
            cover_image_url: media.as_ref().and_then(|m| m.cover_image_url.clone()),
            item_count: media.and_then(|m| m.items).map(|i| i.len()),
            metrics: w.pin_metrics.filter(|m| !m.is_null()),
        }
    }
}

/// Reads one Pin as the API answers it (`POST /v5/pins`, `GET /v5/pins/{id}`).
///
/// # Errors
///
/// `Decode` for anything but a Pin object with an id.
pub fn parse_pin(body: &[u8]) -> Result<Pin> {
    socialconnect_core::Error::decode_json::<PinWire>(body).map(Pin::from)
}

impl PinterestClient {
    /// Creates a Pin (`pins:write`, and `boards:read` for the board). Sent once: a timeout,
    /// a dropped connection or a 5xx is `MaybeSent` — look for the Pin on the board before
    /// sending it again.
    ///
    /// # Errors
    ///
    /// `InvalidInput` before sending when a field is over its limit or the media source is
    /// malformed (see [`NewPin::body`]).
    pub async fn create_pin(&self, session: &Session, pin: &NewPin) -> Result<Pin> {
        let req = self
            .request(http::Method::POST, "pins", "pins.create")?
            .json(&pin.body()?)?;
        let wire: PinWire = self.caller().send_write(session, req).await?;
        Ok(wire.into())
    }

    /// A Pin, with its metrics when `with_metrics` (`pins:read`).
    pub async fn pin(&self, session: &Session, pin_id: &str, with_metrics: bool) -> Result<Pin> {
        let mut path = format!("pins/{}", path_id("pin", pin_id)?);
        if with_metrics {
            path.push_str("?pin_metrics=true");
        }
        let req = self.request(http::Method::GET, &path, "pins.get")?;
        let wire: PinWire = self.caller().send_json(session, req).await?;
        Ok(wire.into())
    }

    /// One page of the Pins on a board.
    pub async fn board_pins_page(
        &self,
        session: &Session,
        board_id: &str,
        page_size: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page<Pin>> {
        let path = format!("boards/{}/pins", path_id("board", board_id)?);
        let listing = Listing::new(path, page_size, "boards.pins.list");
        self.list_page(session, &listing, cursor, |w: PinWire| Pin::from(w))
            .await
    }

    /// Deletes a Pin (`pins:write`).
    pub async fn delete_pin(&self, session: &Session, pin_id: &str) -> Result<()> {
        let path = format!("pins/{}", path_id("pin", pin_id)?);
        let req = self.request(http::Method::DELETE, &path, "pins.delete")?;
        self.caller().send(session, req).await?;
        Ok(())
    }
}
