//! The age gate: no consent, and so no connection, from an end user below the minimum age of
//! their jurisdiction.
//!
//! A host asks the end user for an [`AgeAttestation`] (a birth date, or just an [`AgeBand`]) and
//! a [`Jurisdiction`], then calls [`AgePolicy::check`] before recording consent.
//!
//! ```
//! use chrono::NaiveDate;
//! use socialconnect_core::age::{AgeAttestation, AgeBand, AgePolicy, Jurisdiction};
//! use socialconnect_core::ErrorKind;
//!
//! # fn main() -> socialconnect_core::Result<()> {
//! let policy = AgePolicy::default();
//! let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
//! let germany = Jurisdiction::new("DE")?;
//! let us = Jurisdiction::new("us")?;
//!
//! // Germany kept the GDPR's default of 16.
//! let err = policy
//!     .check(&AgeAttestation::Band(AgeBand::Age15), &germany, today)
//!     .unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::AgeRestricted);
//! // Everywhere else the floor is 13.
//! policy.check(&AgeAttestation::Band(AgeBand::Age13), &us, today)?;
//! # Ok(()) }
//! ```
//!
//! # Privacy decisions
//!
//! - **The check is pure.** [`AgePolicy::check`] stores nothing, logs nothing and emits no
//!   tracing event, whatever the outcome. A refusal is an [`Error::AgeRestricted`] that carries
//!   only the minimum age that applied: not the birth date, not the computed age, not the
//!   jurisdiction. Whatever the host keeps as proof of a refusal is its own decision; by default
//!   nothing about the minor exists anywhere once the call returns.
//! - **Ask for as little as possible.** An [`AgeBand`] is enough: the bands' lower bounds are the
//!   thresholds GDPR Art. 8 lets member states choose (13, 14, 15, 16) plus adulthood, so a host
//!   never needs a birth date to apply the shipped policy. A birth date, when the host does ask
//!   for one, is redacted from [`AgeAttestation`]'s `Debug` so it cannot reach a log by accident.
//! - **Doubt refuses.** A band that straddles the minimum (it holds ages on both sides of it)
//!   cannot prove the end user is old enough, so it is refused. A birth date in the future is
//!   invalid input. Someone born on 29 February reaches a new age on 1 March in common years,
//!   never on 28 February: the gate never opens a day early.
//! - **The jurisdiction is where the end user lives**, as the host determines it (the address or
//!   country they give, not the server's location). Art. 8 ages follow the end user's member
//!   state; when the host cannot tell, it should pass the strictest jurisdiction it serves.
//! - **Defaults:** 13 everywhere (the floor below which no SocialConnect host serves anyone), 16
//!   in every EU/EEA state whose national choice we could not confirm, and the confirmed national
//!   choices otherwise (see [`AgePolicy::default`]). Hosts override any of them after their own
//!   legal review with [`AgePolicy::with_minimum`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::error::{Error, Result};

/// The lowest minimum age any policy may set: no SocialConnect host serves a child under 13
/// (GDPR Art. 8's lowest permitted age, and COPPA's threshold in the United States).
pub const ABSOLUTE_MINIMUM_AGE: u8 = 13;

/// The highest minimum age a policy may set (a host may limit its service to adults, even where
/// adulthood starts at 21).
pub const HIGHEST_MINIMUM_AGE: u8 = 21;

/// The minimum age in EU/EEA states whose national Art. 8 choice is not shipped: GDPR Art. 8(1)'s
/// default.
pub const GDPR_DEFAULT_MINIMUM_AGE: u8 = 16;

/// A country, as an ISO 3166-1 alpha-2 code (`"DE"`, `"FR"`, `"US"`).
///
/// Only officially assigned codes are accepted, plus `XK` (Kosovo, user-assigned but used by the
/// European Commission and most platforms). Input is case-insensitive and stored in upper case.
/// The EU's own `EL` for Greece and `UK` for the United Kingdom are *not* ISO codes: use `GR`
/// and `GB`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jurisdiction([u8; 2]);

