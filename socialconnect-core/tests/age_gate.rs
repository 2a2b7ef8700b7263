//! The age gate: boundaries (birthday today, leap day, 12/13, EU 15/16), national defaults,
//! overrides, bands that straddle the minimum, and errors that say nothing about the minor.

use chrono::NaiveDate;
use socialconnect_core::age::{AgeAttestation, AgeBand, AgePolicy, Jurisdiction};
use socialconnect_core::{Error, ErrorKind};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn j(code: &str) -> Jurisdiction {
    Jurisdiction::new(code).unwrap()
}

fn born(y: i32, m: u32, d: u32) -> AgeAttestation {
    AgeAttestation::BirthDate(date(y, m, d))
}

fn band(b: AgeBand) -> AgeAttestation {
    AgeAttestation::Band(b)
}

/// Asserts a refusal with exactly this minimum and nothing else in the error.
fn refused(result: socialconnect_core::Result<()>, minimum: u8) {
    match result {
        Err(Error::AgeRestricted { minimum_age }) => assert_eq!(minimum_age, minimum),
        other => panic!("expected AgeRestricted({minimum}), got {other:?}"),
    }
}

#[test]
fn thirteenth_birthday_today_passes_and_the_day_before_does_not() {
    let policy = AgePolicy::default();
    let us = j("US");
    let attestation = born(2013, 3, 1);
    assert!(policy.check(&attestation, &us, date(2026, 3, 1)).is_ok());
    refused(policy.check(&attestation, &us, date(2026, 2, 28)), 13);
    // Twelve years and 364 days, then thirteen.
    let attestation = born(2013, 6, 10);
    refused(policy.check(&attestation, &us, date(2026, 6, 9)), 13);
    assert!(policy.check(&attestation, &us, date(2026, 6, 10)).is_ok());
}

#[test]
fn leap_day_birthdays_are_reached_on_the_first_of_march_in_common_years() {
    let policy = AgePolicy::default();
    let us = j("US");
    let attestation = born(2012, 2, 29);
    refused(policy.check(&attestation, &us, date(2025, 2, 28)), 13);
    assert!(policy.check(&attestation, &us, date(2025, 3, 1)).is_ok());

    // In a leap year the birthday itself counts.
    let de = j("DE");
    let attestation = born(2008, 2, 29);
    refused(policy.check(&attestation, &de, date(2024, 2, 28)), 16);
    assert!(policy.check(&attestation, &de, date(2024, 2, 29)).is_ok());
}

#[test]
fn twelve_is_refused_everywhere_and_thirteen_only_where_the_minimum_is_thirteen() {
    let policy = AgePolicy::default();
    let today = date(2026, 5, 1);
    for code in ["US", "GB", "BR", "JP", "CH", "BE", "SE", "DE", "FR", "IE"] {
        let minimum = policy.minimum_age(&j(code));
        refused(
            policy.check(&band(AgeBand::Under13), &j(code), today),
            minimum,
        );
        refused(policy.check(&born(2013, 5, 2), &j(code), today), minimum);
    }
    for code in ["US", "GB", "BR", "BE", "DK", "SE", "PT"] {
        assert!(policy.check(&band(AgeBand::Age13), &j(code), today).is_ok());
        assert!(policy.check(&born(2013, 5, 1), &j(code), today).is_ok());
    }
    refused(policy.check(&band(AgeBand::Age13), &j("DE"), today), 16);
    refused(policy.check(&band(AgeBand::Age13), &j("AT"), today), 14);
}

#[test]
fn fifteen_is_refused_and_sixteen_accepted_in_a_sixteen_state() {
    let policy = AgePolicy::default();
    let today = date(2026, 9, 30);
    for code in ["DE", "IE", "NL", "PL", "LU"] {
        let state = j(code);
        assert_eq!(policy.minimum_age(&state), 16, "{code}");
        refused(policy.check(&band(AgeBand::Age15), &state, today), 16);
        refused(policy.check(&born(2010, 10, 1), &state, today), 16);
        assert!(policy.check(&born(2010, 9, 30), &state, today).is_ok());
        assert!(
            policy
                .check(&band(AgeBand::Age16To17), &state, today)
                .is_ok()
        );
        assert!(policy.check(&band(AgeBand::Adult), &state, today).is_ok());
    }
    // France chose 15.
    assert!(policy.check(&band(AgeBand::Age15), &j("FR"), today).is_ok());
    refused(policy.check(&band(AgeBand::Age14), &j("FR"), today), 15);
}

#[test]
fn a_member_state_can_be_overridden_to_fourteen() {
    let de = j("DE");
    let policy = AgePolicy::default().with_minimum(de, 14).unwrap();
    let today = date(2026, 1, 15);
    assert_eq!(policy.minimum_age(&de), 14);
    assert!(policy.check(&band(AgeBand::Age14), &de, today).is_ok());
    assert!(policy.check(&born(2012, 1, 15), &de, today).is_ok());
    refused(policy.check(&born(2012, 1, 16), &de, today), 14);
    refused(policy.check(&band(AgeBand::Age13), &de, today), 14);
    // Other states keep their own minimum.
    assert_eq!(policy.minimum_age(&j("NL")), 16);
    assert_eq!(policy.minimum_age(&j("US")), 13);
}

