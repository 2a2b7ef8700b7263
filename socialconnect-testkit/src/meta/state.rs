//! The simulated Graph API's state and the rules every endpoint shares: tokens (minting,
//! validity, the token kind an endpoint needs, `appsecret_proof`), object ids, faults and
//! usage headers.
//!
//! All state sits behind one mutex and each request does all its work under a single lock, so
//! counters and single-use rules hold exactly under any concurrency.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use url::Url;

use super::builder::GraphSettings;
use super::request::Call;
use super::wire::{Reply, graph_error, graph_time, invalid_token, method_error};
use super::{ContainerFault, GraphFault, RecordedRequest};
use crate::sim::FaultQueue;
use crate::sim::SimOptions;

/// How long a login code can be redeemed.
pub(crate) const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// How long data access lasts after a login, separate from the token's own expiry.
pub(crate) const DATA_ACCESS_WINDOW: TimeDelta = TimeDelta::days(90);
/// How long an IG container can wait to be published.
pub(crate) const CONTAINER_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// Permissions granted to tokens minted without a dialog, unless the builder says otherwise.
pub(crate) const DEFAULT_SCOPES: &[&str] = &[
    "public_profile",
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "whatsapp_business_messaging",
    "whatsapp_business_management",
];

// Id families: distinct ranges, most beyond 2^53, so a client that parses ids as f64 breaks.
const POST_ID_BASE: u64 = 122_100_000_000_000_000;
const COMMENT_ID_BASE: u64 = 122_200_000_000_000_000;
const CONTAINER_ID_BASE: u64 = 17_900_000_000_000_000;
const IG_MEDIA_ID_BASE: u64 = 17_950_000_000_000_000;
const WA_MEDIA_ID_BASE: u64 = 1_037_000_000_000_000;

/// Request counters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counters {
    pub(crate) authorize: usize,
    pub(crate) graph: usize,
    pub(crate) code_exchanges: usize,
    pub(crate) long_lived_exchanges: usize,
    pub(crate) debug_token: usize,
    pub(crate) revocations: usize,
    pub(crate) posts: usize,
    pub(crate) comments: usize,
    pub(crate) containers: usize,
    pub(crate) status_polls: usize,
    pub(crate) published_media: usize,
    pub(crate) messages_sent: usize,
    pub(crate) read_receipts: usize,
    pub(crate) media_uploads: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    ShortUser,
    LongUser,
    Page,
    System,
}

impl TokenKind {
    pub(crate) fn is_user(self) -> bool {
        matches!(self, Self::ShortUser | Self::LongUser)
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::ShortUser => "EAA-user-short",
            Self::LongUser => "EAA-user-long",
            Self::Page => "EAA-page",
            Self::System => "EAA-system",
        }
    }

    /// The `type` debug_token reports.
    pub(crate) fn debug_type(self) -> &'static str {
        match self {
            Self::ShortUser | Self::LongUser => "USER",
            Self::Page => "PAGE",
            Self::System => "SYSTEM_USER",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenStatus {
    Active,
    /// The user removed the app (`DELETE /me/permissions`).
    Revoked,
    /// Invalidated by the test, as after a password change.
    Invalidated,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub(crate) kind: TokenKind,
    pub(crate) scopes: Vec<String>,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) data_access_expires_at: DateTime<Utc>,
    pub(crate) status: TokenStatus,
}

#[derive(Debug)]
pub(crate) struct CodeRecord {
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) id: String,
    pub(crate) message: Option<String>,
    pub(crate) link: Option<String>,
    pub(crate) created_time: DateTime<Utc>,
    pub(crate) published: bool,
    pub(crate) scheduled_publish_time: Option<DateTime<Utc>>,
    pub(crate) photo_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub(crate) id: String,
    pub(crate) parent: String,
    pub(crate) message: String,
    pub(crate) created_time: DateTime<Utc>,
    pub(crate) author_id: String,
    pub(crate) author_name: String,
    pub(crate) instagram: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Fate {
    Finished,
    Error(String),
    Expired,
}

#[derive(Debug, Clone)]
pub(crate) struct Container {
    pub(crate) media_type: &'static str,
    pub(crate) product_type: &'static str,
    pub(crate) caption: Option<String>,
    pub(crate) is_carousel_item: bool,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) polls: u32,
    pub(crate) fate: Fate,
    pub(crate) published_as: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct IgMedia {
    pub(crate) id: String,
    pub(crate) caption: Option<String>,
    pub(crate) media_type: &'static str,
    pub(crate) product_type: &'static str,
    pub(crate) timestamp: DateTime<Utc>,
}

