//! The demo's own sign-in: a name typed into a form, kept in an HMAC-signed cookie. A real
//! host has its own accounts; this stands in for them so the SocialConnect routes have a
//! signed-in user to ask about.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Form;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use hmac::{Hmac, KeyInit, Mac};
use http::request::Parts;
use serde::Deserialize;
use sha2::Sha256;
use socialconnect_axum::EndUsers;
use socialconnect_core::id::SubjectId;

const COOKIE: &str = "sc_demo_session";

/// Users signed in by the demo's cookie.
#[derive(Clone)]
pub(crate) struct DemoUsers {
    key: Arc<[u8; 32]>,
    secure: bool,
}

impl DemoUsers {
    /// Cookies signed with a fresh random key (sessions end with the process); `secure` marks
    /// them HTTPS-only.
    pub(crate) fn new(secure: bool) -> Self {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        Self {
            key: Arc::new(key),
            secure,
        }
    }

    fn tag(&self, user: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_slice())
            .expect("HMAC takes any key length");
        mac.update(user.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn cookie(&self, user: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{COOKIE}={user}.{}; Path=/; HttpOnly; SameSite=Lax{secure}",
            self.tag(user)
        )
    }

    /// `/sign-in`, `/sign-out` and `/` (to the privacy page).
    pub(crate) fn routes(&self) -> Router {
        let signer = self.clone();
        Router::new()
            .route("/", get(|| async { Redirect::to("/privacy") }))
            .route(
                "/sign-in",
                get(sign_in_page).post(
                    move |headers: axum::http::HeaderMap, form: Form<SignIn>| {
                        let signer = signer.clone();
                        async move {
                            if !same_site(&headers) {
                                return (StatusCode::FORBIDDEN, "cross-site sign-in refused")
                                    .into_response();
                            }
                            signer.sign_in(form.0)
                        }
                    },
                ),
            )
            .route("/sign-out", get(sign_out))
            .route("/privacy/notice", get(notice))
    }

    fn sign_in(&self, form: SignIn) -> Response {
        let user = form.user.trim();
        let valid = !user.is_empty()
            && user.len() <= 64
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return (
                StatusCode::BAD_REQUEST,
                Html("<p>Use 1 to 64 letters, digits, '-' or '_'.</p>"),
            )
                .into_response();
        }
        let next = form
            .next
            .filter(|n| is_local_path(n))
            .unwrap_or_else(|| "/privacy".to_owned());
        let mut response = Redirect::to(&next).into_response();
        if let Ok(value) = HeaderValue::from_str(&self.cookie(user)) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        response
    }
}

/// Whether `next` is a path on this site: `/` then not `/` or `\\` (which browsers read as
/// another host), printable ASCII only.
fn is_local_path(next: &str) -> bool {
    let bytes = next.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\')
}

/// Whether a form post came from this site: browsers send `Origin` (and `Sec-Fetch-Site`) on
/// cross-site posts, so a sign-in cannot be forced from another site.
fn same_site(headers: &axum::http::HeaderMap) -> bool {
    // Browsers that send Fetch Metadata say it directly (`Origin` may then be `null`).
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
        // No browser signal at all: a script or a test client, not a forged cross-site form.
        (None, _) => true,
    }
}

#[async_trait]
impl EndUsers for DemoUsers {
    async fn signed_in(&self, request: &Parts) -> Option<SubjectId> {
        for value in request.headers.get_all(header::COOKIE) {
            for cookie in value.to_str().ok()?.split(';') {
                let Some((name, value)) = cookie.trim().split_once('=') else {
                    continue;
                };
                if name != COOKIE {
                    continue;
                }
                let (user, tag) = value.rsplit_once('.')?;
                let expected = self.tag(user);
                if subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), tag.as_bytes()).into() {
                    return SubjectId::new(user).ok();
                }
            }
        }
        None
    }

    fn sign_in_url(&self, next: &str) -> String {
        let mut url = String::from("/sign-in?next=");
        url.extend(url::form_urlencoded::byte_serialize(next.as_bytes()));
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for ok in ["/privacy", "/connect/facebook?x=1", "/"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\tevil",
            "https://evil.example",
            "",
            "privacy",
            "/é",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn cross_site_sign_ins_are_refused() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("localhost:8443"));
        assert!(same_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost:8443"),
        );
        assert!(same_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost:8443"),
        );
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_site(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_site(&h));
    }
}

#[derive(Deserialize)]
pub(crate) struct SignIn {
    user: String,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn sign_in_page(Query(q): Query<Next>) -> Html<String> {
    let next = q.next.unwrap_or_else(|| "/privacy".to_owned());
    let next: String = next
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "/-_?=&.".contains(*c))
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in</title>\
         </head><body><h1>Demo sign-in</h1><p>This demo host has no accounts: any name signs \
         you in.</p><form method=\"post\" action=\"/sign-in\"><input type=\"hidden\" \
         name=\"next\" value=\"{next}\"><label>Name <input name=\"user\" id=\"user\" \
         required></label> <button type=\"submit\" id=\"sign-in\">Sign in</button></form>\
         </body></html>"
    ))
}

async fn sign_out() -> Response {
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("sc_demo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
    response
}

async fn notice() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Privacy notice\
         </title></head><body><h1>Privacy notice (demo)</h1><p>This sandbox stores what you \
         connect in an encrypted local database, only while your account is connected, and \
         keeps usage logs for 90 days. You can withdraw, export and delete everything on your \
         privacy page.</p></body></html>",
    )
}
