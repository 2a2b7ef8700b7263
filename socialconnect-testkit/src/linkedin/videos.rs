//! Videos: `initializeUpload` with the file size, a plan of 4 MiB parts each `PUT` to its own
//! URL and answered with an `ETag`, `finalizeUpload` with the ETags in order, and the status
//! read that walks `WAITING_UPLOAD` → `PROCESSING` → `AVAILABLE`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::images::{MEDIA_READ_SCOPES, UPLOAD_URL_LIFETIME, may_read, owner_of};
use super::state::{Cx, Video, VideoPart};
use super::wire;
use crate::sim::Reply;

/// The size of every part but the last.
pub(crate) const PART_BYTES: u64 = 4 * 1024 * 1024;
/// The largest video the simulator takes (LinkedIn's documented ceiling is 5 GB).
const MAX_VIDEO_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// `POST /rest/videos?action=initializeUpload|finalizeUpload`.
pub(crate) fn action(cx: &mut Cx<'_>) -> Reply {
    let Ok(Some(body)) = cx.call.json() else {
        return wire::bad_request("the body must be JSON");
    };
    match cx.call.query_param("action") {
        Some("initializeUpload") => initialize(cx, &body),
        Some("finalizeUpload") => finalize(cx, &body),
        _ => wire::bad_request("videos take action=initializeUpload or action=finalizeUpload"),
    }
}

fn initialize(cx: &mut Cx<'_>, body: &Value) -> Reply {
    let owner = match owner_of(cx, body, "ACTION-initializeUpload") {
        Ok(o) => o,
        Err(reply) => return reply,
    };
    let request = &body["initializeUploadRequest"];
    let Some(size) = request.get("fileSizeBytes").and_then(Value::as_u64) else {
        return wire::invalid(
            "/initializeUploadRequest/fileSizeBytes",
            "field is required but not found and has no default value",
        );
    };
    if size == 0 || size > MAX_VIDEO_BYTES {
        return wire::invalid(
            "/initializeUploadRequest/fileSizeBytes",
            "must be between 1 byte and 5 GB",
        );
    }
    for flag in ["uploadCaptions", "uploadThumbnail"] {
        if request.get(flag).is_some_and(|v| !v.is_boolean()) {
            return wire::invalid(
                &format!("/initializeUploadRequest/{flag}"),
                "must be a boolean",
            );
        }
    }
    let id = format!("D5610AQSim{:08}", cx.st.seq());
    let urn = format!("urn:li:video:{id}");
    let token = uuid::Uuid::new_v4().simple().to_string();
    let parts: Vec<VideoPart> = (0..size.div_ceil(PART_BYTES))
        .map(|i| VideoPart {
            first: i * PART_BYTES,
            last: ((i + 1) * PART_BYTES).min(size) - 1,
            etag: None,
        })
        .collect();
    let instructions: Vec<Value> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut url = cx.base.clone();
            url.set_path(&format!("upload/video/{id}/{i}"));
            url.query_pairs_mut().append_pair("token", &token);
            json!({ "uploadUrl": url.as_str(), "firstByte": p.first, "lastByte": p.last })
        })
        .collect();
    cx.st.videos.insert(
        urn.clone(),
        Video {
            owner,
            size,
            upload_token: token,
            parts,
            finalized: false,
            polls: 0,
        },
    );
    Reply::ok(json!({
        "value": {
            "uploadUrlsExpireAt": (cx.now + UPLOAD_URL_LIFETIME).timestamp_millis(),
            "video": urn,
            "uploadInstructions": instructions,
            "uploadToken": "",
        }
    }))
}

