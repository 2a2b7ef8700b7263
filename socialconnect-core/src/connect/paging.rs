//! Pagination written once: cursor, bookmark, `start`/`count` and next-URL styles behind one
//! [`Pages`] walker, guarded against a repeating cursor and an unbounded number of pages.
//!
//! A platform crate writes one `fetch` function that loads the page a [`Cursor`] points at
//! (`None`: the first page) and returns a [`Page`]: its items and the cursor of the next page,
//! built with the constructor for the platform's style:
//!
//! | style | platform | next cursor |
//! |---|---|---|
//! | opaque cursor + `has_more` | TikTok | [`Cursor::when_more`] |
//! | bookmark, absent or `null` at the end | Pinterest | [`Cursor::token`] |
//! | `start`/`count`, a short page at the end | LinkedIn (classic) | [`Cursor::next_offset`] |
//! | a `next` URL on the API's host | Meta, LinkedIn `links` | [`Cursor::next_url`] |
//!
//! Fewer items than asked for is not the end: TikTok may return fewer than `max_count` while
//! `has_more` is true, and a page may even be empty and still have a next cursor. Only the
//! style's own end marker ends a listing.
//!
//! Guards:
//! - **A repeating cursor is an error** ([`ErrorKind::Platform`](crate::ErrorKind::Platform)),
//!   not a silent stop: a platform that hands back a cursor already followed would otherwise
//!   loop forever, and stopping quietly would look like a complete listing.
//! - **A budget** ([`PageBudget`]) bounds pages and items. Reaching it is not an error for
//!   [`Pages::collect`]: it returns [`End::BudgetReached`] with the cursor to resume from, so a
//!   caller always knows whether it has everything. The item stream
//!   ([`Pages::into_items`]) ends with an error instead, since a stream has no other way to say
//!   "incomplete".
//! - **A next URL must stay on the API's scheme, host and port**: it is requested with the
//!   caller's token, and another host would receive it.
//!
//! Operations that return one page hand the caller the [`Page`] itself, whose `next` cursor
//! the caller passes back to continue ([`Pages::resume`]), so no list operation silently stops
//! after its first page.
//!
//! ```
//! use socialconnect_core::connect::paging::{Cursor, Page, Pages};
//! use socialconnect_core::id::PlatformId;
//!
//! # async fn demo() -> socialconnect_core::Result<()> {
//! // Three pages of a bookmark-style listing.
//! let fetch = |cursor: Option<Cursor>| async move {
//!     let n = match cursor.as_ref().and_then(Cursor::as_token) {
//!         None => 0,
//!         Some(b) => b.parse::<u32>().unwrap(),
//!     };
//!     let next = (n < 2).then(|| (n + 1).to_string());
//!     Ok(Page::new(vec![n * 10, n * 10 + 1], Cursor::token(next)))
//! };
//! let all = Pages::new(PlatformId::PINTEREST, fetch).collect().await?;
//! assert_eq!(all.items, [0, 1, 10, 11, 20, 21]);
//! assert!(all.is_complete());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
//! ```

use std::collections::HashSet;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};

use futures_util::Stream;
use url::Url;

use crate::error::{Error, PlatformError, Result};
use crate::id::PlatformId;

/// Where the next page starts, in the platform's style.
///
/// `Debug` shows a next URL's host and path only: Meta's `paging.next` carries the access
/// token in its query.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cursor {
    /// An opaque token the platform hands back (TikTok `cursor`, Pinterest `bookmark`,
    /// LinkedIn `pageToken`).
    Token(String),
    /// A `start`/`count` window (LinkedIn's classic paging).
    Offset {
        /// Index of the first item of the page.
        start: u64,
        /// Page size asked for.
        count: u32,
    },
    /// A full URL to request, already checked to stay on the API's origin.
    Url(Url),
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Token(t) => f.debug_tuple("Token").field(t).finish(),
            Cursor::Offset { start, count } => f
                .debug_struct("Offset")
                .field("start", start)
                .field("count", count)
                .finish(),
            Cursor::Url(u) => write!(
                f,
                "Url({}://{}{})",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.path()
            ),
        }
    }
}

