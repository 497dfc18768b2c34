//! `octotracker keys add|revoke|list`: the passkeys a storage backend keeps (Redis, PostgreSQL), read by
//! every tracker process serving with `--passkeys backend`.

use std::sync::Arc;

use octotracker_core::{TorrentManager, is_passkey};

use crate::Failure;
use crate::cli::KeysCommand;
use crate::settings::Settings;

/// Runs one keys command against the configured backend.
pub(crate) async fn run(settings: &Settings, command: KeysCommand) -> Result<(), Failure> {
    let storage: Arc<dyn TorrentManager> = crate::backend::open(&settings.backend).await?;
    let store = storage.passkeys().ok_or_else(|| {
        Failure::Usage(
            "this storage backend keeps no passkeys (the memory backend reads them from a file: \
             --passkeys FILE); use --backend redis://… or postgres://…"
                .into(),
        )
    })?;
    let failed = |e: octotracker_core::StorageError| Failure::Runtime(e.to_string());
    match command {
        KeysCommand::Add { key } => {
            let key = match key {
                Some(key) => key,
                None => octotracker_admin::random_passkey()
                    .map_err(|e| Failure::Runtime(format!("cannot make a random passkey: {e}")))?,
            };
            check(&key)?;
            if !store.add_passkey(&key).await.map_err(failed)? {
                eprintln!("octotracker: {key} was already valid");
            }
            println!("{key}");
        }
        KeysCommand::Revoke { key } => {
            check(&key)?;
            if !store.revoke_passkey(&key).await.map_err(failed)? {
                return Err(Failure::Runtime(format!("no such passkey: {key}")));
            }
        }
        KeysCommand::List => {
            let mut keys = store.list_passkeys().await.map_err(failed)?;
            keys.sort();
            for key in keys {
                println!("{key}");
            }
        }
    }
    Ok(())
}

fn check(key: &str) -> Result<(), Failure> {
    if is_passkey(key) {
        Ok(())
    } else {
        Err(Failure::Usage(format!("invalid passkey {key:?}: use 1 to 64 letters, digits, - or _")))
    }
}
