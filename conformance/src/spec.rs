//! The specification as data: requirements by id and error codes by name, read from `cim-spec`
//! (the text of `spec/v1/`), not from any implementation.

use std::collections::HashMap;
use std::sync::OnceLock;

pub use cim_spec::{Level, Requirement, Role};

fn requirements() -> &'static (Vec<Requirement>, HashMap<String, usize>) {
    static REQUIREMENTS: OnceLock<(Vec<Requirement>, HashMap<String, usize>)> = OnceLock::new();
    REQUIREMENTS.get_or_init(|| {
        let list = cim_spec::requirements_v1();
        let index = list.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        (list, index)
    })
}

/// Every v1 requirement, in document order.
pub fn all() -> &'static [Requirement] {
    &requirements().0
}

/// One requirement by id.
pub fn requirement(id: &str) -> Option<&'static Requirement> {
    let (list, index) = requirements();
    index.get(id).map(|&i| &list[i])
}

/// The section of a requirement id: `CIM-4.2-3` → `4.2`.
pub fn section_of(id: &str) -> &str {
    let rest = id.strip_prefix("CIM-").unwrap_or(id);
    rest.rsplit_once('-').map_or(rest, |(section, _)| section)
}

fn registry() -> &'static HashMap<String, u32> {
    static REGISTRY: OnceLock<HashMap<String, u32>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        cim_spec::error_registry(cim_spec::PROTOCOL_V1).into_iter().map(|e| (e.name, e.code)).collect()
    })
}

/// The code of a registry name such as `UNEXPECTED_FRAME`.
///
/// # Panics
/// When the name is not in the registry: cases name codes as literals, so that is a defect of
/// the case, caught by the unit test that runs every case's code list.
pub fn code(name: &str) -> u32 {
    match registry().get(name) {
        Some(&code) => code,
        None => panic!("{name} is not in the error registry of spec/v1/protocol.md"),
    }
}

/// The registry name of a code, when it has one.
pub fn code_name(code: u32) -> Option<&'static str> {
    registry().iter().find(|(_, c)| **c == code).map(|(name, _)| name.as_str())
}

/// The table of §14.6: error name → the HTTP status the route answers it with.
pub fn route_error_statuses() -> &'static HashMap<String, u16> {
    static TABLE: OnceLock<HashMap<String, u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let text = cim_spec::PROTOCOL_V1;
        let section = text.split("### 14.6 Errors").nth(1).unwrap_or_default();
        let mut table = HashMap::new();
        for line in section.lines().skip_while(|l| !l.starts_with("| Codes")).skip(2) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(names), Some(status)) =
                (cells.get(1), cells.get(2).and_then(|s| s.parse::<u16>().ok()))
            else {
                break;
            };
            for name in names.split(',') {
                table.insert(name.trim().to_owned(), status);
            }
        }
        table
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_requirements_come_from_the_spec() {
        assert_eq!(code("UNEXPECTED_FRAME"), 1004);
        assert_eq!(code_name(2001), Some("TOKEN_EXPIRED"));
        assert_eq!(section_of("CIM-10.3-2"), "10.3");
        assert!(requirement("CIM-4.1-1").is_some_and(|r| r.level == Level::Must));
        let statuses = route_error_statuses();
        assert_eq!(statuses.get("INVALID_CREDENTIALS"), Some(&401));
        assert_eq!(statuses.get("SHUTTING_DOWN"), Some(&503));
        assert_eq!(statuses.len(), 16);
    }
}
