//! API-version pins and their sunset tables.
//!
//! A platform crate pins the API version it speaks in one constant and lists the versions it
//! knows in a table of [`ApiVersion`]s: label (`v26.0`, `202511`), release date, and end date —
//! published by the platform ([`Sunset::On`]), derived from a documented support window
//! ([`Sunset::MonthsAfterRelease`], LinkedIn's "about a year"), or not yet announced. One test
//! in the platform crate calls [`assert_pin_is_fresh`], which fails once the pinned version is
//! within [`DEFAULT_MIN_DAYS_LEFT`] days of its end: time to move the pin and read the
//! changelog.
//!
//! ```
//! use chrono::NaiveDate;
//! use socialconnect_core::connect::version::{self, ApiVersion, Sunset};
//!
//! const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
//!     NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
//! }
//!
//! const LINKEDIN: &[ApiVersion] = &[
//!     ApiVersion::new("202511", date(2025, 11, 1)).sunset(Sunset::On(date(2026, 11, 16))),
//!     ApiVersion::new("202611", date(2026, 11, 1)).sunset(Sunset::MonthsAfterRelease(12)),
//! ];
//!
//! let pin = version::find(LINKEDIN, "202611").unwrap();
//! assert_eq!(pin.end_date(), Some(date(2027, 11, 1)));
//! assert!(pin.end_is_estimated());
//!
//! // 202511 is 15 days from its end on 2026-11-01: a pin on it is flagged.
//! let err = version::check_pin(LINKEDIN, "202511", date(2026, 11, 1), 90).unwrap_err();
//! assert!(matches!(err, version::PinError::NearEnd { days_left: 15, .. }));
//! // In a platform crate's tests:
//! // version::assert_pin_is_fresh(LINKEDIN, PINNED, version::DEFAULT_MIN_DAYS_LEFT);
//! ```

use chrono::{Months, NaiveDate};

/// How many days before a pinned version's end [`assert_pin_is_fresh`] starts failing.
pub const DEFAULT_MIN_DAYS_LEFT: i64 = 90;

/// When a platform API version stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sunset {
    /// The platform has not announced an end date (typically the newest version).
    Unannounced,
    /// The platform published this end date (the last day the version is available, or the
    /// day it stops; either way, the pin must have moved before it).
    On(NaiveDate),
    /// Not announced per version, but the platform documents a support window from release
    /// (LinkedIn: about 12 months). The end date is computed, so it is an estimate.
    MonthsAfterRelease(u32),
}

/// One version of a platform's API, as listed in the platform's sunset table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersion {
    label: &'static str,
    released: NaiveDate,
    sunset: Sunset,
}

impl ApiVersion {
    /// A version with its label (`v26.0`, `202511`) and release date; its end is
    /// [`Sunset::Unannounced`] until [`ApiVersion::sunset`] says otherwise.
    pub const fn new(label: &'static str, released: NaiveDate) -> Self {
        Self {
            label,
            released,
            sunset: Sunset::Unannounced,
        }
    }

    /// Sets when the version ends.
    pub const fn sunset(mut self, sunset: Sunset) -> Self {
        self.sunset = sunset;
        self
    }

    /// The label as the platform writes it (in a URL path or a version header).
    pub const fn label(&self) -> &'static str {
        self.label
    }

    /// The release date.
    pub const fn released(&self) -> NaiveDate {
        self.released
    }

    /// How the end is known.
    pub const fn sunset_rule(&self) -> Sunset {
        self.sunset
    }

    /// The end date: published, computed from the support window, or `None` when unannounced
    /// (or beyond what a calendar date holds).
    pub fn end_date(&self) -> Option<NaiveDate> {
        match self.sunset {
            Sunset::Unannounced => None,
            Sunset::On(date) => Some(date),
            Sunset::MonthsAfterRelease(months) => {
                self.released.checked_add_months(Months::new(months))
            }
        }
    }

    /// Whether [`ApiVersion::end_date`] is computed rather than published.
    pub const fn end_is_estimated(&self) -> bool {
        matches!(self.sunset, Sunset::MonthsAfterRelease(_))
    }

    /// Days from `today` until the end date (negative once past it); `None` when unannounced.
    pub fn days_left(&self, today: NaiveDate) -> Option<i64> {
        self.end_date().map(|end| (end - today).num_days())
    }
}

/// The entry for `label` in `table`.
pub fn find<'a>(table: &'a [ApiVersion], label: &str) -> Option<&'a ApiVersion> {
    table.iter().find(|v| v.label == label)
}

/// Why a pinned version is no longer fine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// The pinned label is not in the table, so its end cannot be checked.
    #[error("API version {label} is not listed in the sunset table; add it with its dates")]
    NotListed {
        /// The pinned label.
        label: String,
    },
    /// The pinned version ends within the required margin (or has ended: `days_left <= 0`).
    #[error(
        "API version {label} ends on {end}{}, {days_left} days from today: move the pin",
        if *estimated { " (estimated)" } else { "" }
    )]
    NearEnd {
        /// The pinned label.
        label: String,
        /// Its end date.
        end: NaiveDate,
        /// Whether the end date is computed from a support window.
        estimated: bool,
        /// Days from today until the end.
        days_left: i64,
    },
}

