//! LinkedIn's day limits as the kit's daily budgets. LinkedIn counts calls per 24 h, reset at
//! midnight UTC, two ways — per application and per member — with numbers that vary by
//! endpoint, are unpublished and show only in the developer portal's Analytics tab; it sends no
//! rate-limit headers. So the host copies the numbers it sees there into [`DailyBudget`]s and
//! the client counts its own calls against them, refusing one over budget before LinkedIn sees
//! it (`Throttled` until midnight UTC). `per_connection` is LinkedIn's member count.
//!
//! Budgets name this crate's operations, or a prefix ending in `.`:
//!
//! | operation | call |
//! |---|---|
//! | `posts.create`, `posts.delete` | `/rest/posts` |
//! | `images.initialize`, `images.upload`, `images.status` | `/rest/images`, the upload `PUT` |
//! | `videos.initialize`, `videos.upload`, `videos.finalize`, `videos.status` | `/rest/videos`, the part `PUT`s |
//! | `organization.acls` | `/rest/organizationAcls` |
//! | `statistics.shares`, `statistics.followers`, `statistics.network_size` | the statistics finders, `/rest/networkSizes` |
//! | `comments.list`, `comments.create` | `/rest/socialActions/{urn}/comments` |
//!
//! ```
//! use socialconnect_core::http::{DailyBudget, HttpClient};
//! use socialconnect_core::id::PlatformId;
//!
//! let limits = socialconnect_linkedin::rate_limits([
//!     DailyBudget::new("posts.create").per_app(100_000).per_connection(150),
//!     DailyBudget::new("statistics.").per_app(10_000),
//! ]);
//! let http = HttpClient::builder()
//!     .rate_limits(PlatformId::LINKEDIN, limits)
//!     .build()?;
//! # let _ = http;
//! # Ok::<(), socialconnect_core::Error>(())
//! ```

use socialconnect_core::http::{DailyBudget, PlatformLimits};

/// The limits to hand the HTTP client
/// (`HttpClient::builder().rate_limits(PlatformId::LINKEDIN, rate_limits(budgets))`): the
/// host's daily budgets, nothing else (LinkedIn documents no shorter windows).
pub fn rate_limits(budgets: impl IntoIterator<Item = DailyBudget>) -> PlatformLimits {
    budgets
        .into_iter()
        .fold(PlatformLimits::default(), PlatformLimits::with_daily)
}
