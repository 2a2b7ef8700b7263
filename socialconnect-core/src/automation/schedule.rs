//! Schedule arithmetic: when a scheduled or recurring action is due, in a time zone.
//!
//! A [`Schedule`] is a [`Recurrence`] in an IANA time zone ([`TimeZoneName`]) plus a
//! [`CatchUp`] policy. Instants come in and go out as `chrono::DateTime<Utc>`; the wall-clock
//! arithmetic is done by [`jiff`] against the time-zone database bundled into the binary, so the
//! results do not depend on the host's `/usr/share/zoneinfo`.
//!
//! # Daylight saving time
//!
//! - **Gaps (spring forward).** A wall-clock time that does not exist on a date (02:30 in
//!   Europe/Berlin on 2026-03-29, when clocks jump from 02:00 to 03:00) resolves the way jiff's
//!   `Disambiguation::Compatible` does: later by the gap's length (03:30 local, the same instant
//!   02:30 would have been with the offset from before the gap).
//! - **Folds (fall back).** A wall-clock time that happens twice (02:30 in Europe/Berlin on
//!   2026-10-25, when clocks go from 03:00 back to 02:00) takes the earlier instant. Each local
//!   date maps to one instant, so a daily action never runs twice on the same local date because
//!   of the repeated hour.
//! - **Wall-clock recurrences** ([`Recurrence::Daily`], [`Recurrence::Weekly`],
//!   [`Recurrence::Monthly`]) keep their local time across a change: a daily 09:00 stays at
//!   09:00 local while its UTC offset changes.
//! - **[`Recurrence::Every`] is elapsed time**: every 6 hours is exactly 6 hours apart, so
//!   across a change its local wall-clock time shifts by the change.
//!
//! # Missed occurrences
//!
//! [`Schedule::next_after`] takes the due time of the occurrence that just ran and the time it
//! ran. With [`CatchUp::Skip`] (the default) a due time far in the past runs once and the next
//! occurrence is the first one after now; with [`CatchUp::All`] the missed occurrences come one
//! by one.
//!
//! # Bounds
//!
//! Every step looks at a fixed, small number of candidates (a few days for daily and weekly, a
//! few months for monthly); nothing loops until a match. Arithmetic outside the representable
//! range (jiff's years -9999..=9999, chrono's instants) is an [`Error`] of kind
//! [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), never a panic.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc, Weekday};
use jiff::Timestamp;
use jiff::civil::{self, Date};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shortest [`Recurrence::Every`] interval: one minute.
const MIN_INTERVAL: Duration = Duration::from_secs(60);
/// The longest [`Recurrence::Every`] interval: 366 days.
const MAX_INTERVAL: Duration = Duration::from_secs(366 * 24 * 60 * 60);
const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// An IANA time-zone name, validated against the bundled database ("Europe/Berlin", "UTC").
///
/// Serialized as the plain string; deserializing an unknown name is an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Validates `name` against the bundled time-zone database.
    ///
    /// Errors with kind [`InvalidInput`](crate::ErrorKind::InvalidInput) for a name the
    /// database does not know.
    ///
    /// The lookup ignores ASCII case; the name is kept in the database's spelling
    /// (`europe/berlin` becomes `Europe/Berlin`), so equal zones compare equal.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let tz = lookup(&name)?;
        Ok(Self(tz.iana_name().map_or(name, str::to_owned)))
    }

    /// The `UTC` zone.
    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn time_zone(&self) -> Result<TimeZone> {
        lookup(&self.0)
    }
}

/// The bundled database, always: `jiff::tz::db()` would prefer the host's zoneinfo (or
/// `TZDIR`) when another crate in the build enables jiff's `tzdb-zoneinfo` feature.
fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

fn lookup(name: &str) -> Result<TimeZone> {
    let unknown = || Error::invalid_input(format!("unknown time zone `{}`", name.escape_debug()));
    // jiff maps `Etc/Unknown` to its "unknown" zone (UTC under another name): not a real zone.
    if name.is_empty() || name.len() > 128 || name.eq_ignore_ascii_case("Etc/Unknown") {
        return Err(unknown());
    }
    database().get(name).map_err(|_| unknown())
}

impl TryFrom<String> for TimeZoneName {
    type Error = Error;

    fn try_from(name: String) -> Result<Self> {
        Self::new(name)
    }
}

impl From<TimeZoneName> for String {
    fn from(name: TimeZoneName) -> Self {
        name.0
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A wall-clock time of day, to the minute.
///
/// Serialized as an `"HH:MM"` string (24-hour clock); deserializing anything else, or an hour
/// or minute out of range, is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime {
    hour: u8,
    minute: u8,
}

impl LocalTime {
    /// A time of day; errors unless `hour < 24` and `minute < 60`.
    pub fn new(hour: u8, minute: u8) -> Result<Self> {
        if hour >= 24 || minute >= 60 {
            return Err(Error::invalid_input(format!(
                "time of day {hour}:{minute}: hour must be below 24 and minute below 60"
            )));
        }
        Ok(Self { hour, minute })
    }

    /// The hour, 0..=23.
    pub fn hour(&self) -> u8 {
        self.hour
    }

    /// The minute, 0..=59.
    pub fn minute(&self) -> u8 {
        self.minute
    }

