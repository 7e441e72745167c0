//! Evaluating one matcher: each rule kind lives in its own file; this module combines the
//! rules with the matcher's mode and `invert-match` and records a trace for `--explain`.

pub mod calendar;
pub mod field;
pub mod severity;

use chrono::TimeZone;
use serde::Serialize;

use crate::config::{MatchMode, Matcher};
use crate::notification::Notification;

/// One rule's own result, in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    /// `match-field`, `match-severity` or `match-calendar`.
    pub kind: &'static str,
    /// The rule as written in the file.
    pub rule: String,
    pub result: bool,
    /// Extra context: the local time a calendar rule was tested against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip)]
    line: usize,
}

/// The evaluation of one matcher.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MatcherTrace {
    pub name: String,
    pub disabled: bool,
    pub mode: MatchMode,
    pub invert_match: bool,
    pub rules: Vec<RuleTrace>,
    pub no_rules: bool,
    pub matched: bool,
    pub targets: Vec<String>,
    /// Set when a rule could not be evaluated (the matcher then does not match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Evaluates `matcher` for `event`, with local time taken in `tz`.
///
/// Mode applies across all rules whatever their kind, which is what upstream's
/// per-kind-then-across-kinds combination amounts to. A matcher without rules matches
/// even when inverted (upstream behaviour, kept: the default matcher relies on it).
pub fn evaluate<Tz: TimeZone>(matcher: &Matcher, event: &Notification, tz: &Tz) -> MatcherTrace
where
    Tz::Offset: std::fmt::Display,
{
    let mut trace = MatcherTrace {
        name: matcher.name.clone(),
        disabled: matcher.disable,
        mode: matcher.mode,
        invert_match: matcher.invert_match,
        rules: Vec::new(),
        no_rules: !matcher.has_rules(),
        matched: false,
        targets: matcher.target.iter().map(|t| t.value.clone()).collect(),
        error: None,
    };
    if matcher.disable {
        return trace;
    }

    for rule in &matcher.match_field {
        let (text, field_rule) = &rule.value;
        trace.rules.push(RuleTrace {
            kind: "match-field",
            rule: text.clone(),
            result: field_rule.matches(&event.fields),
            detail: None,
            line: rule.line,
        });
    }
    for rule in &matcher.match_severity {
        let (text, severity_rule) = &rule.value;
        trace.rules.push(RuleTrace {
            kind: "match-severity",
            rule: text.clone(),
            result: severity_rule.matches(event.severity),
            detail: None,
            line: rule.line,
        });
    }
    for rule in &matcher.match_calendar {
        let (text, calendar_rule) = &rule.value;
        let (result, detail) = match calendar_rule.matches_timestamp(event.timestamp, tz) {
            Some((result, local)) => (
                result,
                Some(format!(
                    "local time {}",
                    local.format("%a %Y-%m-%d %H:%M %:z")
                )),
            ),
            None => {
                trace.error = Some(format!(
                    "match-calendar '{text}': local time of timestamp {} cannot be computed",
                    event.timestamp
                ));
                (false, None)
            }
        };
        trace.rules.push(RuleTrace {
            kind: "match-calendar",
            rule: text.clone(),
            result,
            detail,
            line: rule.line,
        });
    }
    trace.rules.sort_by_key(|rule| rule.line);

    trace.matched = if trace.no_rules {
        true
    } else if trace.error.is_some() {
        false
    } else {
        combine(matcher.mode, trace.rules.iter().map(|r| r.result)) != matcher.invert_match
    };
    trace
}

fn combine(mode: MatchMode, results: impl Iterator<Item = bool>) -> bool {
    let mut results = results;
    match mode {
        MatchMode::All => results.all(|r| r),
        MatchMode::Any => results.any(|r| r),
    }
}

impl MatcherTrace {
    /// The combination line of the explain trace, e.g. `not all(true, true) = false`.
    pub fn combination(&self) -> String {
        let results: Vec<String> = self.rules.iter().map(|r| r.result.to_string()).collect();
        format!(
            "{}{}({}) = {}",
            if self.invert_match { "not " } else { "" },
            self.mode.as_str(),
            results.join(", "),
            self.matched
        )
    }
}
