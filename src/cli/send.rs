//! `send`: an event from the command line, routed and delivered (or only routed with
//! `--dry-run` / `--explain`).

use std::borrow::Cow;
use std::io::{IsTerminal, Read};
use std::path::Path;

use serde::Serialize;

use super::args::SendArgs;
use super::deliver::{ResultJson, deliver_all};
use super::noise::{self, NoiseSettings};
use super::template::{self, TraceJson};
use super::{Host, Output};
use crate::cli::explain::explain_text;
use crate::endpoints::{Delivery, Outcome};
use crate::exit::{self, ExitStatus};
use crate::matcher::MatcherTrace;
use crate::noise::dedup::SuppressedNote;
use crate::notification::{Fields, Notification, clean_title, is_valid_field_name};
use crate::render::{Data, PartTrace};
use crate::routing::{self, Routing, SkipReason, Skipped};

/// Bodies larger than this are refused (exit 65).
pub const MAX_BODY: u64 = 4 * 1024 * 1024;

/// A templated event's template and data (common data included); rendered once the
/// targets are known.
pub(super) struct TemplateJob {
    name: String,
    data: Data,
}

pub(super) fn run(args: &SendArgs, host: &Host<'_>, out: &Output) -> ExitStatus {
    let (mut event, job) = match build_event(args, host, out) {
        Ok(built) => built,
        Err((status, message)) => {
            out.error(&message);
            return status;
        }
    };
    if let (true, Some(job)) = (args.preview, &job) {
        return preview(job, host, out);
    }
    let mode = SendMode {
        dry_run: args.dry_run,
        explain: args.explain,
        noise: NoiseSettings::from_args(&args.noise),
    };
    route_and_deliver(&mut event, job, &mode, host, out)
}

/// `--preview`: render all three parts and print them; nothing is routed or delivered.
fn preview(job: &TemplateJob, host: &Host<'_>, out: &Output) -> ExitStatus {
    match template::render_parts(host, &job.name, &job.data, true) {
        Ok(rendered) => {
            template::report(out, &job.name, &rendered.trace);
            template::print_preview(out, &job.name, &rendered);
            ExitStatus::Ok
        }
        Err(failure) => {
            template::report(out, &job.name, &failure.trace);
            out.error(&failure.message);
            ExitStatus::Config
        }
    }
}

/// How an event is to be sent: `send`'s and `run`'s options after the event itself.
pub(super) struct SendMode<'a> {
    pub dry_run: bool,
    pub explain: bool,
    pub noise: Option<NoiseSettings<'a>>,
}

/// Loads the configuration, routes `event` and delivers it (or only reports the routing).
/// A templated event (`job`) gets its title and bodies rendered once the targets are known.
pub(super) fn route_and_deliver(
    event: &mut Notification,
    job: Option<TemplateJob>,
    mode: &SendMode<'_>,
    host: &Host<'_>,
    out: &Output,
) -> ExitStatus {
    let loaded = match host.load_config(out) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    let config = &loaded.config;
    let route_only = mode.dry_run || mode.explain;
    if !route_only && !routing::anything_deliverable(config) {
        out.error(
            "nothing is configured to deliver (no enabled matcher names an existing, enabled target)",
        );
        return ExitStatus::Unavailable;
    }

    let routing = routing::route(config, event, &chrono::Local);
    for warning in &routing.warnings {
        out.warning(warning);
    }
    let status = report_or_deliver(mode, event, job, &routing, host, out, config);
    // The process ends right after; freeing a large configuration piece by piece
    // costs more than all routing does.
    std::mem::forget(routing);
    std::mem::forget(loaded);
    status
}

