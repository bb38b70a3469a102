//! Running the selected cases: order, parallelism, time budgets, verdicts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::case::{Case, Cx, Stop, Target};
use crate::spec::Level;
use crate::verdict::{CaseResult, ReportedFailure, Verdict};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The deployment.
    pub target: Target,
    /// The seed of every random choice: order with `shuffle`, ids, mutations.
    pub seed: u64,
    /// Run in an order drawn from the seed.
    pub shuffle: bool,
    /// Cases at once.
    pub jobs: usize,
    /// Multiplies every wait and budget.
    pub timeout_scale: f64,
    /// Warn counts as fail.
    pub strict: bool,
    /// Case id → reason, from `--expected-failures`.
    pub expected_failures: BTreeMap<String, String>,
    /// The command line that reruns a case, up to where `--run` and `--seed` go.
    pub rerun_base: String,
    /// What follows them (client mode: `-- <driver command>`).
    pub rerun_tail: String,
}

/// Everything a run found.
#[derive(Debug)]
pub struct Run {
    /// One result per selected case, in the order they were selected.
    pub results: Vec<CaseResult>,
    /// Expected-failure entries that name no case in the catalog.
    pub unknown_expected: Vec<String>,
    /// When the run started, ms since the Unix epoch.
    pub started_at_ms: u64,
    /// How long it took.
    pub duration_ms: u64,
}

/// A stable 64-bit hash (FNV-1a), so a case's seed does not depend on the platform.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The order cases run in: as selected, or shuffled by the seed.
pub fn order<'a>(cases: &[&'a Case], seed: u64, shuffle: bool) -> Vec<&'a Case> {
    let mut out = cases.to_vec();
    if shuffle {
        let mut state = seed ^ 0x5eed;
        for i in (1..out.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let j = ((state >> 33) % (i as u64 + 1)) as usize;
            out.swap(i, j);
        }
    }
    out
}

/// A short random tag for this run's user names, so that runs against one deployment never
/// collide (it is not drawn from the seed: a rerun with the same seed needs new users too).
fn run_tag() -> String {
    let mut bytes = [0u8; 5];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[usize::from(*b) % 36])).collect()
}

