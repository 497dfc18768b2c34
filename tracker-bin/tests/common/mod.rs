//! What every black-box test of the `octotracker` binary needs.

use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_octotracker");

/// `octotracker` with none of the caller's `OCTOTRACKER_*` or `RUST_LOG` settings, and no stdin.
pub fn octotracker() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("OCTOTRACKER_") || key == "RUST_LOG" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}
