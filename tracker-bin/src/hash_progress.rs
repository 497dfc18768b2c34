//! The progress line of `octotracker torrent create`: bytes hashed, rate and time left, once a
//! second on stderr, in the shape of `octotracker load`'s progress line (`[  3s] …`).
//!
//! Shown only when stderr is a terminal and `--quiet` is not given: a script that runs `torrent
//! create` gets the info hash on stdout and nothing else.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How often a line is printed.
const EVERY: Duration = Duration::from_secs(1);

/// What has been hashed, and when a line was last printed.
#[derive(Debug)]
pub(crate) struct HashProgress {
    total: u64,
    done: u64,
    started: Instant,
    printed: Instant,
}

impl HashProgress {
    /// Progress over `total` bytes, starting now.
    pub(crate) fn new(total: u64, now: Instant) -> Self {
        HashProgress { total, done: 0, started: now, printed: now }
    }

    /// Counts `bytes` more; returns the line to print when one is due.
    pub(crate) fn advance(&mut self, bytes: u64, now: Instant) -> Option<String> {
        self.done = self.done.saturating_add(bytes);
        if now.duration_since(self.printed) < EVERY {
            return None;
        }
        self.printed = now;
        Some(self.line(now))
    }

    /// The last line, when hashing is over: printed whatever the time since the previous one,
    /// so every run on a terminal ends with the totals.
    pub(crate) fn finish(&self, now: Instant) -> String {
        self.line(now) + "  done"
    }

    /// `[  3s]  1.21 GiB of 4.00 GiB (30.2 %)  412.0 MiB/s  ETA 7s`.
    fn line(&self, now: Instant) -> String {
        let elapsed = now.duration_since(self.started).as_secs_f64();
        let rate = if elapsed > 0.0 { self.done as f64 / elapsed } else { 0.0 };
        let percent = if self.total > 0 { self.done as f64 * 100.0 / self.total as f64 } else { 100.0 };
        let eta = if self.done >= self.total {
            String::new()
        } else if rate > 0.0 {
            format!("  ETA {}", seconds((self.total - self.done) as f64 / rate))
        } else {
            "  ETA ?".to_owned()
        };
        format!(
            "[{elapsed:>4.0}s] {} of {} ({percent:.1} %)  {}/s{eta}",
            bytes(self.done as f64),
            bytes(self.total as f64),
            bytes(rate)
        )
    }
}

/// `512 B`, `1.50 KiB`, `3.25 GiB`.
fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024.0 {
        return format!("{n:.0} B");
    }
    let mut value = n / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// `42s`, `3m05s`, `2h07m`.
fn seconds(s: f64) -> String {
    let s = s.ceil() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// A reader that counts what passes through it into a shared [`HashProgress`] and prints the
/// lines that fall due on stderr.
#[derive(Debug)]
pub(crate) struct Counted<R> {
    inner: R,
    progress: Option<Rc<RefCell<HashProgress>>>,
}

impl<R> Counted<R> {
    /// Counts into `progress`, or passes reads through when it is `None` (quiet).
    pub(crate) fn new(inner: R, progress: Option<Rc<RefCell<HashProgress>>>) -> Self {
        Counted { inner, progress }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(progress) = &self.progress
            && let Some(line) = progress.borrow_mut().advance(n as u64, Instant::now())
        {
            eprintln!("{line}");
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_due_once_a_second_with_bytes_rate_and_eta() {
        let start = Instant::now();
        let mut p = HashProgress::new(4 << 30, start);
        assert_eq!(p.advance(1 << 20, start + Duration::from_millis(500)), None, "not a second yet");
        let line = p.advance((1 << 30) - (1 << 20), start + Duration::from_secs(2)).expect("due");
        assert_eq!(line, "[   2s] 1.00 GiB of 4.00 GiB (25.0 %)  512.00 MiB/s  ETA 6s");
        assert_eq!(p.advance(1, start + Duration::from_millis(2500)), None, "the next one a second later");
        p.advance((3 << 30) - 1, start + Duration::from_secs(8));
        assert_eq!(
            p.finish(start + Duration::from_secs(8)),
            "[   8s] 4.00 GiB of 4.00 GiB (100.0 %)  512.00 MiB/s  done"
        );
    }

    #[test]
    fn sizes_and_times_read_naturally() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(bytes(3.25 * (1u64 << 40) as f64), "3.25 TiB");
        assert_eq!(seconds(0.2), "1s");
        assert_eq!(seconds(185.0), "3m05s");
        assert_eq!(seconds(7620.0), "2h07m");
    }
}
