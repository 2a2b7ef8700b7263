//! `GET /me/accounts` is read page after page: a user's Pages past the first hundred are
//! there too.

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use socialconnect_core::ErrorKind;
use socialconnect_core::id::Purpose;
use socialconnect_meta::MetaProduct;
use socialconnect_testkit::JsonMock;
use wiremock::matchers::{query_param, query_param_is_missing};

/// Page `n` of `count` accounts, ids `{n}000…`; the last has an Instagram account when `ig`.
fn accounts(n: u32, count: u32, ig: bool) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let mut a = json!({
                "id": format!("{n}{i:05}"),
                "name": format!("Page {n}/{i}"),
                "tasks": ["CREATE_CONTENT"],
                "access_token": format!("page-token-{n}-{i}"),
            });
            if ig && i + 1 == count {
                a["instagram_business_account"] =
                    json!({"id": format!("1784{n}{i:05}"), "username": format!("ig{n}")});
            }
            a
        })
        .collect()
}

/// A page of `/me/accounts` whose `after` cursor is the one in `next` (Meta repeats it there).
fn page(data: Vec<Value>, next: Option<String>) -> JsonMock {
    let after = next
        .as_deref()
        .and_then(|n| n.rsplit("after=").next())
        .unwrap_or("END");
    let mut body = json!({"data": data, "paging": {"cursors": {"before": "B", "after": after}}});
    if let Some(next) = next {
        body["paging"]["next"] = Value::String(next);
    }
    JsonMock::new("GET", graph("me/accounts"), body)
}

impl Env {
    /// Meta's `next` carries the user token in its query, as Meta sends it.
    fn next(&self, after: &str) -> String {
        format!(
            "{}{}?fields=id&limit=100&access_token={USER_TOKEN}&after={after}",
            self.server.uri(),
            graph("me/accounts")
        )
    }

    /// Three pages: 100, 100 and 3 accounts; only the last one has an Instagram account.
    async fn mount_three_pages(&self) {
        page(accounts(1, 100, false), Some(self.next("c1")))
            .and(query_param_is_missing("after"))
            .and(query_param("limit", "100"))
            .mount(&self.server)
            .await;
        page(accounts(2, 100, false), Some(self.next("c2")))
            .and(query_param("after", "c1"))
            // The token goes as a header with a fresh proof, never in the query.
            .and(query_param_is_missing("access_token"))
            .and(query_param("appsecret_proof", self.proof(USER_TOKEN)))
            .mount(&self.server)
            .await;
        page(accounts(3, 3, true), None)
            .and(query_param("after", "c2"))
            .and(query_param_is_missing("access_token"))
            .mount(&self.server)
            .await;
    }
}

#[tokio::test]
async fn every_page_of_accounts_is_read() {
    let env = env().await;
    env.mount_three_pages().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let all = env.client.page_accounts(&s).await.unwrap();
    assert_eq!(all.len(), 203);
    assert_eq!(all[0].id, "100000");
    assert_eq!(all[100].id, "200000");
    assert_eq!(all[202].id, "300002");
    assert_eq!(all[202].access_token.expose_secret(), "page-token-3-2");
    assert_eq!(env.hits("me/accounts").await, 3);
    assert_eq!(
        env.operations().await,
        ["accounts.list", "accounts.list", "accounts.list"]
    );
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn instagram_accounts_past_the_first_pages_are_found() {
    let env = env().await;
    env.mount_three_pages().await;
    let s = env
        .session(MetaProduct::Instagram, Purpose::Publishing)
        .await;
    let ig = env.client.instagram_accounts(&s).await.unwrap();
    assert_eq!(ig.len(), 1);
    assert_eq!(ig[0].id, "1784300002");
    assert_eq!(ig[0].page_id, "300002");
    assert_eq!(ig[0].username.as_deref(), Some("ig3"));
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn one_page_account_is_looked_up_only_as_far_as_needed() {
    let env = env().await;
    env.mount_three_pages().await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let p = env.client.page_account(&s, "200042").await.unwrap();
    assert_eq!(p.name.as_deref(), Some("Page 2/42"));
    assert_eq!(env.hits("me/accounts").await, 2, "page 3 is never read");
    // A Page the user does not manage, after every page was read.
    let err = env.client.page_account(&s, "999").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingScopes);
    assert_eq!(env.hits("me/accounts").await, 5);
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn a_repeating_accounts_page_stops_with_an_error() {
    let env = env().await;
    page(accounts(1, 2, false), Some(env.next("same")))
        .and(query_param_is_missing("after"))
        .mount(&env.server)
        .await;
    page(accounts(2, 2, false), Some(env.next("same")))
        .and(query_param("after", "same"))
        .mount(&env.server)
        .await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let err = env.client.page_accounts(&s).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(err.to_string().contains("pagination"), "{err}");
    assert_eq!(env.hits("me/accounts").await, 2);
    // The stream hands over what it read before the error.
    let items: Vec<_> = env.client.page_accounts_stream(&s).collect().await;
    assert_eq!(items.iter().filter(|r| r.is_ok()).count(), 4);
    assert!(items.last().unwrap().is_err());
}

#[tokio::test]
async fn a_next_off_the_graph_host_is_refused() {
    let env = env().await;
    page(
        accounts(1, 1, false),
        Some("https://attacker.example/v26.0/me/accounts?after=x".into()),
    )
    .mount(&env.server)
    .await;
    let s = env
        .session(MetaProduct::Facebook, Purpose::Publishing)
        .await;
    let err = env.client.page_accounts(&s).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn connecting_instagram_finds_an_account_past_the_first_pages() {
    use socialconnect_core::platform::Platform;
    use socialconnect_core::secret::AccessToken;
    use socialconnect_core::token::{Expiry, TokenSet};
    use socialconnect_meta::FacebookLogin;

    let env = env().await;
    env.mount_three_pages().await;
    JsonMock::new(
        "GET",
        graph("me"),
        json!({"id": "10150000000000001", "name": "Ana"}),
    )
    .mount(&env.server)
    .await;
    let login = FacebookLogin::new(env.client.clone(), MetaProduct::Instagram).unwrap();
    let tokens = TokenSet::new(
        AccessToken::new(USER_TOKEN),
        Expiry::Never,
        chrono::Utc::now(),
    );
    let account = login.account(&tokens).await.unwrap();
    // The connection is the Facebook user; its name is the Instagram account on page 3.
    assert_eq!(account.account_id, "10150000000000001");
    assert_eq!(account.display_name.as_deref(), Some("ig3"));
    assert_eq!(env.hits("me/accounts").await, 3);
    env.catch_all.assert_no_unexpected();
}
