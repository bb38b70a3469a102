//! The cim protocol specification as data: the requirements of `spec/v1/protocol.md` with
//! their stable ids, and the error registry.
//!
//! The conformance harness uses this to name the clause behind every case, and the tests of
//! this crate keep the document and `requirements.toml` in agreement.
#![forbid(unsafe_code)]

mod document;
mod id;

use std::fmt;

use serde::Deserialize;

pub use document::{DocumentRequirement, RegistryEntry, check_consistency, error_registry, parse_document};
pub use id::{RequirementId, RequirementIdError};

/// The v1 protocol document.
pub const PROTOCOL_V1: &str = include_str!("../v1/protocol.md");

/// The v1 requirement list.
pub const REQUIREMENTS_V1: &str = include_str!("../v1/requirements.toml");

/// How strongly a requirement binds (BCP 14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[non_exhaustive]
pub enum Level {
    /// An absolute requirement.
    #[serde(rename = "MUST")]
    Must,
    /// An absolute prohibition.
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// A recommendation.
    #[serde(rename = "SHOULD")]
    Should,
    /// A recommendation against.
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    /// Truly optional.
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    /// The key word as written in the document.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::MustNot => "MUST NOT",
            Self::Should => "SHOULD",
            Self::ShouldNot => "SHOULD NOT",
            Self::May => "MAY",
        }
    }

    /// Whether failing it makes an implementation non-conforming.
    pub fn is_mandatory(self) -> bool {
        matches!(self, Self::Must | Self::MustNot)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// Who a requirement binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// A client of the long-connection protocol.
    Client,
    /// A long-connection server.
    Server,
    /// The route (login, assignment, route API).
    Route,
}

/// One normative statement.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Requirement {
    /// Stable id, e.g. `CIM-4.1-1`.
    pub id: String,
    /// Its key word.
    pub level: Level,
    /// Who it binds.
    pub roles: Vec<Role>,
    /// The sentence, whitespace collapsed.
    pub text: String,
}

#[derive(Deserialize)]
struct RequirementsFile {
    requirement: Vec<Requirement>,
}

/// Why the requirement list could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The TOML does not have the expected shape.
    #[error("requirements.toml: {0}")]
    Toml(#[from] toml::de::Error),
}

/// Parses a `requirements.toml`.
pub fn parse_requirements(toml_text: &str) -> Result<Vec<Requirement>, SpecError> {
    Ok(toml::from_str::<RequirementsFile>(toml_text)?.requirement)
}

/// The requirements of protocol v1, in document order.
pub fn requirements_v1() -> Vec<Requirement> {
    // The file is compiled in and checked by this crate's tests, so failure is a build defect.
    parse_requirements(REQUIREMENTS_V1).unwrap_or_default()
}

/// One requirement of v1 by id.
pub fn requirement_v1(id: &str) -> Option<Requirement> {
    requirements_v1().into_iter().find(|r| r.id == id)
}
