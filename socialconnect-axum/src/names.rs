//! Names shown to people and used in forms and JSON: purposes, legal bases.

use socialconnect_core::consent::LegalBasis;
use socialconnect_core::id::Purpose;

/// The purpose whose wire name is `name`.
pub(crate) fn purpose_named(name: &str) -> Option<Purpose> {
    Purpose::ALL.into_iter().find(|p| p.as_str() == name)
}

/// What a purpose means, in words for the end user.
pub(crate) fn purpose_label(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::AccountConnection => "Connect your account and keep it connected",
        Purpose::Publishing => "Publish posts for you",
        Purpose::ReadingContent => "Read your pages, media and comments",
        Purpose::Analytics => "Fetch analytics about your content",
        Purpose::Messaging => "Send and receive messages for you",
        Purpose::ServiceImprovement => "Improve our service",
        Purpose::FraudDetection => "Detect fraud and abuse",
        _ => "Other processing",
    }
}

/// A legal basis as the record and the page name it.
pub(crate) fn basis_name(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "consent (Art. 6(1)(a))",
        LegalBasis::Contract => "contract (Art. 6(1)(b))",
        LegalBasis::LegitimateInterest => "legitimate interest (Art. 6(1)(f))",
        _ => "another basis",
    }
}