impl Jurisdiction {
    /// Validates an ISO 3166-1 alpha-2 code (either case).
    pub fn new(code: &str) -> Result<Self> {
        let bytes = code.as_bytes();
        let [a, b] = bytes else {
            return Err(Error::invalid_input(
                "jurisdiction must be an ISO 3166-1 alpha-2 country code",
            ));
        };
        let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        if !code.iter().all(u8::is_ascii_uppercase) || !is_assigned(code) {
            return Err(Error::invalid_input(
                "jurisdiction must be an ISO 3166-1 alpha-2 country code",
            ));
        }
        Ok(Self(code))
    }

    /// The code in upper case, e.g. `"DE"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Whether GDPR applies to residents of this country as an EU member state or an EEA state
    /// (Iceland, Liechtenstein, Norway), including the EU's outermost regions that have their
    /// own ISO codes (French Guiana, Guadeloupe, Martinique, Réunion, Mayotte, Saint-Martin) and
    /// Åland.
    pub fn is_eea(&self) -> bool {
        EEA.contains(&self.as_str()) || self.member_state().is_some()
    }

    /// For a territory with its own ISO code that belongs to an EU member state, that state's
    /// code (`RE` → `FR`, `AX` → `FI`); `None` otherwise.
    fn member_state(&self) -> Option<&'static str> {
        match self.as_str() {
            "GF" | "GP" | "MQ" | "RE" | "YT" | "MF" => Some("FR"),
            "AX" => Some("FI"),
            _ => None,
        }
    }
}

impl fmt::Debug for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jurisdiction({})", self.as_str())
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Jurisdiction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

/// The EU's 27 member states and the three EEA states, by ISO code.
const EEA: [&str; 30] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", // EU
    "IS", "LI", "NO", // EEA
];

/// The national Art. 8 ages shipped as defaults: only those confirmed by two independent sources,
/// the European Commission's Staff Working Document accompanying its 2020 GDPR evaluation
/// (SWD(2020) 115, p. 17, tabulated at <https://blog.kuan0.com/2020/06/>) and Bird & Bird's GDPR
/// tracker (<https://www.twobirds.com/en/in-focus/general-data-protection-regulation/gdpr-tracker/children>).
/// Every other EU/EEA state falls back to 16. Slovenia (reported as 15 since its 2022 data
/// protection act) and Iceland and Norway (reported as 13) are left at 16 because neither source
/// confirms them; hosts that have checked can lower them with [`AgePolicy::with_minimum`].
const NATIONAL_AGES: [(&str, u8); 17] = [
    ("BE", 13),
    ("DK", 13),
    ("EE", 13),
    ("FI", 13),
    ("LV", 13),
    ("MT", 13),
    ("PT", 13),
    ("SE", 13),
    ("AT", 14),
    ("BG", 14),
    ("CY", 14),
    ("IT", 14),
    ("LT", 14),
    ("ES", 14),
    ("CZ", 15),
    ("FR", 15),
    ("GR", 15),
];

/// What the end user said about their age. Give as little as the policy needs: a band is enough.
///
/// `Debug` never shows a birth date.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgeAttestation {
    /// The end user's date of birth.
    BirthDate(NaiveDate),
    /// The age band the end user attested to.
    Band(AgeBand),
}

impl fmt::Debug for AgeAttestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgeAttestation::BirthDate(_) => f.write_str("BirthDate([REDACTED])"),
            AgeAttestation::Band(band) => write!(f, "Band({band:?})"),
        }
    }
}

/// An attested age band. The lower bounds are the ages GDPR Art. 8 lets member states choose
/// (13 to 16) plus 18, so with the shipped policy a band never straddles a minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AgeBand {
    /// Younger than 13.
    Under13,
    /// Exactly 13.
    Age13,
    /// Exactly 14.
    Age14,
    /// Exactly 15.
    Age15,
    /// 16 or 17.
    Age16To17,
    /// 18 or older.
    Adult,
}

