//! The simulated Pinterest's state (boards, pins, media uploads, queued faults, the request
//! log) behind one lock, and what a route handler works with.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use url::Url;

use super::builder::PinterestSettings;
use super::model::{Board, PageFault, Pin, PinMedia};
use super::request::Call;
use super::wire;
use crate::oauth::TokenCheck;
use crate::sim::{FaultQueue, Reply, SimApi};

/// The first board, section, pin and media ids. Pin ids pass 2^53 so one read through `f64`
/// comes out wrong.
const FIRST_BOARD_ID: u64 = 549_755_885_175;
const FIRST_SECTION_ID: u64 = 5_066_549_580_000;
const FIRST_PIN_ID: u64 = 813_744_226_420_795_000;
const FIRST_MEDIA_ID: u64 = 5_132_000_000_000_000_000;

/// A media upload, from registration to its final status.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    pub(crate) id: String,
    pub(crate) media_type: String,
    /// The S3 POST policy fields the upload must carry, in order.
    pub(crate) upload_parameters: Vec<(String, String)>,
    /// The file part's length, once uploaded.
    pub(crate) uploaded: Option<usize>,
    /// Status reads answered `processing` so far.
    pub(crate) polls: u32,
}

impl Media {
    /// The status a read would see without advancing anything.
    pub(crate) fn status(&self, polls: u32) -> &'static str {
        match self.uploaded {
            None => "registered",
            Some(_) if self.polls < polls => "processing",
            Some(0) => "failed",
            Some(_) => "succeeded",
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    pub(crate) json: Option<Value>,
}

/// Everything that changes while the simulator runs.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) boards: Vec<Board>,
    pub(crate) pins: Vec<Pin>,
    pub(crate) media: Vec<Media>,
    pub(crate) faults: FaultQueue<Reply>,
    pub(crate) page_faults: FaultQueue<PageFault>,
    pub(crate) requests: Vec<Recorded>,
    next_seq: u64,
}

impl State {
    /// The boards and pins of the settings, dated from `now`.
    pub(crate) fn seeded(cfg: &PinterestSettings, now: DateTime<Utc>) -> Self {
        let mut st = Self::default();
        let seeded_at = now - TimeDelta::days(10);
        for seed in &cfg.boards {
            let id = st.board_id();
            st.boards.push(Board {
                id: id.clone(),
                name: seed.name.clone(),
                description: String::new(),
                privacy: seed.privacy.clone(),
                created_at: seeded_at - TimeDelta::days(30),
                sections: Vec::new(),
            });
            for n in 0..cfg.pins_per_board {
                let pin_id = st.pin_id();
                st.pins.push(Pin {
                    id: pin_id,
                    board_id: id.clone(),
                    board_section_id: None,
                    title: Some(format!("{} pin {}", seed.name, n + 1)),
                    description: None,
                    link: None,
                    alt_text: None,
                    dominant_color: Some("#6E7874".to_owned()),
                    created_at: seeded_at,
                    media: PinMedia::ImageUrl {
                        url: format!("https://images.example/{}.jpg", n + 1),
                    },
                });
            }
        }
        st
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub(crate) fn board_id(&mut self) -> String {
        (FIRST_BOARD_ID + self.seq()).to_string()
    }

    pub(crate) fn section_id(&mut self) -> String {
        (FIRST_SECTION_ID + self.seq()).to_string()
    }

    pub(crate) fn pin_id(&mut self) -> String {
        (FIRST_PIN_ID + self.seq()).to_string()
    }

    pub(crate) fn media_id(&mut self) -> String {
        (FIRST_MEDIA_ID + self.seq()).to_string()
    }

    pub(crate) fn board(&self, id: &str) -> Option<&Board> {
        self.boards.iter().find(|b| b.id == id)
    }

    pub(crate) fn board_mut(&mut self, id: &str) -> Option<&mut Board> {
        self.boards.iter_mut().find(|b| b.id == id)
    }

    pub(crate) fn pin(&self, id: &str) -> Option<&Pin> {
        self.pins.iter().find(|p| p.id == id)
    }

    pub(crate) fn pins_on(&self, board: &str) -> Vec<&Pin> {
        self.pins.iter().filter(|p| p.board_id == board).collect()
    }

    pub(crate) fn media(&self, id: &str) -> Option<&Media> {
        self.media.iter().find(|m| m.id == id)
    }

    pub(crate) fn media_mut(&mut self, id: &str) -> Option<&mut Media> {
        self.media.iter_mut().find(|m| m.id == id)
    }
}

/// The simulated API: settings, clock, base URL, the OAuth side's token check, and state.
pub(crate) type Api = SimApi<PinterestSettings, State, TokenCheck>;

/// What a route handler works with.
pub(crate) struct Cx<'a> {
    pub(crate) cfg: &'a PinterestSettings,
    pub(crate) base: &'a Url,
    pub(crate) st: &'a mut State,
    pub(crate) now: DateTime<Utc>,
    pub(crate) call: &'a Call<'a>,
    /// The scopes of the caller's token (empty on the upload URL).
    pub(crate) scopes: Vec<String>,
}

impl Cx<'_> {
    /// `401 {"code": 3}` unless the token holds every one of `scopes`.
    pub(crate) fn need(&self, scopes: &[&str]) -> Result<(), Reply> {
        if scopes
            .iter()
            .all(|need| self.scopes.iter().any(|s| s == need))
        {
            Ok(())
        } else {
            Err(wire::insufficient_scopes())
        }
    }

    /// Whether the token holds `scope`.
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The body as a JSON object, else the `400 {"code": 1}`.
    pub(crate) fn json_object(&self) -> Result<serde_json::Map<String, Value>, Reply> {
        match self.call.json() {
            Ok(Some(Value::Object(map))) => Ok(map),
            _ => Err(wire::invalid("The request body must be a JSON object.")),
        }
    }

    /// One page of a list of `total` items, by `page_size` (default 25, at most 250) and
    /// `bookmark`: the range to serve and the next bookmark, a queued [`PageFault`] applied.
    pub(crate) fn page(&mut self, total: usize) -> Result<(usize, usize, Option<String>), Reply> {
        let size = match self.call.query_param("page_size") {
            None => 25,
            Some(s) => match s.parse::<usize>() {
                Ok(n @ 1..=250) => n,
                _ => {
                    return Err(wire::invalid(format!(
                        "Invalid page_size `{s}`: must be between 1 and 250."
                    )));
                }
            },
        };
        let start = match self.call.query_param("bookmark") {
            None | Some("") => 0,
            Some(b) => match wire::bookmark_offset(b) {
                Some(offset) => offset.min(total),
                None => return Err(wire::invalid("Invalid bookmark.")),
            },
        };
        let end = (start + size).min(total);
        let next = (end < total).then(|| wire::bookmark(end));
        Ok(match self.st.page_faults.take(&self.call.path) {
            Some(PageFault::RepeatBookmark) => (start, end, Some(wire::bookmark(start))),
            Some(PageFault::EmptyPage) => (start, start, Some(wire::bookmark(start))),
            None => (start, end, next),
        })
    }
}
