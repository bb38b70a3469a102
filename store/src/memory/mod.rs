//! In-memory backends: for `cim up`, single-process deployments and tests.

mod registry;
mod store;

pub use registry::MemoryRegistry;
pub use store::MemoryStore;