fn report_or_deliver(
    mode: &SendMode<'_>,
    event: &mut Notification,
    job: Option<TemplateJob>,
    routing: &Routing,
    host: &Host<'_>,
    out: &Output,
    config: &crate::config::Config,
) -> ExitStatus {
    let quiet = match (&mode.noise, mode.dry_run || mode.explain) {
        (Some(noise), true) => noise::quiet_targets(
            noise,
            &routing.selected,
            event.severity,
            host.wall_clock(),
            out,
        ),
        _ => Vec::new(),
    };
    if mode.explain {
        // The lookup of every part, as a real send to a mail target would do it.
        let rendered = job.as_ref().map(|job| {
            let result = template::render_parts(host, &job.name, &job.data, true);
            (job.name.as_str(), result)
        });
        let trace = rendered.as_ref().map(|(name, result)| match result {
            Ok(rendered) => (*name, rendered.trace.as_slice(), None),
            Err(failure) => (
                *name,
                failure.trace.as_slice(),
                Some(failure.message.as_str()),
            ),
        });
        if out.is_json() {
            out.json(&ExplainJson {
                event,
                matchers: &routing.matchers,
                selected: &routing.selected,
                skipped: &routing.skipped,
                suppressed: &quiet,
                template: trace.map(|(name, parts, error)| TraceJson { name, parts, error }),
            });
        } else {
            let mut text = explain_text(routing);
            for target in &quiet {
                text.push_str(&format!(
                    "noise control: {}\n",
                    noise::quiet_line(target, host.wall_clock())
                ));
            }
            if let Some((name, parts, error)) = trace {
                text.push_str(&template::trace_text(name, parts, error));
            }
            out.stdout(&text);
        }
        return ExitStatus::Ok;
    }
    if mode.dry_run {
        let deliverable: Vec<&str> = routing
            .selected
            .iter()
            .copied()
            .filter(|name| !quiet.iter().any(|q| q.target == *name))
            .collect();
        for target in &quiet {
            out.info_line(&noise::quiet_line(target, host.wall_clock()));
        }
        if out.is_json() {
            out.json(&deliverable);
        } else {
            let mut text = deliverable.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            out.stdout(&text);
        }
        return ExitStatus::Ok;
    }

    deliver(event, job, routing, host, out, config, mode.noise.as_ref())
}

fn deliver(
    event: &mut Notification,
    job: Option<TemplateJob>,
    routing: &Routing,
    host: &Host<'_>,
    out: &Output,
    config: &crate::config::Config,
    noise: Option<&NoiseSettings<'_>>,
) -> ExitStatus {
    for skipped in &routing.skipped {
        if skipped.reason == SkipReason::Disabled {
            let kind = config
                .targets
                .get(skipped.target)
                .map_or("?", |t| t.kind.type_name());
            out.note(&format!("{} ({kind}): skipped: disabled", skipped.target));
        }
    }
    // A cron job's `send` that reaches nobody should not look like a delivery.
    if routing.selected.is_empty() {
        out.warning("no matcher selected a target; nothing was sent");
    }

    let mut warnings = routing.warnings.clone();
    let outcomes = match (noise, job) {
        (Some(noise), None) => noise::deliver_quietly(
            &routing.selected,
            event.severity,
            |note, _| noise::noted_version(event, note),
            noise,
            config,
            host,
            out,
            &mut warnings,
        ),
        (Some(noise), Some(job)) => {
            deliver_templated_quietly(event, job, routing, host, out, config, noise, &mut warnings)
        }
        (None, job) => match render_once(event, job, routing, host, out, config) {
            Some(message) => template::fail_all(&routing.selected, config, host, out, &message),
            None => deliver_all(
                &Delivery::event(event),
                &routing.selected,
                config,
                host,
                out,
                &mut warnings,
            ),
        },
    };
    let event = &*event;

    let status = exit::send_status(
        outcomes.iter().filter_map(Outcome::failure),
        routing.all_selected_missing(),
    );
    if status == ExitStatus::Unavailable {
        out.error("nothing was delivered: every selected target does not exist");
    }
    if out.is_json() {
        out.json(&ResultJson {
            event,
            results: &outcomes,
            skipped: &routing.skipped,
            warnings: &warnings,
            exit_status: status.code(),
        });
    }
    status
}

/// Renders a templated event (if it is one) for all selected targets; the message when
/// it cannot be rendered.
fn render_once(
    event: &mut Notification,
    job: Option<TemplateJob>,
    routing: &Routing,
    host: &Host<'_>,
    out: &Output,
    config: &crate::config::Config,
) -> Option<String> {
    let job = job.filter(|_| !routing.selected.is_empty())?;
    let html = template::needs_html(config, &routing.selected);
    let result = template::render_parts(host, &job.name, &job.data, html);
    // The data is not needed once rendered; delivery has the memory.
    let TemplateJob { name, data } = job;
    drop(data);
    match result {
        Ok(rendered) => {
            template::report(out, &name, &rendered.trace);
            template::apply(event, rendered);
            None
        }
        Err(failure) => {
            template::report(out, &name, &failure.trace);
            Some(failure.message)
        }
    }
}