impl Cursor {
    /// A bookmark-style cursor: `None` when the platform sent none, `null` or an empty string
    /// (Pinterest's end of data).
    pub fn token(token: Option<String>) -> Option<Cursor> {
        token.filter(|t| !t.is_empty()).map(Cursor::Token)
    }

    /// A cursor-plus-flag style cursor (TikTok `has_more` + `cursor`): the cursor while
    /// `has_more` is true, however few items the page held.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Platform`](crate::ErrorKind::Platform) when `has_more` is true but no
    /// cursor came with it: the listing cannot continue, and ending it would hide the rest.
    pub fn when_more(
        platform: &PlatformId,
        has_more: bool,
        cursor: Option<String>,
    ) -> Result<Option<Cursor>> {
        match (has_more, Cursor::token(cursor)) {
            (false, _) => Ok(None),
            (true, Some(c)) => Ok(Some(c)),
            (true, None) => Err(paging_error(
                platform,
                "says there is more but sent no cursor",
            )),
        }
    }

    /// An offset-style next cursor after a page that started at `start`, asked for `count`
    /// items and got `returned`: `None` when the page was short (LinkedIn's end of data), empty,
    /// or reached `total` when the platform sent one.
    pub fn next_offset(
        start: u64,
        count: u32,
        returned: usize,
        total: Option<u64>,
    ) -> Option<Cursor> {
        let returned = u64::try_from(returned).unwrap_or(u64::MAX);
        let next = start.saturating_add(returned);
        let short = returned < u64::from(count) || returned == 0;
        let past_total = total.is_some_and(|t| next >= t);
        (!short && !past_total).then_some(Cursor::Offset { start: next, count })
    }

    /// A next-URL style cursor: `None` when the platform sent none (or an empty one), the URL
    /// when it shares `origin`'s scheme, host and port.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Platform`](crate::ErrorKind::Platform) when the URL does not parse or
    /// points elsewhere: requesting it would hand the token to another host.
    pub fn next_url(
        platform: &PlatformId,
        next: Option<&str>,
        origin: &Url,
    ) -> Result<Option<Cursor>> {
        let Some(next) = next.filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let url = origin
            .join(next)
            .map_err(|_| paging_error(platform, "next URL does not parse"))?;
        let same_origin = url.scheme() == origin.scheme()
            && url.host_str() == origin.host_str()
            && url.port_or_known_default() == origin.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none();
        if !same_origin {
            return Err(paging_error(
                platform,
                "next URL leaves the API host; not followed",
            ));
        }
        Ok(Some(Cursor::Url(url)))
    }

    /// The token, for [`Cursor::Token`].
    pub fn as_token(&self) -> Option<&str> {
        match self {
            Cursor::Token(t) => Some(t),
            _ => None,
        }
    }

    /// The URL, for [`Cursor::Url`].
    pub fn as_url(&self) -> Option<&Url> {
        match self {
            Cursor::Url(u) => Some(u),
            _ => None,
        }
    }
}

/// One page of a listing: its items and where the next page starts (`None`: this was the
/// last).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in the platform's order.
    pub items: Vec<T>,
    /// The next page's cursor; `None` at the end of the data.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page of `items` followed by `next`.
    pub fn new(items: Vec<T>, next: Option<Cursor>) -> Self {
        Self { items, next }
    }

    /// The page with each item converted.
    ///
    /// # Errors
    ///
    /// The first error `convert` returns.
    pub fn try_map<U>(self, convert: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(convert).collect::<Result<_>>()?,
            next: self.next,
        })
    }
}

/// How far one walk goes at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageBudget {
    max_pages: u32,
    max_items: Option<u64>,
}