fn finalize(cx: &mut Cx<'_>, body: &Value) -> Reply {
    let request = &body["finalizeUploadRequest"];
    let Some(urn) = request.get("video").and_then(Value::as_str) else {
        return wire::invalid(
            "/finalizeUploadRequest/video",
            "field is required but not found and has no default value",
        );
    };
    let Some(owner) = cx.st.videos.get(urn).map(|v| v.owner.clone()) else {
        return wire::not_found();
    };
    if let Err(reply) = cx.may_write_as(&owner, "ACTION-finalizeUpload") {
        return reply.unwrap_or_else(wire::not_found);
    }
    if request.get("uploadToken").and_then(Value::as_str) != Some("") {
        return wire::bad_request("uploadToken must be the one initializeUpload returned (\"\")");
    }
    let Some(ids) = request.get("uploadedPartIds").and_then(Value::as_array) else {
        return wire::invalid(
            "/finalizeUploadRequest/uploadedPartIds",
            "field is required but not found and has no default value",
        );
    };
    let Some(video) = cx.st.videos.get_mut(urn) else {
        return wire::not_found();
    };
    if video.finalized {
        return wire::bad_request(format!("{urn} is already finalized"));
    }
    if ids.len() != video.parts.len() {
        return wire::bad_request(format!(
            "uploadedPartIds holds {} ids; the upload has {} parts",
            ids.len(),
            video.parts.len()
        ));
    }
    for (i, (id, part)) in ids.iter().zip(&video.parts).enumerate() {
        match (&part.etag, id.as_str()) {
            (None, _) => return wire::bad_request(format!("part {i} was not uploaded")),
            (Some(etag), Some(sent)) if etag == sent => {}
            _ => {
                return wire::bad_request(format!(
                    "uploadedPartIds[{i}] is not the ETag of part {i} (ids go in part order)"
                ));
            }
        }
    }
    video.finalized = true;
    Reply::empty(200)
}

/// `PUT /upload/video/{id}/{part}?token=…`: exactly the part's byte range; `200` with the
/// part's `ETag`. A part may be sent again (a retry); its ETag follows its bytes.
pub(crate) fn upload_part(cx: &mut Cx<'_>, id: &str, index: usize) -> Reply {
    let urn = format!("urn:li:video:{id}");
    let Some(video) = cx.st.videos.get_mut(&urn) else {
        return wire::not_found();
    };
    if cx.call.query_param("token") != Some(video.upload_token.as_str()) {
        return wire::forbidden("the upload URL's token is wrong");
    }
    if video.finalized {
        return wire::bad_request(format!("{urn} is already finalized"));
    }
    let Some(part) = video.parts.get_mut(index) else {
        return wire::not_found();
    };
    let expected = part.last - part.first + 1;
    if cx.call.body.len() as u64 != expected {
        return wire::bad_request(format!(
            "part {index} is bytes {}-{} ({expected} bytes); the body holds {}",
            part.first,
            part.last,
            cx.call.body.len()
        ));
    }
    let digest = hex::encode(Sha256::digest(cx.call.body));
    let etag = format!("/ambry-video/signedId/{id}-{index}-{}", &digest[..16]);
    part.etag = Some(etag.clone());
    Reply::empty(200).header("etag", etag)
}

/// `GET /rest/videos/{urn}`: `{id, status, owner}`, advancing a `PROCESSING` video by one read.
pub(crate) fn get(cx: &mut Cx<'_>, segment: &str) -> Reply {
    let urn = match wire::path_urn(segment) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if let Err(reply) = cx.need_scope("GET", &MEDIA_READ_SCOPES) {
        return reply;
    }
    let polls = cx.cfg.video_processing_polls;
    let Some(owner) = cx.st.videos.get(&urn).map(|v| v.owner.clone()) else {
        return wire::not_found();
    };
    if !may_read(cx, &owner) {
        return wire::forbidden(&format!("Member {} cannot read {urn}", cx.member));
    }
    let Some(video) = cx.st.videos.get_mut(&urn) else {
        return wire::not_found();
    };
    let status = video.status(polls);
    if status == "PROCESSING" {
        video.polls += 1;
    }
    Reply::ok(json!({ "id": urn, "status": status, "owner": owner, "fileSizeBytes": video.size }))
}
