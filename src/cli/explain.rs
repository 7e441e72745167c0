//! The text form of `send --explain`: for every matcher which rule matched or failed and
//! why, then the selected and skipped targets.

use std::fmt::Write;

use crate::routing::{Routing, SkipReason};

/// Width up to which rule lines are padded with dots, so results line up.
const RULE_COLUMN: usize = 40;

pub fn explain_text(routing: &Routing) -> String {
    let mut out = String::new();
    for m in &routing.matchers {
        if m.disabled {
            let _ = writeln!(out, "matcher {}: skipped (disabled)", m.name);
            continue;
        }
        let mut head = format!("mode {}", m.mode.as_str());
        if m.invert_match {
            head.push_str(", invert-match");
        }
        let verdict = match (m.matched, m.no_rules) {
            (true, true) => "match (no rules: always matches)",
            (true, false) => "match",
            (false, _) => "no match",
        };
        let _ = writeln!(out, "matcher {} ({head}): {verdict}", m.name);
        for rule in &m.rules {
            let label = format!("  {} {} ", rule.kind, rule.rule);
            let dots = RULE_COLUMN.saturating_sub(label.chars().count()).max(3);
            let _ = write!(out, "{label}{} {}", ".".repeat(dots), rule.result);
            if let Some(detail) = rule.detail() {
                let _ = write!(out, " ({detail})");
            }
            out.push('\n');
        }
        if let Some(error) = &m.error {
            let _ = writeln!(out, "  error: {error}");
        }
        if !m.no_rules {
            let _ = writeln!(out, "  => {}", m.combination());
        }
        if m.matched {
            let targets = if m.targets.is_empty() {
                "(none)".to_string()
            } else {
                let names: Vec<&str> = m.targets.iter().map(|t| t.value.as_str()).collect();
                names.join(", ")
            };
            let _ = writeln!(out, "  => targets: {targets}");
        }
    }
    let selected = if routing.selected.is_empty() {
        "(none)".to_string()
    } else {
        routing.selected.join(", ")
    };
    let _ = writeln!(out, "selected: {selected}");
    if !routing.skipped.is_empty() {
        let skipped: Vec<String> = routing
            .skipped
            .iter()
            .map(|s| {
                let why = match s.reason {
                    SkipReason::Disabled => "disabled",
                    SkipReason::DoesNotExist => "does not exist",
                };
                format!("{} ({why}; named by {})", s.target, s.named_by.join(", "))
            })
            .collect();
        let _ = writeln!(out, "not delivered: {}", skipped.join(", "));
    }
    out
}