impl Default for PageBudget {
    /// At most 10 000 pages, any number of items.
    fn default() -> Self {
        Self {
            max_pages: 10_000,
            max_items: None,
        }
    }
}

impl PageBudget {
    /// At most `max_pages` pages (at least one).
    pub fn pages(max_pages: u32) -> Self {
        Self {
            max_pages: max_pages.max(1),
            max_items: None,
        }
    }

    /// Also stops once `max_items` items have been delivered. The check happens before each
    /// fetch and a page is always delivered whole, so the last page may overshoot: cutting it
    /// would make the resume cursor skip the items cut.
    pub fn with_max_items(mut self, max_items: u64) -> Self {
        self.max_items = Some(max_items);
        self
    }
}

/// How a [`Pages`] walk ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum End {
    /// The platform said there is nothing more.
    Complete,
    /// The budget ran out with more to read; pass `resume` to [`Pages::resume`] to go on.
    BudgetReached {
        /// The next page's cursor.
        resume: Cursor,
    },
}

/// What [`Pages::collect`] gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Collected<T> {
    /// Every item of every page read, in order.
    pub items: Vec<T>,
    /// Whether that is everything.
    pub end: End,
}

impl<T> Collected<T> {
    /// Whether the listing was read to its end.
    pub fn is_complete(&self) -> bool {
        self.end == End::Complete
    }
}

enum State {
    /// The next fetch loads this page (`None`: the first).
    Next(Option<Cursor>),
    Ended(End),
    /// The last page's next cursor was one already followed: the next call reports it.
    Repeated,
    /// A guard tripped; nothing more is fetched.
    Failed,
}

/// A walk over a listing's pages. `fetch` loads the page a cursor points at.
///
/// An error from `fetch` leaves the position where it was: calling [`Pages::next_page`]
/// again retries the same page. A guard error (a repeating cursor) ends the walk.
pub struct Pages<T, F> {
    platform: PlatformId,
    fetch: F,
    state: State,
    budget: PageBudget,
    pages: u32,
    items: u64,
    /// Hashes of the cursors already followed (a cursor can be a long URL; 64-bit hashes keep
    /// the guard small, with a collision chance near 10⁻¹¹ at the default budget).
    seen: HashSet<u64>,
    hasher: RandomState,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T, F> std::fmt::Debug for Pages<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("platform", &self.platform)
            .field("pages", &self.pages)
            .field("items", &self.items)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl<T, F, Fut> Pages<T, F>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    /// A walk from the first page with the default budget.
    pub fn new(platform: PlatformId, fetch: F) -> Self {
        Self {
            platform,
            fetch,
            state: State::Next(None),
            budget: PageBudget::default(),
            pages: 0,
            items: 0,
            seen: HashSet::new(),
            hasher: RandomState::new(),
            _items: std::marker::PhantomData,
        }
    }

    /// A walk that starts at `cursor` (one handed back by an earlier page or budget).
    pub fn resume(platform: PlatformId, cursor: Cursor, fetch: F) -> Self {
        let mut pages = Self::new(platform, fetch);
        pages.state = State::Next(Some(cursor));
        pages
    }

