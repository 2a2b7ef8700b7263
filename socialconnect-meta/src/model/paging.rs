//! Cursor pagination: `{"data": [...], "paging": {"cursors": {...}, "next": "..."}}`.
//!
//! The end of the data is the absence of `next`; a page may be empty and still have one. The
//! walk is the platform kit's ([`socialconnect_core::connect::paging`]): `next` must stay on
//! the Graph host, a page seen before ends the stream with an error instead of looping, and
//! at most 10 000 pages are read. Meta adds one guard of its own: a `next` that carries an
//! `after` cursor already followed (under another URL) counts as a repeat too.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures_util::Stream;
use serde::Deserialize;
use socialconnect_core::Result;
use socialconnect_core::connect::paging::{self as kit, Cursor, PageBudget, Pages};
use socialconnect_core::id::PlatformId;
use url::Url;

/// The most pages one stream follows.
const MAX_PAGES: u32 = 10_000;

#[derive(Debug, Deserialize)]
pub(crate) struct PageWire<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub paging: Option<PagingWire>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PagingWire {
    #[serde(default)]
    pub cursors: Option<CursorsWire>,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CursorsWire {
    #[serde(default)]
    pub after: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The next page's URL, when there is one.
    pub next: Option<Url>,
    /// The `after` cursor, when Meta sent one.
    pub after: Option<String>,
}

impl<T> PageWire<T> {
    /// Converts, checking that `next` stays on `origin`'s scheme, host and port.
    pub(crate) fn into_page<U>(
        self,
        origin: &Url,
        platform: &PlatformId,
        convert: impl Fn(T) -> Result<U>,
    ) -> Result<Page<U>> {
        let paging = self.paging.unwrap_or_default();
        let next = Cursor::next_url(platform, paging.next.as_deref(), origin)?
            .and_then(|c| c.as_url().cloned());
        Ok(Page {
            items: self.data.into_iter().map(convert).collect::<Result<_>>()?,
            next,
            after: paging.cursors.and_then(|c| c.after),
        })
    }
}

/// Streams items page by page, starting from `first`; `fetch` loads one page.
pub(crate) fn stream_pages<T, F, Fut>(
    first: Url,
    platform: PlatformId,
    fetch: F,
) -> impl Stream<Item = Result<T>>
where
    F: Fn(Url) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let seen_after = Arc::new(Mutex::new(HashSet::new()));
    let load = move |cursor: Option<Cursor>| {
        let url = cursor
            .as_ref()
            .and_then(Cursor::as_url)
            .cloned()
            .unwrap_or_else(|| first.clone());
        let page = fetch(url.clone());
        let seen_after = Arc::clone(&seen_after);
        async move {
            let page = page.await?;
            let repeated = match (&page.after, &page.next) {
                (Some(after), Some(_)) => !seen_after
                    .lock()
                    .map_or(true, |mut seen| seen.insert(after.clone())),
                _ => false,
            };
            // A repeated `after` points the walk back at the page just read, which the kit
            // reports as a repeat once this page's items are delivered.
            let next = if repeated {
                Some(Cursor::Url(url))
            } else {
                page.next.map(Cursor::Url)
            };
            Ok(kit::Page::new(page.items, next))
        }
    };
    Pages::new(platform, load)
        .budget(PageBudget::pages(MAX_PAGES))
        .into_items()
}

/// A `next` URL carries the access token (and our proof) in its query; both are removed so
/// the URL can be shown or logged, and so following it sends the token only as a header.
pub(crate) fn without_credentials(mut url: Url) -> Url {
    let secret = |k: &str| k == "access_token" || k == "appsecret_proof";
    if !url.query_pairs().any(|(k, _)| secret(&k)) {
        return url;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !secret(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url
}

/// `url` with `pairs` appended to its query.
pub(crate) fn with_query(mut url: Url, pairs: &[(&str, &str)]) -> Url {
    url.query_pairs_mut().extend_pairs(pairs);
    url
}