impl AgeBand {
    /// The youngest age in the band (0 for [`AgeBand::Under13`]).
    pub fn lowest_age(self) -> u8 {
        match self {
            AgeBand::Under13 => 0,
            AgeBand::Age13 => 13,
            AgeBand::Age14 => 14,
            AgeBand::Age15 => 15,
            AgeBand::Age16To17 => 16,
            AgeBand::Adult => 18,
        }
    }

    /// The oldest age in the band; `None` for [`AgeBand::Adult`], which has no upper bound.
    pub fn highest_age(self) -> Option<u8> {
        match self {
            AgeBand::Under13 => Some(12),
            AgeBand::Age13 => Some(13),
            AgeBand::Age14 => Some(14),
            AgeBand::Age15 => Some(15),
            AgeBand::Age16To17 => Some(17),
            AgeBand::Adult => None,
        }
    }
}

/// The minimum age per jurisdiction, and the check against it.
///
/// Cheap to clone; build it once at start-up and share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgePolicy {
    /// Outside the EU/EEA, unless overridden.
    default_minimum: u8,
    /// EU/EEA states without a national entry, unless overridden.
    eea_minimum: u8,
    /// National choices and host overrides, by ISO code.
    overrides: BTreeMap<Jurisdiction, u8>,
}

impl Default for AgePolicy {
    /// 13 outside the EU/EEA; in the EU/EEA the confirmed national Art. 8 choices (13: BE, DK,
    /// EE, FI, LV, MT, PT, SE; 14: AT, BG, CY, ES, IT, LT; 15: CZ, FR, GR), and 16 for every
    /// other EU/EEA state (DE, HR, HU, IE, LU, NL, PL, RO, SI, SK, IS, LI, NO). Outermost regions
    /// and Åland follow their member state.
    fn default() -> Self {
        let mut overrides = BTreeMap::new();
        for (code, age) in NATIONAL_AGES {
            // The table is checked by a unit test; a bad entry would only be skipped.
            if let Ok(j) = Jurisdiction::new(code) {
                overrides.insert(j, age);
            }
        }
        Self {
            default_minimum: ABSOLUTE_MINIMUM_AGE,
            eea_minimum: GDPR_DEFAULT_MINIMUM_AGE,
            overrides,
        }
    }
}

impl AgePolicy {
    /// The default policy (see [`AgePolicy::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the minimum age for one jurisdiction, replacing the shipped national choice: for a
    /// member state that changes its Art. 8 age, or a host that serves a country only from a
    /// higher age. Must be within 13..=21, so no override can admit a child under 13. Setting a
    /// member state's minimum also sets it for its outermost regions that have their own codes.
    pub fn with_minimum(mut self, jurisdiction: Jurisdiction, minimum_age: u8) -> Result<Self> {
        check_range(minimum_age)?;
        self.overrides.insert(jurisdiction, minimum_age);
        Ok(self)
    }

    /// Sets the minimum age outside the EU/EEA where no per-jurisdiction minimum is set
    /// (default 13; within 13..=21).
    pub fn with_default_minimum(mut self, minimum_age: u8) -> Result<Self> {
        check_range(minimum_age)?;
        self.default_minimum = minimum_age;
        Ok(self)
    }

    /// The minimum age that applies in `jurisdiction`.
    pub fn minimum_age(&self, jurisdiction: &Jurisdiction) -> u8 {
        if let Some(age) = self.overrides.get(jurisdiction) {
            return *age;
        }
        if let Some(state) = jurisdiction.member_state()
            && let Some(age) = Jurisdiction::new(state)
                .ok()
                .and_then(|j| self.overrides.get(&j))
        {
            return *age;
        }
        if jurisdiction.is_eea() {
            self.eea_minimum
        } else {
            self.default_minimum
        }
    }

