//! `octotracker torrent create` and `octotracker torrent info`, black box: files in, files and
//! stdout/stderr/exit codes out. python3-libtorrent (Debian's, for /usr/bin/python3) checks that
//! what we write and what we read agree with a real client; it must be installed (the tests fail,
//! never skip, without it: `scripts/test.sh` installs it).

#[allow(dead_code)]
mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::octotracker;
use serde_json::Value;

const PYTHON: &str = "/usr/bin/python3";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../torrent/tests/fixtures");
const ANNOUNCE: &str = "http://127.0.0.1:6969/announce";

fn run(args: &[&str]) -> Output {
    octotracker().args(args).output().expect("run octotracker")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs and expects success; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "octotracker {args:?} failed: {}\n{}", out.status, stderr(&out));
    stdout(&out)
}

/// Runs and expects failure with `code`; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(code), "octotracker {args:?}: {}\n{}", stdout(&out), stderr(&out));
    stderr(&out)
}

fn info_json(torrent: &Path) -> Value {
    serde_json::from_str(&ok(&["torrent", "info", "--json", s(torrent)])).expect("info --json prints JSON")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// What libtorrent makes of a .torrent: `v1 v2 name total_size num_files` (`-` for a missing hash).
fn libtorrent_view(torrent: &Path) -> String {
    let script = "import sys, libtorrent as lt\n\
        ti = lt.torrent_info(sys.argv[1]); h = ti.info_hashes()\n\
        print(str(h.v1) if h.has_v1() else '-', str(h.v2) if h.has_v2() else '-', ti.name(), ti.total_size(), ti.num_files())";
    let out = Command::new(PYTHON)
        .args(["-c", script])
        .arg(torrent)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{PYTHON} is needed (Debian python3-libtorrent): {e}"));
    assert!(
        out.status.success(),
        "python3-libtorrent could not load {} (is python3-libtorrent installed? scripts/test.sh installs it): {}",
        torrent.display(),
        stderr(&out)
    );
    stdout(&out).trim().to_owned()
}

mod creating {
    use super::*;

    #[test]
    fn a_single_file_round_trips_through_info() {
        let dir = TempDir::create();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 256) as u8).collect();
        let file = dir.write("song.flac", &data);
        let torrent = dir.path().join("song.torrent");
        let printed = ok(&["torrent", "create", s(&file), "--announce", ANNOUNCE, "-o", s(&torrent)]);
        let hash = printed.trim();
        assert_eq!(hash.len(), 40, "create prints the v1 info hash: {printed:?}");

        let json = info_json(&torrent);
        assert_eq!(json["name"], "song.flac");
        assert_eq!(json["length"], 100_000);
        assert_eq!(json["files"], serde_json::json!([{"path": "song.flac", "length": 100_000}]));
        assert_eq!(json["info_hash_v1"], hash);
        assert_eq!(json["info_hashes"], serde_json::json!([hash]));
        assert!(json.get("info_hash_v2").is_none(), "a v1 torrent has no v2 hash: {json}");
        assert_eq!(json["announce"], ANNOUNCE);
        assert_eq!(json["private"], false);
        assert_eq!(json["piece_length"], 16384);

        let text = ok(&["torrent", "info", s(&torrent)]);
        for needle in ["song.flac", "100000 bytes", hash, ANNOUNCE, "files (1):"] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }

    #[test]
    fn a_directory_lists_its_files_sorted_with_relative_paths() {
        let dir = TempDir::create();
        let root = dir.path().join("album");
        dir.write("album/b/2.bin", &[2; 20_000]);
        dir.write("album/a.bin", &[1; 70_000]);
        dir.write("album/b/1.txt", b"one");
        dir.write("album/.hidden", b"h");
        fs::create_dir_all(root.join("empty/deeper")).unwrap();
        let torrent = dir.path().join("album.torrent");
        let hash = ok(&["torrent", "create", s(&root), "--announce", ANNOUNCE, "-o", s(&torrent)]);

        let json = info_json(&torrent);
        assert_eq!(json["name"], "album");
        assert_eq!(json["length"], 90_004);
        let files: Vec<(String, u64)> = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap().to_owned(), f["length"].as_u64().unwrap()))
            .collect();
        let expected = [("album/.hidden", 1), ("album/a.bin", 70_000), ("album/b/1.txt", 3), ("album/b/2.bin", 20_000)];
        assert_eq!(files, expected.map(|(p, l)| (p.to_owned(), l)));

        let lt = libtorrent_view(&torrent);
        assert_eq!(lt, format!("{} - album 90004 4", hash.trim()), "libtorrent reads the same torrent");
    }

    #[test]
    fn name_comment_private_piece_length_and_trackers_are_written() {
        let dir = TempDir::create();
        let file = dir.write("x.bin", &[7; 50_000]);
        let torrent = dir.path().join("x.torrent");
        ok(&[
            "torrent",
            "create",
            s(&file),
            "--announce",
            ANNOUNCE,
            "--announce",
            "udp://127.0.0.1:6969/announce",
            "-o",
            s(&torrent),
            "--name",
            "renamed.bin",
            "--comment",
            "made in a test",
            "--private",
            "--piece-length",
            "32768",
        ]);
        let json = info_json(&torrent);
        assert_eq!(json["name"], "renamed.bin");
        assert_eq!(json["comment"], "made in a test");
        assert_eq!(json["private"], true);
        assert_eq!(json["piece_length"], 32768);
        assert_eq!(json["announce"], ANNOUNCE);
        assert_eq!(
            json["announce_list"],
            serde_json::json!([[ANNOUNCE], ["udp://127.0.0.1:6969/announce"]]),
            "one tier per tracker, in order"
        );
        assert!(json["created_by"].as_str().unwrap().starts_with("octotracker"));
        let lt = libtorrent_view(&torrent);
        assert!(lt.ends_with(" renamed.bin 50000 1"), "{lt}");
    }

    #[test]
    fn the_same_content_gives_the_same_info_hash() {
        // The creation date differs between runs; it is outside `info`.
        let dir = TempDir::create();
        let file = dir.write("same.bin", &[3; 40_000]);
        let a = ok(&["torrent", "create", s(&file), "--announce", ANNOUNCE, "-o", s(&dir.path().join("a.torrent"))]);
        let b = ok(&[
            "torrent",
            "create",
            s(&file),
            "--announce",
            "http://other/announce",
            "-o",
            s(&dir.path().join("b.torrent")),
        ]);
        assert_eq!(a, b);
    }

    #[test]
    fn bad_inputs_are_reported_with_a_non_zero_exit() {
        let dir = TempDir::create();
        let file = dir.write("f.bin", &[1; 10]);
        let out = dir.path().join("out.torrent");
        let missing = dir.path().join("missing");
        let err = fails(&["torrent", "create", s(&missing), "--announce", ANNOUNCE, "-o", s(&out)], 1);
        assert!(err.contains("missing") && err.contains("No such file"), "{err}");

        let empty = dir.path().join("empty");
        fs::create_dir_all(empty.join("sub")).unwrap();
        let err = fails(&["torrent", "create", s(&empty), "--announce", ANNOUNCE, "-o", s(&out)], 1);
        assert!(err.contains("is an empty directory"), "{err}");

        let zero = dir.write("zero.bin", b"");
        let err = fails(&["torrent", "create", s(&zero), "--announce", ANNOUNCE, "-o", s(&out)], 1);
        assert!(err.contains("0 bytes"), "{err}");

        let unwritable = dir.path().join("no/such/dir/out.torrent");
        let err = fails(&["torrent", "create", s(&file), "--announce", ANNOUNCE, "-o", s(&unwritable)], 1);
        assert!(err.contains("cannot write") && err.contains("no/such/dir/out.torrent"), "{err}");

        let err =
            fails(&["torrent", "create", s(&file), "--announce", ANNOUNCE, "-o", s(&out), "--piece-length", "1000"], 2);
        assert!(err.contains("piece length 1000"), "{err}");
        let err = fails(&["torrent", "create", s(&file), "--announce", "not a url", "-o", s(&out)], 2);
        assert!(err.contains("invalid --announce"), "{err}");
        let err = fails(&["torrent", "create", s(&file), "-o", s(&out)], 2);
        assert!(err.contains("--announce"), "{err}");
        let err = fails(&["torrent", "create", s(&file), "--announce", ANNOUNCE, "-o", s(&out), "--name", "../x"], 2);
        assert!(err.contains("\"../x\""), "{err}");
        assert!(!out.exists(), "no output is left behind by a failure");
    }
}

