//! Cursor pagination: `{"data": [...], "paging": {"cursors": {...}, "next": "..."}}`.
//!
//! The end of the data is the absence of `next`; a page may be empty and still have one.
//! Following `next` is guarded: it must stay on the Graph host, and a URL or cursor seen before
//! ends the stream with an error instead of looping.

use std::collections::{HashSet, VecDeque};
use std::future::Future;

use futures_util::Stream;
use serde::Deserialize;
use socialconnect_core::error::PlatformError;
use socialconnect_core::id::PlatformId;
use socialconnect_core::{Error, Result};
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
        let next = match paging.next {
            None => None,
            Some(n) => {
                let url = Url::parse(&n).map_err(|_| bad_next(platform))?;
                if url.scheme() != origin.scheme()
                    || url.host_str() != origin.host_str()
                    || url.port_or_known_default() != origin.port_or_known_default()
                {
                    return Err(bad_next(platform));
                }
                Some(url)
            }
        };
        Ok(Page {
            items: self.data.into_iter().map(convert).collect::<Result<_>>()?,
            next,
            after: paging.cursors.and_then(|c| c.after),
        })
    }
}

fn bad_next(platform: &PlatformId) -> Error {
    Error::Platform(Box::new(PlatformError::new(
        Some(platform.clone()),
        "pagination `next` is not a Graph API URL",
    )))
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
    struct State<T> {
        next: Option<Url>,
        buffer: VecDeque<T>,
        seen_urls: HashSet<String>,
        seen_cursors: HashSet<String>,
        pages: u32,
        /// An error to report once the buffered items are delivered; the stream ends after it.
        pending: Option<Error>,
        done: bool,
    }
    let state = State {
        next: Some(first),
        buffer: VecDeque::new(),
        seen_urls: HashSet::new(),
        seen_cursors: HashSet::new(),
        pages: 0,
        pending: None,
        done: false,
    };
    let stop = |platform: &PlatformId, why: &str| {
        Error::Platform(Box::new(PlatformError::new(
            Some(platform.clone()),
            format!("pagination {why}; stopped"),
        )))
    };
    futures_util::stream::unfold((state, fetch), move |(mut s, fetch)| {
        let platform = platform.clone();
        async move {
            loop {
                if let Some(item) = s.buffer.pop_front() {
                    return Some((Ok(item), (s, fetch)));
                }
                if let Some(err) = s.pending.take() {
                    s.done = true;
                    return Some((Err(err), (s, fetch)));
                }
                if s.done {
                    return None;
                }
                let url = s.next.take()?;
                if !s.seen_urls.insert(url.to_string()) {
                    s.pending = Some(stop(&platform, "repeated a page"));
                    continue;
                }
                if s.pages >= MAX_PAGES {
                    s.pending = Some(stop(&platform, "exceeded the page limit"));
                    continue;
                }
                s.pages += 1;
                match fetch(url).await {
                    Ok(page) => {
                        s.buffer.extend(page.items);
                        let repeated_cursor = match (&page.after, &page.next) {
                            (Some(after), Some(_)) => !s.seen_cursors.insert(after.clone()),
                            _ => false,
                        };
                        if repeated_cursor {
                            s.pending = Some(stop(&platform, "cursor repeated"));
                        } else {
                            s.next = page.next;
                        }
                    }
                    Err(e) => s.pending = Some(e),
                }
            }
        }
    })
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
