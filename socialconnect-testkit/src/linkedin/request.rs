//! One request as the LinkedIn simulator reads it: the route, the query (raw, for Rest.li, and
//! decoded, for plain parameters), the body and the headers it looks at.

use serde_json::Value;

/// What a request asks for, by method and path. Path-borne URNs are kept as sent (still
/// encoded); the handler decodes and checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /rest/posts`.
    CreatePost,
    /// `DELETE /rest/posts/{urn}`.
    DeletePost(String),
    /// `POST /rest/images?action=…`.
    ImageAction,
    /// `GET /rest/images/{urn}`.
    GetImage(String),
    /// `POST /rest/videos?action=…`.
    VideoAction,
    /// `GET /rest/videos/{urn}`.
    GetVideo(String),
    /// `GET /rest/organizationAcls`.
    OrganizationAcls,
    /// `GET /rest/organizationalEntityShareStatistics`.
    ShareStatistics,
    /// `GET /rest/organizationalEntityFollowerStatistics`.
    FollowerStatistics,
    /// `GET /rest/networkSizes/{urn}`.
    NetworkSize(String),
    /// `GET /rest/socialActions/{urn}/comments`.
    ListComments(String),
    /// `POST /rest/socialActions/{urn}/comments`.
    CreateComment(String),
    /// `PUT /upload/image/{id}`.
    UploadImage(String),
    /// `PUT /upload/video/{id}/{part}`.
    UploadVideoPart(String, usize),
}

impl Route {
    /// The route of `method path`, or `None` for the catch-all.
    pub(crate) fn parse(method: &str, path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let one = |s: &str| s.to_owned();
        Some(match (method, segments.as_slice()) {
            ("POST", ["rest", "posts"]) => Self::CreatePost,
            ("DELETE", ["rest", "posts", urn]) => Self::DeletePost(one(urn)),
            ("POST", ["rest", "images"]) => Self::ImageAction,
            ("GET", ["rest", "images", urn]) => Self::GetImage(one(urn)),
            ("POST", ["rest", "videos"]) => Self::VideoAction,
            ("GET", ["rest", "videos", urn]) => Self::GetVideo(one(urn)),
            ("GET", ["rest", "organizationAcls"]) => Self::OrganizationAcls,
            ("GET", ["rest", "organizationalEntityShareStatistics"]) => Self::ShareStatistics,
            ("GET", ["rest", "organizationalEntityFollowerStatistics"]) => Self::FollowerStatistics,
            ("GET", ["rest", "networkSizes", urn]) => Self::NetworkSize(one(urn)),
            ("GET", ["rest", "socialActions", urn, "comments"]) => Self::ListComments(one(urn)),
            ("POST", ["rest", "socialActions", urn, "comments"]) => Self::CreateComment(one(urn)),
            ("PUT", ["upload", "image", id]) => Self::UploadImage(one(id)),
            ("PUT", ["upload", "video", id, part]) => {
                Self::UploadVideoPart(one(id), part.parse().ok()?)
            }
            _ => return None,
        })
    }

    /// Whether the route is one of the versioned `/rest/*` resources (the upload URLs are not).
    pub(crate) fn is_rest(&self) -> bool {
        !matches!(self, Self::UploadImage(_) | Self::UploadVideoPart(..))
    }

    /// The resource name LinkedIn puts in an `ACCESS_DENIED` message.
    pub(crate) fn resource(&self) -> &'static str {
        match self {
            Self::CreatePost | Self::DeletePost(_) => "posts",
            Self::ImageAction | Self::GetImage(_) | Self::UploadImage(_) => "images",
            Self::VideoAction | Self::GetVideo(_) | Self::UploadVideoPart(..) => "videos",
            Self::OrganizationAcls => "organizationAcls",
            Self::ShareStatistics => "organizationalEntityShareStatistics",
            Self::FollowerStatistics => "organizationalEntityFollowerStatistics",
            Self::NetworkSize(_) => "networkSizes",
            Self::ListComments(_) | Self::CreateComment(_) => "socialActions/comments",
        }
    }
}

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) route: Route,
    pub(crate) path: String,
    /// The query string exactly as sent.
    pub(crate) raw_query: Option<String>,
    /// The query form-decoded, for the plain parameters (`start`, `count`, `action`, `q`, …).
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
    pub(crate) bearer: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) protocol: Option<String>,
}

impl Call<'_> {
    /// The body as JSON: `Ok(None)` for an empty body, `Err` for one that is not JSON.
    pub(crate) fn json(&self) -> Result<Option<Value>, serde_json::Error> {
        crate::sim::json_body(self.body)
    }

    /// A decoded query parameter.
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_path() {
        assert_eq!(Route::parse("POST", "/rest/posts"), Some(Route::CreatePost));
        assert_eq!(Route::parse("GET", "/rest/posts"), None);
        assert_eq!(
            Route::parse("GET", "/rest/socialActions/urn%3Ali%3Ashare%3A1/comments"),
            Some(Route::ListComments("urn%3Ali%3Ashare%3A1".to_owned()))
        );
        assert_eq!(
            Route::parse("PUT", "/upload/video/v1/2"),
            Some(Route::UploadVideoPart("v1".to_owned(), 2))
        );
        assert_eq!(Route::parse("PUT", "/upload/video/v1/x"), None);
        assert_eq!(Route::parse("GET", "/rest/images/"), None);
        assert_eq!(Route::parse("GET", "/v2/me"), None);
        assert!(!Route::UploadImage("i".into()).is_rest());
    }
}
