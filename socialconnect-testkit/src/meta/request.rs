//! One Graph request as the simulator reads it: the route (endpoint and object id, from the
//! method and the path shape), the parameters and the caller's token.

use super::RecordedRequest;
use super::wire::Params;

/// What a request asks for, by method and path shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Dialog,
    AccessToken,
    DebugToken,
    Me,
    MeAccounts,
    MePermissions,
    Object,
    CreatePost,
    ListPosts,
    CreatePhoto,
    ListComments,
    CreateComment,
    Insights,
    CreateMedia,
    ListMedia,
    Publish,
    PublishingLimit,
    Messages,
}

/// A recognised route: the endpoint and the object id in its path (empty when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) endpoint: Endpoint,
    pub(crate) id: String,
}

/// Graph object ids in paths: decimal, with `_` in composite ids (`{page}_{post}`).
fn is_id(segment: &str) -> bool {
    segment.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && segment.bytes().any(|b| b.is_ascii_digit())
}

impl Route {
    /// The route of `method path` under `/{version}/`, or `None` for the catch-all.
    pub(crate) fn parse(method: &str, path: &str, version: &str) -> Option<Self> {
        let rest = path
            .strip_prefix('/')?
            .strip_prefix(version)?
            .strip_prefix('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        use Endpoint as E;
        let fixed = |endpoint| {
            Some(Self {
                endpoint,
                id: String::new(),
            })
        };
        let on = |endpoint, id: &str| {
            is_id(id).then(|| Self {
                endpoint,
                id: id.to_owned(),
            })
        };
        match (method, segments.as_slice()) {
            ("GET", ["dialog", "oauth"]) => fixed(E::Dialog),
            ("GET" | "POST", ["oauth", "access_token"]) => fixed(E::AccessToken),
            ("GET", ["debug_token"]) => fixed(E::DebugToken),
            ("GET", ["me"]) => fixed(E::Me),
            ("GET", ["me", "accounts"]) => fixed(E::MeAccounts),
            ("DELETE", ["me", "permissions"]) => fixed(E::MePermissions),
            ("GET", [id]) => on(E::Object, id),
            ("POST", [id, "feed"]) => on(E::CreatePost, id),
            ("GET", [id, "feed" | "posts"]) => on(E::ListPosts, id),
            ("POST", [id, "photos"]) => on(E::CreatePhoto, id),
            ("GET", [id, "comments"]) => on(E::ListComments, id),
            ("POST", [id, "comments"]) => on(E::CreateComment, id),
            ("GET", [id, "insights"]) => on(E::Insights, id),
            ("POST", [id, "media"]) => on(E::CreateMedia, id),
            ("GET", [id, "media"]) => on(E::ListMedia, id),
            ("POST", [id, "media_publish"]) => on(E::Publish, id),
            ("GET", [id, "content_publishing_limit"]) => on(E::PublishingLimit, id),
            ("POST", [id, "messages"]) => on(E::Messages, id),
            _ => None,
        }
    }
}

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) route: Route,
    pub(crate) params: Params,
    pub(crate) bearer: Option<String>,
}

impl Call {
    /// The bearer token, else the `access_token` parameter.
    pub(crate) fn token(&self) -> Option<String> {
        self.bearer
            .clone()
            .or_else(|| self.params.get("access_token"))
            .filter(|t| !t.is_empty())
    }

    pub(crate) fn record(&self) -> RecordedRequest {
        RecordedRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.params.query.clone(),
            form: self.params.body.clone(),
            json: self.params.json.clone(),
            bearer: self.bearer.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_shape() {
        let r = |m: &str, p: &str| Route::parse(m, p, "v26.0").map(|r| (r.endpoint, r.id));
        assert_eq!(r("GET", "/v26.0/me"), Some((Endpoint::Me, String::new())));
        assert_eq!(
            r("POST", "/v26.0/12_34/comments"),
            Some((Endpoint::CreateComment, "12_34".to_owned()))
        );
        assert_eq!(r("GET", "/v25.0/me"), None);
        assert_eq!(r("GET", "/v26.0/foo"), None);
        assert_eq!(r("GET", "/v26.0/12//feed"), None);
        assert_eq!(r("PUT", "/v26.0/12/feed"), None);
        assert_eq!(r("GET", "/v26.0/_"), None);
    }
}
