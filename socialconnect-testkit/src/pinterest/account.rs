//! `GET /v5/user_account`.

use serde_json::{Value, json};

use super::state::Cx;
use crate::sim::Reply;

/// The account behind the token (`user_accounts:read`).
pub(crate) fn get(cx: &Cx<'_>) -> Result<Reply, Reply> {
    cx.need(&["user_accounts:read"])?;
    let c = cx.cfg;
    let count = |n: usize| if c.null_counts { Value::Null } else { json!(n) };
    let boards = cx.st.boards.len();
    let pins = cx.st.pins.len();
    Ok(Reply::ok(json!({
        "account_type": c.account_type,
        "id": c.account_id,
        "username": c.username,
        "profile_image": format!("{}avatars/{}.jpg", cx.base, c.username),
        "website_url": "https://sim-pinner.example",
        "about": "A simulated Pinterest account.",
        "business_name": if c.null_counts { Value::Null } else { json!("Sim Pinner Co") },
        "board_count": count(boards),
        "pin_count": count(pins),
        "follower_count": count(1_234),
        "following_count": count(56),
        "monthly_views": count(78_900),
    })))
}
