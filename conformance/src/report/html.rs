//! One self-contained HTML page: no scripts, no external files; `<details>` opens each case.

use std::fmt::Write as _;

use super::Report;
use super::junit::escape;
use crate::verdict::Verdict;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}\
h1{font-size:1.5em}table{border-collapse:collapse;margin:1em 0}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left}\
td.n{text-align:right}.v{display:inline-block;min-width:3.5em;padding:0 .4em;border-radius:3px;font-weight:600;text-align:center}\
.pass,.xfail{background:#d4f4dd;color:#185c2c}.fail,.xpass,.error{background:#fbd5d5;color:#8a1c1c}.warn{background:#fdf0c4;color:#6b4e00}\
.info,.na,.skip{background:#dde8f6;color:#234}details{border-bottom:1px solid #eee;padding:.3em 0}summary{cursor:pointer}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}blockquote{margin:.4em 0;padding-left:1em;border-left:3px solid #ccc;color:#444}\
.bar{display:inline-block;height:.8em;background:#4a9;vertical-align:middle}.bar.u{background:#bbb}";

fn class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::NotApplicable => "na",
        other => other.word(),
    }
}

/// The report as an HTML page.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let title = format!("cim-conformance {} report", report.mode);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        out,
        "<p>Target <code>{}</code> · spec {} · harness {} · seed <code>{}</code>{} · {} cases in {:.1} s</p>",
        escape(&report.target),
        report.spec_version,
        report.tool_version,
        report.seed,
        if report.strict { " · strict" } else { "" },
        report.cases.len(),
        report.duration_ms as f64 / 1000.0
    );
    // Each badge links to the first case of its verdict.
    out.push_str("<p>");
    for (verdict, n) in &report.summary {
        if *n > 0 {
            let first = report.cases.iter().find(|c| c.verdict == *verdict).map_or("", |c| c.id.as_str());
            let _ = write!(
                out,
                "<a href=\"#{}\"><span class=\"v {}\">{} {}</span></a> ",
                escape(first),
                class(*verdict),
                n,
                verdict.word()
            );
        }
    }
    out.push_str("</p>\n");
    // What needs attention comes first, each linking to its case below.
    let attention: Vec<_> = report
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Xpass | Verdict::Error | Verdict::Warn))
        .collect();
    if !attention.is_empty() {
        out.push_str("<h2 id=\"failures\">Failures</h2>\n<ul>\n");
        for case in attention {
            let requirement =
                case.failure.as_ref().map(|f| format!(" · {}", f.requirement)).unwrap_or_default();
            let _ = writeln!(
                out,
                "<li><span class=\"v {}\">{}</span> <a href=\"#{}\"><code>{}</code></a> {}{}</li>",
                class(case.verdict),
                case.verdict.word(),
                escape(&case.id),
                escape(&case.id),
                escape(&case.title),
                escape(&requirement)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Coverage of MUST and MUST NOT requirements</h2>\n<table><tr><th>Section</th><th>Covered</th><th>Untestable</th><th>Of</th><th></th><th>Missing</th></tr>\n");
    for s in &report.coverage {
        let width = |n: usize| (n * 120).checked_div(s.mandatory).unwrap_or(0);
        let _ = writeln!(
            out,
            "<tr><td>§{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td><span class=bar style=\"width:{}px\"></span><span class=\"bar u\" style=\"width:{}px\"></span></td><td>{}</td></tr>",
            escape(&s.section),
            s.covered,
            s.untestable,
            s.mandatory,
            width(s.covered),
            width(s.untestable),
            escape(&s.missing.join(" "))
        );
    }
    out.push_str("</table>\n<h2>Cases</h2>\n");
    for case in report.cases {
        let open = if matches!(case.verdict, Verdict::Fail | Verdict::Xpass | Verdict::Error) {
            " open"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<details{open} id=\"{}\"><summary><span class=\"v {}\">{}</span> <code>{}</code> {} <small>({} ms · {})</small></summary>",
            escape(&case.id),
            class(case.verdict),
            case.verdict.word(),
            escape(&case.id),
            escape(&case.title),
            case.duration_ms,
            escape(&case.covers.join(", "))
        );
        if let Some(f) = &case.failure {
            let _ = writeln!(
                out,
                "<p><b>{} ({})</b></p><blockquote>{}</blockquote><p>expected: {}<br>actual: {}</p>",
                escape(&f.requirement),
                escape(&f.level),
                escape(&f.quote),
                escape(&f.expected),
                escape(&f.actual)
            );
        }
        if let Some(reason) = &case.reason {
            let _ = writeln!(out, "<p>{}</p>", escape(reason));
        }
        out.push_str("<pre>");
        for line in &case.transcript {
            let _ = writeln!(
                out,
                "{:>6} ms {:<5} {} {}",
                line.at_ms,
                escape(&line.conn),
                escape(line.direction.arrow()),
                escape(&line.text)
            );
        }
        let _ = writeln!(out, "</pre><p>Rerun: <code>{}</code></p></details>", escape(&case.rerun));
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Run;
    use crate::verdict::{CaseResult, ReportedFailure};

    fn result(id: &str, verdict: Verdict) -> CaseResult {
        CaseResult {
            id: id.to_owned(),
            title: format!("{id} title"),
            covers: vec!["CIM-4.1-1".to_owned()],
            tags: Vec::new(),
            verdict,
            duration_ms: 1,
            failure: (verdict == Verdict::Fail).then(|| ReportedFailure {
                requirement: "CIM-4.1-1".to_owned(),
                level: "MUST".to_owned(),
                quote: String::new(),
                expected: "x".to_owned(),
                actual: "y".to_owned(),
            }),
            reason: None,
            transcript: Vec::new(),
            rerun: String::new(),
        }
    }

    #[test]
    fn failures_come_first_and_badges_link_to_their_cases() {
        let run = Run {
            results: vec![result("a.passes", Verdict::Pass), result("b.fails", Verdict::Fail)],
            unknown_expected: Vec::new(),
            started_at_ms: 0,
            duration_ms: 1,
        };
        let report = Report::new("server", "http://x".to_owned(), 1, false, &run, Vec::new());
        let html = render(&report);
        let failures = html.find("<h2 id=\"failures\">").expect("a failures section");
        let cases = html.find("<h2>Cases</h2>").expect("the cases");
        assert!(failures < cases, "failures before the cases");
        assert!(html[failures..cases].contains("<a href=\"#b.fails\">"), "a link to the failed case");
        assert!(!html[failures..cases].contains("a.passes"), "only what needs attention");
        assert!(html.contains("<a href=\"#b.fails\"><span class=\"v fail\">1 fail</span></a>"), "{html}");
        assert!(html.contains("<a href=\"#a.passes\"><span class=\"v pass\">1 pass</span></a>"), "{html}");
    }
}
