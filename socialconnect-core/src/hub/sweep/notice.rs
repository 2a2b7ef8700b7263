//! When to tell the end user, ahead of time, that a grant is about to end.
//!
//! A grant that cannot be extended past a fixed end (LinkedIn's refresh token lasts 365 days
//! from the grant, [`Platform::grant_ends`]) needs a new authorization before then. The sweep
//! visits a connection once per access token lifetime, `window` before each expiry; the warning
//! is raised at the visit whose span — from this visit to the next, taken as the old token's
//! and the new token's expiry minus `window` — holds the ideal instant (`lead` before the end).
//! Consecutive visits' spans do not overlap, so each grant end is announced once, by whichever
//! instance refreshed then, without any stored marker. The cost: a connection whose token a
//! session refreshed instead of the sweep (the sweep was down or behind) skips that span, and
//! if the ideal instant fell in it the warning is not raised; the platform's refusal at the
//! end still marks the connection reconnect-required, with its own event.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[cfg(doc)]
use crate::platform::Platform;
use crate::token::{Expiry, TokenSet};

/// The grant end to announce at this visit, which refreshed `old` into `new` at `now`;
/// `grant_ends` is what the platform says of `new` ([`Platform::grant_ends`]).
pub(super) fn grant_end_to_announce(
    grant_ends: Expiry,
    old: &TokenSet,
    new: &TokenSet,
    window: Duration,
    lead: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let Expiry::At(ends) = grant_ends else {
        return None;
    };
    if ends <= now {
        return None;
    }
    let window = chrono::Duration::from_std(window).ok()?;
    let ideal = ends - chrono::Duration::from_std(lead).ok()?;
    let span_start = match old.access_expires {
        Expiry::At(t) => t - window,
        // No earlier visit covered anything.
        Expiry::Never | Expiry::Unknown => DateTime::<Utc>::MIN_UTC,
    };
    let span_end = match new.access_expires {
        Expiry::At(t) => t - window,
        // No later visit: this one is the last chance.
        Expiry::Never | Expiry::Unknown => DateTime::<Utc>::MAX_UTC,
    };
    (span_start < ideal && ideal <= span_end).then_some(ends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{AccessToken, RefreshToken};

    #[test]
    fn one_visit_per_grant_end_announces_it() {
        let t0 = Utc::now();
        let day = chrono::Duration::days;
        let ends = t0 + day(365);
        let window = Duration::from_secs(900);
        let lead = Duration::from_secs(14 * 86_400);
        // A 60-day access token refreshed by the sweep at each visit, all under one grant.
        let token = |issued: DateTime<Utc>| {
            TokenSet::new(AccessToken::new("a"), Expiry::At(issued + day(60)), issued)
                .with_refresh(RefreshToken::new("r"), Expiry::At(ends))
        };
        let mut old = token(t0);
        let mut announced = Vec::new();
        let mut at = t0 + day(60) - chrono::Duration::minutes(15);
        while at < ends {
            let new = token(at);
            let end = grant_end_to_announce(Expiry::At(ends), &old, &new, window, lead, at);
            if let Some(end) = end {
                announced.push((at, end));
            }
            old = new;
            at = at + day(60) - chrono::Duration::minutes(15);
        }
        assert_eq!(announced.len(), 1, "{announced:?}");
        let (when, end) = announced[0];
        assert_eq!(end, ends);
        assert!(
            ends - when >= day(14),
            "announced {} days ahead",
            (ends - when).num_days()
        );
        // Nothing to announce for a grant without a known end, or one already over.
        assert_eq!(
            grant_end_to_announce(Expiry::Unknown, &old, &old, window, lead, t0),
            None
        );
        assert_eq!(
            grant_end_to_announce(Expiry::At(t0), &old, &old, window, lead, t0),
            None
        );
    }
}
