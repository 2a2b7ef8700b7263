//! A child process for the multi-process tests: this test binary run again with one ignored
//! entry point, which says `ready`, waits for `go` on stdin, prints `<tag> <value>` lines and
//! ends with `done`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// One child process.
pub struct Worker {
    pub child: Child,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl Worker {
    /// Runs the ignored test `entry` of this binary with `envs` set.
    pub fn spawn(entry: &str, envs: &[(&str, String)]) -> Worker {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            entry,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        for (name, value) in envs {
            cmd.env(name, value);
        }
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Worker {
            child,
            stdin,
            lines,
        }
    }

    /// Waits for the child's `ready` (libtest prints `test <entry> ... ` on that line first).
    pub fn ready(&mut self) {
        for line in self.lines.by_ref() {
            if line.unwrap().ends_with("ready") {
                return;
            }
        }
        panic!("the child ended before it was ready");
    }

    pub fn go(&mut self) {
        writeln!(self.stdin, "go").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The values of the `<tag> ` lines the child printed until `done`; then waits for it to
    /// exit successfully.
    pub fn values(&mut self, tag: &str) -> Vec<String> {
        let prefix = format!("{tag} ");
        let mut values = Vec::new();
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            if line.ends_with("done") {
                break;
            }
            if let Some((_, v)) = line.split_once(prefix.as_str()) {
                values.push(v.to_owned());
            }
        }
        let status = self.child.wait().unwrap();
        assert!(status.success(), "child failed: {status:?}");
        values
    }
}
