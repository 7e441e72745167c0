//! `forward-mail`: one mail from the MTA becomes a `system-mail` event. Exit 0 only when
//! every target that should get it has it; otherwise 75, so the MTA keeps the mail and
//! retries, and the retry state keeps a retry from re-delivering to targets that
//! already have it (forward-mail.md).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::args::ForwardMailArgs;
use super::deliver::{ResultJson, deliver_all};
use super::{Host, Output};
use crate::endpoints::{Delivery, OriginalMail, Outcome};
use crate::exit::ExitStatus;
use crate::forward::input::{MEMORY_CAP, RawMail};
use crate::forward::parse::{extract_text_isolated, original_parts};
use crate::forward::state::{self, Record, StateError};
use crate::forward::{key::message_key, privilege, syslog};
use crate::notification::{Fields, Notification, Severity};
use crate::routing;

/// The whole run must end well below Postfix's `command_time_limit` (1000 s).
pub const DEADLINE: Duration = Duration::from_secs(600);
/// The title of a mail without (or with an empty) subject.
pub const NO_SUBJECT: &str = "(no subject)";
/// Fixed paths used with elevated privileges, where no override is trusted.
const PRIVILEGED_STATE_DIR: &str = "/var/lib/pvenotify";

pub(super) fn run(args: &ForwardMailArgs, host: &Host<'_>, out: &Output) -> ExitStatus {
    let started = Instant::now();
    let privileged = host.privileged;
    let log = Log { out };
    let (state_dir, use_state) = if privileged {
        if args.no_state {
            out.note("--no-state is ignored with elevated privileges");
        }
        (PathBuf::from(PRIVILEGED_STATE_DIR), true)
    } else {
        (args.state_dir.clone(), !args.no_state)
    };

    // 1. The message, bounded in memory; the rest is spooled next to the state.
    let spool_dir = if state_dir.is_dir() {
        state_dir.clone()
    } else {
        std::env::temp_dir()
    };
    let mail = match RawMail::read(std::io::stdin().lock(), &spool_dir, MEMORY_CAP) {
        Ok(mail) => mail,
        Err(e) => {
            log.error(&format!("cannot read the message from standard input: {e}"));
            return ExitStatus::TempFail;
        }
    };
    if mail.is_blank() {
        log.warning("empty message; nothing to forward");
        return ExitStatus::Ok;
    }
    let key = match message_key(&mail, host.queue_id.as_deref()) {
        Ok(key) => key,
        Err(e) => {
            log.error(&format!("cannot read the spooled message: {e}"));
            return ExitStatus::TempFail;
        }
    };

    // 2. The configuration: any load error keeps the mail queued.
    let loaded = match host.load_config(out) {
        Ok(loaded) => loaded,
        Err(_) => {
            log.error("configuration cannot be loaded; the mail stays queued for a retry");
            return ExitStatus::TempFail;
        }
    };
    let config = &loaded.config;

    // 3. The retry state, opened and locked while privileges may still be needed.
    let now = chrono::Utc::now().timestamp();
    let mut record = if use_state {
        match open_record(&state_dir, &key, now, &log) {
            Ok(record) => record,
            Err(status) => return status,
        }
    } else {
        None
    };
    if record.as_ref().is_some_and(Record::is_complete) {
        out.info_line("pvenotify: note: already forwarded");
        syslog::log(
            syslog::Level::Notice,
            &format!("already forwarded (message key {key}); not delivered again"),
        );
        return ExitStatus::Ok;
    }

    // 4. From here on nothing needs privileges: network and sendmail run as the caller.
    if privileged && let Err(e) = privilege::drop_privileges() {
        log.error(&format!("cannot drop privileges: {e}"));
        return ExitStatus::TempFail;
    }

    // 5. Parse, route, deliver.
    let text = extract_text_isolated(&mail);
    let parts = original_parts(&mail);
    let mut fields = Fields::new();
    fields.insert("type".into(), "system-mail".into());
    fields.insert("hostname".into(), host.hostname.clone());
    // Gotify and webhook targets show the title; an empty one reads like a broken
    // notification. Mail targets keep the original subject either way.
    let title = if text.title.trim().is_empty() {
        NO_SUBJECT
    } else {
        text.title.as_str()
    };
    let event = Notification::new(title, text.text, Severity::Unknown, now, fields);
    let routing = routing::route(config, &event, &chrono::Local);
    for warning in &routing.warnings {
        log.warning(warning);
    }
    if routing.selected.is_empty() {
        if routing.all_selected_missing() {
            log.error("every selected target does not exist; the mail stays queued");
            return ExitStatus::TempFail;
        }
        log.warning("no target selected; message not forwarded");
        if let Some(record) = record.as_mut() {
            let _ = record.mark_complete(now);
        }
        return ExitStatus::Ok;
    }

    let original = OriginalMail {
        source: &mail,
        subject: &parts.subject,
        mime_version: parts.mime_version.as_deref(),
        content_type: parts.content_type.as_deref(),
        content_transfer_encoding: parts.content_transfer_encoding.as_deref(),
        body_offset: parts.body_offset,
    };
    let delivery = Delivery {
        event: &event,
        original: Some(&original),
    };
    let mut warnings = routing.warnings.clone();
    let mut outcomes = Vec::with_capacity(routing.selected.len());
    let mut complete = true;
    for name in &routing.selected {
        let type_name = config
            .targets
            .get(*name)
            .map_or("?", |t| t.kind.type_name());
        if record
            .as_ref()
            .is_some_and(|r| r.delivered().contains(*name))
        {
            let outcome = Outcome::already_delivered(name, type_name);
            log.info(&outcome.to_string());
            outcomes.push(outcome);
            continue;
        }
        if started.elapsed() >= DEADLINE {
            log.error(&format!(
                "{name} ({type_name}): not attempted: the run reached its deadline of {} s",
                DEADLINE.as_secs()
            ));
            complete = false;
            continue;
        }
        let mut outcome = deliver_all(&delivery, &[name], config, host, out, &mut warnings);
        let Some(outcome) = outcome.pop() else {
            continue;
        };
        let line = outcome.to_string();
        if outcome.failure().is_some() {
            syslog::log(syslog::Level::Error, &line);
            complete = false;
        } else {
            syslog::log(syslog::Level::Info, &line);
            if let Some(record) = record.as_mut()
                && let Err(e) = record.mark_delivered(name, now)
            {
                log.warning(&format!("cannot record the delivery to {name}: {e}"));
            }
        }
        outcomes.push(outcome);
    }
    if complete && let Some(record) = record.as_mut() {
        let _ = record.mark_complete(now);
    }

    let status = if complete {
        ExitStatus::Ok
    } else {
        ExitStatus::TempFail
    };
    if out.is_json() {
        out.json(&ResultJson {
            event: &event,
            results: &outcomes,
            skipped: &routing.skipped,
            warnings: &warnings,
            exit_status: status.code(),
        });
    }
    status
}

