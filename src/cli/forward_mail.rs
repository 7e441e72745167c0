//! `forward-mail`: one mail from the MTA becomes a `system-mail` event. Exit 0 only when
//! every target that should get it has it; otherwise 75, so the MTA keeps the mail and
//! retries, and the retry state keeps a retry from re-delivering to targets that
//! already have it (forward-mail.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::args::ForwardMailArgs;
use super::deliver::{ResultJson, deliver_one};
use super::{Host, Output};
use crate::config::{Config, Loaded};
use crate::endpoints::{Delivery, MailSource, OriginalMail, Outcome};
use crate::exit::ExitStatus;
use crate::forward::input::{MEMORY_CAP, RawMail};
use crate::forward::parse::{extract_text_isolated, original_parts};
use crate::forward::state::{self, Record, StateError};
use crate::forward::{key::message_key, privilege, syslog};
use crate::notification::{Fields, Notification, Severity};
use crate::routing::{self, Routing};

/// The whole run must end well below Postfix's `command_time_limit` (1000 s).
pub const DEADLINE: Duration = Duration::from_secs(600);
/// The title of a mail without (or with an empty) subject.
pub const NO_SUBJECT: &str = "(no subject)";
/// Fixed paths used with elevated privileges, where no override is trusted.
const PRIVILEGED_STATE_DIR: &str = "/var/lib/pvenotify";

/// The stages of one run, in order; each either hands its result to the next or ends the
/// run with an exit status (forward-mail.md §6.4).
pub(super) fn run(args: &ForwardMailArgs, host: &Host<'_>, out: &Output) -> ExitStatus {
    let run = Run::new(args, host, out);
    let stages = || -> Stage<ExitStatus> {
        let (mail, key) = run.read_message()?;
        let loaded = run.load_configuration()?;
        let mut record = run.open_retry_state(&key)?;
        run.drop_privileges()?;
        let event = run.build_event(&mail);
        let routing = run.route(&loaded.config, &event, &key, record.as_mut())?;
        let delivered = run.deliver(&mail, &event, &loaded.config, &routing, record.as_mut());
        Ok(run.report(&event, &routing, delivered, record.as_mut()))
    };
    stages().unwrap_or_else(|status| status)
}

/// `Err(status)`: the run ends here with `status`, which is success when there is nothing
/// (more) to do.
type Stage<T> = Result<T, ExitStatus>;

/// What every stage needs: the host, where to report, where the retry state lives.
struct Run<'a> {
    host: &'a Host<'a>,
    out: &'a Output,
    log: Log<'a>,
    /// `None` with `--no-state` (never in privileged mode).
    state_dir: Option<PathBuf>,
    /// Where a message over the memory cap is spooled.
    spool_dir: PathBuf,
    started: Instant,
    now: i64,
}

/// What the delivery stage did.
struct Delivered {
    outcomes: Vec<Outcome>,
    warnings: Vec<String>,
    /// Every selected target has the mail (now or from an earlier attempt).
    complete: bool,
}

impl<'a> Run<'a> {
    fn new(args: &ForwardMailArgs, host: &'a Host<'a>, out: &'a Output) -> Self {
        let state_dir = if host.privileged {
            if args.no_state {
                out.note("--no-state is ignored with elevated privileges");
            }
            PathBuf::from(PRIVILEGED_STATE_DIR)
        } else {
            args.state_dir.clone()
        };
        let spool_dir = if state_dir.is_dir() {
            state_dir.clone()
        } else {
            std::env::temp_dir()
        };
        let state_dir = (host.privileged || !args.no_state).then_some(state_dir);
        Run {
            host,
            out,
            log: Log { out },
            state_dir,
            spool_dir,
            started: Instant::now(),
            now: chrono::Utc::now().timestamp(),
        }
    }

    /// 1. The message, bounded in memory (the rest is spooled next to the state), and its
    ///    retry key.
    fn read_message(&self) -> Stage<(Arc<RawMail>, String)> {
        let mail =
            RawMail::read(std::io::stdin().lock(), &self.spool_dir, MEMORY_CAP).map_err(|e| {
                self.log
                    .error(&format!("cannot read the message from standard input: {e}"));
                ExitStatus::TempFail
            })?;
        if mail.is_blank() {
            self.log.warning("empty message; nothing to forward");
            return Err(ExitStatus::Ok);
        }
        let key = message_key(&mail, self.host.queue_id.as_deref()).map_err(|e| {
            self.log
                .error(&format!("cannot read the spooled message: {e}"));
            ExitStatus::TempFail
        })?;
        Ok((Arc::new(mail), key))
    }

    /// 2. The configuration: any load error keeps the mail queued.
    fn load_configuration(&self) -> Stage<Loaded> {
        self.host.load_config(self.out).map_err(|_| {
            self.log
                .error("configuration cannot be loaded; the mail stays queued for a retry");
            ExitStatus::TempFail
        })
    }

    /// 3. The retry state, opened and locked while privileges may still be needed; a mail
    ///    already handled completely ends the run.
    fn open_retry_state(&self, key: &str) -> Stage<Option<Record>> {
        let Some(state_dir) = &self.state_dir else {
            return Ok(None);
        };
        let record = open_record(state_dir, key, self.now, &self.log)?;
        if record.as_ref().is_some_and(Record::is_complete) {
            self.out.info_line("pvenotify: note: already forwarded");
            syslog::log(
                syslog::Level::Notice,
                &format!("already forwarded (message key {key}); not delivered again"),
            );
            return Err(ExitStatus::Ok);
        }
        Ok(record)
    }

