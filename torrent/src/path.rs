//! File names inside torrents: one rule for reading and writing.

/// Why `component` may not be a file or directory name in a torrent, if it may not: a name
/// that is empty, `.` or `..`, or contains `/` or NUL would let a torrent write outside its
/// directory (or nowhere).
pub(crate) fn unsafe_component(component: &[u8]) -> Option<&'static str> {
    match component {
        b"" => Some("empty"),
        b"." | b".." => Some("a relative directory reference"),
        _ if component.contains(&b'/') => Some("contains '/'"),
        _ if component.contains(&0) => Some("contains NUL"),
        _ => None,
    }
}
