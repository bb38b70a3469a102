//! No secret printed in this repository's documents is accepted as a real one (spec §16):
//! whoever reads the README could otherwise forge tokens on a deployment that copied it.

use std::path::Path;

use cim_auth::secret::check_secret;

/// The options and variables that take a secret.
const MARKERS: &[&str] = &[
    "CIM_TOKEN_SECRET=",
    "CIM_JWT_SECRET=",
    "CIM_API_KEY=",
    "--token-secret ",
    "--jwt-secret ",
    "--api-key ",
];

/// Documents a newcomer copies from.
const DOCUMENTS: &[&str] = &[
    "README.md",
    "ARCHITECTURE.md",
    "BENCHMARKS.md",
    "spec/v1/protocol.md",
    "spec/v1/driver.md",
    "sdk-bindings/python/README.md",
    "sdk-bindings/kotlin/README.md",
    "sdk-bindings/swift/README.md",
];

/// Every literal value given to a secret option in `text`; shell variables, command
/// substitutions and placeholders in angle brackets are not literals.
fn literal_secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in MARKERS {
        for (at, _) in text.match_indices(marker) {
            let value: String = text[at + marker.len()..]
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '`' | ')'))
                .collect();
            if !value.is_empty() && !value.starts_with(['$', '<', '…']) && !value.starts_with("...") {
                found.push(value);
            }
        }
    }
    found
}

#[test]
fn every_secret_printed_in_the_documents_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for document in DOCUMENTS {
        let Ok(text) = std::fs::read_to_string(root.join(document)) else { continue };
        for secret in literal_secrets(&text) {
            assert!(check_secret(&secret).is_err(), "{document} shows {secret:?}, and cim would accept it");
            checked += 1;
        }
    }
    // The spec's example token secret is given as bytes; its hex form is what people type.
    assert!(check_secret("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").is_err());
    assert!(check_secret(&"a".repeat(32)).is_err());
    println!("{checked} literal secrets in the documents, all refused");
}

#[test]
fn literal_values_are_found_and_variables_are_not() {
    let text = "export CIM_TOKEN_SECRET=change-me-please-0123 x\n--api-key \"$KEY\" --jwt-secret 'abc'";
    assert_eq!(literal_secrets(text), vec!["change-me-please-0123".to_owned(), "abc".to_owned()]);
}
