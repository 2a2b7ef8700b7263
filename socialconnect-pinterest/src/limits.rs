//! Pinterest's documented limits, checked or paced on this side before anything is sent.
//!
//! Field lengths on a Pin (title 100, description 800, link 2048, alt text 500): the unit is not
//! documented, so text is counted in UTF-16 code units, which is never fewer than the code
//! points and so passes under either reading (an emoji counts 2). Rate limits by access tier:
//! standard apps may send 100 requests a second per user per app; trial apps 1000 a day
//! (counted here per app, the stricter reading).

use socialconnect_core::http::{DailyBudget, PlatformLimits, RateLimit};
use socialconnect_core::{Error, Result};

/// A Pin's longest title.
pub const MAX_TITLE: usize = 100;
/// A Pin's longest description.
pub const MAX_DESCRIPTION: usize = 800;
/// A Pin's longest link.
pub const MAX_LINK: usize = 2048;
/// A Pin's longest alt text.
pub const MAX_ALT_TEXT: usize = 500;

/// `text`'s length as checked against Pinterest's limits: UTF-16 code units.
pub fn length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Refuses `text` over `max` (see [`length`]) as invalid input naming `field`.
///
/// # Errors
///
/// `InvalidInput` naming the field, its length and its limit (never the text).
pub fn check_length(field: &str, text: &str, max: usize) -> Result<()> {
    let len = length(text);
    if len > max {
        return Err(Error::invalid_input(format!(
            "Pinterest {field} is {len} characters (UTF-16 units); at most {max}"
        )));
    }
    Ok(())
}

/// A Pinterest app's access tier, which sets its rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessTier {
    /// Trial access: 1000 requests a day.
    Trial,
    /// Standard access: 100 requests a second per user per app.
    Standard,
}

/// The limits to hand the HTTP client for an app of `tier`:
/// `HttpClient::builder().rate_limits(PlatformId::PINTEREST, rate_limits(tier))`. Every
/// operation of this crate counts (an empty operation pattern covers them all).
pub fn rate_limits(tier: AccessTier) -> PlatformLimits {
    match tier {
        AccessTier::Standard => PlatformLimits {
            per_connection: Some(RateLimit::new(100, 100)),
            ..PlatformLimits::default()
        },
        AccessTier::Trial => {
            PlatformLimits::default().with_daily(DailyBudget::new("").per_app(1000))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use socialconnect_core::ErrorKind;

    use super::*;

    #[test]
    fn utf16_units_count_what_a_byte_or_char_count_would_not() {
        assert_eq!(length("pin"), 3);
        assert_eq!(length("é"), 1, "one unit, two bytes");
        assert_eq!(length("😀"), 2, "one char, two units, four bytes");
        assert!(check_length("title", &"😀".repeat(50), MAX_TITLE).is_ok());
        let err = check_length("title", &"😀".repeat(51), MAX_TITLE).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("102") && !err.to_string().contains('😀'));
    }

    #[test]
    fn the_tiers_declare_their_limits() {
        let standard = rate_limits(AccessTier::Standard);
        assert_eq!(standard.per_connection.unwrap().per_second.get(), 100);
        let trial = rate_limits(AccessTier::Trial);
        assert_eq!(trial.per_day[0].per_app.unwrap().get(), 1000);
        assert_eq!(trial.per_day[0].operation, "");
    }

    proptest! {
        #[test]
        fn a_text_passes_exactly_when_its_utf16_length_is_within_the_limit(
            text in "\\PC{0,120}",
            max in 0usize..150,
        ) {
            let ok = check_length("title", &text, max).is_ok();
            prop_assert_eq!(ok, text.encode_utf16().count() <= max);
            // Never looser than a code-point count.
            if ok {
                prop_assert!(text.chars().count() <= max);
            }
        }
    }
}