/// Checks that `pinned` is listed in `table` and, when its end is known, more than
/// `min_days_left` days after `today`. Returns the version's entry.
///
/// # Errors
///
/// [`PinError::NotListed`] or [`PinError::NearEnd`].
pub fn check_pin<'a>(
    table: &'a [ApiVersion],
    pinned: &str,
    today: NaiveDate,
    min_days_left: i64,
) -> Result<&'a ApiVersion, PinError> {
    let version = find(table, pinned).ok_or_else(|| PinError::NotListed {
        label: pinned.to_owned(),
    })?;
    match (version.end_date(), version.days_left(today)) {
        (Some(end), Some(days_left)) if days_left <= min_days_left => Err(PinError::NearEnd {
            label: pinned.to_owned(),
            end,
            estimated: version.end_is_estimated(),
            days_left,
        }),
        _ => Ok(version),
    }
}

/// For a platform crate's test: panics with a readable message when [`check_pin`] fails for
/// today's UTC date.
///
/// # Panics
///
/// When the pin is not listed or is within `min_days_left` days of its end.
#[track_caller]
pub fn assert_pin_is_fresh(table: &[ApiVersion], pinned: &str, min_days_left: i64) {
    let today = chrono::Utc::now().date_naive();
    if let Err(err) = check_pin(table, pinned, today, min_days_left) {
        panic!("{err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    const TABLE: &[ApiVersion] = &[
        ApiVersion::new("v26.0", date(2026, 7, 29)),
        ApiVersion::new("v25.0", date(2026, 2, 18)).sunset(Sunset::On(date(2028, 7, 29))),
        ApiVersion::new("202511", date(2025, 11, 30)).sunset(Sunset::MonthsAfterRelease(12)),
    ];

    #[test]
    fn end_dates() {
        assert_eq!(find(TABLE, "v26.0").unwrap().end_date(), None);
        assert_eq!(
            find(TABLE, "v26.0").unwrap().days_left(date(2030, 1, 1)),
            None
        );
        let v25 = find(TABLE, "v25.0").unwrap();
        assert_eq!(v25.end_date(), Some(date(2028, 7, 29)));
        assert!(!v25.end_is_estimated());
        assert_eq!(v25.days_left(date(2028, 7, 19)), Some(10));
        assert_eq!(v25.days_left(date(2028, 8, 1)), Some(-3));
        let li = find(TABLE, "202511").unwrap();
        assert_eq!(li.end_date(), Some(date(2026, 11, 30)));
        assert!(li.end_is_estimated());
        assert_eq!(li.label(), "202511");
        assert_eq!(li.released(), date(2025, 11, 30));
        assert_eq!(li.sunset_rule(), Sunset::MonthsAfterRelease(12));
        // A month-end release lands on the last day of the target month.
        let jan = ApiVersion::new("x", date(2026, 1, 31)).sunset(Sunset::MonthsAfterRelease(1));
        assert_eq!(jan.end_date(), Some(date(2026, 2, 28)));
        let far =
            ApiVersion::new("x", date(2026, 1, 1)).sunset(Sunset::MonthsAfterRelease(u32::MAX));
        assert_eq!(far.end_date(), None);
    }

    #[test]
    fn pin_margin_edges() {
        // 91 days left passes with a 90-day margin; 90 fails; past the end fails.
        let end = date(2028, 7, 29);
        let ok = check_pin(TABLE, "v25.0", end - chrono::Days::new(91), 90).unwrap();
        assert_eq!(ok.label(), "v25.0");
        for (today, left) in [
            (end - chrono::Days::new(90), 90),
            (end, 0),
            (end + chrono::Days::new(400), -400),
        ] {
            assert_eq!(
                check_pin(TABLE, "v25.0", today, 90),
                Err(PinError::NearEnd {
                    label: "v25.0".into(),
                    end,
                    estimated: false,
                    days_left: left
                })
            );
        }
        // Unannounced ends never fail; unknown labels always do.
        assert!(check_pin(TABLE, "v26.0", date(2099, 1, 1), 90).is_ok());
        let err = check_pin(TABLE, "v27.0", date(2026, 1, 1), 90).unwrap_err();
        assert_eq!(
            err,
            PinError::NotListed {
                label: "v27.0".into()
            }
        );
        let text = check_pin(TABLE, "202511", date(2026, 11, 1), 90)
            .unwrap_err()
            .to_string();
        assert!(text.contains("2026-11-30 (estimated), 29 days"), "{text}");
    }

    #[test]
    fn assert_passes_for_an_unannounced_end() {
        assert_pin_is_fresh(TABLE, "v26.0", DEFAULT_MIN_DAYS_LEFT);
    }

    #[test]
    #[should_panic(expected = "not listed")]
    fn assert_fails_for_an_unlisted_pin() {
        assert_pin_is_fresh(TABLE, "v1.0", DEFAULT_MIN_DAYS_LEFT);
    }

    #[test]
    #[should_panic(expected = "move the pin")]
    fn assert_fails_near_the_end() {
        let ended = [ApiVersion::new("old", date(2000, 1, 1)).sunset(Sunset::On(date(2001, 1, 1)))];
        assert_pin_is_fresh(&ended, "old", DEFAULT_MIN_DAYS_LEFT);
    }
}
