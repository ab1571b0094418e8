//! The service's pure domain code, compiled on its own for fuzzing.

#[path = "../../src/domain/mod.rs"]
pub mod domain;
