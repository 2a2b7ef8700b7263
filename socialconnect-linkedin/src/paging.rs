//! LinkedIn's two paging styles on the kit's cursors: classic `start`/`count` with `paging`
//! (the end is a short page, or `total` reached) and `pageSize`/`pageToken` with
//! `metadata.nextPageToken` (the end is no token). A listing asks for its first page the
//! classic way; the answer's shape decides the next cursor, so a finder that moves to tokens
//! under a newer `LinkedIn-Version` keeps paging.

use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::paging::{Cursor, Page};
use socialconnect_core::{Error, Result};

use crate::urn::restli_value;

/// The longest page token accepted.
const MAX_TOKEN: usize = 2048;

/// A collection response: `elements` and either paging shape.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct Collection<T> {
    #[serde(default = "Vec::new", deserialize_with = "decode::null_as_default")]
    pub(crate) elements: Vec<T>,
    #[serde(default)]
    paging: Option<PagingWire>,
    #[serde(default)]
    metadata: Option<MetadataWire>,
}

#[derive(Deserialize)]
struct PagingWire {
    #[serde(default, deserialize_with = "decode::loose_u64")]
    start: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    total: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataWire {
    #[serde(default, deserialize_with = "decode::opt_exact_string::<_, MAX_TOKEN>")]
    next_page_token: Option<String>,
}

/// The paging part of a query for the page `cursor` points at, `size` items a page:
/// `start=0&count=…` for the first (every listing here documents the classic style),
/// `start=…&count=…` after an offset page, `pageSize=…&pageToken=…` after a token page.
pub(crate) fn query(cursor: Option<&Cursor>, size: u32) -> Result<String> {
    Ok(match cursor {
        None => format!("start=0&count={size}"),
        Some(Cursor::Offset { start, count }) => format!("start={start}&count={count}"),
        Some(Cursor::Token(token)) => {
            format!("pageSize={size}&pageToken={}", restli_value(token))
        }
        Some(_) => return Err(Error::invalid_input("not a LinkedIn paging cursor")),
    })
}

impl<T> Collection<T> {
    /// The page, converted, with the next cursor: the token style when the answer carries
    /// `metadata` (the end is no `nextPageToken`), the offset style otherwise (the end is a
    /// short page or `paging.total` reached).
    pub(crate) fn into_page<U>(
        self,
        cursor: Option<&Cursor>,
        size: u32,
        convert: impl FnMut(T) -> U,
    ) -> Page<U> {
        let returned = self.elements.len();
        let next = match self.metadata {
            Some(meta) => Cursor::token(meta.next_page_token),
            None => {
                let asked = match cursor {
                    Some(Cursor::Offset { start, .. }) => *start,
                    _ => 0,
                };
                let paging = self.paging.as_ref();
                let at = paging.and_then(|p| p.start).unwrap_or(asked);
                let total = paging.and_then(|p| p.total);
                Cursor::next_offset(at, size, returned, total)
            }
        };
        Page::new(self.elements.into_iter().map(convert).collect(), next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str, cursor: Option<&Cursor>) -> Page<u32> {
        let c: Collection<u32> = serde_json::from_str(json).unwrap();
        c.into_page(cursor, 2, |x| x)
    }

    #[test]
    fn offset_style_ends_on_a_short_page_or_the_total() {
        let full = page(r#"{"elements":[1,2],"paging":{"start":0,"count":2}}"#, None);
        assert_eq!(full.next, Some(Cursor::Offset { start: 2, count: 2 }));
        let short = page(
            r#"{"elements":[3],"paging":{"start":2,"count":2}}"#,
            full.next.as_ref(),
        );
        assert_eq!(short.next, None);
        let at_total = page(
            r#"{"elements":[1,2],"paging":{"start":0,"count":2,"total":2}}"#,
            None,
        );
        assert_eq!(at_total.next, None);
        let empty = page(r#"{"elements":null}"#, None);
        assert!(empty.items.is_empty() && empty.next.is_none());
    }

    #[test]
    fn token_style_follows_next_page_token_until_there_is_none() {
        let first = page(
            r#"{"elements":[1],"metadata":{"nextPageToken":"dG9rZW4="}}"#,
            None,
        );
        assert_eq!(first.next, Some(Cursor::Token("dG9rZW4=".into())));
        assert_eq!(
            query(first.next.as_ref(), 2).unwrap(),
            "pageSize=2&pageToken=dG9rZW4%3D"
        );
        // A short page with a token is not the end; no token is, however full the page.
        let last = page(
            r#"{"elements":[1,2],"metadata":{"nextPageToken":null}}"#,
            None,
        );
        assert_eq!(last.next, None);
        let blank = page(
            r#"{"elements":[1,2],"metadata":{"nextPageToken":""}}"#,
            None,
        );
        assert_eq!(blank.next, None);
    }

    #[test]
    fn first_pages_ask_the_classic_way_and_a_foreign_cursor_is_refused() {
        assert_eq!(query(None, 50).unwrap(), "start=0&count=50");
        let url = Cursor::next_url(
            &socialconnect_core::id::PlatformId::LINKEDIN,
            Some("https://api.linkedin.com/rest/x"),
            &url::Url::parse("https://api.linkedin.com/").unwrap(),
        )
        .unwrap()
        .unwrap();
        assert!(query(Some(&url), 2).is_err());
    }

    #[test]
    fn an_oversized_token_is_a_decode_error() {
        let json = format!(
            r#"{{"elements":[],"metadata":{{"nextPageToken":"{}"}}}}"#,
            "a".repeat(MAX_TOKEN + 1)
        );
        assert!(serde_json::from_str::<Collection<u32>>(&json).is_err());
    }
}