/// Runs `cases`, calling `progress` as each finishes.
pub async fn run(
    catalog: &[Case],
    cases: &[&'static Case],
    options: &RunOptions,
    mut progress: impl FnMut(&CaseResult),
) -> Run {
    let started = Instant::now();
    let started_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    let tag = run_tag();
    let target = Arc::new(options.target.clone());
    let ordered = order(cases, options.seed, options.shuffle);
    let jobs = options.jobs.max(1);
    let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(ordered.len());
    let mut stream = futures_util::stream::iter(ordered.into_iter().enumerate().map(|(index, case)| {
        let target = target.clone();
        let prefix = format!("cf{tag}{index}-");
        async move { (index, run_one(case, target, prefix, options).await) }
    }))
    .buffer_unordered(jobs);
    while let Some((index, result)) = stream.next().await {
        progress(&result);
        results.push((index, result));
    }
    // Reports list cases in catalog order whatever order they ran in.
    let position = |id: &str| cases.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    results.sort_by_key(|(_, result)| position(&result.id));
    let known: Vec<&str> = catalog.iter().map(|c| c.id).collect();
    let unknown_expected =
        options.expected_failures.keys().filter(|id| !known.contains(&id.as_str())).cloned().collect();
    Run {
        results: results.into_iter().map(|(_, r)| r).collect(),
        unknown_expected,
        started_at_ms,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

async fn run_one(
    case: &'static Case,
    target: Arc<Target>,
    prefix: String,
    options: &RunOptions,
) -> CaseResult {
    let started = Instant::now();
    let seed = options.seed ^ fnv(case.id);
    let budget = case.budget.mul_f64(options.timeout_scale);
    let cx = Cx::new(case.id, target, prefix, options.timeout_scale, seed);
    let transcript = cx.transcript.clone();
    // Each case runs in its own task: a panic in a case is the harness's error, not a verdict
    // on the implementation, and must not take the other cases with it.
    let lag = HarnessLag::watch();
    let task = tokio::spawn(async move {
        let mut cx = cx;
        tokio::time::timeout(budget, (case.run)(&mut cx)).await
    });
    let outcome = task.await;
    let worst_lag = lag.stop();
    let outcome = match outcome {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err(Stop::Error(format!(
            "the case did not finish within its budget of {} s",
            budget.as_secs_f64()
        ))),
        Err(error) => Err(Stop::Error(format!("the case panicked: {error}"))),
    };
    // Rules every frame obeys, noticed on the way, fail a case that otherwise passed.
    let outcome = match (outcome, transcript.violations().into_iter().next()) {
        (Ok(()), Some(violation)) => Err(Stop::Fail(violation)),
        (outcome, _) => outcome,
    };
    // A timing check is only as good as the harness's own clock: a case that failed while the
    // harness was starved (a busy machine) says nothing about the implementation.
    let outcome = match outcome {
        Err(Stop::Fail(f)) if worst_lag >= LAG_LIMIT.mul_f64(options.timeout_scale) => {
            Err(Stop::Error(format!(
                "the harness itself ran {} ms late while the case ran (a busy machine?), so its timing cannot be \
             trusted: rerun it. It had failed {}: expected {}, actual {}",
                worst_lag.as_millis(),
                f.requirement,
                f.expected,
                f.actual
            )))
        }
        // The deployment's limits per address refused the harness's own calls (it registers
        // and logs in hundreds of users from one address): the case could not be run.
        Err(Stop::Fail(f)) if transcript.was_rate_limited() => Err(Stop::Error(format!(
            "the route refused a call of the harness with 429 RATE_LIMITED, so the case could not run \
             through it (it had failed {}: {}). Run against a route without limits per address, e.g. \
             `cim up --registrations-per-address 0 --login-failures-per-address 0`",
            f.requirement, f.actual
        ))),
        outcome => outcome,
    };
    let (mut verdict, mut failure, mut reason) = match &outcome {
        Ok(()) => (Verdict::Pass, None, None),
        Err(Stop::Fail(f)) => {
            let level = crate::spec::requirement(f.requirement).map_or(Level::Must, |r| r.level);
            let verdict = match level {
                Level::Should | Level::ShouldNot if !options.strict => Verdict::Warn,
                Level::May => Verdict::Info,
                _ => Verdict::Fail,
            };
            (verdict, Some(ReportedFailure::from_failure(f)), None)
        }
        Err(Stop::NotApplicable(why)) => (Verdict::NotApplicable, None, Some(why.clone())),
        Err(Stop::Skip(why)) => (Verdict::Skip, None, Some(why.clone())),
        Err(Stop::Error(why)) => (Verdict::Error, None, Some(why.clone())),
    };
    if let Some(why) = options.expected_failures.get(case.id) {
        match verdict {
            Verdict::Fail | Verdict::Warn => {
                verdict = Verdict::Xfail;
                reason = Some(if why.is_empty() {
                    "listed in the expected-failures file".to_owned()
                } else {
                    why.clone()
                });
            }
            Verdict::Pass => {
                verdict = Verdict::Xpass;
                reason = Some(
                    "passes, but the expected-failures file lists it: remove the stale entry".to_owned(),
                );
                failure = None;
            }
            _ => {}
        }
    }
    CaseResult {
        id: case.id.to_owned(),
        title: case.title.to_owned(),
        covers: case.covers.iter().map(|s| (*s).to_owned()).collect(),
        tags: case.tags.iter().map(|s| (*s).to_owned()).collect(),
        verdict,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        failure,
        reason,
        transcript: transcript.lines(),
        rerun: format!(
            "{} --run {} --seed {}{}",
            options.rerun_base, case.id, options.seed, options.rerun_tail
        ),
    }
}

/// How late the harness's timers may fire before its own timing is in doubt.
const LAG_LIMIT: Duration = Duration::from_millis(500);

/// Measures how late the harness's timers fire while a case runs: a ticker that expects to
/// wake every 50 ms and records the worst delay, counting at the end the tick still overdue.
struct HarnessLag {
    shared: Arc<LagClock>,
    ticker: tokio::task::JoinHandle<()>,
}

struct LagClock {
    base: Instant,
    /// When the ticker last went to sleep, in ms since `base`.
    asked_ms: std::sync::atomic::AtomicU64,
    worst_ms: std::sync::atomic::AtomicU64,
}

impl LagClock {
    fn since_base(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How late the tick asked for at `asked_ms` is, at this moment.
    fn overdue(&self, asked_ms: u64) -> u64 {
        self.since_base().saturating_sub(asked_ms).saturating_sub(HarnessLag::TICK_MS)
    }
}

impl HarnessLag {
    const TICK_MS: u64 = 50;

    fn watch() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        let shared = Arc::new(LagClock {
            base: Instant::now(),
            asked_ms: AtomicU64::new(0),
            worst_ms: AtomicU64::new(0),
        });
        let clock = shared.clone();
        // The first tick is due 50 ms after now, whenever the ticker first gets to run.
        let ticker = tokio::spawn(async move {
            loop {
                let asked = clock.asked_ms.load(Relaxed);
                let due = clock.base + Duration::from_millis(asked + Self::TICK_MS);
                tokio::time::sleep_until(due.into()).await;
                clock.worst_ms.fetch_max(clock.overdue(asked), Relaxed);
                clock.asked_ms.store(clock.since_base(), Relaxed);
            }
        });
        Self { shared, ticker }
    }

    /// Stops watching; the worst delay seen.
    fn stop(self) -> Duration {
        use std::sync::atomic::Ordering::Relaxed;
        self.ticker.abort();
        let pending = self.shared.overdue(self.shared.asked_ms.load(Relaxed));
        Duration::from_millis(self.shared.worst_ms.load(Relaxed).max(pending))
    }
}

/// The process exit code for a run (see `cim-conformance --help`).
pub fn exit_code(run: &Run) -> u8 {
    let has = |v: Verdict| run.results.iter().any(|r| r.verdict == v);
    if has(Verdict::Fail) || has(Verdict::Xpass) {
        1
    } else if has(Verdict::Error) {
        3
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Cx, Stop, check};

    async fn fails(_cx: &mut Cx) -> Result<(), Stop> {
        check("CIM-4.1-1", false, "something", || "something else".into())
    }

    async fn fails_while_the_harness_is_starved(_cx: &mut Cx) -> Result<(), Stop> {
        // Blocks the runtime's only thread, as a machine too busy to run the harness would.
        std::thread::sleep(Duration::from_millis(900));
        check("CIM-4.1-1", false, "something", || "something else".into())
    }

    async fn fails_after_a_429(cx: &mut Cx) -> Result<(), Stop> {
        // What the route client records when the route answers 429.
        cx.transcript.rate_limited();
        check("CIM-4.1-1", false, "something", || "something else".into())
    }

    static CASES: std::sync::LazyLock<Vec<Case>> = std::sync::LazyLock::new(|| {
        vec![
            crate::case!("test.fails", "fails", covers: ["CIM-4.1-1"], tags: [], budget: 20, fails),
            crate::case!("test.rate-limited", "fails after a 429", covers: ["CIM-4.1-1"], tags: [], budget: 20, fails_after_a_429),
            crate::case!("test.starved", "fails late", covers: ["CIM-4.1-1"], tags: [], budget: 20, fails_while_the_harness_is_starved),
        ]
    });

    fn options() -> RunOptions {
        RunOptions {
            target: Target { route: "http://127.0.0.1:9".into(), ..Target::default() },
            seed: 1,
            shuffle: false,
            jobs: 1,
            timeout_scale: 1.0,
            strict: false,
            expected_failures: BTreeMap::new(),
            rerun_base: String::new(),
            rerun_tail: String::new(),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn failures_the_harness_brought_about_are_its_errors() {
        let selected: Vec<&'static Case> = CASES.iter().collect();
        let run = run(&CASES, &selected, &options(), |_| {}).await;
        let verdicts: Vec<(&str, Verdict)> = run.results.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
        assert_eq!(
            verdicts,
            [
                ("test.fails", Verdict::Fail),
                ("test.rate-limited", Verdict::Error),
                ("test.starved", Verdict::Error)
            ]
        );
        let reason = run.results[1].reason.as_deref().unwrap_or_default();
        assert!(reason.contains("429") && reason.contains("--registrations-per-address 0"), "{reason}");
        let reason = run.results[2].reason.as_deref().unwrap_or_default();
        assert!(reason.contains("late") && reason.contains("CIM-4.1-1"), "{reason}");
    }
}
