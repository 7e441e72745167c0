//! `match-field`: the rule that tests one metadata field of the event, either against
//! a list of exact values (`exact:FIELD=V1,V2`) or with a regex search (`regex:FIELD=REGEX`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use crate::notification::{Fields, is_valid_field_name};

#[derive(Debug, Clone)]
pub enum FieldRule {
    Exact {
        field: String,
        values: Vec<String>,
    },
    /// Shared by every rule with the same pattern: a `Regex` clone would get a cache pool
    /// of its own, and each pool a match cache of its own on first use.
    Regex {
        field: String,
        regex: Arc<regex::Regex>,
    },
}

impl FieldRule {
    /// Parses the property value; the error is the reason only (the caller adds
    /// `property 'match-field': `).
    pub fn parse(value: &str) -> Result<Self, String> {
        let (is_regex, rest) = if let Some(rest) = value.strip_prefix("exact:") {
            (false, rest)
        } else if let Some(rest) = value.strip_prefix("regex:") {
            (true, rest)
        } else {
            return Err(missing_prefix(value));
        };
        let Some((field, pattern)) = rest.split_once('=') else {
            return Err(format!(
                "'{value}' has no '=' (expected 'exact:FIELD=VALUE' or 'regex:FIELD=REGEX')"
            ));
        };
        if !is_valid_field_name(field) {
            return Err(format!(
                "invalid field name '{field}' in '{value}' (letters, digits, '_', '.' and '-'; \
                 not starting with '.' or '-')"
            ));
        }
        let field = field.to_string();
        if is_regex {
            let regex = compile(pattern)?;
            Ok(FieldRule::Regex { field, regex })
        } else {
            let values = pattern.split(',').map(|v| v.trim().to_string()).collect();
            Ok(FieldRule::Exact { field, values })
        }
    }

    /// An absent field makes the rule false whatever the values or regex (`regex:f=.*`
    /// needs `f`); the event's value is compared untrimmed.
    pub fn matches(&self, fields: &Fields) -> bool {
        let Some(actual) = fields.get(self.field()) else {
            return false;
        };
        match self {
            FieldRule::Exact { values, .. } => values.iter().any(|v| v == actual),
            FieldRule::Regex { regex, .. } => regex.is_match(actual),
        }
    }

    pub fn field(&self) -> &str {
        match self {
            FieldRule::Exact { field, .. } | FieldRule::Regex { field, .. } => field,
        }
    }
}

/// The prefix is the most common mistake, so say what was probably meant.
fn missing_prefix(value: &str) -> String {
    match value.split_once('=') {
        Some((field, rest)) if is_valid_field_name(field) => format!(
            "'{value}' lacks the 'exact:' or 'regex:' prefix (did you mean 'exact:{field}={rest}'?)"
        ),
        _ => format!("'{value}' must have the form 'exact:FIELD=VALUE' or 'regex:FIELD=REGEX'"),
    }
}

/// The regex crate's messages span several lines (with a caret under the culprit);
/// configuration findings are one line each, so keep the words and drop the caret.
fn regex_error_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.chars().all(|c| c == '^' || c == '~'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compiles `pattern`, reusing an earlier compilation of the same text. Large
/// configurations repeat a few patterns thousands of times, and compiling a Unicode-aware
/// regex costs far more than matching with it. The compiled regex itself is shared, not
/// cloned: a clone shares the automaton but builds its own match cache (tens of KiB).
fn compile(pattern: &str) -> Result<Arc<regex::Regex>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(regex) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(regex);
    }
    let regex = Arc::new(regex::Regex::new(pattern).map_err(|err| {
        format!(
            "invalid regex '{pattern}': {}",
            regex_error_line(&err.to_string())
        )
    })?);
    if let Ok(mut cache) = cache.lock() {
        cache.insert(pattern.to_string(), regex.clone());
    }
    Ok(regex)
}

