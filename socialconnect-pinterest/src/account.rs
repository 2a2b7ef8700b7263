//! The user account behind a token: `GET /v5/user_account`. The counts are nullable on the
//! wire (a personal account may have none) and optional here.

use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::{Result, Session};

use crate::client::PinterestClient;

/// A Pinterest account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The account id (a numeric string).
    #[serde(deserialize_with = "decode::id")]
    pub id: String,
    /// `PINNER` or `BUSINESS` (kept by name: other values may come).
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 64>")]
    pub account_type: Option<String>,
    /// The username.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    pub username: Option<String>,
    /// The business name, for business accounts.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    pub business_name: Option<String>,
    /// The profile image URL.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    pub profile_image: Option<String>,
    /// The website URL.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    pub website_url: Option<String>,
    /// The "about" text.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    pub about: Option<String>,
    /// Boards, when Pinterest says.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub board_count: Option<u64>,
    /// Pins, when Pinterest says.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub pin_count: Option<u64>,
    /// Followers, when Pinterest says.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub follower_count: Option<u64>,
    /// Accounts followed, when Pinterest says.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub following_count: Option<u64>,
    /// Monthly views, when Pinterest says.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub monthly_views: Option<u64>,
}

impl PinterestClient {
    /// The account the session acts as (`user_accounts:read`).
    pub async fn user_account(&self, session: &Session) -> Result<Account> {
        let req = self.request(http::Method::GET, "user_account", "user_account.get")?;
        self.caller().send_json(session, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_counts_are_none_and_a_numeric_id_keeps_its_digits() {
        let a: Account = serde_json::from_str(
            r#"{"account_type":"PINNER","id":549755885175,"username":"sim","board_count":null,"pin_count":"12","follower_count":-1}"#,
        )
        .unwrap();
        assert_eq!(a.id, "549755885175");
        assert_eq!(a.board_count, None);
        assert_eq!(a.pin_count, Some(12));
        assert_eq!(a.follower_count, None, "a negative count is not a count");
        assert!(serde_json::from_str::<Account>(r#"{"username":"no id"}"#).is_err());
    }
}
