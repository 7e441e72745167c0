//! The configuration loader: reads `notifications.cfg`, `priv/notifications.cfg`, `user.cfg`
//! and `datacenter.cfg` (config.md), merges the built-ins, joins public and private sections,
//! and reports every problem as a `Finding`. `Sources::read` is the only I/O; `parse` is pure.

pub mod builtin;
pub mod checks;
pub mod datacenter;
pub mod findings;
pub mod model;
pub mod schema;
pub mod section;
#[cfg(test)]
pub mod testing;
pub mod users;
pub mod value;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

pub use datacenter::{HttpProxy, parse_http_proxy};
pub use model::*;

use findings::Findings;
use schema::{Body, Checked, Section, SectionType, Side};

/// Files larger than this are refused (config.md §1).
pub const MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    /// The file does not exist.
    Missing,
    Text(String),
    /// It exists but cannot be used: the reason (unreadable, not UTF-8, a directory, too big).
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as opened, used in messages.
    pub path: PathBuf,
    pub content: FileContent,
}

impl SourceFile {
    fn missing(path: PathBuf) -> SourceFile {
        SourceFile {
            path,
            content: FileContent::Missing,
        }
    }
}

/// The four files as read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub dir: PathBuf,
    /// Why the directory itself is unusable (missing, not a directory), if it is.
    pub dir_error: Option<String>,
    pub public: SourceFile,
    pub private: SourceFile,
    pub users: SourceFile,
    pub datacenter: SourceFile,
    /// Permission bits of `priv/notifications.cfg` when it was read.
    pub private_mode: Option<u32>,
}

impl Sources {
    /// A directory in which every file is missing; tests fill in files with the `with_*`
    /// methods.
    pub fn empty(dir: &Path) -> Sources {
        Sources {
            dir: dir.to_path_buf(),
            dir_error: None,
            public: SourceFile::missing(dir.join("notifications.cfg")),
            private: SourceFile::missing(dir.join("priv/notifications.cfg")),
            users: SourceFile::missing(dir.join("user.cfg")),
            datacenter: SourceFile::missing(dir.join("datacenter.cfg")),
            private_mode: None,
        }
    }

    pub fn with_public(mut self, text: &str) -> Sources {
        self.public.content = FileContent::Text(text.to_string());
        self
    }

    /// The private file, with mode 0600.
    pub fn with_private(mut self, text: &str) -> Sources {
        self.private.content = FileContent::Text(text.to_string());
        self.private_mode = Some(0o600);
        self
    }

    pub fn with_users(mut self, text: &str) -> Sources {
        self.users.content = FileContent::Text(text.to_string());
        self
    }

    pub fn with_datacenter(mut self, text: &str) -> Sources {
        self.datacenter.content = FileContent::Text(text.to_string());
        self
    }

    /// Reads the four files of `dir`. Never panics; every problem is recorded.
    pub fn read(dir: &Path) -> Sources {
        let mut sources = Sources::empty(dir);
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                sources.dir_error = Some("the configuration directory is not a directory".into());
                return sources;
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                sources.dir_error = Some("the configuration directory does not exist".into());
                return sources;
            }
            Err(error) => {
                sources.dir_error = Some(format!(
                    "cannot access the configuration directory: {error}"
                ));
                return sources;
            }
        }
        sources.public.content = read_file(&sources.public.path).0;
        let (content, mode) = read_file(&sources.private.path);
        sources.private.content = content;
        sources.private_mode = mode;
        sources.users.content = read_file(&sources.users.path).0;
        sources.datacenter.content = read_file(&sources.datacenter.path).0;
        sources
    }
}

/// One file, completely, with its permission bits when it could be read. Only a regular
/// file is read: opening a FIFO would wait for a writer forever, and a device could be
/// endless.
fn read_file(path: &Path) -> (FileContent, Option<u32>) {
    match read_text(path) {
        Ok(Some((text, mode))) => (FileContent::Text(text), Some(mode)),
        Ok(None) => (FileContent::Missing, None),
        Err(error) => (FileContent::Unreadable(format!("{error:#}")), None),
    }
}

