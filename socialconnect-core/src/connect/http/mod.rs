//! The HTTP layer: one shared client, requests described without I/O, safe retries, rate limits.

mod client;
mod ratelimit;
mod request;
pub(crate) mod retry;
mod url_policy;

pub use client::{DEFAULT_BODY_LIMIT, HttpClient, HttpClientBuilder};
pub use ratelimit::{PlatformLimits, RateLimit};
pub use request::{ApiRequest, ApiResponse, ByteStream, StreamingBody};
pub use retry::{RetryPolicy, retry_after};
pub use url_policy::check_url;
