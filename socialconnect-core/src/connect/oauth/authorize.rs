//! Building the authorize (consent dialog) URL.

use url::Url;

use crate::id::Scope;
use crate::platform::OAuthSpec;
use crate::secret::StateToken;

/// Builds the URL the end user's browser is sent to.
pub fn authorize_url(
    spec: &OAuthSpec,
    redirect_uri: &Url,
    scopes: &[Scope],
    state: &StateToken,
    pkce_challenge: Option<&str>,
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
}
