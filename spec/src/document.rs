//! Reading the protocol document: its requirements, its error registry, and whether it
//! agrees with `requirements.toml`.

use std::collections::{BTreeMap, BTreeSet};

use crate::{RequirementId, parse_requirements};

/// A requirement as it stands in the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRequirement {
    /// The id as written.
    pub id: String,
    /// Number of the heading it stands under (`4.1`), if the heading is numbered.
    pub heading: Option<String>,
    /// The text after the id, whitespace collapsed, HTML comments removed.
    pub text: String,
    /// 1-based line of the id.
    pub line: usize,
}

/// One row of the error registry table (spec §11.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryEntry {
    /// Numeric code.
    pub code: u32,
    /// `UPPER_SNAKE` name.
    pub name: String,
    /// One-line meaning.
    pub meaning: String,
    /// `No`, `After` or `Relogin`.
    pub retry: String,
}

/// A block of text: a paragraph or a list item.
struct Block {
    heading: Option<String>,
    line: usize,
    text: String,
}

const KEYWORDS: [&str; 9] =
    ["MUST NOT", "MUST", "SHOULD NOT", "SHOULD", "MAY", "REQUIRED", "SHALL", "RECOMMENDED", "OPTIONAL"];

fn heading_number(line: &str) -> Option<Option<String>> {
    let title = line.strip_prefix('#')?.trim_start_matches('#').trim();
    let first = title.split_whitespace().next().unwrap_or("").trim_end_matches('.');
    let numbered =
        !first.is_empty() && first.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    Some(numbered.then(|| first.to_owned()))
}

fn strip_list_marker(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            return Some(rest);
        }
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return trimmed[digits..].strip_prefix(". ");
    }
    None
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits the document into paragraphs and list items, outside code fences and tables.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut heading = None;
    let mut current: Option<Block> = None;
    let mut in_fence = false;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            blocks.extend(current.take());
            continue;
        }
        if in_fence {
            continue;
        }
        if let Some(number) = heading_number(trimmed) {
            blocks.extend(current.take());
            heading = number;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('|') {
            blocks.extend(current.take());
            continue;
        }
        let body = match strip_list_marker(line) {
            Some(item) => {
                blocks.extend(current.take());
                item
            }
            None => trimmed,
        };
        match &mut current {
            Some(block) => {
                block.text.push(' ');
                block.text.push_str(body);
            }
            None => {
                current = Some(Block { heading: heading.clone(), line: index + 1, text: body.to_owned() })
            }
        }
    }
    blocks.extend(current);
    blocks
}

/// Requirement id at the start of a block: `[CIM-…] text`.
fn leading_id(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("[CIM-")?;
    let end = rest.find(']')?;
    Some((&text[1..end + 5], rest[end + 1..].trim_start()))
}

/// Every requirement the document defines, in order.
pub fn parse_document(markdown: &str) -> Vec<DocumentRequirement> {
    blocks(markdown)
        .into_iter()
        .filter_map(|block| {
            let (id, text) = leading_id(&block.text)?;
            Some(DocumentRequirement {
                id: id.to_owned(),
                heading: block.heading.clone(),
                text: collapse(&strip_comments(text)),
                line: block.line,
            })
        })
        .collect()
}

/// The key words in `text`, outside inline code, `MUST NOT` counted once (not also as `MUST`).
fn keywords(text: &str) -> Vec<&'static str> {
    let mut prose = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 0 {
            prose.push_str(part);
            prose.push(' ');
        }
    }
    let words: Vec<&str> =
        prose.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let pair = words.get(i + 1).map(|next| format!("{} {next}", words[i]));
        if let Some(k) = pair.as_deref().and_then(|p| KEYWORDS.iter().find(|k| **k == p)) {
            found.push(*k);
            i += 2;
        } else {
            if let Some(k) = KEYWORDS.iter().find(|k| **k == words[i]) {
                found.push(*k);
            }
            i += 1;
        }
    }
    found
}

/// Every way the document and the requirement list disagree, one line each; empty when
/// they agree.
pub fn check_consistency(markdown: &str, requirements_toml: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let in_doc = parse_document(markdown);
    let mut doc_ids = BTreeMap::new();
    for req in &in_doc {
        match req.id.parse::<RequirementId>() {
            Err(e) => problems.push(format!("line {}: {e}", req.line)),
            Ok(id) if Some(id.section_string()) != req.heading => problems.push(format!(
                "line {}: {} stands under heading {}",
                req.line,
                req.id,
                req.heading.as_deref().unwrap_or("(unnumbered)")
            )),
            Ok(_) => {}
        }
        if doc_ids.insert(req.id.clone(), req).is_some() {
            problems.push(format!("line {}: {} is defined twice in the document", req.line, req.id));
        }
        let found = keywords(&req.text);
        if found.len() != 1 {
            problems.push(format!("{}: expected exactly one key word, found {found:?}", req.id));
        }
    }
    for block in blocks(markdown) {
        let outside_conventions = block.heading.as_deref().is_some_and(|h| h != "1" && !h.starts_with("1."));
        if outside_conventions && leading_id(&block.text).is_none() && !keywords(&block.text).is_empty() {
            problems.push(format!(
                "line {}: key word outside a requirement: {}",
                block.line,
                collapse(&block.text)
            ));
        }
    }
    let listed = match parse_requirements(requirements_toml) {
        Ok(listed) => listed,
        Err(e) => {
            problems.push(e.to_string());
            return problems;
        }
    };
    let mut seen = BTreeSet::new();
    for req in &listed {
        if !seen.insert(req.id.as_str()) {
            problems.push(format!("{} is listed twice in requirements.toml", req.id));
        }
        if req.roles.is_empty() {
            problems.push(format!("{} binds no role", req.id));
        }
        let Some(doc) = doc_ids.get(&req.id) else {
            problems.push(format!("{} is in requirements.toml but not in the document", req.id));
            continue;
        };
        if collapse(&req.text) != doc.text {
            problems.push(format!(
                "{}: text differs\n  document: {}\n  toml:     {}",
                req.id, doc.text, req.text
            ));
        }
        if keywords(&doc.text) != [req.level.keyword()] {
            problems.push(format!(
                "{}: level {} but the text says {:?}",
                req.id,
                req.level,
                keywords(&doc.text)
            ));
        }
    }
    for req in &in_doc {
        if !seen.contains(req.id.as_str()) {
            problems.push(format!(
                "line {}: {} is in the document but not in requirements.toml",
                req.line, req.id
            ));
        }
    }
    let doc_order: Vec<&str> = in_doc.iter().map(|r| r.id.as_str()).filter(|id| seen.contains(id)).collect();
    let toml_order: Vec<&str> =
        listed.iter().map(|r| r.id.as_str()).filter(|id| doc_ids.contains_key(*id)).collect();
    if doc_order != toml_order {
        problems.push("requirements.toml is not in document order".to_owned());
    }
    for reference in references(markdown) {
        if !doc_ids.contains_key(&reference) {
            problems.push(format!("reference to undefined requirement {reference}"));
        }
    }
    problems
}

