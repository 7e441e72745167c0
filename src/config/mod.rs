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
pub mod typed;
pub mod users;
pub mod value;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use datacenter::{HttpProxy, parse_http_proxy};
pub use model::*;

use findings::Findings;
use schema::{Checked, Section, Side};

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

/// One file, completely, with its permission bits when it could be read.
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
    let too_big = "larger than 4 MiB";
    anyhow::ensure!(meta.len() <= MAX_FILE_SIZE, too_big);
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)?;
    anyhow::ensure!(bytes.len() as u64 <= MAX_FILE_SIZE, too_big);
    let text = String::from_utf8(bytes).map_err(|error| {
        anyhow::anyhow!(
            "not valid UTF-8 (at byte {})",
            error.utf8_error().valid_up_to()
        )
    })?;
    Ok(Some((text, mode_of(&meta))))
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

/// The checked sections of one notifications file.
#[derive(Debug, Default)]
struct FileSections {
    /// Valid sections by name; a later section of the same name replaced the earlier one.
    sections: BTreeMap<String, Section>,
    /// Names whose (last) section failed to load.
    invalid: BTreeSet<String>,
}

fn read_notifications(source: &SourceFile, side: Side, findings: &mut Findings) -> FileSections {
    let mut file = FileSections::default();
    let text = match &source.content {
        FileContent::Missing => return file,
        FileContent::Unreadable(reason) => {
            findings.load_error(0, format!("cannot read: {reason}"));
            return file;
        }
        FileContent::Text(text) => text,
    };
    let raw = section::read(text);
    for error in &raw.errors {
        findings.load_error(error.line, error.message.clone());
    }
    // Hashing beats ordered comparison here: names often share long prefixes.
    let mut header_lines: HashMap<String, usize> = HashMap::with_capacity(raw.sections.len());
    for raw_section in raw.sections {
        let checked = schema::check(raw_section, side, findings);
        let (name, line) = match &checked {
            Checked::Valid(section) => (section.name.clone(), section.line),
            Checked::Invalid { name, line } => (name.clone(), *line),
            Checked::BadHeader => continue,
        };
        if let Some(earlier) = header_lines.insert(name.clone(), line) {
            findings.error(
                line,
                format!(
                    "section name '{}' already used at line {earlier}; the earlier section is \
                     ignored",
                    schema::printable(&name)
                ),
            );
        }
        match checked {
            Checked::Valid(section) => {
                if !file.invalid.is_empty() {
                    file.invalid.remove(&name);
                }
                file.sections.insert(name, section);
            }
            Checked::Invalid { .. } | Checked::BadHeader => {
                file.sections.remove(&name);
                file.invalid.insert(name);
            }
        }
    }
    file
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

    let public = read_notifications(&sources.public, Side::Public, &mut public_findings);
    let private = read_notifications(&sources.private, Side::Private, &mut private_findings);

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

    let merged = builtin::merge(public.sections);
    let mut config = Config {
        dir: sources.dir.clone(),
        public_path: sources.public.path.clone(),
        private_path: sources.private.path.clone(),
        targets: BTreeMap::new(),
        matchers: BTreeMap::new(),
        users,
        datacenter,
    };
    for (name, (section, origin)) in &merged {
        if let Some(target) = typed::target(section, *origin) {
            config.targets.insert(name.clone(), target);
        } else if let Some(matcher) = typed::matcher(section, *origin) {
            config.matchers.insert(name.clone(), matcher);
        }
    }
    join_private(
        &mut config,
        &private,
        &public.invalid,
        &mut private_findings,
    );
    if sources.dir_error.is_some() {
        // Nothing was read: checking the built-ins alone would only add noise.
        return Loaded {
            config,
            findings: other_findings,
        };
    }

    let context = checks::Context {
        config: &config,
        public: &merged,
        public_invalid: &public.invalid,
        private: &private.sections,
        private_invalid: &private.invalid,
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

/// Gives each gotify, smtp and webhook target its private part (config.md §5.3).
fn join_private(
    config: &mut Config,
    private: &FileSections,
    public_invalid: &BTreeSet<String>,
    findings: &mut Findings,
) {
    for (name, section) in &private.sections {
        let private_type = section.section_type.as_str();
        match config.targets.get_mut(name) {
            Some(target) if target.kind.type_name() == private_type => {
                typed::join_private(target, section);
            }
            Some(target) => findings.error(
                section.line,
                format!(
                    "private section for '{}' has type '{private_type}' but the target is '{}'",
                    schema::printable(name),
                    target.kind.type_name()
                ),
            ),
            None if public_invalid.contains(name) => {}
            None => findings.warning(
                section.line,
                format!(
                    "private section '{private_type}: {}' has no matching target; ignored",
                    schema::printable(name)
                ),
            ),
        }
    }
}

/// Convenience: `Sources::read` + `parse`.
pub fn load(dir: &Path, host: &HostFacts) -> Loaded {
    parse(&Sources::read(dir), host)
}