/// The text of a file and its permission bits; `None` when it does not exist.
fn read_text(path: &Path) -> anyhow::Result<Option<(String, u32)>> {
    let meta = match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        meta => meta?,
    };
    anyhow::ensure!(!meta.is_dir(), "is a directory");
    if let Some(kind) = not_regular(&meta) {
        anyhow::bail!(not_regular_reason(kind));
    }
    let too_big = "larger than 4 MiB";
    anyhow::ensure!(meta.len() <= MAX_FILE_SIZE, too_big);
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    // Checked again on the open file: the path may have been replaced in between, and
    // opening without blocking keeps a FIFO put there from stalling the open itself.
    let file = open_nonblocking(path)?;
    if let Some(kind) = file.metadata().ok().as_ref().and_then(not_regular) {
        anyhow::bail!(not_regular_reason(kind));
    }
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes)?;
    anyhow::ensure!(bytes.len() as u64 <= MAX_FILE_SIZE, too_big);
    let text = String::from_utf8(bytes).map_err(|error| {
        anyhow::anyhow!(
            "not valid UTF-8 (at byte {})",
            error.utf8_error().valid_up_to()
        )
    })?;
    Ok(Some((text, mode_of(&meta))))
}

fn not_regular_reason(kind: &str) -> String {
    format!("not a regular file (a {kind})")
}

/// What a file that is not a regular file is, for the message; `None` for a regular file.
#[cfg(unix)]
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_file() {
        None
    } else if kind.is_fifo() {
        Some("FIFO")
    } else if kind.is_socket() {
        Some("socket")
    } else if kind.is_char_device() {
        Some("character device")
    } else if kind.is_block_device() {
        Some("block device")
    } else if kind.is_dir() {
        Some("directory")
    } else {
        Some("special file")
    }
}

#[cfg(not(unix))]
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    (!meta.is_file()).then_some("special file")
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> u32 {
    0o600
}

/// Facts about the host needed by some checks; filled in by the caller, so tests set them.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// Short node name, e.g. "pve1".
    pub hostname: String,
    /// Full host name, may equal hostname.
    pub fqdn: String,
    /// `None` = not checked; `Some(false)` → warning if a sendmail target exists.
    pub sendmail_usable: Option<bool>,
    /// For that warning's text.
    pub sendmail_path: String,
}

/// The configuration and everything found wrong with it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Usable even with load errors (the valid sections and the built-ins), but nothing may
    /// be routed on it then.
    pub config: Config,
    /// In file order (notifications.cfg, priv/notifications.cfg, user.cfg, datacenter.cfg,
    /// then the rest), then by line.
    pub findings: Vec<Finding>,
}

impl Loaded {
    pub fn load_errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.kind == FindingKind::LoadError)
    }

    pub fn has_load_errors(&self) -> bool {
        self.load_errors().next().is_some()
    }
}

/// FNV-1a for names and rule texts: short keys from a file root writes, where the default
/// hasher's protection against chosen collisions is not needed and costs more than the
/// rest of the lookup.
#[derive(Default)]
pub(crate) struct NameHasher(u64);

/// A map keyed by names from the configuration, hashed with `NameHasher`.
pub(crate) type NameMap<'a, V> = HashMap<&'a str, V, BuildHasherDefault<NameHasher>>;

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What reading a notifications file hands on, section by section in file order. Handed
/// over at once, so the size of a section costs nothing, where boxing it would cost an
/// allocation per section.
#[allow(clippy::large_enum_variant)]
enum Event<'t> {
    /// A valid section.
    Keep(Section),
    /// A later section of this name (valid or not) replaces whatever was kept under it.
    Forget(&'t str),
}

/// Reads one notifications file, handing each section on as soon as it is checked, so that
/// the sections of a large file never exist all at once. Returns the names whose (last)
/// section failed to load.
fn read_notifications<'t>(
    content: &'t FileContent,
    side: Side,
    findings: &mut Findings,
    mut sink: impl FnMut(Event<'t>),
) -> BTreeSet<String> {
    let mut invalid = BTreeSet::new();
    let text = match content {
        FileContent::Missing => return invalid,
        FileContent::Unreadable(reason) => {
            findings.load_error(0, format!("cannot read: {reason}"));
            return invalid;
        }
        FileContent::Text(text) => text,
    };
    // The line of the last header of each name. Hashing beats ordered comparison here:
    // names often share long prefixes.
    let mut names: NameMap<usize> =
        HashMap::with_capacity_and_hasher(text.len() / 128, BuildHasherDefault::default());
    let mut rules = schema::Interner::default();
    let errors = section::scan(text, |raw| {
        let checked = schema::check(raw, side, findings, &mut rules);
        if matches!(checked, Checked::BadHeader | Checked::Legacy) {
            return;
        }
        let name = raw.name;
        if let Some(earlier) = names.insert(name, raw.line) {
            findings.error(
                raw.line,
                format!(
                    "section name '{}' already used at line {earlier}; the earlier section is \
                     ignored",
                    schema::printable(name)
                ),
            );
            sink(Event::Forget(name));
        }
        match checked {
            Checked::Valid(section) => {
                if !invalid.is_empty() {
                    invalid.remove(name);
                }
                sink(Event::Keep(section));
            }
            _ => {
                invalid.insert(name.to_string());
            }
        }
    });
    for error in errors {
        findings.load_error(error.line, error.message);
    }
    invalid
}

