//! Graph wire conventions shared by every endpoint: the reply, the error envelope, Graph times,
//! request parameters, field selection and cursor paging.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use url::Url;

/// The default and the largest page size of a list endpoint.
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

pub(crate) use crate::sim::Reply;

/// Graph's error envelope on a [`Reply`].
pub(crate) trait ErrorField {
    /// Sets `error.{name}` on an error reply (a no-op on other replies).
    fn error_field(self, name: &str, value: Value) -> Self;
}

impl ErrorField for Reply {
    fn error_field(mut self, name: &str, value: Value) -> Self {
        if let Some(Value::Object(error)) = self.json_mut().and_then(|b| b.get_mut("error")) {
            error.insert(name.to_owned(), value);
        }
        self
    }
}

/// The Graph error envelope, HTTP 400, type `OAuthException`:
/// `{"error":{"message","type","code","error_subcode"?,"fbtrace_id"}}`.
pub(crate) fn graph_error(code: i64, subcode: Option<i64>, message: impl Into<String>) -> Reply {
    let mut error = Map::new();
    error.insert("message".into(), json!(message.into()));
    error.insert("type".into(), json!("OAuthException"));
    error.insert("code".into(), json!(code));
    if let Some(subcode) = subcode {
        error.insert("error_subcode".into(), json!(subcode));
    }
    error.insert("fbtrace_id".into(), json!(trace_id()));
    Reply::json(400, json!({ "error": error }))
}

/// A `GraphMethodException`: a bad parameter, an unknown object, a bad `appsecret_proof`.
pub(crate) fn method_error(code: i64, subcode: Option<i64>, message: impl Into<String>) -> Reply {
    graph_error(code, subcode, message).error_field("type", json!("GraphMethodException"))
}

/// `(#100) {message}`: a missing or malformed parameter.
pub(crate) fn invalid_param(message: impl AsRef<str>) -> Reply {
    method_error(100, None, format!("(#100) {}", message.as_ref()))
}

/// An error 190 (`invalid_token`), with the `WWW-Authenticate` header Graph sends along.
pub(crate) fn invalid_token(subcode: Option<i64>, message: impl Into<String>) -> Reply {
    let message = message.into();
    let challenge = format!(
        "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
        message.replace('"', "'")
    );
    graph_error(190, subcode, message).header("www-authenticate", challenge)
}

/// What Graph answers for an id it does not know (or the caller may not see).
pub(crate) fn unknown_object(id: &str) -> Reply {
    method_error(
        100,
        Some(33),
        format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due \
             to missing permissions, or does not support this operation."
        ),
    )
}

/// An `fbtrace_id` look-alike: eleven characters, different on every error.
fn trace_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("A{}", &hex[..10])
}

/// A Graph datetime: `2026-11-29T10:00:00+0000` (an offset without a colon).
pub(crate) fn graph_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// The request's parameters: Graph reads them from the query string and from a form, JSON or
/// multipart body alike.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Vec<(String, String)>,
    pub(crate) json: Option<Value>,
    pub(crate) multipart: bool,
    /// Multipart parts that carried a file (`filename=` in their disposition), by field name.
    pub(crate) files: Vec<String>,
}

impl Params {
    pub(crate) fn parse(
        query: Vec<(String, String)>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Self {
        let mut params = Self {
            query,
            ..Self::default()
        };
        let original = content_type.unwrap_or_default();
        // Media types compare case-insensitively; the boundary must keep its case.
        let content_type = original.to_ascii_lowercase();
        if body.is_empty() {
            return params;
        }
        if content_type.starts_with("multipart/form-data") {
            params.multipart = true;
            if let Some(boundary) = original.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                k.eq_ignore_ascii_case("boundary").then_some(v)
            }) {
                let boundary = boundary.trim_matches('"').to_owned();
                params.parse_multipart(&boundary, body);
            }
        } else if content_type.starts_with("application/json")
            || (content_type.is_empty() && body.first() == Some(&b'{'))
        {
            params.json = serde_json::from_slice(body).ok();
        } else {
            params.body = url::form_urlencoded::parse(body).into_owned().collect();
        }
        params
    }

    /// A deliberately small multipart reader: enough for the field names, text values and the
    /// presence of file parts.
    fn parse_multipart(&mut self, boundary: &str, body: &[u8]) {
        let text = String::from_utf8_lossy(body);
        let delimiter = format!("--{boundary}");
        for part in text.split(delimiter.as_str()) {
            let Some((head, value)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let disposition = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
                .unwrap_or_default();
            let Some(name) = attribute(disposition, "name") else {
                continue;
            };
            if attribute(disposition, "filename").is_some() {
                self.files.push(name);
            } else {
                let value = value.strip_suffix("\r\n").unwrap_or(value);
                self.body.push((name, value.to_owned()));
            }
        }
    }

    /// A parameter from the query string, the form, or the top level of a JSON body (numbers
    /// and booleans as their JSON text).
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let pairs = self.query.iter().chain(self.body.iter());
        if let Some((_, v)) = pairs.into_iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        match self.json.as_ref()?.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// `true` for `true`/`1`, `false` for `false`/`0`, `default` when absent.
    pub(crate) fn flag(&self, name: &str, default: bool) -> Result<bool, Reply> {
        match self.get(name).as_deref() {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(_) => Err(invalid_param(format!("Param {name} must be a boolean"))),
        }
    }

    /// The comma-separated `fields` parameter, if any.
    pub(crate) fn fields(&self) -> Option<String> {
        self.get("fields")
    }
}

