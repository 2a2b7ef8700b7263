//! The offline quickstart runs to the end, its export (made before Meta's data-deletion
//! callback erases the Meta connections) shows the user's connections, and it shows the TikTok,
//! LinkedIn and Pinterest steps.

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
    // Facebook, Instagram, TikTok, LinkedIn and Pinterest were connected: the export holds all five.
    assert!(
        lines[export].contains("(5 connections,"),
        "{}",
        lines[export]
    );
    assert!(
        stdout.contains("Checked: 0 records of the user left"),
        "{stdout}"
    );
    // A Page post scheduled a few seconds ahead was published by the action runner.
    assert!(
        stdout.contains("(3 s ahead); the action runner published it at")
            && stdout.contains("is done (1 run)"),
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

#[test]
fn quickstart_shows_the_linkedin_steps() {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_remove("META_APP_ID")
        .output()
        .expect("the quickstart binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for expected in [
        "[12/26] Connected LinkedIn through OpenID sign-in",
        "[13/26] Listed the member's LinkedIn organization roles: 2 roles, administers urn:li:organization:2414183",
        "urn:li:organization:100 ANALYST (APPROVED, may post: false)",
        "[14/26] Posted on LinkedIn as the member with an image: urn:li:ugcPost:",
        "(image AVAILABLE after 2 polls)",
        "[15/26] Posted on LinkedIn as the organization urn:li:organization:2414183: urn:li:share:",
        "[16/26] Read the organization's LinkedIn statistics: 3200 impressions, 90 clicks, 18342 followers",
        "[26/26] Checked: 0 records of the user left",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in:\n{stdout}"
        );
    }
}

#[test]
fn quickstart_shows_the_pinterest_steps() {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_remove("META_APP_ID")
        .output()
        .expect("the quickstart binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for expected in [
        "[17/26] Connected Pinterest through OAuth with HTTP Basic client auth",
        "upstream revoke not offered for user tokens",
        "[18/26] Created a Pinterest board: SocialConnect quickstart",
        "[19/26] Pinned an image on Pinterest: Pin ",
        "[20/26] Uploaded a small video and pinned it on Pinterest: media ",
        "[21/26] Read the Pin's Pinterest analytics: 1 groups, ",
        "days not yet final",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in:\n{stdout}"
        );
    }
}
