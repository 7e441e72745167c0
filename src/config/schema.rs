//! The section types of both notification files and their properties (config.md §4): the
//! one table that names every key, says whether it repeats or is required, states what it
//! means when it is not written, and parses its value straight into the typed model. `check`
//! reads one section of the file this way, in a single pass, keeping the line of every
//! property, or reports why it cannot. The model's defaults (`SmtpMode::default`,
//! `SmtpConfig::effective_port`, …) read the table, so no default is written anywhere else.

use crate::matcher::calendar::CalendarRule;
use crate::matcher::field::FieldRule;
use crate::matcher::severity::SeverityRule;

use super::NameMap;
use super::findings::Findings;
use super::model::{
    GotifyConfig, HttpMethod, Lines, Located, MatchMode, Name, Rule, Secret, SendmailConfig,
    SmtpConfig, SmtpMode, WebhookConfig, WebhookHeader, WebhookSecret,
};
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

/// Every property key of both files. Code outside this table names a property by this
/// enum; its text is written only in `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prop {
    Comment,
    Disable,
    Origin,
    Mailto,
    MailtoUser,
    FromAddress,
    Author,
    Filter,
    Server,
    Port,
    Mode,
    Username,
    Password,
    Token,
    Method,
    Url,
    Header,
    Body,
    Secret,
    MatchField,
    MatchSeverity,
    MatchCalendar,
    InvertMatch,
    // The last one: `PropSet` checks that the last fits its bits.
    Target,
}

impl Prop {
    pub const fn key(self) -> &'static str {
        match self {
            Prop::Comment => "comment",
            Prop::Disable => "disable",
            Prop::Origin => "origin",
            Prop::Mailto => "mailto",
            Prop::MailtoUser => "mailto-user",
            Prop::FromAddress => "from-address",
            Prop::Author => "author",
            Prop::Filter => "filter",
            Prop::Server => "server",
            Prop::Port => "port",
            Prop::Mode => "mode",
            Prop::Username => "username",
            Prop::Password => "password",
            Prop::Token => "token",
            Prop::Method => "method",
            Prop::Url => "url",
            Prop::Header => "header",
            Prop::Body => "body",
            Prop::Secret => "secret",
            Prop::MatchField => "match-field",
            Prop::MatchSeverity => "match-severity",
            Prop::MatchCalendar => "match-calendar",
            Prop::InvertMatch => "invert-match",
            Prop::Target => "target",
        }
    }
}

/// A set of properties, one bit each: what a section has written so far, kept without an
/// allocation per section.
#[derive(Debug, Clone, Copy, Default)]
struct PropSet(u32);

impl PropSet {
    const fn bit(prop: Prop) -> u32 {
        1 << prop as u32
    }

    fn insert(&mut self, prop: Prop) {
        self.0 |= PropSet::bit(prop);
    }

    fn contains(self, prop: Prop) -> bool {
        self.0 & PropSet::bit(prop) != 0
    }
}

// Every property has its bit (`Target` is the last).
const _: () = assert!((Prop::Target as u32) < u32::BITS);

impl std::fmt::Display for Prop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// Parses one value (the text as written, trimmed, at its line) into `T`; the error is the
/// reason only.
type Apply<T> = for<'t> fn(&mut T, &'t str, usize, &mut Interner<'t>) -> Result<(), String>;

/// Matcher rules parsed so far, by their text: each distinct rule is parsed once and then
/// shared (a failing one is parsed again, so every line still gets its message). Target
/// names likewise: thousands of matchers name the same few targets.
#[derive(Default)]
pub struct Interner<'t> {
    field: NameMap<'t, Rule<FieldRule>>,
    severity: NameMap<'t, Rule<SeverityRule>>,
    calendar: NameMap<'t, Rule<CalendarRule>>,
    targets: NameMap<'t, Name>,
}

impl<'t> Interner<'t> {
    /// The shared copy of the target name `text`.
    fn target(&mut self, text: &'t str) -> Name {
        Name::clone(self.targets.entry(text).or_insert_with(|| Name::from(text)))
    }

