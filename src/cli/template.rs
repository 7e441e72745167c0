//! What `send --template`, `test-target` and `validate` need of notification templates
//! beyond the pure `render` module: the template files, the data and corosync.conf read
//! from disk, and how each part was found told to the user (warnings, `-v`, `--explain`,
//! `--preview`).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Host, Output};
use crate::config::Config;
use crate::endpoints::{self, DeliveryError, Outcome};
use crate::notification::{Html, Notification, clean_title};
use crate::render::lookup::{Failure, Lookup};
use crate::render::{self, Data, PartTrace, Rendered, TemplateFiles, Tier};

/// Proxmox VE's own templates on a PVE host.
pub const VENDOR_DIR: &str = "/usr/share/pve-manager/templates";
/// The only namespace folder Proxmox VE uses.
const NAMESPACE: &str = "default";
/// Template files larger than this are refused (an error, so the next candidate is tried).
const MAX_TEMPLATE_FILE: u64 = 1024 * 1024;
/// `--data` larger than this is refused (exit 65).
pub const MAX_DATA: u64 = 4 * 1024 * 1024;

/// The override folder of a configuration directory.
pub fn override_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("notification-templates").join(NAMESPACE)
}

/// Template files on disk: override under the configuration directory, vendor under
/// `--template-dir`.
pub struct Files {
    override_dir: PathBuf,
    vendor_dir: PathBuf,
}

impl Files {
    pub fn new(host: &Host<'_>) -> Self {
        Files {
            override_dir: override_dir(&host.config_dir),
            vendor_dir: host.template_dir.join(NAMESPACE),
        }
    }

    fn path(&self, tier: Tier, file: &str) -> PathBuf {
        match tier {
            Tier::Vendor => self.vendor_dir.join(file),
            _ => self.override_dir.join(file),
        }
    }
}

impl TemplateFiles for Files {
    fn read(&self, tier: Tier, file: &str) -> Result<Option<String>, String> {
        read_template_file(&self.path(tier, file))
    }

    fn location(&self, tier: Tier, file: &str) -> String {
        self.path(tier, file).display().to_string()
    }
}

