//! Evaluating one matcher: each rule kind lives in its own file; this module combines the
//! rules with the matcher's mode and `invert-match` and records a trace for `--explain`.

pub mod calendar;
pub mod field;
pub mod severity;

use chrono::{DateTime, FixedOffset, TimeZone, Weekday};
use serde::{Serialize, Serializer};

use crate::config::{Located, MatchMode, Matcher, Name, Prop};
use crate::notification::{Fields, Notification, Severity};

/// One rule's own result, in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace<'a> {
    /// `match-field`, `match-severity` or `match-calendar`.
    pub kind: &'static str,
    /// The rule as written in the file.
    pub rule: &'a str,
    pub result: bool,
    /// The local time a calendar rule was tested against. Kept unformatted because
    /// only `--explain` shows it, and formatting it for every rule is costly.
    #[serde(
        rename = "local-time",
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_local_time"
    )]
    pub local_time: Option<DateTime<FixedOffset>>,
    #[serde(skip)]
    line: usize,
}

/// The evaluation of one matcher; borrows from the configuration, so evaluating
/// thousands of matchers copies nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MatcherTrace<'a> {
    pub name: &'a str,
    pub disabled: bool,
    pub mode: MatchMode,
    pub invert_match: bool,
    pub rules: Vec<RuleTrace<'a>>,
    pub no_rules: bool,
    pub matched: bool,
    /// The matcher's own list, borrowed: evaluating a matcher allocates nothing for it.
    #[serde(serialize_with = "serialize_targets")]
    pub targets: &'a [Located<Name>],
    /// Set when a rule could not be evaluated (the matcher then does not match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Evaluates `matcher` for `event`, with local time taken in `tz`.
///
/// Mode applies across all rules whatever their kind, which is what upstream's
/// per-kind-then-across-kinds combination amounts to. A matcher without rules matches
/// even when inverted (upstream behaviour, kept: the default matcher relies on it).
pub fn evaluate<'a, Tz: TimeZone>(
    matcher: &'a Matcher,
    event: &Notification,
    tz: &Tz,
) -> MatcherTrace<'a>
where
    Tz::Offset: std::fmt::Display,
{
    let mut trace = MatcherTrace {
        name: &matcher.name,
        disabled: matcher.disable,
        mode: matcher.mode,
        invert_match: matcher.invert_match,
        // Exactly one entry per rule: the traces of all matchers live until routing ends.
        rules: Vec::with_capacity(
            matcher.match_field.len() + matcher.match_severity.len() + matcher.match_calendar.len(),
        ),
        no_rules: !matcher.has_rules(),
        matched: false,
        targets: &matcher.target,
        error: None,
    };
    if matcher.disable {
        return trace;
    }

    for rule in &matcher.match_field {
        let (text, field_rule) = &*rule.value;
        trace.rules.push(RuleTrace {
            kind: Prop::MatchField.key(),
            rule: text,
            result: field_rule.matches(&event.fields),
            local_time: None,
            line: rule.line,
        });
    }
    for rule in &matcher.match_severity {
        let (text, severity_rule) = &*rule.value;
        trace.rules.push(RuleTrace {
            kind: Prop::MatchSeverity.key(),
            rule: text,
            result: severity_rule.matches(event.severity),
            local_time: None,
            line: rule.line,
        });
    }
    for rule in &matcher.match_calendar {
        let (text, calendar_rule) = &*rule.value;
        let (result, local_time) = match calendar_rule.matches_timestamp(event.timestamp, tz) {
            Some((result, local)) => (result, Some(local.fixed_offset())),
            None => {
                trace.error = Some(format!(
                    "{} '{text}': local time of timestamp {} cannot be computed",
                    Prop::MatchCalendar,
                    event.timestamp
                ));
                (false, None)
            }
        };
        trace.rules.push(RuleTrace {
            kind: Prop::MatchCalendar.key(),
            rule: text,
            result,
            local_time,
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

/// Whether an enabled `matcher` matches an event of `severity` with `fields` at the local
/// wall-clock moment `weekday`, `minute_of_day`: the same decision as `evaluate`, without
/// a timestamp, for `validate`'s questions about all times of the week.
pub fn matches_at(
    matcher: &Matcher,
    fields: &Fields,
    severity: Severity,
    weekday: Weekday,
    minute_of_day: u32,
) -> bool {
    if !matcher.has_rules() {
        return true;
    }
    let results = (matcher.match_field.iter())
        .map(|rule| rule.value.1.matches(fields))
        .chain((matcher.match_severity.iter()).map(|rule| rule.value.1.matches(severity)))
        .chain(
            (matcher.match_calendar.iter())
                .map(|rule| rule.value.1.contains(weekday, minute_of_day)),
        );
    combine(matcher.mode, results) != matcher.invert_match
}

impl RuleTrace<'_> {
    /// The explain text's note on the rule, e.g. `local time Mon 2024-06-03 23:30 +00:00`.
    pub fn detail(&self) -> Option<String> {
        self.local_time
            .map(|t| format!("local time {}", format_local(&t)))
    }
}

fn format_local(time: &DateTime<FixedOffset>) -> String {
    time.format("%a %Y-%m-%d %H:%M %:z").to_string()
}

/// The names only, as a list of strings.
fn serialize_targets<S: Serializer>(
    targets: &&[Located<Name>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(targets.iter().map(|target| &target.value))
}

fn serialize_local_time<S: Serializer>(
    time: &Option<DateTime<FixedOffset>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_str(&format_local(time)),
        None => serializer.serialize_none(),
    }
}

fn combine(mode: MatchMode, results: impl Iterator<Item = bool>) -> bool {
    let mut results = results;
    match mode {
        MatchMode::All => results.all(|r| r),
        MatchMode::Any => results.any(|r| r),
    }
}

impl MatcherTrace<'_> {
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
