//! The BEP 52 `file tree`: nested dictionaries of names, a file being `{"": {length, pieces root}}`.

use octotracker_core::bencode::Value;

use crate::TorrentError;
use crate::metainfo::{check_component, length, lossy};

/// A file of a v2 tree, its path relative to the tree's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeFile {
    pub path: Vec<String>,
    pub length: u64,
}

/// The files of `tree` (the value of `info.file tree`), depth first in key order.
pub(crate) fn parse(tree: &Value<'_>) -> Result<Vec<TreeFile>, TorrentError> {
    const FIELD: &str = "info.file tree";
    let Value::Dict(entries) = tree else {
        return Err(TorrentError::WrongType { field: FIELD.into(), expected: "a dictionary" });
    };
    if entries.is_empty() {
        return Err(TorrentError::NoFiles(FIELD.into()));
    }
    let mut files = Vec::new();
    directory(tree, &mut Vec::new(), FIELD, &mut files)?;
    Ok(files)
}

/// Walks a directory node. Depth is bounded by the bencode decoder's nesting limit.
fn directory(
    node: &Value<'_>,
    path: &mut Vec<String>,
    field: &str,
    files: &mut Vec<TreeFile>,
) -> Result<(), TorrentError> {
    let Value::Dict(entries) = node else {
        return Err(TorrentError::BadFileTree { field: field.into(), reason: "not a dictionary" });
    };
    for entry in entries {
        let child_field = format!("{field}/{}", entry.key.escape_ascii());
        check_component(entry.key, child_field.clone())?;
        path.push(lossy(entry.key));
        match &entry.value {
            Value::Dict(children) if children.is_empty() => {
                return Err(TorrentError::BadFileTree { field: child_field, reason: "an empty directory" });
            }
            Value::Dict(children) if children.iter().any(|c| c.key.is_empty()) => {
                if children.len() != 1 {
                    return Err(TorrentError::BadFileTree {
                        field: child_field,
                        reason: "a file node (key \"\") must be the only key of its dictionary",
                    });
                }
                files.push(TreeFile { path: path.clone(), length: file(&children[0].value, &child_field)? });
            }
            Value::Dict(_) => directory(&entry.value, path, &child_field, files)?,
            _ => return Err(TorrentError::BadFileTree { field: child_field, reason: "not a dictionary" }),
        }
        path.pop();
    }
    Ok(())
}

/// The `{length, pieces root}` dictionary of a file; returns its length.
fn file(node: &Value<'_>, field: &str) -> Result<u64, TorrentError> {
    if !matches!(node, Value::Dict(_)) {
        return Err(TorrentError::BadFileTree {
            field: field.into(),
            reason: "the file's \"\" entry is not a dictionary",
        });
    }
    let len = length(node, "length", &format!("{field}.length"))?;
    let root_field = format!("{field}.pieces root");
    match node.get("pieces root") {
        None if len == 0 => {}
        None => return Err(TorrentError::BadPiecesRoot { field: root_field, len: 0 }),
        Some(Value::Bytes(b)) if b.len() == 32 => {}
        Some(Value::Bytes(b)) => return Err(TorrentError::BadPiecesRoot { field: root_field, len: b.len() }),
        Some(_) => return Err(TorrentError::WrongType { field: root_field, expected: "a 32-byte string" }),
    }
    Ok(len)
}
