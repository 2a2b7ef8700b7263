//! The HTTP layer: one shared client, requests described without I/O, safe retries, rate limits,
//! and the [`Transport`] seam underneath.

mod budgets;
mod client;
mod daily;
mod hyper_transport;
mod operation;
mod ratelimit;
mod request;
#[cfg(feature = "reqwest")]
mod reqwest_transport;
pub(crate) mod retry;
mod transport;
mod url_policy;
mod usage;

pub use budgets::{
    Admission, BudgetHolder, BudgetKey, RateBudgets, SlotTicket, from_unix_micros, unix_micros,
};
pub use client::{DEFAULT_BODY_LIMIT, HttpClient, HttpClientBuilder};
pub use daily::{DailyBudget, DailyUsage, until_next_midnight};
pub use hyper_transport::HyperTransport;
pub use ratelimit::{PlatformLimits, RateLimit, Window};
pub use request::{ApiRequest, ApiResponse, ByteStream, StreamingBody};
pub use retry::{RetryPolicy, retry_after};
pub use transport::{
    FailureStage, RequestBody, ResponseBody, Transport, TransportError, TransportFuture,
    TransportRequest, TransportResponse,
};
pub use url_policy::check_url;
pub use usage::{Usage, UsageHeaders, UsagePolicy};
