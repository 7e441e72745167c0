//! The typed configuration that the rest of pvenotify works on. Built by the loader from
//! the four files; plain data, no I/O.
//!
//! It is compact where large configurations repeat themselves: a target's name is stored
//! once (`Name`, shared by its section and every matcher naming it) and a matcher rule once
//! per distinct text (`Rule`). Both are interned while a file is read, not borrowed from its
//! text: borrowing would tie a lifetime to `Config` and to everything holding it, for a
//! saving that sharing already gives. Other values (addresses, URLs, comments) are each
//! copied once; there is one per target, and targets are few.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::matcher::calendar::CalendarRule;
use crate::matcher::field::FieldRule;
use crate::matcher::severity::SeverityRule;

pub use super::schema::Prop;
use super::schema::defaults;

/// A secret value from `priv/notifications.cfg` (or proxy credentials). Its `Debug` and
/// `Display` never show the value, so it cannot leak through a stray `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The only way to the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(hidden)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(hidden)")
    }
}

/// Where a section comes from; decides how `list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Builtin,
    ModifiedBuiltin,
    UserCreated,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::ModifiedBuiltin => "modified-builtin",
            Origin::UserCreated => "user-created",
        }
    }
}

/// A matcher rule as written and as parsed. Shared by every matcher that writes the same
/// text: large configurations repeat a few rules thousands of times, and each is parsed
/// (a regex compiled) and stored once.
pub type Rule<R> = std::sync::Arc<(String, R)>;

/// The name of a section, or a matcher's reference to one; clones share the text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(std::sync::Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(text.into())
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// So that maps keyed by `Name` are looked up with a `&str`.
impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A value together with the line it was read from (0 for built-ins).
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
}

/// The line of every property of a section, in file order (0 for built-ins): what
/// `validate`'s checks point at. A list property has one entry per value, in the order of
/// its values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines(Vec<(Prop, u32)>);

impl Lines {
    pub fn with_capacity(capacity: usize) -> Lines {
        Lines(Vec::with_capacity(capacity))
    }

    pub fn push(&mut self, prop: Prop, line: usize) {
        self.0.push((prop, u32::try_from(line).unwrap_or(u32::MAX)));
    }

    /// The line of the first `prop`, `None` for built-ins (line 0) or when absent.
    pub fn first(&self, prop: Prop) -> Option<usize> {
        self.all(prop).next().filter(|line| *line > 0)
    }

    /// The lines of every `prop`, in file order.
    pub fn all(&self, prop: Prop) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .filter(move |(p, _)| *p == prop)
            .map(|(_, line)| *line as usize)
    }

    /// The properties written, in file order (repeated for lists).
    pub fn props(&self) -> impl Iterator<Item = Prop> + '_ {
        self.0.iter().map(|(p, _)| *p)
    }

    /// The same properties at line 0, as the built-ins have them.
    pub fn without_lines(mut self) -> Lines {
        for (_, line) in &mut self.0 {
            *line = 0;
        }
        self
    }
}

/// The whole configuration of one directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration directory, as given.
    pub dir: PathBuf,
    /// Path of `notifications.cfg` as opened (used in messages).
    pub public_path: PathBuf,
    /// Path of `priv/notifications.cfg` as opened.
    pub private_path: PathBuf,
    pub targets: BTreeMap<Name, Target>,
    pub matchers: BTreeMap<Name, Matcher>,
    pub users: Users,
    pub datacenter: Datacenter,
}

/// What `user.cfg` says about e-mail addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Users {
    /// The file does not exist: no user has an address.
    Missing,
    /// The file exists but could not be read; mail targets needing it fail (configuration).
    Unreadable(String),
    /// user id → e-mail address (users without an address are absent).
    Loaded(BTreeMap<String, String>),
}

impl Users {
    /// The address of `user`, `Ok(None)` when it has none, `Err` when user.cfg is unreadable.
    pub fn email(&self, user: &str) -> Result<Option<&str>, &str> {
        match self {
            Users::Missing => Ok(None),
            Users::Unreadable(reason) => Err(reason),
            Users::Loaded(map) => Ok(map.get(user).map(String::as_str)),
        }
    }
}

/// The part of `datacenter.cfg` pvenotify reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Datacenter {
    pub email_from: Option<String>,
    /// Raw `http_proxy` value; may hold credentials, so never print it unreduced.
    pub http_proxy: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: Name,
    pub origin: Origin,
    pub comment: Option<String>,
    pub disable: bool,
    /// Line of the section header in notifications.cfg (0 for built-ins).
    pub line: usize,
    pub kind: TargetKind,
    /// The line of each property in notifications.cfg.
    pub lines: Lines,
    /// The line of each property in priv/notifications.cfg.
    pub private_lines: Lines,
}