/// Canonical text that parses back to an equal rule.
impl fmt::Display for FieldRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRule::Exact { field, values } => write!(f, "exact:{field}={}", values.join(",")),
            FieldRule::Regex { field, regex } => write!(f, "regex:{field}={}", regex.as_str()),
        }
    }
}

/// Regexes compare by their source text.
impl PartialEq for FieldRule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                FieldRule::Exact { field, values },
                FieldRule::Exact {
                    field: other_field,
                    values: other_values,
                },
            ) => field == other_field && values == other_values,
            (
                FieldRule::Regex { field, regex },
                FieldRule::Regex {
                    field: other_field,
                    regex: other_regex,
                },
            ) => field == other_field && regex.as_str() == other_regex.as_str(),
            _ => false,
        }
    }
}

impl Eq for FieldRule {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(value: &str) -> FieldRule {
        FieldRule::parse(value).expect("valid rule")
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn exact_single_value() {
        let r = rule("exact:type=vzdump");
        assert_eq!(r.field(), "type");
        assert!(r.matches(&fields(&[("type", "vzdump")])));
        assert!(!r.matches(&fields(&[("type", "vzdump2")])));
        assert!(!r.matches(&fields(&[("Type", "vzdump")])));
        assert!(!r.matches(&fields(&[])));
    }

    #[test]
    fn exact_list_is_split_and_trimmed() {
        let r = rule("exact:type=replication, fencing");
        assert!(r.matches(&fields(&[("type", "fencing")])));
        assert!(r.matches(&fields(&[("type", "replication")])));
        // Case-sensitive, and the event's own value is not trimmed.
        assert!(!r.matches(&fields(&[("type", "Fencing")])));
        assert!(!r.matches(&fields(&[("type", " fencing")])));
        assert_eq!(r.to_string(), "exact:type=replication,fencing");
    }

    #[test]
    fn exact_empty_elements_are_kept() {
        let r = rule("exact:type=");
        assert_eq!(
            r,
            FieldRule::Exact {
                field: "type".into(),
                values: vec![String::new()]
            }
        );
        assert!(r.matches(&fields(&[("type", "")])));
        assert!(!r.matches(&fields(&[("type", "x")])));
        assert!(!r.matches(&fields(&[])));

        let r = rule("exact:type=a,,b");
        assert!(r.matches(&fields(&[("type", "")])));
        assert!(r.matches(&fields(&[("type", "b")])));
        assert_eq!(r.to_string(), "exact:type=a,,b");
    }

    #[test]
    fn value_may_contain_equals_sign() {
        let r = rule("exact:expr=a=b");
        assert!(r.matches(&fields(&[("expr", "a=b")])));
        let r = rule("regex:expr=^x=y,z$");
        assert!(r.matches(&fields(&[("expr", "x=y,z")])));
    }

    #[test]
    fn regex_searches_unanchored() {
        let r = rule("regex:hostname=pve1");
        for host in ["pve1", "pve10", "mypve1x"] {
            assert!(r.matches(&fields(&[("hostname", host)])), "{host}");
        }
        assert!(!r.matches(&fields(&[("hostname", "pve2")])));
        let anchored = rule("regex:hostname=^pve1$");
        assert!(anchored.matches(&fields(&[("hostname", "pve1")])));
        assert!(!anchored.matches(&fields(&[("hostname", "pve10")])));
    }

    #[test]
    fn regex_needs_the_field() {
        let r = rule("regex:hostname=.*");
        assert!(!r.matches(&fields(&[])));
        assert!(!r.matches(&fields(&[("type", "x")])));
        assert!(r.matches(&fields(&[("hostname", "")])));
    }

    #[test]
    fn regex_on_empty_value() {
        let r = rule("regex:type=.");
        assert!(!r.matches(&fields(&[("type", "")])));
        assert!(r.matches(&fields(&[("type", "x")])));
    }

