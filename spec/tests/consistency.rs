//! The v1 document and requirements.toml agree, and the spec is as big as promised.

use cim_spec::{PROTOCOL_V1, REQUIREMENTS_V1, Role, check_consistency, error_registry, requirements_v1};

#[test]
fn document_and_requirement_list_agree() {
    let problems = check_consistency(PROTOCOL_V1, REQUIREMENTS_V1);
    assert!(
        problems.is_empty(),
        "spec/v1/protocol.md and requirements.toml disagree ({} problems; regenerate with \
         `python3 scripts/gen_requirements.py`):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn v1_has_at_least_sixty_requirements_for_clients_and_servers() {
    let requirements = requirements_v1();
    assert!(requirements.len() >= 60, "only {} requirements", requirements.len());
    for role in [Role::Client, Role::Server, Role::Route] {
        assert!(requirements.iter().any(|r| r.roles.contains(&role)), "nothing binds {role:?}");
    }
}

#[test]
fn error_registry_table_is_present_and_ordered() {
    let registry = error_registry(PROTOCOL_V1);
    assert!(registry.len() >= 20, "registry has {} rows", registry.len());
    assert!(registry.windows(2).all(|w| w[0].code < w[1].code), "codes ascend and are unique");
    for entry in &registry {
        assert!(["No", "After", "Relogin"].contains(&entry.retry.as_str()), "{entry:?}");
    }
}