    /// The shared copy of a matcher's target reference `text`, checked the first time
    /// (every name interned is a valid one).
    fn target_reference(&mut self, text: &'t str) -> Result<Name, String> {
        if let Some(name) = self.targets.get(text) {
            return Ok(Name::clone(name));
        }
        value::check_entity_name(text)
            .map_err(|reason| format!("invalid name '{}': {reason}", printable(text)))?;
        Ok(self.target(text))
    }
}

/// The shared rule for `text`, parsed by `parse` the first time.
fn intern<'t, R>(
    known: &mut NameMap<'t, Rule<R>>,
    text: &'t str,
    parse: fn(&str) -> Result<R, String>,
) -> Result<Rule<R>, String> {
    if let Some(rule) = known.get(text) {
        return Ok(Rule::clone(rule));
    }
    let rule = Rule::new((text.to_string(), parse(text)?));
    known.insert(text, Rule::clone(&rule));
    Ok(rule)
}

/// What a key stands for when its section does not write it.
pub enum Absent<T: 'static> {
    /// Nothing: the model keeps `None` or an empty list (or, for a required key, the
    /// section is invalid).
    Unset,
    /// This value, as a file would write it.
    Means(&'static str),
    /// A value that depends on the section's other properties (smtp's port on its mode).
    Depends(fn(&T) -> &'static str),
}

/// One property of a section type: its key, its shape, its default and how its value
/// enters the model.
pub struct PropDef<T: 'static> {
    pub prop: Prop,
    pub list: bool,
    pub required: bool,
    pub absent: Absent<T>,
    apply: Apply<T>,
}

const fn prop<T>(prop: Prop, apply: Apply<T>) -> PropDef<T> {
    PropDef {
        prop,
        list: false,
        required: false,
        absent: Absent::Unset,
        apply,
    }
}

/// A property that means `text` when it is not written.
const fn prop_or<T>(prop: Prop, text: &'static str, apply: Apply<T>) -> PropDef<T> {
    PropDef {
        absent: Absent::Means(text),
        ..self::prop(prop, apply)
    }
}

/// A property that means what `default` says of the section when it is not written.
const fn prop_or_else<T>(
    prop: Prop,
    default: fn(&T) -> &'static str,
    apply: Apply<T>,
) -> PropDef<T> {
    PropDef {
        absent: Absent::Depends(default),
        ..self::prop(prop, apply)
    }
}

const fn list<T>(prop: Prop, apply: Apply<T>) -> PropDef<T> {
    PropDef {
        list: true,
        ..self::prop(prop, apply)
    }
}

const fn required<T>(prop: Prop, apply: Apply<T>) -> PropDef<T> {
    PropDef {
        required: true,
        ..self::prop(prop, apply)
    }
}

const RECIPIENT: TextLimits = TextLimits {
    min: 2,
    max: Some(64),
    single_line: true,
};
const COMMENT_LIMITS: TextLimits = TextLimits {
    min: 0,
    max: Some(128),
    single_line: true,
};
pub const ORIGINS: &[&str] = &["user-created", "builtin", "modified-builtin"];
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

/// Text without limits.
fn text(value: &str) -> Result<String, String> {
    Ok(value.to_string())
}

fn recipient(value: &str) -> Result<String, String> {
    value::check_text(value, RECIPIENT).map(|()| value.to_string())
}

/// `name=NAME[,value=BASE64]` → (name, value); with `hidden`, errors never quote the text.
fn name_value(value: &str, hidden: bool) -> Result<(String, Option<String>), String> {
    let mut name = String::new();
    let mut text = None;
    for (key, part) in value::parse_property_string(value, NAME_VALUE_KEYS, hidden)? {
        match key.as_str() {
            "name" => name = part,
            _ => text = Some(part),
        }
    }
    Ok((name, text))
}

