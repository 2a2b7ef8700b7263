//! Photo posts (`/v2/post/publish/content/init/`, `media_type: PHOTO`): TikTok pulls the
//! images from their URLs, so there is no upload step.

use serde_json::{Value, json};
use socialconnect_core::{Error, Result};
use url::Url;

use super::{Posting, check_media_url, utf16_len};
use crate::model::{CreatorInfo, InitWire, PrivacyLevel};
use crate::scopes;

/// The most images in one photo post.
pub const MAX_PHOTOS: usize = 35;
/// The longest photo title, in UTF-16 code units.
pub const MAX_PHOTO_TITLE: usize = 90;
/// The longest photo description. The fact sheet gives the number without a unit; counting
/// UTF-16 code units (as for the title) is never looser than counting characters.
pub const MAX_PHOTO_DESCRIPTION: usize = 4000;

/// A photo post: up to 35 image URLs on a domain verified for the app, the cover among them,
/// an optional title and description, and the switches of a direct post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoPost {
    images: Vec<Url>,
    cover_index: usize,
    title: Option<String>,
    description: Option<String>,
    disable_comment: bool,
    auto_add_music: bool,
    brand_content_toggle: bool,
    brand_organic_toggle: bool,
}

impl PhotoPost {
    /// A post of `images` (1–35, checked when sent), the first one the cover.
    pub fn new(images: Vec<Url>) -> Self {
        Self {
            images,
            cover_index: 0,
            title: None,
            description: None,
            disable_comment: false,
            auto_add_music: false,
            brand_content_toggle: false,
            brand_organic_toggle: false,
        }
    }

    /// The image used as the cover, from 0.
    pub fn cover_index(mut self, index: usize) -> Self {
        self.cover_index = index;
        self
    }

    /// The title (at most 90 UTF-16 units).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The description (at most 4000).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Turns comments off (direct posts).
    pub fn disable_comment(mut self, disable: bool) -> Self {
        self.disable_comment = disable;
        self
    }

    /// Lets TikTok add music (direct posts).
    pub fn auto_add_music(mut self, on: bool) -> Self {
        self.auto_add_music = on;
        self
    }

    /// Marks the post as promoting a third party's brand (direct posts).
    pub fn brand_content(mut self, on: bool) -> Self {
        self.brand_content_toggle = on;
        self
    }

    /// Marks the post as promoting the creator's own business (direct posts).
    pub fn brand_organic(mut self, on: bool) -> Self {
        self.brand_organic_toggle = on;
        self
    }

    /// Checks TikTok's documented limits, before any request.
    fn validate(&self) -> Result<()> {
        let refuse = |why: String| Err(Error::invalid_input(format!("TikTok photo post: {why}")));
        if self.images.is_empty() || self.images.len() > MAX_PHOTOS {
            return refuse(format!(
                "takes 1 to {MAX_PHOTOS} images, not {}",
                self.images.len()
            ));
        }
        if self.cover_index >= self.images.len() {
            return refuse(format!(
                "the cover index {} is not one of the {} images",
                self.cover_index,
                self.images.len()
            ));
        }
        if let Some(t) = &self.title
            && utf16_len(t) > MAX_PHOTO_TITLE
        {
            return refuse(format!(
                "the title is {} UTF-16 units, at most {MAX_PHOTO_TITLE}",
                utf16_len(t)
            ));
        }
        if let Some(d) = &self.description
            && utf16_len(d) > MAX_PHOTO_DESCRIPTION
        {
            return refuse(format!(
                "the description is {} UTF-16 units, at most {MAX_PHOTO_DESCRIPTION}",
                utf16_len(d)
            ));
        }
        self.images.iter().try_for_each(check_media_url)
    }

