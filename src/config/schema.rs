//! The section types of both notification files and their properties (config.md §4):
//! which keys exist, their value types, which may repeat, which are required. Turns a
//! `RawSection` into a checked `Section` of typed values, or reports why it cannot.

use std::collections::BTreeMap;

use crate::matcher::calendar::CalendarRule;
use crate::matcher::field::FieldRule;
use crate::matcher::severity::SeverityRule;

use super::findings::Findings;
use super::section::{COMMENT_HINT, RawProperty, RawSection};
use super::value::{self, PropertyKey, TextLimits};

/// Which of the two notification files a section comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Public,
    Private,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionType {
    Sendmail,
    Smtp,
    Gotify,
    Webhook,
    Matcher,
}

impl SectionType {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionType::Sendmail => "sendmail",
            SectionType::Smtp => "smtp",
            SectionType::Gotify => "gotify",
            SectionType::Webhook => "webhook",
            SectionType::Matcher => "matcher",
        }
    }

    fn from_name(name: &str) -> Option<SectionType> {
        [
            SectionType::Sendmail,
            SectionType::Smtp,
            SectionType::Gotify,
            SectionType::Webhook,
            SectionType::Matcher,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }

    /// The type if it may appear in the file of `side`.
    pub fn parse(name: &str, side: Side) -> Option<SectionType> {
        let section_type = SectionType::from_name(name)?;
        let allowed = match side {
            Side::Public => true,
            Side::Private => matches!(
                section_type,
                SectionType::Smtp | SectionType::Gotify | SectionType::Webhook
            ),
        };
        allowed.then_some(section_type)
    }
}

/// Section types of Proxmox VE 8.0's first notification routing, replaced by matchers in
/// 8.1. PVE 8 still parses and then drops them; PVE 9 rejects a file containing one. They
/// are skipped, body and all, with a warning, so such a file still loads here.
pub const LEGACY_TYPES: &[&str] = &["group", "filter"];

/// The value type of a property.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text(TextLimits),
    Bool,
    Port,
    Enum(&'static [&'static str]),
    EntityName,
    HttpUrl,
    /// A property string `name=NAME[,value=BASE64]`.
    NameValue,
    MatchField,
    MatchSeverity,
    MatchCalendar,
}

#[derive(Debug, Clone, Copy)]
pub struct PropDef {
    pub key: &'static str,
    pub kind: Kind,
    pub list: bool,
    pub required: bool,
    /// Values are secrets: never quoted in messages.
    pub secret: bool,
}

const fn prop(key: &'static str, kind: Kind) -> PropDef {
    PropDef {
        key,
        kind,
        list: false,
        required: false,
        secret: false,
    }
}

const fn list(key: &'static str, kind: Kind) -> PropDef {
    PropDef {
        list: true,
        ..prop(key, kind)
    }
}

const fn required(key: &'static str, kind: Kind) -> PropDef {
    PropDef {
        required: true,
        ..prop(key, kind)
    }
}

const fn secret(def: PropDef) -> PropDef {
    PropDef {
        secret: true,
        ..def
    }
}

const ANY: Kind = Kind::Text(TextLimits::ANY);
const RECIPIENT: Kind = Kind::Text(TextLimits {
    min: 2,
    max: Some(64),
    single_line: true,
});
pub const ORIGINS: &[&str] = &["user-created", "builtin", "modified-builtin"];
pub const SMTP_MODES: &[&str] = &["insecure", "starttls", "tls"];
pub const HTTP_METHODS: &[&str] = &["post", "put", "get"];
pub const MATCH_MODES: &[&str] = &["all", "any"];
pub const NAME_VALUE_KEYS: &[PropertyKey] = &[
    PropertyKey {
        name: "name",
        required: true,
    },
    PropertyKey {
        name: "value",
        required: false,
    },
];

const COMMENT: PropDef = prop(
    "comment",
    Kind::Text(TextLimits {
        min: 0,
        max: Some(128),
        single_line: true,
    }),
);
const DISABLE: PropDef = prop("disable", Kind::Bool);
const ORIGIN: PropDef = prop("origin", Kind::Enum(ORIGINS));