    fn on(self, date: Date) -> Result<civil::DateTime> {
        // Validated on construction, so these conversions and `Time::new` cannot fail; they are
        // still checked rather than unwrapped.
        let hour = i8::try_from(self.hour).map_err(|_| out_of_range())?;
        let minute = i8::try_from(self.minute).map_err(|_| out_of_range())?;
        let time = civil::Time::new(hour, minute, 0, 0).map_err(|_| out_of_range())?;
        Ok(civil::DateTime::from_parts(date, time))
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl std::str::FromStr for LocalTime {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid_input("time of day: expected \"HH:MM\" (24-hour clock)");
        let bytes = s.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(bad());
        }
        let two = |a: u8, b: u8| -> Result<u8> {
            if a.is_ascii_digit() && b.is_ascii_digit() {
                Ok((a - b'0') * 10 + (b - b'0'))
            } else {
                Err(bad())
            }
        };
        let hour = two(bytes[0], bytes[1])?;
        let minute = two(bytes[3], bytes[4])?;
        Self::new(hour, minute)
    }
}

impl TryFrom<String> for LocalTime {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<LocalTime> for String {
    fn from(t: LocalTime) -> Self {
        t.to_string()
    }
}

/// How an action recurs.
///
/// Serialized with a `type` tag: `{"type":"daily","at":"09:00"}`,
/// `{"type":"every","interval":21600}` (seconds), `{"type":"weekly","days":["mon","thu"],
/// "at":"08:30"}`, `{"type":"monthly","day":31,"at":"12:00"}`, `{"type":"once"}`. The limits
/// below are checked by [`Schedule::new`] and when a [`Schedule`] is deserialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recurrence {
    /// Runs once.
    Once,
    /// Every `interval` of elapsed time (absolute: across a DST change the wall-clock time
    /// shifts).
    Every {
        /// At least one minute, at most 366 days, in whole seconds; serialized as seconds.
        #[serde(with = "seconds")]
        interval: Duration,
    },
    /// Every day at a wall-clock time in the schedule's zone.
    Daily {
        /// The local time of day.
        at: LocalTime,
    },
    /// On the given weekdays at a wall-clock time in the schedule's zone.
    Weekly {
        /// The weekdays: not empty, no duplicates; serialized as `"mon"` ..= `"sun"`.
        #[serde(with = "weekdays")]
        days: Vec<Weekday>,
        /// The local time of day.
        at: LocalTime,
    },
    /// On a day of the month at a wall-clock time in the schedule's zone.
    Monthly {
        /// 1..=31; months without that day use their last day (day 31 runs on 30 April and
        /// on 28 or 29 February).
        day: u8,
        /// The local time of day.
        at: LocalTime,
    },
}

impl Recurrence {
    fn validate(&self) -> Result<()> {
        match self {
            Recurrence::Once | Recurrence::Daily { .. } => Ok(()),
            Recurrence::Every { interval } => {
                if *interval < MIN_INTERVAL || *interval > MAX_INTERVAL {
                    return Err(Error::invalid_input(
                        "recurrence interval must be between 1 minute and 366 days",
                    ));
                }
                if interval.subsec_nanos() != 0 {
                    return Err(Error::invalid_input(
                        "recurrence interval must be whole seconds",
                    ));
                }
                Ok(())
            }
            Recurrence::Weekly { days, .. } => {
                if days.is_empty() {
                    return Err(Error::invalid_input("weekly recurrence without weekdays"));
                }
                let mut seen = [false; 7];
                for day in days {
                    let slot = &mut seen[day.num_days_from_monday() as usize];
                    if *slot {
                        return Err(Error::invalid_input(
                            "weekly recurrence names a weekday twice",
                        ));
                    }
                    *slot = true;
                }
                Ok(())
            }
            Recurrence::Monthly { day, .. } => {
                if !(1..=31).contains(day) {
                    return Err(Error::invalid_input(
                        "monthly recurrence day must be in 1..=31",
                    ));
                }
                Ok(())
            }
        }
    }
}

/// What to do about occurrences missed while nothing ran (the process was down).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Run a late occurrence once, then continue with the first occurrence after now.
    #[default]
    Skip,
    /// Run every missed occurrence, one after the other.
    All,
}

/// A recurrence in a time zone, with a policy for missed occurrences.
///
/// Deserializing checks the same limits as [`Schedule::new`]; bad stored data is an error, not
/// a panic. `catch_up` may be absent (it defaults to [`CatchUp::Skip`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSchedule")]
pub struct Schedule {
    recurrence: Recurrence,
    zone: TimeZoneName,
    catch_up: CatchUp,
}

/// The unchecked shape of a stored [`Schedule`].
#[derive(Deserialize)]
struct RawSchedule {
    recurrence: Recurrence,
    zone: TimeZoneName,
    #[serde(default)]
    catch_up: CatchUp,
}

impl TryFrom<RawSchedule> for Schedule {
    type Error = Error;

    fn try_from(raw: RawSchedule) -> Result<Self> {
        Ok(Schedule::new(raw.recurrence, raw.zone)?.with_catch_up(raw.catch_up))
    }
}

impl Schedule {
    /// Runs once, in UTC.
    pub fn once() -> Self {
        Self {
            recurrence: Recurrence::Once,
            zone: TimeZoneName::utc(),
            catch_up: CatchUp::default(),
        }
    }

