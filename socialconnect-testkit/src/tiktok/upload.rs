//! Media transfer: the chunk plan a `FILE_UPLOAD` declares, checked against TikTok's rules, and
//! the sequential `PUT`s to the upload URL, assembled into a running SHA-256 and byte count.

use sha2::{Digest, Sha256};

use super::state::{Cx, Source, Upload};
use super::wire;
use crate::sim::Reply;

/// The smallest chunk, and the size under which a file is one chunk. Whether TikTok's "MB" is
/// 10⁶ or 2²⁰ bytes is UNCONFIRMED, so each bound takes the stricter reading: 5 MiB here,
/// 64 000 000 and 128 000 000 bytes below.
pub(crate) const MIN_CHUNK: u64 = 5 * 1024 * 1024;
/// The largest chunk but the last, and the largest file sent as one chunk.
pub(crate) const MAX_CHUNK: u64 = 64_000_000;
/// The largest last chunk (it absorbs the remainder).
pub(crate) const MAX_LAST_CHUNK: u64 = 128_000_000;
/// The most chunks.
pub(crate) const MAX_CHUNKS: u64 = 1000;

/// Checks a declared plan: a file under 5 MB is one chunk of its own size; otherwise chunks
/// are 5–64 MB, `total_chunk_count = floor(video_size / chunk_size)`, the last chunk absorbs the
/// remainder up to 128 MB, 1 to 1000 chunks, and a file over 64 MB is not one chunk.
pub(crate) fn check_plan(video_size: u64, chunk_size: u64, count: u64) -> Result<(), String> {
    if video_size == 0 || chunk_size == 0 || count == 0 {
        return Err("video_size, chunk_size and total_chunk_count must be positive".into());
    }
    if video_size < MIN_CHUNK {
        return if chunk_size == video_size && count == 1 {
            Ok(())
        } else {
            Err("a file under 5 MB is uploaded as one chunk of its whole size".into())
        };
    }
    if count == 1 && chunk_size == video_size {
        return if video_size <= MAX_CHUNK {
            Ok(())
        } else {
            Err("a file over 64 MB must be uploaded in chunks".into())
        };
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk_size) {
        return Err("chunk_size must be between 5 MB and 64 MB".into());
    }
    if count != video_size / chunk_size {
        return Err("total_chunk_count must be floor(video_size / chunk_size)".into());
    }
    if count > MAX_CHUNKS {
        return Err("an upload has at most 1000 chunks".into());
    }
    let last = video_size - (count - 1) * chunk_size;
    if last > MAX_LAST_CHUNK {
        return Err("the last chunk would exceed 128 MB".into());
    }
    if count == 1 && video_size > MAX_CHUNK {
        return Err("a file over 64 MB must be uploaded in chunks".into());
    }
    Ok(())
}

/// `bytes FIRST-LAST/TOTAL`, both ends inclusive.
fn parse_content_range(header: &str) -> Option<(u64, u64, u64)> {
    let rest = header.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last, total) = (
        first.trim().parse().ok()?,
        last.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (first <= last && last < total).then_some((first, last, total))
}

fn refuse(message: impl Into<String>) -> Reply {
    wire::error("invalid_file_upload", message)
}

