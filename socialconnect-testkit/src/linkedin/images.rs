//! Images: `initializeUpload`, the one `PUT` of the bytes to the upload URL on the simulator's
//! own host, and the status read that walks `WAITING_UPLOAD` → `PROCESSING` → `AVAILABLE` (or
//! `PROCESSING_FAILED` for an empty upload).

use chrono::TimeDelta;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::state::{Cx, Image};
use super::wire;
use crate::sim::Reply;

/// The scopes that let a token read an upload's status.
pub(crate) const MEDIA_READ_SCOPES: [&str; 3] = [
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
];

/// How long upload URLs work.
pub(crate) const UPLOAD_URL_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// The `owner` of an `initializeUploadRequest`, checked as a writer: `Err` the answer.
pub(crate) fn owner_of(cx: &Cx<'_>, body: &Value, method: &str) -> Result<String, Reply> {
    let Some(owner) = body
        .pointer("/initializeUploadRequest/owner")
        .and_then(Value::as_str)
    else {
        return Err(wire::invalid(
            "/initializeUploadRequest/owner",
            "field is required but not found and has no default value",
        ));
    };
    cx.may_write_as(owner, method).map_err(|reply| {
        reply.unwrap_or_else(|| {
            wire::invalid(
                "/initializeUploadRequest/owner",
                &format!("{owner} is not a person or organization URN"),
            )
        })
    })?;
    Ok(owner.to_owned())
}

/// `POST /rest/images?action=initializeUpload`.
pub(crate) fn action(cx: &mut Cx<'_>) -> Reply {
    if cx.call.query_param("action") != Some("initializeUpload") {
        return wire::bad_request("images take action=initializeUpload");
    }
    let Ok(Some(body)) = cx.call.json() else {
        return wire::bad_request("the body must be JSON");
    };
    let owner = match owner_of(cx, &body, "ACTION-initializeUpload") {
        Ok(o) => o,
        Err(reply) => return reply,
    };
    let id = format!("D4E10AQSim{:08}", cx.st.seq());
    let urn = format!("urn:li:image:{id}");
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut url = cx.base.clone();
    url.set_path(&format!("upload/image/{id}"));
    url.query_pairs_mut().append_pair("token", &token);
    cx.st.images.insert(
        urn.clone(),
        Image {
            owner,
            upload_token: token,
            uploaded: None,
            sha256: None,
            polls: 0,
        },
    );
    Reply::ok(json!({
        "value": {
            "uploadUrlExpiresAt": (cx.now + UPLOAD_URL_LIFETIME).timestamp_millis(),
            "uploadUrl": url.as_str(),
            "image": urn,
        }
    }))
}

/// `PUT /upload/image/{id}?token=…`: the bytes, once; `201`.
pub(crate) fn upload(cx: &mut Cx<'_>, id: &str) -> Reply {
    let urn = format!("urn:li:image:{id}");
    let Some(image) = cx.st.images.get_mut(&urn) else {
        return wire::not_found();
    };
    if cx.call.query_param("token") != Some(image.upload_token.as_str()) {
        return wire::forbidden("the upload URL's token is wrong");
    }
    if image.uploaded.is_some() {
        return wire::bad_request("the image was already uploaded: its URL takes one PUT");
    }
    image.uploaded = Some(cx.call.body.len());
    image.sha256 = Some(hex::encode(Sha256::digest(cx.call.body)));
    Reply::empty(201)
}

/// `GET /rest/images/{urn}`: `{id, status, owner}`, advancing a `PROCESSING` image by one read.
pub(crate) fn get(cx: &mut Cx<'_>, segment: &str) -> Reply {
    let urn = match wire::path_urn(segment) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    if let Err(reply) = cx.need_scope("GET", &MEDIA_READ_SCOPES) {
        return reply;
    }
    let polls = cx.cfg.image_processing_polls;
    let Some(image) = cx.st.images.get(&urn) else {
        return wire::not_found();
    };
    if !may_read(cx, &image.owner) {
        return wire::forbidden(&format!("Member {} cannot read {urn}", cx.member));
    }
    let Some(image) = cx.st.images.get_mut(&urn) else {
        return wire::not_found();
    };
    let status = image.status(polls);
    if status == "PROCESSING" {
        image.polls += 1;
    }
    let mut body = json!({ "id": urn, "status": status, "owner": image.owner });
    if status == "AVAILABLE" {
        let mut download = cx.base.clone();
        download.set_path(&format!(
            "media/image/{}",
            urn.rsplit(':').next().unwrap_or("")
        ));
        body["downloadUrl"] = json!(download.as_str());
        body["downloadUrlExpiresAt"] = json!((cx.now + UPLOAD_URL_LIFETIME).timestamp_millis());
    }
    Reply::ok(body)
}

/// Whether the caller may read an upload owned by `owner`: their own, or their
/// organization's (any approved role).
pub(crate) fn may_read(cx: &Cx<'_>, owner: &str) -> bool {
    owner == cx.member || !cx.approved_roles(owner).is_empty()
}
