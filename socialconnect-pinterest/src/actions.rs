//! Scheduled actions on Pinterest: [`PinterestActions`], the
//! [`ActionExecutor`] for Pins.
//!
//! | kind | payload | purpose | reconciled by |
//! |---|---|---|---|
//! | `pinterest.pin` | [`PinterestPin`] | publishing | the board's Pins: same title, description and link, created since the attempt |

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socialconnect_core::automation::{
    ActionExecutor, ActionPayload, ActionRun, Reconciliation, decode_payload,
};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, Result};
use url::Url;

use crate::PinterestClient;
use crate::pins::{MediaSource, NewPin, Pin};

/// Board pages of [`PAGE_SIZE`] read while reconciling before giving up.
const MAX_PAGES: usize = 3;
const PAGE_SIZE: u32 = 100;

/// `pinterest.pin`: an image Pin from a public URL on one of the user's boards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PinterestPin {
    /// The board.
    pub board_id: String,
    /// The image's public URL (Pinterest fetches it).
    pub image_url: Url,
    /// The title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the Pin links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

impl ActionPayload for PinterestPin {
    const KIND: &'static str = "pinterest.pin";
}

impl PinterestPin {
    /// An image Pin on `board_id`.
    pub fn new(board_id: impl Into<String>, image_url: Url) -> Self {
        Self {
            board_id: board_id.into(),
            image_url,
            title: None,
            description: None,
            link: None,
            alt_text: None,
        }
    }

    /// With a title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// With a description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    fn pin(&self) -> Result<NewPin> {
        let mut pin = NewPin::new(
            self.board_id.clone(),
            MediaSource::ImageUrl(self.image_url.to_string()),
        );
        if let Some(t) = &self.title {
            pin = pin.title(t.clone());
        }
        if let Some(d) = &self.description {
            pin = pin.description(d.clone());
        }
        if let Some(l) = &self.link {
            pin = pin.link(l.clone());
        }
        if let Some(a) = &self.alt_text {
            pin = pin.alt_text(a.clone());
        }
        // The length limits are checked now, not when it runs.
        pin.body()?;
        Ok(pin)
    }

    /// Whether `pin` is the one this payload makes, made since `since`.
    fn made(&self, pin: &Pin, since: DateTime<Utc>) -> bool {
        let recent = pin
            .created_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_none_or(|t| t.to_utc() >= since);
        recent
            && pin.title == self.title
            && pin.description == self.description
            && pin.link == self.link
    }
}

/// Runs Pinterest's scheduled actions.
#[derive(Debug, Clone)]
pub struct PinterestActions {
    client: PinterestClient,
}

impl PinterestActions {
    /// The executor over `client`.
    pub fn new(client: PinterestClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ActionExecutor for PinterestActions {
    fn platform(&self) -> PlatformId {
        PlatformId::PINTEREST
    }

    fn kinds(&self) -> &'static [&'static str] {
        &[PinterestPin::KIND]
    }

    fn purpose(&self, kind: &str) -> Option<Purpose> {
        (kind == PinterestPin::KIND).then_some(Purpose::Publishing)
    }

    fn check(&self, kind: &str, payload: &Value) -> Result<()> {
        if kind != PinterestPin::KIND {
            return Err(Error::invalid_input(format!(
                "Pinterest runs no `{kind}` action"
            )));
        }
        decode_payload::<PinterestPin>(payload)?.pin().map(|_| ())
    }

    async fn run(&self, run: &mut ActionRun<'_>) -> Result<Value> {
        let pin: PinterestPin = run.payload_as()?;
        let made = self.client.create_pin(run.session(), &pin.pin()?).await?;
        Ok(json!({ "pin_id": made.id }))
    }

    async fn reconcile(&self, run: &mut ActionRun<'_>) -> Result<Reconciliation> {
        let wanted: PinterestPin = run.payload_as()?;
        let since = run.made_since();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .board_pins_page(run.session(), &wanted.board_id, PAGE_SIZE, cursor.as_ref())
                .await?;
            if let Some(pin) = page.items.iter().find(|p| wanted.made(p, since)) {
                return Ok(Reconciliation::Happened {
                    result: json!({ "pin_id": pin.id }),
                });
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(Reconciliation::NotHappened),
            }
        }
        Ok(Reconciliation::Unknown {
            reason: format!(
                "more than {} Pins on the board to look through",
                MAX_PAGES * PAGE_SIZE as usize
            ),
        })
    }
}