#[test]
fn shipped_national_choices_and_eea_defaults() {
    let policy = AgePolicy::default();
    let expected = [
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
        ("ES", 14),
        ("IT", 14),
        ("LT", 14),
        ("CZ", 15),
        ("FR", 15),
        ("GR", 15),
        ("DE", 16),
        ("HR", 16),
        ("HU", 16),
        ("IE", 16),
        ("LU", 16),
        ("NL", 16),
        ("PL", 16),
        ("RO", 16),
        ("SI", 16),
        ("SK", 16),
        ("IS", 16),
        ("LI", 16),
        ("NO", 16),
        // Outside the EU/EEA.
        ("US", 13),
        ("GB", 13),
        ("CH", 13),
    ];
    for (code, age) in expected {
        assert_eq!(policy.minimum_age(&j(code)), age, "{code}");
    }
}

#[test]
fn outermost_regions_follow_their_member_state() {
    let policy = AgePolicy::default();
    for code in ["RE", "GP", "MQ", "GF", "YT", "MF"] {
        assert!(j(code).is_eea(), "{code}");
        assert_eq!(policy.minimum_age(&j(code)), 15, "{code}");
    }
    assert_eq!(policy.minimum_age(&j("AX")), 13);
    // Overseas countries and territories are outside the EU.
    assert!(!j("PF").is_eea());
    assert!(!j("NC").is_eea());
    let policy = policy.with_minimum(j("FR"), 16).unwrap();
    assert_eq!(policy.minimum_age(&j("RE")), 16);
}

#[test]
fn bands_that_straddle_the_minimum_are_refused() {
    let today = date(2026, 1, 1);
    let us = j("US");
    let policy = AgePolicy::default().with_default_minimum(17).unwrap();
    refused(policy.check(&band(AgeBand::Age16To17), &us, today), 17);
    assert!(policy.check(&band(AgeBand::Adult), &us, today).is_ok());
    let policy = AgePolicy::default().with_minimum(us, 18).unwrap();
    refused(policy.check(&band(AgeBand::Age16To17), &us, today), 18);
    assert!(policy.check(&born(2008, 1, 1), &us, today).is_ok());
    refused(policy.check(&born(2008, 1, 2), &us, today), 18);
}

#[test]
fn minimums_outside_thirteen_to_twenty_one_are_configuration_errors() {
    let de = j("DE");
    for age in [0, 12, 22, 255] {
        let err = AgePolicy::default().with_minimum(de, age).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        let err = AgePolicy::default().with_default_minimum(age).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }
    assert!(AgePolicy::default().with_minimum(de, 13).is_ok());
    assert!(AgePolicy::default().with_minimum(de, 21).is_ok());
}

#[test]
fn jurisdictions_are_validated_iso_codes() {
    assert_eq!(j("de"), j("DE"));
    assert_eq!(j("fr").as_str(), "FR");
    assert_eq!(j("fr").to_string(), "FR");
    assert_eq!("nl".parse::<Jurisdiction>().unwrap(), j("NL"));
    assert_eq!(format!("{:?}", j("XK")), "Jurisdiction(XK)");
    for bad in [
        "", "D", "DEU", "ZZ", "AA", "EL", "UK", "EU", "1A", "D ", "Ä", "ÄB", "de\n",
    ] {
        let err = Jurisdiction::new(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}

#[test]
fn refusals_and_invalid_dates_say_nothing_about_the_end_user() {
    let policy = AgePolicy::default();
    let today = date(2026, 7, 4);
    let minor = born(2014, 11, 23);
    let err = policy.check(&minor, &j("DE"), today).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AgeRestricted);
    for text in [err.to_string(), format!("{err:?}")] {
        for leak in ["2014", "11", "23", "DE", "11 years"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
    // A birth date in the future is invalid input, and not echoed either.
    let err = policy
        .check(&born(2027, 11, 23), &j("US"), today)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!err.to_string().contains("2027"));
    // Debug of an attestation hides the birth date.
    let debug = format!("{minor:?} {minor:#?}");
    assert!(!debug.contains("2014"), "{debug}");
    assert_eq!(format!("{:?}", band(AgeBand::Adult)), "Band(Adult)");
}

#[test]
fn band_bounds() {
    assert_eq!(AgeBand::Under13.lowest_age(), 0);
    assert_eq!(AgeBand::Under13.highest_age(), Some(12));
    assert_eq!(AgeBand::Age16To17.lowest_age(), 16);
    assert_eq!(AgeBand::Age16To17.highest_age(), Some(17));
    assert_eq!(AgeBand::Adult.highest_age(), None);
}
