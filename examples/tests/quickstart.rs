//! The offline quickstart runs to the end, and its export (made before Meta's data-deletion
//! callback erases the Meta connections) shows the user's connections.

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
    // Facebook and Instagram were connected: the export holds both.
    assert!(
        lines[export].contains("(2 connections,"),
        "{}",
        lines[export]
    );
    assert!(
        stdout.contains("Checked: 0 records of the user left"),
        "{stdout}"
    );
}