#[derive(Debug, Clone)]
pub enum TargetKind {
    Sendmail(SendmailConfig),
    Smtp(SmtpConfig),
    Gotify(GotifyConfig),
    Webhook(WebhookConfig),
}

impl TargetKind {
    /// The section type name, as in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            TargetKind::Sendmail(_) => "sendmail",
            TargetKind::Smtp(_) => "smtp",
            TargetKind::Gotify(_) => "gotify",
            TargetKind::Webhook(_) => "webhook",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SendmailConfig {
    pub mailto: Vec<String>,
    pub mailto_user: Vec<String>,
    pub from_address: Option<String>,
    /// As written; `None` = the schema's default (`author()`).
    pub author: Option<String>,
}

impl SendmailConfig {
    /// The display name of the sender.
    pub fn author(&self) -> &str {
        self.author.as_deref().unwrap_or(defaults::SENDMAIL_AUTHOR)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpMode {
    Insecure,
    Starttls,
    Tls,
}

/// The schema's default for smtp `mode`.
impl Default for SmtpMode {
    fn default() -> SmtpMode {
        defaults::SMTP_MODE
    }
}

impl SmtpMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpMode::Insecure => "insecure",
            SmtpMode::Starttls => "starttls",
            SmtpMode::Tls => "tls",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmtpConfig {
    pub server: String,
    /// As written; `None` = the mode's default port.
    pub port: Option<u16>,
    pub mode: SmtpMode,
    pub username: Option<String>,
    /// From the private file.
    pub password: Option<Secret>,
    pub mailto: Vec<String>,
    pub mailto_user: Vec<String>,
    pub from_address: String,
    /// As written; `None` = the schema's default (`author()`).
    pub author: Option<String>,
}

impl SmtpConfig {
    /// The port written, else the schema's default for the mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or_else(|| defaults::smtp_port(self))
    }

    /// The display name of the sender.
    pub fn author(&self) -> &str {
        self.author.as_deref().unwrap_or(defaults::SMTP_AUTHOR)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GotifyConfig {
    pub server: String,
    /// From the private file; `None` when there is no private section.
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpMethod {
    Post,
    Put,
    Get,
}

/// Only where the reader starts: webhook `method` is required and has no default, so a
/// section without it is invalid and this value is never seen.
impl Default for HttpMethod {
    fn default() -> HttpMethod {
        HttpMethod::Post
    }
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Post => "post",
            HttpMethod::Put => "put",
            HttpMethod::Get => "get",
        }
    }
}

/// A webhook `header` entry: `name=NAME,value=BASE64`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookHeader {
    pub name: String,
    /// Base64 of a template, still encoded (decoded at delivery, checked by validation).
    pub value: Option<String>,
}

/// A private webhook `secret` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSecret {
    pub name: String,
    /// Base64 of the value, still encoded.
    pub value: Option<Secret>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookConfig {
    pub method: HttpMethod,
    /// A template; already checked against the HTTP-URL pattern.
    pub url: String,
    pub header: Vec<WebhookHeader>,
    /// Base64 of the body template, still encoded.
    pub body: Option<String>,
    /// From the private file.
    pub secret: Vec<WebhookSecret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    All,
    Any,
}

/// The schema's default for matcher `mode`.
impl Default for MatchMode {
    fn default() -> MatchMode {
        defaults::MATCH_MODE
    }
}

impl MatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::All => "all",
            MatchMode::Any => "any",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: Name,
    pub origin: Origin,
    pub comment: Option<String>,
    pub disable: bool,
    pub line: usize,
    pub mode: MatchMode,
    pub invert_match: bool,
    /// Each rule keeps its text as written (for explain and list) and its line.
    pub match_field: Vec<Located<Rule<FieldRule>>>,
    pub match_severity: Vec<Located<Rule<SeverityRule>>>,
    pub match_calendar: Vec<Located<Rule<CalendarRule>>>,
    pub target: Vec<Located<Name>>,
    /// The line of each property.
    pub lines: Lines,
}

impl Matcher {
    pub fn has_rules(&self) -> bool {
        !(self.match_field.is_empty()
            && self.match_severity.is_empty()
            && self.match_calendar.is_empty())
    }
}

/// How bad a finding is; decides exit status of `validate` and whether other commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Upstream would refuse the configuration: nothing runs except `validate` (exit 78).
    LoadError,
    /// Loads, but something will certainly go wrong: `validate` fails, others proceed.
    ValidationError,
    /// `validate` exits 0 unless `--strict`.
    Warning,
}

/// One problem found in the configuration, printed as `FILE:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// `None` for findings about a whole file.
    pub line: Option<usize>,
    pub kind: FindingKind,
    /// Never contains a secret value.
    pub message: String,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.kind != FindingKind::Warning
    }
}

/// `FILE:LINE: message`, `FILE:LINE: warning: message`, or without `:LINE` for whole files.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if self.kind == FindingKind::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}