/// What an id in a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    Page,
    Post(usize),
    Photo(usize),
    Comment(usize),
    IgUser,
    Container,
    IgMedia(usize),
    Phone,
    Unknown,
}

/// Everything that changes while the simulator runs.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) counters: Counters,
    pub(crate) tokens: HashMap<String, TokenRecord>,
    /// The Page token handed out for each user token.
    pub(crate) page_tokens: HashMap<String, String>,
    pub(crate) system_token: String,
    pub(crate) codes: HashMap<String, CodeRecord>,
    pub(crate) denials: usize,
    pub(crate) faults: FaultQueue<GraphFault>,
    pub(crate) container_faults: VecDeque<ContainerFault>,
    pub(crate) app_usage: u32,
    pub(crate) business_usage: BTreeMap<String, (u32, u32)>,
    pub(crate) require_proof: bool,
    pub(crate) seq: u64,
    pub(crate) posts: Vec<Post>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) containers: HashMap<String, Container>,
    pub(crate) ig_media: Vec<IgMedia>,
    pub(crate) publishes: Vec<DateTime<Utc>>,
    pub(crate) requests: Vec<RecordedRequest>,
}

impl State {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(crate) fn new_post_id(&mut self, page_id: &str) -> String {
        format!("{page_id}_{}", POST_ID_BASE + self.next())
    }

    pub(crate) fn new_photo_id(&mut self) -> String {
        (POST_ID_BASE + self.next()).to_string()
    }

    pub(crate) fn new_comment_suffix(&mut self) -> u64 {
        COMMENT_ID_BASE + self.next()
    }

    pub(crate) fn new_container_id(&mut self) -> String {
        (CONTAINER_ID_BASE + self.next()).to_string()
    }

    pub(crate) fn new_ig_media_id(&mut self) -> String {
        (IG_MEDIA_ID_BASE + self.next()).to_string()
    }

    pub(crate) fn new_wa_media_id(&mut self) -> String {
        (WA_MEDIA_ID_BASE + self.next()).to_string()
    }

    /// Mints a token of `kind`.
    pub(crate) fn mint(
        &mut self,
        kind: TokenKind,
        scopes: Vec<String>,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> String {
        let token = format!("{}-{}", kind.prefix(), uuid::Uuid::new_v4().simple());
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                kind,
                scopes,
                issued_at: now,
                expires_at,
                data_access_expires_at: now + DATA_ACCESS_WINDOW,
                status: TokenStatus::Active,
            },
        );
        token
    }

    /// The Page token `/me/accounts` hands out for `user_token`: the same one while it stays
    /// valid, never expiring when derived from a long-lived token, else living as long as the
    /// user token.
    pub(crate) fn page_token_for(&mut self, user_token: &str, now: DateTime<Utc>) -> String {
        if let Some(existing) = self.page_tokens.get(user_token)
            && self
                .tokens
                .get(existing)
                .is_some_and(|r| problem(r, now).is_none())
        {
            return existing.clone();
        }
        let Some(user) = self.tokens.get(user_token).cloned() else {
            return String::new();
        };
        let expires_at = match user.kind {
            TokenKind::LongUser => None,
            _ => user.expires_at,
        };
        let token = self.mint(TokenKind::Page, user.scopes, now, expires_at);
        self.page_tokens
            .insert(user_token.to_owned(), token.clone());
        token
    }

    /// What `id` names.
    pub(crate) fn object(&self, cfg: &GraphSettings, id: &str) -> Object {
        if id == cfg.page_id {
            return Object::Page;
        }
        if cfg.instagram_linked && id == cfg.instagram_user_id {
            return Object::IgUser;
        }
        if id == cfg.phone_number_id {
            return Object::Phone;
        }
        if self.containers.contains_key(id) {
            return Object::Container;
        }
        if let Some(i) = self.posts.iter().position(|p| p.id == id) {
            return Object::Post(i);
        }
        if let Some(i) = self
            .posts
            .iter()
            .position(|p| p.photo_id.as_deref() == Some(id))
        {
            return Object::Photo(i);
        }
        if let Some(i) = self.comments.iter().position(|c| c.id == id) {
            return Object::Comment(i);
        }
        if let Some(i) = self.ig_media.iter().position(|m| m.id == id) {
            return Object::IgMedia(i);
        }
        Object::Unknown
    }

    /// Marks every user and Page token revoked, as when the user removes the app.
    pub(crate) fn revoke_user_tokens(&mut self) {
        for record in self.tokens.values_mut() {
            if record.kind != TokenKind::System && record.status == TokenStatus::Active {
                record.status = TokenStatus::Revoked;
            }
        }
        self.page_tokens.clear();
    }

    /// Publications in the rolling 24 h before `now`.
    pub(crate) fn quota_usage(&self, now: DateTime<Utc>) -> usize {
        self.publishes
            .iter()
            .filter(|t| now - **t < TimeDelta::days(1))
            .count()
    }
}

