//! One request as the Pinterest simulator reads it: the route, the query, the body and the
//! headers it looks at.

use serde_json::Value;

/// What a request asks for, by method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /v5/user_account`.
    UserAccount,
    /// `GET /v5/user_account/analytics`.
    AccountAnalytics,
    /// `GET /v5/boards`.
    ListBoards,
    /// `POST /v5/boards`.
    CreateBoard,
    /// `GET /v5/boards/{id}`.
    GetBoard(String),
    /// `PATCH /v5/boards/{id}`.
    UpdateBoard(String),
    /// `DELETE /v5/boards/{id}`.
    DeleteBoard(String),
    /// `GET /v5/boards/{id}/sections`.
    ListSections(String),
    /// `POST /v5/boards/{id}/sections`.
    CreateSection(String),
    /// `GET /v5/boards/{id}/pins`.
    BoardPins(String),
    /// `POST /v5/pins`.
    CreatePin,
    /// `GET /v5/pins/{id}`.
    GetPin(String),
    /// `DELETE /v5/pins/{id}`.
    DeletePin(String),
    /// `GET /v5/pins/{id}/analytics`.
    PinAnalytics(String),
    /// `POST /v5/media`.
    CreateMedia,
    /// `GET /v5/media/{id}`.
    GetMedia(String),
    /// `POST /upload/media/{id}`: the S3-style upload URL.
    Upload(String),
}

impl Route {
    /// The route of `method path`, or `None` for the OAuth endpoints and the catch-all.
    pub(crate) fn parse(method: &str, path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let one = |s: &str| s.to_owned();
        Some(match (method, segments.as_slice()) {
            ("GET", ["v5", "user_account"]) => Self::UserAccount,
            ("GET", ["v5", "user_account", "analytics"]) => Self::AccountAnalytics,
            ("GET", ["v5", "boards"]) => Self::ListBoards,
            ("POST", ["v5", "boards"]) => Self::CreateBoard,
            ("GET", ["v5", "boards", id]) => Self::GetBoard(one(id)),
            ("PATCH", ["v5", "boards", id]) => Self::UpdateBoard(one(id)),
            ("DELETE", ["v5", "boards", id]) => Self::DeleteBoard(one(id)),
            ("GET", ["v5", "boards", id, "sections"]) => Self::ListSections(one(id)),
            ("POST", ["v5", "boards", id, "sections"]) => Self::CreateSection(one(id)),
            ("GET", ["v5", "boards", id, "pins"]) => Self::BoardPins(one(id)),
            ("POST", ["v5", "pins"]) => Self::CreatePin,
            ("GET", ["v5", "pins", id]) => Self::GetPin(one(id)),
            ("DELETE", ["v5", "pins", id]) => Self::DeletePin(one(id)),
            ("GET", ["v5", "pins", id, "analytics"]) => Self::PinAnalytics(one(id)),
            ("POST", ["v5", "media"]) => Self::CreateMedia,
            ("GET", ["v5", "media", id]) => Self::GetMedia(one(id)),
            ("POST", ["upload", "media", id]) => Self::Upload(one(id)),
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
    pub(crate) authorization: Option<String>,
    pub(crate) content_type: Option<String>,
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

    /// The bearer token, if the request carried one.
    pub(crate) fn bearer(&self) -> Option<&str> {
        self.authorization
            .as_deref()
            .and_then(crate::sim::bearer_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_path() {
        assert_eq!(Route::parse("GET", "/v5/boards"), Some(Route::ListBoards));
        assert_eq!(
            Route::parse("GET", "/v5/boards/12/sections"),
            Some(Route::ListSections("12".into()))
        );
        assert_eq!(Route::parse("PUT", "/v5/boards/12"), None);
        assert_eq!(Route::parse("POST", "/v5/oauth/token"), None);
        assert_eq!(Route::parse("GET", "/v5/pins/"), None);
        assert_eq!(
            Route::parse("POST", "/upload/media/7"),
            Some(Route::Upload("7".into()))
        );
    }
}