    #[test]
    fn regex_default_flags_and_inline_flags() {
        assert!(!rule("regex:t=abc").matches(&fields(&[("t", "ABC")])));
        assert!(rule("regex:t=(?i)abc").matches(&fields(&[("t", "xABCx")])));
        // `.` does not match a newline by default.
        assert!(!rule("regex:t=a.b").matches(&fields(&[("t", "a\nb")])));
    }

    #[test]
    fn prefix_is_mandatory() {
        let err = FieldRule::parse("type=vzdump").unwrap_err();
        assert!(err.contains("exact:type=vzdump"), "{err}");
        for value in [
            "",
            "type",
            "Exact:type=x",
            "REGEX:type=x",
            "exact type=x",
            "fuzzy:t=x",
        ] {
            assert!(FieldRule::parse(value).is_err(), "{value:?}");
        }
    }

    #[test]
    fn field_name_rule_applies() {
        for value in [
            "exact:=x",
            "exact:-a=x",
            "exact:.a=x",
            "exact:a b=x",
            "exact:ä=x",
        ] {
            assert!(FieldRule::parse(value).is_err(), "{value:?}");
        }
        for value in ["exact:a=x", "exact:_a.b-c=x", "exact:9=x", "regex:job-id=."] {
            assert!(FieldRule::parse(value).is_ok(), "{value:?}");
        }
        assert!(FieldRule::parse("exact:type").is_err());
    }

    #[test]
    fn bad_regex_quotes_the_library_message_on_one_line() {
        let err = FieldRule::parse("regex:t=(abc").unwrap_err();
        assert!(
            err.starts_with("invalid regex '(abc': regex parse error:"),
            "{err}"
        );
        assert!(err.contains("unclosed group"), "{err}");
        assert!(!err.contains('\n'), "{err}");
        // Look-around and back-references are not supported by the regex crate.
        assert!(FieldRule::parse("regex:t=(?=a)").is_err());
        assert!(FieldRule::parse(r"regex:t=(a)\1").is_err());
    }

    #[test]
    fn equality_compares_regex_source() {
        assert_eq!(rule("regex:t=a+"), rule("regex:t=a+"));
        assert_ne!(rule("regex:t=a+"), rule("regex:t=aa*"));
        assert_ne!(rule("regex:t=a"), rule("exact:t=a"));
        assert_ne!(rule("regex:t=a"), rule("regex:u=a"));
    }

    #[test]
    fn display_round_trips() {
        for value in [
            "exact:type=vzdump",
            "exact:type= a , b ,",
            "exact:t=",
            "regex:hostname=^pve1",
            "regex:t= (?i)x=y, z ",
        ] {
            let r = rule(value);
            assert_eq!(FieldRule::parse(&r.to_string()), Ok(r));
        }
    }

    fn alphabet_string() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "exact:",
            "regex:",
            "type",
            "host-name",
            "_x.y",
            "-",
            ".",
            "=",
            ",",
            " ",
            "\t",
            "a",
            "(",
            ")",
            "[",
            "]",
            "*",
            "+",
            "?",
            "{",
            "}",
            "\\",
            "^",
            "$",
            "|",
            "(?i)",
            "\n",
            "é",
        ]);
        prop::collection::vec(token, 0..10).prop_map(|tokens| tokens.concat())
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(value in any::<String>()) {
            if let Ok(r) = FieldRule::parse(&value) {
                prop_assert_eq!(FieldRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn alphabet_strings_round_trip(value in alphabet_string()) {
            if let Ok(r) = FieldRule::parse(&value) {
                prop_assert_eq!(FieldRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn exact_matches_iff_some_trimmed_element_equals(
            elements in prop::collection::vec("[ a-c]{0,3}", 1..5),
            actual in proptest::option::of("[ a-c]{0,3}"),
        ) {
            let r = rule(&format!("exact:f={}", elements.join(",")));
            let event: Fields = actual.iter().map(|v| ("f".to_string(), v.clone())).collect();
            let expected = actual
                .as_ref()
                .is_some_and(|v| elements.iter().any(|e| e.trim() == v));
            prop_assert_eq!(r.matches(&event), expected);
        }
    }
}
