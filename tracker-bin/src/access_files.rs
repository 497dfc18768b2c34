//! The access lists on disk (`--allow-list`, `--deny-list`): loaded at startup, checked for
//! changes every `reload_interval`, and swapped into the running [`AccessList`] as a whole.
//!
//! A list file holds one hex info hash per line; blank lines and `#` comments (whole-line or
//! after a hash) are ignored; a bad line is logged with its file and line number and skipped.
//! At startup an unreadable file is an operator error (exit 2). Later, a file that cannot be read
//! (being rewritten, or removed) keeps the list loaded before and logs a warning, so a botched
//! edit never opens or closes the tracker by accident.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use octotracker_core::{AccessList, AccessPolicy, FrontendError, InfoHash, Shutdown};

use crate::settings::AccessSettings;

/// A list file's hashes and what was wrong with its lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HashList {
    pub hashes: HashSet<InfoHash>,
    pub problems: Vec<String>,
}

/// Parses the text of a list file (`path` only names it in the problems).
pub fn parse_hash_list(path: &Path, text: &str) -> HashList {
    let mut list = HashList::default();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        match entry.parse::<InfoHash>() {
            Ok(hash) => {
                list.hashes.insert(hash);
            }
            Err(_) => list.problems.push(format!(
                "{}:{}: skipped {entry:?}: expected an info hash of 40 hex characters",
                path.display(),
                n + 1
            )),
        }
    }
    list
}

/// What identifies a version of a file: modification time and length (`None`: unreadable).
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// One list file and what was last loaded from it.
#[derive(Debug)]
struct WatchedList {
    path: PathBuf,
    stamp: Stamp,
    hashes: HashSet<InfoHash>,
}

impl WatchedList {
    /// Loads `path`; unreadable is an error.
    fn load(path: &Path) -> Result<WatchedList, String> {
        let stamp = stamp(path);
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let list = parse_hash_list(path, &text);
        log_problems(&list.problems);
        Ok(WatchedList { path: path.to_owned(), stamp, hashes: list.hashes })
    }

    /// Reloads when the file changed; returns whether the hashes were replaced.
    fn refresh(&mut self) -> bool {
        let now = stamp(&self.path);
        if now == self.stamp {
            return false;
        }
        match WatchedList::load(&self.path) {
            Ok(fresh) => {
                *self = fresh;
                true
            }
            Err(e) => {
                // Keep what was loaded; try again next time.
                tracing::warn!("{e}; keeping the {} hashes loaded before", self.hashes.len());
                self.stamp = now;
                false
            }
        }
    }
}

fn log_problems(problems: &[String]) {
    for p in problems {
        tracing::warn!("{p}");
    }
}

/// Every file the access policy is made of.
#[derive(Debug)]
pub struct AccessFiles {
    settings: AccessSettings,
    allow: Option<WatchedList>,
    deny: Option<WatchedList>,
}

impl AccessFiles {
    /// Loads every configured file; the error names the file that cannot be read.
    pub fn load(settings: &AccessSettings) -> Result<AccessFiles, String> {
        let open = |path: &Option<PathBuf>, what: &str| {
            path.as_deref().map(WatchedList::load).transpose().map_err(|e| format!("{what}: {e}"))
        };
        Ok(AccessFiles {
            settings: settings.clone(),
            allow: open(&settings.allow_list, "allow list")?,
            deny: open(&settings.deny_list, "deny list")?,
        })
    }

    /// The policy the files describe now.
    pub fn policy(&self) -> AccessPolicy {
        let hashes = |list: &Option<WatchedList>| list.as_ref().map(|l| l.hashes.clone()).unwrap_or_default();
        AccessPolicy {
            mode: self.settings.mode,
            registered: HashSet::new(),
            allowed: hashes(&self.allow),
            denied: hashes(&self.deny),
            clients: self.settings.clients.clone(),
        }
    }

    /// Rereads the files that changed; returns whether anything did.
    pub fn refresh(&mut self) -> bool {
        let allow = self.allow.as_mut().is_some_and(WatchedList::refresh);
        let deny = self.deny.as_mut().is_some_and(WatchedList::refresh);
        allow || deny
    }
}

/// Checks the files every `reload_interval` and swaps a changed policy into `access`.
pub async fn reload_periodically(
    access: Arc<AccessList>,
    mut files: AccessFiles,
    mut shutdown: Shutdown,
) -> Result<(), FrontendError> {
    let mut tick = tokio::time::interval(files.settings.reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                // File reads are small and rare; keep them off the request threads anyway.
                let (changed, back) = tokio::task::spawn_blocking(move || {
                    let changed = files.refresh();
                    (changed, files)
                })
                .await
                .map_err(|e| FrontendError(Box::new(e)))?;
                files = back;
                if changed {
                    let policy = files.policy();
                    tracing::info!(
                        mode = policy.mode.as_str(),
                        allowed = policy.allowed.len(),
                        denied = policy.denied.len(),
                        "access lists reloaded"
                    );
                    access.replace(policy);
                }
            }
            () = &mut shutdown => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_lines_parse_with_comments_blanks_and_bad_lines_reported() {
        let text = "# allowed torrents\n\
                    abababababababababababababababababababab\n\
                    \n\
                    CDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCD  # upper case is fine\n\
                    not-a-hash\n\
                    abab\n";
        let list = parse_hash_list(Path::new("allow.txt"), text);
        assert_eq!(list.hashes.len(), 2);
        assert!(list.hashes.contains(&InfoHash([0xab; 20])));
        assert!(list.hashes.contains(&InfoHash([0xcd; 20])));
        assert_eq!(list.problems.len(), 2, "{:?}", list.problems);
        assert!(list.problems[0].starts_with("allow.txt:5: skipped \"not-a-hash\""), "{:?}", list.problems);
        assert!(list.problems[1].starts_with("allow.txt:6: skipped \"abab\""), "{:?}", list.problems);
    }
}
