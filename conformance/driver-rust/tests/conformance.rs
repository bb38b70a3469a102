//! The Rust SDK passes the client cases of cim-conformance, driven through this crate's driver.
//! The slow ones (timers of 10 to 30 s) are left to `scripts/test.sh`, which runs every client
//! case through the cim-conformance binary.

use cim_conformance::case::{Driver, Target};
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
            driver: Some(Driver::Command(vec![env!("CARGO_BIN_EXE_cim-sdk-driver").to_owned()])),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_that_connects_is_served_case_after_case_and_stops_with_the_harness() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let addr = listener.local_addr().expect("address");
    let mut driver = tokio::process::Command::new(env!("CARGO_BIN_EXE_cim-sdk-driver"))
        .env("CIM_CONFORMANCE_CONNECT", addr.to_string())
        .kill_on_drop(true)
        .spawn()
        .expect("driver starts");
    let catalog = cases::catalog();
    let wanted = ["client.handshake.hello", "client.send.acked", "client.secrets.token-not-logged"];
    let selected = select::select(catalog, &wanted.map(str::to_owned), &[]);
    let options = RunOptions {
        target: Target { driver: Some(Driver::Listen(std::sync::Arc::new(listener))), ..Target::default() },
        seed: 9,
        shuffle: false,
        jobs: 1,
        timeout_scale: 1.0,
        strict: false,
        expected_failures: Default::default(),
        rerun_base: format!("cim-conformance client --listen {addr}"),
        rerun_tail: String::new(),
    };
    let run = runner::run(catalog, &selected, &options, |_| {}).await;
    let verdicts: Vec<(&str, Verdict)> = run.results.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
    assert_eq!(verdicts.len(), 3);
    assert!(verdicts.iter().all(|(_, v)| *v == Verdict::Pass), "{verdicts:?}");
    // The token case asked for logs: they came back as `log` events (spec DRV-1-9).
    let logged =
        run.results.iter().find(|r| r.id == wanted[2]).map(|r| r.transcript.clone()).unwrap_or_default();
    assert!(logged.iter().any(|line| line.text.contains("\"event\":\"log\"")), "{logged:?}");
    // With the harness gone the driver's next connection is refused, and it stops.
    drop(options);
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), driver.wait()).await;
    assert!(matches!(status, Ok(Ok(s)) if s.success()), "{status:?}");
}
