//! The access lists on disk (`--allow-list`, `--deny-list`): loaded at startup, checked for
//! changes every `reload_interval`, and swapped into the running [`AccessList`] as a whole.
//!
//! The torrents directory (`--torrents DIR`) registers every `.torrent` file in it (v1 info
//! hash, and the truncated v2 one for v2 and hybrid torrents); it is read again whenever a file
//! in it is added, replaced or removed. A malformed or unreadable `.torrent` is logged with its
//! path and reason and skipped; the others still load.
//!
//! A list file holds one hex info hash per line; blank lines and `#` comments (whole-line or
//! after a hash) are ignored; a bad line is logged with its file and line number and skipped.
//! At startup an unreadable file is an operator error (exit 2). Later, a file that cannot be read
//! (being rewritten, or removed) keeps the list loaded before and logs a warning, so a botched
//! edit never opens or closes the tracker by accident.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use octotracker_core::{AccessList, AccessPolicy, FrontendError, InfoHash, Shutdown, TorrentManager};

use crate::settings::{AccessSettings, PasskeySource};

/// A list file's hashes and what was wrong with its lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HashList {
    pub hashes: HashSet<InfoHash>,
    pub problems: Vec<String>,
}

/// Parses the text of a list file (`path` only names it in the problems).
pub(crate) fn parse_hash_list(path: &Path, text: &str) -> HashList {
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

/// The keys of a passkeys file and what was wrong with its lines.
pub(crate) fn parse_passkeys(path: &Path, text: &str) -> (HashSet<String>, Vec<String>) {
    let mut keys = HashSet::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        if octotracker_core::is_passkey(entry) {
            keys.insert(entry.to_owned());
        } else {
            problems.push(format!(
                "{}:{}: skipped a passkey that is not 1 to 64 letters, digits, - or _",
                path.display(),
                n + 1
            ));
        }
    }
    (keys, problems)
}

fn parse_hashes(path: &Path, text: &str) -> (HashSet<InfoHash>, Vec<String>) {
    let list = parse_hash_list(path, text);
    (list.hashes, list.problems)
}

/// How a text file's lines become items, and what was wrong with them.
type Parser<T> = fn(&Path, &str) -> (HashSet<T>, Vec<String>);

/// One text file (a list of hashes, or of passkeys) and what was last loaded from it.
#[derive(Debug)]
struct WatchedList<T> {
    path: PathBuf,
    stamp: Stamp,
    items: HashSet<T>,
    parse: Parser<T>,
}

impl<T: Clone + Eq + std::hash::Hash> WatchedList<T> {
    /// Loads `path`; unreadable is an error.
    fn load(path: &Path, parse: Parser<T>) -> Result<Self, String> {
        let stamp = stamp(path);
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (items, problems) = parse(path, &text);
        log_problems(&problems);
        Ok(WatchedList { path: path.to_owned(), stamp, items, parse })
    }