    /// 4. From here on nothing needs privileges: network and sendmail run as the caller.
    fn drop_privileges(&self) -> Stage<()> {
        if self.host.privileged
            && let Err(e) = privilege::drop_privileges()
        {
            self.log.error(&format!("cannot drop privileges: {e}"));
            return Err(ExitStatus::TempFail);
        }
        Ok(())
    }

    /// 5. The `system-mail` event: title and text from the mail, parsed where a crash on
    ///    hostile input cannot take the run with it.
    fn build_event(&self, mail: &RawMail) -> Notification {
        let text = extract_text_isolated(mail);
        let mut fields = Fields::new();
        fields.insert("type".into(), "system-mail".into());
        fields.insert("hostname".into(), self.host.hostname.clone());
        // Gotify and webhook targets show the title; an empty one reads like a broken
        // notification. Mail targets keep the original subject either way.
        let title = if text.title.trim().is_empty() {
            NO_SUBJECT
        } else {
            text.title.as_str()
        };
        Notification::new(title, text.text, Severity::Unknown, self.now, fields)
    }

    /// 6. The targets the matchers select. When there are none the run ends: the mail stays
    ///    queued if every selected name is missing, and is dropped (said on stderr and in
    ///    syslog, where an admin looks for root's mail) if the configuration routes it nowhere.
    fn route<'c>(
        &self,
        config: &'c Config,
        event: &Notification,
        key: &str,
        record: Option<&mut Record>,
    ) -> Stage<Routing<'c>> {
        let routing = routing::route(config, event, &chrono::Local);
        for warning in &routing.warnings {
            self.log.warning(warning);
        }
        if !routing.selected.is_empty() {
            return Ok(routing);
        }
        if routing.all_selected_missing() {
            self.log
                .error("every selected target does not exist; the mail stays queued");
            return Err(ExitStatus::TempFail);
        }
        let why = if routing.skipped.is_empty() {
            "no enabled matcher selects a target for type=system-mail".to_string()
        } else {
            let names: Vec<&str> = routing.skipped.iter().map(|s| s.target).collect();
            format!(
                "every target selected for it is disabled ({})",
                names.join(", ")
            )
        };
        self.log.warning(&format!(
            "no target selected; message not forwarded: {why}, so root's mail is dropped \
             (subject '{}', message key {key})",
            event.title
        ));
        if let Some(record) = record {
            let _ = record.mark_complete(self.now);
        }
        Err(ExitStatus::Ok)
    }

    /// 7. Each selected target in turn, skipping those the retry state says have the mail
    ///    and, past the deadline, the rest.
    fn deliver(
        &self,
        mail: &Arc<RawMail>,
        event: &Notification,
        config: &Config,
        routing: &Routing<'_>,
        mut record: Option<&mut Record>,
    ) -> Delivered {
        let parts = original_parts(mail);
        let original = OriginalMail {
            source: Arc::clone(mail) as Arc<dyn MailSource>,
            subject: &parts.subject,
            mime_version: parts.mime_version.as_deref(),
            content_type: parts.content_type.as_deref(),
            content_transfer_encoding: parts.content_transfer_encoding.as_deref(),
            body_offset: parts.body_offset,
        };
        let delivery = Delivery {
            event,
            original: Some(&original),
        };
        let context = self.host.delivery_context();
        let mut done = Delivered {
            outcomes: Vec::with_capacity(routing.selected.len()),
            warnings: routing.warnings.clone(),
            complete: true,
        };
        for name in &routing.selected {
            let type_name = config
                .targets
                .get(*name)
                .map_or("?", |t| t.kind.type_name());
            if record
                .as_deref()
                .is_some_and(|r| r.delivered().contains(*name))
            {
                let outcome = Outcome::already_delivered(name, type_name);
                self.log.info(&outcome.to_string());
                done.outcomes.push(outcome);
                continue;
            }
            if self.started.elapsed() >= DEADLINE {
                self.log.error(&format!(
                    "{name} ({type_name}): not attempted: the run reached its deadline of {} s",
                    DEADLINE.as_secs()
                ));
                done.complete = false;
                continue;
            }
            let Some(outcome) = deliver_one(
                &delivery,
                name,
                config,
                &context,
                self.out,
                &mut done.warnings,
            ) else {
                continue;
            };
            let line = outcome.to_string();
            if outcome.failure().is_some() {
                syslog::log(syslog::Level::Error, &line);
                done.complete = false;
            } else {
                syslog::log(syslog::Level::Info, &line);
                if let Some(record) = record.as_deref_mut()
                    && let Err(e) = record.mark_delivered(name, self.now)
                {
                    self.log
                        .warning(&format!("cannot record the delivery to {name}: {e}"));
                }
            }
            done.outcomes.push(outcome);
        }
        done
    }

    /// 8. The record marked complete when it is, the JSON result, the exit status: 0 only
    ///    when every target has the mail.
    fn report(
        &self,
        event: &Notification,
        routing: &Routing<'_>,
        delivered: Delivered,
        record: Option<&mut Record>,
    ) -> ExitStatus {
        if delivered.complete
            && let Some(record) = record
        {
            let _ = record.mark_complete(self.now);
        }
        let status = if delivered.complete {
            ExitStatus::Ok
        } else {
            ExitStatus::TempFail
        };
        if self.out.is_json() {
            self.out.json(&ResultJson {
                event,
                results: &delivered.outcomes,
                skipped: &routing.skipped,
                warnings: &delivered.warnings,
                exit_status: status.code(),
            });
        }
        status
    }
}

/// Prunes old records and opens this message's; `Ok(None)` when the state cannot be
/// used (delivery goes on without it: duplicates are better than loss).
fn open_record(state_dir: &Path, key: &str, now: i64, log: &Log<'_>) -> Stage<Option<Record>> {
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