/// A templated event under noise control: rendered once the targets' decisions are known,
/// once per note (usually once), with `suppressed-count` and `suppressed-since` in the
/// data of a delivery that follows suppressed ones. `event` gets the title of the first
/// version rendered, for the JSON result.
#[allow(clippy::too_many_arguments)]
fn deliver_templated_quietly(
    event: &mut Notification,
    job: TemplateJob,
    routing: &Routing,
    host: &Host<'_>,
    out: &Output,
    config: &crate::config::Config,
    settings: &NoiseSettings<'_>,
    warnings: &mut Vec<String>,
) -> Vec<Outcome> {
    let TemplateJob { name, mut data } = job;
    let mut title = None;
    let title_slot = &mut title;
    let mut reported: Option<Vec<PartTrace>> = None;
    let base = &*event;
    let render_version = move |note: Option<SuppressedNote>, names: &[&str]| {
        let html = template::needs_html(config, names);
        let extra = note.map(noise::note_data);
        let result = data.with_added(extra.as_ref().map_or(&[][..], |e| &e[..]), |data| {
            template::render_parts(host, &name, data, html)
        });
        let (trace, version) = match result {
            Ok(rendered) => {
                let trace = rendered.trace.clone();
                let mut version = base.clone();
                template::apply(&mut version, rendered);
                if let Some(note) = note {
                    noise::add_note(&mut version, note);
                }
                title_slot.get_or_insert_with(|| version.title.clone());
                (trace, Ok(Cow::Owned(version)))
            }
            Err(failure) => (failure.trace, Err(failure.message)),
        };
        // Another note renders from the same files: told once.
        if reported.as_ref() != Some(&trace) {
            template::report(out, &name, &trace);
            reported = Some(trace);
        }
        version
    };
    let outcomes = noise::deliver_quietly(
        &routing.selected,
        base.severity,
        render_version,
        settings,
        config,
        host,
        out,
        warnings,
    );
    if let Some(title) = title {
        event.title = title;
    }
    outcomes
}

#[derive(Serialize)]
struct ExplainJson<'a> {
    event: &'a Notification,
    matchers: &'a [MatcherTrace<'a>],
    selected: &'a [&'a str],
    skipped: &'a [Skipped<'a>],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressed: &'a [noise::QuietTarget<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<TraceJson<'a>>,
}

type Failure = (ExitStatus, String);

fn build_event(
    args: &SendArgs,
    host: &Host<'_>,
    out: &Output,
) -> Result<(Notification, Option<TemplateJob>), Failure> {
    let usage = |message: String| (ExitStatus::Usage, message);
    // A templated event gets its title from the subject once it is rendered.
    let title = clean_title(args.title.as_deref().unwrap_or(""));
    if args.template.is_none() && title.trim().is_empty() {
        return Err(usage("--title must not be empty".to_string()));
    }
    // clap does not enforce `requires` next to the conflicts of --template.
    if args.template.is_none() && (args.data.is_some() || args.preview) {
        return Err(usage(
            "--data and --preview need --template NAME".to_string(),
        ));
    }
    if let Some(name) = &args.template
        && !template::is_valid_name(name)
    {
        return Err(usage(format!(
            "--template '{name}': a template name has only letters, digits, '-', '_' and '.' and does not start with '.'"
        )));
    }
    let mut fields = parse_fields(&args.fields).map_err(usage)?;
    if !args.no_hostname && !fields.contains_key("hostname") {
        fields.insert("hostname".to_string(), host.hostname.clone());
    }

    let body = match (&args.body, &args.body_file) {
        _ if args.template.is_some() => String::new(),
        (Some(body), _) => body.clone(),
        (None, Some(path)) if path == Path::new("-") => read_body_stdin()?,
        (None, Some(path)) => read_body_file(path)?,
        (None, None) if !std::io::stdin().is_terminal() => read_body_stdin()?,
        (None, None) => String::new(),
    };
    let job = match &args.template {
        Some(name) => {
            let (mut data, size) = match &args.data {
                Some(path) => template::read_data(path).map_err(|m| (ExitStatus::DataErr, m))?,
                None => (serde_json::Map::new(), 0),
            };
            template::add_common_data(host, &mut data, out);
            Some(TemplateJob {
                name: name.clone(),
                data: Data::new(serde_json::Value::Object(data), size),
            })
        }
        None => None,
    };
    let timestamp = match &args.timestamp {
        Some(text) => parse_timestamp(text).map_err(|m| (ExitStatus::DataErr, m))?,
        None => chrono::Utc::now().timestamp(),
    };
    let event = Notification::new(&title, body, args.severity, timestamp, fields);
    Ok((event, job))
}

