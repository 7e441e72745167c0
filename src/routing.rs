//! Routing: which targets an event reaches. Every enabled matcher is evaluated (no order,
//! no "stop after first match"); the union of their targets, less missing and disabled
//! ones, is the deliverable set, in byte order of the names.

use std::collections::BTreeMap;

use chrono::TimeZone;
use serde::Serialize;

use crate::config::Config;
use crate::matcher::{self, MatcherTrace};
use crate::notification::Notification;

/// Why a selected name is not delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Disabled,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Skipped<'a> {
    pub target: &'a str,
    pub reason: SkipReason,
    pub named_by: Vec<&'a str>,
}

/// The result of routing one event; borrows names from the configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routing<'a> {
    /// One trace per matcher, in name order.
    pub matchers: Vec<MatcherTrace<'a>>,
    /// Existing, enabled, de-duplicated target names, sorted.
    pub selected: Vec<&'a str>,
    pub skipped: Vec<Skipped<'a>>,
    /// Missing targets and matchers that failed to evaluate.
    pub warnings: Vec<String>,
}

impl Routing<'_> {
    /// True when names were selected but every one of them is missing, so nothing at all
    /// can be delivered although the configuration meant to (exit 69 for `send`).
    pub fn all_selected_missing(&self) -> bool {
        self.selected.is_empty()
            && !self.skipped.is_empty()
            && self
                .skipped
                .iter()
                .all(|s| s.reason == SkipReason::DoesNotExist)
    }
}

/// Routes `event` through every matcher of `config`, with local time in `tz`.
pub fn route<'a, Tz: TimeZone>(config: &'a Config, event: &Notification, tz: &Tz) -> Routing<'a>
where
    Tz::Offset: std::fmt::Display,
{
    let mut traces = Vec::with_capacity(config.matchers.len());
    let mut warnings = Vec::new();
    // name → matchers that named it, kept sorted by name through the BTreeMap.
    let mut named: BTreeMap<&str, Vec<&str>> = BTreeMap::new();

    for matcher in config.matchers.values() {
        let trace = matcher::evaluate(matcher, event, tz);
        if let Some(error) = &trace.error {
            warnings.push(format!(
                "matcher '{}' could not be evaluated and counts as not matching: {error}",
                matcher.name
            ));
        }
        if trace.matched && !matcher.disable {
            for target in &matcher.target {
                let by = named.entry(target.value.as_str()).or_default();
                // Each matcher is visited once, so a repeat can only be the last entry;
                // `contains` here made many matchers naming one target quadratic.
                if by.last() != Some(&matcher.name.as_str()) {
                    by.push(&matcher.name);
                }
            }
        }
        traces.push(trace);
    }

    let mut selected = Vec::new();
    let mut skipped = Vec::new();
    for (name, named_by) in named {
        match config.targets.get(name) {
            None => {
                for matcher in &named_by {
                    warnings.push(format!(
                        "matcher '{matcher}' names target '{name}', which does not exist"
                    ));
                }
                skipped.push(Skipped {
                    target: name,
                    reason: SkipReason::DoesNotExist,
                    named_by,
                });
            }
            Some(target) if target.disable => skipped.push(Skipped {
                target: name,
                reason: SkipReason::Disabled,
                named_by,
            }),
            Some(_) => selected.push(name),
        }
    }

    Routing {
        matchers: traces,
        selected,
        skipped,
        warnings,
    }
}

/// True when some enabled matcher names an existing, enabled target, i.e. some event
/// could be delivered at all (cli.md §3.2 step 4).
pub fn anything_deliverable(config: &Config) -> bool {
    config
        .matchers
        .values()
        .filter(|m| !m.disable)
        .flat_map(|m| &m.target)
        .any(|t| config.targets.get(&t.value).is_some_and(|t| !t.disable))
}

#[cfg(test)]
mod tests;
