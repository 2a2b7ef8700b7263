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
                get(sign_in_page).post(move |form: Form<SignIn>| {
                    let signer = signer.clone();
                    async move { signer.sign_in(form.0) }
                }),
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
            .filter(|n| n.starts_with('/') && !n.starts_with("//"))
            .unwrap_or_else(|| "/privacy".to_owned());
        let mut response = Redirect::to(&next).into_response();
        if let Ok(value) = HeaderValue::from_str(&self.cookie(user)) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        response
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