    /// A recurrence in a zone, with [`CatchUp::Skip`].
    ///
    /// Errors with kind [`InvalidInput`](crate::ErrorKind::InvalidInput) for an `Every`
    /// interval under one minute, over 366 days or not in whole seconds, an empty or repeating
    /// weekday list, or a day of the month outside 1..=31.
    pub fn new(recurrence: Recurrence, zone: TimeZoneName) -> Result<Self> {
        recurrence.validate()?;
        Ok(Self {
            recurrence,
            zone,
            catch_up: CatchUp::default(),
        })
    }

    /// Sets what happens to missed occurrences.
    pub fn with_catch_up(mut self, catch_up: CatchUp) -> Self {
        self.catch_up = catch_up;
        self
    }

    /// The recurrence.
    pub fn recurrence(&self) -> &Recurrence {
        &self.recurrence
    }

    /// The time zone wall-clock times are in.
    pub fn zone(&self) -> &TimeZoneName {
        &self.zone
    }

    /// What happens to missed occurrences.
    pub fn catch_up(&self) -> CatchUp {
        self.catch_up
    }

    /// Whether there is more than one occurrence (anything but [`Recurrence::Once`]).
    pub fn is_recurring(&self) -> bool {
        !matches!(self.recurrence, Recurrence::Once)
    }

    /// The first occurrence at or after `not_before`.
    ///
    /// For `Once` and `Every` that is `not_before` itself; for `Daily`, `Weekly` and `Monthly`
    /// the first matching wall-clock instant in the zone at or after it (see the module doc for
    /// gaps and folds).
    pub fn first_at_or_after(&self, not_before: DateTime<Utc>) -> Result<DateTime<Utc>> {
        match &self.recurrence {
            Recurrence::Once | Recurrence::Every { .. } => Ok(not_before),
            _ => {
                let t = to_timestamp(not_before)?;
                from_timestamp(self.wall_clock_next(t, false)?)
            }
        }
    }

    /// The occurrence to run after the one due at `due` ran at `now`; `None` for `Once`.
    ///
    /// With [`CatchUp::Skip`]: the first occurrence strictly after the later of `due` and
    /// `now`, so a due time in the past runs once, not once per missed interval. For `Every`
    /// the occurrences are `due + k * interval`, so the phase is kept. With [`CatchUp::All`]:
    /// the first occurrence strictly after `due` (missed ones come one by one; for `Every`
    /// exactly `due + interval`).
    pub fn next_after(
        &self,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let from = match self.catch_up {
            CatchUp::Skip => due.max(now),
            CatchUp::All => due,
        };
        match &self.recurrence {
            Recurrence::Once => Ok(None),
            Recurrence::Every { interval } => {
                let due_ns = to_timestamp(due)?.as_nanosecond();
                let from_ns = to_timestamp(from)?.as_nanosecond();
                let step = i128::try_from(interval.as_nanos()).map_err(|_| out_of_range())?;
                if step <= 0 {
                    return Err(Error::invalid_input("recurrence interval must be positive"));
                }
                // `from >= due`, so this is the number of whole steps already behind, plus one.
                let steps = (from_ns - due_ns) / step + 1;
                let next_ns = steps
                    .checked_mul(step)
                    .and_then(|d| d.checked_add(due_ns))
                    .ok_or_else(out_of_range)?;
                let next = Timestamp::from_nanosecond(next_ns).map_err(|_| out_of_range())?;
                from_timestamp(next).map(Some)
            }
            _ => {
                let t = to_timestamp(from)?;
                from_timestamp(self.wall_clock_next(t, true)?).map(Some)
            }
        }
    }

    /// The earliest wall-clock occurrence at or after (`strict`: after) `t`, from a bounded
    /// set of candidate dates around `t`'s local date.
    fn wall_clock_next(&self, t: Timestamp, strict: bool) -> Result<Timestamp> {
        let tz = self.zone.time_zone()?;
        let today = tz.to_datetime(t).date();
        let mut best: Option<Timestamp> = None;
        // A candidate outside the representable range is left out rather than failing the
        // whole step: near the end of the range the others may still answer.
        let mut consider = |date: Result<Date>, at: LocalTime| {
            let Ok(candidate) = date.and_then(|d| resolve(&tz, at.on(d)?)) else {
                return;
            };
            let fits = if strict {
                candidate > t
            } else {
                candidate >= t
            };
            if fits && best.is_none_or(|b| candidate < b) {
                best = Some(candidate);
            }
        };
        match &self.recurrence {
            Recurrence::Daily { at } => {
                // Yesterday too: a gap can push an occurrence past midnight.
                for offset in -1..=2 {
                    consider(add_days(today, offset), *at);
                }
            }
            Recurrence::Weekly { days, at } => {
                for offset in -1..=8 {
                    let Ok(date) = add_days(today, offset) else {
                        continue;
                    };
                    let weekday = date.weekday().to_monday_zero_offset();
                    if days
                        .iter()
                        .any(|d| i64::from(d.num_days_from_monday()) == i64::from(weekday))
                    {
                        consider(Ok(date), *at);
                    }
                }
            }
            Recurrence::Monthly { day, at } => {
                for offset in -1..=2 {
                    consider(day_in_month(today, offset, *day), *at);
                }
            }
            Recurrence::Once | Recurrence::Every { .. } => {
                return Err(Error::invalid_input("not a wall-clock recurrence"));
            }
        }
        best.ok_or_else(out_of_range)
    }
}

/// A civil time in `tz` as an instant: gaps resolve later by the gap, folds take the earlier
/// instant (jiff's `Compatible`).
fn resolve(tz: &TimeZone, dt: civil::DateTime) -> Result<Timestamp> {
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .map_err(|_| out_of_range())
}

