//! Facebook Login: the dialog, `oauth/access_token` (code and `fb_exchange_token`),
//! `debug_token`, `/me`, `/me/accounts` and `DELETE /me/permissions`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use url::Url;

use super::state::{CODE_LIFETIME, CodeRecord, Ctx, Graph, Need, State, TokenKind, problem};
use super::wire::{
    Reply, graph_error, invalid_param, invalid_token, method_error, paginate, select,
};

/// A login request the dialog refuses outright (without redirecting).
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) code: i64,
    pub(crate) message: String,
}

fn refuse(code: i64, message: &str) -> Refusal {
    Refusal {
        code,
        message: message.to_owned(),
    }
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn seconds(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The login dialog: where the browser arriving with `query` is sent.
pub(crate) fn dialog(
    graph: &Graph,
    st: &mut State,
    now: DateTime<Utc>,
    query: &[(String, String)],
) -> Result<Url, Refusal> {
    let cfg = &graph.config;
    if param(query, "client_id") != Some(cfg.app_id.as_str()) {
        return Err(refuse(
            101,
            "Error validating application. Invalid application ID.",
        ));
    }
    let Some(redirect_uri) = param(query, "redirect_uri") else {
        return Err(refuse(100, "Missing redirect_uri parameter."));
    };
    let Ok(mut redirect) = Url::parse(redirect_uri) else {
        return Err(refuse(191, "The redirect_uri is not an absolute URL."));
    };
    if !graph.options.accepts_redirect(redirect_uri) {
        return Err(refuse(
            191,
            "Can't load URL: the redirect_uri is not among the app's Valid OAuth Redirect URIs.",
        ));
    }
    match param(query, "response_type") {
        None | Some("code") => {}
        Some(_) => {
            return Err(refuse(
                100,
                "The simulator supports response_type=code only.",
            ));
        }
    }
    let Some(state) = param(query, "state") else {
        return Err(refuse(100, "Missing state parameter."));
    };
    if st.denials > 0 {
        st.denials -= 1;
        redirect
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_code", "200")
            .append_pair("error_description", "Permissions error")
            .append_pair("error_reason", "user_denied")
            .append_pair("state", state);
        return Ok(redirect);
    }
    let requested: Vec<String> = param(query, "scope")
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let code = format!("AQ{}", uuid::Uuid::new_v4().simple());
    st.codes.insert(
        code.clone(),
        CodeRecord {
            redirect_uri: redirect_uri.to_owned(),
            scopes: graph.granted(requested),
            expires_at: now + CODE_LIFETIME,
            used: false,
        },
    );
    redirect
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    Ok(redirect)
}

fn token_body(token: &str, expires_in: Option<TimeDelta>) -> Value {
    let mut body = json!({ "access_token": token, "token_type": "bearer" });
    if let Some(d) = expires_in {
        body["expires_in"] = json!(d.num_seconds());
    }
    body
}

/// `oauth/access_token`: the app's credentials, then the code exchange, the
/// `fb_exchange_token` exchange, or `client_credentials`.
pub(crate) fn access_token(cx: &mut Ctx<'_>) -> Reply {
    let p = &cx.call.params;
    if p.get("client_id").as_deref() != Some(cx.cfg.app_id.as_str()) {
        return graph_error(
            101,
            None,
            "Error validating application. Invalid application ID.",
        );
    }
    if p.get("client_secret").as_deref() != Some(cx.cfg.app_secret.as_str()) {
        return graph_error(1, None, "Error validating client secret.");
    }
    match p.get("grant_type").as_deref() {
        Some("fb_exchange_token") => long_lived(cx),
        Some("client_credentials") => Reply::ok(token_body(&cx.app_token(), None)),
        Some(other) => invalid_param(format!("Unsupported grant_type `{other}`")),
        None => code_exchange(cx),
    }
}

fn code_exchange(cx: &mut Ctx<'_>) -> Reply {
    let p = &cx.call.params;
    let Some(code) = p.get("code") else {
        return method_error(100, None, "Missing code parameter.");
    };
    let Some(redirect_uri) = p.get("redirect_uri") else {
        return method_error(100, None, "Missing redirect_uri parameter.");
    };
    let Some(record) = cx.st.codes.get_mut(&code) else {
        return graph_error(100, None, "Invalid verification code format.");
    };
    if record.used {
        return graph_error(100, Some(36009), "This authorization code has been used.");
    }
    // Any redemption attempt spends the code, as Meta's codes are single-use.
    record.used = true;
    if cx.now >= record.expires_at {
        return graph_error(100, Some(36007), "This authorization code has expired.");
    }
    if redirect_uri != record.redirect_uri {
        return graph_error(
            100,
            Some(36008),
            "Error validating verification code. Please make sure your redirect_uri is \
             identical to the one you used in the OAuth dialog request",
        );
    }
    let scopes = record.scopes.clone();
    let lifetime = seconds(cx.cfg.short_lived_lifetime);
    let token = cx.st.mint(
        TokenKind::ShortUser,
        scopes,
        cx.now,
        Some(cx.now + lifetime),
    );
    Reply::ok(token_body(&token, Some(lifetime)))
}

fn long_lived(cx: &mut Ctx<'_>) -> Reply {
    let Some(token) = cx.call.params.get("fb_exchange_token") else {
        return method_error(100, None, "Missing fb_exchange_token parameter.");
    };
    let Some(record) = cx.st.tokens.get(&token).cloned() else {
        return invalid_token(
            None,
            "Invalid OAuth access token - Cannot parse access token",
        );
    };
    if let Some((subcode, message)) = problem(&record, cx.now) {
        return invalid_token(subcode, message);
    }
    if !record.kind.is_user() {
        return invalid_param("fb_exchange_token must be a user access token");
    }
    let lifetime = seconds(cx.cfg.long_lived_lifetime);
    let token = cx.st.mint(
        TokenKind::LongUser,
        record.scopes,
        cx.now,
        Some(cx.now + lifetime),
    );
    Reply::ok(token_body(&token, Some(lifetime)))
}

/// `debug_token?input_token=…`, called with the app token (or a valid token of the app).
pub(crate) fn debug_token(cx: &mut Ctx<'_>) -> Reply {
    if let Err(e) = cx.authenticate(Need::AppOrToken) {
        return e;
    }
    let Some(input) = cx.call.params.get("input_token") else {
        return invalid_param("The parameter input_token is required");
    };
    let cfg = cx.cfg;
    if input == cx.app_token() {
        return Reply::ok(json!({ "data": {
            "app_id": cfg.app_id,
            "type": "APP",
            "application": cfg.app_name,
            "expires_at": 0,
            "is_valid": true,
            "scopes": [],
        }}));
    }
    let Some(record) = cx.st.tokens.get(&input) else {
        return Reply::ok(json!({ "data": {
            "error": { "code": 190, "message": "Invalid OAuth access token." },
            "is_valid": false,
            "scopes": [],
        }}));
    };
    let mut data = Map::new();
    data.insert("app_id".into(), json!(cfg.app_id));
    data.insert("type".into(), json!(record.kind.debug_type()));
    data.insert("application".into(), json!(cfg.app_name));
    data.insert(
        "data_access_expires_at".into(),
        json!(record.data_access_expires_at.timestamp()),
    );
    data.insert(
        "expires_at".into(),
        json!(record.expires_at.map_or(0, |t| t.timestamp())),
    );
    let issue = problem(record, cx.now);
    data.insert("is_valid".into(), json!(issue.is_none()));
    if record.kind != TokenKind::ShortUser {
        data.insert("issued_at".into(), json!(record.issued_at.timestamp()));
    }
    data.insert("scopes".into(), json!(record.scopes));
    let user_id = match record.kind {
        TokenKind::System => &cfg.system_user_id,
        _ => &cfg.user_id,
    };
    data.insert("user_id".into(), json!(user_id));
    if record.kind == TokenKind::Page {
        data.insert("profile_id".into(), json!(cfg.page_id));
    }
    if let Some((subcode, message)) = issue {
        data.insert(
            "error".into(),
            json!({ "code": 190, "message": message, "subcode": subcode }),
        );
    }
    Reply::ok(json!({ "data": data }))
}

/// `/me`: the user, the Page or the system user behind the token.
pub(crate) fn me(cx: &mut Ctx<'_>) -> Reply {
    let caller = match cx.authenticate(Need::AnyToken) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let cfg = cx.cfg;
    let record = match caller.kind {
        Some(TokenKind::Page) => json!({ "id": cfg.page_id, "name": cfg.page_name }),
        Some(TokenKind::System) => {
            json!({ "id": cfg.system_user_id, "name": "SocialConnect System User" })
        }
        _ => json!({ "id": cfg.user_id, "name": cfg.user_name }),
    };
    Reply::ok(select(&record, cx.call.params.fields().as_deref()))
}

/// `/me/accounts`: the user's Page with its Page token, tasks and Instagram account.
pub(crate) fn accounts(cx: &mut Ctx<'_>) -> Reply {
    let caller = match cx.authenticate(Need::User) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let page_token = cx.st.page_token_for(&caller.token, cx.now);
    let cfg = cx.cfg;
    let mut page = json!({
        "access_token": page_token,
        "category": "Bakery",
        "category_list": [{ "id": "2705", "name": "Bakery" }],
        "name": cfg.page_name,
        "id": cfg.page_id,
        "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
    });
    if cfg.instagram_linked {
        page["instagram_business_account"] =
            json!({ "id": cfg.instagram_user_id, "username": cfg.instagram_username });
    }
    let page = select(&page, cx.call.params.fields().as_deref());
    paginate(vec![page], &cx.call.params, &cx.url()).map_or_else(|e| e, Reply::ok)
}

/// `DELETE /me/permissions`: the user removes the app; every user and Page token dies.
pub(crate) fn revoke(cx: &mut Ctx<'_>) -> Reply {
    if let Err(e) = cx.authenticate(Need::User) {
        return e;
    }
    cx.st.revoke_user_tokens();
    Reply::ok(json!({ "success": true }))
}
