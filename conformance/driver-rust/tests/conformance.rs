//! The Rust SDK passes the client cases of cim-conformance, driven through this crate's driver.
//! The slow ones (timers of 10 to 30 s) are left to `scripts/test.sh`, which runs every client
//! case through the cim-conformance binary.

use cim_conformance::case::Target;
use cim_conformance::runner::{self, RunOptions};
use cim_conformance::verdict::Verdict;
use cim_conformance::{cases, select};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_passes_every_quick_client_case() {
    let catalog = cases::catalog();
    let selected = select::select(catalog, &["client.*".to_owned()], &["tag:slow".to_owned()]);
    assert!(selected.len() >= 10, "the client cases are selected");
    let options = RunOptions {
        target: Target {
            driver: Some(vec![env!("CARGO_BIN_EXE_cim-sdk-driver").to_owned()]),
            ..Target::default()
        },
        seed: 5,
        shuffle: true,
        jobs: 4,
        timeout_scale: 1.0,
        strict: false,
        expected_failures: select::parse_expected_failures(include_str!("../expected-failures.txt"))
            .unwrap_or_default(),
        rerun_base: "cim-conformance client".to_owned(),
        rerun_tail: String::new(),
    };
    let run = runner::run(catalog, &selected, &options, |_| {}).await;
    let bad: Vec<String> = run
        .results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Xfail))
        .map(|r| format!("{} {:?} {:?} {:?}", r.id, r.verdict, r.failure, r.reason))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}
