//! Choosing cases: `--run`/`--skip` patterns and the expected-failures file.

use std::collections::BTreeMap;

use crate::case::Case;

/// Whether a pattern selects a case: a case id or glob (`server.inbox.*`), a requirement id or
/// glob (`CIM-8.4-*`), or a tag (`robustness`, or `tag:robustness`).
pub fn matches(pattern: &str, case: &Case) -> bool {
    if let Some(tag) = pattern.strip_prefix("tag:") {
        return case.tags.contains(&tag);
    }
    glob(pattern, case.id) || case.covers.iter().any(|r| glob(pattern, r)) || case.tags.contains(&pattern)
}

/// `*` matches any run of characters, `?` one character; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The cases that `--run` (all when empty) and `--skip` select, in catalog order.
pub fn select<'a>(catalog: &'a [Case], run: &[String], skip: &[String]) -> Vec<&'a Case> {
    catalog
        .iter()
        .filter(|case| run.is_empty() || run.iter().any(|p| matches(p, case)))
        .filter(|case| !skip.iter().any(|p| matches(p, case)))
        .collect()
}

/// The expected-failures file: one case id per line, optionally followed by `#` and a reason;
/// blank lines and lines starting with `#` are ignored.
pub fn parse_expected_failures(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut entries = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once('#').map_or((line, ""), |(id, reason)| (id.trim(), reason.trim()));
        if id.contains(char::is_whitespace) {
            return Err(format!(
                "line {}: expected a case id, then optionally `# reason`: {line:?}",
                number + 1
            ));
        }
        entries.insert(id.to_owned(), reason.to_owned());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shells() {
        assert!(glob("server.*", "server.inbox.resume"));
        assert!(glob("CIM-8.4-?", "CIM-8.4-5"));
        assert!(!glob("CIM-8.4-?", "CIM-8.4-10"));
        assert!(glob("*resume*", "server.inbox.resume-gap"));
        assert!(!glob("server.inbox", "server.inbox.resume"));
    }

    #[test]
    fn expected_failures_take_comments_and_reasons() {
        let parsed =
            parse_expected_failures("# known\nserver.a.b  # issue 12\n\nserver.c\n").unwrap_or_default();
        assert_eq!(parsed.get("server.a.b").map(String::as_str), Some("issue 12"));
        assert_eq!(parsed.get("server.c").map(String::as_str), Some(""));
        assert!(parse_expected_failures("two words").is_err());
    }
}
