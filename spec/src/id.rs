//! Requirement ids: `CIM-<section>-<n>`.

use std::fmt;
use std::str::FromStr;

/// A parsed requirement id such as `CIM-5.2-3`: section `5.2`, statement 3.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequirementId {
    /// Section number parts: `[5, 2]`.
    pub section: Vec<u32>,
    /// Statement number within the section, from 1.
    pub number: u32,
}

/// Why a string is not a requirement id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed requirement id {0:?}: expected CIM-<section>-<n>, like CIM-4.1-2")]
pub struct RequirementIdError(pub String);

fn number(part: &str) -> Option<u32> {
    let canonical = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && !part.starts_with('0');
    canonical.then(|| part.parse().ok()).flatten()
}

impl FromStr for RequirementId {
    type Err = RequirementIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || RequirementIdError(s.to_owned());
        let rest = s.strip_prefix("CIM-").ok_or_else(malformed)?;
        let (section, n) = rest.rsplit_once('-').ok_or_else(malformed)?;
        let section = section.split('.').map(number).collect::<Option<Vec<u32>>>().ok_or_else(malformed)?;
        Ok(Self { section, number: number(n).ok_or_else(malformed)? })
    }
}

impl RequirementId {
    /// The section as written: `5.2`.
    pub fn section_string(&self) -> String {
        self.section.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CIM-{}-{}", self.section_string(), self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let id: RequirementId = "CIM-5.2-3".parse().expect("valid");
        assert_eq!(id, RequirementId { section: vec![5, 2], number: 3 });
        assert_eq!(id.to_string(), "CIM-5.2-3");
        assert_eq!("CIM-6-1".parse::<RequirementId>().map(|i| i.section), Ok(vec![6]));
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in
            ["CIM-5.2", "cim-5.2-3", "CIM-5..2-3", "CIM-5.2-03", "CIM-5.2-0", "CIM--1", "CIM-a-1", "X-1-1"]
        {
            assert!(bad.parse::<RequirementId>().is_err(), "{bad}");
        }
    }
}
