//! Video uploads: register (`POST /v5/media`), the S3-style multipart POST to the upload URL,
//! and the status reads (`GET /v5/media/{id}`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::state::{Cx, Media};
use super::wire;
use crate::sim::{self, Reply, multipart};

/// `POST /v5/media` (`pins:write`): `{media_type: "video"}` → `201 {media_id, media_type,
/// upload_url, upload_parameters}`.
pub(crate) fn register(cx: &mut Cx<'_>) -> Result<Reply, Reply> {
    cx.need(&["pins:write"])?;
    let body = cx.json_object()?;
    if body.get("media_type").and_then(Value::as_str) != Some("video") {
        return Err(wire::invalid("media_type must be `video`."));
    }
    let id = cx.st.media_id();
    let date = cx.now.format("%Y%m%d").to_string();
    let key = format!("uploads/{}/{id}.mp4", cx.cfg.account_id);
    let policy = STANDARD.encode(
        json!({
            "expiration": (cx.now + chrono::TimeDelta::hours(1)).to_rfc3339(),
            "conditions": [{ "bucket": "pinterest-media-upload" }, { "key": key }],
        })
        .to_string(),
    );
    let signature = sim::hmac_sha256_hex(cx.cfg.client_secret.as_bytes(), &[policy.as_bytes()]);
    let params = vec![
        ("key".to_owned(), key),
        ("policy".to_owned(), policy),
        ("x-amz-signature".to_owned(), signature),
        (
            "x-amz-credential".to_owned(),
            format!("AKIASIMULATOR00000000/{date}/us-east-1/s3/aws4_request"),
        ),
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        (
            "x-amz-date".to_owned(),
            cx.now.format("%Y%m%dT%H%M%SZ").to_string(),
        ),
        ("Content-Type".to_owned(), "multipart/form-data".to_owned()),
    ];
    let upload_parameters: Map<String, Value> =
        params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut upload_url = cx.base.clone();
    upload_url.set_path(&format!("upload/media/{id}"));
    cx.st.media.push(Media {
        id: id.clone(),
        media_type: "video".to_owned(),
        upload_parameters: params,
        uploaded: None,
        polls: 0,
    });
    Ok(Reply::json(
        201,
        json!({
            "media_id": id,
            "media_type": "video",
            "upload_url": upload_url.as_str(),
            "upload_parameters": upload_parameters,
        }),
    ))
}

/// `GET /v5/media/{id}` (`pins:read` or `pins:write`): `{media_id, media_type, status}`;
/// each read while processing counts toward the configured polls.
pub(crate) fn status(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    if !cx.has("pins:read") && !cx.has("pins:write") {
        return Err(wire::insufficient_scopes());
    }
    let polls = cx.cfg.media_processing_polls;
    let media = cx.st.media_mut(id).ok_or_else(wire::media_not_found)?;
    let status = media.status(polls);
    if status == "processing" {
        media.polls += 1;
    }
    Ok(Reply::ok(json!({
        "media_id": media.id,
        "media_type": media.media_type,
        "status": status,
    })))
}

/// `POST /upload/media/{id}`: multipart, every upload parameter as a field with its exact
/// value, then the `file` part (fields after it are ignored, as S3 does); no `Authorization`
/// header. `204` on success; S3's XML errors otherwise (`403 AccessDenied` for a missing or
/// changed parameter).
pub(crate) fn upload(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    if cx.call.authorization.is_some() {
        return Err(wire::s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; the POST policy signs this upload, so no \
             Authorization header may be sent",
        ));
    }
    let Some(media) = cx.st.media(id) else {
        return Err(wire::s3_error(
            404,
            "NoSuchUpload",
            "The specified upload does not exist.",
        ));
    };
    let parts = cx
        .call
        .content_type
        .as_deref()
        .and_then(multipart::boundary)
        .and_then(|b| multipart::parse(&b, cx.call.body))
        .ok_or_else(|| {
            wire::s3_error(
                412,
                "PreconditionFailed",
                "Bucket POST must be of the enclosure-type multipart/form-data",
            )
        })?;
    let Some(file_at) = parts.iter().position(|p| p.name == "file") else {
        return Err(wire::s3_error(
            400,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
        ));
    };
    let fields = &parts[..file_at];
    for (name, value) in &media.upload_parameters {
        let sent = fields
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(multipart::Part::text);
        if sent.as_deref() != Some(value.as_str()) {
            return Err(wire::s3_error(
                403,
                "AccessDenied",
                &format!(
                    "Invalid according to Policy: Policy Condition failed: [\"eq\", \"${name}\", \"{value}\"]"
                ),
            ));
        }
    }
    let length = parts[file_at].data.len();
    if let Some(media) = cx.st.media_mut(id) {
        media.uploaded = Some(length);
        media.polls = 0;
    }
    Ok(Reply::empty(204))
}
