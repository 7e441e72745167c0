//! `match-severity`: the rule that holds when the event's severity is one of a
//! comma-separated list (no ordering between severities).

use std::fmt;

use crate::notification::Severity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityRule {
    severities: Vec<Severity>,
}

impl SeverityRule {
    /// Parses the property value; the error is the reason only (the caller adds
    /// `property 'match-severity': `).
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.trim().is_empty() {
            return Err(
                "no severity given (use info, notice, warning, error or unknown)".to_string(),
            );
        }
        let mut severities = Vec::new();
        for element in value.split(',').map(str::trim) {
            if element.is_empty() {
                return Err(format!("empty element in severity list '{value}'"));
            }
            let severity = element.parse::<Severity>()?;
            // Keeps the written order for display; a repeated name adds nothing.
            if !severities.contains(&severity) {
                severities.push(severity);
            }
        }
        Ok(SeverityRule { severities })
    }

    pub fn matches(&self, severity: Severity) -> bool {
        self.severities.contains(&severity)
    }
}

/// Canonical text that parses back to an equal rule.
impl fmt::Display for SeverityRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, severity) in self.severities.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(severity.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(value: &str) -> SeverityRule {
        SeverityRule::parse(value).expect("valid rule")
    }

    #[test]
    fn single_severity_matches_only_itself() {
        let r = rule("warning");
        assert!(r.matches(Severity::Warning));
        // No ordering: warning does not include error.
        assert!(!r.matches(Severity::Error));
        assert!(!r.matches(Severity::Info));
    }

    #[test]
    fn list_is_split_and_trimmed() {
        let r = rule("warning, error");
        assert!(r.matches(Severity::Warning));
        assert!(r.matches(Severity::Error));
        assert!(!r.matches(Severity::Notice));
        assert_eq!(r.to_string(), "warning,error");
        assert_eq!(rule(" unknown ,\tinfo").to_string(), "unknown,info");
    }

    #[test]
    fn all_five_names_parse() {
        let r = rule("info,notice,warning,error,unknown");
        for severity in Severity::ALL {
            assert!(r.matches(severity));
        }
    }

    #[test]
    fn duplicates_collapse() {
        assert_eq!(rule("error,error, error"), rule("error"));
        assert_eq!(rule("error,error").to_string(), "error");
    }

    #[test]
    fn empty_elements_are_errors() {
        for value in ["", " ", "error,", ",error", "error,,info", "error, ,info"] {
            assert!(
                SeverityRule::parse(value).is_err(),
                "{value:?} must be rejected"
            );
        }
        assert_eq!(
            SeverityRule::parse("error,").unwrap_err(),
            "empty element in severity list 'error,'"
        );
    }

    #[test]
    fn names_are_case_sensitive_and_exact() {
        for value in ["Error", "ERROR", "warn", "err", "critical", "error warning"] {
            assert!(
                SeverityRule::parse(value).is_err(),
                "{value:?} must be rejected"
            );
        }
        let err = SeverityRule::parse("info,Error").unwrap_err();
        assert!(err.contains("'Error'"), "{err}");
    }

    #[test]
    fn display_round_trips() {
        for value in ["error", "warning, error", "unknown,info,notice"] {
            let r = rule(value);
            assert_eq!(SeverityRule::parse(&r.to_string()), Ok(r));
        }
    }

    fn alphabet_string() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "info", "notice", "warning", "error", "unknown", "Error", "warn", ",", " ", "\t",
            "\u{a0}", "x", "é",
        ]);
        prop::collection::vec(token, 0..8).prop_map(|tokens| tokens.concat())
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(value in any::<String>()) {
            if let Ok(r) = SeverityRule::parse(&value) {
                prop_assert_eq!(SeverityRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn alphabet_strings_round_trip(value in alphabet_string()) {
            if let Ok(r) = SeverityRule::parse(&value) {
                prop_assert_eq!(SeverityRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn generated_lists_match_their_members(
            picks in prop::collection::vec(0..5usize, 1..6),
            event in 0..5usize,
        ) {
            let names: Vec<&str> = picks.iter().map(|&i| Severity::ALL[i].as_str()).collect();
            let r = SeverityRule::parse(&names.join(" , ")).expect("generated list is valid");
            prop_assert_eq!(r.matches(Severity::ALL[event]), picks.contains(&event));
        }
    }
}
