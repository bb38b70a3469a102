//! The reference deployment (route and server on in-memory backends, as `cim up` runs them)
//! passes every case, over TCP and over WebSocket, and the reports come out whole.

mod support;

use std::process::Command;

use support::{Deployment, Mutant};

fn run_harness(args: Vec<String>) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cim-conformance"))
        .args(&args)
        .output()
        .expect("cim-conformance runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_deployment_passes_every_case_and_reports_in_every_format() {
    let deployment = Deployment::start(Mutant::None).await;
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance-reference");
    std::fs::create_dir_all(&dir).expect("report dir");
    let grpc = deployment.route_grpc_url();
    let (json, junit, html) = (dir.join("report.json"), dir.join("junit.xml"), dir.join("report.html"));
    let args: Vec<String> = [
        "server",
        "--route",
        &deployment.route_url(),
        "--token-secret",
        &support::TOKEN_SECRET,
        "--api-key",
        &support::API_KEY,
        "--route-grpc",
        &grpc,
        "--jwt-secret",
        &support::JWT_SECRET,
        "-j",
        "8",
        "--shuffle",
        "--json",
        &json.to_string_lossy(),
        "--junit",
        &junit.to_string_lossy(),
        "--html",
        &html.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, output) =
        tokio::task::spawn_blocking(move || run_harness(args)).await.expect("harness thread");
    println!("{output}");
    assert_eq!(code, 0, "the reference deployment must pass: {output}");
    assert!(output.contains("coverage of MUST and MUST NOT requirements, by section"), "coverage printed");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON written")).expect("JSON parses");
    assert_eq!(report["schema"], "cim-conformance-report");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["error"], 0);
    // With every secret given, only TLS is missing: the in-process deployment has none.
    let not_applicable: Vec<&str> = report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["verdict"] == "n/a")
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(not_applicable, ["server.tls.version"]);
    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(
        cases.len(),
        cim_conformance::cases::catalog().iter().filter(|c| !c.id.starts_with("client.")).count()
    );
    assert!(
        cases.iter().all(|c| c["transcript"].as_array().is_some_and(|t| !t.is_empty())),
        "every case has a transcript"
    );
    assert!(
        cases.iter().all(|c| c["rerun"].as_str().is_some_and(|r| r.contains("--seed"))),
        "every case has a rerun command"
    );

    let xml = std::fs::read_to_string(&junit).expect("JUnit written");
    assert!(
        xml.starts_with("<?xml") && xml.contains("<testsuites") && xml.contains("failures=\"0\""),
        "{xml:.400}"
    );
    assert_eq!(xml.matches("<testcase ").count(), cases.len());

    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    // One self-contained file: nothing fetched from elsewhere.
    for outside in ["<script", "src=", "<link", "url("] {
        assert!(!page.contains(outside), "the HTML report refers to something outside itself: {outside}");
    }
    assert_eq!(page.matches("<details").count(), cases.len());
    assert_eq!(page.matches("<details").count(), page.matches("</details>").count());
    deployment.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_deployment_passes_over_websocket() {
    let deployment = Deployment::start(Mutant::None).await;
    let args: Vec<String> = [
        "server",
        "--route",
        &deployment.route_url(),
        "-j",
        "8",
        "--transport",
        "websocket",
        "--skip",
        "tag:slow",
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, output) =
        tokio::task::spawn_blocking(move || run_harness(args)).await.expect("harness thread");
    println!("{output}");
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("n/a"), "TCP-only cases are n/a over WebSocket: {output}");
    deployment.stop().await;
}

#[test]
fn an_unreachable_route_exits_4_and_says_so() {
    let (code, output) = run_harness(vec!["server".into(), "--route".into(), "http://127.0.0.1:1".into()]);
    assert_eq!(code, 4, "{output}");
    assert!(output.contains("cannot reach the route at http://127.0.0.1:1"), "{output}");
}

#[test]
fn selection_matching_nothing_is_a_usage_error() {
    let (code, output) = run_harness(vec!["server".into(), "--run".into(), "no.such.case".into()]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("no case matches"), "{output}");
}

#[test]
fn explain_quotes_the_requirement_and_names_its_cases() {
    let (code, output) = run_harness(vec!["explain".into(), "CIM-4.2-3".into()]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("Hello.versions") && output.contains("server.handshake.unsupported-version"),
        "{output}"
    );
    let (code, output) = run_harness(vec!["explain".into(), "server.inbox.resume".into()]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("CIM-8.4-6 (MUST)") && output.contains("--run server.inbox.resume"), "{output}");
}
