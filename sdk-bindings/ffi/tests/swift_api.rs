//! The public API of the generated Swift package, as a snapshot: a change to `cim-ffi` that
//! changes what Swift users see shows in review as a diff of `snapshots/swift_api__*.snap`.
//! (CI has no Swift toolchain; scripts/test.sh regenerates `Cim.swift` and fails when it
//! differs from the committed file, so this snapshot reads the current API.)

/// The declarations of `Cim.swift` a Swift user calls: public and open members and the cases
/// of public enums, without uniffi's own plumbing.
fn public_api(swift: &str) -> String {
    let plumbing = [
        "FfiConverter",
        "uniffi",
        "NoHandle",
        "noHandle",
        "func lift",
        "func lower",
        "func read(",
        "func write(",
    ];
    let mut api = Vec::new();
    let mut in_public_enum = false;
    for line in logical_lines(swift) {
        let trimmed = line.trim();
        if trimmed.starts_with("public enum ") {
            in_public_enum = true;
        } else if trimmed.starts_with("public ") || trimmed.starts_with("open ") || trimmed == "}" {
            in_public_enum &= trimmed != "}";
        }
        let declaration = trimmed.starts_with("public ") || trimmed.starts_with("open ");
        let enum_case = in_public_enum
            && trimmed.starts_with("case ")
            && !trimmed.ends_with(':')
            && trimmed.chars().nth(5).is_some_and(|c| c.is_ascii_alphabetic());
        if !(declaration || enum_case) || plumbing.iter().any(|p| trimmed.contains(p)) {
            continue;
        }
        let signature = trimmed.trim_end_matches('{').split("{try").next().unwrap_or(trimmed);
        api.push(signature.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    api.join("\n")
}

/// The lines of `swift` without doc comments, a declaration split over lines (after `public`,
/// an open parenthesis or a comma) joined into one.
fn logical_lines(swift: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = swift;
    while let Some(start) = rest.find("/**") {
        text.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match lines.last_mut() {
            Some(last)
                if last == "public"
                    || last.ends_with('(')
                    || last.ends_with(',')
                    || line.starts_with(')') =>
            {
                last.push(' ');
                last.push_str(line);
            }
            _ => lines.push(line.to_owned()),
        }
    }
    lines
}

#[test]
fn the_swift_api_is_what_the_snapshot_shows() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../swift/Sources/Cim/Cim.swift");
    let swift = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    insta::assert_snapshot!(public_api(&swift));
}
