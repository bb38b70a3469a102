//! The catalog: every case, grouped by the part of the spec it checks.

mod client;
mod client_session;
mod client_wire;
mod framing;
mod handshake;
mod heartbeat;
mod inbox;
mod internal;
mod messaging;
mod robustness;
mod route_api;
mod route_grpc;
mod tokens;

use crate::case::Case;

/// Every case, in a fixed order (the order of the spec's sections).
pub fn catalog() -> &'static [Case] {
    static CATALOG: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut all = Vec::new();
        all.extend(framing::cases());
        all.extend(handshake::cases());
        all.extend(tokens::cases());
        all.extend(heartbeat::cases());
        all.extend(messaging::cases());
        all.extend(inbox::cases());
        all.extend(robustness::cases());
        all.extend(route_api::cases());
        all.extend(route_grpc::cases());
        all.extend(internal::cases());
        all.extend(client::cases());
        all.extend(client_wire::cases());
        all.extend(client_session::cases());
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_names_only_real_requirements_and_unique_ids() {
        let problems = crate::coverage::catalog_problems(catalog());
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