    /// Sets the budget.
    pub fn budget(mut self, budget: PageBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Pages read so far.
    pub fn pages_read(&self) -> u32 {
        self.pages
    }

    /// How the walk ended, once it has.
    pub fn end(&self) -> Option<&End> {
        match &self.state {
            State::Ended(end) => Some(end),
            _ => None,
        }
    }

    /// The next page, or `None` once the walk has ended (see [`Pages::end`]).
    ///
    /// # Errors
    ///
    /// What `fetch` returns (the position is kept, so a retry is possible), or
    /// [`ErrorKind::Platform`](crate::ErrorKind::Platform) when the platform repeats a cursor
    /// already followed (the walk then ends).
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>> {
        let cursor = match &self.state {
            State::Next(cursor) => cursor.clone(),
            State::Repeated => {
                self.state = State::Failed;
                return Err(paging_error(
                    &self.platform,
                    "repeated a cursor already followed",
                ));
            }
            State::Ended(_) | State::Failed => return Ok(None),
        };
        if self.pages >= self.budget.max_pages
            || self.budget.max_items.is_some_and(|max| self.items >= max)
        {
            // Only reachable with a cursor: the first page is always allowed.
            if let Some(resume) = cursor {
                self.state = State::Ended(End::BudgetReached { resume });
                return Ok(None);
            }
        }
        let page = (self.fetch)(cursor.clone()).await?;
        self.pages += 1;
        self.items = self
            .items
            .saturating_add(u64::try_from(page.items.len()).unwrap_or(u64::MAX));
        if let Some(current) = &cursor {
            self.seen.insert(self.hasher.hash_one(current));
        }
        self.state = match &page.next {
            None => State::Ended(End::Complete),
            // The page itself is good; the error comes with the next call.
            Some(next) if self.seen.contains(&self.hasher.hash_one(next)) => State::Repeated,
            Some(next) => State::Next(Some(next.clone())),
        };
        Ok(Some(page))
    }

    /// Reads pages until the end or the budget and returns every item with how it ended.
    ///
    /// # Errors
    ///
    /// As [`Pages::next_page`]; the items read before the error are dropped.
    pub async fn collect(mut self) -> Result<Collected<T>> {
        let mut items = Vec::new();
        while let Some(page) = self.next_page().await? {
            items.extend(page.items);
        }
        let end = self.end().cloned().unwrap_or(End::Complete);
        Ok(Collected { items, end })
    }

    /// The items one by one, fetching pages as needed. The stream ends after the first error;
    /// reaching the budget with more to read is such an error
    /// ([`ErrorKind::Platform`](crate::ErrorKind::Platform)), after every item read so far.
    pub fn into_items(self) -> impl Stream<Item = Result<T>> {
        let buffer = std::collections::VecDeque::new();
        futures_util::stream::unfold(
            (self, buffer, false),
            |(mut pages, mut buffer, mut done)| async move {
                loop {
                    if let Some(item) = buffer.pop_front() {
                        return Some((Ok(item), (pages, buffer, done)));
                    }
                    if done {
                        return None;
                    }
                    match pages.next_page().await {
                        Ok(Some(page)) => buffer.extend(page.items),
                        Ok(None) => {
                            done = true;
                            if let Some(End::BudgetReached { .. }) = pages.end() {
                                let err = paging_error(
                                    &pages.platform,
                                    &format!(
                                        "stopped at its budget after {} pages with more to read",
                                        pages.pages
                                    ),
                                );
                                return Some((Err(err), (pages, buffer, done)));
                            }
                        }
                        Err(err) => {
                            done = true;
                            return Some((Err(err), (pages, buffer, done)));
                        }
                    }
                }
            },
        )
    }
}

fn paging_error(platform: &PlatformId, what: &str) -> Error {
    Error::Platform(Box::new(PlatformError::new(
        Some(platform.clone()),
        format!("pagination {what}"),
    )))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures_util::StreamExt;

    use super::*;
    use crate::ErrorKind;

    fn platform() -> PlatformId {
        PlatformId::new("test").unwrap()
    }

    type Reply = (Option<Cursor>, Result<Page<u32>>);
    type Script = Arc<Mutex<Vec<Reply>>>;
    type Fetch = Box<dyn FnMut(Option<Cursor>) -> std::future::Ready<Result<Page<u32>>>>;

    /// A fetch that answers from a script of (expected cursor, reply), recording the calls.
    fn scripted(replies: Vec<Reply>) -> (Script, Fetch) {
        let script: Script = Arc::new(Mutex::new(replies.into_iter().rev().collect()));
        let s = script.clone();
        let fetch = move |cursor: Option<Cursor>| {
            let (want, reply) = s.lock().unwrap().pop().expect("no fetch beyond the script");
            assert_eq!(cursor, want, "fetched the wrong page");
            std::future::ready(reply)
        };
        (script, Box::new(fetch))
    }

    fn tok(t: &str) -> Option<Cursor> {
        Some(Cursor::Token(t.to_owned()))
    }

    #[tokio::test]
    async fn follows_cursors_to_the_end_including_short_and_empty_pages() {
        // TikTok: fewer items than asked, and even an empty page, with has_more still true.
        let p = platform();
        let (script, fetch) = scripted(vec![
            (
                None,
                Ok(Page::new(
                    vec![1, 2, 3],
                    Cursor::when_more(&p, true, Some("c1".into())).unwrap(),
                )),
            ),
            (
                tok("c1"),
                Ok(Page::new(
                    vec![4],
                    Cursor::when_more(&p, true, Some("c2".into())).unwrap(),
                )),
            ),
            (
                tok("c2"),
                Ok(Page::new(
                    vec![],
                    Cursor::when_more(&p, true, Some("c3".into())).unwrap(),
                )),
            ),
            (
                tok("c3"),
                Ok(Page::new(
                    vec![5],
                    Cursor::when_more(&p, false, Some("c4".into())).unwrap(),
                )),
            ),
        ]);
        let all = Pages::new(p, fetch).collect().await.unwrap();
        assert_eq!(all.items, [1, 2, 3, 4, 5]);
        assert_eq!(all.end, End::Complete);
        assert!(script.lock().unwrap().is_empty());
    }

    #[test]
    fn has_more_without_a_cursor_is_an_error() {
        let err = Cursor::when_more(&platform(), true, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Platform);
        assert!(Cursor::when_more(&platform(), true, Some(String::new())).is_err());
        assert_eq!(Cursor::when_more(&platform(), false, None).unwrap(), None);
    }

    #[test]
    fn bookmarks_end_when_absent_null_or_empty() {
        assert_eq!(Cursor::token(None), None);
        assert_eq!(Cursor::token(Some(String::new())), None);
        assert_eq!(Cursor::token(Some("b".into())), tok("b"));
    }

    #[test]
    fn offsets_end_on_a_short_page_or_the_total() {
        assert_eq!(
            Cursor::next_offset(0, 10, 10, None),
            Some(Cursor::Offset {
                start: 10,
                count: 10
            })
        );
        assert_eq!(Cursor::next_offset(10, 10, 9, None), None);
        assert_eq!(Cursor::next_offset(10, 10, 0, None), None);
        assert_eq!(Cursor::next_offset(0, 0, 0, None), None);
        assert_eq!(Cursor::next_offset(10, 10, 10, Some(20)), None);
        assert_eq!(
            Cursor::next_offset(10, 10, 10, Some(21)),
            Some(Cursor::Offset {
                start: 20,
                count: 10
            })
        );
        assert_eq!(
            Cursor::next_offset(u64::MAX - 1, 10, 10, None),
            Some(Cursor::Offset {
                start: u64::MAX,
                count: 10
            })
        );
    }

    #[test]
    fn next_urls_stay_on_the_api_origin() {
        let p = platform();
        let origin = Url::parse("https://graph.example.com/v26.0/me/accounts").unwrap();
        let ok = Cursor::next_url(
            &p,
            Some("https://graph.example.com/v26.0/me/accounts?after=x&access_token=SECRET"),
            &origin,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            ok.as_url().unwrap().query(),
            Some("after=x&access_token=SECRET")
        );
        // Debug never shows the query, which may hold the token.
        let shown = format!("{ok:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("graph.example.com"),
            "{shown}"
        );
        // A relative next resolves against the origin.
        let rel = Cursor::next_url(&p, Some("/v26.0/me/accounts?after=y"), &origin)
            .unwrap()
            .unwrap();
        assert_eq!(rel.as_url().unwrap().host_str(), Some("graph.example.com"));
        assert_eq!(Cursor::next_url(&p, None, &origin).unwrap(), None);
        assert_eq!(Cursor::next_url(&p, Some(""), &origin).unwrap(), None);
        for bad in [
            "https://evil.example.net/v26.0/me/accounts",
            "http://graph.example.com/v26.0/me/accounts",
            "https://graph.example.com:8443/v26.0/me/accounts",
            "https://graph.example.com.evil.net/",
            "https://user:pw@graph.example.com/",
            "//evil.example.net/x",
            "https://[::1",
        ] {
            let err = Cursor::next_url(&p, Some(bad), &origin).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Platform, "{bad}");
            assert!(!err.to_string().contains("evil"), "{err}");
        }
    }

