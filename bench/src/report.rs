//! Figures of a scenario over its runs: a table for people, JSON for machines.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One figure of one run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) value: f64,
}

/// The figures of one run, in display order.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Run(pub(crate) Vec<Figure>);

impl Run {
    pub(crate) fn add(&mut self, name: &'static str, unit: &'static str, value: f64) {
        self.0.push(Figure { name, unit, value });
    }
}

/// A figure over all runs.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Summary {
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// (max − min) / median, in percent.
    pub(crate) spread_pct: f64,
}

/// Everything a scenario reports.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) scenario: &'static str,
    pub(crate) date: String,
    pub(crate) machine: String,
    pub(crate) deployment: String,
    pub(crate) params: serde_json::Value,
    pub(crate) runs: Vec<Run>,
    pub(crate) summary: Vec<Summary>,
}

impl Report {
    pub(crate) fn new(
        scenario: &'static str,
        deployment: String,
        params: serde_json::Value,
        runs: Vec<Run>,
    ) -> Self {
        let summary = summarize(&runs);
        Self {
            scenario,
            date: utc_now(),
            machine: crate::procfs::machine(),
            deployment,
            params,
            runs,
            summary,
        }
    }

    /// The human table.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("cim-bench {} — {}\n", self.scenario, self.deployment));
        out.push_str(&format!("{} — {}\n", self.machine, self.date));
        let params: Vec<String> = match &self.params {
            serde_json::Value::Object(map) => map.iter().map(|(k, v)| format!("{k} {v}")).collect(),
            _ => Vec::new(),
        };
        out.push_str(&format!("{} run(s); {}\n\n", self.runs.len(), params.join(", ")));
        let name_width = self.summary.iter().map(|s| s.name.len() + s.unit.len() + 3).max().unwrap_or(10);
        out.push_str(&format!(
            "{:<name_width$} {:>14} {:>14} {:>14} {:>8}\n",
            "figure", "median", "min", "max", "spread"
        ));
        for s in &self.summary {
            let label =
                if s.unit.is_empty() { s.name.to_owned() } else { format!("{} ({})", s.name, s.unit) };
            out.push_str(&format!(
                "{label:<name_width$} {:>14} {:>14} {:>14} {:>7.1}%\n",
                number(s.median),
                number(s.min),
                number(s.max),
                s.spread_pct
            ));
        }
        out
    }
}

fn summarize(runs: &[Run]) -> Vec<Summary> {
    let Some(first) = runs.first() else { return Vec::new() };
    first
        .0
        .iter()
        .map(|figure| {
            let mut values: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.0.iter().find(|f| f.name == figure.name).map(|f| f.value))
                .collect();
            values.sort_by(f64::total_cmp);
            let median = median(&values);
            let (min, max) = (values[0], values[values.len() - 1]);
            let spread_pct =
                if median.abs() > f64::EPSILON { (max - min) / median.abs() * 100.0 } else { 0.0 };
            Summary { name: figure.name, unit: figure.unit, median, min, max, spread_pct }
        })
        .collect()
}

/// The median of sorted, non-empty values.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// A number for the table: thousands separated, two decimals below 100.
fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        let rounded = value.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if rounded < 0 { format!("-{grouped}") } else { grouped }
    } else {
        format!("{value:.2}")
    }
}

/// `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs % 86_400 / 3600, secs % 3600 / 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(value: f64) -> Run {
        let mut run = Run::default();
        run.add("rate", "msg/s", value);
        run
    }

    #[test]
    fn summary_is_median_and_spread_over_runs() {
        let summary = summarize(&[run(100.0), run(120.0), run(90.0), run(110.0), run(105.0)]);
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].median, 105.0);
        assert_eq!((summary[0].min, summary[0].max), (90.0, 120.0));
        assert!((summary[0].spread_pct - 30.0 / 105.0 * 100.0).abs() < 1e-9);
        assert_eq!(summarize(&[run(1.0), run(3.0)])[0].median, 2.0);
    }

    #[test]
    fn numbers_are_grouped_for_reading() {
        assert_eq!(number(1_234_567.4), "1,234,567");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(-2500.0), "-2,500");
        assert_eq!(number(0.4567), "0.46");
    }

    #[test]
    fn dates_come_out_as_the_calendar_says() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_418), (2025, 11, 26));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
