//! Bookmark paging on the kit's cursors: `{items, bookmark}`, continued while `bookmark` is a
//! non-empty string. A `null`, missing or empty bookmark ends the listing; an empty page that
//! still carries a bookmark is followed (the kit's page budget bounds such a walk); a bookmark
//! already followed ends it with an error (the kit's `Pages` guard).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Cursor, Page};
use socialconnect_core::{Error, Result, Session};

use crate::client::PinterestClient;

/// The longest bookmark accepted; a longer one is a decode error, never cut.
const MAX_BOOKMARK: usize = 2048;

/// The page size asked for when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// The largest page size Pinterest serves.
pub const MAX_PAGE_SIZE: u32 = 250;

/// A listing's answer.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Paginated<T> {
    #[serde(default = "Vec::new", deserialize_with = "decode::null_as_default")]
    items: Vec<T>,
    #[serde(
        default,
        deserialize_with = "decode::opt_exact_string::<_, MAX_BOOKMARK>"
    )]
    bookmark: Option<String>,
}

/// Refuses a page size outside 1..=250 before anything is sent.
pub(crate) fn check_page_size(size: u32) -> Result<u32> {
    if (1..=MAX_PAGE_SIZE).contains(&size) {
        Ok(size)
    } else {
        Err(Error::invalid_input(format!(
            "a Pinterest page size is 1 to {MAX_PAGE_SIZE}"
        )))
    }
}

/// One listing: where, with which filters, how many a page.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) page_size: u32,
    pub(crate) operation: &'static str,
}

impl Listing {
    pub(crate) fn new(path: String, page_size: u32, operation: &'static str) -> Self {
        Self {
            path,
            query: Vec::new(),
            page_size,
            operation,
        }
    }
}

impl PinterestClient {
    /// `GET /v5/{path}?{query}&page_size=…[&bookmark=…]`: one page, converted.
    pub(crate) async fn list_page<W: DeserializeOwned, T>(
        &self,
        session: &Session,
        listing: &Listing,
        cursor: Option<&Cursor>,
        convert: impl FnMut(W) -> T,
    ) -> Result<Page<T>> {
        let size = check_page_size(listing.page_size)?;
        let mut url = self.url(&listing.path)?;
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &listing.query {
                pairs.append_pair(name, value);
            }
            pairs.append_pair("page_size", &size.to_string());
            match cursor {
                None => {}
                Some(Cursor::Token(bookmark)) => {
                    pairs.append_pair("bookmark", bookmark);
                }
                Some(_) => return Err(Error::invalid_input("not a Pinterest bookmark cursor")),
            }
        }
        let req = socialconnect_core::http::ApiRequest::get(url)
            .operation(listing.operation)
            .not_retried_when(crate::error::is_anti_spam);
        let page: Paginated<W> = self.caller().send_json(session, req).await?;
        Ok(Page::new(
            page.items.into_iter().map(convert).collect(),
            Cursor::token(page.bookmark),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Option<Cursor>, serde_json::Error> {
        serde_json::from_str::<Paginated<serde_json::Value>>(body)
            .map(|p| Cursor::token(p.bookmark))
    }

    #[test]
    fn null_missing_and_empty_bookmarks_end_a_listing() {
        assert_eq!(read(r#"{"items":[],"bookmark":null}"#).unwrap(), None);
        assert_eq!(read(r#"{"items":[]}"#).unwrap(), None);
        assert_eq!(read(r#"{"items":[],"bookmark":""}"#).unwrap(), None);
        assert_eq!(
            read(r#"{"items":null,"bookmark":"b2"}"#).unwrap(),
            Some(Cursor::Token("b2".into()))
        );
    }

    #[test]
    fn an_oversized_bookmark_is_an_error_not_a_cut() {
        let body = format!(
            r#"{{"items":[],"bookmark":"{}"}}"#,
            "b".repeat(MAX_BOOKMARK + 1)
        );
        assert!(read(&body).is_err());
    }

    #[test]
    fn page_sizes_outside_the_documented_range_are_refused() {
        assert!(check_page_size(0).is_err());
        assert!(check_page_size(251).is_err());
        assert_eq!(check_page_size(250).unwrap(), 250);
    }
}
