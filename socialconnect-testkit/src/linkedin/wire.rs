//! LinkedIn's error bodies, `{"status", "serviceErrorCode"?, "code"?, "message"}`, as the fact
//! sheet records them, and the path-segment URNs the routes take.

use serde_json::{Map, Value, json};

use super::restli::percent_decode;
use crate::sim::Reply;

/// An error body with the fields LinkedIn sends for it.
pub(crate) fn error(
    status: u16,
    service_code: Option<u32>,
    code: Option<&str>,
    message: &str,
) -> Reply {
    let mut body = Map::new();
    body.insert("status".into(), json!(status));
    if let Some(s) = service_code {
        body.insert("serviceErrorCode".into(), json!(s));
    }
    if let Some(c) = code {
        body.insert("code".into(), json!(c));
    }
    body.insert("message".into(), json!(message));
    Reply::json(status, Value::Object(body))
}

/// `400` with `message`. UNCONFIRMED: the fact sheet has no 400 body; this one has LinkedIn's
/// usual fields and no `code`.
pub(crate) fn bad_request(message: impl AsRef<str>) -> Reply {
    error(400, None, None, message.as_ref())
}

/// `401` for a bearer token that is missing, unknown, expired or revoked.
pub(crate) fn token_error(code: &str, message: &str) -> Reply {
    error(401, Some(65_600), Some(code), message)
}

/// `403 ACCESS_DENIED` naming `resource.METHOD.version`, as LinkedIn words it.
pub(crate) fn denied(resource: &str, method: &str, version: &str) -> Reply {
    error(
        403,
        Some(100),
        Some("ACCESS_DENIED"),
        &format!("Not enough permissions to access: {resource}.{method}.{version}01"),
    )
}

/// `403 ACCESS_DENIED` with a message of its own (a missing organization role).
pub(crate) fn forbidden(message: &str) -> Reply {
    error(403, Some(100), Some("ACCESS_DENIED"), message)
}

/// `404 RESOURCE_NOT_FOUND`.
pub(crate) fn not_found() -> Reply {
    error(
        404,
        None,
        Some("RESOURCE_NOT_FOUND"),
        "No virtual resource found",
    )
}

/// `422` with LinkedIn's validation line, `ERROR :: {path} :: {problem}\n`, and no `code`.
pub(crate) fn invalid(path: &str, problem: &str) -> Reply {
    Reply::json(
        422,
        json!({ "message": format!("ERROR :: {path} :: {problem}\n"), "status": 422 }),
    )
}

/// `429` for the application's daily limit (no `Retry-After`: LinkedIn sends none).
pub(crate) fn day_limit() -> Reply {
    error(
        429,
        Some(101),
        None,
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    )
}

/// A URN sent as one path segment: decoded, and refused (`Err` with the 400) when it was not
/// percent-encoded (a bare `:` in the path) or is not a URN at all.
pub(crate) fn path_urn(segment: &str) -> Result<String, Reply> {
    if segment.contains([':', '(', ')', ',']) {
        return Err(bad_request(format!(
            "the URN in the path must be percent-encoded, got `{segment}`"
        )));
    }
    match percent_decode(segment) {
        Some(urn) if urn.starts_with("urn:li:") => Ok(urn),
        _ => Err(bad_request(format!("`{segment}` is not an encoded URN"))),
    }
}

/// The entity of a URN (`person` in `urn:li:person:x`).
pub(crate) fn urn_entity(urn: &str) -> Option<&str> {
    let rest = urn.strip_prefix("urn:li:")?;
    let (entity, id) = rest.split_once(':')?;
    (!entity.is_empty() && !id.is_empty() && entity.bytes().all(|b| b.is_ascii_alphabetic()))
        .then_some(entity)
}

/// Whether `value` is a well-formed version header, `YYYYMM`.
pub(crate) fn is_version(value: &str) -> bool {
    value.len() == 6
        && value.bytes().all(|b| b.is_ascii_digit())
        && matches!(value[4..].parse::<u32>(), Ok(1..=12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_urns_must_be_encoded() {
        assert_eq!(path_urn("urn%3Ali%3Ashare%3A1").unwrap(), "urn:li:share:1");
        assert!(path_urn("urn:li:share:1").is_err());
        assert!(path_urn("share1").is_err());
        assert_eq!(urn_entity("urn:li:organization:5"), Some("organization"));
        assert_eq!(urn_entity("urn:li:organization:"), None);
        assert!(is_version("202611") && !is_version("202613") && !is_version("2026-1"));
    }
}