/// Every `CIM-…` id mentioned anywhere in the document.
fn references(markdown: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("CIM-") {
        let candidate: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        let candidate = candidate.trim_end_matches(['.', '-']).to_owned();
        if candidate.parse::<RequirementId>().is_ok() {
            out.insert(candidate);
        }
        rest = &rest[start + 4..];
    }
    out
}

/// The error registry table of spec §11.2 (between `<!-- registry:start -->` and
/// `<!-- registry:end -->`).
pub fn error_registry(markdown: &str) -> Vec<RegistryEntry> {
    let Some((_, after)) = markdown.split_once("<!-- registry:start -->") else { return Vec::new() };
    let table = after.split_once("<!-- registry:end -->").map_or(after, |(table, _)| table);
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            let [code, name, meaning, retry] = cells[..] else { return None };
            Some(RegistryEntry {
                code: code.parse().ok()?,
                name: name.trim_matches('`').to_owned(),
                meaning: meaning.to_owned(),
                retry: retry.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
## 4. Handshake

### 4.1 Start

- [CIM-4.1-1] The client MUST send `Hello`
  first. <!-- roles: client -->
- [CIM-4.1-2] The server MAY say hello.

Some prose, see CIM-4.1-1.

```
MUST in a code block is not normative
```
";
    const TOML: &str = r#"
[[requirement]]
id = "CIM-4.1-1"
level = "MUST"
roles = ["client"]
text = "The client MUST send `Hello` first."

[[requirement]]
id = "CIM-4.1-2"
level = "MAY"
roles = ["server"]
text = "The server MAY say hello."
"#;

    #[test]
    fn agreeing_document_and_list_have_no_problems() {
        assert_eq!(check_consistency(DOC, TOML), Vec::<String>::new());
        let parsed = parse_document(DOC);
        assert_eq!(parsed[0].text, "The client MUST send `Hello` first.");
        assert_eq!(parsed[0].heading.as_deref(), Some("4.1"));
    }

    fn problems_after(doc_edit: (&str, &str), toml_edit: (&str, &str)) -> Vec<String> {
        check_consistency(
            &DOC.replacen(doc_edit.0, doc_edit.1, 1),
            &TOML.replacen(toml_edit.0, toml_edit.1, 1),
        )
    }

    #[test]
    fn each_kind_of_disagreement_is_reported() {
        let cases = [
            (("[CIM-4.1-2]", "[CIM-4.1-1]"), ("", ""), "defined twice"),
            (("[CIM-4.1-2]", "[CIM-4.2-2]"), ("CIM-4.1-2", "CIM-4.2-2"), "stands under heading"),
            (("[CIM-4.1-2]", "[CIM-4.1-02]"), ("", ""), "malformed"),
            (("", ""), ("CIM-4.1-2", "CIM-4.1-3"), "not in the document"),
            (("first.", "first and last."), ("", ""), "text differs"),
            (("", ""), ("\"MAY\"", "\"SHOULD\""), "level SHOULD"),
            (("MAY say", "MAY and MUST say"), ("", ""), "exactly one key word"),
            (("Some prose", "Prose that MUST not be"), ("", ""), "key word outside"),
            (("see CIM-4.1-1", "see CIM-4.1-9"), ("", ""), "undefined requirement CIM-4.1-9"),
            (("", ""), ("roles = [\"server\"]", "roles = []"), "binds no role"),
        ];
        for (doc_edit, toml_edit, expected) in cases {
            let problems = problems_after(doc_edit, toml_edit);
            assert!(problems.iter().any(|p| p.contains(expected)), "{expected:?} not in {problems:?}");
        }
    }

    #[test]
    fn must_not_is_one_key_word() {
        assert_eq!(keywords("It MUST NOT do `MUST` things"), ["MUST NOT"]);
    }

    #[test]
    fn registry_rows_are_read() {
        let doc = "<!-- registry:start -->\n| Code | Name | Meaning | Retry |\n|---|---|---|---|\n| 1000 | MALFORMED_FRAME | Bad. | No |\n<!-- registry:end -->\n| 9 | X | y | No |";
        let rows = error_registry(doc);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "MALFORMED_FRAME");
        assert_eq!(rows[0].retry, "No");
    }
}