fn attribute(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.eq_ignore_ascii_case(name)).then(|| v.trim_matches('"').to_owned())
    })
}

/// The top-level names in a `fields` list: `a,b{c,d},e.limit(2)` gives `a`, `b`, `e`.
pub(crate) fn field_names(fields: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for ch in fields.chars() {
        match ch {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => names.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(ch),
            _ => {}
        }
    }
    names.push(current);
    names
        .into_iter()
        .map(|n| n.split('.').next().unwrap_or_default().trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// `record` reduced to the requested fields (plus `id`, which Graph always sends), or whole
/// when no `fields` were asked for.
pub(crate) fn select(record: &Value, fields: Option<&str>) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, record) else {
        return record.clone();
    };
    let wanted = field_names(fields);
    let kept = map
        .iter()
        .filter(|(k, _)| *k == "id" || wanted.iter().any(|w| w == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

fn cursor(index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim-cursor:{index}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sim-cursor:")?
        .parse()
        .ok()
}

/// One page of `items` as Graph's cursor paging: `limit` (default 25, at most 100) and
/// `after`; `paging.next` (built on `url`, with the request's query minus the token, the proof
/// and the old cursor) only when more items follow, so its absence marks the end.
pub(crate) fn paginate(items: Vec<Value>, params: &Params, url: &Url) -> Result<Value, Reply> {
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(0) => DEFAULT_LIMIT,
            Ok(n) => n.min(MAX_LIMIT),
            Err(_) => return Err(invalid_param("Param limit must be a number")),
        },
    };
    let start = match params.get("after") {
        None => 0,
        Some(c) => match decode_cursor(&c) {
            Some(i) => i + 1,
            None => return Err(invalid_param("The after cursor is not valid")),
        },
    };
    let start = start.min(items.len());
    let end = (start + limit).min(items.len());
    let data: Vec<Value> = items[start..end].to_vec();
    if data.is_empty() {
        return Ok(json!({ "data": [] }));
    }
    let mut paging = json!({
        "cursors": { "before": cursor(start), "after": cursor(end - 1) }
    });
    if end < items.len() {
        let mut next = url.clone();
        {
            let mut q = next.query_pairs_mut();
            q.clear();
            for (k, v) in &params.query {
                if !matches!(
                    k.as_str(),
                    "after" | "before" | "limit" | "access_token" | "appsecret_proof"
                ) {
                    q.append_pair(k, v);
                }
            }
            q.append_pair("limit", &limit.to_string())
                .append_pair("after", &cursor(end - 1));
        }
        paging["next"] = json!(next.as_str());
    }
    Ok(json!({ "data": data, "paging": paging }))
}

/// A stable, plausible number for a simulated metric: the same metric always reads the same.
pub(crate) fn metric_value(metric: &str, salt: u64) -> u64 {
    let hash = metric.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    100 + (hash % 900) + salt * 7
}

/// `page_impressions` → `Page Impressions`.
pub(crate) fn metric_title(metric: &str) -> String {
    metric
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn graph_time_has_no_colon_in_the_offset() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0).unwrap();
        assert_eq!(graph_time(t), "2026-11-29T10:00:00+0000");
    }

    #[test]
    fn field_names_skip_nested_selections() {
        assert_eq!(
            field_names("id,name,instagram_business_account{id,username},posts.limit(2)"),
            ["id", "name", "instagram_business_account", "posts"]
        );
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&cursor(41)), Some(41));
        assert_eq!(decode_cursor("garbage"), None);
    }

    #[test]
    fn multipart_fields_and_files() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\n\
                    whatsapp\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; \
                    filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n--XX--\r\n";
        let p = Params::parse(
            Vec::new(),
            Some("Multipart/Form-Data; Boundary=XX"),
            body.as_bytes(),
        );
        assert!(p.multipart);
        assert_eq!(p.get("messaging_product").as_deref(), Some("whatsapp"));
        assert_eq!(p.files, ["file"]);
    }
}