/// Why `record` cannot be used at `now`, as the Graph error 190 it earns.
pub(crate) fn problem(record: &TokenRecord, now: DateTime<Utc>) -> Option<(Option<i64>, String)> {
    match record.status {
        TokenStatus::Revoked => {
            return Some((
                Some(458),
                "Error validating access token: The user has not authorized the application."
                    .to_owned(),
            ));
        }
        TokenStatus::Invalidated => {
            return Some((
                Some(460),
                "Error validating access token: The session has been invalidated because the \
                 user changed their password or Facebook has changed the session for security \
                 reasons."
                    .to_owned(),
            ));
        }
        TokenStatus::Active => {}
    }
    match record.expires_at {
        Some(at) if now >= at => Some((
            Some(463),
            format!(
                "Error validating access token: Session has expired on {}. The current time is \
                 {}.",
                graph_time(at),
                graph_time(now)
            ),
        )),
        _ => None,
    }
}

/// `hex(HMAC-SHA256(app_secret, token))`.
pub(crate) fn appsecret_proof(app_secret: &str, token: &str) -> String {
    crate::sim::hmac_sha256_hex(app_secret.as_bytes(), &[token.as_bytes()])
}

/// The token kinds an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// A user token (`/me/accounts`, `/me/permissions`).
    User,
    /// The Page's own token (publishing and reading on the Page).
    Page,
    /// A user or Page token (Instagram, the Page object).
    UserOrPage,
    /// A system-user or user token (WhatsApp).
    Messaging,
    /// Any user, Page or system-user token (`/me`).
    AnyToken,
    /// The app token or any valid token (`debug_token`).
    AppOrToken,
}

/// `cx.authenticate(need)`, returning the refusal from the calling endpoint.
macro_rules! authenticate {
    ($cx:expr, $need:expr) => {
        match $cx.authenticate($need) {
            Ok(caller) => caller,
            Err(reply) => return reply,
        }
    };
}
pub(crate) use authenticate;

/// Who called, once authenticated.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) token: String,
    /// `None` for the app token.
    pub(crate) kind: Option<TokenKind>,
}

/// The simulated Graph API: configuration, address and state.
#[derive(Debug)]
pub(crate) struct Graph {
    pub(crate) config: GraphSettings,
    pub(crate) options: SimOptions,
    pub(crate) base: Url,
    state: Mutex<State>,
}