/// Prunes old records and opens this message's; `Ok(None)` when the state cannot be
/// used (delivery goes on without it: duplicates are better than loss).
fn open_record(
    state_dir: &Path,
    key: &str,
    now: i64,
    log: &Log<'_>,
) -> Result<Option<Record>, ExitStatus> {
    if let Err(e) = state::prune(state_dir, state::MAX_AGE, SystemTime::now()) {
        log.warning(&format!("cannot prune old retry state: {e}"));
    }
    match Record::open(state_dir, key, now, state::LOCK_WAIT) {
        Ok(record) => Ok(Some(record)),
        Err(StateError::Locked) => {
            log.error("another pvenotify is forwarding the same message; try again later");
            Err(ExitStatus::TempFail)
        }
        Err(StateError::Unusable(reason)) => {
            log.warning(&format!(
                "retry state unusable, forwarding without it: {reason}"
            ));
            Ok(None)
        }
    }
}

/// Lines go to stderr (the MTA logs it for failed commands) and to syslog (stderr of a
/// successful command is discarded).
struct Log<'a> {
    out: &'a Output,
}

impl Log<'_> {
    fn error(&self, message: &str) {
        self.out.error(message);
        syslog::log(syslog::Level::Error, message);
    }

    fn warning(&self, message: &str) {
        self.out.warning(message);
        syslog::log(syslog::Level::Warning, message);
    }

    fn info(&self, line: &str) {
        self.out.info_line(line);
        syslog::log(syslog::Level::Info, line);
    }
}