/// A template file's text; `Ok(None)` when there is none.
pub fn read_template_file(path: &Path) -> Result<Option<String>, String> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    file.take(MAX_TEMPLATE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_TEMPLATE_FILE {
        return Err(format!(
            "larger than {} MiB",
            MAX_TEMPLATE_FILE / 1024 / 1024
        ));
    }
    String::from_utf8(bytes).map(Some).map_err(|e| {
        format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Template names become file names: letters, digits, `-`, `_` and `.`, not starting
/// with `.`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `--data FILE` (`-` for standard input): a JSON object of at most 4 MiB, and its size
/// in bytes.
pub fn read_data(path: &Path) -> Result<(Map<String, Value>, usize), String> {
    let (what, bytes) = if path == Path::new("-") {
        (
            "standard input".to_string(),
            read_capped(std::io::stdin().lock(), 0),
        )
    } else {
        let what = path.display().to_string();
        let bytes = std::fs::File::open(path).and_then(|file| {
            // Reserved from the file's size: one buffer instead of a doubling series.
            let size = file.metadata().map_or(0, |m| m.len().min(MAX_DATA + 1));
            read_capped(file, size as usize + 1)
        });
        (what, bytes)
    };
    let bytes = bytes.map_err(|e| format!("cannot read the template data from {what}: {e}"))?;
    if bytes.len() as u64 > MAX_DATA {
        return Err(format!(
            "the template data from {what} is larger than {} MiB",
            MAX_DATA / 1024 / 1024
        ));
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok((map, bytes.len())),
        Ok(_) => Err(format!(
            "the template data from {what} is not a JSON object"
        )),
        Err(e) => Err(format!(
            "the template data from {what} is not valid JSON: {e}"
        )),
    }
}

fn read_capped(reader: impl Read, capacity: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(capacity);
    reader.take(MAX_DATA + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Adds `hostname`, `fqdn` and `cluster-name` (from `CONFIG_DIR/corosync.conf`) where
/// the data lacks them.
pub fn add_common_data(host: &Host<'_>, data: &mut Map<String, Value>, out: &Output) {
    let path = host.config_dir.join("corosync.conf");
    let cluster_name = match std::fs::read_to_string(&path) {
        Ok(text) => render::data::corosync_cluster_name(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            out.note(&format!(
                "{}: cannot read it, no cluster-name: {e}",
                path.display()
            ));
            None
        }
    };
    render::data::add_common(data, &host.hostname, &host.fqdn, cluster_name.as_deref());
}

/// Renders template `name`; the HTML part only when `html`.
pub fn render_parts(
    host: &Host<'_>,
    name: &str,
    data: &Data,
    html: bool,
) -> Result<Rendered, Failure> {
    let files = Files::new(host);
    let lookup = Lookup {
        files: &files,
        local_time: crate::host::local_time,
    };
    render::render_template(&lookup, name, data, html)
}

/// Warnings for files that exist but failed; with `-v` a note per part saying which
/// file rendered it.
pub fn report(out: &Output, name: &str, trace: &[PartTrace]) {
    for part in trace {
        for attempt in part.attempts.iter().filter(|a| a.failed()) {
            let file = Path::new(&attempt.file)
                .file_name()
                .map_or(attempt.file.clone(), |f| f.to_string_lossy().into_owned());
            out.warning(&format!(
                "failed to render {} template '{file}': {}",
                attempt.source.name(),
                attempt.error.as_deref().unwrap_or("")
            ));
        }
        if let Some(used) = part.used() {
            out.note(&format!(
                "template '{name}': {} from {}",
                part.part.name(),
                used.describe()
            ));
        }
    }
}

/// The lookup as `--explain` prints it: per part every file looked at, in order.
pub fn trace_text(name: &str, trace: &[PartTrace], failure: Option<&str>) -> String {
    let mut text = format!("template '{name}':\n");
    for part in trace {
        for attempt in &part.attempts {
            let state = match (&attempt.error, attempt.missing) {
                (_, true) => "not found: ".to_string(),
                (Some(error), false) => format!("failed ({error}): "),
                (None, false) => "used: ".to_string(),
            };
            text.push_str(&format!(
                "  {}: {state}{}\n",
                part.part.name(),
                attempt.describe()
            ));
        }
        if !part.rendered {
            text.push_str(&format!("  {}: cannot be rendered\n", part.part.name()));
        }
    }
    if let Some(failure) = failure {
        text.push_str(&format!("  error: {failure}\n"));
    }
    text
}

/// The lookup in JSON output.
#[derive(Serialize)]
pub struct TraceJson<'a> {
    pub name: &'a str,
    pub parts: &'a [PartTrace],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

/// Puts the rendered parts into the event: subject as title (control characters become
/// spaces, as for every title), text as body, the HTML part for mail targets.
pub fn apply(event: &mut Notification, rendered: Rendered) {
    event.title = clean_title(&rendered.subject);
    event.body = rendered.text;
    event.html = match rendered.html {
        Some(Ok(html)) => Html::Rendered(html),
        Some(Err(message)) => Html::Unavailable(message),
        None => Html::FromBody,
    };
}

/// Whether any of `names` is a mail target (they need the HTML part).
pub fn needs_html(config: &Config, names: &[&str]) -> bool {
    names.iter().any(|name| {
        config
            .targets
            .get(*name)
            .is_some_and(|t| matches!(t.kind.type_name(), "sendmail" | "smtp"))
    })
}

/// Nothing can be rendered: every target fails with `message` (configuration class).
pub fn fail_all(
    names: &[&str],
    config: &Config,
    host: &Host<'_>,
    out: &Output,
    message: &str,
) -> Vec<Outcome> {
    let context = host.delivery_context();
    names
        .iter()
        .filter_map(|name| config.targets.get(*name))
        .map(|target| {
            let endpoint = endpoints::endpoint(target, config, &context);
            let outcome = Outcome::new(
                endpoint.as_ref(),
                Err(DeliveryError::configuration(message)),
            );
            out.error_line(&outcome.to_string());
            outcome
        })
        .collect()
}

/// `--preview` as JSON.
#[derive(Serialize)]
struct PreviewJson<'a> {
    template: &'a str,
    subject: &'a str,
    text: &'a str,
    html: Option<&'a str>,
    parts: &'a [PartTrace],
}

/// `--preview`: each part under a header naming the file that rendered it.
pub fn print_preview(out: &Output, name: &str, rendered: &Rendered) {
    let html = match &rendered.html {
        Some(Ok(html)) => Some(html.as_str()),
        _ => None,
    };
    if out.is_json() {
        out.json(&PreviewJson {
            template: name,
            subject: &rendered.subject,
            text: &rendered.text,
            html,
            parts: &rendered.trace,
        });
        return;
    }
    let mut text = String::new();
    let contents = [
        Some(rendered.subject.as_str()),
        Some(rendered.text.as_str()),
        html,
    ];
    for (part, content) in rendered.trace.iter().zip(contents) {
        let (Some(used), Some(content)) = (part.used(), content) else {
            continue;
        };
        text.push_str(&format!(
            "==> {}: {} <==\n",
            part.part.name(),
            used.describe()
        ));
        text.push_str(content);
        if !content.ends_with('\n') {
            text.push('\n');
        }
    }
    out.stdout(&text);
}

/// A problem `validate` reports about an override template file.
pub struct FileProblem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub warning: bool,
    pub message: String,
}

/// Checks every `*.hbs` under `CONFIG_DIR/notification-templates/` (templates.md §6):
/// each must parse and call only known helpers; overriding `X-body.txt.hbs` without
/// `X-body.html.hbs` while the vendor has the HTML file is a warning, because the HTML
/// part of mails then stays the vendor's.
pub fn check_overrides(host: &Host<'_>) -> Vec<FileProblem> {
    let base = host.config_dir.join("notification-templates");
    let mut files = Vec::new();
    collect_hbs(&base, 0, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let error = |line, message| FileProblem {
            file: file.clone(),
            line,
            warning: false,
            message,
        };
        match read_template_file(file) {
            Ok(Some(text)) => problems.extend(
                render::check::check(&text)
                    .into_iter()
                    .map(|p| error(p.line, p.message)),
            ),
            Ok(None) => {}
            Err(reason) => problems.push(error(None, format!("cannot read it: {reason}"))),
        }
    }
    let override_dir = override_dir(&host.config_dir);
    let vendor_dir = host.template_dir.join(NAMESPACE);
    let text_suffix = format!("-{}", render::Part::Text.suffix());
    for file in files
        .iter()
        .filter(|f| f.parent() == Some(override_dir.as_path()))
    {
        let Some(name) = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(&text_suffix))
        else {
            continue;
        };
        let html = render::Part::Html.file_name(name);
        let vendor_html = vendor_dir.join(&html);
        if !override_dir.join(&html).exists() && vendor_html.exists() {
            problems.push(FileProblem {
                file: file.clone(),
                line: None,
                warning: true,
                message: format!(
                    "overrides the text body of template '{name}' but not its HTML body: mails keep the HTML part of {} (add {html} here)",
                    vendor_html.display()
                ),
            });
        }
    }
    problems
}

/// `*.hbs` files below `dir`, a few levels deep.
fn collect_hbs(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 4 {
            collect_hbs(&path, depth + 1, files);
        } else if path.extension().is_some_and(|e| e == "hbs") {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_are_file_name_safe() {
        for good in ["vzdump", "package-updates", "my_job.v2"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "a b", "ü"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
