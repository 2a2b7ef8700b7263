//! The Graph API version this crate speaks: pinned here, in one place, overridable by the host
//! through [`crate::MetaConfig::with_version`].

use chrono::NaiveDate;

/// The Graph API version every call uses unless the host overrides it: v26.0, introduced
/// 2026-07-29, the current version per the Graph API changelog.
pub const GRAPH_API_VERSION: &str = "v26.0";

/// A calendar date as (year, month, day).
pub type Ymd = (i32, u32, u32);

/// Published end dates ("available until") per the Graph API changelog; `None` while Meta has
/// not announced one.
pub const PUBLISHED_END_DATES: &[(&str, Option<Ymd>)] = &[
    ("v26.0", None),
    ("v25.0", Some((2028, 7, 29))),
    ("v24.0", Some((2028, 2, 18))),
    ("v23.0", Some((2027, 10, 8))),
    ("v22.0", Some((2027, 5, 20))),
    ("v21.0", Some((2027, 1, 21))),
    ("v20.0", Some((2026, 9, 24))),
    ("v19.0", Some((2026, 5, 21))),
];

/// The published end date of `version`, when known.
pub fn end_date(version: &str) -> Option<NaiveDate> {
    PUBLISHED_END_DATES
        .iter()
        .find(|(v, _)| *v == version)
        .and_then(|(_, d)| *d)
        .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails once the pinned version is within 90 days of its published end date: time to move
    /// the pin (and check the changelog for breaking changes).
    #[test]
    fn pinned_version_is_not_near_its_end() {
        assert!(
            PUBLISHED_END_DATES
                .iter()
                .any(|(v, _)| *v == GRAPH_API_VERSION),
            "the pinned version must be listed with its end date"
        );
        if let Some(end) = end_date(GRAPH_API_VERSION) {
            let today = chrono::Utc::now().date_naive();
            let left = (end - today).num_days();
            assert!(
                left > 90,
                "Graph API {GRAPH_API_VERSION} ends on {end}, {left} days from now: move the pin"
            );
        }
    }

    #[test]
    fn end_dates_parse() {
        assert_eq!(end_date("v25.0"), NaiveDate::from_ymd_opt(2028, 7, 29));
        assert_eq!(end_date("v26.0"), None);
        for (v, d) in PUBLISHED_END_DATES {
            assert!(v.starts_with('v'));
            if let Some((y, m, day)) = d {
                assert!(NaiveDate::from_ymd_opt(*y, *m, *day).is_some(), "{v}");
            }
        }
    }
}
