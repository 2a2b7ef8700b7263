//! JSON fixture files: recorded or documented platform responses kept under `tests/fixtures/`.
//!
//! These are test helpers: a missing or malformed fixture is a bug in the test, so they panic
//! with a message naming the file rather than return an error for the test to unwrap.

use std::path::{Path, PathBuf};

/// The fixture directory of the crate whose test calls it: `<CARGO_MANIFEST_DIR>/tests/fixtures`.
///
/// A macro so that `CARGO_MANIFEST_DIR` is read when the *calling* crate is compiled, not this
/// one.
///
/// ```
/// let dir = socialconnect_testkit::fixture_dir!();
/// assert!(dir.ends_with("tests/fixtures"));
/// ```
#[macro_export]
macro_rules! fixture_dir {
    () => {
        ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    };
}

/// Loads `<CARGO_MANIFEST_DIR>/tests/fixtures/<name>.json` of the calling crate as a
/// [`serde_json::Value`]; see [`load_fixture`].
///
/// ```no_run
/// let page = socialconnect_testkit::fixture!("pages/list");
/// assert!(page["data"].is_array());
/// ```
#[macro_export]
macro_rules! fixture {
    ($name:expr) => {
        $crate::fixtures::load_fixture(&$crate::fixture_dir!(), $name)
    };
}

/// The path of fixture `name` in `dir`: `dir/name.json`, or `dir/name` when `name` already has
/// an extension (`"signed_request.txt"`).
pub fn fixture_path(dir: &Path, name: &str) -> PathBuf {
    let file = if Path::new(name).extension().is_some() {
        name.to_owned()
    } else {
        format!("{name}.json")
    };
    dir.join(file)
}

/// Reads fixture `name` from `dir` (see [`fixture_path`]) as exact bytes, for tests that need
/// the raw body, such as webhook signature checks.
///
/// # Panics
///
/// When the file cannot be read; the message names the file and the reason.
#[track_caller]
pub fn load_fixture_bytes(dir: &Path, name: &str) -> Vec<u8> {
    let path = fixture_path(dir, name);
    match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => panic!("fixture `{name}`: cannot read {}: {e}", path.display()),
    }
}

/// Reads and parses fixture `name` from `dir` (see [`fixture_path`]).
///
/// # Panics
///
/// When the file cannot be read or is not valid JSON; the message names the file, and for
/// invalid JSON the line and column.
#[track_caller]
pub fn load_fixture(dir: &Path, name: &str) -> serde_json::Value {
    let bytes = load_fixture_bytes(dir, name);
    match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => panic!(
            "fixture `{name}`: {} is not valid JSON: {e}",
            fixture_path(dir, name).display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_extension_is_implied() {
        let dir = Path::new("/f");
        assert_eq!(fixture_path(dir, "me"), Path::new("/f/me.json"));
        assert_eq!(fixture_path(dir, "a/b"), Path::new("/f/a/b.json"));
        assert_eq!(fixture_path(dir, "sig.txt"), Path::new("/f/sig.txt"));
    }

    #[test]
    #[should_panic(expected = "fixture `nope`: cannot read")]
    fn missing_fixture_names_the_file() {
        load_fixture(Path::new("/definitely/not/here"), "nope");
    }
}
