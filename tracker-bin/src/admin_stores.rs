//! Where the admin API's changes go in the binary: the allow and deny list files and the
//! passkeys file, rewritten atomically (a new file beside the old one, then `rename`), so the
//! reload task of every process reading them (`access_files`) sees a whole old or a whole new
//! file and applies the change within its reload interval; `--passkeys backend` keys go to the
//! backend's store (Redis, PostgreSQL), which every process reads on the same interval.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use octotracker_admin::{HashList, ListStore};
use octotracker_core::{InfoHash, PasskeyStore, StorageError, TorrentManager};
use tokio::sync::Mutex;

/// Rewrites `path` atomically: drops the lines whose entry (before any `#`) `is_it`, and appends
/// `add` when given and no line was it. Comments and other lines stay. Returns whether the file
/// changed. Several processes may share the file (each with its own admin API): an exclusive
/// lock on a lock file beside it makes their read-modify-write steps take turns, so no change
/// is lost.
fn rewrite_lines(path: &Path, is_it: &dyn Fn(&str) -> bool, add: Option<&str>) -> std::io::Result<bool> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let lock =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(format!(".{name}.lock")))?;
    lock.lock()?;
    let text = std::fs::read_to_string(path)?;
    let entry = |line: &str| line.split('#').next().unwrap_or("").trim().to_owned();
    let present = text.lines().any(|l| is_it(&entry(l)));
    let new_text = match add {
        Some(_) if present => return Ok(false),
        Some(item) => {
            let mut t = text.clone();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str(item);
            t.push('\n');
            t
        }
        None if !present => return Ok(false),
        None => text.lines().filter(|l| !is_it(&entry(l))).flat_map(|l| [l, "\n"]).collect(),
    };
    let tmp = dir.join(format!(".{name}.admin-{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    if let Ok(meta) = std::fs::metadata(path) {
        // Keep the operator's permissions (a passkeys file is usually 0600).
        let _ = file.set_permissions(meta.permissions());
    }
    file.write_all(new_text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    // The lock is released when `lock` is closed, after the rename.
    Ok(true)
}

/// Runs [`rewrite_lines`] off the request threads, one change at a time per store.
async fn rewrite(
    lock: &Mutex<()>,
    path: PathBuf,
    is_it: impl Fn(&str) -> bool + Send + 'static,
    add: Option<String>,
) -> Result<bool, String> {
    let _one_at_a_time = lock.lock().await;
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || rewrite_lines(&path, &is_it, add.as_deref()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot rewrite {shown}: {e}"))
}

/// Where one list lives.
#[derive(Clone)]
pub(crate) enum ListSource {
    /// A file, rewritten atomically.
    File(PathBuf),
    /// The storage backend's `HashListStore` (Redis, PostgreSQL).
    Backend(Arc<dyn TorrentManager>),
}

/// The allow and deny lists the tracker was started with: files, or the backend's.
pub(crate) struct Lists {
    allow: Option<ListSource>,
    deny: Option<ListSource>,
    lock: Mutex<()>,
}

impl Lists {
    pub(crate) fn new(allow: Option<ListSource>, deny: Option<ListSource>) -> Lists {
        Lists { allow, deny, lock: Mutex::new(()) }
    }

    fn source(&self, list: HashList) -> Option<&ListSource> {
        match list {
            HashList::Allow => self.allow.as_ref(),
            HashList::Deny => self.deny.as_ref(),
        }
    }
}

#[async_trait]
impl ListStore for Lists {
    fn has(&self, list: HashList) -> bool {
        self.source(list).is_some()
    }

    async fn set(&self, list: HashList, hash: InfoHash, listed: bool) -> Result<bool, String> {
        match self.source(list).ok_or_else(|| format!("no {} list", list.as_str()))? {
            ListSource::File(path) => {
                let is_it = move |entry: &str| entry.parse::<InfoHash>() == Ok(hash);
                rewrite(&self.lock, path.clone(), is_it, listed.then(|| hash.to_string())).await
            }
            ListSource::Backend(storage) => {
                let store = storage.hash_lists().ok_or("this storage backend keeps no lists")?;
                store.set_listed(list, hash, listed).await.map_err(|e| e.to_string())
            }
        }
    }
}

/// The passkeys file (`--passkeys FILE`).
#[derive(Debug)]
pub(crate) struct FilePasskeys {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FilePasskeys {
    pub(crate) fn new(path: PathBuf) -> FilePasskeys {
        FilePasskeys { path, lock: Mutex::new(()) }
    }
}

fn unavailable(e: String) -> StorageError {
    StorageError::Unavailable(e)
}

#[async_trait]
impl PasskeyStore for FilePasskeys {
    async fn list_passkeys(&self) -> Result<Vec<String>, StorageError> {
        let path = self.path.clone();
        let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(&path))
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .map_err(|e| unavailable(format!("cannot read {}: {e}", self.path.display())))?;
        let (keys, _problems) = crate::access_files::parse_passkeys(&self.path, &text);
        Ok(keys.into_iter().collect())
    }

    async fn add_passkey(&self, key: &str) -> Result<bool, StorageError> {
        let wanted = key.to_owned();
        rewrite(&self.lock, self.path.clone(), move |entry| entry == wanted, Some(key.to_owned()))
            .await
            .map_err(unavailable)
    }

    async fn revoke_passkey(&self, key: &str) -> Result<bool, StorageError> {
        let wanted = key.to_owned();
        rewrite(&self.lock, self.path.clone(), move |entry| entry == wanted, None).await.map_err(unavailable)
    }
}

/// The backend's passkeys (`--passkeys backend`), owned: the API outlives any borrow.
pub(crate) struct BackendPasskeys(pub(crate) Arc<dyn TorrentManager>);

impl BackendPasskeys {
    fn store(&self) -> Result<&dyn PasskeyStore, StorageError> {
        self.0.passkeys().ok_or(StorageError::Unsupported("passkeys"))
    }
}

#[async_trait]
impl PasskeyStore for BackendPasskeys {
    async fn list_passkeys(&self) -> Result<Vec<String>, StorageError> {
        self.store()?.list_passkeys().await
    }

    async fn add_passkey(&self, key: &str) -> Result<bool, StorageError> {
        self.store()?.add_passkey(key).await
    }

    async fn revoke_passkey(&self, key: &str) -> Result<bool, StorageError> {
        self.store()?.revoke_passkey(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_added_once_removed_with_comments_kept() {
        let dir = std::env::temp_dir().join(format!("octotracker-admin-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("allow.txt");
        std::fs::write(&path, "# allowed\nabababababababababababababababababababab  # one\n").unwrap();
        let is = |h: &'static str| move |e: &str| e == h;
        let cd = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
        assert!(rewrite_lines(&path, &is(cd), Some(cd)).unwrap());
        assert!(!rewrite_lines(&path, &is(cd), Some(cd)).unwrap(), "already there");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("# allowed\nabababababababababababababababababababab  # one\n{cd}\n")
        );
        let ab = "abababababababababababababababababababab";
        assert!(rewrite_lines(&path, &is(ab), None).unwrap());
        assert!(!rewrite_lines(&path, &is(ab), None).unwrap(), "already gone");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("# allowed\n{cd}\n"));
        let leftovers: Vec<_> =
            std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 2, "the list and its lock file, no temporary file: {leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