    /// The init body in `post_mode`, with `post_info` holding `extra` besides title and
    /// description.
    fn body(&self, post_mode: &str, extra: Value) -> Value {
        let mut info = extra;
        if let Some(t) = &self.title {
            info["title"] = json!(t);
        }
        if let Some(d) = &self.description {
            info["description"] = json!(d);
        }
        let urls: Vec<&str> = self.images.iter().map(Url::as_str).collect();
        json!({
            "media_type": "PHOTO",
            "post_mode": post_mode,
            "post_info": info,
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": urls,
                "photo_cover_index": self.cover_index,
            },
        })
    }
}

impl Posting<'_> {
    /// Posts photos directly to the creator's profile (`post_mode: DIRECT_POST`, scope
    /// `video.publish`) at `privacy_level`, which must be one `creator` offers (and
    /// `SELF_ONLY` for an unaudited app). Returns the publish id for [`Posting::status`].
    ///
    /// The scope for photo posts is UNCONFIRMED by the fact sheet; the one of video posts of
    /// the same mode is asked for.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a post outside TikTok's limits or a refused privacy level (no request
    /// made); otherwise as [`Posting::direct_post_video`].
    pub async fn direct_post_photos(
        &self,
        creator: &CreatorInfo,
        privacy_level: &PrivacyLevel,
        post: &PhotoPost,
    ) -> Result<String> {
        self.require(scopes::VIDEO_PUBLISH)?;
        self.check_privacy(creator, privacy_level)?;
        post.validate()?;
        let body = post.body(
            "DIRECT_POST",
            json!({
                "privacy_level": privacy_level.as_str(),
                "disable_comment": post.disable_comment,
                "auto_add_music": post.auto_add_music,
                "brand_content_toggle": post.brand_content_toggle,
                "brand_organic_toggle": post.brand_organic_toggle,
            }),
        );
        let data: InitWire = self.init("v2/post/publish/content/init/", &body).await?;
        Ok(data.publish_id)
    }

    /// Sends photos to the creator's TikTok inbox (`post_mode: MEDIA_UPLOAD`, scope
    /// `video.upload`), where the user finishes the post. Only the title and description go
    /// with a draft (UNCONFIRMED: which `post_info` fields TikTok reads in this mode); the
    /// switches are the user's to set in TikTok.
    ///
    /// # Errors
    ///
    /// As [`Posting::direct_post_photos`].
    pub async fn upload_photos_to_inbox(&self, post: &PhotoPost) -> Result<String> {
        self.require(scopes::VIDEO_UPLOAD)?;
        post.validate()?;
        let body = post.body("MEDIA_UPLOAD", json!({}));
        let data: InitWire = self.init("v2/post/publish/content/init/", &body).await?;
        Ok(data.publish_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize) -> Vec<Url> {
        (0..n)
            .map(|i| Url::parse(&format!("https://media.example/p/{i}.jpg")).unwrap())
            .collect()
    }

    #[test]
    fn limits_are_checked_locally() {
        assert!(PhotoPost::new(urls(35)).validate().is_ok());
        assert!(PhotoPost::new(urls(36)).validate().is_err());
        assert!(PhotoPost::new(vec![]).validate().is_err());
        assert!(PhotoPost::new(urls(3)).cover_index(3).validate().is_err());
        assert!(PhotoPost::new(urls(3)).cover_index(2).validate().is_ok());
        // 90 UTF-16 units: 45 emoji (each a surrogate pair) fit, 46 do not.
        let ok = "😀".repeat(45);
        assert!(PhotoPost::new(urls(1)).title(ok).validate().is_ok());
        let long = "😀".repeat(46);
        assert_eq!(long.chars().count(), 46);
        assert!(PhotoPost::new(urls(1)).title(long).validate().is_err());
        assert!(
            PhotoPost::new(urls(1))
                .description("d".repeat(4000))
                .validate()
                .is_ok()
        );
        assert!(
            PhotoPost::new(urls(1))
                .description("d".repeat(4001))
                .validate()
                .is_err()
        );
        let ftp = vec![Url::parse("ftp://media.example/a.jpg").unwrap()];
        assert!(PhotoPost::new(ftp).validate().is_err());
    }
}
