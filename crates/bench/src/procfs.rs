//! What the kernel knows of a process: CPU time used (`/proc/<pid>/stat`) and resident memory
//! (`/proc/<pid>/status`: `VmHWM` peak, `VmRSS` now).

use std::sync::OnceLock;
use std::time::Duration;

use crate::BenchError;

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&t: &u64| t > 0)
            .unwrap_or(100)
    })
}

fn read(path: &str) -> Result<String, BenchError> {
    std::fs::read_to_string(path).map_err(|e| BenchError::Proc {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// User plus system CPU time of `pid` (all its threads, finished ones included), to 10 ms.
pub fn cpu_time(pid: u32) -> Result<Duration, BenchError> {
    let path = format!("/proc/{pid}/stat");
    let text = read(&path)?;
    parse_cpu_ticks(&text)
        .map(|ticks| Duration::from_nanos(ticks * 1_000_000_000 / ticks_per_second()))
        .ok_or_else(|| BenchError::Proc {
            path,
            detail: "no utime/stime fields".into(),
        })
}

/// `utime + stime` in ticks. The command name (field 2) may hold spaces and parentheses, so
/// fields are counted after its closing parenthesis: state is field 3, utime 14, stime 15.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` line of `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, key: &str) -> Result<u64, BenchError> {
    let path = format!("/proc/{pid}/status");
    let text = read(&path)?;
    parse_status_kib(&text, key)
        .map(|kib| kib * 1024)
        .ok_or_else(|| BenchError::Proc {
            path,
            detail: format!("no {key} line"),
        })
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Peak resident set size (`VmHWM`) in bytes.
pub fn peak_rss(pid: u32) -> Result<u64, BenchError> {
    status_bytes(pid, "VmHWM")
}

/// Resident set size now (`VmRSS`) in bytes.
pub fn rss(pid: u32) -> Result<u64, BenchError> {
    status_bytes(pid, "VmRSS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_fields_are_found_after_a_name_with_spaces() {
        let stat = "42 (tokio (rt) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_lines_are_read_in_kib() {
        let status = "Name:\tvalence\nVmHWM:\t  123456 kB\nVmRSS:\t   1000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(123_456));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(1000));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let pid = std::process::id();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        assert!(x > 0);
        assert!(peak_rss(pid).unwrap() >= rss(pid).unwrap() / 2);
        cpu_time(pid).unwrap();
    }
}
