//! HTTPS only; plain `http://` for loopback addresses alone (tests, the offline sandbox).

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, Result};

/// Accepts `https://` URLs, and `http://` URLs whose host is a loopback address or `localhost`.
pub fn check_url(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(Error::config(format!(
            "refusing plain http:// to {}: tokens and personal data travel only over https; \
             http is allowed for loopback addresses (127.0.0.0/8, ::1, localhost) alone",
            url.host_str().unwrap_or("<no host>")
        ))),
        other => Err(Error::config(format!(
            "unsupported URL scheme `{other}`: only https is allowed"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<()> {
        check_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn policy() {
        assert!(check("https://graph.facebook.com/v26.0/me").is_ok());
        assert!(check("http://127.0.0.1:8080/x").is_ok());
        assert!(check("http://127.8.9.10/x").is_ok());
        assert!(check("http://[::1]:9/x").is_ok());
        assert!(check("http://localhost:9/x").is_ok());
        let err = check("http://graph.facebook.com/me").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(err.to_string().contains("graph.facebook.com"));
        assert!(err.to_string().contains("loopback"));
        assert!(check("http://10.0.0.1/x").is_err());
        assert!(check("http://localhost.evil.com/x").is_err());
        assert!(check("ftp://example.com/x").is_err());
    }
}