fn add_days(date: Date, days: i64) -> Result<Date> {
    date.checked_add(jiff::Span::new().days(days))
        .map_err(|_| out_of_range())
}

/// Day `day` (clamped to the month's last day) of the month `months` after `date`'s month.
fn day_in_month(date: Date, months: i32, day: u8) -> Result<Date> {
    let index = i32::from(date.year()) * 12 + i32::from(date.month()) - 1 + months;
    let year = i16::try_from(index.div_euclid(12)).map_err(|_| out_of_range())?;
    let month = i8::try_from(index.rem_euclid(12) + 1).map_err(|_| out_of_range())?;
    let first = Date::new(year, month, 1).map_err(|_| out_of_range())?;
    let day = i8::try_from(day)
        .map_err(|_| out_of_range())?
        .min(first.days_in_month());
    Date::new(year, month, day).map_err(|_| out_of_range())
}

fn to_timestamp(t: DateTime<Utc>) -> Result<Timestamp> {
    // chrono keeps a leap second as nanoseconds >= 1e9; count it as the last nanosecond.
    let nanos = i128::from(t.timestamp_subsec_nanos().min(999_999_999));
    let total = i128::from(t.timestamp()) * NANOS_PER_SECOND + nanos;
    Timestamp::from_nanosecond(total).map_err(|_| out_of_range())
}

fn from_timestamp(t: Timestamp) -> Result<DateTime<Utc>> {
    let total = t.as_nanosecond();
    let secs = i64::try_from(total.div_euclid(NANOS_PER_SECOND)).map_err(|_| out_of_range())?;
    let nanos = u32::try_from(total.rem_euclid(NANOS_PER_SECOND)).map_err(|_| out_of_range())?;
    DateTime::from_timestamp(secs, nanos).ok_or_else(out_of_range)
}

fn out_of_range() -> Error {
    Error::invalid_input("schedule time out of the representable range")
}

