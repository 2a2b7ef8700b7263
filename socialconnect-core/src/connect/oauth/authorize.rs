//! Building the authorize (consent dialog) URL.

use url::Url;

use crate::error::{Error, Result};
use crate::id::Scope;
use crate::platform::OAuthSpec;
use crate::secret::StateToken;

/// Parameters the engine sets itself; a per-request parameter may not name one of them (nor
/// the spec's client-id parameter).
pub const RESERVED_AUTHORIZE_PARAMS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// The most per-request authorize parameters accepted.
const MAX_EXTRA_PARAMS: usize = 32;

/// Checks per-request authorize parameters: at most 32, names of 1-64 bytes of
/// `[A-Za-z0-9_.-]`, values of at most 2048 bytes without control characters, no name twice,
/// and none of [`RESERVED_AUTHORIZE_PARAMS`] or `spec.client_id_param`. Fails with
/// `InvalidInput`.
pub fn check_authorize_params(spec: &OAuthSpec, params: &[(String, String)]) -> Result<()> {
    if params.len() > MAX_EXTRA_PARAMS {
        return Err(Error::invalid_input(format!(
            "at most {MAX_EXTRA_PARAMS} extra authorize parameters"
        )));
    }
    for (i, (name, value)) in params.iter().enumerate() {
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !well_formed {
            return Err(Error::invalid_input(
                "an authorize parameter name must be 1-64 characters of [A-Za-z0-9_.-]",
            ));
        }
        if RESERVED_AUTHORIZE_PARAMS.contains(&name.as_str()) || name == spec.client_id_param {
            return Err(Error::invalid_input(format!(
                "the authorize parameter `{name}` is set by SocialConnect and cannot be overridden"
            )));
        }
        if value.len() > 2048 || value.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "the authorize parameter `{name}` must be at most 2048 bytes without control characters"
            )));
        }
        if params[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::invalid_input(format!(
                "the authorize parameter `{name}` is given twice"
            )));
        }
    }
    Ok(())
}

/// Builds the URL the end user's browser is sent to.
pub fn authorize_url(
    spec: &OAuthSpec,
    redirect_uri: &Url,
    scopes: &[Scope],
    state: &StateToken,
    pkce_challenge: Option<&str>,
) -> Url {
    authorize_url_with(spec, redirect_uri, scopes, state, pkce_challenge, &[])
}

/// Like [`authorize_url`], with per-request parameters (`login_hint`, `prompt`, a platform's
/// own) after the spec's fixed ones; a per-request parameter replaces a fixed one of the same
/// name. Check them first with [`check_authorize_params`].
pub fn authorize_url_with(
    spec: &OAuthSpec,
    redirect_uri: &Url,
    scopes: &[Scope],
    state: &StateToken,
    pkce_challenge: Option<&str>,
    extra: &[(String, String)],
) -> Url {
    let mut url = spec.authorize_url.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair(spec.client_id_param, &spec.client_id);
        q.append_pair("redirect_uri", redirect_uri.as_str());
        if !scopes.is_empty() {
            let joined = scopes
                .iter()
                .map(Scope::as_str)
                .collect::<Vec<_>>()
                .join(spec.scope_separator);
            q.append_pair("scope", &joined);
        }
        q.append_pair("state", state.expose_secret());
        if let Some(challenge) = pkce_challenge {
            q.append_pair("code_challenge", challenge);
            q.append_pair("code_challenge_method", "S256");
        }
        for (k, v) in &spec.extra_authorize_params {
            if !extra.iter().any(|(name, _)| name == k) {
                q.append_pair(k, v);
            }
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::PlatformId;

    #[test]
    fn builds_query() {
        let spec = OAuthSpec::new(
            PlatformId::TIKTOK,
            "ck",
            Url::parse("https://www.tiktok.com/v2/auth/authorize/").unwrap(),
            Url::parse("https://open.tiktokapis.com/v2/oauth/token/").unwrap(),
        )
        .with_client_id_param("client_key")
        .with_scope_separator(",");
        let url = authorize_url(
            &spec,
            &Url::parse("https://host.example/cb").unwrap(),
            &Scope::parse_list("user.info.basic video.publish"),
            &StateToken::new("st"),
            Some("ch"),
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_key"], "ck");
        assert_eq!(q["scope"], "user.info.basic,video.publish");
        assert_eq!(q["state"], "st");
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(!q.contains_key("client_id"));
    }

    fn spec() -> OAuthSpec {
        OAuthSpec::new(
            PlatformId::TIKTOK,
            "ck",
            Url::parse("https://www.tiktok.com/v2/auth/authorize/").unwrap(),
            Url::parse("https://open.tiktokapis.com/v2/oauth/token/").unwrap(),
        )
        .with_client_id_param("client_key")
        .with_authorize_param("prompt", "none")
        .with_authorize_param("display", "page")
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn per_request_params_follow_and_replace_fixed_ones() {
        let spec = spec();
        let extra = pairs(&[("login_hint", "a@b.example"), ("prompt", "consent")]);
        check_authorize_params(&spec, &extra).unwrap();
        let url = authorize_url_with(
            &spec,
            &Url::parse("https://host.example/cb").unwrap(),
            &[],
            &StateToken::new("st"),
            None,
            &extra,
        );
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let all = |name: &str| q.iter().filter(|(k, _)| k == name).count();
        assert_eq!(all("prompt"), 1);
        assert!(q.contains(&("prompt".to_owned(), "consent".to_owned())));
        assert!(q.contains(&("display".to_owned(), "page".to_owned())));
        assert!(q.contains(&("login_hint".to_owned(), "a@b.example".to_owned())));
        assert!(!q.iter().any(|(k, _)| k == "scope"));
    }

    #[test]
    fn reserved_and_malformed_params_are_refused() {
        let spec = spec();
        for bad in [
            pairs(&[("state", "x")]),
            pairs(&[("redirect_uri", "https://evil.example")]),
            pairs(&[("client_key", "other")]),
            pairs(&[("client_id", "other")]),
            pairs(&[("response_type", "token")]),
            pairs(&[("scope", "all")]),
            pairs(&[("code_challenge", "x")]),
            pairs(&[("code_challenge_method", "plain")]),
            pairs(&[("", "x")]),
            pairs(&[("a b", "x")]),
            pairs(&[("login_hint", "a\nb")]),
            pairs(&[("prompt", "a"), ("prompt", "b")]),
        ] {
            let err = check_authorize_params(&spec, &bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
        }
        let many: Vec<(String, String)> =
            (0..33).map(|i| (format!("p{i}"), String::new())).collect();
        assert!(check_authorize_params(&spec, &many).is_err());
        let long = vec![("login_hint".to_owned(), "x".repeat(2049))];
        assert!(check_authorize_params(&spec, &long).is_err());
    }
}