const SENDMAIL: &[PropDef] = &[
    COMMENT,
    DISABLE,
    ORIGIN,
    list("mailto", RECIPIENT),
    list("mailto-user", RECIPIENT),
    prop("from-address", ANY),
    prop("author", ANY),
    prop("filter", ANY),
];
const SMTP: &[PropDef] = &[
    COMMENT,
    DISABLE,
    ORIGIN,
    required("server", ANY),
    prop("port", Kind::Port),
    prop("mode", Kind::Enum(SMTP_MODES)),
    prop("username", ANY),
    list("mailto", RECIPIENT),
    list("mailto-user", RECIPIENT),
    required("from-address", ANY),
    prop("author", ANY),
];
const GOTIFY: &[PropDef] = &[
    COMMENT,
    DISABLE,
    ORIGIN,
    required("server", ANY),
    prop("filter", ANY),
];
const WEBHOOK: &[PropDef] = &[
    COMMENT,
    DISABLE,
    ORIGIN,
    required("method", Kind::Enum(HTTP_METHODS)),
    required("url", Kind::HttpUrl),
    list("header", Kind::NameValue),
    prop("body", ANY),
    secret(list("secret", Kind::NameValue)),
];
const MATCHER: &[PropDef] = &[
    COMMENT,
    DISABLE,
    ORIGIN,
    list("match-field", Kind::MatchField),
    list("match-severity", Kind::MatchSeverity),
    list("match-calendar", Kind::MatchCalendar),
    prop("mode", Kind::Enum(MATCH_MODES)),
    prop("invert-match", Kind::Bool),
    list("target", Kind::EntityName),
];
const SMTP_PRIVATE: &[PropDef] = &[secret(prop("password", ANY))];
const GOTIFY_PRIVATE: &[PropDef] = &[secret(required("token", ANY))];
const WEBHOOK_PRIVATE: &[PropDef] = &[secret(list("secret", Kind::NameValue))];

pub fn properties(section_type: SectionType, side: Side) -> &'static [PropDef] {
    match (side, section_type) {
        (Side::Public, SectionType::Sendmail) => SENDMAIL,
        (Side::Public, SectionType::Smtp) => SMTP,
        (Side::Public, SectionType::Gotify) => GOTIFY,
        (Side::Public, SectionType::Webhook) => WEBHOOK,
        (Side::Public, SectionType::Matcher) => MATCHER,
        (Side::Private, SectionType::Smtp) => SMTP_PRIVATE,
        (Side::Private, SectionType::Gotify) => GOTIFY_PRIVATE,
        (Side::Private, SectionType::Webhook) => WEBHOOK_PRIVATE,
        (Side::Private, SectionType::Sendmail | SectionType::Matcher) => &[],
    }
}

/// A property value after its type check.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Int(i64),
    Word(&'static str),
    Pairs(Vec<(String, String)>),
    Field(FieldRule),
    Severity(SeverityRule),
    Calendar(CalendarRule),
}

/// One property line: the value as written, its typed form and its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub text: String,
    pub value: Value,
    pub line: usize,
}

/// A section whose header and every property passed their checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub section_type: SectionType,
    pub name: String,
    pub line: usize,
    pub props: BTreeMap<&'static str, Vec<Item>>,
}

impl Section {
    pub fn first(&self, key: &str) -> Option<&Item> {
        self.props.get(key).and_then(|items| items.first())
    }

    pub fn items(&self, key: &str) -> &[Item] {
        self.props.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.first(key).map(|item| item.text.clone())
    }

    pub fn texts(&self, key: &str) -> Vec<String> {
        self.items(key)
            .iter()
            .map(|item| item.text.clone())
            .collect()
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.first(key),
            Some(Item {
                value: Value::Bool(true),
                ..
            })
        )
    }

    /// Line of the first `key` line, `None` for built-ins (line 0) or when absent.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.first(key)
            .map(|item| item.line)
            .filter(|line| *line > 0)
    }

    /// The properties with their values in a form independent of formatting (booleans and
    /// integers normalized), `origin` left out: what decides whether a built-in is modified.
    pub fn canonical(&self) -> BTreeMap<&'static str, Vec<String>> {
        self.props
            .iter()
            .filter(|(key, _)| **key != "origin")
            .map(|(key, items)| {
                let values = items
                    .iter()
                    .map(|item| match &item.value {
                        Value::Bool(flag) => flag.to_string(),
                        Value::Int(number) => number.to_string(),
                        Value::Pairs(pairs) => value::write_property_string(pairs),
                        _ => item.text.clone(),
                    })
                    .collect();
                (*key, values)
            })
            .collect()
    }
}

/// The result of checking one raw section.
#[derive(Debug)]
pub enum Checked {
    Valid(Section),
    /// The header is fine but the body is not; the name still counts as taken.
    Invalid {
        name: String,
        line: usize,
    },
    /// Unknown type or bad name: the whole section was skipped.
    BadHeader,
    /// A legacy `group` or `filter` section: skipped with a warning; its name takes no
    /// part in the checks for duplicates.
    Legacy,
}

/// Control characters in quoted text are shown escaped so messages stay one line.
pub fn printable(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_debug().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_string()
    }
}

fn wrong_file_hint(key: &str, section_type: SectionType, side: Side) -> Option<&'static str> {
    let other = match side {
        Side::Public => Side::Private,
        Side::Private => Side::Public,
    };
    let belongs_elsewhere = properties(section_type, other)
        .iter()
        .any(|def| def.key == key);
    match (belongs_elsewhere, side) {
        (true, Side::Public) => Some("(secrets belong in priv/notifications.cfg)"),
        (true, Side::Private) => Some("(this property belongs in notifications.cfg)"),
        (false, _) => None,
    }
}

