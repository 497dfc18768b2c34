//! [`CpuTime`]: user and system CPU time of this process, from `/proc/self/stat` (Linux; the
//! workspace forbids `unsafe`, so no `getrusage`).

use std::time::Duration;

/// Clock ticks per second in `/proc/*/stat` (`USER_HZ`): 100 on every Linux architecture's ABI.
const USER_HZ: u64 = 100;

/// CPU time consumed by the process so far, all threads (including finished ones) together.
/// Resolution: 10 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTime {
    /// Time in user mode.
    pub user: Duration,
    /// Time in the kernel on the process's behalf.
    pub system: Duration,
}

impl CpuTime {
    /// The CPU time of this process; `None` where `/proc/self/stat` is unavailable.
    pub fn of_this_process() -> Option<CpuTime> {
        parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// User plus system.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// The time spent since `earlier`.
    pub fn since(&self, earlier: &CpuTime) -> CpuTime {
        CpuTime { user: self.user.saturating_sub(earlier.user), system: self.system.saturating_sub(earlier.system) }
    }
}

/// Reads `utime` and `stime` (fields 14 and 15) from a `/proc/PID/stat` line. The command name
/// (field 2) is in parentheses and may hold spaces or parentheses: fields are counted from the
/// last `)`.
fn parse_stat(line: &str) -> Option<CpuTime> {
    let after_comm = &line[line.rfind(')')? + 1..];
    // Field 3 (state) is the first token after the command name.
    let mut fields = after_comm.split_ascii_whitespace().skip(14 - 3);
    let ticks = |f: Option<&str>| f?.parse::<u64>().ok();
    let user = ticks(fields.next())?;
    let system = ticks(fields.next())?;
    let to_duration = |t: u64| Duration::from_nanos(t * (1_000_000_000 / USER_HZ));
    Some(CpuTime { user: to_duration(user), system: to_duration(system) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_an_awkward_command_name() {
        let line = "4242 (load (a) b) S 1 4242 4242 0 -1 4194304 1000 0 0 0 250 37 0 0 20 0 3 0 100 0 0";
        let cpu = parse_stat(line).unwrap();
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.system, Duration::from_millis(370));
        assert_eq!(cpu.total(), Duration::from_millis(2870));
    }

    #[test]
    fn rejects_truncated_lines() {
        assert!(parse_stat("1 (x) S 1 2 3").is_none());
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn cpu_spent_spinning_shows_up() {
        let before = CpuTime::of_this_process().expect("/proc/self/stat on Linux");
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut used = CpuTime::default();
        // Spin until 30 ms of CPU show (bounded: the machine may be busy).
        while used.total() < Duration::from_millis(30) && start.elapsed() < Duration::from_secs(10) {
            for _ in 0..100_000 {
                x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(7));
            }
            used = CpuTime::of_this_process().unwrap().since(&before);
        }
        std::hint::black_box(x);
        assert!(used.total() >= Duration::from_millis(30), "{used:?}");
    }
}
