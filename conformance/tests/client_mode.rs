//! Client mode fails a client that does nothing, and says why.

use std::process::Command;

#[test]
fn a_driver_that_never_connects_fails_the_client_cases() {
    let driver = r#"echo '{"event":"ready"}'; cat >/dev/null"#;
    let output = Command::new(env!("CARGO_BIN_EXE_cim-conformance"))
        .args(["client", "--run", "client.handshake.hello,client.send.acked", "--", "sh", "-c", driver])
        .output()
        .expect("cim-conformance runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("CIM-4.1-1 (MUST)") && stdout.contains("no connection"), "{stdout}");
    assert!(
        stdout.contains("rerun:    cim-conformance client --run client.handshake.hello --seed "),
        "{stdout}"
    );
    assert!(stdout.contains(" -- sh -c "), "the rerun command ends with the driver: {stdout}");
}

#[test]
fn a_driver_that_cannot_start_is_an_error_not_a_failure() {
    let output = Command::new(env!("CARGO_BIN_EXE_cim-conformance"))
        .args(["client", "--run", "client.handshake.hello", "--", "/nonexistent/driver"])
        .output()
        .expect("cim-conformance runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("cannot start the driver"), "{stdout}");
}
