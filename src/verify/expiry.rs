//! `allow … until DATE`: an exception past its date is an error, like a failed proof.
//!
//! The date to compare with is a parameter (the CLI passes today, tests a fixed day), so
//! the verdict of a policy depends only on its text and that date.

use crate::diagnostics::{Diag, code};
use crate::model::{Allow, Model};
use crate::syntax::date::Date;

/// Every `allow` of the policy with what it is on (`system epj`, `flow a -> b : https`),
/// systems first, then flows, in declaration order.
pub(crate) fn allows(model: &Model) -> Vec<(String, &Allow)> {
    let systems = model.systems.iter().flat_map(|s| s.allows.iter().map(move |a| (format!("system {}", s.name), a)));
    let flows = (0..model.flows.len()).flat_map(|i| {
        let id = crate::model::FlowId::from_index(i);
        model.flow(id).allows.iter().map(move |a| (format!("flow {}", model.flow_title(id)), a))
    });
    systems.chain(flows).collect()
}

/// Is the exception past its last day?
pub(crate) fn is_expired(allow: &Allow, today: Date) -> bool {
    allow.until.is_some_and(|u| u < today)
}

/// One error per `allow` whose `until` date lies before `today`.
pub(crate) fn expired(model: &Model, today: Date) -> Vec<Diag> {
    let mut out: Vec<Diag> = allows(model)
        .into_iter()
        .filter(|(_, a)| is_expired(a, today))
        .map(|(what, a)| {
            let until = a.until.map(|d| d.to_string()).unwrap_or_default();
            Diag::error(
                code::VERIFY_EXPIRED_ALLOW,
                a.span,
                format!("the exception `allow {}` on {what} expired after {until} (today is {today})", a.lint),
            )
            .label(format!("held until {until}"))
            .help("renew the risk assessment and move the `until` date, or remove the `allow` and fix what it silenced")
        })
        .collect();
    out.sort_by_key(|d| (d.span.file, d.span.start));
    out
}

/// Add the expired exceptions of `model` to a verdict's findings: the verdict then fails
/// (they are errors) and every report format shows them.
pub fn apply(model: &Model, verdict: &mut crate::verify::Verdict, today: Date) {
    verdict.lints.extend(expired(model, today));
    verdict.lints.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}
