//! A platform app's settings from the environment (`META_APP_ID`, `TIKTOK_CLIENT_KEY`, …).

use crate::error::{Error, Result};

/// The value of the environment variable `name`, trimmed of nothing: a missing, empty or
/// all-blank variable (or one that is not UTF-8) is a `Config` error that names it and never
/// quotes a value.
pub fn required(name: &str) -> Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Error::config(format!("environment variable {name} is not set")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let e = required("SOCIALCONNECT_SURELY_UNSET_VARIABLE_42").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(
            e.to_string()
                .contains("SOCIALCONNECT_SURELY_UNSET_VARIABLE_42")
        );
        // PATH is set wherever tests run.
        assert!(required("PATH").is_ok());
    }
}
