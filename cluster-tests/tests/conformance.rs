//! The conformance suite against a cluster: one route and three servers over a real Redis and
//! ZooKeeper, users spread over the servers round robin, so that most cases cross servers.
//! The JUnit report is written to `cluster-conformance-junit.xml` in the test's temporary
//! directory.

mod support;

use std::collections::BTreeMap;

use cim_conformance::case::Target;
use cim_conformance::report::{Report, junit};
use cim_conformance::runner::{self, RunOptions};
use cim_conformance::verdict::Verdict;
use cim_conformance::{cases, coverage, select, spec};
use support::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_and_zookeeper_cluster_passes_the_conformance_suite() {
    let cluster = Cluster::start(3).await;
    let catalog = cases::catalog();
    let selected = select::select(catalog, &[], &["client.*".to_owned()]);
    let options = RunOptions {
        target: Target {
            route: cluster.route_url().to_owned(),
            route_grpc: Some(cluster.route_grpc_url().to_owned()),
            token_secret: Some(support::TOKEN_SECRET.to_owned()),
            api_key: Some(support::API_KEY.to_owned()),
            jwt_secret: Some(support::JWT_SECRET.to_owned()),
            ..Target::default()
        },
        seed: 11,
        shuffle: false,
        jobs: 8,
        timeout_scale: 1.0,
        strict: false,
        expected_failures: BTreeMap::new(),
        rerun_base: format!(
            "cim-conformance server --route {} --route-grpc {} --token-secret \"$CIM_TOKEN_SECRET\" \
             --api-key \"$CIM_API_KEY\" --jwt-secret \"$CIM_JWT_SECRET\"",
            cluster.route_url(),
            cluster.route_grpc_url()
        ),
        rerun_tail: String::new(),
    };
    let run = runner::run(catalog, &selected, &options, |_| {}).await;
    let report = Report::new(
        "server",
        cluster.route_url().to_owned(),
        11,
        false,
        &run,
        coverage::by_section(&selected, &[spec::Role::Server]),
    );
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cluster-conformance-junit.xml");
    let _ = std::fs::write(&path, junit::render(&report));
    let style = cim_conformance::report::console::Style::plain();
    let summary = cim_conformance::report::console::summary(style, &report, true);
    println!("{summary}");
    let bad: Vec<&str> = run
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| r.id.as_str())
        .collect();
    assert!(bad.is_empty(), "cases that failed against the cluster: {bad:?}\n{summary}");
    // With every secret given, only what the cluster does not offer is n/a: TLS.
    let not_applicable: Vec<&str> =
        run.results.iter().filter(|r| r.verdict == Verdict::NotApplicable).map(|r| r.id.as_str()).collect();
    assert_eq!(not_applicable, ["server.tls.version"], "{summary}");
}