/// `KEY=VALUE` pairs: split at the first `=`, the key by the field-name rule, no NUL,
/// each key once.
pub fn parse_fields(pairs: &[String]) -> Result<Fields, String> {
    let mut fields = Fields::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("--field '{pair}': expected KEY=VALUE"));
        };
        if !is_valid_field_name(key) {
            return Err(format!(
                "--field '{pair}': '{key}' is not a valid field name (letters, digits, '_', '.', '-'; not starting with '.' or '-')"
            ));
        }
        if value.contains('\0') {
            return Err(format!(
                "--field '{key}': the value contains a NUL character"
            ));
        }
        if fields.insert(key.to_string(), value.to_string()).is_some() {
            return Err(format!("--field '{key}' is given more than once"));
        }
    }
    Ok(fields)
}

/// Seconds since the epoch (may be negative) or RFC 3339 with an offset; fractions of a
/// second are dropped.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| {
            format!(
                "--timestamp '{text}': not seconds since the epoch nor an RFC 3339 date-time ({e})"
            )
        })
}

fn read_body_stdin() -> Result<String, Failure> {
    read_body(std::io::stdin().lock(), "standard input")
}

fn read_body_file(path: &Path) -> Result<String, Failure> {
    let file = std::fs::File::open(path).map_err(|e| {
        (
            ExitStatus::DataErr,
            format!("cannot read body file {}: {e}", path.display()),
        )
    })?;
    read_body(file, &path.display().to_string())
}

fn read_body(reader: impl Read, what: &str) -> Result<String, Failure> {
    let data_err = |m: String| (ExitStatus::DataErr, m);
    let mut bytes = Vec::new();
    reader
        .take(MAX_BODY + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| data_err(format!("cannot read body from {what}: {e}")))?;
    if bytes.len() as u64 > MAX_BODY {
        return Err(data_err(format!(
            "body from {what} is larger than {} MiB",
            MAX_BODY / 1024 / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        data_err(format!(
            "body from {what} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fields_split_at_first_equals_sign() {
        let fields = parse_fields(&strings(&["type=vzdump", "x=a=b", "empty="])).unwrap();
        assert_eq!(fields["type"], "vzdump");
        assert_eq!(fields["x"], "a=b");
        assert_eq!(fields["empty"], "");
    }

    #[test]
    fn bad_fields_are_rejected() {
        for bad in ["novalue", "=v", "-x=1", "a b=1", "x=\0"] {
            assert!(parse_fields(&strings(&[bad])).is_err(), "{bad:?}");
        }
        let err = parse_fields(&strings(&["a=1", "a=2"])).unwrap_err();
        assert!(err.contains("more than once"), "{err}");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1717408800"), Ok(1717408800));
        assert_eq!(parse_timestamp("-5"), Ok(-5));
        assert_eq!(parse_timestamp("2024-06-03T10:00:00Z"), Ok(1717408800));
        assert_eq!(parse_timestamp("2024-06-03T12:00:00+02:00"), Ok(1717408800));
        assert_eq!(parse_timestamp("2024-06-03T10:00:00.9Z"), Ok(1717408800));
        assert!(parse_timestamp("2024-06-03 10:00").is_err());
        assert!(parse_timestamp("").is_err());
        assert!(parse_timestamp("99999999999999999999").is_err());
    }

    #[test]
    fn body_limits() {
        assert_eq!(read_body(&b"hi"[..], "x").unwrap(), "hi");
        let (status, message) = read_body(&[0xff, 0xfe][..], "x").unwrap_err();
        assert_eq!(status, ExitStatus::DataErr);
        assert!(message.contains("UTF-8"), "{message}");
        let big = vec![b'a'; MAX_BODY as usize + 1];
        assert_eq!(read_body(&big[..], "x").unwrap_err().0, ExitStatus::DataErr);
        let exact = vec![b'a'; MAX_BODY as usize];
        assert!(read_body(&exact[..], "x").is_ok());
    }
}
