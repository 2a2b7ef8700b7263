//! The offline quickstart runs to the end, its export (made before Meta's data-deletion
//! callback erases the Meta connections) shows the user's connections, and it shows the TikTok
//! steps.

use std::process::Command;

#[test]
fn quickstart_exports_before_the_deletion_callback() {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_remove("META_APP_ID")
        .env_remove("META_APP_SECRET")
        .output()
        .expect("the quickstart binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let export = lines
        .iter()
        .position(|l| l.contains("Exported the user's data"))
        .unwrap_or_else(|| panic!("no export step in:\n{stdout}"));
    let deletion = lines
        .iter()
        .position(|l| l.contains("data-deletion callback"))
        .unwrap_or_else(|| panic!("no deletion step in:\n{stdout}"));
    assert!(export < deletion, "{stdout}");
    // Facebook, Instagram and TikTok were connected: the export holds all three.
    assert!(
        lines[export].contains("(3 connections,"),
        "{}",
        lines[export]
    );
    assert!(
        stdout.contains("Checked: 0 records of the user left"),
        "{stdout}"
    );
}

#[test]
fn quickstart_shows_the_tiktok_steps() {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_remove("META_APP_ID")
        .output()
        .expect("the quickstart binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for expected in [
        "Connected TikTok through Login Kit",
        "in 2 chunks and polled it to PUBLISH_COMPLETE",
        "TikTok videos with their stats (every page read)",
        "Handled a signed TikTok authorization.removed (UserDisconnected): 1 connection deleted",
        "was recognised: true",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in:\n{stdout}"
        );
    }
}
