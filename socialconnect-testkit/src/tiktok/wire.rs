//! TikTok's `/v2/*` envelope: `{data, error: {code, message, log_id}}`, where success also says
//! `code: "ok"`, and the HTTP status each documented error code comes with.

use serde_json::{Value, json};

use crate::oauth::new_log_id;
use crate::sim::Reply;

/// `200 {data, error: {code: "ok"}}`.
pub(crate) fn ok(data: Value) -> Reply {
    Reply::ok(json!({
        "data": data,
        "error": { "code": "ok", "message": "", "log_id": new_log_id() },
    }))
}

/// The error `code` with `message`, at the status TikTok documents for it.
pub(crate) fn error(code: &str, message: impl Into<String>) -> Reply {
    error_with_status(code, default_status(code), message)
}

/// The error `code` with `message` at `status`.
pub(crate) fn error_with_status(code: &str, status: u16, message: impl Into<String>) -> Reply {
    Reply::json(
        status,
        json!({
            "data": {},
            "error": { "code": code, "message": message.into(), "log_id": new_log_id() },
        }),
    )
}

/// `invalid_params` (400) with `message`.
pub(crate) fn invalid_params(message: impl Into<String>) -> Reply {
    error("invalid_params", message)
}

/// The HTTP status of an error code: TikTok's error-handling table where it documents one.
/// The Content Posting codes outside that table are UNCONFIRMED: `spam_risk_*`,
/// `reached_active_user_cap`, `unaudited_client_*` and `url_ownership_unverified` are sent as
/// 403 (the request was understood and refused), the other codes as 400.
pub(crate) fn default_status(code: &str) -> u16 {
    match code {
        "ok" => 200,
        "access_token_invalid" | "scope_not_authorized" | "scope_permission_missed" => 401,
        "rate_limit_exceeded" => 429,
        "internal_error" => 500,
        "reached_active_user_cap" | "url_ownership_unverified" => 403,
        c if c.starts_with("spam_risk_") || c.starts_with("unaudited_client_") => 403,
        _ => 400,
    }
}

/// The comma-separated `fields` query parameter, checked against `known`: the names, or the
/// `invalid_params` answer for a missing, empty or unknown one.
pub(crate) fn fields(query: &[(String, String)], known: &[&str]) -> Result<Vec<String>, Reply> {
    let Some((_, raw)) = query.iter().find(|(k, _)| k == "fields") else {
        return Err(invalid_params("the fields parameter is required"));
    };
    let names: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(invalid_params("the fields parameter names no field"));
    }
    // Whether TikTok refuses an unknown field or ignores it is UNCONFIRMED; refusing catches a
    // misspelt field in the code under test.
    if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(invalid_params(format!("unknown field `{unknown}`")));
    }
    Ok(names)
}

/// Keeps only `fields` of `object`.
pub(crate) fn select(object: &Value, fields: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    for f in fields {
        if let Some(v) = object.get(f) {
            out.insert(f.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// The length of `s` in UTF-16 code units, TikTok's measure for titles and descriptions.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_documented_table() {
        assert_eq!(default_status("access_token_invalid"), 401);
        assert_eq!(default_status("scope_not_authorized"), 401);
        assert_eq!(default_status("rate_limit_exceeded"), 429);
        assert_eq!(default_status("internal_error"), 500);
        assert_eq!(default_status("spam_risk_too_many_posts"), 403);
        assert_eq!(default_status("invalid_params"), 400);
        assert_eq!(default_status("privacy_level_option_mismatch"), 400);
    }

    #[test]
    fn fields_are_required_and_known() {
        let q = |v: &str| vec![("fields".to_owned(), v.to_owned())];
        assert_eq!(fields(&q("a, b"), &["a", "b"]).unwrap(), ["a", "b"]);
        assert!(fields(&q(""), &["a"]).is_err());
        assert!(fields(&q("a,c"), &["a"]).is_err());
        assert!(fields(&[], &["a"]).is_err());
    }

    #[test]
    fn titles_count_utf16_units() {
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("😀"), 2);
    }
}
