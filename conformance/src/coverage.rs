//! Requirement coverage: which requirements the cases check, and why the others cannot be.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::case::Case;
use crate::spec::{self, Role};

/// `untestable.toml`: requirements no case can check, each with its reason.
pub const UNTESTABLE_TOML: &str = include_str!("../untestable.toml");

/// Requirement id → why no case can check it, for one role (`server`, `client`, `route`).
pub fn untestable(role: Role) -> BTreeMap<String, String> {
    let key = role_name(role);
    toml::from_str::<BTreeMap<String, BTreeMap<String, String>>>(UNTESTABLE_TOML)
        .ok()
        .and_then(|mut tables| tables.remove(key))
        .unwrap_or_default()
}

/// The role's name in files and flags.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Client => "client",
        Role::Route => "route",
        _ => "server",
    }
}

/// Coverage of one section of the spec.
#[derive(Clone, Debug, Serialize)]
pub struct SectionCoverage {
    /// E.g. `8.4`.
    pub section: String,
    /// Its MUST and MUST NOT requirements for the roles looked at.
    pub mandatory: usize,
    /// How many of those a case covers.
    pub covered: usize,
    /// How many carry an `untestable` reason.
    pub untestable: usize,
    /// The ones neither covered nor justified.
    pub missing: Vec<String>,
    /// SHOULD and MAY requirements a case covers, of all in the section.
    pub optional_covered: usize,
    /// SHOULD and MAY requirements in the section.
    pub optional: usize,
}

/// Coverage per section, in document order, of the requirements that bind `roles`.
pub fn by_section(cases: &[&Case], roles: &[Role]) -> Vec<SectionCoverage> {
    let covered: BTreeSet<&str> = cases.iter().flat_map(|c| c.covers.iter().copied()).collect();
    let tables: Vec<(Role, BTreeMap<String, String>)> = roles.iter().map(|r| (*r, untestable(*r))).collect();
    // Justified when every role looked at that the requirement binds gives a reason.
    let justified = |requirement: &spec::Requirement| {
        let mut bound = tables.iter().filter(|(role, _)| requirement.roles.contains(role)).peekable();
        bound.peek().is_some() && bound.all(|(_, table)| table.contains_key(&requirement.id))
    };
    let mut sections: Vec<SectionCoverage> = Vec::new();
    for requirement in spec::all() {
        if !requirement.roles.iter().any(|r| roles.contains(r)) {
            continue;
        }
        let section = spec::section_of(&requirement.id).to_owned();
        if sections.last().is_none_or(|s| s.section != section) {
            sections.push(SectionCoverage {
                section,
                mandatory: 0,
                covered: 0,
                untestable: 0,
                missing: Vec::new(),
                optional_covered: 0,
                optional: 0,
            });
        }
        let Some(entry) = sections.last_mut() else { continue };
        let is_covered = covered.contains(requirement.id.as_str());
        if requirement.level.is_mandatory() {
            entry.mandatory += 1;
            if is_covered {
                entry.covered += 1;
            } else if justified(requirement) {
                entry.untestable += 1;
            } else {
                entry.missing.push(requirement.id.clone());
            }
        } else {
            entry.optional += 1;
            entry.optional_covered += usize::from(is_covered);
        }
    }
    sections
}

/// Problems with the catalog itself: cases that cover ids the spec does not have, untestable
/// entries for ids that do not exist or that a case covers anyway.
pub fn catalog_problems(catalog: &[Case]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for case in catalog {
        if !ids.insert(case.id) {
            problems.push(format!("case id {} is used twice", case.id));
        }
        for id in case.covers {
            if spec::requirement(id).is_none() {
                problems
                    .push(format!("{} covers {id}, which spec/v1/requirements.toml does not have", case.id));
            }
        }
    }
    // Server-mode cases speak for the server and the route, client-mode cases for the client.
    let covered_by = |client_mode: bool| -> BTreeSet<&str> {
        catalog
            .iter()
            .filter(|c| c.id.starts_with("client.") == client_mode)
            .flat_map(|c| c.covers.iter().copied())
            .collect()
    };
    for role in [Role::Server, Role::Client, Role::Route] {
        let name = role_name(role);
        let covered = covered_by(role == Role::Client);
        for id in untestable(role).keys() {
            match spec::requirement(id) {
                None => problems.push(format!(
                    "untestable.toml [{name}] lists {id}, which spec/v1/requirements.toml does not have"
                )),
                Some(r) if !r.roles.contains(&role) => problems
                    .push(format!("untestable.toml [{name}] lists {id}, which does not bind the {name}")),
                Some(_) if covered.contains(id.as_str()) => {
                    problems.push(format!(
                        "untestable.toml [{name}] lists {id}, but a case covers it: remove the entry"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    problems
}
