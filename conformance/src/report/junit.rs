//! JUnit XML, as CI systems read it: fail and xpass are failures, error is an error, n/a and
//! skip are skipped; warn, info and xfail pass with a note in system-out.

use std::fmt::Write as _;

use super::Report;
use crate::verdict::{CaseResult, Verdict};

/// Escapes text for XML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn count(report: &Report<'_>, verdicts: &[Verdict]) -> usize {
    report.cases.iter().filter(|c| verdicts.contains(&c.verdict)).count()
}

/// The report as JUnit XML.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = format!("cim-conformance {}", report.mode);
    let (tests, failures, errors, skipped) = (
        report.cases.len(),
        count(report, &[Verdict::Fail, Verdict::Xpass]),
        count(report, &[Verdict::Error]),
        count(report, &[Verdict::Skip, Verdict::NotApplicable]),
    );
    let time = report.duration_ms as f64 / 1000.0;
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        escape(&name)
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        escape(&name)
    );
    let _ = writeln!(out, "    <properties>");
    let _ = writeln!(out, "      <property name=\"target\" value=\"{}\"/>", escape(&report.target));
    let _ = writeln!(out, "      <property name=\"seed\" value=\"{}\"/>", report.seed);
    let _ = writeln!(out, "      <property name=\"spec_version\" value=\"{}\"/>", report.spec_version);
    let _ = writeln!(out, "    </properties>");
    for case in report.cases {
        testcase(&mut out, case);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, case: &CaseResult) {
    let (class, name) = case.id.rsplit_once('.').unwrap_or(("cim", &case.id));
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
        escape(class),
        escape(name),
        case.duration_ms as f64 / 1000.0
    );
    let details = super::console::details(case);
    let message = case.failure.as_ref().map_or_else(
        || case.reason.clone().unwrap_or_default(),
        |f| format!("{} ({}): expected {}; got {}", f.requirement, f.level, f.expected, f.actual),
    );
    match case.verdict {
        Verdict::Fail | Verdict::Xpass => {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&message),
                case.verdict.word(),
                escape(&details)
            );
        }
        Verdict::Error => {
            let _ =
                writeln!(out, "      <error message=\"{}\">{}</error>", escape(&message), escape(&details));
        }
        Verdict::Skip | Verdict::NotApplicable => {
            let _ =
                writeln!(out, "      <skipped message=\"{}: {}\"/>", case.verdict.word(), escape(&message));
        }
        Verdict::Pass | Verdict::Warn | Verdict::Info | Verdict::Xfail => {
            if case.verdict != Verdict::Pass {
                let _ = writeln!(
                    out,
                    "      <system-out>{}: {}</system-out>",
                    case.verdict.word(),
                    escape(&details)
                );
            }
        }
    }
    out.push_str("    </testcase>\n");
}
