//! What the route's and the server's `/metrics` share, in the Prometheus text format:
//! histograms, counters by label, the standard `process_*` metrics and a build-info metric.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, of the latency buckets: 0.5 ms to 10 s.
pub const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A latency histogram with [`LATENCY_BUCKETS`]: one atomic add per observation, no lock.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative; the last is +Inf).
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Counts one observation of `elapsed`.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket =
            LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name`, with `labels` (`key="value",…` or
    /// empty) on each.
    fn render_lines(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.buckets[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = |labels: &str| if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
    }

    /// The histogram as a metric of its own.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        self.render_lines(out, name, "");
    }
}

/// Histograms by label set (an endpoint, say), made on first use.
#[derive(Debug, Default)]
pub struct LabeledHistograms {
    by_labels: Mutex<BTreeMap<String, std::sync::Arc<Histogram>>>,
}

impl LabeledHistograms {
    /// Counts `elapsed` for `labels` (`key="value",…`, already escaped).
    pub fn observe(&self, labels: &str, elapsed: Duration) {
        let histogram = {
            let mut map = self.by_labels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match map.get(labels) {
                Some(histogram) => histogram.clone(),
                None => map.entry(labels.to_owned()).or_default().clone(),
            }
        };
        histogram.observe(elapsed);
    }

    /// Every label set's histogram under one metric name.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let map = self.by_labels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (labels, histogram) in map.iter() {
            histogram.render_lines(out, name, labels);
        }
    }
}

/// Counters by label set, made on first use.
#[derive(Debug, Default)]
pub struct LabeledCounters {
    by_labels: Mutex<BTreeMap<String, u64>>,
}

impl LabeledCounters {
    /// Adds one for `labels` (`key="value",…`, already escaped).
    pub fn inc(&self, labels: &str) {
        let mut map = self.by_labels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get_mut(labels) {
            Some(count) => *count += 1,
            None => {
                map.insert(labels.to_owned(), 1);
            }
        }
    }

    /// Every label set's count under one metric name.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, count) in self.by_labels.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter()
        {
            let _ = writeln!(out, "{name}{{{labels}}} {count}");
        }
    }
}

/// A label value with `\`, `"` and newlines escaped, as the text format asks.
pub fn label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `<program>_build_info{version="…"} 1`: which build answers, for dashboards and alerts.
pub fn build_info(out: &mut String, program: &str, version: &str) {
    let name = format!("{program}_build_info");
    let _ = writeln!(
        out,
        "# HELP {name} The running build: always 1, its version in the label.\n# TYPE {name} gauge\n{name}{{version=\"{}\"}} 1",
        label_value(version)
    );
}

/// Clock ticks per second of `/proc/self/stat` times: 100 on every Linux that runs us (the
/// Prometheus client libraries assume it too).
const CLOCK_TICKS: f64 = 100.0;

/// The standard `process_*` metrics, from `/proc` (nothing on systems without it): CPU time,
/// resident and virtual memory, open and allowed file descriptors, start time.
pub fn process_metrics(out: &mut String) {
    let Some(stat) = std::fs::read_to_string("/proc/self/stat").ok() else { return };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(fields) = stat.rsplit_once(") ").map(|(_, rest)| rest.split_whitespace().collect::<Vec<_>>())
    else {
        return;
    };
    // /proc/<pid>/stat numbering starts at 1 with the pid; `fields[0]` is field 3 (state).
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let page = 4096.0;
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    metric(
        "process_cpu_seconds_total",
        "counter",
        "User and system CPU time spent, in seconds.",
        (field(14) + field(15)) / CLOCK_TICKS,
    );
    metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23));
    metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24) * page);
    if let Some(boot) = boot_time() {
        metric(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch, in seconds.",
            boot + field(22) / CLOCK_TICKS,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metric("process_open_fds", "gauge", "Open file descriptors.", fds.count() as f64);
    }
    if let Some(limit) = crate::process::open_file_limit() {
        metric("process_max_fds", "gauge", "The limit of open file descriptors.", limit as f64);
    }
}

/// When the machine booted, in seconds since the Unix epoch (`btime` of `/proc/stat`).
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|line| line.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_everything() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(300));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(60));
        let mut out = String::new();
        histogram.render(&mut out, "t_seconds", "test");
        assert!(out.contains("t_seconds_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("t_seconds_count 3\n"), "{out}");
        assert_eq!(histogram.count(), 3);
    }

    #[test]
    fn labeled_metrics_keep_each_label_set_apart() {
        let counters = LabeledCounters::default();
        counters.inc("path=\"/a\"");
        counters.inc("path=\"/a\"");
        counters.inc("path=\"/b\"");
        let mut out = String::new();
        counters.render(&mut out, "c_total", "test");
        assert!(out.contains("c_total{path=\"/a\"} 2\nc_total{path=\"/b\"} 1\n"), "{out}");
        let histograms = LabeledHistograms::default();
        histograms.observe("path=\"/a\"", Duration::from_millis(1));
        let mut out = String::new();
        histograms.render(&mut out, "h_seconds", "test");
        assert!(out.contains("h_seconds_count{path=\"/a\"} 1\n"), "{out}");
        assert!(out.contains("h_seconds_bucket{path=\"/a\",le=\"+Inf\"} 1\n"), "{out}");
    }

    #[test]
    fn process_metrics_come_from_proc() {
        let mut out = String::new();
        process_metrics(&mut out);
        let resident = out
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.parse::<f64>().ok());
        assert!(resident.is_some_and(|bytes| bytes > 1e5), "{out}");
        assert!(out.contains("process_open_fds "), "{out}");
        assert!(out.contains("process_start_time_seconds "), "{out}");
        assert_eq!(label_value("a\"b\\c"), "a\\\"b\\\\c");
    }
}
