//! TikTok's API error envelope and how it maps to SocialConnect's error kinds, as a table on
//! the platform kit's [`ErrorMap`].
//!
//! Every `/v2/*` answer but OAuth's carries `{"data": {...}, "error": {"code", "message",
//! "log_id"}}`, and a success says `"code": "ok"`; errors may arrive inside an HTTP 200, so
//! the code decides, not the status. OAuth errors use the flat `{error, error_description,
//! log_id}` shape, which core's lenient token dialect reads.
//!
//! | code | kind |
//! |---|---|
//! | `access_token_invalid` | `ReconnectRequired` (token rejected) |
//! | `scope_not_authorized`, `scope_permission_missed` | `MissingScopes` |
//! | `rate_limit_exceeded` | `Throttled` |
//! | `spam_risk_*`, `reached_active_user_cap` | `PolicyBlocked`: not retried on a timer |
//! | `unaudited_client_can_only_post_to_private_accounts`, `url_ownership_unverified` | `PolicyBlocked` |
//! | `invalid_params`, `invalid_file_upload`, `privacy_level_option_mismatch` | `InvalidInput` |
//! | `internal_error` | `Transient` |
//! | anything else | by the HTTP status, the code kept as detail |
//!
//! The Content Posting codes beyond the documented table come from integrations, and their
//! HTTP statuses are UNCONFIRMED: the table keys on the code alone for that reason.

use std::sync::LazyLock;

use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
use socialconnect_core::error::ReconnectReason;

/// TikTok's envelope: `{"error": {"code", "message", "log_id"}}`, `"ok"` on success.
pub fn api_envelope() -> EnvelopeFormat {
    EnvelopeFormat::at("/error")
        .code("/code")
        .message("/message")
        .trace_id("/log_id")
        .success_code("ok")
}

/// The TikTok error table (see the module docs).
pub fn api_errors() -> &'static ErrorMap {
    static MAP: LazyLock<ErrorMap> = LazyLock::new(|| {
        use Outcome::*;
        ErrorMap::new(api_envelope())
            .errors_in_success_bodies()
            .rule(Rule::text("access_token_invalid").to(Reconnect(ReconnectReason::TokenRejected)))
            .rule(
                Rule::texts(&["scope_not_authorized", "scope_permission_missed"]).to(MissingScopes),
            )
            .rule(Rule::text("rate_limit_exceeded").to(Throttled))
            .rule(Rule::prefix("spam_risk_").to(PolicyBlocked))
            .rule(
                Rule::texts(&[
                    "reached_active_user_cap",
                    "unaudited_client_can_only_post_to_private_accounts",
                    "url_ownership_unverified",
                ])
                .to(PolicyBlocked),
            )
            .rule(
                Rule::texts(&[
                    "invalid_params",
                    "invalid_file_upload",
                    "privacy_level_option_mismatch",
                ])
                .to(InvalidInput),
            )
            .rule(Rule::text("internal_error").to(Transient))
    });
    &MAP
}

#[cfg(test)]
mod tests {
    use socialconnect_core::ErrorKind;
    use socialconnect_core::http::ApiResponse;
    use socialconnect_core::id::PlatformId;

    use super::*;

    fn kind(status: u16, code: &str) -> Option<ErrorKind> {
        let body =
            format!(r#"{{"data":{{}},"error":{{"code":"{code}","message":"m","log_id":"L"}}}}"#);
        let resp = ApiResponse::new(status, Default::default(), body.into());
        api_errors()
            .error(&PlatformId::TIKTOK, &resp, None)
            .map(|e| e.kind())
    }

    #[test]
    fn every_documented_code_has_its_kind_whatever_the_status() {
        for status in [200, 400, 401, 403, 429, 500] {
            assert_eq!(kind(status, "ok"), None);
            assert_eq!(
                kind(status, "access_token_invalid"),
                Some(ErrorKind::ReconnectRequired)
            );
            assert_eq!(
                kind(status, "scope_not_authorized"),
                Some(ErrorKind::MissingScopes)
            );
            assert_eq!(
                kind(status, "scope_permission_missed"),
                Some(ErrorKind::MissingScopes)
            );
            assert!(matches!(
                kind(status, "rate_limit_exceeded"),
                Some(ErrorKind::Throttled { .. })
            ));
            for blocked in [
                "spam_risk_too_many_posts",
                "spam_risk_too_many_pending_share",
                "spam_risk_user_banned_from_posting",
                "spam_risk_text",
                "reached_active_user_cap",
                "unaudited_client_can_only_post_to_private_accounts",
            ] {
                assert_eq!(
                    kind(status, blocked),
                    Some(ErrorKind::PolicyBlocked),
                    "{blocked}"
                );
            }
            for invalid in [
                "invalid_params",
                "invalid_file_upload",
                "privacy_level_option_mismatch",
            ] {
                assert_eq!(
                    kind(status, invalid),
                    Some(ErrorKind::InvalidInput),
                    "{invalid}"
                );
            }
            assert_eq!(kind(status, "internal_error"), Some(ErrorKind::Transient));
        }
        // An unknown code inside a 200 is still an error; elsewhere the status decides.
        assert_eq!(kind(200, "video_pull_failed"), Some(ErrorKind::Platform));
        assert_eq!(
            kind(400, "video_pull_failed"),
            Some(ErrorKind::InvalidInput)
        );
        assert_eq!(kind(503, "brand_new"), Some(ErrorKind::Transient));
    }
}
