//! The admin API on `--admin ADDR` (never a tracker port): [`octotracker_admin::AdminApi`] with
//! the binary's stores, behind the token read from `--admin-token-file`.

use std::path::Path;
use std::sync::Arc;

use octotracker_admin::AdminApi;
use octotracker_core::{HashList, PasskeyStore, TorrentManager};

use crate::Failure;
use crate::admin_stores::{BackendPasskeys, FilePasskeys, ListSource, Lists};
use crate::settings::{AccessSettings, PasskeySource};

/// The shortest token accepted: a guessable token is no protection.
const MIN_TOKEN_LEN: usize = 16;

/// Reads the token (the file's first line, trimmed); an unreadable, empty or short token is an
/// operator error naming the flag.
pub(crate) fn read_token(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("--admin-token-file {}: cannot read it: {e}", path.display())))?;
    let token = text.lines().next().unwrap_or("").trim().to_owned();
    if token.len() < MIN_TOKEN_LEN {
        return Err(Failure::Usage(format!(
            "--admin-token-file {}: the token must be at least {MIN_TOKEN_LEN} characters on the first line \
             (e.g. `head -c 24 /dev/urandom | base64 > {}`)",
            path.display(),
            path.display()
        )));
    }
    Ok(token)
}

/// The API over `storage`, with the lists and passkeys where this tracker keeps them.
pub(crate) fn api(storage: Arc<dyn TorrentManager>, token: &str, access: &AccessSettings) -> AdminApi {
    let keys: Option<Arc<dyn PasskeyStore>> = match &access.passkeys {
        Some(PasskeySource::File(path)) => Some(Arc::new(FilePasskeys::new(path.clone()))),
        Some(PasskeySource::Backend) => Some(Arc::new(BackendPasskeys(storage.clone()))),
        None => None,
    };
    let source = |file: &Option<std::path::PathBuf>, list| match file {
        Some(path) => Some(ListSource::File(path.clone())),
        None => access.backend_lists.contains(&list).then(|| ListSource::Backend(storage.clone())),
    };
    let lists = Lists::new(source(&access.allow_list, HashList::Allow), source(&access.deny_list, HashList::Deny));
    let mut api = AdminApi::new(storage, token).with_lists(Arc::new(lists));
    if let Some(keys) = keys {
        api = api.with_keys(keys);
    }
    api
}