/// The value of `value` among `choices`; the message for anything else is `parse_enum`'s.
fn enumerated<E: Copy>(value: &str, choices: &[(&'static str, E)]) -> Result<E, String> {
    if let Some((_, choice)) = choices.iter().find(|(word, _)| *word == value) {
        return Ok(*choice);
    }
    let words: Vec<&'static str> = choices.iter().map(|(word, _)| *word).collect();
    Err(value::parse_enum(value, &words).err().unwrap_or_default())
}

const SMTP_MODES: &[(&str, SmtpMode)] = &[
    ("insecure", SmtpMode::Insecure),
    ("starttls", SmtpMode::Starttls),
    ("tls", SmtpMode::Tls),
];
const HTTP_METHODS: &[(&str, HttpMethod)] = &[
    ("post", HttpMethod::Post),
    ("put", HttpMethod::Put),
    ("get", HttpMethod::Get),
];
const MATCH_MODES: &[(&str, MatchMode)] = &[("all", MatchMode::All), ("any", MatchMode::Any)];

/// The display name in `From:` of mail from a target that writes no `author`.
const AUTHOR: &str = "Proxmox VE";

/// Whether two texts are equal, at compile time.
const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The fixed default the table states for `prop`, at compile time (a build error if it
/// states none).
const fn default_text<T>(defs: &[PropDef<T>], prop: Prop) -> &'static str {
    let mut i = 0;
    while i < defs.len() {
        if defs[i].prop as u8 == prop as u8
            && let Absent::Means(text) = defs[i].absent
        {
            return text;
        }
        i += 1;
    }
    panic!("the schema table states no default for this key")
}

/// The choice `word` names, at compile time (a build error if it names none).
const fn choice<E: Copy>(choices: &[(&str, E)], word: &str) -> E {
    let mut i = 0;
    while i < choices.len() {
        if same_text(choices[i].0, word) {
            return choices[i].1;
        }
        i += 1;
    }
    panic!("a default is not among the choices of its key")
}

/// The table's defaults in the model's types, for the model's `Default`s and accessors;
/// the fixed ones computed by the compiler from the table's texts.
pub mod defaults {
    use super::*;

    pub const SMTP_MODE: SmtpMode = choice(SMTP_MODES, default_text(SMTP, Prop::Mode));
    pub const MATCH_MODE: MatchMode = choice(MATCH_MODES, default_text(MATCHER, Prop::Mode));
    pub const SENDMAIL_AUTHOR: &str = default_text(SENDMAIL, Prop::Author);
    pub const SMTP_AUTHOR: &str = default_text(SMTP, Prop::Author);

    /// The port an smtp target without `port` connects to.
    pub fn smtp_port(smtp: &SmtpConfig) -> u16 {
        let text = SMTP.iter().find_map(|def| match def.absent {
            Absent::Depends(default) if def.prop == Prop::Port => Some(default(smtp)),
            _ => None,
        });
        // The texts are numbers, as the table's unit test checks.
        text.and_then(|text| text.parse().ok()).unwrap_or(0)
    }
}

/// The properties every public section has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Common {
    pub comment: Option<String>,
    pub disable: bool,
}

const COMMON: &[PropDef<Common>] = &[
    prop(Prop::Comment, |c, v, _, _| {
        value::check_text(v, COMMENT_LIMITS)?;
        c.comment = Some(v.to_string());
        Ok(())
    }),
    prop_or(Prop::Disable, "0", |c, v, _, _| {
        c.disable = value::parse_bool(v)?;
        Ok(())
    }),
    // Computed from the built-ins instead (config.md §3); only checked.
    prop(Prop::Origin, |_, v, _, _| {
        value::parse_enum(v, ORIGINS).map(drop)
    }),
];

const SENDMAIL: &[PropDef<SendmailConfig>] = &[
    list(Prop::Mailto, |c, v, _, _| {
        c.mailto.push(recipient(v)?);
        Ok(())
    }),
    list(Prop::MailtoUser, |c, v, _, _| {
        c.mailto_user.push(recipient(v)?);
        Ok(())
    }),
    prop(Prop::FromAddress, |c, v, _, _| {
        c.from_address = Some(text(v)?);
        Ok(())
    }),
    prop_or(Prop::Author, AUTHOR, |c, v, _, _| {
        c.author = Some(text(v)?);
        Ok(())
    }),
    // Legacy (PVE 8.0 filters): accepted and ignored, as upstream.
    prop(Prop::Filter, |_, _, _, _| Ok(())),
];

const SMTP: &[PropDef<SmtpConfig>] = &[
    required(Prop::Server, |c, v, _, _| {
        c.server = text(v)?;
        Ok(())
    }),
    prop_or_else(
        Prop::Port,
        |c| match c.mode {
            SmtpMode::Insecure => "25",
            SmtpMode::Starttls => "587",
            SmtpMode::Tls => "465",
        },
        |c, v, _, _| {
            let port = value::parse_integer(v, 0, 65535)?;
            c.port = u16::try_from(port).ok();
            Ok(())
        },
    ),
    prop_or(Prop::Mode, "tls", |c, v, _, _| {
        c.mode = enumerated(v, SMTP_MODES)?;
        Ok(())
    }),
    prop(Prop::Username, |c, v, _, _| {
        c.username = Some(text(v)?);
        Ok(())
    }),
    list(Prop::Mailto, |c, v, _, _| {
        c.mailto.push(recipient(v)?);
        Ok(())
    }),
    list(Prop::MailtoUser, |c, v, _, _| {
        c.mailto_user.push(recipient(v)?);
        Ok(())
    }),
    required(Prop::FromAddress, |c, v, _, _| {
        c.from_address = text(v)?;
        Ok(())
    }),
    prop_or(Prop::Author, AUTHOR, |c, v, _, _| {
        c.author = Some(text(v)?);
        Ok(())
    }),
];

const GOTIFY: &[PropDef<GotifyConfig>] = &[
    required(Prop::Server, |c, v, _, _| {
        c.server = text(v)?;
        Ok(())
    }),
    // Legacy (PVE 8.0 filters): accepted and ignored, as upstream.
    prop(Prop::Filter, |_, _, _, _| Ok(())),
];

const WEBHOOK: &[PropDef<WebhookConfig>] = &[
    required(Prop::Method, |c, v, _, _| {
        c.method = enumerated(v, HTTP_METHODS)?;
        Ok(())
    }),
    required(Prop::Url, |c, v, _, _| {
        value::check_http_url(v)?;
        c.url = v.to_string();
        Ok(())
    }),
    list(Prop::Header, |c, v, _, _| {
        let (name, value) = name_value(v, false)?;
        c.header.push(WebhookHeader { name, value });
        Ok(())
    }),
    prop(Prop::Body, |c, v, _, _| {
        c.body = Some(text(v)?);
        Ok(())
    }),
    // Checked like the private ones, but the values come from the private file only.
    list(Prop::Secret, |_, v, _, _| name_value(v, true).map(drop)),
];

/// A matcher's own properties; `Common` holds the rest.
#[derive(Debug, Clone, Default)]
pub struct MatcherBody {
    pub mode: MatchMode,
    pub invert_match: bool,
    pub match_field: Vec<Located<Rule<FieldRule>>>,
    pub match_severity: Vec<Located<Rule<SeverityRule>>>,
    pub match_calendar: Vec<Located<Rule<CalendarRule>>>,
    pub target: Vec<Located<Name>>,
}

impl MatcherBody {
    /// Room for exactly the rules and targets `raw` writes: a matcher lives as long as the
    /// configuration, and vectors grown one value at a time keep spare room.
    fn sized_for(raw: &RawSection<'_>) -> MatcherBody {
        let count = |prop: Prop| {
            raw.properties
                .iter()
                .filter(|p| p.key == prop.key())
                .count()
        };
        MatcherBody {
            match_field: Vec::with_capacity(count(Prop::MatchField)),
            match_severity: Vec::with_capacity(count(Prop::MatchSeverity)),
            match_calendar: Vec::with_capacity(count(Prop::MatchCalendar)),
            target: Vec::with_capacity(count(Prop::Target)),
            ..MatcherBody::default()
        }
    }
}

const MATCHER: &[PropDef<MatcherBody>] = &[
    list(Prop::MatchField, |m, v, line, rules| {
        let value = intern(&mut rules.field, v, FieldRule::parse)?;
        m.match_field.push(Located { value, line });
        Ok(())
    }),
    list(Prop::MatchSeverity, |m, v, line, rules| {
        let value = intern(&mut rules.severity, v, SeverityRule::parse)?;
        m.match_severity.push(Located { value, line });
        Ok(())
    }),
    list(Prop::MatchCalendar, |m, v, line, rules| {
        let value = intern(&mut rules.calendar, v, CalendarRule::parse)?;
        m.match_calendar.push(Located { value, line });
        Ok(())
    }),
    prop_or(Prop::Mode, "all", |m, v, _, _| {
        m.mode = enumerated(v, MATCH_MODES)?;
        Ok(())
    }),
    prop_or(Prop::InvertMatch, "0", |m, v, _, _| {
        m.invert_match = value::parse_bool(v)?;
        Ok(())
    }),
    list(Prop::Target, |m, v, line, names| {
        let value = names.target_reference(v)?;
        m.target.push(Located { value, line });
        Ok(())
    }),
];

/// The private part of a target, joined to the public one by name.
#[derive(Debug, Clone, Default)]
pub struct PrivateBody {
    pub password: Option<Secret>,
    pub token: Option<Secret>,
    pub secret: Vec<WebhookSecret>,
}

const SMTP_PRIVATE: &[PropDef<PrivateBody>] = &[prop(Prop::Password, |p, v, _, _| {
    p.password = Some(Secret::new(v));
    Ok(())
})];
const GOTIFY_PRIVATE: &[PropDef<PrivateBody>] = &[required(Prop::Token, |p, v, _, _| {
    p.token = Some(Secret::new(v));
    Ok(())
})];
const WEBHOOK_PRIVATE: &[PropDef<PrivateBody>] = &[list(Prop::Secret, |p, v, _, _| {
    let (name, value) = name_value(v, true)?;
    p.secret.push(WebhookSecret {
        name,
        value: value.map(Secret::new),
    });
    Ok(())
})];

/// The keys of a section type in the file of `side`.
fn keys(section_type: SectionType, side: Side) -> Vec<Prop> {
    fn of<T>(defs: &[PropDef<T>]) -> Vec<Prop> {
        defs.iter().map(|def| def.prop).collect()
    }
    let common = || of(COMMON);
    match (side, section_type) {
        (Side::Public, SectionType::Sendmail) => [common(), of(SENDMAIL)].concat(),
        (Side::Public, SectionType::Smtp) => [common(), of(SMTP)].concat(),
        (Side::Public, SectionType::Gotify) => [common(), of(GOTIFY)].concat(),
        (Side::Public, SectionType::Webhook) => [common(), of(WEBHOOK)].concat(),
        (Side::Public, SectionType::Matcher) => [common(), of(MATCHER)].concat(),
        (Side::Private, SectionType::Smtp) => of(SMTP_PRIVATE),
        (Side::Private, SectionType::Gotify) => of(GOTIFY_PRIVATE),
        (Side::Private, SectionType::Webhook) => of(WEBHOOK_PRIVATE),
        (Side::Private, SectionType::Sendmail | SectionType::Matcher) => Vec::new(),
    }
}

/// The typed content of a valid section.
#[derive(Debug, Clone)]
pub enum Body {
    Sendmail(SendmailConfig),
    Smtp(SmtpConfig),
    Gotify(GotifyConfig),
    Webhook(WebhookConfig),
    Matcher(MatcherBody),
    Private(PrivateBody),
}

/// A section whose header and every property passed their checks, in its final types.
#[derive(Debug, Clone)]
pub struct Section {
    pub section_type: SectionType,
    pub name: Name,
    pub line: usize,
    pub common: Common,
    pub body: Body,
    /// Every property line, in file order.
    pub lines: Lines,
}

/// The result of checking one raw section. Matched at once, so the size of the valid
/// variant costs nothing, where boxing it would cost an allocation per section.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
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
    let belongs_elsewhere = keys(section_type, other).iter().any(|p| p.key() == key);
    match (belongs_elsewhere, side) {
        (true, Side::Public) => Some("(secrets belong in priv/notifications.cfg)"),
        (true, Side::Private) => Some("(this property belongs in notifications.cfg)"),
        (false, _) => None,
    }
}

