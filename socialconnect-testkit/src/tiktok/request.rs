//! One request as the TikTok simulator reads it: the route, the query, the body and the
//! headers it looks at.

use serde_json::Value;

/// What a request asks for, by method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    UserInfo,
    VideoList,
    VideoQuery,
    CreatorInfo,
    DirectVideoInit,
    InboxVideoInit,
    ContentInit,
    StatusFetch,
    /// `PUT /upload/{publish_id}`.
    Upload(String),
}

impl Route {
    /// The route of `method path`, or `None` for the catch-all.
    pub(crate) fn parse(method: &str, path: &str) -> Option<Self> {
        Some(match (method, path) {
            ("GET", "/v2/user/info/") => Self::UserInfo,
            ("POST", "/v2/video/list/") => Self::VideoList,
            ("POST", "/v2/video/query/") => Self::VideoQuery,
            ("POST", "/v2/post/publish/creator_info/query/") => Self::CreatorInfo,
            ("POST", "/v2/post/publish/video/init/") => Self::DirectVideoInit,
            ("POST", "/v2/post/publish/inbox/video/init/") => Self::InboxVideoInit,
            ("POST", "/v2/post/publish/content/init/") => Self::ContentInit,
            ("POST", "/v2/post/publish/status/fetch/") => Self::StatusFetch,
            ("PUT", p) => {
                let id = p.strip_prefix("/upload/")?;
                if id.is_empty() || id.contains('/') {
                    return None;
                }
                Self::Upload(id.to_owned())
            }
            _ => return None,
        })
    }
}

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) route: Route,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
    pub(crate) bearer: Option<String>,
    pub(crate) content_range: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
}

impl Call<'_> {
    /// The body as JSON: `Ok(None)` for an empty body, `Err` for one that is not JSON.
    pub(crate) fn json(&self) -> Result<Option<Value>, serde_json::Error> {
        crate::sim::json_body(self.body)
    }

    /// A query parameter.
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
        assert_eq!(Route::parse("GET", "/v2/user/info/"), Some(Route::UserInfo));
        assert_eq!(Route::parse("GET", "/v2/user/info"), None);
        assert_eq!(Route::parse("POST", "/v2/user/info/"), None);
        assert_eq!(
            Route::parse("PUT", "/upload/v_pub_file~1"),
            Some(Route::Upload("v_pub_file~1".to_owned()))
        );
        assert_eq!(Route::parse("PUT", "/upload/"), None);
        assert_eq!(Route::parse("PUT", "/upload/a/b"), None);
    }
}
