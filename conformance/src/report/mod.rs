//! Reports of a run: console, JSON, JUnit XML and one self-contained HTML page.

pub mod console;
pub mod html;
pub mod json;
pub mod junit;

use serde::Serialize;

use crate::coverage::SectionCoverage;
use crate::runner::Run;
use crate::verdict::{CaseResult, Verdict};

/// What every report is made from.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// `cim-conformance-report`.
    pub schema: &'static str,
    /// Bumped when a field changes meaning or goes away; new fields do not bump it.
    pub schema_version: u32,
    /// The harness version.
    pub tool_version: &'static str,
    /// The spec version the cases are written from.
    pub spec_version: &'static str,
    /// `server` or `client`.
    pub mode: &'a str,
    /// What was tested (the route URL, or the client command).
    pub target: String,
    /// The seed.
    pub seed: u64,
    /// Whether warn counted as fail.
    pub strict: bool,
    /// Start time, ms since the Unix epoch.
    pub started_at_ms: u64,
    /// Wall time.
    pub duration_ms: u64,
    /// Verdict → count, every verdict present.
    pub summary: Vec<(Verdict, usize)>,
    /// Requirement coverage of the cases that ran.
    pub coverage: Vec<SectionCoverage>,
    /// Expected-failure entries that name no case.
    pub unknown_expected_failures: &'a [String],
    /// Every case.
    pub cases: &'a [CaseResult],
}

impl<'a> Report<'a> {
    /// A report of `run`.
    pub fn new(
        mode: &'a str,
        target: String,
        seed: u64,
        strict: bool,
        run: &'a Run,
        coverage: Vec<SectionCoverage>,
    ) -> Self {
        let summary = Verdict::ALL
            .iter()
            .map(|v| (*v, run.results.iter().filter(|r| r.verdict == *v).count()))
            .collect();
        Self {
            schema: "cim-conformance-report",
            schema_version: 1,
            tool_version: env!("CARGO_PKG_VERSION"),
            spec_version: "v1",
            mode,
            target,
            seed,
            strict,
            started_at_ms: run.started_at_ms,
            duration_ms: run.duration_ms,
            summary,
            coverage,
            unknown_expected_failures: &run.unknown_expected,
            cases: &run.results,
        }
    }
}