/// `Duration` as whole seconds.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// `Vec<chrono::Weekday>` as `["mon", "thu"]`.
mod weekdays {
    use chrono::Weekday;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    fn name(day: Weekday) -> &'static str {
        match day {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    pub(super) fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(days.iter().map(|d| name(*d)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names
            .iter()
            .map(|n| match n.as_str() {
                "mon" => Ok(Weekday::Mon),
                "tue" => Ok(Weekday::Tue),
                "wed" => Ok(Weekday::Wed),
                "thu" => Ok(Weekday::Thu),
                "fri" => Ok(Weekday::Fri),
                "sat" => Ok(Weekday::Sat),
                "sun" => Ok(Weekday::Sun),
                _ => Err(D::Error::custom(
                    "weekday: expected one of mon, tue, wed, thu, fri, sat, sun",
                )),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use jiff::tz::AmbiguousOffset;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("test instant")
    }

    fn zone(name: &str) -> TimeZoneName {
        TimeZoneName::new(name).expect("known zone")
    }

    fn at(hour: u8, minute: u8) -> LocalTime {
        LocalTime::new(hour, minute).expect("valid time")
    }

    fn schedule(recurrence: Recurrence, name: &str) -> Schedule {
        Schedule::new(recurrence, zone(name)).expect("valid schedule")
    }

    /// The local civil time of `t` in `name`, as `2026-03-29T03:30:00`.
    fn local(name: &str, t: DateTime<Utc>) -> String {
        let tz = zone(name).time_zone().expect("zone");
        let ts = to_timestamp(t).expect("in range");
        tz.to_datetime(ts).to_string()
    }

    /// Successive occurrences with `CatchUp::All`, starting at the first one at or after `from`.
    fn run(s: &Schedule, from: &str, n: usize) -> Vec<DateTime<Utc>> {
        let s = s.clone().with_catch_up(CatchUp::All);
        let mut out = vec![s.first_at_or_after(utc(from)).expect("first")];
        while out.len() < n {
            let last = *out.last().expect("non-empty");
            out.push(s.next_after(last, last).expect("next").expect("recurring"));
        }
        out
    }

    fn daily(name: &str, hour: u8, minute: u8) -> Schedule {
        schedule(
            Recurrence::Daily {
                at: at(hour, minute),
            },
            name,
        )
    }

    #[test]
    fn berlin_daily_0230_across_spring_forward() {
        let s = daily("Europe/Berlin", 2, 30);
        let got = run(&s, "2026-03-28T00:00:00Z", 3);
        assert_eq!(
            got,
            [
                utc("2026-03-28T01:30:00Z"),
                // 02:30 does not exist on 29 March: later by the gap, 03:30 CEST.
                utc("2026-03-29T01:30:00Z"),
                utc("2026-03-30T00:30:00Z"),
            ]
        );
        assert_eq!(local("Europe/Berlin", got[1]), "2026-03-29T03:30:00");
        assert_eq!(local("Europe/Berlin", got[2]), "2026-03-30T02:30:00");
    }

    #[test]
    fn berlin_daily_0230_across_fall_back_runs_once_per_date() {
        let s = daily("Europe/Berlin", 2, 30);
        let got = run(&s, "2026-10-24T00:00:00Z", 3);
        assert_eq!(
            got,
            [
                utc("2026-10-24T00:30:00Z"),
                // 02:30 happens twice on 25 October: the earlier one (CEST).
                utc("2026-10-25T00:30:00Z"),
                utc("2026-10-26T01:30:00Z"),
            ]
        );
        // Inside the repeated hour, after the first 02:30 ran: the second 02:30 of the same
        // date is not an occurrence.
        let in_fold = utc("2026-10-25T01:10:00Z");
        assert_eq!(local("Europe/Berlin", in_fold), "2026-10-25T02:10:00");
        assert_eq!(
            s.first_at_or_after(in_fold).expect("first"),
            utc("2026-10-26T01:30:00Z")
        );
        assert_eq!(
            s.next_after(got[1], in_fold).expect("next"),
            Some(utc("2026-10-26T01:30:00Z"))
        );
    }

    #[test]
    fn daily_0900_keeps_local_time_while_the_offset_changes() {
        let s = daily("Europe/Berlin", 9, 0);
        let got = run(&s, "2026-03-28T00:00:00Z", 2);
        assert_eq!(
            got,
            [utc("2026-03-28T08:00:00Z"), utc("2026-03-29T07:00:00Z")]
        );
        let got = run(&s, "2026-10-24T00:00:00Z", 3);
        assert_eq!(
            got,
            [
                utc("2026-10-24T07:00:00Z"),
                utc("2026-10-25T08:00:00Z"),
                utc("2026-10-26T08:00:00Z"),
            ]
        );
        for t in got {
            assert!(local("Europe/Berlin", t).ends_with("T09:00:00"));
        }
    }

    #[test]
    fn new_york_transitions() {
        // 8 March 2026: 02:00 EST -> 03:00 EDT.
        let s = daily("America/New_York", 2, 30);
        assert_eq!(
            run(&s, "2026-03-07T00:00:00Z", 3),
            [
                utc("2026-03-07T07:30:00Z"),
                utc("2026-03-08T07:30:00Z"),
                utc("2026-03-09T06:30:00Z"),
            ]
        );
        // 1 November 2026: 02:00 EDT -> 01:00 EST; 01:30 happens twice, the first one counts.
        let s = daily("America/New_York", 1, 30);
        assert_eq!(
            run(&s, "2026-10-31T00:00:00Z", 3),
            [
                utc("2026-10-31T05:30:00Z"),
                utc("2026-11-01T05:30:00Z"),
                utc("2026-11-02T06:30:00Z"),
            ]
        );
    }

    #[test]
    fn lord_howe_half_hour_shift() {
        // 4 October 2026: 02:00 +10:30 -> 02:30 +11. 02:15 is in the gap: 02:45 +11.
        let s = daily("Australia/Lord_Howe", 2, 15);
        let got = run(&s, "2026-10-02T00:00:00Z", 3);
        assert_eq!(
            got,
            [
                utc("2026-10-02T15:45:00Z"),
                utc("2026-10-03T15:45:00Z"),
                utc("2026-10-04T15:15:00Z"),
            ]
        );
        assert_eq!(local("Australia/Lord_Howe", got[1]), "2026-10-04T02:45:00");
        // 5 April 2026: 02:00 +11 -> 01:30 +10:30; 01:45 happens twice, the first one counts.
        let s = daily("Australia/Lord_Howe", 1, 45);
        assert_eq!(
            run(&s, "2026-04-03T00:00:00Z", 3),
            [
                utc("2026-04-03T14:45:00Z"),
                utc("2026-04-04T14:45:00Z"),
                utc("2026-04-05T15:15:00Z"),
            ]
        );
    }

    #[test]
    fn monthly_day_31_uses_the_last_day_of_short_months() {
        let s = schedule(
            Recurrence::Monthly {
                day: 31,
                at: at(12, 0),
            },
            "Europe/Berlin",
        );
        let got = run(&s, "2026-01-15T00:00:00Z", 5);
        let locals: Vec<_> = got.iter().map(|t| local("Europe/Berlin", *t)).collect();
        assert_eq!(
            locals,
            [
                "2026-01-31T12:00:00",
                "2026-02-28T12:00:00",
                "2026-03-31T12:00:00",
                "2026-04-30T12:00:00",
                "2026-05-31T12:00:00",
            ]
        );
        assert_eq!(got[2], utc("2026-03-31T10:00:00Z"));
        let leap = run(&s, "2028-02-01T00:00:00Z", 1);
        assert_eq!(local("Europe/Berlin", leap[0]), "2028-02-29T12:00:00");
    }

    #[test]
    fn weekly_monday_and_thursday() {
        let s = schedule(
            Recurrence::Weekly {
                days: vec![Weekday::Mon, Weekday::Thu],
                at: at(8, 30),
            },
            "Europe/Berlin",
        );
        // Monday 7 December 2026, 09:00 local: Monday's 08:30 has passed.
        let got = run(&s, "2026-12-07T08:00:00Z", 4);
        assert_eq!(
            got,
            [
                utc("2026-12-10T07:30:00Z"),
                utc("2026-12-14T07:30:00Z"),
                utc("2026-12-17T07:30:00Z"),
                utc("2026-12-21T07:30:00Z"),
            ]
        );
        assert_eq!(
            s.first_at_or_after(utc("2026-12-07T07:30:00Z"))
                .expect("first"),
            utc("2026-12-07T07:30:00Z"),
            "at or after includes the instant itself"
        );
    }

    #[test]
    fn every_six_hours_is_elapsed_time_across_a_change() {
        let s = schedule(
            Recurrence::Every {
                interval: Duration::from_secs(6 * 3600),
            },
            "Europe/Berlin",
        )
        .with_catch_up(CatchUp::All);
        let due = utc("2026-03-29T00:00:00Z");
        assert_eq!(s.first_at_or_after(due).expect("first"), due);
        let next = s.next_after(due, due).expect("next").expect("recurring");
        assert_eq!(next - due, chrono::Duration::hours(6));
        assert_eq!(local("Europe/Berlin", due), "2026-03-29T01:00:00");
        assert_eq!(local("Europe/Berlin", next), "2026-03-29T08:00:00");
    }

    #[test]
    fn skip_and_all_after_a_three_day_outage() {
        let due = utc("2026-12-01T08:00:00Z"); // 09:00 in Berlin
        let now = utc("2026-12-04T10:00:00Z");
        let s = daily("Europe/Berlin", 9, 0);
        assert_eq!(s.catch_up(), CatchUp::Skip);
        assert_eq!(
            s.next_after(due, now).expect("next"),
            Some(utc("2026-12-05T08:00:00Z"))
        );
        let all = s.with_catch_up(CatchUp::All);
        assert_eq!(
            all.next_after(due, now).expect("next"),
            Some(utc("2026-12-02T08:00:00Z"))
        );

        let every = schedule(
            Recurrence::Every {
                interval: Duration::from_secs(6 * 3600),
            },
            "UTC",
        );
        let due = utc("2026-12-01T00:00:00Z");
        let now = utc("2026-12-04T01:00:00Z");
        assert_eq!(
            every.next_after(due, now).expect("next"),
            Some(utc("2026-12-04T06:00:00Z"))
        );
        // An occurrence that ran early (now before due) still moves past due.
        assert_eq!(
            every
                .next_after(due, utc("2026-11-30T00:00:00Z"))
                .expect("next"),
            Some(utc("2026-12-01T06:00:00Z"))
        );
        let every = every.with_catch_up(CatchUp::All);
        assert_eq!(
            every.next_after(due, now).expect("next"),
            Some(utc("2026-12-01T06:00:00Z"))
        );
    }

    #[test]
    fn once_runs_once() {
        let s = Schedule::once();
        assert!(!s.is_recurring());
        assert_eq!(s.zone(), &TimeZoneName::utc());
        assert_eq!(s.recurrence(), &Recurrence::Once);
        let t = utc("2026-12-07T15:00:00Z");
        assert_eq!(s.first_at_or_after(t).expect("first"), t);
        assert_eq!(s.next_after(t, t).expect("next"), None);
        assert!(daily("UTC", 9, 0).is_recurring());
    }

    #[test]
    fn validation() {
        let kind = |r: Result<Schedule>| r.expect_err("must fail").kind();
        assert_eq!(
            TimeZoneName::new("Mars/Olympus_Mons")
                .expect_err("unknown")
                .kind(),
            ErrorKind::InvalidInput
        );
        assert!(TimeZoneName::new("").is_err());
        assert!(TimeZoneName::new("Etc/Unknown").is_err());
        assert_eq!(zone("Europe/Berlin").as_str(), "Europe/Berlin");
        assert_eq!(zone("europe/BERLIN"), zone("Europe/Berlin"));
        assert_eq!(zone("utc"), TimeZoneName::utc());
        assert_eq!(
            zone("Australia/Lord_Howe").to_string(),
            "Australia/Lord_Howe"
        );
        assert_eq!(TimeZoneName::utc().as_str(), "UTC");
        assert!(LocalTime::new(24, 0).is_err());
        assert!(LocalTime::new(0, 60).is_err());
        assert_eq!((at(23, 59).hour(), at(23, 59).minute()), (23, 59));
        for bad in [0, 59] {
            let r = Recurrence::Every {
                interval: Duration::from_secs(bad),
            };
            assert_eq!(
                kind(Schedule::new(r, TimeZoneName::utc())),
                ErrorKind::InvalidInput
            );
        }
        for bad in [
            Duration::from_secs(366 * 86_400 + 1),
            Duration::from_millis(60_500),
            Duration::MAX,
        ] {
            let r = Recurrence::Every { interval: bad };
            assert!(Schedule::new(r, TimeZoneName::utc()).is_err());
        }
        for ok in [60, 366 * 86_400] {
            let r = Recurrence::Every {
                interval: Duration::from_secs(ok),
            };
            assert!(Schedule::new(r, TimeZoneName::utc()).is_ok());
        }
        let weekly = |days: Vec<Weekday>| Recurrence::Weekly { days, at: at(9, 0) };
        assert!(Schedule::new(weekly(vec![]), TimeZoneName::utc()).is_err());
        assert!(
            Schedule::new(
                weekly(vec![Weekday::Mon, Weekday::Mon]),
                TimeZoneName::utc()
            )
            .is_err()
        );
        for day in [0, 32, 255] {
            let r = Recurrence::Monthly { day, at: at(9, 0) };
            assert!(Schedule::new(r, TimeZoneName::utc()).is_err());
        }
    }

    #[test]
    fn serde_round_trips() {
        let schedules = [
            Schedule::once(),
            schedule(
                Recurrence::Every {
                    interval: Duration::from_secs(21_600),
                },
                "Europe/Berlin",
            )
            .with_catch_up(CatchUp::All),
            daily("America/New_York", 9, 5),
            schedule(
                Recurrence::Weekly {
                    days: vec![Weekday::Mon, Weekday::Thu, Weekday::Sun],
                    at: at(8, 30),
                },
                "Australia/Lord_Howe",
            ),
            schedule(
                Recurrence::Monthly {
                    day: 31,
                    at: at(0, 0),
                },
                "UTC",
            ),
        ];
        for s in schedules {
            let json = serde_json::to_string(&s).expect("serialize");
            let back: Schedule = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, s, "{json}");
        }
        let weekly = schedule(
            Recurrence::Weekly {
                days: vec![Weekday::Mon, Weekday::Thu],
                at: at(8, 30),
            },
            "Europe/Berlin",
        );
        assert_eq!(
            serde_json::to_value(&weekly).expect("serialize"),
            serde_json::json!({
                "recurrence": {"type": "weekly", "days": ["mon", "thu"], "at": "08:30"},
                "zone": "Europe/Berlin",
                "catch_up": "skip",
            })
        );
        let every: Schedule = serde_json::from_value(serde_json::json!({
            "recurrence": {"type": "every", "interval": 3600},
            "zone": "UTC",
        }))
        .expect("catch_up defaults");
        assert_eq!(
            every.recurrence(),
            &Recurrence::Every {
                interval: Duration::from_secs(3600)
            }
        );
        assert_eq!(every.catch_up(), CatchUp::Skip);
    }

    #[test]
    fn bad_stored_data_is_an_error() {
        let bad = [
            r#"{"recurrence":{"type":"once"},"zone":"Mars/Olympus_Mons"}"#,
            r#"{"recurrence":{"type":"daily","at":"25:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"daily","at":"9:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"daily","at":"09:60"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"daily","at":"+9:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"weekly","days":[],"at":"09:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"weekly","days":["Mon"],"at":"09:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"weekly","days":["mon","mon"],"at":"09:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"every","interval":0},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"every","interval":-60},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"every","interval":99999999999},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"monthly","day":0,"at":"09:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"monthly","day":32,"at":"09:00"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"hourly"},"zone":"UTC"}"#,
            r#"{"recurrence":{"type":"once"},"zone":"UTC","catch_up":"some"}"#,
            r#"{"recurrence":{"type":"once"}}"#,
        ];
        for json in bad {
            assert!(serde_json::from_str::<Schedule>(json).is_err(), "{json}");
        }
        assert!(serde_json::from_str::<LocalTime>(r#""25:00""#).is_err());
        assert!(serde_json::from_str::<TimeZoneName>(r#""Nowhere/City""#).is_err());
        assert_eq!(
            serde_json::from_str::<LocalTime>(r#""07:05""#).expect("valid"),
            at(7, 5)
        );
    }

    #[test]
    fn edges_of_the_range_are_errors_not_panics() {
        let every = schedule(
            Recurrence::Every {
                interval: Duration::from_secs(60),
            },
            "UTC",
        );
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            assert!(daily("Europe/Berlin", 2, 30).first_at_or_after(t).is_err());
            assert!(daily("Europe/Berlin", 2, 30).next_after(t, t).is_err());
            assert!(every.next_after(t, t).is_err());
        }
        // jiff's last instant is 9999-12-30T22:00:00.999999999Z: no next minute after it.
        let last = utc("9999-12-30T21:59:30Z");
        assert!(every.next_after(last, last).is_err());
        assert!(daily("UTC", 0, 0).next_after(last, last).is_err());
        // Up to there, a late occurrence still answers.
        assert_eq!(
            daily("UTC", 21, 59)
                .first_at_or_after(utc("9999-12-30T12:00:00Z"))
                .expect("in range"),
            utc("9999-12-30T21:59:00Z")
        );
    }

    /// Zones with DST in both hemispheres, midnight transitions (São Paulo until 2019,
    /// Santiago), a 30-minute shift (Lord Howe), and none (UTC, Kolkata).
    const ZONES: [&str; 9] = [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "America/Sao_Paulo",
        "America/Santiago",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Auckland",
        "Asia/Kolkata",
    ];

    /// 2000-01-01 ..= 2037-12-31.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (946_684_800i64..2_145_830_400, 0u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).expect("in chrono's range"))
    }

    fn local_time() -> impl Strategy<Value = LocalTime> {
        (0u8..24, 0u8..60).prop_map(|(h, m)| at(h, m))
    }

    fn civil_in(name: &str, t: DateTime<Utc>) -> civil::DateTime {
        let tz = zone(name).time_zone().expect("zone");
        tz.to_datetime(to_timestamp(t).expect("in range"))
    }

    fn in_gap(name: &str, date: Date, at: LocalTime) -> bool {
        let tz = zone(name).time_zone().expect("zone");
        let dt = at.on(date).expect("civil");
        matches!(
            tz.to_ambiguous_timestamp(dt).offset(),
            AmbiguousOffset::Gap { .. }
        )
    }

    fn weekdays_from(mask: u8) -> Vec<Weekday> {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, d)| d)
        .collect()
    }

    proptest! {
        #[test]
        fn daily_steps_one_local_date_at_a_time(
            z in 0usize..ZONES.len(),
            at in local_time(),
            t in instant(),
            late in 0i64..10 * 86_400,
        ) {
            let name = ZONES[z];
            let s = schedule(Recurrence::Daily { at }, name).with_catch_up(CatchUp::All);
            let first = s.first_at_or_after(t).expect("first");
            prop_assert!(first >= t);
            let mut prev = first;
            for _ in 0..4 {
                let next = s.next_after(prev, prev).expect("next").expect("recurring");
                prop_assert!(next > prev);
                let (a, b) = (civil_in(name, prev), civil_in(name, next));
                prop_assert_eq!(b.date(), a.date().tomorrow().expect("date"));
                if !in_gap(name, b.date(), at) {
                    prop_assert_eq!((b.hour(), b.minute()), (at.hour() as i8, at.minute() as i8));
                }
                prev = next;
            }
            let now = first + chrono::Duration::seconds(late);
            let skip = s.clone().with_catch_up(CatchUp::Skip);
            let next = skip.next_after(first, now).expect("next").expect("recurring");
            prop_assert!(next > now && next > first);
            prop_assert!(next - now <= chrono::Duration::hours(26));
        }

        #[test]
        fn every_is_exact_elapsed_time(
            z in 0usize..ZONES.len(),
            secs in 60u64..=366 * 86_400,
            due in instant(),
            late in 0i64..20 * 366 * 86_400,
        ) {
            let interval = Duration::from_secs(secs);
            let s = schedule(Recurrence::Every { interval }, ZONES[z]);
            prop_assert_eq!(s.first_at_or_after(due).expect("first"), due);
            let all = s.clone().with_catch_up(CatchUp::All);
            let now = due + chrono::Duration::seconds(late);
            let next = all.next_after(due, now).expect("next").expect("recurring");
            prop_assert_eq!((next - due).num_seconds(), secs as i64);
            prop_assert_eq!(next - due, chrono::Duration::from_std(interval).expect("small"));
            let next = s.next_after(due, now).expect("next").expect("recurring");
            prop_assert!(next > now && next > due);
            let behind = (next - due).num_nanoseconds().expect("small") as i128;
            prop_assert_eq!(behind % (secs as i128 * NANOS_PER_SECOND), 0);
            prop_assert!(next - now <= chrono::Duration::from_std(interval).expect("small"));
        }

        #[test]
        fn weekly_lands_on_its_days(
            z in 0usize..ZONES.len(),
            mask in 1u8..128,
            at in local_time(),
            t in instant(),
        ) {
            let name = ZONES[z];
            let days = weekdays_from(mask);
            let s = schedule(Recurrence::Weekly { days: days.clone(), at }, name)
                .with_catch_up(CatchUp::All);
            let mut prev = s.first_at_or_after(t).expect("first");
            prop_assert!(prev >= t);
            for _ in 0..4 {
                let local = civil_in(name, prev);
                let weekday = local.date().weekday().to_monday_zero_offset();
                prop_assert!(days.iter().any(|d| d.num_days_from_monday() as i8 == weekday));
                let next = s.next_after(prev, prev).expect("next").expect("recurring");
                prop_assert!(next > prev);
                prop_assert!(next - prev <= chrono::Duration::days(7) + chrono::Duration::hours(2));
                prev = next;
            }
        }

        #[test]
        fn monthly_lands_on_its_day_or_the_last(
            z in 0usize..ZONES.len(),
            day in 1u8..=31,
            at in local_time(),
            t in instant(),
        ) {
            let name = ZONES[z];
            let s = schedule(Recurrence::Monthly { day, at }, name).with_catch_up(CatchUp::All);
            let mut prev = s.first_at_or_after(t).expect("first");
            prop_assert!(prev >= t);
            for _ in 0..3 {
                let next = s.next_after(prev, prev).expect("next").expect("recurring");
                prop_assert!(next > prev);
                let (a, b) = (civil_in(name, prev).date(), civil_in(name, next).date());
                let months = (i32::from(b.year()) * 12 + i32::from(b.month()))
                    - (i32::from(a.year()) * 12 + i32::from(a.month()));
                prop_assert_eq!(months, 1);
                prop_assert_eq!(b.day(), (day as i8).min(b.days_in_month()));
                prev = next;
            }
        }

        #[test]
        fn no_panics_anywhere(
            kind in 0u8..6,
            z in 0usize..ZONES.len(),
            interval in prop_oneof![Just(0u64), Just(u64::MAX), 0u64..u64::MAX, 0u64..40_000_000],
            mask in 0u8..=255,
            day in 0u8..=255,
            hour in 0u8..30,
            minute in 0u8..70,
            a in prop_oneof![
                Just(DateTime::<Utc>::MIN_UTC.timestamp()),
                Just(DateTime::<Utc>::MAX_UTC.timestamp()),
                DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
                -400_000_000_000i64..=400_000_000_000,
            ],
            b in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
            all in any::<bool>(),
        ) {
            let Ok(at) = LocalTime::new(hour, minute) else { return Ok(()) };
            let recurrence = match kind {
                0 => Recurrence::Once,
                1 => Recurrence::Every { interval: Duration::from_secs(interval) },
                2 => Recurrence::Daily { at },
                3 => Recurrence::Weekly { days: weekdays_from(mask), at },
                _ => Recurrence::Monthly { day, at },
            };
            let Ok(s) = Schedule::new(recurrence, zone(ZONES[z])) else { return Ok(()) };
            let s = s.with_catch_up(if all { CatchUp::All } else { CatchUp::Skip });
            let (Some(a), Some(b)) = (DateTime::from_timestamp(a, 0), DateTime::from_timestamp(b, 0))
            else {
                return Ok(());
            };
            if let Ok(first) = s.first_at_or_after(a) {
                prop_assert!(first >= a);
            }
            if let Ok(Some(next)) = s.next_after(a, b) {
                prop_assert!(next > a);
                if !all {
                    prop_assert!(next > b);
                }
            }
        }
    }
}
