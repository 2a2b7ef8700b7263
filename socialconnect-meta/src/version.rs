//! The Graph API version this crate speaks: pinned here, in one place, overridable by the host
//! through [`crate::MetaConfig::with_version`]. The sunset table is written in the platform
//! kit's terms ([`socialconnect_core::connect::version`]), which also checks the pin.

use chrono::NaiveDate;
use socialconnect_core::connect::version::{self as kit, ApiVersion, Sunset};

/// The Graph API version every call uses unless the host overrides it: v26.0, introduced
/// 2026-07-29, the current version per the Graph API changelog.
pub const GRAPH_API_VERSION: &str = "v26.0";

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("not a calendar date"),
    }
}

/// The Graph API versions with their release and published end ("available until") dates,
/// per the Graph API changelog (`meta.md` §1). The v19.0 and v20.0 release dates are not in
/// the fact sheet and are taken from the changelog's version list as recalled (UNCONFIRMED);
/// only their end dates matter here, and both have passed.
pub const GRAPH_VERSIONS: &[ApiVersion] = &[
    ApiVersion::new("v26.0", date(2026, 7, 29)),
    ApiVersion::new("v25.0", date(2026, 2, 18)).sunset(Sunset::On(date(2028, 7, 29))),
    ApiVersion::new("v24.0", date(2025, 10, 8)).sunset(Sunset::On(date(2028, 2, 18))),
    ApiVersion::new("v23.0", date(2025, 5, 29)).sunset(Sunset::On(date(2027, 10, 8))),
    ApiVersion::new("v22.0", date(2025, 1, 21)).sunset(Sunset::On(date(2027, 5, 20))),
    ApiVersion::new("v21.0", date(2024, 10, 2)).sunset(Sunset::On(date(2027, 1, 21))),
    ApiVersion::new("v20.0", date(2024, 5, 21)).sunset(Sunset::On(date(2026, 9, 24))),
    ApiVersion::new("v19.0", date(2024, 1, 23)).sunset(Sunset::On(date(2026, 5, 21))),
];

/// The published end date of `version`, when known.
pub fn end_date(version: &str) -> Option<NaiveDate> {
    kit::find(GRAPH_VERSIONS, version).and_then(ApiVersion::end_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails once the pinned version is within 90 days of its published end date: time to move
    /// the pin (and check the changelog for breaking changes).
    #[test]
    fn pinned_version_is_not_near_its_end() {
        kit::assert_pin_is_fresh(
            GRAPH_VERSIONS,
            GRAPH_API_VERSION,
            kit::DEFAULT_MIN_DAYS_LEFT,
        );
    }

    #[test]
    fn end_dates() {
        assert_eq!(end_date("v25.0"), NaiveDate::from_ymd_opt(2028, 7, 29));
        assert_eq!(end_date("v26.0"), None);
        assert_eq!(end_date("v99.0"), None);
        for v in GRAPH_VERSIONS {
            assert!(v.label().starts_with('v'));
            assert!(!v.end_is_estimated(), "Meta publishes its end dates");
        }
    }
}
