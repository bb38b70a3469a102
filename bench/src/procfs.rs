//! What the kernel says about a process: resident memory and CPU time, from `/proc`.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// One reading of a process.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ProcSample {
    /// Resident set size (`VmRSS`).
    pub(crate) rss_bytes: u64,
    /// User plus system CPU time since the process started.
    pub(crate) cpu: Duration,
}

impl ProcSample {
    /// The sum over several processes.
    pub(crate) fn total(samples: &[Self]) -> Self {
        samples.iter().fold(Self::default(), |sum, s| Self {
            rss_bytes: sum.rss_bytes + s.rss_bytes,
            cpu: sum.cpu + s.cpu,
        })
    }
}

/// Reads `pid`'s resident memory and CPU time.
pub(crate) fn sample(pid: u32) -> anyhow::Result<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("process {pid} is gone"))?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces and parentheses: fields are counted after its last ')'.
    let Some((_, fields)) = stat.rsplit_once(')') else { bail!("unexpected /proc/{pid}/stat") };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `fields[0]` is field 3.
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields.get(i).and_then(|f| f.parse().ok()).with_context(|| format!("unexpected /proc/{pid}/stat"))
    };
    let cpu_ticks = ticks(11)? + ticks(12)?;
    let cpu = Duration::from_secs_f64(cpu_ticks as f64 / clock_ticks_per_second() as f64);
    Ok(ProcSample { rss_bytes: rss_kib * 1024, cpu })
}

/// `sysconf(_SC_CLK_TCK)`, asked of `getconf` once; 100 on every Linux we know of.
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// The machine, for reports: CPU model, logical CPUs, memory, kernel.
pub(crate) fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |kib| kib as f64 / (1024.0 * 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpus} × {model}, {mem_gib:.0} GiB, Linux {}", kernel.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_has_used_cpu() {
        // Spin for 50 ms of wall time: five clock ticks of CPU at the usual 100 Hz.
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < Duration::from_millis(50) {
            spin = std::hint::black_box(spin.wrapping_mul(31).wrapping_add(1));
        }
        let me = sample(std::process::id()).expect("own /proc entry");
        assert!(me.rss_bytes > 1024 * 1024, "RSS of {} bytes", me.rss_bytes);
        assert!(me.cpu > Duration::ZERO, "CPU time {:?}", me.cpu);
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(sample(u32::MAX).is_err());
    }
}