mod reading {
    use super::*;

    /// (fixture, v1, v2) as python3-libtorrent computed them (torrent/tests/fixtures).
    const FIXTURE_HASHES: [(&str, Option<&str>, Option<&str>); 4] = [
        ("v1-multi.torrent", Some("035a87d3bdc11c0fc65ecadf8b66833296e6f8a6"), None),
        (
            "hybrid-single.torrent",
            Some("02aa73fe9dc4fc67d5ca836a96626dbe09721239"),
            Some("0d2bdd8867ce1aaccf13a425477893ab30f1651f308e4195be0a833f253fc3fd"),
        ),
        (
            "hybrid-multi.torrent",
            Some("0f40765b7a8e7e505461f26cb091927894021a2c"),
            Some("84398fc70a79a1107dd035fc81c73b82e058cdc373e917f87b506cad05ba299b"),
        ),
        ("v2-multi.torrent", None, Some("5faefb29092606f8f415eddad59bf25a8804347121cda96bdf4ef6d344975791")),
    ];

    #[test]
    fn json_gives_v1_and_v2_hashes_and_the_truncated_v2_hash_peers_announce() {
        for (file, v1, v2) in FIXTURE_HASHES {
            let path = Path::new(FIXTURES).join(file);
            let json = info_json(&path);
            assert_eq!(json["info_hash_v1"].as_str(), v1, "{file}: {json}");
            assert_eq!(json["info_hash_v2"].as_str(), v2, "{file}: {json}");
            if let Some(v2) = v2 {
                assert_eq!(v2.len(), 64);
                let announced = json["info_hashes"].as_array().unwrap();
                assert_eq!(announced.last().unwrap(), &v2[..40], "{file}: the v2 hash cut to 20 bytes");
            }
            // And libtorrent, reading the same file now, agrees.
            let lt = libtorrent_view(&path);
            let expected = format!("{} {}", v1.unwrap_or("-"), v2.unwrap_or("-"));
            assert!(lt.starts_with(&expected), "{file}: libtorrent says {lt}, we say {expected}");
            let version = match (v1, v2) {
                (Some(_), Some(_)) => "hybrid",
                (None, Some(_)) => "v2",
                _ => "v1",
            };
            assert_eq!(json["version"], version);
            assert!(json["files"].as_array().unwrap().iter().all(|f| !f["path"].as_str().unwrap().contains(".pad")));
        }
    }

