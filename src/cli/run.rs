//! `run -- COMMAND`: runs a command and notifies when it fails (noise.md §3). The exit
//! status is always the command's; when the notification itself cannot be delivered, the
//! captured output goes to standard error so that cron's own mail still carries it.

use std::ffi::OsStr;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use super::args::RunArgs;
use super::noise::NoiseSettings;
use super::send::{SendMode, parse_fields, route_and_deliver};
use super::{Host, Output};
use crate::command::{self, Finished, signal_name};
use crate::exit::{self, CommandEnd, ExitStatus};
use crate::host::local_time_or_epoch;
use crate::noise::span::format_span;
use crate::notification::{Notification, Severity, clean_title};

pub(super) fn run(args: &RunArgs, host: &Host<'_>, out: &Output) -> ExitStatus {
    // Everything that can be wrong with the command line is found before the command runs.
    let mut fields = match parse_fields(&args.fields) {
        Ok(fields) => fields,
        Err(message) => {
            out.error(&message);
            return ExitStatus::Usage;
        }
    };
    if let Some(title) = &args.title
        && clean_title(title).trim().is_empty()
    {
        out.error("--title must not be empty");
        return ExitStatus::Usage;
    }

    let finished = command::run(&args.command, args.timeout.map(Duration::from_secs));
    let status = exit::run_status(finished.end);
    let succeeded = finished.end == CommandEnd::Exited(0);
    if succeeded && !args.always {
        return status;
    }

    let name = program_name(&args.command[0]);
    for (key, value) in [
        ("type", "command".to_string()),
        ("command", name.clone()),
        ("hostname", host.hostname.clone()),
    ] {
        fields.entry(key.to_string()).or_insert(value);
    }
    let title = match &args.title {
        Some(title) => clean_title(title),
        None => {
            let host_name = fields.get("hostname").unwrap_or(&host.hostname);
            match &finished.end {
                CommandEnd::Exited(0) => format!("'{name}' succeeded on {host_name}"),
                end => format!(
                    "'{name}' failed on {host_name} ({})",
                    short_outcome(end, &finished, args)
                ),
            }
        }
    };
    let severity = if succeeded {
        Severity::Info
    } else {
        args.severity
    };
    let body = body(args, &finished);
    let mut event = Notification::new(
        &title,
        body,
        severity,
        chrono::Utc::now().timestamp(),
        fields,
    );
    let mode = SendMode {
        dry_run: args.dry_run,
        explain: args.explain,
        noise: NoiseSettings::from_args(&args.noise),
    };
    let notified = route_and_deliver(&mut event, None, &mode, host, out);
    if notified != ExitStatus::Ok && !(args.dry_run || args.explain) {
        out.error(&format!(
            "the notification about '{name}' failed; the command's output follows"
        ));
        if finished.output.total() == 0 {
            out.error_line("(no output)");
        } else {
            out.error_line(finished.output.text().trim_end_matches('\n'));
        }
    }
    status
}

/// The program's file name, for the title and the `command` field.
fn program_name(program: &OsStr) -> String {
    let path = Path::new(program);
    path.file_name()
        .unwrap_or(program)
        .to_string_lossy()
        .into_owned()
}

/// `exit 3`, `signal SIGKILL`, `timed out after 30m`, `could not start: not found`.
fn short_outcome(end: &CommandEnd, finished: &Finished, args: &RunArgs) -> String {
    match end {
        CommandEnd::Exited(code) => format!("exit {code}"),
        CommandEnd::Signaled(signal) => format!("signal {}", signal_name(*signal)),
        CommandEnd::TimedOut => {
            format!("timed out after {}", format_span(args.timeout.unwrap_or(0)))
        }
        CommandEnd::NotFound | CommandEnd::NotExecutable => format!(
            "could not start: {}",
            finished.start_error.as_deref().unwrap_or("unknown reason")
        ),
    }
}

/// The command line, start time, duration and exit status, then the kept output.
fn body(args: &RunArgs, finished: &Finished) -> String {
    let started = finished
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let status = exit::run_status(finished.end).code();
    let mut body = String::new();
    let _ = writeln!(body, "Command: {}", command_line(args));
    let _ = writeln!(body, "Started: {}", local_time_or_epoch(started));
    let _ = writeln!(body, "Duration: {:.1} s", finished.duration.as_secs_f64());
    match finished.end {
        CommandEnd::Exited(_) => {
            let _ = writeln!(body, "Exit status: {status}");
        }
        end => {
            let _ = writeln!(
                body,
                "Exit status: {status} ({})",
                short_outcome(&end, finished, args)
            );
        }
    }
    body.push('\n');
    if finished.output.total() == 0 {
        body.push_str("No output.\n");
    } else {
        body.push_str("Output:\n");
        body.push_str(&finished.output.text());
    }
    body
}

/// The command as a shell would read it back: words with special characters quoted.
fn command_line(args: &RunArgs) -> String {
    let word = |arg: &std::ffi::OsString| {
        let text = arg.to_string_lossy();
        let plain = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        if plain {
            text.into_owned()
        } else {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
    };
    args.command.iter().map(word).collect::<Vec<_>>().join(" ")
}
