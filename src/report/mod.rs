//! Stage: rendering results for people and machines.

pub mod graph;