/// `PUT /upload/{publish_id}?upload_token=…`: the next chunk of the plan, in order, with a
/// `video/*` content type and a `Content-Range` that matches the plan; `206` for an
/// intermediate chunk and `201` for the last (UNCONFIRMED: TikTok's docs do not give these
/// statuses; integrations accept 200, 201 and 206). A chunk fault queued for this chunk
/// answers its status instead, and the chunk is not kept.
pub(crate) fn put(cx: &mut Cx<'_>, publish_id: &str) -> Reply {
    let call = cx.call;
    let Some(publish) = cx.st.publishes.get_mut(publish_id) else {
        return wire::error_with_status("invalid_params", 404, "unknown upload URL");
    };
    let Source::FileUpload(upload) = &mut publish.source else {
        return refuse("this post pulls its media from a URL; nothing is uploaded");
    };
    // The upload URL is used as given, query included.
    if call.query_param("upload_token") != Some(upload.token.as_str()) {
        return wire::error_with_status("invalid_params", 403, "the upload URL's token is wrong");
    }
    if upload.is_complete() {
        return refuse("the upload is already complete");
    }
    if !call
        .content_type
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("video/"))
    {
        return refuse("Content-Type must be video/mp4, video/quicktime or video/webm");
    }
    let Some((first, last, total)) = call.content_range.and_then(parse_content_range) else {
        return refuse("Content-Range must read `bytes FIRST-LAST/TOTAL`");
    };
    if total != upload.video_size {
        return refuse(format!(
            "Content-Range total {total} differs from the declared video_size {}",
            upload.video_size
        ));
    }
    let index = upload.chunks;
    let start = u64::from(index) * upload.chunk_size;
    let end = if index + 1 == upload.total_chunk_count {
        upload.video_size - 1
    } else {
        start + upload.chunk_size - 1
    };
    if first != start {
        return refuse(format!(
            "chunk starts at byte {first}, but the next chunk ({index}) starts at {start}: \
             chunks are sent in order, once each"
        ));
    }
    if last != end {
        return refuse(format!(
            "chunk {index} must end at byte {end} under the declared plan, not {last}"
        ));
    }
    let len = last - first + 1;
    if call.body.len() as u64 != len {
        return refuse(format!(
            "the body holds {} bytes, Content-Range declares {len}",
            call.body.len()
        ));
    }
    if let Some(at) = cx.st.chunk_faults.iter().position(|(i, _)| *i == index) {
        let (_, status) = cx.st.chunk_faults.remove(at);
        return wire::error_with_status("internal_error", status, "simulated upload failure");
    }
    // Re-borrow: the fault lookup above needed the state.
    let Some(Source::FileUpload(upload)) =
        cx.st.publishes.get_mut(publish_id).map(|p| &mut p.source)
    else {
        return refuse("the upload vanished");
    };
    absorb(upload, call.body);
    if upload.is_complete() {
        Reply::empty(201)
    } else {
        Reply::empty(206)
    }
}

/// Adds a chunk to the running digest and count; the last one fixes the digest.
fn absorb(upload: &mut Upload, bytes: &[u8]) {
    upload.hasher.update(bytes);
    upload.received += bytes.len() as u64;
    upload.chunks += 1;
    if upload.is_complete() {
        let digest = std::mem::replace(&mut upload.hasher, Sha256::new()).finalize();
        upload.sha256 = Some(hex::encode(digest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    #[test]
    fn plans_follow_tiktoks_rules() {
        // Under 5 MB: one chunk of the whole size.
        assert!(check_plan(1, 1, 1).is_ok());
        assert!(check_plan(4 * MB, 4 * MB, 1).is_ok());
        assert!(check_plan(4 * MB, 2 * MB, 2).is_err());
        // One chunk up to 64 MB.
        assert!(check_plan(12 * MB, 12 * MB, 1).is_ok());
        assert!(check_plan(65 * MB, 65 * MB, 1).is_err());
        // Chunked: floor, the last absorbing the remainder.
        assert!(check_plan(12 * MB, 4 * MB + 500_000, 2).is_err()); // chunk under 5 MiB
        assert!(check_plan(12_582_912, 4_194_304, 3).is_err()); // 4 MiB chunks
        assert!(check_plan(15_728_640, 5_242_880, 3).is_ok());
        assert!(check_plan(16_000_000, 5_242_880, 4).is_err()); // not floor
        assert!(check_plan(16_000_000, 5_242_880, 3).is_ok());
        assert!(check_plan(100 * MB, 60 * MB, 1).is_err()); // over 64 MB in one chunk
        assert!(check_plan(190 * MB, 63 * MB, 3).is_ok());
        assert!(check_plan(250 * MB, 60 * MB, 4).is_ok()); // last 70 MB
        assert!(check_plan(190 * MB, 64 * MB + 1, 2).is_err()); // chunk over 64 MB
        assert!(check_plan(6_000 * MB, 5 * MB + 242_880, 1144).is_err()); // over 1000
        assert!(check_plan(0, 0, 0).is_err());
    }

    #[test]
    fn content_range_is_inclusive() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(parse_content_range("bytes 5-4/10"), None);
        assert_eq!(parse_content_range("bytes 0-10/10"), None);
        assert_eq!(parse_content_range("0-9/10"), None);
        assert_eq!(parse_content_range("bytes 0-9/*"), None);
    }
}
