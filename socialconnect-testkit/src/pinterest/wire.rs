//! Pinterest's wire format as the simulator speaks it: the `{code, message}` error body, the
//! request-id header, opaque bookmarks and the S3 error documents of the upload URL.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::sim::Reply;

/// The request-id header on every answer.
pub(crate) const REQUEST_ID_HEADER: &str = "x-pinterest-rid";

/// A board's privacy values.
pub(crate) const PRIVACIES: [&str; 3] = ["PUBLIC", "PROTECTED", "SECRET"];

/// `status` with Pinterest's `{"code", "message"}`.
pub(crate) fn error(status: u16, code: i64, message: &str) -> Reply {
    Reply::json(status, json!({ "code": code, "message": message }))
}

/// `400 {"code": 1}`: invalid parameters.
pub(crate) fn invalid(message: impl AsRef<str>) -> Reply {
    error(400, 1, message.as_ref())
}

/// `401 {"code": 2}`: a missing, unknown, expired or revoked token.
pub(crate) fn auth_failed() -> Reply {
    error(401, 2, "Authentication failed.")
}

/// `401 {"code": 3}`: the token lacks a scope the route needs.
pub(crate) fn insufficient_scopes() -> Reply {
    error(401, 3, "Insufficient scopes")
}

/// `404 {"code": 404, "message": "Board not found."}`: the code mirrors the status, as
/// Pinterest's own examples show.
pub(crate) fn board_not_found() -> Reply {
    error(404, 404, "Board not found.")
}

/// `404 {"code": 404, "message": "Board section not found."}`.
pub(crate) fn section_not_found() -> Reply {
    error(404, 404, "Board section not found.")
}

/// `404 {"code": 50, "message": "Pin not found."}`.
pub(crate) fn pin_not_found() -> Reply {
    error(404, 50, "Pin not found.")
}

/// `404 {"code": 404, "message": "Media not found."}` (UNCONFIRMED body; mirrors the status).
pub(crate) fn media_not_found() -> Reply {
    error(404, 404, "Media not found.")
}

/// `429 {"code": 8, "message": "Rate limit exceeded."}`, with `Retry-After` when given.
pub(crate) fn rate_limited(retry_after: Option<u64>) -> Reply {
    let reply = error(429, 8, "Rate limit exceeded.");
    match retry_after {
        Some(secs) => reply.header("retry-after", secs.to_string()),
        None => reply,
    }
}

/// The anti-spam `429`: the same code 8, with a `message_detail` naming the spam filter (a
/// client must not retry it).
pub(crate) fn spam_blocked() -> Reply {
    Reply::json(
        429,
        json!({
            "code": 8,
            "message": "Request blocked",
            "message_detail": "Your request was blocked by our spam filter",
        }),
    )
}

/// A `502` with an HTML body, as from Pinterest's edge.
pub(crate) fn bad_gateway() -> Reply {
    Reply::text(
        502,
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
    )
}

/// An S3 error document.
pub(crate) fn s3_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::text(
        status,
        "application/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{}</RequestId></Error>",
            &request_id()[..16]
        ),
    )
}

/// A fresh request id, random hex.
pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The opaque bookmark of a list position.
pub(crate) fn bookmark(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim-bookmark:{offset}"))
}

/// The position a bookmark stands for, `None` for one this simulator never gave.
pub(crate) fn bookmark_offset(bookmark: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(bookmark).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("sim-bookmark:")?
        .parse()
        .ok()
}

/// The length of `text` as Pinterest counts it, in UTF-16 code units.
pub(crate) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmarks_round_trip_and_lengths_count_utf16() {
        assert_eq!(bookmark_offset(&bookmark(25)), Some(25));
        assert_eq!(bookmark_offset("nope"), None);
        assert_eq!(utf16_len("a😀"), 3);
    }
}
