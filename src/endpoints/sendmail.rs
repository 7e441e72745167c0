//! The `sendmail` target: hands the mail to the local MTA's sendmail program, with the
//! arguments upstream uses. Unlike upstream, the program's exit status counts, and a hung
//! program is stopped after a deadline.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::mail::{self, DEFAULT_AUTHOR, MailContent};
use super::{Delivery, DeliveryContext, DeliveryError, Endpoint};
use crate::config::{Config, SendmailConfig, Target};
use crate::redact;

/// How long sendmail may run before it is sent SIGTERM.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// How long after SIGTERM before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How much of sendmail's stderr is kept for the failure message.
const STDERR_KEEP: usize = 4096;

pub struct Sendmail<'a> {
    pub target: &'a Target,
    pub settings: &'a SendmailConfig,
    pub config: &'a Config,
    pub context: &'a DeliveryContext,
}

impl Sendmail<'_> {
    /// `from-address`, else datacenter.cfg's `email_from`, else bare `root` (the MTA
    /// qualifies it), as upstream.
    fn sender(&self) -> &str {
        self.settings
            .from_address
            .as_deref()
            .or(self.config.datacenter.email_from.as_deref())
            .unwrap_or("root")
    }
}

impl Endpoint for Sendmail<'_> {
    fn target(&self) -> &Target {
        self.target
    }

    fn deliver(
        &self,
        delivery: &Delivery<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError> {
        let recipients = mail::resolve_recipients(
            &self.target.name,
            &self.settings.mailto,
            &self.settings.mailto_user,
            &self.config.users,
            warnings,
        )?;
        let from = self.sender();
        let program = &self.context.sendmail;
        if let Some(original) = delivery.original {
            // Forwarded system mail goes on as is; `-N never` keeps a failed onward
            // delivery from bouncing back into root's mailbox (upstream's arguments).
            let mut args = vec!["-N", "never", "-f", from, "--"];
            args.extend(recipients.iter().map(String::as_str));
            let input = |out: &mut dyn Write| original.source.write_from(0, out);
            return run(program, &args, &input, DEADLINE);
        }

        let event = delivery.event;
        let message = mail::build_message(&MailContent {
            author: self.settings.author.as_deref().unwrap_or(DEFAULT_AUTHOR),
            from,
            recipients: &recipients,
            subject: &event.title,
            text: &event.body,
            html: mail::event_html(event)?,
            message_id_host: &self.context.fqdn,
        })?;
        // The local sendmail interface expects LF line ends.
        let bytes = crlf_to_lf(&message.formatted());
        let mut args = vec!["-B", "8BITMIME", "-f", from, "--"];
        args.extend(recipients.iter().map(String::as_str));
        let input = |out: &mut dyn Write| out.write_all(&bytes);
        run(program, &args, &input, DEADLINE)
    }
}

fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if b == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

/// Writes a child's standard input; may be called from another thread.
pub type Input<'a> = dyn Fn(&mut dyn Write) -> std::io::Result<()> + Sync + 'a;

/// Runs `program` with `args`, feeds it `input` and waits for it to exit within
/// `deadline`. Any outcome but exit status 0 in time is a failure.
pub fn run(
    program: &Path,
    args: &[&str],
    input: &Input<'_>,
    deadline: Duration,
) -> Result<(), DeliveryError> {
    let shown = program.display();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DeliveryError::configuration(format!("cannot run {shown}: {e}")))?;
    let pid = child.id();
    let stdin = child.stdin.take();
    let stderr = child.stderr.take();

    // Writing, reading stderr and waiting each get a thread, so that a child which
    // neither reads nor exits cannot block us past the deadline; once it is killed,
    // its pipes close and the scoped threads end.
    thread::scope(|scope| {
        let writer = scope.spawn(move || match stdin {
            Some(mut pipe) => input(&mut pipe),
            None => Ok(()),
        });
        let reader = scope.spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut pipe) = stderr {
                let _ = (&mut pipe).take(STDERR_KEEP as u64).read_to_end(&mut kept);
                // Drain the rest so the child never blocks on a full pipe.
                let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            }
            kept
        });
        let (tx, rx) = mpsc::channel();
        scope.spawn(move || {
            let _ = tx.send(child.wait());
        });

        let status = match rx.recv_timeout(deadline) {
            Ok(status) => status,
            Err(_) => {
                signal(pid, libc::SIGTERM);
                if rx.recv_timeout(KILL_GRACE).is_err() {
                    signal(pid, libc::SIGKILL);
                }
                return Err(DeliveryError::temporary(format!(
                    "{shown} did not finish within {} s and was stopped",
                    deadline.as_secs()
                )));
            }
        }
        .map_err(|e| DeliveryError::temporary(format!("waiting for {shown} failed: {e}")))?;

        let written = writer.join().unwrap_or(Ok(()));
        let stderr = reader.join().unwrap_or_default();
        let first_line = String::from_utf8_lossy(&stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| redact::one_line(l.trim(), redact::QUOTE_LIMIT))
            .unwrap_or_default();

        if !status.success() {
            let how = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    format!("was killed by signal {}", status.signal().unwrap_or(0))
                }
            };
            let detail = if first_line.is_empty() {
                String::new()
            } else {
                format!(": {first_line}")
            };
            return Err(DeliveryError::temporary(format!("{shown} {how}{detail}")));
        }
        if let Err(e) = written {
            return Err(DeliveryError::temporary(format!(
                "{shown} closed its input early: {e}"
            )));
        }
        Ok(())
    })
}

fn signal(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("fake-sendmail");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn bytes(data: &'static [u8]) -> impl Fn(&mut dyn Write) -> std::io::Result<()> + Sync {
        move |out: &mut dyn Write| out.write_all(data)
    }

    #[test]
    fn crlf_becomes_lf_but_lone_cr_stays() {
        assert_eq!(crlf_to_lf(b"a\r\nb\rc\r\n"), b"a\nb\rc\n");
    }

    #[test]
    fn passes_args_and_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let program = script(
            dir.path(),
            &format!("echo \"$@\" > {0}; cat >> {0}", out.display()),
        );
        run(
            &program,
            &["-f", "x", "--", "a@b"],
            &bytes(b"hello\n"),
            DEADLINE,
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out).unwrap(),
            "-f x -- a@b\nhello\n"
        );
    }

    #[test]
    fn non_zero_exit_is_temporary_with_first_stderr_line() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(
            dir.path(),
            "cat >/dev/null; echo '' >&2; echo 'queue full' >&2; exit 75",
        );
        let err = run(&program, &[], &bytes(b"x"), DEADLINE).unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Temporary);
        assert!(
            err.message.ends_with("exited with status 75: queue full"),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_program_is_configuration() {
        let err = run(
            Path::new("/nonexistent/sendmail"),
            &[],
            &bytes(b""),
            DEADLINE,
        )
        .unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Configuration);
        assert!(
            err.message
                .starts_with("cannot run /nonexistent/sendmail: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn hung_program_is_stopped_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(dir.path(), "exec sleep 30");
        let started = std::time::Instant::now();
        let err = run(&program, &[], &bytes(b""), Duration::from_millis(300)).unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Temporary);
        assert!(
            err.message.contains("did not finish within"),
            "{}",
            err.message
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn killed_by_signal_is_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(dir.path(), "kill -9 $$");
        let err = run(&program, &[], &bytes(b""), DEADLINE).unwrap_err();
        assert!(
            err.message.contains("killed by signal 9"),
            "{}",
            err.message
        );
    }
}
