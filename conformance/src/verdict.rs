//! Verdicts and the results of a run.

use serde::Serialize;

use crate::case::Failure;
use crate::transcript::Line;

/// The outcome of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// A MUST or MUST NOT was not met.
    Fail,
    /// A SHOULD or SHOULD NOT was not met (a fail with `--strict`).
    Warn,
    /// A MAY was not taken up: for information.
    Info,
    /// The implementation does not offer what the case needs.
    #[serde(rename = "n/a")]
    NotApplicable,
    /// Not run.
    Skip,
    /// Failed, as the expected-failures file says it would.
    Xfail,
    /// Passed although the expected-failures file says it fails: the entry is stale.
    Xpass,
    /// The harness or the environment failed.
    Error,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Self; 9] = [
        Self::Pass,
        Self::Fail,
        Self::Warn,
        Self::Info,
        Self::NotApplicable,
        Self::Skip,
        Self::Xfail,
        Self::Xpass,
        Self::Error,
    ];

    /// The word printed in reports.
    pub fn word(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::NotApplicable => "n/a",
            Self::Skip => "skip",
            Self::Xfail => "xfail",
            Self::Xpass => "xpass",
            Self::Error => "error",
        }
    }
}

/// A failed check as reported: the requirement with its level and sentence.
#[derive(Clone, Debug, Serialize)]
pub struct ReportedFailure {
    /// The requirement id.
    pub requirement: String,
    /// MUST, SHOULD, …
    pub level: String,
    /// The requirement's sentence, quoted from the spec.
    pub quote: String,
    /// What the spec asks for here.
    pub expected: String,
    /// What happened.
    pub actual: String,
}

impl ReportedFailure {
    /// Adds the requirement's level and sentence to a failure.
    pub fn from_failure(failure: &Failure) -> Self {
        let requirement = crate::spec::requirement(failure.requirement);
        Self {
            requirement: failure.requirement.to_owned(),
            level: requirement.map_or_else(|| "?".to_owned(), |r| r.level.keyword().to_owned()),
            quote: requirement
                .map_or_else(|| "(not in spec/v1/requirements.toml)".to_owned(), |r| r.text.clone()),
            expected: failure.expected.clone(),
            actual: failure.actual.clone(),
        }
    }
}

/// The result of one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The requirements it covers.
    pub covers: Vec<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Wall time.
    pub duration_ms: u64,
    /// The failed check, for fail, warn, info and xfail.
    pub failure: Option<ReportedFailure>,
    /// Why it was n/a, skipped or an error, or why an xfail was expected.
    pub reason: Option<String>,
    /// The frames both ways.
    pub transcript: Vec<Line>,
    /// The command that runs only this case again, with the same seed.
    pub rerun: String,
}
