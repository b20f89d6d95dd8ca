//! Readers: rulesets in the devices' own syntax to a [`Ruleset`], evaluated the way the
//! device evaluates them.
//!
//! Conventions every reader keeps:
//!
//! - A rule's matches are a union of [`Cube`]s; a cube holds one address family, so a
//!   rule without an address match becomes one cube per family (`Cube::universe`).
//! - Interfaces are numbered by the shared [`Ifaces`], by the name the *policy* uses for
//!   them (a reader maps a vendor's spelling back). `iifname != X` is the complement over
//!   every number, so interfaces nobody named are covered.
//! - ICMP type goes in [`Dim::Dport`], ICMP code in [`Dim::Sport`]. Port matches imply a
//!   protocol with ports. A stateless `established` is TCP with [`Dim::Flags`] = 1.
//! - Packets open connections (conntrack `new`): `ct state established,related` matches
//!   nothing, `ct state new` everything.
//! - Anything the reader does not model exactly becomes a [`Problem`] with its line, and
//!   the rule is left out: the check then fails closed. Nothing is approximated silently.
//! - Every rule keeps its [`Origin`]: line, text, handle or sequence number, comment.

pub(crate) mod acl;
pub(crate) mod nft;
pub(crate) mod nft_text;
pub(crate) mod windows;

use super::space::{Cube, Dim, Field};

pub(crate) use super::ruleset::{Action, Base, Chain, Hook, Origin, Problem, Rule, Ruleset};
pub(crate) use super::space::Ifaces;

/// Narrow every cube to `f` in `d`, dropping those left empty.
pub(crate) fn narrow(cubes: Vec<Cube>, d: Dim, f: &Field) -> Vec<Cube> {
    cubes.into_iter().filter_map(|c| c.with(d, f)).collect()
}