/// Parses and checks everything; pure.
pub fn parse(sources: &Sources, host: &HostFacts) -> Loaded {
    let mut public_findings = Findings::new(&sources.public.path);
    let mut private_findings = Findings::new(&sources.private.path);
    let mut users_findings = Findings::new(&sources.users.path);
    let mut datacenter_findings = Findings::new(&sources.datacenter.path);
    let mut other_findings: Vec<Finding> = Vec::new();

    if let Some(problem) = &sources.dir_error {
        let mut dir = Findings::new(&sources.dir);
        dir.load_error(0, problem.clone());
        other_findings.extend(dir.into_vec());
    }

    let users = match &sources.users.content {
        FileContent::Missing => Users::Missing,
        FileContent::Text(text) => Users::Loaded(users::parse(text)),
        FileContent::Unreadable(reason) => Users::Unreadable(format!(
            "cannot read {}: {reason}",
            sources.users.path.display()
        )),
    };
    let (datacenter, datacenter_lines) = match &sources.datacenter.content {
        FileContent::Missing => Default::default(),
        FileContent::Text(text) => datacenter::parse(text),
        FileContent::Unreadable(reason) => {
            datacenter_findings.load_error(0, format!("cannot read: {reason}"));
            Default::default()
        }
    };

    let mut config = Config {
        dir: sources.dir.clone(),
        public_path: sources.public.path.clone(),
        private_path: sources.private.path.clone(),
        targets: BTreeMap::new(),
        matchers: BTreeMap::new(),
        users,
        datacenter,
    };
    let builtins = builtin::sections();
    // Matchers are many and usually written in name order: collected, then built into
    // their map at once, which is quicker than inserting one at a time and fills the
    // map's nodes. `forgotten` holds, for a name used again, how many matchers had been
    // collected then: the earlier ones of that name are dropped (targets are removed
    // from their map at once).
    let mut matchers: Vec<(Name, Matcher)> =
        Vec::with_capacity(matcher_headers(&sources.public.content));
    let mut forgotten: NameMap<usize> = NameMap::default();
    let public_invalid = read_notifications(
        &sources.public.content,
        Side::Public,
        &mut public_findings,
        |event| match event {
            Event::Keep(section) => {
                let origin = builtin::origin(&section, &builtins);
                match into_model(section, origin) {
                    Entry::Target(target) => {
                        config.targets.insert(target.name.clone(), target);
                    }
                    Entry::Matcher(matcher) => matchers.push((matcher.name.clone(), matcher)),
                }
            }
            Event::Forget(name) => {
                config.targets.remove(name);
                forgotten.insert(name, matchers.len());
            }
        },
    );
    if !forgotten.is_empty() {
        let mut index = 0;
        matchers.retain(|(name, _)| {
            let kept = forgotten
                .get(name.as_str())
                .is_none_or(|collected| index >= *collected);
            index += 1;
            kept
        });
    }
    config.matchers = BTreeMap::from_iter(matchers);
    for builtin in builtins {
        if !config.targets.contains_key(&builtin.name)
            && !config.matchers.contains_key(&builtin.name)
        {
            match into_model(builtin, Origin::Builtin) {
                Entry::Target(target) => {
                    config.targets.insert(target.name.clone(), target);
                }
                Entry::Matcher(matcher) => {
                    config.matchers.insert(matcher.name.clone(), matcher);
                }
            }
        }
    }
    // Few and small: kept until all are read, then joined in name order.
    let mut private: BTreeMap<Name, Section> = BTreeMap::new();
    let private_invalid = read_notifications(
        &sources.private.content,
        Side::Private,
        &mut private_findings,
        |event| match event {
            Event::Keep(section) => {
                private.insert(section.name.clone(), section);
            }
            Event::Forget(name) => {
                private.remove(name);
            }
        },
    );
    join_private(&mut config, private, &public_invalid, &mut private_findings);
    if sources.dir_error.is_some() {
        // Nothing was read: checking the built-ins alone would only add noise.
        return Loaded {
            config,
            findings: other_findings,
        };
    }

    let context = checks::Context {
        config: &config,
        public_invalid: &public_invalid,
        private_invalid: &private_invalid,
        datacenter_lines,
        private_mode: match sources.private.content {
            FileContent::Text(_) => sources.private_mode,
            _ => None,
        },
        users_unreadable: match &sources.users.content {
            FileContent::Unreadable(reason) => Some(reason),
            _ => None,
        },
        host,
    };
    checks::run(
        &context,
        &mut checks::Out {
            public: &mut public_findings,
            private: &mut private_findings,
            users: &mut users_findings,
            datacenter: &mut datacenter_findings,
            other: &mut other_findings,
        },
    );

    let mut findings = Vec::new();
    for mut list in [
        public_findings.into_vec(),
        private_findings.into_vec(),
        users_findings.into_vec(),
        datacenter_findings.into_vec(),
        other_findings,
    ] {
        // Stable: findings of one line keep the order in which they were found.
        list.sort_by_key(|finding| finding.line.unwrap_or(0));
        findings.extend(list);
    }
    Loaded { config, findings }
}

