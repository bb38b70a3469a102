//! Mutants prove that the cases can fail: each deliberately broken variant of the reference
//! deployment must fail at least one case. The table of which cases catch which mutant is
//! printed and written to `mutants.json` in the test's temporary directory.

mod support;

use std::collections::BTreeMap;

use cim_conformance::case::Target;
use cim_conformance::runner::{self, RunOptions};
use cim_conformance::verdict::Verdict;
use cim_conformance::{cases, select};
use support::proxy::WireMutant;
use support::store::StoreMutant;
use support::{Deployment, Mutant};

const MUTANTS: &[(&str, Mutant)] = &[
    ("skips the inbox write", Mutant::Store(StoreMutant::SkipsInboxWrite)),
    ("forgets client message ids", Mutant::Store(StoreMutant::NoDedupe)),
    ("reads the inbox newest first", Mutant::Store(StoreMutant::ReversedInbox)),
    ("changes the epoch on every read", Mutant::Store(StoreMutant::EpochEveryTime)),
    ("shares acknowledgements between devices", Mutant::Store(StoreMutant::SharedAcks)),
    ("wrong error codes", Mutant::Wire(WireMutant::WrongErrorCodes)),
    ("accepts frames before Welcome", Mutant::Wire(WireMutant::AcceptsFramesBeforeWelcome)),
    ("ignores heartbeats", Mutant::Wire(WireMutant::IgnoresHeartbeats)),
    ("reorders deliveries", Mutant::Wire(WireMutant::ReordersDeliveries)),
    ("talks after a fatal Error", Mutant::Wire(WireMutant::TalksAfterFatalError)),
    ("acks before storing", Mutant::Wire(WireMutant::AcksBeforeStoring)),
    ("says FRESH where it resumed", Mutant::Wire(WireMutant::WrongResumeOutcome)),
];

/// The cases that fail against one mutant.
async fn caught_by(mutant: Mutant) -> Vec<String> {
    let deployment = Deployment::start(mutant).await;
    let catalog = cases::catalog();
    let selected = select::select(catalog, &[], &["client.*".to_owned()]);
    let options = RunOptions {
        target: Target {
            route: deployment.route_url(),
            route_grpc: Some(deployment.route_grpc_url()),
            server: Some(deployment.server_addr()),
            token_secret: Some(support::TOKEN_SECRET.to_owned()),
            api_key: Some(support::API_KEY.to_owned()),
            jwt_secret: Some(support::JWT_SECRET.to_owned()),
            ..Target::default()
        },
        seed: 7,
        shuffle: false,
        jobs: 16,
        timeout_scale: 1.0,
        strict: false,
        expected_failures: BTreeMap::new(),
        rerun_base: String::new(),
        rerun_tail: String::new(),
    };
    let run = runner::run(catalog, &selected, &options, |_| {}).await;
    deployment.stop().await;
    run.results
        .into_iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| {
            let requirement = r.failure.map(|f| f.requirement).unwrap_or_default();
            format!("{} ({requirement})", r.id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutant_is_caught_by_a_case() {
    let mut table = BTreeMap::new();
    // A few at a time: each runs the whole catalog against its own deployment.
    for chunk in MUTANTS.chunks(6) {
        let results = futures_util::future::join_all(
            chunk.iter().map(|(name, mutant)| async move { (*name, caught_by(*mutant).await) }),
        )
        .await;
        table.extend(results);
    }
    // Six deployments at once load two cores enough for a case to time out (an error, not a
    // catch): a mutant nothing caught gets a second run on its own before it counts as missed.
    for (name, mutant) in MUTANTS {
        if table.get(name).is_some_and(Vec::is_empty) {
            table.insert(*name, caught_by(*mutant).await);
        }
    }
    let mut report = String::new();
    for (name, cases) in &table {
        report.push_str(&format!("{name}: caught by {} case(s)\n", cases.len()));
        for case in cases {
            report.push_str(&format!("    {case}\n"));
        }
    }
    println!("{report}");
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mutants.json");
    let _ = std::fs::write(&path, serde_json::to_string_pretty(&table).unwrap_or_default());
    let missed: Vec<&&str> =
        table.iter().filter(|(_, cases)| cases.is_empty()).map(|(name, _)| name).collect();
    assert!(missed.is_empty(), "mutants no case caught: {missed:?}\n{report}");
}
