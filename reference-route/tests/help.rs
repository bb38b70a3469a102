//! `cim-route --help` documents every option; the snapshot shows changes in review.

#[test]
fn help_documents_every_option() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cim-route"))
        .arg("--help")
        .env_clear()
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("[env: CIM_"), "options name their environment variables");
    insta::assert_snapshot!(help);
}