/// Checks header and properties of `raw` from the file of `side`, reporting every problem.
/// Takes the section by value so that property values move into the result.
pub fn check(raw: RawSection, side: Side, findings: &mut Findings) -> Checked {
    if side == Side::Public && LEGACY_TYPES.contains(&raw.section_type.as_str()) {
        findings.warning(
            raw.line,
            format!(
                "legacy '{}' section '{}' (Proxmox VE 8.0) ignored: Proxmox VE 8 drops it on \
                 load, Proxmox VE 9 rejects a file containing it; remove it",
                raw.section_type,
                printable(&raw.name)
            ),
        );
        return Checked::Legacy;
    }
    let Some(section_type) = SectionType::parse(&raw.section_type, side) else {
        let hint = match (side, SectionType::from_name(&raw.section_type)) {
            (Side::Private, Some(_)) => format!(
                " ({} sections belong in notifications.cfg)",
                raw.section_type
            ),
            _ => String::new(),
        };
        findings.load_error(
            raw.line,
            format!(
                "unknown section type '{}'{hint}",
                printable(&raw.section_type)
            ),
        );
        return Checked::BadHeader;
    };
    // Upstream does not check the names of private smtp and gotify sections.
    let name_checked =
        !(side == Side::Private && matches!(section_type, SectionType::Smtp | SectionType::Gotify));
    if name_checked && let Err(reason) = value::check_entity_name(&raw.name) {
        findings.load_error(
            raw.line,
            format!("invalid section name '{}': {reason}", printable(&raw.name)),
        );
        return Checked::BadHeader;
    }

    let mut valid = raw.errors.is_empty();
    for error in &raw.errors {
        findings.load_error(error.line, error.message.clone());
    }
    let defs = properties(section_type, side);
    let mut props: BTreeMap<&'static str, Vec<Item>> = BTreeMap::new();
    // Keys written so far, with a valid value or not: for duplicates and required keys.
    // (Only known keys matter for both; an unknown key is an error of its own.)
    let mut written: Vec<&'static str> = Vec::new();
    for property in raw.properties {
        let line = property.line;
        match check_property(property, section_type, side, defs, &written) {
            Ok((key, item)) => {
                written.push(key);
                props.entry(key).or_default().push(item);
            }
            Err((key, message)) => {
                written.extend(key);
                findings.load_error(line, message);
                valid = false;
            }
        }
    }
    for def in defs.iter().filter(|def| def.required) {
        if !written.contains(&def.key) {
            findings.load_error(
                raw.line,
                format!(
                    "section '{}: {}': required property '{}' is missing",
                    section_type.as_str(),
                    printable(&raw.name),
                    def.key
                ),
            );
            valid = false;
        }
    }
    if valid {
        Checked::Valid(Section {
            section_type,
            name: raw.name,
            line: raw.line,
            props,
        })
    } else {
        Checked::Invalid {
            name: raw.name,
            line: raw.line,
        }
    }
}

/// On error, the key of the schema it belongs to (if any) comes along, since a repeated
/// key counts as a duplicate even when its first value was invalid.
fn check_property(
    property: RawProperty,
    section_type: SectionType,
    side: Side,
    defs: &[PropDef],
    written: &[&'static str],
) -> Result<(&'static str, Item), (Option<&'static str>, String)> {
    let key = property.key.as_str();
    let Some(def) = defs.iter().find(|def| def.key == key) else {
        let hint = if key.starts_with('#') {
            Some(COMMENT_HINT)
        } else {
            wrong_file_hint(key, section_type, side)
        };
        let mut message = format!(
            "unknown property '{}' for section type '{}'",
            printable(key),
            section_type.as_str()
        );
        if let Some(hint) = hint {
            message.push(' ');
            message.push_str(hint);
        }
        return Err((None, message));
    };
    if !def.list && written.contains(&def.key) {
        return Err((
            Some(def.key),
            format!("duplicate property '{key}' (only list properties may be repeated)"),
        ));
    }
    let value = parse_value(&property.value, def)
        .map_err(|reason| (Some(def.key), format!("property '{key}': {reason}")))?;
    Ok((
        def.key,
        Item {
            text: property.value,
            value,
            line: property.line,
        },
    ))
}

fn parse_value(text: &str, def: &PropDef) -> Result<Value, String> {
    match def.kind {
        Kind::Text(limits) => value::check_text(text, limits).map(|()| Value::Text(text.into())),
        Kind::Bool => value::parse_bool(text).map(Value::Bool),
        Kind::Port => value::parse_integer(text, 0, 65535).map(Value::Int),
        Kind::Enum(words) => value::parse_enum(text, words).map(Value::Word),
        Kind::EntityName => value::check_entity_name(text)
            .map(|()| Value::Text(text.into()))
            .map_err(|reason| format!("invalid name '{}': {reason}", printable(text))),
        Kind::HttpUrl => value::check_http_url(text).map(|()| Value::Text(text.into())),
        Kind::NameValue => {
            value::parse_property_string(text, NAME_VALUE_KEYS, def.secret).map(Value::Pairs)
        }
        Kind::MatchField => FieldRule::parse(text).map(Value::Field),
        Kind::MatchSeverity => SeverityRule::parse(text).map(Value::Severity),
        Kind::MatchCalendar => CalendarRule::parse(text).map(Value::Calendar),
    }
}
