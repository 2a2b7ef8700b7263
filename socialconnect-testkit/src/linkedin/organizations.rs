//! `GET /rest/organizationAcls?q=roleAssignee`: the member's organization roles, filtered by
//! `role` and `state`, with classic `start`/`count` paging.

use serde_json::{Value, json};

use super::state::Cx;
use super::wire;
use crate::sim::Reply;

/// LinkedIn's default page size.
pub(crate) const DEFAULT_COUNT: u64 = 10;
/// The largest page served.
pub(crate) const MAX_COUNT: u64 = 100;

/// `start` and `count` of a classic page: `Err` the 400 for a value that is not a number, or
/// a count outside 1..=100.
pub(crate) fn paging(cx: &Cx<'_>) -> Result<(u64, u64), Reply> {
    let number = |name: &str, default: u64| match cx.call.query_param(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| wire::bad_request(format!("`{name}` must be a number, got `{v}`"))),
    };
    let start = number("start", 0)?;
    let count = number("count", DEFAULT_COUNT)?;
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(wire::bad_request("`count` must be between 1 and 100"));
    }
    Ok((start, count))
}

/// A classic page of `elements` from `start`: `{paging: {start, count, total, links}, elements}`.
pub(crate) fn page(elements: Vec<Value>, start: u64, count: u64) -> Reply {
    let total = elements.len();
    let items: Vec<Value> = elements
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .collect();
    Reply::ok(json!({
        "paging": { "start": start, "count": count, "total": total, "links": [] },
        "elements": items,
    }))
}

/// `GET /rest/organizationAcls?q=roleAssignee[&role=][&state=]&start=&count=`.
pub(crate) fn acls(cx: &mut Cx<'_>) -> Reply {
    if cx.call.query_param("q") != Some("roleAssignee") {
        return wire::bad_request("organizationAcls takes the finder q=roleAssignee");
    }
    if let Err(reply) = cx.need_scope(
        "FINDER-roleAssignee",
        &[
            "rw_organization_admin",
            "r_organization_admin",
            "r_organization_social",
            "w_organization_social",
        ],
    ) {
        return reply;
    }
    let (start, count) = match paging(cx) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let role = cx.call.query_param("role");
    let state = cx.call.query_param("state");
    let elements = cx
        .cfg
        .acls
        .iter()
        .filter(|a| role.is_none_or(|r| r == a.role))
        .filter(|a| state.is_none_or(|s| s == a.state))
        .map(|a| {
            json!({
                "roleAssignee": cx.member,
                "role": a.role,
                "state": a.state,
                "organization": a.organization_urn(),
            })
        })
        .collect();
    page(elements, start, count)
}
