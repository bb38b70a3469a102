//! `ErrorCode` and the spec's error registry (§11.2) list the same codes, names and retry
//! advice.

use cim_core::{ErrorCode, Retry};

#[test]
fn error_codes_match_the_spec_registry() {
    let registry = cim_spec::error_registry(cim_spec::PROTOCOL_V1);
    let in_spec: Vec<(u32, &str, &str)> =
        registry.iter().map(|e| (e.code, e.name.as_str(), e.retry.as_str())).collect();
    let in_code: Vec<(u32, &str, &str)> = ErrorCode::ALL
        .iter()
        .map(|code| {
            let retry = match code.retry() {
                Retry::No => "No",
                Retry::After => "After",
                Retry::Relogin => "Relogin",
            };
            (code.0, code.name().unwrap_or("?"), retry)
        })
        .collect();
    assert_eq!(in_code, in_spec);
    for entry in &registry {
        assert_eq!(ErrorCode(entry.code).description(), entry.meaning, "meaning of {}", entry.name);
    }
}
