//! Stage: rendering results for people and machines. Pure functions from a model and a
//! verdict to text; the CLI decides where the text goes.

pub mod audit;
pub(crate) mod check;
pub mod diff;
pub(crate) mod doc;
pub mod explain;
pub mod graph;
pub mod human;
pub mod json;
pub mod junit;
pub(crate) mod packet;
pub(crate) mod rootcause;
pub mod rules;
pub mod sarif;

/// `1 rule`, `2 rules`: a count with its noun in the right number.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