/// Checks header and properties of `raw` from the file of `side`, reporting every problem,
/// and parses every value into the model as it goes.
pub fn check<'t>(
    raw: &RawSection<'t>,
    side: Side,
    findings: &mut Findings,
    rules: &mut Interner<'t>,
) -> Checked {
    if side == Side::Public && LEGACY_TYPES.contains(&raw.section_type) {
        findings.warning(
            raw.line,
            format!(
                "legacy '{}' section '{}' (Proxmox VE 8.0) ignored: Proxmox VE 8 drops it on \
                 load, Proxmox VE 9 rejects a file containing it; remove it",
                raw.section_type,
                printable(raw.name)
            ),
        );
        return Checked::Legacy;
    }
    let Some(section_type) = SectionType::parse(raw.section_type, side) else {
        let hint = match (side, SectionType::from_name(raw.section_type)) {
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
                printable(raw.section_type)
            ),
        );
        return Checked::BadHeader;
    };
    // Upstream does not check the names of private smtp and gotify sections.
    let name_checked =
        !(side == Side::Private && matches!(section_type, SectionType::Smtp | SectionType::Gotify));
    if name_checked && let Err(reason) = value::check_entity_name(raw.name) {
        findings.load_error(
            raw.line,
            format!("invalid section name '{}': {reason}", printable(raw.name)),
        );
        return Checked::BadHeader;
    }

    for error in &raw.errors {
        findings.load_error(error.line, error.message.clone());
    }
    let mut reader = Reader {
        raw,
        section_type,
        side,
        findings,
        rules,
        valid: raw.errors.is_empty(),
        lines: Lines::with_capacity(raw.properties.len()),
        written: PropSet::default(),
        common: Common::default(),
    };
    let body = match (side, section_type) {
        (Side::Public, SectionType::Sendmail) => Body::Sendmail(reader.read(SENDMAIL)),
        (Side::Public, SectionType::Smtp) => Body::Smtp(reader.read(SMTP)),
        (Side::Public, SectionType::Gotify) => Body::Gotify(reader.read(GOTIFY)),
        (Side::Public, SectionType::Webhook) => Body::Webhook(reader.read(WEBHOOK)),
        (Side::Public, SectionType::Matcher) => {
            Body::Matcher(reader.read_into(MATCHER, MatcherBody::sized_for(raw)))
        }
        (Side::Private, SectionType::Smtp) => Body::Private(reader.read(SMTP_PRIVATE)),
        (Side::Private, SectionType::Gotify) => Body::Private(reader.read(GOTIFY_PRIVATE)),
        (Side::Private, SectionType::Webhook) => Body::Private(reader.read(WEBHOOK_PRIVATE)),
        (Side::Private, SectionType::Sendmail | SectionType::Matcher) => {
            Body::Private(reader.read(&[]))
        }
    };
    let Reader {
        valid,
        lines,
        common,
        ..
    } = reader;
    if valid {
        // A matcher's name is its own; a target's is shared with the matchers naming it.
        let name = match section_type {
            SectionType::Matcher => Name::from(raw.name),
            _ => rules.target(raw.name),
        };
        Checked::Valid(Section {
            section_type,
            name,
            line: raw.line,
            common,
            body,
            lines,
        })
    } else {
        Checked::Invalid {
            name: raw.name.to_string(),
            line: raw.line,
        }
    }
}

