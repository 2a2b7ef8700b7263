//! A stand-in for a host application that already uses `reqwest` and links the SDK.
//!
//! Its test (`tests/host.rs`) builds the host's own `reqwest::Client` with a plain
//! `Client::builder().build()`, uses it beside the SDK's [`HttpClient`], and hands it to the SDK
//! as its transport. It proves that linking the SDK changes nothing about the host's client:
//! the SDK enables no TLS feature on `reqwest` and installs no process-global crypto provider.

use socialconnect_core::http::HttpClient;

/// The host's HTTP client, built the way a host builds it.
pub fn host_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().build()
}

/// The SDK's client sending through the host's `client` (which must follow no redirects).
pub fn sdk_over(client: reqwest::Client) -> socialconnect_core::Result<HttpClient> {
    HttpClient::builder().reqwest_client(client).build()
}
