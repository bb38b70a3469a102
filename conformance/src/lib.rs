//! `cim-conformance`: checks a cim deployment (server and route) against `spec/v1`, clause by
//! clause.
//!
//! Cases are written from the spec at the frame level: frames are built with the generated
//! protobuf types or field by field ([`wire::Raw`]), framed by [`wire`], and never go through
//! `cim-core`, so that a bug in the core cannot hide itself. Each case names the requirement ids
//! it checks; a failed check names its requirement, whose level (MUST, SHOULD, MAY) makes the
//! verdict fail, warn or info.
#![forbid(unsafe_code)]

pub mod case;
pub mod cases;
pub mod client_mode;
pub mod coverage;
pub mod frames;
pub mod report;
pub mod route;
pub mod runner;
pub mod select;
pub mod spec;
pub mod transcript;
pub mod verdict;
pub mod wire;