/// The state of reading one section's properties.
struct Reader<'r, 't> {
    raw: &'r RawSection<'t>,
    section_type: SectionType,
    side: Side,
    findings: &'r mut Findings,
    rules: &'r mut Interner<'t>,
    valid: bool,
    lines: Lines,
    /// Keys written so far, with a valid value or not: for duplicates and required keys.
    /// (Only known keys matter for both; an unknown key is an error of its own.)
    written: PropSet,
    common: Common,
}

impl<'t> Reader<'_, 't> {
    /// Every property into a `T` (or `Common`, on the public side), then the required keys.
    fn read<T: Default>(&mut self, defs: &[PropDef<T>]) -> T {
        self.read_into(defs, T::default())
    }

    /// As `read`, into a body prepared by the caller.
    fn read_into<T>(&mut self, defs: &[PropDef<T>], mut body: T) -> T {
        let common: &[PropDef<Common>] = match self.side {
            Side::Public => COMMON,
            Side::Private => &[],
        };
        for property in &self.raw.properties {
            let result = if let Some(def) = defs.iter().find(|d| d.prop.key() == property.key) {
                self.apply(def, &mut body, property)
            } else if let Some(def) = common.iter().find(|d| d.prop.key() == property.key) {
                let mut values = std::mem::take(&mut self.common);
                let result = self.apply(def, &mut values, property);
                self.common = values;
                result
            } else {
                Err(self.unknown(property.key))
            };
            if let Err(message) = result {
                self.findings.load_error(property.line, message);
                self.valid = false;
            }
        }
        for def in defs.iter().filter(|def| def.required) {
            if !self.written.contains(def.prop) {
                self.findings.load_error(
                    self.raw.line,
                    format!(
                        "section '{}: {}': required property '{}' is missing",
                        self.section_type.as_str(),
                        printable(self.raw.name),
                        def.prop
                    ),
                );
                self.valid = false;
            }
        }
        body
    }

    /// A repeated key counts as a duplicate even when its first value was invalid.
    fn apply<T>(
        &mut self,
        def: &PropDef<T>,
        target: &mut T,
        property: &RawProperty<'t>,
    ) -> Result<(), String> {
        let key = property.key;
        if !def.list && self.written.contains(def.prop) {
            return Err(format!(
                "duplicate property '{key}' (only list properties may be repeated)"
            ));
        }
        self.written.insert(def.prop);
        (def.apply)(target, property.value, property.line, self.rules)
            .map_err(|reason| format!("property '{key}': {reason}"))?;
        self.lines.push(def.prop, property.line);
        Ok(())
    }

    fn unknown(&self, key: &str) -> String {
        let hint = if key.starts_with('#') {
            Some(COMMENT_HINT)
        } else {
            wrong_file_hint(key, self.section_type, self.side)
        };
        let mut message = format!(
            "unknown property '{}' for section type '{}'",
            printable(key),
            self.section_type.as_str()
        );
        if let Some(hint) = hint {
            message.push(' ');
            message.push_str(hint);
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each fixed default is a valid value and writing it changes nothing that `effective`
    /// shows: the model starts out as the table says, or its accessors say it for `None`.
    fn check_defaults<T: Default>(defs: &[PropDef<T>], effective: fn(&T) -> String) {
        for def in defs {
            if let Absent::Means(text) = def.absent {
                let mut body = T::default();
                (def.apply)(&mut body, text, 0, &mut Interner::default())
                    .unwrap_or_else(|reason| panic!("default of {}: {reason}", def.prop));
                assert_eq!(
                    effective(&body),
                    effective(&T::default()),
                    "default of {}",
                    def.prop
                );
            }
        }
    }

    fn debug<T: std::fmt::Debug>(body: &T) -> String {
        format!("{body:?}")
    }

    #[test]
    fn defaults_are_valid_and_are_the_starting_values() {
        check_defaults(COMMON, debug);
        check_defaults(SENDMAIL, |c| {
            let author = Some(c.author().to_string());
            debug(&SendmailConfig {
                author,
                ..c.clone()
            })
        });
        check_defaults(SMTP, |c| {
            let author = Some(c.author().to_string());
            let port = Some(c.effective_port());
            debug(&SmtpConfig {
                author,
                port,
                ..c.clone()
            })
        });
        check_defaults(GOTIFY, debug);
        check_defaults(WEBHOOK, debug);
        check_defaults(MATCHER, debug);
        check_defaults(SMTP_PRIVATE, debug);
        check_defaults(GOTIFY_PRIVATE, debug);
        check_defaults(WEBHOOK_PRIVATE, debug);
    }

    #[test]
    fn the_default_port_of_every_mode_is_a_valid_port() {
        for (_, mode) in SMTP_MODES {
            let smtp = SmtpConfig {
                mode: *mode,
                ..SmtpConfig::default()
            };
            let port = defaults::smtp_port(&smtp);
            assert_ne!(port, 0, "{mode:?}");
            let mut written = SmtpConfig::default();
            let def = SMTP.iter().find(|def| def.prop == Prop::Port).unwrap();
            (def.apply)(&mut written, &port.to_string(), 0, &mut Interner::default()).unwrap();
            assert_eq!(written.port, Some(port));
        }
    }

    #[test]
    fn required_keys_have_no_default() {
        fn check<T>(defs: &[PropDef<T>]) {
            for def in defs.iter().filter(|def| def.required) {
                assert!(matches!(def.absent, Absent::Unset), "{}", def.prop);
            }
        }
        check(SMTP);
        check(GOTIFY);
        check(WEBHOOK);
        check(GOTIFY_PRIVATE);
    }
}