    /// Reloads when the file changed; returns whether the items were replaced.
    fn refresh(&mut self) -> bool {
        let now = stamp(&self.path);
        if now == self.stamp {
            return false;
        }
        match WatchedList::load(&self.path, self.parse) {
            Ok(fresh) => {
                *self = fresh;
                true
            }
            Err(e) => {
                // Keep what was loaded; try again next time.
                tracing::warn!("{e}; keeping the {} entries loaded before", self.items.len());
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

/// The `.torrent` files of a directory and the info hashes each registers.
#[derive(Debug)]
struct WatchedDir {
    path: PathBuf,
    /// Every `.torrent` file seen, with its stamp and its hashes (empty when it did not parse).
    files: BTreeMap<PathBuf, (Stamp, Vec<InfoHash>)>,
}

impl WatchedDir {
    /// Reads the directory; unreadable is an error.
    fn load(path: &Path) -> Result<WatchedDir, String> {
        let mut dir = WatchedDir { path: path.to_owned(), files: BTreeMap::new() };
        dir.rescan()?;
        Ok(dir)
    }

    /// The `.torrent` files in the directory now, with their stamps.
    fn listing(&self) -> Result<BTreeMap<PathBuf, Stamp>, String> {
        let entries = std::fs::read_dir(&self.path).map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        Ok(entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "torrent") && p.is_file())
            .map(|p| {
                let stamp = stamp(&p);
                (p, stamp)
            })
            .collect())
    }

    /// Parses the files that are new or changed and forgets removed ones; returns whether
    /// anything changed.
    fn rescan(&mut self) -> Result<bool, String> {
        let now = self.listing()?;
        let mut changed = false;
        let before = self.files.len();
        self.files.retain(|p, _| now.contains_key(p));
        changed |= self.files.len() != before;
        for (path, stamp) in now {
            if self.files.get(&path).is_some_and(|(seen, _)| *seen == stamp) {
                continue;
            }
            let hashes = register(&path);
            self.files.insert(path, (stamp, hashes));
            changed = true;
        }
        Ok(changed)
    }

    fn refresh(&mut self) -> bool {
        self.rescan().unwrap_or_else(|e| {
            tracing::warn!("torrents directory: {e}; keeping the {} torrents registered before", self.files.len());
            false
        })
    }

    fn hashes(&self) -> HashSet<InfoHash> {
        self.files.values().flat_map(|(_, hashes)| hashes.iter().copied()).collect()
    }
}

/// The info hashes `path` registers, or none (logged) when it cannot be read or parsed.
fn register(path: &Path) -> Vec<InfoHash> {
    let parsed = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| octotracker_torrent::Metainfo::parse(&bytes).map_err(|e| e.to_string()));
    match parsed {
        Ok(torrent) => {
            let hashes = torrent.info_hashes();
            let shown: Vec<String> = hashes.iter().map(ToString::to_string).collect();
            tracing::info!("registered {:?} ({}) from {}", torrent.name(), shown.join(", "), path.display());
            hashes
        }
        Err(reason) => {
            tracing::warn!("{}: skipped: {reason}", path.display());
            Vec::new()
        }
    }
}

/// Every file the access policy is made of.
#[derive(Debug)]
pub(crate) struct AccessFiles {
    settings: AccessSettings,
    allow: Option<WatchedList<InfoHash>>,
    deny: Option<WatchedList<InfoHash>>,
    passkeys: Option<WatchedList<String>>,
    /// The passkeys last read from the backend (`--passkeys backend`).
    backend_passkeys: Option<HashSet<String>>,
    /// The allow and deny lists last read from the backend (`--allow-list backend`, …).
    backend_allowed: Option<HashSet<InfoHash>>,
    backend_denied: Option<HashSet<InfoHash>>,
    torrents: Option<WatchedDir>,
}

impl AccessFiles {
    /// Loads every configured file; the error names the file that cannot be read.
    pub(crate) fn load(settings: &AccessSettings) -> Result<AccessFiles, String> {
        let open = |path: &Option<PathBuf>, what: &str| {
            path.as_deref().map(|p| WatchedList::load(p, parse_hashes)).transpose().map_err(|e| format!("{what}: {e}"))
        };
        let passkeys = match &settings.passkeys {
            Some(PasskeySource::File(path)) => {
                Some(WatchedList::load(path, parse_passkeys).map_err(|e| format!("passkeys: {e}"))?)
            }
            _ => None,
        };
        let torrents = match &settings.torrents {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("torrents directory: cannot create {}: {e}", dir.display()))?;
                Some(WatchedDir::load(dir).map_err(|e| format!("torrents directory: {e}"))?)
            }
            None => None,
        };
        Ok(AccessFiles {
            settings: settings.clone(),
            allow: open(&settings.allow_list, "allow list")?,
            deny: open(&settings.deny_list, "deny list")?,
            passkeys,
            backend_passkeys: None,
            backend_allowed: None,
            backend_denied: None,
            torrents,
        })
    }

    /// The policy the files describe now.
    pub(crate) fn policy(&self) -> AccessPolicy {
        let hashes = |list: &Option<WatchedList<InfoHash>>, backend: &Option<HashSet<InfoHash>>| match list {
            Some(file) => file.items.clone(),
            None => backend.clone().unwrap_or_default(),
        };
        AccessPolicy {
            mode: self.settings.mode,
            registered: self.torrents.as_ref().map(WatchedDir::hashes).unwrap_or_default(),
            allowed: hashes(&self.allow, &self.backend_allowed),
            denied: hashes(&self.deny, &self.backend_denied),
            clients: self.settings.clients.clone(),
            passkeys: match &self.passkeys {
                Some(list) => Some(list.items.clone()),
                None => self.backend_passkeys.clone(),
            },
        }
    }

    /// Rereads the files that changed; returns whether anything did.
    pub(crate) fn refresh(&mut self) -> bool {
        let allow = self.allow.as_mut().is_some_and(WatchedList::refresh);
        let deny = self.deny.as_mut().is_some_and(WatchedList::refresh);
        let passkeys = self.passkeys.as_mut().is_some_and(WatchedList::refresh);
        let torrents = self.torrents.as_mut().is_some_and(WatchedDir::refresh);
        allow || deny || passkeys || torrents
    }
}

