//! Boards and board sections: list (bookmark paging), create, update, delete.

use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Collected, Cursor, Page, PageBudget, Pages};
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result, Session};

use crate::client::{PinterestClient, path_id};
use crate::paging::Listing;

/// The longest board name accepted here (Pinterest's limit is not in the fact sheet; 180 is
/// what its board dialog allows, UNCONFIRMED — a longer name is refused before sending).
pub const MAX_BOARD_NAME: usize = 180;
/// The longest board description accepted here (UNCONFIRMED, as the name).
pub const MAX_BOARD_DESCRIPTION: usize = 500;

/// Who sees a board.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Privacy {
    /// Everyone.
    Public,
    /// Only the owner and collaborators, and not in search.
    Protected,
    /// Only the owner and collaborators.
    Secret,
    /// A value this crate does not know, kept by name.
    Other(String),
}

impl Privacy {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Privacy::Public => "PUBLIC",
            Privacy::Protected => "PROTECTED",
            Privacy::Secret => "SECRET",
            Privacy::Other(s) => s,
        }
    }

    fn from_name(name: String) -> Self {
        match name.as_str() {
            "PUBLIC" => Privacy::Public,
            "PROTECTED" => Privacy::Protected,
            "SECRET" => Privacy::Secret,
            _ => Privacy::Other(name),
        }
    }
}

impl Serialize for Privacy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A board.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Board {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Who sees it (`None` when not sent).
    pub privacy: Option<Privacy>,
    /// The owner's username.
    pub owner: Option<String>,
    /// When it was created (ISO 8601, as sent).
    pub created_at: Option<String>,
    /// Pins on it.
    pub pin_count: Option<u64>,
    /// Its followers.
    pub follower_count: Option<u64>,
    /// Its collaborators.
    pub collaborator_count: Option<u64>,
    /// The cover image URL.
    pub cover_image_url: Option<String>,
}

#[derive(Deserialize)]
struct BoardWire {
    #[serde(deserialize_with = "decode::id")]
    id: String,
    #[serde(default, deserialize_with = "decode::bounded_string::<_, 1024>")]
    name: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    description: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 32>")]
    privacy: Option<String>,
    #[serde(default)]
    owner: Option<OwnerWire>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pin_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    follower_count: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    collaborator_count: Option<u64>,
    #[serde(default)]
    media: Option<BoardMediaWire>,
}

#[derive(Deserialize)]
pub(crate) struct OwnerWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    pub(crate) username: Option<String>,
}

#[derive(Deserialize)]
struct BoardMediaWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    image_cover_url: Option<String>,
}

impl From<BoardWire> for Board {
    fn from(w: BoardWire) -> Self {
        Board {
            id: w.id,
            name: w.name,
            description: w.description,
            privacy: w.privacy.map(Privacy::from_name),
            owner: w.owner.and_then(|o| o.username),
            created_at: w.created_at,
            pin_count: w.pin_count,
            follower_count: w.follower_count,
            collaborator_count: w.collaborator_count,
            cover_image_url: w.media.and_then(|m| m.image_cover_url),
        }
    }
}

/// Reads one board as the API answers it (`POST /v5/boards`, an item of `GET /v5/boards`).
///
/// # Errors
///
/// `Decode` for anything but a board object with an id.
pub fn parse_board(body: &[u8]) -> Result<Board> {
    socialconnect_core::Error::decode_json::<BoardWire>(body).map(Board::from)
}

/// A board section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Section {
    /// Its id.
    #[serde(deserialize_with = "decode::id")]
    pub id: String,
    /// Its name.
    #[serde(default, deserialize_with = "decode::bounded_string::<_, 1024>")]
    pub name: String,
}

/// What to change on a board (or what a new board is): unset fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoardFields {
    /// The name.
    pub name: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Who sees it.
    pub privacy: Option<Privacy>,
}

impl BoardFields {
    /// A new board's fields: its name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets who sees it.
    pub fn privacy(mut self, privacy: Privacy) -> Self {
        self.privacy = Some(privacy);
        self
    }

