//! TikTok's scope names, as the portal lists them.

/// Open id, avatar and display name.
pub const USER_INFO_BASIC: &str = "user.info.basic";
/// Bio, profile link, verification and username.
pub const USER_INFO_PROFILE: &str = "user.info.profile";
/// Follower, following, like and video counts.
pub const USER_INFO_STATS: &str = "user.info.stats";
/// The user's public videos.
pub const VIDEO_LIST: &str = "video.list";
/// Direct posting.
pub const VIDEO_PUBLISH: &str = "video.publish";
/// Uploading drafts to the user's inbox.
pub const VIDEO_UPLOAD: &str = "video.upload";
