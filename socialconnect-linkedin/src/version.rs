//! The LinkedIn REST API version this crate speaks (`LinkedIn-Version: YYYYMM`): pinned here,
//! overridable by the host through [`crate::LinkedInConfig::with_version`]. LinkedIn supports
//! a version for about a year and then sunsets it ("Version 202511 will be sunset on November
//! 16, 2026"); the table is written in the platform kit's terms
//! ([`socialconnect_core::connect::version`]), which also checks the pin.

use chrono::NaiveDate;
use socialconnect_core::connect::version::{ApiVersion, Sunset};

/// The version every `/rest/*` call sends unless the host overrides it.
///
/// UNCONFIRMED: LinkedIn publishes monthly versions; the fact sheet confirms 202511 and its
/// sunset, not the exact list of later months. 202611 is taken as the newest, with the
/// documented "about a year" window as its end.
pub const LINKEDIN_VERSION: &str = "202611";

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("not a calendar date"),
    }
}

/// The versions this crate knows, with their end dates (published, or a year after release).
pub const LINKEDIN_VERSIONS: &[ApiVersion] = &[
    ApiVersion::new("202611", date(2026, 11, 1)).sunset(Sunset::MonthsAfterRelease(12)),
    ApiVersion::new("202610", date(2026, 10, 1)).sunset(Sunset::MonthsAfterRelease(12)),
    ApiVersion::new("202511", date(2025, 11, 1)).sunset(Sunset::On(date(2026, 11, 16))),
];

/// Whether `version` has the `YYYYMM` shape LinkedIn's header takes.
pub fn is_well_formed(version: &str) -> bool {
    version.len() == 6
        && version.bytes().all(|b| b.is_ascii_digit())
        && matches!(
            &version[4..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

#[cfg(test)]
mod tests {
    use socialconnect_core::connect::version as kit;

    use super::*;

    /// Fails once the pinned version is within 90 days of its end: time to move the pin.
    #[test]
    fn pinned_version_is_not_near_its_end() {
        kit::assert_pin_is_fresh(
            LINKEDIN_VERSIONS,
            LINKEDIN_VERSION,
            kit::DEFAULT_MIN_DAYS_LEFT,
        );
    }

    #[test]
    fn the_sunset_202511_is_flagged_and_shapes_are_checked() {
        let err = kit::check_pin(LINKEDIN_VERSIONS, "202511", date(2026, 9, 1), 90).unwrap_err();
        assert!(matches!(err, kit::PinError::NearEnd { .. }), "{err:?}");
        assert!(is_well_formed("202611"));
        for bad in ["20261", "2026-11", "202613", "202600", "abcdef", "2026111"] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }
}