    /// Checks an attestation against the minimum age in `jurisdiction` on `today` (the date
    /// where the end user lives when the host knows it, UTC otherwise).
    ///
    /// - Old enough: `Ok(())`.
    /// - Too young, or a band that does not prove the minimum: [`Error::AgeRestricted`]
    ///   (kind [`crate::ErrorKind::AgeRestricted`]) carrying only the minimum age.
    /// - A birth date after `today`: [`crate::ErrorKind::InvalidInput`], without the date.
    ///
    /// Nothing is stored or logged on any path.
    pub fn check(
        &self,
        attestation: &AgeAttestation,
        jurisdiction: &Jurisdiction,
        today: NaiveDate,
    ) -> Result<()> {
        let minimum_age = self.minimum_age(jurisdiction);
        let old_enough = match *attestation {
            AgeAttestation::BirthDate(born) => {
                if born > today {
                    return Err(Error::invalid_input("birth date is in the future"));
                }
                has_reached(born, minimum_age, today)
            }
            // The whole band must be at or above the minimum: a band that straddles it could
            // hold someone too young, and "could" is not proof.
            AgeAttestation::Band(band) => band.lowest_age() >= minimum_age,
        };
        if old_enough {
            Ok(())
        } else {
            Err(Error::AgeRestricted { minimum_age })
        }
    }
}

fn check_range(minimum_age: u8) -> Result<()> {
    if (ABSOLUTE_MINIMUM_AGE..=HIGHEST_MINIMUM_AGE).contains(&minimum_age) {
        Ok(())
    } else {
        Err(Error::config(format!(
            "minimum age must be between {ABSOLUTE_MINIMUM_AGE} and {HIGHEST_MINIMUM_AGE}"
        )))
    }
}

/// Whether someone born on `born` is at least `years` old on `today`. The birthday itself counts;
/// a 29 February birthday falls on 1 March in common years.
fn has_reached(born: NaiveDate, years: u8, today: NaiveDate) -> bool {
    let year = born.year() + i32::from(years);
    let birthday = NaiveDate::from_ymd_opt(year, born.month(), born.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1));
    // No birthday representable (beyond chrono's year range): not provably old enough.
    birthday.is_some_and(|b| today >= b)
}

/// Officially assigned ISO 3166-1 alpha-2 codes (249), plus `XK`.
const ASSIGNED: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET \
FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT \
JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ \
OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA \
RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ \
VA VC VE VG VI VN VU \
WF WS \
XK \
YE YT \
ZA ZM ZW";

fn is_assigned(code: [u8; 2]) -> bool {
    ASSIGNED.split(' ').any(|c| c.as_bytes() == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn code_list_has_every_assigned_code_once() {
        let codes: Vec<&str> = ASSIGNED.split(' ').collect();
        assert_eq!(codes.len(), 250, "249 ISO codes plus XK");
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, codes, "sorted, without duplicates");
        assert!(codes.iter().all(|c| c.len() == 2));
    }

    #[test]
    fn tables_name_valid_eea_states() {
        for code in EEA {
            assert!(Jurisdiction::new(code).unwrap().is_eea(), "{code}");
        }
        for (code, age) in NATIONAL_AGES {
            let j = Jurisdiction::new(code).unwrap();
            assert!(j.is_eea(), "{code}");
            assert!((13..=16).contains(&age));
            assert_eq!(AgePolicy::default().minimum_age(&j), age);
        }
    }

    #[test]
    fn birthdays() {
        let born = date(2010, 6, 15);
        assert!(!has_reached(born, 16, date(2026, 6, 14)));
        assert!(has_reached(born, 16, date(2026, 6, 15)));
        let leap = date(2008, 2, 29);
        assert!(!has_reached(leap, 13, date(2021, 2, 28)));
        assert!(has_reached(leap, 13, date(2021, 3, 1)));
        assert!(has_reached(leap, 16, date(2024, 2, 29)));
        assert!(!has_reached(leap, 16, date(2024, 2, 28)));
    }
}
