//! Posts (`/rest/posts`): create as a member or an organization, delete. A created post's id
//! comes back in the `x-restli-id` header of a 201 with an empty body.

use serde_json::json;
use socialconnect_core::{Error, Result, Session};

use crate::client::LinkedInClient;
use crate::little_text::LittleText;
use crate::urn::Urn;

/// Who may see a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Visibility {
    /// Anyone.
    Public,
    /// The member's connections.
    Connections,
    /// Signed-in LinkedIn members.
    LoggedIn,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "PUBLIC",
            Visibility::Connections => "CONNECTIONS",
            Visibility::LoggedIn => "LOGGED_IN",
        }
    }
}

/// A text post (its commentary in little text, so mentions are kept and user text is
/// escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    author: Urn,
    commentary: LittleText,
    visibility: Visibility,
    reshare_disabled: bool,
    images: Vec<Urn>,
    video: Option<Urn>,
}

impl Post {
    /// A public post by `author` (`urn:li:person:…` or `urn:li:organization:…`).
    pub fn new(author: Urn, commentary: impl Into<LittleText>) -> Self {
        Self {
            author,
            commentary: commentary.into(),
            visibility: Visibility::Public,
            reshare_disabled: false,
            images: Vec::new(),
            video: None,
        }
    }

    /// Who may see it (default public).
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = visibility;
        self
    }

    /// Whether others may reshare it (default yes).
    pub fn reshare_disabled(mut self, disabled: bool) -> Self {
        self.reshare_disabled = disabled;
        self
    }

    /// With one uploaded image ([`LinkedInClient::initialize_image_upload`]).
    pub fn with_image(mut self, image: Urn) -> Self {
        self.images = vec![image];
        self.video = None;
        self
    }

    /// With several uploaded images (a multi-image post).
    pub fn with_images(mut self, images: Vec<Urn>) -> Self {
        self.images = images;
        self.video = None;
        self
    }

    /// With an uploaded video ([`LinkedInClient::upload_video`]), in place of any images.
    pub fn with_video(mut self, video: Urn) -> Self {
        self.video = Some(video);
        self.images.clear();
        self
    }

    fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "author": self.author,
            "commentary": self.commentary.as_str(),
            "visibility": self.visibility.as_str(),
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": self.reshare_disabled,
        });
        match self.images.as_slice() {
            [] => {
                if let Some(video) = &self.video {
                    body["content"] = json!({ "media": { "id": video } });
                }
            }
            [one] => body["content"] = json!({ "media": { "id": one } }),
            many => {
                let images: Vec<_> = many.iter().map(|id| json!({ "id": id })).collect();
                body["content"] = json!({ "multiImage": { "images": images } });
            }
        }
        body
    }
}

impl LinkedInClient {
    /// Publishes `post` and returns its URN. An organization post first checks that the
    /// member holds an approved posting role on it. Sent once: an unknown outcome is
    /// `MaybeSent`, and so is a 201 without its `x-restli-id`.
    pub async fn create_post(&self, session: &Session, post: &Post) -> Result<Urn> {
        match post.author.entity() {
            "person" => {}
            "organization" => self.require_posting_role(session, &post.author).await?,
            _ => {
                return Err(Error::invalid_input(
                    "a post's author is a person or an organization",
                ));
            }
        }
        let req = self
            .rest(http::Method::POST, "posts")?
            .json(&post.body())?
            .operation("posts.create");
        let resp = self
            .caller()
            .send_write_response(session, session.access_token(), req)
            .await?;
        resp.header("x-restli-id")
            .and_then(|id| Urn::parse(id.trim()).ok())
            .ok_or_else(|| Error::MaybeSent {
                message: "posts.create: accepted, but the post id could not be read".into(),
            })
    }

    /// Deletes a post. A repeat of a delete that happened is harmless, so it may be retried.
    pub async fn delete_post(&self, session: &Session, post: &Urn) -> Result<()> {
        let req = self
            .rest(
                http::Method::DELETE,
                &format!("posts/{}", post.path_segment()),
            )?
            .idempotent(true)
            .operation("posts.delete");
        self.caller().send(session, req).await?;
        Ok(())
    }
}
