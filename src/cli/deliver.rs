//! Delivering one event to a list of targets and reporting it, shared by `send` and
//! `test-target`: an outcome line per target on stderr as it finishes, and the result
//! object of cli.md §3.5 on stdout in JSON mode.

use serde::Serialize;

use super::{Host, Output};
use crate::config::Config;
use crate::endpoints::{self, Delivery, DeliveryContext, Outcome};
use crate::notification::Notification;
use crate::routing::Skipped;

/// Delivers `event` to each of `names` in order; a failure never stops the rest.
/// Warnings raised while delivering are printed and appended to `warnings`.
pub(super) fn deliver_all(
    delivery: &Delivery<'_>,
    names: &[&str],
    config: &Config,
    host: &Host<'_>,
    out: &Output,
    warnings: &mut Vec<String>,
) -> Vec<Outcome> {
    let context = host.delivery_context();
    names
        .iter()
        .filter_map(|name| deliver_one(delivery, name, config, &context, out, warnings))
        .collect()
}

/// Delivers to the target `name` and prints its outcome line; `None` when there is no such
/// target.
pub(super) fn deliver_one(
    delivery: &Delivery<'_>,
    name: &str,
    config: &Config,
    context: &DeliveryContext,
    out: &Output,
    warnings: &mut Vec<String>,
) -> Option<Outcome> {
    let target = config.targets.get(name)?;
    let endpoint = endpoints::endpoint(target, config, context);
    out.debug(&format!("delivering to {name} ({})", endpoint.type_name()));
    let started = std::time::Instant::now();
    let mut delivery_warnings = Vec::new();
    let result = endpoint.deliver(delivery, &mut delivery_warnings);
    out.debug(&format!(
        "{name}: finished after {} ms",
        started.elapsed().as_millis()
    ));
    for warning in delivery_warnings {
        out.warning(&warning);
        warnings.push(warning);
    }
    let outcome = Outcome::new(endpoint.as_ref(), result);
    print_outcome(&outcome, out);
    Some(outcome)
}

/// A failed outcome is always shown; others unless `-q`.
pub(super) fn print_outcome(outcome: &Outcome, out: &Output) {
    if outcome.failure().is_some() {
        out.error_line(&outcome.to_string());
    } else {
        out.info_line(&outcome.to_string());
    }
}

/// The JSON result of a delivering run (`send`, `test-target`, later `forward-mail`).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct ResultJson<'a> {
    pub event: &'a Notification,
    pub results: &'a [Outcome],
    pub skipped: &'a [Skipped<'a>],
    pub warnings: &'a [String],
    pub exit_status: i32,
}
