//! Stage 5: check that a ruleset permits exactly what the policy permits (DESIGN.md §6).

pub mod read;
pub mod ruleset;
pub mod space;
