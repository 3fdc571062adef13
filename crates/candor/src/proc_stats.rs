//! CPU time and memory of a process, read from Linux's /proc: what the benchmarks
//! report for the server (`candor load`) and for this process (`candor bench-models`).

use std::time::Duration;

use anyhow::{Context, Result};

/// Linux reports utime and stime in USER_HZ ticks, which the kernel ABI fixes at 100
/// a second on every architecture Candor builds for (sysconf(_SC_CLK_TCK) says the same).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system CPU time of every thread of process `pid` (`self` for this one).
pub fn cpu_time(pid: &str) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let ticks = parse_cpu_ticks(&text).with_context(|| format!("unexpected {path}: {text}"))?;
    Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// utime + stime from a /proc/<pid>/stat line. The command name (field 2) is in
/// parentheses and may hold spaces or parentheses itself, so fields are counted from
/// the last `)`: utime and stime are fields 14 and 15 of the line.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is field 3 (the state), so field n is fields[n - 3].
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory of process `pid` in MiB: `VmRSS` now, or `VmHWM` (its peak so far).
pub fn memory_mib(pid: &str, field: MemoryField) -> Result<f64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status_kib(&text, field.key())
        .map(|kib| kib as f64 / 1024.0)
        .with_context(|| format!("no {} in {path}", field.key()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryField {
    /// Resident set size now.
    Current,
    /// Peak resident set size ("high water mark").
    Peak,
}

impl MemoryField {
    fn key(self) -> &'static str {
        match self {
            Self::Current => "VmRSS",
            Self::Peak => "VmHWM",
        }
    }
}

/// The kB value of `key` in /proc/<pid>/status text (`VmHWM:    123456 kB`).
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name != key {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) w) S 1 4242 4242 0 -1 4194560 5000 0 0 0 \
                    731 269 0 0 20 0 12 0 900 1000000 5000 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(731 + 269));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_fields_are_read_by_exact_name() {
        let status = "Name:\tcandor\nVmHWMx:\t1 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  262144 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(524_288));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(262_144));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(memory_mib("self", MemoryField::Peak).unwrap() > 0.0);
        assert!(cpu_time("self").is_ok());
    }
}