impl AccessFiles {
    /// With `--passkeys backend`: reads the backend's passkeys; returns whether they changed.
    /// The error is for the operator (at startup) or the log (later, keeping the keys before).
    pub(crate) async fn refresh_backend_passkeys(&mut self, storage: &dyn TorrentManager) -> Result<bool, String> {
        if self.settings.passkeys != Some(PasskeySource::Backend) {
            return Ok(false);
        }
        let store = storage.passkeys().ok_or("this storage backend keeps no passkeys: use --passkeys FILE")?;
        let keys: HashSet<String> = store
            .list_passkeys()
            .await
            .map_err(|e| format!("cannot read the backend's passkeys: {e}"))?
            .into_iter()
            .filter(|k| octotracker_core::is_passkey(k))
            .collect();
        let changed = self.backend_passkeys.as_ref() != Some(&keys);
        self.backend_passkeys = Some(keys);
        Ok(changed)
    }
}

impl AccessFiles {
    /// With `--allow-list backend` or `--deny-list backend`: reads those lists from the backend;
    /// returns whether they changed. The error is for the operator (at startup) or the log.
    pub(crate) async fn refresh_backend_lists(&mut self, storage: &dyn TorrentManager) -> Result<bool, String> {
        let mut changed = false;
        for list in self.settings.backend_lists.clone() {
            let store = storage
                .hash_lists()
                .ok_or("this storage backend keeps no allow or deny lists: use --allow-list FILE / --deny-list FILE")?;
            let hashes: HashSet<InfoHash> = store
                .list_hashes(list)
                .await
                .map_err(|e| format!("cannot read the backend's {} list: {e}", list.as_str()))?
                .into_iter()
                .collect();
            let kept = match list {
                octotracker_core::HashList::Allow => &mut self.backend_allowed,
                octotracker_core::HashList::Deny => &mut self.backend_denied,
            };
            changed |= kept.as_ref() != Some(&hashes);
            *kept = Some(hashes);
        }
        Ok(changed)
    }
}

/// Checks the files (and the backend's passkeys) every `reload_interval`, and at once when
/// `reload_now` is notified (SIGHUP), and swaps a changed policy into `access`.
pub(crate) async fn reload_periodically(
    access: Arc<AccessList>,
    mut files: AccessFiles,
    storage: Arc<dyn TorrentManager>,
    reload_now: Arc<tokio::sync::Notify>,
    mut shutdown: Shutdown,
) -> Result<(), FrontendError> {
    let mut tick = tokio::time::interval(files.settings.reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let asked = tokio::select! {
            _ = tick.tick() => false,
            () = reload_now.notified() => true,
            () = &mut shutdown => return Ok(()),
        };
        // File reads are small and rare; keep them off the request threads anyway.
        let (changed, back) = tokio::task::spawn_blocking(move || {
            let changed = files.refresh();
            (changed, files)
        })
        .await
        .map_err(|e| FrontendError(Box::new(e)))?;
        files = back;
        let keys_changed = files.refresh_backend_passkeys(storage.as_ref()).await.unwrap_or_else(|e| {
            tracing::warn!("{e}; keeping the passkeys read before");
            false
        });
        let lists_changed = files.refresh_backend_lists(storage.as_ref()).await.unwrap_or_else(|e| {
            tracing::warn!("{e}; keeping the lists read before");
            false
        });
        if changed || keys_changed || lists_changed {
            let policy = files.policy();
            let (mode, registered, allowed, denied) =
                (policy.mode.as_str(), policy.registered.len(), policy.allowed.len(), policy.denied.len());
            let passkeys = policy.passkeys.as_ref().map_or(0, HashSet::len);
            // Swapped in before the log line: whoever reads "reloaded" finds the new lists applied.
            access.replace(policy);
            tracing::info!(mode, registered, allowed, denied, passkeys, "access lists reloaded");
        } else if asked {
            tracing::info!("access lists unchanged");
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