impl Graph {
    pub(crate) fn new(options: SimOptions, config: GraphSettings, base: Url) -> Self {
        let now = options.now();
        let mut state = State {
            require_proof: config.require_appsecret_proof,
            app_usage: 1,
            ..State::default()
        };
        let scopes = [
            "whatsapp_business_messaging",
            "whatsapp_business_management",
        ]
        .map(str::to_owned)
        .to_vec();
        state.system_token = state.mint(TokenKind::System, scopes, now, None);
        for n in 1..=config.seeded_posts {
            let id = state.new_post_id(&config.page_id);
            let age = i64::try_from(config.seeded_posts - n + 1).unwrap_or(i64::MAX);
            state.posts.push(Post {
                id,
                message: Some(format!("Sample post #{n}")),
                link: None,
                created_time: now - TimeDelta::hours(age),
                published: true,
                scheduled_publish_time: None,
                photo_id: None,
            });
        }
        Self {
            config,
            options,
            base,
            state: Mutex::new(state),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Each request finishes its update before releasing the lock, and nothing in it
        // panics mid-update, so the state behind a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.options.now()
    }

    /// The scopes a login grants when it asked for `requested`.
    pub(crate) fn granted(&self, requested: Vec<String>) -> Vec<String> {
        self.options.granted(requested)
    }

    /// The scopes of a token minted without a dialog.
    pub(crate) fn default_scopes(&self) -> Vec<String> {
        self.granted(DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// One request being answered: configuration, state (locked), the time and the call.
pub(crate) struct Ctx<'a> {
    pub(crate) cfg: &'a GraphSettings,
    pub(crate) base: &'a Url,
    pub(crate) st: &'a mut State,
    pub(crate) now: DateTime<Utc>,
    pub(crate) call: &'a Call,
}

impl Ctx<'_> {
    pub(crate) fn app_token(&self) -> String {
        format!("{}|{}", self.cfg.app_id, self.cfg.app_secret)
    }

    /// The request's URL on this server, for `paging.next`.
    pub(crate) fn url(&self) -> Url {
        let mut url = self.base.clone();
        url.set_path(&self.call.path);
        url
    }

    /// Checks the caller's token (present, known, unexpired, unrevoked), its
    /// `appsecret_proof`, and that its kind suits the endpoint.
    pub(crate) fn authenticate(&self, need: Need) -> Result<Caller, Reply> {
        let Some(token) = self.call.token() else {
            return Err(graph_error(
                104,
                None,
                "An access token is required to request this resource.",
            ));
        };
        if token == self.app_token() {
            return match need {
                Need::AppOrToken => Ok(Caller { token, kind: None }),
                _ => Err(graph_error(
                    200,
                    None,
                    "(#200) An app access token cannot be used on this endpoint.",
                )),
            };
        }
        let Some(record) = self.st.tokens.get(&token) else {
            let message = if token.contains('|') {
                "Invalid OAuth access token signature."
            } else {
                "Invalid OAuth access token - Cannot parse access token"
            };
            return Err(invalid_token(None, message));
        };
        if let Some((subcode, message)) = problem(record, self.now) {
            return Err(invalid_token(subcode, message));
        }
        match self.call.params.get("appsecret_proof") {
            Some(proof) if proof != appsecret_proof(&self.cfg.app_secret, &token) => {
                return Err(method_error(
                    100,
                    None,
                    "Invalid appsecret_proof provided in the API argument",
                ));
            }
            None if self.st.require_proof => {
                return Err(method_error(
                    100,
                    None,
                    "API calls from the server require an appsecret_proof argument",
                ));
            }
            _ => {}
        }
        let kind = record.kind;
        let allowed = match need {
            Need::User => kind.is_user(),
            Need::Page => kind == TokenKind::Page,
            Need::UserOrPage => kind.is_user() || kind == TokenKind::Page,
            Need::Messaging => kind.is_user() || kind == TokenKind::System,
            Need::AnyToken | Need::AppOrToken => true,
        };
        if allowed {
            return Ok(Caller {
                token,
                kind: Some(kind),
            });
        }
        Err(if need == Need::Page && kind.is_user() {
            graph_error(
                210,
                None,
                "(#210) A page access token is required to request this resource.",
            )
        } else {
            graph_error(
                200,
                None,
                format!(
                    "(#200) A {} access token cannot be used on this endpoint.",
                    kind.debug_type().to_ascii_lowercase().replace('_', " ")
                ),
            )
        })
    }
}

/// The usage headers of one response.
#[derive(Debug, Clone)]
pub(crate) struct Usage {
    pub(crate) app: u32,
    pub(crate) business: BTreeMap<String, (u32, u32)>,
}

impl Usage {
    pub(crate) fn apply(&self, cfg: &GraphSettings, reply: Reply) -> Reply {
        let pct = self.app;
        let reply = reply.header(
            "x-app-usage",
            json!({ "call_count": pct, "total_time": pct, "total_cputime": pct }).to_string(),
        );
        if self.business.is_empty() {
            return reply;
        }
        let mut header = serde_json::Map::new();
        for (object, (pct, regain)) in &self.business {
            let kind = if *object == cfg.instagram_user_id {
                "instagram"
            } else if *object == cfg.phone_number_id {
                "whatsapp_business_management"
            } else {
                "pages"
            };
            header.insert(
                object.clone(),
                json!([{
                    "type": kind,
                    "call_count": pct,
                    "total_cputime": pct,
                    "total_time": pct,
                    "estimated_time_to_regain_access": regain,
                }]),
            );
        }
        reply.header(
            "x-business-use-case-usage",
            Value::Object(header).to_string(),
        )
    }
}
