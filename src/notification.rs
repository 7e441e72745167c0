//! The event model: what `send`, `test-target` and `forward-mail` hand to routing and targets.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Severity of an event. There is deliberately no ordering: `match-severity warning`
/// does not include `error` (as upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Notice,
    Warning,
    Error,
    Unknown,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Notice,
        Severity::Warning,
        Severity::Error,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses the exact lower-case name, as configuration files require.
impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str() == s)
            .ok_or_else(|| {
                format!("'{s}' is not a severity (use info, notice, warning, error or unknown)")
            })
    }
}

/// Metadata fields; sorted so that output and templates are reproducible.
pub type Fields = BTreeMap<String, String>;

/// One event to be routed and delivered. Serialised without the body, which JSON output
/// leaves out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: String,
    pub title: String,
    #[serde(skip)]
    pub body: String,
    pub severity: Severity,
    /// Seconds since the epoch (UTC).
    pub timestamp: i64,
    pub fields: Fields,
    /// The HTML part mail targets send.
    #[serde(skip)]
    pub html: Html,
}

/// Where the HTML part of a mail comes from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Html {
    /// Derived from the body (literal events, forwarded mail).
    #[default]
    FromBody,
    /// Rendered from a template.
    Rendered(String),
    /// The template's HTML part could not be rendered; mail targets fail with this.
    Unavailable(String),
}

impl Notification {
    /// Builds an event with a fresh id; control characters in the title become spaces
    /// because the title ends up in mail headers (upstream only replaces `\n`).
    pub fn new(
        title: &str,
        body: impl Into<String>,
        severity: Severity,
        timestamp: i64,
        fields: Fields,
    ) -> Self {
        Notification {
            id: uuid::Uuid::new_v4().to_string(),
            title: clean_title(title),
            body: body.into(),
            severity,
            timestamp,
            fields,
            html: Html::FromBody,
        }
    }
}

/// Replaces every control character by a space.
pub fn clean_title(title: &str) -> String {
    title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The field-name rule shared by `--field` and `match-field`.
pub fn is_valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_parses_lower_case_only() {
        assert_eq!("error".parse::<Severity>(), Ok(Severity::Error));
        assert!("Error".parse::<Severity>().is_err());
        assert!("".parse::<Severity>().is_err());
    }

    #[test]
    fn title_control_characters_become_spaces() {
        assert_eq!(clean_title("a\r\nb\tc\u{7f}"), "a  b c ");
    }

    #[test]
    fn field_name_rule() {
        assert!(is_valid_field_name("type"));
        assert!(is_valid_field_name("_x.y-z9"));
        assert!(is_valid_field_name("9"));
        assert!(!is_valid_field_name(""));
        assert!(!is_valid_field_name("-x"));
        assert!(!is_valid_field_name("a b"));
        assert!(!is_valid_field_name("ä"));
    }
}
