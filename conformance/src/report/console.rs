//! The console: a line per case as it finishes, then each problem explained, then the summary
//! and coverage.

use std::fmt::Write as _;

use super::Report;
use crate::verdict::{CaseResult, Verdict};

/// Colours for a terminal; none when `NO_COLOR` is set or output is not a terminal.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colours on a terminal without `NO_COLOR`.
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { color: !no_color && std::io::stdout().is_terminal() }
    }

    /// No colours.
    pub fn plain() -> Self {
        Self { color: false }
    }

    /// The verdict word, coloured and padded.
    pub fn verdict(self, verdict: Verdict) -> String {
        let word = format!("{:<5}", verdict.word());
        if !self.color {
            return word;
        }
        let code = match verdict {
            Verdict::Pass | Verdict::Xfail => "32",
            Verdict::Fail | Verdict::Xpass | Verdict::Error => "31;1",
            Verdict::Warn => "33",
            Verdict::Info | Verdict::NotApplicable | Verdict::Skip => "36",
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    }
}

/// The progress line of one finished case.
pub fn progress_line(style: Style, done: usize, total: usize, case: &CaseResult) -> String {
    let width = total.to_string().len();
    format!("[{done:>width$}/{total}] {} {} ({} ms)", style.verdict(case.verdict), case.id, case.duration_ms)
}

/// Everything about one case that did not pass: the requirement, quote, expected and actual,
/// the transcript and the rerun command.
pub fn details(case: &CaseResult) -> String {
    let mut out = String::new();
    if let Some(f) = &case.failure {
        let _ = writeln!(out, "  {} ({}): \"{}\"", f.requirement, f.level, f.quote);
        let _ = writeln!(out, "  expected: {}", f.expected);
        let _ = writeln!(out, "  actual:   {}", f.actual);
    }
    if let Some(reason) = &case.reason {
        let _ = writeln!(out, "  reason:   {reason}");
    }
    if !case.transcript.is_empty() {
        let _ = writeln!(out, "  transcript:");
        for line in &case.transcript {
            let _ = writeln!(
                out,
                "    {:>6} ms {:<5} {} {}",
                line.at_ms,
                line.conn,
                line.direction.arrow(),
                line.text
            );
        }
    }
    let _ = writeln!(out, "  rerun:    {}", case.rerun);
    out
}

/// Coverage per section and in total, one line each, every line starting with `indent`.
pub fn coverage_table(sections: &[crate::coverage::SectionCoverage], indent: &str) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "{indent}{:<8} {:>8} {:>10} {:>10}  missing", "section", "covered", "untestable", "of");
    for s in sections {
        let _ = writeln!(
            out,
            "{indent}{:<8} {:>8} {:>10} {:>10}  {}",
            s.section,
            s.covered,
            s.untestable,
            s.mandatory,
            s.missing.join(" ")
        );
    }
    let (covered, untestable, mandatory) =
        sections.iter().fold((0, 0, 0), |(c, u, m), s| (c + s.covered, u + s.untestable, m + s.mandatory));
    let _ = writeln!(out, "{indent}{:<8} {covered:>8} {untestable:>10} {mandatory:>10}", "total");
    out
}

/// The part printed after the progress lines; the coverage table only with `with_coverage`
/// (not when a few cases were picked with --run: it would say nothing about them).
pub fn summary(style: Style, report: &Report<'_>, with_coverage: bool) -> String {
    let mut out = String::new();
    for case in report.cases {
        if matches!(case.verdict, Verdict::Fail | Verdict::Warn | Verdict::Xpass | Verdict::Error) {
            let _ = writeln!(out, "\n{} {}: {}", style.verdict(case.verdict), case.id, case.title);
            out.push_str(&details(case));
        }
    }
    for id in report.unknown_expected_failures {
        let _ = writeln!(out, "\nwarning: the expected-failures file names {id}, which is not a case");
    }
    if with_coverage {
        let _ = writeln!(out, "\ncoverage of MUST and MUST NOT requirements, by section:");
        out.push_str(&coverage_table(&report.coverage, "  "));
    }
    let counts: Vec<String> =
        report.summary.iter().filter(|(_, n)| *n > 0).map(|(v, n)| format!("{n} {}", v.word())).collect();
    let _ = writeln!(
        out,
        "\n{} cases in {:.1} s (seed {}): {}",
        report.cases.len(),
        report.duration_ms as f64 / 1000.0,
        report.seed,
        counts.join(", ")
    );
    out
}
