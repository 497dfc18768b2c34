//! What every black-box test of the `octotracker` binary needs.

use std::process::{Command, Stdio};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_octotracker");

/// `octotracker` with none of the caller's `OCTOTRACKER_*` or `RUST_LOG` settings, and no stdin.
pub(crate) fn octotracker() -> Command {
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

/// A server process whose stderr lines are forwarded to a channel; killed and reaped on drop.
// Each test binary compiles this module; not every one starts servers this way.
#[allow(dead_code)]
pub(crate) struct LoggedServer {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub log: Vec<String>,
}

#[allow(dead_code)]
impl LoggedServer {
    /// Spawns `cmd` with stderr captured.
    pub(crate) fn spawn(cmd: &mut Command) -> LoggedServer {
        use std::io::{BufRead, BufReader};
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("octotracker starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        LoggedServer { child, lines, log: Vec::new() }
    }

    /// Waits (at most `within`) for a line containing `marker` and returns what follows it up
    /// to the next whitespace, e.g. the address after `listening on http://`.
    /// Lines already read are searched first.
    pub(crate) fn await_after(&mut self, marker: &str, within: std::time::Duration) -> String {
        let after =
            |line: &str| line.split(marker).nth(1).map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned());
        if let Some(found) = self.log.iter().find_map(|line| after(line)) {
            return found;
        }
        let deadline = std::time::Instant::now() + within;
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
                .unwrap_or_else(|e| panic!("no line with {marker:?} ({e:?}); stderr so far: {:#?}", self.log));
            self.log.push(line.clone());
            if let Some(found) = after(&line) {
                return found;
            }
        }
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of its own under the system temp dir (`octotracker-{what}-{name}-{pid}`),
/// removed on drop.
// Each test binary compiles this module; not every one needs a directory.
#[allow(dead_code)]
#[derive(Debug)]
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

#[allow(dead_code)]
impl TempDir {
    /// Creates it afresh (whatever a killed earlier run left there is removed).
    pub(crate) fn new(what: &str, name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("octotracker-{what}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `text` to `file` in it, by writing a temporary file and renaming it (a server
    /// watching the file never reads it half-written), and returns the file's path.
    pub(crate) fn write(&self, file: &str, text: &str) -> String {
        let path = self.0.join(file);
        let tmp = self.0.join(format!(".{file}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A 40-digit hex info hash made of the byte `n`.
#[allow(dead_code)]
pub(crate) fn hex(n: u8) -> String {
    format!("{n:02x}").repeat(20)
}