    #[tokio::test]
    async fn a_repeating_cursor_is_an_error_and_ends_the_walk() {
        let (_, fetch) = scripted(vec![
            (None, Ok(Page::new(vec![1], tok("a")))),
            (tok("a"), Ok(Page::new(vec![2], tok("b")))),
            (tok("b"), Ok(Page::new(vec![3], tok("a")))),
        ]);
        let mut pages = Pages::new(platform(), fetch);
        assert_eq!(pages.next_page().await.unwrap().unwrap().items, [1]);
        assert_eq!(pages.next_page().await.unwrap().unwrap().items, [2]);
        assert_eq!(pages.next_page().await.unwrap().unwrap().items, [3]);
        let err = pages.next_page().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Platform);
        assert!(err.to_string().contains("repeated"), "{err}");
        // Nothing more is fetched (the script would panic).
        assert!(pages.next_page().await.unwrap().is_none());
        assert!(pages.end().is_none());
    }

    #[tokio::test]
    async fn a_page_pointing_at_itself_is_caught() {
        let (_, fetch) = scripted(vec![
            (None, Ok(Page::new(vec![1], tok("a")))),
            (tok("a"), Ok(Page::new(vec![2], tok("a")))),
        ]);
        let err = Pages::new(platform(), fetch).collect().await.unwrap_err();
        assert!(err.to_string().contains("repeated"), "{err}");
    }

    #[tokio::test]
    async fn the_page_budget_returns_a_resume_cursor() {
        let (_, fetch) = scripted(vec![
            (None, Ok(Page::new(vec![1], tok("a")))),
            (tok("a"), Ok(Page::new(vec![2], tok("b")))),
        ]);
        let got = Pages::new(platform(), fetch)
            .budget(PageBudget::pages(2))
            .collect()
            .await
            .unwrap();
        assert_eq!(got.items, [1, 2]);
        assert_eq!(
            got.end,
            End::BudgetReached {
                resume: Cursor::Token("b".into())
            }
        );
        assert!(!got.is_complete());

        // Resuming from it reads on.
        let (_, fetch) = scripted(vec![(tok("b"), Ok(Page::new(vec![3], None)))]);
        let rest = Pages::resume(platform(), Cursor::Token("b".into()), fetch)
            .collect()
            .await
            .unwrap();
        assert_eq!((rest.items, rest.end), (vec![3], End::Complete));
    }

    #[tokio::test]
    async fn the_item_budget_delivers_whole_pages() {
        let (_, fetch) = scripted(vec![
            (None, Ok(Page::new(vec![1, 2, 3], tok("a")))),
            (tok("a"), Ok(Page::new(vec![4, 5, 6], tok("b")))),
        ]);
        let got = Pages::new(platform(), fetch)
            .budget(PageBudget::pages(100).with_max_items(4))
            .collect()
            .await
            .unwrap();
        assert_eq!(got.items, [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            got.end,
            End::BudgetReached {
                resume: Cursor::Token("b".into())
            }
        );
        // A budget of zero pages still reads the first.
        let (_, fetch) = scripted(vec![(None, Ok(Page::new(vec![1], tok("a"))))]);
        let got = Pages::new(platform(), fetch)
            .budget(PageBudget::pages(0))
            .collect()
            .await
            .unwrap();
        assert_eq!(got.items, [1]);
    }

    #[tokio::test]
    async fn a_failed_fetch_keeps_the_position_for_a_retry() {
        let (_, fetch) = scripted(vec![
            (None, Ok(Page::new(vec![1], tok("a")))),
            (tok("a"), Err(Error::transient("503"))),
            (tok("a"), Ok(Page::new(vec![2], None))),
        ]);
        let mut pages = Pages::new(platform(), fetch);
        pages.next_page().await.unwrap();
        assert_eq!(
            pages.next_page().await.unwrap_err().kind(),
            ErrorKind::Transient
        );
        assert_eq!(pages.next_page().await.unwrap().unwrap().items, [2]);
        assert_eq!(pages.end(), Some(&End::Complete));
        assert_eq!(pages.pages_read(), 2);
    }

    #[tokio::test]
    async fn an_html_page_is_a_decode_error_after_the_items_before_it() {
        let html = b"<!DOCTYPE html><html><body>Service Unavailable</body></html>";
        let decoded = Error::decode_json::<Vec<u32>>(html).map(|items| Page::new(items, None));
        let (_, fetch) = scripted(vec![
            (None, Ok(Page::new(vec![1, 2], tok("a")))),
            (tok("a"), decoded),
        ]);
        let got: Vec<Result<u32>> = Pages::new(platform(), fetch).into_items().collect().await;
        assert_eq!(got.len(), 3);
        assert_eq!(*got[0].as_ref().unwrap(), 1);
        assert_eq!(*got[1].as_ref().unwrap(), 2);
        let err = got[2].as_ref().unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err}");
    }

    #[tokio::test]
    async fn the_item_stream_reports_a_reached_budget() {
        let (_, fetch) = scripted(vec![(None, Ok(Page::new(vec![7], tok("a"))))]);
        let got: Vec<Result<u32>> = Pages::new(platform(), fetch)
            .budget(PageBudget::pages(1))
            .into_items()
            .collect()
            .await;
        assert_eq!(got.len(), 2);
        assert_eq!(*got[0].as_ref().unwrap(), 7);
        let err = got[1].as_ref().unwrap_err();
        assert!(err.to_string().contains("budget after 1 pages"), "{err}");

        let (_, fetch) = scripted(vec![(None, Ok(Page::new(vec![7, 8], None)))]);
        let got: Vec<u32> = Pages::new(platform(), fetch)
            .into_items()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(got, [7, 8]);
    }

    #[tokio::test]
    async fn offsets_walk_a_classic_listing() {
        // 25 items, count 10: 10 + 10 + 5, the short page ends it.
        let fetch = |cursor: Option<Cursor>| async move {
            let (start, count) = match cursor {
                None => (0, 10),
                Some(Cursor::Offset { start, count }) => (start, count),
                Some(other) => panic!("unexpected {other:?}"),
            };
            let items: Vec<u64> = (start..(start + u64::from(count)).min(25)).collect();
            let next = Cursor::next_offset(start, count, items.len(), None);
            Ok(Page::new(items, next))
        };
        let got = Pages::new(platform(), fetch).collect().await.unwrap();
        assert_eq!(got.items, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn try_map_converts_or_fails() {
        let page = Page::new(vec!["1", "2"], tok("n"));
        let mapped = page
            .clone()
            .try_map(|s| s.parse::<u8>().map_err(|_| Error::invalid_input("nan")))
            .unwrap();
        assert_eq!(mapped, Page::new(vec![1, 2], tok("n")));
        let bad = Page::new(vec!["x"], None)
            .try_map(|s| s.parse::<u8>().map_err(|_| Error::invalid_input("nan")));
        assert!(bad.is_err());
    }
}