    #[test]
    fn malformed_files_are_reported_with_their_reason_and_exit_1() {
        let dir = TempDir::create();
        let good = fs::read(Path::new(FIXTURES).join("v1-single.torrent")).unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
            ("empty", Vec::new(), "truncated"),
            ("trailing", [&good[..], b"garbage"].concat(), "trailing garbage"),
            ("html", b"<html>404</html>".to_vec(), "not bencode"),
            ("list", b"le".to_vec(), "the top level is not a dictionary"),
            ("no-info", b"d8:announce3:urle".to_vec(), "missing `info`"),
            ("info-string", b"d4:info3:abce".to_vec(), "`info` is not a dictionary"),
            (
                "name-int",
                b"d4:infod6:lengthi1e4:namei5e12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee".to_vec(),
                "`info.name` is not a string",
            ),
            (
                "pieces-19",
                b"d4:infod6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces19:aaaaaaaaaaaaaaaaaaaee".to_vec(),
                "not a multiple of 20",
            ),
            (
                "dotdot",
                b"d4:infod5:filesld6:lengthi1e4:pathl2:..eee4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"
                    .to_vec(),
                "`info.files[0].path[0]` is an unsafe path component \"..\"",
            ),
        ];
        for (name, bytes, reason) in cases {
            let path = dir.write(&format!("{name}.torrent"), &bytes);
            for json in [false, true] {
                let mut args = vec!["torrent", "info", s(&path)];
                if json {
                    args.push("--json");
                }
                let err = fails(&args, 1);
                assert!(err.contains(reason), "{name}: {reason:?} not in {err:?}");
                assert!(err.contains(&format!("{name}.torrent")), "{name}: the file is named: {err:?}");
            }
        }
        let err = fails(&["torrent", "info", s(&dir.path().join("absent.torrent"))], 1);
        assert!(err.contains("cannot read"), "{err}");
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name =
            format!("octotracker-torrent-cli-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).expect("create a temp dir");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` at `rel` (creating directories); returns the full path.
    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

mod progress {
    //! Hashing progress: a line of bytes, rate and ETA on a terminal (the last one says `done`),
    //! nothing when stderr is not a terminal or with `--quiet`. The terminal is a real one:
    //! util-linux's `script` runs the command on a pseudo-terminal.

    use super::*;

    fn create_args(dir: &TempDir) -> Vec<String> {
        let data = dir.0.join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("a.bin"), vec![7u8; 3 << 20]).unwrap();
        fs::write(data.join("b.bin"), vec![9u8; 1 << 20]).unwrap();
        ["torrent", "create", s(&data), "--announce", ANNOUNCE, "-o", s(&dir.0.join("out.torrent"))]
            .map(String::from)
            .to_vec()
    }

    /// Runs octotracker with `args` on a pseudo-terminal; returns what the terminal showed.
    fn on_a_terminal(args: &[String]) -> String {
        let command = std::iter::once(common::BIN.to_owned()).chain(args.iter().cloned()).collect::<Vec<_>>().join(" ");
        let out = Command::new("script")
            .args(["--quiet", "--return", "--command", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("util-linux's script runs");
        assert!(out.status.success(), "{command}: {}\n{}", out.status, stderr(&out));
        stdout(&out).replace('\r', "")
    }

    #[test]
    fn a_terminal_sees_bytes_rate_and_the_end() {
        let dir = TempDir::create();
        let shown = on_a_terminal(&create_args(&dir));
        let last = shown.lines().find(|l| l.ends_with("done")).unwrap_or_else(|| panic!("no done line: {shown:?}"));
        assert!(last.starts_with('[') && last.contains("s] 4.00 MiB of 4.00 MiB (100.0 %)"), "{last:?}");
        assert!(last.contains("/s"), "a rate: {last:?}");
        let hash = shown.lines().last().expect("the info hash follows");
        assert_eq!(hash.len(), 40, "the info hash is still printed: {shown:?}");
    }

    #[test]
    fn quiet_on_a_terminal_shows_only_the_hash() {
        let dir = TempDir::create();
        let mut args = create_args(&dir);
        args.push("--quiet".into());
        let shown = on_a_terminal(&args);
        assert_eq!(shown.trim().len(), 40, "only the info hash: {shown:?}");
    }

    #[test]
    fn not_a_terminal_prints_no_progress() {
        let dir = TempDir::create();
        let args = create_args(&dir);
        let out = octotracker().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "", "stderr is a pipe: no progress");
        assert_eq!(stdout(&out).trim().len(), 40);
    }
}