    /// The JSON body, checked: a name not blank and within [`MAX_BOARD_NAME`], a description
    /// within [`MAX_BOARD_DESCRIPTION`] (UTF-16 units), a known privacy.
    fn body(&self) -> Result<Value> {
        let mut body = Map::new();
        if let Some(name) = &self.name {
            if name.trim().is_empty() {
                return Err(Error::invalid_input("a Pinterest board needs a name"));
            }
            crate::limits::check_length("board name", name, MAX_BOARD_NAME)?;
            body.insert("name".into(), name.clone().into());
        }
        if let Some(d) = &self.description {
            crate::limits::check_length("board description", d, MAX_BOARD_DESCRIPTION)?;
            body.insert("description".into(), d.clone().into());
        }
        if let Some(p) = &self.privacy {
            if matches!(p, Privacy::Other(_)) {
                return Err(Error::invalid_input(
                    "a board's privacy is PUBLIC, PROTECTED or SECRET",
                ));
            }
            body.insert("privacy".into(), p.as_str().into());
        }
        Ok(Value::Object(body))
    }
}

impl PinterestClient {
    /// One page of the user's boards from `cursor` (`None`: the first), `page_size` a page
    /// (1–250), only those of `privacy` when given (`boards:read`).
    pub async fn boards_page(
        &self,
        session: &Session,
        privacy: Option<&Privacy>,
        page_size: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page<Board>> {
        let mut listing = Listing::new("boards".into(), page_size, "boards.list");
        if let Some(p) = privacy {
            listing.query.push(("privacy", p.as_str().to_owned()));
        }
        self.list_page(session, &listing, cursor, |w: BoardWire| Board::from(w))
            .await
    }

    /// Every board, page after page of 250, within `budget`.
    pub async fn boards(&self, session: &Session, budget: PageBudget) -> Result<Collected<Board>> {
        let fetch = |cursor: Option<Cursor>| async move {
            self.boards_page(session, None, crate::MAX_PAGE_SIZE, cursor.as_ref())
                .await
        };
        Pages::new(PlatformId::PINTEREST, fetch)
            .budget(budget)
            .collect()
            .await
    }

    /// The boards as a stream, fetched a page of `page_size` at a time as it is read.
    pub fn boards_stream<'a>(
        &'a self,
        session: &'a Session,
        page_size: u32,
    ) -> impl Stream<Item = Result<Board>> + 'a {
        let fetch = move |cursor: Option<Cursor>| async move {
            self.boards_page(session, None, page_size, cursor.as_ref())
                .await
        };
        Pages::new(PlatformId::PINTEREST, fetch).into_items()
    }

    /// Creates a board (`boards:write`). Sent once: an unknown outcome is `MaybeSent`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` before sending for a missing or blank name or a field over its limit.
    pub async fn create_board(&self, session: &Session, board: &BoardFields) -> Result<Board> {
        if board.name.is_none() {
            return Err(Error::invalid_input("a Pinterest board needs a name"));
        }
        let req = self
            .request(http::Method::POST, "boards", "boards.create")?
            .json(&board.body()?)?;
        let wire: BoardWire = self.caller().send_write(session, req).await?;
        Ok(wire.into())
    }

    /// Changes a board's fields (`boards:write`).
    pub async fn update_board(
        &self,
        session: &Session,
        board_id: &str,
        fields: &BoardFields,
    ) -> Result<Board> {
        let path = format!("boards/{}", path_id("board", board_id)?);
        let req = self
            .request(http::Method::PATCH, &path, "boards.update")?
            .json(&fields.body()?)?;
        let wire: BoardWire = self.caller().send_write(session, req).await?;
        Ok(wire.into())
    }

    /// Deletes a board and its Pins (`boards:write`).
    pub async fn delete_board(&self, session: &Session, board_id: &str) -> Result<()> {
        let path = format!("boards/{}", path_id("board", board_id)?);
        let req = self.request(http::Method::DELETE, &path, "boards.delete")?;
        self.caller().send(session, req).await?;
        Ok(())
    }

    /// One page of a board's sections.
    pub async fn sections_page(
        &self,
        session: &Session,
        board_id: &str,
        page_size: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page<Section>> {
        let path = format!("boards/{}/sections", path_id("board", board_id)?);
        let listing = Listing::new(path, page_size, "boards.sections.list");
        self.list_page(session, &listing, cursor, |s: Section| s)
            .await
    }

    /// Creates a section on a board (`boards:write`). Sent once.
    pub async fn create_section(
        &self,
        session: &Session,
        board_id: &str,
        name: &str,
    ) -> Result<Section> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("a board section needs a name"));
        }
        crate::limits::check_length("section name", name, MAX_BOARD_NAME)?;
        let path = format!("boards/{}/sections", path_id("board", board_id)?);
        let req = self
            .request(http::Method::POST, &path, "boards.sections.create")?
            .json(&serde_json::json!({ "name": name }))?;
        self.caller().send_write(session, req).await
    }
}
