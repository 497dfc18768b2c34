//! `octotracker torrent create` and `octotracker torrent info`: the file-reading and printing
//! around `octotracker-torrent`.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::Path;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use octotracker_torrent::{CreateError, Metainfo, Version, disk};
use serde_json::{Map, Value, json};

use crate::Failure;
use crate::cli::{TorrentCommand, TorrentCreateArgs, TorrentInfoArgs};
use crate::hash_progress::{Counted, HashProgress};

/// Runs a `torrent` subcommand.
pub(crate) fn run(command: TorrentCommand) -> Result<(), Failure> {
    match command {
        TorrentCommand::Create(args) => create(args),
        TorrentCommand::Info(args) => info(args),
    }
}

/// Hashes the input, writes the .torrent and prints its v1 info hash.
fn create(args: TorrentCreateArgs) -> Result<(), Failure> {
    for url in &args.announce {
        if url.is_empty() || !url.contains("://") {
            return Err(Failure::Usage(format!(
                "invalid --announce {url:?}: expected a URL such as http://host/announce"
            )));
        }
    }
    let failed = |e: CreateError| match e {
        CreateError::BadPieceLength(_) | CreateError::BadName { .. } => Failure::Usage(format!("invalid option: {e}")),
        e => Failure::Runtime(format!("cannot create the torrent: {e}")),
    };
    let mut builder = disk::scan(&args.input).map_err(failed)?;
    if let Some(name) = &args.name {
        builder = builder.name(name.as_str());
    }
    for url in &args.announce {
        builder = builder.announce(url.as_str());
    }
    if let Some(bytes) = args.piece_length {
        builder = builder.piece_length(bytes);
    }
    if let Some(comment) = &args.comment {
        builder = builder.comment(comment.as_str());
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    builder = builder
        .private(args.private)
        .created_by(concat!("octotracker ", env!("CARGO_PKG_VERSION")))
        .creation_date(i64::try_from(now).unwrap_or(i64::MAX));
    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let total = builder.files().iter().map(|f| f.length).sum();
        Rc::new(RefCell::new(HashProgress::new(total, Instant::now())))
    });
    let bytes = builder
        .build(|rel| disk::open_below(&args.input, rel).map(|file| Counted::new(file, progress.clone())))
        .map_err(failed)?;
    if let Some(progress) = &progress {
        eprintln!("{}", progress.borrow().finish(Instant::now()));
    }
    // Read back what was written: the parser and the writer must agree.
    let torrent = Metainfo::parse(&bytes)
        .map_err(|e| Failure::Runtime(format!("internal error: the torrent made does not parse: {e}")))?;
    let hash = torrent
        .info_hash_v1()
        .ok_or_else(|| Failure::Runtime("internal error: the torrent made has no v1 info hash".into()))?;
    std::fs::write(&args.output, &bytes)
        .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", args.output.display())))?;
    println!("{hash}");
    Ok(())
}

/// Prints a .torrent's contents; a malformed file prints the reason and exits 1.
fn info(args: TorrentInfoArgs) -> Result<(), Failure> {
    let torrent = read_torrent(&args.file)?;
    if args.json {
        println!("{}", to_json(&torrent));
    } else {
        print!("{}", to_text(&torrent));
    }
    Ok(())
}

fn read_torrent(path: &Path) -> Result<Metainfo, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::Runtime(format!("cannot read {}: {e}", path.display())))?;
    Metainfo::parse(&bytes).map_err(|e| Failure::Runtime(format!("{} is not a valid torrent: {e}", path.display())))
}

fn version(t: &Metainfo) -> &'static str {
    match t.version() {
        Version::V1 => "v1",
        Version::V2 => "v2",
        Version::Hybrid => "hybrid",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn to_json(t: &Metainfo) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(t.name()));
    obj.insert("length".into(), json!(t.length()));
    let files: Vec<Value> = t.files().iter().map(|f| json!({"path": f.path_string(), "length": f.length})).collect();
    obj.insert("files".into(), Value::Array(files));
    obj.insert("version".into(), json!(version(t)));
    if let Some(h) = t.info_hash_v1() {
        obj.insert("info_hash_v1".into(), json!(h.to_string()));
    }
    if let Some(h) = t.info_hash_v2() {
        obj.insert("info_hash_v2".into(), json!(hex(&h)));
    }
    let announced: Vec<String> = t.info_hashes().iter().map(ToString::to_string).collect();
    obj.insert("info_hashes".into(), json!(announced));
    obj.insert("piece_length".into(), json!(t.piece_length()));
    obj.insert("private".into(), json!(t.is_private()));
    obj.insert("announce".into(), json!(t.announce()));
    obj.insert("announce_list".into(), json!(t.announce_list()));
    obj.insert("comment".into(), json!(t.comment()));
    obj.insert("created_by".into(), json!(t.created_by()));
    obj.insert("creation_date".into(), json!(t.creation_date()));
    Value::Object(obj)
}

fn to_text(t: &Metainfo) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut line = |label: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{:<14} {value}", format!("{label}:"));
    };
    line("name", &t.name());
    line("version", &version(t));
    line("size", &format!("{} bytes", t.length()));
    line("piece length", &t.piece_length());
    line("private", &if t.is_private() { "yes" } else { "no" });
    if let Some(h) = t.info_hash_v1() {
        line("info hash v1", &h);
    }
    if let Some(h) = t.info_hash_v2() {
        line("info hash v2", &hex(&h));
        let truncated = t.info_hashes().last().map(ToString::to_string).unwrap_or_default();
        line("v2 announced", &format!("{truncated} (the v2 hash cut to 20 bytes)"));
    }
    if let Some(url) = t.announce() {
        line("announce", &url);
    }
    for (i, tier) in t.announce_list().iter().enumerate() {
        line(&format!("tier {}", i + 1), &tier.join(" "));
    }
    if let Some(c) = t.comment() {
        line("comment", &c);
    }
    if let Some(c) = t.created_by() {
        line("created by", &c);
    }
    let _ = writeln!(out, "files ({}):", t.files().len());
    for f in t.files() {
        let _ = writeln!(out, "  {:>14}  {}", f.length, f.path_string());
    }
    out
}