/// How many lines of `content` start a matcher section, about: room for exactly them
/// spares a growing list the copies whose memory stays resident. (memchr's search is
/// vectorised; the standard library's substring search costs as much here as a tenth of
/// the whole load.)
fn matcher_headers(content: &FileContent) -> usize {
    let FileContent::Text(text) = content else {
        return 0;
    };
    let header = SectionType::Matcher.as_str().as_bytes();
    let mut line_start = b"\n".to_vec();
    line_start.extend_from_slice(header);
    let at_start = text.as_bytes().starts_with(header);
    usize::from(at_start) + memchr::memmem::find_iter(text.as_bytes(), &line_start).count()
}

enum Entry {
    Target(Target),
    Matcher(Matcher),
}

/// A checked public section as the target or matcher it describes; values move.
fn into_model(section: Section, origin: Origin) -> Entry {
    let Section {
        name,
        line,
        common,
        body,
        lines,
        ..
    } = section;
    let kind = match body {
        Body::Matcher(m) => {
            return Entry::Matcher(Matcher {
                name,
                origin,
                comment: common.comment,
                disable: common.disable,
                line,
                mode: m.mode,
                invert_match: m.invert_match,
                match_field: m.match_field,
                match_severity: m.match_severity,
                match_calendar: m.match_calendar,
                target: m.target,
                lines,
            });
        }
        Body::Sendmail(c) => TargetKind::Sendmail(c),
        Body::Smtp(c) => TargetKind::Smtp(c),
        Body::Gotify(c) => TargetKind::Gotify(c),
        Body::Webhook(c) => TargetKind::Webhook(c),
        // Never public; an empty sendmail keeps the match exhaustive.
        Body::Private(_) => TargetKind::Sendmail(SendmailConfig::default()),
    };
    Entry::Target(Target {
        name,
        origin,
        comment: common.comment,
        disable: common.disable,
        line,
        kind,
        lines,
        private_lines: Lines::default(),
    })
}

/// Gives each gotify, smtp and webhook target its private part (config.md §5.3).
fn join_private(
    config: &mut Config,
    private: BTreeMap<Name, Section>,
    public_invalid: &BTreeSet<String>,
    findings: &mut Findings,
) {
    for section in private.into_values() {
        let Section {
            section_type,
            name,
            line,
            body,
            lines,
            ..
        } = section;
        let private_type = section_type.as_str();
        match config.targets.get_mut(&name) {
            Some(target) if target.kind.type_name() == private_type => {
                let Body::Private(part) = body else {
                    continue;
                };
                match &mut target.kind {
                    TargetKind::Smtp(smtp) => smtp.password = part.password,
                    TargetKind::Gotify(gotify) => gotify.token = part.token,
                    TargetKind::Webhook(webhook) => webhook.secret = part.secret,
                    TargetKind::Sendmail(_) => {}
                }
                target.private_lines = lines;
            }
            Some(target) => findings.error(
                line,
                format!(
                    "private section for '{}' has type '{private_type}' but the target is '{}'",
                    schema::printable(&name),
                    target.kind.type_name()
                ),
            ),
            None if public_invalid.contains(name.as_str()) => {}
            None => findings.warning(
                line,
                format!(
                    "private section '{private_type}: {}' has no matching target; ignored",
                    schema::printable(&name)
                ),
            ),
        }
    }
}

/// Convenience: `Sources::read` + `parse`.
pub fn load(dir: &Path, host: &HostFacts) -> Loaded {
    parse(&Sources::read(dir), host)
}
