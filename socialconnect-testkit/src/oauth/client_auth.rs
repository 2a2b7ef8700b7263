//! How a client authenticates at the token and revocation endpoints (RFC 6749 §2.3.1).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// How the client presented its credentials on a token or revocation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
    Basic,
    /// Form parameters: the client-id parameter and `client_secret` in the body.
    RequestBody,
}

/// The credentials a request carried, before they are checked.
#[derive(Debug)]
pub(crate) struct Presented {
    pub(crate) method: ClientAuth,
    pub(crate) id: Option<String>,
    pub(crate) secret: Option<String>,
}

/// Reads the credentials from the `Authorization` header when it holds a Basic scheme, from the
/// form otherwise. `None` when a Basic header is present but cannot be decoded.
pub(crate) fn presented(
    authorization: Option<&str>,
    form: &[(String, String)],
    id_param: &str,
) -> Option<Presented> {
    if let Some(encoded) = authorization.and_then(basic_credentials) {
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        return Some(Presented {
            method: ClientAuth::Basic,
            id: Some(form_decode(id)?),
            secret: Some(form_decode(secret)?),
        });
    }
    Some(Presented {
        method: ClientAuth::RequestBody,
        id: param(form, id_param).map(str::to_owned),
        secret: param(form, "client_secret").map(str::to_owned),
    })
}

/// The first value of form or query parameter `name`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn basic_credentials(header: &str) -> Option<&str> {
    let (scheme, rest) = header.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then_some(rest)
}

/// Undoes `application/x-www-form-urlencoded` on one component, as RFC 6749 §2.3.1 asks the
/// client to apply before Basic encoding. `None` on a malformed escape.
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn basic_header_wins_and_is_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my+id:s%3Acret"));
        let p = presented(Some(&header), &form(&[("client_id", "other")]), "client_id")
            .expect("decodable");
        assert_eq!(p.method, ClientAuth::Basic);
        assert_eq!(p.id.as_deref(), Some("my id"));
        assert_eq!(p.secret.as_deref(), Some("s:cret"));
    }

    #[test]
    fn body_credentials_use_the_configured_id_param() {
        let f = form(&[("client_key", "k"), ("client_secret", "s")]);
        let p = presented(None, &f, "client_key").expect("body");
        assert_eq!(p.method, ClientAuth::RequestBody);
        assert_eq!(
            (p.id.as_deref(), p.secret.as_deref()),
            (Some("k"), Some("s"))
        );
    }

    #[test]
    fn malformed_basic_is_none() {
        assert!(presented(Some("Basic !!!"), &[], "client_id").is_none());
        let no_colon = format!("Basic {}", STANDARD.encode("nocolon"));
        assert!(presented(Some(&no_colon), &[], "client_id").is_none());
        let bad_escape = format!("Basic {}", STANDARD.encode("a%zz:b"));
        assert!(presented(Some(&bad_escape), &[], "client_id").is_none());
    }

    #[test]
    fn bearer_header_is_not_client_auth() {
        let p = presented(Some("Bearer x"), &[], "client_id").expect("body");
        assert_eq!(p.method, ClientAuth::RequestBody);
        assert_eq!(p.id, None);
    }
}
