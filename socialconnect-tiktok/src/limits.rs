//! TikTok's documented rate limits, as the kit's operation windows. TikTok sends no
//! rate-limit headers, so the client spaces calls itself rather than be refused:
//!
//! | operations | window |
//! |---|---|
//! | `user.info`, `video.list`, `video.query` | 600 per minute per app |
//! | `post.creator_info` | 20 per minute per user |
//! | `post.init` (video, inbox and photo init) | 6 per minute per user |
//! | `post.status` | 30 per minute per user |

use socialconnect_core::http::{PlatformLimits, Window};

/// The limits to hand the HTTP client:
/// `HttpClient::builder().rate_limits(PlatformId::TIKTOK, socialconnect_tiktok::rate_limits())`.
pub fn rate_limits() -> PlatformLimits {
    PlatformLimits::default()
        .with_app_operation("user.info", Window::per_minute(600))
        .with_app_operation("video.list", Window::per_minute(600))
        .with_app_operation("video.query", Window::per_minute(600))
        .with_operation("post.creator_info", Window::per_minute(20))
        .with_operation("post.init", Window::per_minute(6))
        .with_operation("post.status", Window::per_minute(30))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_documented_windows_are_declared_with_their_holders() {
        let limits = rate_limits();
        let find = |list: &[(std::borrow::Cow<'static, str>, Window)], op: &str| {
            list.iter()
                .find(|(name, _)| name == op)
                .map(|(_, w)| (w.calls.get(), w.per))
        };
        let minute = Duration::from_secs(60);
        for op in ["user.info", "video.list", "video.query"] {
            assert_eq!(
                find(&limits.per_app_operation, op),
                Some((600, minute)),
                "{op}"
            );
            assert_eq!(find(&limits.per_operation, op), None, "{op}");
        }
        assert_eq!(
            find(&limits.per_operation, "post.creator_info"),
            Some((20, minute))
        );
        assert_eq!(find(&limits.per_operation, "post.init"), Some((6, minute)));
        assert_eq!(
            find(&limits.per_operation, "post.status"),
            Some((30, minute))
        );
    }
}
